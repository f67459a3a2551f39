"""Supervision (督办) and reminders (提醒): the pressure on units that fall behind (seed 001).

Actions that issue numbered supervision notices (督〔2026〕37号) and reminder letters
(提醒〔2026〕12号), that let a unit head sign for and answer a notice, and the sweep that finds
the orders that need one. Each document is issued in its own transaction together with its
number, so:
- a number is taken under a row lock and given back if the transaction fails: no gaps;
- one order gets one document per cause and round (a unique constraint): two sweeps at once, or a
  sweep run again after a worker died half-way, never issue a second one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orders import repeats
from minyi.orders.models import DocumentSequence, Order, ReminderLetter, SupervisionNotice
from minyi.orders.rules import CLOCK_STATES, FINAL_STATES, CallbackOutcome
from minyi.orgs import access
from minyi.orgs.models import Role, Unit
from minyi.workcal import selectors as workcal

NOTICE = "notice"
LETTER = "letter"


def reply_limit() -> str:
    """How long a unit has to answer a notice, in working time (default two working days)."""
    return getattr(settings, "MINYI_NOTICE_REPLY_LIMIT", "2d")


def next_number(*, bureau: Unit, kind: str, year: int) -> int:
    """The next number of `kind` for the bureau and year; call inside the issuing transaction."""
    # The document's events come next: take the chain's lock before the sequence row's, the
    # order every writer uses, or a callback (chain, then sequence) and a sweep (sequence, then
    # chain) could deadlock.
    lock_chain()
    DocumentSequence.objects.get_or_create(bureau=bureau, kind=kind, year=year)
    sequence = DocumentSequence.objects.select_for_update().get(bureau=bureau, kind=kind,
                                                                year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def _year(moment: datetime) -> int:
    return timezone.localtime(moment).year


def _notice_text(order: Order, reason: str) -> str:
    unit = order.lead_unit.name if order.lead_unit else ""
    if reason == SupervisionNotice.Reason.OVERDUE:
        due = timezone.localtime(order.handling_due_at)
        return (f"{unit}：工单 {order.number}「{order.title}」办理时限为 {due:%Y年%m月%d日 %H:%M}，"
                "现已超期未办结。请接单后立即组织办理，并在答复期限内报告整改措施。")
    return (f"{unit}：工单 {order.number}「{order.title}」上报的办理结果经审核退回，"
            "群众诉求尚未解决。请切实加大办理力度，并在答复期限内报告整改措施。")


def _letter_text(order: Order, reason: str) -> str:
    unit = order.lead_unit.name if order.lead_unit else ""
    why = {
        ReminderLetter.Reason.DISSATISFIED: "回访群众表示不满意",
        ReminderLetter.Reason.REPEAT: "群众就同一事项重复投诉",
        ReminderLetter.Reason.LEADER_ASSIGNED: "该事项为领导批示交办事项",
    }[reason]
    return (f"{unit}：工单 {order.number}「{order.title}」{why}。请单位负责人高度重视，"
            "加大办理力度，确保群众诉求得到解决。")


def issue_notice(*, actor: Any, order: Order, reason: str, now: datetime | None = None,
                 cycle: int | None = None) -> SupervisionNotice | None:
    """Issue a supervision notice to the unit holding the order; None if this round has one."""
    now = now or timezone.now()
    if cycle is None:
        cycle = order.redo_count if reason == SupervisionNotice.Reason.OVERDUE \
            else order.sendback_count
    if order.lead_unit is None:
        return None
    reply_due = workcal.deadline(now, reply_limit())
    try:
        with transaction.atomic():
            if SupervisionNotice.objects.filter(order=order, reason=reason, cycle=cycle).exists():
                return None
            notice = SupervisionNotice.objects.create(
                bureau=order.bureau, order=order, unit=order.lead_unit, year=_year(now),
                number=next_number(bureau=order.bureau, kind=NOTICE, year=_year(now)),
                cycle=cycle, issued_at=now, issued_by=actor, reason=reason,
                text=_notice_text(order, reason), reply_due_at=reply_due,
            )
            record_event(actor=actor, obj=notice, action="notice.issue", payload={
                "number": notice.display_number, "order": order.pk, "reason": reason,
                "unit": order.lead_unit_id, "reply_due_at": reply_due})
            record_event(actor=actor, obj=order, action="order.notice",
                         payload={"notice": notice.pk, "number": notice.display_number,
                                  "reason": reason})
    except IntegrityError:
        # Another sweep issued this round's notice between our check and our insert.
        return None
    return notice


def issue_letter(*, actor: Any, order: Order, reason: str, now: datetime | None = None,
                 cycle: int | None = None) -> ReminderLetter | None:
    """Issue a reminder letter about the order; None if this round already has one."""
    now = now or timezone.now()
    cycle = order.redo_count if cycle is None else cycle
    if order.lead_unit is None:
        return None
    try:
        with transaction.atomic():
            if ReminderLetter.objects.filter(order=order, reason=reason, cycle=cycle).exists():
                return None
            letter = ReminderLetter.objects.create(
                bureau=order.bureau, order=order, unit=order.lead_unit, year=_year(now),
                number=next_number(bureau=order.bureau, kind=LETTER, year=_year(now)),
                cycle=cycle, issued_at=now, issued_by=actor, reason=reason,
                text=_letter_text(order, reason),
            )
            record_event(actor=actor, obj=letter, action="letter.issue", payload={
                "number": letter.display_number, "order": order.pk, "reason": reason,
                "unit": order.lead_unit_id})
            record_event(actor=actor, obj=order, action="order.letter",
                         payload={"letter": letter.pk, "number": letter.display_number,
                                  "reason": reason})
    except IntegrityError:
        return None
    return letter


def _require_head(actor: Any, unit: Unit, what: str) -> None:
    if not (access.acts_for_unit(actor, unit, {Role.UNIT_HEAD}) or actor.is_superuser):
        raise NotAllowed(f"只有{unit}的单位负责人可以{what}")


def sign_notice(*, actor: Any, notice: SupervisionNotice) -> SupervisionNotice:
    with transaction.atomic():
        lock_chain()
        notice = SupervisionNotice.objects.select_for_update().get(pk=notice.pk)
        _require_head(actor, notice.unit, "签收督办单")
        if notice.signed_at is not None:
            raise Conflict(f"{notice.display_number} 已于 "
                           f"{timezone.localtime(notice.signed_at):%m月%d日 %H:%M} 签收")
        notice.signed_by, notice.signed_at = actor, timezone.now()
        notice.save(update_fields=["signed_by", "signed_at", "updated_at"])
        record_event(actor=actor, obj=notice, action="notice.sign")
    return notice


def reply_notice(*, actor: Any, notice: SupervisionNotice, measures: str) -> SupervisionNotice:
    """The unit head's answer: the measures taken (signing for it first if not yet done)."""
    measures = (measures or "").strip()
    if len(measures) < 10:
        raise InvalidInput("请具体写明已采取的整改措施（不少于 10 个字）")
    with transaction.atomic():
        lock_chain()
        notice = SupervisionNotice.objects.select_for_update().get(pk=notice.pk)
        _require_head(actor, notice.unit, "答复督办单")
        if notice.replied_at is not None:
            raise Conflict(f"{notice.display_number} 已经答复过")
        now = timezone.now()
        if notice.signed_at is None:
            notice.signed_by, notice.signed_at = actor, now
        notice.reply, notice.replied_by, notice.replied_at = measures, actor, now
        notice.save()
        record_event(actor=actor, obj=notice, action="notice.reply", payload={
            "measures": measures, "on_time": now <= notice.reply_due_at})
    return notice


