"""Reads of work orders for pages, exports and the API, always within what the user may see."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from minyi.core.audit import events_for
from minyi.orders.models import Order, ReminderLetter, SupervisionNotice
from minyi.orders.rules import (
    CLOCK_STATES,
    WORKBENCH_STATES,
    CallbackOutcome,
    DemandKind,
    State,
)
from minyi.orgs import access


@dataclass
class OrderFilter:
    """The filters every order list offers (pages, export, API); empty means no filter."""

    channel: str = ""  # channel code
    order_type: str = ""  # order type code
    demand_kind: str = ""  # 咨询, 求助, 投诉 …
    state: str = ""
    unit: int | None = None  # lead unit and the units below it
    area: int | None = None  # area and the areas below it
    received_from: date | None = None
    received_to: date | None = None  # inclusive
    overdue: bool = False
    q: str = ""  # title, or the external id
    # What the bulletins' figures count, so that every figure links to its orders (the
    # definitions are those of `orders.stats`).
    handling: str = ""  # "on_time" | "late": closed, done by the handling deadline or after
    contact: str = ""  # "on_time" | "late" | "none": the citizen contacted by the deadline…
    callback: str = ""  # a callback outcome
    repeat: bool = False  # repeat complaints only
    notice: bool = False  # orders that got a supervision notice
    letter: bool = False  # orders that got a reminder letter

    @classmethod
    def from_params(cls, params: Any) -> OrderFilter:
        """From a QueryDict or dict; bad values are reported, not ignored."""
        from minyi.core.errors import InvalidInput

        values: dict[str, Any] = {}
        problems = []
        for f in fields(cls):
            raw = (params.get(f.name) or "").strip() if hasattr(params, "get") else ""
            if raw == "":
                continue
            if f.name in ("unit", "area"):
                if not raw.isdecimal():
                    problems.append(f"{f.name}={raw!r} 不是编号")
                    continue
                values[f.name] = int(raw)
            elif f.name in ("received_from", "received_to"):
                try:
                    values[f.name] = date.fromisoformat(raw)
                except ValueError:
                    problems.append(f"{f.name}={raw!r} 不是日期（应为 2026-11-22 这样）")
            elif f.name in ("overdue", "repeat", "notice", "letter"):
                values[f.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif f.name == "state" and raw not in State.values:
                problems.append(f"state={raw!r} 不是工单状态")
            elif f.name in CHOICE_FILTERS and raw not in CHOICE_FILTERS[f.name]:
                problems.append(f"{f.name}={raw!r} 应为 {'、'.join(CHOICE_FILTERS[f.name])} 之一")
            else:
                values[f.name] = raw
        if problems:
            raise InvalidInput("；".join(problems))
        return cls(**values)


CHOICE_FILTERS = {
    "demand_kind": tuple(DemandKind.values),
    "handling": ("on_time", "late"),
    "contact": ("on_time", "late", "none"),
    "callback": tuple(CallbackOutcome.values),
}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_orders(qs: QuerySet[Order], f: OrderFilter, user: Any,
                  now: datetime | None = None) -> QuerySet[Order]:
    """Apply the filters; a unit or area outside what the user sees answers 404."""
    if f.channel:
        qs = qs.filter(channel__code=f.channel)
    if f.order_type:
        qs = qs.filter(order_type__code=f.order_type)
    if f.demand_kind:
        qs = qs.filter(demand_kind=f.demand_kind)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.unit is not None:
        unit = access.get_unit_for_user(user, f.unit) if not _sees_all_orders(user) else None
        if unit is None:
            from minyi.orgs.models import Unit

            unit = Unit.objects.filter(pk=f.unit).first()
        qs = qs.filter(lead_unit__path__startswith=unit.path) if unit else qs.none()
    if f.area is not None:
        from minyi.orgs.models import Area

        area = Area.objects.filter(pk=f.area).first()
        qs = qs.filter(area__path__startswith=area.path) if area else qs.none()
    if f.received_from:
        qs = qs.filter(received_at__gte=_day_start(f.received_from))
    if f.received_to:
        qs = qs.filter(received_at__lt=_day_start(f.received_to + timedelta(days=1)))
    if f.overdue:
        qs = qs.filter(state__in=CLOCK_STATES, handling_due_at__lt=now or timezone.now())
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(external_id=f.q))
    if f.handling == "on_time":
        qs = qs.filter(Q(handling_due_at__isnull=True) | Q(handled_at__lte=F("handling_due_at")),
                       state=State.CLOSED, handled_at__isnull=False)
    elif f.handling == "late":
        qs = qs.filter(state=State.CLOSED, handled_at__gt=F("handling_due_at"))
    if f.contact == "on_time":
        qs = qs.filter(contacted_at__isnull=False, contact_due_at__isnull=False,
                       contacted_at__lte=F("contact_due_at"))
    elif f.contact == "late":
        qs = qs.filter(contacted_at__gt=F("contact_due_at"))
    elif f.contact == "none":
        qs = qs.filter(contacted_at__isnull=True, contact_due_at__isnull=False)
    if f.callback:
        qs = qs.filter(callback_outcome=f.callback)
    if f.repeat:
        qs = qs.filter(is_repeat=True)
    if f.notice:
        qs = qs.filter(Exists(SupervisionNotice.objects.filter(order=OuterRef("pk"))))
    if f.letter:
        qs = qs.filter(Exists(ReminderLetter.objects.filter(order=OuterRef("pk"))))
    return qs


def _sees_all_orders(user: Any) -> bool:
    return access.has_role(user, *access.ORDER_WIDE_ROLES) or user.is_superuser


def order_list(user: Any, f: OrderFilter) -> QuerySet[Order]:
    """The orders a user sees, filtered, newest first, with what a list row shows."""
    qs = access.visible_orders(user).select_related("channel", "order_type", "lead_unit", "area")
    return filter_orders(qs, f, user).order_by("-received_at", "-id")


def order_timeline(order: Order) -> QuerySet:
    """Every event of the order, oldest first: its whole history."""
    return events_for(order).order_by("id")


# --- pages ---------------------------------------------------------------------------------
# What the pages below add: one order with what its page shows, the queues of the command
# centre and of a unit, countdowns, one page of a list without counting the rest, and the
# timeline told in the users' words.

PAGE_SIZE = 50
# Amber when less than this is left (contact within the hour, handling deadlines alike).
WARN_WITHIN = timedelta(hours=1)
ROW_RELATED = ("channel", "order_type", "lead_unit", "area")


def order_for_page(user: Any, pk: Any) -> Order:
    """One order the user may see, with what its page shows; 404 for missing or not theirs."""
    from django.http import Http404

    try:
        return (access.visible_orders(user)
                .select_related(*ROW_RELATED, "bureau", "received_by", "area__parent")
                .get(pk=int(pk)))
    except (Order.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该工单") from None


def available_transitions(user: Any, order: Order) -> list[str]:
    """The transitions this user may start on this order now, in the order of the loop.

    The same checks the actions make, so that a page offers no button that would only be
    refused; the actions still check again when the button is pressed.
    """
    from minyi.orders.actions import CALLBACK_ROLES, DISPATCH_ROLES, REVIEW_ROLES
    from minyi.orders.rules import can_start

    superuser = bool(getattr(user, "is_superuser", False))

    def in_bureau(roles: frozenset[str]) -> bool:
        return superuser or access.bureau_role(user, order.bureau, roles)

    for_unit = superuser or access.acts_for_unit(user, order.lead_unit)
    allowed = {
        "dispatch": in_bureau(DISPATCH_ROLES),
        "sign": for_unit,
        "contact": for_unit and order.contacted_at is None,
        "report": for_unit and order.contacted_at is not None,
        "request_return": for_unit,
        "decide_return": in_bureau(DISPATCH_ROLES),
        "review": in_bureau(REVIEW_ROLES),
        "feed_back": in_bureau(DISPATCH_ROLES),
        "record_callback": in_bureau(CALLBACK_ROLES),
        "close": in_bureau(CALLBACK_ROLES) and bool(order.callback_outcome),
        "redo": in_bureau(CALLBACK_ROLES),
        "mark_invalid": in_bureau(DISPATCH_ROLES),
    }
    return [t for t, ok in allowed.items() if ok and can_start(t, order.state)]


def with_countdowns(orders: Any, now: datetime | None = None) -> Any:
    """Give each order `contact_countdown` and `handling_countdown` for the screen.

    Only while a unit holds the order: a contact already made, or a clock stopped by a report
    or a pending return, shows no running countdown.
    """
    from minyi.orders.rules import countdown

    now = now or timezone.now()
    for order in orders:
        running = order.state in CLOCK_STATES
        order.contact_countdown = (
            countdown(order.contact_due_at, now, WARN_WITHIN)
            if running and order.contacted_at is None else None)
        order.handling_countdown = (
            countdown(order.handling_due_at, now, WARN_WITHIN) if running else None)
    return orders


@dataclass
class ListPage:
    """One page of a list, and how to reach the next; the total is never counted."""

    rows: list
    next_cursor: str = ""
    next_page: int | None = None
    is_first: bool = True


def _epoch() -> datetime:
    from datetime import UTC

    return datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(order: Order) -> str:
    micros = (order.received_at - _epoch()) // timedelta(microseconds=1)
    return f"{micros}-{order.pk}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    from minyi.core.errors import InvalidInput

    micros, _, pk = cursor.partition("-")
    if not (micros.lstrip("-").isdecimal() and pk.isdecimal()):
        raise InvalidInput("翻页参数不正确，请回到第一页")
    return _epoch() + timedelta(microseconds=int(micros)), int(pk)


def rows_of(qs: QuerySet, start: int, stop: int) -> list:
    """`list(qs[start:stop])`, a unit's orders taken part by part (OrderQuerySet.fetch_slice)."""
    fetch = getattr(qs, "fetch_slice", None)
    return fetch(start, stop) if fetch else list(qs[start:stop])


