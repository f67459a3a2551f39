"""The bulletin's pure rules: ISO weeks, rates, red and black lists, the sentences (no
database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from minyi.assessment.rules import (
    Floors,
    IsoWeek,
    WeekError,
    format_rate,
    headline,
    judge,
    last_complete_week,
    lists_sentences,
    parse_week,
    percent,
    rates,
    weeks_in_year,
)
from minyi.core.errors import InvalidInput


def counts(**values: int) -> dict[str, int]:
    base = dict.fromkeys(
        ("received", "invalid", "closed", "closed_on_time", "closed_late", "contact_due",
         "contact_on_time", "contact_late", "contact_none", "cb_satisfied", "cb_basic",
         "cb_dissatisfied", "cb_not_reached", "repeats", "notices", "letters",
         "notices_unanswered"), 0)
    base.update(values)
    return base


@pytest.mark.parametrize(("text", "year", "week"), [
    ("2026-W47", 2026, 47), ("2026W47", 2026, 47), ("2026-w01", 2026, 1), (" 2026-W1 ", 2026, 1),
    ("2026-W53", 2026, 53),  # 2026 begins on a Thursday: it has 53 weeks
    ("2020-W53", 2020, 53),
])
def test_parse_week(text, year, week):
    assert parse_week(text) == IsoWeek(year, week)


@pytest.mark.parametrize(("text", "message"), [
    ("2026-W54", "无效的周「2026-W54」：2026年只有第1至第53周"),
    ("2025-W53", "无效的周「2025-W53」：2025年只有第1至第52周"),
    ("2026-W00", "无效的周「2026-W00」：2026年只有第1至第53周"),
    ("2026-47", "无法识别的周「2026-47」：应写作 2026-W47 这样的 ISO 周"),
    ("abc", "无法识别的周「abc」：应写作 2026-W47 这样的 ISO 周"),
    ("", "无法识别的周「」：应写作 2026-W47 这样的 ISO 周"),
])
def test_bad_weeks_are_named_in_the_error(text, message):
    with pytest.raises(WeekError) as caught:
        parse_week(text)
    assert str(caught.value) == message
    assert repr(text) in caught.value.english
    assert isinstance(caught.value, InvalidInput)


def test_week_bounds_and_labels():
    week = IsoWeek(2026, 47)
    assert (week.monday, week.sunday) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.label == "2026-W47"
    assert week.title_label == "2026年第47周"
    assert week.span_label == "2026年11月16日至11月22日"
    # A week across the new year: 2026-W01 starts on Monday 29 December 2025.
    first = IsoWeek(2026, 1)
    assert first.monday == date(2025, 12, 29)
    assert first.span_label == "2025年12月29日至2026年1月4日"
    assert first.previous() == IsoWeek(2025, 52)
    assert IsoWeek(2026, 53).next() == IsoWeek(2027, 1)
    assert (weeks_in_year(2026), weeks_in_year(2025)) == (53, 52)


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 11, 23), IsoWeek(2026, 47)),  # Monday: the week that just ended
    (date(2026, 11, 29), IsoWeek(2026, 47)),  # Sunday: still the week before this one
    (date(2026, 1, 1), IsoWeek(2025, 52)),
])
def test_last_complete_week(today, expected):
    assert last_complete_week(today) == expected


def test_rates_exact():
    row = counts(received=1234, invalid=4, closed=1100, closed_on_time=1045, contact_due=1200,
                 contact_on_time=1167, cb_satisfied=280, cb_basic=20, cb_dissatisfied=25)
    assert rates(row) == {"completion": 89.4, "on_time": 95.0, "contact": 97.3,
                          "satisfaction": 92.3}
    # Half credit for "basically satisfied": (280 + 10) ÷ 325 = 89.23…
    assert rates(row, Decimal("0.5"))["satisfaction"] == 89.2
    assert rates(counts()) == dict.fromkeys(("completion", "on_time", "contact",
                                             "satisfaction"))


def test_percent_rounds_half_up():
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(17, 1000) == Decimal("1.7")
    assert percent(1, 16) == Decimal("6.3")  # 6.25 → 6.3, not banker's 6.2
    assert percent(0, 0) is None
    assert (format_rate(None), format_rate(6.3), format_rate(100.0)) == ("—", "6.3%", "100.0%")


FLOORS = Floors()


def test_judge_red_black_and_unjudged():
    good = counts(received=10, closed=10, closed_on_time=9, contact_due=10, contact_on_time=10,
                  cb_satisfied=17, cb_dissatisfied=3)
    verdict = judge(good, rates(good), FLOORS)
    assert (verdict.judged, verdict.list, verdict.reasons) == (True, "red", ())

    # 84.9% is below 85%; 90.0% is not below 90%.
    poor = counts(received=10, closed=10, closed_on_time=9, contact_due=10, contact_on_time=9,
                  cb_satisfied=844, cb_basic=5, cb_dissatisfied=151, notices_unanswered=2)
    verdict = judge(poor, rates(poor), FLOORS)
    assert verdict.list == "black"
    assert verdict.reasons == ("满意率84.9%，低于85%", "及时联系率90.0%，低于95%",
                               "逾期未答复督办单2件")

    # Too few orders: not judged on rates, neither red nor black…
    few = counts(received=5, invalid=1, closed=4, closed_on_time=0, contact_due=4)
    verdict = judge(few, rates(few), FLOORS)
    assert (verdict.judged, verdict.list) == (False, "")
    # …but an unanswered notice names the unit whatever its volume.
    few["notices_unanswered"] = 1
    assert judge(few, rates(few), FLOORS).reasons == ("逾期未答复督办单1件",)

    # No callbacks reached: not black for it, but not red either.
    unknown = counts(received=6, closed=6, closed_on_time=6, contact_due=6, contact_on_time=6)
    assert judge(unknown, rates(unknown), FLOORS).list == ""


def test_headline_writes_the_figures_out():
    total = counts(received=1234, invalid=4, closed=1100, closed_on_time=1045,
                   contact_due=1200, contact_on_time=1167, cb_satisfied=280, cb_basic=20,
                   cb_dissatisfied=25, notices=12, letters=8, repeats=15)
    total["rates"] = rates(total)
    assert headline(total, IsoWeek(2026, 47)) == [
        "2026年11月16日至11月22日（2026年第47周），全局共受理群众诉求工单1,234件"
        "（其中无效工单4件），办结1,100件，办结率89.4%；按时办结1,045件，按时办结率95.0%；"
        "及时联系群众1,167件，及时联系率97.3%；回访联系上325件，满意280件、基本满意20件、"
        "不满意25件，满意率92.3%。",
        "下发督办单12件、提醒函8件，重复投诉15件。",
    ]
    empty = counts()
    empty["rates"] = rates(empty)
    assert headline(empty, IsoWeek(2026, 47)) == [
        "2026年11月16日至11月22日（2026年第47周），全局未受理群众诉求工单。",
        "下发督办单0件、提醒函0件，重复投诉0件。",
    ]


def test_lists_sentences():
    units = [
        {"unit": {"name": "东城派出所"}, "judged": True, "list": "red", "reasons": []},
        {"unit": {"name": "西城派出所"}, "judged": True, "list": "black",
         "reasons": ["满意率80.0%，低于85%"]},
        {"unit": {"name": "督察大队"}, "judged": False, "list": "", "reasons": []},
    ]
    assert lists_sentences(units, FLOORS) == [
        "红榜：东城派出所。",
        "黑榜：西城派出所（满意率80.0%，低于85%）。",
        "受理工单（不含无效）不足5件的单位不按比率评判：督察大队。",
    ]
    assert lists_sentences([], FLOORS) == ["红榜：无。", "黑榜：无。"]


def test_floors_round_trip():
    floors = Floors(satisfaction=Decimal("80.5"), min_orders=3, basic_weight=Decimal("0.5"))
    assert Floors.from_dict(floors.as_dict()) == floors