def acknowledge_letter(*, actor: Any, letter: ReminderLetter) -> ReminderLetter:
    """The unit head signs for a reminder letter (签收), once."""
    with transaction.atomic():
        lock_chain()
        letter = ReminderLetter.objects.select_for_update().get(pk=letter.pk)
        _require_head(actor, letter.unit, "签收提醒函")
        if letter.acknowledged_at is not None:
            who = letter.acknowledged_by.display_name if letter.acknowledged_by else "他人"
            raise Conflict(f"{letter.display_number} 已由{who}于 "
                           f"{timezone.localtime(letter.acknowledged_at):%m月%d日 %H:%M} 签收")
        letter.acknowledged_by, letter.acknowledged_at = actor, timezone.now()
        letter.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
        record_event(actor=actor, obj=letter, action="letter.acknowledge",
                     payload={"number": letter.display_number, "order": letter.order_id})
    return letter


def escalate_unanswered(*, now: datetime | None = None) -> int:
    """Notices past their reply deadline without an answer go to the inspectors (督察)."""
    now = now or timezone.now()
    due = SupervisionNotice.objects.filter(replied_at__isnull=True, escalated_at__isnull=True,
                                           reply_due_at__lt=now)
    count = 0
    for notice in due.iterator():
        with transaction.atomic():
            # The conditional update claims the notice: a second sweep at once finds it taken.
            if not SupervisionNotice.objects.filter(pk=notice.pk, escalated_at__isnull=True
                                                    ).update(escalated_at=now):
                continue
            record_event(actor=None, obj=notice, action="notice.escalate",
                         payload={"reply_due_at": notice.reply_due_at})
        count += 1
    return count


