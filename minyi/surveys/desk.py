"""The survey desk (民调访问台): an interviewer takes the next number of a fielding wave, dials
it (revealing it is logged), and records how the call ended or the interview's answers.

The desk is the callback desk's, applied to a sample frame: the same disposition codes, retries
and calling hours (`callbacks.rules`), the same claim by conditional UPDATE that expires after
`callbacks.selectors.CLAIM_MINUTES`, the same Conflict naming who did what when two people act
on one number. What is the survey's own: the quotas (a township whose quota is full is skipped
at the claim, and an interview that turns out to live there ends screened out, AAPOR 4.80), the
respondent's township, sex and age group (from the frame, or asked), and the answers, checked
by `surveys.answers` against the wave's questionnaire version.

Each action takes keyword-only arguments and the acting user, and writes its event in its own
transaction: the chain lock first, then the member row, then (for an interview) the quota row,
so that two interviews finishing in the last place of a township's quota are counted one after
the other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from minyi.callbacks import rules
from minyi.callbacks.actions import _name, _when
from minyi.callbacks.selectors import CLAIM_MINUTES
from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Area, Unit
from minyi.surveys import answers as answer_rules
from minyi.surveys.models import (
    AgeGroup,
    FrameMember,
    Mode,
    Quota,
    Response,
    Sex,
    SurveyAttempt,
    Wave,
)
from minyi.surveys.selectors import bureau_townships

ACTION_LABELS = {
    "survey.reveal": "查看民调样本电话",
    "survey.attempt": "登记民调拨打结果",
    "survey.response": "电话访问完成问卷",
    "survey.web_response": "群众网上自填完成问卷",
    "survey.screened_out": "配额已满，终止访问",
}

OPEN_STATES = (FrameMember.State.PENDING, FrameMember.State.RETRY)

# Not one of the callback desk's codes: the system ends an interview with it when the
# respondent's township has all the interviews its quota asks for (AAPOR 4.80, quota filled).
QUOTA_FULL = "quota_full"
QUOTA_FULL_DISPOSITION = rules.Disposition(
    QUOTA_FULL, "配额已满", rules.NE, "4.80", True, None, "", "受访者所在乡镇（街道）的配额已满")

# The callback desk's codes speak of "the person served"; a survey asks any adult resident.
SURVEY_WORDING = {
    "wrong_number": ("号码错误", "不是住户的号码（单位电话、传真等）"),
    "not_person": ("不符合条件", "接听者未满18周岁或不在本地常住，家中也没有符合条件的人"),
}


def dispositions() -> list[rules.Disposition]:
    """The desk's disposition codes with the survey's wording, in the keyboard's order."""
    return [dataclasses.replace(d, label=SURVEY_WORDING[d.code][0], help=SURVEY_WORDING[d.code][1])
            if d.code in SURVEY_WORDING else d for d in rules.DISPOSITIONS.values()]


def disposition_label(code: str) -> str:
    if code == QUOTA_FULL:
        return QUOTA_FULL_DISPOSITION.label
    if code in SURVEY_WORDING:
        return SURVEY_WORDING[code][0]
    known = rules.DISPOSITIONS.get(code)
    return known.label if known else code


# --- who works where -------------------------------------------------------------------------


def interviewer_bureaus(user: Any) -> list[Unit]:
    return access.survey_bureaus(user, access.SURVEY_INTERVIEWERS)


