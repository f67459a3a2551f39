"""The errors workbook: the bad rows as they were, with the reason beside each.

The original columns come first, unchanged, so the user can correct the rows in place and
import the workbook again with the same preset or mapping (the two added columns are not
mapped to anything and are ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LINE_COLUMN = "原行号"
REASON_COLUMN = "错误原因"
# Characters an xlsx cannot hold (XML 1.0 forbids most control characters).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return _ILLEGAL.sub("", value)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)  # xlsx has no time zones; the wall time as written
    return value


def write_errors_workbook(path: str | Path, header: list[str],
                          rows: Iterable[tuple[int, list[Any], str]]) -> Path:
    """Write (line, original values, reason) rows under the original header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误行")
    width = len(header)
    bold = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell

    titles = []
    for name in [*header, LINE_COLUMN, REASON_COLUMN]:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for line, values, reason in rows:
        cells = [_cell(v) for v in values[:width]]
        cells += [None] * (width - len(cells))
        sheet.append([*cells, line, reason])
    workbook.save(path)
    return path
