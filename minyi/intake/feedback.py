"""Feeding results back to the source platform: a signed POST, retried with back-off until the
platform accepts it (2xx).

Claiming a delivery is a conditional UPDATE (pending, due) that pushes its next attempt past a
lease and marks it as being sent, so several workers (the scheduler of each web process, a
Celery worker, the command centre's "retry now" button) never post the same attempt twice.
Settling it is conditional too, on the attempt count seen at the claim: a worker whose lease
ran out while it waited on a slow platform cannot overwrite what another worker recorded.

Each delivery carries its id in `X-Minyi-Delivery`, the same on every retry, so a platform
that did accept a post whose answer was lost can recognise the repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minyi.core.audit import record_event
from minyi.intake.models import FeedbackDelivery

TIMEOUT_SECONDS = 10
# A claimed delivery is left alone this long: a worker that dies mid-post is retried after it.
LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=6)
# Shown as the delivery's last error while a worker holds it; "retry now" leaves such a
# delivery alone until its lease has run out.
SENDING = "发送中"
# One sweep stops starting new posts after this long, so that a platform that is down (each
# post waiting for its timeout) cannot hold up the scheduler's other jobs.
SWEEP_BUDGET = timedelta(seconds=45)
USER_AGENT = "Minyi-Feedback/1"

Status = FeedbackDelivery.Status
logger = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each failure, at most six hours. (The exponent is capped
    first: after weeks of failures 2**attempts minutes would overflow timedelta.)"""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 20)), MAX_BACKOFF)


def signature(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of the exact body bytes, hex: what the platform recomputes to check that the
    post came from Minyi and was not changed on the way."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _claim(delivery_id: int) -> FeedbackDelivery | None:
    now = timezone.now()
    claimed = FeedbackDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + LEASE, last_error=SENDING)
    if not claimed:
        return None
    return FeedbackDelivery.objects.select_related("client", "order").get(pk=delivery_id)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure, not something to follow: urllib would turn the POST into a GET
    without the body, and the platform's 200 to that GET would read as "accepted"."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(delivery: FeedbackDelivery) -> tuple[bool, str]:
    """(accepted, why not)."""
    client = delivery.client
    if not client.is_active or not client.webhook_url:
        return False, "对接系统已停用或未配置反馈地址"
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Minyi-Delivery": str(delivery.pk),
        "X-Minyi-Attempt": str(delivery.attempts + 1),
        "X-Minyi-Event": "order.fed_back",
    }
    if client.webhook_secret:
        headers["X-Minyi-Signature"] = signature(client.webhook_secret, body)
    request = urllib.request.Request(client.webhook_url, data=body, headers=headers,
                                     method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(4096)  # let the platform finish its answer before we hang up
            if 200 <= response.status < 300:
                return True, ""
            return False, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        try:
            said = exc.read(300).decode("utf-8", "replace").strip()
        except Exception:  # the body is a courtesy; the status is what counts
            said = ""
        redirect = "（不跟随跳转）" if 300 <= exc.code < 400 else ""
        return False, f"HTTP {exc.code}{redirect}" + (f"：{said}" if said else "")
    except urllib.error.URLError as exc:
        return False, f"无法连接：{exc.reason}"
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return False, f"{type(exc).__name__}：{exc}" if str(exc) else type(exc).__name__


def deliver(delivery_id: int, *, actor: Any = None) -> bool | None:
    """Try one delivery now if it is due. True delivered, False failed (retry scheduled), None
    not due, already settled, or taken by another worker. `actor` is the person who asked for
    it ("retry now"), or None for the scheduler."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    ok, error = _post(delivery)
    now = timezone.now()
    attempts = delivery.attempts + 1
    if ok:
        changes: dict[str, Any] = {"status": Status.DELIVERED, "delivered_at": now,
                                   "last_error": ""}
    else:
        changes = {"next_attempt_at": now + backoff(attempts),
                   "last_error": (error or "未知错误")[:500]}
    with transaction.atomic():
        settled = FeedbackDelivery.objects.filter(
            pk=delivery.pk, status=Status.PENDING, attempts=delivery.attempts,
        ).update(attempts=attempts, updated_at=now, **changes)
        if not settled:
            return None  # our lease ran out and another worker recorded its own attempt
        record_event(actor=actor, obj=delivery.order,
                     action="order.feedback_delivered" if ok else "order.feedback_failed",
                     payload={"delivery": delivery.pk, "client": delivery.client.name,
                              "attempt": attempts, "error": changes["last_error"],
                              "next_attempt_at": changes.get("next_attempt_at")})
    return ok


def retry_now(delivery_id: int, *, actor: Any = None) -> bool | None:
    """The command centre's "retry now": make the delivery due and try it at once. None when it
    is delivered already or a worker is sending it right now."""
    now = timezone.now()
    made_due = FeedbackDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).filter(
        ~Q(last_error=SENDING) | Q(next_attempt_at__lte=now),
    ).update(next_attempt_at=now)
    if not made_due:
        return None
    return deliver(delivery_id, actor=actor)


def deliver_due(limit: int = 100, budget: timedelta = SWEEP_BUDGET) -> int:
    """Every due delivery, oldest first; returns how many were tried. After a client's
    platform fails once, its other deliveries wait for the next sweep rather than each waiting
    out the same timeout."""
    started = time.monotonic()
    due = list(FeedbackDelivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=timezone.now(),
    ).order_by("next_attempt_at", "id").values_list("pk", "client_id")[:limit])
    tried = 0
    failing: set[int] = set()
    for pk, client_id in due:
        if client_id in failing:
            continue
        if time.monotonic() - started > budget.total_seconds():
            break
        try:
            result = deliver(pk)
        except Exception:
            # One delivery that breaks (a bug, a database hiccup) must not starve the others;
            # it keeps its lease and is tried again when the lease runs out.
            logger.exception("feedback delivery %s failed unexpectedly", pk)
            continue
        if result is None:
            continue
        tried += 1
        if result is False:
            failing.add(client_id)
    return tried
