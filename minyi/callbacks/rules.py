"""The callback desk's rules, as plain functions: dispositions and their AAPOR classes, retries,
calling hours, and the satisfaction definitions. No database here.

AAPOR classes (Standard Definitions, final disposition codes of telephone surveys):

    I   1.1   complete interview
    P   1.2   partial interview
    R   2.10  refusal and break-off (2.11 refusal, 2.12 break-off)
    NC  2.20  non-contact (2.21 respondent never available)
    O   2.30  other (2.33 language)
    UH  3.10  unknown if household / occupied (3.12 always busy, 3.13 no answer,
              3.16 technical phone problems)
    UO  3.20  unknown, other
    NE  4.0   not eligible (4.31 non-working number, 4.33 temporarily out of service,
              4.41 number changed, 4.70 no eligible respondent)

The contacts are named persons the police dealt with, reached only by the phone they gave. A
number that does not reach them (空号, 停机, 号码错误) or reaches someone who was not the person
served (非本人) cannot give this callback an eligible respondent, so those are NE — the Chinese
practice of leaving 空号/停机 out of the base (无效样本) agrees. 关机 is "unknown if occupied"
(UH 3.16): the phone exists but nobody could be asked. 预约再拨 means the person was reached
but asked to be called later: if it never ends in an answer it is a non-contact with the
respondent (NC 2.21). A hang-up before the satisfaction question is a break-off (R 2.12), not
re-called, as a refusal is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# AAPOR outcome classes.
I, P, R, NC, O, UH, UO, NE = "I", "P", "R", "NC", "O", "UH", "UO", "NE"  # noqa: E741
AAPOR = {
    I: "完成访问（I）",
    P: "部分完成（P）",
    R: "拒访或中断（R）",
    NC: "未接触到本人（NC）",
    O: "其他原因未访（O）",
    UH: "未接通，资格未知（UH）",
    UO: "其他资格未知（UO）",
    NE: "不符合条件（NE）",
}

MAX_ATTEMPTS = 3
# An appointment the person asked for is kept even after the usual attempts are spent, but
# not for ever.
MAX_ATTEMPTS_WITH_APPOINTMENT = 5
RETRY_AFTER = timedelta(hours=2)
DEFAULT_CALL_HOURS = ("08:00", "21:00")
TIME_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Disposition:
    code: str
    label: str
    outcome: str  # AAPOR class
    aapor_code: str  # the Standard Definitions code it is counted under
    final: bool  # no further call of this task
    retry_after: timedelta | None  # for a retried one; None with an appointment: time given
    key: str  # the desk's keyboard shortcut
    help: str = ""


ANSWERED = "answered"
APPOINTMENT = "appointment"

DISPOSITIONS: dict[str, Disposition] = {d.code: d for d in [
    Disposition(ANSWERED, "接通", I, "1.1", True, None, "1", "本人接听，进入问题"),
    Disposition("no_answer", "无人接听", UH, "3.13", False, RETRY_AFTER, "2"),
    Disposition("busy", "占线", UH, "3.12", False, RETRY_AFTER, "3"),
    Disposition("switched_off", "关机", UH, "3.16", False, RETRY_AFTER, "4"),
    Disposition("suspended", "停机", NE, "4.33", True, None, "5"),
    Disposition("invalid_number", "空号", NE, "4.31", True, None, "6"),
    Disposition("wrong_number", "号码错误", NE, "4.41", True, None, "7",
                "号码不属于办事群众本人"),
    Disposition("not_person", "非本人", NE, "4.70", True, None, "8",
                "接听者不是当时办事的群众，也不了解此事"),
    Disposition("refused", "拒访", R, "2.11", True, None, "9"),
    Disposition("hung_up", "中途挂断", R, "2.12", True, None, "0", "回答满意度之前挂断"),
    Disposition(APPOINTMENT, "预约再拨", NC, "2.21", False, None, "y",
                "本人或家人约定时间再打"),
    Disposition("language", "语言不通", O, "2.33", True, None, "l"),
]}


def disposition(code: str) -> Disposition:
    try:
        return DISPOSITIONS[code]
    except KeyError:
        raise ValueError(f"未知的拨打结果：{code!r}") from None


def _parse_hhmm(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    return time(hour, minute)


def call_hours(hours: tuple[str, str] | None = None) -> tuple[time, time]:
    """The allowed calling hours (start, end), local time; settings MINYI_CALL_HOURS."""
    if hours is None:
        from django.conf import settings

        hours = getattr(settings, "MINYI_CALL_HOURS", DEFAULT_CALL_HOURS)
    start, end = (_parse_hhmm(h) for h in hours)
    if not start < end:
        raise ValueError(f"回访时段有误：{hours!r}")
    return start, end


def in_call_hours(at: datetime, hours: tuple[str, str] | None = None) -> bool:
    start, end = call_hours(hours)
    local = at.astimezone(TIME_ZONE).time()
    return start <= local < end


def next_call_time(after: datetime, hours: tuple[str, str] | None = None) -> datetime:
    """`after` itself when it is within the calling hours, else the next allowed start
    (the same morning before the start, the next morning after the end). In UTC."""
    start, end = call_hours(hours)
    local = after.astimezone(TIME_ZONE)
    if start <= local.time() < end:
        return after.astimezone(UTC)
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, TIME_ZONE).astimezone(UTC)


@dataclass(frozen=True)
class AttemptResult:
    """What a call's disposition does to its task: retry at `next_attempt_at`, or close."""

    outcome: str
    closes: bool
    next_attempt_at: datetime | None


