"""The kept monthly figures: the same counts as the weekly bulletin for the same days, exact
counts for a month, month boundaries in Beijing time, idempotent recounts, the scheduled job,
the counts the indicators need beyond the bulletin, and one query per source table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.assessment import bulletins, facts
from minyi.assessment.models import MonthlyFigures
from minyi.assessment.rules import COUNTS
from minyi.assessment.tests.fixtures import CUTOFF, WEEK, at
from minyi.callbacks.models import CallbackTask, Rectification
from minyi.orders.models import Order
from minyi.orgs.tests.factories import UnitFactory
from minyi.public.tests.callback_fixtures import make_task

pytestmark = pytest.mark.django_db
MAY = date(2024, 5, 1)


def test_count_keys_hold_the_bulletins_counts_and_the_indicators():
    assert facts.COUNT_KEYS[:len(COUNTS)] == COUNTS
    assert {"returned", "redone", "rect_due", "rect_on_time", "cb_tasks_closed",
            "cb_tasks_answered"} <= set(facts.COUNT_KEYS)
    assert len(set(facts.COUNT_KEYS)) == len(facts.COUNT_KEYS)


def test_a_period_counts_what_the_bulletin_counts_for_the_same_days(week_orders, bureau):
    snapshot = bulletins.compute(bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    counted = facts.count_period(bureau=bureau.bureau, date_from=WEEK.monday,
                                 date_to=WEEK.sunday, now=CUTOFF)
    for row in snapshot["units"]:
        assert {k: counted[row["unit"]["id"]][k] for k in COUNTS} == \
            {k: row[k] for k in COUNTS}, row["unit"]["name"]
    assert {k: counted[bureau.bureau.pk][k] for k in COUNTS} == \
        {k: snapshot["total"][k] for k in COUNTS}
    # The same units: those the bulletin names, and the bureau's own row.
    assert set(counted) == {u["unit"]["id"] for u in snapshot["units"]} | {bureau.bureau.pk}
    assert snapshot["total"]["received"] == 8  # a real week, not two empty ones


def test_a_month_is_counted_exactly(week_orders, bureau):
    # Every order of the fixture was received in May 2024, the two just outside the week too.
    assert facts.recount(bureau=bureau.bureau, month=date(2024, 5, 17), now=CUTOFF) == 4
    rows = {r.unit_id: r for r in MonthlyFigures.objects.filter(month=MAY)}
    # The squad is named with zeros, as in the bulletin; the command centre is not.
    assert set(rows) == {bureau.station.pk, bureau.other_station.pk, bureau.squad.pk,
                         bureau.bureau.pk}
    assert set(rows[bureau.squad.pk].counts.values()) == {0}
    station = rows[bureau.station.pk].counts
    # o1–o6 and o8, o9 (o5 by the station's team), of them o6 invalid.
    assert (station["received"], station["invalid"], station["closed"],
            station["closed_on_time"], station["closed_late"]) == (8, 1, 6, 5, 1)
    assert (station["contact_due"], station["contact_on_time"], station["contact_late"],
            station["contact_none"]) == (7, 5, 1, 1)
    assert (station["cb_satisfied"], station["cb_basic"], station["cb_dissatisfied"],
            station["cb_not_reached"]) == (3, 1, 1, 1)
    assert station["repeats"] == 2
    # Both notices were issued in May (9 and 14 May); at the cut-off neither was overdue
    # unanswered (the second not yet issued).
    assert (station["notices"], station["letters"], station["notices_unanswered"]) == (2, 0, 1)
    other = rows[bureau.other_station.pk].counts
    assert (other["received"], other["closed_on_time"], other["letters"]) == (1, 1, 1)
    total = rows[bureau.bureau.pk].counts
    assert (total["received"], total["closed"], total["notices"], total["letters"]) == (
        10, 7, 2, 1)
    assert rows[bureau.bureau.pk].computed_at == CUTOFF
    assert set(station) == set(facts.COUNT_KEYS)


def test_month_boundaries_are_beijing_midnights(make_order, bureau):
    for received in ("2024-04-30 23:59:59", "2024-05-01 00:00", "2024-05-31 23:59:59",
                     "2024-06-01 00:00"):
        order = make_order("dispatched")
        Order.objects.filter(pk=order.pk).update(received_at=at(received))
    for month in (date(2024, 4, 1), MAY, date(2024, 6, 1)):
        facts.recount(bureau=bureau.bureau, month=month, now=CUTOFF)
    got = facts.figures(bureau.bureau, [date(2024, 4, 1), MAY, date(2024, 6, 1)])
    assert [got[(bureau.bureau.pk, m)]["received"]
            for m in (date(2024, 4, 1), MAY, date(2024, 6, 1))] == [1, 2, 1]
    assert got[(bureau.station.pk, MAY)]["received"] == 2


def test_a_recount_is_idempotent_and_follows_the_records(week_orders, bureau):
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF)
    first = {r.unit_id: (r.pk, r.counts) for r in MonthlyFigures.objects.all()}
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF + timedelta(minutes=5))
    again = {r.unit_id: (r.pk, r.counts) for r in MonthlyFigures.objects.all()}
    assert again == first  # same rows, updated in place, same counts
    assert MonthlyFigures.objects.count() == 4
    assert set(MonthlyFigures.objects.values_list("computed_at", flat=True)) == {
        CUTOFF + timedelta(minutes=5)}
    # The other station's only order moves to June: May forgets it, its row stays at zero.
    Order.objects.filter(pk=week_orders["o7"].pk).update(received_at=at("2024-06-02 10:00"))
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF)
    other = MonthlyFigures.objects.get(unit=bureau.other_station, month=MAY).counts
    assert (other["received"], other["letters"]) == (0, 1)
    assert MonthlyFigures.objects.get(unit=bureau.bureau, month=MAY).counts["received"] == 9


def test_a_unit_no_longer_named_loses_its_row(make_order, bureau):
    squad_team = UnitFactory(kind="command_centre", name="临时专班", parent=bureau.bureau)
    order = make_order("dispatched")
    Order.objects.filter(pk=order.pk).update(received_at=at("2024-05-02 10:00"),
                                             lead_unit=squad_team)
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF)
    assert MonthlyFigures.objects.get(unit=squad_team, month=MAY).counts["received"] == 1
    Order.objects.filter(pk=order.pk).update(lead_unit=bureau.station)
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF)
    assert not MonthlyFigures.objects.filter(unit=squad_team).exists()
    assert MonthlyFigures.objects.get(unit=bureau.station, month=MAY).counts["received"] == 1


def test_the_job_recounts_this_month_and_the_last_of_every_bureau(make_order, bureau):
    other = UnitFactory(kind="bureau", name="外县公安局")
    UnitFactory(kind="station", name="外县派出所", parent=other)
    order = make_order("dispatched")
    Order.objects.filter(pk=order.pk).update(received_at=at("2024-05-31 12:00"))
    facts.recount_recent(now=at("2024-06-03 01:00"))
    months = set(MonthlyFigures.objects.values_list("bureau_id", "month"))
    assert months == {(bureau.bureau.pk, MAY), (bureau.bureau.pk, date(2024, 6, 1)),
                      (other.pk, MAY), (other.pk, date(2024, 6, 1))}
    assert MonthlyFigures.objects.get(unit=bureau.station, month=MAY).counts["received"] == 1
    # January: the previous month is last year's December.
    facts.recount_recent(now=at("2025-01-02 01:00"))
    assert MonthlyFigures.objects.filter(month=date(2024, 12, 1)).exists()


def test_what_the_indicators_count_beyond_the_bulletin(make_order, bureau):
    returned = make_order("dispatched")
    redone = make_order("closed")
    Order.objects.filter(pk=returned.pk).update(received_at=at("2024-05-03 10:00"),
                                                return_count=1)
    Order.objects.filter(pk=redone.pk).update(received_at=at("2024-05-04 10:00"), redo_count=2)
    # Rectifications by due date: two due in May (one reported in time, one late), one in June.
    for due, reported in (("2024-05-10 17:30", "2024-05-09 10:00"),
                          ("2024-05-20 17:30", "2024-05-21 10:00"),
                          ("2024-06-01 00:00", None)):
        task = make_task(bureau)
        Rectification.objects.create(bureau=bureau.bureau, unit=bureau.station, task=task,
                                     due_at=at(due),
                                     reported_at=at(reported) if reported else None)
    # Regular callbacks finished in May: two answered (one by the team), one not; a spot
    # check and a pending one do not count.
    State = CallbackTask.State
    for unit, state, kind in ((bureau.station, State.COMPLETED, "callback"),
                              (bureau.team, State.COMPLETED, "callback"),
                              (bureau.station, State.CLOSED, "callback"),
                              (bureau.station, State.COMPLETED, "spot_check"),
                              (bureau.station, State.PENDING, "callback")):
        task = make_task(bureau, unit=unit, state=state, kind=kind,
                         parent=CallbackTask.objects.first() if kind != "callback" else None)
        CallbackTask.objects.filter(pk=task.pk).update(closed_at=at("2024-05-15 10:00"))
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF)
    station = MonthlyFigures.objects.get(unit=bureau.station, month=MAY).counts
    assert (station["returned"], station["redone"]) == (1, 1)
    assert (station["rect_due"], station["rect_on_time"]) == (2, 1)
    assert (station["cb_tasks_closed"], station["cb_tasks_answered"]) == (3, 2)
    total = MonthlyFigures.objects.get(unit=bureau.bureau, month=MAY).counts
    assert (total["rect_due"], total["cb_tasks_closed"]) == (2, 3)


def test_figures_reads_the_kept_rows_and_fills_new_keys_with_zero(week_orders, bureau):
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF)
    MonthlyFigures.objects.filter(unit=bureau.station).update(counts={"received": 8})
    got = facts.figures(bureau.bureau, [MAY, date(2024, 6, 1)])
    assert set(got) == {(bureau.station.pk, MAY), (bureau.other_station.pk, MAY),
                        (bureau.squad.pk, MAY), (bureau.bureau.pk, MAY)}
    assert got[(bureau.station.pk, MAY)]["received"] == 8
    assert got[(bureau.station.pk, MAY)]["closed"] == 0


def test_one_query_per_source_table(week_orders, bureau):
    with CaptureQueriesContext(connection) as queries:
        facts.count_period(bureau=bureau.bureau, date_from=MAY, date_to=date(2024, 5, 31),
                           now=CUTOFF)
    tables = ["orders_order", "orders_supervisionnotice", "orders_reminderletter",
              "callbacks_rectification", "callbacks_callbacktask"]
    for table in tables:
        hits = [q["sql"] for q in queries.captured_queries
                if f'FROM "{table}"' in q["sql"]]
        assert len(hits) == 1, (table, hits)
    # Plus the units' paths and the bulletin's units: no query per order or per unit.
    assert len(queries.captured_queries) == len(tables) + 2
