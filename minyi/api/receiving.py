"""Orders sent in through the API: every row checked first, every problem reported, then all
rows created in one transaction or none.

Checking before writing is what lets a bad batch be answered with *every* bad field of every
row (DESIGN.md, "Bad input"); the transaction is what makes sure nothing half-written is left
when something only the action can see (a race, a rule added later) still fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from minyi.api.auth import Caller
from minyi.api.inputs import MAX_BATCH, ORDER_FIELDS, BadRequest, Problem, read
from minyi.core.audit import lock_chain
from minyi.core.crypto import is_valid_phone
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.intake.models import Channel
from minyi.orders import actions
from minyi.orders.models import Order, OrderType
from minyi.orders.rules import CreatedVia
from minyi.orgs import access
from minyi.orgs.models import Area, Unit

_LABELS = {f.name: f.label for f in ORDER_FIELDS}
_POSITION = {f.name: i for i, f in enumerate(ORDER_FIELDS)}
# A demand cannot come in from the future; a few minutes allow for clocks that disagree.
CLOCK_SKEW_MINUTES = 5
NOTHING_WRITTEN = "工单内容有误，未录入任何工单"


def _problem(field: str, message: str, index: int | None) -> Problem:
    return Problem(field, message, _LABELS.get(field, ""), index)


class _Abort(Exception):
    """A row failed while writing: roll the whole request back and report it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _user_bureau(user: Any, ref: int | str | None) -> Unit | None:
    """The bureau an officer's order goes to: the one named, or their own. None when the one
    named does not exist; NotAllowed when the officer does not dispatch there."""
    if ref is not None:
        bureau = Unit.objects.filter(**({"pk": ref} if isinstance(ref, int) else {"code": ref}),
                                     kind__in=[Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU]).first()
        if bureau is None:
            return None
    else:
        membership = next((m for m in access.memberships_of(user)
                           if m.role in actions.DISPATCH_ROLES), None)
        membership = membership or access.primary_membership(user)
        if membership is None:
            raise NotAllowed("只有指挥中心调度员可以接单录入工单")
        bureau = membership.unit.bureau()
    if not (access.bureau_role(user, bureau, actions.DISPATCH_ROLES) or user.is_superuser):
        raise NotAllowed("只有指挥中心调度员可以接单录入工单")
    return bureau


def _visible(caller: Caller, orders: list[Order]) -> set[int]:
    if not orders:
        return set()
    if caller.is_client:
        return {o.pk for o in orders if o.source_client_id == caller.client.pk}
    return set(access.visible_orders(caller.user).filter(pk__in=[o.pk for o in orders])
               .values_list("pk", flat=True))


@dataclass
class _Lookups:
    """Everything the rows of a request name, each looked up once for the whole batch."""

    channels: dict[str, Channel]
    types: dict[str, OrderType]
    areas: dict[str, Area]
    bureaus: dict[Any, Unit | None] = field(default_factory=dict)
    seen: dict[tuple[int, str], int] = field(default_factory=dict)  # (channel, id) -> row
    now: Any = field(default_factory=timezone.now)

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> _Lookups:
        def codes(name: str) -> set[str]:
            return {v[name] for v in rows if v.get(name)}

        return cls(
            channels={c.code: c for c in Channel.objects.filter(code__in=codes("channel"))},
            types={t.code: t for t in OrderType.objects.filter(code__in=codes("order_type"))},
            areas={a.code: a for a in Area.objects.filter(code__in=codes("area"))
                   .select_related("station")},
        )


def _check(caller: Caller, values: dict[str, Any], i: int, index: int | None,
           lookups: _Lookups, problems: list[Problem]) -> dict[str, Any]:
    """One row's values checked against the database and each other; returns the arguments of
    `receive_order`, adding what is wrong to `problems`."""

    def bad(field: str, message: str) -> None:
        problems.append(_problem(field, message, index))

    bureau: Unit | None
    if caller.is_client:
        bureau = caller.client.bureau
        if "bureau" in values:
            bad("bureau", "对接系统提交的工单归属其所属公安局，不能指定 bureau")
        if not values.get("external_id"):
            bad("external_id", "请填写来源编号：同一工单重复提交时凭它识别，不会重复建单")
    else:
        key = values.get("bureau")
        if key not in lookups.bureaus:
            lookups.bureaus[key] = _user_bureau(caller.user, key)
        bureau = lookups.bureaus[key]
        if bureau is None:
            bad("bureau", f"没有找到公安局 {key!r}")

    channel = None
    code = values.get("channel")
    if code:
        channel = lookups.channels.get(code)
        if channel is None:
            bad("channel", f"没有渠道代码 {code!r}")
        elif not channel.is_active:
            bad("channel", f"渠道「{channel.name}」已停用")
    elif caller.is_client:
        channel = caller.client.channel
    elif not any(p.field == "channel" and p.index == index for p in problems):
        bad("channel", "请填写渠道")

    order_type = None
    if values.get("order_type"):
        order_type = lookups.types.get(values["order_type"])
        if order_type is None:
            bad("order_type", f"没有工单类型代码 {values['order_type']!r}")
        elif not order_type.is_active:
            bad("order_type", f"工单类型「{order_type.name}」已停用")

    phone = values.get("citizen_phone", "")
    if phone and not is_valid_phone(phone):
        bad("citizen_phone", f"联系电话格式不正确：{phone}")

    area = None
    if values.get("area"):
        area = lookups.areas.get(values["area"])
        if area is None:
            bad("area", f"没有区划代码 {values['area']!r}")
        elif bureau is not None and not area.station.path.startswith(bureau.path):
            bad("area", f"区域「{area.name}」不属于{bureau.name}")

    if values.get("is_leader_assigned") and not values.get("leader_instruction"):
        bad("leader_instruction", "领导批示交办的工单请填写批示内容")
    received_at = values.get("received_at")
    if received_at and received_at > lookups.now + timedelta(minutes=CLOCK_SKEW_MINUTES):
        bad("received_at", "接单时间不能晚于现在")

    external_id = values.get("external_id", "")
    if channel is not None and external_id:
        first = lookups.seen.setdefault((channel.pk, external_id), i)
        if first != i:
            bad("external_id", f"与第 {first + 1} 条的来源编号重复")

    return {
        "bureau": bureau, "channel": channel, "order_type": order_type,
        "demand_kind": values.get("demand_kind", ""), "title": values.get("title", ""),
        "content": values.get("content", ""),
        "citizen_name": values.get("citizen_name", ""), "citizen_phone": phone,
        "citizen_address": values.get("citizen_address", ""), "area": area,
        "location": values.get("location", ""),
        "is_leader_assigned": values.get("is_leader_assigned", False),
        "leader_instruction": values.get("leader_instruction", ""),
        "external_id": external_id, "received_at": received_at,
        "source_data": values.get("source_data"),
    }


