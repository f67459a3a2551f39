"""The figures' workbook holds exactly what the page shows, and names its definitions."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from minyi.callbacks import exports
from minyi.callbacks.figures import figures
from minyi.callbacks.tests.test_figures import NOV, NOV_PARAMS, NOW, book  # noqa: F401

pytestmark = pytest.mark.django_db
EXPORT = "/callbacks/figures/export.xlsx"


def _page_table(html: str, testid: str) -> list[list[str]]:
    table = re.search(rf'data-testid="{testid}".*?</table>', html, re.S).group(0)
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


def _sheet_table(ws) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row]
            for row in ws.iter_rows(min_row=2, values_only=True)]


@pytest.mark.parametrize("params", [
    {},
    {"by": "source", "definition": "callbacks.satisfaction/0.9"},
    {"by": "day", "e": "0.5"},
])
def test_the_workbook_is_what_the_page_shows(book, client, leader, params):  # noqa: F811
    client.force_login(leader)
    html = client.get("/callbacks/figures/", {**NOV_PARAMS, **params}).content.decode()
    response = client.get(EXPORT, {**NOV_PARAMS, **params})
    assert response.status_code == 200
    assert response["Content-Type"] == exports.CONTENT_TYPE
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["回访情况", "AAPOR", "口径"]
    counts = _page_table(html, "counts-table")
    sheet = _sheet_table(wb["回访情况"])
    assert sheet[0] == counts[0]  # the headings
    assert [r[0] for r in sheet[1:]] == [r[0] for r in counts[1:]]  # the rows, in order
    for page_row, sheet_row in zip(counts[1:], sheet[1:], strict=True):
        assert [_same(v) for v in sheet_row] == [_same(v) for v in page_row]
    aapor_page = _page_table(html, "aapor-table")
    aapor_sheet = _sheet_table(wb["AAPOR"])
    assert [r[0] for r in aapor_sheet] == [r[0] for r in aapor_page]
    for page_row, sheet_row in zip(aapor_page[1:], aapor_sheet[1:], strict=True):
        assert [_same(v) for v in sheet_row] == [_same(v) for v in page_row]
    notes = {row[0]: row[1] for row in wb["口径"].iter_rows(values_only=True)}
    definition = params.get("definition", "callbacks.satisfaction/1.0")
    assert notes["满意率口径"].startswith(f"{definition}（版本 {definition.split('/')[1]}）")
    assert notes["RR1 应答率1"] == "I/((I+P)+(R+NC+O)+(UH+UO))"


def _same(text: str) -> str:
    """A number as the page and the sheet both mean it (83.3 and 83.3, 6 and 6.0)."""
    try:
        value = float(text)
    except ValueError:
        return text
    return f"{value:.3f}"


def test_the_workbook_from_the_figures_directly(book, leader):  # noqa: F811
    result = figures(user=leader, now=NOW, **NOV)
    out = io.BytesIO()
    exports.write_figures(result, out)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    ws = wb["回访情况"]
    assert ws["A1"].value.startswith("回访情况：2026年11月01日至2026年11月30日（按应回访日期）")
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    station = rows[0]
    assert station[0] == "东城派出所"
    # 抽取 18, 已拨打 14, 获得回答 6, … 满意率 (4+1)/6 = 83.3
    assert station[1:4] == (18, 14, 6)
    assert station[9] == 83.3
    assert rows[-1][0] == "合计" and rows[-1][1] == 21
    aapor_rows = list(wb["AAPOR"].iter_rows(min_row=3, values_only=True))
    # RR1 = 6/14 = 42.9%; a rate with nothing to divide by is "—"
    header = [c.value for c in wb["AAPOR"][2]]
    assert aapor_rows[0][header.index("RR1(%)")] == 42.9
    assert exports.filename(result) == "回访统计-20261101-20261130-unit.xlsx"


def test_an_empty_period_exports_dashes(bureau, leader):
    result = figures(user=leader, now=NOW, date_from=date(2026, 1, 1),
                     date_to=date(2026, 1, 31))
    out = io.BytesIO()
    exports.write_figures(result, out)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    total = list(wb["回访情况"].iter_rows(min_row=3, values_only=True))[-1]
    assert total[0] == "合计" and total[1] == 0 and total[9] == "—"


def test_bad_parameters_export_nothing(client, leader):
    client.force_login(leader)
    response = client.get(EXPORT, {"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert response.status_code == 400
    assert "截止日期不能早于起始日期" in response.content.decode()
