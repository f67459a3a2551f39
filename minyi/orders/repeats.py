"""Repeat complaints (重复投诉): the same caller, the same address or the same matter again
within a window (default 30 days), across channels, within one bureau.

Detection runs in the sweep (`escalation.sweep`, every minute), not when an order comes in, so
that every way in is covered — the intake form, the API and a million-row import — and an
import is not slowed by it. Each order carries `repeat_checked_at`: NULL until the sweep has
looked at it. The sweep
- marks orders received more than a window before now as checked and does nothing else with
  them: that is history (a bureau importing a year of records), and a reminder letter about a
  matter months old presses no one to do anything now;
- for the rest, finds the earlier orders each repeats, claims the order with a conditional
  UPDATE (two sweeps at once never both write it) and in the same transaction links it to
  them, sets `is_repeat` and records an "order.repeat" event;
- issues the reminder letters (`repeat_letters_due`): once per order, to open orders that came
  in through the form or the API. Imported orders are linked and counted but get no letter: an
  import copies another system's records, which that system has already pressed on.

An earlier order marked invalid (无效: a prank, malicious repeat calls) is never a basis: a
repeat letter says the earlier complaint went unresolved, and an invalid one was nothing to
resolve. An order already invalid when checked is marked and left alone.

Bases, strongest first: the keyed hash of the caller's phone (`citizen_phone_hash`), the keyed
hash of the place it happened (`location_hash`: the location with white space removed, as the
form, the API and the importer all write it through `Order.set_location`), and text: the
similarity of title and content (`core.text.similarity`) at least `TEXT_THRESHOLD`.

Text is compared only with orders of the same bureau in the window that share a rare word with
the new one (an inverted index built per batch, `TextIndex`): never all pairs of the table.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from minyi.core import text
from minyi.core.audit import record_event
from minyi.orders.models import Order, ReminderLetter, RepeatLink
from minyi.orders.rules import FINAL_STATES, CreatedVia, DemandKind, State
from minyi.orgs import access

# Measured on orders/tests/data/repeat_pairs.csv by bench/repeat_threshold.py: the highest F1
# among thresholds with a precision of at least 0.6 (a false match costs a unit a letter).
TEXT_THRESHOLD = 0.30
# At most this many earlier orders are linked to one order (the most recent ones): a caller who
# rings every day must not turn one order into a thousand rows.
MAX_LINKS = 20
# A word found in more than this share of the texts in the window is too common to find
# candidates by (噪音, 小区); the similarity itself still counts it.
RARE_SHARE = 0.02
RARE_MIN = 20

Basis = RepeatLink.Basis
_BASIS_RANK = {Basis.PHONE: 0, Basis.ADDRESS: 1, Basis.TEXT: 2}


def window() -> timedelta:
    """How far back an earlier order counts (MINYI_REPEAT_WINDOW_DAYS, default 30 days)."""
    return timedelta(days=getattr(settings, "MINYI_REPEAT_WINDOW_DAYS", 30))


def enabled() -> bool:
    """Whether the sweep looks for repeats (MINYI_REPEAT_CHECK, default on). Tests about other
    documents turn it off: their fixture orders share one caller and one text."""
    return getattr(settings, "MINYI_REPEAT_CHECK", True)


def order_text(title: str, content: str) -> str:
    return f"{title}。{content}" if content else title


# --- pure logic: which earlier order, on what basis -------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An order as the repeat check sees it."""

    pk: int
    received_at: datetime
    phone_hash: str = ""
    location_hash: str = ""
    text: str = ""
    # The township or street the order's area lies in (the first segment of the area's path):
    # the same words in two townships are two matters (the demo's and a real hotline's stock
    # phrases, 夜间广场舞噪音扰民, are said in every township of a county).
    township: str = ""
    # A question asked again (咨询: 落户要哪些材料) is not a complaint repeated: text alone links
    # only demands that can go unresolved.
    consultation: bool = False


