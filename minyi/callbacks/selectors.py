"""Reads of the callback desk and the sampling plans, always through the user's scope.

The desk belongs to two kinds of caller: a unit's people (head, handlers) call back the tasks of
their unit's subtree whose caller is the unit; the opinion office calls the tasks of its bureau
whose caller is the office. The office also sees the units' tasks (it supervises them) but does
not claim them. Anybody else sees no task: a task page answers 404 to them, as to a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from minyi.callbacks.models import CallbackTask, Caller, Draw, SamplingPlan
from minyi.callbacks.rules import TIME_ZONE
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

PLAN_ROLES = frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR})
CLAIM_MINUTES = 15
OPEN_STATES = (CallbackTask.State.PENDING, CallbackTask.State.RETRY)


def _nothing() -> Q:
    return Q(pk__in=[])


def desk_q(user: Any) -> Q | None:
    """The tasks the user calls (claims, records attempts and answers); None means all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _nothing()
    if user.is_superuser:
        return None
    q = _nothing()
    for m in access.memberships_of(user):
        if m.role in access.UNIT_ROLES:
            q |= Q(caller=Caller.UNIT, unit__path__startswith=m.unit.path)
        elif m.role == Role.OPINION_OFFICER:
            q |= Q(caller=Caller.OPINION_OFFICE, bureau__path__startswith=m.unit.bureau().path)
    return q


def visible_q(user: Any) -> Q | None:
    """The tasks the user may look at: their desk's, and for the opinion office every task of
    its bureau."""
    q = desk_q(user)
    if q is None:
        return None
    for m in access.memberships_of(user):
        if m.role == Role.OPINION_OFFICER:
            q |= Q(bureau__path__startswith=m.unit.bureau().path)
    return q


def is_desk_user(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or access.has_role(
        user, *access.UNIT_ROLES, Role.OPINION_OFFICER)


def can_call(user: Any, task: CallbackTask) -> bool:
    q = desk_q(user)
    return q is None or CallbackTask.objects.filter(q, pk=task.pk).exists()


def desk_tasks(user: Any) -> QuerySet[CallbackTask]:
    q = desk_q(user)
    qs = CallbackTask.objects.all() if q is None else CallbackTask.objects.filter(q)
    return qs.select_related("contact", "unit", "contact__order")


def visible_tasks(user: Any) -> QuerySet[CallbackTask]:
    q = visible_q(user)
    qs = CallbackTask.objects.all() if q is None else CallbackTask.objects.filter(q)
    return qs.select_related("contact", "unit", "bureau", "contact__order", "assigned_to")


def get_task_for_user(user: Any, pk: Any) -> CallbackTask:
    try:
        return visible_tasks(user).get(pk=int(pk))
    except (CallbackTask.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该回访任务") from None


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), TIME_ZONE)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class DeskDay:
    """The desk's tasks of a day: those due (open, their time has come), those waiting for a
    retry later, and those done today."""

    due: list[CallbackTask]
    later: list[CallbackTask]
    done: list[CallbackTask]
    counts: dict[str, int]


def desk_day(user: Any, *, now: datetime | None = None, limit: int = 50) -> DeskDay:
    now = now or timezone.now()
    start, end = local_day_bounds(timezone.localtime(now).date())
    qs = desk_tasks(user)
    open_qs = qs.filter(state__in=OPEN_STATES)
    due_qs = open_qs.filter(next_attempt_at__lte=now).order_by("due_at", "pk")
    later_qs = open_qs.filter(next_attempt_at__gt=now, next_attempt_at__lt=end) \
        .order_by("next_attempt_at", "pk")
    done_qs = qs.filter(closed_at__gte=start, closed_at__lt=end).order_by("-closed_at", "-pk")
    counts = {
        "due": due_qs.count(), "later": later_qs.count(),
        "completed": done_qs.filter(state=CallbackTask.State.COMPLETED).count(),
        "closed": done_qs.filter(state=CallbackTask.State.CLOSED).count(),
    }
    counts["done"] = counts["completed"] + counts["closed"]
    return DeskDay(list(due_qs[:limit]), list(later_qs[:limit]),
                   list(done_qs.select_related("answer")[:limit]), counts)


# --- plans -----------------------------------------------------------------------------------


def plan_bureaus(user: Any) -> QuerySet[Unit]:
    """The bureaus whose plans the user manages (opinion office, administrator)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Unit.objects.filter(kind__in=[Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU])
    paths = {m.unit.bureau().path for m in access.memberships_of(user) if m.role in PLAN_ROLES}
    q = _nothing()
    for path in paths:
        q |= Q(path=path)
    return Unit.objects.filter(q)


def visible_plans(user: Any) -> QuerySet[SamplingPlan]:
    return (SamplingPlan.objects.filter(bureau__in=plan_bureaus(user))
            .select_related("bureau", "unit"))


def get_plan_for_user(user: Any, pk: Any) -> SamplingPlan:
    try:
        return visible_plans(user).get(pk=int(pk))
    except (SamplingPlan.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该抽样方案") from None


def recent_draws(user: Any, limit: int = 30) -> list[Draw]:
    return list(Draw.objects.filter(plan__bureau__in=plan_bureaus(user))
                .select_related("plan", "drawn_by").order_by("-day", "-pk")[:limit])


def plan_task_counts(plans: list[SamplingPlan]) -> dict[int, dict[str, int]]:
    rows = (CallbackTask.objects.filter(draw__plan__in=plans).values("draw__plan_id")
            .annotate(total=Count("pk"),
                      open=Count("pk", filter=Q(state__in=OPEN_STATES)),
                      completed=Count("pk", filter=Q(state=CallbackTask.State.COMPLETED))))
    return {r["draw__plan_id"]: r for r in rows}
