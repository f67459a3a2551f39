"""Working-time arithmetic: pure functions on a frozen schedule, no database.

A schedule says, for each weekday, the slots in which people work (office hours: 08:30–12:00 and
14:00–17:30), and for the years whose State Council notice has been entered, which dates are
off (holidays) and which weekend dates are on (make-up working days, 调休). Deadlines of work
orders are "start + N working hours" on such a schedule.

Times are wall-clock times in Asia/Shanghai. A slot's end of 00:00 means 24:00 (the end of the
day), because `datetime.time` cannot say 24:00 and the 24×7 calendar needs whole days.

A year whose holidays are not known falls back to the plain weekly slots (Monday–Friday for the
office calendar) instead of raising: a late notice must not stop the command centre from
dispatching orders. `WorkSchedule.missing_years` tells which years were guessed so that the
caller can warn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

Slot = tuple[time, time]
# Offsets from midnight, so that 24:00 can be said.
_Span = tuple[timedelta, timedelta]

# A walk that finds no working time for this long has a schedule that never works (every day
# overridden off, say); stop rather than loop for ever.
_MAX_IDLE_DAYS = 3660


def _offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second,
        microseconds=value.microsecond,
    )


def slot_spans(slots: Iterable[Slot]) -> tuple[_Span, ...]:
    """Slots as (start, end) offsets from midnight, sorted; end 00:00 is read as 24:00.

    Raises ValueError for a slot that does not start before it ends or that overlaps another.
    """
    spans = []
    for start, end in slots:
        begin = _offset(start)
        finish = ONE_DAY if end == time(0) else _offset(end)
        if begin >= finish:
            raise ValueError(f"working slot {start:%H:%M}–{end:%H:%M} ends before it starts")
        spans.append((begin, finish))
    spans.sort()
    for (_, previous_end), (next_start, _) in pairwise(spans):
        if next_start < previous_end:
            raise ValueError("working slots overlap")
    return tuple(spans)


def _total(spans: Iterable[_Span]) -> timedelta:
    return sum((end - start for start, end in spans), ZERO)


@dataclass(frozen=True)
class WorkSchedule:
    """When people work.

    `weekly` holds seven tuples of slots, Monday first. `overrides` maps a date to True (a
    make-up working day, worked with the slots of a normal working day) or False (a day off);
    it is only consulted for `known_years`. A schedule that does not observe holidays (24×7)
    ignores both.
    """

    weekly: tuple[tuple[Slot, ...], ...]
    observes_holidays: bool = True
    overrides: Mapping[date, bool] = field(default_factory=dict, hash=False)
    known_years: frozenset[int] = frozenset()
    code: str = ""
    tz: ZoneInfo = SHANGHAI
    _spans: tuple[tuple[_Span, ...], ...] = field(init=False, repr=False, compare=False)
    _makeup: tuple[_Span, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Lists given by a caller become tuples, so that a schedule can be a cache key.
        weekly = tuple(tuple((start, end) for start, end in day) for day in self.weekly)
        if len(weekly) != 7:
            raise ValueError("a schedule needs the slots of all seven weekdays")
        spans = tuple(slot_spans(day) for day in weekly)
        if not any(spans):
            raise ValueError("a schedule needs at least one working slot")
        # A make-up day is worked like a Monday; a calendar without Monday hours takes the first
        # weekday that has some.
        makeup = next(day for day in spans if day)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "_spans", spans)
        object.__setattr__(self, "_makeup", makeup)
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        object.__setattr__(self, "known_years", frozenset(self.known_years))

    @property
    def working_day(self) -> timedelta:
        """The length of one working day: what "1d" means (7h at the office, 24h for 24×7)."""
        return _total(self._makeup)

    def spans_on(self, day: date) -> tuple[_Span, ...]:
        """The working spans of one date, as offsets from its midnight."""
        weekly = self._spans[day.weekday()]
        if not self.observes_holidays or day.year not in self.known_years:
            return weekly
        override = self.overrides.get(day)
        if override is None:
            return weekly
        if override:
            return weekly or self._makeup
        return ()

    def slots_on(self, day: date) -> tuple[Slot, ...]:
        """The working slots of one date as wall-clock times (24:00 shown as 00:00)."""
        return tuple(
            (_as_time(start), _as_time(end)) for start, end in self.spans_on(day)
        )

    def is_working_day(self, day: date) -> bool:
        return bool(self.spans_on(day))

    def working_time_on(self, day: date) -> timedelta:
        return _total(self.spans_on(day))

    def missing_years(self, start: date | datetime, end: date | datetime) -> list[int]:
        """The years from start to end whose holidays are unknown, so were taken as plain weeks."""
        if not self.observes_holidays:
            return []
        first, last = _local_date(start, self.tz), _local_date(end, self.tz)
        if last < first:
            first, last = last, first
        return [y for y in range(first.year, last.year + 1) if y not in self.known_years]


def _as_time(offset: timedelta) -> time:
    if offset >= ONE_DAY:
        return time(0)
    return (datetime.min + offset).time()


def _local_date(value: date | datetime, tz: ZoneInfo) -> date:
    if isinstance(value, datetime):
        return _local(value, tz).date() if value.tzinfo is not None else value.date()
    return value


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(tz)


def _at(day: date, offset: timedelta, tz: ZoneInfo) -> datetime:
    # Wall-clock arithmetic; Asia/Shanghai has had no daylight saving time since 1991.
    return datetime.combine(day, time(0), tzinfo=tz) + offset


def _since_midnight(moment: datetime) -> timedelta:
    return _offset(moment.timetz().replace(tzinfo=None))


def add_working_time(schedule: WorkSchedule, start: datetime, duration: timedelta) -> datetime:
    """The moment when `duration` of working time has passed after `start`.

    A start outside working time counts from the next slot's start. When the time runs out
    exactly at a slot's end the result is that end (12:00, not 14:00). Zero duration returns
    `start`. The result is aware, in the schedule's time zone.
    """
    local = _local(start, schedule.tz)
    if duration < ZERO:
        raise ValueError(f"negative duration {duration}")
    if duration == ZERO:
        return local
    remaining = duration
    day = local.date()
    position = _since_midnight(local)
    idle_days = 0
    try:
        while True:
            spans = schedule.spans_on(day)
            if position == ZERO:
                # Whole days are skipped without walking their slots.
                length = _total(spans)
                if length < remaining:
                    remaining -= length
                    idle_days = 0 if length else idle_days + 1
                    if idle_days > _MAX_IDLE_DAYS:
                        raise ValueError("the schedule has no working time ahead")
                    day += ONE_DAY
                    continue
            for span_start, span_end in spans:
                if span_end <= position:
                    continue
                begin = max(span_start, position)
                available = span_end - begin
                if remaining <= available:
                    return _at(day, begin + remaining, schedule.tz)
                remaining -= available
            day += ONE_DAY
            position = ZERO
    except OverflowError:
        raise ValueError(f"duration {duration} runs past the end of the calendar") from None


def working_time_between(schedule: WorkSchedule, start: datetime, end: datetime) -> timedelta:
    """The working time from `start` to `end`; zero when `end` is not after `start`."""
    first, last = _local(start, schedule.tz), _local(end, schedule.tz)
    if last <= first:
        return ZERO
    first_offset, last_offset = _since_midnight(first), _since_midnight(last)
    if first.date() == last.date():
        return _overlap(schedule.spans_on(first.date()), first_offset, last_offset)
    total = _overlap(schedule.spans_on(first.date()), first_offset, ONE_DAY)
    day = first.date() + ONE_DAY
    while day < last.date():
        total += schedule.working_time_on(day)
        day += ONE_DAY
    return total + _overlap(schedule.spans_on(last.date()), ZERO, last_offset)


def _overlap(spans: Iterable[_Span], begin: timedelta, end: timedelta) -> timedelta:
    total = ZERO
    for span_start, span_end in spans:
        low, high = max(span_start, begin), min(span_end, end)
        if high > low:
            total += high - low
    return total


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhm])", re.IGNORECASE | re.ASCII)
_DURATION_TEXT = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[dhm]\s*)+", re.IGNORECASE | re.ASCII)
_UNIT_SECONDS = {"h": Decimal(3600), "m": Decimal(60)}


def _duration_parts(text: str) -> list[tuple[Decimal, str]]:
    if not isinstance(text, str) or not _DURATION_TEXT.fullmatch(text):
        raise ValueError(
            f"无法识别的时长：{text!r}（应写作 0.5d、1d、3.5h、1h、30m 这样的数字加单位，"
            "d 为工作日，h 为小时，m 为分钟）"
        )
    try:
        return [(Decimal(number), unit.lower()) for number, unit in _DURATION_PART.findall(text)]
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise ValueError(f"无法识别的时长：{text!r}") from None


def check_duration_text(text: str) -> None:
    """Raise ValueError when `text` is not a duration, without needing a schedule."""
    _duration_parts(text)


def parse_duration(text: str, schedule: WorkSchedule) -> timedelta:
    """"0.5d", "1d", "3.5h", "30m" (or "1d2h") as working time; d is the schedule's working day."""
    day_seconds = Decimal(int(schedule.working_day.total_seconds()))
    total = Decimal(0)
    for number, unit in _duration_parts(text):
        total += number * (day_seconds if unit == "d" else _UNIT_SECONDS[unit])
    try:
        return timedelta(microseconds=int((total * 1_000_000).to_integral_value()))
    except OverflowError:
        raise ValueError(f"时长过长：{text!r}") from None


def weekly_slots(days: Mapping[int, Iterable[Slot]]) -> tuple[tuple[Slot, ...], ...]:
    """Seven tuples of slots from a mapping weekday (0 = Monday) -> slots."""
    return tuple(tuple(days.get(weekday, ())) for weekday in range(7))


OFFICE_SLOTS: tuple[Slot, ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
ALL_DAY_SLOTS: tuple[Slot, ...] = ((time(0), time(0)),)


def office_schedule(
    overrides: Mapping[date, bool] | None = None,
    known_years: Iterable[int] = (),
    code: str = "office",
) -> WorkSchedule:
    """Office hours, Monday to Friday, 08:30–12:00 and 14:00–17:30, observing holidays."""
    return WorkSchedule(
        weekly=weekly_slots(dict.fromkeys(range(5), OFFICE_SLOTS)),
        observes_holidays=True,
        overrides=overrides or {},
        known_years=frozenset(known_years),
        code=code,
    )


def round_the_clock_schedule(code: str = "24x7") -> WorkSchedule:
    """Every day 00:00–24:00, holidays included: clock time."""
    return WorkSchedule(
        weekly=weekly_slots(dict.fromkeys(range(7), ALL_DAY_SLOTS)),
        observes_holidays=False,
        code=code,
    )
