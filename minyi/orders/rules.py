"""The rules of the closed loop, as plain data and functions (no database).

States, which transition leaves which state, the default timers of seed 001, and how a deadline
reads on screen. Actions in `actions.py` enforce them; pages and the API read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models


class State(models.TextChoices):
    RECEIVED = "received", "已接单"
    DISPATCHED = "dispatched", "已转办"
    SIGNED = "signed", "已签收"
    REPORTED = "reported", "已上报"
    REVIEWED = "reviewed", "已审核"
    FED_BACK = "fed_back", "已反馈"
    CLOSED = "closed", "已办结"
    RETURN_REQUESTED = "return_requested", "退单待定"
    INVALID = "invalid", "无效"


class BusinessClass(models.TextChoices):
    LAW_ENFORCEMENT = "law_enforcement", "执法办案类"
    MANAGEMENT_SERVICE = "management_service", "管理服务类"
    CONSULTATION = "consultation", "咨询类"


class DemandKind(models.TextChoices):
    CONSULTATION = "consultation", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"


class CallbackOutcome(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    NOT_REACHED = "not_reached", "未联系上"


class CreatedVia(models.TextChoices):
    FORM = "form", "人工录入"
    API = "api", "接口"
    IMPORT = "import", "批量导入"


# States in which a unit holds the order and its handling clock runs.
UNIT_STATES = frozenset({State.DISPATCHED, State.SIGNED})
# States in which the order is still the bureau's business (not closed, not invalid).
OPEN_STATES = frozenset(State.values) - {State.CLOSED, State.INVALID}
# "Overdue" is a query: in one of these states with the handling deadline in the past. A report
# on time stops the clock; review and feedback are the command centre's own work.
CLOCK_STATES = frozenset({State.DISPATCHED, State.SIGNED})
# A unit's work list (我的工单): the orders it holds and those it asked to return. A tuple in a
# fixed order: the work list's query and its partial index must say the same condition for
# SQLite to use the index.
WORKBENCH_STATES = (State.DISPATCHED.value, State.SIGNED.value, State.RETURN_REQUESTED.value)
FINAL_STATES = frozenset({State.CLOSED, State.INVALID})

# transition -> the states it may start from
TRANSITIONS: dict[str, frozenset[str]] = {
    "dispatch": frozenset({State.RECEIVED}),
    "sign": frozenset({State.DISPATCHED}),
    "contact": frozenset({State.DISPATCHED, State.SIGNED}),
    "report": frozenset({State.SIGNED}),
    "review": frozenset({State.REPORTED}),
    "feed_back": frozenset({State.REVIEWED}),
    "record_callback": frozenset({State.FED_BACK}),
    "close": frozenset({State.FED_BACK}),
    "request_return": frozenset({State.DISPATCHED, State.SIGNED}),
    "decide_return": frozenset({State.RETURN_REQUESTED}),
    "redo": frozenset({State.FED_BACK, State.CLOSED}),
    "mark_invalid": frozenset({State.RECEIVED, State.DISPATCHED, State.SIGNED,
                               State.RETURN_REQUESTED}),
}

TRANSITION_LABELS = {
    "receive": "接单",
    "dispatch": "转办",
    "sign": "签收",
    "contact": "联系群众",
    "report": "上报办理结果",
    "review": "审核",
    "feed_back": "反馈",
    "record_callback": "登记回访结果",
    "close": "办结",
    "request_return": "申请退单",
    "decide_return": "退单审批",
    "redo": "重办",
    "mark_invalid": "标记无效",
}


def can_start(transition: str, state: str) -> bool:
    return state in TRANSITIONS[transition]


@dataclass(frozen=True)
class Limits:
    """An order type's timers: how long, and on which working calendar."""

    contact: str = "1h"
    contact_calendar: str = "24x7"
    handling: str = "1d"
    handling_calendar: str = "office"


# Seed 001: the citizen is contacted within one hour of dispatch ("视同警情处置"), consultations
# are done within half a working day, law-enforcement and management-service orders within one.
DEFAULT_LIMITS = {
    BusinessClass.CONSULTATION: Limits(handling="0.5d"),
    BusinessClass.LAW_ENFORCEMENT: Limits(handling="1d"),
    BusinessClass.MANAGEMENT_SERVICE: Limits(handling="1d"),
}


def is_on_time(handled_at: datetime | None, due_at: datetime | None) -> bool | None:
    """A finished order was on time when its handling was finished by its deadline.

    An order finished without any deadline (historical imports: a 311 case without a target)
    could not be late, so it is on time: the rule Boston's own OnTime_Status follows. None only
    while the handling has not finished.
    """
    if handled_at is None:
        return None
    return due_at is None or handled_at <= due_at


@dataclass(frozen=True)
class Countdown:
    remaining: timedelta
    level: str  # "ok", "warn", "late"
    text: str


def countdown(due_at: datetime | None, now: datetime, warn_within: timedelta) -> Countdown | None:
    """How a deadline reads on screen: remaining clock time, amber when close, red when past."""
    if due_at is None:
        return None
    remaining = due_at - now
    if remaining < timedelta(0):
        return Countdown(remaining, "late", "已超时 " + _span(-remaining))
    level = "warn" if remaining <= warn_within else "ok"
    return Countdown(remaining, level, "剩余 " + _span(remaining))


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分钟"
