"""The callback figures: counted by the database, scoped to the user, and reconciled with the
Answer and Attempt rows by independent queries."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from minyi.callbacks import aapor, actions, rectification, rules
from minyi.callbacks.figures import QueryError, figures, parse_query
from minyi.callbacks.models import (
    Answer,
    Attempt,
    CallbackTask,
    Caller,
    Contact,
    Rectification,
    Source,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=SH)
NOV = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SH)


class Book:
    """Tasks worked through the desk's actions (`record_attempt`, `record_answer`, and the
    rectification actions for the items a dissatisfied answer opens). The task rows themselves
    are written directly, as the draw would make them; so are the few states no action makes
    (cancelled, closed without a call, answered without an answer), which the figures must
    still classify."""

    def __init__(self, bureau) -> None:
        self.bureau = bureau
        self.n = 0

    def task(self, unit, *, due: datetime, calls: list[str] = (), answer: str | None = None,
             via: str = "phone", source: str = Source.CALL_110, caller: str = Caller.UNIT,
             kind: str = CallbackTask.Kind.CALLBACK, parent: CallbackTask | None = None,
             contact: Contact | None = None, state: str | None = None) -> CallbackTask:
        self.n += 1
        if contact is None:
            contact = Contact(bureau=self.bureau.bureau, unit=unit, source=source,
                              external_id=f"ext-{self.n}", occurred_at=due - timedelta(days=1))
            contact.set_person(name="刘女士", phone=f"138{self.n:08d}")
            contact.save()
        task = CallbackTask.objects.create(
            bureau=self.bureau.bureau, unit=unit, caller=caller, contact=contact, kind=kind,
            parent=parent, due_at=due)
        when = due
        for code in calls:
            when += timedelta(hours=1)
            retry_at = when + timedelta(hours=1) if code == "appointment" else None
            actions.record_attempt(actor=None, task=task, disposition=code, now=when,
                                   retry_at=retry_at)
        if answer:
            actions.record_answer(actor=None, task=task, satisfaction=answer, via=via,
                                  reasons=["result"] if answer == "dissatisfied" else [],
                                  now=when + timedelta(hours=1))
        if state is not None:  # the states no action makes
            CallbackTask.objects.filter(pk=task.pk).update(state=state)
        task.refresh_from_db()
        return task

    def answered_without_answer(self, unit, *, due: datetime) -> CallbackTask:
        task = self.task(unit, due=due, state=CallbackTask.State.CLOSED)
        Attempt.objects.create(task=task, number=1, disposition="answered", outcome="I",
                               at=due + timedelta(hours=1))
        CallbackTask.objects.filter(pk=task.pk).update(attempts=1, outcome="I")
        return task


@pytest.fixture
def book(bureau, outsider):
    b = Book(bureau)
    st, other = bureau.station, bureau.other_station
    S, B, D = "satisfied", "basically_satisfied", "dissatisfied"
    b.first = b.task(st, due=at(3), answer=S)
    b.task(st, due=at(3), calls=["no_answer"], answer=B)
    b.task(st, due=at(4), answer=D)  # opens an item, five working days: overdue on the 25th
    b.task(st, due=at(5), answer=S, via="link")  # rated through the link, never called
    b.task(st, due=at(6), calls=["no_answer", "no_answer", "no_answer"])  # UH
    b.task(st, due=at(6), calls=["refused"])  # R
    b.task(st, due=at(7), calls=["invalid_number"])  # NE
    b.task(st, due=at(7), calls=["no_answer", "appointment", "no_answer"])  # UH
    b.task(st, due=at(7), calls=["appointment", "no_answer", "appointment", "appointment",
                                 "appointment"])  # NC: appointments kept, then given up
    b.task(st, due=at(8), calls=["language"])  # O
    b.task(st, due=at(8), calls=["hung_up"])  # R
    b.task(st, due=at(9))  # open, never called
    b.task(st, due=at(9), calls=["busy"])  # open, called, waiting for the retry
    b.task(st, due=at(10), state=CallbackTask.State.CANCELLED)
    b.task(st, due=at(10), state=CallbackTask.State.CLOSED)  # closed without a call: UH
    b.answered_without_answer(st, due=at(11))  # R (break-off)
    b.task(st, due=at(30, 20), answer=S, source=Source.WINDOW)  # the period's last evening
    b.task(st, due=at(12), answer=S, caller=Caller.OPINION_OFFICE)
    # The other station: its dissatisfied answer's item reported, so not the unit's move.
    b.task(other, due=at(6), answer=D)
    rectification.report_rectification(
        actor=outsider, item=Rectification.objects.get(unit=other),
        report="已上门向群众说明情况并当面致歉，群众表示理解")
    b.task(other, due=at(6), calls=["switched_off", "switched_off", "switched_off"])  # UH
    b.task(other, due=at(7), answer=B, source=Source.WINDOW)
    # Outside the period, and another kind: not counted by default.
    b.task(st, due=datetime(2026, 10, 31, 23, 30, tzinfo=SH), answer=D)
    b.task(st, due=datetime(2026, 12, 1, 0, 30, tzinfo=SH), answer=S)
    b.task(st, due=at(15), answer=D, kind=CallbackTask.Kind.SPOT_CHECK,
           caller=Caller.OPINION_OFFICE, parent=b.first, contact=b.first.contact)
    return b


def _rows(result):
    return {r.key: r for r in result.rows}


def test_hand_counted_station_row(book, bureau, leader):
    result = figures(user=leader, now=NOW, **NOV)
    row = _rows(result)[str(bureau.station.pk)]
    assert row.label == "东城派出所"
    assert row.counts == {
        "drawn": 18, "open": 2, "cancelled": 1, "final": 15,
        # 14 called: all but the link's rating, the pending one, the cancelled one and the one
        # closed without a call.
        "attempted": 14,
        # 6 answers: 4 satisfied (incl. the link's, the office's call, the 30th's), 1 each.
        "reached": 6, "satisfied": 4, "basically_satisfied": 1, "dissatisfied": 1,
        "rectification_open": 1, "rectification_overdue": 1,
    }
    assert row.outcomes == aapor.Outcomes(I=6, P=0, R=3, NC=1, O=1, UH=3, UO=0, NE=1)
    # e = E/(E+NE) = (6+0+3+1+1)/((6+0+3+1+1)+1) = 11/12
    assert row.e == pytest.approx(11 / 12) and float(row.e) == 11 / 12
    assert row.rates["RR1"] == 6 / (6 + 3 + 1 + 1 + 3) == 6 / 14
    # RR3 = I/((I+P)+(R+NC+O)+e(UH+UO)) = 6/(11 + (11/12)·3)
    assert row.rates["RR3"] == float(Fraction(6) / (11 + Fraction(11, 12) * 3))
    assert row.rates["COOP1"] == 6 / (6 + 3 + 1)
    assert row.rates["CON3"] == (6 + 3 + 1) / (6 + 3 + 1 + 1)
    # Satisfaction under 1.0: (4 + 1)/6; under 0.5: (4 + 0.5)/6.
    assert row.satisfaction_rate == (4 + 1) / 6
    half = figures(user=leader, now=NOW, definition="callbacks.satisfaction/0.5", **NOV)
    assert _rows(half)[str(bureau.station.pk)].satisfaction_rate == (4 + 0.5 * 1) / 6


def test_other_station_row_and_the_total(book, bureau, leader):
    result = figures(user=leader, now=NOW, **NOV)
    rows = _rows(result)
    other = rows[str(bureau.other_station.pk)]
    assert other.counts["drawn"] == 3 and other.counts["reached"] == 2
    assert other.outcomes == aapor.Outcomes(I=2, UH=1)
    assert other.counts["rectification_open"] == 1
    assert other.counts["rectification_overdue"] == 0  # reported: the office's move
    assert list(rows) == [str(bureau.station.pk), str(bureau.other_station.pk)]
    for name in ("drawn", "reached", "satisfied", "rectification_open"):
        assert result.total.counts[name] == sum(r.counts[name] for r in result.rows), name
    assert result.total.outcomes.I == 8 and result.total.is_total


def test_figures_reconcile_with_the_answers_and_attempts(book, bureau, leader):
    """Every count equals what an independent query of the rows gives."""
    result = figures(user=leader, now=NOW, **NOV)
    start, end = at(1, 0), datetime(2026, 12, 1, 0, 0, tzinfo=SH)
    tasks = list(CallbackTask.objects.filter(kind="callback", due_at__gte=start,
                                             due_at__lt=end).values("pk", "unit_id", "state"))
    by_unit = defaultdict(list)
    for t in tasks:
        by_unit[t["unit_id"]].append(t)
    answers = {a.task_id: a for a in Answer.objects.all()}
    last_outcome = {}
    for a in Attempt.objects.order_by("task_id", "number"):
        last_outcome[a.task_id] = a.outcome
    rows = _rows(result)
    assert set(rows) == {str(u) for u in by_unit}
    for unit_id, unit_tasks in by_unit.items():
        row = rows[str(unit_id)]
        ids = {t["pk"] for t in unit_tasks}
        final = {t["pk"] for t in unit_tasks if t["state"] in ("completed", "closed")}
        assert row.counts["drawn"] == len(ids)
        assert row.counts["reached"] == Answer.objects.filter(task_id__in=ids).count()
        assert row.counts["attempted"] == len(
            set(Attempt.objects.filter(task_id__in=ids).values_list("task_id", flat=True)))
        satisfaction = Counter(Answer.objects.filter(task_id__in=ids)
                               .values_list("satisfaction", flat=True))
        for value in ("satisfied", "basically_satisfied", "dissatisfied"):
            assert row.counts[value] == satisfaction[value]
        assert (row.counts["satisfied"] + row.counts["basically_satisfied"]
                + row.counts["dissatisfied"]) == row.counts["reached"]
        expected = Counter()
        for pk in final:
            if pk in answers:
                expected["I"] += 1
            else:
                cls = last_outcome.get(pk, "")
                expected["R" if cls == "I" else (cls or "UH")] += 1
        assert row.outcomes.as_dict() == {c: expected[c] for c in aapor.CLASSES}
        assert row.outcomes.total == len(final)
        assert row.counts["drawn"] == (row.counts["open"] + row.counts["cancelled"]
                                       + row.counts["final"])
        open_items = Rectification.objects.filter(task_id__in=ids).exclude(
            state__in=["confirmed", "unconfirmed"])
        assert row.counts["rectification_open"] == open_items.count()
        assert row.counts["rectification_overdue"] == open_items.filter(
            state__in=["open", "returned"], due_at__lt=NOW).count()


def test_one_query_per_grouping_whatever_the_number_of_tasks(book, leader):
    figures(user=leader, now=NOW, **NOV)  # warm the user's memberships
    for by in ("unit", "source", "caller", "month", "day"):
        with CaptureQueriesContext(connection) as queries:
            figures(user=leader, now=NOW, by=by, **NOV)
        # rows, total (and, by unit, the units' names)
        assert len(queries) <= (3 if by == "unit" else 2) + 1, (by, len(queries))


def test_other_groupings_add_up_to_the_same_total(book, leader):
    base = figures(user=leader, now=NOW, **NOV).total
    by_source = figures(user=leader, now=NOW, by="source", **NOV)
    assert {r.key: r.counts["drawn"] for r in by_source.rows} == {"call_110": 19,
                                                                  "window": 2}
    assert by_source.rows[0].label == "110 报警求助"
    by_caller = figures(user=leader, now=NOW, by="caller", **NOV)
    assert {r.key: r.counts["reached"] for r in by_caller.rows} == {"opinion_office": 1,
                                                                   "unit": 7}
    by_month = figures(user=leader, now=NOW, by="month", **NOV)
    assert [(r.key, r.label) for r in by_month.rows] == [("2026-11", "2026年11月")]
    by_day = figures(user=leader, now=NOW, by="day", **NOV)
    assert by_day.rows[0].key == "2026-11-03" and by_day.rows[-1].key == "2026-11-30"
    assert by_day.rows[-1].label == "11月30日"
    for result in (by_source, by_caller, by_month, by_day):
        assert result.total.counts == base.counts
        assert sum(r.counts["drawn"] for r in result.rows) == base.counts["drawn"] == 21


def test_the_period_is_the_due_date_in_beijing_time(book, leader):
    october = figures(user=leader, now=NOW, date_from=date(2026, 10, 31),
                      date_to=date(2026, 10, 31))
    assert october.total.counts["drawn"] == 1
    assert october.total.counts["dissatisfied"] == 1
    december = figures(user=leader, now=NOW, date_from=date(2026, 12, 1),
                       date_to=date(2026, 12, 1))
    assert december.total.counts["drawn"] == 1


def test_spot_checks_are_counted_apart(book, leader):
    result = figures(user=leader, now=NOW, kind="spot_check", **NOV)
    assert result.total.counts["drawn"] == 1 and result.total.counts["dissatisfied"] == 1


def test_a_unit_sees_its_own_figures_only(book, bureau, handler, outsider, opinion_officer):
    mine = figures(user=handler, now=NOW, **NOV)
    assert [r.key for r in mine.rows] == [str(bureau.station.pk)]
    assert mine.total.counts["drawn"] == 18
    theirs = figures(user=outsider, now=NOW, **NOV)
    assert [r.key for r in theirs.rows] == [str(bureau.other_station.pk)]
    assert theirs.total.counts["drawn"] == 3
    office = figures(user=opinion_officer, now=NOW, **NOV)
    assert office.total.counts["drawn"] == 21
    with pytest.raises(Http404):
        figures(user=outsider, now=NOW, unit=bureau.station.pk, **NOV)
    narrowed = figures(user=opinion_officer, now=NOW, unit=bureau.station.pk, **NOV)
    assert narrowed.total.counts["drawn"] == 18 and narrowed.unit == bureau.station


def test_a_given_e_is_used_and_named(book, bureau, leader):
    result = figures(user=leader, now=NOW, e=0.5, **NOV)
    row = _rows(result)[str(bureau.station.pk)]
    # RR3 = I/((I+P)+(R+NC+O)+e(UH+UO)) = 6/(6+5+0.5·3)
    assert row.rates["RR3"] == 6 / (6 + 5 + 1.5)
    assert result.definitions()["aapor"]["e"]["value"] == 0.5
    default = figures(user=leader, now=NOW, **NOV).definitions()["aapor"]["e"]
    assert default["method"] == "proportional allocation (CASRO)"


def test_the_output_names_its_definitions(book, leader):
    data = figures(user=leader, now=NOW, definition="callbacks.satisfaction/0.9",
                   **NOV).as_dict()
    assert data["definitions"]["satisfaction"] == {
        "id": "callbacks.satisfaction/0.9", "name": "callbacks.satisfaction", "version": "0.9",
        "basically_satisfied_weight": 0.9,
        "formula": rules.DEFINITION_LABELS["callbacks.satisfaction/0.9"]}
    assert data["definitions"]["aapor"]["formulas"]["RR1"] == "I/((I+P)+(R+NC+O)+(UH+UO))"
    assert data["period"] == {"date_from": "2026-11-01", "date_to": "2026-11-30",
                              "by_due_date": True}
    assert data["total"]["counts"]["drawn"] == 21


def test_nothing_to_count_gives_none_rates_not_errors(bureau, leader):
    result = figures(user=leader, now=NOW, **NOV)
    assert result.rows == []
    assert result.total.counts["drawn"] == 0
    assert result.total.satisfaction_rate is None
    assert set(result.total.rates.values()) == {None}


def test_parameters_are_checked_in_chinese():
    q = parse_query({}, today=date(2026, 11, 25))
    assert (q.date_from, q.date_to, q.by, q.kind) == (date(2026, 11, 1), date(2026, 11, 25),
                                                     "unit", "callback")
    assert q.definition == "callbacks.satisfaction/1.0"
    with pytest.raises(QueryError) as caught:
        parse_query({"date_from": "2026-13-01", "date_to": "x", "by": "week", "kind": "k",
                     "definition": "v2", "unit": "abc", "e": "2"})
    fields = [p.field for p in caught.value.problems]
    assert fields == ["date_from", "date_to", "by", "kind", "definition", "unit", "e"]
    assert "2026-11-01 这样的日期" in caught.value.problems[0].message
    with pytest.raises(QueryError) as caught:
        parse_query({"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert caught.value.problems[0].message == "截止日期不能早于起始日期"
    assert parse_query({"e": "0.8"}).e == pytest.approx(0.8)


# --- the page ---------------------------------------------------------------------------------

PAGE = "/callbacks/figures/"
NOV_PARAMS = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def _cells(html: str, key: str, figure: str) -> list[str]:
    import re

    row = re.search(rf'data-testid="figure-row" data-key="{key}".*?</tr>', html, re.S)
    assert row, key
    return re.findall(rf'data-figure="{figure}" title="([^"]*)">([^<]*)<', row.group(0))


def test_the_page_shows_the_table_the_switch_and_the_definitions(book, bureau, client, leader):
    client.force_login(leader)
    response = client.get(PAGE, NOV_PARAMS)
    assert response.status_code == 200
    html = response.content.decode()
    station = str(bureau.station.pk)
    assert _cells(html, station, "reached") == [("获得回答 6", "6")]
    # (4 + 1×1)/6 = 83.3%
    assert _cells(html, station, "satisfaction_rate") == [
        ("(4 + 1×1) / 6（口径 callbacks.satisfaction/1.0）", "83.3")]
    assert 'data-testid="figure-row" data-key="total"' in html
    assert 'data-definition="callbacks.satisfaction/0.5"' in html
    assert 'aria-current="true" data-definition="callbacks.satisfaction/1.0"' in html
    assert "RR1 = I/((I+P)+(R+NC+O)+(UH+UO)) = 6/14" in html
    assert 'data-testid="satisfaction-definition">callbacks.satisfaction/1.0<' in html
    assert "按比例分配法（CASRO 法）" in html
    assert 'href="/callbacks/figures/export.xlsx?' in html

    half = client.get(PAGE, {**NOV_PARAMS, "definition": "callbacks.satisfaction/0.5"})
    # (4 + 0.5×1)/6 = 75.0%
    assert _cells(half.content.decode(), station, "satisfaction_rate")[0][1] == "75.0"


def test_bad_parameters_are_answered_in_chinese(client, leader):
    client.force_login(leader)
    response = client.get(PAGE, {"date_from": "2026-11-31", "by": "week"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "起始日期应写作 2026-11-01 这样的日期" in html
    assert "分组只能是" in html


def test_an_outsider_sees_only_its_own_unit(book, bureau, client, outsider):
    client.force_login(outsider)
    html = client.get(PAGE, NOV_PARAMS).content.decode()
    assert f'data-key="{bureau.other_station.pk}"' in html
    assert f'data-key="{bureau.station.pk}"' not in html
    assert "东城派出所" not in html
    assert client.get(PAGE, {**NOV_PARAMS, "unit": bureau.station.pk}).status_code == 404
    assert client.get("/callbacks/figures/export.xlsx",
                      {**NOV_PARAMS, "unit": bureau.station.pk}).status_code == 404


def test_the_page_works_by_every_grouping(book, client, opinion_officer):
    client.force_login(opinion_officer)
    for by in ("unit", "source", "caller", "month", "day"):
        response = client.get(PAGE, {**NOV_PARAMS, "by": by})
        assert response.status_code == 200, by
        assert response.content.decode().count('data-testid="figure-row"') >= 2, by