def keyset_page(qs: QuerySet[Order], cursor: str = "", per_page: int | None = None,
                newest_first: bool = True) -> ListPage:
    """A page of orders by receiving time after `cursor`: one query, as cheap on the
    thousandth page as on the first (the (bureau, received_at, id) index serves it)."""
    from django.db.models import Q

    per_page = per_page or PAGE_SIZE
    if newest_first:
        qs = qs.order_by("-received_at", "-id")
    else:
        qs = qs.order_by("received_at", "id")
    if cursor:
        at, pk = decode_cursor(cursor)
        if newest_first:
            qs = qs.filter(Q(received_at__lt=at) | Q(received_at=at, pk__lt=pk))
        else:
            qs = qs.filter(Q(received_at__gt=at) | Q(received_at=at, pk__gt=pk))
    rows = rows_of(qs, 0, per_page + 1)
    page = ListPage(rows=rows[:per_page], is_first=not cursor)
    if len(rows) > per_page:
        page.next_cursor = encode_cursor(rows[per_page - 1])
    return page


def offset_page(qs: QuerySet, number: int = 1, per_page: int | None = None) -> ListPage:
    """A page of a short queue (a unit's open orders, reports waiting for review): fetch one row
    more than shown to know whether there is a next page, and count nothing."""
    per_page = per_page or PAGE_SIZE
    number = max(1, number)
    start = (number - 1) * per_page
    rows = rows_of(qs, start, start + per_page + 1)
    return ListPage(rows=rows[:per_page], is_first=number == 1,
                    next_page=number + 1 if len(rows) > per_page else None)