@dataclass(frozen=True)
class Match:
    earlier: int
    basis: str
    similarity: float


def is_earlier(earlier: Candidate, order: Candidate, span: timedelta) -> bool:
    """Received before `order` (ties broken by id: an import gives many rows one time) and no
    more than `span` before it."""
    if (earlier.received_at, earlier.pk) >= (order.received_at, order.pk):
        return False
    return order.received_at - earlier.received_at <= span


def text_may_link(a: Candidate, b: Candidate) -> bool:
    """Whether text alone may link two orders: neither a consultation, and in one township or
    street, or either without an area (an order taken without one may be anywhere)."""
    if a.consultation or b.consultation:
        return False
    return not a.township or not b.township or a.township == b.township


@dataclass(frozen=True)
class Score:
    """How a threshold does on a labelled set of pairs."""

    threshold: float
    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        same = self.true_pos + self.false_neg
        return self.true_pos / same if same else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(scored: Iterable[tuple[float, bool]], threshold: float) -> Score:
    """Precision and recall of "similarity >= threshold means the same matter" on pairs
    (similarity, same matter?)."""
    tp = fp = fn = 0
    for similarity, same in scored:
        flagged = similarity >= threshold
        tp += flagged and same
        fp += flagged and not same
        fn += same and not flagged
    return Score(threshold, tp, fp, fn)


def choose_threshold(scored: list[tuple[float, bool]], *, min_precision: float = 0.6,
                     grid: Iterable[float] = tuple(i / 100 for i in range(5, 100, 5))) -> Score:
    """The threshold with the highest F1 among those with at least `min_precision` (a false
    match costs a unit a reminder letter); the higher threshold on a tie."""
    scores = [score(scored, t) for t in grid]
    allowed = [s for s in scores if s.precision >= min_precision and s.true_pos] or scores
    return max(allowed, key=lambda s: (round(s.f1, 9), s.threshold))


class TextIndex:
    """The texts of a window's orders, searchable by their rare words.

    A word that few texts use (a place's name, a shop, a number) finds the texts that share
    it; a word that many use finds nothing, so a query costs the postings of its rare words and
    not the size of the window.
    """

    def __init__(self, items: Iterable[tuple[int, str]]) -> None:
        self.profiles: dict[int, text.Profile] = {}
        postings: dict[str, list[int]] = defaultdict(list)
        for pk, body in items:
            profile = text.profile(body)
            self.profiles[pk] = profile
            for word in set(profile.words):
                postings[word].append(pk)
        self.rare_limit = max(RARE_MIN, math.ceil(RARE_SHARE * len(self.profiles)))
        self.postings = {w: ids for w, ids in postings.items() if len(ids) <= self.rare_limit}

    def similar(self, profile: text.Profile, threshold: float,
                exclude: int | None = None) -> list[tuple[int, float]]:
        """(id, similarity) of the indexed texts at least `threshold` alike, best first."""
        seen: set[int] = set()
        for word in set(profile.words):
            seen.update(self.postings.get(word, ()))
        seen.discard(exclude)
        found = []
        for pk in seen:
            score = text.profile_similarity(profile, self.profiles[pk])
            if score >= threshold:
                found.append((pk, score))
        found.sort(key=lambda item: (-item[1], item[0]))
        return found


