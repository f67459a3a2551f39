"""Every change of the callback desk: contacts from closed orders, the daily draw, claiming a
task, revealing a number, the calls and the answers.

Each action takes keyword-only arguments and the acting user (None: the system), and writes its
event in its own transaction. The chain lock is taken first, then the task row (as
`core.audit.lock_chain` asks), and the state is checked under the lock: when two callers act on
one task the second is told who did what (Conflict) and nothing is counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from minyi.callbacks import rules, sampling, selectors
from minyi.callbacks.models import (
    Answer,
    Attempt,
    CallbackTask,
    Contact,
    Draw,
    Reason,
    SamplingPlan,
    Satisfaction,
    Source,
)
from minyi.core.audit import lock_chain, record_event, record_events_bulk
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Unit

State = CallbackTask.State
ACTION_LABELS = {
    "callback.contact": "工单办结，列为回访对象",
    "callback.draw": "抽取当日回访任务",
    "callback.reveal": "查看回访对象电话",
    "callback.attempt": "登记拨打结果",
    "callback.answer": "登记回访回答",
}
CONTACT_BATCH = 500


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}" if moment else "—"


def _name(user: Any) -> str:
    if user is None:
        return "系统"
    return getattr(user, "display_name", None) or getattr(user, "full_name", "") or \
        user.get_username()


# --- contacts from closed orders -----------------------------------------------------------


def contacts_from_orders(*, now: datetime | None = None, limit: int = CONTACT_BATCH) -> int:
    """Closed work orders with a phone become contacts (source: order, unit: the lead unit,
    time: the closing). Idempotent: the contact's one-to-one link to its order means an order
    is taken once, even by two sweeps at the same moment. Returns how many were made."""
    from minyi.orders.models import Order
    from minyi.orders.rules import State as OrderState

    now = now or timezone.now()
    orders = list(
        Order.objects.filter(state=OrderState.CLOSED, closed_at__lte=now,
                             lead_unit__isnull=False, callback_contact__isnull=True)
        .exclude(citizen_phone_hash="")
        .select_related("order_type").order_by("closed_at", "pk")[:limit])
    made = []
    for order in orders:
        try:
            with transaction.atomic():
                made.append(Contact.objects.create(
                    bureau_id=order.bureau_id, unit_id=order.lead_unit_id, source=Source.ORDER,
                    record_type=order.order_type.name if order.order_type_id else "",
                    order=order, occurred_at=order.closed_at, summary=order.title,
                    person_name_enc=order.citizen_name_enc,
                    person_name_mask=order.citizen_name_mask,
                    phone_enc=order.citizen_phone_enc, phone_mask=order.citizen_phone_mask,
                    phone_hash=order.citizen_phone_hash))
        except IntegrityError:
            continue  # a sweep running beside this one took it first
    if made:
        with transaction.atomic():
            record_events_bulk([{
                "obj": c, "action": "callback.contact",
                "payload": {"order": c.order_id, "unit": c.unit_id,
                            "occurred_at": c.occurred_at},
            } for c in made])
    return len(made)


# --- the daily draw --------------------------------------------------------------------------


def draw_window(plan: SamplingPlan, day: date) -> tuple[datetime, datetime]:
    """The contacts a plan's draw of `day` takes: those whose call falls due on that day, i.e.
    occurred_at + due_after_hours within the day (Asia/Shanghai). The windows of successive
    days do not overlap, so a contact is in exactly one draw's population and its chance of
    being drawn is the plan's share. A record imported after its day's draw has run is not
    drawn (its day is over)."""
    start, end = selectors.local_day_bounds(day)
    after = timedelta(hours=plan.due_after_hours)
    return start - after, end - after


def _may_draw(actor: Any, bureau: Unit) -> bool:
    return actor is None or getattr(actor, "is_superuser", False) or access.bureau_role(
        actor, bureau, selectors.PLAN_ROLES)


def draw_day(*, actor: Any, day: date, plan: SamplingPlan | None = None,
             bureau: Unit | None = None, now: datetime | None = None) -> list[Draw]:
    """Each active plan's draw of `day` (of one bureau, or one plan): once per plan and day —
    a second run answers the draw that exists (`created` False) and makes nothing. Each draw
    records its seed and counts, and its event "callback.draw"."""
    now = now or timezone.now()
    if plan is not None:
        plans = [plan]
    else:
        qs = SamplingPlan.objects.filter(is_active=True).filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        if bureau is not None:
            qs = qs.filter(bureau=bureau)
        plans = list(qs.order_by("pk"))
    draws = []
    for p in plans:
        if not _may_draw(actor, p.bureau):
            raise NotAllowed(f"只有{p.bureau}的民意专员或系统管理员可以执行抽样")
        draws.append(_draw_plan(actor=actor, plan=p, day=day, now=now))
    return draws


def _draw_plan(*, actor: Any, plan: SamplingPlan, day: date, now: datetime) -> Draw:
    with transaction.atomic():
        lock_chain()
        plan = (SamplingPlan.objects.select_for_update(of=("self",))
                .select_related("bureau", "unit").get(pk=plan.pk))
        existing = Draw.objects.filter(plan=plan, day=day).first()
        if existing is not None:
            existing.created = False
            return existing
        if not plan.is_active:
            raise InvalidInput(f"抽样方案「{plan}」未启用")
        start, end = draw_window(plan, day)
        contacts = Contact.objects.filter(
            bureau=plan.bureau, source=plan.source, occurred_at__gte=start,
            occurred_at__lt=end).exclude(tasks__kind=CallbackTask.Kind.CALLBACK)
        if plan.unit_id:
            contacts = contacts.filter(unit__path__startswith=plan.unit.path)
        rows = list(contacts.values_list("pk", "unit_id", "phone_hash", "occurred_at"))
        by_pk = {pk: (unit_id, occurred_at) for pk, unit_id, _, occurred_at in rows}
        # Cooling-off across groups and kinds: any task (callback, spot check, recall) made
        # for the same phone within the period skips the person.
        as_of = selectors.local_day_bounds(day)[1]
        hashes = {h for _, _, h, _ in rows if h}
        last_called = dict(
            CallbackTask.objects.filter(
                contact__phone_hash__in=hashes,
                created_at__gt=as_of - timedelta(days=plan.cooling_off_days))
            .values("contact__phone_hash").annotate(last=Max("created_at"))
            .values_list("contact__phone_hash", "last")) if hashes else {}
        per_unit: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for pk, unit_id, phone_hash, _ in rows:
            per_unit[unit_id].append((pk, phone_hash))
        seed = sampling.seed_for(plan.pk, day)
        draw = Draw.objects.create(plan=plan, day=day, seed=seed, drawn_by=actor)
        chosen_total, eligible_total, skipped_total = 0, 0, 0
        units: dict[str, dict[str, int]] = {}
        tasks = []
        after = timedelta(hours=plan.due_after_hours)
        for unit_id in sorted(per_unit):
            kept, skipped = sampling.cooling_off(per_unit[unit_id], last_called,
                                                 as_of=as_of, days=plan.cooling_off_days)
            # Each unit its own stream, derived from the draw's seed, so that one unit's
            # population does not shift another unit's draw.
            chosen = sampling.draw(kept, share=plan.share, minimum=plan.minimum,
                                   maximum=plan.maximum,
                                   seed=(seed + unit_id) % (1 << 63))
            units[str(unit_id)] = {"candidates": len(per_unit[unit_id]),
                                   "cooling_off": len(skipped), "population": len(kept),
                                   "drawn": len(chosen)}
            eligible_total += len(kept)
            skipped_total += len(skipped)
            chosen_total += len(chosen)
            for pk in chosen:
                due = rules.next_call_time(by_pk[pk][1] + after)
                tasks.append(CallbackTask(
                    bureau=plan.bureau, unit_id=unit_id, caller=plan.caller, contact_id=pk,
                    kind=CallbackTask.Kind.CALLBACK, draw=draw, due_at=due,
                    next_attempt_at=due))
        CallbackTask.objects.bulk_create(tasks)
        draw.population, draw.drawn = eligible_total, chosen_total
        draw.save(update_fields=["population", "drawn", "updated_at"])
        record_event(actor=actor, obj=draw, action="callback.draw", payload={
            "plan": plan.pk, "plan_name": plan.name, "day": day, "seed": seed,
            "window": [start, end], "candidates": len(rows), "cooling_off": skipped_total,
            "population": eligible_total, "drawn": chosen_total, "units": units,
        })
        draw.created = True
        return draw


# --- the desk --------------------------------------------------------------------------------


def _claim_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=selectors.CLAIM_MINUTES)


def claim_next_task(*, actor: Any, now: datetime | None = None) -> CallbackTask | None:
    """The next due task of the actor's desk, oldest due first, claimed for 15 minutes; the one
    the actor already holds, if any. None when nothing is due. Outside the calling hours
    nothing is claimed (InvalidInput says when calls may start).

    The claim is a conditional UPDATE (only if unclaimed or the claim has expired), so two
    callers asking at once never get the same task: the loser moves on to the next one."""
    now = now or timezone.now()
    if not selectors.is_desk_user(actor):
        raise NotAllowed("您的岗位没有回访任务")
    if not rules.in_call_hours(now):
        start, end = rules.call_hours()
        nxt = timezone.localtime(rules.next_call_time(now))
        raise InvalidInput(f"现在不在回访时段（{start:%H:%M}–{end:%H:%M}），不能拨打；"
                           f"请于 {nxt:%m月%d日 %H:%M} 后再取任务。")
    cutoff = _claim_cutoff(now)
    mine = selectors.desk_tasks(actor).filter(
        state__in=selectors.OPEN_STATES, assigned_to=actor, assigned_at__gt=cutoff
    ).order_by("assigned_at").first()
    if mine is not None:
        return mine
    free = Q(assigned_to__isnull=True) | Q(assigned_at__lte=cutoff)
    for _ in range(5):
        candidates = list(selectors.desk_tasks(actor).filter(
            free, state__in=selectors.OPEN_STATES, next_attempt_at__lte=now)
            .order_by("due_at", "pk").values_list("pk", flat=True)[:20])
        if not candidates:
            return None
        for pk in candidates:
            won = CallbackTask.objects.filter(
                free, pk=pk, state__in=selectors.OPEN_STATES).update(
                assigned_to=actor, assigned_at=now)
            if won:
                return selectors.desk_tasks(actor).get(pk=pk)
    return None


def release_task(*, actor: Any, task: CallbackTask) -> None:
    """Give a claimed task back (the caller leaves the desk) without a call."""
    CallbackTask.objects.filter(pk=task.pk, assigned_to=actor).update(
        assigned_to=None, assigned_at=None)


def reveal_phone(*, actor: Any, task: CallbackTask) -> str:
    """The contact's number in clear, for the caller who dials it; logged."""
    if not selectors.can_call(actor, task):
        raise NotAllowed("只有该任务的回访人员可以查看号码")
    with transaction.atomic():
        record_event(actor=actor, obj=task, action="callback.reveal",
                     payload={"field": "phone", "label": "电话", "contact": task.contact_id})
    return task.contact.phone


