"""Text messages (短信): one small module any app can call.

    from minyi.notifications.sms import send_sms
    send_sms(to="13812345678", text="……", purpose="callback", reference="callbacks.task:12")

`send_sms` checks the number and the text and puts the message in the outbox (`SmsMessage`),
in the caller's transaction: if the caller's action rolls back, nothing is sent. Delivery is
the outbox's business (`outbox.deliver`): through the backend chosen by settings
(MINYI_SMS_BACKEND: "console", "file", "http" or a dotted path), retried with back-off until
the gateway accepts it. The local backends (console, file) are tried as soon as the transaction
commits; the HTTP gateway is left to the outbox sweep (every minute), so that a slow gateway
never holds up the user's request.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import transaction

from minyi.core.crypto import encrypt, mask_phone, normalize_phone
from minyi.core.errors import InvalidInput

if TYPE_CHECKING:
    from minyi.notifications.models import Notification, SmsMessage

# A message longer than this is refused rather than split: the gateway splits long messages
# itself (and bills each part), and a text of several hundred characters is a mistake, not
# something a handset shows well. 500 is what the common Chinese gateways accept in one call.
MAX_CHARS = 500
# Mainland mobile numbers only: a landline cannot receive a text.
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
# One message holds 70 Chinese (UCS-2) characters, or 160 plain ASCII ones; each part of a
# concatenated message loses a few to its header (67 / 153).
UCS2_SINGLE, UCS2_PART = 70, 67
GSM_SINGLE, GSM_PART = 160, 153


def normalize_mobile(phone: str) -> str | None:
    """The 11 digits of a mainland mobile number (spaces, dashes and +86 dropped), or None."""
    digits = normalize_phone(phone or "")
    return digits if MOBILE_PATTERN.match(digits) else None


def segments(text: str) -> int:
    """How many messages the gateway will send (and bill) for `text`."""
    if not text:
        return 0
    single, part = (GSM_SINGLE, GSM_PART) if text.isascii() else (UCS2_SINGLE, UCS2_PART)
    if len(text) <= single:
        return 1
    return -(-len(text) // part)


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("短信内容不能为空")
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"短信内容过长：{len(text)} 字，最多 {MAX_CHARS} 字")
    return text


def send_sms(*, to: str, text: str, purpose: str = "", reference: str = "",
             notification: Notification | None = None) -> SmsMessage:
    """Queue one text message; returns the outbox row (`SmsMessage`).

    Raises InvalidInput for a number that is not a mainland mobile or a text that is empty or
    longer than MAX_CHARS. Call inside the action's transaction."""
    from minyi.notifications.models import SmsMessage
    from minyi.notifications.sms import outbox
    from minyi.notifications.sms.backends import backend_is_local

    mobile = normalize_mobile(to)
    if mobile is None:
        raise InvalidInput(f"手机号格式不正确：{mask_phone(to) or '（空）'}")
    text = check_text(text)
    message = SmsMessage.objects.create(
        to_encrypted=encrypt(mobile), to_masked=mask_phone(mobile), text=text,
        segments=segments(text), purpose=purpose[:40], reference=reference[:100],
        notification=notification,
    )
    if backend_is_local():
        transaction.on_commit(lambda: outbox.deliver_quietly(message.pk))
    return message


__all__ = ["MAX_CHARS", "check_text", "normalize_mobile", "segments", "send_sms"]
