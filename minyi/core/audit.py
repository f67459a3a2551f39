"""The audit trail: append events to the hash chain, and walk the chain to verify it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone

from minyi.core.models import AuditCheck, Event

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR_LABEL = "系统"
# Fields never copied into the trail: a password hash is a secret even when it changes.
SECRET_FIELDS = frozenset({"password"})
# What the users read for an event's action. Each app adds its own actions here, next to the
# code, via `register_action_labels`; an unknown action is shown as it is stored.
ACTION_LABELS: dict[str, str] = {
    "admin.add": "后台新增",
    "admin.change": "后台修改",
    "admin.delete": "后台删除",
    "audit.verify": "校验审计链",
}


# Sent by `record_event` (keyword argument `event`) right after the row is written, inside its
# transaction, so that what a receiver writes (the notifications of the people who must act)
# is kept or lost with the event and the change it records. A receiver runs under the chain's
# lock: it must be quick, do no network or file I/O (queue that with `transaction.on_commit`),
# and keep its own failures to itself, or it undoes the action that wrote the event.
# `record_events_bulk` does not send it: an import of a million orders must stay a few bulk
# inserts, not a million receiver calls.
event_recorded = Signal()


def register_action_labels(labels: dict[str, str]) -> None:
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


# Any constant will do; it names the one lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x4D696E7969


def to_jsonable(value: Any) -> Any:
    """Dates, decimals and UUIDs as the strings JSON will store, so the hash sees what is kept."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def snapshot(obj: models.Model) -> dict[str, Any]:
    """A model instance's field values, as stored, for `before`/`after`."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS:
            continue
        data[field.attname] = field.value_from_object(obj)
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(o.pk for o in field.value_from_object(obj))
    return to_jsonable(data)


def event_hash(
    *,
    prev_hash: str,
    created_at: datetime,
    actor_id: int | None,
    actor_label: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    action: str,
    from_state: str,
    to_state: str,
    before: Any,
    after: Any,
    payload: Any,
) -> str:
    content = {
        "prev": prev_hash,
        "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "actor_label": actor_label,
        "type": object_type,
        "id": object_id,
        "repr": object_repr,
        "action": action,
        "from": from_state,
        "to": to_state,
        "before": before,
        "after": after,
        "payload": payload,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hash_of(event: Event) -> str:
    return event_hash(
        prev_hash=event.prev_hash,
        created_at=event.created_at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        object_type=event.object_type,
        object_id=event.object_id,
        object_repr=event.object_repr,
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        before=event.before,
        after=event.after,
        payload=event.payload,
    )


def lock_chain() -> None:
    """Serialise appends to the chain until the end of the current transaction.

    Take it before other locks in a transaction that will append events, so that every writer
    takes the locks in the same order (two batches that lock rows first and the chain second
    deadlock each other on PostgreSQL)."""
    # PostgreSQL: one transaction-scoped advisory lock, so two appenders cannot both take the
    # same tail as their predecessor. SQLite needs none: settings open every transaction
    # IMMEDIATE, which already admits one writer at a time.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def actor_label_of(actor: Any) -> str:
    if actor is None:
        return SYSTEM_ACTOR_LABEL
    name = getattr(actor, "display_name", None) or actor.get_username()
    return str(name)[:100]


def record_event(
    *,
    actor: Any,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    action: str,
    from_state: str = "",
    to_state: str = "",
    before: Any = None,
    after: Any = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the chain, in the caller's transaction.

    Call it from the action that makes the change, inside its `transaction.atomic()`, so the
    change and its event are kept or lost together.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    if not object_type or not action:
        raise ValueError("an event needs an object type and an action")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    with transaction.atomic():
        lock_chain()
        prev_hash = (
            Event.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH
        )
        event = Event(
            created_at=timezone.now(),
            actor=actor,
            actor_label=actor_label_of(actor),
            object_type=object_type,
            object_id=str(object_id),
            object_repr=str(object_repr)[:200],
            action=action,
            from_state=from_state,
            to_state=to_state,
            before=to_jsonable(before),
            after=to_jsonable(after),
            payload=to_jsonable(payload or {}),
            prev_hash=prev_hash,
        )
        event.hash = _hash_of(event)
        event.save(force_insert=True)
        event_recorded.send(sender=Event, event=event)
    return event


def record_events_bulk(entries: list[dict[str, Any]], *, actor: Any = None,
                       batch_size: int = 2000) -> int:
    """Append many events at once (an import of thousands of orders): hashed in memory one
    after the other under the chain lock, inserted in batches. Each entry takes the keyword
    arguments of `record_event` except `actor`, which is one for all. Call inside the import's
    transaction."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    label = actor_label_of(actor)
    with transaction.atomic():
        lock_chain()
        prev_hash = (
            Event.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH
        )
        now = timezone.now()
        rows = []
        for entry in entries:
            obj = entry.get("obj")
            event = Event(
                created_at=now,
                actor=actor,
                actor_label=label,
                object_type=entry.get("object_type") or obj._meta.label_lower,
                object_id=str(entry.get("object_id") or obj.pk),
                object_repr=str(entry.get("object_repr") or obj)[:200],
                action=entry["action"],
                from_state=entry.get("from_state", ""),
                to_state=entry.get("to_state", ""),
                before=to_jsonable(entry.get("before")),
                after=to_jsonable(entry.get("after")),
                payload=to_jsonable(entry.get("payload") or {}),
                prev_hash=prev_hash,
            )
            event.hash = _hash_of(event)
            prev_hash = event.hash
            rows.append(event)
        # Ids follow the insertion order, which is the chain's order.
        for start in range(0, len(rows), batch_size):
            Event.objects.bulk_create(rows[start:start + batch_size])
    return len(rows)


def events_for(obj: models.Model) -> models.QuerySet[Event]:
    """An object's timeline, oldest first."""
    return Event.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    last_event_id: int | None
    last_hash: str
    broken_event_id: int | None = None
    message: str = ""


def verify_chain(events: Iterable[Event] | None = None) -> ChainReport:
    """Walk the chain from the first event; stop at the first row that does not fit.

    A row fits when its stored hash is the hash of its content and its `prev_hash` is the
    stored hash of the row before it. The tail recorded by the last good walk must still be
    there, or rows were cut off the end.
    """
    if events is None:
        events = Event.objects.order_by("id").iterator(chunk_size=2000)
    expected_prev = GENESIS_HASH
    rows = 0
    last: Event | None = None
    for event in events:
        if event.prev_hash != expected_prev:
            return ChainReport(False, rows, event.pk, event.hash, event.pk,
                               "前一条哈希不符：此前的事件被修改或删除")
        if _hash_of(event) != event.hash:
            return ChainReport(False, rows, event.pk, event.hash, event.pk,
                               "内容与哈希不符：此事件被修改")
        expected_prev = event.hash
        rows += 1
        last = event
    last_good = AuditCheck.objects.filter(ok=True, last_event_id__isnull=False).first()
    if last_good is not None:
        kept = Event.objects.filter(pk=last_good.last_event_id).values_list("hash", flat=True)
        if list(kept) != [last_good.last_hash]:
            return ChainReport(False, rows, last.pk if last else None,
                               last.hash if last else "", last_good.last_event_id,
                               "上次校验时的末尾事件已不在：链尾被截断")
    return ChainReport(True, rows, last.pk if last else None, last.hash if last else "")


def record_check(report: ChainReport) -> AuditCheck:
    return AuditCheck.objects.create(
        ok=report.ok,
        rows=report.rows,
        last_event_id=report.last_event_id,
        last_hash=report.last_hash,
        broken_event_id=report.broken_event_id,
        message=report.message,
    )
