"""Survey weights: post-stratification, raking, trimming and the diagnostics of a set of weights.

Plain numpy, no database. Every function takes the weights as an array (one per respondent) and
returns a new array; nothing is changed in place.

* `poststratify` scales the weights in each cell so that they add up to the cell's population
  total (R: ``postStratify``).
* `rake` does the same margin by margin, repeatedly, until every margin matches (iterative
  proportional fitting, R: ``rake``). A margin may itself be a joint classification
  (township × sex), so partial joint tables can be raked to as in R.
* `trim` caps weights at a lower and an upper bound and hands what was cut to the other weights
  in proportion to their size, so that the total stays the same.
* `diagnostics` gives Kish's design effect due to unequal weights, the weighting efficiency and
  the effective sample size.
* `population_table` turns the population totals entered or imported as a township × sex ×
  age-group table into the cells and margins the functions above take.

Cells are labels (strings or numbers) or, for a joint classification, tuples of labels; a
``cells`` argument is then a tuple of columns, one array per variable, and the keys of the totals
are tuples in the same order.

Problems are raised as `WeightingError` with a message in Chinese that names the cell. Raking that
does not converge is not an error: `RakeResult.converged` says so and `max_error` says how far.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DIMENSION_LABELS",
    "PopulationTable",
    "RakeResult",
    "WeightDiagnostics",
    "WeightingError",
    "diagnostics",
    "population_table",
    "poststratify",
    "rake",
    "trim",
]

# How margins whose grand totals differ are told apart from rounding in the entered figures.
_TOTALS_REL_TOL = 1e-6
# At most this many problem cells are named in one message; the rest are counted.
_MAX_NAMED = 5

DIMENSION_LABELS = {"township": "乡镇（街道）", "sex": "性别", "age_group": "年龄段"}


class WeightingError(ValueError):
    """Weights cannot be computed as asked; the message says why in Chinese, naming the cell."""


# --------------------------------------------------------------------------------------------
# helpers


def _as_weights(weights: Any) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1:
        raise WeightingError("权重必须是一维数组（每名受访者一个权重）。")
    if w.size == 0:
        raise WeightingError("没有权重：样本为空。")
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise WeightingError(
            f"第{i + 1}条记录的权重为 {w[i]:g}，权重必须是大于0的数（共{int(bad.sum())}条不合格）。"
        )
    return w


def _cell_text(label: Any) -> str:
    if isinstance(label, tuple):
        return "·".join(str(x) for x in label)
    return str(label)


def _is_missing(label: Any) -> bool:
    if label is None:
        return True
    if isinstance(label, float) and math.isnan(label):
        return True
    return isinstance(label, str) and label.strip() == ""


def _as_array(values: Any) -> np.ndarray:
    # A list keeps its Python values: np.asarray(["A", None, float("nan")]) would turn the
    # missing ones into the labels "None" and "nan".
    return values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)


def _factorize_column(column: Any, n: int, what: str) -> tuple[np.ndarray, list[Any]]:
    """Codes 0..k-1 per row and the k labels (Python values), rows checked for missing labels."""
    arr = _as_array(column)
    if arr.ndim != 1 or arr.shape[0] != n:
        length = arr.shape[0] if arr.ndim else 1
        raise WeightingError(f"{what}的长度（{length}）与权重个数（{n}）不一致。")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        i = int(np.flatnonzero(np.isnan(arr))[0])
        raise WeightingError(f"第{i + 1}条记录的{what}为空，无法加权。")
    if arr.dtype.kind in "USO":
        # Sorting a million strings takes seconds; a dict of the few distinct labels does not.
        index: dict[Any, int] = {}
        codes = np.fromiter(
            (index.setdefault(v, len(index)) for v in arr.tolist()), dtype=np.intp, count=n
        )
        labels = list(index)
    else:
        uniques, codes = np.unique(arr, return_inverse=True)
        labels = uniques.tolist()
    for k, label in enumerate(labels):
        if _is_missing(label):
            i = int(np.flatnonzero(codes == k)[0])
            raise WeightingError(f"第{i + 1}条记录的{what}为空，无法加权。")
    return codes.reshape(-1).astype(np.intp, copy=False), labels


def _factorize(cells: Any, n: int, what: str) -> tuple[np.ndarray, list[Any]]:
    """Codes and labels of one classification; a tuple of columns is a joint classification."""
    if isinstance(cells, tuple):
        if not cells:
            raise WeightingError(f"{what}没有任何变量。")
        parts = [_factorize_column(col, n, what) for col in cells]
        if len(parts) == 1:
            codes, labels = parts[0]
            return codes, [(label,) for label in labels]
        shape = tuple(len(labels) for _, labels in parts)
        joint = np.ravel_multi_index(tuple(codes for codes, _ in parts), shape)
        present, codes = np.unique(joint, return_inverse=True)
        index = np.unravel_index(present, shape)
        labels = [
            tuple(parts[d][1][int(index[d][k])] for d in range(len(parts)))
            for k in range(present.size)
        ]
        return codes.reshape(-1).astype(np.intp, copy=False), labels
    arr = _as_array(cells)
    if arr.ndim == 2:
        return _factorize(tuple(arr[:, j] for j in range(arr.shape[1])), n, what)
    return _factorize_column(arr, n, what)


def _normalise_key(key: Any) -> Any:
    # numpy scalars and lists as keys compare equal to the labels np.unique gives back.
    if isinstance(key, list):
        key = tuple(key)
    if isinstance(key, tuple):
        return tuple(k.item() if isinstance(k, np.generic) else k for k in key)
    return key.item() if isinstance(key, np.generic) else key


def _target_vector(
    labels: list[Any], codes: np.ndarray, totals: Mapping[Any, float], what: str
) -> np.ndarray:
    """Population totals in the order of the sample's cells, with every mismatch named."""
    if not isinstance(totals, Mapping) or not totals:
        raise WeightingError(f"{what}没有总体数。")
    clean: dict[Any, float] = {}
    for key, value in totals.items():
        try:
            t = float(value)
        except (TypeError, ValueError):
            raise WeightingError(
                f"{what}中单元格「{_cell_text(key)}」的总体数「{value}」不是数字。"
            ) from None
        if not math.isfinite(t) or t <= 0:
            raise WeightingError(
                f"{what}中单元格「{_cell_text(key)}」的总体数为 {t:g}，必须大于0。"
            )
        clean[_normalise_key(key)] = t
    counts = np.bincount(codes, minlength=len(labels))
    missing = [k for k, label in enumerate(labels) if label not in clean]
    if missing:
        named = "、".join(
            f"「{_cell_text(labels[k])}」（{int(counts[k])}名受访者）" for k in missing[:_MAX_NAMED]
        )
        more = f"等{len(missing)}个" if len(missing) > _MAX_NAMED else ""
        raise WeightingError(f"{what}：样本中的单元格{named}{more}没有总体数，请补录或合并单元格。")
    present = set(labels)
    empty = [key for key in clean if key not in present]
    if empty:
        named = "、".join(
            f"「{_cell_text(key)}」（总体数 {clean[key]:g}）" for key in empty[:_MAX_NAMED]
        )
        more = f"等{len(empty)}个" if len(empty) > _MAX_NAMED else ""
        raise WeightingError(
            f"{what}：总体单元格{named}{more}没有受访者，无法调整权重，请与相邻单元格合并。"
        )
    return np.array([clean[label] for label in labels], dtype=float)


