"""The office and 24×7 calendars, and the holidays of 2004–2026 from the chinese-calendar package.

Idempotent: what exists is left as it is. The migration runs it with the historical models;
`minyi load_demo` runs it again so that a database whose seed rows were removed is whole again.
Years after the package (2027 on) are entered by an administrator from the State Council notice.
"""

from datetime import time

from django.apps import apps as global_apps

from minyi.workcal.timecalc import OFFICE_SLOTS

# The package's English names; the users read Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
FIRST_YEAR = 2004


def seed(apps=global_apps, schema_editor=None) -> None:
    Calendar = apps.get_model("workcal", "Calendar")
    WorkingSlot = apps.get_model("workcal", "WorkingSlot")
    HolidayYear = apps.get_model("workcal", "HolidayYear")
    HolidayDay = apps.get_model("workcal", "HolidayDay")

    office, created = Calendar.objects.get_or_create(
        code="office",
        defaults={"name": "机关工作时间", "observes_holidays": True, "is_default": True},
    )
    if created:
        WorkingSlot.objects.bulk_create(
            WorkingSlot(calendar=office, weekday=weekday, start=start, end=end)
            for weekday in range(5)
            for start, end in OFFICE_SLOTS
        )
    clock, created = Calendar.objects.get_or_create(
        code="24x7",
        defaults={"name": "24小时（全天候）", "observes_holidays": False, "is_default": False},
    )
    if created:
        # An end of 00:00 is the end of the day (24:00).
        WorkingSlot.objects.bulk_create(
            WorkingSlot(calendar=clock, weekday=weekday, start=time(0), end=time(0))
            for weekday in range(7)
        )

    from chinese_calendar import constants

    by_year = {}
    for day, name in constants.holidays.items():
        by_year.setdefault(day.year, []).append((day, True, name))
    for day, name in constants.workdays.items():
        by_year.setdefault(day.year, []).append((day, False, name))
    for year in sorted(by_year):
        if year < FIRST_YEAR or HolidayYear.objects.filter(year=year).exists():
            continue
        holiday_year = HolidayYear.objects.create(year=year, source="package")
        HolidayDay.objects.bulk_create(
            HolidayDay(
                year=holiday_year,
                date=day,
                is_off_day=is_off_day,
                name=HOLIDAY_NAMES.get(name, name)[:50],
            )
            for day, is_off_day, name in sorted(by_year[year])
        )


def unseed(apps=global_apps, schema_editor=None) -> None:
    apps.get_model("workcal", "HolidayYear").objects.filter(source="package").delete()
    apps.get_model("workcal", "Calendar").objects.filter(code__in=["office", "24x7"]).delete()
