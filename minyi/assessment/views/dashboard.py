"""The leadership dashboard (领导驾驶舱): a bureau's headline figures with their trend over the
year, the unit league table, the stations compared and the alerts; every figure links to the
records it counts. Read from the kept monthly figures (`assessment.facts`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from minyi.assessment import dashboard as selectors
from minyi.assessment import facts
from minyi.core.errors import InvalidInput


def dashboard(request: HttpRequest) -> HttpResponse:
    bureau = selectors.dashboard_bureau(request.user, request.GET.get("bureau"))
    now = timezone.now()
    error = ""
    try:
        year = selectors.parse_year(request.GET.get("year"), timezone.localdate(now))
    except InvalidInput as exc:
        error, year = str(exc), timezone.localdate(now).year
    data = selectors.page_data(bureau=bureau, year=year, now=now)
    this_year = timezone.localdate(now).year
    years = sorted({*range(this_year, this_year - 6, -1), year}, reverse=True)
    return render(request, "assessment/dashboard/dashboard.html", {
        **data, "error": error, "years": years,
        "bureaus": selectors.readable_bureaus(request.user),
        "definitions": facts.DEFINITIONS,
    }, status=400 if error else 200)


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
]
