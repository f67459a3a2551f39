"""The indicators (考核指标) as pure functions of one unit's monthly counts (no database).

Each formula takes the counts of `assessment.facts` (keys of facts.COUNT_KEYS) and the
indicator's params and returns a Share (a numerator over a denominator, shown as a percentage
with an interval) or a Value (a number: a composite, a count of events). A formula that needs a
count the figures do not carry yet returns NotAvailable, so that a missing count reads as
"not yet available", never as zero.

BUILTIN lists the built-in indicators with their definitions (口径): what they count, their
numerator and denominator and which records these are. A definition that is used is never
edited: a change is a new entry with the next version (the seed keeps the old rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Share:
    """numerator / denominator (the numerator may be weighted, so a Decimal)."""

    numerator: Decimal
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        """The share in percent with one decimal, half up (as the bulletin rounds); None for
        nothing to divide by."""
        if not self.denominator:
            return None
        return (Decimal(self.numerator) * HUNDRED / self.denominator).quantize(
            ONE_DECIMAL, rounding=ROUND_HALF_UP)

    @property
    def proportion(self) -> float | None:
        if not self.denominator:
            return None
        return float(Decimal(self.numerator) / self.denominator)


@dataclass(frozen=True)
class Value:
    """A number that is not a share (a composite score, a count of events); None: no data."""

    value: Decimal | None


@dataclass(frozen=True)
class NotAvailable:
    """The counts do not carry what the formula needs (yet)."""

    reason: str


Result = Share | Value | NotAvailable


def value_of(result: Result) -> Decimal | None:
    """The figure that is scored: a share's percentage, a value's number; None if none."""
    if isinstance(result, Share):
        return result.percent
    if isinstance(result, Value):
        return result.value
    return None


def _d(value: Any, default: str) -> Decimal:
    return Decimal(str(value if value is not None else default))


def _need(counts: dict[str, int], *keys: str) -> NotAvailable | None:
    missing = [k for k in keys if k not in counts]
    if missing:
        return NotAvailable("月度统计中没有" + "、".join(missing) + "计数")
    return None


def _share(counts: dict[str, int], numerator: str, denominator: str) -> Result:
    missing = _need(counts, numerator, denominator)
    if missing:
        return missing
    return Share(Decimal(counts[numerator]), int(counts[denominator]))


def _valid(counts: dict[str, int]) -> int:
    return int(counts["received"]) - int(counts["invalid"])


# --- the formulas --------------------------------------------------------------------------------


def completion(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _need(counts, "closed", "received", "invalid") or Share(
        Decimal(counts["closed"]), _valid(counts))


def on_time(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _share(counts, "closed_on_time", "closed")


def contact(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _share(counts, "contact_on_time", "contact_due")


def satisfaction(counts: dict[str, int], params: dict[str, Any]) -> Result:
    missing = _need(counts, "cb_satisfied", "cb_basic", "cb_dissatisfied")
    if missing:
        return missing
    weight = _d(params.get("basic_weight"), "1")
    reached = counts["cb_satisfied"] + counts["cb_basic"] + counts["cb_dissatisfied"]
    return Share(counts["cb_satisfied"] + counts["cb_basic"] * weight, int(reached))


def response(counts: dict[str, int], params: dict[str, Any]) -> Result:
    """12345 response rate: orders whose citizen was contacted at all (in time or late) among
    those with a contact deadline."""
    missing = _need(counts, "contact_on_time", "contact_late", "contact_due")
    if missing:
        return missing
    return Share(Decimal(counts["contact_on_time"] + counts["contact_late"]),
                 int(counts["contact_due"]))


def resolution(counts: dict[str, int], params: dict[str, Any]) -> Result:
    """12345 resolution rate: closed orders never redone among closed orders. Needs the count
    of closed orders that were redone (closed_redone)."""
    missing = _need(counts, "closed", "closed_redone")
    if missing:
        return missing
    return Share(Decimal(counts["closed"] - counts["closed_redone"]), int(counts["closed"]))


THREE_RATES = (("response", response), ("resolution", resolution),
               ("satisfaction", satisfaction))
DEFAULT_THREE_RATE_WEIGHTS = {"response": "0.1", "resolution": "0.45", "satisfaction": "0.45"}


def three_rates(counts: dict[str, int], params: dict[str, Any]) -> Result:
    """The composite of the three rates: Σ weight × rate (percent), the weights from params
    ("weights": {"response": …, "resolution": …, "satisfaction": …}) normalised to sum 1.
    No value when any rate has none."""
    weights = {k: _d(v, "0") for k, v in
               {**DEFAULT_THREE_RATE_WEIGHTS, **(params.get("weights") or {})}.items()}
    total_weight = sum(weights[k] for k, _f in THREE_RATES)
    if total_weight <= 0:
        return NotAvailable("三率权重之和应大于 0")
    parts = []
    for key, formula in THREE_RATES:
        result = formula(counts, params)
        if isinstance(result, NotAvailable):
            return result
        if result.percent is None:
            return Value(None)
        parts.append(weights[key] * result.percent)
    composite = sum(parts) / total_weight
    return Value(composite.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def return_rate(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _need(counts, "returned", "received", "invalid") or Share(
        Decimal(counts["returned"]), _valid(counts))


def redo_rate(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _need(counts, "redone", "received", "invalid") or Share(
        Decimal(counts["redone"]), _valid(counts))


def repeat_rate(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _share(counts, "repeats", "received")


def rectification_on_time(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _share(counts, "rect_on_time", "rect_due")


def callback_response(counts: dict[str, int], params: dict[str, Any]) -> Result:
    return _share(counts, "cb_tasks_answered", "cb_tasks_closed")


def _count(key: str) -> Callable[[dict[str, int], dict[str, Any]], Result]:
    def formula(counts: dict[str, int], params: dict[str, Any]) -> Result:
        return _need(counts, key) or Value(Decimal(counts[key]))
    formula.__name__ = key
    return formula


FORMULAS: dict[str, Callable[[dict[str, int], dict[str, Any]], Result]] = {
    "completion": completion,
    "on_time": on_time,
    "contact": contact,
    "satisfaction": satisfaction,
    "response": response,
    "resolution": resolution,
    "three_rates": three_rates,
    "return_rate": return_rate,
    "redo_rate": redo_rate,
    "repeat_rate": repeat_rate,
    "rectification_on_time": rectification_on_time,
    "callback_response": callback_response,
    "notices": _count("notices"),
    "notices_unanswered": _count("notices_unanswered"),
    "letters": _count("letters"),
}
MANUAL = "manual"


def compute(formula: str, counts: dict[str, int], params: dict[str, Any]) -> Result:
    """The named formula over a unit's counts. A manual indicator has no formula here."""
    if formula not in FORMULAS:
        return NotAvailable(f"未知的计算方法「{formula}」")
    return FORMULAS[formula](counts, params or {})


