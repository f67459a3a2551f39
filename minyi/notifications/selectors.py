"""Reads: who holds which role where (the recipients of the rules), and a user's own
notifications. A notification is its recipient's alone: every read here is filtered by user,
and another user's answers 404 like a missing one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from minyi.notifications.models import Notification, SmsMessage
from minyi.orgs.models import Membership, Unit

PAGE_SIZE = 30


def members(*, roles: Iterable[str], unit_ids: Iterable[int] = (),
            bureau: Unit | None = None) -> list[int]:
    """The active users holding one of `roles` in one of the units (exactly those units), or
    anywhere in `bureau`'s subtree: one query."""
    roles = list(roles)
    unit_ids = [pk for pk in unit_ids if pk]
    if not roles or (not unit_ids and bureau is None):
        return []
    qs = Membership.objects.filter(role__in=roles, user__is_active=True)
    if bureau is not None:
        qs = qs.filter(unit__path__startswith=bureau.path)
    else:
        qs = qs.filter(unit_id__in=unit_ids)
    return sorted(set(qs.values_list("user_id", flat=True)))


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def for_user(user: Any) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(user=user)


def get_notification_for_user(user: Any, pk: Any) -> Notification:
    try:
        return for_user(user).get(pk=int(pk))
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该通知") from None


@dataclass
class NotificationPage:
    rows: list[Notification]
    next_cursor: str = ""
    is_first: bool = True


def notification_page(user: Any, *, after: str = "", unread_only: bool = False,
                      per_page: int = PAGE_SIZE) -> NotificationPage:
    """Newest first, a page after the id `after`: one query however far back one pages, plus
    one for the texts sent about the page's notifications."""
    qs = for_user(user).prefetch_related(Prefetch(
        "sms_messages", queryset=SmsMessage.objects.order_by("id")
        .only("id", "notification_id", "to_masked", "status", "sent_at")))
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    is_first = True
    if after.isdecimal():
        qs = qs.filter(pk__lt=int(after))
        is_first = False
    rows = list(qs.order_by("-id")[: per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    return NotificationPage(rows=rows, next_cursor=str(rows[-1].pk) if more else "",
                            is_first=is_first)
