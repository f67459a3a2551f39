"""One row of a file checked and turned into what an order needs, or into its errors.

No writes here: the checker reads its lookups and the clock, so that a whole file is checked
(and every bad row found) before anything is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from minyi.core import crypto
from minyi.intake.importing.lookups import CLOSED_WORDS, DEMAND_KINDS, OPEN_WORDS, Lookups
from minyi.intake.importing.mapping import Mapping
from minyi.intake.importing.values import DateParser, text
from minyi.orders.rules import State

MAX_EXTERNAL_ID = 64
# A receipt or close later than now is a typo, not a clock difference; a little slack for
# a source whose clock runs ahead of ours.
FUTURE_SLACK = timedelta(minutes=10)
DATE_FIELDS = ("received_at", "dispatched_at", "contact_due_at", "handling_due_at",
               "handled_at", "closed_at")
DATE_EXAMPLE = "如 2024-05-01 08:30"


@dataclass(slots=True)
class Checked:
    """A good row: the order's fields, ready to be built when it is not already there."""

    line: int
    channel: Any
    external_id: str
    derived_id: bool
    fields: dict[str, Any]
    citizen: tuple[str, str, str]
    # The lead assignment of an order a unit still holds: (handling limit or None).
    holds: bool
    handling_limit: timedelta | None


def derived_external_id(channel_code: str, received_at: datetime, parts: list[str]) -> str:
    """The id of a row without one: a keyed hash of what identifies the demand.

    Channel, receipt time (UTC), title, content, citizen's name and phone, place: none of them
    changes as the order moves on, so a later export of the same order (now closed) is still
    recognised. Keyed (HMAC with the data key), because the phone number is part of it and a
    plain hash of a phone number is reversed by trying all of them.
    """
    moment = received_at.astimezone(UTC).isoformat(timespec="seconds")
    digest = crypto.keyed_hash("import-row", "\x1f".join([channel_code, moment, *parts]))
    return f"H-{digest[:32]}"


class CellReader:
    """A row's fields as its mapping reads them: the first non-empty column, translated, else
    the default; date-times parsed in the mapping's time zone. Shared by every model imported
    with this machinery (orders here, callbacks' contacts)."""

    def __init__(self, mapping: Mapping, date_fields: tuple[str, ...]) -> None:
        self.mapping = mapping
        self.positions = mapping.positions
        self.values = mapping.values
        self.defaults = mapping.defaults
        self.parsers = {name: DateParser(mapping.timezone, mapping.date_formats)
                        for name in date_fields}
        self.labels = {t.name: t.label for t in mapping.schema.targets}

    def _cell(self, values: list[Any], name: str) -> Any:
        """The field's value: its first non-empty column, translated, else its default."""
        for i in self.positions.get(name, ()):
            if i < len(values):
                value = values[i]
                if value is None:
                    continue
                if isinstance(value, str):
                    value = value.strip()
                    if not value:
                        continue
                table = self.values.get(name)
                if table:
                    value = table.get(text(value), value)
                return value
        return self.defaults.get(name)

    def _text(self, values: list[Any], name: str) -> str:
        return text(self._cell(values, name))

    def _date(self, values: list[Any], name: str, errors: list[str]) -> datetime | None:
        value = self._cell(values, name)
        if value is None:
            return None
        try:
            return self.parsers[name].parse(value)
        except (ValueError, OverflowError):
            label = self.labels[name]
            errors.append(f"{label}「{text(value)}」不是可识别的日期时间（{DATE_EXAMPLE}）")
            return None


