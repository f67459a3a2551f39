from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minyi.orgs import access, selectors


def units(request: HttpRequest) -> HttpResponse:
    return render(request, "orgs/units.html", {
        "units": selectors.unit_rows(request.user),
        "areas": selectors.area_rows(request.user),
    })


def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "orgs/unit_detail.html", selectors.unit_detail(request.user, pk))


def area_detail(request: HttpRequest, pk: int) -> HttpResponse:
    area = access.get_area_for_user(request.user, pk)
    return render(request, "orgs/area_detail.html", {
        "area": area,
        "children": area.children.order_by("code"),
    })


def people(request: HttpRequest) -> HttpResponse:
    unit = None
    if request.GET.get("unit"):
        unit = access.get_unit_for_user(request.user, request.GET["unit"])
    return render(request, "orgs/people.html", {
        "memberships": selectors.people(request.user, unit),
        "unit": unit,
        "units": selectors.unit_rows(request.user),
    })
