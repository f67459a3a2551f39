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
- Calibration (`Design(..., calibration=Calibration(...))`), as R's svyrecvar does for a
  design that went through postStratify, rake or calibrate: before the variance above, the
  linearised values z are replaced by their residuals within the calibration, so that what
  the population totals fix adds no variance (the total of a post-stratum has SE 0).
  Post-strata: z - w·(Σ_c z / Σ_c w), sums over the post-stratum c (R's postStratify).
  Margins with base weights w₀: z - w·X·β, β the regression of z/w on X (the margins'
  level indicators and the covariates) weighted by w₀ (R's calibrate(), whatever calfun).
  Margins with sweep weights: R's rake(), which does not regress but takes off, margin by
  margin and 10 times over, the sweep weights times the margin level's plain mean of z per
  sweep weight, the sweep weights being those just after that margin was adjusted in the
  last sweep. The two agree for raking run to convergence from equal base weights (plain
  means are then base-weighted ones); R's rake() stops by default (epsilon=1) once no cell
  of the joint table moves by 1, and on those weights the regression gives 400608 for a
  total where R's rake() prints 400603 (cran/survey tests/rakecheck.Rout.save), hence both.
  `weighting.rake` runs to convergence by default: use base weights. A domain keeps every
  row in the calibration (z = 0 outside it, as in R's subset of a calibrated design), so its
  residuals reach rows outside it; its degrees of freedom stay those of its members.
- Intervals: `normal` is R's `confint(svymean(...))` (qnorm); `logit` and `wilson` are R's
  `svyciprop` methods, with a t quantile on degf degrees of freedom. Where R cannot form them
  (a proportion of exactly 0 or 1, whose linearised SE is 0) the Wilson interval with the
  number of respondents as the sample size is given instead; a domain with no degrees of
  freedom (all its members in one PSU) gets no interval (NaN).

Every function is O(n log n) in the number of rows, with no Python loop over strata, PSUs or
groups: units are coded once with `np.unique(return_inverse=True)` and summed with
`np.bincount`. With calibration, the regression is solved on the small level × level tables
X'W₀X (bincount on pairs of codes); residuals that fill the design (margins, or a group that
crosses post-strata) are formed as (row, group) pairs, a chunk of groups at a time, so a
calibrated `estimate_by` costs about n × groups.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import intervals

__all__ = ["Calibration", "Design", "Estimate", "estimate", "estimate_by"]

Stat = Literal["mean", "total", "proportion"]
CiMethod = Literal["normal", "wilson", "logit"]
LONELY_PSU = ("fail", "certainty", "remove", "adjust", "average")
# Below this sampling fraction a stratum is taken with certainty and adds no variance (R).
CERTAINTY = 1e-7


# --- the design ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class Calibration:
    """How the design's weights were calibrated to population totals, so that the standard
    errors account for it (R keeps this in a design's `postStrata`). Arrays have one value per
    respondent, like the design's; a classification is an array of labels or a tuple of arrays
    (a joint classification, e.g. (township, sex, age_group)).

    - `Calibration(cells=...)`: post-stratification (R's postStratify; `weighting.poststratify`).
    - `Calibration(margins=[...], base_weights=...)`: raking, or any calibration to these
      margins' level totals and to the totals of the numeric `covariates` (R's calibrate(), any
      calfun; `weighting.rake` run to convergence). base_weights are the weights before
      calibration. `margins` is a list of classifications; a tuple inside it is a joint margin;
      a margin with one level is the population size (R's intercept).
    - `Calibration(margins=[...], sweep_weights=[...])`: R's rake() exactly as it computes its
      standard errors: sweep_weights are the weights just after each margin was adjusted in the
      last sweep (the last of them the final weights).
    """

    cells: Any = None
    margins: Sequence[Any] = ()
    covariates: Sequence[Any] = ()
    base_weights: Any = None
    sweep_weights: Sequence[Any] = ()

    def __post_init__(self) -> None:
        for name in ("margins", "covariates", "sweep_weights"):
            if isinstance(getattr(self, name), np.ndarray):
                raise ValueError(f"{name} 应为列表（每个边际、协变量或权重一项），"
                                 "如 margins=[township, (sex, age_group)]")
        margins = list(self.margins) if self.margins is not None else []
        covariates = list(self.covariates) if self.covariates is not None else []
        sweeps = list(self.sweep_weights) if self.sweep_weights is not None else []
        if (self.cells is None) == (not margins and not covariates):
            raise ValueError("校准应给出 cells（事后分层）或 margins/covariates（边际校准）之一")
        if self.cells is not None:
            if self.base_weights is not None or sweeps:
                raise ValueError("事后分层（cells）不需要 base_weights 或 sweep_weights")
            return
        if self.base_weights is not None and sweeps:
            raise ValueError("base_weights 与 sweep_weights 只能给出其一")
        if self.base_weights is None and not sweeps:
            raise ValueError("边际校准须给出校准前的权重 base_weights"
                             "（或 R 的 rake() 各边际调整后的权重 sweep_weights）")
        if sweeps and covariates:
            raise ValueError("sweep_weights 只适用于按类别边际迭代（rake），不能与 covariates 同用")
        if sweeps and len(sweeps) != len(margins):
            raise ValueError(f"sweep_weights 应为每个边际一组权重（{len(margins)} 组），"
                             f"而不是 {len(sweeps)} 组")

    def _arrays(self) -> list[Any]:
        """Every per-respondent array, for the design's length check."""
        parts: list[Any] = []
        for item in (self.cells, *(self.margins or ())):
            if item is not None:
                parts.extend(item if isinstance(item, tuple) else (item,))
        parts.extend(self.covariates or ())
        if self.base_weights is not None:
            parts.append(self.base_weights)
        parts.extend(self.sweep_weights or ())
        return parts


class Design:
    """A sampling design: weights, strata, clusters (PSU, optionally SSU) and fpc per stage.

    Every array has one value per respondent, in the same order as the y given to `estimate`.
    A design without any array (simple random sampling with replacement, weights 1) fits
    any y. `calibration` says how the weights were calibrated (they are then the calibrated
    weights); the variance is then that of the calibrated estimator.
    """

    def __init__(self, weights: Any = None, strata: Any = None,
                 clusters: Sequence[Any] | np.ndarray = (),
                 fpc: Sequence[Any] | np.ndarray = (), *,
                 lonely_psu: str = "fail", calibration: Calibration | None = None) -> None:
        if lonely_psu not in LONELY_PSU:
            raise ValueError(f"lonely_psu 应为 {'、'.join(LONELY_PSU)} 之一，而不是 {lonely_psu!r}")
        clusters = _as_stages(clusters, "clusters")
        fpc = _as_stages(fpc, "fpc")
        if len(clusters) > 2:
            raise ValueError("最多支持两阶段整群抽样（clusters 至多两列）")
        if len(fpc) > max(1, len(clusters)):
            raise ValueError(f"fpc 给了 {len(fpc)} 个阶段，"
                             f"而抽样只有 {max(1, len(clusters))} 个阶段")
        if calibration is not None:
            if not isinstance(calibration, Calibration):
                raise ValueError("calibration 应为 Calibration")
            if weights is None:
                raise ValueError("给出 calibration 时须同时给出校准后的权重 weights")
        self.lonely_psu = lonely_psu
        self.calibration = calibration
        self._weights = weights
        self._strata = strata
        self._clusters = clusters
        self._fpc = fpc
        calibrated = calibration._arrays() if calibration is not None else []
        lengths = {len(np.atleast_1d(a)) for a in (weights, strata, *clusters, *fpc, *calibrated)
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
    calibration: _Calibrated | None = None


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
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    calibrated = (None if design.calibration is None
                  else _prepare_calibration(design.calibration, n, weights))
    return _Frame(n=n, weights=weights, stratum=stratum, n_strata=n_strata, psu=psu,
                  n_psu=n_psu, stages=stages, lonely_psu=design.lonely_psu,
                  calibration=calibrated)


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
    if frame.calibration is None:
        variance, df = _variance(frame, rows, g, n_groups, z)
    else:
        variance, df = _calibrated_variance(frame, rows, g, n_groups, z)

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


# --- calibration --------------------------------------------------------------------------

# R's svyrecvar takes the raking margins out of a rake() design by this many rounds of
# alternating projections.
RAKE_ROUNDS = 10
# Linearised values handled at once (rows × groups × columns) when residuals fill the design.
CHUNK = 1 << 22
# An eigenvalue of the scaled X'WX below this fraction of the largest is a redundancy of the
# margins (the levels of each add up to the same total), not information.
RANK_TOL = 1e-10

# Residuals for a chunk of groups [first, last): (row, group in chunk) pairs and their values.
_Residuals = Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]


@dataclass
class _Calibrated:
    kind: str  # "cells", "greg" or "sweep"
    codes: list[np.ndarray]  # per classification (the post-strata, or each margin): per row
    sizes: list[int]
    counts: list[np.ndarray]  # rows per level of each classification
    numeric: list[np.ndarray]  # covariates ("greg")
    base: np.ndarray | None  # weights before calibration ("greg")
    inverse: np.ndarray | None  # generalised inverse of X'WX, W the base weights ("greg")
    sweeps: list[np.ndarray]  # weights after each margin in the last sweep ("sweep")
    cross: list[list[np.ndarray]] | None  # see _backfit ("sweep")
    cell_weight: np.ndarray | None  # calibrated weight per post-stratum ("cells")
    by_cell: np.ndarray | None  # rows in post-stratum order ("cells")
    cell_start: np.ndarray | None  # where each post-stratum starts in by_cell ("cells")


def _prepare_calibration(cal: Calibration, n: int, weights: np.ndarray) -> _Calibrated:
    if cal.cells is not None:
        codes, size = _classification(cal.cells, "cells", n)
        counts = np.bincount(codes, minlength=size)
        return _Calibrated(kind="cells", codes=[codes], sizes=[size], counts=[counts],
                           numeric=[], base=None, inverse=None, sweeps=[], cross=None,
                           cell_weight=_sum(codes, weights, size),
                           by_cell=np.argsort(codes, kind="stable"),
                           cell_start=np.cumsum(counts) - counts)
    margins = [_classification(m, f"margins[{i}]", n) for i, m in enumerate(cal.margins or ())]
    codes = [c for c, _ in margins]
    sizes = [s for _, s in margins]
    counts = [np.bincount(c, minlength=s) for c, s in margins]
    if cal.sweep_weights:
        sweeps = [_numeric(w, f"sweep_weights[{i}]", n) for i, w in enumerate(cal.sweep_weights)]
        if any(np.any(w <= 0) for w in sweeps):
            raise ValueError("sweep_weights 须全部大于 0")
        if not np.allclose(sweeps[-1], weights, rtol=1e-9, atol=0):
            raise ValueError("sweep_weights 的最后一组应等于设计的权重（最后一个边际调整后的权重）")
        cross = [[_sum(codes[m] * sizes[o] + codes[o], sweeps[o] / sweeps[m],
                       sizes[m] * sizes[o]).reshape(sizes[m], sizes[o])
                  for o in range(len(codes))] for m in range(len(codes))]
        return _Calibrated(kind="sweep", codes=codes, sizes=sizes, counts=counts, numeric=[],
                           base=None, inverse=None, sweeps=sweeps, cross=cross,
                           cell_weight=None, by_cell=None, cell_start=None)
    base = _numeric(cal.base_weights, "base_weights", n)
    if np.any(base < 0):
        row = int(np.flatnonzero(base < 0)[0])
        raise ValueError(f"base_weights 不能为负数（第 {row + 1} 个值为 {base[row]:g}）")
    numeric = [_numeric(x, f"covariates[{i}]", n) for i, x in enumerate(cal.covariates or ())]
    return _Calibrated(kind="greg", codes=codes, sizes=sizes, counts=counts, numeric=numeric,
                       base=base, inverse=_normal_inverse(codes, sizes, numeric, base),
                       sweeps=[], cross=None, cell_weight=None, by_cell=None, cell_start=None)


def _classification(value: Any, name: str, n: int) -> tuple[np.ndarray, int]:
    """A code per row and the number of levels; a tuple of arrays is one joint classification
    (only the combinations that occur are levels)."""
    if not isinstance(value, tuple):
        labels, codes = _factorize(value, name, n)
        return codes, len(labels)
    if not value:
        raise ValueError(f"{name} 是空的元组")
    parts = [_factorize(v, f"{name}[{j}]", n) for j, v in enumerate(value)]
    joint = np.ravel_multi_index(tuple(c for _, c in parts), tuple(len(lv) for lv, _ in parts))
    levels, codes = _codes(joint)
    return codes, len(levels)


def _normal_inverse(codes: list[np.ndarray], sizes: list[int], numeric: list[np.ndarray],
                    base: np.ndarray) -> np.ndarray:
    """A generalised inverse of X'WX: X the indicator columns of every margin level and the
    covariates, W the base weights. Indicator blocks are summed with bincount on pairs of
    codes, so no n × p matrix is formed. The margins are redundant (each adds up to the
    population size), so the inverse is taken on the non-null eigenvectors; the fitted values
    X·β do not depend on which solution of the normal equations is used."""
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    first_numeric = int(offsets[-1])
    p = first_numeric + len(numeric)
    a = np.zeros((p, p))
    for i, (ci, li) in enumerate(zip(codes, sizes, strict=True)):
        rows_i = slice(offsets[i], offsets[i + 1])
        for j in range(i, len(codes)):
            block = _sum(ci * sizes[j] + codes[j], base, li * sizes[j]).reshape(li, sizes[j])
            a[rows_i, offsets[j]:offsets[j + 1]] = block
            a[offsets[j]:offsets[j + 1], rows_i] = block.T
        for q, x in enumerate(numeric):
            column = _sum(ci, base * x, li)
            a[rows_i, first_numeric + q] = column
            a[first_numeric + q, rows_i] = column
    for q, x in enumerate(numeric):
        for r in range(q, len(numeric)):
            a[first_numeric + q, first_numeric + r] = a[first_numeric + r, first_numeric + q] = (
                float(np.dot(base * x, numeric[r])))
    # Scaled to a unit diagonal first, so that a covariate in the thousands and an indicator
    # are judged alike when the redundant directions are dropped.
    scale = np.sqrt(np.diag(a))
    scale[scale == 0] = 1.0
    values, vectors = np.linalg.eigh(a / np.outer(scale, scale))
    keep = values > RANK_TOL * max(float(values.max(initial=0.0)), 0.0)
    inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    return inverse / np.outer(scale, scale)


def _group_degf(frame: _Frame, rows: np.ndarray, g: np.ndarray, n_groups: int) -> np.ndarray:
    """Degrees of freedom per group as `_variance` counts them: PSUs with members less strata
    with members."""
    stage = frame.stages[0]
    if stage.unit is None:
        pair_group, parent = g, stage.parent_of_unit[rows]
    else:
        pairs, _ = _codes(stage.unit[rows] * n_groups + g, stage.n_units * n_groups)
        pair_group, parent = pairs % n_groups, stage.parent_of_unit[pairs // n_groups]
    cells, _ = _codes(parent * n_groups + pair_group, stage.n_parents * n_groups)
    return (np.bincount(pair_group, minlength=n_groups)
            - np.bincount(cells % n_groups, minlength=n_groups)).astype(float)


def _calibrated_variance(frame: _Frame, rows: np.ndarray | slice, g: np.ndarray, n_groups: int,
                         z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_variance` of the residuals of z after the calibration, as R's svyrecvar does before
    its multistage variance. A group's residuals reach every row of the calibration cells it
    touches (all rows for margins), so they are formed per group and given to `_variance` as
    (row, group) pairs, a chunk of groups at a time. Rows outside a group or with y missing
    stay in the calibration with their weights, as in R's subset of a calibrated design."""
    cal = frame.calibration
    assert cal is not None
    rows = np.arange(frame.n)[rows]
    k = z.shape[0]
    variance = np.zeros((k, n_groups))
    df = _group_degf(frame, rows, g, n_groups)
    if len(rows) == 0:
        return variance, df
    residuals = (_cell_residuals(frame, rows, g, n_groups, z) if cal.kind == "cells"
                 else _margin_residuals(frame, rows, g, n_groups, z))
    for first, last, pair_rows, pair_group, values in residuals:
        part, _ = _variance(frame, pair_rows, pair_group, last - first, values)
        variance[:, first:last] = part
    return variance, df


def _chunks(sizes: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive groups whose summed sizes stay within CHUNK (at least one group each)."""
    out, first, used = [], 0, 0
    for gg, size in enumerate(sizes.tolist()):
        if gg > first and used + size > CHUNK:
            out.append((first, gg))
            first, used = gg, 0
        used += size
    out.append((first, len(sizes)))
    return out


def _cell_residuals(frame: _Frame, rows: np.ndarray, g: np.ndarray, n_groups: int,
                    z: np.ndarray) -> _Residuals:
    """Post-strata (R's postStratify): z less w times the group's z-total per calibrated
    weight of the post-stratum, on every row of the post-strata that hold group members."""
    cal = frame.calibration
    assert cal is not None and cal.cell_weight is not None
    assert cal.by_cell is not None and cal.cell_start is not None
    k, size = z.shape[0], cal.sizes[0]
    pair = cal.codes[0][rows] * n_groups + g
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.vstack([_sum(pair, z[j], size * n_groups) for j in range(k)])
        mean /= np.repeat(cal.cell_weight, n_groups)
    mean[~np.isfinite(mean)] = 0.0
    present = np.flatnonzero(np.bincount(pair, minlength=size * n_groups))
    cell, group = present // n_groups, present % n_groups
    length = cal.counts[0][cell]
    position = np.full(frame.n, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    group_of = np.full(frame.n, -1, dtype=np.int64)
    group_of[rows] = g
    for first, last in _chunks(_sum(group, length * k, n_groups).astype(np.int64)):
        chosen = (group >= first) & (group < last)
        lengths = length[chosen]
        ends = np.cumsum(lengths)
        within = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - lengths, lengths)
        pair_rows = cal.by_cell[np.repeat(cal.cell_start[cell[chosen]], lengths) + within]
        pair_group = np.repeat(group[chosen], lengths)
        values = -frame.weights[pair_rows] * mean[:, np.repeat(present[chosen], lengths)]
        own = group_of[pair_rows] == pair_group
        values[:, own] += z[:, position[pair_rows[own]]]
        yield first, last, pair_rows, pair_group - first, values


def _margin_residuals(frame: _Frame, rows: np.ndarray, g: np.ndarray, n_groups: int,
                      z: np.ndarray) -> _Residuals:
    """Margins: z less w times the fitted values of a regression of z/w on the margins'
    indicators and the covariates weighted by the base weights (R's calibrate: qr.resid on
    √w₀·X); or, with sweep_weights, R's rake(): for each margin in turn, z less its sweep
    weights times the margin level's plain mean of z per sweep weight, RAKE_ROUNDS times.

    Either way what is taken off is a coefficient per margin level (and covariate) and
    column, found on small level × level tables; only the residuals themselves are formed
    over the design's rows, for a chunk of groups at a time, as (k · groups, n) with column
    j·groups + group."""
    cal = frame.calibration
    assert cal is not None
    n, k, w = frame.n, z.shape[0], frame.weights
    per_group = max(1, CHUNK // max(n * k, 1))
    for first in range(0, n_groups, per_group):
        last = min(first + per_group, n_groups)
        groups = last - first
        width = k * groups
        chosen = (g >= first) & (g < last)
        member, values = rows[chosen], z[:, chosen]
        column = np.arange(k)[:, None] * groups + (g[chosen] - first)  # (k, members)
        if cal.kind == "greg":
            assert cal.base is not None and cal.inverse is not None
            share = values * (cal.base[member] / w[member])  # w₀·z/w: X'W₀(z/w) by blocks
            parts = [_sum((column * size + c[member]).ravel(), share.ravel(),
                          width * size).reshape(width, size)
                     for c, size in zip(cal.codes, cal.sizes, strict=True)]
            parts += [_sum(column.ravel(), (share * x_q[member]).ravel(), width)[:, None]
                      for x_q in cal.numeric]
            beta = np.hstack(parts) @ cal.inverse  # (width, p); the inverse is symmetric
            fitted = np.zeros((width, n))
            offset = 0
            for c, size in zip(cal.codes, cal.sizes, strict=True):
                fitted += beta[:, offset + c]
                offset += size
            for x_q in cal.numeric:
                fitted += beta[:, offset, None] * x_q
                offset += 1
            out = fitted
            out *= -w
        else:
            out = np.zeros((width, n))
            for c, sweep, level in zip(cal.codes, cal.sweeps,
                                       _backfit(cal, member, values, column, width),
                                       strict=True):
                out -= level[:, c] * sweep
        out[column, member] += values
        yield (first, last, np.tile(np.arange(n), groups), np.repeat(np.arange(groups), n),
               out.reshape(k, groups * n))


def _backfit(cal: _Calibrated, member: np.ndarray, values: np.ndarray, column: np.ndarray,
             width: int) -> list[np.ndarray]:
    """R's rake() projections as coefficients: after the rounds, z has lost Σ over margins m
    of sweep_m · a_m[level of m]. A step for margin m needs, per level l, the sum over its
    rows of z/sweep_m, which is the start value less Σ over margins m' of
    cross[m][m'] · a_m', cross[m][m'][l, l'] the sum of sweep_m'/sweep_m over the rows in
    level l of m and l' of m'."""
    assert cal.cross is not None
    start = [_sum((column * size + c[member]).ravel(), (values / sweep[member]).ravel(),
                  width * size).reshape(width, size)
             for c, size, sweep in zip(cal.codes, cal.sizes, cal.sweeps, strict=True)]
    level = [np.zeros((width, size)) for size in cal.sizes]
    for _ in range(RAKE_ROUNDS):
        for m, count in enumerate(cal.counts):
            sums = start[m] - sum(level[o] @ cal.cross[m][o].T for o in range(len(level)))
            level[m] += sums / count
    return level