def board_orders(user: Any, f: OrderFilter, cursor: str = "") -> ListPage:
    """The dispatch board: orders waiting to be dispatched, the longest waiting first."""
    from dataclasses import replace

    qs = order_list(user, replace(f, state=State.RECEIVED)).select_related("area__station")
    return keyset_page(qs, cursor, newest_first=False)


def returns_pending(user: Any, page: int = 1, per_page: int | None = None) -> ListPage:
    """Orders whose unit asked to return them, with the request, the oldest first."""
    from django.db.models import Prefetch

    from minyi.orders.models import ReturnRequest

    qs = (access.visible_orders(user).filter(state=State.RETURN_REQUESTED)
          .select_related(*ROW_RELATED, "bureau")
          .prefetch_related(Prefetch(
              "return_requests",
              queryset=ReturnRequest.objects.filter(decision="")
              .select_related("unit", "requested_by").order_by("-id"),
              to_attr="pending_returns"))
          .order_by("paused_at", "id"))
    result = offset_page(qs, page, per_page)
    with_countdowns(result.rows)
    return result


def review_queue(user: Any, page: int = 1) -> ListPage:
    """Reports waiting for review, the oldest first, with their attachments."""
    from django.db.models import Prefetch

    from minyi.orders.models import Report

    qs = (access.visible_orders(user).filter(state=State.REPORTED)
          .select_related(*ROW_RELATED, "bureau")
          .prefetch_related(Prefetch(
              "reports",
              queryset=Report.objects.filter(decision="")
              .select_related("unit", "author", "reviewer")
              .prefetch_related("attachments").order_by("-id"),
              to_attr="pending_reports"))
          .order_by("reported_at", "id"))
    return offset_page(qs, page)


