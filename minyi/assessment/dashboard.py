"""Reads for the leadership dashboard: who sees it, and the page's figures, all from the kept
monthly figures (`facts`) plus a few indexed counts for the alerts; never a scan of the
orders, so the page costs the same with a thousand orders as with a million."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from minyi.assessment import bulletins, facts
from minyi.assessment.models import MonthlyFigures, ProgrammeTask
from minyi.assessment.rules import (
    RATE_LABELS,
    Floors,
    format_count,
    format_rate,
    judge,
    rates,
)
from minyi.assessment.selectors import figure_link, user_bureaus
from minyi.callbacks.models import Rectification
from minyi.callbacks.rectification import overdue_q
from minyi.core.errors import InvalidInput
from minyi.orders.models import SupervisionNotice
from minyi.orders.selectors import notice_status_q
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

# Who reads a bureau's dashboard: its leaders, inspectors, the opinion office, administrators.
# A station's people are refused (403): their own figures are in the bulletin.
DASHBOARD_ROLES = frozenset({Role.BUREAU_LEADER, Role.INSPECTOR, Role.OPINION_OFFICER,
                             Role.ADMINISTRATOR})
HEADLINE = ("received", "completion", "on_time", "contact", "satisfaction")
# The count behind each rate: what its link lists (satisfaction mixes two outcomes: no link).
RATE_NUMERATOR = {"completion": "closed", "on_time": "closed_on_time",
                  "contact": "contact_on_time", "satisfaction": ""}
RATE_DENOMINATOR_LABEL = {"completion": "有效受理", "on_time": "办结", "contact": "有联系时限",
                          "satisfaction": "回访联系上"}
FIRST_YEAR = 2000


def dashboard_bureau(user: Any, bureau_param: str | None) -> Unit:
    """The bureau whose dashboard the user asked for (or their first): 404 for a bureau that
    is not theirs, 403 for a post in it that does not read the dashboard."""
    bureaus = user_bureaus(user)
    if bureau_param:
        chosen = next((b for b in bureaus if str(b.pk) == bureau_param.strip()), None)
        if chosen is None:
            raise Http404("没有找到该公安局")
        if not may_read(user, chosen):
            raise PermissionDenied("局领导、督察、民意专员和系统管理员可查看领导驾驶舱")
        return chosen
    for bureau in bureaus:
        if may_read(user, bureau):
            return bureau
    raise PermissionDenied("局领导、督察、民意专员和系统管理员可查看领导驾驶舱")


def may_read(user: Any, bureau: Unit) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active) or \
        access.bureau_role(user, bureau, DASHBOARD_ROLES)


def readable_bureaus(user: Any) -> list[Unit]:
    return [b for b in user_bureaus(user) if may_read(user, b)]


def parse_year(text: str | None, today: date) -> int:
    if not text:
        return today.year
    text = text.strip()
    if not text.isdecimal() or not FIRST_YEAR <= int(text) <= today.year + 1:
        raise InvalidInput(f"年度「{text}」不正确：应为 {FIRST_YEAR} 至 {today.year + 1} "
                           "之间的年份")
    return int(text)


def _month_label(month: date) -> str:
    return f"{month.month}月"


def _link(month: date, unit_id: int | None, key: str) -> str:
    window = {"week": {"from": month.isoformat(), "to": facts.month_end(month).isoformat()}}
    return figure_link(window, unit_id, key)


def _rate_cell(counts: dict[str, int], unit_rates: dict[str, float | None], key: str,
               month: date, unit_id: int | None, floors: Floors | None,
               judged: bool) -> dict[str, Any]:
    numerator_key = RATE_NUMERATOR[key]
    reached = counts["cb_satisfied"] + counts["cb_basic"] + counts["cb_dissatisfied"]
    denominator = {"completion": counts["received"] - counts["invalid"],
                   "on_time": counts["closed"], "contact": counts["contact_due"],
                   "satisfaction": reached}[key]
    value = unit_rates[key]
    floor = getattr(floors, key, None) if floors else None
    return {
        "key": key, "value": value, "text": format_rate(value), "n": denominator,
        "numerator": counts[numerator_key] if numerator_key else None,
        "url": _link(month, unit_id, numerator_key) if numerator_key else "",
        "low": bool(judged and floor is not None and value is not None
                    and Decimal(str(value)) < floor),
        "title": f"分母：{RATE_DENOMINATOR_LABEL[key]} {denominator} 件",
    }


def page_data(*, bureau: Unit, year: int, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for the bureau and year."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    last = 12 if year < today.year else (today.month if year == today.year else 0)
    months = [date(year, m, 1) for m in range(1, last + 1)]
    floors = bulletins.floors_for(bureau)
    rows = list(MonthlyFigures.objects.filter(bureau=bureau, month__in=months)
                .select_related("unit").order_by("month", "unit__sort_order", "unit__path"))
    counted = {(r.unit_id, r.month): {**dict.fromkeys(facts.COUNT_KEYS, 0), **r.counts}
               for r in rows}
    have = sorted({r.month for r in rows if r.unit_id == bureau.pk})
    data: dict[str, Any] = {"bureau": bureau, "year": year, "floors": floors,
                            "months": months, "empty": not have,
                            "alerts": alerts(bureau=bureau, now=now)}
    if not have:
        return data
    latest = have[-1]
    computed_at = max(r.computed_at for r in rows if r.month == latest)
    total = counted[(bureau.pk, latest)]
    total_rates = rates(total, floors.basic_weight)
    headline = [{"key": "received", "label": "受理工单", "text": format_count(total["received"]),
                 "url": _link(latest, None, "received"), "n": None}]
    for key in HEADLINE[1:]:
        cell = _rate_cell(total, total_rates, key, latest, None, None, False)
        headline.append({**cell, "label": RATE_LABELS[key]})

    trend: dict[str, Any] = {"months": [_month_label(m) for m in months],
                             "received": [], "links": {"received": []}}
    for key in HEADLINE[1:]:
        trend[key] = []
    for month in months:
        counts = counted.get((bureau.pk, month))
        trend["received"].append(counts["received"] if counts else None)
        trend["links"]["received"].append(_link(month, None, "received") if counts else "")
        month_rates = rates(counts, floors.basic_weight) if counts else {}
        for key in HEADLINE[1:]:
            trend[key].append(month_rates.get(key))

    units = order_units([r.unit for r in rows if r.month == latest and r.unit_id != bureau.pk])
    league = []
    below = []
    for unit in units:
        counts = counted[(unit.pk, latest)]
        unit_rates = rates(counts, floors.basic_weight)
        verdict = judge(counts, unit_rates, floors)
        cells = [_rate_cell(counts, unit_rates, key, latest, unit.pk, floors, verdict.judged)
                 for key in HEADLINE[1:]]
        league.append({"unit": unit, "received": counts["received"],
                       "received_url": _link(latest, unit.pk, "received"),
                       "judged": verdict.judged, "list": verdict.list, "cells": cells})
        low = [f"{RATE_LABELS[c['key']]}{c['text']}" for c in cells if c["low"]]
        if low:
            below.append({"unit": unit, "reasons": low})
    stations = [row for row in league if row["unit"].kind == Unit.Kind.STATION]
    compare = {"units": [row["unit"].name for row in stations],
               "received": [row["received"] for row in stations],
               "links": {"received": [row["received_url"] for row in stations]}}
    for index, key in enumerate(HEADLINE[1:]):
        compare[key] = [row["cells"][index]["value"] for row in stations]
        compare["links"][key] = [row["cells"][index]["url"] for row in stations]
    data["alerts"]["below_floor"] = below
    data.update(latest=latest, latest_label=f"{latest.year}年{latest.month}月",
                computed_at=computed_at, headline=headline, trend=trend, league=league,
                compare=compare, rate_keys=HEADLINE[1:],
                rate_labels=[RATE_LABELS[k] for k in HEADLINE[1:]],
                charts={"trend": trend, "compare": compare,
                        "floors": {k: float(getattr(floors, k))
                                   for k in ("satisfaction", "on_time", "contact")}})
    return data


def order_units(units: list[Unit]) -> list[Unit]:
    kinds = list(bulletins.UNIT_KINDS)
    return sorted(units, key=lambda u: (kinds.index(u.kind) if u.kind in kinds else len(kinds),
                                        u.sort_order, u.path))


def _reverse(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def alerts(*, bureau: Unit, now: datetime) -> dict[str, Any]:
    """The counts the alerts show, each one indexed query, with the list it links to."""
    overdue_notices = SupervisionNotice.objects.filter(
        notice_status_q("overdue", now), bureau=bureau).count()
    overdue_rect = Rectification.objects.filter(overdue_q(now), bureau=bureau).count()
    tasks = list(ProgrammeTask.objects.filter(
        measure__programme__bureau=bureau, state=ProgrammeTask.State.OPEN,
        deadline__lt=timezone.localdate(now)).select_related("measure")
        .order_by("deadline", "pk")[:6])
    task_count = len(tasks) if len(tasks) < 6 else ProgrammeTask.objects.filter(
        measure__programme__bureau=bureau, state=ProgrammeTask.State.OPEN,
        deadline__lt=timezone.localdate(now)).count()
    notices_url = _reverse("orders:notices")
    rect_url = _reverse("callbacks:rectifications")
    return {
        "notices": overdue_notices,
        "notices_url": notices_url + "?" + urlencode({"status": "overdue"}) if notices_url
        else "",
        "rectifications": overdue_rect,
        "rectifications_url": rect_url + "?" + urlencode({"overdue": "on"})
        if rect_url else "",
        "tasks": task_count,
        "task_list": tasks[:5],
        "tasks_url": _reverse("assessment:programme"),
        "below_floor": [],
    }
