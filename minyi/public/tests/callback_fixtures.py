"""Callback tasks and answers for the tests of rating links, rectification and spot checks:
made directly (a contact and a task) and answered through the one answer path,
`callbacks.actions.record_answer`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from minyi.callbacks.models import Answer, CallbackTask, Caller, Contact

_counter = {"n": 0}


def make_contact(bureau: Any, unit: Any, *, phone: str = "13812345678",
                 occurred_at: datetime | None = None, source: str = "call_110",
                 record_type: str = "求助") -> Contact:
    _counter["n"] += 1
    contact = Contact(bureau=bureau.bureau, unit=unit, source=source, record_type=record_type,
                      external_id=f"T{_counter['n']:06d}",
                      occurred_at=occurred_at or timezone.now() - timedelta(days=2),
                      summary="夜间求助，民警到场处置")
    contact.set_person(name="刘女士", phone=phone)
    contact.save()
    return contact


def make_task(bureau: Any, unit: Any | None = None, *, caller: str = Caller.UNIT,
              kind: str = CallbackTask.Kind.CALLBACK, contact: Contact | None = None,
              parent: CallbackTask | None = None, state: str = CallbackTask.State.PENDING,
              phone: str = "13812345678") -> CallbackTask:
    unit = unit or bureau.station
    contact = contact or make_contact(bureau, unit, phone=phone)
    return CallbackTask.objects.create(bureau=bureau.bureau, unit=unit, caller=caller,
                                       contact=contact, kind=kind, parent=parent, state=state,
                                       due_at=timezone.now() - timedelta(hours=1))


def answer(task: CallbackTask, satisfaction: str, *, reasons: Any = None, comment: str = "",
           actor: Any = None, via: str = "phone", now: datetime | None = None) -> Answer:
    from minyi.callbacks.actions import record_answer

    if reasons is None:
        reasons = ["result"] if satisfaction == "dissatisfied" else []
    return record_answer(actor=actor, task=task, satisfaction=satisfaction, reasons=reasons,
                         comment=comment, via=via, now=now)


def token_of_last_sms() -> str:
    """The token of the rating link in the last text message queued."""
    from minyi.notifications.models import SmsMessage

    text = SmsMessage.objects.order_by("-pk").values_list("text", flat=True).first() or ""
    found = re.search(r"/p/r/([A-Za-z0-9_\-]+)/", text)
    assert found, text
    return found.group(1)
