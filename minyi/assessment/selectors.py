"""Reads for the bulletin pages: who sees which bulletins, and the links from every figure to
the orders it counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse

from minyi.assessment.bulletins import BUREAU_KINDS, GENERATE_ROLES
from minyi.assessment.models import WeeklyBulletin
from minyi.assessment.rules import IsoWeek, format_count, format_rate, headline_segments
from minyi.orgs import access
from minyi.orgs.models import Unit


def user_bureaus(user: Any) -> list[Unit]:
    """The bureaus whose bulletins the user reads: a bulletin is circulated to every unit of
    its bureau, so any post in the bureau will do."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return list(Unit.objects.filter(kind__in=BUREAU_KINDS).order_by("path"))
    seen: dict[int, Unit] = {}
    for membership in access.memberships_of(user):
        bureau = membership.unit.bureau()
        seen.setdefault(bureau.pk, bureau)
    return sorted(seen.values(), key=lambda u: u.path)


def generating_bureaus(user: Any) -> list[Unit]:
    """The bureaus in which the user may generate a bulletin."""
    return [b for b in user_bureaus(user)
            if getattr(user, "is_superuser", False)
            or access.bureau_role(user, b, GENERATE_ROLES)]


def bulletins_for_user(user: Any) -> QuerySet[WeeklyBulletin]:
    ids = [b.pk for b in user_bureaus(user)]
    return (WeeklyBulletin.objects.filter(bureau_id__in=ids)
            .select_related("bureau", "generated_by").order_by("-year", "-week", "bureau_id"))


