"""Who must act on the closed loop's events (seed 001), registered by the app's ready():

| event | who is told | SMS |
|---|---|---|
| order.dispatch (转办) | handlers and head of the lead unit; of each co-handling unit | no |
| order.redo (重办) | handlers and head of the unit that redoes it | no |
| order.review, sent back (审核退回) | handlers and head of the lead unit | no |
| order.request_return (申请退单) | the bureau's dispatchers, who decide | no |
| order.decide_return (退单审批) | handlers and head of the unit that asked | no |
| notice.issue (督办单) | heads of the notice's unit | yes |
| letter.issue (提醒函) | heads of the letter's unit | no |
| notice.escalate (逾期未答复，移交督察) | the bureau's inspectors | yes |
| notice.reply (督办答复) | the bureau's dispatchers; its inspectors if it went to them | no |

The command centre runs the notices (seed 001: 指挥中心牵头), so its dispatchers read the
replies; inspectors follow up the ones that went unanswered, so they read those replies too.
A supervision notice is "sent point to point" to the unit's head (点对点下发), hence the text
message; so is one that went unanswered, to the inspectors who now follow it up. Everything else
is the daily work of people who are in the system anyway.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from minyi.core.models import Event
from minyi.notifications.registry import Message, register_notification_rule
from minyi.notifications.selectors import members
from minyi.orgs.models import Role

UNIT_PEOPLE = (Role.UNIT_HANDLER, Role.UNIT_HEAD)
HEADS = (Role.UNIT_HEAD,)
TITLE_CHARS = 30
# The notice and letter pages, when the orders app has them; else the link is the order's page.
NOTICE_URL_NAMES = ("orders:notice", "orders:notice_detail")
LETTER_URL_NAMES = ("orders:letter", "orders:letter_detail")


def _when(value: Any) -> str:
    """A payload's stored datetime (ISO text) as people read it: 11月24日 17:30."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}"


def _order_link(order_id: Any) -> str:
    return reverse("orders:detail", args=[int(order_id)])


def _document_link(names: tuple[str, ...], pk: int, order_id: int) -> str:
    for name in names:
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return _order_link(order_id)


def _order(event: Event) -> Any:
    from minyi.orders.models import Order

    return (Order.objects.select_related("bureau", "lead_unit")
            .filter(pk=int(event.object_id)).first())


def _about(order: Any) -> str:
    title = order.title if len(order.title) <= TITLE_CHARS else order.title[:TITLE_CHARS] + "…"
    return f"工单 {order.number}「{title}」"


def _unit_name(unit_id: Any) -> str:
    from minyi.orgs.models import Unit

    return Unit.objects.filter(pk=unit_id).values_list("name", flat=True).first() or ""


# --- orders ---------------------------------------------------------------------------------


def dispatched(event: Event) -> list[Message]:
    order = _order(event)
    if order is None:
        return []
    payload = event.payload
    lead_id = payload.get("lead_unit") or order.lead_unit_id
    lead_name = payload.get("lead_unit_name") or _unit_name(lead_id)
    due = _when(payload.get("handling_due_at"))
    link = _order_link(order.pk)
    messages = [Message(
        user_ids=members(roles=UNIT_PEOPLE, unit_ids=[lead_id]),
        text=(f"{_about(order)}已转办{lead_name}，请及时签收，1小时内联系群众"
              + (f"，{due}前办结。" if due else "。")),
        link=link,
    )]
    co_units = [pk for pk in payload.get("co_units") or [] if pk != lead_id]
    if co_units:
        messages.append(Message(
            user_ids=members(roles=UNIT_PEOPLE, unit_ids=co_units),
            text=f"{_about(order)}由{lead_name}牵头办理，请你单位协助办理。",
            link=link,
        ))
    return messages


def redone(event: Event) -> Message | None:
    order = _order(event)
    if order is None:
        return None
    payload = event.payload
    unit_id = payload.get("unit") or order.lead_unit_id
    due = _when(payload.get("handling_due_at"))
    reason = payload.get("reason", "")
    return Message(
        user_ids=members(roles=UNIT_PEOPLE, unit_ids=[unit_id]),
        text=(f"{_about(order)}需重办" + (f"（{reason}）" if reason else "")
              + "，请重新签收办理" + (f"，{due}前办结。" if due else "。")),
        link=_order_link(order.pk),
    )


def reviewed(event: Event) -> Message | None:
    if event.payload.get("passed", True):
        return None  # a passed report is the command centre's to feed back: nobody else acts
    order = _order(event)
    if order is None or order.lead_unit_id is None:
        return None
    reason = event.payload.get("reason", "")
    return Message(
        user_ids=members(roles=UNIT_PEOPLE, unit_ids=[order.lead_unit_id]),
        text=f"{_about(order)}的办理结果被审核退回：{reason}。请继续办理后重新上报。",
        link=_order_link(order.pk),
    )


