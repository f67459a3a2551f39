"""The seeded calendars and holidays, and schedules built from the database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from minyi.core.errors import InvalidInput
from minyi.workcal import selectors
from minyi.workcal.models import Calendar, HolidayDay, HolidayYear, WorkingSlot
from minyi.workcal.tests.conftest import REFERENCE_YEARS, reference_days
from minyi.workcal.timecalc import SHANGHAI

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_calendars_are_seeded():
    office = Calendar.objects.get(code="office")
    assert office.is_default and office.observes_holidays
    assert [(s.weekday, s.start, s.end) for s in office.slots.all()] == [
        (weekday, start, end)
        for weekday in range(5)
        for start, end in [(time(8, 30), time(12)), (time(14), time(17, 30))]
    ]
    clock = Calendar.objects.get(code="24x7")
    assert not clock.observes_holidays and not clock.is_default
    assert [(s.weekday, s.start, s.end) for s in clock.slots.all()] == [
        (weekday, time(0), time(0)) for weekday in range(7)
    ]


def test_years_2004_to_2026_are_seeded_from_the_package():
    years = set(
        HolidayYear.objects.filter(source=HolidayYear.Source.PACKAGE).values_list("year", flat=True)
    )
    assert set(range(2004, 2027)) <= years
    assert HolidayDay.objects.get(date=date(2026, 2, 17)).name == "春节"


@pytest.mark.parametrize("year", REFERENCE_YEARS)
def test_seeded_days_agree_with_the_reference_files(year):
    expected = reference_days(year)
    stored = dict(
        HolidayDay.objects.filter(year__year=year).values_list("date", "is_off_day")
    )
    assert stored == expected


def test_schedule_from_the_database_agrees_with_the_reference_files(json_schedule):
    schedule = selectors.schedule_for("office")
    day = date(2024, 1, 1)
    while day <= date(2026, 12, 31):
        assert schedule.slots_on(day) == json_schedule.slots_on(day), day
        day += timedelta(days=1)
    assert selectors.deadline(at("2026-09-30 16:00"), "1d").isoformat() == (
        "2026-10-08T16:00:00+08:00"
    )
    assert selectors.deadline(at("2026-02-13 16:00"), timedelta(hours=7)).isoformat() == (
        "2026-02-14T16:00:00+08:00"
    )


def test_round_the_clock_from_the_database():
    schedule = selectors.schedule_for("24x7")
    assert schedule.working_day == 24 * H
    assert selectors.deadline(at("2026-09-30 16:00"), "1d", "24x7").isoformat() == (
        "2026-10-01T16:00:00+08:00"
    )


def test_unknown_calendar_is_named():
    with pytest.raises(InvalidInput, match="'nope'"):
        selectors.schedule_for("nope")


def test_deadline_details_reports_fallback_years():
    result = selectors.deadline_details(at("2026-12-31 16:00"), "2d")
    assert result.due.isoformat() == "2027-01-04T16:00:00+08:00"
    assert result.missing_years == (2027,)
    assert selectors.deadline_details(at("2026-03-02 09:00"), "1h").missing_years == ()
    with pytest.raises(InvalidInput, match="'2x'"):
        selectors.deadline_details(at("2026-03-02 09:00"), "2x")


def test_years_to_flag():
    assert selectors.years_to_flag(date(2026, 11, 22)) == [2027]
    assert selectors.years_to_flag(date(2025, 5, 1)) == []
    assert selectors.years_to_flag(date(2027, 3, 1)) == [2027, 2028]
    assert selectors.missing_holiday_years([2030, 2026, 2030, 2003]) == [2003, 2030]
    HolidayYear.objects.create(year=2027, source=HolidayYear.Source.NOTICE)
    assert selectors.years_to_flag(date(2026, 11, 22)) == []


def test_years_overview_counts_days():
    overview = selectors.years_overview(today=date(2026, 11, 22))
    by_year = {y.year: y for y in overview["years"]}
    assert (by_year[2026].off_days, by_year[2026].makeup_days) == (33, 6)
    assert overview["flagged"] == [2027]
    assert overview["gaps"] == []


def test_working_slot_validation():
    office = Calendar.objects.get(code="office")
    with pytest.raises(ValidationError):
        WorkingSlot(calendar=office, weekday=5, start=time(12), end=time(9)).full_clean()
    with pytest.raises(ValidationError):
        WorkingSlot(calendar=office, weekday=0, start=time(11), end=time(13)).full_clean()
    WorkingSlot(calendar=office, weekday=5, start=time(9), end=time(12)).full_clean()
    WorkingSlot(calendar=office, weekday=0, start=time(18), end=time(0)).full_clean()


def test_holiday_day_validation():
    year = HolidayYear.objects.create(year=2027, source=HolidayYear.Source.NOTICE)
    with pytest.raises(ValidationError):
        HolidayDay(year=year, date=date(2028, 1, 1), is_off_day=True).full_clean()
    with pytest.raises(ValidationError):
        HolidayDay(year=year, date=date(2027, 2, 10), is_off_day=False).full_clean()
    HolidayDay(year=year, date=date(2027, 2, 14), is_off_day=False, name="春节").full_clean()


def test_a_broken_calendar_is_reported_not_crashed():
    empty = Calendar.objects.create(code="empty", name="空")
    with pytest.raises(InvalidInput, match="'empty'"):
        selectors.schedule_for(empty.code)
