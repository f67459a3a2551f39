"""Every change of a work order: one function per transition of the closed loop.

Each takes the acting user and keyword-only arguments, checks the actor's role and unit, locks
the order row, checks the state it starts from (and, when given, the version the actor saw),
makes the change, and writes its event, all in one transaction. When two people act on one order
at once, the second finds the order locked, waits, then sees the new state and is told who did
what (`Conflict`); nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orders.models import (
    Assignment,
    Attachment,
    Order,
    OrderType,
    Report,
    ReturnRequest,
)
from minyi.orders.rules import (
    CLOCK_STATES,
    TRANSITION_LABELS,
    CallbackOutcome,
    CreatedVia,
    DemandKind,
    State,
    can_start,
)
from minyi.orgs import access
from minyi.orgs.models import Area, Role, Unit
from minyi.workcal import selectors as workcal
from minyi.workcal.timecalc import add_working_time, working_time_between

DISPATCH_ROLES = frozenset({Role.DISPATCHER})
REVIEW_ROLES = frozenset({Role.DISPATCHER, Role.INSPECTOR, Role.LEGAL_REVIEWER})
CALLBACK_ROLES = frozenset({Role.DISPATCHER, Role.OPINION_OFFICER})
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


# --- helpers -------------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def _require_bureau_role(actor: Any, order: Order, roles: Iterable[str], what: str) -> None:
    if actor is None:
        return  # the system (imports, integrations) acts with its own checks
    if not access.bureau_role(actor, order.bureau, roles) and not actor.is_superuser:
        raise NotAllowed(f"您的岗位不能{what}该工单")


def _require_unit(actor: Any, order: Order, what: str) -> None:
    if actor is None:
        return
    if not access.acts_for_unit(actor, order.lead_unit) and not actor.is_superuser:
        raise NotAllowed(f"只有承办单位（{order.lead_unit or '未指定'}）的民警可以{what}")


def _last_event_text(order: Order) -> str:
    from minyi.core.models import Event

    event = (Event.objects.filter(object_type="orders.order", object_id=str(order.pk))
             .order_by("-id").first())
    if event is None:
        return ""
    when = timezone.localtime(event.created_at)
    label = TRANSITION_LABELS.get(event.action.removeprefix("order."), event.action)
    target = event.payload.get("lead_unit_name") or event.payload.get("unit_name")
    to = f"至{target}" if target else ""
    return f"{event.actor_label}已于{when:%m月%d日 %H:%M}执行「{label}」{to}，"


def _lock(order: Order | int, transition: str, expected_version: int | None) -> Order:
    """The order row, locked for this transaction, in a state the transition may start from."""
    pk = order.pk if isinstance(order, Order) else order
    # The chain first, then the row: every writer takes them in this order (core.audit), so an
    # order action and a callback answer that records on the same order cannot deadlock.
    lock_chain()
    locked = Order.objects.select_for_update(of=("self",)).select_related(
        "bureau", "lead_unit", "order_type", "channel").get(pk=pk)
    label = TRANSITION_LABELS[transition]
    if not can_start(transition, locked.state):
        raise Conflict(
            f"工单 {locked.number} {_last_event_text(locked)}"
            f"当前状态为「{locked.get_state_display()}」，不能{label}。请刷新页面查看。"
        )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"工单 {locked.number} 在您打开后已被更新（{_last_event_text(locked)}"
            f"当前状态「{locked.get_state_display()}」）。请刷新页面后再{label}。"
        )
    return locked


def _save(order: Order, actor: Any, action: str, from_state: str, payload: dict | None = None,
          fields: Sequence[str] = ()) -> Order:
    order.version += 1
    order.save(update_fields=[*fields, "state", "version", "updated_at"])
    record_event(actor=actor, obj=order, action=f"order.{action}", from_state=from_state,
                 to_state=order.state, payload=payload or {})
    return order


def _text(value: str, what: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"请填写{what}")
    return value


@dataclass(frozen=True)
class Deadlines:
    contact_due_at: datetime
    handling_due_at: datetime
    handling_limit: timedelta


def deadlines_for(order_type: OrderType, start: datetime,
                  paused: timedelta = timedelta(0)) -> Deadlines:
    """The contact and handling deadlines of an order of this type dispatched at `start`."""
    contact = workcal.deadline(start, order_type.contact_limit, order_type.contact_calendar)
    schedule = workcal.schedule_for(order_type.handling_calendar)
    from minyi.workcal.timecalc import parse_duration

    limit = parse_duration(order_type.handling_limit, schedule)
    handling = add_working_time(schedule, start, limit + paused)
    return Deadlines(contact, handling, limit)


def _open_assignments(order: Order) -> list[Assignment]:
    return list(order.assignments.filter(ended_at__isnull=True))


def _end_assignments(order: Order, reason: str, at: datetime) -> None:
    order.assignments.filter(ended_at__isnull=True).update(ended_at=at, end_reason=reason)


# --- receive ------------------------------------------------------------------------------


def receive_order(
    *,
    actor: Any,
    bureau: Unit,
    channel: Any,
    order_type: OrderType,
    demand_kind: str,
    title: str,
    content: str = "",
    citizen_name: str = "",
    citizen_phone: str = "",
    citizen_address: str = "",
    area: Area | None = None,
    location: str = "",
    is_leader_assigned: bool = False,
    leader_instruction: str = "",
    external_id: str = "",
    received_at: datetime | None = None,
    created_via: str = CreatedVia.FORM,
    source_client: Any = None,
    source_data: dict | None = None,
) -> tuple[Order, bool]:
    """Take a demand in. Returns (order, created): an order already received from the same
    channel with the same external id is returned as it is, not made twice."""
    from minyi.core.crypto import is_valid_phone

    if actor is not None and not (access.bureau_role(actor, bureau, DISPATCH_ROLES)
                                  or actor.is_superuser):
        raise NotAllowed("只有指挥中心调度员可以接单录入工单")
    external_id = (external_id or "").strip()
    if external_id:
        existing = Order.objects.filter(channel=channel, external_id=external_id).first()
        if existing is not None:
            return existing, False
    if demand_kind not in DemandKind.values:
        raise InvalidInput(f"未知的诉求类型：{demand_kind!r}")
    title = _text(title, "标题")[:200]
    if citizen_phone and not is_valid_phone(citizen_phone):
        raise InvalidInput(f"联系电话格式不正确：{citizen_phone}")
    if area is not None and not area.station.path.startswith(bureau.path):
        raise InvalidInput(f"区域「{area}」不属于{bureau}")
    if is_leader_assigned and not leader_instruction.strip():
        raise InvalidInput("领导批示交办的工单请填写批示内容")
    order = Order(
        bureau=bureau, channel=channel, external_id=external_id, order_type=order_type,
        demand_kind=demand_kind, title=title, content=(content or "").strip(), area=area,
        is_leader_assigned=is_leader_assigned, leader_instruction=leader_instruction.strip(),
        received_at=received_at or _now(), received_by=actor, created_via=created_via,
        source_client=source_client, source_data=source_data or {},
    )
    order.set_citizen(name=citizen_name, phone=citizen_phone, address=citizen_address)
    order.set_location(location)
    try:
        with transaction.atomic():
            order.save()
            record_event(actor=actor, obj=order, action="order.receive",
                         to_state=order.state,
                         payload={"channel": channel.code, "external_id": external_id,
                                  "via": created_via})
    except Exception:
        # Two deliveries of one order at once: the unique (channel, external id) lets only one
        # in; the other gets the one that won.
        if external_id:
            existing = Order.objects.filter(channel=channel, external_id=external_id).first()
            if existing is not None:
                return existing, False
        raise
    return order, True


# --- dispatch, sign, contact, report --------------------------------------------------------


def dispatch_order(
    *,
    actor: Any,
    order: Order | int,
    lead_unit: Unit,
    co_units: Iterable[Unit] = (),
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Order:
    """Send the order to the unit responsible (one lead, optional co-handling units). The
    unit's clock starts now: contact within the type's contact limit, handling within its
    handling limit on its calendar."""
    co_units = [u for u in co_units if u.pk != lead_unit.pk]
    with transaction.atomic():
        order = _lock(order, "dispatch", expected_version)
        _require_bureau_role(actor, order, DISPATCH_ROLES, "转办")
        for unit in [lead_unit, *co_units]:
            if not unit.path.startswith(order.bureau.path) or unit.kind == Unit.Kind.BUREAU:
                raise InvalidInput(f"「{unit}」不是{order.bureau}的承办单位")
            if not unit.is_active:
                raise InvalidInput(f"「{unit}」已停用")
        at = at or _now()
        deadlines = deadlines_for(order.order_type, at)
        for unit in [lead_unit, *co_units]:
            Assignment.objects.create(
                created_at=at,
                order=order, unit=unit, is_lead=unit.pk == lead_unit.pk, dispatched_at=at,
                dispatched_by=actor, note=note.strip(), handling_limit=deadlines.handling_limit,
                contact_due_at=deadlines.contact_due_at,
                handling_due_at=deadlines.handling_due_at,
            )
        from_state = order.state
        order.state = State.DISPATCHED
        order.lead_unit = lead_unit
        order.dispatched_at = at
        order.contact_due_at = deadlines.contact_due_at
        order.handling_due_at = deadlines.handling_due_at
        return _save(order, actor, "dispatch", from_state, {
            "lead_unit": lead_unit.pk, "lead_unit_name": lead_unit.name,
            "co_units": [u.pk for u in co_units], "note": note.strip(),
            "contact_due_at": deadlines.contact_due_at,
            "handling_due_at": deadlines.handling_due_at,
        }, ["lead_unit", "dispatched_at", "contact_due_at", "handling_due_at"])


def dispatch_orders(*, actor: Any, orders: Iterable[Order | int], lead_unit: Unit,
                    note: str = "") -> tuple[list[Order], list[str]]:
    """Bulk dispatch from the board: each order on its own, so one taken by a colleague in the
    meantime does not stop the others. Returns (dispatched, messages about the rest)."""
    done, problems = [], []
    for order in orders:
        try:
            done.append(dispatch_order(actor=actor, order=order, lead_unit=lead_unit, note=note))
        except (Conflict, InvalidInput, NotAllowed) as exc:
            problems.append(str(exc))
    return done, problems


def sign_order(*, actor: Any, order: Order | int, expected_version: int | None = None) -> Order:
    with transaction.atomic():
        order = _lock(order, "sign", expected_version)
        _require_unit(actor, order, "签收")
        from_state = order.state
        order.state = State.SIGNED
        order.signed_at = _now()
        return _save(order, actor, "sign", from_state, fields=["signed_at"])


def contact_citizen(*, actor: Any, order: Order | int, method: str, note: str = "",
                    at: datetime | None = None, expected_version: int | None = None) -> Order:
    """Record the first call or visit to the citizen (within the hour, seed 001)."""
    methods = {"phone": "电话联系", "visit": "见面沟通"}
    if method not in methods:
        raise InvalidInput(f"联系方式只能是电话联系或见面沟通，而不是 {method!r}")
    with transaction.atomic():
        order = _lock(order, "contact", expected_version)
        _require_unit(actor, order, "登记联系情况")
        if order.contacted_at is not None:
            when = timezone.localtime(order.contacted_at)
            raise Conflict(f"工单 {order.number} 已于 {when:%m月%d日 %H:%M} 登记过联系情况")
        at = at or _now()
        if at > _now() + timedelta(minutes=5):
            raise InvalidInput("联系时间不能晚于现在")
        if order.dispatched_at and at < order.dispatched_at:
            raise InvalidInput("联系时间不能早于转办时间")
        order.contacted_at = at
        return _save(order, actor, "contact", order.state, {
            "method": method, "method_label": methods[method], "note": note.strip(),
            "on_time": order.contact_due_at is None or at <= order.contact_due_at,
        }, ["contacted_at"])


def report_order(
    *,
    actor: Any,
    order: Order | int,
    result: str,
    measures: str = "",
    resolved: bool = True,
    files: Iterable[Any] = (),
    expected_version: int | None = None,
) -> Report:
    """The unit reports what it did: result, measures, attachments. The handling clock stops."""
    result = _text(result, "办理结果")
    files = list(files)
    for upload in files:
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise InvalidInput(f"附件「{upload.name}」超过 20MB")
    with transaction.atomic():
        order = _lock(order, "report", expected_version)
        _require_unit(actor, order, "上报")
        if order.contacted_at is None:
            raise InvalidInput("请先登记与群众的联系情况，再上报办理结果")
        report = Report.objects.create(created_at=_now(), order=order, unit=order.lead_unit,
                                       author=actor,
                                       result=result, measures=(measures or "").strip(),
                                       resolved=resolved)
        for upload in files:
            Attachment.objects.create(report=report, file=upload, name=upload.name[:255],
                                      size=upload.size,
                                      content_type=getattr(upload, "content_type", "") or "")
        from_state = order.state
        order.state = State.REPORTED
        order.reported_at = report.created_at
        _save(order, actor, "report", from_state, {
            "report": report.pk, "resolved": resolved, "attachments": len(files),
            "on_time": (order.handling_due_at is None
                        or order.reported_at <= order.handling_due_at),
        }, ["reported_at"])
    return report


def request_return(*, actor: Any, order: Order | int, reason: str,
                   expected_version: int | None = None) -> ReturnRequest:
    """The unit says the order is not its own. Its clock stops until the command centre
    decides."""
    reason = _text(reason, "退单理由")
    with transaction.atomic():
        order = _lock(order, "request_return", expected_version)
        _require_unit(actor, order, "申请退单")
        request = ReturnRequest.objects.create(created_at=_now(), order=order,
                                               unit=order.lead_unit, reason=reason,
                                               requested_by=actor)
        from_state = order.state
        order.state_before_return = from_state
        order.state = State.RETURN_REQUESTED
        order.paused_at = _now()
        order.return_count += 1
        _save(order, actor, "request_return", from_state, {"reason": reason,
                                                           "request": request.pk},
              ["state_before_return", "paused_at", "return_count"])
    return request


def decide_return(*, actor: Any, order: Order | int, approve: bool, note: str = "",
                  expected_version: int | None = None) -> Order:
    """Approved: the unit is relieved and the order waits to be dispatched again. Rejected: the
    unit goes on, its deadline moved by the working time the clock stood still."""
    note = (note or "").strip()
    if not approve and not note:
        raise InvalidInput("不同意退单时请填写审批意见，告诉承办单位为什么仍由其办理")
    with transaction.atomic():
        order = _lock(order, "decide_return", expected_version)
        _require_bureau_role(actor, order, DISPATCH_ROLES, "审批退单")
        now = _now()
        request = order.return_requests.filter(decision="").order_by("-id").first()
        if request is not None:
            request.decision = (ReturnRequest.Decision.APPROVED if approve
                                else ReturnRequest.Decision.REJECTED)
            request.decided_by, request.decided_at, request.decision_note = actor, now, note
            request.save()
        from_state = order.state
        payload: dict[str, Any] = {"approved": approve, "note": note,
                                   "unit": order.lead_unit_id}
        if approve:
            _end_assignments(order, Assignment.EndReason.RETURNED, now)
            order.state = State.RECEIVED
            order.lead_unit = None
            order.dispatched_at = order.signed_at = order.contacted_at = None
            order.contact_due_at = order.handling_due_at = None
        else:
            schedule = workcal.schedule_for(order.order_type.handling_calendar)
            paused = working_time_between(schedule, order.paused_at or now, now)
            lead = order.assignments.filter(is_lead=True, ended_at__isnull=True).first()
            if lead is not None:
                lead.paused_working += paused
                lead.handling_due_at = add_working_time(
                    schedule, lead.dispatched_at, lead.handling_limit + lead.paused_working)
                lead.save(update_fields=["paused_working", "handling_due_at", "updated_at"])
                order.handling_due_at = lead.handling_due_at
            order.state = order.state_before_return or State.DISPATCHED
            payload["paused_working_seconds"] = int(paused.total_seconds())
            payload["handling_due_at"] = order.handling_due_at
        order.paused_at = None
        order.state_before_return = ""
        return _save(order, actor, "decide_return", from_state, payload, [
            "lead_unit", "dispatched_at", "signed_at", "contacted_at", "contact_due_at",
            "handling_due_at", "paused_at", "state_before_return"])


# --- review, feedback, callback, close -------------------------------------------------------


def review_order(*, actor: Any, order: Order | int, passed: bool, reason: str = "",
                 expected_version: int | None = None) -> Order:
    """Pass the unit's report, or send it back with the reason (审核退回)."""
    reason = (reason or "").strip()
    if not passed and not reason:
        raise InvalidInput("审核退回时请填写退回理由")
    with transaction.atomic():
        order = _lock(order, "review", expected_version)
        _require_bureau_role(actor, order, REVIEW_ROLES, "审核")
        now = _now()
        report = order.reports.filter(decision="").order_by("-id").first()
        if report is not None:
            report.decision = Report.Decision.PASSED if passed else Report.Decision.SENT_BACK
            report.reviewer, report.review_reason, report.reviewed_at = actor, reason, now
            report.save()
        from_state = order.state
        if passed:
            order.state = State.REVIEWED
            order.reviewed_at = now
            order.handled_at = report.created_at if report else order.reported_at
        else:
            order.state = State.SIGNED
            order.reported_at = None
            order.sendback_count += 1
        return _save(order, actor, "review", from_state, {
            "passed": passed, "reason": reason, "report": report.pk if report else None,
            "unresolved": bool(report and not report.resolved),
        }, ["reviewed_at", "handled_at", "reported_at", "sendback_count"])


