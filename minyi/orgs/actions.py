"""Writes to units, areas and people. Each runs in a transaction and writes its event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from minyi.core.audit import record_event, snapshot
from minyi.core.errors import InvalidInput
from minyi.orgs import access
from minyi.orgs.models import Area, Membership, Unit, User


def _validated(obj: Any) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        messages = [f"{field}: {'；'.join(errs)}" for field, errs in exc.message_dict.items()]
        raise InvalidInput("；".join(messages)) from exc


def create_unit(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    parent: Unit | None = None,
    short_name: str = "",
    phone: str = "",
    sort_order: int = 0,
) -> Unit:
    unit = Unit(code=code, name=name, kind=kind, parent=parent, short_name=short_name,
                phone=phone, sort_order=sort_order)
    _validated(unit)
    with transaction.atomic():
        unit.save()
        record_event(actor=actor, obj=unit, action="unit.create", after=snapshot(unit))
    return unit


def create_area(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    station: Unit,
    parent: Area | None = None,
    population: int | None = None,
) -> Area:
    area = Area(code=code, name=name, kind=kind, station=station, parent=parent,
                population=population)
    _validated(area)
    with transaction.atomic():
        area.save()
        record_event(actor=actor, obj=area, action="area.create", after=snapshot(area))
    return area


def create_user(
    *,
    actor: Any,
    username: str,
    full_name: str,
    password: str | None,
    police_number: str = "",
    phone: str = "",
    is_staff: bool = False,
) -> User:
    user = User(username=username, full_name=full_name, police_number=police_number,
                phone=phone, is_staff=is_staff)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _validated(user)
    with transaction.atomic():
        user.save()
        record_event(actor=actor, obj=user, action="user.create", after=snapshot(user))
    return user


def add_membership(
    *,
    actor: Any,
    user: User,
    unit: Unit,
    role: str,
    title: str = "",
    is_primary: bool = True,
) -> Membership:
    membership = Membership(user=user, unit=unit, role=role, title=title, is_primary=is_primary)
    _validated(membership)
    with transaction.atomic():
        membership.save()
        record_event(
            actor=actor,
            obj=membership,
            action="membership.create",
            after=snapshot(membership),
            payload={"user": user.pk, "unit": unit.pk, "role": role},
        )
    access.forget(user)
    return membership
