"""Two people act on one order at the same moment: one wins, the other is told, nothing is lost.

Real threads on real connections (a file SQLite database, or PostgreSQL), not mocks.
"""

import threading

import pytest
from django.db import connection

from minyi.core.audit import verify_chain
from minyi.core.errors import Conflict
from minyi.core.models import Event
from minyi.orders import actions
from minyi.orders.rules import State
from minyi.orgs.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = ("ok", call())
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_officers_sign_at_once(make_order, bureau, handler):
    colleague = bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="王同事")
    order = make_order("dispatched")
    results = _race(lambda: actions.sign_order(actor=handler, order=order.pk),
                    lambda: actions.sign_order(actor=colleague, order=order.pk))
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, Conflict) and "签收" in str(error)
    order.refresh_from_db()
    assert order.state == State.SIGNED and order.version == 3
    assert Event.objects.filter(action="order.sign").count() == 1
    assert verify_chain().ok


def test_dispatch_and_invalid_at_once(make_order, bureau, dispatcher):
    other = bureau.member(Role.DISPATCHER, bureau.command_centre, full_name="钱调度")
    order = make_order()
    results = _race(
        lambda: actions.dispatch_order(actor=dispatcher, order=order.pk,
                                       lead_unit=bureau.station),
        lambda: actions.mark_invalid(actor=other, order=order.pk, reason="恶意来电"),
    )
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    order.refresh_from_db()
    assert order.state in (State.DISPATCHED, State.INVALID)
    # Whatever won, the trail and the row agree and the chain is whole.
    last = Event.objects.filter(object_id=str(order.pk)).order_by("-id").first()
    assert last.to_state == order.state
    assert verify_chain().ok


def test_the_same_external_order_sent_twice_at_once(bureau):
    from minyi.orders.tests.factories import channel, order_type

    def send():
        return actions.receive_order(
            actor=None, bureau=bureau.bureau, channel=channel(), order_type=order_type(),
            demand_kind="help", title="同一工单并发推送", external_id="X-1")[0].pk

    results = _race(send, send)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert results[0][1] == results[1][1]
