"""Background entry points of the assessment app; each calls one action."""

from minyi.assessment import bulletins


def weekly_bulletin() -> None:
    """Monday 08:00: the bulletin of the week before (a second run finds it made)."""
    bulletins.generate_last_week()
