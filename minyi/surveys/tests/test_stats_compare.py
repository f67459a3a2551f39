"""Changes, benchmarks and rank ranges against numbers worked by hand."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from minyi.surveys.stats.compare import (
    Change,
    benchmark_wording,
    difference,
    rank_range_text,
    rank_ranges,
    suppress,
    versus_benchmark,
    wording,
)

# Two-sided normal p for |z| = 2: erfc(2/√2) = 0.0455002638963584 (textbook 0.0455).
P_Z2 = 0.04550026389635842


def test_difference_z_and_p():
    # se = √(0.03² + 0.04²) = 0.05, z = 0.10 / 0.05 = 2.
    change = difference((0.85, 0.03), (0.75, 0.04))
    assert change.diff == pytest.approx(0.10, abs=1e-15)
    assert change.se == pytest.approx(0.05, rel=1e-15)
    assert change.z == pytest.approx(2.0, rel=1e-14)
    assert change.p == pytest.approx(P_Z2, rel=1e-12)
    assert change.significant
    # 95% interval of the difference: 0.10 ± 1.959964·0.05.
    assert change.ci_low == pytest.approx(0.10 - 1.959963984540054 * 0.05, rel=1e-12)
    assert change.ci_high == pytest.approx(0.10 + 1.959963984540054 * 0.05, rel=1e-12)
    # At 99% the same difference is not significant (p 0.0455 ≥ 0.01).
    assert not difference((0.85, 0.03), (0.75, 0.04), level=0.99).significant


def test_difference_takes_estimate_objects_mappings_and_numbers():
    a = SimpleNamespace(estimate=0.85, se=0.03, ci_low=0, ci_high=1)
    b = {"estimate": 0.75, "se": 0.04}
    assert difference(a, b).z == pytest.approx(2.0, rel=1e-14)
    # A bare number is known exactly: se 0, z = 0.10 / 0.03.
    assert difference(a, 0.75).z == pytest.approx(0.10 / 0.03, rel=1e-14)


def test_difference_without_standard_errors():
    exact = difference(0.9, 0.8)
    assert (exact.se, exact.z, exact.p, exact.significant) == (0.0, math.inf, 0.0, True)
    none = difference(0.8, 0.8)
    assert none.p == 1.0 and not none.significant and math.isnan(none.z)
    unknown = difference((0.9, math.nan), (0.8, 0.01))
    assert math.isnan(unknown.p) and not unknown.significant


def test_difference_rejects_bad_input():
    with pytest.raises(ValueError, match="本期估计没有估计值"):
        difference((math.nan, 0.1), (0.5, 0.1))
    with pytest.raises(ValueError, match="对比估计的标准误不能为负数"):
        difference((0.5, 0.1), (0.5, -0.1))
    with pytest.raises(ValueError, match="置信水平必须在0和1之间"):
        difference(0.5, 0.4, level=95)


def test_versus_benchmark_tests_against_a_constant():
    # z = (0.8549 − 0.85) / 0.002 = 2.45; p = erfc(2.45/√2).
    change = versus_benchmark((0.8549, 0.002), 0.85)
    assert change.z == pytest.approx(2.45, rel=1e-9)
    assert change.p == pytest.approx(math.erfc(2.45 / math.sqrt(2)), rel=1e-9)
    assert round(change.p, 4) == 0.0143
    assert change.significant


# --------------------------------------------------------------------------------------------
# wording


def test_wording_rise_not_significant():
    # diff 0.0049 → 0.49 points; se √2·0.01, z = 0.346, p = 0.729.
    change = difference((0.8549, 0.01), (0.85, 0.01))
    assert round(change.p, 3) == 0.729
    assert wording(change) == "提高0.49个百分点，差异不显著"


def test_wording_fall_significant_with_p():
    # se = √(0.003² + 0.0028²) = 0.0041037, z = −0.012/0.0041037 = −2.924, p = 0.00345.
    change = difference((0.80, 0.003), (0.812, 0.0028))
    assert round(change.z, 3) == -2.924
    assert round(change.p, 5) == 0.00345
    assert wording(change) == "下降1.20个百分点，差异显著（p=0.003）"


def test_wording_very_small_p():
    change = difference((0.90, 0.001), (0.80, 0.001))
    assert wording(change) == "提高10.00个百分点，差异显著（p<0.001）"


def test_wording_flat_when_the_rounded_difference_is_zero():
    assert wording(difference((0.85004, 0.0001), (0.85, 0.0001))) == "与上期持平"
    assert wording(difference((0.84996, 0.01), (0.85, 0.01))) == "与上期持平"
    assert wording(difference(0.5, 0.5), against="去年同期") == "与去年同期持平"


def test_wording_points_and_scale():
    change = difference((0.8549, 0.01), (0.85, 0.01))
    assert wording(change, points=False) == "提高0.49分，差异不显著"
    # A mean of a 0–10 rating is already in points.
    rating = difference((7.80, 0.05), (7.31, 0.05))
    assert wording(rating, points=False, scale=1) == "提高0.49分，差异显著（p<0.001）"
    # Estimates already in percent.
    assert wording(difference((85.49, 1.0), (85.0, 1.0)), scale=1) == (
        "提高0.49个百分点，差异不显著"
    )


def test_wording_without_a_test():
    change = difference((0.8549, math.nan), (0.85, 0.01))
    assert wording(change) == "提高0.49个百分点，未作显著性检验"


def test_wording_follows_significance_not_size():
    # Same size of change, one significant and one not: the words differ only in the verdict.
    big_se = Change(diff=0.012, se=0.01, z=1.2, p=0.2301, significant=False)
    small_se = Change(diff=0.012, se=0.004, z=3.0, p=0.0027, significant=True)
    assert wording(big_se) == "提高1.20个百分点，差异不显著"
    assert wording(small_se) == "提高1.20个百分点，差异显著（p=0.003）"


def test_benchmark_wording():
    above = versus_benchmark((0.8549, 0.002), 0.85)
    assert benchmark_wording(above, "全省平均") == "高于全省平均0.49个百分点，差异显著（p=0.014）"
    below = versus_benchmark((0.838, 0.02), 0.85)
    assert benchmark_wording(below, "全市平均") == "低于全市平均1.20个百分点，差异不显著"
    level = versus_benchmark((0.85001, 0.02), 0.85)
    assert benchmark_wording(level, "全省平均") == "与全省平均持平"
    assert benchmark_wording(versus_benchmark((8.2, 0.1), 8.0), "全市平均", points=False,
                             scale=1) == "高于全市平均0.20分，差异显著（p=0.046）"


# --------------------------------------------------------------------------------------------
# rankings

VALUES = [0.90, 0.85, 0.85, 0.70, 0.95, 0.99]
SES = [0.01, 0.01, 0.01, 0.02, 0.06, 0.001]
COUNTS = [200, 150, 150, 100, 40, 12]


def test_suppress():
    assert suppress(COUNTS, 30).tolist() == [False, False, False, False, False, True]
    assert suppress(29, 30) is True
    assert suppress(30, 30) is False
    with pytest.raises(ValueError, match="最小样本量必须是不小于0的整数"):
        suppress(COUNTS, 2.5)


def test_rank_ranges_by_hand():
    # z* = 1.96. Pairs (|diff| / √(se_i² + se_j²)):
    #   u0–u1, u0–u2: 0.05/0.01414 = 3.54 sig   u0–u3: 0.20/0.02236 = 8.94 sig
    #   u0–u4: 0.05/0.06083 = 0.82 no          u1–u2: 0 no (tie)
    #   u1–u3, u2–u3: 0.15/0.02236 = 6.71 sig   u1–u4, u2–u4: 0.10/0.06083 = 1.64 no
    #   u3–u4: 0.25/0.06325 = 3.95 sig
    # u5 (12 respondents) is suppressed, so N = 5.
    ranked = ~suppress(COUNTS, 30)
    assert rank_ranges(VALUES, SES, ranked=ranked) == [
        (1, 2),   # nobody above; u1 u2 u3 below → 5 − 3
        (2, 4),   # u0 above; u3 below
        (2, 4),   # tied with u1
        (5, 5),   # everyone above
        (1, 4),   # nobody above; only u3 below
        None,
    ]


def test_rank_ranges_all_units_and_a_wider_level():
    # Unsuppressed, u5 (0.99 ± 0.001) is above u0..u3 (each sig) and not u4 (0.04/0.06 = 0.67).
    assert rank_ranges(VALUES, SES) == [(2, 3), (3, 5), (3, 5), (6, 6), (1, 5), (1, 2)]
    # At 99.99% (z* = 3.89) u0–u1 (3.54) is no longer significant.
    assert rank_ranges(VALUES, SES, level=0.9999, ranked=~suppress(COUNTS, 30))[:3] == [
        (1, 4), (1, 4), (1, 4),
    ]


def test_rank_ranges_with_exact_values_and_ties():
    assert rank_ranges([1.0, 1.0, 0.0], [0.0, 0.0, 0.0]) == [(1, 2), (1, 2), (3, 3)]
    assert rank_ranges([], []) == []


def test_rank_ranges_refuses_invalid_ranked_units_but_not_suppressed_ones():
    with pytest.raises(ValueError, match="第2个单位的估计值或标准误无效"):
        rank_ranges([0.8, math.nan], [0.01, 0.01])
    assert rank_ranges([0.8, math.nan], [0.01, math.nan], ranked=[True, False]) == [(1, 1), None]
    with pytest.raises(ValueError, match="个数不一致"):
        rank_ranges([0.8, 0.7], [0.01])
    with pytest.raises(ValueError, match="参与排名标记的个数"):
        rank_ranges([0.8, 0.7], [0.01, 0.01], ranked=np.array([True]))


def test_rank_range_text():
    assert rank_range_text((2, 2)) == "第2名"
    assert rank_range_text((1, 3)) == "第1–3名"
    assert rank_range_text(None) == "不排名"