def feed_back_order(*, actor: Any, order: Order | int, expected_version: int | None = None,
                    note: str = "") -> Order:
    """Return the result to the source platform and the citizen (反馈)."""
    from minyi.intake.models import FeedbackDelivery

    with transaction.atomic():
        order = _lock(order, "feed_back", expected_version)
        _require_bureau_role(actor, order, DISPATCH_ROLES, "反馈")
        from_state = order.state
        order.state = State.FED_BACK
        order.fed_back_at = _now()
        report = order.reports.filter(decision=Report.Decision.PASSED).order_by("-id").first()
        client = order.source_client
        delivery = None
        if client is not None and client.webhook_url and client.is_active:
            delivery = FeedbackDelivery.objects.create(order=order, client=client,
                                                       payload=feedback_payload(order, report))
        _save(order, actor, "feed_back", from_state, {
            "note": note.strip(), "delivery": delivery.pk if delivery else None,
        }, ["fed_back_at"])
    # The delivery is posted by the feedback sweep (every minute), not in this request: a slow
    # or unreachable platform must not hold up the command centre.
    return order


def feedback_payload(order: Order, report: Report | None) -> dict[str, Any]:
    return {
        "order_number": order.number,
        "external_id": order.external_id,
        "channel": order.channel.code,
        "state": order.state,
        "unit": order.lead_unit.name if order.lead_unit else "",
        "result": report.result if report else "",
        "measures": report.measures if report else "",
        "handled_at": order.handled_at.isoformat() if order.handled_at else None,
        "fed_back_at": order.fed_back_at.isoformat() if order.fed_back_at else None,
    }


