"""The callback figures as an xlsx workbook: exactly the tables the page shows (same rows, same
columns, same definition), and a sheet with the definitions they were computed with.

A formatter: it takes a computed `figures.Figures` and reads no database. Rates are numbers
(percent, one decimal) so the sheet sorts and charts; a rate of nothing is the text "—".
"""

from __future__ import annotations

from typing import IO, Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from minyi.callbacks import figures as fig

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8F0FA")
WRAP = Alignment(wrap_text=True, vertical="top")


def _value(cell: fig.Cell) -> Any:
    return "—" if cell.value is None else cell.value


def _sheet(ws: Any, title: str, heading: str, first: str, headers: list[str],
           rows: list[tuple[str, list[fig.Cell]]]) -> None:
    ws.title = title
    ws.append([heading])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([first, *headers])
    for cell in ws[2]:
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, horizontal="center")
    for label, cells in rows:
        ws.append([label, *[_value(c) for c in cells]])
    ws[ws.max_row][0].font = BOLD  # the total
    ws.column_dimensions["A"].width = 18
    for index in range(len(headers)):
        ws.column_dimensions[get_column_letter(index + 2)].width = 11
    ws.freeze_panes = "B3"


def _period(result: fig.Figures) -> str:
    q = result.query
    scope = f"，{result.unit.name}及下级单位" if result.unit is not None else ""
    return (f"{q.date_from:%Y年%m月%d日}至{q.date_to:%Y年%m月%d日}（按应回访日期）{scope}，"
            f"{fig.KINDS[q.kind]}，按{fig.GROUPINGS[q.by]}分组")


def write_figures(result: fig.Figures, out: IO[bytes]) -> None:
    q = result.query
    rows = [*result.rows, result.total]
    workbook = Workbook()
    period = _period(result)
    definition = q.definition
    _sheet(workbook.active, "回访情况", f"回访情况：{period}", fig.GROUPINGS[q.by],
           [h for _k, h in fig.COUNT_COLUMNS],
           [(r.label, fig.count_cells(r, definition)) for r in rows])
    _sheet(workbook.create_sheet(), "AAPOR", f"AAPOR 结果与比率：{period}", fig.GROUPINGS[q.by],
           [*[h for _k, h in fig.OUTCOME_COLUMNS], "e", *[h for _k, h in fig.RATE_COLUMNS]],
           [(r.label, [*fig.outcome_cells(r), *fig.rate_cells(r)]) for r in rows])
    notes = workbook.create_sheet("口径")
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 90
    d = result.definitions()
    lines: list[tuple[str, str]] = [
        ("统计范围", period),
        ("计算时间", timezone.localtime(result.computed_at).strftime("%Y-%m-%d %H:%M")),
        ("满意率口径", f"{d['satisfaction']['id']}（版本 {d['satisfaction']['version']}）："
                      f"{d['satisfaction']['formula']}"),
        ("AAPOR", d["aapor"]["edition"]),
        ("e", d["aapor"]["e"]["label"]),
        *[(f"{name} {aapor_label}", d["aapor"]["formulas"][name])
          for name, aapor_label in d["aapor"]["labels"].items()],
        *[(f"{c}", label) for c, label in d["aapor"]["classes"].items()],
        ("统计期", d["counting"]["period"]),
        ("任务类别", d["counting"]["kind"]),
        ("结果归类", d["counting"]["outcomes"]),
        ("整改", d["counting"]["rectifications"]),
        ("个人信息", "本表只有汇总数字，不含群众个人信息"),
    ]
    for key, text in lines:
        notes.append([key, text])
        notes.cell(notes.max_row, 1).font = BOLD
        notes.cell(notes.max_row, 2).alignment = WRAP
    workbook.save(out)


def filename(result: fig.Figures) -> str:
    q = result.query
    return f"回访统计-{q.date_from:%Y%m%d}-{q.date_to:%Y%m%d}-{q.by}.xlsx"
