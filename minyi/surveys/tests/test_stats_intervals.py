"""Intervals: the quantiles R uses, and the Wilson and logit intervals of svyciprop.

References: [jl-confint] xKDR/Survey.jl test/r_reference/confint.csv, written by R survey 4.5
(generate_fixtures.R): confint(svymean(~api00, d)) with qnorm, and with df = degf(d) (qt); the
estimates and SEs come from est_basic.csv of the same run. The logit and Wilson intervals on
the api data, against R's svyciprop, are in test_stats_design.py.
"""

from __future__ import annotations

import math

import pytest

from minyi.surveys.stats import effective_n, logit, wilson
from minyi.surveys.stats.intervals import quantile, wald


def test_normal_quantile_is_qnorm():
    assert quantile(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    assert quantile(0.95, math.inf) == quantile(0.95)
    assert quantile(0.9) == pytest.approx(1.6448536269514722, rel=1e-15)


@pytest.mark.parametrize(("mean", "se", "df", "low", "high"), [
    # [jl-confint] clus1_fpc: svydesign(id=~dnum, fpc=~fpc), degf 14
    (644.169398907105, 23.5422406937812, 14, 593.676314463327, 694.662483350884),
    # [jl-confint] strat_fpc: svydesign(id=~1, strata=~stype, fpc=~fpc), degf 197
    (662.287363577655, 9.408940879434, 197, 643.732188539262, 680.842538616048),
    # [jl-confint] srs_w: 199 df
    (656.584999999999, 9.40277217088064, 199, 638.043141883523, 675.126858116475),
])
def test_t_intervals_match_r(mean, se, df, low, high):
    found = wald(mean, se, 0.95, df)
    assert found[0] == pytest.approx(low, rel=1e-12)
    assert found[1] == pytest.approx(high, rel=1e-12)


def test_normal_interval_matches_r():
    # [jl-confint] clus1_fpc normal bounds
    low, high = wald(644.169398907105, 23.5422406937812)
    assert low == pytest.approx(598.027455031921, rel=1e-12)
    assert high == pytest.approx(690.31134278229, rel=1e-12)


def test_t_quantile_is_accurate_for_small_and_large_df():
    # qt(0.975, 1) = tan(pi * 0.475) exactly; large df tends to qnorm
    assert quantile(0.95, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-12)
    # qt(1 - a/2, 2) = sqrt(2/(a(2-a)) - 2)
    assert quantile(0.95, 2) == pytest.approx(math.sqrt(2 / (0.05 * 1.95) - 2), rel=1e-12)
    z = quantile(0.95)
    assert quantile(0.95, 10**6) == pytest.approx(z + (z**3 + z) / 4e6, rel=1e-11)
    assert quantile(0.95, 999) > quantile(0.95, 1000) > quantile(0.95, 1001)


def test_wilson_solves_the_score_equation():
    # The bounds are the two roots of (p - π)² = q² π(1-π)/n.
    p, n = 0.3, 40.0
    q = quantile(0.95)
    for bound in wilson(p, n):
        assert (p - bound) ** 2 == pytest.approx(q * q * bound * (1 - bound) / n, rel=1e-12)
    low, high = wilson(p, n)
    assert 0 < low < p < high < 1
    # with a t quantile the interval is wider
    t_low, t_high = wilson(p, n, df=5)
    assert t_low < low and t_high > high


def test_wilson_at_the_edges_and_with_no_variance():
    q2 = quantile(0.95) ** 2
    assert wilson(0.0, 20) == (0.0, pytest.approx(q2 / (20 + q2)))
    assert wilson(1.0, 20) == (pytest.approx(20 / (20 + q2)), 1.0)
    assert wilson(0.4, math.inf) == (0.4, 0.4)


def test_logit_interval():
    p, se = 0.2, 0.05
    low, high = logit(p, se)
    half = quantile(0.95) * se / (p * (1 - p))
    assert math.log(low / (1 - low)) == pytest.approx(math.log(p / (1 - p)) - half, rel=1e-12)
    assert math.log(high / (1 - high)) == pytest.approx(math.log(p / (1 - p)) + half, rel=1e-12)
    # asymmetric: more room towards the middle than towards 0
    assert p - low < high - p
    # near 0 it stays inside [0, 1] where the Wald interval does not
    low, high = logit(0.02, 0.02)
    assert 0 < low < 0.02 < high < 1
    assert wald(0.02, 0.02)[0] < 0


def test_effective_n():
    assert effective_n(0.5, 0.05) == pytest.approx(100)
    assert effective_n(0.2, 0.04) == pytest.approx(100)
    assert effective_n(0.3, 0.0) == math.inf


def test_bad_arguments():
    with pytest.raises(ValueError, match="置信水平"):
        quantile(1.5)
    with pytest.raises(ValueError, match="自由度"):
        quantile(0.95, 0)
    with pytest.raises(ValueError, match="比例应在 0 和 1 之间"):
        wilson(1.2, 10)
    with pytest.raises(ValueError, match="有效样本量"):
        wilson(0.5, 0)
    with pytest.raises(ValueError, match="比例为 0 或 1 时无法计算 logit 区间"):
        logit(1.0, 0.0)
    with pytest.raises(ValueError, match="标准误"):
        effective_n(0.5, -1)
