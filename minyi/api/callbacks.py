"""/api/v1/callbacks/…: callback tasks, answers and figures, read-only.

Scoped as the callback figures are (`callbacks.figures.task_scope`): an officer sees the tasks
of their bureau when they hold a bureau-wide role (leaders, inspectors, the opinion office, the
command centre), else those of their units' subtrees — so that every figure the API gives can
be traced to the tasks and answers the same caller can list. An integrating system sees the
callbacks of the orders it sent, and nothing else. Anything outside the scope is 404, as a
missing one is. Citizens' names and numbers leave masked only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from minyi.api.auth import Caller
from minyi.api.http import answer, endpoint
from minyi.api.inputs import BadRequest, Problem
from minyi.api.pagination import page, read_limit
from minyi.api.serializers import when
from minyi.callbacks import figures as fig
from minyi.callbacks import rules
from minyi.callbacks.models import Answer, CallbackTask, Reason, Satisfaction, Source
from minyi.callbacks.models import Caller as CallerKind

TASK_KEYS = ("due_at", "id")
ANSWER_KEYS = ("answered_at", "id")
TASK_FILTERS = {"unit": "单位", "state": "状态", "kind": "类别", "due_from": "应回访日期起",
                "due_to": "应回访日期止"}
ANSWER_FILTERS = {"unit": "单位", "kind": "类别", "satisfaction": "满意度", "via": "回答方式",
                  "answered_from": "回答日期起", "answered_to": "回答日期止"}
FIGURE_PARAMS = frozenset({"date_from", "date_to", "by", "kind", "definition", "unit", "e"})
PAGING = frozenset({"cursor", "limit"})

KINDS = dict(CallbackTask.Kind.choices)
STATES = dict(CallbackTask.State.choices)
CALLERS = dict(CallerKind.choices)
SOURCES = dict(Source.choices)
SATISFACTIONS = dict(Satisfaction.choices)
VIAS = dict(Answer.Via.choices)
REASONS = dict(Reason.choices)


def _scoped(caller: Caller) -> Any:
    if caller.is_client:
        return fig.visible_tasks(client=caller.client)
    return fig.visible_tasks(caller.user)


def _unit_of(caller: Caller, raw: str) -> Any:
    if caller.is_client:
        return fig.get_unit(raw, client=caller.client)
    return fig.get_unit(raw, caller.user)


def _reject_unknown(request: HttpRequest, known: frozenset[str]) -> None:
    unknown = [k for k in request.GET if k not in known]
    if unknown:
        raise BadRequest([Problem(k, f"未知的查询参数 {k!r}") for k in unknown])


def _choice(request: HttpRequest, name: str, label: str, choices: dict[str, str],
            problems: list[Problem]) -> str:
    value = request.GET.get(name, "").strip()
    if value and value not in choices:
        names = "、".join(f"{k}（{v}）" for k, v in choices.items())
        problems.append(Problem(name, f"{label}只能是 {names}，而不是 {value!r}", label))
        return ""
    return value


def _day(request: HttpRequest, name: str, label: str, problems: list[Problem]) -> date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(name, f"{label}应写作 2026-11-01 这样的日期，而不是 {raw!r}",
                                label))
        return None


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _unit_filter(request: HttpRequest, problems: list[Problem]) -> str | None:
    raw = request.GET.get("unit", "").strip()
    if not raw:
        return None
    if not raw.isdecimal():
        problems.append(Problem("unit", "单位应为单位编号（整数）", "单位"))
        return None
    return raw


def _range(problems: list[Problem], start: date | None, end: date | None, field: str,
           label: str) -> None:
    if start and end and start > end:
        problems.append(Problem(field, f"{label}不能早于起始日期", label))


# --- serializers ------------------------------------------------------------------------------


def _unit(unit: Any) -> dict[str, Any]:
    return {"id": unit.pk, "code": unit.code, "name": unit.name}


def _answer_of(task: CallbackTask) -> Answer | None:
    try:
        return task.answer
    except Answer.DoesNotExist:
        return None


def _answer_body(a: Answer) -> dict[str, Any]:
    return {
        "via": a.via,
        "via_label": VIAS.get(a.via, a.via),
        "satisfaction": a.satisfaction,
        "satisfaction_label": SATISFACTIONS.get(a.satisfaction, a.satisfaction),
        "reasons": list(a.reasons or []),
        "reason_labels": [REASONS.get(r, r) for r in a.reasons or []],
        "comment": a.comment,
        "answered_at": when(a.answered_at),
    }


def task_summary(task: CallbackTask) -> dict[str, Any]:
    """A list row, from the task and its select_related parents (no query per row)."""
    contact = task.contact
    a = _answer_of(task)
    return {
        "id": task.pk,
        "url": reverse("api:callback-task", args=[task.pk]),
        "kind": task.kind,
        "kind_label": KINDS.get(task.kind, task.kind),
        "state": task.state,
        "state_label": STATES.get(task.state, task.state),
        "caller": task.caller,
        "caller_label": CALLERS.get(task.caller, task.caller),
        "bureau": _unit(task.bureau),
        "unit": _unit(task.unit),
        "contact": {
            "source": contact.source,
            "source_label": SOURCES.get(contact.source, contact.source),
            "record_type": contact.record_type,
            "name": contact.person_name_mask,
            "phone": contact.phone_mask,
            "occurred_at": when(contact.occurred_at),
            "order_id": contact.order_id,
        },
        "parent_id": task.parent_id,
        "due_at": when(task.due_at),
        "next_attempt_at": when(task.next_attempt_at),
        "attempts": task.attempts,
        "outcome": task.outcome,
        "closed_at": when(task.closed_at),
        "satisfaction": a.satisfaction if a is not None else None,
        "version": task.version,
    }


def task_detail(task: CallbackTask) -> dict[str, Any]:
    data = task_summary(task)
    a = _answer_of(task)
    data["calls"] = [
        {
            "number": at.number,
            "at": when(at.at),
            "disposition": at.disposition,
            "disposition_label": (rules.DISPOSITIONS[at.disposition].label
                                  if at.disposition in rules.DISPOSITIONS else at.disposition),
            "outcome": at.outcome,
            "note": at.note,
        }
        for at in task.attempt_set.order_by("number")
    ]
    data["answer"] = _answer_body(a) if a is not None else None
    return data


def answer_row(a: Answer) -> dict[str, Any]:
    task = a.task
    return {
        "id": a.pk,
        "task": {"id": task.pk, "url": reverse("api:callback-task", args=[task.pk]),
                 "kind": task.kind, "caller": task.caller},
        "unit": _unit(task.unit),
        **_answer_body(a),
    }


# --- endpoints --------------------------------------------------------------------------------


@endpoint("GET")
def tasks(request: HttpRequest, caller: Caller) -> HttpResponse:
    _reject_unknown(request, frozenset(TASK_FILTERS) | PAGING)
    problems: list[Problem] = []
    state = _choice(request, "state", "状态", STATES, problems)
    kind = _choice(request, "kind", "类别", KINDS, problems)
    due_from = _day(request, "due_from", "应回访日期起", problems)
    due_to = _day(request, "due_to", "应回访日期止", problems)
    _range(problems, due_from, due_to, "due_to", "应回访日期止")
    unit_ref = _unit_filter(request, problems)
    limit = read_limit(request.GET.get("limit"))
    if problems:
        raise BadRequest(problems)
    qs = _scoped(caller).select_related("bureau", "unit", "contact", "answer")
    if unit_ref is not None:
        qs = qs.filter(unit__path__startswith=_unit_of(caller, unit_ref).path)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if due_from:
        qs = qs.filter(due_at__gte=_start(due_from))
    if due_to:
        qs = qs.filter(due_at__lt=_start(due_to + timedelta(days=1)))
    rows, next_cursor = page(qs, TASK_KEYS, request.GET.get("cursor") or None, limit)
    return answer({"results": [task_summary(t) for t in rows], "next_cursor": next_cursor})


@endpoint("GET")
def task(request: HttpRequest, caller: Caller, pk: int) -> HttpResponse:
    _reject_unknown(request, frozenset())
    found = (_scoped(caller).select_related("bureau", "unit", "contact", "answer")
             .filter(pk=pk).first())
    if found is None:
        raise Http404("没有找到该回访任务")
    return answer(task_detail(found))


@endpoint("GET")
def answers(request: HttpRequest, caller: Caller) -> HttpResponse:
    _reject_unknown(request, frozenset(ANSWER_FILTERS) | PAGING)
    problems: list[Problem] = []
    kind = _choice(request, "kind", "类别", KINDS, problems)
    satisfaction = _choice(request, "satisfaction", "满意度", SATISFACTIONS, problems)
    via = _choice(request, "via", "回答方式", VIAS, problems)
    answered_from = _day(request, "answered_from", "回答日期起", problems)
    answered_to = _day(request, "answered_to", "回答日期止", problems)
    _range(problems, answered_from, answered_to, "answered_to", "回答日期止")
    unit_ref = _unit_filter(request, problems)
    limit = read_limit(request.GET.get("limit"))
    if problems:
        raise BadRequest(problems)
    qs = Answer.objects.filter(task__in=_scoped(caller).values("pk")).select_related(
        "task", "task__unit")
    if unit_ref is not None:
        qs = qs.filter(task__unit__path__startswith=_unit_of(caller, unit_ref).path)
    if kind:
        qs = qs.filter(task__kind=kind)
    if satisfaction:
        qs = qs.filter(satisfaction=satisfaction)
    if via:
        qs = qs.filter(via=via)
    if answered_from:
        qs = qs.filter(answered_at__gte=_start(answered_from))
    if answered_to:
        qs = qs.filter(answered_at__lt=_start(answered_to + timedelta(days=1)))
    rows, next_cursor = page(qs, ANSWER_KEYS, request.GET.get("cursor") or None, limit)
    return answer({"results": [answer_row(a) for a in rows], "next_cursor": next_cursor})


@endpoint("GET")
def figures(request: HttpRequest, caller: Caller) -> HttpResponse:
    _reject_unknown(request, FIGURE_PARAMS)
    try:
        query = fig.parse_query(request.GET)
    except fig.QueryError as exc:
        raise BadRequest([Problem(p.field, p.message, p.label) for p in exc.problems]) from None
    if caller.is_client:
        result = fig.figures(client=caller.client, query=query)
    else:
        result = fig.figures(user=caller.user, query=query)
    return answer(result.as_dict())
