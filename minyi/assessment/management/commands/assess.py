"""`minyi assess …`: the monthly assessment from the console.

    minyi assess run --month 2026-10 [--bureau CODE] [--close]
    minyi assess show --month 2026-10 [--bureau CODE] [--format json|table]
    minyi assess facts --month 2026-10 [--bureau CODE]

run: recounts the month's figures and scores every unit under the year's scheme (a closed month
is left as frozen); --close freezes it. One summary line per bureau. show: one JSON document
(or a plain table) of the scores and ranks, frozen for a closed month, live for an open one.
facts: recounts the month's figures of each bureau. Bad input (a month that is no month, an
unknown bureau, no scheme) exits 2 with one line of Chinese on stderr, nothing written.

Each subcommand is one parser in `add_arguments` and one `_<name>` method.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

BAD_INPUT = 2


class Command(BaseCommand):
    help = "月度考核：run 计算（可关账），show 输出成绩与排名，facts 重算月度统计"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, title="subcommands")
        run = sub.add_parser("run", help="重算月度统计并按年度考核方案计算各单位得分")
        run.add_argument("--month", required=True, help="月份，如 2026-10")
        run.add_argument("--bureau", help="只算该公安局（单位代码）")
        run.add_argument("--close", action="store_true", help="计算后关账（冻结成绩）")
        show = sub.add_parser("show", help="输出某月的成绩与排名")
        show.add_argument("--month", required=True, help="月份，如 2026-10")
        show.add_argument("--bureau", help="只输出该公安局（单位代码）")
        show.add_argument("--format", dest="fmt", default="json", help="json（默认）或 table")
        facts = sub.add_parser("facts", help="重算某月的月度统计")
        facts.add_argument("--month", required=True, help="月份，如 2026-10")
        facts.add_argument("--bureau", help="只算该公安局（单位代码）")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["subcommand"])(options)

    def _month(self, options: dict[str, Any]) -> date:
        from minyi.assessment.months import MonthError, parse_month

        try:
            return parse_month(options["month"])
        except MonthError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None

    def _bureaus(self, options: dict[str, Any]) -> list[Any]:
        from minyi.assessment import bulletins
        from minyi.orgs.models import Unit

        if options.get("bureau"):
            found = Unit.objects.filter(code=options["bureau"], kind__in=bulletins.BUREAU_KINDS)
            if not found:
                raise CommandError(f"没有单位代码为 {options['bureau']!r} 的公安局",
                                   returncode=BAD_INPUT)
            return list(found)
        return bulletins.bureaus()

    def _run(self, options: dict[str, Any]) -> None:
        from minyi.assessment import months
        from minyi.core.errors import InvalidInput

        month = self._month(options)
        bureaus = self._bureaus(options)
        if not options.get("bureau"):
            # Without --bureau, the bureaus that have a scheme for the year.
            bureaus = [b for b in bureaus if months.scheme_for(b, month.year)] or bureaus
        for bureau in bureaus:
            try:
                assessment = months.run(actor=None, bureau=bureau, month=month)
                if options["close"] and assessment.state == assessment.State.OPEN:
                    assessment = months.close(actor=None, assessment=assessment)
            except InvalidInput as exc:
                raise CommandError(str(exc), returncode=BAD_INPUT) from exc
            units = assessment.snapshot.get("units", [])
            first = units[0] if units else None
            lead = f"，第一名 {first['unit']['name']} {first['total']} 分" if first else ""
            self.stdout.write(f"{bureau.name} {months.month_title(month)}：{len(units)}个单位"
                              f"已计分{lead}（{assessment.get_state_display()}）")

    def _show(self, options: dict[str, Any]) -> None:
        from minyi.assessment import months

        month = self._month(options)
        if options["fmt"] not in ("json", "table"):
            raise CommandError(f"不支持的格式「{options['fmt']}」：应为 json 或 table",
                               returncode=BAD_INPUT)
        result = []
        for bureau in self._bureaus(options):
            view = months.view_of(bureau, month)
            if view["snapshot"] is None:
                if options.get("bureau"):
                    raise CommandError(f"{bureau.name}{month.year}年尚无考核方案",
                                       returncode=BAD_INPUT)
                continue
            snap = view["snapshot"]
            result.append({
                "bureau": snap["bureau"], "month": snap["month"],
                "state": "closed" if not view["live"] else "open",
                "computed_at": snap["computed_at"],
                "items": [{"code": i["code"], "version": i["version"], "name": i["name"],
                           "rule": i["rule"], "weight": i["weight"], "target": i["target"]}
                          for i in snap["items"]],
                "units": [{"unit": r["unit"]["name"], "code": r["unit"]["code"],
                           "total": r["total"], "rank": r["rank"], "vetoed": r["vetoed"],
                           "items": r["cells"]} for r in snap["units"]],
            })
        if options["fmt"] == "json":
            self.stdout.write(json.dumps({"month": months.month_label(month),
                                          "bureaus": result}, ensure_ascii=False, indent=2))
            return
        for b in result:
            self.stdout.write(f"{b['bureau']['name']} {b['month']}（{b['state']}）")
            self.stdout.write("排名\t单位\t总分\t" + "\t".join(i["name"] for i in b["items"]))
            for u in b["units"]:
                mark = "（一票否决）" if u["vetoed"] else ""
                scores = "\t".join(u["items"][i["code"]]["score"] for i in b["items"])
                self.stdout.write(f"{u['rank']}\t{u['unit']}{mark}\t{u['total']}\t{scores}")

    def _facts(self, options: dict[str, Any]) -> None:
        from minyi.assessment import facts

        month = self._month(options)
        for bureau in self._bureaus(options):
            rows = facts.recount(bureau=bureau, month=month)
            self.stdout.write(f"{bureau.name} {month:%Y-%m}：{rows}行月度统计已重算")
