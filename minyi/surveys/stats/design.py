"""Design-based estimates of means, totals and proportions, as R's survey package makes them.

A `Design` describes how the respondents were drawn: weights, strata, one or two stages of
clusters and the finite population corrections. `estimate` and `estimate_by` give the estimate,
its Taylor-linearised standard error, a confidence interval and the design effect, for the
whole sample, a domain (a boolean mask) or every group of a variable at once.

What R does, and so what is done here (R: survey 4.x, `svydesign`, `svymean`, `svytotal`,
`svyby`, `svyciprop`, `multistage.R`):

- Variance: the linearised values z (w·y for a total, w·(y - ȳ)/Σw for a mean) are summed per
  primary sampling unit (PSU); within each stratum h with n_h PSUs the variance contribution is
  f_h·n_h/(n_h-1)·Σ(t_p - t̄_h)², f_h = (N_h - n_h)/N_h with a population size N_h (fpc), else 1.
  With two stages and an fpc for both, each PSU adds (n_h/N_h)·f_2·m/(m-1)·Σ(t_q - t̄_p)² over
  its m secondary units (R's recursive `multistage`); without fpc2 the first stage alone is
  used (the "ultimate cluster" estimate R gives when no fpc is set).
- fpc: population sizes (any value > 1: then all must be >= 1) or sampling fractions (all
  <= 1), per row, constant within a stratum (stage 1) or PSU (stage 2). Without weights, the
  weights are those the fpc implies (Π N/n over the stages), as R does.
- Domains (`domain=`, `estimate_by`, and rows whose y is missing): the estimate is made for the
  domain, but the variance on the whole design with z = 0 outside the domain; this is what R
  gives for `svyby`, `subset(design, …)` and `na.rm=TRUE` (the numbers of PSUs per stratum stay
  those of the design). Degrees of freedom of a domain are the PSUs that have domain members
  less the strata that have domain members (R's `degf` of the subset design).
- Clusters are numbered within strata (R's `nest=TRUE`) and secondary units within PSUs.
- A stratum with a single PSU (not taken with certainty, i.e. f > 0): `lonely_psu` as R's
  option `survey.lonely.psu`: "fail" (R's default: an error naming the stratum), "certainty"
  and "remove" (the stratum adds nothing), "adjust" (its PSU total is centred at zero, the
  population mean, instead of at the stratum mean), "average" (the stratum is replaced by the
  average of the other strata). The same rule applies at stage 2 to a PSU with one secondary
  unit; "average" is refused there (R returns NaN).
- Design effects as R's `deff=TRUE`: the design variance over the variance of a simple random
  sample without replacement of the same size n drawn from a population of N = Σw:
  s²·(N-n)/(N·n) for a mean, N²·s²·(N-n)/(N·n) for a total, s² = n/(n-1)·Σw(y-ȳ)²/Σw. This
  does not depend on whether the design has an fpc. `deff="replace"` (R's deff="replace") uses
  s²/n. None when it cannot be formed (N <= n without "replace", n < 2, s² = 0).
- Intervals: `normal` is R's `confint(svymean(...))` (qnorm); `logit` and `wilson` are R's
  `svyciprop` methods, with a t quantile on degf degrees of freedom. Where R cannot form them
  (a proportion of exactly 0 or 1, whose linearised SE is 0) the Wilson interval with the
  number of respondents as the sample size is given instead; a domain with no degrees of
  freedom (all its members in one PSU) gets no interval (NaN).

Every function is O(n log n) in the number of rows, with no Python loop over strata, PSUs or
groups: units are coded once with `np.unique(return_inverse=True)` and summed with
`np.bincount`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import intervals

__all__ = ["Design", "Estimate", "estimate", "estimate_by"]

Stat = Literal["mean", "total", "proportion"]
CiMethod = Literal["normal", "wilson", "logit"]
LONELY_PSU = ("fail", "certainty", "remove", "adjust", "average")
# Below this sampling fraction a stratum is taken with certainty and adds no variance (R).
CERTAINTY = 1e-7


# --- the design ---------------------------------------------------------------------------


class Design:
    """A sampling design: weights, strata, clusters (PSU, optionally SSU) and fpc per stage.

    Every array has one value per respondent, in the same order as the y given to `estimate`.
    A design without any array (simple random sampling with replacement, weights 1) fits
    any y.
    """

    def __init__(self, weights: Any = None, strata: Any = None,
                 clusters: Sequence[Any] | np.ndarray = (),
                 fpc: Sequence[Any] | np.ndarray = (), *,
                 lonely_psu: str = "fail") -> None:
        if lonely_psu not in LONELY_PSU:
            raise ValueError(f"lonely_psu 应为 {'、'.join(LONELY_PSU)} 之一，而不是 {lonely_psu!r}")
        clusters = _as_stages(clusters, "clusters")
        fpc = _as_stages(fpc, "fpc")
        if len(clusters) > 2:
            raise ValueError("最多支持两阶段整群抽样（clusters 至多两列）")
        if len(fpc) > max(1, len(clusters)):
            raise ValueError(f"fpc 给了 {len(fpc)} 个阶段，"
                             f"而抽样只有 {max(1, len(clusters))} 个阶段")
        self.lonely_psu = lonely_psu
        self._weights = weights
        self._strata = strata
        self._clusters = clusters
        self._fpc = fpc
        lengths = {len(np.atleast_1d(a)) for a in (weights, strata, *clusters, *fpc)
                   if a is not None and np.ndim(a) > 0}
        if len(lengths) > 1:
            raise ValueError(f"抽样设计各变量的长度不一致：{sorted(lengths)}")
        self._n: int | None = lengths.pop() if lengths else None
        self._frames: dict[int, _Frame] = {}
        if self._n is not None:
            self._frames[self._n] = _build_frame(self, self._n)

    @property
    def n(self) -> int | None:
        """The number of respondents, or None for a design without arrays."""
        return self._n

    def _frame(self, n: int) -> _Frame:
        if self._n is not None and n != self._n:
            raise ValueError(f"变量有 {n} 个值，而抽样设计有 {self._n} 行")
        if n not in self._frames:
            self._frames[n] = _build_frame(self, n)
        return self._frames[n]

    def degf(self, n: int | None = None) -> int:
        """Degrees of freedom of the whole design: PSUs less strata (R's `degf`); n is needed
        only for a design without arrays."""
        if n is None and self._n is None:
            raise ValueError("该抽样设计没有数组，需给出样本量 n")
        frame = self._frame(self._n if n is None else n)
        return frame.n_psu - frame.n_strata


def _as_stages(value: Any, name: str) -> tuple[Any, ...]:
    """A tuple holds one entry per stage; a list of scalars or a 1-d array is one stage."""
    if value is None:
        return ()
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        if value and all(np.ndim(v) == 0 for v in value):
            return (np.asarray(value),)
        return tuple(value)
    if np.ndim(value) == 1 or (np.ndim(value) == 0 and name == "fpc"):
        return (value,)
    raise ValueError(f"{name} 应为每阶段一个数组的元组，如 (psu,) 或 (psu, ssu)")


@dataclass
class _Stage:
    """One sampling stage: units (PSUs or SSUs) within parents (strata or PSUs)."""

    number: int
    unit: np.ndarray | None  # per row; None: each row is a unit
    n_units: int
    parent_of_unit: np.ndarray  # per unit (per row when unit is None)
    n_parents: int
    count: np.ndarray  # units per parent in the whole design
    scale: np.ndarray  # variance multiplier per parent
    factor: np.ndarray  # f per parent ("adjust" for a lonely parent)
    lonely: np.ndarray  # one unit and not taken with certainty
    parent_label: Any  # parent code -> a name for messages


@dataclass
class _Frame:
    n: int
    weights: np.ndarray
    stratum: np.ndarray  # per row
    n_strata: int
    psu: np.ndarray | None  # per row; None: rows are the PSUs
    n_psu: int
    stages: list[_Stage]
    lonely_psu: str


def _build_frame(design: Design, n: int) -> _Frame:
    clusters, fpc = design._clusters, design._fpc
    if design._strata is None:
        strata_labels, stratum = np.array(["(全部)"]), np.zeros(n, dtype=np.int64)
    else:
        strata_labels, stratum = _factorize(design._strata, "strata", n)
    n_strata = len(strata_labels)

    if clusters:
        psu_labels, psu_raw = _factorize(clusters[0], "clusters[0]", n)
        psu, psu_stratum, psu_id = _nest(psu_raw, len(psu_labels), stratum, n_strata)
        n_psu = len(psu_stratum)
        rows_are_psus = False
    else:
        psu, psu_stratum, n_psu, rows_are_psus = None, stratum, n, True
    n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)

    # Population sizes per row and stage, as R's as.fpc: all >= 1 (sizes) or all <= 1
    # (fractions, turned into sizes: sample size / fraction).
    values = [_numeric(f, f"fpc[{k}]", n, allow_scalar=True) for k, f in enumerate(fpc)]
    is_size = any(np.any(v > 1) for v in values)
    for k, v in enumerate(values):
        if is_size and np.any(v < 1):
            raise ValueError(f"fpc[{k}] 混用了总体规模（>1）与抽样比（<1）："
                             "应全部为总体规模或全部为抽样比")
        if not is_size and np.any(v <= 0):
            raise ValueError(f"fpc[{k}] 作为抽样比必须大于 0")

    stage1_count = n_h[stratum]
    pop1 = None
    if values:
        pop1 = values[0] if is_size else stage1_count / values[0]
        _check_population(pop1, stage1_count, stratum, n_strata,
                          lambda h: f"分层 {_label(strata_labels[h])!r}", 1)
    factor1 = _finite_factor(pop1, stratum, n_strata, n_h)
    pi1 = np.ones(n_strata) if pop1 is None else _per_parent(n_h[stratum] / pop1, stratum,
                                                             n_strata)

    stages = [_make_stage(1, None if rows_are_psus else psu, n_psu,
                          stratum if rows_are_psus else psu_stratum, n_strata, n_h, factor1,
                          lambda h: f"分层 {_label(strata_labels[h])!r}")]

    weights_from_fpc = None
    if pop1 is not None:
        weights_from_fpc = pop1 / stage1_count

    if len(clusters) == 2:
        ssu_labels, ssu_raw = _factorize(clusters[1], "clusters[1]", n)
        ssu, ssu_psu, _ = _nest(ssu_raw, len(ssu_labels), psu, n_psu)
        m_p = np.bincount(ssu_psu, minlength=n_psu).astype(np.int64)

        def psu_name(p: int) -> str:
            return (f"分层 {_label(strata_labels[psu_stratum[p]])!r} 中的初级单位 "
                    f"{_label(psu_labels[psu_id[p]])!r}")

        if len(values) == 2:
            stage2_count = m_p[psu]
            pop2 = values[1] if is_size else stage2_count / values[1]
            _check_population(pop2, stage2_count, psu, n_psu, psu_name, 2)
            factor2 = _finite_factor(pop2, psu, n_psu, m_p)
            # R multiplies the second stage of each PSU by n_h/N_h of its stratum.
            stage2 = _make_stage(2, ssu, len(ssu_psu), ssu_psu, n_psu, m_p, factor2, psu_name)
            stage2.scale = stage2.scale * pi1[psu_stratum]
            stage2.factor = stage2.factor * pi1[psu_stratum]
            stages.append(stage2)
            weights_from_fpc = weights_from_fpc * pop2 / stage2_count

    if design._weights is not None:
        weights = _numeric(design._weights, "weights", n, allow_scalar=True)
        if np.any(weights < 0):
            row = int(np.flatnonzero(weights < 0)[0])
            raise ValueError(f"权重不能为负数（第 {row + 1} 个值为 {weights[row]:g}）")
    elif weights_from_fpc is not None:
        weights = weights_from_fpc
    else:
        weights = np.ones(n)
    return _Frame(n=n, weights=np.ascontiguousarray(weights, dtype=np.float64),
                  stratum=stratum, n_strata=n_strata, psu=psu, n_psu=n_psu, stages=stages,
                  lonely_psu=design.lonely_psu)


def _nest(unit: np.ndarray, n_units: int, parent: np.ndarray,
          n_parents: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units numbered within their parents (R's nest=TRUE): per row the unit code, per unit
    its parent and its original id code. Ids already unique across parents are kept as they
    are, without a sort."""
    parent_of = np.full(n_units, -1, dtype=np.int64)
    parent_of[unit] = parent
    if np.array_equal(parent_of[unit], parent):
        return unit, parent_of, np.arange(n_units)
    keys, codes = _codes(parent * n_units + unit, n_parents * n_units)
    return codes, keys // n_units, keys % n_units


def _make_stage(number: int, unit: np.ndarray | None, n_units: int, parent_of_unit: np.ndarray,
                n_parents: int, count: np.ndarray, factor: np.ndarray, name: Any) -> _Stage:
    certain = factor < CERTAINTY
    single = count == 1
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(single | certain, 0.0, factor * count / np.maximum(count - 1, 1))
    return _Stage(number=number, unit=unit, n_units=n_units, parent_of_unit=parent_of_unit,
                  n_parents=n_parents, count=count, scale=scale,
                  factor=np.where(certain, 0.0, factor), lonely=single & ~certain,
                  parent_label=name)


def _finite_factor(pop: np.ndarray | None, parent: np.ndarray, n_parents: int,
                   count: np.ndarray) -> np.ndarray:
    """f = (N - n)/N per parent; 1 without fpc or for an infinite N."""
    if pop is None:
        return np.ones(n_parents)
    size = _per_parent(pop, parent, n_parents)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.isinf(size), 1.0, (size - count) / size)
    return np.where(count > 0, f, 1.0)


