"""`minyi orders import FILE ...` and `minyi orders stats ...`.

import: prints exactly one JSON line, {"created": N, "existing": N, "bad": N}; bad rows are
listed on stderr (line and reason). Exit status 0 when the import was kept, 1 when bad rows
stopped an all-or-nothing import, 2 (with one line of Chinese on stderr, nothing written) when
the file, preset, mapping or bureau cannot be used.

stats: prints one JSON document, see `minyi.orders.stats`.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"日期应写作 2015-01-31，而不是 {text!r}") from None


class Command(BaseCommand):
    help = "工单：批量导入（import）与统计（stats）"

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True,
                                         title="subcommands")
        imp = commands.add_parser("import", help="从 xlsx / csv（可为 .gz）导入工单")
        imp.add_argument("file", help="xlsx 或 csv 文件，可为 gzip 压缩")
        how = imp.add_mutually_exclusive_group()
        how.add_argument("--preset", help="预设格式：standard、boston311")
        how.add_argument("--mapping", help="列对应文件（YAML 或 JSON）")
        imp.add_argument("--bureau", help="导入到哪个公安局（单位代码）；只有一个公安局时可省略")
        imp.add_argument("--skip-bad", action="store_true",
                         help="跳过错误行，导入其余行（默认：有错误行则全部不导入）")
        imp.add_argument("--errors", help="把错误行（原列 + 错误原因）写入此 xlsx 文件")

        stats = commands.add_parser("stats", help="工单数量、办结、按时办结与超时统计（JSON）")
        stats.add_argument("--from", dest="date_from", type=_date, help="接单日期起（含）")
        stats.add_argument("--to", dest="date_to", type=_date, help="接单日期止（含）")
        stats.add_argument("--by", choices=["unit", "channel"], help="分组：承办单位或渠道")
        stats.add_argument("--bureau", help="公安局（单位代码）；省略时统计全部")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "import":
            self._import(options)
        else:
            self._stats(options)

    def _fail(self, message: str, status: int = 2) -> None:
        self.stderr.write(message.replace("\n", " "))
        sys.exit(status)

    def _import(self, options: dict[str, Any]) -> None:
        from minyi.intake.importing import BadInput, load_mapping_file, plan_import
        from minyi.intake.importing.run import execute, file_sha256
        from minyi.intake.models import ImportBatch

        preset, mapping_file = options["preset"], options["mapping"]
        try:
            mapping = load_mapping_file(mapping_file) if mapping_file else None
            if preset is None and mapping is None:
                raise BadInput("请用 --preset 指定预设格式，或用 --mapping 给出列对应文件")
            plan = plan_import(options["file"], preset=preset, mapping=mapping,
                               bureau=options["bureau"])
        except BadInput as exc:
            self._fail(str(exc))
            return
        batch = ImportBatch.objects.create(
            file_name=plan.source.path.name[:255], file_sha256=file_sha256(plan.source.path),
            preset=plan.preset_name, mapping=plan.mapping.as_json(),
            skip_bad=options["skip_bad"], bureau=plan.bureau)
        try:
            result = execute(batch, plan, errors_path=options["errors"])
        except BadInput as exc:
            self._fail(str(exc))
            return
        self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))
        for line, _values, reason in result.bad_rows:
            self.stderr.write(f"第{line}行：{reason}")
        if result.bad and not result.committed:
            sys.exit(1)

    def _stats(self, options: dict[str, Any]) -> None:
        from minyi.intake.importing.run import resolve_bureau
        from minyi.orders.stats import order_stats
        bureau = None
        if options["bureau"]:
            from minyi.intake.importing import BadInput

            try:
                bureau = resolve_bureau(options["bureau"])
            except BadInput as exc:
                self._fail(str(exc))
                return
        if options["date_from"] and options["date_to"] and \
                options["date_from"] > options["date_to"]:
            self._fail("起始日期晚于截止日期")
            return
        answer = order_stats(bureau=bureau, date_from=options["date_from"],
                             date_to=options["date_to"], by=options["by"])
        self.stdout.write(json.dumps(answer, ensure_ascii=False, indent=2))