# --------------------------------------------------------------------------------------------
# post-stratification


def poststratify(
    weights: Any, cells: Any, totals: Mapping[Hashable, float], *, name: str = "事后分层"
) -> np.ndarray:
    """Weights scaled within each cell so that each cell's weights add up to its population total.

    ``cells`` gives each respondent's cell: one array of labels, or a tuple of arrays for a joint
    classification (keys of ``totals`` are then tuples). Every cell in the sample needs a total
    and every total needs respondents; otherwise `WeightingError` names the cells.
    """
    w = _as_weights(weights)
    codes, labels = _factorize(cells, w.size, f"{name}变量")
    target = _target_vector(labels, codes, totals, name)
    sums = np.bincount(codes, weights=w, minlength=len(labels))
    return w * (target / sums)[codes]


# --------------------------------------------------------------------------------------------
# raking


@dataclass(frozen=True)
class RakeResult:
    """Raked weights and how the iteration ended.

    ``iterations`` counts full sweeps over the margins; ``max_error`` is the largest relative gap
    |weighted total − population total| / population total over all margins' cells at the end.
    """

    weights: np.ndarray
    iterations: int
    converged: bool
    max_error: float


@dataclass
class _Margin:
    name: str
    codes: np.ndarray
    target: np.ndarray


def _margin_name(i: int, given: str | None) -> str:
    return f"边际{i + 1}（{given}）" if given else f"边际{i + 1}"


