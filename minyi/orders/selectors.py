"""Reads of work orders for pages, exports and the API, always within what the user may see."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from minyi.core.audit import events_for
from minyi.orders.models import Order
from minyi.orders.rules import CLOCK_STATES, State
from minyi.orgs import access


@dataclass
class OrderFilter:
    """The filters every order list offers (pages, export, API); empty means no filter."""

    channel: str = ""  # channel code
    order_type: str = ""  # order type code
    state: str = ""
    unit: int | None = None  # lead unit and the units below it
    area: int | None = None  # area and the areas below it
    received_from: date | None = None
    received_to: date | None = None  # inclusive
    overdue: bool = False
    q: str = ""  # title, or the external id

    @classmethod
    def from_params(cls, params: Any) -> OrderFilter:
        """From a QueryDict or dict; bad values are reported, not ignored."""
        from minyi.core.errors import InvalidInput

        values: dict[str, Any] = {}
        problems = []
        for f in fields(cls):
            raw = (params.get(f.name) or "").strip() if hasattr(params, "get") else ""
            if raw == "":
                continue
            if f.name in ("unit", "area"):
                if not raw.isdigit():
                    problems.append(f"{f.name}={raw!r} 不是编号")
                    continue
                values[f.name] = int(raw)
            elif f.name in ("received_from", "received_to"):
                try:
                    values[f.name] = date.fromisoformat(raw)
                except ValueError:
                    problems.append(f"{f.name}={raw!r} 不是日期（应为 2026-11-22 这样）")
            elif f.name == "overdue":
                values[f.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif f.name == "state" and raw not in State.values:
                problems.append(f"state={raw!r} 不是工单状态")
            else:
                values[f.name] = raw
        if problems:
            raise InvalidInput("；".join(problems))
        return cls(**values)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_orders(qs: QuerySet[Order], f: OrderFilter, user: Any,
                  now: datetime | None = None) -> QuerySet[Order]:
    """Apply the filters; a unit or area outside what the user sees answers 404."""
    if f.channel:
        qs = qs.filter(channel__code=f.channel)
    if f.order_type:
        qs = qs.filter(order_type__code=f.order_type)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.unit is not None:
        unit = access.get_unit_for_user(user, f.unit) if not _sees_all_orders(user) else None
        if unit is None:
            from minyi.orgs.models import Unit

            unit = Unit.objects.filter(pk=f.unit).first()
        qs = qs.filter(lead_unit__path__startswith=unit.path) if unit else qs.none()
    if f.area is not None:
        from minyi.orgs.models import Area

        area = Area.objects.filter(pk=f.area).first()
        qs = qs.filter(area__path__startswith=area.path) if area else qs.none()
    if f.received_from:
        qs = qs.filter(received_at__gte=_day_start(f.received_from))
    if f.received_to:
        qs = qs.filter(received_at__lt=_day_start(f.received_to + timedelta(days=1)))
    if f.overdue:
        qs = qs.filter(state__in=CLOCK_STATES, handling_due_at__lt=now or timezone.now())
    if f.q:
        from django.db.models import Q

        qs = qs.filter(Q(title__icontains=f.q) | Q(external_id=f.q))
    return qs


def _sees_all_orders(user: Any) -> bool:
    return access.has_role(user, *access.ORDER_WIDE_ROLES) or user.is_superuser


def order_list(user: Any, f: OrderFilter) -> QuerySet[Order]:
    """The orders a user sees, filtered, newest first, with what a list row shows."""
    qs = access.visible_orders(user).select_related("channel", "order_type", "lead_unit", "area")
    return filter_orders(qs, f, user).order_by("-received_at", "-id")


def order_timeline(order: Order) -> QuerySet:
    """Every event of the order, oldest first: its whole history."""
    return events_for(order).order_by("id")
