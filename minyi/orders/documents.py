"""Supervision notices (督办单) and reminder letters (提醒函) as Word documents in the layout of
an official document (minyi.reports.docx). The caller has already checked that the user may
see the document; these functions only write it."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from django.utils import timezone

from minyi.orders.models import Order, ReminderLetter, SupervisionNotice
from minyi.reports import docx as official


def when(moment: datetime | None) -> str:
    """A moment as the documents write it: 2026年11月5日 09:01."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{official.official_date(local.date())} {local:%H:%M}"


def body_text(document: SupervisionNotice | ReminderLetter) -> str:
    """The 事由 without the leading "东城派出所：", which the addressee line already says."""
    prefix = f"{document.unit.name}："
    text = document.text or ""
    return text[len(prefix):] if text.startswith(prefix) else text


def order_facts(order: Order) -> list[list[object]]:
    return [
        ["工单编号", order.number],
        ["诉求标题", order.title],
        ["受理渠道", order.channel.name if order.channel_id else ""],
        ["工单类型", order.order_type.name if order.order_type_id else ""],
        ["接单时间", when(order.received_at)],
        ["办理时限", when(order.handling_due_at) or "—"],
        ["承办单位", order.lead_unit.name if order.lead_unit_id else "—"],
        ["当前状态", order.get_state_display()],
    ]


def _start(document: SupervisionNotice | ReminderLetter, title: str):
    doc = official.official_document(issuer=document.bureau.name,
                                     number=document.display_number, title=title)
    official.add_addressee(doc, document.unit.name)
    official.add_body(doc, body_text(document))
    official.add_heading(doc, "一、工单情况")
    official.add_table(doc, ["项目", "内容"], order_facts(document.order),
                       col_widths_cm=[3.5, 12])
    return doc


def _finish(doc, document: SupervisionNotice | ReminderLetter) -> bytes:
    official.add_signature(doc, issuer=document.bureau.name,
                           on=timezone.localtime(document.issued_at).date())
    return official.to_bytes(doc)


def notice_docx(notice: SupervisionNotice) -> bytes:
    doc = _start(notice, "督办单")
    official.add_heading(doc, "二、答复要求")
    official.add_body(doc, f"督办原因：{notice.get_reason_display()}。请单位负责人签收本督办单，"
                           f"并于{when(notice.reply_due_at)}前答复整改措施。"
                           "逾期未答复的，移交督察部门跟踪问责。")
    official.add_heading(doc, "三、签收及答复情况")
    official.add_table(doc, ["项目", "内容"], [
        ["签收人", notice.signed_by.display_name if notice.signed_by else "（未签收）"],
        ["签收时间", when(notice.signed_at) or "—"],
        ["答复人", notice.replied_by.display_name if notice.replied_by else "（未答复）"],
        ["答复时间", when(notice.replied_at) or "—"],
        ["整改措施", notice.reply or "—"],
        ["移交督察", when(notice.escalated_at) or "—"],
    ], col_widths_cm=[3.5, 12])
    return _finish(doc, notice)


def letter_docx(letter: ReminderLetter) -> bytes:
    doc = _start(letter, "提醒函")
    official.add_heading(doc, "二、签收情况")
    if letter.acknowledged_at:
        who = letter.acknowledged_by.display_name if letter.acknowledged_by else ""
        official.add_body(doc, f"提醒原因：{letter.get_reason_display()}。"
                               f"已由{who}于{when(letter.acknowledged_at)}签收。")
    else:
        official.add_body(doc, f"提醒原因：{letter.get_reason_display()}。请单位负责人签收。")
    return _finish(doc, letter)


def filename(document: SupervisionNotice | ReminderLetter) -> str:
    return f"{document.display_number}.docx"


def content_disposition(name: str, ascii_name: str) -> str:
    """An attachment header with the Chinese name in filename* (RFC 6266/5987) and a plain one
    for old clients."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
