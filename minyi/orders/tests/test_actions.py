from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from minyi.core.audit import verify_chain
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orders import actions
from minyi.orders.models import Assignment, Order, ReturnRequest
from minyi.orders.rules import State
from minyi.orders.tests.factories import channel, order_type
from minyi.orgs.models import Role

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def clock():
    """clock.set(moment): what the actions take as now."""

    class Clock:
        now = timezone.now()

        def set(self, moment):
            self.now = moment

    c = Clock()
    with mock.patch("minyi.orders.actions._now", lambda: c.now):
        yield c


def actions_of(order):
    return list(Event.objects.filter(object_type="orders.order", object_id=str(order.pk))
                .order_by("id").values_list("action", "from_state", "to_state"))


def test_the_whole_loop_leaves_one_event_per_step(make_order):
    order = make_order("closed")
    assert order.state == State.CLOSED
    assert actions_of(order) == [
        ("order.receive", "", "received"),
        ("order.dispatch", "received", "dispatched"),
        ("order.sign", "dispatched", "signed"),
        ("order.contact", "signed", "signed"),
        ("order.report", "signed", "reported"),
        ("order.review", "reported", "reviewed"),
        ("order.feed_back", "reviewed", "fed_back"),
        ("order.record_callback", "fed_back", "fed_back"),
        ("order.close", "fed_back", "closed"),
    ]
    assert order.version == 9
    assert order.handled_at == order.reports.get().created_at
    assert order.on_time is True
    assert not order.assignments.filter(ended_at__isnull=True).exists()
    assert verify_chain().ok


def test_personal_data_is_encrypted_hashed_and_masked(make_order):
    order = make_order()
    assert "13812345678" not in order.citizen_phone_enc
    assert order.citizen_phone == "13812345678"
    assert order.citizen_phone_mask == "138****5678"
    assert order.citizen_name_mask == "刘**"
    assert order.citizen_address == "东城镇东城村3号"
    assert order.citizen_phone_hash and len(order.citizen_phone_hash) == 64
    again = make_order(citizen_phone="+86 138 1234 5678")
    assert again.citizen_phone_hash == order.citizen_phone_hash


def test_reveal_is_logged(make_order, dispatcher):
    order = make_order()
    assert actions.reveal_citizen(actor=dispatcher, order=order, field="phone") == "13812345678"
    event = Event.objects.get(action="order.reveal")
    assert event.payload == {"field": "phone", "label": "电话"} and event.actor == dispatcher


def test_deadlines_from_the_seed_across_national_day(make_order, dispatcher, bureau, clock):
    # Dispatched Wednesday 30 September 2026 at 16:00, the eve of the National Day holiday.
    clock.set(at(2026, 9, 30, 16, 0))
    law = make_order()
    actions.dispatch_order(actor=dispatcher, order=law, lead_unit=bureau.station)
    law.refresh_from_db()
    assert law.contact_due_at == at(2026, 9, 30, 17, 0)  # one clock hour
    assert law.handling_due_at == at(2026, 10, 8, 16, 0)  # one working day, 1–7 Oct off
    consult = make_order(order_type=order_type("consult"), demand_kind="consultation")
    actions.dispatch_order(actor=dispatcher, order=consult, lead_unit=bureau.station)
    consult.refresh_from_db()
    # 1.5 h on the 30th, the other 2 h on the 8th from 08:30.
    assert consult.handling_due_at == at(2026, 10, 8, 10, 30)


def test_overdue_is_a_query(make_order, dispatcher, bureau, clock):
    clock.set(at(2026, 11, 2, 9, 0))
    order = make_order("dispatched")
    assert order.handling_due_at == at(2026, 11, 3, 9, 0)
    assert not Order.objects.overdue(now=at(2026, 11, 3, 9, 0)).exists()
    assert list(Order.objects.overdue(now=at(2026, 11, 3, 9, 1))) == [order]
    assert list(Order.objects.contact_overdue(now=at(2026, 11, 2, 10, 1))) == [order]


