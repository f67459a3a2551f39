"""The self-completion web link (网上自填): a second mode beside the desk. A text message
carries a single-use, expiring link to a phone-sized public page where the person answers the
wave's questionnaire themself.

As the callback rating links (`callbacks.links`, whose token hashing and public address this
reuses): the token is 24 random bytes, only its SHA-256 is stored and it is never written to an
event. A member has one active link: sending a new one ends the old. The answers go through
`desk.finish_interview`, the one path of every interview, so a number answered by phone and on
the web can never count twice (the member's row is locked and the response is one-to-one).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks.links import base_url, hash_token
from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.surveys import desk
from minyi.surveys.models import FrameMember, Mode, Response, Wave, WebLink

ACTION_LABELS = {
    "survey.link_sent": "发送民调自填短信",
    "survey.link_used": "群众通过短信链接提交问卷",
}

# What a link is good for; the public page answers each with its own words and HTTP status.
OK = "ok"
UNKNOWN = "unknown"
USED = "used"
EXPIRED = "expired"
SUPERSEDED = "superseded"
ANSWERED = "answered"
CLOSED = "closed"
QUOTA_FULL = "quota_full"
STATUS = {OK: 200, UNKNOWN: 404, USED: 410, EXPIRED: 410, SUPERSEDED: 410, CLOSED: 410,
          ANSWERED: 409, QUOTA_FULL: 200}
# A link may still be answered after the calls gave up: the text is often the only way left to
# reach someone who never picks up.
ANSWERABLE = (FrameMember.State.PENDING, FrameMember.State.RETRY, FrameMember.State.CLOSED)


def link_days() -> int:
    return int(getattr(settings, "MINYI_SURVEY_LINK_DAYS", 7))


def sms_text(wave: Wave, url: str, days: int) -> str:
    return (f"【{wave.bureau.name}】您好！我局正在开展群众安全感满意度调查，诚邀您花几分钟"
            f"填写问卷：{url} （{days}日内有效，仅可提交一次）。感谢您的支持！")


@dataclass(frozen=True)
class SentLink:
    link: WebLink
    url: str  # for the sender's confirmation and the tests only; stored nowhere


def _may_send(actor: Any, wave: Wave) -> bool:
    return access.may_interview(actor, wave.bureau) or access.may_manage_surveys(
        actor, wave.bureau)


def send_web_link(*, actor: Any, member: FrameMember | int,
                  now: datetime | None = None) -> SentLink:
    """A new link for a member of a fielding wave that allows the web, texted to the number;
    the member's earlier links that are still unused end now (superseded)."""
    from minyi.notifications.sms import send_sms

    now = now or timezone.now()
    days = link_days()
    with transaction.atomic():
        lock_chain()
        member = desk.lock_member(member)
        wave = member.wave
        if not _may_send(actor, wave):
            raise NotAllowed(f"只有{wave.bureau}的民意专员或系统管理员可以发送自填短信")
        if wave.state != Wave.State.FIELDING:
            raise InvalidInput(f"「{wave}」{wave.get_state_display()}，不能发送自填短信")
        if not wave.web_enabled:
            raise InvalidInput(f"「{wave}」未启用网上自填")
        if Response.objects.filter(member=member).exists():
            raise Conflict(desk.done_text(member) + "，不能再发送自填短信。")
        if member.state not in ANSWERABLE:
            raise Conflict(f"该样本已{member.get_state_display()}，不能再发送自填短信")
        if member.area_id and member.area_id in desk.full_areas([wave.pk]).get(wave.pk, ()):
            raise InvalidInput(f"{member.area}的配额已满，不再发送自填短信")
        superseded = list(WebLink.objects.filter(member=member, used_at__isnull=True,
                                                 expires_at__gt=now)
                          .values_list("pk", flat=True))
        WebLink.objects.filter(pk__in=superseded).update(expires_at=now, updated_at=now)
        token = secrets.token_urlsafe(24)
        url = base_url() + reverse("public:survey", args=[token])
        link = WebLink.objects.create(member=member, token_hash=hash_token(token),
                                      expires_at=now + timedelta(days=days), sent_by=actor)
        sms = send_sms(to=member.phone, text=sms_text(wave, url, days), purpose="survey_link",
                       reference=f"surveys.weblink:{link.pk}")
        link.sms = sms
        link.save(update_fields=["sms", "updated_at"])
        record_event(actor=actor, obj=member, action="survey.link_sent", to_state=member.state,
                     payload={"wave": wave.pk, "link": link.pk, "sms": sms.pk,
                              "to": member.phone_mask, "expires_at": link.expires_at,
                              "superseded": superseded})
    return SentLink(link=link, url=url)


def find_link(token: str) -> WebLink | None:
    if not token or len(token) > 100:
        return None
    digest = hash_token(token)
    link = (WebLink.objects.select_related("member", "member__wave", "member__wave__bureau",
                                           "member__wave__version", "member__area")
            .filter(token_hash=digest).first())
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        return None
    return link


def check(link: WebLink | None, now: datetime | None = None) -> str:
    """What a link is good for now: OK, or why not."""
    now = now or timezone.now()
    if link is None:
        return UNKNOWN
    if link.used_at is not None:
        return USED
    member = link.member
    if Response.objects.filter(member_id=member.pk).exists():
        return ANSWERED
    if link.expires_at <= now:
        newer = WebLink.objects.filter(member_id=member.pk, pk__gt=link.pk).exists()
        return SUPERSEDED if newer else EXPIRED
    wave = member.wave
    if wave.state != Wave.State.FIELDING or not wave.web_enabled \
            or member.state not in ANSWERABLE:
        return CLOSED
    if member.area_id and member.area_id in desk.full_areas([wave.pk]).get(wave.pk, ()):
        return QUOTA_FULL
    return OK


@dataclass(frozen=True)
class Outcome:
    status: str
    link: WebLink | None = None
    response: Response | None = None


def submit_web_response(*, token: str, answers: dict[str, Any], area: Any = None,
                        sex: str = "", age_group: str = "",
                        now: datetime | None = None) -> Outcome:
    """The person's answers through their link. A link that cannot be used answers with its
    status and writes nothing; bad answers raise AnswerErrors and write nothing; a full quota
    uses the link up and closes the member screened out (status QUOTA_FULL)."""
    now = now or timezone.now()
    found = find_link(token)
    if found is None:
        return Outcome(UNKNOWN)
    try:
        with transaction.atomic():
            lock_chain()
            member = desk.lock_member(found.member_id)
            link = WebLink.objects.select_for_update().get(pk=found.pk)
            link.member = member
            status = check(link, now)
            if status != OK:
                return Outcome(status, link)
            result = desk.finish_interview(actor=None, member=member, mode=Mode.WEB,
                                           answers=answers, area=area, sex=sex,
                                           age_group=age_group, now=now)
            link.used_at = now
            link.save(update_fields=["used_at", "updated_at"])
            record_event(actor=None, obj=member, action="survey.link_used", payload={
                "wave": member.wave_id, "link": link.pk,
                "response": result.response.pk if result.response else None,
                "screened_out": result.screened_out})
    except Conflict:
        # The response is one-to-one with the member: a response made at the same moment
        # (the same form sent twice, or the phone) is told as such, not as an error.
        existing = Response.objects.filter(member_id=found.member_id).first()
        if existing is None:
            raise
        return Outcome(USED if existing.mode == Mode.WEB else ANSWERED, found)
    if result.screened_out:
        return Outcome(QUOTA_FULL, link)
    return Outcome(OK, link, result.response)


def register() -> None:
    """From the app's ready(): the web link's event labels."""
    register_action_labels(ACTION_LABELS)
