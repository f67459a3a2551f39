"""Background entry points of intake: each takes ids and calls one function."""

from minyi.intake import feedback


def deliver_feedback(delivery_id: int) -> None:
    feedback.deliver(delivery_id)


def deliver_due_feedback() -> None:
    feedback.deliver_due()
