"""The weekly bulletin as an xlsx workbook: the figures per unit, the red and black lists, and
the definitions it was computed with.

Takes the bulletin's document (`minyi.assessment.bulletins.document`): a formatter, it reads
no database. Rates are numbers (percent, one decimal) so that the sheet can be sorted and
charted; a rate with nothing to divide by is the text "—".
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from minyi.assessment.rules import Floors, IsoWeek, headline, lists_sentences

# (heading, key, is a rate)
COLUMNS = [
    ("受理", "received", False), ("无效", "invalid", False), ("办结", "closed", False),
    ("办结率(%)", "completion", True), ("按时办结", "closed_on_time", False),
    ("按时办结率(%)", "on_time", True), ("有联系时限", "contact_due", False),
    ("及时联系", "contact_on_time", False), ("及时联系率(%)", "contact", True),
    ("满意", "cb_satisfied", False), ("基本满意", "cb_basic", False),
    ("不满意", "cb_dissatisfied", False), ("未联系上", "cb_not_reached", False),
    ("满意率(%)", "satisfaction", True), ("重复投诉", "repeats", False),
    ("督办单", "notices", False), ("提醒函", "letters", False),
    ("逾期未答复督办单", "notices_unanswered", False),
]
LIST_LABELS = {"red": "红榜", "black": "黑榜", "": ""}
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8F0FA")
RED_FILL = PatternFill("solid", fgColor="FDECEA")
GREEN_FILL = PatternFill("solid", fgColor="E6F4EA")
THIN = Side(style="thin", color="BFC6D1")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _value(row: dict[str, Any], key: str, is_rate: bool) -> Any:
    if is_rate:
        value = row["rates"][key]
        return "—" if value is None else value
    return row[key]


def _figures_sheet(ws: Any, doc: dict[str, Any]) -> None:
    week = IsoWeek(doc["week"]["year"], doc["week"]["week"])
    floors = Floors.from_dict(doc["floors"])
    width = 3 + len(COLUMNS)
    ws.title = "通报"
    ws.append([doc["title"]])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"{doc['issuer']}　{doc['number']}　{week.span_label}（{week.label}）"])
    ws.append([f"数据截至 {doc['cutoff']}，生成：{doc['generated_by']}，"
               f"口径版本 {doc['definitions_version']}"])
    for sentence in [*headline(doc["total"], week), *lists_sentences(doc["units"], floors)]:
        ws.append([sentence])
        ws.cell(ws.max_row, 1).alignment = WRAP
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row,
                       end_column=width)
        ws.row_dimensions[ws.max_row].height = 32
    ws.append([])
    header_row = ws.max_row + 1
    ws.append(["单位", "单位代码", "红黑榜", *[c[0] for c in COLUMNS]])
    for cell in ws[header_row]:
        cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOX
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    rows = [*doc["units"], doc["total"]]
    for row in rows:
        unit = row["unit"]
        label = LIST_LABELS[row.get("list", "")] or ("" if row.get("judged", True) else "不参评")
        ws.append([unit["name"] if unit else "全局合计", unit["code"] if unit else "",
                   label, *[_value(row, key, is_rate) for _h, key, is_rate in COLUMNS]])
        line = ws[ws.max_row]
        for cell in line:
            cell.border = BOX
        for index, (_h, _k, is_rate) in enumerate(COLUMNS, start=4):
            if is_rate:
                line[index - 1].number_format = "0.0"
        if unit is None:
            for cell in line:
                cell.font = BOLD
        elif row.get("list") == "black":
            line[2].fill = RED_FILL
        elif row.get("list") == "red":
            line[2].fill = GREEN_FILL
    ws.freeze_panes = ws.cell(header_row + 1, 2)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 8
    for index in range(4, width + 1):
        ws.column_dimensions[get_column_letter(index)].width = 10


def _lists_sheet(ws: Any, doc: dict[str, Any]) -> None:
    ws.title = "红黑榜"
    ws.append(["榜单", "单位", "满意率(%)", "按时办结率(%)", "及时联系率(%)", "原因"])
    for cell in ws[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    for which in ("red", "black"):
        for row in doc["units"]:
            if row["list"] != which:
                continue
            r = row["rates"]
            ws.append([LIST_LABELS[which], row["unit"]["name"],
                       *("—" if r[k] is None else r[k]
                         for k in ("satisfaction", "on_time", "contact")),
                       "；".join(row["reasons"])])
    unjudged = [row["unit"]["name"] for row in doc["units"]
                if not row["judged"] and not row["list"]]
    if unjudged:
        ws.append([])
        ws.append([f"受理工单（不含无效）不足{doc['floors']['min_orders']}件、不按比率评判的单位：",
                   "、".join(unjudged)])
    for letter, width in zip("ABCDEF", (8, 18, 12, 14, 14, 60), strict=True):
        ws.column_dimensions[letter].width = width


def _definitions_sheet(ws: Any, doc: dict[str, Any]) -> None:
    ws.title = "统计口径"
    floors = doc["floors"]
    ws.append(["口径版本", doc["definitions_version"]])
    ws.append(["工单统计口径版本", doc["stats_version"]])
    ws.append(["满意率下限(%)", float(floors["satisfaction"])])
    ws.append(["按时办结率下限(%)", float(floors["on_time"])])
    ws.append(["及时联系率下限(%)", float(floors["contact"])])
    ws.append(["参评最少工单数", floors["min_orders"]])
    ws.append(["基本满意计入权重", float(floors["basic_weight"])])
    ws.append([])
    for definition in doc["definitions"]:
        ws.append([definition["key"], definition["text"]])
        ws.cell(ws.max_row, 2).alignment = WRAP
    for cell in ws["A"]:
        cell.font = BOLD
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 100


def bulletin_xlsx(doc: dict[str, Any]) -> bytes:
    """The workbook of a bulletin's document, as bytes."""
    workbook = Workbook()
    _figures_sheet(workbook.active, doc)
    _lists_sheet(workbook.create_sheet(), doc)
    _definitions_sheet(workbook.create_sheet(), doc)
    workbook.properties.title = doc["title"]
    workbook.properties.creator = doc["issuer"]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
