"""`minyi workcal due ...` and `minyi workcal import-year FILE.json`.

Bad input ends with a one-line Chinese message naming the value and exit code 2, having
written nothing. The cheap checks (the start, the duration's syntax) come before any database
access, so that a typo is reported even where the database is not reachable.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.core.errors import InvalidInput
from minyi.workcal import selectors
from minyi.workcal.actions import enter_holiday_year, parse_holiday_file
from minyi.workcal.models import HolidayYear
from minyi.workcal.timecalc import check_duration_text

BAD_INPUT = 2
VALUE_OPTIONS = ("--start", "--duration", "--calendar")


def bad_input(message: str) -> CommandError:
    # One line, whatever the message collected.
    return CommandError(" ".join(message.split()), returncode=BAD_INPUT)


def parse_start(text: str) -> datetime:
    """An ISO-8601 moment with its offset; a moment without one is ambiguous, so refused."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise bad_input(
            f"开始时间格式不对：{text!r}（应为 ISO-8601，如 2026-09-30T16:00+08:00）"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise bad_input(f"开始时间缺少时区偏移：{text!r}（应写明偏移，如 2026-09-30T16:00+08:00）")
    return moment


class OneLineParser(CommandParser):
    """argparse's errors as one line and exit code 2, like every other bad input here."""

    def error(self, message: str) -> NoReturn:
        text = f"命令参数有误：{message}（用法见 {self.prog} --help）"
        if self.called_from_command_line:
            self.exit(BAD_INPUT, f"{self.prog}: {text}\n")
        raise bad_input(text)


class Command(BaseCommand):
    help = "工作日历：计算办理时限（due），导入节假日文件（import-year）。"

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds the top parser itself; swapping its class is the one way to change how
        # it reports a missing subcommand.
        parser.__class__ = OneLineParser
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        # "--duration -1h" would read to argparse as a missing value followed by an unknown
        # option; glued as "--duration=-1h" the value reaches the check that names it.
        glued: list[str] = []
        index = 0
        while index < len(argv):
            arg = argv[index]
            if arg in VALUE_OPTIONS and index + 1 < len(argv) and argv[index + 1][:1] == "-":
                glued.append(f"{arg}={argv[index + 1]}")
                index += 2
                continue
            glued.append(arg)
            index += 1
        super().run_from_argv(glued)

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(
            dest="subcommand", required=True, title="子命令", metavar="{due,import-year}",
            parser_class=OneLineParser,
        )
        due = subcommands.add_parser(
            "due", help="开始时间加上工作时长，打印截止时间（ISO-8601，带 +08:00）"
        )
        due.add_argument("--start", required=True, help="开始时间，如 2026-09-30T16:00+08:00")
        due.add_argument(
            "--duration", required=True,
            help="工作时长：0.5d、1d、3.5h、1h、30m（d 为该日历的一个工作日）",
        )
        due.add_argument(
            "--calendar", default=selectors.DEFAULT_CALENDAR,
            help="日历代码：office（默认）或 24x7",
        )
        import_year = subcommands.add_parser(
            "import-year", help="导入 holiday-cn 格式的节假日文件（替换该年已有数据）"
        )
        import_year.add_argument("file", help="如 2027.json")

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = options["subcommand"]
        if subcommand == "due":
            self.due(options["start"], options["duration"], options["calendar"])
        elif subcommand == "import-year":
            self.import_year(options["file"])
        else:  # pragma: no cover - argparse admits only the choices above
            raise bad_input(f"未知的子命令：{subcommand!r}")

    def due(self, start_text: str, duration_text: str, calendar_code: str) -> None:
        start = parse_start(start_text)
        try:
            check_duration_text(duration_text)
        except ValueError as exc:
            raise bad_input(str(exc)) from None
        try:
            result = selectors.deadline_details(start, duration_text, calendar_code)
        except InvalidInput as exc:
            raise bad_input(str(exc)) from None
        if result.missing_years:
            years = "、".join(str(y) for y in result.missing_years)
            self.stderr.write(
                f"警告：{years} 年的节假日尚未录入，按周一至周五计算；"
                "请管理员录入国务院放假通知。"
            )
        self.stdout.write(result.due.isoformat())

    def import_year(self, file_name: str) -> None:
        path = Path(file_name)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise bad_input(f"找不到文件：{file_name}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise bad_input(f"无法读取文件 {file_name}：{exc}") from None
        try:
            year, days, notice = parse_holiday_file(text)
            replaced = HolidayYear.objects.filter(year=year).first()
            replaced_count = replaced.days.count() if replaced else 0
            enter_holiday_year(
                actor=None, year=year, days=days, source=HolidayYear.Source.FILE, notice=notice
            )
        except InvalidInput as exc:
            raise bad_input(f"{file_name}：{exc}") from None
        off = sum(1 for d in days if d.is_off_day)
        summary = f"已导入 {year} 年节假日：放假 {off} 天，调休上班 {len(days) - off} 天"
        if replaced is not None:
            summary += f"（替换原有 {replaced_count} 天）"
        self.stdout.write(summary)
