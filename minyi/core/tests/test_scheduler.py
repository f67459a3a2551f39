from datetime import UTC, datetime

from minyi.core.scheduler import Job, run_job
from minyi.schedule import SCHEDULE


def test_daily_job_runs_next_at_its_local_time():
    job = Job(name="x", task="x", daily_at="02:30")
    # 2026-11-22 01:00 in Shanghai is 2026-11-21 17:00 UTC.
    assert job.next_run(datetime(2026, 11, 21, 17, 0, tzinfo=UTC)) == datetime(
        2026, 11, 21, 18, 30, tzinfo=UTC)
    # Just after 02:30 local: tomorrow.
    assert job.next_run(datetime(2026, 11, 21, 18, 30, tzinfo=UTC)) == datetime(
        2026, 11, 22, 18, 30, tzinfo=UTC)


def test_weekly_job_runs_next_on_its_weekday():
    job = Job(name="x", task="x", weekly_on="mon", daily_at="08:00")
    # Sunday 2026-11-22 12:00 in Shanghai: Monday 2026-11-23 08:00 (00:00 UTC).
    assert job.next_run(datetime(2026, 11, 22, 4, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 0, 0, tzinfo=UTC)
    # Monday at 08:00 exactly: a week later.
    assert job.next_run(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 0, 0, tzinfo=UTC)
    # Monday 07:59: the same morning.
    assert job.next_run(datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == datetime(
        2026, 11, 23, 0, 0, tzinfo=UTC)


def test_first_run_interval_job_soon_after_start_daily_job_at_its_time():
    started = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    assert Job(name="x", task="x", every_seconds=60).first_run(started) == datetime(
        2026, 11, 22, 4, 0, 5, tzinfo=UTC)
    assert Job(name="x", task="x", daily_at="02:30").first_run(started) == datetime(
        2026, 11, 22, 18, 30, tzinfo=UTC)


def test_interval_job():
    job = Job(name="x", task="x", every_seconds=60)
    assert job.next_run(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, 0, 1,
                                                                       tzinfo=UTC)


def test_every_scheduled_task_imports():
    from django.utils.module_loading import import_string

    for job in SCHEDULE:
        assert callable(import_string(job.task))


def test_a_failing_job_is_logged_not_raised(caplog, db):
    assert run_job(Job(name="broken", task="minyi.core.tests.test_scheduler.nope",
                       every_seconds=1)) is False
    assert "broken failed" in caplog.text
