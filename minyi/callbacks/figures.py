"""Callback figures (回访统计): per unit, contact source, caller or period — tasks drawn, called,
answered, the AAPOR outcome counts and rates, satisfaction under a named definition, and the
rectifications still open. Counted by the database: one grouped query for the rows and one for
the total, whatever the number of tasks.

How things are counted (the page's definitions box says the same in Chinese):

- **Period.** A task belongs to the period of its *due date* (应回访日期, Shanghai time, both
  ends included). Every count of a row is about the same set of tasks, so the row adds up: an
  answer given after the period still counts for the task that was due in it.
- **Kind.** One kind of task at a time, regular callbacks by default: spot checks re-ask the
  same people and recalls follow up a rectification, so mixing them would count people twice.
- **Open tasks are not final.** Pending and retry tasks are counted apart (`open`), as are
  cancelled ones; the AAPOR counts and rates are of final tasks (completed or closed) only.
  drawn = open + cancelled + final.
- **A final task's outcome.** An answer makes it I. Without one, the class of its last attempt
  (the task's `outcome`): R, NC, O, UO, NE, P as they are; a last attempt classed I that left no
  answer is a break-off, R; a final task never called (no class) is UH — AAPOR's "not attempted
  or worked" lies in the unknown-eligibility group. P does not arise from the desk (one
  question: answered or not) but is counted if a disposition ever maps to it.
- **e.** Each row's own proportional-allocation estimate (see `aapor`) unless one e is given.
- **Satisfaction.** The answers of the row's tasks (all of them: reached = satisfied +
  basically satisfied + dissatisfied), and the rate under the definition chosen from
  `rules.DEFINITIONS`, named with its version in every output.
- **Rectifications.** Those opened from the row's tasks, as they stand now: `open` not yet
  closed out (open, reported, returned, accepted); `overdue` those still the unit's move (open,
  returned) past their deadline, as the rectification list counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth
from django.http import Http404
from django.utils import timezone

from minyi.callbacks import aapor, rules
from minyi.callbacks.models import (
    Attempt,
    CallbackTask,
    Caller,
    Rectification,
    Satisfaction,
    Source,
)
from minyi.core.errors import InvalidInput
from minyi.orgs import access
from minyi.orgs.models import Unit

TaskState = CallbackTask.State
OPEN_STATES = (TaskState.PENDING, TaskState.RETRY)
FINAL_STATES = (TaskState.COMPLETED, TaskState.CLOSED)
# As minyi.callbacks.rectification counts them (ACTIVE_STATES, UNIT_TODO_STATES).
RECTIFICATION_OPEN = (Rectification.State.OPEN, Rectification.State.REPORTED,
                      Rectification.State.RETURNED, Rectification.State.ACCEPTED)
RECTIFICATION_TODO = (Rectification.State.OPEN, Rectification.State.RETURNED)

GROUPINGS = {"unit": "单位", "source": "回访对象来源", "caller": "回访主体", "month": "月份",
             "day": "日期"}
KINDS = dict(CallbackTask.Kind.choices)
MAX_DAYS = 366 * 3
DEFINITION_NAME = "callbacks.satisfaction"

COUNT_LABELS = {
    "drawn": "抽取任务", "open": "进行中", "cancelled": "已取消", "final": "已结束",
    "attempted": "已拨打", "reached": "获得回答", "satisfied": "满意",
    "basically_satisfied": "基本满意", "dissatisfied": "不满意",
    "rectification_open": "整改未销号", "rectification_overdue": "整改逾期",
}

PERIOD_RULE = ("按回访任务的应回访日期（北京时间）归入统计期，起止日期均含；"
               "同一行的各项数字都针对同一批任务。")
OUTCOME_RULE = ("只统计已结束（已完成、已结束未获回答）的任务；待回访、待重拨的任务计为「进行中」，"
                "已取消的单列，均不进入 AAPOR 比率。有回答的为 I；没有回答的取最后一次拨打的"
                "结果类别；最后一次为接通却未留下回答的视为中断（R）；从未拨打就结束的计为 UH"
                "（AAPOR「未拨打」属资格不明）。")
RECTIFICATION_RULE = ("由本行任务开具的整改事项的当前状态：未销号 = 待整改、已上报待审核、"
                      "退回重新整改、已通过待再回访；逾期 = 待整改或退回重新整改且已过整改期限。")
KIND_RULE = ("一次只统计一类任务（默认为回访）：抽测回访与整改后再回访重复询问同一批群众，"
             "不与回访相加。")


# --- who sees what ------------------------------------------------------------------------------


def task_scope(user: Any) -> Q | None:
    """The tasks a user may count: their bureaus' for the bureau-wide roles (leaders, inspectors,
    the opinion office, the command centre), their units' subtrees for the unit's people (as
    the rectification list and the spot checks scope them). None means all."""
    return access.unit_scope_q(user)


def client_scope(client: Any) -> Q:
    """An integrating system counts the callbacks of the orders it sent, and no others."""
    return Q(contact__order__source_client=client)


def visible_tasks(user: Any = None, *, client: Any = None) -> QuerySet[CallbackTask]:
    scope = client_scope(client) if client is not None else task_scope(user)
    return CallbackTask.objects.all() if scope is None else CallbackTask.objects.filter(scope)


def units_for(user: Any = None, *, client: Any = None) -> QuerySet[Unit]:
    """The units whose figures the caller may ask for (as a filter)."""
    if client is not None:
        return Unit.objects.filter(path__startswith=client.bureau.path)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    q = Q(pk__in=[])
    for membership in access.memberships_of(user):
        root = (membership.unit.bureau() if membership.role in access.ORDER_WIDE_ROLES
                else membership.unit)
        q |= Q(path__startswith=root.path)
    return Unit.objects.filter(q)


def get_unit(pk: Any, user: Any = None, *, client: Any = None) -> Unit:
    """404 alike for a missing unit and one outside the caller's reach."""
    try:
        return units_for(user, client=client).get(pk=int(pk))
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该单位") from None