def workbench_orders(user: Any, page: int = 1) -> ListPage:
    """A unit's orders in hand (and those it asked to return), the nearest deadline first."""
    from django.db.models import F, Prefetch

    from minyi.orders.models import Report

    qs = (access.visible_orders(user)
          .filter(state__in=WORKBENCH_STATES)
          .select_related(*ROW_RELATED, "bureau")
          .prefetch_related(Prefetch(
              "reports",
              queryset=Report.objects.filter(decision=Report.Decision.SENT_BACK)
              .order_by("-id"),
              to_attr="sent_back_reports"))
          .order_by(F("handling_due_at").asc(nulls_last=True), "id"))
    result = offset_page(qs, page)
    with_countdowns(result.rows)
    return result


def order_details(order: Order) -> dict[str, Any]:
    """What the order page lists below the order: assignments, reports, return requests."""
    return {
        "assignments": list(order.assignments.select_related("unit", "dispatched_by")),
        "reports": list(order.reports.select_related("unit", "author", "reviewer")
                        .prefetch_related("attachments")),
        "return_requests": list(order.return_requests.select_related(
            "unit", "requested_by", "decided_by")),
    }


@dataclass
class TimelineEntry:
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    detail: str
    quiet: bool = False  # a look at personal data, a recomputed deadline: not a step


def _when(value: Any) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}"


def _detail(action: str, p: dict[str, Any], units: dict[int, str]) -> str:
    from minyi.orders.rules import CallbackOutcome, CreatedVia

    parts: list[str] = []
    if action == "receive":
        parts.append(dict(CreatedVia.choices).get(p.get("via"), ""))
        if p.get("external_id"):
            parts.append(f"来源编号 {p['external_id']}")
    elif action == "dispatch":
        parts.append(f"承办单位：{p.get('lead_unit_name', '')}")
        co = [units.get(pk, str(pk)) for pk in p.get("co_units", [])]
        if co:
            parts.append("协办单位：" + "、".join(co))
        if p.get("handling_due_at"):
            parts.append(f"办理时限 {_when(p['handling_due_at'])}")
    elif action == "contact":
        parts.append(p.get("method_label", ""))
        if p.get("on_time") is False:
            parts.append("超过联系时限")
    elif action == "report":
        parts.append("诉求已解决" if p.get("resolved") else "诉求未解决")
        if p.get("attachments"):
            parts.append(f"附件 {p['attachments']} 个")
        if p.get("on_time") is False:
            parts.append("超过办理时限")
    elif action == "review":
        parts.append("审核通过" if p.get("passed") else f"审核退回：{p.get('reason', '')}")
    elif action == "record_callback":
        parts.append(dict(CallbackOutcome.choices).get(p.get("outcome"), ""))
    elif action == "decide_return":
        if p.get("approved"):
            parts.append("同意退单")
        else:
            parts.append("不同意退单")
            if p.get("handling_due_at"):
                parts.append(f"办理时限顺延至 {_when(p['handling_due_at'])}")
    elif action == "redo":
        parts.append(f"承办单位：{p.get('unit_name', '')}")
    elif action == "reveal":
        parts.append(f"查看了群众{p.get('label', '')}")
    elif action == "recompute_deadline":
        parts.append(f"办理时限 {_when(p.get('from'))} → {_when(p.get('to'))}")
    elif action in ("notice", "letter"):
        reasons = SupervisionNotice.Reason if action == "notice" else ReminderLetter.Reason
        parts.append(p.get("number", ""))
        parts.append(dict(reasons.choices).get(p.get("reason"), p.get("reason", "")))
    for key, label in (("reason", "理由"), ("note", "说明")):
        if p.get(key) and not (action in ("review", "notice", "letter") and key == "reason"):
            parts.append(f"{label}：{p[key]}")
    return "；".join(part for part in parts if part)


