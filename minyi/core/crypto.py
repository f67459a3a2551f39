"""Citizens' personal data: encrypted at rest, matched by keyed hash, shown masked.

Both keys are derived from MINYI_DATA_KEY, one for AES-GCM and one for HMAC, so that the hash
used for matching (same caller, repeat complaints) cannot be reversed by anyone who lacks the
key, and the cipher text says nothing about which rows are equal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = "v1"


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    root = hashlib.sha256(secret.encode("utf-8")).digest()
    enc = hmac.new(root, b"minyi-personal-data-encryption", hashlib.sha256).digest()
    mac = hmac.new(root, b"minyi-personal-data-matching", hashlib.sha256).digest()
    return enc, mac


def encrypt(text: str) -> str:
    """Cipher text of `text` ("" stays ""), as ASCII safe to keep in a text column."""
    if not text:
        return ""
    enc, _ = _keys(settings.MINYI_DATA_KEY)
    nonce = os.urandom(12)
    sealed = AESGCM(enc).encrypt(nonce, text.encode("utf-8"), _VERSION.encode())
    return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    version, _, body = token.partition(":")
    if version != _VERSION:
        raise ValueError("unknown cipher version")
    enc, _ = _keys(settings.MINYI_DATA_KEY)
    raw = base64.urlsafe_b64decode(body.encode("ascii"))
    return AESGCM(enc).decrypt(raw[:12], raw[12:], _VERSION.encode()).decode("utf-8")


def normalize_phone(phone: str) -> str:
    """Digits only, without China's +86/0086 prefix: 138-0013-8000 and +86 13800138000 match."""
    digits = re.sub(r"\D", "", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix):]
    return digits


def normalize_text(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def keyed_hash(kind: str, value: str) -> str:
    """HMAC of a normalised value; "" for an empty one, so that blanks never match each other."""
    normal = normalize_phone(value) if kind == "phone" else normalize_text(value)
    if not normal:
        return ""
    _, mac = _keys(settings.MINYI_DATA_KEY)
    return hmac.new(mac, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()


PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8}|\d{7,8})$")


def is_valid_phone(phone: str) -> bool:
    """A mainland mobile (11 digits from 13–19), a landline with area code, or a local number."""
    return bool(PHONE_PATTERN.match(normalize_phone(phone)))


def mask_phone(phone: str) -> str:
    digits = normalize_phone(phone)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "****" if digits else ""


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    address = (address or "").strip()
    if len(address) <= 6:
        return address[:2] + "****" if address else ""
    return address[:6] + "****"
