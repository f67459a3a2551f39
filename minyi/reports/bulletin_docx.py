"""The weekly bulletin as a Word document in the layout of an official bulletin (通报):
the issuer, number and title at the head, body text that states the figures, headings
一、二、三、, tables per unit, the red and black lists, the signature and date, and the
definitions as an appendix.

Takes the bulletin's document (`minyi.assessment.bulletins.document`) and lays it out with
`minyi.reports.docx` (GB/T 9704); it reads no database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from docx.enum.text import WD_BREAK

from minyi.assessment.rules import (
    Floors,
    IsoWeek,
    format_count,
    format_floor,
    format_rate,
    headline,
    lists_sentences,
)
from minyi.reports import docx as official

# Portrait A4 leaves 15.6 cm between the margins: the unit's name and six figures.
WIDTHS = [3.6, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
RATES_TABLE = ["单位", "受理", "办结", "办结率", "按时办结率", "及时联系率", "满意率"]
COUNTS_TABLE = ["单位", "满意", "基本满意", "不满意", "重复投诉", "督办单", "提醒函"]
DEMANDS = ("对列入黑榜的单位，单位主要负责人要在局重点工作例会上作表态发言，"
           "剖析原因，限期拿出切实可行的整改措施；",
           "对督办单要按期签收、按时答复，对回访不满意和重复投诉的工单要举一反三、"
           "加大办理力度，确保群众诉求件件有回音、事事有着落；",
           "各单位要对照本通报查找差距，持续提升群众安全感满意度。")
CHINESE_ORDINALS = "一二三四五六七八九十"


def _rates_row(row: dict[str, Any]) -> list[str]:
    r = row["rates"]
    name = row["unit"]["name"] if row["unit"] else "全局合计"
    return [name, format_count(row["received"]), format_count(row["closed"]),
            format_rate(r["completion"]), format_rate(r["on_time"]), format_rate(r["contact"]),
            format_rate(r["satisfaction"])]


def _counts_row(row: dict[str, Any]) -> list[str]:
    name = row["unit"]["name"] if row["unit"] else "全局合计"
    return [name, *(format_count(row[k]) for k in ("cb_satisfied", "cb_basic",
                                                    "cb_dissatisfied", "repeats", "notices",
                                                    "letters"))]


def _unit_paragraphs(units: list[dict[str, Any]]) -> list[str]:
    """One sentence per unit that received orders: its figures written out."""
    lines = []
    for row in units:
        if not row["received"] and not row["notices"] and not row["letters"]:
            continue
        r = row["rates"]
        lines.append(
            f"{row['unit']['name']}受理{format_count(row['received'])}件，"
            f"办结{format_count(row['closed'])}件，办结率{format_rate(r['completion'])}，"
            f"按时办结率{format_rate(r['on_time'])}，及时联系率{format_rate(r['contact'])}，"
            f"满意率{format_rate(r['satisfaction'])}；收到督办单{format_count(row['notices'])}件、"
            f"提醒函{format_count(row['letters'])}件，重复投诉{format_count(row['repeats'])}件。")
    return lines


def bulletin_docx(doc: dict[str, Any]) -> bytes:
    """The Word file of a bulletin's document, as bytes."""
    week = IsoWeek(doc["week"]["year"], doc["week"]["week"])
    floors = Floors.from_dict(doc["floors"])
    units, total = doc["units"], doc["total"]
    generated = datetime.fromisoformat(doc["generated_at"]).date()

    document = official.official_document(issuer=doc["issuer"], number=doc["number"],
                                           title=doc["title"])
    official.add_body(document, "各派出所、大队、科室：")
    official.add_body(document, f"现将{week.title_label}（{week.span_label}）全局群众诉求工单"
                                "办理情况通报如下。")

    official.add_heading(document, "一、总体情况")
    official.add_body(document, "\n".join(headline(total, week)))

    official.add_heading(document, "二、各单位办理情况")
    if total["received"]:
        official.add_body(document, "\n".join(_unit_paragraphs(units)) or "各单位本周无工单。")
        official.add_body(document, "各单位办结率、按时办结率、及时联系率和满意率见表1，"
                                    "回访、重复投诉和督办提醒情况见表2。")
        official.add_body(document, "表1　各单位办理质效")
        official.add_table(document, RATES_TABLE,
                           [_rates_row(row) for row in [*units, total]], WIDTHS)
        official.add_body(document, "表2　各单位回访、重复投诉与督办提醒")
        official.add_table(document, COUNTS_TABLE,
                           [_counts_row(row) for row in [*units, total]], WIDTHS)
    else:
        official.add_body(document, "本周各单位均未受理群众诉求工单。")

    official.add_heading(document, "三、红黑榜")
    official.add_body(document,
                      f"按照满意率不低于{format_floor(floors.satisfaction)}、按时办结率不低于"
                      f"{format_floor(floors.on_time)}、及时联系率不低于"
                      f"{format_floor(floors.contact)}的标准评定：")
    official.add_body(document, "\n".join(lists_sentences(units, floors)))

    official.add_heading(document, "四、有关要求")
    official.add_body(document, "\n".join(
        f"（{CHINESE_ORDINALS[i]}）{text}" for i, text in enumerate(DEMANDS)))

    official.add_body(document, f"附件：统计口径（口径版本 {doc['definitions_version']}）")
    official.add_signature(document, issuer=doc["issuer"], on=generated)

    # The appendix starts on a page of its own, as an attachment of an official document does.
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    official.add_heading(document, "附件")
    official.add_body(document, f"统计口径（{doc['definitions_version']}，工单统计口径 "
                                f"{doc['stats_version']}；数据截至 {doc['cutoff']}）")
    official.add_body(document, "\n".join(
        f"{i}. {d['text']}" for i, d in enumerate(doc["definitions"], start=1)))
    return official.to_bytes(document)
