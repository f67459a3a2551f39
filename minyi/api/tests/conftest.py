"""Fixtures of the API tests: an integrating system with its token, officers with theirs, and a
caller that speaks JSON with a bearer token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from minyi.api import actions as api_actions
from minyi.orders.tests.factories import channel

BASE = "/api/v1"


class Caller:
    """A test client that sends `Authorization: Bearer <token>` (or nothing)."""

    def __init__(self, token: str | None = None, **client_kwargs: Any) -> None:
        self.token = token
        self.client = Client(**client_kwargs)

    def _headers(self, token: str | None) -> dict[str, str]:
        token = self.token if token is None else token
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict | None = None, token: str | None = None):
        return self.client.get(BASE + path, params or {}, **self._headers(token))

    def post(self, path: str, data: Any = None, token: str | None = None, **extra: Any):
        body = json.dumps(data if data is not None else {}, ensure_ascii=False)
        return self.client.post(BASE + path, body, content_type="application/json",
                                **self._headers(token), **extra)


@pytest.fixture
def integration(bureau):
    """The 12345 platform of the test bureau, with a webhook."""
    client, token = api_actions.create_client(
        actor=None, name="12345平台", channel=channel("12345"), bureau=bureau.bureau,
        webhook_url="http://127.0.0.1:9/feedback")
    client.token = token
    return client


@pytest.fixture
def api_as():
    """api_as(user_or_client) -> Caller with that one's token."""

    def make(who: Any) -> Caller:
        if hasattr(who, "token"):
            return Caller(who.token)
        _, token = api_actions.create_user_token(actor=None, user=who, name="测试")
        return Caller(token)

    return make


@pytest.fixture
def order_input() -> dict[str, Any]:
    return {
        "external_id": "12345-0001",
        "order_type": "noise",
        "demand_kind": "complaint",
        "title": "楼上装修噪音扰民",
        "content": "每天晚上十点后仍在施工",
        "citizen_name": "刘女士",
        "citizen_phone": "13812345678",
        "citizen_address": "东城镇东城村3号",
        "location": "东城村3号楼",
    }
