"""Two sweeps at the same moment on real connections: every order gets exactly one notice and
the numbers run 1..N with no gap and no duplicate."""

import threading
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from minyi.core.audit import verify_chain
from minyi.orders import escalation
from minyi.orders.models import SupervisionNotice

pytestmark = pytest.mark.django_db(transaction=True)
SH = ZoneInfo("Asia/Shanghai")


def test_two_sweeps_at_once_number_without_gaps_or_duplicates(make_order):
    with mock.patch("minyi.orders.actions._now", lambda: datetime(2026, 11, 2, 9, tzinfo=SH)):
        orders = [make_order("dispatched") for _ in range(12)]
    now = datetime(2026, 11, 4, 9, tzinfo=SH)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(escalation.sweep(now=now).notices)
        except Exception as exc:  # the test reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(results) == 12
    numbers = sorted(SupervisionNotice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 13))
    for order in orders:
        assert SupervisionNotice.objects.filter(order=order).count() == 1
    assert verify_chain().ok
