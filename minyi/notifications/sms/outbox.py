"""Delivering the outbox: each message through the configured backend, retried with back-off.

The pattern of `minyi.intake.feedback`: a message is claimed by a conditional UPDATE (pending,
due) that pushes its next attempt past a lease and marks it as being sent, so the scheduler of
every web process, a Celery worker and an administrator's "send again" never send one attempt
twice; settling is conditional on the attempt count seen at the claim, so a worker whose lease
ran out while the gateway was slow cannot overwrite what another one recorded. A message the
gateway refuses outright (a 4xx), or that failed MINYI_SMS_MAX_ATTEMPTS times, is given up: a
notice's text a day late helps nobody.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minyi.core.audit import record_event
from minyi.core.crypto import decrypt
from minyi.notifications.models import SmsMessage
from minyi.notifications.sms.backends import OutgoingSms, SmsError, get_backend

LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)
DEFAULT_MAX_ATTEMPTS = 8
SENDING = "发送中"
# One sweep stops starting new sends after this long, so that a gateway that is down (each
# send waiting out its timeout) cannot hold up the scheduler's other jobs.
SWEEP_BUDGET = timedelta(seconds=45)

Status = SmsMessage.Status
logger = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each failure, at most an hour."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 20)), MAX_BACKOFF)


def max_attempts() -> int:
    return int(getattr(settings, "MINYI_SMS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def _claim(message_id: int) -> SmsMessage | None:
    now = timezone.now()
    claimed = SmsMessage.objects.filter(
        pk=message_id, status=Status.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + LEASE, last_error=SENDING)
    if not claimed:
        return None
    return SmsMessage.objects.get(pk=message_id)


def _send(message: SmsMessage) -> tuple[bool, str, bool, str]:
    """(sent, error, permanent, backend name)."""
    try:
        backend = get_backend()
    except Exception as exc:  # a misconfiguration is reported on the message and retried
        return False, str(exc) or type(exc).__name__, False, ""
    name = getattr(backend, "name", type(backend).__name__)
    try:
        backend.send(OutgoingSms(id=message.pk, to=decrypt(message.to_encrypted),
                                 text=message.text))
    except SmsError as exc:
        return False, str(exc) or "未知错误", exc.permanent, name
    return True, "", False, name


def deliver(message_id: int, *, actor: Any = None) -> bool | None:
    """Try one message now if it is due. True sent, False failed (retried later or given up),
    None not due, already settled, or taken by another worker."""
    message = _claim(message_id)
    if message is None:
        return None
    ok, error, permanent, backend = _send(message)
    now = timezone.now()
    attempts = message.attempts + 1
    if ok:
        action = "sms.sent"
        changes: dict[str, Any] = {"status": Status.SENT, "sent_at": now, "last_error": ""}
    elif permanent or attempts >= max_attempts():
        action = "sms.given_up"
        changes = {"status": Status.GIVEN_UP, "last_error": error[:500]}
    else:
        action = "sms.failed"
        changes = {"next_attempt_at": now + backoff(attempts), "last_error": error[:500]}
    with transaction.atomic():
        settled = SmsMessage.objects.filter(
            pk=message.pk, status=Status.PENDING, attempts=message.attempts,
        ).update(attempts=attempts, backend=backend[:100], updated_at=now, **changes)
        if not settled:
            return None  # our lease ran out and another worker recorded its own attempt
        record_event(actor=actor, obj=message, action=action, payload={
            "to": message.to_masked, "purpose": message.purpose, "backend": backend,
            "attempt": attempts, "error": changes["last_error"],
            "next_attempt_at": changes.get("next_attempt_at")})
    return ok


def deliver_quietly(message_id: int) -> None:
    """Run after the commit of the action that queued the message: whatever goes wrong here
    is the outbox's to retry, never an error page for the user whose action is done."""
    try:
        deliver(message_id)
    except Exception:
        logger.exception("sms %s: delivery after commit failed; the sweep will retry",
                         message_id)


def retry_now(message_id: int, *, actor: Any = None) -> bool | None:
    """An administrator's "send again": a pending or given-up message is made due and tried at
    once. None when it was sent already or a worker is sending it right now."""
    now = timezone.now()
    made_due = SmsMessage.objects.filter(pk=message_id).filter(
        Q(status=Status.GIVEN_UP)
        | Q(status=Status.PENDING) & (~Q(last_error=SENDING) | Q(next_attempt_at__lte=now)),
    ).update(status=Status.PENDING, next_attempt_at=now)
    if not made_due:
        return None
    return deliver(message_id, actor=actor)


def deliver_due(limit: int = 100, budget: timedelta = SWEEP_BUDGET) -> int:
    """Every due message, oldest first; returns how many were tried. After a failure that will
    be retried the rest wait for the next sweep: they go through the same gateway, which would
    make each of them wait out the same timeout."""
    started = time.monotonic()
    due = list(SmsMessage.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=timezone.now(),
    ).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    tried = 0
    for pk in due:
        if time.monotonic() - started > budget.total_seconds():
            break
        try:
            result = deliver(pk)
        except Exception:
            # One message that breaks (a bug, a database hiccup) must not starve the others;
            # it keeps its lease and is tried again when the lease runs out.
            logger.exception("sms %s failed unexpectedly", pk)
            continue
        if result is None:
            continue
        tried += 1
        if result is False and SmsMessage.objects.filter(pk=pk, status=Status.PENDING).exists():
            break  # the gateway is failing (a refused message, given up, is no sign of that)
    return tried