def timeline_entries(order: Order) -> list[TimelineEntry]:
    """The order's history from its events, each step with what was decided and said."""
    from minyi.orders.rules import State as S
    from minyi.orgs.models import Unit

    events = list(order_timeline(order))
    co_pks = {pk for e in events for pk in (e.payload or {}).get("co_units", [])}
    units = dict(Unit.objects.filter(pk__in=co_pks).values_list("pk", "name")) if co_pks else {}
    labels = dict(S.choices)
    entries = []
    for event in events:
        action = event.action.removeprefix("order.")
        entries.append(TimelineEntry(
            at=event.created_at, actor=event.actor_label, action=event.action,
            from_state=labels.get(event.from_state, event.from_state),
            to_state=labels.get(event.to_state, event.to_state),
            detail=_detail(action, event.payload or {}, units),
            quiet=action in {"reveal", "recompute_deadline"},
        ))
    return entries


def dispatcher_bureau(user: Any) -> Any:
    """The bureau whose command centre the user works in (their first dispatcher post)."""
    from minyi.orgs.models import Role

    for membership in access.memberships_of(user):
        if membership.role == Role.DISPATCHER:
            return membership.unit.bureau()
    return None


def dispatch_units(bureau: Any) -> list[Any]:
    """The units of a bureau that can take an order: stations first, then squads and offices."""
    from minyi.orgs.models import Unit

    order = [Unit.Kind.STATION, Unit.Kind.SQUAD, Unit.Kind.OFFICE, Unit.Kind.TEAM,
             Unit.Kind.COMMAND_CENTRE]
    units = (Unit.objects.filter(path__startswith=bureau.path, is_active=True)
             .exclude(kind__in=[Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU])
             .order_by("sort_order", "path"))
    return sorted(units, key=lambda u: order.index(u.kind) if u.kind in order else len(order))


def filter_scope(user: Any) -> tuple[QuerySet, QuerySet]:
    """The units and areas a user may filter orders by: their whole bureau for the roles that
    see every order of it (the command centre, the opinion office …), else what they see."""
    from minyi.orgs.models import Area, Unit

    if getattr(user, "is_superuser", False):
        return Unit.objects.order_by("path"), Area.objects.order_by("path")
    bureau_paths = sorted({m.unit.bureau().path for m in access.memberships_of(user)
                           if m.role in access.ORDER_WIDE_ROLES})
    units = access.visible_units(user)
    areas = access.visible_areas(user)
    if bureau_paths:
        from django.db.models import Q

        in_bureaus = Q(pk__in=[])
        in_stations = Q(pk__in=[])
        for path in bureau_paths:
            in_bureaus |= Q(path__startswith=path)
            in_stations |= Q(station__path__startswith=path)
        units = units | Unit.objects.filter(in_bureaus)
        areas = areas | Area.objects.filter(in_stations)
    return units.order_by("path"), areas.order_by("path")


def home_counts(user: Any, now: datetime | None = None) -> dict[str, int]:
    """The figures of the home page's order card, in one query: what waits for the command
    centre, what a unit has in hand and how much of it is late."""
    from django.db.models import Count, Q

    now = now or timezone.now()
    clock = Q(state__in=CLOCK_STATES)
    return access.visible_orders(user).filter(
        state__in=[*CLOCK_STATES, State.RECEIVED, State.REPORTED, State.RETURN_REQUESTED],
    ).aggregate(
        received=Count("pk", filter=Q(state=State.RECEIVED)),
        reported=Count("pk", filter=Q(state=State.REPORTED)),
        return_requested=Count("pk", filter=Q(state=State.RETURN_REQUESTED)),
        in_hand=Count("pk", filter=clock),
        overdue=Count("pk", filter=clock & Q(handling_due_at__lt=now)),
        contact_overdue=Count("pk", filter=clock & Q(contacted_at__isnull=True,
                                                     contact_due_at__lt=now)),
    )


# --- supervision notices (督办单) and reminder letters (提醒函) --------------------------------
# Who sees a document: the roles that see every order of their bureau see its documents too;
# the people of a unit see the documents addressed to their unit and the units below it.

