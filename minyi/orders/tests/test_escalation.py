import json
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orders import actions, escalation
from minyi.orders.models import ReminderLetter, SupervisionNotice
from minyi.orgs.models import Role

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def overdue(make_order):
    """Three orders dispatched on Monday 2 Nov 2026 at 09:00, due Tuesday 09:00."""
    with mock.patch("minyi.orders.actions._now", lambda: at(2026, 11, 2, 9, 0)):
        return [make_order("dispatched") for _ in range(3)]


def test_overdue_orders_get_numbered_notices_once(overdue):
    assert escalation.sweep(now=at(2026, 11, 3, 9, 0)).notices == 0  # not yet past
    result = escalation.sweep(now=at(2026, 11, 3, 9, 1))
    assert result.notices == 3
    numbers = [n.display_number for n in SupervisionNotice.objects.order_by("number")]
    assert numbers == ["督〔2026〕1号", "督〔2026〕2号", "督〔2026〕3号"]
    notice = SupervisionNotice.objects.get(order=overdue[0])
    # Two working days to answer: Tuesday 09:01 + 14 h of office time = Thursday 09:01.
    assert notice.reply_due_at == at(2026, 11, 5, 9, 1)
    assert "已超期未办结" in notice.text and notice.unit == overdue[0].lead_unit
    assert escalation.sweep(now=at(2026, 11, 3, 9, 2)).notices == 0
    assert Event.objects.filter(action="notice.issue").count() == 3
    assert Event.objects.filter(action="order.notice", object_id=str(overdue[0].pk)).exists()


def test_numbering_starts_again_each_year_and_per_bureau(overdue):
    escalation.sweep(now=at(2026, 11, 3, 10, 0))
    order = overdue[0]
    order.redo_count = 1  # a redone order late again is a new round
    order.save()
    notice = escalation.issue_notice(actor=None, order=order, reason="overdue",
                                     now=at(2027, 1, 4, 9, 0))
    assert notice.display_number == "督〔2027〕1号"


def test_a_failed_issue_gives_its_number_back(overdue):
    with mock.patch("minyi.orders.escalation.record_event", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            escalation.issue_notice(actor=None, order=overdue[0], reason="overdue",
                                    now=at(2026, 11, 3, 10, 0))
    assert not SupervisionNotice.objects.exists()
    notice = escalation.issue_notice(actor=None, order=overdue[0], reason="overdue",
                                     now=at(2026, 11, 3, 10, 0))
    assert notice.number == 1


def test_a_sweep_that_died_half_way_is_completed_by_the_next(overdue):
    real = escalation.issue_notice
    calls = []

    def dies_on_the_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real(**kwargs)

    with mock.patch("minyi.orders.escalation.issue_notice", dies_on_the_second):
        with pytest.raises(SystemExit):
            escalation.sweep(now=at(2026, 11, 3, 10, 0))
    assert SupervisionNotice.objects.count() == 1
    assert escalation.sweep(now=at(2026, 11, 3, 10, 1)).notices == 2
    assert sorted(SupervisionNotice.objects.values_list("number", flat=True)) == [1, 2, 3]
    for order in overdue:
        assert SupervisionNotice.objects.filter(order=order).count() == 1


def test_sent_back_orders_get_a_notice_per_send_back(make_order, dispatcher):
    order = make_order("reported")
    actions.review_order(actor=dispatcher, order=order, passed=False, reason="群众诉求未解决")
    escalation.sweep()
    notice = SupervisionNotice.objects.get(order=order)
    assert notice.reason == "unresolved" and "审核退回" in notice.text


def test_dissatisfied_callback_gets_a_letter_at_once_and_leader_orders_at_the_sweep(
        make_order, dispatcher, settings):
    # The two orders share caller and text: real repeats, whose letters test_repeats covers.
    settings.MINYI_REPEAT_CHECK = False
    order = make_order("fed_back")
    actions.record_callback(actor=dispatcher, order=order, outcome="dissatisfied")
    letter = ReminderLetter.objects.get(order=order)
    assert letter.display_number == f"提醒〔{letter.year}〕1号"
    assert letter.reason == "dissatisfied"
    actions.redo_order(actor=dispatcher, order=order, reason="回访不满意")
    leader = make_order("dispatched", is_leader_assigned=True, leader_instruction="请速办")
    result = escalation.sweep()
    assert result.letters == 1
    assert ReminderLetter.objects.get(order=leader).reason == "leader_assigned"
    assert escalation.sweep().letters == 0
    assert ReminderLetter.objects.filter(order=order).count() == 1


def test_the_unit_head_signs_and_answers(overdue, bureau, handler):
    escalation.sweep(now=at(2026, 11, 3, 10, 0))
    notice = SupervisionNotice.objects.get(order=overdue[0])
    with pytest.raises(NotAllowed, match="单位负责人"):
        escalation.sign_notice(actor=handler, notice=notice)
    head = bureau.member(Role.UNIT_HEAD, bureau.station, full_name="冯所长")
    escalation.sign_notice(actor=head, notice=notice)
    with pytest.raises(InvalidInput, match="整改措施"):
        escalation.reply_notice(actor=head, notice=notice, measures="已办")
    escalation.reply_notice(actor=head, notice=notice,
                            measures="已约谈承办民警，当日上门办结，建立超期预警台账。")
    notice.refresh_from_db()
    assert notice.replied_by == head and notice.signed_by == head
    assert list(Event.objects.filter(object_type="orders.supervisionnotice",
                                     object_id=str(notice.pk)).values_list("action", flat=True)
                ) == ["notice.issue", "notice.sign", "notice.reply"]


def test_unanswered_notices_go_to_the_inspectors(overdue):
    escalation.sweep(now=at(2026, 11, 3, 10, 0))  # replies due Thursday 5 Nov 10:00
    assert escalation.sweep(now=at(2026, 11, 5, 10, 0)).escalated == 0
    assert escalation.sweep(now=at(2026, 11, 5, 10, 1)).escalated == 3
    assert escalation.sweep(now=at(2026, 11, 5, 10, 2)).escalated == 0


def test_escalate_command(overdue, capsys):
    call_command("escalate", "--now", "2026-11-03T09:30+08:00")
    # The three overdue orders are one caller's: the two later ones are repeats of the first,
    # and get their reminder letters.
    assert json.loads(capsys.readouterr().out) == {
        "notices": 3, "letters": 2, "escalated": 0, "repeats_checked": 3, "repeats_found": 2}
    with pytest.raises(CommandError) as excinfo:
        call_command("escalate", "--now", "yesterday")
    assert excinfo.value.returncode == 2
    with pytest.raises(CommandError, match="时区"):
        call_command("escalate", "--now", "2026-11-03T09:30")


def test_closed_orders_are_left_alone(make_order):
    order = make_order("closed")
    order.handling_due_at = order.received_at - timedelta(days=1)
    order.save()
    assert escalation.sweep().notices == 0


def test_the_order_timeline_names_the_notice_and_its_reason(overdue):
    from minyi.orders.selectors import timeline_entries

    escalation.sweep(now=at(2026, 11, 3, 9, 1))
    texts = [f"{e.action} {e.detail}" for e in timeline_entries(overdue[0])]
    notice_lines = [t for t in texts if "督〔2026〕" in t]
    assert len(notice_lines) == 1 and "超期未办结" in notice_lines[0]
    assert "overdue" not in notice_lines[0]
