"""The monthly assessment bulletin (月度考核通报) as a Word document in the layout of an
official bulletin (GB/T 9704, `minyi.reports.docx`): the total scores and ranks, each
indicator's figure, interval and score per unit, the marks (样本不足, 一票否决), and the
definitions (口径) used as an appendix.

Takes `minyi.assessment.months.document` (plain data); it reads no database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from docx.enum.text import WD_BREAK

from minyi.reports import docx as official

RANK_TABLE = ["名次", "单位", "总分", "说明"]
RANK_WIDTHS = [2.0, 4.6, 2.4, 6.6]
ITEMS_PER_TABLE = 3


def _cell(cell: dict[str, Any]) -> str:
    text = cell["text"]
    if cell["interval"]:
        text += f"（{cell['interval']}）"
    if cell["insufficient"]:
        text += " 样本不足"
    elif cell["rank_text"] and "–" in cell["rank_text"]:
        text += f" 第{cell['rank_text']}名"
    return f"{text}\n{cell['score']}分"


def _remark(row: dict[str, Any]) -> str:
    if row["vetoed"]:
        return "一票否决"
    thin = [c for c in row["cells"] if c["insufficient"]]
    return f"{len(thin)}项样本不足" if thin else ""


def monthly_docx(doc: dict[str, Any]) -> bytes:
    """The Word file of a month's assessment document, as bytes."""
    rows, items = doc["rows"], doc["items"]
    document = official.official_document(issuer=doc["issuer"], title=doc["title"])
    official.add_body(document, "各派出所、大队、科室：")
    scheme = doc["scheme"]
    official.add_body(document, f"根据《{scheme['name']}》，现将{doc['month_title']}各单位"
                                f"考核情况通报如下（{doc['state']}，数据计算于"
                                f"{doc['computed_at']}）。")

    official.add_heading(document, "一、总体情况")
    if rows:
        first, last = rows[0], rows[-1]
        vetoed = [r["unit"]["name"] for r in rows if r["vetoed"]]
        text = (f"本月参评单位{len(rows)}个。{first['unit']['name']}以{first['total']}分位列第一，"
                f"{last['unit']['name']}以{last['total']}分位列最后。")
        if vetoed:
            text += "、".join(vetoed) + "因一票否决事项本月总分计为0分。"
        official.add_body(document, text)
    else:
        official.add_body(document, "本月没有参评单位。")

    official.add_heading(document, "二、各单位得分与排名")
    official.add_body(document, "表1　各单位总分与名次")
    official.add_table(document, RANK_TABLE,
                       [[r["rank"], r["unit"]["name"], r["total"], _remark(r)] for r in rows],
                       RANK_WIDTHS)
    official.add_body(document, f"比率后括号内为95%置信区间；分母少于{scheme['min_count']}件的"
                                "标注“样本不足”，不参与该项排名，按其他单位该项平均得分计；"
                                "样本少时以名次范围表示该单位可能的名次。")
    for start in range(0, len(items), ITEMS_PER_TABLE):
        chunk = items[start:start + ITEMS_PER_TABLE]
        number = 2 + start // ITEMS_PER_TABLE
        official.add_body(document, f"表{number}　" + "、".join(i["name"] for i in chunk))
        headers = ["单位", *(f"{i['name']}（{i['weight']}分）" for i in chunk)]
        width = 4.2
        rest = (15.6 - width) / len(chunk)
        official.add_table(document, headers, [
            [r["unit"]["name"], *(_cell(r["cells"][start + k]) for k in range(len(chunk)))]
            for r in rows], [width, *([rest] * len(chunk))])

    official.add_body(document, "附件：考核指标口径")
    signed = datetime.fromisoformat(doc["computed_at"]).date()
    official.add_signature(document, issuer=doc["issuer"], on=signed)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    official.add_heading(document, "附件")
    official.add_body(document, f"考核指标口径（{doc['version']}）")
    lines = []
    for n, i in enumerate(items, start=1):
        line = (f"{n}. {i['name']}（{i['label']}）：统计对象为{i['counts_what']}；"
                f"分子为{i['numerator']}")
        if i["denominator"]:
            line += f"；分母为{i['denominator']}"
        line += f"。计分规则：{i['rule_label']}，{i['weight']}分"
        if i["target"]:
            line += f"，目标值{i['target']}"
        lines.append(line + "。")
    official.add_body(document, "\n".join(lines))
    return official.to_bytes(document)