def test_return_rejected_moves_the_deadline_by_the_paused_working_time(
        make_order, dispatcher, handler, clock):
    clock.set(at(2026, 11, 2, 9, 0))  # Monday
    order = make_order("signed")
    assert order.handling_due_at == at(2026, 11, 3, 9, 0)
    clock.set(at(2026, 11, 2, 10, 0))
    actions.request_return(actor=handler, order=order, reason="该地址属西城派出所辖区")
    order.refresh_from_db()
    assert order.state == State.RETURN_REQUESTED and order.paused_at == at(2026, 11, 2, 10, 0)
    assert not Order.objects.overdue(now=at(2026, 11, 9)).exists()  # the clock stands still
    clock.set(at(2026, 11, 2, 15, 0))  # 2 h of morning + 1 h of afternoon working time later
    actions.decide_return(actor=dispatcher, order=order, approve=False,
                          note="经核实事发地在东城镇，仍由你所办理")
    order.refresh_from_db()
    assert order.state == State.SIGNED
    assert order.handling_due_at == at(2026, 11, 3, 12, 0)
    request = ReturnRequest.objects.get()
    assert request.decision == "rejected" and request.decided_by == dispatcher


def test_return_approved_frees_the_unit_and_the_next_dispatch_starts_a_new_clock(
        make_order, dispatcher, handler, bureau, clock):
    clock.set(at(2026, 11, 2, 9, 0))
    order = make_order("dispatched")
    actions.request_return(actor=handler, order=order, reason="不属本所辖区")
    clock.set(at(2026, 11, 2, 11, 0))
    actions.decide_return(actor=dispatcher, order=order, approve=True)
    order.refresh_from_db()
    assert order.state == State.RECEIVED and order.lead_unit is None
    assert order.handling_due_at is None
    first = Assignment.objects.get(unit=bureau.station)
    assert first.end_reason == "returned" and first.ended_at == at(2026, 11, 2, 11, 0)
    actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.other_station)
    order.refresh_from_db()
    assert order.handling_due_at == at(2026, 11, 3, 11, 0)
    assert order.return_count == 1


def test_send_back_returns_the_order_to_the_unit(make_order, dispatcher):
    order = make_order("reported")
    with pytest.raises(InvalidInput, match="退回理由"):
        actions.review_order(actor=dispatcher, order=order, passed=False)
    actions.review_order(actor=dispatcher, order=order, passed=False, reason="未说明处理结果")
    order.refresh_from_db()
    assert order.state == State.SIGNED and order.sendback_count == 1
    assert order.reports.get().decision == "sent_back"


def test_dissatisfied_callback_then_redo(make_order, dispatcher, bureau):
    order = make_order("fed_back")
    actions.record_callback(actor=dispatcher, order=order, outcome="dissatisfied",
                            note="噪音仍在")
    with pytest.raises(InvalidInput, match="重办"):
        actions.close_order(actor=dispatcher, order=order)
    actions.redo_order(actor=dispatcher, order=order, reason="回访不满意：噪音仍在")
    order.refresh_from_db()
    assert order.state == State.DISPATCHED and order.redo_count == 1
    assert order.lead_unit == bureau.station and order.callback_outcome == ""
    assert Assignment.objects.filter(order=order, end_reason="redone").count() == 1
    assert Assignment.objects.filter(order=order, ended_at__isnull=True).count() == 1


def test_invalid_with_reason(make_order, dispatcher):
    order = make_order("dispatched")
    actions.mark_invalid(actor=dispatcher, order=order, reason="同一号码一日内恶意来电12次")
    order.refresh_from_db()
    assert order.state == State.INVALID
    with pytest.raises(Conflict):
        actions.sign_order(actor=None, order=order)


