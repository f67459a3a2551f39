"""Weighting a wave to population totals, and the benchmarks its results are compared with.

`weigh_wave` reads the wave's responses (township, sex, age group), starts every one at a base
weight of 1, adjusts the weights to a population table (`surveys.population`) by one of two
methods of `surveys.stats.weighting`, trims them if asked, and stores each response's weight
together with a `Weighting` row that keeps the method, the bounds and the diagnostics.

Why a base weight of 1: the waves are quota samples by township (a target number of completed
interviews per township, numbers called until the quota is met), so no selection probability is
known; every completed interview counts the same before adjustment, and the population totals
carry the whole correction for townships, sexes and ages being over- or under-represented.

Responses whose sex or age group is unknown (the respondent would not say):
- post-stratification (乡镇×性别×年龄段 cells) needs all three: the wave is refused, naming how
  many responses lack which, and nothing is written;
- raking adjusts each response in the margins it has: in the sex margin, the responses of known
  sex are made to have the population's shares of men and women (scaled to their own weighted
  sum); a response of unknown sex keeps the weight the other margins give it. The township
  margin is always known, so the weights still add up to the population total, and the
  diagnostics show the weighted total of the unknown responses in each margin.

Trimming bounds are relative to the mean weight (population total / respondents): lower 0.3 and
upper 3 keep every weight between 0.3 and 3 times the mean. What is cut is handed to the other
weights in proportion (the total is kept); the margins then hold only approximately, which the
per-margin table of the diagnostics shows.

Re-weighting replaces the weights on the responses; earlier Weighting rows stay as history.
A fielding wave may be weighted: responses completed afterwards have no weight until the next.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.db import transaction

from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.core.errors import InvalidInput
from minyi.orgs.models import Area, Unit
from minyi.surveys.actions import check_manager
from minyi.surveys.models import (
    AgeGroup,
    Benchmark,
    IndexDefinition,
    PopulationCell,
    PopulationTable,
    Response,
    Sex,
    Wave,
    Weighting,
)
from minyi.surveys.stats import weighting as stats

ACTION_LABELS = {
    "survey.weigh": "调查加权",
    "survey.benchmark_create": "新增比较基准",
    "survey.benchmark_update": "修改比较基准",
    "survey.benchmark_delete": "删除比较基准",
}

METHODS = tuple(Weighting.Method.values)
# Ids per UPDATE statement (SQLite's limit on parameters is far above it).
UPDATE_BATCH = 2000
MAX_ITERATIONS = 100
TOLERANCE = 1e-6
DIMENSIONS = ("township", "sex", "age_group")
DIMENSION_LABELS = {"township": "乡镇（街道）", "sex": "性别", "age_group": "年龄段"}
UNKNOWN = "未知"


@dataclass(frozen=True)
class _Sample:
    ids: np.ndarray
    columns: dict[str, np.ndarray]  # labels per dimension ("" where unknown)
    known: dict[str, np.ndarray]    # bool per dimension


@dataclass(frozen=True)
class _Result:
    weights: np.ndarray
    iterations: int | None
    converged: bool | None
    max_error: float | None


def _township_labels(area_ids: set[int]) -> dict[int, str]:
    """Names as the users know them; a name two townships share gets the code added, so that
    an error naming a cell names one place."""
    areas = list(Area.objects.filter(pk__in=area_ids).only("pk", "name", "code"))
    names = Counter(a.name for a in areas)
    return {a.pk: a.name if names[a.name] == 1 else f"{a.name}（{a.code}）" for a in areas}


def _load(wave: Wave, table: PopulationTable
          ) -> tuple[_Sample, dict[tuple[str, str, str], float], dict[int, str]]:
    rows = list(Response.objects.filter(wave=wave).order_by("pk")
                .values_list("pk", "area_id", "sex", "age_group"))
    if not rows:
        raise InvalidInput(f"「{wave}」还没有答卷，无法加权")
    cells = list(PopulationCell.objects.filter(table=table, count__gt=0)
                 .values_list("area_id", "sex", "age_group", "count"))
    if not cells:
        raise InvalidInput(f"人口总体「{table}」还没有人数，请先录入或导入")
    townships = _township_labels({r[1] for r in rows} | {c[0] for c in cells})
    sexes = dict(Sex.choices)
    ages = dict(AgeGroup.choices)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    columns = {
        "township": np.array([townships[r[1]] for r in rows], dtype=object),
        "sex": np.array([sexes.get(r[2], "") for r in rows], dtype=object),
        "age_group": np.array([ages.get(r[3], "") for r in rows], dtype=object),
    }
    known = {d: columns[d] != "" for d in DIMENSIONS}
    totals = {(townships[a], sexes[s], ages[g]): float(n) for a, s, g, n in cells}
    return _Sample(ids, columns, known), totals, townships


def _margin(totals: dict[tuple[str, str, str], float], dimension: str) -> dict[str, float]:
    position = DIMENSIONS.index(dimension)
    out: dict[str, float] = {}
    for key, value in totals.items():
        out[key[position]] = out.get(key[position], 0.0) + value
    return out


def _poststratify(sample: _Sample, totals: dict[tuple[str, str, str], float]) -> _Result:
    unknown_sex = int((~sample.known["sex"]).sum())
    unknown_age = int((~sample.known["age_group"]).sum())
    if unknown_sex or unknown_age:
        parts = []
        if unknown_sex:
            parts.append(f"{unknown_sex}份答卷的性别未知")
        if unknown_age:
            parts.append(f"{unknown_age}份答卷的年龄段未知")
        raise InvalidInput(
            "、".join(parts) + "，无法按乡镇×性别×年龄段事后分层（每份答卷须三项齐全）。"
            "请改用迭代加权（未知的一项不参与该边际的调整），或补录这些答卷的性别、年龄段。")
    cells = tuple(sample.columns[d] for d in DIMENSIONS)
    weights = stats.poststratify(np.ones(sample.ids.size), cells, totals,
                                 name="事后分层（乡镇×性别×年龄段）")
    return _Result(weights, None, None, None)


def _rake(sample: _Sample, totals: dict[tuple[str, str, str], float]) -> _Result:
    margins = [(sample.columns[d], _margin(totals, d), DIMENSION_LABELS[d]) for d in DIMENSIONS]
    start = np.ones(sample.ids.size)
    if all(sample.known[d].all() for d in DIMENSIONS):
        result = stats.rake(start, margins, max_iter=MAX_ITERATIONS, tol=TOLERANCE)
        return _Result(result.weights, result.iterations, result.converged,
                       getattr(result, "max_error", None))
    return _rake_partial(start, sample, margins)


def _rake_partial(weights: np.ndarray, sample: _Sample,
                  margins: Sequence[tuple[np.ndarray, dict[str, float], str]]) -> _Result:
    """Raking when some responses lack a margin's value: in each margin the responses that
    have it are post-stratified to the population's shares, scaled to their current weighted
    sum (so a margin known for all is matched to its totals, as in plain raking)."""
    w = weights.copy()
    prepared = []
    for number, (dimension, (cells, totals, label)) in enumerate(
            zip(DIMENSIONS, margins, strict=True), start=1):
        name = f"边际{number}（{label}）"  # as `stats.rake` names its margins
        mask = sample.known[dimension]
        if not mask.any():
            raise InvalidInput(f"所有答卷的{DIMENSION_LABELS[dimension]}都未知，无法按此边际加权")
        # The real totals first: a category without respondents, or respondents without a
        # total, is named with the population figure the user entered.
        stats.poststratify(np.ones(int(mask.sum())), cells[mask], totals, name=name)
        grand = sum(totals.values())  # the same for every margin of one table
        prepared.append((mask, cells[mask], {k: v / grand for k, v in totals.items()}, name))

    def sweep_error(current: np.ndarray) -> float:
        worst = 0.0
        for mask, cells, shares, _name in prepared:
            part = current[mask]
            total = float(part.sum())
            for label, share in shares.items():
                got = float(part[cells == label].sum()) / total
                worst = max(worst, abs(got - share) / share)
        return worst

    converged = False
    iterations = 0
    for _ in range(MAX_ITERATIONS):
        iterations += 1
        for mask, cells, shares, name in prepared:
            part = w[mask]
            # A margin everyone has is matched to its totals, which fixes the sum of all the
            # weights at the population total; the others keep the sum of their part.
            scale = grand if mask.all() else float(part.sum())
            w[mask] = stats.poststratify(part, cells, {k: v * scale for k, v in shares.items()},
                                         name=name)
        if sweep_error(w) < TOLERANCE:
            converged = True
            break
    return _Result(w, iterations, converged, sweep_error(w))


def _margin_rows(sample: _Sample, weights: np.ndarray,
                 totals: dict[tuple[str, str, str], float]) -> list[dict[str, Any]]:
    """Per margin: each category's population, weighted total and respondents (and the
    responses where the margin is unknown)."""
    order = {
        "sex": list(Sex.labels),
        "age_group": list(AgeGroup.labels),
    }
    out = []
    for dimension in DIMENSIONS:
        population = _margin(totals, dimension)
        column = sample.columns[dimension]
        labels = order.get(dimension) or list(dict.fromkeys(
            [*population, *[v for v in column.tolist() if v]]))
        rows = []
        for label in labels:
            mask = column == label
            if not mask.any() and label not in population:
                continue
            rows.append({"label": label, "population": population.get(label),
                         "weighted": float(weights[mask].sum()), "respondents": int(mask.sum())})
        unknown = ~sample.known[dimension]
        if unknown.any():
            rows.append({"label": UNKNOWN, "population": None,
                         "weighted": float(weights[unknown].sum()),
                         "respondents": int(unknown.sum())})
        out.append({"dimension": dimension, "label": DIMENSION_LABELS[dimension], "rows": rows})
    return out


def _bound(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what}应为数字") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what}应为数字")
    return number


def compute_weights(wave: Wave, table: PopulationTable, method: str,
                    trim_lower: float | None = None, trim_upper: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The weights of the wave's responses (ids, weights) and the diagnostics; writes nothing.
    Raises InvalidInput naming the cell or margin that cannot be weighted."""
    sample, totals, _names = _load(wave, table)
    try:
        result = (_poststratify if method == Weighting.Method.POSTSTRATIFY else _rake)(
            sample, totals)
        weights = result.weights
        mean = float(weights.sum()) / weights.size
        lower = trim_lower * mean if trim_lower is not None else None
        upper = trim_upper * mean if trim_upper is not None else None
        trimmed = 0
        if lower is not None or upper is not None:
            weights = stats.trim(weights, lower=lower, upper=upper, keep_total=True)
            at_bound = np.zeros(weights.size, dtype=bool)
            for bound in (lower, upper):
                if bound is not None:
                    at_bound |= np.isclose(weights, bound, rtol=1e-9, atol=0)
            trimmed = int(at_bound.sum())
        summary = stats.diagnostics(weights)
    except stats.WeightingError as error:
        raise InvalidInput(str(error)) from None
    population_total = float(sum(totals.values()))
    diagnostics: dict[str, Any] = {
        **summary.as_dict(),
        "population_total": population_total,
        "weighted_total": float(weights.sum()),
        "population_cells": len(totals),
        "unknown_sex": int((~sample.known["sex"]).sum()),
        "unknown_age_group": int((~sample.known["age_group"]).sum()),
        "iterations": result.iterations,
        "converged": result.converged,
        "max_error": result.max_error,
        "trim_lower_weight": lower,
        "trim_upper_weight": upper,
        "trimmed": trimmed,
        "margins": _margin_rows(sample, weights, totals),
    }
    return sample.ids, weights, diagnostics


