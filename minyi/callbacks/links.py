"""Rating links (短信评价链接): instead of or before a call, an SMS with a single-use, expiring
link to a phone-sized public page where the person rates the police's service.

The token is 24 random bytes (secrets.token_urlsafe): unguessable, so nothing needs
rate-limiting. Only its SHA-256 is stored, as for the API's tokens, so a read of the database
gives no working link; the token is never written to an event either. The answer goes through
`actions.record_answer(via="link")`, the one path for every answer, so a rating and a phone
answer for the same task can never both count.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks.models import Answer, CallbackTask, Caller, RatingLink
from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Role

SEND_UNIT_ROLES = frozenset({Role.UNIT_HEAD, Role.UNIT_HANDLER})
SEND_OFFICE_ROLES = frozenset({Role.OPINION_OFFICER})

ACTION_LABELS = {
    "callback.link_sent": "发送评价短信",
    "callback.link_used": "群众通过短信链接评价",
}


# What the public page says for each way a link can fail, and the HTTP status it answers with.
OK = "ok"
UNKNOWN = "unknown"
USED = "used"
EXPIRED = "expired"
ANSWERED = "answered"
# The answer could not be recorded for another reason (the order it belongs to changed at that
# moment): nothing was written and the link stays usable.
RETRY = "retry"
CLOSED = "closed"
# A link may still be answered after the calls gave up (closed), as record_answer allows: the
# text is often the only way left to reach someone who never picks up.
ANSWERABLE = (CallbackTask.State.PENDING, CallbackTask.State.RETRY, CallbackTask.State.CLOSED)
STATUS = {OK: 200, UNKNOWN: 404, USED: 410, EXPIRED: 410, CLOSED: 410, ANSWERED: 409,
          RETRY: 409}


def link_days() -> int:
    return int(getattr(settings, "MINYI_RATING_LINK_DAYS", 3))


def base_url() -> str:
    return str(getattr(settings, "MINYI_PUBLIC_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def can_send(user: Any, task: CallbackTask) -> bool:
    """The task's own caller side: the unit's people for a unit's callback, the bureau's
    opinion officers for the office's calls."""
    if getattr(user, "is_superuser", False):
        return True
    if task.caller == Caller.UNIT:
        return access.acts_for_unit(user, task.unit, SEND_UNIT_ROLES)
    return access.bureau_role(user, task.bureau, SEND_OFFICE_ROLES)


def sms_text(task: CallbackTask, url: str, days: int) -> str:
    when = timezone.localtime(task.contact.occurred_at)
    return (f"【{task.unit.name}】您好，您于{when.month}月{when.day}日在我单位办理的事项，"
            f"请对民警的服务作出评价：{url} （{days}日内有效，仅可评价一次）")


@dataclass(frozen=True)
class SentLink:
    link: RatingLink
    url: str  # for the sender's confirmation only; not stored anywhere


def send_rating_link(*, actor: Any, task: CallbackTask,
                     now: datetime | None = None) -> SentLink:
    """Make a link for an open task and text it to the person."""
    from minyi.notifications.sms import send_sms

    now = now or timezone.now()
    days = link_days()
    with transaction.atomic():
        lock_chain()
        task = (CallbackTask.objects.select_for_update()
                .select_related("unit", "bureau", "contact").get(pk=task.pk))
        if not can_send(actor, task):
            raise NotAllowed("您不能为该回访任务发送评价短信")
        if Answer.objects.filter(task=task).exists():
            raise Conflict("该回访任务已有回答，不能再发送评价短信")
        if task.state not in ANSWERABLE:
            raise Conflict(f"该回访任务已{task.get_state_display()}，不能再发送评价短信")
        token = secrets.token_urlsafe(24)
        url = base_url() + reverse("public:rate", args=[token])
        link = RatingLink.objects.create(task=task, token_hash=hash_token(token),
                                         expires_at=now + timedelta(days=days), sent_by=actor)
        sms = send_sms(to=task.contact.phone, text=sms_text(task, url, days),
                       purpose="callback_link", reference=f"callbacks.ratinglink:{link.pk}")
        link.sms = sms
        link.save(update_fields=["sms", "updated_at"])
        record_event(actor=actor, obj=task, action="callback.link_sent", to_state=task.state,
                     payload={"link": link.pk, "sms": sms.pk, "to": task.contact.phone_mask,
                              "expires_at": link.expires_at})
    return SentLink(link=link, url=url)


def check(link: RatingLink | None, now: datetime | None = None) -> str:
    """What a link is good for now: OK, or why not."""
    now = now or timezone.now()
    if link is None:
        return UNKNOWN
    if link.used_at is not None:
        return USED
    if Answer.objects.filter(task_id=link.task_id).exists():
        return ANSWERED
    if link.expires_at <= now:
        return EXPIRED
    if link.task.state not in ANSWERABLE:
        return CLOSED
    return OK


def find_link(token: str) -> RatingLink | None:
    if not token or len(token) > 100:
        return None
    digest = hash_token(token)
    link = (RatingLink.objects.select_related("task", "task__unit", "task__contact")
            .filter(token_hash=digest).first())
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        return None
    return link


@dataclass(frozen=True)
class Outcome:
    status: str
    link: RatingLink | None = None
    answer: Answer | None = None


def submit_rating(*, token: str, satisfaction: str, reasons: Any = (), comment: str = "",
                  now: datetime | None = None) -> Outcome:
    """Record the person's rating through `record_answer(via="link")` and use the link up. A
    link that cannot be used answers with its status and records nothing."""
    from minyi.callbacks.actions import record_answer

    now = now or timezone.now()
    found = find_link(token)
    if found is None:
        return Outcome(UNKNOWN)
    with transaction.atomic():
        lock_chain()
        link = (RatingLink.objects.select_for_update().select_related("task")
                .get(pk=found.pk))
        status = check(link, now)
        if status != OK:
            return Outcome(status, link)
        try:
            answer = record_answer(actor=None, task=link.task, satisfaction=satisfaction,
                                   reasons=reasons, comment=comment, via=Answer.Via.LINK)
        except Conflict:
            # Only an answer already there is "answered by phone"; any other conflict (the
            # order changed meanwhile) records nothing and leaves the link usable.
            if Answer.objects.filter(task_id=link.task_id).exists():
                return Outcome(ANSWERED, link)
            return Outcome(RETRY, link)
        link.used_at = now
        link.save(update_fields=["used_at", "updated_at"])
        record_event(actor=None, obj=link.task, action="callback.link_used",
                     payload={"link": link.pk, "answer": getattr(answer, "pk", None)})
    return Outcome(OK, link, answer)


def links_of(task: CallbackTask) -> list[RatingLink]:
    return list(task.rating_links.order_by("-created_at"))


def validate_choice(satisfaction: str) -> None:
    from minyi.callbacks.models import Satisfaction

    if satisfaction not in Satisfaction.values:
        raise InvalidInput("请选择满意、基本满意或不满意")


def register() -> None:
    from minyi.core.audit import register_action_labels

    register_action_labels(ACTION_LABELS)
