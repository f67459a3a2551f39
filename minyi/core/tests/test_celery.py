"""A real Celery worker against the Redis server on 127.0.0.1:6379 runs a scheduled task and
its result is in the database. Skipped, with a message, where no Redis answers."""

import os
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from minyi.core.models import AuditCheck

BROKER = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_schedule_becomes_the_beat_schedule():
    from minyi.celery import app
    from minyi.schedule import SCHEDULE

    app.finalize()
    assert set(app.conf.beat_schedule) == {job.name for job in SCHEDULE}
    assert "audit.verify" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_into_the_database():
    if not _redis_answers():
        pytest.skip("127.0.0.1:6379 没有 Redis 应答：跳过 Celery 实机测试")
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": BROKER,
           "DJANGO_SETTINGS_MODULE": "minyi.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "minyi", "worker", "--pool", "solo",
         "--concurrency", "1", "--loglevel", "warning", "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        from minyi.celery import app

        app.conf.broker_url = BROKER
        app.send_task("audit.verify")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not AuditCheck.objects.exists():
            if worker.poll() is not None:
                pytest.fail("worker exited:\n" + worker.stdout.read())
            time.sleep(0.3)
        check = AuditCheck.objects.first()
        assert check is not None, "the worker did not run the task within 60 s"
        assert check.ok
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