class Window:
    """The orders a batch's orders may repeat: one bureau's orders over the batch's windows,
    looked up by phone hash, by place hash and by rare words."""

    def __init__(self, pool: Iterable[Candidate]) -> None:
        self.orders = {c.pk: c for c in pool}
        self.phones: dict[str, list[int]] = defaultdict(list)
        self.places: dict[str, list[int]] = defaultdict(list)
        for c in self.orders.values():
            if c.phone_hash:
                self.phones[c.phone_hash].append(c.pk)
            if c.location_hash:
                self.places[c.location_hash].append(c.pk)
        self.index = TextIndex((c.pk, c.text) for c in self.orders.values())

    def matches(self, order: Candidate, span: timedelta, threshold: float = TEXT_THRESHOLD,
                limit: int = MAX_LINKS) -> list[Match]:
        """The earlier orders `order` repeats, each with its strongest basis and the text
        similarity: the most recent `limit` of them, most recent first."""
        bases: dict[int, str] = {}
        for pk in self.phones.get(order.phone_hash, ()) if order.phone_hash else ():
            bases[pk] = Basis.PHONE
        for pk in self.places.get(order.location_hash, ()) if order.location_hash else ():
            bases.setdefault(pk, Basis.ADDRESS)
        mine = self.index.profiles.get(order.pk) or text.profile(order.text)
        scores = dict(self.index.similar(mine, threshold, exclude=order.pk))
        for pk in scores:
            if text_may_link(self.orders[pk], order):
                bases.setdefault(pk, Basis.TEXT)
        earlier = [pk for pk in bases
                   if pk != order.pk and is_earlier(self.orders[pk], order, span)]
        earlier.sort(key=lambda pk: (self.orders[pk].received_at, pk), reverse=True)
        found = []
        for pk in earlier[:limit]:
            score = scores.get(pk)
            if score is None:
                score = text.profile_similarity(mine, self.index.profiles[pk])
            found.append(Match(pk, bases[pk], round(score, 4)))
        return found


# --- the sweep's part -------------------------------------------------------------------------


@dataclass
class CheckResult:
    checked: int = 0
    repeats: int = 0
    history: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def mark_history(*, now: datetime, chunk: int = 5000) -> int:
    """Orders received more than a window before now, never checked: marked checked, nothing
    else. In chunks, each its own transaction, so a million imported rows never hold the write
    lock for long."""
    cutoff = now - window()
    total = 0
    while True:
        ids = list(Order.objects.filter(repeat_checked_at__isnull=True, received_at__lt=cutoff)
                   .order_by().values_list("pk", flat=True)[:chunk])
        if not ids:
            return total
        total += Order.objects.filter(pk__in=ids, repeat_checked_at__isnull=True).update(
            repeat_checked_at=now)


_FIELDS = ("pk", "received_at", "citizen_phone_hash", "location_hash", "title", "content",
           "area__path", "demand_kind")


def _candidate(row: dict[str, Any]) -> Candidate:
    return Candidate(pk=row["pk"], received_at=row["received_at"],
                     phone_hash=row["citizen_phone_hash"], location_hash=row["location_hash"],
                     text=order_text(row["title"], row["content"]),
                     township=(row["area__path"] or "").split(".", 1)[0],
                     consultation=row["demand_kind"] == DemandKind.CONSULTATION)


def check_orders(*, now: datetime | None = None, batch: int = 2000) -> CheckResult:
    """Check up to `batch` unchecked orders of the window for repeats (see the module's text)."""
    now = now or timezone.now()
    span = window()
    result = CheckResult()
    started = time.perf_counter()
    result.history = mark_history(now=now)
    todo = list(Order.objects.filter(repeat_checked_at__isnull=True,
                                     received_at__gte=now - span)
                .order_by("received_at", "pk").values("pk", "bureau_id", "state", *_FIELDS[1:])
                [:batch])
    result.seconds["claim"] = time.perf_counter() - started
    by_bureau: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in todo:
        by_bureau[row["bureau_id"]].append(row)
    for bureau_id, rows in by_bureau.items():
        _check_bureau(bureau_id, rows, now=now, span=span, result=result)
    result.seconds["total"] = time.perf_counter() - started
    return result