def _lock_task(task: CallbackTask | int) -> CallbackTask:
    pk = task.pk if isinstance(task, CallbackTask) else task
    return (CallbackTask.objects.select_for_update(of=("self",))
            .select_related("contact", "unit", "bureau", "assigned_to").get(pk=pk))


def _done_text(task: CallbackTask) -> str:
    answer = Answer.objects.filter(task=task).select_related("answered_by").first()
    if answer is not None:
        return (f"该回访已于 {_when(answer.answered_at)} 由{_name(answer.answered_by)}"
                f"（{answer.get_via_display()}）登记回答「{answer.get_satisfaction_display()}」")
    last = task.attempt_set.select_related("caller_user").order_by("-number").first()
    if last is not None:
        label = rules.DISPOSITIONS.get(last.disposition)
        return (f"该回访已于 {_when(last.at)} 由{_name(last.caller_user)}登记第{last.number}次"
                f"拨打「{label.label if label else last.disposition}」，"
                f"当前为「{task.get_state_display()}」")
    return f"该回访当前为「{task.get_state_display()}」"


def _check_open(task: CallbackTask, actor: Any, expected_version: int | None,
                now: datetime) -> None:
    if not task.is_open:
        raise Conflict(_done_text(task) + "，不能再登记。")
    if expected_version is not None and task.version != expected_version:
        raise Conflict(_done_text(task) + "。该任务在您打开后已被更新，请刷新后再登记。")
    holder = task.assigned_to_id
    if holder and actor is not None and holder != actor.pk and task.assigned_at \
            and task.assigned_at > _claim_cutoff(now):
        raise Conflict(f"该任务正由{_name(task.assigned_to)}拨打"
                       f"（{_when(task.assigned_at)} 领取），请取下一个任务。")