NOTICE_STATUSES = {
    "unsigned": "未签收",
    "unanswered": "未答复",
    "replied": "已答复",
    "overdue": "逾期未答复",
    "escalated": "已移交督察",
}
# Not a state of its own: every notice still waiting for an answer, late or not.
NOTICE_PENDING = "pending"
LETTER_STATUSES = {"unsigned": "未签收", "acknowledged": "已签收"}


def notice_status(*, signed_at: datetime | None, replied_at: datetime | None,
                  escalated_at: datetime | None, reply_due_at: datetime,
                  now: datetime) -> str:
    """The one state a notice shows, the most pressing first: answered, sent to the inspectors,
    past its reply deadline, signed for, or not yet signed for."""
    if replied_at is not None:
        return "replied"
    if escalated_at is not None:
        return "escalated"
    if reply_due_at < now:
        return "overdue"
    return "unanswered" if signed_at is not None else "unsigned"


def notice_status_q(status: str, now: datetime) -> Q:
    """The rows `notice_status` gives `status` (or every unanswered one for "pending")."""
    waiting = Q(replied_at__isnull=True)
    open_ = waiting & Q(escalated_at__isnull=True)
    return {
        NOTICE_PENDING: waiting,
        "replied": Q(replied_at__isnull=False),
        "escalated": waiting & Q(escalated_at__isnull=False),
        "overdue": open_ & Q(reply_due_at__lt=now),
        "unanswered": open_ & Q(reply_due_at__gte=now, signed_at__isnull=False),
        "unsigned": open_ & Q(reply_due_at__gte=now, signed_at__isnull=True),
    }[status]


