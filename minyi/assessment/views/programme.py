"""The annual programme's pages: the year's programme (measures, their people and units, tasks
with deadlines, state, latest progress, overdue in red), one task with its progress history and
the report form of a responsible unit, and the xlsx import with its template.

Programmes and tasks are fetched through `programme.get_*_for_user` (404 for another bureau's);
what a user may do on a task is asked of `programme` (403 when a unit reports for another).
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.assessment import programme
from minyi.assessment.models import Programme, ProgrammeTask
from minyi.core.errors import InvalidInput, NotAllowed

MAX_UPLOAD = 5 * 1024 * 1024


class ReportForm(forms.Form):
    unit = forms.ModelChoiceField(label="报送单位", queryset=None, empty_label=None)
    month = forms.TypedChoiceField(label="月份", coerce=date.fromisoformat)
    percent_done = forms.IntegerField(label="完成进度（%）", min_value=0, max_value=100,
                                      error_messages={"min_value": "完成进度应在 0—100 之间",
                                                      "max_value": "完成进度应在 0—100 之间"})
    text = forms.CharField(label="工作进展", max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text="本月做了什么、取得什么成效、存在什么问题、下一步打算")

    def __init__(self, *args, units: list, months: list[date], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from minyi.orgs.models import Unit

        self.fields["unit"].queryset = Unit.objects.filter(pk__in=[u.pk for u in units])
        self.fields["month"].choices = [(m.isoformat(), f"{m.year}年{m.month}月")
                                        for m in months]
        if len(units) == 1:
            self.fields["unit"].widget = forms.HiddenInput()


class ReopenForm(forms.Form):
    reason = forms.CharField(label="重新开启的原因", max_length=500)


class ImportForm(forms.Form):
    bureau = forms.ChoiceField(label="公安局")
    file = forms.FileField(label="xlsx 文件", error_messages={
        "required": "请选择要导入的 xlsx 文件", "empty": "文件是空的"})
    update = forms.BooleanField(
        label="更新已有方案", required=False,
        help_text="同一年度同名的方案已导入时：不勾选则拒绝导入；勾选则按本文件更新该方案"
                  "（已完成的任务和已报送的进展保留）")

    def __init__(self, *args, bureaus: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bureaus = {str(b.pk): b for b in bureaus}
        self.fields["bureau"].choices = [(str(b.pk), b.name) for b in bureaus]
        if len(bureaus) == 1:
            self.fields["bureau"].widget = forms.HiddenInput()
            self.fields["bureau"].initial = str(bureaus[0].pk)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("文件超过 5 MB，请检查是否选错了文件")
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("请上传 .xlsx 文件（Excel 或 WPS 另存为 xlsx）")
        return upload


def _report_months(task: ProgrammeTask, today: date) -> list[date]:
    """The months a report may be for: this month and the three before it, within the
    programme's year, newest first."""
    year = task.measure.programme.year
    months, month = [], programme.month_start(today)
    while len(months) < 4 and month.year >= year:
        if month.year == year:
            months.append(month)
        month = programme.month_start(month.replace(day=1) - timedelta(days=1))
    return months


