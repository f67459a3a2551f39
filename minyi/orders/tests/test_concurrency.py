"""Two people act on one order at the same moment: one wins, the other is told, nothing is lost.

Real threads on real connections (a file SQLite database, or PostgreSQL), not mocks.
"""

import pytest

from minyi.core.audit import verify_chain
from minyi.core.errors import Conflict
from minyi.core.models import Event
from minyi.orders import actions
from minyi.orders.rules import State
from minyi.orgs.models import Role
from minyi.testing import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_officers_sign_at_once(make_order, bureau, handler):
    colleague = bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="王同事")
    order = make_order("dispatched")
    results = race(lambda: actions.sign_order(actor=handler, order=order.pk),
                    lambda: actions.sign_order(actor=colleague, order=order.pk))
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, Conflict) and "签收" in str(error)
    order.refresh_from_db()
    assert order.state == State.SIGNED and order.version == 3
    assert Event.objects.filter(action="order.sign").count() == 1
    assert verify_chain().ok


def test_two_dispatchers_send_one_order_to_two_units_at_once(make_order, bureau, dispatcher):
    other = bureau.member(Role.DISPATCHER, bureau.command_centre, full_name="钱调度")
    order = make_order()
    results = race(
        lambda: actions.dispatch_order(actor=dispatcher, order=order.pk,
                                       lead_unit=bureau.station),
        lambda: actions.dispatch_order(actor=other, order=order.pk,
                                       lead_unit=bureau.other_station),
    )
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    winner = next(r[1] for r in results if r[0] == "ok")
    error = next(r[1] for r in results if r[0] == "error")
    assert "转办" in str(error) and winner.lead_unit.name in str(error)
    order.refresh_from_db()
    assert order.state == State.DISPATCHED and order.lead_unit == winner.lead_unit
    # One open lead assignment, one dispatch event; the trail and the row agree.
    assert order.assignments.filter(ended_at__isnull=True).count() == 1
    assert Event.objects.filter(action="order.dispatch").count() == 1
    assert verify_chain().ok


def test_the_same_external_order_sent_twice_at_once(bureau):
    from minyi.orders.tests.factories import channel, order_type

    def send():
        return actions.receive_order(
            actor=None, bureau=bureau.bureau, channel=channel(), order_type=order_type(),
            demand_kind="help", title="同一工单并发推送", external_id="X-1")[0].pk

    results = race(send, send)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert results[0][1] == results[1][1]