def record_callback(*, actor: Any, order: Order | int, outcome: str, note: str = "",
                    expected_version: int | None = None) -> Order:
    if outcome not in CallbackOutcome.values:
        raise InvalidInput(f"未知的回访结果：{outcome!r}")
    with transaction.atomic():
        order = _lock(order, "record_callback", expected_version)
        _require_bureau_role(actor, order, CALLBACK_ROLES, "登记回访结果")
        order.callback_outcome = outcome
        order.callback_at = _now()
        order.callback_note = (note or "").strip()
        _save(order, actor, "record_callback", order.state, {
            "outcome": outcome, "note": order.callback_note,
        }, ["callback_outcome", "callback_at", "callback_note"])
        if outcome == CallbackOutcome.DISSATISFIED:
            # The letter goes out with the answer (seed 001: 回访不满意工单下发提醒函), not a
            # sweep later, by which time the order may already be redone.
            from minyi.orders.escalation import issue_letter

            issue_letter(actor=actor, order=order, reason="dissatisfied", now=order.callback_at)
        return order


def close_order(*, actor: Any, order: Order | int, note: str = "",
                expected_version: int | None = None) -> Order:
    """Close after the callback. A dissatisfied citizen's order is redone, or closed only with
    a note saying why it cannot be (e.g. the demand has no legal basis)."""
    note = (note or "").strip()
    with transaction.atomic():
        order = _lock(order, "close", expected_version)
        _require_bureau_role(actor, order, CALLBACK_ROLES, "办结")
        if not order.callback_outcome:
            raise InvalidInput("请先登记回访结果，再办结")
        if order.callback_outcome == CallbackOutcome.DISSATISFIED and not note:
            raise InvalidInput("群众不满意的工单应当重办；确需办结的，请填写办结说明")
        from_state = order.state
        order.state = State.CLOSED
        order.closed_at = _now()
        order.close_note = note
        _end_assignments(order, Assignment.EndReason.FINISHED, order.closed_at)
        return _save(order, actor, "close", from_state, {
            "note": note, "callback_outcome": order.callback_outcome,
            "on_time": order.on_time,
        }, ["closed_at", "close_note"])