def weigh_wave(*, actor: Any, wave: Wave, table: PopulationTable,
               method: str = Weighting.Method.POSTSTRATIFY, trim_lower: float | None = None,
               trim_upper: float | None = None) -> Weighting:
    """Weight the wave's responses to the table (see the module's text); stores each
    response's weight, a Weighting with the diagnostics, and an event. Nothing is written when
    the weights cannot be made (the error names the cell)."""
    check_manager(actor, wave.bureau)
    if method not in METHODS:
        raise InvalidInput("加权方法应为事后分层或迭代加权")
    if table.bureau_id != wave.bureau_id:
        raise InvalidInput(f"人口总体「{table}」不属于{wave.bureau}")
    if wave.state == Wave.State.DRAFT:
        raise InvalidInput("调查尚未开始，没有答卷可加权")
    trim_lower = _bound(trim_lower, "权重下限")
    trim_upper = _bound(trim_upper, "权重上限")
    if trim_lower is not None and not 0 < trim_lower < 1:
        raise InvalidInput("权重下限是均值的倍数，应大于0且小于1（如 0.3）")
    if trim_upper is not None and not trim_upper > 1:
        raise InvalidInput("权重上限是均值的倍数，应大于1（如 3）")
    with transaction.atomic():
        # Under the chain lock no interview can be completed meanwhile (that writes an event
        # too), so every response read here gets its weight.
        lock_chain()
        ids, weights, diagnostics = compute_weights(wave, table, method, trim_lower, trim_upper)
        _store(ids, weights)
        weighting = Weighting.objects.create(
            wave=wave, table=table, method=method, trim_lower=trim_lower,
            trim_upper=trim_upper, diagnostics=diagnostics, performed_by=actor)
        record_event(actor=actor, obj=wave, action="survey.weigh",
                     after={"weighting": weighting.pk, "table": table.pk,
                            "method": method, "trim_lower": trim_lower,
                            "trim_upper": trim_upper},
                     payload={k: diagnostics[k] for k in ("n", "deff_w", "efficiency", "n_eff",
                                                          "iterations", "converged", "trimmed")})
        return weighting


