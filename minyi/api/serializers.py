"""Orders, events and feedback deliveries as the API answers them: plain dicts for JsonResponse.

Citizens' personal data leaves only masked (DESIGN.md, "Personal data"). Times are ISO 8601 in
Beijing time with the offset, so they read right and parse unambiguously.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from minyi.core import crypto
from minyi.core.audit import action_label
from minyi.orders.models import Order
from minyi.orders.rules import TRANSITIONS, CallbackOutcome, DemandKind, State

# The API's name of each action -> the transition in orders.rules.
API_ACTIONS: dict[str, str] = {
    "dispatch": "dispatch",
    "sign": "sign",
    "contact": "contact",
    "report": "report",
    "request-return": "request_return",
    "decide-return": "decide_return",
    "review": "review",
    "feed-back": "feed_back",
    "callback": "record_callback",
    "close": "close",
    "redo": "redo",
    "invalid": "mark_invalid",
}


def when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _unit(unit: Any) -> dict[str, Any] | None:
    return {"id": unit.pk, "code": unit.code, "name": unit.name} if unit is not None else None


def _label(choices: Any, value: str) -> str:
    return dict(choices.choices).get(value, value) if value else ""


def available_actions(order: Order) -> list[str]:
    """The actions the order's state allows (the caller's role may still forbid them)."""
    actions = [name for name, transition in API_ACTIONS.items()
               if order.state in TRANSITIONS[transition]]
    if order.contacted_at is not None and "contact" in actions:
        actions.remove("contact")
    return actions


def order_summary(order: Order) -> dict[str, Any]:
    """A list row: what the list needs, from the order row and its select_related parents only
    (no query per row)."""
    return {
        "id": order.pk,
        "number": order.number,
        "url": reverse("api:order", args=[order.pk]),
        "external_id": order.external_id,
        "channel": {"code": order.channel.code, "name": order.channel.name},
        "order_type": {"code": order.order_type.code, "name": order.order_type.name},
        "demand_kind": order.demand_kind,
        "demand_kind_label": _label(DemandKind, order.demand_kind),
        "title": order.title,
        "state": order.state,
        "state_label": _label(State, order.state),
        "version": order.version,
        "is_leader_assigned": order.is_leader_assigned,
        "lead_unit": _unit(order.lead_unit),
        "area": ({"id": order.area.pk, "code": order.area.code, "name": order.area.name}
                 if order.area is not None else None),
        "citizen": {"name": order.citizen_name_mask, "phone": order.citizen_phone_mask},
        "received_at": when(order.received_at),
        "contact_due_at": when(order.contact_due_at),
        "handling_due_at": when(order.handling_due_at),
        "overdue": order.is_overdue,
    }


def order_detail(order: Order, *, timeline: bool = False) -> dict[str, Any]:
    data = order_summary(order)
    data.update({
        "bureau": _unit(order.bureau),
        "content": order.content,
        "citizen": {
            "name": order.citizen_name_mask,
            "phone": order.citizen_phone_mask,
            "address": crypto.mask_address(order.citizen_address),
        },
        "location": order.location,
        "leader_instruction": order.leader_instruction,
        "created_via": order.created_via,
        "order_type": {"code": order.order_type.code, "name": order.order_type.name,
                       "business_class": order.order_type.business_class},
        "dispatched_at": when(order.dispatched_at),
        "signed_at": when(order.signed_at),
        "contacted_at": when(order.contacted_at),
        "reported_at": when(order.reported_at),
        "reviewed_at": when(order.reviewed_at),
        "fed_back_at": when(order.fed_back_at),
        "closed_at": when(order.closed_at),
        "handled_at": when(order.handled_at),
        "paused_at": when(order.paused_at),
        "on_time": order.on_time,
        "callback": {
            "outcome": order.callback_outcome,
            "outcome_label": _label(CallbackOutcome, order.callback_outcome),
            "at": when(order.callback_at),
            "note": order.callback_note,
        },
        "close_note": order.close_note,
        "invalid_reason": order.invalid_reason,
        "redo_count": order.redo_count,
        "sendback_count": order.sendback_count,
        "return_count": order.return_count,
        "available_actions": available_actions(order),
        "assignments": [
            {
                "unit": _unit(a.unit),
                "is_lead": a.is_lead,
                "dispatched_at": when(a.dispatched_at),
                "note": a.note,
                "contact_due_at": when(a.contact_due_at),
                "handling_due_at": when(a.handling_due_at),
                "ended_at": when(a.ended_at),
                "end_reason": a.end_reason,
            }
            for a in order.assignments.select_related("unit").order_by("dispatched_at", "id")
        ],
        "reports": [
            {
                "id": r.pk,
                "unit": _unit(r.unit),
                "result": r.result,
                "measures": r.measures,
                "resolved": r.resolved,
                "created_at": when(r.created_at),
                "decision": r.decision,
                "review_reason": r.review_reason,
                "reviewed_at": when(r.reviewed_at),
                "attachments": [
                    {"name": f.name, "size": f.size, "content_type": f.content_type}
                    for f in r.attachments.all()
                ],
            }
            for r in order.reports.select_related("unit").prefetch_related("attachments")
        ],
        "return_requests": [
            {
                "unit": _unit(r.unit),
                "reason": r.reason,
                "created_at": when(r.created_at),
                "decision": r.decision,
                "decided_at": when(r.decided_at),
                "decision_note": r.decision_note,
            }
            for r in order.return_requests.select_related("unit")
        ],
    })
    if timeline:
        from minyi.orders.selectors import order_timeline

        data["timeline"] = [event_row(e) for e in order_timeline(order)]
    return data


def event_row(event: Any) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": when(event.created_at),
        "actor": event.actor_label,
        "action": event.action,
        "action_label": action_label(event.action),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "payload": event.payload,
    }


def feedback_row(delivery: Any) -> dict[str, Any]:
    order = delivery.order
    return {
        "id": delivery.pk,
        "order": {"id": order.pk, "number": order.number, "external_id": order.external_id,
                  "title": order.title, "url": reverse("api:order", args=[order.pk])},
        "client": {"id": delivery.client.pk, "name": delivery.client.name},
        "status": delivery.status,
        "status_label": delivery.get_status_display(),
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "next_attempt_at": when(delivery.next_attempt_at),
        "delivered_at": when(delivery.delivered_at),
        "created_at": when(delivery.created_at),
        "payload": delivery.payload,
    }
