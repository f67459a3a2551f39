"""The AAPOR rates against hand-computed values: each expected value is written as the formula
with the counts put in, so a reader checks it against the Standard Definitions by eye."""

from fractions import Fraction

import pytest

from minyi.callbacks import aapor
from minyi.callbacks.aapor import Outcomes

# The worked case: 40 completes, 5 partials, 10 refusals, 20 non-contacts, 5 other, 15 UH,
# 5 UO and 20 not eligible. Known eligibility: E = 40+5+10+20+5 = 80 eligible, NE = 20.
CASE = Outcomes(I=40, P=5, R=10, NC=20, O=5, UH=15, UO=5, NE=20)
E = Fraction(80, 80 + 20)  # proportional allocation: E/(E+NE) = 0.8


def test_the_default_e_is_proportional_allocation():
    assert aapor.estimate_e(CASE) == Fraction(4, 5)
    assert aapor.resolve_e(CASE) == Fraction(4, 5)
    assert aapor.resolve_e(CASE, 0.5) == Fraction(1, 2)
    assert aapor.resolve_e(CASE, Fraction(1, 3)) == Fraction(1, 3)


def test_response_rates():
    assert aapor.rr1(CASE) == 40 / (40 + 5 + 10 + 20 + 5 + 15 + 5) == 0.4
    assert aapor.rr2(CASE) == (40 + 5) / (40 + 5 + 10 + 20 + 5 + 15 + 5) == 0.45
    # e·(UH+UO) = 0.8·20 = 16
    assert aapor.rr3(CASE) == 40 / (40 + 5 + 10 + 20 + 5 + 16)
    assert aapor.rr3(CASE) == float(Fraction(40, 96))
    assert aapor.rr4(CASE) == (40 + 5) / (40 + 5 + 10 + 20 + 5 + 16)
    assert aapor.rr5(CASE) == 40 / (40 + 5 + 10 + 20 + 5) == 0.5
    assert aapor.rr6(CASE) == (40 + 5) / (40 + 5 + 10 + 20 + 5) == 0.5625


def test_cooperation_rates():
    assert aapor.coop1(CASE) == 40 / ((40 + 5) + 10 + 5) == 40 / 60
    assert aapor.coop2(CASE) == (40 + 5) / ((40 + 5) + 10 + 5) == 0.75
    assert aapor.coop3(CASE) == 40 / ((40 + 5) + 10) == 40 / 55
    assert aapor.coop4(CASE) == (40 + 5) / ((40 + 5) + 10) == 45 / 55


def test_refusal_rates():
    assert aapor.ref1(CASE) == 10 / (40 + 5 + 10 + 20 + 5 + 15 + 5) == 0.1
    assert aapor.ref2(CASE) == 10 / (40 + 5 + 10 + 20 + 5 + 16) == 10 / 96
    assert aapor.ref3(CASE) == 10 / (40 + 5 + 10 + 20 + 5) == 0.125


def test_contact_rates():
    assert aapor.con1(CASE) == ((40 + 5) + 10 + 5) / (40 + 5 + 10 + 5 + 20 + 15 + 5) == 0.6
    assert aapor.con2(CASE) == ((40 + 5) + 10 + 5) / (40 + 5 + 10 + 5 + 20 + 16) == 0.625
    assert aapor.con3(CASE) == ((40 + 5) + 10 + 5) / (40 + 5 + 10 + 5 + 20) == 0.75


def test_a_given_e_replaces_the_estimate():
    # e = 0.5: e·(UH+UO) = 10
    assert aapor.rr3(CASE, e=0.5) == 40 / (40 + 5 + 10 + 20 + 5 + 10) == 40 / 90
    assert aapor.rr4(CASE, e=0.5) == 45 / 90 == 0.5
    assert aapor.ref2(CASE, e=0.5) == 10 / 90
    assert aapor.con2(CASE, e=0.5) == 60 / 90
    # The two ends: e = 1 is RR1, e = 0 is RR5.
    assert aapor.rr3(CASE, e=1) == aapor.rr1(CASE)
    assert aapor.rr3(CASE, e=0) == aapor.rr5(CASE)