def _store(ids: np.ndarray, weights: np.ndarray) -> None:
    """Write the weights: one UPDATE per distinct weight and batch of ids. Everyone in a cell
    (township, sex, age group) has the same weight, so a wave of any size takes about as many
    statements as there are cells, not one per response."""
    groups: dict[float, list[int]] = {}
    for pk, weight in zip(ids.tolist(), weights.tolist(), strict=True):
        groups.setdefault(weight, []).append(pk)
    for weight, pks in groups.items():
        for start in range(0, len(pks), UPDATE_BATCH):
            Response.objects.filter(pk__in=pks[start:start + UPDATE_BATCH]).update(weight=weight)


def current_weighting(wave: Wave) -> Weighting | None:
    return wave.weightings.select_related("table", "performed_by").order_by(
        "-created_at", "-id").first()


# --- benchmarks -----------------------------------------------------------------------------


def index_choices(bureau: Unit) -> list[tuple[str, str]]:
    """The index codes a benchmark may name: the built-in ones and the bureau's own, each
    with the name of its first version (later ones add how they differ to the name)."""
    names: dict[str, str] = {}
    for definition in (IndexDefinition.objects.filter(bureau__isnull=True)
                       .order_by("code", "-version")):
        names[definition.code] = definition.name
    for definition in (IndexDefinition.objects.filter(bureau=bureau)
                       .order_by("code", "-version")):
        names[definition.code] = definition.name
    return [(code, f"{name}（{code}）") for code, name in sorted(names.items())]


