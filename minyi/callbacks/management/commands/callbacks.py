"""`minyi callbacks …`: the callback desk's jobs from the console.

    minyi callbacks draw --date 2026-11-20 [--bureau CODE]
    minyi callbacks contacts
    minyi callbacks import FILE [--preset call_110|case|window | --mapping M.yaml] [--bureau CODE]
                               [--skip-bad --errors BAD.xlsx]

draw: prints one JSON document, the draws of the day per plan (seed and counts; "created" false
for a draw that had already run: running twice makes nothing more). contacts: makes contacts
from closed work orders, prints {"created": N}. Bad input (a date that is no date, an unknown
bureau) exits 2 with one line of Chinese on stderr, nothing written.

Each subcommand is one parser in `add_arguments` and one `_<name>` method: a new one (e.g.
`import`) is a parser and a method.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

BAD_INPUT = 2


class Command(BaseCommand):
    help = "回访：draw 抽取某日回访任务，contacts 从已办结工单生成回访对象"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, title="subcommands")
        draw = sub.add_parser("draw", help="按启用的抽样方案抽取某日的回访任务（每方案每日一次）")
        # A string, checked in _draw: argparse's own error is a usage block, not one line.
        draw.add_argument("--date", required=True, help="抽样日期，如 2026-11-20")
        draw.add_argument("--bureau", help="只抽该公安局（单位代码）的方案")
        sub.add_parser("contacts", help="把已办结且留有电话的工单列为回访对象")
        imp = sub.add_parser("import", help="导入 110 接处警、案件、窗口办事记录为回访对象")
        imp.add_argument("file", help="xlsx 或 csv 文件（UTF-8 或 GBK），可为 gzip 压缩")
        how = imp.add_mutually_exclusive_group()
        how.add_argument("--preset", help="预设格式：call_110、case、window")
        how.add_argument("--mapping", help="列对应文件（YAML 或 JSON）")
        imp.add_argument("--bureau", help="导入到哪个公安局（单位代码）；只有一个公安局时可省略")
        imp.add_argument("--skip-bad", action="store_true",
                         help="跳过错误行，导入其余行（默认：有错误行则全部不导入）")
        imp.add_argument("--errors", help="把错误行（原列 + 错误原因）写入此 xlsx 文件")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["subcommand"].replace("-", "_"))(options)

    def _print(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def _draw(self, options: dict[str, Any]) -> None:
        from minyi.callbacks import actions
        from minyi.core.errors import MinyiError
        from minyi.orgs.models import Unit

        try:
            day = date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(f"日期应写作 2026-11-20，而不是 {options['date']!r}",
                               returncode=BAD_INPUT) from None
        bureau = None
        if options["bureau"]:
            bureau = Unit.objects.filter(
                code=options["bureau"], kind__in=[Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU]).first()
            if bureau is None:
                raise CommandError(f"没有单位代码为 {options['bureau']!r} 的公安局",
                                   returncode=BAD_INPUT)
        try:
            draws = actions.draw_day(actor=None, day=day, bureau=bureau)
        except MinyiError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from exc
        self._print({"date": day.isoformat(), "plans": [{
            "plan": d.plan_id, "name": d.plan.name, "bureau": d.plan.bureau.code,
            "draw": d.pk, "seed": d.seed, "population": d.population, "drawn": d.drawn,
            "created": d.created,
        } for d in draws]})

    def _contacts(self, options: dict[str, Any]) -> None:
        from minyi.callbacks import actions

        total = 0
        while True:
            made = actions.contacts_from_orders()
            total += made
            if made < actions.CONTACT_BATCH:
                break
        self._print({"created": total})

    def _import(self, options: dict[str, Any]) -> None:
        """One JSON line {"created", "existing", "bad"}; bad rows on stderr; exit 1 when they
        stopped an all-or-nothing import, 2 when the file, preset, mapping or bureau cannot be
        used (the same as `minyi orders import`)."""
        from minyi.callbacks.importing import CONTACTS, import_contacts
        from minyi.intake.importing import BadInput, load_mapping_file

        try:
            mapping = (load_mapping_file(options["mapping"], CONTACTS)
                       if options["mapping"] else None)
            if options["preset"] is None and mapping is None:
                raise BadInput("请用 --preset 指定预设格式（call_110、case、window），"
                               "或用 --mapping 给出列对应文件")
            batch, result = import_contacts(
                options["file"], preset=options["preset"], mapping=mapping,
                bureau=options["bureau"], skip_bad=options["skip_bad"],
                errors_path=options["errors"])
        except BadInput as exc:
            raise CommandError(str(exc).replace("\n", " "), returncode=BAD_INPUT) from exc
        self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))
        for line, _values, reason in result.bad_rows:
            self.stderr.write(f"第{line}行：{reason}")
        if result.bad and not result.committed:
            raise CommandError(batch.message, returncode=1)
