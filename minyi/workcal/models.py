"""Working calendars, their weekly slots, and the holiday years from State Council notices."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from minyi.core.models import TimeStampedModel
from minyi.workcal.timecalc import WEEKDAY_NAMES


class Calendar(TimeStampedModel):
    """A working calendar: office hours that observe holidays, or 24×7 clock time."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    observes_holidays = models.BooleanField(
        "执行法定节假日", default=True,
        help_text="不勾选则节假日、周末照常计时（如 24 小时日历）",
    )
    is_default = models.BooleanField("默认日历", default=False)

    class Meta:
        verbose_name = "工作日历"
        verbose_name_plural = "工作日历"
        ordering = ["-is_default", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True),
                name="workcal_calendar_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name


class WorkingSlot(TimeStampedModel):
    """One stretch of working time on one weekday, e.g. Monday 08:30–12:00."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, WEEKDAY_NAMES[0]
        TUESDAY = 1, WEEKDAY_NAMES[1]
        WEDNESDAY = 2, WEEKDAY_NAMES[2]
        THURSDAY = 3, WEEKDAY_NAMES[3]
        FRIDAY = 4, WEEKDAY_NAMES[4]
        SATURDAY = 5, WEEKDAY_NAMES[5]
        SUNDAY = 6, WEEKDAY_NAMES[6]

    calendar = models.ForeignKey(
        Calendar, verbose_name="工作日历", on_delete=models.CASCADE, related_name="slots"
    )
    weekday = models.PositiveSmallIntegerField("星期", choices=Weekday.choices)
    start = models.TimeField("开始时间")
    # time cannot say 24:00, so midnight as an end means the end of the day (24×7 calendar).
    end = models.TimeField("结束时间", help_text="00:00 表示当天 24:00")

    class Meta:
        verbose_name = "工作时段"
        verbose_name_plural = "工作时段"
        ordering = ["calendar", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end_label}"

    @property
    def end_label(self) -> str:
        return "24:00" if self.end == time(0) else f"{self.end:%H:%M}"

    def end_minutes(self) -> int:
        return 24 * 60 if self.end == time(0) else self.end.hour * 60 + self.end.minute

    def start_minutes(self) -> int:
        return self.start.hour * 60 + self.start.minute

    def clean(self) -> None:
        super().clean()
        if self.start is None or self.end is None:
            return
        if self.start_minutes() >= self.end_minutes():
            raise ValidationError({"end": "结束时间必须晚于开始时间"})
        if self.calendar_id is None:
            return
        others = WorkingSlot.objects.filter(calendar_id=self.calendar_id, weekday=self.weekday)
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        for other in others:
            if slots_overlap(self, other):
                raise ValidationError(f"与同一天的时段 {other} 重叠")


def slots_overlap(a: WorkingSlot, b: WorkingSlot) -> bool:
    return a.start_minutes() < b.end_minutes() and b.start_minutes() < a.end_minutes()


class HolidayYear(TimeStampedModel):
    """One year's holidays and make-up working days, as the State Council's notice set them.

    A year without a row is not known: working time in it falls back to Monday–Friday and the
    administrators are told to enter the notice.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", "chinese-calendar 软件包"
        NOTICE = "notice", "国务院通知（手工录入）"
        FILE = "file", "文件导入"

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    notice = models.CharField(
        "通知文号", max_length=500, blank=True, help_text="如 国办发明电〔2025〕7号"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = "节假日年度"
        verbose_name_plural = "节假日年度"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年"


class HolidayDay(TimeStampedModel):
    """A date that is off (holiday) or, on a weekend, on (make-up working day, 调休)."""

    year = models.ForeignKey(
        HolidayYear, verbose_name="年度", on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField("日期", unique=True)
    is_off_day = models.BooleanField("放假", help_text="勾选为放假；不勾选为调休上班")
    name = models.CharField("节日", max_length=50, blank=True)

    class Meta:
        verbose_name = "节假日"
        verbose_name_plural = "节假日"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name} {self.kind_label}"

    @property
    def kind_label(self) -> str:
        return "休" if self.is_off_day else "班"

    @property
    def weekday_label(self) -> str:
        return WEEKDAY_NAMES[self.date.weekday()]

    def clean(self) -> None:
        super().clean()
        if self.date is None or self.year_id is None:
            return
        if self.date.year != self.year.year:
            raise ValidationError({"date": f"日期 {self.date:%Y-%m-%d} 不在 {self.year.year} 年内"})
        if self.is_off_day is False and self.date.weekday() < 5:
            raise ValidationError(
                {"is_off_day": f"调休上班日 {self.date:%Y-%m-%d} 应为周六或周日"}
            )
