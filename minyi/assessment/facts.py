"""The maintained monthly figures (MonthlyFigures): one bureau-month recounted from the records
by the database, one GROUP BY per source table, and kept so that the dashboard and the monthly
scores never rescan the orders.

The order counts are the weekly bulletin's (COUNTS), with the same selection (`orders.stats`:
month of an order = month of its receiving date, Beijing time), the same aggregates and the
same roll-up onto the units a bulletin names; `count_period` is that counting for any span of
days, so that a month's figures and a week's bulletin agree by construction. Added here: what
the indicators need beyond the bulletin (returns, redos, rectifications, callback calls).
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from minyi.assessment import bulletins
from minyi.assessment.models import MonthlyFigures
from minyi.assessment.rules import COUNTS
from minyi.callbacks.models import CallbackTask, Rectification
from minyi.orders import stats
from minyi.orders.models import ReminderLetter, SupervisionNotice
from minyi.orders.rules import State as OrderState
from minyi.orgs.models import Unit

VERSION = "assessment.facts/1"

# Beyond the bulletin's COUNTS: what the indicators count (return, redo, rectification on time,
# callback response rate). Orders' ones come from the same GROUP BY as the bulletin's.
ORDER_EXTRA = ("returned", "redone", "closed_redone")
RECTIFICATION_KEYS = ("rect_due", "rect_on_time")
CALLBACK_KEYS = ("cb_tasks_closed", "cb_tasks_answered")
COUNT_KEYS: tuple[str, ...] = (*COUNTS, *ORDER_EXTRA, *RECTIFICATION_KEYS, *CALLBACK_KEYS)

DEFINITIONS = {
    "selection": "工单按接单时间（北京时间）所在月份计入该月，与每周通报、工单统计"
                 f"（{stats.VERSION}）的日期口径相同；其余各项见下",
    "returned": "退单：所选工单中申请过退单的件数（退单次数大于 0）",
    "redone": "重办：所选工单中被重办过的件数（重办次数大于 0）",
    "closed_redone": "办结后曾重办：所选工单中已办结且被重办过的件数（解决率的扣除项）",
    "rect_due": "整改到期：整改期限在该月内的整改事项数（按整改单位）",
    "rect_on_time": "按期整改：其中整改情况在期限前上报的件数（以最后一次上报时间为准）",
    "cb_tasks_closed": "回访结束：该月完成或结束（未获回答）的常规回访任务数（按被评价单位）",
    "cb_tasks_answered": "回访获答：其中获得回答的件数",
    "notices_unanswered": "逾期未答复督办单：截至统计时已过答复期限仍未答复的督办单（不限下发月）",
}


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return month.replace(day=monthrange(month.year, month.month)[1])


def previous_month(month: date) -> date:
    return month_start(month_start(month) - timedelta(days=1))


def _blank() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


def _order_aggregates(now: datetime) -> dict[str, Any]:
    """The bulletin's aggregates (those of `orders stats` and its own), and ours."""
    return {**stats.aggregates(now), **bulletins._extra_aggregates(),
            "returned": Count("id", filter=Q(return_count__gt=0)),
            "redone": Count("id", filter=Q(redo_count__gt=0)),
            "closed_redone": Count("id", filter=Q(state=OrderState.CLOSED, redo_count__gt=0))}


def _roll_up(rows: list[tuple[int | None, dict[str, int]]], paths: dict[int, str],
             tops: dict[int, str]) -> dict[int, dict[str, int]]:
    """As `bulletins._roll_up`, over every key of COUNT_KEYS (its own knows COUNTS only)."""
    sums: dict[int, dict[str, int]] = {}
    for unit_id, counts in rows:
        path = paths.get(unit_id or 0, "")
        top = next((pk for pk, top_path in tops.items() if path.startswith(top_path)), None)
        if top is None:
            continue
        target = sums.setdefault(top, _blank())
        for key, value in counts.items():
            target[key] += int(value or 0)
    return sums


