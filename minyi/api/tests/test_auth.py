"""Who may call what: tokens of both kinds, sessions and CSRF, and 401/404 for the others."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi.api import actions as api_actions
from minyi.api.models import ApiToken
from minyi.api.tests.conftest import BASE, Caller
from minyi.api.tokens import hash_token

pytestmark = pytest.mark.django_db

# Every endpoint that needs a caller: (method, path template, body).
ENDPOINTS = [
    ("GET", "/orders", None),
    ("POST", "/orders", {"title": "x"}),
    ("GET", "/orders/{id}", None),
    *[("POST", f"/orders/{{id}}/{action}", {})
      for action in ["dispatch", "sign", "contact", "report", "request-return", "decide-return",
                     "review", "feed-back", "callback", "close", "redo", "invalid"]],
    ("GET", "/feedback", None),
]


def _call(caller: Caller, method: str, path: str, body, order_id: int):
    path = path.format(id=order_id)
    return caller.get(path) if method == "GET" else caller.post(path, body)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("token", [None, "", "mic_wrong", "miu_wrong", "nonsense"])
def test_every_endpoint_answers_401_without_a_good_token(make_order, method, path, body, token):
    order = make_order()
    if token is None:
        response = _call(Caller(), method, path, body, order.pk)
    else:
        caller = Caller()
        caller.client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}".strip()
        response = _call(caller, method, path, body, order.pk)
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    assert "令牌" in detail


def test_a_malformed_authorization_header_is_401_in_chinese(make_order):
    caller = Caller()
    caller.client.defaults["HTTP_AUTHORIZATION"] = "Basic dXNlcjpwdw=="
    response = caller.get("/orders")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"),
                         [e for e in ENDPOINTS if "{id}" in e[1]])
def test_every_order_endpoint_is_404_for_an_officer_of_another_unit(
        make_order, outsider, api_as, method, path, body):
    order = make_order("signed")
    response = _call(api_as(outsider), method, path, body, order.pk)
    assert response.status_code == 404, response.content
    assert response.json()["detail"] == "没有找到该工单"
    order.refresh_from_db()
    assert order.version == 3  # nothing happened to it


@pytest.mark.parametrize(("method", "path", "body"),
                         [e for e in ENDPOINTS if "{id}" in e[1]])
def test_every_order_endpoint_is_404_for_another_integrating_system(
        make_order, bureau, api_as, method, path, body):
    from minyi.orders.tests.factories import channel

    _, token = api_actions.create_client(actor=None, name="110系统", channel=channel("110"),
                                         bureau=bureau.bureau)
    order = make_order("signed")  # entered by the command centre, not by this system
    response = _call(Caller(token), method, path, body, order.pk)
    assert response.status_code == 404, response.content


def test_the_outsider_lists_none_of_the_other_units_orders(make_order, outsider, api_as):
    make_order("dispatched")
    body = api_as(outsider).get("/orders").json()
    assert body == {"results": [], "next_cursor": None}


def test_the_outsider_sees_no_feedback(make_order, outsider, api_as):
    response = api_as(outsider).get("/feedback")
    assert response.status_code == 403
    assert "指挥中心" in response.json()["detail"]


def test_a_client_cannot_act_on_even_its_own_order(integration, api_as, order_input):
    created = api_as(integration).post("/orders", order_input).json()
    response = api_as(integration).post(f"/orders/{created['id']}/dispatch", {"lead_unit": 1})
    assert response.status_code == 403
    assert "不能办理工单" in response.json()["detail"]


def test_only_the_hash_of_a_token_is_stored(handler):
    row, token = api_actions.create_user_token(actor=None, user=handler, name="手机")
    assert token.startswith("miu_") and len(token) > 40
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    assert row.prefix == token[:12]
    assert not ApiToken.objects.filter(token_hash=token).exists()


def test_revoked_and_expired_tokens_and_inactive_users_are_refused(handler, make_order):
    row, token = api_actions.create_user_token(actor=None, user=handler, name="手机")
    assert Caller(token).get("/orders").status_code == 200
    api_actions.revoke_user_token(actor=None, token=row)
    assert Caller(token).get("/orders").status_code == 401

    row, token = api_actions.create_user_token(
        actor=None, user=handler, name="临时", expires_at=timezone.now() - timezone.timedelta(1))
    assert Caller(token).get("/orders").status_code == 401

    _, token = api_actions.create_user_token(actor=None, user=handler, name="手机2")
    handler.is_active = False
    handler.save()
    assert Caller(token).get("/orders").status_code == 401


def test_an_inactive_client_is_refused(integration):
    integration.is_active = False
    integration.save()
    assert Caller(integration.token).get("/orders").status_code == 401


def test_last_used_is_written_at_most_every_few_minutes(handler):
    row, token = api_actions.create_user_token(actor=None, user=handler, name="手机")
    caller = Caller(token)
    caller.get("/orders")
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None
    caller.get("/orders")
    row.refresh_from_db()
    assert row.last_used_at == first


def test_a_wrong_token_never_falls_back_to_the_session(handler):
    caller = Caller()
    caller.client.force_login(handler)
    assert caller.get("/orders").status_code == 200
    caller.client.defaults["HTTP_AUTHORIZATION"] = "Bearer miu_revoked"
    assert caller.get("/orders").status_code == 401


def test_a_session_write_needs_the_csrf_token_and_a_token_write_does_not(
        make_order, handler, api_as):
    order = make_order("dispatched")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(handler)
    url = f"{BASE}/orders/{order.pk}/sign"
    refused = browser.post(url, "{}", content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    # With the token from the cookie, as the pages send it.
    browser.get(reverse("home"))
    csrf = browser.cookies["csrftoken"].value
    done = browser.post(url, "{}", content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "signed"

    token_caller = api_as(handler)
    token_caller.client = Client(enforce_csrf_checks=True)
    response = token_caller.post(f"/orders/{order.pk}/contact", {"method": "phone"})
    assert response.status_code == 200, response.content


def test_an_anonymous_browser_gets_401_json_not_the_login_page():
    response = Client().get(f"{BASE}/orders")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("缺少访问令牌")


def test_the_document_and_its_page_need_no_login():
    assert Client().get(f"{BASE}/openapi.json").status_code == 200
    assert Client().get(f"{BASE}/docs").status_code == 200


def test_wrong_method_is_405_json(integration):
    response = Client().delete(f"{BASE}/orders",
                               HTTP_AUTHORIZATION=f"Bearer {integration.token}")
    assert response.status_code == 405
    assert "DELETE" in response.json()["detail"]
    assert "POST" in response["Allow"]
