"""Entering a year's holidays: all or nothing, one audit event, a signal after commit."""

from __future__ import annotations

from datetime import date

import pytest

from minyi.core.errors import InvalidInput
from minyi.core.models import Event
from minyi.orgs.models import User
from minyi.workcal.actions import enter_holiday_year
from minyi.workcal.holidays import DayEntry
from minyi.workcal.models import HolidayDay, HolidayYear
from minyi.workcal.signals import holidays_changed

pytestmark = pytest.mark.django_db

DAYS_2027 = [
    DayEntry(date(2027, 1, 1), True, "元旦"),
    DayEntry(date(2027, 2, 6), True, "春节"),
    DayEntry(date(2027, 2, 7), True, "春节"),
    DayEntry(date(2027, 2, 14), False, "春节"),
]


@pytest.fixture
def admin_user():
    return User.objects.create_user("wangjun", password="x", full_name="王军")


@pytest.fixture
def received():
    calls = []

    def receiver(sender, years, **kwargs):
        calls.append(years)

    holidays_changed.connect(receiver)
    yield calls
    holidays_changed.disconnect(receiver)


def test_enter_a_new_year(admin_user, received, django_capture_on_commit_callbacks):
    events_before = Event.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        year = enter_holiday_year(
            actor=admin_user, year=2027, days=DAYS_2027,
            source=HolidayYear.Source.NOTICE, notice="国办发明电〔2026〕X号",
        )
    assert (year.year, year.source, year.entered_by) == (2027, "notice", admin_user)
    assert list(year.days.values_list("date", "is_off_day", "name")) == [
        (d.date, d.is_off_day, d.name) for d in DAYS_2027
    ]
    events = list(Event.objects.order_by("id")[events_before:])
    assert len(events) == 1
    event = events[0]
    assert event.action == "workcal.enter_holiday_year"
    assert event.actor == admin_user
    assert event.object_type == "workcal.holidayyear"
    assert event.before is None
    assert event.after["off_day_count"] == 3
    assert event.after["makeup_day_count"] == 1
    assert event.after["makeup_days"] == ["2027-02-14"]
    assert received == [[2027]]


def test_replacing_a_year_records_before_and_after(admin_user, received,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enter_holiday_year(
            actor=admin_user, year=2026,
            days=[(date(2026, 10, 1), True, "国庆节"), (date(2026, 10, 10), False, "国庆节")],
            source=HolidayYear.Source.NOTICE,
        )
    assert list(HolidayDay.objects.filter(year__year=2026).values_list("date", flat=True)) == [
        date(2026, 10, 1), date(2026, 10, 10)
    ]
    event = Event.objects.order_by("-id").first()
    assert event.before["off_day_count"] == 33
    assert event.before["makeup_day_count"] == 6
    assert event.before["source"] == "package"
    assert event.after["off_days"] == ["2026-10-01"]
    assert received == [[2026]]


def test_no_signal_when_the_transaction_rolls_back(admin_user, received,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enter_holiday_year(actor=None, year=2027, days=DAYS_2027, source="file")
    assert len(callbacks) == 1
    assert received == []
    assert Event.objects.order_by("-id").first().actor_label == "系统"


@pytest.mark.parametrize(
    ("year", "days", "fragment"),
    [
        (2027, [*DAYS_2027, DayEntry(date(2028, 1, 1), True, "元旦")], "2028-01-01 不在 2027"),
        (2027, [*DAYS_2027, DAYS_2027[1]], "2027-02-06 重复"),
        (2027, [*DAYS_2027, DayEntry(date(2027, 2, 6), False, "春节")], "自相矛盾"),
        (2027, [*DAYS_2027, DayEntry(date(2027, 2, 10), False, "春节")], "周六或周日"),
        (2027, [], "没有任何"),
        ("next", DAYS_2027, "'next'"),
        (2027, [("2027-01-01", True, "元旦")], "格式有误"),
        # A bad replacement leaves the stored year as it was.
        (2026, [DayEntry(date(2027, 1, 1), True, "元旦")], "不在 2026"),
    ],
)
def test_bad_input_writes_nothing(admin_user, received, django_capture_on_commit_callbacks,
                                  year, days, fragment):
    counts = (Event.objects.count(), HolidayYear.objects.count(), HolidayDay.objects.count())
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidInput) as exc:
        enter_holiday_year(actor=admin_user, year=year, days=days, source="notice")
    assert fragment in str(exc.value)
    assert counts == (
        Event.objects.count(), HolidayYear.objects.count(), HolidayDay.objects.count()
    )
    assert HolidayYear.objects.get(year=2026).source == "package"
    assert received == []


def test_unknown_source_is_refused(admin_user):
    with pytest.raises(InvalidInput, match="'guess'"):
        enter_holiday_year(actor=admin_user, year=2027, days=DAYS_2027, source="guess")
