"""Every writer takes the audit chain's lock before the rows it changes (core.audit.lock_chain):
an order action that locked the order first and the chain second could deadlock with a callback
answer, which holds the chain and then records the callback on the same order."""

import pytest
from django.db import connection, transaction

from minyi.core.audit import _CHAIN_LOCK_KEY
from minyi.orders import actions, escalation

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="SQLite admits one writer at a time; no row locks"),
    # Each action commits, so a lock seen is the one the action under test took.
    pytest.mark.django_db(transaction=True),
]


def _holds_chain_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND objid = %s", [_CHAIN_LOCK_KEY & 0xFFFFFFFF])
        return cursor.fetchone()[0] == 1


def test_an_order_is_locked_after_the_chain(make_order):
    order = make_order("dispatched")
    with transaction.atomic():
        assert not _holds_chain_lock()
        actions._lock(order, "sign", None)
        assert _holds_chain_lock()


def test_a_notice_is_locked_after_the_chain(make_order, bureau, handler, monkeypatch):
    order = make_order("dispatched")
    seen = []
    real = escalation.SupervisionNotice.objects.select_for_update

    def spy(*args, **kwargs):
        seen.append(_holds_chain_lock())
        return real(*args, **kwargs)

    notice = escalation.issue_notice(actor=None, order=order, reason="overdue")
    monkeypatch.setattr(escalation.SupervisionNotice.objects, "select_for_update", spy)
    head = bureau.member("unit_head", bureau.station)
    escalation.sign_notice(actor=head, notice=notice)
    assert seen == [True]
