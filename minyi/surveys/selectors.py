"""Reads of a survey's set-up for its pages: questionnaires and versions, the list of waves, a
wave's progress (completes per township against its quota), its frame by state and its AAPOR
rates, and the links to the other survey pages.

Who sees what (`orgs.access`): questionnaires and frames are the survey managers' (opinion
office, administrators); waves, their progress and rates are aggregates, seen by everyone in
the bureau. Objects out of reach are answered with 404, as missing ones are.

AAPOR outcomes of a wave (the callback desk's way of counting, `callbacks.figures`): a number
done (interviewed) is I; a closed one counts under the class it was closed with, UH when it has
none; numbers still open are not final and are counted apart, outside the rates. e is the
proportional-allocation estimate (`callbacks.aapor.estimate_e`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.http import Http404
from django.urls import NoReverseMatch, reverse

from minyi.callbacks import aapor
from minyi.orgs import access
from minyi.orgs.models import Area, Unit
from minyi.surveys.models import (
    FrameMember,
    Questionnaire,
    QuestionnaireVersion,
    Quota,
    Response,
    Wave,
)

TOWNSHIP_KINDS = (Area.Kind.TOWNSHIP, Area.Kind.STREET)
OPEN_STATES = (FrameMember.State.PENDING, FrameMember.State.RETRY)
# The rates the wave page shows, in this order.
WAVE_RATES = ("RR1", "RR3", "COOP1", "REF1", "CON1")


def manager_bureaus(user: Any) -> list[Unit]:
    """The bureaus whose surveys the user sets up (opinion officer, administrator)."""
    return access.survey_bureaus(user, access.SURVEY_MANAGERS)


def bureau_townships(bureau: Unit) -> QuerySet[Area]:
    """The bureau's townships and streets: top-level areas whose station is in the bureau."""
    return (Area.objects.filter(kind__in=TOWNSHIP_KINDS, parent__isnull=True,
                                station__path__startswith=bureau.path)
            .select_related("station").order_by("path"))


# --- questionnaires ---------------------------------------------------------------------------


def visible_questionnaires(user: Any) -> QuerySet[Questionnaire]:
    return (Questionnaire.objects.filter(bureau__in=manager_bureaus(user))
            .select_related("bureau"))


