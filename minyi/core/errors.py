"""Errors the project raises on purpose, each with a message a user can read."""


class MinyiError(Exception):
    """A rule was broken; the message says which, in Chinese, and is shown to the user."""


class InvalidInput(MinyiError):
    """Input that cannot be accepted: a bad value, a missing field, a contradiction."""


class NotAllowed(MinyiError):
    """The user's role or unit does not allow this (shown as 403 by views and the API)."""


class Conflict(MinyiError):
    """Someone else changed the object first; the message says who did what, and when."""
