"""The same order sent twice at the same moment: one order, one 201 and one 200. Real threads on
real connections (a file SQLite database, or PostgreSQL)."""

import pytest

from minyi.api.tests.conftest import Caller
from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.orders.models import Order
from minyi.testing import race_ok

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_identical_creates_at_once_make_one_order(integration, order_input):
    responses = race_ok(*[lambda: Caller(integration.token).post("/orders", order_input)
                        for _ in range(2)])
    assert sorted(r.status_code for r in responses) == [200, 201], responses
    assert len({r.json()["id"] for r in responses}) == 1
    assert Order.objects.count() == 1
    assert Event.objects.filter(action="order.receive").count() == 1
    assert verify_chain().ok


def test_two_overlapping_batches_at_once_make_each_order_once(integration, order_input):
    first = [{**order_input, "external_id": f"n{i}"} for i in range(0, 6)]
    second = [{**order_input, "external_id": f"n{i}"} for i in range(3, 9)]
    responses = race_ok(lambda: Caller(integration.token).post("/orders", first),
                      lambda: Caller(integration.token).post("/orders", second))
    assert all(r.status_code in (200, 201) for r in responses), responses
    assert Order.objects.count() == 9
    created = [row["created"] for r in responses for row in r.json()["results"]]
    assert created.count(True) == 9 and created.count(False) == 3
    assert verify_chain().ok
