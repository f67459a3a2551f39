"""Each event of the closed loop notifies the people who must act on it, and nobody else."""

from __future__ import annotations

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from minyi.core.models import Event
from minyi.notifications.models import Notification, SmsMessage
from minyi.orders import actions, escalation
from minyi.orders.models import ReminderLetter, SupervisionNotice
from minyi.orgs.models import Role

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def told(action: str, **filters) -> dict[str, str]:
    """{recipient's name: text} of the notifications made for events of `action`."""
    rows = Notification.objects.filter(event__action=action, **filters).select_related("user")
    return {n.user.display_name: n.text for n in rows}


@pytest.fixture
def everyone(bureau, handler, second_handler, head, other_head, outsider, dispatcher,
             inspector, leader, opinion_officer):
    """All the people of the bureau, so that "nobody else" means something."""
    return locals()


def test_a_dispatch_tells_the_handlers_and_head_of_the_lead_unit(everyone, make_order):
    order = make_order("dispatched")
    notes = told("order.dispatch")
    assert set(notes) == {"张承办", "吴民警", "钱所长"}
    text = notes["钱所长"]
    assert text.startswith(f"工单 {order.number}「楼上装修噪音扰民」已转办东城派出所，请及时签收")
    note = Notification.objects.get(event__action="order.dispatch", user=everyone["head"])
    assert note.link == reverse("orders:detail", args=[order.pk])
    assert note.action == "order.dispatch" and note.read_at is None
    assert note.event == Event.objects.get(action="order.dispatch", object_id=str(order.pk))
    # In-app only: a dispatch is daily work.
    assert not SmsMessage.objects.exists()


def test_co_handling_units_are_told_to_help(everyone, bureau, make_order, dispatcher):
    order = make_order("received")
    actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station,
                           co_units=[bureau.other_station])
    notes = told("order.dispatch")
    assert set(notes) == {"张承办", "吴民警", "钱所长", "李外所", "孙所长"}
    assert notes["孙所长"] == (f"工单 {order.number}「楼上装修噪音扰民」由东城派出所牵头办理，"
                            "请你单位协助办理。")


def test_a_sendback_tells_the_lead_unit(everyone, make_order, dispatcher):
    order = make_order("reported")
    actions.review_order(actor=dispatcher, order=order, passed=False, reason="未写明调解结果")
    notes = told("order.review")
    assert set(notes) == {"张承办", "吴民警", "钱所长"}
    assert notes["张承办"] == (f"工单 {order.number}「楼上装修噪音扰民」的办理结果被审核退回："
                            "未写明调解结果。请继续办理后重新上报。")


def test_a_passed_review_tells_nobody(everyone, make_order):
    make_order("reviewed")
    assert Event.objects.filter(action="order.review").count() == 1
    assert told("order.review") == {}


def test_a_return_request_tells_the_bureaus_dispatchers(everyone, bureau, make_order, handler):
    second = bureau.member(Role.DISPATCHER, bureau.command_centre, full_name="郑调度")
    # A dispatcher of another bureau is not concerned.
    from minyi.orgs.tests.factories import UnitFactory

    elsewhere = UnitFactory(kind="bureau", name="邻县公安局")
    bureau.member(Role.DISPATCHER, elsewhere, full_name="邻县调度")
    order = make_order("signed")
    actions.request_return(actor=handler, order=order, reason="该地址属于西城派出所辖区")
    notes = told("order.request_return")
    assert set(notes) == {"赵调度", second.display_name}
    assert notes["赵调度"] == (f"东城派出所申请退回工单 {order.number}「楼上装修噪音扰民」，"
                            "理由：该地址属于西城派出所辖区。请审批。")


def test_a_return_decision_tells_the_unit_that_asked(everyone, make_order, handler, dispatcher):
    order = make_order("signed")
    actions.request_return(actor=handler, order=order, reason="不属于本所辖区")
    actions.decide_return(actor=dispatcher, order=order, approve=False, note="地址在东城村")
    notes = told("order.decide_return")
    # The handler who asked is told too: he did not act on this event, the dispatcher did.
    assert set(notes) == {"张承办", "吴民警", "钱所长"}
    assert notes["钱所长"].startswith(
        f"东城派出所的退单申请未获同意（地址在东城村）：工单 {order.number}「楼上装修噪音扰民」"
        "仍由你单位办理，办理时限顺延至")

    second = make_order("signed")
    actions.request_return(actor=handler, order=second, reason="不属于本所辖区")
    actions.decide_return(actor=dispatcher, order=second, approve=True)
    approved = Notification.objects.get(event__action="order.decide_return",
                                        event__object_id=str(second.pk), user=everyone["head"])
    assert approved.text == (f"东城派出所的退单申请已同意：工单 {second.number}「楼上装修噪音扰民」"
                             "不再由你单位办理。")


def test_a_redo_tells_the_unit_that_redoes_it(everyone, bureau, make_order, dispatcher):
    order = make_order("closed")
    actions.redo_order(actor=dispatcher, order=order, reason="群众反映噪音仍未解决",
                       lead_unit=bureau.other_station)
    notes = told("order.redo")
    assert set(notes) == {"李外所", "孙所长"}
    assert notes["孙所长"].startswith(
        f"工单 {order.number}「楼上装修噪音扰民」需重办（群众反映噪音仍未解决），请重新签收办理，")


