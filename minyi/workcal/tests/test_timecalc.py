"""Working-time arithmetic, pure: exact expected moments, no database.

The holidays come from the reference files in ../shared/data/holidays/ (see conftest). In 2026
Spring Festival is 02-15..02-23 off with 02-14 (Sat) and 02-28 (Sat) worked; Mid-Autumn is
09-25..09-27 off, National Day 10-01..10-07 off, with 09-20 (Sun) and 10-10 (Sat) worked.
"""

from __future__ import annotations

import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from minyi.workcal.timecalc import (
    SHANGHAI,
    WorkSchedule,
    add_working_time,
    check_duration_text,
    office_schedule,
    parse_duration,
    round_the_clock_schedule,
    weekly_slots,
    working_time_between,
)

H = timedelta(hours=1)


def at(text: str) -> datetime:
    """A Beijing wall-clock time: at("2026-09-30 16:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def iso(moment: datetime) -> str:
    return moment.isoformat()


# --- the reference files themselves -----------------------------------------------------------

def test_reference_schedule_has_the_2026_notice(json_schedule):
    s = json_schedule
    assert not s.is_working_day(date(2026, 2, 16))  # 春节, a Monday off
    assert s.is_working_day(date(2026, 2, 14))  # Saturday worked
    assert s.is_working_day(date(2026, 2, 28))
    assert not s.is_working_day(date(2026, 9, 25))  # 中秋, a Friday off
    assert s.is_working_day(date(2026, 9, 20))  # Sunday worked
    assert not s.is_working_day(date(2026, 10, 7))
    assert s.is_working_day(date(2026, 10, 8))
    assert s.is_working_day(date(2026, 10, 10))
    assert not s.is_working_day(date(2026, 10, 11))  # an ordinary Sunday


def test_makeup_day_is_worked_with_monday_slots(json_schedule):
    assert json_schedule.slots_on(date(2026, 2, 14)) == json_schedule.slots_on(date(2026, 3, 2))
    assert json_schedule.working_time_on(date(2026, 10, 10)) == 7 * H


# --- Spring Festival 2026 ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # Friday before: 1.5h on Friday, the rest on the make-up Saturday.
        ("2026-02-13 16:00", 7 * H, "2026-02-14T16:00:00+08:00"),
        # From the make-up Saturday, across the nine days off, to Tuesday 24th.
        ("2026-02-14 16:00", 7 * H, "2026-02-24T16:00:00+08:00"),
        ("2026-02-13 09:00", 21 * H, "2026-02-25T09:00:00+08:00"),
        # Started inside the holiday: counts from the first morning after it.
        ("2026-02-17 10:00", 1 * H, "2026-02-24T09:30:00+08:00"),
        # The second make-up Saturday, 28th.
        ("2026-02-27 17:00", 3.5 * H, "2026-02-28T11:30:00+08:00"),
        ("2026-02-27 17:00", 7.5 * H, "2026-02-28T17:30:00+08:00"),
        ("2026-02-27 17:00", 8 * H, "2026-03-02T09:00:00+08:00"),
    ],
)
def test_spring_festival_2026(json_schedule, start, duration, expected):
    assert iso(add_working_time(json_schedule, at(start), duration)) == expected


def test_working_time_between_across_spring_festival(json_schedule):
    # Friday 0.5h + make-up Saturday 7h + Tuesday 0.5h.
    assert working_time_between(
        json_schedule, at("2026-02-13 17:00"), at("2026-02-24 09:00")
    ) == 8 * H
    assert working_time_between(
        json_schedule, at("2026-02-15 00:00"), at("2026-02-24 00:00")
    ) == timedelta(0)


# --- National Day 2026 ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # The example: 1.5h on 30 Sept, then 10-01..10-07 off, 5.5h on Thursday 8th.
        ("2026-09-30 16:00", 7 * H, "2026-10-08T16:00:00+08:00"),
        ("2026-09-30 16:00", 14 * H, "2026-10-09T16:00:00+08:00"),
        # ... and into the make-up Saturday 10th.
        ("2026-09-30 16:00", 21 * H, "2026-10-10T16:00:00+08:00"),
        ("2026-10-01 09:00", 1 * H, "2026-10-08T09:30:00+08:00"),
        # Mid-Autumn: Friday 25th to Sunday 27th off.
        ("2026-09-24 16:00", 7 * H, "2026-09-28T16:00:00+08:00"),
        # The make-up Sunday 20th.
        ("2026-09-18 17:00", 1 * H, "2026-09-20T09:00:00+08:00"),
    ],
)
def test_national_day_2026(json_schedule, start, duration, expected):
    assert iso(add_working_time(json_schedule, at(start), duration)) == expected


def test_working_time_between_across_national_day(json_schedule):
    assert working_time_between(
        json_schedule, at("2026-09-30 16:00"), at("2026-10-08 16:00")
    ) == 7 * H
    # The whole of October 2026: 22 weekdays minus 5 weekdays off, plus the make-up Saturday.
    assert working_time_between(
        json_schedule, at("2026-10-01 00:00"), at("2026-11-01 00:00")
    ) == 18 * 7 * H


def test_2024_and_2025_national_day(json_schedule):
    # 2024: 10-01..10-07 off, Saturday 10-12 worked.
    assert iso(add_working_time(json_schedule, at("2024-09-30 17:00"), 1 * H)) == (
        "2024-10-08T09:00:00+08:00"
    )
    # 2025: 10-01..10-08 off, Saturday 10-11 worked.
    assert iso(add_working_time(json_schedule, at("2025-09-30 17:00"), 1 * H)) == (
        "2025-10-09T09:00:00+08:00"
    )
    assert iso(add_working_time(json_schedule, at("2025-10-10 17:00"), 1 * H)) == (
        "2025-10-11T09:00:00+08:00"
    )


# --- slot boundaries and starts outside working time --------------------------------------------

@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        ("2026-03-02 08:30", 3.5 * H, "2026-03-02T12:00:00+08:00"),  # 12:00, not 14:00
        ("2026-03-02 10:00", 2 * H, "2026-03-02T12:00:00+08:00"),
        ("2026-03-02 14:00", 3.5 * H, "2026-03-02T17:30:00+08:00"),  # 17:30, not next morning
        ("2026-03-02 08:30", 7 * H, "2026-03-02T17:30:00+08:00"),
        ("2026-03-02 11:00", 1 * H + timedelta(minutes=1), "2026-03-02T14:01:00+08:00"),
        ("2026-03-02 12:00", 1 * H, "2026-03-02T15:00:00+08:00"),  # lunch
        ("2026-03-02 12:30", timedelta(minutes=30), "2026-03-02T14:30:00+08:00"),
        ("2026-03-02 07:00", 1 * H, "2026-03-02T09:30:00+08:00"),  # before work
        ("2026-03-02 17:30", 1 * H, "2026-03-03T09:30:00+08:00"),  # at the end of the day
        ("2026-03-02 20:00", timedelta(minutes=30), "2026-03-03T09:00:00+08:00"),
        ("2026-03-07 10:00", 1 * H, "2026-03-09T09:30:00+08:00"),  # a Saturday
        ("2026-03-06 17:00", 7 * H, "2026-03-09T17:00:00+08:00"),  # over a weekend
    ],
)
def test_slot_boundaries(json_schedule, start, duration, expected):
    assert iso(add_working_time(json_schedule, at(start), duration)) == expected


def test_zero_duration_returns_start_even_outside_working_time(json_schedule):
    start = at("2026-03-07 10:00")
    assert add_working_time(json_schedule, start, timedelta(0)) == start


def test_input_in_another_zone_gives_result_in_shanghai(json_schedule):
    start = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)  # 16:00 in Beijing
    result = add_working_time(json_schedule, start, 7 * H)
    assert iso(result) == "2026-10-08T16:00:00+08:00"
    assert result.tzinfo == SHANGHAI
    ny = datetime(2026, 3, 1, 19, 30, tzinfo=ZoneInfo("America/New_York"))  # 08:30 on 2 March
    assert iso(add_working_time(json_schedule, ny, 1 * H)) == "2026-03-02T09:30:00+08:00"


def test_naive_datetime_is_refused(json_schedule):
    with pytest.raises(ValueError):
        add_working_time(json_schedule, datetime(2026, 3, 2, 9, 0), H)
    with pytest.raises(ValueError):
        working_time_between(json_schedule, datetime(2026, 3, 2, 9, 0), at("2026-03-03 09:00"))


def test_negative_duration_is_refused(json_schedule):
    with pytest.raises(ValueError):
        add_working_time(json_schedule, at("2026-03-02 09:00"), -H)


# --- 24x7 ---------------------------------------------------------------------------------------

def test_round_the_clock_ignores_holidays_and_weekends():
    s = round_the_clock_schedule()
    assert s.working_day == 24 * H
    assert iso(add_working_time(s, at("2026-09-30 16:00"), 24 * H)) == "2026-10-01T16:00:00+08:00"
    assert iso(add_working_time(s, at("2026-09-30 16:00"), 1 * H)) == "2026-09-30T17:00:00+08:00"
    assert iso(add_working_time(s, at("2026-02-14 23:30"), 12 * H)) == "2026-02-15T11:30:00+08:00"
    # Midnight is where one day's slot ends and the next begins.
    assert iso(add_working_time(s, at("2026-10-01 00:00"), 24 * H)) == "2026-10-02T00:00:00+08:00"
    assert working_time_between(s, at("2026-10-01 00:00"), at("2026-10-08 00:00")) == 7 * 24 * H
    assert s.missing_years(date(2030, 1, 1), date(2031, 1, 1)) == []


# --- a year whose holidays are not entered --------------------------------------------------------

def test_fallback_year_counts_monday_to_friday_without_raising(json_schedule):
    # 1 January 2027 is a Friday; without the 2027 notice it counts as a working day.
    result = add_working_time(json_schedule, at("2026-12-31 16:00"), 14 * H)
    assert iso(result) == "2027-01-04T16:00:00+08:00"
    assert json_schedule.missing_years(at("2026-12-31 16:00"), result) == [2027]
    assert json_schedule.missing_years(date(2026, 1, 1), date(2026, 12, 31)) == []
    assert json_schedule.missing_years(date(2023, 6, 1), date(2028, 1, 1)) == [2023, 2027, 2028]
    # Weekends stay off in a fallback year.
    assert iso(add_working_time(json_schedule, at("2027-02-12 17:00"), H)) == (
        "2027-02-15T09:00:00+08:00"
    )
    assert working_time_between(
        json_schedule, at("2027-01-04 00:00"), at("2027-01-11 00:00")
    ) == 5 * 7 * H


def test_overrides_of_an_unknown_year_are_ignored():
    # A stray date of a year not in known_years must not half-apply that year.
    s = office_schedule(overrides={date(2027, 1, 1): False}, known_years=[2026])
    assert s.is_working_day(date(2027, 1, 1))


# --- round trips and long spans ----------------------------------------------------------------

def test_working_time_between_round_trips_add_working_time(json_schedule):
    rng = random.Random(20260930)
    base = at("2024-01-01 00:00")
    for _ in range(400):
        start = base + timedelta(minutes=rng.randrange(0, 4 * 365 * 24 * 60))
        duration = timedelta(minutes=rng.randrange(0, 30 * 7 * 60))
        end = add_working_time(json_schedule, start, duration)
        assert end >= start
        assert working_time_between(json_schedule, start, end) == duration, (start, duration)


def test_working_time_between_is_zero_when_end_is_not_after_start(json_schedule):
    moment = at("2026-03-02 09:00")
    assert working_time_between(json_schedule, moment, moment) == timedelta(0)
    assert working_time_between(json_schedule, moment, moment - H) == timedelta(0)


def test_long_spans_are_fast(json_schedule):
    began = clock.perf_counter()
    result = add_working_time(json_schedule, at("2024-01-02 09:00"), 2000 * 7 * H)
    back = working_time_between(json_schedule, at("2024-01-02 09:00"), result)
    assert back == 2000 * 7 * H
    assert clock.perf_counter() - began < 1.0


def test_a_schedule_that_never_works_raises_instead_of_looping():
    always_off = {date(2026, 1, 1) + timedelta(days=n): False for n in range(4000)}
    s = office_schedule(overrides=always_off, known_years=range(2026, 2040))
    with pytest.raises(ValueError):
        add_working_time(s, at("2026-01-01 09:00"), H)


# --- schedules ------------------------------------------------------------------------------------

def test_schedule_validation():
    with pytest.raises(ValueError):
        WorkSchedule(weekly=weekly_slots({}))  # no working time at all
    with pytest.raises(ValueError):
        WorkSchedule(weekly=weekly_slots({0: [(time(9), time(8))]}))
    with pytest.raises(ValueError):
        WorkSchedule(weekly=weekly_slots({0: [(time(9), time(12)), (time(11), time(13))]}))
    with pytest.raises(ValueError):
        WorkSchedule(weekly=((),) * 6)


def test_makeup_day_without_monday_slots_takes_the_first_working_weekday():
    s = WorkSchedule(
        weekly=weekly_slots({2: [(time(9), time(11))]}),
        overrides={date(2026, 3, 7): True},
        known_years=frozenset({2026}),
    )
    assert s.working_time_on(date(2026, 3, 7)) == 2 * H
    assert s.working_day == 2 * H


# --- durations ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "office", "clock_time"),
    [
        ("0.5d", 3.5 * H, 12 * H),
        ("1d", 7 * H, 24 * H),
        ("2d", 14 * H, 48 * H),
        ("3.5h", 3.5 * H, 3.5 * H),
        ("1h", H, H),
        ("30m", timedelta(minutes=30), timedelta(minutes=30)),
        ("1D", 7 * H, 24 * H),
        (" 1d 2h ", 9 * H, 26 * H),
        ("1h30m", 1.5 * H, 1.5 * H),
        ("0h", timedelta(0), timedelta(0)),
    ],
)
def test_parse_duration(text, office, clock_time):
    assert parse_duration(text, office_schedule()) == office
    assert parse_duration(text, round_the_clock_schedule()) == clock_time


@pytest.mark.parametrize(
    "text", ["", "  ", "abc", "1", "d", "-1h", "1.d", ".5d", "1w", "1,5h", "１h", "1 day", "h1"]
)
def test_parse_duration_refuses_bad_text_naming_it(text):
    with pytest.raises(ValueError) as excinfo:
        parse_duration(text, office_schedule())
    assert repr(text) in str(excinfo.value)
    with pytest.raises(ValueError):
        check_duration_text(text)


def test_parse_duration_refuses_absurd_lengths():
    with pytest.raises(ValueError):
        parse_duration("99999999999999d", office_schedule())


def test_schedules_are_hashable_and_comparable(json_schedule):
    listed = WorkSchedule(weekly=[[(time(9), time(12))]] * 5 + [[], []])
    assert hash(listed) == hash(WorkSchedule(weekly=weekly_slots({d: [(time(9), time(12))]
                                                                  for d in range(5)})))
    assert json_schedule == office_schedule(
        overrides=dict(json_schedule.overrides), known_years=json_schedule.known_years
    )
