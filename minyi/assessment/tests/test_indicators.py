"""The indicators' formulas over one unit's counts, with exact numbers (no database)."""

from decimal import Decimal

import pytest

from minyi.assessment import indicators as ind
from minyi.assessment.facts import COUNT_KEYS

COUNTS = dict(received=12, invalid=2, closed=8, closed_on_time=6, closed_late=2, contact_due=10,
              contact_on_time=7, contact_late=2, contact_none=1, cb_satisfied=5, cb_basic=2,
              cb_dissatisfied=1, cb_not_reached=1, repeats=3, notices=2, letters=1,
              notices_unanswered=1, returned=1, redone=2, rect_due=4, rect_on_time=3,
              cb_tasks_closed=9, cb_tasks_answered=6, closed_redone=1)


def pct(formula, counts=COUNTS, **params):
    return ind.compute(formula, counts, params).percent


@pytest.mark.parametrize(("formula", "numerator", "denominator", "percent"), [
    ("completion", 8, 10, "80.0"),
    ("on_time", 6, 8, "75.0"),
    ("contact", 7, 10, "70.0"),
    ("satisfaction", 7, 8, "87.5"),
    ("response", 9, 10, "90.0"),
    ("resolution", 7, 8, "87.5"),
    ("return_rate", 1, 10, "10.0"),
    ("redo_rate", 2, 10, "20.0"),
    ("repeat_rate", 3, 12, "25.0"),
    ("rectification_on_time", 3, 4, "75.0"),
    ("callback_response", 6, 9, "66.7"),
])
def test_shares(formula, numerator, denominator, percent):
    result = ind.compute(formula, COUNTS, {})
    assert result == ind.Share(Decimal(numerator), denominator)
    assert result.percent == Decimal(percent)


def test_satisfaction_weights_basic_satisfied():
    result = ind.compute("satisfaction", COUNTS, {"basic_weight": "0.5"})
    assert result.numerator == Decimal("6.0") and result.denominator == 8
    assert result.percent == Decimal("75.0")


def test_three_rates_composite_default_and_configured_weights():
    assert ind.compute("three_rates", COUNTS, {}) == ind.Value(Decimal("87.75"))
    equal = {"weights": {"response": 1, "resolution": 1, "satisfaction": 1}}
    assert ind.compute("three_rates", COUNTS, equal) == ind.Value(Decimal("88.33"))
    # Half weight for 基本满意 lowers the satisfaction part: 9 + 39.375 + 0.45 × 75 = 82.125
    assert ind.compute("three_rates", COUNTS, {"basic_weight": "0.5"}).value == Decimal("82.13")
    assert isinstance(ind.compute("three_rates", COUNTS, {"weights": {
        "response": 0, "resolution": 0, "satisfaction": 0}}), ind.NotAvailable)


def test_counts_of_events_are_values():
    assert ind.compute("notices", COUNTS, {}) == ind.Value(Decimal(2))
    assert ind.compute("notices_unanswered", COUNTS, {}) == ind.Value(Decimal(1))


def test_nothing_to_divide_by_has_no_percent():
    blank = dict.fromkeys(COUNT_KEYS, 0) | {"closed_redone": 0}
    for formula in ("completion", "on_time", "contact", "satisfaction", "response",
                    "resolution", "rectification_on_time", "callback_response"):
        result = ind.compute(formula, blank, {})
        assert result.denominator == 0 and result.percent is None
    assert ind.compute("three_rates", blank, {}) == ind.Value(None)


def test_missing_count_is_not_available_never_zero():
    without = {k: v for k, v in COUNTS.items() if k != "closed_redone"}
    result = ind.compute("resolution", without, {})
    assert isinstance(result, ind.NotAvailable) and "closed_redone" in result.reason
    assert ind.value_of(result) is None
    assert isinstance(ind.compute("three_rates", without, {}), ind.NotAvailable)
    assert isinstance(ind.compute("no_such", COUNTS, {}), ind.NotAvailable)


def test_manual_values():
    assert ind.manual(Decimal("92.5"), 37, 40) == ind.Share(Decimal(37), 40)
    assert ind.manual(Decimal("92.5"), 37, 40).percent == Decimal("92.5")
    assert ind.manual(Decimal("88.1")) == ind.Value(Decimal("88.1"))
    assert ind.manual(Decimal("3"), is_share=False) == ind.Value(Decimal(3))
    assert ind.manual(None) == ind.Value(None)


def test_builtin_definitions_are_complete_and_name_known_formulas():
    rows = ind.builtin_rows()
    codes = [(r["code"], r["version"]) for r in rows]
    assert len(codes) == len(set(codes)) == 20
    for row in rows:
        assert row["counts_what"] and row["numerator"]
        assert row["formula"] == ind.MANUAL or row["formula"] in ind.FORMULAS
        assert (row["kind"] == "manual") == (row["formula"] == ind.MANUAL)
        if row["is_share"]:
            assert row["denominator"], row["code"]
    assert {r["code"] for r in rows if r["kind"] == "manual"} == {
        "survey_index", "clearance_rate", "dissuasion_rate", "petitions_resolved",
        "veto_events"}
