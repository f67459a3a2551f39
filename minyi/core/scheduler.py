"""The in-process scheduler of the single-machine default.

A daemon thread that runs the task functions of `minyi.schedule.SCHEDULE` when they fall due.
It keeps no state of its own: after a restart a job runs at its next due time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


# Long enough for the web server to come up first, short enough to be "at once" for a user.
STARTUP_DELAY_SECONDS = 5
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    every_seconds: int | None = None
    daily_at: str | None = None  # "HH:MM", Asia/Shanghai
    weekly_on: str | None = None  # with daily_at: only on this weekday ("mon" … "sun")

    def next_run(self, after: datetime) -> datetime:
        """The first due time strictly after `after` (an aware datetime)."""
        if self.every_seconds:
            return after + timedelta(seconds=self.every_seconds)
        if self.daily_at:
            hour, minute = (int(part) for part in self.daily_at.split(":"))
            local = timezone.localtime(after)
            day = local.date()
            if local.time() >= time(hour, minute):
                day += timedelta(days=1)
            if self.weekly_on:
                day += timedelta(days=(WEEKDAYS.index(self.weekly_on) - day.weekday()) % 7)
            return timezone.make_aware(datetime.combine(day, time(hour, minute)))
        raise ValueError(f"job {self.name} has no schedule")

    def first_run(self, started: datetime) -> datetime:
        """When the job first runs after the scheduler starts: an interval job a few seconds
        after the start (a freshly started demo has its overdue notices at once, not a full
        interval later); a daily job at its next time."""
        if self.every_seconds:
            return started + timedelta(seconds=min(self.every_seconds, STARTUP_DELAY_SECONDS))
        return self.next_run(started)


def run_job(job: Job) -> bool:
    """Run one job now; a failure is logged and does not stop the scheduler."""
    close_old_connections()
    try:
        import_string(job.task)()
        logger.info("scheduled job %s done", job.name)
        return True
    except Exception:
        logger.exception("scheduled job %s failed", job.name)
        return False
    finally:
        close_old_connections()


class Scheduler(threading.Thread):
    def __init__(self, jobs: list[Job]) -> None:
        super().__init__(name="minyi-scheduler", daemon=True)
        self.jobs = jobs
        self.stopping = threading.Event()

    def run(self) -> None:
        now = timezone.now()
        due = {job.name: job.first_run(now) for job in self.jobs}
        while not self.stopping.is_set():
            now = timezone.now()
            for job in self.jobs:
                if due[job.name] <= now:
                    run_job(job)
                    due[job.name] = job.next_run(timezone.now())
            wait = min(due.values()) - timezone.now() if due else timedelta(seconds=60)
            self.stopping.wait(max(0.5, min(wait.total_seconds(), 60)))

    def stop(self) -> None:
        self.stopping.set()


def start_scheduler() -> Scheduler:
    from minyi.schedule import SCHEDULE

    scheduler = Scheduler(SCHEDULE)
    scheduler.start()
    logger.info("in-process scheduler started with %d jobs", len(SCHEDULE))
    return scheduler
