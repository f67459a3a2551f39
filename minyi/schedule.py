"""The periodic tasks, one list for both runners.

`minyi serve` runs them in-process on a pilot machine; with Redis, Celery beat reads the same
list. A task must be safe to run twice or at the same time, since a restart or a second web
process may do just that.
"""

from minyi.core.scheduler import Job

SCHEDULE: list[Job] = [
    # Nightly, when nobody is at work: the chain walk reads every event.
    Job(name="audit.verify", task="minyi.core.tasks.verify_audit_chain", daily_at="02:30"),
    # Overdue and sent-back orders get their supervision notices, dissatisfied and
    # leader-assigned ones their reminder letters; unanswered notices go to the inspectors.
    Job(name="orders.sweep", task="minyi.orders.tasks.sweep", every_seconds=60),
    # Results the source platforms have not accepted yet, retried with back-off.
    Job(name="intake.feedback", task="minyi.intake.tasks.deliver_due_feedback",
        every_seconds=60),
    # Text messages the SMS gateway has not taken yet (the HTTP gateway's are all sent from
    # here, so that a slow gateway never holds up a user's request), retried with back-off.
    Job(name="notifications.sms", task="minyi.notifications.tasks.deliver_due_sms",
        every_seconds=60),
    # Closed work orders become callback contacts (idempotent: one contact per order).
    Job(name="callbacks.contacts", task="minyi.callbacks.tasks.contacts_from_orders",
        every_seconds=300),
    # Each morning before the calling hours: the day's callback tasks of every active plan
    # (once per plan and day; a restart that runs it again makes nothing).
    Job(name="callbacks.draw", task="minyi.callbacks.tasks.draw_today", daily_at="07:30"),
    # Monday 08:00, before the weekly meeting: the bulletin of the week before (seed 001).
    Job(name="assessment.weekly_bulletin", task="minyi.assessment.tasks.weekly_bulletin",
        weekly_on="mon", daily_at="08:00"),
    # This month's and last month's figures of every bureau, which the leadership dashboard and
    # the monthly scores read instead of the orders.
    Job(name="assessment.monthly_figures", task="minyi.assessment.tasks.monthly_figures",
        every_seconds=1800),
]