def _existing(caller: Caller, prepared: list[dict[str, Any]], batch: bool,
              problems: list[Problem]) -> dict[tuple[int, str], Order]:
    """Orders sent before (same channel and external id). Answered as they are when the caller
    may see them; one that belongs to someone else is a problem, not shown (it would leak
    another system's order)."""
    pairs = [(i, p) for i, p in enumerate(prepared) if p["channel"] and p["external_id"]]
    existing: dict[tuple[int, str], Order] = {}
    for channel_pk in {p["channel"].pk for _, p in pairs}:
        ids = [p["external_id"] for _, p in pairs if p["channel"].pk == channel_pk]
        for order in Order.objects.filter(channel_id=channel_pk, external_id__in=ids):
            existing[(channel_pk, order.external_id)] = order
    mine = _visible(caller, list(existing.values()))
    for i, p in pairs:
        order = existing.get((p["channel"].pk, p["external_id"]))
        if order is not None and order.pk not in mine:
            problems.append(_problem("external_id", _foreign_message(caller, p),
                                     i if batch else None))
    return existing


def _create_all(caller: Caller, prepared: list[dict[str, Any]],
                existing: dict[tuple[int, str], Order], batch: bool) -> list[tuple[Order, bool]]:
    results: list[tuple[Order, bool]] = []
    try:
        with transaction.atomic():
            if len(prepared) > 1:
                # Every order's event takes the audit chain's lock until commit anyway; taking
                # it first makes two overlapping batches queue here, instead of each holding
                # the lock while waiting on an order row the other inserted (a deadlock on
                # PostgreSQL). The second then finds the first's orders and answers them.
                lock_chain()
            for i, p in enumerate(prepared):
                index = i if batch else None
                known = existing.get((p["channel"].pk, p["external_id"]))
                if known is not None:
                    results.append((known, False))
                    continue
                try:
                    order, created = actions.receive_order(
                        actor=None if caller.is_client else caller.user,
                        created_via=CreatedVia.API, source_client=caller.client, **p)
                except InvalidInput as exc:
                    raise _Abort(Problem("", str(exc), "", index)) from exc
                if not created and order.pk not in _visible(caller, [order]):
                    # Sent by someone else between our check and our write.
                    raise _Abort(_problem("external_id", _foreign_message(caller, p), index))
                results.append((order, created))
    except _Abort as exc:
        raise BadRequest([exc.problem], NOTHING_WRITTEN) from exc
    return results


def receive(caller: Caller, body: Any) -> tuple[list[tuple[Order, bool]], bool]:
    """Create the orders of a request body: one object, or a list of them. Returns ([(order,
    created)], whether the body was a list). Raises BadRequest with every problem found."""
    batch = isinstance(body, list)
    rows = body if batch else [body]
    if batch and not rows:
        raise BadRequest([Problem("", "列表为空：请至少提交一张工单")])
    if len(rows) > MAX_BATCH:
        raise BadRequest([Problem("", f"一次最多提交 {MAX_BATCH} 张工单，本次 {len(rows)} 张")])

    problems: list[Problem] = []
    parsed = []
    for i, row in enumerate(rows):
        values, found = read(row, ORDER_FIELDS, index=i if batch else None)
        parsed.append(values)
        problems.extend(found)
    lookups = _Lookups.of(parsed)
    # A row that is no JSON object has been reported as such; nothing more to say about it.
    prepared = [_check(caller, values, i, i if batch else None, lookups, problems)
                if isinstance(rows[i], dict) else {"channel": None, "external_id": ""}
                for i, values in enumerate(parsed)]
    existing = _existing(caller, prepared, batch, problems)
    if problems:
        # Row by row, and within a row in the order of the fields, as a person reads them.
        problems.sort(key=lambda p: (p.index or 0, _POSITION.get(p.field, -1)))
        raise BadRequest(problems, NOTHING_WRITTEN)
    return _create_all(caller, prepared, existing, batch), batch


def _foreign_message(caller: Caller, p: dict[str, Any]) -> str:
    whose = "不是由本系统提交的" if caller.is_client else "不在您可查看的范围内"
    return (f"渠道「{p['channel'].name}」的来源编号 {p['external_id']} 已有工单，"
            f"但{whose}；请与指挥中心核对")
