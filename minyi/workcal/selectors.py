"""Reads of the working calendar: schedules built from the database, years to flag, deadlines."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from minyi.core.errors import InvalidInput
from minyi.workcal.holidays import DayEntry
from minyi.workcal.models import Calendar, HolidayDay, HolidayYear
from minyi.workcal.timecalc import (
    WorkSchedule,
    add_working_time,
    parse_duration,
    weekly_slots,
)

DEFAULT_CALENDAR = "office"


def calendar_choices() -> list[tuple[str, str]]:
    return list(Calendar.objects.values_list("code", "name"))


# Schedules built from the database, kept for a minute: a bulk dispatch computes hundreds of
# deadlines, each of which would otherwise load every holiday. Changes made in this process
# clear it at once (signals below); another process's change is seen within the minute, and
# `holidays_changed` recomputes the open orders' deadlines anyway.
_CACHE_SECONDS = 60
_schedules: dict[str, tuple[float, WorkSchedule]] = {}


def forget_schedules(**kwargs) -> None:
    _schedules.clear()


def schedule_for(code: str = DEFAULT_CALENDAR) -> WorkSchedule:
    """The pure schedule of the calendar `code`, with every entered holiday year.

    Raises InvalidInput naming the code when there is no such calendar.
    """
    cached = _schedules.get(code)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    schedule = _load_schedule(code)
    _schedules[code] = (time.monotonic() + _CACHE_SECONDS, schedule)
    return schedule


def _load_schedule(code: str) -> WorkSchedule:
    calendar = Calendar.objects.filter(code=code).prefetch_related("slots").first()
    if calendar is None:
        known = "、".join(Calendar.objects.values_list("code", flat=True)) or "无"
        raise InvalidInput(f"没有这个工作日历：{code!r}（可用的有：{known}）")
    days: dict[int, list] = {}
    for slot in calendar.slots.all():
        days.setdefault(slot.weekday, []).append((slot.start, slot.end))
    overrides: dict[date, bool] = {}
    known_years: frozenset[int] = frozenset()
    if calendar.observes_holidays:
        overrides = {
            day: not is_off_day
            for day, is_off_day in HolidayDay.objects.values_list("date", "is_off_day")
        }
        known_years = frozenset(HolidayYear.objects.values_list("year", flat=True))
    try:
        return WorkSchedule(
            weekly=weekly_slots(days),
            observes_holidays=calendar.observes_holidays,
            overrides=overrides,
            known_years=known_years,
            code=calendar.code,
        )
    except ValueError as exc:
        raise InvalidInput(f"工作日历 {code!r} 的工作时段有误：{exc}") from None


def missing_holiday_years(years: Iterable[int]) -> list[int]:
    """Those of `years` whose holidays have not been entered, ascending."""
    wanted = sorted(set(years))
    entered = set(HolidayYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return [year for year in wanted if year not in entered]


def years_to_flag(today: date | None = None) -> list[int]:
    """This year and next, where not entered: what the administrators' home page warns about.

    The State Council publishes next year's notice in the autumn; until someone enters it,
    deadlines running into that year are counted Monday–Friday.
    """
    today = today or timezone.localdate()
    return missing_holiday_years([today.year, today.year + 1])


@dataclass(frozen=True)
class Deadline:
    start: datetime
    duration: timedelta
    due: datetime
    calendar_code: str
    # Years counted as plain weeks because their holidays were not entered.
    missing_years: tuple[int, ...]


def deadline_details(
    start: datetime, duration: timedelta | str, calendar_code: str = DEFAULT_CALENDAR
) -> Deadline:
    """`start` plus `duration` of working time on the calendar, and which years were guessed."""
    schedule = schedule_for(calendar_code)
    if isinstance(duration, str):
        try:
            duration = parse_duration(duration, schedule)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    try:
        due = add_working_time(schedule, start, duration)
    except ValueError as exc:
        raise InvalidInput(f"无法计算时限：{exc}") from None
    return Deadline(
        start=start,
        duration=duration,
        due=due,
        calendar_code=schedule.code,
        missing_years=tuple(schedule.missing_years(start, due)),
    )


def deadline(
    start: datetime, duration: timedelta | str, calendar_code: str = DEFAULT_CALENDAR
) -> datetime:
    """`start` plus `duration` (a timedelta, or text like "1d") of working time."""
    return deadline_details(start, duration, calendar_code).due


def holiday_years() -> QuerySet[HolidayYear]:
    """Every entered year with its counts of days off and make-up working days."""
    return HolidayYear.objects.select_related("entered_by").annotate(
        off_days=Count("days", filter=Q(days__is_off_day=True)),
        makeup_days=Count("days", filter=Q(days__is_off_day=False)),
    ).order_by("-year")  # Meta.ordering does not apply to an aggregating query


def holiday_year(year: int) -> HolidayYear | None:
    return holiday_years().filter(year=year).first()


def day_entries(holiday_year: HolidayYear) -> list[DayEntry]:
    return [
        DayEntry(day.date, day.is_off_day, day.name)
        for day in holiday_year.days.order_by("date")
    ]


def years_overview(today: date | None = None) -> dict:
    """What the holiday-years page shows: the entered years, and the gaps to flag."""
    today = today or timezone.localdate()
    years = list(holiday_years())
    entered = {y.year for y in years}
    gaps: list[int] = []
    if entered:
        gaps = [y for y in range(min(entered), max(entered) + 1) if y not in entered]
    return {
        "years": years,
        "flagged": years_to_flag(today),
        "gaps": gaps,
        "today": today,
    }