def redo_order(*, actor: Any, order: Order | int, reason: str, lead_unit: Unit | None = None,
               expected_version: int | None = None) -> Order:
    """Reopen for redoing (重办): after a dissatisfied callback or a repeat complaint. A new
    assignment with new deadlines goes to the same unit unless another is named."""
    reason = _text(reason, "重办理由")
    with transaction.atomic():
        order = _lock(order, "redo", expected_version)
        _require_bureau_role(actor, order, CALLBACK_ROLES, "重办")
        unit = lead_unit or order.lead_unit
        if unit is None:
            raise InvalidInput("请选择重办的承办单位")
        if not unit.path.startswith(order.bureau.path):
            raise InvalidInput(f"「{unit}」不是{order.bureau}的承办单位")
        now = _now()
        _end_assignments(order, Assignment.EndReason.REDONE, now)
        deadlines = deadlines_for(order.order_type, now)
        Assignment.objects.create(
            created_at=now,
            order=order, unit=unit, is_lead=True, dispatched_at=now, dispatched_by=actor,
            note=reason, handling_limit=deadlines.handling_limit,
            contact_due_at=deadlines.contact_due_at, handling_due_at=deadlines.handling_due_at,
        )
        from_state = order.state
        previous_outcome = order.callback_outcome
        order.state = State.DISPATCHED
        order.lead_unit = unit
        order.dispatched_at = now
        order.contact_due_at = deadlines.contact_due_at
        order.handling_due_at = deadlines.handling_due_at
        order.signed_at = order.contacted_at = order.reported_at = order.reviewed_at = None
        order.fed_back_at = order.closed_at = order.handled_at = order.callback_at = None
        order.callback_outcome = order.callback_note = order.close_note = ""
        order.redo_count += 1
        return _save(order, actor, "redo", from_state, {
            "reason": reason, "unit": unit.pk, "unit_name": unit.name,
            "previous_callback_outcome": previous_outcome,
            "handling_due_at": deadlines.handling_due_at,
        }, ["lead_unit", "dispatched_at", "contact_due_at", "handling_due_at", "signed_at",
            "contacted_at", "reported_at", "reviewed_at", "fed_back_at", "closed_at",
            "handled_at", "callback_at", "callback_outcome", "callback_note", "close_note",
            "redo_count"])


