"""Background entry points of notifications: each takes ids and calls one function. Safe to run
twice or at once (see `sms.outbox`): the scheduler of every web process and Celery may all
call them."""

from minyi.notifications.sms import outbox


def deliver_sms(message_id: int) -> None:
    outbox.deliver(message_id)


def deliver_due_sms() -> int:
    return outbox.deliver_due()