def rake(
    weights: Any,
    margins: Sequence[tuple[Any, Mapping[Hashable, float]] | tuple[Any, Mapping, str]],
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    epsilon: float | None = None,
) -> RakeResult:
    """Iterative proportional fitting of ``weights`` to population ``margins``.

    Each margin is ``(cells, totals)`` or ``(cells, totals, name)``; ``cells`` as in
    `poststratify` (a tuple of columns makes a joint margin). A sweep post-stratifies to each
    margin in turn.

    Convergence: by default, when after a sweep every margin cell is within ``tol`` (relative) of
    its total. With ``epsilon`` set, R's rule of ``rake(control=list(maxit, epsilon))`` is used
    instead: stop when no cell of the joint table of all margin variables moved by ``epsilon`` or
    more during the sweep (``epsilon < 1`` is a fraction of the total weight). R's defaults are
    ``max_iter=10, epsilon=1``. Not converging is reported, not raised.
    """
    if max_iter < 1:
        raise WeightingError("最大迭代次数必须至少为1。")
    if not margins:
        raise WeightingError("没有给出任何边际。")
    w = _as_weights(weights)
    prepared: list[_Margin] = []
    for i, margin in enumerate(margins):
        if not isinstance(margin, tuple | list) or len(margin) not in (2, 3):
            raise WeightingError(
                f"{_margin_name(i, None)}应为（变量, 总体数）或（变量, 总体数, 名称）。"
            )
        cells, totals = margin[0], margin[1]
        name = _margin_name(i, margin[2] if len(margin) == 3 else None)
        codes, labels = _factorize(cells, w.size, f"{name}的变量")
        prepared.append(_Margin(name, codes, _target_vector(labels, codes, totals, name)))
    grand = [float(m.target.sum()) for m in prepared]
    for m, g in zip(prepared[1:], grand[1:], strict=True):
        if not math.isclose(g, grand[0], rel_tol=_TOTALS_REL_TOL):
            raise WeightingError(
                f"各边际的总体数合计不一致：{prepared[0].name}合计 {grand[0]:g}，"
                f"{m.name}合计 {g:g}；请核对总体数。"
            )

    joint: np.ndarray | None = None
    threshold = 0.0
    if epsilon is not None:
        joint = prepared[0].codes
        for m in prepared[1:]:
            combined = joint * (int(m.codes.max()) + 1) + m.codes
            _, joint = np.unique(combined, return_inverse=True)
            joint = joint.reshape(-1)
        threshold = epsilon * float(w.sum()) if epsilon < 1 else float(epsilon)
        old_table = np.bincount(joint, weights=w)

    def margin_error(current: np.ndarray) -> float:
        worst = 0.0
        for m in prepared:
            sums = np.bincount(m.codes, weights=current, minlength=m.target.size)
            worst = max(worst, float(np.max(np.abs(sums - m.target) / m.target)))
        return worst

    converged = False
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        for m in prepared:
            sums = np.bincount(m.codes, weights=w, minlength=m.target.size)
            w = w * (m.target / sums)[m.codes]
        if joint is not None:
            new_table = np.bincount(joint, weights=w)
            delta = float(np.max(np.abs(new_table - old_table)))
            old_table = new_table
            if delta < threshold:
                converged = True
                break
        elif margin_error(w) < tol:
            converged = True
            break
    return RakeResult(weights=w, iterations=iterations, converged=converged,
                      max_error=margin_error(w))


# --------------------------------------------------------------------------------------------
# trimming


