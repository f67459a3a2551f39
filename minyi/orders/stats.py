"""Volumes, completion and timeliness of orders: `minyi orders stats`.

Counted by the database (one aggregate query, one more per grouping), never by loading orders,
so that the figures of a million orders come back in about a second. Every answer names the
definitions (口径) and their version, as DESIGN.md asks of every published figure.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from minyi.orders.models import Order
from minyi.orders.rules import CLOCK_STATES, OPEN_STATES, State
from minyi.orgs.models import Unit

VERSION = "orders.stats/2"
DEFINITIONS = {
    "selection": "接单时间（received_at，按北京时间日期）在起止日期内（含两端）的工单；"
                 "指定公安局时为该局的工单",
    "received": "所选工单数",
    "closed": "状态为已办结的工单数",
    "closed_on_time": "已办结，且办理完成时间（handled_at）不晚于办理时限（handling_due_at）；"
                      "没有办理时限的（如无目标时限的历史工单）无从超时，算按时",
    "closed_late": "已办结，且办理完成时间晚于办理时限",
    "closed_no_verdict": "已办结，但缺少办理完成时间，无法判定是否按时"
                         "（closed = closed_on_time + closed_late + closed_no_verdict）",
    "open": "未办结、未作废的工单数（已接单、已转办、已签收、已上报、已审核、已反馈、退单待定）",
    "overdue": "未办结且仍在承办单位手中计时（已转办、已签收），当前时间已超过办理时限"
               "（now > handling_due_at）；已上报的工单计时已停止，不算超时",
    "invalid": "标记为无效的工单数",
    "groups": "按承办单位（lead_unit）或渠道分组；未指定承办单位的工单归入「未指定」",
}
GROUPINGS = {"unit": "lead_unit", "channel": "channel"}


def aggregates(now: datetime) -> dict[str, Any]:
    """The counts of `DEFINITIONS` as aggregate expressions (also the weekly bulletin's)."""
    closed = Q(state=State.CLOSED)
    return {
        "received": Count("id"),
        "closed": Count("id", filter=closed),
        "closed_on_time": Count("id", filter=closed & Q(handled_at__isnull=False) & (
            Q(handled_at__lte=F("handling_due_at")) | Q(handling_due_at__isnull=True))),
        "closed_late": Count("id", filter=closed & Q(handled_at__gt=F("handling_due_at"))),
        "open": Count("id", filter=Q(state__in=OPEN_STATES)),
        "overdue": Count("id", filter=Q(state__in=CLOCK_STATES, handling_due_at__lt=now)),
        "invalid": Count("id", filter=Q(state=State.INVALID)),
    }


def _finish(counts: dict[str, Any]) -> dict[str, int]:
    row = {key: int(counts.get(key) or 0) for key in
           ("received", "closed", "closed_on_time", "closed_late", "open", "overdue",
            "invalid")}
    row["closed_no_verdict"] = row["closed"] - row["closed_on_time"] - row["closed_late"]
    return row


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def selection(*, bureau: Unit | None = None, date_from: date | None = None,
              date_to: date | None = None) -> QuerySet[Order]:
    orders = Order.objects.all()
    if bureau is not None:
        orders = orders.filter(bureau=bureau)
    if date_from is not None:
        orders = orders.filter(received_at__gte=_day_start(date_from))
    if date_to is not None:
        orders = orders.filter(received_at__lt=_day_start(date_to + timedelta(days=1)))
    return orders


def order_stats(*, bureau: Unit | None = None, date_from: date | None = None,
                date_to: date | None = None, by: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """The figures of the selection under "total", and per group under "groups" with `by`."""
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    now = now or timezone.now()
    orders = selection(bureau=bureau, date_from=date_from, date_to=date_to).order_by()
    counts = aggregates(now)
    answer: dict[str, Any] = {
        "version": VERSION,
        "computed_at": timezone.localtime(now).isoformat(timespec="seconds"),
        "selection": {
            "bureau": bureau.code if bureau else None,
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
            "by": by,
        },
        "definitions": DEFINITIONS,
        "total": _finish(orders.aggregate(**counts)),
    }
    if by is not None:
        column = GROUPINGS[by]
        rows = list(orders.values(column).annotate(**counts).order_by(column))
        names = _group_names(by, {row[column] for row in rows if row[column] is not None})
        groups = []
        for row in rows:
            key = row[column]
            code, name = names.get(key, ("", "未指定"))
            groups.append({by: {"id": key, "code": code, "name": name}, **_finish(row)})
        groups.sort(key=lambda g: (-g["received"], g[by]["name"]))
        answer["groups"] = groups
    return answer


def _group_names(by: str, ids: set[int]) -> dict[int, tuple[str, str]]:
    if by == "unit":
        return {pk: (code, name) for pk, code, name in
                Unit.objects.filter(pk__in=ids).values_list("pk", "code", "name")}
    from minyi.intake.models import Channel

    return {pk: (code, name) for pk, code, name in
            Channel.objects.filter(pk__in=ids).values_list("pk", "code", "name")}
