from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from minyi.workcal.holidays import (
    MAX_YEAR,
    MIN_YEAR,
    HolidayInputError,
    read_notice,
)
from minyi.workcal.models import HolidayYear
from minyi.workcal.timecalc import check_duration_text

LINES_HELP = (
    "每行一段：日期或日期范围、节日名称、「休」或「班」。例如："
    "「2027-02-06~2027-02-13 春节 休」「2027-02-14 春节 班」。"
    "放假期间的周末也要列入；以 # 开头的行不计。"
)


class HolidayNoticeForm(forms.Form):
    """A year's holidays as typed from the State Council's notice."""

    year = forms.IntegerField(label="年份", min_value=MIN_YEAR, max_value=MAX_YEAR)
    notice = forms.CharField(
        label="通知文号", max_length=500, help_text="如 国办发明电〔2025〕7号"
    )
    lines = forms.CharField(
        label="放假与调休日期",
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text=LINES_HELP,
    )
    replace = forms.BooleanField(
        label="替换该年已录入的节假日", required=False,
        help_text="该年已有数据时须勾选，保存后原有日期全部换成上面的内容。",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        year, text = cleaned.get("year"), cleaned.get("lines")
        if year is not None and text:
            try:
                cleaned["days"] = read_notice(year, text)
            except HolidayInputError as exc:
                for problem in exc.problems:
                    self.add_error("lines", problem)
        if year is not None and not cleaned.get("replace"):
            existing = HolidayYear.objects.filter(year=year).first()
            if existing is not None:
                self.add_error(
                    "replace",
                    f"{year} 年已录入（来源：{existing.get_source_display()}，"
                    f"共 {existing.days.count()} 天），确认替换请勾选此项。",
                )
        return cleaned


class CalculatorForm(forms.Form):
    start = forms.DateTimeField(
        label="开始时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="北京时间",
    )
    duration = forms.CharField(
        label="办理时长", max_length=40,
        help_text="如 0.5d、1d、3.5h、1h、30m；d 为该日历的一个工作日（机关 7 小时）",
    )
    calendar = forms.ChoiceField(label="日历")

    def __init__(self, *args: Any, calendars: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["calendar"].choices = calendars
        if not self.is_bound:
            self.initial.setdefault("start", timezone.localtime().replace(second=0, microsecond=0))

    def clean_duration(self) -> str:
        text = self.cleaned_data["duration"].strip()
        try:
            check_duration_text(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return text