def get_bulletin_for_user(user: Any, pk: Any) -> WeeklyBulletin:
    try:
        return bulletins_for_user(user).get(pk=int(pk))
    except (WeeklyBulletin.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该通报") from None


# --- links from the figures to their orders ----------------------------------------------------

# key -> (the order list's filters that select exactly what the figure counts)
ORDER_FILTERS: dict[str, dict[str, str]] = {
    "received": {},
    "invalid": {"state": "invalid"},
    "closed": {"state": "closed"},
    "completion": {"state": "closed"},
    "closed_on_time": {"handling": "on_time"},
    "on_time": {"handling": "on_time"},
    "closed_late": {"handling": "late"},
    "contact_on_time": {"contact": "on_time"},
    "contact": {"contact": "on_time"},
    "contact_late": {"contact": "late"},
    "contact_none": {"contact": "none"},
    "cb_satisfied": {"callback": "satisfied"},
    "cb_basic": {"callback": "basically_satisfied"},
    "cb_dissatisfied": {"callback": "dissatisfied"},
    "cb_not_reached": {"callback": "not_reached"},
    "repeats": {"repeat": "1"},
}
DOCUMENT_LISTS = {"notices": "orders:notices", "letters": "orders:letters"}


def figure_link(snapshot: dict[str, Any], unit_id: int | None, key: str) -> str:
    """The URL of the orders (or notices, letters) a figure of the bulletin counts; "" when
    none can be given (the satisfaction rate mixes two outcomes; the notice pages may not be
    installed)."""
    week = snapshot["week"]
    if key in ORDER_FILTERS:
        params = {"received_from": week["from"], "received_to": week["to"]}
        if unit_id is not None:
            params["unit"] = str(unit_id)
        params.update(ORDER_FILTERS[key])
        return reverse("orders:list") + "?" + urlencode(params)
    if key in DOCUMENT_LISTS:
        try:
            base = reverse(DOCUMENT_LISTS[key])
        except NoReverseMatch:
            return ""
        params = {"issued_from": week["from"], "issued_to": week["to"]}
        if unit_id is not None:
            params = {"unit": str(unit_id), **params}
        return base + "?" + urlencode(params)
    return ""


# The table's columns: (key, heading, whether it is a rate)
COLUMNS: list[tuple[str, str, bool]] = [
    ("received", "受理", False),
    ("invalid", "无效", False),
    ("closed", "办结", False),
    ("completion", "办结率", True),
    ("closed_on_time", "按时办结", False),
    ("on_time", "按时办结率", True),
    ("contact_on_time", "及时联系", False),
    ("contact", "及时联系率", True),
    ("cb_satisfied", "满意", False),
    ("cb_basic", "基本满意", False),
    ("cb_dissatisfied", "不满意", False),
    ("satisfaction", "满意率", True),
    ("repeats", "重复投诉", False),
    ("notices", "督办单", False),
    ("letters", "提醒函", False),
]


def _fraction(row: dict[str, Any], key: str) -> str:
    reached = row["cb_satisfied"] + row["cb_basic"] + row["cb_dissatisfied"]
    return {
        "completion": f"办结 {row['closed']} ÷（受理 {row['received']} − 无效 {row['invalid']}）",
        "on_time": f"按时办结 {row['closed_on_time']} ÷ 办结 {row['closed']}",
        "contact": f"及时联系 {row['contact_on_time']} ÷ 有联系时限 {row['contact_due']}",
        "satisfaction": f"（满意 {row['cb_satisfied']} + 基本满意 {row['cb_basic']} × 权重）"
                        f"÷ 回访联系上 {reached}",
    }[key]


def linkable_units(user: Any, snapshot: dict[str, Any]) -> set[int | None]:
    """The rows (unit ids, None for the total) whose orders the order list would show this
    user: the bureau-wide roles see every unit's, a unit's people their own (elsewhere the list
    answers 404, so no link is offered)."""
    ids = [u["unit"]["id"] for u in snapshot["units"]]
    if getattr(user, "is_superuser", False) or access.has_role(user, *access.ORDER_WIDE_ROLES):
        return {None, *ids}
    return {u.pk for u in Unit.objects.filter(pk__in=ids) if access.can_see_unit(user, u)}


def table_rows(user: Any, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the bulletin's table, each cell with its text, link and fraction."""
    rows = []
    linkable = linkable_units(user, snapshot)
    floors = {k: Decimal(snapshot["floors"][k]) for k in ("satisfaction", "on_time", "contact")}
    for row in [*snapshot["units"], snapshot["total"]]:
        unit_id = row["unit"]["id"] if row["unit"] else None
        linked = unit_id in linkable
        cells = []
        for key, _heading, is_rate in COLUMNS:
            low = False
            if is_rate:
                value = row["rates"][key]
                text, title = format_rate(value), _fraction(row, key)
                low = (key in floors and value is not None and row.get("judged", True)
                       and Decimal(str(value)) < floors[key])
            else:
                text, title = format_count(row[key]), ""
            cells.append({"key": key, "text": text, "title": title, "rate": is_rate, "low": low,
                          "url": figure_link(snapshot, unit_id, key) if linked else ""})
        rows.append({"name": row["unit"]["name"] if row["unit"] else "全局合计",
                     "unit_id": unit_id, "is_total": row["unit"] is None,
                     "list": row.get("list", ""), "judged": row.get("judged", True),
                     "cells": cells})
    return rows


def chart_data(user: Any, snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the page's charts draw: rates and volumes per unit, the floors, and where a click
    on a unit's bar leads."""
    units = snapshot["units"]
    linkable = linkable_units(user, snapshot)
    return {
        "units": [u["unit"]["name"] for u in units],
        "satisfaction": [u["rates"]["satisfaction"] for u in units],
        "on_time": [u["rates"]["on_time"] for u in units],
        "contact": [u["rates"]["contact"] for u in units],
        "received": [u["received"] for u in units],
        "closed": [u["closed"] for u in units],
        "floors": {k: float(v) for k, v in snapshot["floors"].items()
                   if k in ("satisfaction", "on_time", "contact")},
        "links": {key: [figure_link(snapshot, u["unit"]["id"], key)
                        if u["unit"]["id"] in linkable else "" for u in units]
                  for key in ("received", "closed", "on_time", "contact", "cb_dissatisfied")},
    }


def headline_links(user: Any, snapshot: dict[str, Any]) -> list[list[dict[str, str]]]:
    """The headline's sentences, each figure with the link to the orders it counts."""
    week = IsoWeek(snapshot["week"]["year"], snapshot["week"]["week"])
    linked = None in linkable_units(user, snapshot)
    return [[{"text": text, "key": key,
              "url": figure_link(snapshot, None, key) if key and linked else ""}
             for text, key in sentence]
            for sentence in headline_segments(snapshot["total"], week)]
