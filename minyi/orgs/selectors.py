"""Reads of units, areas and people for pages, always within what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from minyi.orgs import access
from minyi.orgs.models import Area, Membership, Unit, User


def unit_rows(user: Any) -> list[Unit]:
    """The units the user sees, in tree order, each with `indent` and `people`."""
    units = list(
        access.visible_units(user)
        .annotate(people=Count("memberships__user", distinct=True))
        .order_by("path")
    )
    if units:
        top = min(u.depth for u in units)
        for unit in units:
            unit.indent = 0.6 + 1.4 * (unit.depth - top)
    return units


def unit_detail(user: Any, pk: Any) -> dict[str, Any]:
    unit = access.get_unit_for_user(user, pk)
    memberships = (
        Membership.objects.filter(unit=unit, user__is_active=True)
        .select_related("user")
        .order_by("role", "user__full_name")
    )
    children = access.visible_units(user).filter(parent=unit).order_by("sort_order", "name")
    areas = (
        Area.objects.filter(station=unit, parent__isnull=True)
        .prefetch_related(Prefetch("children", queryset=Area.objects.order_by("code")))
        .order_by("code")
    )
    return {
        "unit": unit,
        "ancestors": [u for u in unit.ancestors() if access.can_see_unit(user, u)],
        "memberships": memberships,
        "children": children,
        "areas": areas,
    }


def area_rows(user: Any) -> QuerySet[Area]:
    return access.visible_areas(user).select_related("station", "parent").order_by("path")


def people(user: Any, unit: Unit | None = None) -> QuerySet[Membership]:
    qs = Membership.objects.filter(
        access.unit_filter(user), user__is_active=True
    ).select_related("user", "unit")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs.order_by("unit__path", "role", "user__full_name")


def counts() -> dict[str, int]:
    return {
        "units": Unit.objects.filter(is_active=True).count(),
        "stations": Unit.objects.filter(is_active=True, kind=Unit.Kind.STATION).count(),
        "areas": Area.objects.count(),
        "users": User.objects.filter(is_active=True).count(),
    }
