"""`minyi bulletin weekly --week 2026-W47 [--bureau CODE] --format docx|xlsx|json --out FILE`.

Writes the bureau's bulletin of the week: the one already generated (its figures as they were
frozen), or, when there is none yet, a new one generated now (numbered, with its event);
`--regenerate` counts the week again first. `--out -` writes json to standard output.

A bad week, bureau or format: exit status 2, one line on stderr naming the value, nothing
written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "每周通报：导出某一周的通报（docx、xlsx、json）"

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, title="subcommands")
        weekly = commands.add_parser("weekly", help="某一周（周一至周日）的每周通报")
        weekly.add_argument("--week", required=True, help="ISO 周，如 2026-W47")
        weekly.add_argument("--bureau", help="公安局（单位代码）；只有一个公安局时可省略")
        weekly.add_argument("--format", dest="fmt", default="docx",
                            help="docx（默认）、xlsx 或 json")
        weekly.add_argument("--out", required=True, help="输出文件；json 可用 - 表示标准输出")
        weekly.add_argument("--regenerate", action="store_true",
                            help="已生成的通报按最新数据重新生成（记入审计链）")

    def _fail(self, message: str) -> None:
        self.stderr.write(message.replace("\n", " "))
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        from minyi.assessment import bulletins
        from minyi.assessment.rules import WeekError, parse_week
        from minyi.core.errors import InvalidInput
        from minyi.intake.importing import BadInput
        from minyi.intake.importing.run import resolve_bureau

        fmt, out = options["fmt"], options["out"]
        try:
            week = parse_week(options["week"])
        except WeekError as exc:
            self._fail(f"{exc} ({exc.english})")
            return
        if fmt not in bulletins.CONTENT_TYPES:
            self._fail(f"不支持的格式「{fmt}」：应为 docx、xlsx 或 json "
                       f"(unknown format {fmt!r}: docx, xlsx or json)")
            return
        if out == "-" and fmt != "json":
            self._fail(f"{fmt} 文件不能写到标准输出，请用 --out 指定文件 "
                       f"(a {fmt} file cannot go to stdout)")
            return
        if out != "-" and not Path(out).resolve().parent.is_dir():
            self._fail(f"输出目录不存在：{Path(out).parent} (no such directory)")
            return
        try:
            bureau = resolve_bureau(options["bureau"])
        except BadInput as exc:
            self._fail(str(exc))
            return
        try:
            bulletin, created = bulletins.generate(actor=None, bureau=bureau, week=week)
            if options["regenerate"] and not created:
                bulletin = bulletins.regenerate(actor=None, bulletin=bulletin)
        except InvalidInput as exc:
            self._fail(str(exc))
            return
        data = bulletins.export(bulletin, fmt)
        if out == "-":
            self.stdout.write(data.decode("utf-8"))
            return
        Path(out).write_bytes(data)
        state = "新生成" if created else "已有"
        self.stderr.write(f"{bulletin.display_number}（{state}）{bulletin.title} → {out}")