def programme_page(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    if pk is not None:
        current = programme.get_programme_for_user(user, pk)
        bureau = current.bureau
    else:
        bureaus = programme.user_bureaus(user)
        bureau = None
        if request.GET.get("bureau"):
            bureau = next((b for b in bureaus if str(b.pk) == request.GET["bureau"]), None)
            if bureau is None:
                raise Http404("没有找到该公安局")
        elif bureaus:
            bureau = bureaus[0]
        current = None
        if bureau is not None:
            qs = Programme.objects.filter(bureau=bureau).select_related("bureau")
            year = request.GET.get("year", "")
            if year.isdecimal():
                qs = qs.filter(year=int(year))
            elif qs.filter(year=today.year).exists():
                qs = qs.filter(year=today.year)
            current = qs.order_by("-year", "title").first()
    view = programme.programme_view(user, current, today) if current else None
    only_overdue = request.GET.get("overdue") == "1"
    if view and only_overdue:
        # The dashboard's alert links here: exactly the tasks it counts.
        for block in view.measures:
            block.rows = [r for r in block.rows if r.overdue]
        view.measures = [b for b in view.measures if b.rows]
    siblings = (list(Programme.objects.filter(bureau=bureau).order_by("-year", "title"))
                if bureau else [])
    return render(request, "assessment/programme/programme.html", {
        "bureau": bureau, "current": current, "view": view, "siblings": siblings,
        "bureaus": programme.user_bureaus(user),
        "may_manage": bool(bureau and programme.may_manage(user, bureau)),
        "today": today, "only_overdue": only_overdue,
    })


def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = programme.get_task_for_user(request.user, pk)
    today = timezone.localdate()
    units = programme.reporting_units(request.user, task)
    months = _report_months(task, today)
    may_report = bool(units and months and task.state == ProgrammeTask.State.OPEN)
    form = None
    status = 200
    if request.method == "POST":
        if not units:
            raise PermissionDenied("只能报送本单位承担任务的进展")
        if not may_report:
            raise PermissionDenied("该任务已完成或不在报送期内")
        form = ReportForm(request.POST, units=units, months=months)
        if form.is_valid():
            data = form.cleaned_data
            try:
                _, created = programme.report_progress(
                    actor=request.user, task=task, unit=data["unit"], month=data["month"],
                    percent_done=data["percent_done"], text=data["text"])
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from None
            except InvalidInput as exc:
                form.add_error(None, str(exc))
            else:
                label = f"{data['unit'].name}{data['month'].year}年{data['month'].month}月"
                if created:
                    messages.success(request, f"已报送{label}的工作进展")
                else:
                    messages.info(request, f"{label}的工作进展已报送过，已按本次内容更新")
                return redirect("assessment:programme_task", pk=task.pk)
        status = 400
    elif may_report:
        form = ReportForm(units=units, months=months,
                          initial={"unit": units[0].pk, "month": months[0].isoformat()})
    month = programme.month_start(today)
    return render(request, "assessment/programme/task.html", {
        "task": task, "measure": task.measure, "current": task.measure.programme,
        "overdue": programme.is_overdue(task, today),
        "days_late": (today - task.deadline).days,
        "this_month": month,
        "unit_status": programme.task_units_status(task, month),
        "history": programme.progress_history(task),
        "events": programme.task_events(task)[:50],
        "form": form if may_report else None,
        "may_mark_done": task.state == ProgrammeTask.State.OPEN
        and programme.may_mark_done(request.user, task),
        "may_reopen": task.state == ProgrammeTask.State.DONE
        and programme.may_manage(request.user, task.measure.programme.bureau),
        "reopen_form": ReopenForm(),
    }, status=status)


@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = programme.get_task_for_user(request.user, pk)
    try:
        programme.mark_done(actor=request.user, task=task)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已确认该任务完成")
    return redirect("assessment:programme_task", pk=task.pk)


@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = programme.get_task_for_user(request.user, pk)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写重新开启的原因")
        return redirect("assessment:programme_task", pk=task.pk)
    try:
        programme.reopen_task(actor=request.user, task=task, reason=form.cleaned_data["reason"])
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已重新开启该任务")
    return redirect("assessment:programme_task", pk=task.pk)


def import_page(request: HttpRequest) -> HttpResponse:
    bureaus = programme.managed_bureaus(request.user)
    if not bureaus:
        raise PermissionDenied("只有局领导、政工室（民意访查中心）和系统管理员可以导入年度工作方案")
    form = ImportForm(request.POST or None, request.FILES or None, bureaus=bureaus)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                outcome = programme.import_programme(
                    actor=request.user, bureau=form.bureaus[form.cleaned_data["bureau"]],
                    data=upload.read(), update=form.cleaned_data["update"],
                    file_name=upload.name)
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from None
            except programme.ImportRejected as exc:
                errors = exc.errors
            except InvalidInput as exc:
                errors = [str(exc)]
            else:
                messages.success(request, outcome.message)
                return redirect("assessment:programme_detail", pk=outcome.programme.pk)
        status = 400
    return render(request, "assessment/programme/import.html", {
        "form": form, "errors": errors, "header": programme.TEMPLATE_HEADER,
        "groups": list(programme.GROUP_WORDS), "year": timezone.localdate().year,
    }, status=status)


def import_template(request: HttpRequest) -> FileResponse:
    if not programme.managed_bureaus(request.user):
        raise PermissionDenied("只有局领导、政工室（民意访查中心）和系统管理员可以导入年度工作方案")
    return FileResponse(io.BytesIO(programme.import_template()), as_attachment=True,
                        filename="年度工作方案导入模板.xlsx")


urlpatterns = [
    path("programme/", programme_page, name="programme"),
    path("programme/<int:pk>/", programme_page, name="programme_detail"),
    path("programme/tasks/<int:pk>/", task_page, name="programme_task"),
    path("programme/tasks/<int:pk>/done/", task_done, name="programme_task_done"),
    path("programme/tasks/<int:pk>/reopen/", task_reopen, name="programme_task_reopen"),
    path("programme/import/", import_page, name="programme_import"),
    path("programme/import/template.xlsx", import_template, name="programme_import_template"),
]