def is_interviewer(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and bool(interviewer_bureaus(user))


def interviewer_waves(user: Any) -> QuerySet[Wave]:
    """The fielding waves the user interviews for."""
    return (Wave.objects.filter(bureau__in=interviewer_bureaus(user),
                                state=Wave.State.FIELDING)
            .select_related("bureau", "version").order_by("starts_on", "pk"))


def get_member_for_user(user: Any, pk: Any) -> FrameMember:
    """A frame member of a wave the user interviews for (any state); 404 otherwise."""
    try:
        return (FrameMember.objects.filter(wave__bureau__in=interviewer_bureaus(user))
                .select_related("wave", "wave__bureau", "wave__version", "area",
                                "area__station", "assigned_to")
                .get(pk=int(pk)))
    except (FrameMember.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该样本") from None


@dataclass
class RespondentQuestion:
    """A question about the respondent, asked before the questionnaire when the frame does
    not know the answer: township, sex, age group."""

    name: str
    title: str
    options: list[answer_rules.FormOption]
    error: str = ""
    select: bool = False


def _options(pairs: list[tuple[str, str]], chosen: Any,
             notes: dict[str, str] | None = None) -> list[answer_rules.FormOption]:
    notes = notes or {}
    return [answer_rules.FormOption(value=str(value), label=label,
                                    key=answer_rules.OPTION_KEYS[i],
                                    checked=str(value) == str(chosen or ""),
                                    note=notes.get(str(value), ""))
            for i, (value, label) in enumerate(pairs)]


def respondent_questions(member: FrameMember, data: Any = None,
                         problems: dict[str, str] | None = None, *,
                         for_public: bool = False) -> list[RespondentQuestion]:
    """The respondent's questions the frame leaves open, with what was entered and the
    problems found. The interviewer sees which townships' quotas are full; the public not
    (and picks the township from a list, as a phone shows it best)."""
    data = data or {}
    problems = problems or {}
    asked = []
    if not member.area_id:
        townships = list(bureau_townships(member.wave.bureau))
        full = full_areas([member.wave_id]).get(member.wave_id, set())
        notes = {} if for_public else {str(a.pk): "配额已满" for a in townships if a.pk in full}
        asked.append(RespondentQuestion(
            "area", "您居住在哪个乡镇（街道）？",
            _options([(a.pk, a.name) for a in townships], data.get("area"), notes),
            problems.get("area", ""), select=for_public))
    if not member.sex:
        asked.append(RespondentQuestion("sex", "您的性别", _options(
            list(Sex.choices), data.get("sex")), problems.get("sex", "")))
    if not member.age_group:
        asked.append(RespondentQuestion("age_group", "您的年龄", _options(
            list(AgeGroup.choices), data.get("age_group")), problems.get("age_group", "")))
    return asked


# --- quotas ----------------------------------------------------------------------------------


def _response_counts(waves: Any) -> dict[tuple[int, int], int]:
    rows = (Response.objects.filter(wave__in=waves).order_by()
            .values_list("wave_id", "area_id").annotate(n=Count("pk")))
    return {(w, a): n for w, a, n in rows}


def full_areas(waves: Any) -> dict[int, set[int]]:
    """For each wave, the townships whose quota is met (responses ≥ target). A township
    without a quota has no limit."""
    counts = _response_counts(waves)
    full: dict[int, set[int]] = {}
    for wave_id, area_id, target in Quota.objects.filter(wave__in=waves).values_list(
            "wave_id", "area_id", "target"):
        if counts.get((wave_id, area_id), 0) >= target:
            full.setdefault(wave_id, set()).add(area_id)
    return full


@dataclass(frozen=True)
class TownshipProgress:
    area: Area | None  # None: members whose township the frame does not know
    target: int | None
    phone: int
    web: int
    open: int

    @property
    def done(self) -> int:
        return self.phone + self.web

    @property
    def full(self) -> bool:
        return self.target is not None and self.done >= self.target

    @property
    def percent(self) -> int | None:
        if not self.target:
            return None
        return min(100, round(100 * self.done / self.target))


@dataclass(frozen=True)
class WaveProgress:
    wave: Wave
    townships: list[TownshipProgress]
    counts: dict[str, int]


def wave_progress(wave: Wave, *, now: datetime | None = None) -> WaveProgress:
    """The interviews of a wave by township against its quotas, and the frame's counts: due now,
    waiting for a retry, done, closed."""
    now = now or timezone.now()
    by_mode: dict[tuple[int, str], int] = {}
    for area_id, mode, n in (Response.objects.filter(wave=wave).order_by()
                             .values_list("area_id", "mode").annotate(n=Count("pk"))):
        by_mode[(area_id, mode)] = n
    open_by_area = dict(
        FrameMember.objects.filter(wave=wave, state__in=OPEN_STATES).order_by()
        .values_list("area_id").annotate(n=Count("pk")).values_list("area_id", "n"))
    targets = dict(Quota.objects.filter(wave=wave).values_list("area_id", "target"))
    area_ids = set(targets) | {a for a, _ in by_mode} | {a for a in open_by_area if a}
    areas = {a.pk: a for a in Area.objects.filter(pk__in=area_ids).order_by("path")}
    rows = [TownshipProgress(area=area, target=targets.get(pk),
                             phone=by_mode.get((pk, Mode.PHONE), 0),
                             web=by_mode.get((pk, Mode.WEB), 0), open=open_by_area.get(pk, 0))
            for pk, area in areas.items()]
    if open_by_area.get(None):
        rows.append(TownshipProgress(area=None, target=None, phone=0, web=0,
                                     open=open_by_area[None]))
    members = FrameMember.objects.filter(wave=wave)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    counts = members.aggregate(
        total=Count("pk"),
        due=Count("pk", filter=Q(state__in=OPEN_STATES) & due),
        later=Count("pk", filter=Q(state__in=OPEN_STATES, next_attempt_at__gt=now)),
        done=Count("pk", filter=Q(state=FrameMember.State.DONE)),
        closed=Count("pk", filter=Q(state=FrameMember.State.CLOSED)),
    )
    counts["target"] = sum(targets.values())
    counts["responses"] = sum(by_mode.values())
    return WaveProgress(wave=wave, townships=rows, counts=counts)


# --- claiming --------------------------------------------------------------------------------


def _claim_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=CLAIM_MINUTES)


def _check_call_hours(now: datetime) -> None:
    if not rules.in_call_hours(now):
        start, end = rules.call_hours()
        nxt = timezone.localtime(rules.next_call_time(now))
        raise InvalidInput(f"现在不在访问时段（{start:%H:%M}–{end:%H:%M}），不能拨打；"
                           f"请于 {nxt:%m月%d日 %H:%M} 后再取号码。")


def held_member(actor: Any, waves: QuerySet[Wave] | None = None,
                now: datetime | None = None) -> FrameMember | None:
    """The open member the actor holds (claimed within CLAIM_MINUTES), if any."""
    now = now or timezone.now()
    waves = interviewer_waves(actor) if waves is None else waves
    return (FrameMember.objects.filter(wave__in=waves, state__in=OPEN_STATES,
                                       assigned_to=actor, assigned_at__gt=_claim_cutoff(now))
            .select_related("wave").order_by("assigned_at").first())


def claim_next_member(*, actor: Any, wave: Wave | None = None,
                      now: datetime | None = None) -> FrameMember | None:
    """The next number to call, claimed for CLAIM_MINUTES; the one the actor already holds, if
    any; None when nothing is due.

    Open members of the fielding waves of the actor's bureaus (or of `wave`) whose time has
    come: retries due first (the earliest first), then numbers never called, in frame order.
    Members living in a township whose quota is full are skipped. Outside the calling hours
    nothing is claimed (InvalidInput says when calls may start). The claim is a conditional
    UPDATE, as at the callback desk: two interviewers asking at once never get the same number.
    """
    now = now or timezone.now()
    if wave is not None:
        if not access.may_interview(actor, wave.bureau):
            raise NotAllowed(f"只有{wave.bureau}的民意专员可以访问该调查的样本")
        if wave.state != Wave.State.FIELDING:
            raise InvalidInput(f"「{wave}」{wave.get_state_display()}，不能拨打")
        waves = Wave.objects.filter(pk=wave.pk)
    else:
        if not is_interviewer(actor):
            raise NotAllowed("您的岗位没有民调访问任务")
        waves = interviewer_waves(actor)
    _check_call_hours(now)
    mine = held_member(actor, waves, now)
    if mine is not None:
        return mine
    cutoff = _claim_cutoff(now)
    free = Q(assigned_to__isnull=True) | Q(assigned_at__lte=cutoff)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    skip = Q(pk__in=[])
    for wave_id, areas in full_areas(waves).items():
        skip |= Q(wave_id=wave_id, area_id__in=areas)
    for _ in range(5):
        candidates = list(
            FrameMember.objects.filter(free, due, wave__in=waves, state__in=OPEN_STATES)
            .exclude(skip).order_by(F("next_attempt_at").asc(nulls_last=True), "pk")
            .values_list("pk", flat=True)[:20])
        if not candidates:
            return None
        for pk in candidates:
            won = FrameMember.objects.filter(free, pk=pk, state__in=OPEN_STATES).update(
                assigned_to=actor, assigned_at=now)
            if won:
                return FrameMember.objects.select_related("wave").get(pk=pk)
    return None


def release_member(*, actor: Any, member: FrameMember) -> None:
    """Give a claimed number back without a call (the interviewer leaves the desk)."""
    FrameMember.objects.filter(pk=member.pk, assigned_to=actor).update(
        assigned_to=None, assigned_at=None)


def reveal_phone(*, actor: Any, member: FrameMember) -> str:
    """The number in clear, for the interviewer who dials it; logged."""
    if not access.may_interview(actor, member.wave.bureau):
        raise NotAllowed("只有本局的民意专员可以查看样本号码")
    with transaction.atomic():
        record_event(actor=actor, obj=member, action="survey.reveal",
                     payload={"field": "phone", "label": "电话", "wave": member.wave_id})
    return member.phone


# --- calls and interviews ----------------------------------------------------------------------


def lock_member(member: FrameMember | int) -> FrameMember:
    pk = member.pk if isinstance(member, FrameMember) else member
    return (FrameMember.objects.select_for_update(of=("self",))
            .select_related("wave", "wave__bureau", "wave__version", "area", "assigned_to")
            .get(pk=pk))


def done_text(member: FrameMember) -> str:
    """Who finished this number, how and when (for a Conflict or the public page)."""
    response = (Response.objects.filter(member=member).select_related("interviewer")
                .first())
    if response is not None:
        who = _name(response.interviewer) if response.mode == Mode.PHONE else "受访者本人"
        return (f"该样本已于 {_when(response.completed_at)} 由{who}"
                f"完成问卷（{response.get_mode_display()}）")
    last = member.survey_attempts.select_related("caller_user").order_by("-number").first()
    if last is not None:
        return (f"该样本已于 {_when(last.at)} 由{_name(last.caller_user)}登记第{last.number}次"
                f"拨打「{disposition_label(last.disposition)}」，"
                f"当前为「{member.get_state_display()}」")
    return f"该样本当前为「{member.get_state_display()}」"


def _check_wave(wave: Wave) -> None:
    if wave.state == Wave.State.CLOSED:
        raise Conflict(f"「{wave}」已于 {_when(wave.closed_at)} 结束调查，不能再登记")
    if wave.state != Wave.State.FIELDING:
        raise InvalidInput(f"「{wave}」尚未开始调查，不能登记")


def _check_open(member: FrameMember, actor: Any, expected_version: int | None,
                now: datetime) -> None:
    if not member.is_open:
        raise Conflict(done_text(member) + "，不能再登记。")
    if expected_version is not None and member.version != expected_version:
        raise Conflict(done_text(member) + "。该样本在您打开后已被更新，请刷新后再登记。")
    holder = member.assigned_to_id
    if holder and actor is not None and holder != actor.pk and member.assigned_at \
            and member.assigned_at > _claim_cutoff(now):
        raise Conflict(f"该样本正由{_name(member.assigned_to)}拨打"
                       f"（{_when(member.assigned_at)} 领取），请取下一个号码。")


def _check_interviewer(actor: Any, member: FrameMember) -> None:
    if not access.may_interview(actor, member.wave.bureau):
        raise NotAllowed(f"只有{member.wave.bureau}的民意专员可以登记访问结果")


def record_attempt(*, actor: Any, member: FrameMember | int, disposition: str, note: str = "",
                   retry_at: datetime | None = None, expected_version: int | None = None,
                   now: datetime | None = None) -> FrameMember:
    """A call that did not end in an interview: the attempt with its AAPOR class; the member
    waits for its retry (moved into the calling hours) or is closed (a final disposition, or
    the wave's `max_attempts` used up)."""
    now = now or timezone.now()
    if disposition == rules.ANSWERED:
        raise InvalidInput("接通后请登记问卷的回答")
    try:
        rules.disposition(disposition)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    note = (note or "").strip()
    with transaction.atomic():
        lock_chain()
        member = lock_member(member)
        _check_interviewer(actor, member)
        _check_wave(member.wave)
        _check_open(member, actor, expected_version, now)
        number = member.attempts + 1
        try:
            step = rules.after_attempt(disposition, attempts_made=number, now=now,
                                       retry_at=retry_at, max_attempts=member.wave.max_attempts)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        SurveyAttempt.objects.create(member=member, number=number, caller_user=actor, at=now,
                                     disposition=disposition, outcome=step.outcome, note=note)
        before = member.state
        member.attempts = number
        member.outcome = step.outcome
        member.assigned_to = member.assigned_at = None
        if step.closes:
            member.state, member.next_attempt_at = FrameMember.State.CLOSED, None
            member.closed_at = now
        else:
            member.state, member.next_attempt_at = FrameMember.State.RETRY, step.next_attempt_at
        member.version += 1
        member.save(update_fields=["attempts", "outcome", "assigned_to", "assigned_at", "state",
                                   "next_attempt_at", "closed_at", "version", "updated_at"])
        d = rules.DISPOSITIONS[disposition]
        record_event(actor=actor, obj=member, action="survey.attempt", from_state=before,
                     to_state=member.state, payload={
                         "wave": member.wave_id, "number": number, "disposition": disposition,
                         "label": disposition_label(disposition), "outcome": step.outcome,
                         "aapor_code": d.aapor_code, "next_attempt_at": member.next_attempt_at,
                         "note": note,
                     })
        return member


@dataclass(frozen=True)
class InterviewResult:
    """How an interview ended: a response, or screened out (its township's quota was full)."""

    member: FrameMember
    response: Response | None

    @property
    def screened_out(self) -> bool:
        return self.response is None


def _respondent(member: FrameMember, area: Any, sex: str,
                age_group: str) -> tuple[Area | None, str, str, dict[str, str]]:
    """Township, sex and age group: the frame's where it knows them, else what was asked."""
    problems: dict[str, str] = {}
    township = member.area if member.area_id else None
    given = area.pk if isinstance(area, Area) else area
    if township is None:
        if given in (None, ""):
            problems["area"] = "请选择受访者所在的乡镇（街道）"
        else:
            try:
                township = bureau_townships(member.wave.bureau).get(pk=int(given))
            except (Area.DoesNotExist, ValueError, TypeError):
                problems["area"] = f"所选乡镇（街道）不在{member.wave.bureau}辖区内"
    elif given not in (None, "") and str(given) != str(township.pk):
        problems["area"] = f"样本框已记录该号码属于{township}，不能改为其他乡镇（街道）"
    sex = member.sex or (sex or "").strip()
    if sex not in Sex.values:
        problems["sex"] = "请选择受访者性别"
    age_group = member.age_group or (age_group or "").strip()
    if age_group not in AgeGroup.values:
        problems["age_group"] = "请选择受访者年龄段"
    return township, sex, age_group, problems


def _quota_full(wave: Wave, area: Area) -> bool:
    quota = Quota.objects.select_for_update().filter(wave=wave, area=area).first()
    return quota is not None and Response.objects.filter(
        wave=wave, area=area).count() >= quota.target


def finish_interview(*, actor: Any, member: FrameMember, mode: str, answers: dict[str, Any],
                     area: Any = None, sex: str = "", age_group: str = "",
                     now: datetime) -> InterviewResult:
    """The end of an interview, by phone or on the web link: inside the caller's transaction,
    with the chain lock and the member's row already taken and the member checked open.

    The respondent's township, sex and age group are checked first, then the township's quota
    (its row locked): a full quota ends the interview screened out (NE) without looking at the
    answers; else the answers are checked (AnswerErrors with every problem, respondent's
    included) and the response is made. By phone the call is an attempt of the member."""
    township, sex, age_group, problems = _respondent(member, area, sex, age_group)
    wave = member.wave
    if not problems and _quota_full(wave, township):
        return _screen_out(actor=actor, member=member, mode=mode, area=township, now=now)
    questions = answer_rules.questions_of(wave.version)
    try:
        cleaned = answer_rules.clean_answers(questions, answers)
    except answer_rules.AnswerErrors as exc:
        problems.update(exc.problems)
    if problems:
        raise answer_rules.AnswerErrors(problems)
    number = None
    if mode == Mode.PHONE:
        number = member.attempts + 1
        SurveyAttempt.objects.create(member=member, number=number, caller_user=actor, at=now,
                                     disposition=rules.ANSWERED, outcome=rules.I)
        member.attempts = number
    try:
        with transaction.atomic():
            response = Response.objects.create(
                wave=wave, member=member, mode=mode, answers=cleaned, area=township,
                station_id=township.station_id, sex=sex, age_group=age_group,
                interviewer=actor if mode == Mode.PHONE else None, completed_at=now)
    except IntegrityError:
        raise Conflict(done_text(member) + "，不能重复提交。") from None
    before = member.state
    member.state, member.outcome, member.closed_at = FrameMember.State.DONE, rules.I, now
    member.next_attempt_at = None
    member.assigned_to = member.assigned_at = None
    member.version += 1
    member.save(update_fields=["attempts", "state", "outcome", "closed_at", "next_attempt_at",
                               "assigned_to", "assigned_at", "version", "updated_at"])
    record_event(actor=actor, obj=member,
                 action="survey.response" if mode == Mode.PHONE else "survey.web_response",
                 from_state=before, to_state=member.state, payload={
                     "wave": wave.pk, "response": response.pk, "mode": mode,
                     "area": township.pk, "station": township.station_id, "attempt": number,
                     "questions": len(cleaned),
                 })
    return InterviewResult(member=member, response=response)


def _screen_out(*, actor: Any, member: FrameMember, mode: str, area: Area,
                now: datetime) -> InterviewResult:
    number = None
    if mode == Mode.PHONE:
        number = member.attempts + 1
        SurveyAttempt.objects.create(member=member, number=number, caller_user=actor, at=now,
                                     disposition=QUOTA_FULL, outcome=rules.NE,
                                     note=f"{area}配额已满")
        member.attempts = number
    before = member.state
    member.state, member.outcome, member.closed_at = FrameMember.State.CLOSED, rules.NE, now
    member.next_attempt_at = None
    member.assigned_to = member.assigned_at = None
    member.version += 1
    member.save(update_fields=["attempts", "state", "outcome", "closed_at", "next_attempt_at",
                               "assigned_to", "assigned_at", "version", "updated_at"])
    record_event(actor=actor, obj=member, action="survey.screened_out", from_state=before,
                 to_state=member.state, payload={
                     "wave": member.wave_id, "mode": mode, "area": area.pk,
                     "disposition": QUOTA_FULL, "outcome": rules.NE,
                     "aapor_code": QUOTA_FULL_DISPOSITION.aapor_code, "attempt": number,
                 })
    return InterviewResult(member=member, response=None)


def record_response(*, actor: Any, member: FrameMember | int, answers: dict[str, Any],
                    area: Any = None, sex: str = "", age_group: str = "",
                    expected_version: int | None = None,
                    now: datetime | None = None) -> InterviewResult:
    """An interview by phone: the answers (checked against the wave's questionnaire version),
    the respondent's township (required; a township of the bureau), sex and age group from the
    frame or as asked. The member is done (AAPOR I), or closed screened out (NE) when the
    township's quota is full. A second record is a Conflict saying who finished it when."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_chain()
        member = lock_member(member)
        _check_interviewer(actor, member)
        if Response.objects.filter(member=member).exists():
            raise Conflict(done_text(member) + "，不能重复登记。")
        _check_wave(member.wave)
        _check_open(member, actor, expected_version, now)
        return finish_interview(actor=actor, member=member, mode=Mode.PHONE, answers=answers,
                                area=area, sex=sex, age_group=age_group, now=now)


def register() -> None:
    """From the app's ready(): the desk's event labels."""
    register_action_labels(ACTION_LABELS)