def count_period(*, bureau: Unit, date_from: date, date_to: date,
                 now: datetime | None = None) -> dict[int, dict[str, int]]:
    """The counts of COUNT_KEYS for the days date_from..date_to (inclusive) per unit the
    bulletin names, and for the whole bureau under `bureau.pk`; counted now."""
    now = now or timezone.now()
    start = stats._day_start(date_from)
    end = stats._day_start(date_to + timedelta(days=1))
    orders = stats.selection(bureau=bureau, date_from=date_from, date_to=date_to).order_by()
    aggregates = _order_aggregates(now)
    order_keys = [k for k in COUNT_KEYS if k in aggregates]
    # One GROUP BY; the bureau's total is the sum of its groups (undispatched ones included).
    per_unit = [(row["lead_unit_id"], {k: int(row[k] or 0) for k in order_keys})
                for row in orders.values("lead_unit_id").annotate(**aggregates)]

    in_period = Q(issued_at__gte=start, issued_at__lt=end)
    unanswered = Q(issued_at__lt=now, reply_due_at__lt=now) & (
        Q(replied_at__isnull=True) | Q(replied_at__gt=now))
    notices = (SupervisionNotice.objects.filter(bureau=bureau).filter(in_period | unanswered)
               .order_by().values("unit_id")
               .annotate(notices=Count("id", filter=in_period),
                         notices_unanswered=Count("id", filter=unanswered)))
    letters = (ReminderLetter.objects.filter(bureau=bureau).filter(in_period).order_by()
               .values("unit_id").annotate(letters=Count("id")))
    due = Q(due_at__gte=start, due_at__lt=end)
    rectifications = (Rectification.objects.filter(bureau=bureau).filter(due).order_by()
                      .values("unit_id")
                      .annotate(rect_due=Count("id"),
                                rect_on_time=Count("id", filter=Q(
                                    reported_at__isnull=False,
                                    reported_at__lte=F("due_at")))))
    finished = (CallbackTask.State.COMPLETED, CallbackTask.State.CLOSED)
    callbacks = (CallbackTask.objects.filter(bureau=bureau, kind=CallbackTask.Kind.CALLBACK,
                                             state__in=finished, closed_at__gte=start,
                                             closed_at__lt=end).order_by()
                 .values("unit_id")
                 .annotate(cb_tasks_closed=Count("id"),
                           cb_tasks_answered=Count("id", filter=Q(
                               state=CallbackTask.State.COMPLETED))))
    other_rows: list[tuple[int | None, dict[str, int]]] = []
    for qs, keys in ((notices, ("notices", "notices_unanswered")), (letters, ("letters",)),
                     (rectifications, RECTIFICATION_KEYS), (callbacks, CALLBACK_KEYS)):
        other_rows += [(row["unit_id"], {k: int(row[k] or 0) for k in keys}) for row in qs]

    total = _blank()
    for _unit_id, counts in per_unit + other_rows:
        for key, value in counts.items():
            total[key] += value

    unit_ids = {pk for pk, _ in per_unit + other_rows if pk}
    paths = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "path"))
    # A unit that led orders (or was sent a notice …) is named even if it is not a usual
    # handling unit, as in the bulletin.
    active_ids = {int(path[len(bureau.path):].split(".")[0]) for path in paths.values()
                  if path.startswith(bureau.path) and path != bureau.path}
    units = bulletins.bulletin_units(bureau, active_ids)
    sums = _roll_up(per_unit + other_rows, paths, {u.pk: u.path for u in units})
    result = {u.pk: sums.get(u.pk, _blank()) for u in units}
    result[bureau.pk] = total
    return result


def recount(*, bureau: Unit, month: date, now: datetime | None = None) -> int:
    """Recount one month of one bureau and upsert its rows (one per unit the bulletin names
    and one for the bureau); rows of units no longer named go. Returns the rows kept."""
    now = now or timezone.now()
    month = month_start(month)
    counts = count_period(bureau=bureau, date_from=month, date_to=month_end(month), now=now)
    rows = [MonthlyFigures(bureau=bureau, unit_id=unit_id, month=month, counts=values,
                           computed_at=now) for unit_id, values in counts.items()]
    with transaction.atomic():
        MonthlyFigures.objects.filter(bureau=bureau, month=month).exclude(
            unit_id__in=list(counts)).delete()
        MonthlyFigures.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["unit", "month"],
            update_fields=["bureau", "counts", "computed_at"])
    return len(rows)


def recount_recent(now: datetime | None = None) -> int:
    """The scheduled job: the current and the previous month of every bureau (late changes to
    last month's orders, such as callbacks, land in its figures). Returns the rows kept."""
    now = now or timezone.now()
    this_month = month_start(timezone.localdate(now))
    kept = 0
    for bureau in bulletins.bureaus():
        for month in (previous_month(this_month), this_month):
            kept += recount(bureau=bureau, month=month, now=now)
    return kept


def figures(bureau: Unit, months: list[date]) -> dict[tuple[int, date], dict[str, int]]:
    """The kept counts of the bureau's units (and of the bureau, under its own id) for the
    months; keys added since a row was counted read 0."""
    rows = (MonthlyFigures.objects.filter(bureau=bureau, month__in=[month_start(m)
                                                                     for m in months])
            .values_list("unit_id", "month", "counts"))
    return {(unit_id, month): {**_blank(), **counts} for unit_id, month, counts in rows}
