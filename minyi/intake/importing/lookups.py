"""Names and codes a file uses, resolved to rows: channels, order types, units, areas.

Loaded once per import into dicts (a file of a million rows names the same few dozen units
over and over); a name two units share is remembered as ambiguous, so the row is told to use
the code instead of getting one of the two at random.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minyi.intake.models import Channel
from minyi.orders.models import OrderType
from minyi.orders.rules import DemandKind
from minyi.orgs.models import Area, Unit

if TYPE_CHECKING:
    from minyi.intake.presets.base import Preset

AMBIGUOUS = object()

DEMAND_KINDS: dict[str, str] = {}
for _value, _label in DemandKind.choices:
    DEMAND_KINDS[_value] = _value
    DEMAND_KINDS[str(_label)] = _value
    DEMAND_KINDS[f"{_label}类"] = _value

CLOSED_WORDS = {"closed", "close", "已办结", "办结", "已完成", "完成", "已关闭", "关闭", "结案",
                "已结案", "已归档"}
OPEN_WORDS = {"open", "opened", "未办结", "办理中", "处理中", "在办", "待办", "已转办", "已签收",
              "待处理", "未完成"}


class UnitLookup:
    """The bureau's units by code, name and short name: what every import needs (orders, and
    callbacks' contacts, which use this class alone)."""

    def __init__(self, bureau: Unit, preset: Preset | None = None) -> None:
        self.bureau = bureau
        self.preset = preset
        # Units that can lead an order: the bureau's subtree without the bureau itself.
        self.units: dict[str, Any] = {}
        # Inactive ones too: a historical order names the unit that handled it then.
        units = Unit.objects.filter(path__startswith=bureau.path).exclude(
            kind__in=(Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU))
        for unit in units:
            self._put(self.units, unit, unit.code, unit.name, unit.short_name)

    @staticmethod
    def _put(table: dict[str, Any], obj: Any, code: str, *names: str) -> None:
        # A code is unique and wins over a name that happens to look like it.
        table[code] = obj
        for name in names:
            if not name or name == code:
                continue
            held = table.get(name)
            if held is None:
                table[name] = obj
            elif held is not obj and held is not AMBIGUOUS and getattr(held, "code", "") != name:
                table[name] = AMBIGUOUS

    def _find(self, table: dict[str, Any], value: str, hook: str) -> Any:
        found = table.get(value)
        if found is None and self.preset is not None:
            found = getattr(self.preset, hook)(self, value)
            if found is not None:
                table[value] = found
        return found

    def unit(self, value: str, what: str = "承办单位") -> tuple[Unit | None, str]:
        found = self._find(self.units, value, "missing_unit")
        if found is AMBIGUOUS:
            return None, f"单位名称「{value}」对应{self.bureau}的多个单位，请改用单位代码"
        if found is None:
            return None, f"{what}「{value}」不是{self.bureau}的单位"
        return found, ""


class Lookups(UnitLookup):
    """Everything an order names: channels, order types, units, areas."""

    def __init__(self, bureau: Unit, preset: Preset | None = None) -> None:
        super().__init__(bureau, preset)
        self.channels: dict[str, Any] = {}
        for channel in Channel.objects.all():
            self._put(self.channels, channel, channel.code, channel.name)
        self.order_types: dict[str, Any] = {}
        for order_type in OrderType.objects.all():
            self._put(self.order_types, order_type, order_type.code, order_type.name)
        self.areas: dict[str, Any] = {}
        for area in Area.objects.filter(station__path__startswith=bureau.path):
            self._put(self.areas, area, area.code, area.name)

    def channel(self, value: str) -> tuple[Channel | None, str]:
        found = self._find(self.channels, value, "missing_channel")
        if found is AMBIGUOUS:
            return None, f"渠道名称「{value}」对应多个渠道，请改用渠道代码"
        if found is None:
            return None, f"未知的渠道「{value}」"
        return found, ""

    def order_type(self, value: str) -> tuple[OrderType | None, str]:
        found = self._find(self.order_types, value, "missing_order_type")
        if found is AMBIGUOUS:
            return None, f"工单类型名称「{value}」对应多个类型，请改用类型代码"
        if found is None:
            return None, f"未知的工单类型「{value}」"
        return found, ""


    def area(self, value: str) -> tuple[Area | None, str]:
        found = self.areas.get(value)
        if found is AMBIGUOUS:
            return None, f"区域名称「{value}」对应多个区域，请改用区划代码"
        if found is None:
            return None, f"所属区域「{value}」不在{self.bureau}的辖区内"
        return found, ""