def test_a_notice_tells_the_units_heads_in_app_and_by_sms(everyone, make_order):
    with mock.patch("minyi.orders.actions._now", lambda: at(2026, 11, 2, 9, 0)):
        order = make_order("dispatched")
    escalation.sweep(now=at(2026, 11, 3, 9, 1))
    notice = SupervisionNotice.objects.get(order=order)
    notes = told("notice.issue")
    assert set(notes) == {"钱所长"}
    assert notes["钱所长"] == (
        f"督办单 督〔2026〕1号：工单 {order.number}「楼上装修噪音扰民」超期未办结，"
        "请签收并于11月05日 09:01前答复整改措施。")
    note = Notification.objects.get(event__action="notice.issue")
    assert note.link == reverse("orders:notice", args=[notice.pk])
    sms = SmsMessage.objects.get()
    assert (sms.to_masked, sms.text, sms.notification) == ("139****1111", note.text, note)
    assert sms.purpose == "notification" and sms.status == SmsMessage.Status.PENDING


def test_a_head_without_a_mobile_gets_the_notification_but_no_sms(everyone, bureau, make_order):
    bureau.member(Role.UNIT_HEAD, bureau.station, full_name="无手机", phone="0537-1234567")
    with mock.patch("minyi.orders.actions._now", lambda: at(2026, 11, 2, 9, 0)):
        make_order("dispatched")
    escalation.sweep(now=at(2026, 11, 3, 9, 1))
    assert set(told("notice.issue")) == {"钱所长", "无手机"}
    assert list(SmsMessage.objects.values_list("to_masked", flat=True)) == ["139****1111"]


def test_a_letter_tells_the_units_heads(everyone, make_order, dispatcher):
    order = make_order("fed_back")
    actions.record_callback(actor=dispatcher, order=order, outcome="dissatisfied")
    letter = ReminderLetter.objects.get(order=order)
    notes = told("letter.issue")
    assert set(notes) == {"钱所长"}
    assert notes["钱所长"] == (f"提醒函 {letter.display_number}：工单 {order.number}"
                            "「楼上装修噪音扰民」（回访不满意），请单位负责人督促加大办理力度。")
    assert not SmsMessage.objects.exists()


def test_an_unanswered_notice_goes_to_the_bureaus_inspectors_by_sms(everyone, bureau,
                                                                   make_order):
    inspector2 = bureau.member(Role.INSPECTOR, bureau.squad, full_name="冯督察",
                               phone="13700003333")
    with mock.patch("minyi.orders.actions._now", lambda: at(2026, 11, 2, 9, 0)):
        make_order("dispatched")
    escalation.sweep(now=at(2026, 11, 3, 9, 1))
    escalation.sweep(now=at(2026, 11, 5, 9, 2))  # reply due Thursday 09:01
    notes = told("notice.escalate")
    assert set(notes) == {"周督察", "冯督察"}
    assert notes["冯督察"].startswith("督办单 督〔2026〕1号（东城派出所，工单 ")
    assert notes["冯督察"].endswith("逾期未答复（答复期限11月05日 09:01），已移交督察。")
    # 周督察 has no number on file; 冯督察 gets the text, besides the head's for the notice.
    assert sorted(SmsMessage.objects.values_list("to_masked", flat=True)) == [
        "137****3333", "139****1111"]
    assert inspector2.notifications.count() == 1


def test_a_reply_tells_the_dispatchers_and_once_escalated_the_inspectors(everyone, make_order):
    with mock.patch("minyi.orders.actions._now", lambda: at(2026, 11, 2, 9, 0)):
        first, second = make_order("dispatched"), make_order("dispatched")
    escalation.sweep(now=at(2026, 11, 3, 9, 1))
    head = everyone["head"]
    notice = SupervisionNotice.objects.get(order=first)
    measures = "已约谈施工方，限定晚十点后停工"
    with mock.patch("django.utils.timezone.now", lambda: at(2026, 11, 4, 10, 0)):
        escalation.reply_notice(actor=head, notice=notice, measures=measures)
    assert set(told("notice.reply")) == {"赵调度"}
    assert told("notice.reply")["赵调度"] == (
        "东城派出所已答复督办单 督〔2026〕1号：已约谈施工方，限定晚十点后停工")

    escalation.sweep(now=at(2026, 11, 5, 9, 2))
    late = SupervisionNotice.objects.get(order=second)
    assert late.escalated_at is not None
    escalation.reply_notice(actor=head, notice=late, measures="已约谈施工方，限定晚十点后停工")
    notes = told("notice.reply", event__object_id=str(late.pk))
    assert set(notes) == {"赵调度", "周督察"}
    assert "（逾期）" in notes["周督察"]


def test_the_actor_is_not_told_of_their_own_act(bureau, make_order, handler):
    # A station head who dispatches (holding the dispatcher's role too) is not notified.
    both = bureau.member(Role.UNIT_HEAD, bureau.station, full_name="兼任")
    from minyi.orgs.tests.factories import MembershipFactory

    MembershipFactory(user=both, unit=bureau.command_centre, role=Role.DISPATCHER)
    order = make_order("received")
    actions.dispatch_order(actor=both, order=order, lead_unit=bureau.station)
    assert set(told("order.dispatch")) == {"张承办"}


def test_inactive_users_are_not_notified(bureau, make_order, handler, head):
    head.is_active = False
    head.save()
    make_order("dispatched")
    assert set(told("order.dispatch")) == {"张承办"}