def after_attempt(code: str, *, attempts_made: int, now: datetime,
                  retry_at: datetime | None = None, max_attempts: int = MAX_ATTEMPTS,
                  hours: tuple[str, str] | None = None) -> AttemptResult:
    """The task's next step after its `attempts_made`-th call (this one included) ended with
    `code`. A final disposition closes; a retried one is called again after its delay, moved
    into the calling hours, unless the attempts are used up; an appointment at the time given
    (required, in the future), up to MAX_ATTEMPTS_WITH_APPOINTMENT calls."""
    d = disposition(code)
    if d.code == ANSWERED:
        return AttemptResult(d.outcome, True, None)
    if d.final:
        return AttemptResult(d.outcome, True, None)
    if d.code == APPOINTMENT:
        if retry_at is None:
            raise ValueError("预约再拨请填写约定的时间")
        if retry_at <= now:
            raise ValueError("约定的再拨时间应晚于现在")
        if attempts_made >= max(max_attempts, MAX_ATTEMPTS_WITH_APPOINTMENT):
            return AttemptResult(d.outcome, True, None)
        return AttemptResult(d.outcome, False, next_call_time(retry_at, hours))
    if attempts_made >= max_attempts:
        return AttemptResult(d.outcome, True, None)
    return AttemptResult(d.outcome, False, next_call_time(now + d.retry_after, hours))


# --- satisfaction definitions (口径) --------------------------------------------------------

# How much a 基本满意 counts in the satisfaction rate; the key names the definition and its
# version, and every figure computed with it says which.
DEFINITIONS: dict[str, float] = {
    "callbacks.satisfaction/1.0": 1.0,
    "callbacks.satisfaction/0.9": 0.9,
    "callbacks.satisfaction/0.5": 0.5,
}
DEFINITION_LABELS: dict[str, str] = {
    "callbacks.satisfaction/1.0": "满意率 =（满意 + 基本满意）÷ 有效回答",
    "callbacks.satisfaction/0.9": "满意率 =（满意 + 0.9 × 基本满意）÷ 有效回答",
    "callbacks.satisfaction/0.5": "满意率 =（满意 + 0.5 × 基本满意）÷ 有效回答",
}
DEFAULT_DEFINITION = "callbacks.satisfaction/1.0"


def satisfaction_rate(satisfied: int, basically: int, dissatisfied: int,
                      definition: str = DEFAULT_DEFINITION) -> float | None:
    """The share of answers counted as satisfied under `definition`, in [0, 1]; None when
    there are no answers (a rate of nothing is not 0)."""
    try:
        weight = DEFINITIONS[definition]
    except KeyError:
        raise ValueError(f"未知的满意率口径：{definition!r}") from None
    if min(satisfied, basically, dissatisfied) < 0:
        raise ValueError("回答数不能为负")
    total = satisfied + basically + dissatisfied
    if total == 0:
        return None
    return (satisfied + weight * basically) / total
