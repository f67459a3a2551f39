"""The bulletin's figures on a small week, their links, and the generate actions."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from minyi.assessment import bulletins, tasks
from minyi.assessment.models import BulletinSettings, WeeklyBulletin
from minyi.assessment.rules import IsoWeek
from minyi.assessment.selectors import figure_link
from minyi.assessment.tests.fixtures import CUTOFF, WEEK, at
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orders.models import Order
from minyi.orders.selectors import OrderFilter, filter_orders

pytestmark = pytest.mark.django_db

STATION = {"received": 6, "invalid": 1, "closed": 4, "closed_on_time": 3, "closed_late": 1,
           "contact_due": 5, "contact_on_time": 3, "contact_late": 1, "contact_none": 1,
           "cb_satisfied": 1, "cb_basic": 1, "cb_dissatisfied": 1, "cb_not_reached": 1,
           "repeats": 2, "notices": 1, "letters": 0, "notices_unanswered": 1}
OTHER = {"received": 1, "invalid": 0, "closed": 1, "closed_on_time": 1, "closed_late": 0,
         "contact_due": 1, "contact_on_time": 1, "contact_late": 0, "contact_none": 0,
         "cb_satisfied": 1, "cb_basic": 0, "cb_dissatisfied": 0, "cb_not_reached": 0,
         "repeats": 0, "notices": 0, "letters": 1, "notices_unanswered": 0}
TOTAL = {"received": 8, "invalid": 1, "closed": 5, "closed_on_time": 4, "closed_late": 1,
         "contact_due": 6, "contact_on_time": 4, "contact_late": 1, "contact_none": 1,
         "cb_satisfied": 2, "cb_basic": 1, "cb_dissatisfied": 1, "cb_not_reached": 1,
         "repeats": 2, "notices": 1, "letters": 1, "notices_unanswered": 1}


def counts(row: dict) -> dict:
    return {key: row[key] for key in STATION}


def by_name(snapshot: dict) -> dict:
    return {row["unit"]["name"]: row for row in snapshot["units"]}


def test_exact_figures_of_the_week(week_orders, bureau):
    snapshot = bulletins.compute(bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    units = by_name(snapshot)
    # Stations first, then the squad; the command centre led nothing and is not named; the
    # station's team is counted in its station.
    assert list(units) == ["东城派出所", "西城派出所", "督察大队"]
    station, other, squad = units["东城派出所"], units["西城派出所"], units["督察大队"]
    assert counts(station) == STATION
    assert station["rates"] == {"completion": 80.0, "on_time": 75.0, "contact": 60.0,
                                "satisfaction": 66.7}
    assert station["judged"] is True and station["list"] == "black"
    assert station["reasons"] == ["满意率66.7%，低于85%", "按时办结率75.0%，低于90%",
                                  "及时联系率60.0%，低于95%", "逾期未答复督办单1件"]
    assert counts(other) == OTHER
    assert other["rates"] == {"completion": 100.0, "on_time": 100.0, "contact": 100.0,
                              "satisfaction": 100.0}
    # One order: too few to be judged on its rates.
    assert (other["judged"], other["list"]) == (False, "")
    assert squad["received"] == 0
    assert squad["rates"] == dict.fromkeys(("completion", "on_time", "contact",
                                            "satisfaction"))
    assert counts(snapshot["total"]) == TOTAL
    assert snapshot["total"]["rates"] == {"completion": 71.4, "on_time": 80.0, "contact": 66.7,
                                          "satisfaction": 75.0}
    assert snapshot["week"] == {"label": "2024-W19", "year": 2024, "week": 19,
                                "from": "2024-05-06", "to": "2024-05-12"}
    assert snapshot["version"] == bulletins.VERSION
    defined = {d["key"]: d["text"] for d in snapshot["definitions"]}
    assert "满意 + 基本满意 × 1" in defined["satisfaction"]
    # In the order they are read, whatever the database does to a JSON object's keys.
    assert [d["key"] for d in snapshot["definitions"]][:3] == ["selection", "unit", "cutoff"]


def test_floors_and_weight_from_the_bureau_settings(week_orders, bureau):
    BulletinSettings.objects.create(bureau=bureau.bureau, min_orders=1,
                                    basic_weight=Decimal("0.5"), satisfaction_floor=60)
    snapshot = bulletins.compute(bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    units = by_name(snapshot)
    assert units["西城派出所"]["list"] == "red"
    # (1 + 1 × 0.5) ÷ 3 = 50.0%, now below a floor of 60%.
    assert units["东城派出所"]["rates"]["satisfaction"] == 50.0
    assert units["东城派出所"]["reasons"][0] == "满意率50.0%，低于60%"
    assert snapshot["floors"] == {"satisfaction": "60.0", "on_time": "90.0", "contact": "95.0",
                                  "min_orders": 1, "basic_weight": "0.50"}
    defined = {d["key"]: d["text"] for d in snapshot["definitions"]}
    assert "基本满意 × 0.5" in defined["satisfaction"]


@pytest.mark.parametrize(("unit", "key"), [
    ("东城派出所", "received"), ("东城派出所", "invalid"), ("东城派出所", "closed"),
    ("东城派出所", "closed_on_time"), ("东城派出所", "closed_late"),
    ("东城派出所", "contact_on_time"), ("东城派出所", "contact_late"),
    ("东城派出所", "contact_none"), ("东城派出所", "cb_satisfied"), ("东城派出所", "cb_basic"),
    ("东城派出所", "cb_dissatisfied"), ("东城派出所", "cb_not_reached"),
    ("东城派出所", "repeats"), ("西城派出所", "received"), ("西城派出所", "closed_on_time"),
    (None, "received"), (None, "closed"), (None, "repeats"), (None, "contact_on_time"),
])
def test_each_figure_links_to_exactly_the_orders_it_counts(week_orders, bureau, leader, unit,
                                                           key):
    snapshot = bulletins.compute(bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    row = by_name(snapshot)[unit] if unit else snapshot["total"]
    url = figure_link(snapshot, row["unit"]["id"] if unit else None, key)
    parsed = urlparse(url)
    assert parsed.path == "/orders/"
    params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    assert params["received_from"] == "2024-05-06" and params["received_to"] == "2024-05-12"
    listed = filter_orders(Order.objects.all(), OrderFilter.from_params(params), leader)
    assert listed.count() == row[key]
    assert row[key] > 0


@pytest.mark.parametrize(("unit", "key"), [
    ("东城派出所", "notices"), ("西城派出所", "letters"), (None, "notices"), (None, "letters"),
])
def test_notices_and_letters_link_to_exactly_the_documents_counted(week_orders, bureau, leader,
                                                                   unit, key):
    from minyi.orders.selectors import (
        DocumentFilter,
        document_list,
        visible_letters,
        visible_notices,
    )

    snapshot = bulletins.compute(bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    row = by_name(snapshot)[unit] if unit else snapshot["total"]
    url = figure_link(snapshot, row["unit"]["id"] if unit else None, key)
    parsed = urlparse(url)
    assert parsed.path == ("/orders/notices/" if key == "notices" else "/orders/letters/")
    params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    kind, visible = (("notice", visible_notices) if key == "notices"
                     else ("letter", visible_letters))
    listed = document_list(leader, visible(leader), DocumentFilter.from_params(params, kind=kind))
    assert listed.count() == row[key] == 1


def test_a_week_without_orders_is_an_empty_bulletin(bureau):
    bulletin, created = bulletins.generate(actor=None, bureau=bureau.bureau,
                                           week=IsoWeek(2020, 2), now=CUTOFF)
    assert created
    total = bulletin.snapshot["total"]
    assert total["received"] == 0 and total["notices"] == 0
    assert set(total["rates"].values()) == {None}
    assert all(u["list"] == "" and not u["judged"] for u in bulletin.snapshot["units"])
    for fmt in ("docx", "xlsx", "json"):
        assert bulletins.export(bulletin, fmt)


def test_generate_numbers_freezes_and_records_the_event(week_orders, bureau, opinion_officer):
    bulletin, created = bulletins.generate(actor=opinion_officer, bureau=bureau.bureau,
                                           week=WEEK, now=CUTOFF)
    assert created
    assert bulletin.display_number == "通报〔2024〕1号"
    assert bulletin.title == "关于2024年第19周群众诉求办理情况的通报"
    assert (bulletin.week_start.isoformat(), bulletin.week_end.isoformat()) == (
        "2024-05-06", "2024-05-12")
    assert bulletin.generated_by == opinion_officer
    assert bulletin.definitions_version == bulletins.VERSION
    event = Event.objects.get(action="bulletin.generate")
    assert event.object_id == str(bulletin.pk)
    assert event.payload == {"number": "通报〔2024〕1号", "week": "2024-W19", "received": 8,
                             "closed": 5, "version": bulletins.VERSION, "automatic": False}
    assert event.actor == opinion_officer

    # Orders change afterwards: the bulletin does not.
    Order.objects.filter(pk=week_orders["o4"].pk).update(state="closed", handled_at=CUTOFF)
    again, created = bulletins.generate(actor=opinion_officer, bureau=bureau.bureau, week=WEEK)
    assert not created and again.pk == bulletin.pk
    again.refresh_from_db()
    assert again.snapshot["total"]["closed"] == 5
    assert Event.objects.filter(action="bulletin.generate").count() == 1

    # Regenerating is an explicit action with its own event; the number stays.
    later = at("2024-05-20 09:00")
    regenerated = bulletins.regenerate(actor=opinion_officer, bulletin=bulletin, now=later)
    assert regenerated.snapshot["total"]["closed"] == 6
    assert regenerated.display_number == "通报〔2024〕1号"
    assert regenerated.generated_at == later
    event = Event.objects.get(action="bulletin.regenerate")
    assert (event.before["closed"], event.after["closed"]) == (5, 6)
    assert event.payload == {"number": "通报〔2024〕1号", "week": "2024-W19"}

    # The next week's bulletin takes the next number.
    following, _ = bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK.next(),
                                      now=at("2024-05-20 08:00"))
    assert following.display_number == "通报〔2024〕2号"


def test_only_the_bureau_roles_generate(bureau, handler, outsider):
    with pytest.raises(NotAllowed):
        bulletins.generate(actor=handler, bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    assert not WeeklyBulletin.objects.exists()


def test_a_week_not_yet_begun_is_refused(bureau):
    with pytest.raises(InvalidInput, match="尚未开始"):
        bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK.next(),
                           now=at("2024-05-12 23:00"))


def test_the_monday_job_makes_one_bulletin_per_bureau_and_week(week_orders, bureau, settings):
    from minyi.orgs.tests.factories import UnitFactory

    second = UnitFactory(kind="bureau", name="外县公安局")
    monday = at("2024-05-13 08:00")
    made = bulletins.generate_last_week(now=monday)
    assert sorted((b.bureau.name, b.week_label, created) for b, created in made) == [
        ("外县公安局", "2024-W19", True), ("测试县公安局", "2024-W19", True)]
    again = bulletins.generate_last_week(now=at("2024-05-13 08:01"))
    assert [created for _, created in again] == [False, False]
    assert WeeklyBulletin.objects.count() == 2
    assert Event.objects.filter(action="bulletin.generate").count() == 2
    automatic = WeeklyBulletin.objects.get(bureau=bureau.bureau)
    assert automatic.generated_by is None
    assert automatic.snapshot["total"]["received"] == 8
    assert WeeklyBulletin.objects.get(bureau=second).snapshot["total"]["received"] == 0
    assert Event.objects.filter(action="bulletin.generate").first().payload["automatic"]


def test_the_task_runs_the_monday_job(bureau):
    tasks.weekly_bulletin()
    tasks.weekly_bulletin()
    bulletin = WeeklyBulletin.objects.get()
    this_week = IsoWeek(*timezone.localdate().isocalendar()[:2])
    assert bulletin.week_label == this_week.previous().label