def test_the_same_external_order_twice_is_one_order(make_order):
    first = make_order(external_id="12345-2026-0001")
    again, created = actions.receive_order(
        actor=None, bureau=first.bureau, channel=first.channel, order_type=first.order_type,
        demand_kind="complaint", title="重复推送", external_id="12345-2026-0001")
    assert again == first and created is False
    other_channel, created = actions.receive_order(
        actor=None, bureau=first.bureau, channel=channel("110"), order_type=first.order_type,
        demand_kind="complaint", title="另一渠道同号", external_id="12345-2026-0001")
    assert created and other_channel != first


def test_bad_input_is_refused_and_nothing_is_written(make_order, bureau):
    with pytest.raises(InvalidInput, match="联系电话格式不正确"):
        make_order(citizen_phone="12345")
    with pytest.raises(InvalidInput, match="请填写标题"):
        make_order(title="  ")
    with pytest.raises(InvalidInput, match="批示内容"):
        make_order(is_leader_assigned=True)
    assert not Order.objects.exists()
    order = make_order("signed")
    with pytest.raises(InvalidInput, match="请先登记"):
        actions.report_order(actor=None, order=order, result="已处理")
    assert Order.objects.get().state == State.SIGNED


def test_roles_and_units_are_checked(make_order, bureau, handler, outsider, dispatcher):
    order = make_order("dispatched")
    with pytest.raises(NotAllowed, match="承办单位"):
        actions.sign_order(actor=outsider, order=order)
    with pytest.raises(NotAllowed):
        actions.mark_invalid(actor=handler, order=order, reason="x")
    head_above = bureau.member(Role.UNIT_HEAD, bureau.station)
    actions.sign_order(actor=head_above, order=order)
    with pytest.raises(NotAllowed):
        actions.dispatch_order(actor=handler, order=make_order(), lead_unit=bureau.station)


def test_a_stale_version_is_told_what_happened(make_order, dispatcher, handler):
    order = make_order("dispatched")
    seen = order.version
    actions.contact_citizen(actor=handler, order=order, method="phone")
    with pytest.raises(Conflict, match=r"张承办已于.*联系群众"):
        actions.sign_order(actor=handler, order=order, expected_version=seen)
    actions.sign_order(actor=handler, order=order)
    with pytest.raises(Conflict, match="当前状态为「已签收」"):
        actions.sign_order(actor=handler, order=order)


def test_bulk_dispatch_goes_on_past_an_order_taken_meanwhile(make_order, dispatcher, bureau):
    free, taken = make_order(), make_order("dispatched")
    done, problems = actions.dispatch_orders(actor=dispatcher, orders=[free.pk, taken.pk],
                                             lead_unit=bureau.other_station)
    assert [o.pk for o in done] == [free.pk]
    assert len(problems) == 1 and "不能转办" in problems[0]


def test_dispatch_to_a_unit_of_another_bureau_is_refused(make_order, dispatcher):
    from minyi.orgs.tests.factories import UnitFactory

    foreign = UnitFactory(kind="station", name="邻县某所")
    with pytest.raises(InvalidInput, match="不是测试县公安局的承办单位"):
        actions.dispatch_order(actor=dispatcher, order=make_order(), lead_unit=foreign)


def test_holiday_change_recomputes_open_deadlines(make_order, dispatcher, clock):
    from minyi.workcal.actions import enter_holiday_year
    from minyi.workcal.holidays import DayEntry

    clock.set(at(2027, 1, 29, 16, 0))  # Friday; 2027 not entered, Monday the 1st counts
    order = make_order("dispatched")
    assert order.handling_due_at == at(2027, 2, 1, 16, 0)
    from datetime import date

    days = [DayEntry(date(2027, 2, d), True, "春节") for d in range(1, 8)]
    with mock.patch("django.db.transaction.on_commit", lambda f: f()):
        enter_holiday_year(actor=None, year=2027, days=days, source="notice")
    order.refresh_from_db()
    assert order.handling_due_at == at(2027, 2, 8, 16, 0)
    assert Event.objects.filter(action="order.recompute_deadline").count() == 1
