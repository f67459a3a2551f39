"""Rating links: sending (the SMS, only the token's hash kept, the event without the token),
who may send, and the send-link endpoint. The public page's outcomes are in
minyi/public/tests/test_rate.py."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks import links
from minyi.callbacks.models import CallbackTask, Caller, RatingLink
from minyi.core.audit import events_for
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.notifications.models import SmsMessage
from minyi.public.tests.callback_fixtures import answer, make_task, token_of_last_sms

pytestmark = pytest.mark.django_db


def test_send(bureau, handler, settings):
    settings.MINYI_PUBLIC_BASE_URL = "https://minyi.example.gov.cn/"
    task = make_task(bureau)
    now = timezone.now()
    sent = links.send_rating_link(actor=handler, task=task, now=now)
    token = token_of_last_sms()
    assert sent.url == f"https://minyi.example.gov.cn/p/r/{token}/"
    assert len(token) == 32  # 24 random bytes
    link = RatingLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert link.expires_at == now + timedelta(days=3) and link.sent_by == handler
    sms = SmsMessage.objects.get()
    assert link.sms == sms and sms.purpose == "callback_link" and sms.to_masked == "138****5678"
    assert sent.url in sms.text and "东城派出所" in sms.text and "3日内有效" in sms.text
    event = events_for(task).get(action="callback.link_sent")
    assert event.actor == handler and event.payload["link"] == link.pk
    assert event.payload["to"] == "138****5678"
    # The token is in no event at all.
    assert not any(token in str(e.payload) for e in Event.objects.all())
    assert links.find_link(token) == link and links.find_link(token + "x") is None


def test_link_days_from_settings(bureau, handler, settings):
    settings.MINYI_RATING_LINK_DAYS = 7
    now = timezone.now()
    links.send_rating_link(actor=handler, task=make_task(bureau), now=now)
    assert RatingLink.objects.get().expires_at == now + timedelta(days=7)
    assert "7日内有效" in SmsMessage.objects.get().text


def test_who_may_send(bureau, handler, outsider, opinion_officer):
    unit_task = make_task(bureau)
    office_task = make_task(bureau, caller=Caller.OPINION_OFFICE)
    for user, task in ((outsider, unit_task), (opinion_officer, unit_task),
                       (handler, office_task)):
        with pytest.raises(NotAllowed):
            links.send_rating_link(actor=user, task=task)
    links.send_rating_link(actor=opinion_officer, task=office_task)
    assert RatingLink.objects.filter(task=office_task).count() == 1
    assert RatingLink.objects.filter(task=unit_task).count() == 0


def test_send_refused_for_answered_cancelled_or_landline(bureau, handler):
    answered = make_task(bureau)
    answer(answered, "satisfied")
    with pytest.raises(Conflict, match="已有回答"):
        links.send_rating_link(actor=handler, task=answered)
    cancelled = make_task(bureau, state=CallbackTask.State.CANCELLED)
    with pytest.raises(Conflict):
        links.send_rating_link(actor=handler, task=cancelled)
    with pytest.raises(InvalidInput, match="手机号"):
        links.send_rating_link(actor=handler, task=make_task(bureau, phone="053112345678"))
    assert not RatingLink.objects.exists() and not SmsMessage.objects.exists()
    # The calls gave up: a text may still reach the person.
    links.send_rating_link(actor=handler, task=make_task(bureau,
                                                         state=CallbackTask.State.CLOSED))
    assert RatingLink.objects.count() == 1


def test_send_link_endpoint(client, bureau, handler, outsider):
    task = make_task(bureau)
    url = reverse("callbacks:send_link", args=[task.pk])
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    client.force_login(handler)
    assert client.get(url).status_code == 405
    response = client.post(url, {"next": "/callbacks/desk/"})
    assert response.status_code == 302 and response["Location"] == "/callbacks/desk/"
    assert RatingLink.objects.filter(task=task).count() == 1
    # Somewhere else is not where it goes back to.
    response = client.post(url, {"next": "https://evil.example.com/"})
    assert response["Location"] == reverse("callbacks:task", args=[task.pk])
    answer(task, "satisfied")
    response = client.post(url, follow=True)
    assert "未发送评价短信" in response.content.decode()
    assert RatingLink.objects.filter(task=task).count() == 2


def test_a_conflict_that_is_no_answer_records_nothing_and_keeps_the_link(bureau, handler,
                                                                         monkeypatch):
    """Only an answer already given is "answered by phone"; another conflict (the order
    changed at that moment) is told as such, and the same link works afterwards."""
    task = make_task(bureau)
    links.send_rating_link(actor=handler, task=task)
    token = token_of_last_sms()

    def busy(**kwargs):
        raise Conflict("工单刚被他人改动")

    monkeypatch.setattr("minyi.callbacks.actions.record_answer", busy)
    outcome = links.submit_rating(token=token, satisfaction="satisfied", reasons=[],
                                  comment="")
    assert outcome.status == links.RETRY and links.STATUS[outcome.status] == 409
    assert RatingLink.objects.get().used_at is None
    monkeypatch.undo()
    assert links.submit_rating(token=token, satisfaction="satisfied", reasons=[],
                               comment="").status == links.OK
