"""The weekly bulletin as xlsx, opened again with openpyxl."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from minyi.assessment import bulletins
from minyi.assessment.tests import fixtures
from minyi.assessment.tests.fixtures import CUTOFF, WEEK
from minyi.reports.bulletin_xlsx import bulletin_xlsx

pytestmark = pytest.mark.django_db
# The week of orders the assessment tests use (their conftest is not seen from here).
week_orders = fixtures.week_orders


def rows_of(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_workbook(week_orders, bureau):
    bulletin, _ = bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    book = load_workbook(io.BytesIO(bulletin_xlsx(bulletins.document(bulletin))))
    assert book.sheetnames == ["通报", "红黑榜", "统计口径"]
    sheet = book["通报"]
    rows = rows_of(sheet)
    assert rows[0][0] == "关于2024年第19周群众诉求办理情况的通报"
    assert "通报〔2024〕1号" in rows[1][0] and "2024-W19" in rows[1][0]
    header_at = next(i for i, row in enumerate(rows) if row[0] == "单位")
    header = rows[header_at]
    assert header[:7] == ["单位", "单位代码", "红黑榜", "受理", "无效", "办结", "办结率(%)"]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows[header_at + 1:]}
    assert list(table) == ["东城派出所", "西城派出所", "督察大队", "全局合计"]
    station = table["东城派出所"]
    assert (station["受理"], station["无效"], station["办结"], station["办结率(%)"]) == (6, 1, 4,
                                                                                80.0)
    assert (station["满意率(%)"], station["红黑榜"], station["重复投诉"]) == (66.7, "黑榜", 2)
    assert table["西城派出所"]["红黑榜"] == "不参评"
    assert table["督察大队"]["按时办结率(%)"] == "—"
    assert (table["全局合计"]["受理"], table["全局合计"]["办结率(%)"]) == (8, 71.4)
    # The headline sentences are in the sheet, the figures written out.
    assert any("全局共受理群众诉求工单8件" in (row[0] or "") for row in rows[:header_at])

    lists = rows_of(book["红黑榜"])
    assert lists[1][:2] == ["黑榜", "东城派出所"]
    assert "逾期未答复督办单1件" in lists[1][5]
    definitions = dict((row[0], row[1]) for row in rows_of(book["统计口径"]) if row[0])
    assert definitions["口径版本"] == bulletins.VERSION
    assert definitions["满意率下限(%)"] == 85
    assert "办结 ÷（受理 − 无效）" in definitions["completion"]


def test_an_empty_week(bureau):
    bulletin, _ = bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    rows = rows_of(load_workbook(io.BytesIO(bulletin_xlsx(bulletins.document(bulletin))))["通报"])
    total = next(row for row in rows if row[0] == "全局合计")
    assert total[3] == 0 and total[6] == "—"
