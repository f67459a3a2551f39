"""Rectification (整改): every dissatisfied answer goes back to the responsible unit until the
person, called again, confirms it is fixed (问题清单即时清空).

The loop: a dissatisfied answer opens one item for the task's unit with a deadline (default five
working days); the unit's head or handler reports what it did; an opinion officer of the bureau
accepts the report or returns it with a reason (a returned item is the unit's again and keeps
its first deadline, so a thin report does not buy time); on acceptance a recall task asks the
same person again. The recall's answer closes the item: confirmed (satisfied or basically
satisfied) or unconfirmed — and then the recall's own dissatisfied answer opens a new item, so
the list empties only when the public says so.

Every change locks the chain, then the row, and checks the state under the lock: a second
click is a Conflict, not a second change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from minyi.callbacks.models import (
    Answer,
    CallbackTask,
    Caller,
    Rectification,
    Satisfaction,
)
from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Role, Unit
from minyi.workcal import selectors as workcal

State = Rectification.State
MIN_REPORT = 10
REPORT_ROLES = frozenset({Role.UNIT_HEAD, Role.UNIT_HANDLER})
DECIDE_ROLES = frozenset({Role.OPINION_OFFICER})
# Not yet closed out: the item is on the unit's list until the recall confirms it.
ACTIVE_STATES = (State.OPEN, State.REPORTED, State.RETURNED, State.ACCEPTED)
# The unit's move: these are what a deadline is counted against.
UNIT_TODO_STATES = (State.OPEN, State.RETURNED)
CLOSED_STATES = (State.CONFIRMED, State.UNCONFIRMED)
SATISFIED_CLASS = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})

ACTION_LABELS = {
    "rectification.open": "开具整改事项",
    "rectification.report": "上报整改情况",
    "rectification.accept": "整改情况审核通过",
    "rectification.return": "退回重新整改",
    "rectification.confirm": "再回访满意，整改销号",
    "rectification.unconfirm": "再回访仍不满意",
    "callback.recall_open": "生成整改后再回访任务",
}


def default_limit() -> str:
    """How long a unit has to fix it, in working time (seed 000: five working days)."""
    return getattr(settings, "MINYI_RECTIFICATION_LIMIT", "5d")


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}" if moment else "—"


def can_report(user: Any, item: Rectification) -> bool:
    return bool(getattr(user, "is_superuser", False)) or access.acts_for_unit(
        user, item.unit, REPORT_ROLES)


def can_decide(user: Any, item: Rectification) -> bool:
    return bool(getattr(user, "is_superuser", False)) or access.bureau_role(
        user, item.bureau, DECIDE_ROLES)


def _event(actor: Any, item: Rectification, action: str, before: str,
           payload: dict[str, Any] | None = None) -> None:
    record_event(actor=actor, obj=item, action=action, from_state=before, to_state=item.state,
                 payload={"task": item.task_id, "unit": item.unit_id,
                          "unit_name": item.unit.name, **(payload or {})})


def _locked(item: Rectification) -> Rectification:
    lock_chain()
    return (Rectification.objects.select_for_update()
            .select_related("unit", "bureau", "task").get(pk=item.pk))


# --- actions ---------------------------------------------------------------------------------


def open_rectification(*, task: CallbackTask, now: datetime | None = None) -> Rectification:
    """The item for a task's dissatisfied answer; the one already there when called again.

    A spot check's dissatisfied answer re-asks a person whose own callback may already have
    opened an item: that item is returned rather than a second one for the same matter."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_chain()
        existing = Rectification.objects.filter(task_id=task.pk).first()
        if existing is not None:
            return existing
        task = CallbackTask.objects.select_related("unit", "bureau").get(pk=task.pk)
        answer = Answer.objects.filter(task=task).first()
        if answer is None or answer.satisfaction != Satisfaction.DISSATISFIED:
            raise InvalidInput("只有回答为「不满意」的回访才会生成整改事项")
        if task.kind == CallbackTask.Kind.SPOT_CHECK and task.parent_id:
            parents = Rectification.objects.filter(task_id=task.parent_id).first()
            if parents is not None:
                return parents
        item = Rectification.objects.create(
            bureau=task.bureau, unit=task.unit, task=task, state=State.OPEN,
            due_at=workcal.deadline(now, default_limit()))
        _event(None, item, "rectification.open", "", {
            "satisfaction": answer.satisfaction, "reasons": list(answer.reasons or []),
            "kind": task.kind, "due_at": item.due_at, "limit": default_limit()})
    return item


