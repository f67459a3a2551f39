"""The monthly assessment bulletin as a workbook: the ranking (total, rank, each indicator's
value, interval, rank or rank range and score, the marks) and the definitions (口径) used.

Takes `minyi.assessment.months.document` (plain data); it reads no database.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8F0FA")
RED_FILL = PatternFill("solid", fgColor="FDECEA")
GREY_FILL = PatternFill("solid", fgColor="F1F3F5")
THIN = Side(style="thin", color="BFC6D1")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
PER_ITEM = ("值", "区间", "名次", "得分")


def _number(text: str | None) -> Any:
    if text is None:
        return "—"
    try:
        return float(Decimal(text))
    except ArithmeticError:
        return text


def _ranking_sheet(ws: Any, doc: dict[str, Any]) -> None:
    ws.title = "考核排名"
    items = doc["items"]
    ws.append([doc["title"]])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"{doc['issuer']}　{doc['month_title']}　{doc['state']}　计算于 "
               f"{doc['computed_at']}　方案：{doc['scheme']['name']}"])
    ws.append([])
    first = ["名次", "单位", "单位代码", "总分", "一票否决"]
    ws.append(first + [f"{i['name']}（{i['weight']}分）" for i in items for _ in PER_ITEM])
    ws.append([""] * len(first) + [p for _ in items for p in PER_ITEM])
    for row in (4, 5):
        for cell in ws[row]:
            cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for k in range(len(items)):
        col = len(first) + 1 + k * len(PER_ITEM)
        ws.merge_cells(start_row=4, start_column=col, end_row=4,
                       end_column=col + len(PER_ITEM) - 1)
    for r in doc["rows"]:
        values: list[Any] = [r["rank"], r["unit"]["name"], r["unit"]["code"],
                             _number(r["total"]), "是" if r["vetoed"] else ""]
        for c in r["cells"]:
            mark = "样本不足" if c["insufficient"] else (c["rank_text"] or "")
            values += [_number(c["text"].rstrip("%分件")) if c["text"] != "—" else "—",
                       c["interval"], mark, _number(c["score"])]
        ws.append(values)
        line = ws[ws.max_row]
        for cell in line:
            cell.border = BOX
        if r["vetoed"]:
            line[4].fill = RED_FILL
        for k, c in enumerate(r["cells"]):
            if c["insufficient"]:
                line[len(first) + k * len(PER_ITEM) + 2].fill = GREY_FILL
    ws.freeze_panes = ws.cell(6, 3)
    ws.column_dimensions["B"].width = 18
    for index in range(len(first) + 1, ws.max_column + 1):
        ws.column_dimensions[get_column_letter(index)].width = 11


def _definitions_sheet(ws: Any, doc: dict[str, Any]) -> None:
    ws.title = "指标口径"
    ws.append(["口径版本", doc["version"]])
    ws.append(["比率分母最少件数", doc["scheme"]["min_count"]])
    ws.append(["置信水平", doc["level"]])
    ws.append([])
    ws.append(["指标", "口径", "统计对象", "分子", "分母", "计分规则", "分值", "目标值",
               "规则参数"])
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    for i in doc["items"]:
        ws.append([i["name"], i["label"], i["counts_what"], i["numerator"], i["denominator"],
                   i["rule_label"], _number(i["weight"]),
                   _number(i["target"]) if i["target"] else "", str(i["params"] or "")])
        for cell in ws[ws.max_row]:
            cell.alignment = WRAP
    for letter, width in zip("ABCDEFGHI", (16, 18, 40, 30, 30, 12, 8, 8, 24), strict=True):
        ws.column_dimensions[letter].width = width


def monthly_xlsx(doc: dict[str, Any]) -> bytes:
    """The workbook of a month's assessment document, as bytes."""
    workbook = Workbook()
    _ranking_sheet(workbook.active, doc)
    _definitions_sheet(workbook.create_sheet(), doc)
    workbook.properties.title = doc["title"]
    workbook.properties.creator = doc["issuer"]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