class RowChecker(CellReader):
    def __init__(self, mapping: Mapping, lookups: Lookups, *, now: datetime | None = None,
                 preset_name: str = "", batch_id: int | None = None) -> None:
        super().__init__(mapping, DATE_FIELDS)
        self.lookups = lookups
        self.now = now or timezone.now()
        self.preset_name = preset_name
        self.batch_id = batch_id
        self._deadline_cache: dict[tuple[int, datetime], Any] = {}

    def check(self, line: int, values: list[Any]) -> tuple[Checked | None, list[str]]:
        errors: list[str] = []
        lookups = self.lookups

        channel = order_type = lead_unit = area = None
        value = self._text(values, "channel")
        if not value:
            errors.append("缺少渠道")
        else:
            channel, error = lookups.channel(value)
            if error:
                errors.append(error)
        value = self._text(values, "order_type")
        if not value:
            errors.append("缺少工单类型")
        else:
            order_type, error = lookups.order_type(value)
            if error:
                errors.append(error)
        value = self._text(values, "demand_kind")
        demand_kind = DEMAND_KINDS.get(value) or DEMAND_KINDS.get(value.lower())
        if not value:
            errors.append("缺少诉求类型")
        elif demand_kind is None:
            errors.append(f"未知的诉求类型「{value}」（应为咨询、求助、投诉、举报、建议之一）")
        title = self._text(values, "title")
        if not title:
            errors.append("缺少标题")

        external_id = self._text(values, "external_id")
        if len(external_id) > MAX_EXTERNAL_ID:
            errors.append(f"来源编号超过{MAX_EXTERNAL_ID}个字符")

        phone = self._text(values, "citizen_phone")
        if phone and not crypto.is_valid_phone(phone):
            errors.append(f"联系电话「{phone}」格式不正确（应为手机号、带区号的固定电话或本地号码）")

        value = self._text(values, "area")
        if value:
            area, error = lookups.area(value)
            if error:
                errors.append(error)

        received_at = self._date(values, "received_at", errors)
        if received_at is None and self._cell(values, "received_at") is None:
            errors.append("缺少接单时间")
        dispatched_at = self._date(values, "dispatched_at", errors)
        contact_due_at = self._date(values, "contact_due_at", errors)
        handling_due_at = self._date(values, "handling_due_at", errors)
        handled_at = self._date(values, "handled_at", errors)
        closed_at = self._date(values, "closed_at", errors)

        state_text = self._text(values, "state")
        closed: bool | None
        if not state_text:
            closed = None
        elif state_text.lower() in CLOSED_WORDS:
            closed = True
        elif state_text.lower() in OPEN_WORDS:
            closed = False
        else:
            closed = None
            errors.append(f"未知的办理状态「{state_text}」（应为已办结或办理中）")
        if closed is None and not state_text:
            closed = closed_at is not None
        if closed and closed_at is None and not any("办结时间" in e for e in errors):
            errors.append("状态为已办结，但没有办结时间")
        if closed is False and closed_at is not None:
            errors.append("状态为办理中，却填写了办结时间")

        value = self._text(values, "lead_unit")
        if value:
            lead_unit, error = lookups.unit(value)
            if error:
                errors.append(error)
            elif not closed and not lead_unit.is_active:
                errors.append(f"承办单位「{lead_unit}」已停用，未办结的工单不能交给它")
        elif closed:
            errors.append("已办结的工单须填写承办单位")

        # Dates that contradict each other.
        skew = self.mapping.close_skew
        late_limit = self.now + FUTURE_SLACK
        if received_at is not None:
            if received_at > late_limit:
                errors.append("接单时间晚于当前时间")
            if dispatched_at is not None and dispatched_at < received_at:
                errors.append("转办时间早于接单时间")
            if handling_due_at is not None and handling_due_at < received_at:
                errors.append("办理时限早于接单时间")
            if contact_due_at is not None and contact_due_at < received_at:
                errors.append("联系时限早于接单时间")
            if closed_at is not None and closed_at < received_at:
                if received_at - closed_at <= skew:
                    closed_at = received_at
                else:
                    errors.append("办结时间早于接单时间")
            if handled_at is not None and handled_at < received_at:
                if received_at - handled_at <= skew:
                    handled_at = received_at
                else:
                    errors.append("办理完成时间早于接单时间")
        if closed_at is not None and closed_at > late_limit:
            errors.append("办结时间晚于当前时间")
        if handled_at is not None and closed_at is not None and handled_at > closed_at:
            errors.append("办理完成时间晚于办结时间")
        if handled_at is not None and handled_at > late_limit:
            errors.append("办理完成时间晚于当前时间")

        if errors:
            return None, errors

        name = self._text(values, "citizen_name")
        address = self._text(values, "citizen_address")
        content = self._text(values, "content")
        location = self._text(values, "location")
        derived = not external_id
        if derived:
            external_id = derived_external_id(
                channel.code, received_at,
                [title, content, name, crypto.normalize_phone(phone), location])
        fields: dict[str, Any] = {
            "bureau": self.lookups.bureau, "channel": channel, "external_id": external_id,
            "order_type": order_type, "demand_kind": demand_kind, "title": title[:200],
            "content": content, "area": area, "location": location[:300],
            "received_at": received_at, "lead_unit": lead_unit,
            "close_note": self._text(values, "close_note"),
        }
        source_data: dict[str, Any] = {"import_batch": self.batch_id, "line": line}
        if self.preset_name:
            source_data["preset"] = self.preset_name
        for column, i in self.mapping.keep_positions:
            if i < len(values):
                kept = values[i]
                source_data[column] = kept if isinstance(kept, str | int | float) else text(kept)
        fields["source_data"] = source_data

        holds, handling_limit = False, None
        if closed:
            fields.update(state=State.CLOSED, closed_at=closed_at,
                          handled_at=handled_at or closed_at,
                          dispatched_at=dispatched_at or received_at,
                          handling_due_at=handling_due_at, contact_due_at=contact_due_at)
        elif lead_unit is not None:
            # An open order a unit holds: dispatched, its clock running from the dispatch.
            start = dispatched_at or received_at
            if (handling_due_at is None or contact_due_at is None) \
                    and self.mapping.compute_deadlines:
                deadlines = self._deadlines(order_type, start)
                if handling_due_at is None:
                    handling_due_at = deadlines.handling_due_at
                    handling_limit = deadlines.handling_limit
                contact_due_at = contact_due_at or deadlines.contact_due_at
            fields.update(state=State.DISPATCHED, dispatched_at=start,
                          handling_due_at=handling_due_at, contact_due_at=contact_due_at,
                          handled_at=handled_at)
            holds = True
        else:
            # Open and not yet given to a unit: waits on the dispatch board.
            fields.update(state=State.RECEIVED, handling_due_at=handling_due_at,
                          contact_due_at=contact_due_at)
        return Checked(line, channel, external_id, derived, fields, (name, phone, address),
                       holds, handling_limit), []

    def _deadlines(self, order_type: Any, start: datetime) -> Any:
        from minyi.orders.actions import deadlines_for

        key = (order_type.pk, start)
        cached = self._deadline_cache.get(key)
        if cached is None:
            if len(self._deadline_cache) > 10000:
                self._deadline_cache.clear()
            cached = self._deadline_cache[key] = deadlines_for(order_type, start)
        return cached
