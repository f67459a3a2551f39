"""Spot checks (抽测回访): the opinion office re-calls a random share of each unit's completed
callbacks, and each unit's answers are compared with what the public tells the office.

The draw is random and reproducible: one seed for the whole draw, recorded in its event; the
units are taken in id order and each unit's candidates in id order, so the same seed over the
same candidates picks the same callbacks.

Agreement is decided on the satisfaction *class*, not the exact answer: 满意 and 基本满意 are
one class ("satisfied"), 不满意 the other. The spot check exists to find units whose
"satisfied" the public does not confirm; the line between 满意 and 基本满意 is a fine one that
the same person draws differently on a second call days later, and counting it would bury the
inflated results among harmless wobbles. The pairs that differ only within the class are
still counted (`exact_differences`) and shown, not hidden. Agreement is computed when read,
from the two answers; it is never stored a second time.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from minyi.callbacks.models import Answer, CallbackTask, Caller, Satisfaction
from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

DRAW_ACTION = "callback.spot_check_draw"
DEFINITION_VERSION = "2026.1"
DEFINITION = ("按满意度类别比较：满意与基本满意同为「满意」一类，不满意为另一类；"
              "两次回答不在同一类即为不一致。")
DRAW_ROLES = frozenset({Role.OPINION_OFFICER})
SATISFIED_CLASS = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})

ACTION_LABELS = {DRAW_ACTION: "抽取抽测回访"}


def default_share() -> Decimal:
    return Decimal(str(getattr(settings, "MINYI_SPOT_CHECK_SHARE", "0.1")))


# --- pure logic ------------------------------------------------------------------------------


def sample_size(population: int, share: Decimal | float | str) -> int:
    """How many of a unit's callbacks are re-called: the share rounded up, at least one when
    there are any, never more than there are."""
    if population <= 0:
        return 0
    wanted = math.ceil(Decimal(population) * Decimal(str(share)))
    return min(population, max(1, wanted))


def choose(candidates: Mapping[int, Sequence[int]], share: Decimal | float | str,
           seed: int) -> dict[int, list[int]]:
    """Per unit id, the task ids drawn from its candidates: one generator seeded once, units
    in id order, candidates in id order, so a seed reproduces the draw."""
    rng = random.Random(seed)
    drawn: dict[int, list[int]] = {}
    for unit_id in sorted(candidates):
        pool = sorted(candidates[unit_id])
        n = sample_size(len(pool), share)
        if n:
            drawn[unit_id] = sorted(rng.sample(pool, n))
    return drawn


def satisfaction_class(value: str) -> str:
    return "satisfied" if value in SATISFIED_CLASS else "dissatisfied"


def agrees(unit_answer: str, public_answer: str) -> bool:
    return satisfaction_class(unit_answer) == satisfaction_class(public_answer)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# --- the draw --------------------------------------------------------------------------------


def day_bounds(start: date, end: date | None = None) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end` (or of `start`), Shanghai time."""
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(start, time.min), tz),
            timezone.make_aware(datetime.combine((end or start) + timedelta(days=1), time.min),
                                tz))


def candidates_q(bureau: Unit, since: datetime, until: datetime) -> Q:
    """Unit-made callbacks of the bureau, completed with an answer in the period, not yet
    spot-checked."""
    return (Q(bureau__path__startswith=bureau.path, kind=CallbackTask.Kind.CALLBACK,
              caller=Caller.UNIT, state=CallbackTask.State.COMPLETED,
              answer__answered_at__gte=since, answer__answered_at__lt=until)
            & ~Q(children__kind=CallbackTask.Kind.SPOT_CHECK))


def can_draw(user: Any, bureau: Unit) -> bool:
    return bool(getattr(user, "is_superuser", False)) or access.bureau_role(user, bureau,
                                                                            DRAW_ROLES)


@dataclass
class DrawResult:
    seed: int
    share: Decimal
    since: date
    until: date
    population: dict[int, int]
    tasks: list[CallbackTask] = field(default_factory=list)


