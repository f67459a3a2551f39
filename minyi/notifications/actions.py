"""Writes of the notifications app: notifying users (from an event's rules, or directly) and
marking notifications read.

Reading a notification writes no audit event: it changes nothing of the bureau's business, only
the reader's own list, and the chain would otherwise grow by a row per click. What a unit did
about a notice is in the notice's own events (sign, reply).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.notifications.models import Notification
from minyi.notifications.registry import messages_for, rules_for
from minyi.notifications.sms import MAX_CHARS, normalize_mobile, send_sms

logger = logging.getLogger(__name__)


def _sms_text(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def notify(*, user_ids: Iterable[int], text: str, link: str = "", event: Event | None = None,
           sms: bool = False) -> list[Notification]:
    """Notify each user once; with `sms`, also text those with a valid mobile number on file.
    Returns the notifications made now (none for a user this event already notified)."""
    from minyi.orgs.models import User

    text = (text or "").strip()
    if not text:
        raise InvalidInput("通知内容不能为空")
    ids = list(dict.fromkeys(int(pk) for pk in user_ids))
    if event is not None and ids:
        done = set(Notification.objects.filter(event=event, user_id__in=ids)
                   .values_list("user_id", flat=True))
        ids = [pk for pk in ids if pk not in done]
    if not ids:
        return []
    now = timezone.now()
    rows = [Notification(user_id=pk, text=text, link=link[:300], event=event,
                         action=event.action if event else "", created_at=now) for pk in ids]
    if event is not None:
        # Two deliveries of one event racing each other: the unique (user, event) keeps one.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        rows = list(Notification.objects.filter(event=event, user_id__in=ids))
    else:
        rows = Notification.objects.bulk_create(rows)
    if sms:
        by_user = {n.user_id: n for n in rows}
        phones = User.objects.filter(pk__in=list(by_user), is_active=True).exclude(phone="")
        for user_id, phone in phones.values_list("pk", "phone"):
            if normalize_mobile(phone) is None:
                logger.warning("user %s: phone on file is not a mobile number; no SMS", user_id)
                continue
            notification = by_user[user_id]
            send_sms(to=phone, text=_sms_text(text), purpose="notification",
                     reference=f"notification:{notification.pk}", notification=notification)
    return rows


def notify_for_event(*, event: Event) -> list[Notification]:
    """The notifications an event's rules ask for. The person who acted is not told of their
    own act. Safe to call again for the same event: nobody is notified twice."""
    made: list[Notification] = []
    for message in messages_for(event):
        user_ids = [pk for pk in message.user_ids if pk != event.actor_id]
        made += notify(user_ids=user_ids, text=message.text, link=message.link, event=event,
                       sms=message.sms)
    return made


def on_event_recorded(sender: Any, event: Event, **kwargs: Any) -> None:
    """The receiver of `core.audit.event_recorded`, inside the transaction of the action that
    wrote the event. Its own savepoint: a bug in a rule, or a database error in making the
    notifications, is logged and undone alone; the action goes on, since a unit that was not
    told is better than a dispatch that cannot be made."""
    if not rules_for(event.action):
        return
    try:
        with transaction.atomic():
            notify_for_event(event=event)
    except Exception:
        logger.exception("notifications for event %s (%s) failed", event.pk, event.action)


def mark_read(*, actor: Any, notification: Notification) -> Notification:
    if notification.user_id != getattr(actor, "pk", None):
        raise NotAllowed("只能标记自己的通知")
    if notification.read_at is None:
        now = timezone.now()
        # Conditional: a second click (or the link opened in two tabs) keeps the first time.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(*, actor: Any) -> int:
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed("请先登录")
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=timezone.now())