def record_attempt(*, actor: Any, task: CallbackTask | int, disposition: str, note: str = "",
                   retry_at: datetime | None = None, expected_version: int | None = None,
                   now: datetime | None = None) -> CallbackTask:
    """A call that did not end in answers: the attempt with its AAPOR class; the task waits for
    its retry (moved into the calling hours) or is closed (final disposition, or the attempts
    used up)."""
    now = now or timezone.now()
    if disposition == rules.ANSWERED:
        raise InvalidInput("接通后请登记群众的回答")
    try:
        rules.disposition(disposition)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with transaction.atomic():
        lock_chain()
        task = _lock_task(task)
        if actor is not None and not selectors.can_call(actor, task):
            raise NotAllowed("只有该任务的回访人员可以登记拨打结果")
        _check_open(task, actor, expected_version, now)
        number = task.attempts + 1
        try:
            step = rules.after_attempt(disposition, attempts_made=number, now=now,
                                       retry_at=retry_at)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        Attempt.objects.create(task=task, number=number, caller_user=actor, at=now,
                               disposition=disposition, outcome=step.outcome,
                               note=(note or "").strip())
        before = task.state
        task.attempts = number
        task.outcome = step.outcome
        task.assigned_to = task.assigned_at = None
        if step.closes:
            task.state, task.next_attempt_at, task.closed_at = State.CLOSED, None, now
        else:
            task.state, task.next_attempt_at = State.RETRY, step.next_attempt_at
        task.version += 1
        task.save(update_fields=["attempts", "outcome", "assigned_to", "assigned_at", "state",
                                 "next_attempt_at", "closed_at", "version", "updated_at"])
        d = rules.DISPOSITIONS[disposition]
        record_event(actor=actor, obj=task, action="callback.attempt", from_state=before,
                     to_state=task.state, payload={
                         "number": number, "disposition": disposition, "label": d.label,
                         "outcome": step.outcome, "aapor_code": d.aapor_code,
                         "next_attempt_at": task.next_attempt_at, "note": (note or "").strip(),
                     })
        return task