def _per_parent(values: np.ndarray, parent: np.ndarray, n_parents: int) -> np.ndarray:
    out = np.ones(n_parents)
    out[parent] = values
    return out


def _check_population(pop: np.ndarray, count: np.ndarray, parent: np.ndarray, n_parents: int,
                      name: Any, stage: int) -> None:
    per_parent = _per_parent(pop, parent, n_parents)
    varies = ~np.isclose(per_parent[parent], pop, rtol=1e-9, atol=0)
    if np.any(varies):
        p = int(parent[np.flatnonzero(varies)[0]])
        raise ValueError(f"{name(p)} 内的 fpc 不一致（第 {stage} 阶段）：同一层内应为同一个值")
    small = pop < count * (1 - 1e-9)
    if np.any(small):
        row = int(np.flatnonzero(small)[0])
        raise ValueError(f"{name(int(parent[row]))} 的 fpc 意味着超过 100% 的抽样"
                         f"（第 {stage} 阶段：总体 {pop[row]:g}，样本 {count[row]}）")


# --- inputs -------------------------------------------------------------------------------


def _is_missing_object(values: np.ndarray) -> np.ndarray:
    """None, "" or NaN, element by element (NaN is the value that differs from itself)."""
    with np.errstate(invalid="ignore"):
        return ((values == None) | (values == "") | (values != values))  # noqa: E711


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "US":
        return values == values.dtype.type("")
    if values.dtype.kind == "O":
        return _is_missing_object(values)
    return np.zeros(len(values), dtype=bool)


