"""Test data of surveys: a bureau's questionnaire from the template, a wave on it, frame members
and completed responses."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from minyi.orgs.models import Area
from minyi.surveys import actions
from minyi.surveys.models import FrameMember, Mode, Questionnaire, Response, Wave

_phones = itertools.count(13800000000)


def questionnaire(bureau: Any, actor: Any) -> Questionnaire:
    """`bureau` is the conftest's Bureau; `actor` an opinion officer of it."""
    return actions.create_questionnaire_from_template(actor=actor, bureau=bureau.bureau)


def wave(bureau: Any, actor: Any, *, name: str = "2026年第四季度群众安全感满意度调查",
         starts_on: date = date(2026, 10, 1), ends_on: date = date(2026, 12, 31),
         state: str = Wave.State.DRAFT, version: Any = None) -> Wave:
    if version is None:
        version = questionnaire(bureau, actor).latest_version()
    made = actions.create_wave(actor=actor, version=version, name=name, starts_on=starts_on,
                               ends_on=ends_on)
    if state != Wave.State.DRAFT:
        Wave.objects.filter(pk=made.pk).update(state=state)
        made.refresh_from_db()
    return made


def member(wave: Wave, *, area: Area | None = None, phone: str | None = None, sex: str = "",
           age_group: str = "", origin: str = FrameMember.Origin.IMPORTED,
           **fields: Any) -> FrameMember:
    made = FrameMember(wave=wave, origin=origin, area=area, sex=sex,
                       age_group=age_group, **fields)
    made.set_phone(phone or str(next(_phones)))
    made.save()
    return made


def response(wave: Wave, area: Area, answers: dict[str, Any], *, sex: str = "M",
             age_group: str = "30-39", mode: str = Mode.PHONE, weight: float | None = None,
             **fields: Any) -> Response:
    """A completed response, with its frame member (done)."""
    owner = member(wave, area=area, sex=sex, age_group=age_group,
                   state=FrameMember.State.DONE, outcome="I")
    return Response.objects.create(wave=wave, member=owner, mode=mode, answers=answers,
                                   area=area, station=area.station, sex=sex,
                                   age_group=age_group, weight=weight, **fields)
