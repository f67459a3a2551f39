"""Cursor (keyset) pagination: a page costs one indexed query however deep it is, and a row
added meanwhile never shifts the pages (no OFFSET, no COUNT).

The cursor is the sort key of the last row of the page, signed so that a client cannot forge
one into a query the server did not mean (a tampered cursor is a 400, not a 500). Rows are
walked newest first; the key ends with the primary key so that rows sharing a timestamp are
neither skipped nor repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import Model, Q, QuerySet

from minyi.api.inputs import BadRequest, Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_SALT = "minyi.api.cursor"


def read_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not (raw.isdecimal()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest([Problem("limit", f"limit 应为 1 到 {MAX_LIMIT} 之间的整数",
                                  "每页条数")])
    return int(raw)


def encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return signing.dumps(plain, salt=_SALT, compress=False)


def decode(cursor: str, keys: Sequence[str]) -> list[Any]:
    try:
        plain = signing.loads(cursor, salt=_SALT)
        if not isinstance(plain, list) or len(plain) != len(keys):
            raise ValueError
        values: list[Any] = []
        for key, value in zip(keys, plain, strict=True):
            if key == "id":
                if not isinstance(value, int):
                    raise ValueError
                values.append(value)
            else:
                values.append(datetime.fromisoformat(value))
        return values
    except (signing.BadSignature, ValueError, TypeError):
        raise BadRequest([Problem("cursor", "cursor 无效：请使用上一页答复中的 next_cursor",
                                  "翻页游标")]) from None


def _after(keys: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in descending (k1, k2, …) order. Written as
    `k1 <= v1 AND (k1 < v1 OR <the rest after>)` rather than a plain OR, so that the database
    gets a range bound on the leading key it can take from the index."""
    head, value = keys[0], values[0]
    if len(keys) == 1:
        return Q(**{f"{head}__lt": value})
    return Q(**{f"{head}__lte": value}) & (
        Q(**{f"{head}__lt": value}) | _after(keys[1:], values[1:]))


def page(qs: QuerySet, keys: Sequence[str], cursor: str | None,
         limit: int) -> tuple[list[Model], str | None]:
    """One page of `qs` in descending `keys` order, and the cursor of the next (None at the
    end). `keys` must end with "id"."""
    qs = qs.order_by(*(f"-{k}" for k in keys))
    if cursor:
        qs = qs.filter(_after(keys, decode(cursor, keys)))
    # One more than asked tells whether a next page exists; a unit user's orders are taken
    # part by part of the scope (OrderQuerySet.fetch_slice), each along its own index.
    fetch = getattr(qs, "fetch_slice", None)
    rows = fetch(0, limit + 1) if fetch else list(qs[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode([getattr(last, k) for k in keys])
