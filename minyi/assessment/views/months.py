"""The monthly assessment pages: the months, one month's ranking (live while open, frozen once
closed) with its close and reopen forms and downloads, the year's scheme, hand-entered values.

Who sees what: anyone with a post in the bureau reads its ranking (the league table is
circulated to every unit, as the bulletin is), read-only; a station's people follow links only
to their own orders (the order list applies its own access). Running, closing, reopening, the
scheme and hand-entered values are for the opinion office, the leaders and administrators
(403 for the others). A bureau that is not the user's is 404.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.assessment import months
from minyi.assessment.bulletins import CONTENT_TYPES
from minyi.assessment.models import AssessmentMonth, Indicator, ManualValue, Scheme, SchemeItem
from minyi.assessment.selectors import user_bureaus
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.orgs.models import Unit


def _month_or_404(text: str) -> Any:
    try:
        return months.parse_month(text)
    except months.MonthError:
        raise Http404("没有这个月份") from None


def _require_manage(user: Any, bureau: Unit) -> None:
    if not months.may_manage(user, bureau):
        raise PermissionDenied("只有民意专员、局领导和系统管理员可以管理月度考核")


class RunForm(forms.Form):
    month = forms.CharField(label="月份", max_length=7,
                            widget=forms.TextInput(attrs={"type": "month",
                                                          "placeholder": "2026-10"}),
                            error_messages={"required": "请填写要考核的月份"})
    bureau = forms.TypedChoiceField(label="公安局", coerce=int)

    def __init__(self, *args: Any, bureaus: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bureaus = {b.pk: b for b in bureaus}
        self.fields["bureau"].choices = [(b.pk, b.name) for b in bureaus]

    def clean_month(self) -> Any:
        try:
            return months.parse_month(self.cleaned_data["month"])
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from None


def month_list(request: HttpRequest) -> HttpResponse:
    bureaus = user_bureaus(request.user)
    managed = [b for b in bureaus if months.may_manage(request.user, b)]
    form = None
    status = 200
    if managed:
        last = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
        form = RunForm(request.POST or None, bureaus=managed,
                       initial={"month": months.month_label(last), "bureau": managed[0].pk})
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("您的岗位不能计算月度考核")
        if form.is_valid():
            bureau = form.bureaus[form.cleaned_data["bureau"]]
            month = form.cleaned_data["month"]
            try:
                months.run(actor=request.user, bureau=bureau, month=month)
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from None
            except InvalidInput as exc:
                form.add_error("month", str(exc))
            else:
                messages.success(request, f"已计算{months.month_title(month)}的考核成绩")
                return redirect("assessment:month", bureau_id=bureau.pk,
                                month=months.month_label(month))
        status = 400
    schemes = Scheme.objects.filter(bureau__in=bureaus).select_related("bureau")
    return render(request, "assessment/months/list.html", {
        "rows": months.months_for_user(request.user), "form": form, "schemes": schemes,
        "bureaus": bureaus, "managed": managed, "this_year": timezone.localdate().year,
    }, status=status)


def _detail_context(request: HttpRequest, bureau: Unit, month: Any) -> dict[str, Any]:
    view = months.view_of(bureau, month)
    snapshot = view["snapshot"]
    return {
        "bureau": bureau, "month": month, "month_label": months.month_label(month),
        "title": months.month_title(month), **view,
        "rows": months.table(request.user, snapshot) if snapshot else [],
        "items": snapshot["items"] if snapshot else [],
        "computed_text": snapshot["computed_at"].replace("T", " ")[:16] if snapshot else "",
        "may_manage": months.may_manage(request.user, bureau),
    }


def month_detail(request: HttpRequest, bureau_id: int, month: str) -> HttpResponse:
    bureau = months.get_bureau_for_user(request.user, bureau_id)
    when = _month_or_404(month)
    return render(request, "assessment/months/detail.html",
                  _detail_context(request, bureau, when))


@require_POST
def month_close(request: HttpRequest, bureau_id: int, month: str) -> HttpResponse:
    bureau = months.get_bureau_for_user(request.user, bureau_id)
    when = _month_or_404(month)
    _require_manage(request.user, bureau)
    try:
        assessment = months.month_for(bureau, when)
        months.close(actor=request.user, assessment=assessment)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{months.month_title(when)}的考核已关账，成绩已冻结")
    return redirect("assessment:month", bureau_id=bureau.pk, month=months.month_label(when))


@require_POST
def month_reopen(request: HttpRequest, bureau_id: int, month: str) -> HttpResponse:
    bureau = months.get_bureau_for_user(request.user, bureau_id)
    when = _month_or_404(month)
    _require_manage(request.user, bureau)
    assessment = AssessmentMonth.objects.filter(bureau=bureau, month=when).first()
    if assessment is None:
        raise Http404("该月尚未考核")
    try:
        months.reopen(actor=request.user, assessment=assessment,
                      reason=request.POST.get("reason", ""))
    except InvalidInput as exc:
        context = _detail_context(request, bureau, when)
        context["reopen_error"] = str(exc)
        return render(request, "assessment/months/detail.html", context, status=400)
    messages.success(request, f"已重新打开{months.month_title(when)}的考核")
    return redirect("assessment:month", bureau_id=bureau.pk, month=months.month_label(when))


def month_download(request: HttpRequest, bureau_id: int, month: str, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404("没有这种格式")
    bureau = months.get_bureau_for_user(request.user, bureau_id)
    when = _month_or_404(month)
    view = months.view_of(bureau, when)
    if view["snapshot"] is None:
        raise Http404("该年度尚无考核方案")
    doc = months.document(bureau, when, view)
    if fmt == "docx":
        from minyi.reports.monthly_docx import monthly_docx

        data = monthly_docx(doc)
    elif fmt == "xlsx":
        from minyi.reports.monthly_xlsx import monthly_xlsx

        data = monthly_xlsx(doc)
    else:
        data = json.dumps(view["snapshot"], ensure_ascii=False, indent=2).encode("utf-8")
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    label = months.month_label(when)
    name = f"{label}-{bureau.code}-月度考核通报.{fmt}"
    response["Content-Disposition"] = (f"attachment; filename=\"assessment-{label}.{fmt}\"; "
                                       f"filename*=UTF-8''{quote(name)}")
    return response


def _decimal(text: str, label: str, *, required: bool = True) -> Decimal | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"请填写{label}")
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{label}应为数字，而不是「{text}」") from None


def _integer(text: str, label: str) -> int | None:
    value = _decimal(text, label, required=False)
    if value is None:
        return None
    if value != value.to_integral():
        raise InvalidInput(f"{label}应为整数")
    return int(value)


def scheme_page(request: HttpRequest, bureau_id: int, year: int) -> HttpResponse:
    bureau = months.get_bureau_for_user(request.user, bureau_id)
    may = months.may_manage(request.user, bureau)
    error, status = "", 200
    if request.method == "POST":
        _require_manage(request.user, bureau)
        try:
            if request.POST.get("action") == "create":
                months.create_default_scheme(actor=request.user, bureau=bureau, year=year)
                messages.success(request, f"已按内置指标建立{year}年考核方案")
            else:
                item = SchemeItem.objects.filter(
                    scheme__bureau=bureau, scheme__year=year,
                    pk=_integer(request.POST.get("item", ""), "考核项目") or 0).first()
                if item is None:
                    raise Http404("没有该考核项目")
                try:
                    params = json.loads(request.POST.get("params") or "{}")
                except ValueError:
                    raise InvalidInput("规则参数应为 JSON 对象，如 {\"floor\": \"80\"}") from None
                months.update_item(
                    actor=request.user, item=item,
                    weight=_decimal(request.POST.get("weight", ""), "分值"),
                    target=_decimal(request.POST.get("target", ""), "目标值", required=False),
                    rule=request.POST.get("rule", ""), params=params)
                messages.success(request, f"已修改「{item.indicator.name}」")
            return redirect("assessment:scheme", bureau_id=bureau.pk, year=year)
        except InvalidInput as exc:
            error, status = str(exc), 400
    scheme = Scheme.objects.filter(bureau=bureau, year=year).first()
    items = (list(scheme.items.select_related("indicator").order_by("position", "id"))
             if scheme else [])
    return render(request, "assessment/months/scheme.html", {
        "bureau": bureau, "year": year, "scheme": scheme, "items": items, "may_manage": may,
        "rules": SchemeItem.Rule.choices, "error": error,
        "item_params": {i.pk: json.dumps(i.params, ensure_ascii=False) for i in items},
        "closed": scheme.months.filter(state=AssessmentMonth.State.CLOSED).exists()
        if scheme else False,
    }, status=status)


def manual_values(request: HttpRequest, bureau_id: int, month: str) -> HttpResponse:
    bureau = months.get_bureau_for_user(request.user, bureau_id)
    when = _month_or_404(month)
    _require_manage(request.user, bureau)
    scheme = months.scheme_for(bureau, when.year)
    if scheme is None:
        raise Http404("该年度尚无考核方案")
    units = months.assessed_units(bureau, scheme)
    indicators = [i.indicator for i in scheme.items.select_related("indicator")
                  .order_by("position") if i.indicator.kind == Indicator.Kind.MANUAL]
    error, status = "", 200
    if request.method == "POST":
        unit = next((u for u in units if str(u.pk) == request.POST.get("unit")), None)
        indicator = next((i for i in indicators if str(i.pk) == request.POST.get("indicator")),
                         None)
        try:
            if unit is None or indicator is None:
                raise InvalidInput("请选择参评单位和手工填报指标")
            months.set_manual_value(
                actor=request.user, indicator=indicator, unit=unit, month=when,
                value=_decimal(request.POST.get("value", ""), "数值"),
                numerator=_integer(request.POST.get("numerator", ""), "分子"),
                denominator=_integer(request.POST.get("denominator", ""), "分母"),
                note=(request.POST.get("note") or "")[:200])
        except InvalidInput as exc:
            error, status = str(exc), 400
        else:
            messages.success(request, f"已保存{unit.name}的「{indicator.name}」")
            return redirect("assessment:manual_values", bureau_id=bureau.pk,
                            month=months.month_label(when))
    values = {(v.indicator_id, v.unit_id): v for v in ManualValue.objects.filter(
        indicator__in=indicators, unit__in=units, month=when)}
    grid = [{"unit": u, "cells": [values.get((i.pk, u.pk)) for i in indicators]} for u in units]
    closed = AssessmentMonth.objects.filter(bureau=bureau, month=when,
                                            state=AssessmentMonth.State.CLOSED).exists()
    return render(request, "assessment/months/manual.html", {
        "bureau": bureau, "month": when, "month_label": months.month_label(when),
        "title": months.month_title(when), "indicators": indicators, "units": units,
        "grid": grid, "closed": closed, "error": error, "post": request.POST,
    }, status=status)


urlpatterns = [
    path("months/", month_list, name="months"),
    path("months/<int:bureau_id>/<str:month>/", month_detail, name="month"),
    path("months/<int:bureau_id>/<str:month>/close/", month_close, name="month_close"),
    path("months/<int:bureau_id>/<str:month>/reopen/", month_reopen, name="month_reopen"),
    path("months/<int:bureau_id>/<str:month>/manual/", manual_values, name="manual_values"),
    path("months/<int:bureau_id>/<str:month>/download.<slug:fmt>", month_download,
         name="month_download"),
    path("schemes/<int:bureau_id>/<int:year>/", scheme_page, name="scheme"),
]
