"""The scoring rules and fair rankings, with exact numbers (no database)."""

from decimal import Decimal as D

import pytest

from minyi.assessment import scoring
from minyi.assessment.indicators import Share, Value


@pytest.mark.parametrize(("value", "score"), [
    ("95", "30.00"), ("100", "30.00"), ("80", "0.00"), ("70", "0.00"), ("87.5", "15.00"),
    ("90", "20.00"), ("81", "2.00"),
])
def test_linear_higher_is_better(value, score):
    assert scoring.linear_score(D(value), weight=D(30), target=D(95), floor=D(80)) == D(score)


@pytest.mark.parametrize(("value", "score"), [
    ("5", "10.00"), ("0", "10.00"), ("20", "0.00"), ("25", "0.00"), ("12.5", "5.00"),
])
def test_linear_lower_is_better(value, score):
    assert scoring.linear_score(D(value), weight=D(10), target=D(5), floor=D(20),
                                higher_is_better=False) == D(score)


def test_linear_default_floor_is_zero():
    assert scoring.linear_score(D(45), weight=D(10), target=D(90)) == D("5.00")


def test_rank_score():
    assert [scoring.rank_score(r, 5, weight=D(10)) for r in (1, 2, 3, 5)] == [
        D("10.00"), D("7.50"), D("5.00"), D("0.00")]
    assert scoring.rank_score(1, 1, weight=D(10)) == D("10.00")
    table = [10, 8, "6.5"]
    assert [scoring.rank_score(r, 9, weight=D(10), points=table) for r in (1, 2, 3, 4)] == [
        D("10.00"), D("8.00"), D("6.50"), D("0.00")]


def test_deduction_per_event_with_cap():
    assert scoring.deduction_score(0, weight=D(10), per_event=D(2)) == D("10.00")
    assert scoring.deduction_score(3, weight=D(10), per_event=D(2)) == D("4.00")
    assert scoring.deduction_score(6, weight=D(10), per_event=D(2)) == D("0.00")
    assert scoring.deduction_score(6, weight=D(10), per_event=D(2), cap=D(5)) == D("5.00")


def test_competition_ranks_share_ties_and_skip():
    values = [D(90), D(95), D(90), None, D(80)]
    assert scoring.competition_ranks(values) == [2, 1, 2, None, 4]
    assert scoring.competition_ranks(values, higher_is_better=False) == [2, 4, 2, None, 1]


def test_share_interval_is_wilson_in_percent():
    assert scoring.share_interval(Share(D(8), 10)) == (D("49.0"), D("94.3"))
    assert scoring.share_interval(Share(D(0), 10)) == (D("0.0"), D("27.8"))
    assert scoring.share_interval(Share(D(0), 0)) is None


ITEMS = [
    scoring.Item(code="satisfaction", version=1, name="满意率", rule="linear", weight=D(30),
                 target=D(95), params={"floor": "80"}),
    scoring.Item(code="notices", version=1, name="督办单", rule="deduction", weight=D(10),
                 params={"per_event": "2"}, higher_is_better=False, is_share=False),
    scoring.Item(code="veto_events", version=1, name="一票否决", rule="veto", weight=D(0),
                 higher_is_better=False, is_share=False),
]
RESULTS = {
    (1, "satisfaction"): Share(D(19), 20), (1, "notices"): Value(D(0)),
    (2, "satisfaction"): Share(D(17), 20), (2, "notices"): Value(D(1)),
    (3, "satisfaction"): Share(D(2), 2), (3, "notices"): Value(D(0)),
    (4, "satisfaction"): Share(D(18), 20), (4, "notices"): Value(D(3)),
    (4, "veto_events"): Value(D(1)),
}


def test_month_scores_small_samples_and_veto():
    scores = {s.unit_id: s for s in scoring.score_units([1, 2, 3, 4], ITEMS, RESULTS,
                                                        min_count=5)}
    sat = {uid: s.cells["satisfaction"] for uid, s in scores.items()}
    assert [sat[u].score for u in (1, 2, 4)] == [D("30.00"), D("10.00"), D("20.00")]
    # Two of two satisfied: 样本不足, not ranked, scored at the mean of the others.
    assert sat[3].insufficient and sat[3].rank is None and sat[3].rank_range is None
    assert sat[3].score == D("20.00")
    assert [sat[u].rank for u in (1, 4, 2)] == [1, 2, 3]
    for u in (1, 2, 4):
        low, high = sat[u].rank_range
        assert low <= sat[u].rank <= high
    # 95%, 90% and 85% of twenty cannot be told apart: every rank is possible for each.
    assert sat[1].rank_range == (1, 3)
    assert [scores[u].cells["notices"].score for u in (1, 2, 3, 4)] == [
        D("10.00"), D("8.00"), D("10.00"), D("4.00")]
    assert scores[4].vetoed and scores[4].total == D("0.00")
    assert scores[4].cells["veto_events"].vetoes
    assert [(scores[u].total, scores[u].rank) for u in (1, 2, 3, 4)] == [
        (D("40.00"), 1), (D("18.00"), 3), (D("30.00"), 2), (D("0.00"), 4)]


def test_rank_rule_and_clear_rank_ranges():
    item = scoring.Item(code="completion", version=1, name="办结率", rule="rank", weight=D(10))
    results = {(1, "completion"): Share(D(100), 100), (2, "completion"): Share(D(0), 100),
               (3, "completion"): Share(D(50), 100), (4, "completion"): Share(D(0), 0)}
    scores = {s.unit_id: s for s in scoring.score_units([1, 2, 3, 4], [item], results,
                                                        min_count=10)}
    cells = {u: scores[u].cells["completion"] for u in scores}
    assert [cells[u].rank_range for u in (1, 3, 2)] == [(1, 1), (2, 2), (3, 3)]
    assert [cells[u].score for u in (1, 3, 2)] == [D("10.00"), D("5.00"), D("0.00")]
    assert cells[4].no_data and cells[4].score == D("5.00")


def test_lower_is_better_ranks_the_lowest_first():
    item = scoring.Item(code="repeat_rate", version=1, name="重复投诉率", rule="rank",
                        weight=D(10), higher_is_better=False)
    results = {(1, "repeat_rate"): Share(D(1), 20), (2, "repeat_rate"): Share(D(4), 20)}
    scores = scoring.score_units([1, 2], [item], results, min_count=10)
    assert [s.cells["repeat_rate"].rank for s in scores] == [1, 2]
    assert [s.cells["repeat_rate"].score for s in scores] == [D("10.00"), D("0.00")]


def test_equal_totals_share_a_rank():
    item = scoring.Item(code="notices", version=1, name="督办单", rule="deduction",
                        weight=D(10), params={"per_event": "2"})
    results = {(u, "notices"): Value(D(n)) for u, n in ((1, 1), (2, 0), (3, 1))}
    assert [s.rank for s in scoring.score_units([1, 2, 3], [item], results, min_count=1)] == [
        2, 1, 2]
