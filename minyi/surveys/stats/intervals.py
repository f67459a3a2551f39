"""Confidence intervals: Wald, Wilson and logit, with normal or Student t quantiles.

Pure Python and the standard library, so that nothing beyond numpy is needed at run time. The
t quantile is computed here (regularised incomplete beta by continued fraction, inverted by
Newton's method) because R's `svyciprop` uses `qt(·, degf(design))` and the figures must agree
with R's to the digits it prints.

Conventions, as R's survey package:
- `wald`: estimate ± q·se, q = qnorm by default (R's `confint(svymean(...))` uses df=Inf).
- `logit`: the Wald interval on the log-odds scale, back-transformed (R's svyciprop "logit":
  for an intercept-only logistic model the SE of the log-odds is se/(p(1-p)) exactly).
- `wilson`: the score interval with the effective sample size p(1-p)/se² in place of n
  (R's svyciprop "wilson", Dean & Pagano 2015).
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

__all__ = ["effective_n", "logit", "quantile", "wald", "wilson"]

_NORMAL = NormalDist()


def _check_level(level: float) -> None:
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise ValueError(f"置信水平应在 0 和 1 之间（不含端点），而不是 {level!r}")


@lru_cache(maxsize=256)
def quantile(level: float, df: float | None = None) -> float:
    """The two-sided critical value for `level`: qnorm((1+level)/2), or qt(·, df) when df is
    a finite number of degrees of freedom (df=None or inf: normal)."""
    _check_level(level)
    p = 0.5 + level / 2
    if df is None or math.isinf(df):
        return _NORMAL.inv_cdf(p)
    if not df > 0:
        raise ValueError(f"自由度应大于 0，而不是 {df!r}")
    return _t_quantile(p, float(df))


def wald(estimate: float, se: float, level: float = 0.95,
         df: float | None = None) -> tuple[float, float]:
    """estimate ± q·se."""
    q = quantile(level, df)
    return estimate - q * se, estimate + q * se


def effective_n(p: float, se: float) -> float:
    """The sample size a simple random sample would need for this SE: p(1-p)/se²
    (inf when se is 0)."""
    if se < 0 or not math.isfinite(se):
        raise ValueError(f"标准误应为非负有限数，而不是 {se!r}")
    if se == 0:
        return math.inf
    return p * (1 - p) / (se * se)


def wilson(p: float, n_eff: float, level: float = 0.95,
           df: float | None = None) -> tuple[float, float]:
    """Wilson score interval for a proportion with (effective) sample size n_eff; always
    within [0, 1], and not degenerate at p = 0 or 1 as long as n_eff is finite."""
    _check_proportion(p)
    if not n_eff > 0:
        raise ValueError(f"有效样本量应大于 0，而不是 {n_eff!r}")
    if math.isinf(n_eff):
        return p, p
    q = quantile(level, df)
    q2 = q * q
    # At the edges the bounds are exact (the general formula leaves a rounding error there).
    if p == 0:
        return 0.0, q2 / (n_eff + q2)
    if p == 1:
        return n_eff / (n_eff + q2), 1.0
    centre = p + q2 / (2 * n_eff)
    half = q / (2 * n_eff) * math.sqrt(4 * n_eff * p * (1 - p) + q2)
    denominator = 1 + q2 / n_eff
    return max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator)


def logit(p: float, se: float, level: float = 0.95,
          df: float | None = None) -> tuple[float, float]:
    """Wald interval on the log-odds scale, back-transformed. Undefined at p = 0 or 1 (the
    log-odds are infinite): callers fall back to `wilson` there."""
    _check_proportion(p)
    if p in (0.0, 1.0):
        raise ValueError("比例为 0 或 1 时无法计算 logit 区间")
    if se < 0 or not math.isfinite(se):
        raise ValueError(f"标准误应为非负有限数，而不是 {se!r}")
    q = quantile(level, df)
    centre = math.log(p / (1 - p))
    half = q * se / (p * (1 - p))
    return _expit(centre - half), _expit(centre + half)


def _check_proportion(p: float) -> None:
    if not (0 <= p <= 1):
        raise ValueError(f"比例应在 0 和 1 之间，而不是 {p!r}")


def _expit(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


# --- Student t ---------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    # Converges in O(sqrt(max(a, b))) steps; the bound leaves room for df in the millions.
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            return h
    raise ArithmeticError("incomplete beta: continued fraction did not converge")


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """Regularised incomplete beta I_x(a, b); y = 1 - x, given separately because near x = 1
    (large df) it cannot be recovered from x without losing digits."""
    if x <= 0:
        return 0.0
    if y <= 0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log(y))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1 - math.exp(log_front) * _betacf(b, a, y) / b


def _t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0."""
    t2 = t * t
    return 0.5 * _betainc(df / 2, 0.5, df / (df + t2), t2 / (df + t2))


def _t_quantile(p: float, df: float) -> float:
    """qt(p, df) for 0.5 < p < 1: Newton's method on the t distribution function; for large
    df, where differences of lgamma lose digits, the expansion in 1/df of Abramowitz & Stegun
    26.7.5 (its next term is below 1e-14 from df = 1000 on)."""
    if df >= 1000:
        z = _NORMAL.inv_cdf(p)
        z2 = z * z
        g1 = (z2 + 1) * z / 4
        g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
        g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
        g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
        return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df
    target = 1 - p
    log_norm = (math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                - 0.5 * math.log(df * math.pi))
    t = _NORMAL.inv_cdf(p)
    low, high = 0.0, math.inf
    for _ in range(200):
        tail = _t_upper_tail(t, df)
        if tail > target:
            low = t
        else:
            high = t
        density = math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))
        step = (tail - target) / density
        candidate = t + step
        if not (low < candidate < high):
            candidate = (low + high) / 2 if math.isfinite(high) else 2 * t + 1
        if abs(candidate - t) <= 1e-15 * max(1.0, abs(t)):
            return candidate
        t = candidate
    return t