def return_requested(event: Event) -> Message | None:
    order = _order(event)
    if order is None:
        return None
    unit = order.lead_unit.name if order.lead_unit else ""
    reason = event.payload.get("reason", "")
    return Message(
        user_ids=members(roles=(Role.DISPATCHER,), bureau=order.bureau),
        text=f"{unit}申请退回{_about(order)}，理由：{reason}。请审批。",
        link=_order_link(order.pk),
    )


def return_decided(event: Event) -> Message | None:
    order = _order(event)
    if order is None:
        return None
    payload = event.payload
    unit_id = payload.get("unit")
    if not unit_id:
        return None
    if payload.get("approved"):
        text = f"{_unit_name(unit_id)}的退单申请已同意：{_about(order)}不再由你单位办理。"
    else:
        due = _when(payload.get("handling_due_at"))
        text = (f"{_unit_name(unit_id)}的退单申请未获同意（{payload.get('note', '')}）："
                f"{_about(order)}仍由你单位办理" + (f"，办理时限顺延至{due}。" if due else "。"))
    return Message(user_ids=members(roles=UNIT_PEOPLE, unit_ids=[unit_id]), text=text,
                   link=_order_link(order.pk))


# --- supervision notices and reminder letters ------------------------------------------------


def _notice(event: Event) -> Any:
    from minyi.orders.models import SupervisionNotice

    return (SupervisionNotice.objects.select_related("order", "unit", "bureau")
            .filter(pk=int(event.object_id)).first())


def notice_issued(event: Event) -> Message | None:
    notice = _notice(event)
    if notice is None:
        return None
    return Message(
        user_ids=members(roles=HEADS, unit_ids=[notice.unit_id]),
        text=(f"督办单 {notice.display_number}：{_about(notice.order)}"
              f"{notice.get_reason_display()}，请签收并于{_when(notice.reply_due_at)}前"
              "答复整改措施。"),
        link=_document_link(NOTICE_URL_NAMES, notice.pk, notice.order_id),
        sms=True,
    )


def notice_escalated(event: Event) -> Message | None:
    notice = _notice(event)
    if notice is None:
        return None
    return Message(
        user_ids=members(roles=(Role.INSPECTOR,), bureau=notice.bureau),
        text=(f"督办单 {notice.display_number}（{notice.unit.name}，{_about(notice.order)}）"
              f"逾期未答复（答复期限{_when(notice.reply_due_at)}），已移交督察。"),
        link=_document_link(NOTICE_URL_NAMES, notice.pk, notice.order_id),
        sms=True,
    )


def notice_replied(event: Event) -> Message | None:
    notice = _notice(event)
    if notice is None:
        return None
    roles = [Role.DISPATCHER] + ([Role.INSPECTOR] if notice.escalated_at else [])
    measures = event.payload.get("measures", "") or notice.reply
    if len(measures) > 60:
        measures = measures[:60] + "…"
    late = "" if event.payload.get("on_time", True) else "（逾期）"
    return Message(
        user_ids=members(roles=roles, bureau=notice.bureau),
        text=f"{notice.unit.name}已答复督办单 {notice.display_number}{late}：{measures}",
        link=_document_link(NOTICE_URL_NAMES, notice.pk, notice.order_id),
    )


def letter_issued(event: Event) -> Message | None:
    from minyi.orders.models import ReminderLetter

    letter = (ReminderLetter.objects.select_related("order")
              .filter(pk=int(event.object_id)).first())
    if letter is None:
        return None
    return Message(
        user_ids=members(roles=HEADS, unit_ids=[letter.unit_id]),
        text=(f"提醒函 {letter.display_number}：{_about(letter.order)}"
              f"（{letter.get_reason_display()}），请单位负责人督促加大办理力度。"),
        link=_document_link(LETTER_URL_NAMES, letter.pk, letter.order_id),
    )


def register() -> None:
    register_notification_rule("order.dispatch", dispatched)
    register_notification_rule("order.redo", redone)
    register_notification_rule("order.review", reviewed)
    register_notification_rule("order.request_return", return_requested)
    register_notification_rule("order.decide_return", return_decided)
    register_notification_rule("notice.issue", notice_issued)
    register_notification_rule("notice.escalate", notice_escalated)
    register_notification_rule("notice.reply", notice_replied)
    register_notification_rule("letter.issue", letter_issued)