@dataclass
class SweepResult:
    notices: int = 0
    letters: int = 0
    escalated: int = 0
    repeats_checked: int = 0
    repeats_found: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(*, now: datetime | None = None, batch: int = 500) -> SweepResult:
    """Find every order that needs a notice or a letter and issue it; escalate unanswered
    notices. Safe to run twice, at the same time, or again after dying half-way."""
    now = now or timezone.now()
    result = SweepResult()
    open_orders = Order.objects.exclude(state__in=FINAL_STATES).select_related(
        "bureau", "lead_unit")

    def lacking(model: type, reason: str, cycle_field: str) -> Exists:
        return Exists(model.objects.filter(order=OuterRef("pk"), reason=reason,
                                           cycle=OuterRef(cycle_field)))

    overdue = open_orders.filter(state__in=CLOCK_STATES, handling_due_at__lt=now).exclude(
        lacking(SupervisionNotice, SupervisionNotice.Reason.OVERDUE, "redo_count"))
    for order in overdue.order_by("handling_due_at", "pk")[:batch]:
        result.notices += issue_notice(actor=None, order=order, now=now,
                                       reason=SupervisionNotice.Reason.OVERDUE) is not None
    sent_back = open_orders.filter(sendback_count__gt=0).exclude(
        lacking(SupervisionNotice, SupervisionNotice.Reason.UNRESOLVED, "sendback_count"))
    for order in sent_back.order_by("pk")[:batch]:
        result.notices += issue_notice(actor=None, order=order, now=now,
                                       reason=SupervisionNotice.Reason.UNRESOLVED) is not None
    dissatisfied = open_orders.filter(callback_outcome=CallbackOutcome.DISSATISFIED).exclude(
        lacking(ReminderLetter, ReminderLetter.Reason.DISSATISFIED, "redo_count"))
    for order in dissatisfied.order_by("pk")[:batch]:
        result.letters += issue_letter(actor=None, order=order, now=now,
                                       reason=ReminderLetter.Reason.DISSATISFIED) is not None
    leader = open_orders.filter(is_leader_assigned=True, lead_unit__isnull=False).exclude(
        Exists(ReminderLetter.objects.filter(order=OuterRef("pk"),
                                             reason=ReminderLetter.Reason.LEADER_ASSIGNED)))
    for order in leader.order_by("pk")[:batch]:
        result.letters += issue_letter(actor=None, order=order, now=now, cycle=0,
                                       reason=ReminderLetter.Reason.LEADER_ASSIGNED) is not None
    # Repeat complaints: found here rather than when an order comes in, so that every way in
    # (form, API, bulk import) is covered and imports are not slowed (see orders.repeats).
    if repeats.enabled():
        checked = repeats.check_orders(now=now, batch=max(batch, 2000))
        result.repeats_checked, result.repeats_found = checked.checked, checked.repeats
        for order in repeats.repeat_letters_due(now=now)[:batch]:
            # cycle 0: one repeat letter per order, however often it is redone.
            result.letters += issue_letter(actor=None, order=order, now=now, cycle=0,
                                           reason=ReminderLetter.Reason.REPEAT) is not None
    result.escalated = escalate_unanswered(now=now)
    return result