def _clean_answer(satisfaction: str, reasons: Iterable[str], via: str) -> list[str]:
    if satisfaction not in Satisfaction.values:
        raise InvalidInput("请选择满意度：满意、基本满意或不满意")
    if via not in Answer.Via.values:
        raise InvalidInput(f"未知的回答方式：{via!r}")
    reasons = list(dict.fromkeys(r for r in reasons if r))
    unknown = [r for r in reasons if r not in Reason.values]
    if unknown:
        raise InvalidInput(f"未知的不满意原因：{'、'.join(unknown)}")
    if satisfaction == Satisfaction.DISSATISFIED:
        if not reasons:
            raise InvalidInput("群众不满意时请选择不满意的原因")
        return reasons
    return []  # reasons are asked only of the dissatisfied


def record_answer(*, actor: Any, task: CallbackTask | int, satisfaction: str,
                  reasons: Iterable[str] = (), comment: str = "", via: str = "phone",
                  expected_version: int | None = None,
                  now: datetime | None = None) -> Answer:
    """The person's answer: one per task. A second one, by phone or through a rating link, is
    a Conflict saying who answered when — nothing is counted twice. The task is completed; an
    order's own callback outcome is recorded from it when still missing; a dissatisfied answer
    opens a rectification item."""
    now = now or timezone.now()
    reasons = _clean_answer(satisfaction, reasons, via)
    comment = (comment or "").strip()
    with transaction.atomic():
        lock_chain()
        task = _lock_task(task)
        if via == Answer.Via.PHONE and actor is not None and not selectors.can_call(actor, task):
            raise NotAllowed("只有该任务的回访人员可以登记回答")
        if Answer.objects.filter(task=task).exists():
            raise Conflict(_done_text(task) + "，不能重复登记。")
        # A rating link may still be answered after the calls gave up (closed); by phone only
        # an open task is answered.
        if via == Answer.Via.PHONE or task.state not in (State.CLOSED,):
            _check_open(task, actor, expected_version, now)
        number = None
        if via == Answer.Via.PHONE:
            number = task.attempts + 1
            Attempt.objects.create(task=task, number=number, caller_user=actor, at=now,
                                   disposition=rules.ANSWERED, outcome=rules.I)
            task.attempts = number
        answer = Answer.objects.create(task=task, via=via, satisfaction=satisfaction,
                                       reasons=reasons, comment=comment, answered_by=actor,
                                       answered_at=now)
        before = task.state
        task.state, task.outcome, task.closed_at = State.COMPLETED, rules.I, now
        task.next_attempt_at = None
        task.assigned_to = task.assigned_at = None
        task.version += 1
        task.save(update_fields=["attempts", "state", "outcome", "closed_at",
                                 "next_attempt_at", "assigned_to", "assigned_at", "version",
                                 "updated_at"])
        record_event(actor=actor, obj=task, action="callback.answer", from_state=before,
                     to_state=task.state, payload={
                         "satisfaction": satisfaction, "reasons": reasons, "comment": comment,
                         "via": via, "attempt": number, "unit": task.unit_id,
                         "kind": task.kind,
                     })
        _record_on_order(actor, task, answer)
        _after_answer(task, answer, now)
        return answer