def draw_spot_checks(*, actor: Any, bureau: Unit, day: date | None = None,
                     share: Decimal | float | str | None = None, seed: int | None = None,
                     since: date | None = None, until: date | None = None,
                     now: datetime | None = None) -> DrawResult:
    """Draw the spot checks of `day`: by default the unit callbacks answered the day before
    (or those answered from `since` to `until`, both days included). Once per bureau and day."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    share = default_share() if share is None else Decimal(str(share))
    if not Decimal(0) < share <= Decimal(1):
        raise InvalidInput("抽测比例须大于 0、不超过 1")
    since = since or day - timedelta(days=1)
    until = until or since
    if until < since:
        raise InvalidInput("抽测期间的结束日期不能早于开始日期")
    seed = secrets.randbelow(2**62) if seed is None else int(seed)
    if not can_draw(actor, bureau):
        raise NotAllowed(f"只有{bureau}的民意专员可以抽取抽测回访")
    start, end = day_bounds(since, until)
    with transaction.atomic():
        lock_chain()
        if Event.objects.filter(action=DRAW_ACTION, object_type="orgs.unit",
                                object_id=str(bureau.pk), payload__day=day.isoformat()).exists():
            raise Conflict(f"{bureau}{day:%Y年%m月%d日}的抽测回访已经抽取过")
        rows = (CallbackTask.objects.filter(candidates_q(bureau, start, end))
                .values_list("unit_id", "pk").distinct())
        candidates: dict[int, list[int]] = {}
        for unit_id, pk in rows:
            candidates.setdefault(unit_id, []).append(pk)
        drawn = choose(candidates, share, seed)
        parents = {t.pk: t for t in CallbackTask.objects.filter(
            pk__in=[pk for pks in drawn.values() for pk in pks])}
        tasks = CallbackTask.objects.bulk_create([
            CallbackTask(bureau_id=parent.bureau_id, unit_id=parent.unit_id,
                         caller=Caller.OPINION_OFFICE,
                         contact_id=parent.contact_id, kind=CallbackTask.Kind.SPOT_CHECK,
                         parent=parent, state=CallbackTask.State.PENDING, due_at=now)
            for unit_id in sorted(drawn) for parent in (parents[pk] for pk in drawn[unit_id])])
        if not any(t.pk for t in tasks):
            # Backends that do not return ids from a bulk insert: read them back.
            tasks = list(CallbackTask.objects.filter(
                parent_id__in=parents, kind=CallbackTask.Kind.SPOT_CHECK).order_by("pk"))
        record_event(actor=actor, obj=bureau, action=DRAW_ACTION, payload={
            "day": day.isoformat(), "since": since.isoformat(), "until": until.isoformat(),
            "seed": seed, "share": str(share),
            "units": {str(u): {"population": len(candidates[u]), "drawn": len(drawn.get(u, []))}
                      for u in sorted(candidates)},
            "parents": [pk for u in sorted(drawn) for pk in drawn[u]],
            "tasks": [t.pk for t in tasks],
        })
    return DrawResult(seed=seed, share=share, since=since, until=until,
                      population={u: len(p) for u, p in candidates.items()}, tasks=tasks)


def last_draw(bureau: Unit) -> Event | None:
    return (Event.objects.filter(action=DRAW_ACTION, object_type="orgs.unit",
                                 object_id=str(bureau.pk)).order_by("-id").first())


# --- reads -----------------------------------------------------------------------------------


@dataclass
class Pair:
    spot_check: CallbackTask
    unit_answer: Answer
    public_answer: Answer

    @property
    def agrees(self) -> bool:
        return agrees(self.unit_answer.satisfaction, self.public_answer.satisfaction)

    @property
    def inflated(self) -> bool:
        """The unit recorded a satisfied answer the public does not confirm."""
        return (self.unit_answer.satisfaction in SATISFIED_CLASS
                and self.public_answer.satisfaction not in SATISFIED_CLASS)


@dataclass
class UnitRow:
    unit: Unit
    done: int = 0
    disagreements: int = 0
    inflated: int = 0
    exact_differences: int = 0
    pending: int = 0
    pairs: list[Pair] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return rate(self.disagreements, self.done)

    @property
    def inflated_rate(self) -> float | None:
        return rate(self.inflated, self.done)

    @property
    def rate_text(self) -> str:
        return percent(self.rate)


def summarize(pairs: Iterable[Pair], units: Iterable[Unit]) -> list[UnitRow]:
    rows = {u.pk: UnitRow(unit=u) for u in units}
    for pair in pairs:
        row = rows.get(pair.spot_check.unit_id)
        if row is None:
            continue
        row.done += 1
        if not pair.agrees:
            row.disagreements += 1
            row.pairs.append(pair)
        if pair.inflated:
            row.inflated += 1
        if pair.unit_answer.satisfaction != pair.public_answer.satisfaction:
            row.exact_differences += 1
    return sorted(rows.values(), key=lambda r: (-(r.rate or 0), -r.done, r.unit.path))


def _visible_tasks(user: Any) -> Q | None:
    return access.unit_scope_q(user)


def spot_check_table(user: Any, since: date, until: date) -> list[UnitRow]:
    """Per unit the user sees: spot checks answered in the period, disagreements, the rate, and
    the disagreeing pairs; units with spot checks still to be called show them as pending."""
    start, end = day_bounds(since, until)
    scope = _visible_tasks(user)
    spot = CallbackTask.objects.filter(kind=CallbackTask.Kind.SPOT_CHECK)
    if scope is not None:
        spot = spot.filter(scope)
    done = list(spot.filter(answer__answered_at__gte=start, answer__answered_at__lt=end,
                            parent__answer__isnull=False)
                .select_related("unit", "contact", "answer", "parent__answer")
                .order_by("unit__path", "pk"))
    pending = dict(spot.filter(state__in=[CallbackTask.State.PENDING,
                                          CallbackTask.State.RETRY])
                   .values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"))
    units = {t.unit_id: t.unit for t in done}
    units.update({u.pk: u for u in Unit.objects.filter(pk__in=list(pending))})
    pairs = [Pair(spot_check=t, unit_answer=t.parent.answer, public_answer=t.answer)
             for t in done]
    rows = summarize(pairs, units.values())
    for row in rows:
        row.pending = pending.get(row.unit.pk, 0)
    return rows


def sees_spot_checks(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(access.memberships_of(user))


def drawing_bureau(user: Any) -> Unit | None:
    """The bureau whose spot checks the user may draw (an opinion officer's), if any."""
    if getattr(user, "is_superuser", False):
        return Unit.objects.filter(parent__isnull=True).order_by("pk").first()
    for membership in access.memberships_of(user):
        if membership.role in DRAW_ROLES:
            return membership.unit.bureau()
    return None


def register() -> None:
    from minyi.core.audit import register_action_labels

    register_action_labels(ACTION_LABELS)
