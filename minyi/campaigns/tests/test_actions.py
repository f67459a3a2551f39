"""Every action on a campaign: who may, its event, and a second try is a Conflict."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from minyi.campaigns import actions
from minyi.campaigns.models import Campaign, CampaignTask
from minyi.campaigns.tests.conftest import REQUIREMENTS
from minyi.core.audit import events_for, verify_chain
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.workcal import selectors as workcal

REPORT = "已对三处广场舞点位夜间巡查 12 次，约谈组织者 3 人，音响音量已降低。"


def last_event(obj) -> Event:
    return events_for(obj).order_by("-id").first()


def task_of(campaign, unit) -> CampaignTask:
    return campaign.tasks.get(unit=unit)


def test_issue_numbers_and_event(bureau, dispatcher, issue):
    now = timezone.now()
    first = issue(units=[bureau.station, bureau.other_station])
    second = issue()
    year = timezone.localtime(now).year
    assert first.display_number == f"专〔{year}〕1号"
    assert second.display_number == f"专〔{year}〕2号"
    assert [t.unit for t in first.tasks.order_by("unit__path")] == [bureau.station,
                                                                  bureau.other_station]
    assert set(first.tasks.values_list("state", flat=True)) == {"issued"}
    assert first.state == "open" and first.issued_by == dispatcher
    # Ten working days by default, as the working calendar counts them.
    assert first.deadline == workcal.deadline(first.issued_at, "10d")
    event = last_event(first)
    assert event.action == "campaign.issue" and event.actor == dispatcher
    assert event.payload["number"] == first.display_number
    assert event.payload["units"] == [bureau.station.pk, bureau.other_station.pk]
    assert event.payload["source"] == {"kind": "order_type", "key": "noise",
                                       "label": "噪音扰民", "period": "2026-W10"}
    assert verify_chain().ok


def test_leader_may_issue_without_a_source(bureau, leader, issue):
    campaign = issue(actor=leader, source_kind="", source_key="x", source_label="y",
                     source_period="z")
    assert (campaign.source_kind, campaign.source_key, campaign.source_period) == ("", "", "")
    assert last_event(campaign).payload["source"] is None


@pytest.mark.parametrize("role", ["handler", "inspector", "opinion_officer", "outsider"])
def test_others_may_not_issue(request, role, issue):
    user = request.getfixturevalue(role)
    with pytest.raises(NotAllowed, match="指挥调度员或局领导"):
        issue(actor=user)
    assert not Campaign.objects.exists()


def test_issue_checks_its_input(bureau, dispatcher, issue):
    from minyi.orgs.tests.factories import UnitFactory

    stranger = UnitFactory(kind="station", name="外县派出所")
    with pytest.raises(InvalidInput, match="外县派出所"):
        issue(units=[stranger])
    with pytest.raises(InvalidInput, match="下属单位"):
        issue(units=[bureau.bureau])
    with pytest.raises(InvalidInput, match="至少选择一个责任单位"):
        actions.issue_campaign(actor=dispatcher, bureau=bureau.bureau, title="整治",
                               requirements=REQUIREMENTS, units=[])
    with pytest.raises(InvalidInput, match="不少于 10 个字"):
        issue(requirements="请整治")
    with pytest.raises(InvalidInput, match="标题"):
        issue(title="  ")
    with pytest.raises(InvalidInput, match="晚于现在"):
        issue(deadline=timezone.now() - timedelta(hours=1))
    assert not Campaign.objects.exists()


def test_sign(bureau, head, handler, dispatcher, outsider, issue):
    task = task_of(issue(), bureau.station)
    with pytest.raises(NotAllowed):
        actions.sign_task(actor=outsider, task=task)
    with pytest.raises(NotAllowed):
        actions.sign_task(actor=dispatcher, task=task)
    task = actions.sign_task(actor=head, task=task)
    assert task.state == "signed" and task.signed_by == head
    event = last_event(task)
    assert (event.action, event.from_state, event.to_state) == ("campaign.sign", "issued",
                                                                "signed")
    assert event.payload["unit"] == bureau.station.pk
    with pytest.raises(Conflict, match="已于"):
        actions.sign_task(actor=handler, task=task)


def test_report_accept(bureau, head, handler, dispatcher, leader, issue):
    task = task_of(issue(), bureau.station)
    with pytest.raises(Conflict, match="尚未上报"):
        actions.accept_task(actor=dispatcher, task=task)
    with pytest.raises(InvalidInput, match="不少于 10 个字"):
        actions.report_task(actor=handler, task=task, report="已整治")
    # A handler of the unit may report; reporting signs for it first.
    task = actions.report_task(actor=handler, task=task, report=REPORT)
    assert task.state == "reported" and task.signed_by == handler and task.report == REPORT
    event = last_event(task)
    assert (event.action, event.from_state, event.to_state) == ("campaign.report", "issued",
                                                                "reported")
    assert event.payload["report"] == REPORT and event.payload["on_time"] is True
    with pytest.raises(Conflict, match="等待验收"):
        actions.report_task(actor=head, task=task, report=REPORT)
    with pytest.raises(NotAllowed):
        actions.accept_task(actor=head, task=task)
    task = actions.accept_task(actor=leader, task=task)
    assert task.state == "accepted" and task.accepted_by == leader
    assert last_event(task).action == "campaign.accept"
    with pytest.raises(Conflict, match="验收通过"):
        actions.accept_task(actor=dispatcher, task=task)
    with pytest.raises(Conflict, match="验收通过"):
        actions.report_task(actor=head, task=task, report=REPORT)
    with pytest.raises(Conflict, match="验收通过"):
        actions.return_task(actor=dispatcher, task=task, reason="不够具体")


def test_return_and_report_again(bureau, head, dispatcher, issue):
    task = task_of(issue(), bureau.station)
    actions.sign_task(actor=head, task=task)
    actions.report_task(actor=head, task=task, report=REPORT)
    with pytest.raises(InvalidInput, match="退回理由"):
        actions.return_task(actor=dispatcher, task=task, reason=" ")
    with pytest.raises(NotAllowed):
        actions.return_task(actor=head, task=task, reason="自己退回")
    task = actions.return_task(actor=dispatcher, task=task, reason="未写明巡查的时间和点位")
    assert task.state == "returned" and task.return_count == 1
    event = last_event(task)
    assert (event.action, event.from_state, event.to_state) == ("campaign.return", "reported",
                                                                "returned")
    assert event.payload["reason"] == "未写明巡查的时间和点位"
    with pytest.raises(Conflict, match="尚未上报"):
        actions.return_task(actor=dispatcher, task=task, reason="再退一次")
    task = actions.report_task(actor=head, task=task, report=REPORT + "补充：每晚八点至十点。")
    assert last_event(task).from_state == "returned"
    assert actions.accept_task(actor=dispatcher, task=task).state == "accepted"


def test_close(bureau, head, handler, outsider, dispatcher, issue):
    campaign = issue(units=[bureau.station, bureau.other_station])
    done = task_of(campaign, bureau.station)
    actions.report_task(actor=head, task=done, report=REPORT)
    actions.accept_task(actor=dispatcher, task=done)
    with pytest.raises(NotAllowed):
        actions.close_campaign(actor=handler, campaign=campaign)
    campaign = actions.close_campaign(actor=dispatcher, campaign=campaign, note="总体完成")
    assert campaign.state == "closed" and campaign.closed_by == dispatcher
    event = last_event(campaign)
    assert (event.action, event.to_state) == ("campaign.close", "closed")
    assert event.payload == {"note": "总体完成", "unfinished": ["西城派出所"]}
    with pytest.raises(Conflict, match="已于"):
        actions.close_campaign(actor=dispatcher, campaign=campaign)
    with pytest.raises(Conflict, match="结束"):
        actions.sign_task(actor=outsider, task=task_of(campaign, bureau.other_station))


def test_overdue_is_a_query(bureau, head, dispatcher, issue):
    campaign = issue(units=[bureau.station, bureau.other_station])
    done = task_of(campaign, bureau.station)
    actions.report_task(actor=head, task=done, report=REPORT)
    actions.accept_task(actor=dispatcher, task=done)
    assert not CampaignTask.objects.overdue().exists()
    later = campaign.deadline + timedelta(minutes=1)
    assert list(CampaignTask.objects.overdue(later)) == [task_of(campaign, bureau.other_station)]
    Campaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() - timedelta(hours=1))
    campaign.refresh_from_db()
    assert task_of(campaign, bureau.other_station).is_overdue
    assert not task_of(campaign, bureau.station).is_overdue


def test_a_unit_above_may_act_for_the_unit_below(bureau, head, issue):
    # The station's head answers for its community team's task.
    task = task_of(issue(units=[bureau.team]), bureau.team)
    assert actions.sign_task(actor=head, task=task).state == "signed"


def test_the_named_units_are_notified(bureau, head, other_head, handler, dispatcher, issue):
    from minyi.notifications.models import Notification

    campaign = issue(units=[bureau.station])
    issued = Notification.objects.filter(event__action="campaign.issue")
    assert {n.user for n in issued} == {head}  # not the other station's head, not the issuer
    note = issued.get()
    assert campaign.display_number in note.text and note.link.endswith(f"/{campaign.pk}/")
    task = task_of(campaign, bureau.station)
    actions.sign_task(actor=head, task=task)
    actions.report_task(actor=head, task=task, report=REPORT)
    actions.return_task(actor=dispatcher, task=task, reason="未写明巡查的时间和点位")
    returned = Notification.objects.filter(event__action="campaign.return")
    # The unit's people: its handler and its head (the head acted before, not on this event).
    assert {n.user for n in returned} == {head, handler}
    assert "未写明巡查的时间和点位" in returned.first().text
