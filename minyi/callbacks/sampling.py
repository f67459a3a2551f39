"""The daily draw, as plain functions: how many of a unit's contacts are called, which ones
(random but reproducible from a recorded seed), and who is left out by the cooling-off period.
No database here; `actions.draw_day` feeds it."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def sample_size(n: int, *, share: Decimal | float | str, minimum: int = 0,
                maximum: int | None = None) -> int:
    """round(share × n), half up (0.5 → 1, as people count, not Python's half-to-even),
    then at least `minimum`, at most `maximum`, and never more than there are."""
    share = Decimal(str(share))
    if not Decimal(0) <= share <= Decimal(1):
        raise ValueError("抽取比例应在 0 到 1 之间")
    if minimum < 0 or (maximum is not None and maximum < 0):
        raise ValueError("最少、最多数不能为负")
    if maximum is not None and minimum > maximum:
        raise ValueError("每日最少数不能大于最多数")
    k = int((share * n).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    k = max(k, minimum)
    if maximum is not None:
        k = min(k, maximum)
    return min(k, n)


def draw(population: Iterable[Key], *, share: Decimal | float | str, minimum: int = 0,
         maximum: int | None = None, seed: int) -> list[Key]:
    """One unit's draw: `sample_size` keys chosen by `random.Random(seed)` from the sorted
    population, so that the same population and seed always give the same keys, whatever
    order they were read in. The chosen keys come back sorted."""
    ordered = sorted(set(population))
    k = sample_size(len(ordered), share=share, minimum=minimum, maximum=maximum)
    return sorted(random.Random(seed).sample(ordered, k))


def seed_for(plan_id: int, day: date) -> int:
    """The seed of a plan's draw on a day: derived, so a draw can be redone and checked, and
    recorded on the Draw. 63 bits, to fit a signed 64-bit column."""
    digest = hashlib.sha256(f"minyi.callbacks.draw:{plan_id}:{day.isoformat()}".encode())
    return int.from_bytes(digest.digest()[:8], "big") >> 1


def cooling_off(candidates: Iterable[tuple[Key, str]], last_called: Mapping[str, datetime], *,
                as_of: datetime, days: int) -> tuple[list[Key], list[Key]]:
    """(kept, skipped): a candidate (key, phone hash) is skipped when its phone had a task
    created within `days` days before `as_of`, or when an earlier candidate has the same phone
    (one person, one call per draw). A candidate without a phone hash is kept."""
    since = as_of - timedelta(days=days)
    kept: list[Key] = []
    skipped: list[Key] = []
    seen: set[str] = set()
    for key, phone_hash in sorted(candidates, key=lambda c: c[0]):
        if phone_hash:
            last = last_called.get(phone_hash)
            if (last is not None and last > since and days > 0) or phone_hash in seen:
                skipped.append(key)
                continue
            seen.add(phone_hash)
        kept.append(key)
    return kept, skipped
