"""`minyi survey …`: survey statistics from the console, on any CSV file.

    minyi survey estimate --data FILE.csv --var api00 [--stat mean|total|proportion]
        [--weights pw] [--strata stype] [--cluster dnum[,snum]] [--fpc fpc[,fpc2]]
        [--by stype] [--level 0.95] [--ci normal|wilson|logit]
        [--lonely-psu fail|certainty|remove|adjust|average]

estimate: one JSON object per line and estimate — estimate, se, ci_low, ci_high, deff, n, with
"by" (the group) under --by and "label" (the level) for a proportion of a variable that is not
0/1. The design is R's svydesign(ids=~dnum+snum, strata=~stype, weights=~pw, fpc=~fpc1+fpc2)
and the figures are those of svymean / svytotal / svyby / svyciprop (see
minyi/surveys/stats/design.py). The file is UTF-8 (or GBK), comma-separated, with a header;
empty cells and "NA" are missing: a missing value of --var leaves the row out of that estimate
(R's na.rm=TRUE, as a domain), a missing design value is an error.

Bad input (a missing file, an unknown column, a value that is no number, a stratum with one
PSU, …) exits 2 with one line of Chinese on stderr, and prints nothing on stdout.

Each subcommand is one parser in `add_arguments` and one `_<name>` method.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

BAD_INPUT = 2
MISSING = ("", "NA")
STATS = ("mean", "total", "proportion")
CI_METHODS = ("normal", "wilson", "logit")
LONELY = ("fail", "certainty", "remove", "adjust", "average")


class Command(BaseCommand):
    help = "民调统计：estimate 按抽样设计估计均值、总量或比例（与 R survey 包一致）"
    # Reads a file and computes: no database, URLs or models to check, so the command works
    # (and fails with its own one-line messages) whatever state the rest of the project is in.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, title="subcommands")
        est = sub.add_parser("estimate", help="按抽样设计估计均值、总量或比例，每个估计一行 JSON")
        # Strings checked in _estimate: argparse's own error is a usage block, not one line.
        est.add_argument("--data", required=True, help="CSV 文件（UTF-8 或 GBK，首行为列名）")
        est.add_argument("--var", required=True, help="要估计的变量（列名）")
        est.add_argument("--stat", default="mean",
                         help="mean（均值）、total（总量）或 proportion（比例）")
        est.add_argument("--weights", help="抽样权重列；不给时由 fpc 推出，否则为 1")
        est.add_argument("--strata", help="分层列")
        est.add_argument("--cluster", help="整群列：初级单位，或“初级,二级”两列")
        est.add_argument("--fpc",
                         help="有限总体校正列（总体规模或抽样比）：一列，或每阶段一列，逗号分隔")
        est.add_argument("--by", help="分组列：每组一个估计（子总体，R 的 svyby）")
        est.add_argument("--level", default="0.95", help="置信水平，默认 0.95")
        est.add_argument("--ci",
                         help="置信区间：normal、wilson、logit（比例默认 logit，其余 normal）")
        est.add_argument("--lonely-psu", default="fail",
                         help="某层只有一个初级单位时：fail（报错，默认）、certainty、remove、adjust、average")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["subcommand"].replace("-", "_"))(options)

    def _estimate(self, options: dict[str, Any]) -> None:
        import numpy as np

        from minyi.surveys.stats import Design, estimate, estimate_by

        stat = options["stat"]
        if stat not in STATS:
            raise _bad(f"--stat 应为 {'、'.join(STATS)} 之一，而不是 {stat!r}")
        ci = options["ci"]
        if ci is not None and ci not in CI_METHODS:
            raise _bad(f"--ci 应为 {'、'.join(CI_METHODS)} 之一，而不是 {ci!r}")
        if options["lonely_psu"] not in LONELY:
            raise _bad(f"--lonely-psu 应为 {'、'.join(LONELY)} 之一，"
                       f"而不是 {options['lonely_psu']!r}")
        try:
            level = float(options["level"])
        except ValueError:
            level = math.nan
        if not 0 < level < 1:
            raise _bad(f"--level 应为 0 和 1 之间的数，如 0.95，而不是 {options['level']!r}")
        clusters = _names(options["cluster"])
        fpcs = _names(options["fpc"])
        if len(clusters) > 2:
            raise _bad(f"--cluster 最多两列（初级,二级），而不是 {options['cluster']!r}")

        table = _read(Path(options["data"]))
        wanted = [options["var"], options["weights"], options["strata"], options["by"],
                  *clusters, *fpcs]
        for name in wanted:
            if name is not None and name not in table.columns:
                raise _bad(f"数据文件中没有列 {name!r}（有：{'、'.join(table.columns)}）")

        try:
            design = Design(
                weights=table.numbers(options["weights"]) if options["weights"] else None,
                strata=table.labels(options["strata"]) if options["strata"] else None,
                clusters=tuple(table.labels(c) for c in clusters),
                fpc=tuple(table.numbers(f) for f in fpcs),
                lonely_psu=options["lonely_psu"])
            y = table.outcome(options["var"], stat)
            if options["by"]:
                groups = np.array(table.column(options["by"]), dtype=object)
                results = estimate_by(y, design, groups, stat=stat, level=level, ci=ci)
                lines = [line for key, found in results.items() for line in _lines(found, key)]
            else:
                lines = _lines(estimate(y, design, stat=stat, level=level, ci=ci))
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        for line in lines:
            self.stdout.write(json.dumps(line, ensure_ascii=False))


def _bad(message: str) -> CommandError:
    return CommandError(message.replace("\n", " "), returncode=BAD_INPUT)


def _names(value: str | None) -> list[str]:
    return [] if not value else [part.strip() for part in value.split(",") if part.strip()]


def _lines(found: Any, by: Any = None) -> list[dict[str, Any]]:
    """Estimates as JSON objects: the group and the level (of a proportion per level) first."""
    levels = isinstance(found, list)
    out = []
    for one in found if levels else [found]:
        figures = one.as_dict()
        figures.pop("label", None)
        head: dict[str, Any] = {} if by is None else {"by": by}
        if levels:
            head["label"] = one.label
        out.append({**head, **figures})
    return out


class _Table:
    """The columns of a CSV file, as lists of strings (None where the cell is missing)."""

    def __init__(self, columns: list[str], rows: list[list[str]], lines: list[int]) -> None:
        self.columns = columns
        self._index = {name: i for i, name in enumerate(columns)}
        self._rows = rows
        self._lines = lines  # the line of the file each row starts on

    def column(self, name: str) -> list[str | None]:
        i = self._index[name]
        return [_cell(row, i) for row in self._rows]

    def numbers(self, name: str) -> Any:
        import numpy as np

        values = self._required(name)
        return np.array([_number(v, name, line) for line, v in zip(self._lines, values,
                                                                     strict=True)])

    def labels(self, name: str) -> Any:
        import numpy as np

        return np.array(self._required(name))

    def _required(self, name: str) -> list[str]:
        values = self.column(name)
        for line, value in zip(self._lines, values, strict=True):
            if value is None:
                raise _bad(f"第{line}行 {name} 列缺少值（抽样设计变量不能缺失）")
        return values  # type: ignore[return-value]

    def outcome(self, name: str, stat: str) -> Any:
        """The variable to estimate: numbers (NaN where missing), or for a proportion of a
        variable that is not all numbers, its labels (None where missing)."""
        import numpy as np

        values = self.column(name)
        if stat == "proportion":
            try:
                return np.array([math.nan if v is None else float(v) for v in values])
            except ValueError:
                return np.array(values, dtype=object)
        return np.array([math.nan if v is None else _number(v, name, line)
                         for line, v in zip(self._lines, values, strict=True)])


def _cell(row: list[str], i: int) -> str | None:
    if i >= len(row):
        return None
    value = row[i].strip()
    return None if value in MISSING else value


def _number(value: str, name: str, line: int) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _bad(f"第{line}行 {name} 列的值 {value!r} 不是数字") from None
    if not math.isfinite(number):
        raise _bad(f"第{line}行 {name} 列的值 {value!r} 不是有限的数")
    return number


def _read(path: Path) -> _Table:
    if not path.is_file():
        raise _bad(f"找不到数据文件：{path}")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except OSError as exc:
        raise _bad(f"无法读取数据文件 {path}：{exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise _bad(f"数据文件 {path} 既不是 UTF-8 也不是 GBK 编码")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _bad(f"数据文件 {path} 是空的（没有列名行）")
        rows, lines = [], []
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _bad(f"数据文件 {path} 第{reader.line_num}行不是有效的 CSV：{exc}") from exc
    if not rows:
        raise _bad(f"数据文件 {path} 只有列名，没有数据行")
    return _Table([cell.strip() for cell in header], rows, lines)
