"""The scoring rules of a scheme and fair rankings, as pure functions (no database).

Rules per item: linear to target (full weight at or beyond the target, zero at or beyond the
floor, linear between; the other way round when lower is better), by rank
(weight × (N − rank) / (N − 1), or a points table), a deduction per event (per_event, capped),
and veto (一票否决: any event sets the unit's total to 0, marked).

Fairness: a share whose denominator is below the scheme's minimum count is marked 样本不足, is
not ranked on that item and scores the mean score of the units that were scored on it (neither
rewarded nor punished for a handful of orders); a share is shown with its Wilson interval and a
rank range (the ranks it can hold given the intervals) rather than a bare rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from minyi.assessment.indicators import NotAvailable, Result, Share, Value, value_of
from minyi.surveys.stats.compare import rank_ranges
from minyi.surveys.stats.intervals import quantile, wilson

CENT = Decimal("0.01")
LEVEL = 0.95
LINEAR, RANK, DEDUCTION, VETO = "linear", "rank", "deduction", "veto"


def q2(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --- the rules -----------------------------------------------------------------------------------


def linear_score(value: Decimal, *, weight: Decimal, target: Decimal,
                 floor: Decimal | None = None, higher_is_better: bool = True) -> Decimal:
    """Full weight at or beyond the target, 0 at or beyond the floor, linear between. The floor
    defaults to 0 (higher is better) or 100 (lower is better)."""
    weight, target, value = Decimal(weight), Decimal(target), Decimal(value)
    if floor is None:
        floor = Decimal(0) if higher_is_better else Decimal(100)
    floor = Decimal(floor)
    if higher_is_better:
        if value >= target:
            return q2(weight)
        if value <= floor or target <= floor:
            return Decimal("0.00")
        return q2(weight * (value - floor) / (target - floor))
    if value <= target:
        return q2(weight)
    if value >= floor or floor <= target:
        return Decimal("0.00")
    return q2(weight * (floor - value) / (floor - target))


def rank_score(rank: int, n: int, *, weight: Decimal,
               points: list[Any] | None = None) -> Decimal:
    """weight × (N − rank) / (N − 1) (the only unit ranked takes the full weight), or the
    points table's entry for the rank (0 beyond its end)."""
    if points:
        return q2(Decimal(str(points[rank - 1]))) if rank <= len(points) else Decimal("0.00")
    if n <= 1:
        return q2(Decimal(weight))
    return q2(Decimal(weight) * (n - rank) / (n - 1))


def deduction_score(events: int, *, weight: Decimal, per_event: Decimal,
                    cap: Decimal | None = None) -> Decimal:
    """The weight less per_event for each event, the deduction at most `cap` (default: the
    weight), never below 0."""
    weight = Decimal(weight)
    deduction = Decimal(per_event) * events
    limit = Decimal(cap) if cap is not None else weight
    deduction = min(deduction, limit)
    return q2(max(weight - deduction, Decimal(0)))


def competition_ranks(values: list[Decimal | None], *,
                      higher_is_better: bool = True) -> list[int | None]:
    """1, 2, 2, 4 …: equal values share a rank, the next rank skips; None is not ranked."""
    known = [v for v in values if v is not None]
    ranks: list[int | None] = []
    for v in values:
        if v is None:
            ranks.append(None)
            continue
        better = sum(1 for o in known if (o > v if higher_is_better else o < v))
        ranks.append(1 + better)
    return ranks