def _factorize(values: Any, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} 应为长度 {n} 的一维数组")
    missing = _missing(arr)
    if np.any(missing):
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(f"{name} 有缺失值（第 {row + 1} 个值）")
    return _codes(arr)


def _codes(values: np.ndarray, span: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (sorted) and each value's position among them: np.unique with
    return_inverse, in one linear pass for integers of a moderate range (ids, level codes),
    by sorting otherwise. `span`: an upper bound of the values when known."""
    if values.dtype.kind == "b":
        values = values.astype(np.int64)
    if values.dtype.kind in "iu" and len(values):
        low = 0 if span is not None else int(values.min())
        high = span - 1 if span is not None else int(values.max())
        if high - low < max(4 * len(values), 1 << 16):
            shifted = values - low if low else values
            seen = np.zeros(high - low + 1, dtype=bool)
            seen[shifted] = True
            distinct = np.flatnonzero(seen)
            position = np.zeros(high - low + 1, dtype=np.int64)
            position[distinct] = np.arange(len(distinct))
            return (distinct + low).astype(values.dtype, copy=False), position[shifted]
    try:
        distinct, inverse = np.unique(values, return_inverse=True)
    except TypeError:  # objects of mixed types
        distinct, inverse = np.unique(values.astype(str), return_inverse=True)
    return distinct, inverse.astype(np.int64, copy=False).ravel()


def _numeric(values: Any, name: str, n: int, *, allow_scalar: bool = False) -> np.ndarray:
    if allow_scalar and np.ndim(values) == 0:
        values = np.full(n, values)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} 应为数值") from None
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} 应为长度 {n} 的一维数组")
    bad = ~np.isfinite(arr)
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} 有缺失或非有限值（第 {row + 1} 个值）")
    return arr


def _label(value: Any) -> Any:
    """A numpy scalar as a plain Python value; integral floats as ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- estimates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """One estimate with its standard error, confidence interval and design effect."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    deff: float | None
    n: int
    level: float = 0.95
    label: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For JSON: estimate, se, ci_low, ci_high, deff, n (and label when set); values
        that are not finite numbers become None."""
        out: dict[str, Any] = {
            "estimate": _finite(self.estimate), "se": _finite(self.se),
            "ci_low": _finite(self.ci_low), "ci_high": _finite(self.ci_high),
            "deff": _finite(self.deff), "n": self.n,
        }
        if self.label is not None:
            out["label"] = self.label
        return out


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def estimate(y: Any, design: Design, *, stat: Stat = "mean", domain: Any = None,
             level: float = 0.95, ci: CiMethod | None = None,
             deff: bool | Literal["replace"] = True) -> Estimate | list[Estimate]:
    """The mean, total or proportion of y over the design (or a domain of it).

    y may hold NaN (None or "" for labels): those rows are left out as R's na.rm=TRUE does,
    as a domain, so that the standard errors stay right. A "proportion" of a 0/1 (or bool)
    variable is one Estimate; of any other variable one Estimate per level (label set), levels
    sorted. Default intervals: normal for means and totals, logit for proportions.
    """
    n = _length(y)
    frame = design._frame(n)
    group = np.zeros(n, dtype=np.int64)
    if domain is not None:
        mask = _domain_mask(domain, n)
        group[~mask] = -1
    result = _estimate(y, frame, group, 1, stat=stat, level=level, ci=ci, deff=deff)
    if result.n_valid[0] == 0:
        raise ValueError("没有可用于估计的观测（全部缺失、权重为 0 或不在子总体内）")
    estimates = result.estimates(0, None)
    return estimates if result.labels is not None else estimates[0]


def estimate_by(y: Any, design: Design, groups: Any, *, stat: Stat = "mean",
                domain: Any = None, level: float = 0.95, ci: CiMethod | None = None,
                deff: bool | Literal["replace"] = True
                ) -> dict[Any, Estimate | list[Estimate]]:
    """`estimate` for every group at once (R's svyby): each group is a domain of the whole
    design. Rows whose group is missing belong to no group. Keys in sorted order; a group
    whose y are all missing gets NaN figures and n = 0."""
    n = _length(y)
    frame = design._frame(n)
    arr = np.asarray(groups)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"分组变量应有 {n} 个值，而不是 {len(arr) if arr.ndim else 1} 个")
    missing = _missing(arr)
    present = ~missing
    if np.all(present):
        keys, group = _codes(arr)
    else:
        keys, codes = _codes(arr[present])
        group = np.full(n, -1, dtype=np.int64)
        group[present] = codes
    if domain is not None:
        group[~_domain_mask(domain, n)] = -1
    result = _estimate(y, frame, group, len(keys), stat=stat, level=level, ci=ci, deff=deff)
    out: dict[Any, Estimate | list[Estimate]] = {}
    for g, key in enumerate(keys):
        key = _label(key)
        estimates = result.estimates(g, str(key))
        out[key] = estimates if result.labels is not None else estimates[0]
    return out


