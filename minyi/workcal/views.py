from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from minyi.core.errors import InvalidInput
from minyi.orgs.access import has_role, require_role
from minyi.orgs.models import Role
from minyi.workcal import actions, selectors
from minyi.workcal.forms import CalculatorForm, HolidayNoticeForm
from minyi.workcal.holidays import format_notice_lines
from minyi.workcal.models import HolidayYear


def years(request: HttpRequest) -> HttpResponse:
    require_role(request.user, Role.ADMINISTRATOR)
    return render(request, "workcal/years.html", selectors.years_overview())


def year_detail(request: HttpRequest, year: int) -> HttpResponse:
    require_role(request.user, Role.ADMINISTRATOR)
    holiday_year = selectors.holiday_year(year)
    if holiday_year is None:
        raise Http404("该年份的节假日尚未录入")
    return render(request, "workcal/year_detail.html", {
        "holiday_year": holiday_year,
        "days": holiday_year.days.order_by("date"),
    })


def year_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, Role.ADMINISTRATOR)
    if request.method == "POST":
        form = HolidayNoticeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                holiday_year = actions.enter_holiday_year(
                    actor=request.user, year=data["year"], days=data["days"],
                    source=HolidayYear.Source.NOTICE, notice=data["notice"],
                )
            except InvalidInput as exc:
                form.add_error("lines", str(exc))
            else:
                messages.success(
                    request, f"已保存 {holiday_year.year} 年节假日，共 {len(data['days'])} 天。"
                )
                return redirect("workcal:year_detail", year=holiday_year.year)
    else:
        form = HolidayNoticeForm(initial=_initial_for(request.GET.get("year")))
    return render(request, "workcal/year_form.html", {"form": form})


def _initial_for(year_text: str | None) -> dict:
    """A year asked for by the link on the list (a flagged year, or one to correct)."""
    flagged = selectors.years_to_flag()
    try:
        year = int(year_text) if year_text else (flagged[0] if flagged else None)
    except ValueError:
        year = None
    if year is None:
        return {}
    initial: dict = {"year": year}
    existing = selectors.holiday_year(year)
    if existing is not None:
        initial["lines"] = format_notice_lines(selectors.day_entries(existing))
        if existing.source == HolidayYear.Source.NOTICE:
            initial["notice"] = existing.notice
    return initial


def calculator(request: HttpRequest) -> HttpResponse:
    """Any logged-in user: what the deadline of a duration started at a moment is."""
    calendars = selectors.calendar_choices()
    bound = "duration" in request.GET
    form = CalculatorForm(
        request.GET if bound else None, calendars=calendars,
        initial={"calendar": selectors.DEFAULT_CALENDAR, "duration": "1d"},
    )
    result = None
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = selectors.deadline_details(data["start"], data["duration"], data["calendar"])
        except InvalidInput as exc:
            form.add_error("duration", str(exc))
    return render(request, "workcal/calculator.html", {
        "form": form,
        "result": result,
        "can_enter_holidays": has_role(request.user, Role.ADMINISTRATOR),
    })
