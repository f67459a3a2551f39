"""Who is calling the API.

Three ways in, checked in this order:

- `Authorization: Bearer mic_…` — an integrating system (`intake.IntegrationClient`). It may
  create orders (in its own bureau; on its default channel unless it names another active
  one), list and read the orders *it* sent, and see its own feedback deliveries. It changes
  no order: handling an order is police work, done by officers.
- `Authorization: Bearer miu_…` — an officer's own token (`api.ApiToken`). The request then
  runs as that user, through `orgs.access` and the actions' role and unit checks, exactly as
  the pages do.
- No Authorization header — the browser session of a logged-in officer, for pages that call
  the API. Only this way needs the CSRF token on writes: a bearer token is never sent by a
  browser on its own, so it cannot be forged cross-site.

A header that is present but wrong never falls back to the session: a client that sends a
revoked token must hear so (401), not be let in on someone's cookie.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from minyi.api import tokens
from minyi.api.models import ApiToken

# `last_used_at` is a hint for administrators, not an audit record: writing it at most this
# often keeps a busy app from turning every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class Unauthenticated(Exception):
    """No caller could be established; the message says why, in Chinese (answered 401)."""


@dataclass(frozen=True)
class Caller:
    user: Any = None  # the officer, for user tokens and sessions
    client: Any = None  # the integrating system, for client tokens
    via: str = "session"  # "client", "token" or "session"

    @property
    def is_client(self) -> bool:
        return self.client is not None


def _bearer(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Authorization 请求头格式应为：Bearer <访问令牌>")
    return token


def _client_for(token_hash: str) -> Any:
    from minyi.intake.models import IntegrationClient

    client = (IntegrationClient.objects.select_related("bureau", "channel")
              .filter(token_hash=token_hash, is_active=True).first())
    if client is None or not hmac.compare_digest(client.token_hash, token_hash):
        return None
    return client


def _user_token_for(token_hash: str) -> ApiToken | None:
    row = ApiToken.objects.usable().select_related("user").filter(token_hash=token_hash).first()
    if row is None or not hmac.compare_digest(row.token_hash, token_hash):
        return None
    now = timezone.now()
    if row.last_used_at is None or row.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return row


def authenticate(request: HttpRequest) -> Caller:
    """The caller of this request, or Unauthenticated. Sets `request.user` for user tokens so
    that everything downstream sees the officer."""
    token = _bearer(request)
    if token is not None:
        token_hash = tokens.hash_token(token)
        if token.startswith(tokens.CLIENT_PREFIX):
            client = _client_for(token_hash)
            if client is not None:
                return Caller(client=client, via="client")
        elif token.startswith(tokens.USER_PREFIX):
            row = _user_token_for(token_hash)
            if row is not None:
                request.user = row.user
                return Caller(user=row.user, via="token")
        raise Unauthenticated("访问令牌无效、已过期或已撤销")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return Caller(user=user, via="session")
    raise Unauthenticated("缺少访问令牌：请在请求头中提供 Authorization: Bearer <访问令牌>，"
                          "或先登录")


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def csrf_failure(request: HttpRequest) -> str | None:
    """Why a session-authenticated write fails the CSRF check, or None when it passes. API
    views are exempt from the middleware (tokens need no CSRF), so sessions are checked here."""
    check = _CsrfCheck(lambda _request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})