def _length(y: Any) -> int:
    if np.ndim(y) != 1:
        raise ValueError("y 应为一维数组")
    return len(y)


def _domain_mask(domain: Any, n: int) -> np.ndarray:
    mask = np.asarray(domain)
    if mask.dtype != bool or mask.ndim != 1:
        raise ValueError("domain 应为布尔数组")
    if len(mask) != n:
        raise ValueError(f"domain 有 {len(mask)} 个值，而 y 有 {n} 个")
    return mask


@dataclass
class _Result:
    estimate: np.ndarray  # (G, K)
    variance: np.ndarray  # (G, K)
    deff: np.ndarray  # (G, K), NaN where none
    n_valid: np.ndarray  # (G,)
    df: np.ndarray  # (G,)
    labels: list[str] | None  # K levels, or None for a single column
    stat: str
    level: float
    ci: str

    def estimates(self, g: int, group_label: str | None) -> list[Estimate]:
        out = []
        for k in range(self.estimate.shape[1]):
            est = float(self.estimate[g, k])
            var = float(self.variance[g, k])
            se = math.sqrt(var) if var >= 0 else math.nan
            low, high = _interval(est, se, int(self.n_valid[g]), float(self.df[g]),
                                  self.stat, self.ci, self.level)
            d = float(self.deff[g, k])
            label = self.labels[k] if self.labels is not None else group_label
            out.append(Estimate(estimate=est, se=se, ci_low=low, ci_high=high,
                                deff=d if math.isfinite(d) else None,
                                n=int(self.n_valid[g]), level=self.level, label=label))
        return out


