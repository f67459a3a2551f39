"""Background entry points of the orders app; each calls one action."""

from minyi.orders import escalation


def sweep() -> None:
    escalation.sweep()
