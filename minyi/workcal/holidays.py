"""Reading and checking a year's holidays: pure functions, no database.

Two ways in: a JSON file in the holiday-cn format (../shared/data/holidays/2026.json), and the
lines an administrator types from the State Council notice::

    2027-02-06~2027-02-13 春节 休
    2027-02-14 春节 班

Both produce `DayEntry` items, checked by `validate_days`, which reports every bad item at
once (each named by its line or position) so that the user fixes them in one go.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from minyi.core.errors import InvalidInput

MIN_YEAR, MAX_YEAR = 2000, 2100
# A holiday stretch longer than this is a typo (a wrong month, say), not a holiday.
MAX_RANGE_DAYS = 31
OFF_WORDS = frozenset({"休", "放假", "休息", "off"})
ON_WORDS = frozenset({"班", "上班", "调休上班", "on"})


class HolidayInputError(InvalidInput):
    """Bad holiday data; `problems` holds one Chinese sentence per bad item."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


@dataclass(frozen=True)
class DayEntry:
    date: date
    is_off_day: bool
    name: str = ""
    # Where the entry came from, for messages: "第3行", "第5项".
    where: str = ""

    @property
    def kind_label(self) -> str:
        return "休" if self.is_off_day else "班"


def _prefix(entry: DayEntry) -> str:
    return f"{entry.where}：" if entry.where else ""


def check_year(year: Any) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise HolidayInputError([f"年份无效：{year!r}"]) from None
    if isinstance(year, bool) or not MIN_YEAR <= value <= MAX_YEAR:
        raise HolidayInputError([f"年份无效：{year!r}（应在 {MIN_YEAR}–{MAX_YEAR} 之间）"])
    return value


def validate_days(year: Any, days: Iterable[DayEntry]) -> list[DayEntry]:
    """The entries sorted by date, or HolidayInputError listing every problem.

    Every date lies in `year`; no date twice; no date both off and on; a make-up working day
    falls on a Saturday or Sunday (a weekday is worked anyway); at least one date.
    """
    year = check_year(year)
    entries = list(days)
    problems: list[str] = []
    if not entries:
        problems.append(f"{year} 年没有任何节假日或调休日期")
    seen: dict[date, DayEntry] = {}
    for entry in entries:
        text = f"{entry.date:%Y-%m-%d}"
        if entry.date.year != year:
            problems.append(f"{_prefix(entry)}日期 {text} 不在 {year} 年内")
            continue
        earlier = seen.get(entry.date)
        if earlier is not None:
            where = f"（{earlier.where}）" if earlier.where else ""
            if earlier.is_off_day != entry.is_off_day:
                problems.append(
                    f"{_prefix(entry)}日期 {text} 自相矛盾：既是放假又是上班{where}"
                )
            else:
                problems.append(f"{_prefix(entry)}日期 {text} 重复{where}")
            continue
        seen[entry.date] = entry
        if not entry.is_off_day and entry.date.weekday() < 5:
            problems.append(
                f"{_prefix(entry)}调休上班日 {text} 是工作日，应为周六或周日"
            )
    if problems:
        raise HolidayInputError(problems)
    return sorted(entries, key=lambda e: e.date)


# --- holiday-cn JSON files ------------------------------------------------------------------