def mark_invalid(*, actor: Any, order: Order | int, reason: str,
                 expected_version: int | None = None) -> Order:
    """An order that is no demand (恶意重复来电, a test call ...), with the reason."""
    reason = _text(reason, "无效原因")
    with transaction.atomic():
        order = _lock(order, "mark_invalid", expected_version)
        _require_bureau_role(actor, order, DISPATCH_ROLES, "标记无效")
        from_state = order.state
        order.state = State.INVALID
        order.invalid_reason = reason
        order.paused_at = None
        _end_assignments(order, Assignment.EndReason.INVALID, _now())
        return _save(order, actor, "mark_invalid", from_state, {"reason": reason},
                     ["invalid_reason", "paused_at"])


def reveal_citizen(*, actor: Any, order: Order, field: str) -> str:
    """Show one piece of a citizen's personal data in clear, and log who looked."""
    labels = {"name": "姓名", "phone": "电话", "address": "住址"}
    if field not in labels:
        raise InvalidInput(f"未知的字段：{field!r}")
    value = getattr(order, f"citizen_{field}")
    with transaction.atomic():
        record_event(actor=actor, obj=order, action="order.reveal",
                     payload={"field": field, "label": labels[field]})
    return value


# --- timers after a calendar change ----------------------------------------------------------


