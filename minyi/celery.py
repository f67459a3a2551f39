"""The Celery application for production: Redis as broker, beat reading `minyi.schedule`.

The task functions are the same plain functions the in-process scheduler calls (each app's
`tasks.py`); they are registered here under their job names, so that one list says what runs
when, whichever runner runs it. Start with:

    celery -A minyi worker -l info
    celery -A minyi beat -l info
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minyi.settings")

app = Celery("minyi")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_finalize.connect
def _register(sender: Celery, **kwargs) -> None:
    register_schedule(sender)


def register_schedule(celery_app: Celery) -> None:
    from django.utils.module_loading import import_string

    from minyi.schedule import SCHEDULE

    beat = {}
    for job in SCHEDULE:
        celery_app.task(name=job.name)(import_string(job.task))
        if job.every_seconds:
            schedule = float(job.every_seconds)
        else:
            hour, minute = (int(part) for part in job.daily_at.split(":"))
            day_of_week = job.weekly_on or "*"
            schedule = crontab(hour=hour, minute=minute, day_of_week=day_of_week)
        beat[job.name] = {"task": job.name, "schedule": schedule}
    celery_app.conf.beat_schedule = beat