def parse_holiday_file(text: str) -> tuple[int, list[DayEntry], str]:
    """A holiday-cn file's year, its days (checked) and its notice (the papers' addresses)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise HolidayInputError([f"文件不是有效的 JSON：{exc}"]) from None
    if not isinstance(data, dict):
        raise HolidayInputError(["文件内容应为一个 JSON 对象"])
    problems: list[str] = []
    for key in ("year", "days"):
        if key not in data:
            problems.append(f"缺少字段 {key!r}")
    if problems:
        raise HolidayInputError(problems)
    year = check_year(data["year"])
    raw_days = data["days"]
    if not isinstance(raw_days, list):
        raise HolidayInputError(["字段 'days' 应为列表"])
    entries: list[DayEntry] = []
    for index, item in enumerate(raw_days, start=1):
        where = f"days 第{index}项"
        if not isinstance(item, dict):
            problems.append(f"{where}：应为 JSON 对象")
            continue
        missing = [k for k in ("date", "isOffDay") if k not in item]
        if missing:
            problems.append(f"{where}：缺少字段 {', '.join(repr(k) for k in missing)}")
            continue
        try:
            day = date.fromisoformat(str(item["date"]))
        except ValueError:
            problems.append(f"{where}：日期无效 {item['date']!r}")
            continue
        if not isinstance(item["isOffDay"], bool):
            problems.append(f"{where}：isOffDay 应为 true 或 false，而不是 {item['isOffDay']!r}")
            continue
        name = item.get("name") or ""
        entries.append(DayEntry(day, item["isOffDay"], str(name)[:50], where))
    if problems:
        raise HolidayInputError(problems)
    papers = data.get("papers") or []
    notice = " ".join(str(p) for p in papers) if isinstance(papers, list) else str(papers)
    return year, validate_days(year, entries), notice[:500]


# --- lines typed from a notice --------------------------------------------------------------

_DATE = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
_RANGE = re.compile(rf"{_DATE}(?:\s*[~～至]\s*{_DATE})?")


def _make_date(parts: tuple[str, ...]) -> date:
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def parse_notice_lines(text: str) -> list[DayEntry]:
    """Lines `2027-02-06~2027-02-13 春节 休` / `2027-02-14 春节 班` as day entries, unchecked
    against a year (see `validate_days`). Blank lines and lines starting with # are skipped.

    Raises HolidayInputError naming every line that cannot be read.
    """
    entries, problems = _read_lines(text)
    if problems:
        raise HolidayInputError(problems)
    return entries


def read_notice(year: Any, text: str) -> list[DayEntry]:
    """The checked days of `year` typed as notice lines.

    Raises HolidayInputError with every problem, unreadable lines and broken rules alike, in the
    order of the lines, so the administrator fixes them all in one go.
    """
    entries, problems = _read_lines(text)
    try:
        checked = validate_days(year, entries)
    except HolidayInputError as exc:
        problems = problems + exc.problems
    else:
        if not problems:
            return checked
    raise HolidayInputError(sorted(problems, key=_line_number))


def _line_number(problem: str) -> int:
    match = re.match(r"第(\d+)行", problem)
    return int(match.group(1)) if match else 0


def _read_lines(text: str) -> tuple[list[DayEntry], list[str]]:
    entries: list[DayEntry] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"第{number}行"
        match = _RANGE.match(line)
        rest = line[match.end():] if match else ""
        tokens = rest.split()
        if match is None or not tokens or not rest[0].isspace():
            problems.append(
                f"{where}「{line}」看不懂：应写作「2027-02-06~2027-02-13 春节 休」"
                "或「2027-02-14 春节 班」"
            )
            continue
        kind = tokens[-1]
        if kind not in OFF_WORDS | ON_WORDS:
            problems.append(f"{where}「{line}」：末尾应为「休」或「班」，而不是「{kind}」")
            continue
        name = " ".join(tokens[:-1])[:50]
        groups = match.groups()
        try:
            first = _make_date(groups[:3])
            last = _make_date(groups[3:]) if groups[3] else first
        except ValueError:
            problems.append(f"{where}「{line}」：日期无效")
            continue
        if last < first:
            problems.append(f"{where}「{line}」：结束日期早于开始日期")
            continue
        if (last - first).days >= MAX_RANGE_DAYS:
            problems.append(f"{where}「{line}」：日期范围超过 {MAX_RANGE_DAYS} 天")
            continue
        day = first
        while day <= last:
            entries.append(DayEntry(day, kind in OFF_WORDS, name, where))
            day += timedelta(days=1)
    return entries, problems


def format_notice_lines(days: Iterable[DayEntry]) -> str:
    """The inverse of `parse_notice_lines`: runs of consecutive days with the same name and kind
    on one line, so an entered year can be shown and edited in the form it was typed."""
    lines: list[str] = []
    run: list[DayEntry] = []

    def flush() -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        span = f"{first.date:%Y-%m-%d}" if first is last else (
            f"{first.date:%Y-%m-%d}~{last.date:%Y-%m-%d}"
        )
        lines.append(" ".join(p for p in (span, first.name, first.kind_label) if p))

    for entry in sorted(days, key=lambda e: e.date):
        if run and (
            entry.date - run[-1].date == timedelta(days=1)
            and entry.name == run[-1].name
            and entry.is_off_day == run[-1].is_off_day
        ):
            run.append(entry)
            continue
        flush()
        run = [entry]
    flush()
    return "\n".join(lines)
