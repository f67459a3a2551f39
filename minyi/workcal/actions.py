"""Writes of the working calendar: entering a year's holidays."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from minyi.core.audit import record_event
from minyi.core.errors import InvalidInput
from minyi.workcal.holidays import (
    DayEntry,
    HolidayInputError,
    parse_holiday_file,
    parse_notice_lines,
    validate_days,
)
from minyi.workcal.models import HolidayDay, HolidayYear
from minyi.workcal.signals import holidays_changed

__all__ = [
    "DayEntry",
    "HolidayInputError",
    "enter_holiday_year",
    "parse_holiday_file",
    "parse_notice_lines",
]


def _summary(holiday_year: HolidayYear | None) -> dict[str, Any] | None:
    if holiday_year is None:
        return None
    days = list(holiday_year.days.order_by("date").values_list("date", "is_off_day"))
    off = [f"{d:%Y-%m-%d}" for d, is_off in days if is_off]
    on = [f"{d:%Y-%m-%d}" for d, is_off in days if not is_off]
    return {
        "year": holiday_year.year,
        "source": holiday_year.source,
        "notice": holiday_year.notice,
        "off_day_count": len(off),
        "makeup_day_count": len(on),
        "off_days": off,
        "makeup_days": on,
    }


def _entry(item: Any) -> DayEntry:
    if isinstance(item, DayEntry):
        return item
    return DayEntry(*item)


def enter_holiday_year(
    *,
    actor: Any,
    year: int,
    days: Iterable[DayEntry | tuple],
    source: str,
    notice: str = "",
) -> HolidayYear:
    """Replace the holidays of `year` with `days`, in one transaction with its audit event.

    `days` are DayEntry items or (date, is_off_day, name) tuples. Raises InvalidInput (a
    HolidayInputError listing every problem) and writes nothing when a date lies outside the
    year, appears twice or both off and on, when a make-up working day is not a weekend day, or
    when there are no days. After commit, `holidays_changed` is sent with `years=[year]` so that
    open orders' deadlines can be recomputed.
    """
    if source not in HolidayYear.Source.values:
        raise InvalidInput(f"未知的来源：{source!r}")
    try:
        entries = validate_days(year, [_entry(item) for item in days])
    except (AttributeError, TypeError, ValueError) as exc:
        raise HolidayInputError([f"节假日数据格式有误：{exc}"]) from None
    year = int(year)
    notice = (notice or "").strip()
    if len(notice) > 500:
        raise InvalidInput("通知文号过长（最多 500 字）")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    with transaction.atomic():
        holiday_year = HolidayYear.objects.select_for_update().filter(year=year).first()
        before = _summary(holiday_year)
        if holiday_year is None:
            holiday_year = HolidayYear(year=year)
        holiday_year.source = source
        holiday_year.notice = notice
        holiday_year.entered_by = actor
        holiday_year.save()
        holiday_year.days.all().delete()
        HolidayDay.objects.bulk_create(
            HolidayDay(year=holiday_year, date=e.date, is_off_day=e.is_off_day, name=e.name)
            for e in entries
        )
        after = _summary(holiday_year)
        record_event(
            actor=actor,
            obj=holiday_year,
            action="workcal.enter_holiday_year",
            before=before,
            after=after,
            payload={"source": source, "notice": notice},
        )
        transaction.on_commit(
            lambda: holidays_changed.send(sender=HolidayYear, years=[year])
        )
    return holiday_year
