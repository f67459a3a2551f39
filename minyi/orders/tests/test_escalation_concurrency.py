"""Two sweeps at the same moment on real connections: every order gets exactly one notice and
the numbers run 1..N with no gap and no duplicate."""

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from minyi.core.audit import verify_chain
from minyi.orders import escalation
from minyi.orders.models import SupervisionNotice
from minyi.testing import race_ok

pytestmark = pytest.mark.django_db(transaction=True)
SH = ZoneInfo("Asia/Shanghai")


def test_two_sweeps_at_once_number_without_gaps_or_duplicates(make_order):
    with mock.patch("minyi.orders.actions._now", lambda: datetime(2026, 11, 2, 9, tzinfo=SH)):
        orders = [make_order("dispatched") for _ in range(12)]
    now = datetime(2026, 11, 4, 9, tzinfo=SH)
    results = race_ok(*[lambda: escalation.sweep(now=now).notices] * 2)
    assert sum(results) == 12
    numbers = sorted(SupervisionNotice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 13))
    for order in orders:
        assert SupervisionNotice.objects.filter(order=order).count() == 1
    assert verify_chain().ok
