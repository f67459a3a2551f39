"""Rectification (整改): the loop from a dissatisfied answer to the public's confirmation, each
action with its event, wrong roles and double actions refused, overdue, the reads and the
pages (an outsider gets 404 everywhere)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks import rectification as rect
from minyi.callbacks.models import CallbackTask, Caller, Rectification
from minyi.core.audit import events_for
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.notifications.models import Notification
from minyi.orgs.models import Role
from minyi.public.tests.callback_fixtures import answer, make_task
from minyi.workcal import selectors as workcal

pytestmark = pytest.mark.django_db
State = Rectification.State
REPORT = "已上门向群众说明处理结果，并对值班民警进行了批评教育。"


@pytest.fixture
def item(bureau):
    task = make_task(bureau)
    answer(task, "dissatisfied", reasons=["attitude", "speed"], comment="民警态度冷淡")
    return Rectification.objects.get(task=task)


def actions_of(obj):
    return [e.action for e in events_for(obj).order_by("id")]


# --- opening ---------------------------------------------------------------------------------


def test_a_dissatisfied_answer_opens_one_item_with_a_five_working_day_deadline(bureau):
    task = make_task(bureau)
    before = timezone.now()
    answer(task, "dissatisfied", reasons=["attitude"])
    item = Rectification.objects.get(task=task)
    assert (item.unit, item.bureau, item.state) == (bureau.station, bureau.bureau, State.OPEN)
    assert workcal.deadline(before, "5d") <= item.due_at <= workcal.deadline(timezone.now(),
                                                                              "5d")
    event = events_for(item).get(action="rectification.open")
    assert event.to_state == "open" and event.actor is None
    assert event.payload["reasons"] == ["attitude"] and event.payload["limit"] == "5d"
    # Idempotent: called again (by the hook or by hand) it returns the same item.
    assert rect.open_rectification(task=task) == item
    assert rect.after_answer(task=task) == item
    assert Rectification.objects.filter(task=task).count() == 1
    assert actions_of(item).count("rectification.open") == 1


def test_the_limit_comes_from_settings(bureau, settings):
    settings.MINYI_RECTIFICATION_LIMIT = "2d"
    task = make_task(bureau)
    now = timezone.now()
    answer(task, "dissatisfied", now=now)
    assert Rectification.objects.get(task=task).due_at == workcal.deadline(now, "2d")


@pytest.mark.parametrize("satisfaction", ["satisfied", "basically_satisfied"])
def test_a_satisfied_answer_opens_nothing(bureau, satisfaction):
    task = make_task(bureau)
    answer(task, satisfaction)
    assert not Rectification.objects.exists()
    with pytest.raises(InvalidInput):
        rect.open_rectification(task=task)


def test_a_spot_check_of_an_item_already_open_adds_no_second_item(bureau, item):
    spot = make_task(bureau, caller=Caller.OPINION_OFFICE, kind=CallbackTask.Kind.SPOT_CHECK,
                     contact=item.task.contact, parent=item.task)
    answer(spot, "dissatisfied")
    assert Rectification.objects.count() == 1


# --- report and decide -----------------------------------------------------------------------


def test_report(item, handler):
    rect.report_rectification(actor=handler, item=item, report=REPORT)
    item.refresh_from_db()
    assert (item.state, item.report, item.reported_by) == (State.REPORTED, REPORT, handler)
    event = events_for(item).get(action="rectification.report")
    assert (event.from_state, event.to_state, event.actor) == ("open", "reported", handler)
    assert event.payload["on_time"] is True
    with pytest.raises(Conflict, match="正在等待审核"):
        rect.report_rectification(actor=handler, item=item, report=REPORT)


def test_report_refused(item, outsider, opinion_officer, bureau):
    with pytest.raises(InvalidInput, match="不少于 10 个字"):
        rect.report_rectification(actor=bureau.member(Role.UNIT_HEAD), item=item, report="已整改")
    for user in (outsider, opinion_officer):
        with pytest.raises(NotAllowed):
            rect.report_rectification(actor=user, item=item, report=REPORT)
    item.refresh_from_db()
    assert item.state == State.OPEN and "rectification.report" not in actions_of(item)


def test_decide_refused(item, handler, opinion_officer, leader):
    with pytest.raises(Conflict, match="只有已上报"):
        rect.decide_rectification(actor=opinion_officer, item=item, accept=True)
    rect.report_rectification(actor=handler, item=item, report=REPORT)
    for user in (handler, leader):
        with pytest.raises(NotAllowed):
            rect.decide_rectification(actor=user, item=item, accept=True)
    with pytest.raises(InvalidInput, match="退回理由"):
        rect.decide_rectification(actor=opinion_officer, item=item, accept=False, note=" ")
    item.refresh_from_db()
    assert item.state == State.REPORTED


def test_return_then_accept_makes_a_recall(item, handler, opinion_officer):
    rect.report_rectification(actor=handler, item=item, report=REPORT)
    rect.decide_rectification(actor=opinion_officer, item=item, accept=False,
                              note="未写明是否已联系群众")
    item.refresh_from_db()
    assert (item.state, item.return_count) == (State.RETURNED, 1)
    event = events_for(item).get(action="rectification.return")
    assert event.payload["reason"] == "未写明是否已联系群众" and event.to_state == "returned"
    # Still counted as the unit's: open, with its first deadline.
    assert rect.counts_per_unit()[item.unit_id] == {"open": 1, "todo": 1, "overdue": 0}
    rect.report_rectification(actor=handler, item=item, report=REPORT + "已电话联系群众。")
    rect.decide_rectification(actor=opinion_officer, item=item, accept=True, note="同意")
    item.refresh_from_db()
    recall = item.recall
    assert item.state == State.ACCEPTED
    assert (recall.kind, recall.caller, recall.parent, recall.contact, recall.unit,
            recall.state) == (CallbackTask.Kind.RECALL, Caller.OPINION_OFFICE, item.task,
                              item.task.contact, item.unit, CallbackTask.State.PENDING)
    assert recall.due_at <= timezone.now()
    assert events_for(item).get(action="rectification.accept").payload["recall"] == recall.pk
    assert actions_of(recall) == ["callback.recall_open"]
    with pytest.raises(Conflict):
        rect.decide_rectification(actor=opinion_officer, item=item, accept=True)
    assert CallbackTask.objects.filter(kind=CallbackTask.Kind.RECALL).count() == 1


def _accepted(item, handler, opinion_officer):
    rect.report_rectification(actor=handler, item=item, report=REPORT)
    rect.decide_rectification(actor=opinion_officer, item=item, accept=True)
    item.refresh_from_db()
    return item


def test_the_loop_ends_when_the_recall_confirms(bureau, handler, opinion_officer, item):
    rect.report_rectification(actor=handler, item=item, report=REPORT)
    rect.decide_rectification(actor=opinion_officer, item=item, accept=False, note="请补充")
    rect.report_rectification(actor=handler, item=item, report=REPORT + "（补充）")
    rect.decide_rectification(actor=opinion_officer, item=item, accept=True)
    item.refresh_from_db()
    answer(item.recall, "basically_satisfied", actor=opinion_officer)
    item.refresh_from_db()
    assert item.state == State.CONFIRMED and item.closed_at is not None
    assert actions_of(item) == ["rectification.open", "rectification.report",
                                "rectification.return", "rectification.report",
                                "rectification.accept", "rectification.confirm"]
    assert events_for(item).get(action="rectification.confirm").payload["satisfaction"] == (
        "basically_satisfied")
    assert rect.counts_per_unit() == {}
    assert Rectification.objects.count() == 1


def test_an_unconfirmed_recall_opens_a_new_item(bureau, handler, opinion_officer, item):
    item = _accepted(item, handler, opinion_officer)
    answer(item.recall, "dissatisfied", reasons=["result"], actor=opinion_officer)
    item.refresh_from_db()
    assert item.state == State.UNCONFIRMED
    assert "rectification.unconfirm" in actions_of(item)
    follow = Rectification.objects.get(task=item.recall)
    assert (follow.state, follow.unit) == (State.OPEN, item.unit)
    assert rect.counts_per_unit()[item.unit_id]["open"] == 1
    # The second round, confirmed: the list is empty.
    follow = _accepted(follow, handler, opinion_officer)
    assert follow.recall.parent == item.recall
    answer(follow.recall, "satisfied", actor=opinion_officer)
    follow.refresh_from_db()
    assert follow.state == State.CONFIRMED
    assert rect.counts_per_unit() == {}


# --- reads -----------------------------------------------------------------------------------


def test_overdue(bureau, handler):
    now = timezone.now()
    items = []
    for state in (State.OPEN, State.RETURNED, State.REPORTED, State.ACCEPTED, State.OPEN):
        task = make_task(bureau)
        answer(task, "dissatisfied")
        items.append(Rectification.objects.get(task=task))
        Rectification.objects.filter(pk=items[-1].pk).update(state=state)
    Rectification.objects.filter(pk__in=[i.pk for i in items[:4]]).update(
        due_at=now - timedelta(hours=1))
    assert set(rect.overdue(now=now)) == {items[0], items[1]}
    assert rect.counts_per_unit(now=now) == {bureau.station.pk: {"open": 5, "todo": 3,
                                                                  "overdue": 2}}
    # A deadline still ahead is not overdue.
    assert not rect.overdue(now=now - timedelta(hours=2)).exists()


def test_visibility(item, bureau, handler, outsider, opinion_officer, leader, dispatcher):
    for user in (handler, opinion_officer, leader, dispatcher):
        assert list(rect.visible_rectifications(user)) == [item]
    assert not rect.visible_rectifications(outsider).exists()
    head = bureau.member(Role.UNIT_HEAD, bureau.station)
    assert [i.pk for i in rect.open_items_of(head)] == [item.pk]
    assert rect.open_items_of(outsider) == []


def test_notifications(bureau, handler, opinion_officer):
    head = bureau.member(Role.UNIT_HEAD, bureau.station)
    task = make_task(bureau)
    answer(task, "dissatisfied")
    item = Rectification.objects.get(task=task)
    told = Notification.objects.filter(user__in=[handler, head])
    assert told.count() == 2 and "请于" in told.first().text
    assert told.first().link == reverse("callbacks:rectification", args=[item.pk])
    rect.report_rectification(actor=handler, item=item, report=REPORT)
    assert Notification.objects.filter(user=opinion_officer, text__contains="请审核").count() == 1
    rect.decide_rectification(actor=opinion_officer, item=item, accept=False, note="请补充材料")
    assert Notification.objects.filter(user=handler, text__contains="请补充材料").count() == 1


def test_home_tag(item, bureau, handler, outsider):
    request = RequestFactory().get("/")
    template = Template("{% load rectification_tags %}{% open_rectifications %}")
    request.user = handler
    html = template.render(Context({"request": request}))
    assert 'data-testid="rect-home-item"' in html and bureau.station.name in html
    assert reverse("callbacks:rectification", args=[item.pk]) in html
    request.user = outsider
    assert "rect-home" not in template.render(Context({"request": request}))


# --- pages -----------------------------------------------------------------------------------


def get(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content.decode()[:300]
    return response.content.decode()


def test_list_page(client, item, bureau, handler, opinion_officer, outsider):
    url = reverse("callbacks:rectifications")
    detail = reverse("callbacks:rectification", args=[item.pk])
    for user in (handler, opinion_officer):
        html = get(client, user, url)
        assert detail in html and 'data-testid="rect-unit-row"' in html
    assert detail not in get(client, outsider, url)
    assert detail in get(client, opinion_officer, url + f"?unit={bureau.station.pk}&state=open")
    assert detail not in get(client, opinion_officer, url + "?state=reported")
    assert detail not in get(client, opinion_officer, url + "?overdue=on")
    Rectification.objects.filter(pk=item.pk).update(due_at=timezone.now() - timedelta(days=1))
    html = get(client, opinion_officer, url + "?overdue=on")
    assert detail in html and 'data-testid="rect-overdue-badge"' in html
    # A unit the user cannot see is not among the filter's choices: nothing of it is shown.
    assert detail not in get(client, outsider, url + f"?unit={bureau.station.pk}")


def test_detail_page_and_forms(client, item, handler, opinion_officer):
    url = reverse("callbacks:rectification", args=[item.pk])
    html = get(client, handler, url)
    assert "态度、速度" in html and "民警态度冷淡" in html
    assert 'data-testid="rect-report-form"' in html and 'data-testid="rect-decide-form"' not in html
    assert "13812345678" not in html and "138****5678" in html
    response = client.post(reverse("callbacks:rectification_report", args=[item.pk]),
                           {"report": "太短"})
    assert response.status_code == 400 and "不少于 10 个字" in response.content.decode()
    response = client.post(reverse("callbacks:rectification_report", args=[item.pk]),
                           {"report": REPORT})
    assert response.status_code == 302
    # The office decides; a second decision is a Conflict page.
    client.force_login(opinion_officer)
    html = get(client, opinion_officer, url)
    assert 'data-testid="rect-decide-form"' in html and REPORT in html
    decide = reverse("callbacks:rectification_decide", args=[item.pk])
    response = client.post(decide, {"decision": "return", "note": ""})
    assert response.status_code == 400 and "退回理由" in response.content.decode()
    assert client.post(decide, {"decision": "accept", "note": "同意"}).status_code == 302
    response = client.post(decide, {"decision": "accept"})
    assert response.status_code == 409 and 'data-testid="conflict"' in response.content.decode()
    item.refresh_from_db()
    assert item.state == State.ACCEPTED
    html = get(client, opinion_officer, url)
    assert "整改情况审核通过" in html and "生成整改后再回访任务" in html


def test_wrong_role_posts_are_forbidden(client, item, handler, opinion_officer):
    client.force_login(opinion_officer)
    response = client.post(reverse("callbacks:rectification_report", args=[item.pk]),
                           {"report": REPORT})
    assert response.status_code == 403
    rect.report_rectification(actor=handler, item=item, report=REPORT)
    client.force_login(handler)
    response = client.post(reverse("callbacks:rectification_decide", args=[item.pk]),
                           {"decision": "accept"})
    assert response.status_code == 403


def test_outsider_gets_404_everywhere(client, item, outsider):
    client.force_login(outsider)
    assert client.get(reverse("callbacks:rectification", args=[item.pk])).status_code == 404
    assert client.post(reverse("callbacks:rectification_report", args=[item.pk]),
                       {"report": REPORT}).status_code == 404
    assert client.post(reverse("callbacks:rectification_decide", args=[item.pk]),
                       {"decision": "accept"}).status_code == 404
    assert client.get(reverse("callbacks:rectification", args=[999999])).status_code == 404
    item.refresh_from_db()
    assert item.state == State.OPEN