def manual(value: Decimal | None, numerator: int | None = None,
           denominator: int | None = None, *, is_share: bool = True) -> Result:
    """A hand-entered figure: a share when both parts were entered, else the value."""
    if value is None:
        return Value(None)
    if is_share and numerator is not None and denominator:
        return Share(Decimal(numerator), int(denominator))
    return Value(Decimal(value))


# The numerator counts each share indicator's link to the order list selects (the order list's
# filters; see selectors.ORDER_FILTERS), and the denominator's. "" where no filter selects it.
ORDER_LINKS: dict[str, tuple[str, str]] = {
    "completion": ("closed", "received"),
    "on_time": ("closed_on_time", "closed"),
    "contact": ("contact_on_time", "received"),
    "satisfaction": ("", "received"),
    "response": ("", "received"),
    "resolution": ("", "closed"),
    "return_rate": ("", "received"),
    "redo_rate": ("", "received"),
    "repeat_rate": ("repeats", "received"),
}

_ORDERS = "工单：本局接单时间（北京时间）在该月内的工单（与每周通报、工单统计的日期口径相同），" \
          "按承办单位统计（含下属中队）"

# --- the built-in indicators (seeded by migration 0003) -----------------------------------------

BUILTIN: list[dict[str, Any]] = [
    {"code": "completion", "version": 1, "name": "办结率", "kind": "computed",
     "formula": "completion", "params": {},
     "counts_what": _ORDERS, "numerator": "办结：其中截至统计时状态为已办结的件数",
     "denominator": "有效受理：受理件数减去被标记为无效的件数"},
    {"code": "on_time", "version": 1, "name": "按时办结率", "kind": "computed",
     "formula": "on_time", "params": {},
     "counts_what": _ORDERS,
     "numerator": "按时办结：办结工单中办理完成时间不晚于办理时限的件数（无时限的算按时）",
     "denominator": "办结：已办结的件数"},
    {"code": "contact", "version": 1, "name": "及时联系率", "kind": "computed",
     "formula": "contact", "params": {},
     "counts_what": _ORDERS,
     "numerator": "及时联系：在联系时限内联系群众的件数",
     "denominator": "有联系时限的件数（未联系的算不及时）"},
    {"code": "satisfaction", "version": 1, "name": "回复满意率", "kind": "computed",
     "formula": "satisfaction", "params": {"basic_weight": "1"},
     "counts_what": _ORDERS + "；以工单上记录的回访结果为准",
     "numerator": "满意件数 + 基本满意件数 × 基本满意权重（参数 basic_weight）",
     "denominator": "回访联系上的件数（满意、基本满意、不满意；未联系上的不计）"},
    {"code": "response", "version": 1, "name": "响应率（三率）", "kind": "computed",
     "formula": "response", "params": {},
     "counts_what": _ORDERS,
     "numerator": "已联系群众的件数（时限内或超时联系）",
     "denominator": "有联系时限的件数"},
    {"code": "resolution", "version": 1, "name": "解决率（三率）", "kind": "computed",
     "formula": "resolution", "params": {},
     "counts_what": _ORDERS,
     "numerator": "办结且从未重办的件数（办结减去办结工单中重办过的件数）",
     "denominator": "办结：已办结的件数"},
    {"code": "satisfaction_12345", "version": 1, "name": "满意率（三率）", "kind": "computed",
     "formula": "satisfaction", "params": {"basic_weight": "1"},
     "counts_what": _ORDERS + "；以工单上记录的回访结果为准",
     "numerator": "满意件数 + 基本满意件数 × 基本满意权重",
     "denominator": "回访联系上的件数"},
    {"code": "three_rates", "version": 1, "name": "三率综合成绩", "kind": "computed",
     "formula": "three_rates",
     "params": {"weights": DEFAULT_THREE_RATE_WEIGHTS, "basic_weight": "1"},
     "counts_what": _ORDERS,
     "numerator": "响应率 × 权重 + 解决率 × 权重 + 满意率 × 权重（默认 10%、45%、45%，"
                  "权重之和归一）",
     "denominator": "", "unit_label": "分", "is_share": False},
    {"code": "return_rate", "version": 1, "name": "退单率", "kind": "computed",
     "formula": "return_rate", "params": {}, "higher_is_better": False,
     "counts_what": _ORDERS, "numerator": "申请过退单的件数（退单次数大于 0）",
     "denominator": "有效受理：受理件数减去无效件数"},
    {"code": "redo_rate", "version": 1, "name": "重办率", "kind": "computed",
     "formula": "redo_rate", "params": {}, "higher_is_better": False,
     "counts_what": _ORDERS, "numerator": "被重办过的件数（重办次数大于 0）",
     "denominator": "有效受理：受理件数减去无效件数"},
    {"code": "repeat_rate", "version": 1, "name": "重复投诉率", "kind": "computed",
     "formula": "repeat_rate", "params": {}, "higher_is_better": False,
     "counts_what": _ORDERS, "numerator": "被判定为重复投诉的件数",
     "denominator": "受理：所选工单数（含无效）"},
    {"code": "rectification_on_time", "version": 1, "name": "整改按期率", "kind": "computed",
     "formula": "rectification_on_time", "params": {},
     "counts_what": "整改事项：整改期限在该月内的整改（按整改单位统计）",
     "numerator": "在期限前上报整改情况的件数（以最后一次上报时间为准）",
     "denominator": "整改期限在该月内的整改事项数"},
    {"code": "callback_response", "version": 1, "name": "回访应答率", "kind": "computed",
     "formula": "callback_response", "params": {},
     "counts_what": "回访任务：该月完成或结束的常规回访任务（按被评价单位统计）",
     "numerator": "获得回答的回访任务数",
     "denominator": "完成或结束（未获回答）的回访任务数"},
    {"code": "notices", "version": 1, "name": "督办单", "kind": "computed",
     "formula": "notices", "params": {}, "higher_is_better": False, "is_share": False,
     "unit_label": "件",
     "counts_what": "督办单：该月下发给该单位（含下属单位）的督办单，按下发时间计",
     "numerator": "督办单件数", "denominator": ""},
    {"code": "notices_unanswered", "version": 1, "name": "逾期未答复督办单", "kind": "computed",
     "formula": "notices_unanswered", "params": {}, "higher_is_better": False,
     "is_share": False, "unit_label": "件",
     "counts_what": "督办单：截至统计时已过答复期限仍未答复的督办单（不限下发月）",
     "numerator": "逾期未答复督办单件数", "denominator": ""},
    {"code": "survey_index", "version": 1, "name": "民调满意度指数", "kind": "manual",
     "formula": MANUAL, "params": {}, "is_share": False, "unit_label": "分",
     "counts_what": "群众安全感满意度民调：当月（或最近一期）民调中该单位辖区的指数，"
                    "由民意访查中心按民调结果填报",
     "numerator": "民调指数（0–100）", "denominator": ""},
    {"code": "clearance_rate", "version": 1, "name": "破案率", "kind": "manual",
     "formula": MANUAL, "params": {},
     "counts_what": "案件：执法办案系统中该单位当月的刑事案件（手工填报）",
     "numerator": "破案数", "denominator": "立案数"},
    {"code": "dissuasion_rate", "version": 1, "name": "预警劝阻率", "kind": "manual",
     "formula": MANUAL, "params": {},
     "counts_what": "反诈预警：反诈平台推送给该单位的当月预警（手工填报）",
     "numerator": "劝阻成功数", "denominator": "预警数"},
    {"code": "petitions_resolved", "version": 1, "name": "信访化解率", "kind": "manual",
     "formula": MANUAL, "params": {},
     "counts_what": "信访事项：信访系统中该单位当月办结的信访事项（手工填报）",
     "numerator": "化解（息诉罢访）件数", "denominator": "办结信访事项数"},
    {"code": "veto_events", "version": 1, "name": "一票否决事项", "kind": "manual",
     "formula": MANUAL, "params": {}, "higher_is_better": False, "is_share": False,
     "unit_label": "件",
     "counts_what": "当月发生的一票否决事项（如造成恶劣影响的舆情、重大责任事故），手工填报",
     "numerator": "事项件数", "denominator": ""},
]

DEFAULTS = {"unit_label": "%", "higher_is_better": True, "is_share": True}


def builtin_rows() -> list[dict[str, Any]]:
    """BUILTIN with every field filled in (what the seed writes)."""
    return [{**DEFAULTS, **entry} for entry in BUILTIN]