def trim(
    weights: Any,
    *,
    lower: float | None = None,
    upper: float | None = None,
    keep_total: bool = True,
    max_iter: int = 20,
) -> np.ndarray:
    """Weights capped at ``upper`` and raised to ``lower``.

    With ``keep_total`` (the default) what was cut off is handed to the weights inside the bounds
    in proportion to their size (so their ratios are kept), and the total stays the same. That can
    push further weights over a bound; they are capped in turn, for at most ``max_iter`` rounds.
    Trimming changes cell totals: rake or post-stratify again afterwards if they must hold.
    Unlike R's ``trimWeights``, which shares the cut equally among the other weights, the share is
    proportional, so small weights do not gain relatively more than large ones.
    """
    w0 = _as_weights(weights)
    lo = -math.inf if lower is None else float(lower)
    hi = math.inf if upper is None else float(upper)
    if lower is not None and (not math.isfinite(lo) or lo < 0):
        raise WeightingError(f"权重下限 {lower} 必须是不小于0的数。")
    if upper is not None and (not math.isfinite(hi) or hi <= 0):
        raise WeightingError(f"权重上限 {upper} 必须是大于0的数。")
    if lo > hi:
        raise WeightingError(f"权重下限 {lo:g} 大于上限 {hi:g}。")
    if not keep_total:
        return np.clip(w0, lo, hi)

    n = w0.size
    total = float(w0.sum())
    if n * hi < total * (1 - 1e-12):
        raise WeightingError(
            f"权重上限 {hi:g} 过低：{n}个权重最多合计 {n * hi:g}，"
            f"不足总数 {total:g}，无法保持总数。"
        )
    if n * lo > total * (1 + 1e-12):
        raise WeightingError(
            f"权重下限 {lo:g} 过高：{n}个权重至少合计 {n * lo:g}，"
            f"超过总数 {total:g}，无法保持总数。"
        )
    at_hi = np.zeros(n, dtype=bool)
    at_lo = np.zeros(n, dtype=bool)
    for _ in range(max_iter + 1):
        free = ~(at_hi | at_lo)
        # Counted only when used: an absent bound is ±inf and inf·0 would be NaN.
        fixed_mass = (hi * int(at_hi.sum()) if at_hi.any() else 0.0) + (
            lo * int(at_lo.sum()) if at_lo.any() else 0.0
        )
        free_mass = float(w0[free].sum())
        if free_mass == 0:
            # Everything sits on a bound; the feasibility checks above make that add up.
            return np.where(at_hi, hi, lo)
        factor = (total - fixed_mass) / free_mass
        current = w0 * factor
        new_hi = free & (current > hi)
        new_lo = free & (current < lo)
        if not (new_hi.any() or new_lo.any()):
            return np.where(at_hi, hi, np.where(at_lo, lo, current))
        at_hi |= new_hi
        at_lo |= new_lo
    raise WeightingError(f"修剪权重在{max_iter}轮内仍有权重超出上下限，请放宽上下限或增加轮数。")


# --------------------------------------------------------------------------------------------
# diagnostics


@dataclass(frozen=True)
class WeightDiagnostics:
    """Summary of a set of weights.

    ``cv`` is the coefficient of variation with the standard deviation taken over n (not n−1);
    ``deff_w`` is Kish's design effect due to unequal weights, n·Σw²/(Σw)² = 1 + cv²;
    ``efficiency`` = 1/deff_w; ``n_eff`` = (Σw)²/Σw² = n/deff_w.
    """

    n: int
    total: float
    min: float
    max: float
    mean: float
    cv: float
    deff_w: float
    efficiency: float
    n_eff: float

    def as_dict(self) -> dict[str, float]:
        return {
            "n": self.n, "total": self.total, "min": self.min, "max": self.max,
            "mean": self.mean, "cv": self.cv, "deff_w": self.deff_w,
            "efficiency": self.efficiency, "n_eff": self.n_eff,
        }


def diagnostics(weights: Any) -> WeightDiagnostics:
    """Kish's weighting diagnostics of ``weights``."""
    w = _as_weights(weights)
    n = w.size
    total = float(w.sum())
    sum_sq = float(np.dot(w, w))
    mean = total / n
    deff_w = n * sum_sq / (total * total)
    cv = math.sqrt(max(deff_w - 1.0, 0.0))
    return WeightDiagnostics(
        n=n, total=total, min=float(w.min()), max=float(w.max()), mean=mean, cv=cv,
        deff_w=deff_w, efficiency=1.0 / deff_w, n_eff=total * total / sum_sq,
    )


# --------------------------------------------------------------------------------------------
# population totals


