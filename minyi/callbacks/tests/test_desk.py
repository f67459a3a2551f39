"""The desk and plan pages: the desk's flow, what each page shows, and 404 for a user of
another unit on every task page and POST."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks.models import Answer, CallbackTask, Caller, Draw, SamplingPlan
from minyi.callbacks.tests.test_actions import DAY, clock, contact, plan, sh, task
from minyi.core.models import Event

pytestmark = pytest.mark.django_db
NOW = sh(DAY, 10)


@pytest.fixture
def at_ten():
    with clock(NOW):
        yield NOW


def login(client, user):
    client.force_login(user)
    return client


def test_desk_lists_the_days_tasks_with_counts(client, bureau, handler, at_ten):
    due = task(bureau, due=sh(DAY, 8))
    later = task(bureau, due=sh(DAY, 8))
    CallbackTask.objects.filter(pk=later.pk).update(state="retry", next_attempt_at=sh(DAY, 15))
    task(bureau, unit=bureau.other_station, due=sh(DAY, 8))  # another unit's
    page = login(client, handler).get(reverse("callbacks:desk"))
    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["day"].counts == {"due": 1, "later": 1, "completed": 0, "closed": 0,
                                          "done": 0}
    assert due.contact.phone_mask in html and "取下一个" in html
    assert reverse("callbacks:task", args=[due.pk]) in html


def test_take_next_opens_the_task_with_script_and_masked_number(client, bureau, handler,
                                                                  at_ten):
    t = task(bureau, due=sh(DAY, 8), phone="13955556666")
    login(client, handler)
    response = client.post(reverse("callbacks:desk_next"))
    assert response.status_code == 302 and response.url == reverse("callbacks:task", args=[t.pk])
    page = client.get(response.url)
    html = page.content.decode()
    assert "139****6666" in html and "13955556666" not in html
    assert "东城派出所" in html and "夜间求助" in html  # the script names the unit and matter
    for label, key in [("无人接听", "2"), ("空号", "6"), ("拒访", "9"), ("接通", "1")]:
        assert label in html and f"<kbd>{key}</kbd>" in html
    revealed = client.post(reverse("callbacks:task_reveal", args=[t.pk]))
    assert "13955556666" in revealed.content.decode()
    assert Event.objects.filter(action="callback.reveal", object_id=str(t.pk)).count() == 1


def test_order_contact_links_its_order(client, make_order, bureau, handler, at_ten):
    from minyi.callbacks.actions import contacts_from_orders

    order = make_order("closed")
    contacts_from_orders()
    c = order.callback_contact
    t = CallbackTask.objects.create(bureau=bureau.bureau, unit=bureau.station,
                                    caller=Caller.UNIT, contact=c, due_at=sh(DAY, 8),
                                    next_attempt_at=sh(DAY, 8))
    html = login(client, handler).get(reverse("callbacks:task", args=[t.pk])).content.decode()
    assert reverse("orders:detail", args=[order.pk]) in html and order.number in html


def test_nothing_due_and_outside_hours(client, bureau, handler):
    task(bureau, due=sh(DAY, 8))
    login(client, handler)
    with clock(sh(DAY, 22)):
        response = client.post(reverse("callbacks:desk_next"), follow=True)
    assert "不在回访时段" in response.content.decode()
    assert not CallbackTask.objects.filter(assigned_to__isnull=False).exists()
    CallbackTask.objects.update(next_attempt_at=sh(DAY, 12))
    with clock(NOW):
        response = client.post(reverse("callbacks:desk_next"), follow=True)
    assert "目前没有到期的回访任务" in response.content.decode()


def test_an_attempt_then_the_next_task(client, bureau, handler, at_ten):
    first = task(bureau, due=sh(DAY, 8))
    second = task(bureau, due=sh(DAY, 9))
    login(client, handler)
    client.post(reverse("callbacks:desk_next"))
    response = client.post(reverse("callbacks:task_attempt", args=[first.pk]),
                           {"disposition": "no_answer", "version": 1, "note": ""})
    assert response.status_code == 302
    assert response.url == reverse("callbacks:task", args=[second.pk])
    first.refresh_from_db()
    assert (first.state, first.next_attempt_at) == ("retry", sh(DAY, 12))


def test_an_answer_with_a_stale_version_or_missing_reasons_is_refused(client, bureau, handler,
                                                                     at_ten):
    t = task(bureau, due=sh(DAY, 8))
    login(client, handler)
    url = reverse("callbacks:task_answer", args=[t.pk])
    bad = client.post(url, {"satisfaction": "dissatisfied", "version": t.version})
    assert bad.status_code == 400 and "请选择不满意的原因" in bad.content.decode()
    ok = client.post(url, {"satisfaction": "dissatisfied", "reasons": ["attitude"],
                           "comment": "态度差", "version": t.version})
    assert ok.status_code == 302
    again = client.post(url, {"satisfaction": "satisfied", "version": t.version})
    assert again.status_code == 409 and "不能重复登记" in again.content.decode()
    assert Answer.objects.get(task=t).satisfaction == "dissatisfied"


def test_outsider_gets_404_on_every_task_page_and_post(client, bureau, outsider, at_ten):
    t = task(bureau, due=sh(DAY, 8))
    login(client, outsider)
    assert client.get(reverse("callbacks:task", args=[t.pk])).status_code == 404
    for name, data in [("task_reveal", {}), ("task_release", {}),
                       ("task_attempt", {"disposition": "busy", "version": 1}),
                       ("task_answer", {"satisfaction": "satisfied", "version": 1})]:
        assert client.post(reverse(f"callbacks:{name}", args=[t.pk]), data).status_code == 404
    # Their own desk is empty: the station's task is not theirs to take.
    assert client.post(reverse("callbacks:desk_next")).status_code == 302
    t.refresh_from_db()
    assert t.assigned_to is None and t.attempts == 0
    assert not Event.objects.filter(object_id=str(t.pk), action__startswith="callback.").exists()
    assert client.get(reverse("callbacks:task", args=[999999])).status_code == 404


def test_people_without_a_desk_or_plans(client, bureau, leader, handler):
    login(client, leader)
    assert client.get(reverse("callbacks:desk")).status_code == 403
    login(client, handler)
    assert client.get(reverse("callbacks:plans")).status_code == 403
    assert client.post(reverse("callbacks:plans_draw")).status_code == 403


def test_plans_page_edit_and_draw(client, bureau, opinion_officer):
    login(client, opinion_officer)
    page = client.get(reverse("callbacks:plans"))
    assert page.status_code == 200
    new = reverse("callbacks:plan_new")
    data = {"name": "110 回访", "source": "call_110", "unit": "", "caller": "unit",
            "share": "1.5", "minimum": "5", "maximum": "3", "cooling_off_days": "30",
            "due_after_hours": "24", "is_active": "on", "valid_from": "", "valid_to": ""}
    bad = client.post(new, data)
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "抽取比例应在 0 到 1 之间" in html and "每日最多数不能小于每日最少数" in html
    data.update(share="1", minimum="0", maximum="")
    assert client.post(new, data).status_code == 302
    p = SamplingPlan.objects.get(name="110 回访")
    assert p.bureau == bureau.bureau and p.share == Decimal("1")
    assert Event.objects.filter(action="callback.plan_create", object_id=str(p.pk)).exists()
    data.update(name="110 回访（改）", share="0.5")
    assert client.post(reverse("callbacks:plan_edit", args=[p.pk]), data).status_code == 302
    p.refresh_from_db()
    assert p.name == "110 回访（改）" and p.share == Decimal("0.5")
    day = timezone.localdate()
    contact(bureau, at=timezone.now() - timedelta(hours=24))
    contact(bureau, at=timezone.now() - timedelta(hours=24))
    p.due_after_hours = 24
    p.save()
    response = client.post(reverse("callbacks:plans_draw"), follow=True)
    draw = Draw.objects.get(plan=p, day=day)
    html = response.content.decode()
    assert "已完成" in html and str(draw.seed) in html
    client.post(reverse("callbacks:plans_draw"))
    assert Draw.objects.count() == 1


def test_plans_of_another_bureau_are_404(client, bureau, opinion_officer):
    from minyi.orgs.tests.factories import UnitFactory

    other = UnitFactory(kind="bureau", name="邻县公安局")
    theirs = plan(type("B", (), {"bureau": other})(), name="邻县方案")
    login(client, opinion_officer)
    assert client.get(reverse("callbacks:plan_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("callbacks:plan_edit", args=[theirs.pk]),
                       {"name": "x"}).status_code == 404
    assert "邻县方案" not in client.get(reverse("callbacks:plans")).content.decode()