def _clean_benchmark(bureau: Unit, index_code: str, label: str, year: Any, value: Any,
                     source: str) -> dict[str, Any]:
    index_code = (index_code or "").strip()
    label = (label or "").strip()
    source = (source or "").strip()
    if index_code not in dict(index_choices(bureau)):
        raise InvalidInput(f"没有口径代码为「{index_code}」的指数")
    if not label:
        raise InvalidInput("请填写比较对象，如 全省平均、全市平均")
    if len(label) > 50:
        raise InvalidInput("比较对象不能超过50个字")
    if len(source) > 200:
        raise InvalidInput("出处不能超过200个字")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InvalidInput("年份应为四位数字，如 2025") from None
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000 到 2100 之间")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"数值「{value}」不是数字") from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise InvalidInput("数值应在 0 到 100 之间（百分比或百分制得分）")
    if number != number.quantize(Decimal("0.01")):
        raise InvalidInput("数值最多保留两位小数")
    return {"index_code": index_code, "label": label, "year": year,
            "value": number.quantize(Decimal("0.01")), "source": source}


def _benchmark_snapshot(benchmark: Benchmark) -> dict[str, Any]:
    return {"index_code": benchmark.index_code, "label": benchmark.label,
            "year": benchmark.year, "value": str(benchmark.value), "source": benchmark.source}


def _duplicate(fields: dict[str, Any]) -> InvalidInput:
    return InvalidInput(f"{fields['year']}年{fields['label']}的「{fields['index_code']}」"
                        "已录入，请修改原有记录")


def save_benchmark(*, actor: Any, bureau: Unit, benchmark: Benchmark | None = None,
                   index_code: str, label: str, year: int, value: Any,
                   source: str = "") -> Benchmark:
    """Enter a province or city average (benchmark None) or change one."""
    if benchmark is not None and benchmark.bureau_id != bureau.pk:
        raise InvalidInput("该比较基准不属于本局")
    check_manager(actor, bureau)
    fields = _clean_benchmark(bureau, index_code, label, year, value, source)
    with transaction.atomic():
        lock_chain()
        clash = Benchmark.objects.filter(bureau=bureau, index_code=fields["index_code"],
                                         label=fields["label"], year=fields["year"])
        if benchmark is not None:
            clash = clash.exclude(pk=benchmark.pk)
        if clash.exists():
            raise _duplicate(fields)
        if benchmark is None:
            saved = Benchmark.objects.create(bureau=bureau, **fields)
            record_event(actor=actor, obj=saved, action="survey.benchmark_create",
                         after=_benchmark_snapshot(saved))
            return saved
        before = _benchmark_snapshot(benchmark)
        for name, new in fields.items():
            setattr(benchmark, name, new)
        benchmark.save()
        after = _benchmark_snapshot(benchmark)
        if after != before:
            record_event(actor=actor, obj=benchmark, action="survey.benchmark_update",
                         before=before, after=after)
        return benchmark


def delete_benchmark(*, actor: Any, benchmark: Benchmark) -> None:
    check_manager(actor, benchmark.bureau)
    with transaction.atomic():
        lock_chain()
        record_event(actor=actor, obj=benchmark, action="survey.benchmark_delete",
                     before=_benchmark_snapshot(benchmark))
        benchmark.delete()


def register() -> None:
    register_action_labels(ACTION_LABELS)
