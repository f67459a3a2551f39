"""`minyi intake …` (integrating systems) and `minyi apitoken …` (officers' tokens): the token is
printed once and works; only its hash is kept; bad input exits 2 with a Chinese message."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from minyi.api.models import ApiToken
from minyi.api.tokens import hash_token
from minyi.core.models import Event
from minyi.intake.models import IntegrationClient

pytestmark = pytest.mark.django_db


def _run(*args: str) -> list[dict]:
    out = StringIO()
    call_command(*args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def _get(token: str, path: str = "/api/v1/orders"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_create_client_prints_the_token_once_and_it_works(bureau):
    [printed] = _run("intake", "create-client", "--name", "12345平台", "--channel", "12345",
                     "--bureau", bureau.bureau.code, "--webhook", "https://12345.example/cb")
    client = IntegrationClient.objects.get(pk=printed["client"])
    assert printed["token"].startswith("mic_")
    assert client.token_hash == hash_token(printed["token"])
    assert client.webhook_url == "https://12345.example/cb"
    assert printed["webhook_secret"] == client.webhook_secret and len(client.webhook_secret) > 30
    assert _get(printed["token"]).status_code == 200
    assert Event.objects.filter(action="intake.client_create").count() == 1

    [listed] = _run("intake", "list-clients")
    assert "token" not in listed and listed["token_prefix"] == printed["token"][:12]

    [rotated] = _run("intake", "rotate-token", "--client", str(client.pk))
    assert _get(printed["token"]).status_code == 401
    assert _get(rotated["token"]).status_code == 200


@pytest.mark.parametrize(("args", "message"), [
    (["--channel", "fax", "--bureau", "BUREAU"], "没有启用的渠道 'fax'"),
    (["--channel", "12345", "--bureau", "NOPE"], "没有单位代码为 'NOPE' 的公安局"),
    (["--channel", "12345", "--bureau", "BUREAU", "--webhook", "ftp://x"], "反馈地址不是有效的"),
])
def test_create_client_refuses_bad_input(bureau, args, message):
    args = [bureau.bureau.code if a == "BUREAU" else a for a in args]
    with pytest.raises(CommandError) as info:
        call_command("intake", "create-client", "--name", "x", *args)
    assert message in str(info.value) and info.value.returncode == 2
    assert not IntegrationClient.objects.exists()


def test_deliver_feedback_prints_how_many_were_tried():
    assert _run("intake", "deliver-feedback") == [{"tried": 0}]


def test_apitoken_create_list_revoke(handler):
    [made] = _run("apitoken", "create", "--user", handler.username, "--name", "工作手机",
                  "--days", "30")
    assert made["token"].startswith("miu_") and made["expires_at"]
    assert _get(made["token"]).status_code == 200
    assert ApiToken.objects.get().token_hash == hash_token(made["token"])
    [listed] = _run("apitoken", "list", "--user", handler.username)
    assert "token" not in listed and listed["prefix"] == made["prefix"]
    [revoked] = _run("apitoken", "revoke", "--prefix", made["prefix"])
    assert revoked["revoked_at"]
    assert _get(made["token"]).status_code == 401
    with pytest.raises(CommandError):
        call_command("apitoken", "create", "--user", "nobody", "--name", "x")
