"""Reads for the frame's pages: the home page of each role and the audit page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from minyi.core.models import AuditCheck, Event
from minyi.orgs import access
from minyi.orgs import selectors as orgs_selectors
from minyi.orgs.models import Area, Membership, Role, Unit


def audit_overview(limit: int = 15) -> dict[str, Any]:
    return {
        "last_check": AuditCheck.objects.first(),
        "event_count": Event.objects.count(),
        "recent_events": list(Event.objects.order_by("-id")[:limit]),
    }


def station_rows(user: Any) -> list[Unit]:
    """Stations the user sees, with their people and the townships in their jurisdiction."""
    return list(
        access.visible_units(user)
        .filter(kind=Unit.Kind.STATION)
        .annotate(
            people=Count("memberships__user", distinct=True),
            townships=Count("areas", filter=Q(areas__parent__isnull=True), distinct=True),
            villages=Count("areas", filter=Q(areas__parent__isnull=False), distinct=True),
        )
        .order_by("sort_order", "name")
    )


WEEKDAYS = "一二三四五六日"
# The seed's default timers (001): contact within 1 clock hour, consultations within half a
# working day, law-enforcement and management-service orders within one.
TODAY_DEADLINES = [
    ("联系群众（1小时）", "1h", "24x7"),
    ("咨询类（0.5个工作日）", "0.5d", "office"),
    ("执法办案、管理服务类（1个工作日）", "1d", "office"),
]


def today_card(now: datetime) -> dict[str, Any]:
    """Whether today is a working day, and what the default timers give for an order taken now."""
    from minyi.workcal import selectors as workcal_selectors
    from minyi.workcal.models import HolidayDay

    today = timezone.localtime(now).date()
    schedule = workcal_selectors.schedule_for()
    holiday = HolidayDay.objects.filter(date=today).first()
    return {
        "date": today,
        "weekday": f"星期{WEEKDAYS[today.weekday()]}",
        "is_working_day": schedule.is_working_day(today),
        "name": holiday.name if holiday else "",
        "fallback": bool(schedule.missing_years(today, today)),
        "deadlines": [
            {"label": label, "due": workcal_selectors.deadline(now, duration, calendar)}
            for label, duration, calendar in TODAY_DEADLINES
        ],
    }


def home(user: Any) -> dict[str, Any]:
    from minyi.workcal import selectors as workcal_selectors

    role = access.home_role(user)
    membership = access.primary_membership(user)
    context: dict[str, Any] = {
        "role": role,
        "role_label": Role(role).label if role else "",
        "membership": membership,
        "memberships": access.memberships_of(user),
        "today": today_card(timezone.now()),
    }
    if role == Role.ADMINISTRATOR:
        context["counts"] = orgs_selectors.counts()
        context["missing_years"] = workcal_selectors.years_to_flag(timezone.localdate())
        context.update(audit_overview())
    elif role == Role.INSPECTOR:
        context.update(audit_overview())
        context["stations"] = station_rows(user)
    elif role in (Role.BUREAU_LEADER, Role.OPINION_OFFICER):
        context["counts"] = orgs_selectors.counts()
        context["stations"] = station_rows(user)
    elif role in (Role.DISPATCHER, Role.LEGAL_REVIEWER):
        context["directory"] = list(
            Unit.objects.filter(is_active=True)
            .exclude(kind__in=[Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU])
            .order_by("kind", "sort_order", "name")
        ) if role == Role.DISPATCHER else []
        context["stations"] = station_rows(user) if role == Role.LEGAL_REVIEWER else []
    if role in (Role.DISPATCHER, Role.UNIT_HEAD, Role.UNIT_HANDLER):
        from minyi.orders.selectors import home_counts

        context["order_counts"] = home_counts(user)
    if membership is not None and role in (Role.UNIT_HEAD, Role.UNIT_HANDLER):
        unit = membership.unit
        context["unit"] = unit
        context["colleagues"] = (
            Membership.objects.filter(unit=unit, user__is_active=True)
            .select_related("user").order_by("role", "user__full_name")
        )
        context["areas"] = (
            Area.objects.filter(station=unit, parent__isnull=True)
            .annotate(villages=Count("children")).order_by("code")
        )
    return context
