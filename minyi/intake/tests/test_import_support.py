"""Helpers for the import tests (no tests here): small files in the standard preset's columns."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

HEADER = ["来源编号", "渠道", "工单类型", "诉求类型", "标题", "诉求内容", "群众姓名", "联系电话",
          "所属区域", "事发地址", "接单时间", "承办单位", "办理时限", "办结时间", "办理状态"]


def row(**fields: Any) -> dict[str, Any]:
    """One good row: an open noise complaint held by 东城派出所, unless fields say otherwise."""
    values = {
        "来源编号": "A-1", "渠道": "12345", "工单类型": "噪音扰民", "诉求类型": "投诉",
        "标题": "楼上装修噪音扰民", "诉求内容": "每天晚上十点后仍在施工", "群众姓名": "刘女士",
        "联系电话": "13812345678", "所属区域": "东城镇", "事发地址": "东城村3号楼",
        "接单时间": "2024-05-06 09:00", "承办单位": "东城派出所", "办理时限": "",
        "办结时间": "", "办理状态": "",
    }
    values.update(fields)
    return values


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] = HEADER,
              encoding: str = "utf-8", compress: bool = False) -> Path:
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for values in rows:
            writer.writerow([values.get(name, "") for name in header])
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], header: list[str] = HEADER) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(name) for name in header])
    workbook.save(path)
    return path


def read_xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
