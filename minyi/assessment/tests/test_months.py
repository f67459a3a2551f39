"""The monthly assessment: schemes, hand-entered values, scoring a month, closing it into a
frozen snapshot, reopening with a reason."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.utils import timezone

from minyi.assessment import facts, months
from minyi.assessment.models import AssessmentMonth, Indicator, ManualValue, MonthlyFigures
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orders.models import Order

pytestmark = pytest.mark.django_db
OCT = date(2026, 10, 1)


def figures(bureau, unit, month=OCT, **counts):
    row = dict.fromkeys(facts.COUNT_KEYS, 0) | counts
    MonthlyFigures.objects.create(bureau=bureau.bureau, unit=unit, month=month, counts=row,
                                  computed_at=timezone.now())


@pytest.fixture
def scheme(bureau, opinion_officer):
    return months.create_default_scheme(actor=opinion_officer, bureau=bureau.bureau, year=2026)


@pytest.fixture
def october(bureau, scheme):
    # 东城: 20 reached, 19 satisfied (95%): full 30; on time 19/20; 2 notices.
    figures(bureau, bureau.station, received=22, invalid=2, closed=20, closed_on_time=19,
            contact_due=20, contact_on_time=20, cb_satisfied=19, cb_dissatisfied=1, notices=2,
            rect_due=2, rect_on_time=2)
    # 西城: 17 of 20 satisfied (85%): 30 × 5/15 = 10.
    figures(bureau, bureau.other_station, received=20, closed=16, closed_on_time=12,
            contact_due=20, contact_on_time=18, cb_satisfied=17, cb_dissatisfied=3,
            notices_unanswered=1)


def test_builtin_indicators_are_seeded_with_definitions():
    completion = Indicator.objects.get(bureau=None, code="completion", version=1)
    assert completion.formula == "completion" and completion.denominator
    assert Indicator.objects.filter(bureau=None).count() == 20
    assert Indicator.objects.get(code="veto_events").kind == Indicator.Kind.MANUAL


def test_default_scheme_has_100_points_and_an_event(scheme, opinion_officer, bureau):
    items = list(scheme.items.select_related("indicator"))
    assert sum(i.weight for i in items) == D(100)
    assert [i.indicator.code for i in items][:3] == ["satisfaction", "on_time", "contact"]
    assert Event.objects.filter(action="assessment.scheme_create", actor=opinion_officer).count() \
        == 1
    with pytest.raises(InvalidInput, match="2026年的考核方案已存在"):
        months.create_default_scheme(actor=opinion_officer, bureau=bureau.bureau, year=2026)


def test_a_station_may_not_keep_the_scheme(bureau, handler):
    with pytest.raises(NotAllowed):
        months.create_default_scheme(actor=handler, bureau=bureau.bureau, year=2026)


def test_scores_of_a_month(october, bureau, scheme):
    snap = months.compute(bureau=bureau.bureau, month=OCT, scheme=scheme)
    assert [r["unit"]["name"] for r in snap["units"]] == ["东城派出所", "西城派出所"]
    east, west = snap["units"]
    assert east["cells"]["satisfaction"]["value"] == "95.0"
    assert east["cells"]["satisfaction"]["score"] == "30.00"
    assert west["cells"]["satisfaction"]["score"] == "10.00"
    # 西城 on time 12/16 = 75.0%: 20 × (75 − 70)/(95 − 70) = 4
    assert west["cells"]["on_time"]["score"] == "4.00"
    # Completion by rank: 100% first (10 points), 80% second of two (0).
    assert (east["cells"]["completion"]["score"], west["cells"]["completion"]["score"]) == (
        "10.00", "0.00")
    # Rectifications: 东城 2 due (fewer than 10: 样本不足), 西城 none; with no unit judged,
    # each keeps the full weight.
    rect = [u["cells"]["rectification_on_time"] for u in (east, west)]
    assert [(c["insufficient"], c["no_data"], c["rank"], c["score"]) for c in rect] == [
        (True, False, None, "10.00"), (True, True, None, "10.00")]
    assert east["cells"]["notices"]["score"] == "6.00"
    assert west["cells"]["notices_unanswered"]["score"] == "0.00"
    assert (snap["items"][0]["code"], snap["items"][0]["version"]) == ("satisfaction", 1)
    # 东城: 30 + 19/20 → 95% on time = 20 + contact 100% = 15 + 10 + 10 + 6 + 5 = 96.
    assert (east["total"], east["rank"]) == ("96.00", 1)
    assert east["cells"]["satisfaction"]["interval"] == ["76.4", "99.1"]


def test_manual_value_veto_and_closed_month_refuses(october, bureau, scheme, opinion_officer):
    veto = Indicator.objects.get(code="veto_events")
    months.set_manual_value(actor=opinion_officer, indicator=veto, unit=bureau.station,
                            month=OCT, value=D(1), note="重大舆情")
    snap = months.compute(bureau=bureau.bureau, month=OCT, scheme=scheme)
    east = next(r for r in snap["units"] if r["unit"]["name"] == "东城派出所")
    assert east["vetoed"] and east["total"] == "0.00" and east["rank"] == 2
    assessment = months.month_for(bureau.bureau, OCT)
    months.close(actor=opinion_officer, assessment=assessment)
    with pytest.raises(InvalidInput, match="已关账，不能修改填报值"):
        months.set_manual_value(actor=opinion_officer, indicator=veto, unit=bureau.station,
                                month=OCT, value=D(0))
    assert ManualValue.objects.get(indicator=veto, unit=bureau.station).value == D(1)
    assert Event.objects.filter(action="assessment.manual_value").count() == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"code": "completion", "value": D(1)}, "由系统计算"),
    ({"code": "clearance_rate", "value": D(90), "numerator": 9}, "同时填写"),
    ({"code": "clearance_rate", "value": D(90), "numerator": 11, "denominator": 10}, "分子"),
])
def test_bad_manual_values_write_nothing(kwargs, message, bureau, scheme, opinion_officer):
    indicator = Indicator.objects.get(code=kwargs.pop("code"))
    with pytest.raises(InvalidInput, match=message):
        months.set_manual_value(actor=opinion_officer, indicator=indicator, unit=bureau.station,
                                month=OCT, **kwargs)
    assert not ManualValue.objects.exists()


def test_update_item_is_an_event(scheme, opinion_officer):
    item = scheme.items.get(indicator__code="satisfaction")
    months.update_item(actor=opinion_officer, item=item, weight=D(40), target=D(90),
                       rule="linear", params={"floor": "70"})
    item.refresh_from_db()
    assert (item.weight, item.target, item.params) == (D(40), D(90), {"floor": "70"})
    event = Event.objects.get(action="assessment.scheme_item_update")
    assert event.before["weight"] == "30.00"
    with pytest.raises(InvalidInput, match="目标值"):
        months.update_item(actor=opinion_officer, item=item, weight=D(40), target=None,
                           rule="linear", params={})


def test_no_scheme_is_a_clear_error(bureau, opinion_officer):
    with pytest.raises(InvalidInput, match="2026年尚无考核方案"):
        months.run(actor=opinion_officer, bureau=bureau.bureau, month=OCT)
    assert not AssessmentMonth.objects.exists()


@pytest.mark.parametrize("text", ["2026-13", "2026/10", "abc", "", "0000-01"])
def test_parse_month_rejects(text):
    with pytest.raises(months.MonthError, match="月份"):
        months.parse_month(text)


def _east(snapshot):
    return next(r for r in snapshot["units"] if r["unit"]["name"] == "东城派出所")


def test_closed_month_is_frozen_against_later_changes(week_orders, bureau, opinion_officer):
    """Orders of May 2024 (the bulletin's fixture): closing freezes the ranking; an order's
    callback changed afterwards moves nothing until the month is reopened and closed again."""
    months.create_default_scheme(actor=opinion_officer, bureau=bureau.bureau, year=2024)
    may = date(2024, 5, 1)
    assessment = months.run(actor=opinion_officer, bureau=bureau.bureau, month=may)
    east = _east(assessment.snapshot)
    # May: o1, o8, o9 satisfied, o2 basically (× 1), o3 dissatisfied; o5 not reached.
    assert east["cells"]["satisfaction"]["numerator"] == "4"
    assert east["cells"]["satisfaction"]["denominator"] == 5
    assessment = months.close(actor=opinion_officer, assessment=assessment)
    frozen = assessment.snapshot
    assert assessment.state == "closed" and assessment.closed_by == opinion_officer

    Order.objects.filter(pk=week_orders["o3"].pk).update(callback_outcome="satisfied")
    again = months.run(actor=opinion_officer, bureau=bureau.bureau, month=may)
    assert again.snapshot == frozen
    assert months.view_of(bureau.bureau, may)["snapshot"] == frozen
    with pytest.raises(InvalidInput, match="已关账"):
        months.close(actor=opinion_officer, assessment=again)

    with pytest.raises(InvalidInput, match="须填写理由"):
        months.reopen(actor=opinion_officer, assessment=again, reason="  ")
    reopened = months.reopen(actor=opinion_officer, assessment=again, reason="回访结果更正")
    assert (reopened.state, reopened.reopen_count) == ("open", 1)
    event = Event.objects.get(action="assessment.month_reopen")
    assert event.payload["reason"] == "回访结果更正"
    assert event.before["totals"]["东城派出所"] == east["total"]

    rerun = months.run(actor=opinion_officer, bureau=bureau.bureau, month=may)
    assert _east(rerun.snapshot)["cells"]["satisfaction"]["numerator"] == "5"
    closed = months.close(actor=opinion_officer, assessment=rerun)
    assert closed.snapshot != frozen and closed.reopen_count == 1
    assert list(Event.objects.filter(object_type="assessment.assessmentmonth",
                                     object_id=str(closed.pk)).order_by("id")
                .values_list("action", flat=True)) == [
        "assessment.month_run", "assessment.month_close", "assessment.month_reopen",
        "assessment.month_run", "assessment.month_close"]
