"""The pure logic of hot issues: periods, the rise test and its ranking, keyword counts."""

from __future__ import annotations

import time
from datetime import date
from fractions import Fraction
from math import comb

import pytest

from minyi.campaigns import hot
from minyi.core.errors import InvalidInput


def exact_tail(k: int, n: int, p: Fraction) -> float:
    return float(sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


# --- periods -------------------------------------------------------------------------------


def test_week_and_month_parse():
    week = hot.parse_period("2026-W47")
    assert (week.kind, week.start, week.end, week.days) == ("week", date(2026, 11, 16),
                                                            date(2026, 11, 23), 7)
    assert week.label == "2026-W47"
    assert week.title == "2026年第47周（11月16日—11月22日）"
    assert hot.parse_period("2026w5").label == "2026-W05"
    month = hot.parse_period("2026-11")
    assert (month.start, month.end, month.days, month.label) == (date(2026, 11, 1),
                                                                 date(2026, 12, 1), 30, "2026-11")
    assert month.title == "2026年11月"
    assert hot.parse_period("2026-2").days == 28
    assert hot.parse_period("2026-12").end == date(2027, 1, 1)
    # 2026 begins on a Thursday: it has a 53rd ISO week, 2025 does not.
    assert hot.parse_period("2026-W53").start == date(2026, 12, 28)


@pytest.mark.parametrize(("text", "message"), [
    ("2025-W53", "2025 年没有第 53 周"),
    ("2026-W00", "2026 年没有第 0 周"),
    ("2026-13", "不是有效的月份"),
    ("2026/11", "周写作 2026-W47，月写作 2026-11"),
    ("上周", "不是周或月"),
    ("", "不是周或月"),
])
def test_bad_periods_are_clear_errors(text, message):
    with pytest.raises(InvalidInput, match=message):
        hot.parse_period(text)


def test_baselines():
    week = hot.parse_period("2026-W47")
    assert [p.label for p in hot.baseline_periods(week)] == [
        "2026-W43", "2026-W44", "2026-W45", "2026-W46"]
    # Across the new year: ISO weeks of the year before.
    assert [p.label for p in hot.baseline_periods(hot.parse_period("2026-W02"))] == [
        "2025-W50", "2025-W51", "2025-W52", "2026-W01"]
    march = hot.parse_period("2026-03")
    months = hot.baseline_periods(march)
    assert [p.label for p in months] == ["2025-12", "2026-01", "2026-02"]
    assert sum(p.days for p in months) == 90
    assert hot.share_of(march, months) == 31 / 121


def test_default_is_the_last_complete_period():
    wednesday = date(2026, 11, 25)  # in W48
    assert hot.default_period(hot.WEEK, wednesday).label == "2026-W47"
    assert hot.default_period(hot.MONTH, date(2026, 1, 10)).label == "2025-12"
    recent = hot.recent_periods(wednesday, weeks=3, months=2)
    assert [p.label for p in recent] == ["2026-W48", "2026-W47", "2026-W46", "2026-11",
                                         "2026-10"]


# --- the test of a rise ------------------------------------------------------------------------


def test_binomial_tail_exact():
    assert hot.binomial_upper_tail(3, 7, 0.2) == pytest.approx(0.148032, rel=1e-12)
    assert hot.binomial_upper_tail(5, 5, 0.2) == pytest.approx(0.00032, rel=1e-12)
    assert hot.binomial_upper_tail(15, 40, 0.2) == pytest.approx(
        exact_tail(15, 40, Fraction(1, 5)), rel=1e-10)
    assert hot.binomial_upper_tail(0, 10, 0.3) == 1.0
    assert hot.binomial_upper_tail(11, 10, 0.3) == 0.0


def test_binomial_tail_of_a_city_sized_count_is_quick():
    started = time.perf_counter()
    p = hot.binomial_upper_tail(260_000, 1_000_000, 0.25)
    assert 0 < p < 1e-100
    assert hot.binomial_upper_tail(250_300, 1_000_000, 0.25) == pytest.approx(0.2451, abs=0.002)
    assert time.perf_counter() - started < 2


def test_one_to_three_is_not_a_rise():
    # One a week for four weeks, then three: n = 7, p0 = 1/5.
    rise = hot.measure("noise", "噪音扰民", 3, [1, 1, 1, 1], hot.parse_period("2026-W47"),
                       hot.baseline_periods(hot.parse_period("2026-W47")))
    assert rise.expected == 1.0
    assert rise.change == 2.0
    assert rise.p_value == pytest.approx(0.148032, rel=1e-12)
    assert not rise.rising


def test_minimum_count():
    week = hot.parse_period("2026-W47")
    base = hot.baseline_periods(week)
    four = hot.measure("a", "a", 4, [0, 0, 0, 0], week, base)
    assert four.p_value == pytest.approx(0.0016, rel=1e-12)  # below ALPHA, but only 4 orders
    assert not four.rising
    five = hot.measure("a", "a", 5, [0, 0, 0, 0], week, base)
    assert five.p_value == pytest.approx(0.00032, rel=1e-12)
    assert five.rising
    assert five.change is None


def test_no_test_when_not_above_the_baseline():
    week = hot.parse_period("2026-W47")
    assert hot.rise_p_value(1, 4, 0.2) is None
    assert hot.measure("a", "a", 2, [5, 5, 5, 5], week,
                       hot.baseline_periods(week)).p_value is None


def test_months_are_scaled_by_days():
    march = hot.parse_period("2026-03")
    base = hot.baseline_periods(march)
    rise = hot.measure("a", "a", 40, [30, 31, 29], march, base)
    assert rise.expected == 31.0
    assert rise.p_value == pytest.approx(exact_tail(40, 130, Fraction(31, 121)), rel=1e-10)
    assert round(rise.p_value, 4) == 0.1081
    assert not rise.rising
    # February is shorter: the same 28 orders are more per day than in a 31-day month.
    february = hot.parse_period("2026-02")
    feb = hot.measure("a", "a", 28, [31, 31, 28], february, hot.baseline_periods(february))
    assert feb.expected == pytest.approx(90 * 28 / 92)


def test_rank():
    week = hot.parse_period("2026-W47")
    counts = {"noise": [1, 1, 1, 1, 3], "fraud": [0, 0, 0, 0, 5],
              "hukou": [10, 10, 10, 10, 30], "help": [5, 5, 5, 5, 2]}
    rows = hot.rank(counts, {"noise": "噪音扰民"}, week, hot.baseline_periods(week))
    assert [r.key for r in rows] == ["hukou", "fraud", "noise", "help"]
    assert [r.rising for r in rows] == [True, True, False, False]
    assert rows[0].p_value == pytest.approx(exact_tail(30, 70, Fraction(1, 5)), rel=1e-9)
    assert rows[2].label == "噪音扰民" and rows[1].label == "fraud"
    assert rows[3].baseline == (5, 5, 5, 5) and rows[3].baseline_total == 20
    with pytest.raises(ValueError):
        hot.rank({"x": [1, 2]}, {}, week, hot.baseline_periods(week))


# --- keywords ----------------------------------------------------------------------------------

VOCABULARY = ["广场舞", "广场", "噪音", "扰民", "电池", "被盗", "拥堵"]


def vocabulary_words(text: str) -> list[str]:
    return [word for word in VOCABULARY if word in text]


def test_keyword_counts():
    titles = [
        (2, "广场舞噪音扰民", 5), (1, "广场舞噪音扰民", 1),
        (2, "装修噪音", 2), (0, "装修噪音", 1),
        (2, "噪音又是噪音", 1),  # once per order, however often the word occurs
        (2, "电池被盗", 4), (0, "电池被盗", 3),  # four in the period: under the minimum
        (0, "交通拥堵", 9),  # only in the baseline: nothing rose
    ]
    counts = hot.keyword_counts(titles, 3, vocabulary_words, min_current=5)
    # 广场 is in every title that says 广场舞, with the same counts: the longer word stays.
    assert counts == {"广场舞": [0, 1, 5], "噪音": [1, 1, 8], "扰民": [0, 1, 5]}
    assert hot.keyword_counts(titles, 3, vocabulary_words, min_current=4)["电池"] == [3, 0, 4]


def test_keywords_are_counted_as_the_title_search_finds_them():
    # The tokenizer offers 噪音 from one title; the count is every title containing it.
    titles = [(1, "噪音扰民", 5), (1, "装修噪音大", 2), (0, "噪音", 1)]
    counts = hot.keyword_counts(titles, 2, lambda text: ["噪音"] if text == "噪音扰民" else [],
                                min_current=1)
    assert counts == {"噪音": [1, 7]}
    with pytest.raises(ValueError):
        hot.keyword_counts([(2, "x", 1)], 2, vocabulary_words)


def test_keyword_counts_with_jieba():
    from minyi.core.text import words

    titles = [(4, "夜间广场舞噪音扰民", 5), (0, "夜间广场舞噪音扰民", 1)]
    counts = hot.keyword_counts(titles, 5, words)
    assert counts["噪音"] == [1, 0, 0, 0, 5]
