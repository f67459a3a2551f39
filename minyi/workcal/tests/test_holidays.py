"""Reading holiday files and notice lines, and checking a year's days: pure, no database."""

from __future__ import annotations

import json
from datetime import date

import pytest

from minyi.core.errors import InvalidInput
from minyi.workcal.holidays import (
    DayEntry,
    HolidayInputError,
    format_notice_lines,
    parse_holiday_file,
    parse_notice_lines,
    read_notice,
    validate_days,
)


def holiday_file(year=2027, days=None, **extra) -> str:
    data = {"year": year, "papers": ["国办发明电〔2026〕X号"], **extra}
    if days is not None:
        data["days"] = days
    return json.dumps(data, ensure_ascii=False)


GOOD_2027 = [
    {"name": "元旦", "date": "2027-01-01", "isOffDay": True},
    {"name": "春节", "date": "2027-02-06", "isOffDay": True},
    {"name": "春节", "date": "2027-02-14", "isOffDay": False},  # a Sunday
]


def test_reads_a_good_file():
    year, days, notice = parse_holiday_file(holiday_file(days=GOOD_2027))
    assert year == 2027
    assert [(d.date, d.is_off_day, d.name) for d in days] == [
        (date(2027, 1, 1), True, "元旦"),
        (date(2027, 2, 6), True, "春节"),
        (date(2027, 2, 14), False, "春节"),
    ]
    assert notice == "国办发明电〔2026〕X号"


def test_reads_the_reference_files(reference_file):
    for year in (2024, 2025, 2026):
        parsed_year, days, notice = parse_holiday_file(
            reference_file(year).read_text(encoding="utf-8")
        )
        assert parsed_year == year
        assert notice.startswith("https://www.gov.cn/")
    assert len(days) == 39
    assert sum(1 for d in days if not d.is_off_day) == 6


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "JSON"),
        ("[]", "JSON 对象"),
        (json.dumps({"days": []}), "'year'"),
        (json.dumps({"year": 2027}), "'days'"),
        (holiday_file(year="二〇二七", days=GOOD_2027), "二〇二七"),
        (holiday_file(year=1899, days=GOOD_2027), "1899"),
        (holiday_file(days={"a": 1}), "列表"),
        (holiday_file(days=["2027-01-01"]), "第1项"),
        (holiday_file(days=[{"date": "2027-01-01"}]), "'isOffDay'"),
        (holiday_file(days=[{"date": "2027-02-30", "isOffDay": True}]), "2027-02-30"),
        (holiday_file(days=[{"date": "2027-01-01", "isOffDay": "yes"}]), "isOffDay"),
        (holiday_file(days=[]), "没有任何"),
        # The checks of validate_days apply to files too.
        (holiday_file(days=[{"date": "2026-12-31", "isOffDay": True}]), "2026-12-31 不在 2027"),
        (holiday_file(days=[*GOOD_2027, GOOD_2027[0]]), "重复"),
        (
            holiday_file(days=[*GOOD_2027, {"date": "2027-01-01", "isOffDay": False}]),
            "自相矛盾",
        ),
        (holiday_file(days=[{"date": "2027-02-10", "isOffDay": False}]), "周六或周日"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(text, fragment):
    with pytest.raises(HolidayInputError) as excinfo:
        parse_holiday_file(text)
    assert isinstance(excinfo.value, InvalidInput)
    assert fragment in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_every_problem_is_reported_at_once():
    days = [
        {"date": "2026-12-31", "isOffDay": True},
        {"date": "2027-02-10", "isOffDay": False},
        {"date": "2027-01-01", "isOffDay": True},
        {"date": "2027-01-01", "isOffDay": True},
    ]
    with pytest.raises(HolidayInputError) as excinfo:
        parse_holiday_file(holiday_file(days=days))
    assert len(excinfo.value.problems) == 3
    assert "days 第1项" in excinfo.value.problems[0]
    assert "days 第4项" in excinfo.value.problems[2]


def test_notice_lines():
    text = """
    # 国办发明电〔2026〕X号
    2027-02-06~2027-02-13 春节 休
    2027-02-14 春节 班
    2027/1/1 元旦 休
    2027-05-01 ～ 2027-05-03 劳动节 放假
    """
    entries = parse_notice_lines(text)
    off = [e.date for e in entries if e.is_off_day]
    assert len(off) == 8 + 1 + 3
    assert [e for e in entries if not e.is_off_day] == [
        DayEntry(date(2027, 2, 14), False, "春节", "第4行")
    ]
    assert validate_days(2027, entries)[0].date == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("2027-02-06 春节", "末尾应为「休」或「班」"),
        ("2027-02-06", "看不懂"),
        ("春节 2027-02-06 休", "看不懂"),
        ("2027-02-30 春节 休", "日期无效"),
        ("2027-02-13~2027-02-06 春节 休", "结束日期早于开始日期"),
        ("2027-01-01~2027-03-01 春节 休", "超过"),
        ("2027-02-06x 春节 休", "看不懂"),
    ],
)
def test_bad_notice_lines_name_the_line(line, fragment):
    with pytest.raises(HolidayInputError) as excinfo:
        parse_notice_lines(f"2027-01-01 元旦 休\n{line}")
    assert excinfo.value.problems[0].startswith(f"第2行「{line}」")
    assert fragment in excinfo.value.problems[0]


def test_validation_of_typed_lines_names_the_line():
    entries = parse_notice_lines("2027-01-01 元旦 休\n2027-01-01 元旦 班\n2028-01-01 元旦 休")
    with pytest.raises(HolidayInputError) as excinfo:
        validate_days(2027, entries)
    assert excinfo.value.problems == [
        "第2行：日期 2027-01-01 自相矛盾：既是放假又是上班（第1行）",
        "第3行：日期 2028-01-01 不在 2027 年内",
    ]


def test_read_notice_reports_every_problem_in_line_order():
    text = "2027-01-01 元旦 休\n2027-02-10 春节 班\n2027-02-30 春节 休\n2026-12-31 元旦 休"
    with pytest.raises(HolidayInputError) as excinfo:
        read_notice(2027, text)
    assert [p[:3] for p in excinfo.value.problems] == ["第2行", "第3行", "第4行"]
    assert len(read_notice(2027, "2027-01-01~2027-01-03 元旦 休")) == 3


def test_format_notice_lines_round_trips(reference_file):
    _, days, _ = parse_holiday_file(reference_file(2026).read_text(encoding="utf-8"))
    text = format_notice_lines(days)
    assert "2026-02-15~2026-02-23 春节 休" in text.splitlines()
    assert "2026-02-14 春节 班" in text.splitlines()
    again = validate_days(2026, parse_notice_lines(text))
    assert [(d.date, d.is_off_day, d.name) for d in again] == [
        (d.date, d.is_off_day, d.name) for d in days
    ]
