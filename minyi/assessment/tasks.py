"""Background entry points of the assessment app; each calls one action."""

from minyi.assessment import bulletins


def weekly_bulletin() -> None:
    """Monday 08:00: the bulletin of the week before (a second run finds it made)."""
    bulletins.generate_last_week()


def monthly_figures() -> None:
    """This month's and last month's figures of every bureau (safe to run twice: an upsert)."""
    from minyi.assessment import facts

    facts.recount_recent()
