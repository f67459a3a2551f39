"""The callback desk (回访台): take the next due task, read the script, dial the masked number
(revealing it is logged), record how the call ended or the person's answers, by keyboard, and
go on to the next task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.callbacks import actions, rules, selectors
from minyi.callbacks.forms import AnswerForm, AttemptForm
from minyi.callbacks.models import CallbackTask, Reason, Satisfaction
from minyi.core.errors import Conflict, InvalidInput, NotAllowed

SATISFACTION_KEYS = {Satisfaction.SATISFIED: "1", Satisfaction.BASICALLY_SATISFIED: "2",
                     Satisfaction.DISSATISFIED: "3"}
REASON_KEYS = {Reason.ATTITUDE: "4", Reason.SPEED: "5", Reason.RESULT: "6",
               Reason.CONDUCT: "7", Reason.OTHER: "8"}


def _require_desk(request: HttpRequest) -> None:
    if not selectors.is_desk_user(request.user):
        raise PermissionDenied("您的岗位没有回访任务")


def desk(request: HttpRequest) -> HttpResponse:
    _require_desk(request)
    now = timezone.now()
    day = selectors.desk_day(request.user, now=now)
    start, end = rules.call_hours()
    current = selectors.desk_tasks(request.user).filter(
        state__in=selectors.OPEN_STATES, assigned_to=request.user,
        assigned_at__gt=now - timedelta(minutes=selectors.CLAIM_MINUTES)).first()
    return render(request, "callbacks/desk.html", {
        "day": day, "current": current, "in_hours": rules.in_call_hours(now),
        "hours": f"{start:%H:%M}–{end:%H:%M}", "now": now,
    })


def _go_next(request: HttpRequest) -> HttpResponse:
    """Claim the next task and open it; back to the desk with the reason when there is none."""
    try:
        task = actions.claim_next_task(actor=request.user)
    except (InvalidInput, NotAllowed) as exc:
        messages.warning(request, str(exc))
        return redirect("callbacks:desk")
    if task is None:
        messages.info(request, "目前没有到期的回访任务。")
        return redirect("callbacks:desk")
    return redirect("callbacks:task", pk=task.pk)


@require_POST
def desk_next(request: HttpRequest) -> HttpResponse:
    _require_desk(request)
    return _go_next(request)


def script_for(task: CallbackTask) -> dict[str, Any]:
    """The words the caller reads: who calls, about what, and the questions."""
    contact = task.contact
    when = timezone.localtime(contact.occurred_at)
    matter = contact.summary or contact.record_type or contact.get_source_display()
    caller = "民意访查中心" if task.caller == "opinion_office" else task.unit.name
    greeting = (f"您好，我是{task.bureau.name}{caller}的回访员。您在 {when:%m月%d日} "
                f"反映的「{matter}」，由{task.unit.name}办理，现在想耽误您一分钟做个回访。")
    if task.kind == CallbackTask.Kind.RECALL:
        greeting += "上次您反映不满意的问题，单位已整改，想再听听您的意见。"
    return {"greeting": greeting, "questions": [
        "您对这次办理的结果满意吗？满意、基本满意，还是不满意？",
        "（不满意时）主要是哪方面：民警的态度、办理速度、处理结果、作风纪律，还是其他？",
        "您还有什么意见和建议？",
    ], "closing": "感谢您对公安工作的支持，再见！"}


def _task_context(request: HttpRequest, task: CallbackTask, *, revealed: str = "",
                  attempt_form: AttemptForm | None = None,
                  answer_form: AnswerForm | None = None) -> dict[str, Any]:
    can_call = selectors.can_call(request.user, task)
    now = timezone.now()
    held_by_other = bool(task.assigned_to_id and task.assigned_to_id != request.user.pk
                         and task.assigned_at
                         and task.assigned_at > now - timedelta(
                             minutes=selectors.CLAIM_MINUTES))
    dispositions = list(rules.DISPOSITIONS.values())
    attempts = list(task.attempt_set.select_related("caller_user").order_by("number"))
    for a in attempts:
        known = rules.DISPOSITIONS.get(a.disposition)
        a.label = known.label if known else a.disposition
    answer = getattr(task, "answer", None) if task.state == "completed" else None
    if answer is not None:
        answer.reason_labels = [Reason(r).label for r in answer.reasons if r in Reason.values]
    answer_form = answer_form or AnswerForm(initial={"version": task.version})
    return {
        "task": task, "contact": task.contact, "order": task.contact.order,
        "script": script_for(task), "revealed": revealed,
        "can_call": can_call and task.is_open, "held_by_other": held_by_other,
        "in_hours": rules.in_call_hours(now),
        "dispositions": dispositions, "appointment": rules.DISPOSITIONS[rules.APPOINTMENT],
        "attempt_form": attempt_form or AttemptForm(initial={"version": task.version}),
        "answer_form": answer_form,
        "satisfactions": [(value, label, SATISFACTION_KEYS[value])
                          for value, label in Satisfaction.choices],
        "reasons": [(value, label, REASON_KEYS[value]) for value, label in Reason.choices],
        "chosen_satisfaction": answer_form["satisfaction"].value() or "",
        "chosen_reasons": answer_form["reasons"].value() or [],
        "attempts": attempts, "answer": answer,
        "max_attempts": rules.MAX_ATTEMPTS,
        "aapor": rules.AAPOR,
    }


def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    return render(request, "callbacks/task.html", _task_context(request, task))


@require_POST
def task_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    try:
        value = actions.reveal_phone(actor=request.user, task=task)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    return render(request, "callbacks/task.html", _task_context(request, task, revealed=value))


def _refused(request: HttpRequest, task: CallbackTask, exc: Exception,
             **forms: Any) -> HttpResponse:
    status = 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, NotAllowed) else 400
    messages.error(request, str(exc))
    task.refresh_from_db()
    return render(request, "callbacks/task.html", _task_context(request, task, **forms),
                  status=status)


@require_POST
def task_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return render(request, "callbacks/task.html",
                      _task_context(request, task, attempt_form=form), status=400)
    data = form.cleaned_data
    try:
        task = actions.record_attempt(
            actor=request.user, task=task, disposition=data["disposition"],
            note=data["note"], retry_at=data["retry_at"], expected_version=data["version"])
    except (InvalidInput, NotAllowed, Conflict) as exc:
        return _refused(request, task, exc, attempt_form=form)
    label = rules.DISPOSITIONS[data["disposition"]].label
    if task.state == CallbackTask.State.RETRY:
        messages.success(request, f"已登记「{label}」，将于 "
                         f"{timezone.localtime(task.next_attempt_at):%m月%d日 %H:%M} 后再拨。")
    else:
        messages.success(request, f"已登记「{label}」，该回访已结束。")
    return _go_next(request)


@require_POST
def task_answer(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return render(request, "callbacks/task.html",
                      _task_context(request, task, answer_form=form), status=400)
    data = form.cleaned_data
    try:
        answer = actions.record_answer(
            actor=request.user, task=task, satisfaction=data["satisfaction"],
            reasons=data["reasons"], comment=data["comment"], expected_version=data["version"])
    except (InvalidInput, NotAllowed, Conflict) as exc:
        return _refused(request, task, exc, answer_form=form)
    text = f"已登记回访回答「{answer.get_satisfaction_display()}」。"
    if answer.satisfaction == Satisfaction.DISSATISFIED:
        text += "已生成整改事项，交责任单位整改。"
    messages.success(request, text)
    return _go_next(request)


@require_POST
def task_release(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    actions.release_task(actor=request.user, task=task)
    messages.info(request, "已放回该任务，其他回访员可以领取。")
    return redirect(reverse("callbacks:desk"))