def report_rectification(*, actor: Any, item: Rectification, report: str) -> Rectification:
    """The unit says what it did (open or returned items)."""
    report = (report or "").strip()
    if len(report) < MIN_REPORT:
        raise InvalidInput(f"请具体写明整改措施和结果（不少于 {MIN_REPORT} 个字）")
    with transaction.atomic():
        item = _locked(item)
        if not can_report(actor, item):
            raise NotAllowed(f"只有{item.unit}的单位负责人或承办民警可以上报整改情况")
        if item.state == State.REPORTED:
            raise Conflict(f"整改情况已于 {_when(item.reported_at)} 上报，正在等待审核")
        if item.state not in UNIT_TODO_STATES:
            raise Conflict(f"该整改事项当前为「{item.get_state_display()}」，不能再上报")
        before = item.state
        now = timezone.now()
        item.report, item.reported_by, item.reported_at = report, actor, now
        item.state = State.REPORTED
        item.save(update_fields=["report", "reported_by", "reported_at", "state",
                                 "updated_at"])
        _event(actor, item, "rectification.report", before, {
            "report": report, "on_time": now <= item.due_at})
    return item


def decide_rectification(*, actor: Any, item: Rectification, accept: bool,
                         note: str = "") -> Rectification:
    """The opinion office accepts the report (and the person is called again) or returns it
    with a reason."""
    note = (note or "").strip()
    if not accept and not note:
        raise InvalidInput("请填写退回理由")
    with transaction.atomic():
        item = _locked(item)
        if not can_decide(actor, item):
            raise NotAllowed(f"只有{item.bureau}的民意专员可以审核整改情况")
        if item.state != State.REPORTED:
            raise Conflict(f"该整改事项当前为「{item.get_state_display()}」，"
                           "只有已上报的整改情况才能审核")
        before = item.state
        now = timezone.now()
        item.decided_by, item.decided_at, item.decision_note = actor, now, note
        if accept:
            recall = _open_recall(item, now)
            item.state, item.recall = State.ACCEPTED, recall
            item.save(update_fields=["decided_by", "decided_at", "decision_note", "state",
                                     "recall", "updated_at"])
            _event(actor, item, "rectification.accept", before, {
                "note": note, "recall": recall.pk})
            record_event(actor=actor, obj=recall, action="callback.recall_open",
                         to_state=recall.state,
                         payload={"rectification": item.pk, "parent": item.task_id,
                                  "unit": item.unit_id, "due_at": recall.due_at})
        else:
            item.state = State.RETURNED
            item.return_count += 1
            item.save(update_fields=["decided_by", "decided_at", "decision_note", "state",
                                     "return_count", "updated_at"])
            _event(actor, item, "rectification.return", before, {
                "reason": note, "return_count": item.return_count})
    return item


def _open_recall(item: Rectification, now: datetime) -> CallbackTask:
    """The opinion office calls the same person again, as soon as it can."""
    task = item.task
    if CallbackTask.objects.filter(parent_id=task.pk, kind=CallbackTask.Kind.RECALL).exists():
        raise Conflict("该回访已有整改后再回访任务")
    return CallbackTask.objects.create(
        bureau_id=task.bureau_id, unit_id=item.unit_id, caller=Caller.OPINION_OFFICE,
        contact_id=task.contact_id, kind=CallbackTask.Kind.RECALL, parent=task,
        state=CallbackTask.State.PENDING, due_at=now)


def after_answer(*, task: CallbackTask, now: datetime | None = None) -> Rectification | None:
    """Called for every recorded answer (by `actions.record_answer`): a recall's answer closes
    the item it follows up; a dissatisfied answer opens an item (idempotent). Returns the item
    opened or closed, if any."""
    now = now or timezone.now()
    answer = Answer.objects.filter(task_id=task.pk).first()
    if answer is None:
        return None
    with transaction.atomic():
        closed = None
        if task.kind == CallbackTask.Kind.RECALL:
            closed = _close_by_recall(task, answer, now)
        opened = None
        if answer.satisfaction == Satisfaction.DISSATISFIED:
            opened = open_rectification(task=task, now=now)
    return opened or closed


def _close_by_recall(task: CallbackTask, answer: Answer, now: datetime) -> Rectification | None:
    lock_chain()
    item = (Rectification.objects.select_for_update().select_related("unit")
            .filter(recall_id=task.pk).first())
    if item is None or item.state != State.ACCEPTED:
        return None
    confirmed = answer.satisfaction in SATISFIED_CLASS
    before = item.state
    item.state = State.CONFIRMED if confirmed else State.UNCONFIRMED
    item.closed_at = now
    item.save(update_fields=["state", "closed_at", "updated_at"])
    _event(None, item, "rectification.confirm" if confirmed else "rectification.unconfirm",
           before, {"recall": task.pk, "satisfaction": answer.satisfaction})
    return item


# --- reads -----------------------------------------------------------------------------------


def _scope(user: Any) -> Q | None:
    """Items of the user's bureaus for the bureau-wide roles, of their units' subtrees for the
    others; None means all."""
    return access.unit_scope_q(user)


def visible_rectifications(user: Any) -> QuerySet[Rectification]:
    scope = _scope(user)
    qs = Rectification.objects.all() if scope is None else Rectification.objects.filter(scope)
    return qs.select_related("unit", "bureau", "task", "task__contact")