@dataclass(frozen=True)
class PopulationTable:
    """Population totals by cell of a cross-classification (by default township × sex × age group).

    ``cells`` maps a tuple of labels, in the order of ``dims``, to the number of people. Cells
    with no people are left out: a cell nobody lives in can have no respondents.
    """

    dims: tuple[str, ...]
    cells: dict[tuple[Any, ...], float]

    @property
    def total(self) -> float:
        return float(sum(self.cells.values()))

    def _positions(self, dims: Sequence[str]) -> list[int]:
        positions = []
        for d in dims:
            if d not in self.dims:
                raise WeightingError(f"总体数表没有维度「{d}」（现有：{'、'.join(self.dims)}）。")
            positions.append(self.dims.index(d))
        return positions

    def margin(self, *dims: str) -> dict[Any, float]:
        """Totals over the given dimensions; keys are labels for one dimension, tuples otherwise."""
        if not dims:
            raise WeightingError("请指定至少一个维度。")
        positions = self._positions(dims)
        out: dict[Any, float] = {}
        for key, value in self.cells.items():
            sub = tuple(key[p] for p in positions)
            k = sub[0] if len(sub) == 1 else sub
            out[k] = out.get(k, 0.0) + value
        return out

    def rake_margins(
        self,
        columns: Mapping[str, Any],
        groups: Sequence[str | tuple[str, ...]] | None = None,
        *,
        labels: Mapping[str, str] = DIMENSION_LABELS,
    ) -> list[tuple[Any, dict[Any, float], str]]:
        """Margins for `rake`: one per dimension by default, or per group (a tuple of dimensions
        is a joint margin, e.g. ``["township", ("sex", "age_group")]``). ``columns`` holds the
        respondents' labels per dimension."""
        result = []
        for group in groups if groups is not None else list(self.dims):
            dims = (group,) if isinstance(group, str) else tuple(group)
            self._positions(dims)
            for d in dims:
                if d not in columns:
                    raise WeightingError(f"样本数据缺少变量「{labels.get(d, d)}」。")
            cells = columns[dims[0]] if len(dims) == 1 else tuple(columns[d] for d in dims)
            name = "×".join(labels.get(d, d) for d in dims)
            result.append((cells, self.margin(*dims), name))
        return result

    def sample_cells(self, columns: Mapping[str, Any]) -> tuple[Any, ...]:
        """The respondents' joint cells, as `poststratify` takes them with ``self.cells``."""
        missing = [d for d in self.dims if d not in columns]
        if missing:
            raise WeightingError(f"样本数据缺少变量「{'、'.join(missing)}」。")
        return tuple(columns[d] for d in self.dims)


def population_table(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    dims: Sequence[str] = ("township", "sex", "age_group"),
    *,
    value: str = "total",
    labels: Mapping[str, str] = DIMENSION_LABELS,
) -> PopulationTable:
    """A `PopulationTable` from rows of population totals.

    A row is a mapping (``{"township": "城关镇", "sex": "男", "age_group": "18-29岁",
    "total": 1200}``) or a sequence of the labels in ``dims`` order followed by the total.
    Every bad row is reported at once (line numbers count from 1); a cell may appear once only.
    """
    dims = tuple(dims)
    if not dims:
        raise WeightingError("总体数表至少要有一个维度。")
    cells: dict[tuple[Any, ...], float] = {}
    first_line: dict[tuple[Any, ...], int] = {}
    errors: list[str] = []
    for line, row in enumerate(rows, start=1):
        if isinstance(row, Mapping):
            absent = [d for d in (*dims, value) if d not in row]
            if absent:
                names = "、".join(labels.get(d, "总体数" if d == value else d) for d in absent)
                errors.append(f"第{line}行缺少{names}。")
                continue
            key = tuple(row[d] for d in dims)
            raw = row[value]
        else:
            row = list(row)
            if len(row) != len(dims) + 1:
                errors.append(f"第{line}行应有{len(dims) + 1}列，实有{len(row)}列。")
                continue
            key, raw = tuple(row[:-1]), row[-1]
        key = tuple(k.strip() if isinstance(k, str) else k for k in _normalise_key(key))
        blank = [labels.get(d, d) for d, k in zip(dims, key, strict=True) if _is_missing(k)]
        if blank:
            errors.append(f"第{line}行的{'、'.join(blank)}为空。")
            continue
        try:
            total = float(raw)
        except (TypeError, ValueError):
            errors.append(f"第{line}行「{_cell_text(key)}」的总体数「{raw}」不是数字。")
            continue
        if not math.isfinite(total) or total < 0:
            errors.append(f"第{line}行「{_cell_text(key)}」的总体数为 {raw}，不能为负数。")
            continue
        if key in first_line:
            errors.append(f"第{line}行与第{first_line[key]}行重复：「{_cell_text(key)}」。")
            continue
        first_line[key] = line
        if total > 0:
            cells[key] = total
    if errors:
        raise WeightingError("总体数表有误：" + "".join(errors))
    if not cells:
        raise WeightingError("总体数表没有任何大于0的总体数。")
    return PopulationTable(dims=dims, cells=cells)