def share_interval(share: Share, level: float = LEVEL) -> tuple[Decimal, Decimal] | None:
    """The Wilson interval of a share in percent (one decimal); None for no denominator."""
    p = share.proportion
    if p is None:
        return None
    lo, hi = wilson(min(max(p, 0.0), 1.0), share.denominator, level)
    return (Decimal(str(lo * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
            Decimal(str(hi * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def share_se(share: Share, level: float = LEVEL) -> float:
    """A standard error for ranking from the Wilson interval's width (not 0 at 0% or 100%,
    where the plain binomial one would claim certainty from a handful of orders)."""
    lo, hi = wilson(min(max(share.proportion or 0.0, 0.0), 1.0), share.denominator, level)
    return (hi - lo) / (2 * quantile(level))


# --- a month's scores ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A scheme item as the scoring needs it."""

    code: str
    version: int
    name: str
    rule: str
    weight: Decimal
    target: Decimal | None = None
    params: dict[str, Any] = field(default_factory=dict)
    higher_is_better: bool = True
    is_share: bool = True


@dataclass
class Cell:
    """One unit's figure and score on one item."""

    result: Result
    value: Decimal | None = None
    score: Decimal = Decimal("0.00")
    rank: int | None = None
    rank_range: tuple[int, int] | None = None
    interval: tuple[Decimal, Decimal] | None = None
    insufficient: bool = False  # 样本不足: not ranked, scored at the mean
    no_data: bool = False
    events: int = 0
    vetoes: bool = False

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "value": _s(self.value),
            "numerator": _s(r.numerator) if isinstance(r, Share) else None,
            "denominator": r.denominator if isinstance(r, Share) else None,
            "score": _s(self.score),
            "rank": self.rank,
            "rank_range": list(self.rank_range) if self.rank_range else None,
            "interval": [_s(x) for x in self.interval] if self.interval else None,
            "insufficient": self.insufficient,
            "no_data": self.no_data,
            "not_available": r.reason if isinstance(r, NotAvailable) else "",
            "events": self.events,
            "vetoes": self.vetoes,
        }


@dataclass
class UnitScore:
    unit_id: int
    cells: dict[str, Cell]
    total: Decimal = Decimal("0.00")
    vetoed: bool = False
    rank: int | None = None


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _events(result: Result) -> int:
    value = value_of(result)
    return int(value) if value is not None else 0


def score_item(item: Item, results: dict[int, Result], *, min_count: int,
               level: float = LEVEL) -> dict[int, Cell]:
    """Every unit's cell on one item."""
    cells = {uid: Cell(result=r, value=value_of(r)) for uid, r in results.items()}
    for cell in cells.values():
        cell.no_data = cell.value is None
        if isinstance(cell.result, Share):
            cell.interval = share_interval(cell.result, level)
            cell.insufficient = cell.result.denominator < min_count
    if item.rule in (DEDUCTION, VETO):
        for cell in cells.values():
            cell.events = _events(cell.result)
            if item.rule == DEDUCTION:
                cell.score = deduction_score(
                    cell.events, weight=item.weight,
                    per_event=Decimal(str(item.params.get("per_event", "1"))),
                    cap=(Decimal(str(item.params["cap"])) if item.params.get("cap") is not None
                         else None))
            else:
                cell.vetoes = cell.events > 0
                cell.score = Decimal("0.00")
        return cells

    eligible = [uid for uid, c in cells.items() if not c.no_data and not c.insufficient]
    ids = list(cells)
    ranks = competition_ranks([cells[u].value if u in eligible else None for u in ids],
                              higher_is_better=item.higher_is_better)
    for uid, rank in zip(ids, ranks, strict=True):
        cells[uid].rank = rank
    _rank_ranges(cells, eligible, item.higher_is_better, level)
    n = len(eligible)
    for uid in eligible:
        cell = cells[uid]
        if item.rule == RANK:
            cell.score = rank_score(cell.rank or n, n, weight=item.weight,
                                    points=item.params.get("points"))
        else:
            target = item.target if item.target is not None else (
                Decimal(100) if item.higher_is_better else Decimal(0))
            floor = item.params.get("floor")
            cell.score = linear_score(cell.value, weight=item.weight, target=target,
                                      floor=Decimal(str(floor)) if floor is not None else None,
                                      higher_is_better=item.higher_is_better)
    # Too few to judge, or nothing to divide by: the mean of those judged (the full weight if
    # none was).
    substitute = (q2(sum(cells[u].score for u in eligible) / n) if n else q2(item.weight))
    for uid, cell in cells.items():
        if uid not in eligible:
            cell.score = substitute
    return cells


def _rank_ranges(cells: dict[int, Cell], eligible: list[int], higher: bool,
                 level: float) -> None:
    if not eligible:
        return
    sign = 1.0 if higher else -1.0
    values, ses = [], []
    for uid in eligible:
        r = cells[uid].result
        if isinstance(r, Share):
            values.append(sign * (r.proportion or 0.0))
            ses.append(share_se(r, level))
        else:
            values.append(sign * float(cells[uid].value or 0))
            ses.append(0.0)
    for uid, found in zip(eligible, rank_ranges(values, ses, level=level), strict=True):
        if found is not None and all(math.isfinite(x) for x in found):
            cells[uid].rank_range = (int(found[0]), int(found[1]))


def score_units(unit_ids: list[int], items: list[Item],
                results: dict[tuple[int, str], Result], *, min_count: int,
                level: float = LEVEL) -> list[UnitScore]:
    """Every unit's cells, total (0 when vetoed) and rank by total (ties share a rank), in the
    order of `unit_ids`."""
    by_item = {item.code: score_item(
        item, {uid: results.get((uid, item.code), Value(None)) for uid in unit_ids},
        min_count=min_count, level=level) for item in items}
    scores = []
    for uid in unit_ids:
        cells = {code: by_item[code][uid] for code in by_item}
        vetoed = any(c.vetoes for c in cells.values())
        total = Decimal("0.00") if vetoed else q2(sum(
            (c.score for c in cells.values()), Decimal(0)))
        scores.append(UnitScore(unit_id=uid, cells=cells, total=total, vetoed=vetoed))
    for score, rank in zip(scores, competition_ranks([s.total for s in scores]), strict=True):
        score.rank = rank
    return scores
