"""Rectification pages (整改): the list with its filters and per-unit counts, and an item's page
with the dissatisfied answer, the forms (report for the unit, accept or return for the opinion
office) and the history. Items come through `rectification.get_rectification_for_user` (404
for missing or not yours); every change is one action of `rectification`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.callbacks import rectification as rect
from minyi.callbacks.models import Answer, Reason, Rectification
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orders.selectors import offset_page
from minyi.orgs import access


class FilterForm(forms.Form):
    unit = forms.ChoiceField(label="单位", required=False)
    state = forms.ChoiceField(label="状态", required=False,
                              choices=[("", "全部"), ("active", "未销号"),
                                       *Rectification.State.choices])
    overdue = forms.BooleanField(label="只看逾期未整改", required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", "全部单位")] + [
            (str(u.pk), ("　" * max(0, u.depth - 1)) + u.name)
            for u in rect.units_for_filter(user)]


class ReportForm(forms.Form):
    report = forms.CharField(label="整改情况", widget=forms.Textarea(attrs={"rows": 4}),
                             min_length=rect.MIN_REPORT,
                             help_text="写明联系群众、采取的措施和结果，不少于 10 个字",
                             error_messages={
                                 "required": "请填写整改情况",
                                 "min_length": "请具体写明整改措施和结果（不少于 10 个字）"})


class DecideForm(forms.Form):
    note = forms.CharField(label="审核意见（退回时必填）", required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


def rectification_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None, user=request.user)
    qs = rect.visible_rectifications(request.user)
    params: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["unit"]:
            unit = access.get_unit_for_user(request.user, data["unit"])
            qs = qs.filter(unit__path__startswith=unit.path)
            params["unit"] = data["unit"]
        if data["state"] == "active":
            qs = qs.filter(state__in=rect.ACTIVE_STATES)
        elif data["state"]:
            qs = qs.filter(state=data["state"])
        if data["state"]:
            params["state"] = data["state"]
        if data["overdue"]:
            qs = rect.overdue(qs)
            params["overdue"] = "on"
    number = request.GET.get("page", "1")
    page = offset_page(qs.order_by("-created_at", "-pk"),
                       int(number) if number.isdecimal() and int(number) else 1)
    now = timezone.now()
    for item in page.rows:
        item.overdue = rect.is_overdue(item, now)
    base = request.path + "?" + (urlencode(params) + "&" if params else "")
    counts = rect.counts_per_unit(rect.visible_rectifications(request.user), now)
    units = {u.pk: u for u in access.visible_units(request.user).filter(pk__in=list(counts))}
    per_unit = sorted(({"unit": units[pk], **c} for pk, c in counts.items() if pk in units),
                      key=lambda r: (-r["overdue"], -r["open"], r["unit"].path))
    return render(request, "callbacks/rectification_list.html", {
        "form": form, "page": page, "per_unit": per_unit,
        "first_url": "" if page.is_first else base.rstrip("?&"),
        "next_url": f"{base}page={page.next_page}" if page.next_page else "",
    })


def _detail(request: HttpRequest, item: Rectification, *, report_form: ReportForm | None = None,
            decide_form: DecideForm | None = None, conflict: str = "",
            status: int = 200) -> HttpResponse:
    answer = Answer.objects.filter(task_id=item.task_id).select_related("answered_by").first()
    reasons = dict(Reason.choices)
    recall_answer = (Answer.objects.filter(task_id=item.recall_id).first()
                     if item.recall_id else None)
    return render(request, "callbacks/rectification_detail.html", {
        "item": item, "task": item.task, "contact": item.task.contact, "answer": answer,
        "reasons": [reasons.get(r, r) for r in (answer.reasons if answer else [])],
        "recall": item.recall, "recall_answer": recall_answer,
        "overdue": rect.is_overdue(item),
        "can_report": item.state in rect.UNIT_TODO_STATES and rect.can_report(request.user,
                                                                              item),
        "can_decide": item.state == Rectification.State.REPORTED and rect.can_decide(
            request.user, item),
        "report_form": report_form or ReportForm(), "decide_form": decide_form or DecideForm(),
        "events": rect.history(item), "conflict": conflict,
        "followup": Rectification.objects.filter(task_id=item.recall_id).first()
        if item.recall_id else None,
    }, status=status)


def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, rect.get_rectification_for_user(request.user, pk))


@require_POST
def rectification_report(request: HttpRequest, pk: int) -> HttpResponse:
    item = rect.get_rectification_for_user(request.user, pk)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, report_form=form, status=400)
    try:
        rect.report_rectification(actor=request.user, item=item,
                                  report=form.cleaned_data["report"])
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except Conflict as exc:
        item = rect.get_rectification_for_user(request.user, pk)
        return _detail(request, item, conflict=str(exc), status=409)
    except InvalidInput as exc:
        form.add_error("report", str(exc))
        return _detail(request, item, report_form=form, status=400)
    messages.success(request, "整改情况已上报，等待民意访查中心审核")
    return redirect("callbacks:rectification", pk=item.pk)


@require_POST
def rectification_decide(request: HttpRequest, pk: int) -> HttpResponse:
    item = rect.get_rectification_for_user(request.user, pk)
    form = DecideForm(request.POST)
    form.is_valid()
    accept = request.POST.get("decision") == "accept"
    try:
        rect.decide_rectification(actor=request.user, item=item, accept=accept,
                                  note=form.cleaned_data.get("note", ""))
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except Conflict as exc:
        item = rect.get_rectification_for_user(request.user, pk)
        return _detail(request, item, conflict=str(exc), status=409)
    except InvalidInput as exc:
        form.add_error("note", str(exc))
        return _detail(request, item, decide_form=form, status=400)
    messages.success(request, "整改情况审核通过，已生成再回访任务" if accept
                     else "已退回，请责任单位重新整改")
    return redirect("callbacks:rectification", pk=item.pk)