def _record_on_order(actor: Any, task: CallbackTask, answer: Answer) -> None:
    """The order's own callback outcome, through the orders app's action, when it is still
    missing. Contacts are made from *closed* orders, and an order is closed only after its
    callback is recorded (orders.close_order), so this mostly finds it done and skips; it
    matters for an order whose callback is still awaited (fed back), and record_callback is
    only allowed from that state and for the command centre or the opinion office — in any
    other case it would refuse, and the desk's answer must not be lost for that: skip."""
    order = task.contact.order if task.contact.order_id else None
    if order is None or task.kind != CallbackTask.Kind.CALLBACK:
        return
    from minyi.orders import actions as order_actions
    from minyi.orders.actions import CALLBACK_ROLES
    from minyi.orders.rules import can_start

    order.refresh_from_db(fields=["state", "callback_outcome", "version"])
    if order.callback_outcome or not can_start("record_callback", order.state):
        return
    if actor is not None and not actor.is_superuser and not access.bureau_role(
            actor, task.bureau, CALLBACK_ROLES):
        return
    order_actions.record_callback(actor=actor, order=order.pk, outcome=answer.satisfaction,
                                  note=answer.comment)


def _after_answer(task: CallbackTask, answer: Answer, now: datetime) -> None:
    """Hand the answer to rectification (a dissatisfied answer opens an item; a recall's
    answer closes the item it follows up)."""
    from minyi.callbacks import rectification

    hook = getattr(rectification, "after_answer", None)
    if hook is not None:
        hook(task=task, now=now)
    elif answer.satisfaction == Satisfaction.DISSATISFIED:
        rectification.open_rectification(task=task, now=now)


# --- plans -----------------------------------------------------------------------------------


PLAN_FIELDS = ("name", "source", "unit", "caller", "share", "minimum", "maximum",
               "cooling_off_days", "due_after_hours", "is_active", "valid_from", "valid_to")


def save_plan(*, actor: Any, bureau: Unit, plan: SamplingPlan | None = None,
              **fields: Any) -> SamplingPlan:
    """Create or change a sampling plan (opinion office, administrator of the bureau)."""
    if not _may_draw(actor, bureau) or actor is None:
        raise NotAllowed(f"只有{bureau}的民意专员或系统管理员可以维护抽样方案")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise InvalidInput(f"未知的字段：{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        lock_chain()
        created = plan is None
        if created:
            plan = SamplingPlan(bureau=bureau)
            before = {}
        else:
            plan = SamplingPlan.objects.select_for_update().get(pk=plan.pk, bureau=bureau)
            before = {f: _plain(getattr(plan, f)) for f in fields}
        for name, value in fields.items():
            setattr(plan, name, value)
        if plan.unit_id and not plan.unit.path.startswith(bureau.path):
            raise InvalidInput(f"「{plan.unit}」不是{bureau}的单位")
        plan.save()
        record_event(actor=actor, obj=plan, action="callback.plan_create" if created
                     else "callback.plan_change",
                     before=before or None,
                     after={f: _plain(getattr(plan, f)) for f in fields})
        return plan


def _plain(value: Any) -> Any:
    if isinstance(value, Unit):
        return value.pk
    return value


ACTION_LABELS.update({"callback.plan_create": "新建抽样方案",
                      "callback.plan_change": "修改抽样方案"})


def register() -> None:
    """From the app's ready(): the desk's event labels."""
    from minyi.core.audit import register_action_labels

    register_action_labels(ACTION_LABELS)