# --- the query's parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    field: str
    label: str
    message: str


class QueryError(InvalidInput):
    """Parameters that cannot be used; every problem, in Chinese."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("；".join(p.message for p in problems))
        self.problems = problems


PARAM_LABELS = {"date_from": "起始日期", "date_to": "截止日期", "by": "分组", "kind": "任务类别",
                "definition": "满意率口径", "unit": "单位", "e": "e"}


@dataclass(frozen=True)
class FigureQuery:
    date_from: date
    date_to: date
    by: str = "unit"
    kind: str = CallbackTask.Kind.CALLBACK
    definition: str = rules.DEFAULT_DEFINITION
    unit: int | None = None
    e: Fraction | None = None

    def params(self, **changes: Any) -> dict[str, str]:
        """As query parameters (for links that change one of them)."""
        values = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                  "by": self.by, "kind": self.kind, "definition": self.definition,
                  "unit": "" if self.unit is None else str(self.unit),
                  "e": "" if self.e is None else _e_text(self.e)}
        values.update(changes)
        return {k: v for k, v in values.items() if v != ""}


def _e_text(e: Fraction) -> str:
    return str(e.numerator) if e.denominator == 1 else f"{float(e):g}"


def default_period(today: date) -> tuple[date, date]:
    """This month so far."""
    return today.replace(day=1), today


def _date(raw: str, name: str, problems: list[Problem]) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        label = PARAM_LABELS[name]
        problems.append(Problem(name, label,
                                f"{label}应写作 2026-11-01 这样的日期，而不是 {raw!r}"))
        return None


def parse_query(params: Mapping[str, Any], *, today: date | None = None) -> FigureQuery:
    """Read the page's (or the API's) parameters; QueryError lists every problem."""
    today = today or timezone.localdate()
    default_from, default_to = default_period(today)
    problems: list[Problem] = []

    def text(name: str) -> str:
        value = params.get(name)
        return value.strip() if isinstance(value, str) else ""

    date_from = _date(text("date_from"), "date_from", problems) if text("date_from") \
        else default_from
    date_to = _date(text("date_to"), "date_to", problems) if text("date_to") else default_to
    if date_from and date_to:
        if date_from > date_to:
            problems.append(Problem("date_to", PARAM_LABELS["date_to"], "截止日期不能早于起始日期"))
        elif (date_to - date_from).days >= MAX_DAYS:
            problems.append(Problem("date_to", PARAM_LABELS["date_to"],
                                    f"统计期最长 {MAX_DAYS} 天，请缩短"))
    by = text("by") or "unit"
    if by not in GROUPINGS:
        names = "、".join(f"{k}（{v}）" for k, v in GROUPINGS.items())
        problems.append(Problem("by", PARAM_LABELS["by"], f"分组只能是 {names}，而不是 {by!r}"))
    kind = text("kind") or CallbackTask.Kind.CALLBACK
    if kind not in KINDS:
        names = "、".join(f"{k}（{v}）" for k, v in KINDS.items())
        problems.append(Problem("kind", PARAM_LABELS["kind"],
                                f"任务类别只能是 {names}，而不是 {kind!r}"))
    definition = text("definition") or rules.DEFAULT_DEFINITION
    if definition not in rules.DEFINITIONS:
        problems.append(Problem("definition", PARAM_LABELS["definition"],
                                f"满意率口径只能是 {'、'.join(rules.DEFINITIONS)}，"
                                f"而不是 {definition!r}"))
    unit = None
    if text("unit"):
        if text("unit").isdecimal():
            unit = int(text("unit"))
        else:
            problems.append(Problem("unit", PARAM_LABELS["unit"], "单位应为单位编号（整数）"))
    e = None
    if text("e"):
        try:
            e = Fraction(text("e"))
            if not 0 <= e <= 1:
                raise ValueError
        except (ValueError, ZeroDivisionError):
            problems.append(Problem("e", PARAM_LABELS["e"], "e 应为 0 到 1 之间的数，如 0.8"))
            e = None
    if problems:
        raise QueryError(problems)
    assert date_from is not None and date_to is not None
    return FigureQuery(date_from=date_from, date_to=date_to, by=by, kind=kind,
                       definition=definition, unit=unit, e=e)


# --- the counting -------------------------------------------------------------------------------


def _aggregates(now: datetime) -> dict[str, Any]:
    final = Q(state__in=FINAL_STATES)
    unanswered = final & Q(answer__isnull=True)
    counted_as_is = ("P", "NC", "O", "UO", "NE")
    return {
        "drawn": Count("pk"),
        "open": Count("pk", filter=Q(state__in=OPEN_STATES)),
        "cancelled": Count("pk", filter=Q(state=TaskState.CANCELLED)),
        "final": Count("pk", filter=final),
        # The attempt rows themselves, not the task's counter: the figure is what was called.
        "attempted": Count("pk", filter=Q(Exists(Attempt.objects.filter(task=OuterRef("pk"))))),
        "reached": Count("pk", filter=Q(answer__isnull=False)),
        "satisfied": Count("pk", filter=Q(answer__satisfaction=Satisfaction.SATISFIED)),
        "basically_satisfied": Count(
            "pk", filter=Q(answer__satisfaction=Satisfaction.BASICALLY_SATISFIED)),
        "dissatisfied": Count("pk", filter=Q(answer__satisfaction=Satisfaction.DISSATISFIED)),
        "out_I": Count("pk", filter=final & Q(answer__isnull=False)),
        **{f"out_{c}": Count("pk", filter=unanswered & Q(outcome=c)) for c in counted_as_is},
        "out_R": Count("pk", filter=unanswered & Q(outcome__in=["R", "I"])),
        "out_UH": Count("pk", filter=unanswered & ~Q(outcome__in=["I", "R", *counted_as_is])),
        "rectification_open": Count("pk", filter=Q(rectification__state__in=RECTIFICATION_OPEN)),
        "rectification_overdue": Count("pk", filter=Q(
            rectification__state__in=RECTIFICATION_TODO, rectification__due_at__lt=now)),
    }


@dataclass
class Row:
    key: str
    label: str
    counts: dict[str, int]
    outcomes: aapor.Outcomes
    e: Fraction | None
    rates: dict[str, float | None]
    satisfaction_rate: float | None
    unit: Unit | None = None
    is_total: bool = False
    workings: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": ({"id": self.unit.pk, "code": self.unit.code, "name": self.unit.name}
                     if self.unit is not None else None),
            "counts": self.counts,
            "outcomes": self.outcomes.as_dict(),
            "e": None if self.e is None else float(self.e),
            "rates": self.rates,
            "satisfaction_rate": self.satisfaction_rate,
        }


def _row(key: str, label: str, values: Mapping[str, Any], q: FigureQuery,
         unit: Unit | None = None, is_total: bool = False) -> Row:
    counts = {name: int(values[name] or 0) for name in COUNT_LABELS}
    outcomes = aapor.Outcomes(**{c: int(values[f"out_{c}"] or 0) for c in aapor.CLASSES})
    e = aapor.resolve_e(outcomes, q.e)
    return Row(
        key=key, label=label, counts=counts, outcomes=outcomes, e=e,
        rates={name: aapor.rate(name, outcomes, e) for name in aapor.RATES},
        satisfaction_rate=rules.satisfaction_rate(
            counts["satisfied"], counts["basically_satisfied"], counts["dissatisfied"],
            q.definition),
        unit=unit, is_total=is_total,
        workings={name: aapor.working(name, outcomes, e) for name in aapor.RATES},
    )


@dataclass
class Figures:
    query: FigureQuery
    rows: list[Row]
    total: Row
    unit: Unit | None
    computed_at: datetime

    def definitions(self) -> dict[str, Any]:
        return definitions(self.query)

    def as_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "period": {"date_from": q.date_from.isoformat(), "date_to": q.date_to.isoformat(),
                       "by_due_date": True},
            "by": q.by,
            "by_label": GROUPINGS[q.by],
            "kind": q.kind,
            "unit": ({"id": self.unit.pk, "code": self.unit.code, "name": self.unit.name}
                     if self.unit is not None else None),
            "computed_at": timezone.localtime(self.computed_at).isoformat(),
            "definitions": self.definitions(),
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
        }


def satisfaction_definition(definition: str) -> dict[str, Any]:
    name, _, version = definition.partition("/")
    return {"id": definition, "name": name, "version": version,
            "basically_satisfied_weight": rules.DEFINITIONS[definition],
            "formula": rules.DEFINITION_LABELS[definition]}


def definitions(q: FigureQuery) -> dict[str, Any]:
    """Everything a reader needs to recompute the figures: the formulas, e, the satisfaction
    definition and version, and how tasks are counted."""
    return {
        "satisfaction": satisfaction_definition(q.definition),
        "aapor": {
            "edition": aapor.EDITION,
            "formulas": dict(aapor.FORMULAS),
            "labels": dict(aapor.RATE_LABELS),
            "classes": dict(aapor.CLASS_LABELS),
            "e": ({"method": "given", "label": f"指定值 e = {_e_text(q.e)}",
                   "value": float(q.e)} if q.e is not None else
                  {"method": aapor.E_METHOD, "label": aapor.E_METHOD_LABEL + "；每行按本行估计",
                   "value": None}),
        },
        "counting": {"period": PERIOD_RULE, "kind": KIND_RULE, "outcomes": OUTCOME_RULE,
                     "rectifications": RECTIFICATION_RULE},
    }


def _period_bounds(q: FigureQuery) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(q.date_from, time.min), tz),
            timezone.make_aware(datetime.combine(q.date_to + timedelta(days=1), time.min), tz))


def tasks_counted(q: FigureQuery, user: Any = None, *, client: Any = None,
                  unit: Unit | None = None) -> QuerySet[CallbackTask]:
    """The tasks the figures count (before grouping): for links and for checking."""
    start, end = _period_bounds(q)
    qs = visible_tasks(user, client=client).filter(kind=q.kind, due_at__gte=start,
                                                   due_at__lt=end)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


def _group(qs: QuerySet[CallbackTask], by: str) -> tuple[QuerySet, list[str]]:
    tz = timezone.get_current_timezone()
    if by == "unit":
        return qs.values("unit_id", "unit__path"), ["unit__path"]
    if by == "source":
        return qs.values("contact__source"), ["contact__source"]
    if by == "caller":
        return qs.values("caller"), ["caller"]
    if by == "month":
        return qs.annotate(g=TruncMonth("due_at", tzinfo=tz)).values("g"), ["g"]
    return qs.annotate(g=TruncDay("due_at", tzinfo=tz)).values("g"), ["g"]


def figures(*, user: Any = None, client: Any = None, date_from: date | None = None,
            date_to: date | None = None, by: str = "unit",
            definition: str = rules.DEFAULT_DEFINITION,
            kind: str = CallbackTask.Kind.CALLBACK, unit: Any = None, e: Any = None,
            query: FigureQuery | None = None, now: datetime | None = None) -> Figures:
    """The figures the caller (an officer, or an integrating system) may see. `unit` (a Unit
    or its id) narrows to that unit's subtree and is 404 outside the caller's reach."""
    now = now or timezone.now()
    if query is None:
        today = timezone.localdate(now)
        start, end = default_period(today)
        query = FigureQuery(date_from=date_from or start, date_to=date_to or end, by=by,
                            kind=kind, definition=definition,
                            unit=getattr(unit, "pk", unit),
                            e=None if e is None else Fraction(str(e)))
        if query.by not in GROUPINGS or query.definition not in rules.DEFINITIONS \
                or query.kind not in KINDS:
            raise QueryError([Problem("", "", "分组、任务类别或满意率口径有误")])
    scope_unit = get_unit(query.unit, user, client=client) if query.unit is not None else None
    qs = tasks_counted(query, user, client=client, unit=scope_unit)
    aggregates = _aggregates(now)
    grouped, order = _group(qs, query.by)
    rows_data = list(grouped.annotate(**aggregates).order_by(*order))
    total = _row("total", "合计", qs.aggregate(**aggregates), query, is_total=True)
    units = ({u.pk: u for u in Unit.objects.filter(pk__in=[r["unit_id"] for r in rows_data])}
             if query.by == "unit" else {})
    rows = []
    for data in rows_data:
        key, label, row_unit = _key_label(query.by, data, units)
        rows.append(_row(key, label, data, query, unit=row_unit))
    return Figures(query=query, rows=rows, total=total, unit=scope_unit, computed_at=now)


SOURCES = dict(Source.choices)
CALLERS = dict(Caller.choices)


def _key_label(by: str, data: Mapping[str, Any], units: Mapping[int, Unit]
               ) -> tuple[str, str, Unit | None]:
    if by == "unit":
        unit = units[data["unit_id"]]
        return str(unit.pk), unit.name, unit
    if by == "source":
        return data["contact__source"], SOURCES.get(data["contact__source"], ""), None
    if by == "caller":
        return data["caller"], CALLERS.get(data["caller"], data["caller"]), None
    moment = timezone.localtime(data["g"]) if timezone.is_aware(data["g"]) else data["g"]
    if by == "month":
        return f"{moment:%Y-%m}", f"{moment.year}年{moment.month}月", None
    return f"{moment:%Y-%m-%d}", f"{moment.month}月{moment.day}日", None


# --- the table as the page and the workbook show it -----------------------------------------------

# (key, heading) of the first table; the satisfaction rate follows the counts of answers.
COUNT_COLUMNS = [
    ("drawn", "抽取任务"), ("attempted", "已拨打"), ("reached", "获得回答"), ("open", "进行中"),
    ("cancelled", "已取消"), ("satisfied", "满意"), ("basically_satisfied", "基本满意"),
    ("dissatisfied", "不满意"), ("satisfaction_rate", "满意率(%)"),
    ("rectification_open", "整改未销号"), ("rectification_overdue", "整改逾期"),
]
OUTCOME_COLUMNS = [(c, c) for c in aapor.CLASSES]
RATE_COLUMNS = [(name, f"{name}(%)") for name in aapor.RATES]


def percent(value: float | None) -> float | None:
    """A rate as a percentage with one decimal (the bulletins' habit)."""
    return None if value is None else round(value * 100, 1)


def satisfaction_working(row: Row, definition: str) -> str:
    weight = rules.DEFINITIONS[definition]
    c = row.counts
    return (f"({c['satisfied']} + {weight:g}×{c['basically_satisfied']}) / {c['reached']}"
            f"（口径 {definition}）")


@dataclass(frozen=True)
class Cell:
    key: str
    value: Any  # a count, a percentage, or None for a rate of nothing
    title: str = ""
    is_rate: bool = False

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        return f"{self.value:.1f}" if self.is_rate else str(self.value)


def count_cells(row: Row, definition: str) -> list[Cell]:
    cells = []
    for key, heading in COUNT_COLUMNS:
        if key == "satisfaction_rate":
            cells.append(Cell(key, percent(row.satisfaction_rate),
                              satisfaction_working(row, definition), is_rate=True))
        else:
            cells.append(Cell(key, row.counts[key], f"{heading} {row.counts[key]}"))
    return cells


def outcome_cells(row: Row) -> list[Cell]:
    cells = [Cell(c, getattr(row.outcomes, c), aapor.CLASS_LABELS[c]) for c in aapor.CLASSES]
    e_text = "—" if row.e is None else f"{float(row.e):.3f}"
    cells.append(Cell("e", None if row.e is None else round(float(row.e), 3),
                      f"e = {e_text}"))
    return cells


def rate_cells(row: Row) -> list[Cell]:
    return [Cell(name, percent(row.rates[name]), row.workings[name], is_rate=True)
            for name in aapor.RATES]
