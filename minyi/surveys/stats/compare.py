"""Comparisons of estimates: change against the previous wave, against a benchmark, and rankings.

* `difference` tests two independent estimates (z test, two-sided p from the normal
  distribution); `versus_benchmark` tests one estimate against a fixed value that has no standard
  error (a province or city average).
* `wording` / `benchmark_wording` write the result in Chinese so that the words never claim more
  than the test: "提高0.49个百分点，差异不显著", "下降1.20个百分点，差异显著（p=0.003）",
  "与上期持平", "高于全省平均0.49个百分点，差异显著（p=0.003）".
* `rank_ranges` gives each unit the range of ranks its confidence allows; `suppress` marks units
  with too few respondents, which are shown as such and not ranked.

Estimates are anything with ``.estimate`` and ``.se`` (`minyi.surveys.stats.Estimate`), a mapping
with those keys, an ``(estimate, se)`` pair, or a bare number (a value known exactly, se 0).
Two estimates are treated as independent: right for two waves, and for two townships that are
separate strata of one wave; within one cluster sample it ignores their covariance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = [
    "Change",
    "benchmark_wording",
    "difference",
    "rank_range_text",
    "rank_ranges",
    "suppress",
    "versus_benchmark",
    "wording",
]


@dataclass(frozen=True)
class Change:
    """The difference ``a − b`` with its standard error, z, two-sided p and whether p < 1 − level.

    ``ci_low``/``ci_high``: the normal confidence interval of the difference at ``level``.
    ``p`` is NaN (and ``significant`` False) when there is no standard error to test with.
    """

    diff: float
    se: float
    z: float
    p: float
    significant: bool
    level: float = 0.95
    ci_low: float = math.nan
    ci_high: float = math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "diff": self.diff, "se": self.se, "z": self.z, "p": self.p,
            "significant": self.significant, "level": self.level,
            "ci_low": self.ci_low, "ci_high": self.ci_high,
        }


def _value_and_se(x: Any, what: str) -> tuple[float, float]:
    if isinstance(x, Mapping):
        value, se = x.get("estimate"), x.get("se", 0.0)
    elif hasattr(x, "estimate"):
        value, se = x.estimate, getattr(x, "se", 0.0)
    elif isinstance(x, tuple | list):
        if len(x) != 2:
            raise ValueError(f"{what}应为（估计值, 标准误）。")
        value, se = x
    else:
        value, se = x, 0.0
    try:
        value, se = float(value), float(se)
    except (TypeError, ValueError):
        raise ValueError(f"{what}的估计值或标准误不是数字。") from None
    if math.isnan(value):
        raise ValueError(f"{what}没有估计值。")
    if se < 0:
        raise ValueError(f"{what}的标准误不能为负数。")
    return value, se


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"置信水平必须在0和1之间，现为 {level}。")


def _z_critical(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def _change(diff: float, se: float, level: float) -> Change:
    if math.isnan(se):
        return Change(diff, se, math.nan, math.nan, False, level)
    if se == 0:
        # A difference between exactly known values is certain; no difference is no evidence.
        z = math.copysign(math.inf, diff) if diff != 0 else math.nan
        p = 0.0 if diff != 0 else 1.0
    else:
        z = diff / se
        p = math.erfc(abs(z) / math.sqrt(2))
    half = _z_critical(level) * se
    return Change(
        diff=diff, se=se, z=z, p=p, significant=p < 1 - level, level=level,
        ci_low=diff - half, ci_high=diff + half,
    )


def difference(a: Any, b: Any, *, level: float = 0.95) -> Change:
    """``a − b`` for two independent estimates (a: this period, b: the one compared with).

    se = √(se_a² + se_b²), z = diff / se, p = erfc(|z| / √2); significant when p < 1 − level.
    """
    _check_level(level)
    va, sa = _value_and_se(a, "本期估计")
    vb, sb = _value_and_se(b, "对比估计")
    return _change(va - vb, math.hypot(sa, sb), level)


def versus_benchmark(a: Any, benchmark: float, *, level: float = 0.95) -> Change:
    """``a − benchmark`` tested against a fixed value (no standard error): z = diff / se_a."""
    _check_level(level)
    va, sa = _value_and_se(a, "本期估计")
    try:
        bench = float(benchmark)
    except (TypeError, ValueError):
        raise ValueError(f"对比基准「{benchmark}」不是数字。") from None
    if not math.isfinite(bench):
        raise ValueError("对比基准没有数值。")
    return _change(va - bench, sa, level)


def _amount(change: Change, *, points: bool, scale: float, digits: int) -> tuple[float, str]:
    value = round(change.diff * scale, digits)
    unit = "个百分点" if points else "分"
    return value, unit


def _significance(change: Change, digits_p: int = 3) -> str:
    if math.isnan(change.p):
        return "未作显著性检验"
    if not change.significant:
        return "差异不显著"
    floor = 10.0 ** -digits_p
    p_text = f"p<{floor:.{digits_p}f}" if change.p < floor else f"p={change.p:.{digits_p}f}"
    return f"差异显著（{p_text}）"


def wording(
    change: Change,
    *,
    points: bool = True,
    scale: float = 100.0,
    digits: int = 2,
    against: str = "上期",
) -> str:
    """The change in words: "提高0.49个百分点，差异不显著", "下降1.20个百分点，差异显著（p=0.003）",
    "与上期持平" (when the difference rounds to 0 at ``digits``).

    ``change.diff`` is multiplied by ``scale`` before it is written: estimates of proportions and
    of index scores are on 0–1, so the default 100 gives percentage points (``points=True``) or
    points of a 100-point score (``points=False``, "提高0.49分"). Pass ``scale=1`` when the
    estimates are already in percent or in the unit shown (e.g. the mean of a 0–10 rating).
    """
    value, unit = _amount(change, points=points, scale=scale, digits=digits)
    if value == 0:
        return f"与{against}持平"
    verb = "提高" if value > 0 else "下降"
    return f"{verb}{abs(value):.{digits}f}{unit}，{_significance(change)}"


def benchmark_wording(
    change: Change,
    benchmark_label: str,
    *,
    points: bool = True,
    scale: float = 100.0,
    digits: int = 2,
) -> str:
    """A comparison with a benchmark in words: "高于全省平均0.49个百分点，差异显著（p=0.003）",
    "低于全市平均1.20个百分点，差异不显著", "与全省平均持平". ``scale`` as in `wording`."""
    value, unit = _amount(change, points=points, scale=scale, digits=digits)
    if value == 0:
        return f"与{benchmark_label}持平"
    verb = "高于" if value > 0 else "低于"
    return f"{verb}{benchmark_label}{abs(value):.{digits}f}{unit}，{_significance(change)}"


# --------------------------------------------------------------------------------------------
# rankings


def suppress(n: Any, min_n: int) -> Any:
    """True where a unit has fewer than ``min_n`` respondents (``n < min_n``): its figure is
    shown as "样本量不足" rather than as a number, and it takes no part in rankings — pass
    ``ranked=~suppress(n, min_n)`` to `rank_ranges`. Works on one count (gives a bool) or an
    array of counts (gives a bool array)."""
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 0:
        raise ValueError(f"最小样本量必须是不小于0的整数，现为「{min_n}」。")
    counts = np.asarray(n)
    if counts.ndim == 0:
        return bool(counts < min_n)
    return counts < min_n


def rank_ranges(
    values: Sequence[float],
    ses: Sequence[float],
    *,
    level: float = 0.95,
    ranked: Sequence[bool] | None = None,
) -> list[tuple[int, int] | None]:
    """The range of ranks each unit can hold, rank 1 being the highest value.

    Among the N ranked units, unit i's range is (1 + the number of units significantly above it,
    N − the number of units significantly below it), a pair being significantly different when
    the z test of `difference` rejects at ``level`` (no adjustment for multiple comparisons).
    Tied or indistinguishable units share ranges. Units with ``ranked`` False get None.
    """
    _check_level(level)
    v = np.asarray(values, dtype=float)
    s = np.asarray(ses, dtype=float)
    if v.ndim != 1 or s.shape != v.shape:
        raise ValueError("估计值与标准误的个数不一致。")
    mask = np.ones(v.shape, dtype=bool) if ranked is None else np.asarray(ranked, dtype=bool)
    if mask.shape != v.shape:
        raise ValueError("参与排名标记的个数与估计值个数不一致。")
    bad = mask & ~(np.isfinite(v) & np.isfinite(s) & (s >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"第{i + 1}个单位的估计值或标准误无效，不能参与排名（可先标记为不排名）。")
    idx = np.flatnonzero(mask)
    vr, sr = v[idx], s[idx]
    diff = vr[None, :] - vr[:, None]  # diff[i, j] = v_j − v_i
    se = np.sqrt(sr[:, None] ** 2 + sr[None, :] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.sign(diff) * np.inf)
    # |z| > z* is p < 1 − level for the normal test, the rule `difference` uses.
    crit = _z_critical(level)
    above = (z > crit).sum(axis=1)
    below = (z < -crit).sum(axis=1)
    n = idx.size
    result: list[tuple[int, int] | None] = [None] * v.size
    for k, i in enumerate(idx):
        result[int(i)] = (1 + int(above[k]), n - int(below[k]))
    return result


def rank_range_text(rank_range: tuple[int, int] | None) -> str:
    """"第2名", "第1–3名", or "不排名" for a suppressed unit."""
    if rank_range is None:
        return "不排名"
    low, high = rank_range
    return f"第{low}名" if low == high else f"第{low}–{high}名"