def get_rectification_for_user(user: Any, pk: Any) -> Rectification:
    try:
        return visible_rectifications(user).get(pk=int(pk))
    except (Rectification.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该整改事项") from None


def sees_bureau(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or any(
        m.role in access.ORDER_WIDE_ROLES for m in access.memberships_of(user))


def overdue_q(now: datetime | None = None) -> Q:
    """Overdue: still the unit's move (open or returned) and past the deadline."""
    return Q(state__in=UNIT_TODO_STATES, due_at__lt=now or timezone.now())


def overdue(qs: QuerySet[Rectification] | None = None,
            now: datetime | None = None) -> QuerySet[Rectification]:
    qs = Rectification.objects.all() if qs is None else qs
    return qs.filter(overdue_q(now))


def is_overdue(item: Rectification, now: datetime | None = None) -> bool:
    return item.state in UNIT_TODO_STATES and item.due_at < (now or timezone.now())


def counts_per_unit(qs: QuerySet[Rectification] | None = None,
                    now: datetime | None = None) -> dict[int, dict[str, int]]:
    """Per unit id: items not yet closed out (`open`), those that are the unit's move
    (`todo`), and those of them past the deadline (`overdue`)."""
    qs = Rectification.objects.all() if qs is None else qs
    rows = (qs.filter(state__in=ACTIVE_STATES).values("unit_id")
            .annotate(open=Count("pk"), todo=Count("pk", filter=Q(state__in=UNIT_TODO_STATES)),
                      overdue=Count("pk", filter=overdue_q(now))))
    return {r["unit_id"]: {"open": r["open"], "todo": r["todo"], "overdue": r["overdue"]}
            for r in rows}


def open_items_of(user: Any, limit: int = 20) -> list[Rectification]:
    """The items of the units the user works for (head or handler), not yet closed out, the
    unit's own moves first, the nearest deadline first: the home page's list."""
    q = Q(pk__in=[])
    for membership in access.memberships_of(user):
        if membership.role in REPORT_ROLES:
            q |= Q(unit__path__startswith=membership.unit.path)
    rows = list(Rectification.objects.filter(q, state__in=ACTIVE_STATES)
                .select_related("unit", "task", "task__contact").order_by("due_at")[:200])
    now = timezone.now()
    rows.sort(key=lambda r: (r.state not in UNIT_TODO_STATES, r.due_at))
    for row in rows:
        row.overdue = is_overdue(row, now)
    return rows[:limit]


def history(item: Rectification) -> list[Any]:
    """The item's events with those of the calls behind it (the dissatisfied answer, the
    recall), oldest first."""
    from minyi.core.models import Event

    tasks = [str(item.task_id)] + ([str(item.recall_id)] if item.recall_id else [])
    return list(Event.objects.filter(
        Q(object_type="callbacks.rectification", object_id=str(item.pk))
        | Q(object_type="callbacks.callbacktask", object_id__in=tasks))
        .select_related("actor").order_by("id"))


def units_for_filter(user: Any) -> QuerySet[Unit]:
    return access.visible_units(user).order_by("path")


# --- notifications ---------------------------------------------------------------------------


def _item_of(event: Any) -> Rectification | None:
    return (Rectification.objects.filter(pk=event.object_id)
            .select_related("unit", "bureau").first())


def _notify_unit(event: Any) -> Any:
    """The unit's head and handlers must act on a new or returned item."""
    from django.urls import reverse

    from minyi.notifications.registry import Message
    from minyi.notifications.selectors import members

    item = _item_of(event)
    if item is None:
        return None
    if event.action == "rectification.return":
        text = (f"群众不满意回访的整改情况被退回：{event.payload.get('reason', '')}，"
                f"请于 {_when(item.due_at)} 前重新整改并上报。")
    else:
        text = (f"有一条群众不满意的回访需要{item.unit}整改，"
                f"请于 {_when(item.due_at)} 前上报整改情况。")
    return Message(user_ids=members(roles=REPORT_ROLES, unit_ids=[item.unit_id]), text=text,
                   link=reverse("callbacks:rectification", args=[item.pk]))


def _notify_office(event: Any) -> Any:
    """The bureau's opinion officers review a reported item."""
    from django.urls import reverse

    from minyi.notifications.registry import Message
    from minyi.notifications.selectors import members

    item = _item_of(event)
    if item is None:
        return None
    return Message(user_ids=members(roles=DECIDE_ROLES, bureau=item.bureau),
                   text=f"{item.unit}已上报整改情况，请审核。",
                   link=reverse("callbacks:rectification", args=[item.pk]))


def register() -> None:
    """From the app's ready(): the events' labels and who is told."""
    from minyi.core.audit import register_action_labels
    from minyi.notifications.registry import register_notification_rule

    register_action_labels(ACTION_LABELS)
    register_notification_rule("rectification.open", _notify_unit)
    register_notification_rule("rectification.return", _notify_unit)
    register_notification_rule("rectification.report", _notify_office)
