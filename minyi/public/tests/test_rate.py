"""The public rating page /p/r/<token>/: no login, no personal data, one rating per task, and a
clear page for each way a link cannot be used (nothing recorded then)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks import links
from minyi.callbacks.models import Answer, CallbackTask, RatingLink, Rectification
from minyi.core.audit import events_for
from minyi.public.tests.callback_fixtures import answer, make_task, token_of_last_sms

pytestmark = pytest.mark.django_db

DISSATISFIED = {"satisfaction": "dissatisfied", "reasons": ["attitude", "result"],
                "comment": "民警没有回电话"}


@pytest.fixture
def sent(bureau, handler):
    task = make_task(bureau)
    links.send_rating_link(actor=handler, task=task)
    token = token_of_last_sms()
    return task, token, reverse("public:rate", args=[token])


def test_the_page_needs_no_login_and_shows_no_personal_data(client, sent):
    task, _, url = sent
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="rate-form"' in html
    assert "东城派出所" in html and "求助" in html
    for secret in ("13812345678", "138****5678", "刘", task.contact.summary):
        assert secret not in html
    assert "https://" not in html and "http://" not in html.replace('http://www.w3', '')
    assert response["Cache-Control"].startswith("max-age=0")


def test_rating(client, sent):
    task, _, url = sent
    response = client.post(url, DISSATISFIED)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="rate-thanks"' in html
    assert "限期整改" in html
    saved = Answer.objects.get(task=task)
    assert (saved.via, saved.satisfaction, saved.reasons, saved.comment, saved.answered_by) == (
        "link", "dissatisfied", ["attitude", "result"], "民警没有回电话", None)
    link = RatingLink.objects.get(task=task)
    assert link.used_at is not None
    task.refresh_from_db()
    assert task.state == CallbackTask.State.COMPLETED
    actions = [e.action for e in events_for(task).order_by("id")]
    assert actions == ["callback.link_sent", "callback.answer", "callback.link_used"]
    assert Rectification.objects.filter(task=task).count() == 1


def test_bad_input_is_told_and_nothing_recorded(client, sent):
    _, _, url = sent
    response = client.post(url, {"satisfaction": "dissatisfied", "comment": "不好"})
    assert response.status_code == 400 and "请选择不满意的原因" in response.content.decode()
    response = client.post(url, {"satisfaction": "great"})
    assert response.status_code == 400
    assert "请选择满意、基本满意或不满意" in response.content.decode()
    assert not Answer.objects.exists() and RatingLink.objects.get().used_at is None


def test_used_twice(client, sent):
    task, _, url = sent
    assert client.post(url, {"satisfaction": "satisfied"}).status_code == 200
    for response in (client.post(url, DISSATISFIED), client.get(url)):
        assert response.status_code == 410 and "您已经评价过了" in response.content.decode()
    assert Answer.objects.get(task=task).satisfaction == "satisfied"
    assert not Rectification.objects.exists()


def test_expired(client, sent):
    _, _, url = sent
    RatingLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    for response in (client.get(url), client.post(url, DISSATISFIED)):
        assert response.status_code == 410 and "链接已过期" in response.content.decode()
    assert not Answer.objects.exists() and RatingLink.objects.get().used_at is None


def test_unknown(client, sent):
    _, token, _ = sent
    for bad in ("x" * 32, token[:-1], "a" * 150):
        url = reverse("public:rate", args=[bad])
        for response in (client.get(url), client.post(url, DISSATISFIED)):
            assert response.status_code == 404 and "链接无效" in response.content.decode()
    assert not Answer.objects.exists()


def test_answered_by_phone_first(client, sent, handler):
    task, _, url = sent
    answer(task, "basically_satisfied", actor=handler)
    for response in (client.get(url), client.post(url, DISSATISFIED)):
        assert response.status_code == 409 and "已通过电话回访评价" in response.content.decode()
    saved = Answer.objects.get(task=task)
    assert (saved.via, saved.satisfaction) == ("phone", "basically_satisfied")
    assert RatingLink.objects.get().used_at is None and not Rectification.objects.exists()


def test_two_links_for_one_task_count_once(client, bureau, handler):
    task = make_task(bureau)
    links.send_rating_link(actor=handler, task=task)
    first = token_of_last_sms()
    links.send_rating_link(actor=handler, task=task)
    second = token_of_last_sms()
    assert client.post(reverse("public:rate", args=[first]),
                       {"satisfaction": "satisfied"}).status_code == 200
    response = client.post(reverse("public:rate", args=[second]), DISSATISFIED)
    assert response.status_code == 409
    assert Answer.objects.filter(task=task).count() == 1


def test_cancelled_task(client, sent):
    task, _, url = sent
    CallbackTask.objects.filter(pk=task.pk).update(state=CallbackTask.State.CANCELLED)
    assert client.get(url).status_code == 410
    assert client.post(url, DISSATISFIED).status_code == 410 and not Answer.objects.exists()


def test_csrf_works_for_anonymous_visitors(sent):
    _, _, url = sent
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(url, DISSATISFIED).status_code == 403
    browser.get(url)
    token = browser.cookies["csrftoken"].value
    response = browser.post(url, {**DISSATISFIED, "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and 'data-testid="rate-thanks"' in response.content.decode()


def test_a_logged_in_officer_sees_the_same_page(client, sent, outsider):
    client.force_login(outsider)
    _, _, url = sent
    assert client.get(url).status_code == 200