def test_a_second_case_with_no_partials_as_the_callbacks_have():
    # 120 answered, 8 refused, 30 no answer, 2 other, 25 switched off (UH), 0 UO, 15 wrong
    # numbers: E = 120+8+30+2 = 160, e = 160/(160+15) = 32/35.
    o = Outcomes(I=120, R=8, NC=30, O=2, UH=25, NE=15)
    assert aapor.estimate_e(o) == Fraction(160, 175)
    assert aapor.rr1(o) == 120 / (120 + 8 + 30 + 2 + 25) == 120 / 185
    assert aapor.rr3(o) == float(Fraction(120) / (160 + Fraction(32, 35) * 25))
    assert aapor.rr2(o) == aapor.rr1(o)  # P = 0
    assert aapor.coop1(o) == 120 / (120 + 8 + 2)
    assert aapor.coop3(o) == 120 / (120 + 8)
    assert aapor.ref1(o) == 8 / 185
    assert aapor.con1(o) == (120 + 8 + 2) / 185
    assert aapor.con3(o) == (120 + 8 + 2) / 160


def test_a_zero_denominator_gives_none_not_an_error():
    empty = Outcomes()
    assert aapor.all_rates(empty) == {name: None for name in aapor.RATES}
    # Only ineligible cases: e = 0/(0+3) = 0 is known, but every denominator is 0.
    assert aapor.estimate_e(Outcomes(NE=3)) == 0
    assert aapor.rr3(Outcomes(NE=3)) is None
    # Only unknown eligibility: e cannot be estimated, RR3 needs it; RR1 does not.
    unknown = Outcomes(UH=4, UO=1)
    assert aapor.estimate_e(unknown) is None
    assert aapor.rr3(unknown) is None and aapor.ref2(unknown) is None
    assert aapor.rr1(unknown) == 0 / 5 == 0.0
    assert aapor.rr5(unknown) is None
    # …unless e is given.
    assert aapor.rr3(unknown, e=0.5) == 0.0
    # Nobody contacted: cooperation is undefined, contact rates are 0.
    only_nc = Outcomes(NC=7)
    assert aapor.coop1(only_nc) is None and aapor.coop4(only_nc) is None
    assert aapor.con1(only_nc) == 0.0


def test_all_rates_in_aapor_order():
    rates = aapor.all_rates(CASE)
    assert list(rates) == ["RR1", "RR2", "RR3", "RR4", "RR5", "RR6", "COOP1", "COOP2",
                           "COOP3", "COOP4", "REF1", "REF2", "REF3", "CON1", "CON2", "CON3"]
    assert rates["RR1"] == 0.4 and rates["CON3"] == 0.75
    assert set(aapor.FORMULAS) == set(rates) == set(aapor.RATE_LABELS)


def test_the_working_shows_the_counts():
    assert aapor.working("RR1", CASE) == "RR1 = I/((I+P)+(R+NC+O)+(UH+UO)) = 40/100"
    assert aapor.working("RR3", CASE) == "RR3 = I/((I+P)+(R+NC+O)+e(UH+UO)) = 40/96"
    assert aapor.working("RR3", CASE, e=Fraction(1, 3)).endswith("= 40/86.67")
    assert "e 无法估计" in aapor.working("RR3", Outcomes(UH=1))


def test_bad_counts_and_bad_e_are_refused():
    with pytest.raises(ValueError):
        Outcomes(I=-1)
    with pytest.raises(ValueError):
        Outcomes(I=1.5)
    with pytest.raises(ValueError):
        aapor.rr3(CASE, e=1.2)
    with pytest.raises(ValueError):
        aapor.rr3(CASE, e=True)


def test_outcome_totals():
    assert CASE.eligible == 80 and CASE.unknown == 20 and CASE.total == 120
    assert CASE.contacted == 60 and CASE.interviews == 45
    assert CASE.as_dict() == {"I": 40, "P": 5, "R": 10, "NC": 20, "O": 5, "UH": 15, "UO": 5,
                              "NE": 20}