def _interval(est: float, se: float, n: int, df: float, stat: str, ci: str,
              level: float) -> tuple[float, float]:
    if not (math.isfinite(est) and math.isfinite(se)):
        return math.nan, math.nan
    if ci == "normal":
        return intervals.wald(est, se, level)
    if df < 1:
        return math.nan, math.nan  # qt(·, 0) does not exist: R gives NaN too
    if est in (0.0, 1.0) or se == 0:
        if est in (0.0, 1.0):
            return intervals.wilson(est, n, level, df)
        return est, est
    if ci == "logit":
        return intervals.logit(est, se, level, df)
    return intervals.wilson(est, intervals.effective_n(est, se), level, df)


def _estimate(y: Any, frame: _Frame, group: np.ndarray, n_groups: int, *, stat: str,
              level: float, ci: str | None, deff: Any) -> _Result:
    if stat not in ("mean", "total", "proportion"):
        raise ValueError(f"stat 应为 mean、total 或 proportion，而不是 {stat!r}")
    if ci is None:
        ci = "logit" if stat == "proportion" else "normal"
    if ci not in ("normal", "wilson", "logit"):
        raise ValueError(f"ci 应为 normal、wilson 或 logit，而不是 {ci!r}")
    if ci != "normal" and stat != "proportion":
        raise ValueError(f"{ci} 区间只适用于比例（stat=\"proportion\"）")
    if deff not in (True, False, "replace"):
        raise ValueError(f"deff 应为 True、False 或 \"replace\"，而不是 {deff!r}")
    intervals.quantile(level)  # checks the level

    values, labels = _outcome(y, stat)
    valid = (values >= 0) if labels is not None else ~np.isnan(values)
    valid &= group >= 0
    valid &= frame.weights > 0
    # Rows that take part; every row in the common case, without copying the columns.
    rows: np.ndarray | slice = slice(None) if valid.all() else np.flatnonzero(valid)
    g = group[rows]
    w = frame.weights[rows]
    n_valid = np.bincount(g, minlength=n_groups)
    weight_sum = _sum(g, w, n_groups)

    # Columns as rows (k, m), so that each column is contiguous: the variable, or one
    # indicator per level.
    if labels is None:
        k = 1
        y_cols = values[rows][None, :]
        sums = _sum(g, w * y_cols[0], n_groups)[None, :]
    else:
        k = len(labels)
        codes = values[rows].astype(np.int64)
        y_cols = np.zeros((k, len(codes)))
        y_cols[codes, np.arange(len(codes))] = 1.0
        sums = _sum(g * k + codes, w, n_groups * k).reshape(n_groups, k).T
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / weight_sum  # (k, G)
        centred = y_cols - means[:, g]
        if stat == "total":
            est = sums
            z = w * y_cols
        else:
            est = means
            z = centred * (w / weight_sum[g])
    variance, df = _variance(frame, rows, g, n_groups, z)

    deffs = np.full((k, n_groups), np.nan)
    if deff:
        with np.errstate(divide="ignore", invalid="ignore"):
            nv = n_valid.astype(float)
            if labels is None:
                s2 = _sum(g, w * centred[0] ** 2, n_groups)[None, :] / weight_sum
            else:
                s2 = means * (1 - means)
            s2 = s2 * nv / (nv - 1)
            big_n = weight_sum
            srs = s2 / nv if deff == "replace" else s2 * (big_n - nv) / (big_n * nv)
            if stat == "total":
                srs = srs * big_n ** 2
            ok = (nv > 1) & (srs > 0) & np.isfinite(srs)
            deffs = np.where(ok, variance / np.where(ok, srs, 1.0), np.nan)
    empty = n_valid == 0
    est = est.copy()
    est[:, empty] = np.nan
    variance[:, empty] = np.nan
    return _Result(estimate=est.T, variance=variance.T, deff=deffs.T, n_valid=n_valid, df=df,
                   labels=labels, stat=stat, level=level, ci=ci)