def recompute_deadlines(*, years: Iterable[int] = ()) -> int:
    """After holidays were entered or changed: the handling deadlines of the orders units hold,
    counted again on the new calendar. Returns how many moved."""
    years = sorted(set(years))
    moved = 0
    open_leads = (Assignment.objects.filter(ended_at__isnull=True, is_lead=True,
                                            handling_limit__isnull=False,
                                            order__state__in=CLOCK_STATES)
                  .select_related("order__order_type"))
    for assignment in open_leads.iterator(chunk_size=500):
        schedule = workcal.schedule_for(assignment.order.order_type.handling_calendar)
        due = add_working_time(schedule, assignment.dispatched_at,
                               assignment.handling_limit + assignment.paused_working)
        if due == assignment.handling_due_at:
            continue
        with transaction.atomic():
            lock_chain()
            order = Order.objects.select_for_update().get(pk=assignment.order_id)
            old = assignment.handling_due_at
            Assignment.objects.filter(pk=assignment.pk).update(handling_due_at=due)
            if order.handling_due_at == old:
                order.handling_due_at = due
                order.version += 1
                order.save(update_fields=["handling_due_at", "version", "updated_at"])
            record_event(actor=None, obj=order, action="order.recompute_deadline",
                         payload={"from": old, "to": due, "years": years})
        moved += 1
    return moved
