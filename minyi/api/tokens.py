"""API tokens: made once, shown once, kept only as a SHA-256 hash.

Two kinds, told apart by their prefix so that one lookup finds the right table: `mic_` for an
integrating system (`intake.IntegrationClient`), `miu_` for an officer (`api.ApiToken`). The
secret part has 256 bits, so a plain SHA-256 (no salt, no stretching) is enough: nobody can
guess a preimage, and an equality lookup on the hash column stays one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

CLIENT_PREFIX = "mic_"
USER_PREFIX = "miu_"
# How many leading characters are kept in clear, to tell tokens apart in lists and logs.
SHOWN_CHARS = 12


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once to whoever made it, never stored
    prefix: str
    hash: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(kind_prefix: str) -> NewToken:
    token = kind_prefix + secrets.token_urlsafe(32)
    return NewToken(token=token, prefix=token[:SHOWN_CHARS], hash=hash_token(token))


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)