def document_filter(user: Any) -> Q:
    """Documents (notices, letters) the user sees: by bureau for the bureau-wide roles, by the
    addressed unit's subtree for a unit's people."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    q = Q(pk__in=[])
    for membership in access.memberships_of(user):
        if membership.role in access.ORDER_WIDE_ROLES:
            q |= Q(bureau__path__startswith=membership.unit.bureau().path)
        else:
            q |= Q(unit__path__startswith=membership.unit.path)
    return q


DOCUMENT_RELATED = ("order", "unit", "bureau")


def visible_notices(user: Any) -> QuerySet[SupervisionNotice]:
    return SupervisionNotice.objects.filter(document_filter(user))


def visible_letters(user: Any) -> QuerySet[ReminderLetter]:
    return ReminderLetter.objects.filter(document_filter(user))


def _document_for_page(qs: QuerySet, pk: Any, what: str) -> Any:
    from django.http import Http404

    try:
        return (qs.select_related(*DOCUMENT_RELATED, "order__channel", "order__order_type",
                                  "order__lead_unit", "issued_by")
                .get(pk=int(pk)))
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"没有找到该{what}") from None


def notice_for_page(user: Any, pk: Any) -> SupervisionNotice:
    """One notice the user may see; 404 for missing or not theirs."""
    return _document_for_page(visible_notices(user).select_related("signed_by", "replied_by"),
                              pk, "督办单")


def letter_for_page(user: Any, pk: Any) -> ReminderLetter:
    """One letter the user may see; 404 for missing or not theirs."""
    return _document_for_page(visible_letters(user).select_related("acknowledged_by"),
                              pk, "提醒函")


@dataclass
class DocumentFilter:
    """The filters of the notice and letter lists; empty means no filter."""

    unit: int | None = None  # the addressed unit and the units below it
    reason: str = ""
    status: str = ""
    issued_from: date | None = None
    issued_to: date | None = None  # inclusive
    order: str = ""  # an order number (20261102-000012) or a document number (督〔2026〕37号)

    @classmethod
    def from_params(cls, params: Any, *, kind: str) -> DocumentFilter:
        """From a QueryDict or dict for kind "notice" or "letter"; bad values are reported."""
        from minyi.core.errors import InvalidInput

        model = SupervisionNotice if kind == "notice" else ReminderLetter
        statuses = ({NOTICE_PENDING, *NOTICE_STATUSES} if kind == "notice"
                    else set(LETTER_STATUSES))
        values: dict[str, Any] = {}
        problems = []
        for f in fields(cls):
            raw = (params.get(f.name) or "").strip()
            if raw == "":
                continue
            if f.name == "unit":
                if not raw.isdecimal():
                    problems.append(f"单位编号 {raw!r} 不正确")
                    continue
                values[f.name] = int(raw)
            elif f.name in ("issued_from", "issued_to"):
                try:
                    values[f.name] = date.fromisoformat(raw)
                except ValueError:
                    problems.append(f"日期 {raw!r} 不正确（应为 2026-11-22 这样）")
            elif f.name == "reason" and raw not in model.Reason.values:
                problems.append(f"原因 {raw!r} 不在可选范围内")
            elif f.name == "status" and raw not in statuses:
                problems.append(f"状态 {raw!r} 不在可选范围内")
            else:
                values[f.name] = raw
        if (values.get("issued_from") and values.get("issued_to")
                and values["issued_from"] > values["issued_to"]):
            problems.append("下发日期的起始日期晚于截止日期")
        if problems:
            raise InvalidInput("；".join(problems))
        return cls(**values)


def _number_q(text: str) -> Q:
    """An order number, a bare order id, or a document number (督〔2026〕37号, 2026-37)."""
    import re

    text = text.replace(" ", "")
    if m := re.fullmatch(r"(?:\d{8}-)?0*(\d+)", text):
        return Q(order_id=int(m.group(1)))
    if m := re.search(r"[〔\[(（]?(\d{4})[〕\])）-](\d+)号?$", text):
        return Q(year=int(m.group(1)), number=int(m.group(2)))
    return Q(pk__in=[])


def document_list(user: Any, qs: QuerySet, f: DocumentFilter,
                  now: datetime | None = None) -> QuerySet:
    """Filtered documents, the newest first, with what a row shows. A unit outside what the
    user sees answers 404."""
    now = now or timezone.now()
    if f.unit is not None:
        from minyi.orgs.models import Unit

        if _sees_all_orders(user):
            unit = Unit.objects.filter(pk=f.unit).first()
        else:
            unit = access.get_unit_for_user(user, f.unit)
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    if f.reason:
        qs = qs.filter(reason=f.reason)
    if f.status:
        if qs.model is SupervisionNotice:
            qs = qs.filter(notice_status_q(f.status, now))
        else:
            qs = qs.filter(acknowledged_at__isnull=f.status == "unsigned")
    if f.issued_from:
        qs = qs.filter(issued_at__gte=_day_start(f.issued_from))
    if f.issued_to:
        qs = qs.filter(issued_at__lt=_day_start(f.issued_to + timedelta(days=1)))
    if f.order:
        qs = qs.filter(_number_q(f.order))
    return qs.select_related(*DOCUMENT_RELATED).order_by("-issued_at", "-id")


def with_notice_states(notices: Any, now: datetime | None = None) -> Any:
    """Give each notice `status`, `status_label` and, while it waits for an answer, the reply
    deadline's `reply_countdown`."""
    from minyi.orders.rules import countdown

    now = now or timezone.now()
    for notice in notices:
        notice.status = notice_status(
            signed_at=notice.signed_at, replied_at=notice.replied_at,
            escalated_at=notice.escalated_at, reply_due_at=notice.reply_due_at, now=now)
        notice.status_label = NOTICE_STATUSES[notice.status]
        notice.reply_countdown = (countdown(notice.reply_due_at, now, timedelta(hours=4))
                                  if notice.replied_at is None else None)
    return notices


def with_letter_states(letters: Any) -> Any:
    for letter in letters:
        letter.status = "acknowledged" if letter.acknowledged_at else "unsigned"
        letter.status_label = LETTER_STATUSES[letter.status]
    return letters


def order_documents(user: Any, order: Order) -> dict[str, list]:
    """The notices and letters of an order that the user may open, the newest first."""
    notices = list(visible_notices(user).filter(order=order).order_by("-issued_at", "-id"))
    letters = list(visible_letters(user).filter(order=order).order_by("-issued_at", "-id"))
    return {"notices": with_notice_states(notices), "letters": with_letter_states(letters)}


def pending_notice_count(user: Any) -> int:
    """Notices of the user's units still waiting for an answer (for a unit's workbench)."""
    return visible_notices(user).filter(replied_at__isnull=True).count()


def is_unit_head(user: Any, unit: Any) -> bool:
    """Whether the user may sign for and answer the unit's documents (the same rule as the
    escalation actions, so a page offers no button the action would refuse)."""
    from minyi.orgs.models import Role

    return (access.acts_for_unit(user, unit, {Role.UNIT_HEAD})
            or bool(getattr(user, "is_superuser", False)))
