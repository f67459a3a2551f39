"""Background entry points of the core app; each takes ids (or nothing) and calls one action."""

from minyi.core import actions


def verify_audit_chain() -> None:
    actions.verify_audit_chain(actor=None)
