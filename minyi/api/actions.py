"""Making and revoking API credentials. Each returns the token in clear exactly once; only its
hash is stored, and each change is an event in the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from minyi.api import tokens
from minyi.api.models import ApiToken
from minyi.core.audit import record_event
from minyi.core.errors import InvalidInput


def create_user_token(*, actor: Any, user: Any, name: str,
                      expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns (row, token in clear)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写令牌用途，如：所里的工作手机")
    if not user.is_active:
        raise InvalidInput(f"用户 {user} 已停用，不能发放令牌")
    new = tokens.new_token(tokens.USER_PREFIX)
    with transaction.atomic():
        row = ApiToken.objects.create(user=user, name=name[:100], token_hash=new.hash,
                                      prefix=new.prefix, expires_at=expires_at)
        record_event(actor=actor, obj=row, action="api.token_create",
                     payload={"user": user.pk, "prefix": new.prefix, "name": row.name})
    return row, new.token


def revoke_user_token(*, actor: Any, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        token.refresh_from_db()
        if updated:
            record_event(actor=actor, obj=token, action="api.token_revoke",
                         payload={"user": token.user_id, "prefix": token.prefix})
    return token


def create_client(*, actor: Any, name: str, channel: Any, bureau: Any, webhook_url: str = "",
                  webhook_secret: str = "") -> tuple[Any, str]:
    """A new integrating system; returns (client, token in clear). A webhook without a secret
    gets one made, so that every feedback post is signed."""
    from minyi.intake.models import IntegrationClient

    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写对接系统名称")
    if webhook_url and not webhook_secret:
        webhook_secret = tokens.new_webhook_secret()
    new = tokens.new_token(tokens.CLIENT_PREFIX)
    with transaction.atomic():
        client = IntegrationClient.objects.create(
            name=name[:100], channel=channel, bureau=bureau, token_hash=new.hash,
            token_prefix=new.prefix, webhook_url=webhook_url, webhook_secret=webhook_secret)
        record_event(actor=actor, obj=client, action="intake.client_create",
                     payload={"channel": channel.code, "bureau": bureau.pk,
                              "prefix": new.prefix, "webhook_url": webhook_url})
    return client, new.token


def rotate_client_token(*, actor: Any, client: Any) -> str:
    """A new token for the client; the old one stops working at once."""
    new = tokens.new_token(tokens.CLIENT_PREFIX)
    with transaction.atomic():
        old_prefix = client.token_prefix
        client.token_hash, client.token_prefix = new.hash, new.prefix
        client.save(update_fields=["token_hash", "token_prefix", "updated_at"])
        record_event(actor=actor, obj=client, action="intake.client_rotate_token",
                     payload={"old_prefix": old_prefix, "prefix": new.prefix})
    return new.token
