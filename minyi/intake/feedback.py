"""Feeding results back to the source platform: a signed POST, retried with back-off until the
platform accepts it (2xx). Claiming a delivery is a conditional UPDATE, so several workers (or a
worker and a page) never post the same attempt twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from minyi.core.audit import record_event
from minyi.intake.models import FeedbackDelivery

TIMEOUT_SECONDS = 10
# A claimed delivery is left alone this long: a worker that dies mid-post is retried after it.
LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each failure, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _claim(delivery_id: int) -> FeedbackDelivery | None:
    now = timezone.now()
    claimed = FeedbackDelivery.objects.filter(
        pk=delivery_id, status=FeedbackDelivery.Status.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    return FeedbackDelivery.objects.select_related("client", "order").get(pk=delivery_id)


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(delivery_id: int) -> bool | None:
    """Try one delivery now if it is due. True delivered, False failed (retry scheduled), None
    not due or taken by another worker."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8",
               "X-Minyi-Delivery": str(delivery.pk)}
    if delivery.client.webhook_secret:
        headers["X-Minyi-Signature"] = signature(delivery.client.webhook_secret, body)
    request = urllib.request.Request(delivery.client.webhook_url, data=body, headers=headers,
                                     method="POST")
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            ok = 200 <= response.status < 300
            if not ok:
                error = f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        ok, error = False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        ok, error = False, str(getattr(exc, "reason", exc))[:400]
    now = timezone.now()
    with transaction.atomic():
        delivery.attempts += 1
        if ok:
            delivery.status = FeedbackDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            delivery.last_error = error or "未知错误"
        delivery.save(update_fields=["attempts", "status", "delivered_at", "last_error",
                                     "next_attempt_at", "updated_at"])
        record_event(actor=None, obj=delivery.order,
                     action="order.feedback_delivered" if ok else "order.feedback_failed",
                     payload={"delivery": delivery.pk, "attempt": delivery.attempts,
                              "error": delivery.last_error,
                              "next_attempt_at": None if ok else delivery.next_attempt_at})
    return ok


def deliver_due(limit: int = 100) -> int:
    """Every due delivery, oldest first; returns how many were tried."""
    due = list(FeedbackDelivery.objects.filter(
        status=FeedbackDelivery.Status.PENDING, next_attempt_at__lte=timezone.now(),
    ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in due if deliver(pk) is not None)