def _outcome(y: Any, stat: str) -> tuple[np.ndarray, list[str] | None]:
    """Numeric values (NaN: missing), or for a proportion of anything but 0/1 the level codes
    (-1: missing) and the level names."""
    arr = np.asarray(y)
    numeric: np.ndarray | None
    if arr.dtype.kind in "biuf":
        numeric = arr.astype(np.float64, copy=False)
    elif arr.dtype.kind == "O":
        try:
            numeric = np.array([math.nan if v is None else v for v in arr], dtype=np.float64)
        except (TypeError, ValueError):
            numeric = None
    else:
        numeric = None
    if stat != "proportion":
        if numeric is None:
            raise ValueError(f"{stat} 需要数值型变量")
        if np.any(np.isinf(numeric)):
            raise ValueError("变量中有无穷大的值")
        return numeric, None
    if numeric is not None:
        present = ~np.isnan(numeric)
        if not np.any((numeric != 0) & (numeric != 1) & present):
            return numeric, None
        source = arr if arr.dtype.kind in "biu" else numeric
    else:
        present = ~_missing(arr)
        source = arr
    if present.all():
        levels, codes = _codes(source)
        out = codes.astype(np.float64)
    else:
        levels, codes = _codes(source[present])
        out = np.full(len(arr), -1.0)
        out[present] = codes
    return out, [str(_label(v)) for v in levels]


