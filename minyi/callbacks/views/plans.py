"""Sampling plans (抽样方案): the opinion office and administrators list and edit their bureau's
plans, and run today's draw (once per plan and day), each draw shown with its seed and counts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.callbacks import actions, selectors
from minyi.callbacks.forms import PlanForm
from minyi.callbacks.models import SamplingPlan
from minyi.core.errors import MinyiError
from minyi.orgs.models import Unit


def _bureaus(request: HttpRequest) -> list[Unit]:
    bureaus = list(selectors.plan_bureaus(request.user).order_by("path"))
    if not bureaus:
        raise PermissionDenied("只有民意专员或系统管理员可以维护抽样方案")
    return bureaus


def plans(request: HttpRequest) -> HttpResponse:
    bureaus = _bureaus(request)
    rows = list(selectors.visible_plans(request.user).order_by("bureau__path", "source",
                                                                 "name"))
    counts = selectors.plan_task_counts(rows)
    for p in rows:
        p.open_tasks = counts.get(p.pk, {}).get("open", 0)
        p.completed_tasks = counts.get(p.pk, {}).get("completed", 0)
    return render(request, "callbacks/plans.html", {
        "plans": rows,
        "draws": selectors.recent_draws(request.user), "today": timezone.localdate(),
        "bureaus": bureaus,
    })


def _edit(request: HttpRequest, plan: SamplingPlan | None, bureau: Unit) -> HttpResponse:
    form = PlanForm(request.POST or None, instance=plan, bureau=bureau)
    if request.method == "POST" and form.is_valid():
        fields: dict[str, Any] = {f: form.cleaned_data[f] for f in form.Meta.fields}
        try:
            saved = actions.save_plan(actor=request.user, bureau=bureau, plan=plan, **fields)
        except MinyiError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已保存抽样方案「{saved.name}」。")
            return redirect("callbacks:plans")
    return render(request, "callbacks/plan_form.html", {
        "form": form, "plan": plan, "bureau": bureau,
    }, status=400 if form.errors else 200)


def plan_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None, _bureaus(request)[0])


def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan_for_user(request.user, pk)
    return _edit(request, plan, plan.bureau)


@require_POST
def plans_draw(request: HttpRequest) -> HttpResponse:
    """Today's draw of every active plan of the user's bureaus."""
    day = timezone.localdate()
    made = existing = drawn = 0
    try:
        actions.contacts_from_orders()
        for bureau in _bureaus(request):
            for draw in actions.draw_day(actor=request.user, day=day, bureau=bureau):
                if draw.created:
                    made += 1
                    drawn += draw.drawn
                else:
                    existing += 1
    except MinyiError as exc:
        messages.error(request, str(exc))
        return redirect("callbacks:plans")
    if made:
        messages.success(request, f"已完成 {day:%m月%d日} 的抽样：{made} 个方案，"
                         f"共抽取 {drawn} 个回访任务。")
    if existing:
        messages.info(request, f"{existing} 个方案今日已抽过样，未重复抽取。")
    if not made and not existing:
        messages.info(request, "没有启用的抽样方案。")
    return redirect("callbacks:plans")
