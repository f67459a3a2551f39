"""How notifications arise from events: the signal of `record_event`, the registry of rules,
the transaction they share with the action, and an event handed over twice."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction

from minyi.core.audit import event_recorded, record_event, record_events_bulk, verify_chain
from minyi.core.models import Event
from minyi.notifications import registry
from minyi.notifications.actions import notify, notify_for_event
from minyi.notifications.models import Notification, SmsMessage
from minyi.notifications.registry import Message, register_notification_rule
from minyi.orders import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule_for():
    """rule_for(action, fn): a rule registered for the test only."""
    added: list[tuple[str, object]] = []

    def add(action, fn):
        register_notification_rule(action, fn)
        added.append((action, fn))

    yield add
    for action, fn in added:
        registry.RULES[action].remove(fn)


def test_record_event_sends_the_signal_and_the_bulk_append_does_not(bureau):
    seen = []

    def receiver(sender, event, **kwargs):
        seen.append(event.action)

    event_recorded.connect(receiver, dispatch_uid="test.receiver")
    try:
        record_event(actor=None, obj=bureau.station, action="test.one")
        record_events_bulk([{"obj": bureau.station, "action": "test.bulk"}])
    finally:
        event_recorded.disconnect(dispatch_uid="test.receiver")
    assert seen == ["test.one"]


def test_another_app_registers_its_own_rule(bureau, handler, head, rule_for):
    rule_for("campaign.issue", lambda event: Message(
        user_ids=[head.pk], text=f"专项整治：{event.payload['name']}", link="/campaigns/1/",
        sms=True))
    event = record_event(actor=handler, obj=bureau.station, action="campaign.issue",
                         payload={"name": "夜间施工噪音"})
    note = Notification.objects.get()
    assert (note.user, note.text, note.link, note.event) == (
        head, "专项整治：夜间施工噪音", "/campaigns/1/", event)
    assert SmsMessage.objects.get().notification == note
    # Registering the same rule again (ready() called twice) does not notify twice.
    before = len(registry.rules_for("order.dispatch"))
    from minyi.notifications import order_rules

    order_rules.register()
    assert len(registry.rules_for("order.dispatch")) == before


def test_an_event_handed_over_again_notifies_nobody_twice(make_order, handler, head):
    order = make_order("dispatched")
    event = Event.objects.get(action="order.dispatch", object_id=str(order.pk))
    assert Notification.objects.filter(event=event).count() == 2
    assert notify_for_event(event=event) == []
    event_recorded.send(sender=Event, event=event)
    assert Notification.objects.filter(event=event).count() == 2
    # The same holds for a direct notify of the same event and user.
    assert notify(user_ids=[handler.pk, handler.pk], text="again", event=event) == []


def test_a_rolled_back_action_leaves_no_notification_and_no_sms(bureau, handler, head,
                                                                rule_for):
    rule_for("test.fails_later", lambda event: Message(user_ids=[head.pk], text="请处理",
                                                       sms=True))
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=handler, obj=bureau.station, action="test.fails_later")
        assert Notification.objects.count() == 1 and SmsMessage.objects.count() == 1
        raise RuntimeError("the action fails after writing its event")
    assert Notification.objects.count() == 0
    assert SmsMessage.objects.count() == 0
    assert not Event.objects.filter(action="test.fails_later").exists()


def test_a_failed_dispatch_notifies_nobody(bureau, make_order, dispatcher, handler, head):
    order = make_order("received")
    with mock.patch("minyi.orders.models.Order.save", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station)
    assert not Notification.objects.exists()


def test_a_broken_rule_does_not_break_the_action(bureau, make_order, dispatcher, handler,
                                                 rule_for, caplog):
    def broken(event):
        raise ValueError("a bug in a rule")

    rule_for("order.dispatch", broken)
    order = make_order("received")
    actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station)
    order.refresh_from_db()
    assert order.state == "dispatched"
    assert Event.objects.filter(action="order.dispatch").count() == 1
    # The savepoint took the whole event's notifications back, good rules' too; it is logged.
    assert not Notification.objects.exists()
    assert "notifications for event" in caplog.text
    assert verify_chain().ok


def test_a_database_error_in_a_rule_is_contained(bureau, make_order, dispatcher, handler,
                                                 rule_for):
    """On PostgreSQL an error inside the transaction would poison it without the savepoint."""

    def bad_query(event):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    rule_for("order.dispatch", bad_query)
    order = make_order("received")
    with transaction.atomic():
        actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station)
        # The transaction is still usable after the rule's failure.
        assert Event.objects.filter(action="order.dispatch").count() == 1
    order.refresh_from_db()
    assert order.state == "dispatched"


def test_direct_notify_needs_a_text(handler):
    from minyi.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        notify(user_ids=[handler.pk], text="  ")
    made = notify(user_ids=[handler.pk], text="系统维护通知", link="/")
    assert [n.text for n in made] == ["系统维护通知"] and made[0].event is None
