"""Spot checks (抽测回访): the sample size and the reproducible draw (pure), the draw with its
event and refusals, the disagreement rate computed exactly on a small fixture, and the page."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks import spotchecks
from minyi.callbacks.models import CallbackTask, Caller
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.public.tests.callback_fixtures import answer, make_task

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- pure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("population", "share", "expected"), [
    (0, "0.1", 0), (1, "0.1", 1), (10, "0.1", 1), (11, "0.1", 2), (30, "0.1", 3),
    (7, "0.2", 2), (5, "1", 5), (3, "0.5", 2)])
def test_sample_size(population, share, expected):
    assert spotchecks.sample_size(population, Decimal(share)) == expected


def test_choose_is_reproducible_and_within_each_unit():
    candidates = {3: list(range(100, 120)), 1: [7, 5, 9], 2: []}
    first = spotchecks.choose(candidates, "0.1", seed=20261120)
    assert first == spotchecks.choose({1: [9, 7, 5], 3: list(range(119, 99, -1)), 2: []},
                                      "0.1", seed=20261120)
    assert set(first) == {1, 3} and len(first[1]) == 1 and len(first[3]) == 2
    assert set(first[3]) <= set(candidates[3]) and set(first[1]) <= {5, 7, 9}
    draws = {tuple(spotchecks.choose(candidates, "0.1", seed=s)[3]) for s in range(20)}
    assert len(draws) > 1  # the seed matters


@pytest.mark.parametrize(("unit", "public", "agree"), [
    ("satisfied", "satisfied", True), ("satisfied", "basically_satisfied", True),
    ("basically_satisfied", "satisfied", True), ("satisfied", "dissatisfied", False),
    ("basically_satisfied", "dissatisfied", False), ("dissatisfied", "satisfied", False),
    ("dissatisfied", "dissatisfied", True)])
def test_agreement_is_on_the_satisfaction_class(unit, public, agree):
    assert spotchecks.agrees(unit, public) is agree


def test_rate_and_percent():
    assert spotchecks.rate(1, 3) == pytest.approx(1 / 3) and spotchecks.rate(0, 0) is None
    assert spotchecks.percent(1 / 3) == "33.3%" and spotchecks.percent(None) == "—"


# --- the draw --------------------------------------------------------------------------------


def noon(day) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)


@pytest.fixture
def yesterday_callbacks(bureau):
    """Yesterday: ten answered unit callbacks of the station, three of the other station; and
    some that must not be drawn (the office's own call, one still open, one of the day
    before)."""
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    made = {"station": [], "other": []}
    for i in range(10):
        task = make_task(bureau, bureau.station, phone=f"1390000{i:04d}")
        answer(task, "satisfied", now=noon(yesterday))
        made["station"].append(task)
    for i in range(3):
        task = make_task(bureau, bureau.other_station, phone=f"1370000{i:04d}")
        answer(task, "basically_satisfied", now=noon(yesterday))
        made["other"].append(task)
    office = make_task(bureau, caller=Caller.OPINION_OFFICE)
    answer(office, "satisfied", now=noon(yesterday))
    make_task(bureau)  # still pending
    old = make_task(bureau)
    answer(old, "satisfied", now=noon(yesterday - timedelta(days=1)))
    made["excluded"] = [office, old]
    return made


def test_draw(bureau, opinion_officer, yesterday_callbacks):
    today = timezone.localdate()
    result = spotchecks.draw_spot_checks(actor=opinion_officer, bureau=bureau.bureau, day=today,
                                         share="0.2", seed=42)
    assert result.population == {bureau.station.pk: 10, bureau.other_station.pk: 3}
    tasks = CallbackTask.objects.filter(kind=CallbackTask.Kind.SPOT_CHECK)
    assert tasks.filter(unit=bureau.station).count() == 2
    assert tasks.filter(unit=bureau.other_station).count() == 1
    for task in tasks:
        assert task.caller == Caller.OPINION_OFFICE and task.state == "pending"
        assert task.contact == task.parent.contact and task.unit == task.parent.unit
        assert task.parent.caller == Caller.UNIT
    excluded = {t.pk for t in yesterday_callbacks["excluded"]}
    assert not set(tasks.values_list("parent_id", flat=True)) & excluded
    event = Event.objects.get(action="callback.spot_check_draw")
    assert event.actor == opinion_officer and event.payload["seed"] == 42
    assert event.payload["share"] == "0.2" and event.payload["day"] == today.isoformat()
    assert sorted(event.payload["tasks"]) == sorted(tasks.values_list("pk", flat=True))
    assert event.payload["units"][str(bureau.station.pk)] == {"population": 10, "drawn": 2}
    # The same seed over the same candidates picks the same callbacks.
    expected = spotchecks.choose(
        {bureau.station.pk: [t.pk for t in yesterday_callbacks["station"]],
         bureau.other_station.pk: [t.pk for t in yesterday_callbacks["other"]]}, "0.2", 42)
    assert event.payload["parents"] == [pk for u in sorted(expected) for pk in expected[u]]
    # Once a day.
    with pytest.raises(Conflict, match="已经抽取过"):
        spotchecks.draw_spot_checks(actor=opinion_officer, bureau=bureau.bureau, day=today)


def test_draw_is_reproducible_after_a_rollback(bureau, opinion_officer, yesterday_callbacks):
    today = timezone.localdate()
    first = spotchecks.draw_spot_checks(actor=opinion_officer, bureau=bureau.bureau, day=today,
                                        seed=7)
    parents = sorted(t.parent_id for t in first.tasks)
    CallbackTask.objects.filter(kind=CallbackTask.Kind.SPOT_CHECK).delete()
    again = spotchecks.draw_spot_checks(actor=opinion_officer, bureau=bureau.bureau,
                                        day=today + timedelta(days=1), seed=7,
                                        since=today - timedelta(days=1))
    assert sorted(t.parent_id for t in again.tasks) == parents
    # The default share (10 %) still draws one of a unit's three.
    assert len(parents) == 2


def test_drawn_callbacks_are_not_drawn_again(bureau, opinion_officer, yesterday_callbacks):
    today = timezone.localdate()
    spotchecks.draw_spot_checks(actor=opinion_officer, bureau=bureau.bureau, day=today,
                                share="1", seed=1)
    assert CallbackTask.objects.filter(kind=CallbackTask.Kind.SPOT_CHECK).count() == 13
    later = spotchecks.draw_spot_checks(actor=opinion_officer, bureau=bureau.bureau,
                                        day=today + timedelta(days=1), share="1",
                                        since=today - timedelta(days=1))
    assert later.tasks == [] and later.population == {}


def test_draw_refused(bureau, handler, leader, opinion_officer):
    for user in (handler, leader):
        with pytest.raises(NotAllowed):
            spotchecks.draw_spot_checks(actor=user, bureau=bureau.bureau)
    with pytest.raises(InvalidInput):
        spotchecks.draw_spot_checks(actor=opinion_officer, bureau=bureau.bureau, share="1.5")
    assert not Event.objects.filter(action="callback.spot_check_draw").exists()


# --- disagreement ----------------------------------------------------------------------------


@pytest.fixture
def checked(bureau, opinion_officer):
    """Station: the unit recorded (满意, 满意, 基本满意, 不满意), the public told the office
    (不满意, 基本满意, 不满意, 不满意): two disagreements (both inflated) in four, three exact
    differences. Other station: (满意, 基本满意, 不满意) against (满意, 满意, 满意): one
    disagreement in three, not inflated."""
    pairs = {bureau.station: [("satisfied", "dissatisfied"), ("satisfied", "basically_satisfied"),
                              ("basically_satisfied", "dissatisfied"),
                              ("dissatisfied", "dissatisfied")],
             bureau.other_station: [("satisfied", "satisfied"),
                                    ("basically_satisfied", "satisfied"),
                                    ("dissatisfied", "satisfied")]}
    n = 0
    for unit, rows in pairs.items():
        for said, heard in rows:
            n += 1
            parent = make_task(bureau, unit, phone=f"1360000{n:04d}")
            answer(parent, said, now=timezone.now() - timedelta(days=2))
            spot = make_task(bureau, unit, caller=Caller.OPINION_OFFICE,
                             kind=CallbackTask.Kind.SPOT_CHECK, contact=parent.contact,
                             parent=parent)
            answer(spot, heard, actor=opinion_officer)
    make_task(bureau, bureau.station, caller=Caller.OPINION_OFFICE,
              kind=CallbackTask.Kind.SPOT_CHECK, parent=make_task(bureau, bureau.station))
    return pairs


def test_disagreement_rate_exactly(bureau, opinion_officer, checked):
    today = timezone.localdate()
    rows = {r.unit: r for r in spotchecks.spot_check_table(opinion_officer,
                                                           today - timedelta(days=1), today)}
    station, other = rows[bureau.station], rows[bureau.other_station]
    assert (station.done, station.disagreements, station.inflated,
            station.exact_differences, station.pending) == (4, 2, 2, 3, 1)
    assert station.rate == 0.5 and station.rate_text == "50.0%"
    assert (other.done, other.disagreements, other.inflated, other.exact_differences) == (
        3, 1, 0, 2)
    assert other.rate == pytest.approx(1 / 3) and other.rate_text == "33.3%"
    assert [(p.unit_answer.satisfaction, p.public_answer.satisfaction) for p in station.pairs] == [
        ("satisfied", "dissatisfied"), ("basically_satisfied", "dissatisfied")]
    # The worse unit first.
    assert list(rows) == [bureau.station, bureau.other_station]
    # Outside the period: nothing done.
    old = spotchecks.spot_check_table(opinion_officer, today - timedelta(days=30),
                                      today - timedelta(days=10))
    assert all(r.done == 0 for r in old)


# --- the page --------------------------------------------------------------------------------


def test_page(client, bureau, opinion_officer, handler, outsider, checked):
    url = reverse("callbacks:spotchecks")
    client.force_login(opinion_officer)
    html = client.get(url).content.decode()
    assert "50.0%（2/4）" in html and "33.3%（1/3）" in html
    assert 'data-testid="spot-draw"' in html and "2 条不实" in html
    assert html.count('data-testid="spot-pair"') == 3
    assert "口径 2026.1" in html
    client.force_login(handler)
    html = client.get(url).content.decode()
    assert "50.0%（2/4）" in html and "33.3%" not in html and 'data-testid="spot-draw"' not in html
    client.force_login(outsider)
    html = client.get(url).content.decode()
    assert "50.0%" not in html and "33.3%（1/3）" in html


def test_draw_button(client, bureau, opinion_officer, handler, yesterday_callbacks):
    client.force_login(handler)
    assert client.post(reverse("callbacks:spot_check_draw")).status_code == 403
    client.force_login(opinion_officer)
    response = client.post(reverse("callbacks:spot_check_draw"), follow=True)
    assert response.status_code == 200 and "抽取 2 条抽测回访" in response.content.decode()
    assert CallbackTask.objects.filter(kind=CallbackTask.Kind.SPOT_CHECK).count() == 2
    response = client.post(reverse("callbacks:spot_check_draw"))
    assert response.status_code == 409 and "已经抽取过" in response.content.decode()
    assert client.get(reverse("callbacks:spot_check_draw")).status_code == 405