def _check_bureau(bureau_id: int, rows: list[dict[str, Any]], *, now: datetime,
                  span: timedelta, result: CheckResult) -> None:
    t0 = time.perf_counter()
    first = min(r["received_at"] for r in rows) - span
    last = max(r["received_at"] for r in rows)
    # Every valid order of the bureau in the window of any order of the batch, whatever its
    # own check state (an order of this very batch can be the earlier one of another).
    pool = [_candidate(r) for r in
            Order.objects.filter(bureau_id=bureau_id, received_at__gte=first,
                                 received_at__lte=last)
            .exclude(state=State.INVALID).order_by().values(*_FIELDS)]
    t1 = time.perf_counter()
    scope = Window(pool)
    t2 = time.perf_counter()
    found = {row["pk"]: [] if row["state"] == State.INVALID
             else scope.matches(scope.orders.get(row["pk"]) or _candidate(row), span)
             for row in rows}
    t3 = time.perf_counter()
    for row in rows:
        result.checked += 1
        result.repeats += _record(row["pk"], found[row["pk"]], now=now)
    t4 = time.perf_counter()
    for key, value in (("pool", t1 - t0), ("index", t2 - t1), ("match", t3 - t2),
                       ("write", t4 - t3)):
        result.seconds[key] = result.seconds.get(key, 0.0) + value


def _record(pk: int, matches: list[Match], *, now: datetime) -> bool:
    """Claim the order and write what was found, in one transaction; False if another sweep
    had claimed it or it repeats nothing."""
    with transaction.atomic():
        changes: dict[str, Any] = {"repeat_checked_at": now}
        if matches:
            changes["is_repeat"] = True
        if not Order.objects.filter(pk=pk, repeat_checked_at__isnull=True).update(**changes):
            return False
        if not matches:
            return False
        RepeatLink.objects.bulk_create([
            RepeatLink(order_id=pk, earlier_id=m.earlier, basis=m.basis,
                       similarity=m.similarity) for m in matches])
        order = Order.objects.get(pk=pk)
        record_event(actor=None, obj=order, action="order.repeat", payload={
            "earlier": [{"order": m.earlier, "basis": m.basis, "similarity": m.similarity}
                        for m in matches]})
    return True


def repeat_letters_due(*, now: datetime) -> Any:
    """Orders that should have a repeat letter and lack one: repeats checked within the window,
    still open, held by a unit, received through the form or the API."""
    return (Order.objects.filter(is_repeat=True, repeat_checked_at__gte=now - window(),
                                 lead_unit__isnull=False)
            .exclude(state__in=FINAL_STATES).exclude(created_via=CreatedVia.IMPORT)
            .exclude(Exists(ReminderLetter.objects.filter(
                order=OuterRef("pk"), reason=ReminderLetter.Reason.REPEAT)))
            .select_related("bureau", "lead_unit").order_by("pk"))


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarlierOrder:
    order: Order
    basis: str
    basis_label: str
    similarity: float

    @property
    def similarity_percent(self) -> int:
        return round(self.similarity * 100)


def earlier_orders(order: Order, user: Any) -> list[EarlierOrder]:
    """The earlier orders `order` repeats that `user` may see, most recent first, each with
    the basis of the link and the text similarity (0–1)."""
    visible = access.visible_orders(user).filter(pk=OuterRef("earlier_id"))
    links = (RepeatLink.objects.filter(order=order).filter(Exists(visible))
             .select_related("earlier", "earlier__channel")
             .order_by("-earlier__received_at", "-earlier_id"))
    return [EarlierOrder(link.earlier, link.basis, link.get_basis_display(), link.similarity)
            for link in links]


def repeat_counts(*, bureau: Any, start: datetime | date, end: datetime | date
                  ) -> dict[int, int]:
    """Per lead unit id: how many repeat orders (is_repeat, not invalid) of `bureau` were
    received in [start, end). Dates are whole days in the bureau's time zone (Asia/Shanghai).
    Units with none are absent; orders without a lead unit are not counted."""
    start, end = _moment(start), _moment(end)
    rows = (Order.objects.filter(bureau=bureau, is_repeat=True, received_at__gte=start,
                                 received_at__lt=end, lead_unit__isnull=False)
            .exclude(state=State.INVALID).order_by().values("lead_unit_id")
            .annotate(n=Count("id")))
    return {r["lead_unit_id"]: r["n"] for r in rows}


def _moment(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime(value.year, value.month, value.day))