# --- variance -----------------------------------------------------------------------------


def _sum(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sums of values per index, as floats even when there are none (bincount gives ints)."""
    return np.bincount(index, values, minlength=size).astype(np.float64, copy=False)


def _variance(frame: _Frame, rows: np.ndarray | slice, g: np.ndarray, n_groups: int,
              z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linearisation variance per column and group (k, G), and degrees of freedom per group.

    z holds the linearised values of the rows taking part (k, m); the rest of the design
    counts as zero, so each PSU total is compared with the mean over all PSUs of its stratum
    in the design, as R's `onestrat` does for a subset."""
    k = z.shape[0]
    total = np.zeros((k, n_groups))
    df = np.zeros(n_groups)
    if len(g) == 0:
        return total, df
    for stage in frame.stages:
        if stage.unit is None:
            # Each row is a unit: its total is its own value.
            pair_group, t, parent = g, z, stage.parent_of_unit[rows]
        else:
            # Totals of z per (unit, group) that has members.
            pairs, where = _codes(stage.unit[rows] * n_groups + g, stage.n_units * n_groups)
            pair_group = pairs % n_groups
            t = np.vstack([_sum(where, z[j], len(pairs)) for j in range(k)])
            parent = stage.parent_of_unit[pairs // n_groups]
        # Per (parent, group): the mean over all the parent's units in the design (those with
        # no member of the group count as zero) and the squared deviations from it.
        cells, cell = _codes(parent * n_groups + pair_group, stage.n_parents * n_groups)
        cell_parent, cell_group = cells // n_groups, cells % n_groups
        members = np.bincount(cell, minlength=len(cells))
        count = stage.count[cell_parent].astype(float)
        sums = np.vstack([_sum(cell, t[j], len(cells)) for j in range(k)])
        mean = sums / count
        squares = np.vstack([_sum(cell, (t[j] - mean[j][cell]) ** 2, len(cells))
                             for j in range(k)])
        squares += (count - members) * mean ** 2
        lonely = stage.lonely[cell_parent]
        contribution = stage.scale[cell_parent] * squares
        if np.any(lonely):
            contribution = _lonely(frame.lonely_psu, stage, cell_parent, lonely, sums,
                                   contribution)
        part = np.vstack([_sum(cell_group, contribution[j], n_groups) for j in range(k)])
        if frame.lonely_psu == "average" and np.any(lonely):
            present = np.bincount(cell_group, minlength=n_groups)
            ok = np.bincount(cell_group, ~lonely, minlength=n_groups)
            if np.any(ok[present > 0] == 0):
                raise ValueError("子总体所在的各层都只有一个初级抽样单位，"
                                 "lonely_psu=\"average\" 无法估计方差")
            part = part * np.where(ok > 0, present / np.maximum(ok, 1), 0.0)
        total += part
        if stage.number == 1:
            df = (np.bincount(pair_group, minlength=n_groups)
                  - np.bincount(cell_group, minlength=n_groups)).astype(float)
    return total, df


def _lonely(rule: str, stage: _Stage, cell_parent: np.ndarray, lonely: np.ndarray,
            sums: np.ndarray, contribution: np.ndarray) -> np.ndarray:
    """Contributions of parents with a single unit, as R's survey.lonely.psu."""
    if rule == "fail":
        parent = int(cell_parent[np.flatnonzero(lonely)[0]])
        unit = "初级抽样单位" if stage.number == 1 else "二级抽样单位"
        raise ValueError(f"{stage.parent_label(parent)} 只有一个{unit}（第 {stage.number} 阶段），"
                         "无法估计方差；可合并该层，或改用 lonely_psu=\"certainty\"、\"adjust\"")
    if rule == "average" and stage.number == 2:
        raise ValueError("lonely_psu=\"average\" 不适用于第 2 阶段只有一个二级单位的初级单位")
    contribution = contribution.copy()
    if rule == "adjust":
        # Centred at zero, the overall mean of the linearised values, with scale f.
        contribution[:, lonely] = stage.factor[cell_parent[lonely]] * sums[:, lonely] ** 2
    else:
        contribution[:, lonely] = 0.0
    return contribution
