"""Background entry points of intake: each takes ids and calls one function. Safe to run twice
or at once (see `feedback`): the scheduler of every web process and Celery may all call them."""

from minyi.intake import feedback


def deliver_feedback(delivery_id: int) -> None:
    feedback.deliver(delivery_id)


def deliver_due_feedback() -> int:
    return feedback.deliver_due()


def run_import(batch_id: int) -> None:
    """An import page's batch (the thread of the single-machine default calls the same)."""
    from minyi.intake.importing import run_batch

    run_batch(batch_id)