def get_questionnaire_for_user(user: Any, pk: Any) -> Questionnaire:
    try:
        return visible_questionnaires(user).get(pk=int(pk))
    except (Questionnaire.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该问卷") from None


def get_version_for_user(user: Any, pk: Any) -> QuestionnaireVersion:
    try:
        return (QuestionnaireVersion.objects
                .filter(questionnaire__bureau__in=manager_bureaus(user))
                .select_related("questionnaire__bureau", "created_by").get(pk=int(pk)))
    except (QuestionnaireVersion.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该问卷版本") from None


@dataclass
class QuestionnaireRow:
    questionnaire: Questionnaire
    latest: QuestionnaireVersion | None
    versions: int
    waves: int


def questionnaire_rows(user: Any) -> list[QuestionnaireRow]:
    """The user's questionnaires with their latest version and how many waves use them."""
    questionnaires = list(visible_questionnaires(user).order_by("bureau__path", "name", "pk"))
    ids = [q.pk for q in questionnaires]
    latest: dict[int, QuestionnaireVersion] = {}
    counts: dict[int, int] = {}
    for version in QuestionnaireVersion.objects.filter(questionnaire_id__in=ids).order_by(
            "questionnaire_id", "number"):
        latest[version.questionnaire_id] = version
        counts[version.questionnaire_id] = counts.get(version.questionnaire_id, 0) + 1
    waves = dict(Wave.objects.filter(version__questionnaire_id__in=ids).order_by()
                 .values_list("version__questionnaire_id").annotate(n=Count("pk")))
    return [QuestionnaireRow(q, latest.get(q.pk), counts.get(q.pk, 0), waves.get(q.pk, 0))
            for q in questionnaires]


def version_rows(questionnaire: Questionnaire) -> list[dict[str, Any]]:
    """Each version with its number of questions and the waves fielded on it."""
    versions = list(questionnaire.versions.select_related("created_by").order_by("-number"))
    questions = dict(QuestionnaireVersion.objects.filter(questionnaire=questionnaire)
                     .annotate(n=Count("questions")).values_list("pk", "n"))
    waves: dict[int, list[Wave]] = {}
    for wave in Wave.objects.filter(version__questionnaire=questionnaire).order_by("starts_on"):
        waves.setdefault(wave.version_id, []).append(wave)
    return [{"version": v, "questions": questions.get(v.pk, 0), "waves": waves.get(v.pk, [])}
            for v in versions]


def wave_versions(user: Any) -> QuerySet[QuestionnaireVersion]:
    """The versions a new wave of the user's bureaus may use."""
    return (QuestionnaireVersion.objects
            .filter(questionnaire__bureau__in=manager_bureaus(user))
            .select_related("questionnaire", "questionnaire__bureau")
            .order_by("questionnaire__bureau__path", "questionnaire__name", "-number"))


# --- waves ----------------------------------------------------------------------------------


@dataclass
class WaveRow:
    wave: Wave
    target: int
    completes: int
    frame: int

    @property
    def percent(self) -> int | None:
        if not self.target:
            return None
        return min(100, round(100 * self.completes / self.target))


def wave_rows(user: Any) -> list[WaveRow]:
    """The waves of the user's bureaus, newest first, with quota total, completes and frame
    size: four queries whatever the number of waves."""
    waves = list(access.visible_waves(user)
                 .select_related("bureau", "version", "version__questionnaire")
                 .order_by("-starts_on", "-id"))
    ids = [w.pk for w in waves]
    targets = dict(Quota.objects.filter(wave_id__in=ids).order_by().values_list("wave_id")
                   .annotate(n=Sum("target")))
    completes = dict(Response.objects.filter(wave_id__in=ids).order_by().values_list("wave_id")
                     .annotate(n=Count("pk")))
    frame = dict(FrameMember.objects.filter(wave_id__in=ids).order_by().values_list("wave_id")
                 .annotate(n=Count("pk")))
    return [WaveRow(w, targets.get(w.pk) or 0, completes.get(w.pk, 0), frame.get(w.pk, 0))
            for w in waves]


@dataclass
class QuotaRow:
    area: Area | None  # None: completes of a place outside the bureau's townships
    target: int
    completes: int
    frame: int

    @property
    def percent(self) -> int | None:
        if not self.target:
            return None
        return min(100, round(100 * self.completes / self.target))

    @property
    def remaining(self) -> int:
        return max(0, self.target - self.completes)


@dataclass
class QuotaProgress:
    rows: list[QuotaRow]
    target: int
    completes: int
    unknown_frame: int  # numbers whose township the frame does not know

    @property
    def percent(self) -> int | None:
        if not self.target:
            return None
        return min(100, round(100 * self.completes / self.target))


def quota_progress(wave: Wave) -> QuotaProgress:
    """Every township of the bureau: its quota, the completed responses that live there
    (`Response.area`), and the frame's numbers known to be there."""
    targets = dict(Quota.objects.filter(wave=wave).values_list("area_id", "target"))
    completes = dict(Response.objects.filter(wave=wave).order_by().values_list("area_id")
                     .annotate(n=Count("pk")))
    frame = dict(FrameMember.objects.filter(wave=wave).order_by().values_list("area_id")
                 .annotate(n=Count("pk")))
    townships = list(bureau_townships(wave.bureau))
    known = {a.pk for a in townships}
    rows = [QuotaRow(a, targets.get(a.pk, 0), completes.get(a.pk, 0), frame.get(a.pk, 0))
            for a in townships]
    others = [pk for pk in set(targets) | set(completes) if pk not in known]
    for area in Area.objects.filter(pk__in=others).order_by("path"):
        rows.append(QuotaRow(area, targets.get(area.pk, 0), completes.get(area.pk, 0),
                             frame.get(area.pk, 0)))
    return QuotaProgress(rows=rows, target=sum(targets.values()),
                         completes=sum(completes.values()), unknown_frame=frame.get(None, 0))


@dataclass
class FrameCounts:
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    imported: int = 0
    generated: int = 0
    with_area: int = 0

    def state_rows(self) -> list[tuple[str, str, int]]:
        return [(value, str(label), self.by_state.get(value, 0))
                for value, label in FrameMember.State.choices]


def frame_counts(wave: Wave) -> FrameCounts:
    counts = FrameCounts()
    for state, origin, has_area, n in (
            FrameMember.objects.filter(wave=wave).order_by()
            .values_list("state", "origin", "area_id")
            .annotate(n=Count("pk")).values_list("state", "origin", "area_id", "n")):
        counts.total += n
        counts.by_state[state] = counts.by_state.get(state, 0) + n
        if origin == FrameMember.Origin.GENERATED:
            counts.generated += n
        else:
            counts.imported += n
        if has_area is not None:
            counts.with_area += n
    return counts


@dataclass
class Rate:
    name: str
    label: str
    value: float | None
    working: str
    formula: str

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.2f}%"


@dataclass
class WaveRates:
    outcomes: aapor.Outcomes
    e: Fraction | None
    open: int
    rates: list[Rate]

    @property
    def e_value(self) -> float | None:
        return None if self.e is None else float(self.e)

    def class_rows(self) -> list[tuple[str, str, int]]:
        return [(c, aapor.CLASS_LABELS[c], getattr(self.outcomes, c)) for c in aapor.CLASSES]


def final_class(state: str, outcome: str) -> str | None:
    """A frame member's AAPOR class for the rates; None while it is still open (pure)."""
    if state in OPEN_STATES:
        return None
    if state == FrameMember.State.DONE:
        return outcome if outcome in ("I", "P") else "I"
    return outcome if outcome in aapor.CLASSES else "UH"


def wave_outcomes(wave: Wave) -> tuple[aapor.Outcomes, int]:
    """The wave's final outcomes by AAPOR class, and how many numbers are still open."""
    counts = dict.fromkeys(aapor.CLASSES, 0)
    still_open = 0
    for state, outcome, n in (FrameMember.objects.filter(wave=wave).order_by()
                              .values_list("state", "outcome").annotate(n=Count("pk"))
                              .values_list("state", "outcome", "n")):
        cls = final_class(state, outcome)
        if cls is None:
            still_open += n
        else:
            counts[cls] += n
    return aapor.Outcomes(**counts), still_open


def wave_rates(wave: Wave, e: Any = None) -> WaveRates:
    outcomes, still_open = wave_outcomes(wave)
    resolved = aapor.resolve_e(outcomes, e)
    rates = [Rate(name, aapor.RATE_LABELS[name], aapor.rate(name, outcomes, resolved),
                  aapor.working(name, outcomes, resolved), aapor.FORMULAS[name])
             for name in WAVE_RATES]
    return WaveRates(outcomes=outcomes, e=resolved, open=still_open, rates=rates)


def frame_members(wave: Wave, *, state: str = "") -> QuerySet[FrameMember]:
    """The frame's numbers (masked on the page), in the order they were added."""
    members = FrameMember.objects.filter(wave=wave).select_related("area").order_by("pk")
    if state:
        members = members.filter(state=state)
    return members


def _url(name: str, *args: Any) -> str | None:
    """A route of another part of the surveys app, or None while it does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def wave_links(wave: Wave) -> dict[str, str | None]:
    """The survey desk, the weighting and the results of a wave (None: not there yet)."""
    return {
        "desk": _url("surveys:desk"),
        "weighting": _url("surveys:weighting", wave.pk),
        "results": _url("surveys:results", wave.pk),
    }


def wave_history(wave: Wave, limit: int = 50) -> list[Any]:
    """The wave's own events, newest first (state changes, quotas, frame)."""
    from minyi.core.audit import action_label, events_for

    events = list(events_for(wave).order_by("-id")[:limit])
    for event in events:
        event.label = action_label(event.action)
    return events
