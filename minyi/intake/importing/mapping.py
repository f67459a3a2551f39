"""Column mapping: which column of the file fills which field of an order (or of another
model imported the same way: a `Schema` names the fields, see `ORDERS`).

A mapping is a plain dict, read from a preset, a YAML or JSON file, or the mapping page:

    columns:            # field: column, or a list of columns (the first non-empty cell wins)
      external_id: 工单编号
      title: [标题, 诉求摘要]
    defaults:           # used when the field has no column, or its cell is empty
      channel: "12345"
    values:             # source values translated before they are looked up
      state: {已办结: closed, 办理中: open}
    timezone: Asia/Shanghai          # for date-times written without one
    date_formats: ["%m/%d/%Y %I:%M:%S %p"]   # tried before the common ones
    keep_columns: [QUEUE, TYPE]      # copied as they are into the order's source_data
    missing_columns: error           # or "ignore": a mapped column absent from the file
    close_skew_seconds: 0            # see `Mapping.close_skew`
    compute_deadlines: true          # open orders without a deadline get the type's timers
    sheet: 工单                       # xlsx: the sheet to read (default the first)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from minyi.intake.importing.errors import BadInput


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    kind: str  # text, ref, choice, datetime, phone, state
    help: str = ""


# Every field a file can fill, in the order the mapping page shows them.
TARGETS: tuple[Target, ...] = (
    Target("external_id", "来源编号", "text",
           "来源平台的工单编号；同一渠道同一编号只导入一次。没有时按内容生成"),
    Target("channel", "渠道", "ref", "渠道代码或名称，如 12345 或 12345政务服务热线"),
    Target("order_type", "工单类型", "ref", "类型代码或名称，如 noise 或 噪音扰民"),
    Target("demand_kind", "诉求类型", "choice", "咨询、求助、投诉、举报、建议"),
    Target("title", "标题", "text"),
    Target("content", "诉求内容", "text"),
    Target("citizen_name", "群众姓名", "text", "加密保存"),
    Target("citizen_phone", "联系电话", "phone", "加密保存"),
    Target("citizen_address", "群众住址", "text", "加密保存"),
    Target("area", "所属区域", "ref", "区划代码或名称，须在本局辖区内"),
    Target("location", "事发地址", "text"),
    Target("received_at", "接单时间", "datetime"),
    Target("lead_unit", "承办单位", "ref", "单位代码或名称，须是本局的单位"),
    Target("dispatched_at", "转办时间", "datetime", "没有时取接单时间"),
    Target("contact_due_at", "联系时限", "datetime"),
    Target("handling_due_at", "办理时限", "datetime",
           "未办结的工单没有时按工单类型的时限计算"),
    Target("handled_at", "办理完成时间", "datetime", "没有时取办结时间"),
    Target("closed_at", "办结时间", "datetime"),
    Target("state", "办理状态", "state", "已办结/办理中；没有这一列时，有办结时间即为已办结"),
    Target("close_note", "办结说明", "text"),
)
TARGET_BY_NAME = {t.name: t for t in TARGETS}
REQUIRED = ("received_at", "title", "channel", "order_type", "demand_kind")
DEFAULTABLE = ("channel", "order_type", "demand_kind", "state")


@dataclass(frozen=True)
class Schema:
    """The fields a mapping may fill: which exist, which are required, which take a default.

    Orders are one schema; another model imported with the same machinery (callbacks'
    contacts) brings its own, and the checks and messages below follow it.
    """

    targets: tuple[Target, ...]
    required: tuple[str, ...]
    defaultable: tuple[str, ...]

    @property
    def by_name(self) -> dict[str, Target]:
        return {t.name: t for t in self.targets}


ORDERS = Schema(TARGETS, REQUIRED, DEFAULTABLE)
OPTIONS = {"columns", "defaults", "values", "timezone", "date_formats", "keep_columns",
           "missing_columns", "close_skew_seconds", "compute_deadlines", "sheet", "name",
           "label", "description"}


@dataclass
class Mapping:
    """A checked mapping, with the file's columns resolved to positions."""

    columns: dict[str, list[str]]
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    date_formats: list[str] = field(default_factory=list)
    keep_columns: list[str] = field(default_factory=list)
    missing_columns: str = "error"
    # Some sources stamp a case closed a few seconds before it was opened (two systems, two
    # clocks). A close at most this much before the receipt is read as a close at the receipt;
    # anything earlier is a contradiction and the row is bad.
    close_skew: timedelta = timedelta(0)
    compute_deadlines: bool = True
    sheet: str | None = None
    schema: Schema = ORDERS
    # Filled by `bind`: positions in the header of each field's columns, and of kept columns.
    positions: dict[str, list[int]] = field(default_factory=dict)
    keep_positions: list[tuple[str, int]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """What is stored on the import batch, and what `parse_mapping` reads back."""
        return {
            "columns": self.columns, "defaults": self.defaults, "values": self.values,
            "timezone": self.timezone.key, "date_formats": self.date_formats,
            "keep_columns": self.keep_columns, "missing_columns": self.missing_columns,
            "close_skew_seconds": int(self.close_skew.total_seconds()),
            "compute_deadlines": self.compute_deadlines, "sheet": self.sheet,
        }

    def bind(self, header: list[str]) -> Mapping:
        """Resolve the columns against the file's header; BadInput when the two do not fit."""
        index = {name: i for i, name in enumerate(header) if name}
        by_name = self.schema.by_name
        positions: dict[str, list[int]] = {}
        for target, columns in self.columns.items():
            found = [index[c] for c in columns if c in index]
            missing = [c for c in columns if c not in index]
            if missing and self.missing_columns == "error":
                raise BadInput(f"列对应中「{by_name[target].label}」的列"
                               f"「{'、'.join(missing)}」在文件表头中找不到")
            if found:
                positions[target] = found
        for target in self.schema.required:
            if target not in positions and target not in self.defaults:
                label = by_name[target].label
                hint = "或给出默认值" if target in self.schema.defaultable else ""
                raise BadInput(f"缺少「{label}」：请指定文件中的哪一列是{label}{hint}")
        keep = []
        for column in self.keep_columns:
            if column in index:
                keep.append((column, index[column]))
            elif self.missing_columns == "error":
                raise BadInput(f"要保留的列「{column}」在文件表头中找不到")
        self.positions = positions
        self.keep_positions = keep
        return self


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise BadInput(f"列对应有误：{what} 应为列名或列名的列表")
    return [str(v).strip() for v in value if str(v).strip()]


def parse_mapping(spec: Any, schema: Schema = ORDERS) -> Mapping:
    """A Mapping from a dict; BadInput, in Chinese, for anything that does not make sense."""
    by_name = schema.by_name
    if not isinstance(spec, dict):
        raise BadInput("列对应有误：应为键值对（YAML 或 JSON 对象）")
    unknown = set(spec) - OPTIONS
    if unknown:
        raise BadInput(f"列对应有误：不认识的设置「{'、'.join(sorted(map(str, unknown)))}」")
    raw_columns = spec.get("columns") or {}
    if not isinstance(raw_columns, dict):
        raise BadInput("列对应有误：columns 应为「字段: 列名」的键值对")
    columns: dict[str, list[str]] = {}
    for target, value in raw_columns.items():
        if target not in by_name:
            known = "、".join(by_name)
            raise BadInput(f"列对应有误：没有字段「{target}」（可用：{known}）")
        names = _strings(value, f"columns.{target}")
        if names:
            columns[target] = names
    defaults = spec.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise BadInput("列对应有误：defaults 应为「字段: 默认值」的键值对")
    for target in defaults:
        if target not in schema.defaultable:
            raise BadInput(f"列对应有误：字段「{target}」不能设默认值"
                           f"（可设默认值的有：{'、'.join(schema.defaultable)}）")
    values = spec.get("values") or {}
    if not isinstance(values, dict) or not all(
            isinstance(v, dict) and k in by_name for k, v in values.items()):
        raise BadInput("列对应有误：values 应为「字段: {原值: 新值}」")
    tz_name = spec.get("timezone") or "Asia/Shanghai"
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"列对应有误：不认识的时区「{tz_name}」") from None
    formats = _strings(spec.get("date_formats") or [], "date_formats")
    missing = spec.get("missing_columns") or "error"
    if missing not in ("error", "ignore"):
        raise BadInput("列对应有误：missing_columns 只能是 error 或 ignore")
    try:
        skew = timedelta(seconds=int(spec.get("close_skew_seconds") or 0))
    except (TypeError, ValueError):
        raise BadInput("列对应有误：close_skew_seconds 应为秒数") from None
    return Mapping(
        columns=columns,
        defaults={k: str(v).strip() for k, v in defaults.items() if str(v).strip()},
        values={k: {str(a).strip(): str(b).strip() for a, b in v.items()}
                for k, v in values.items()},
        timezone=tz,
        date_formats=formats,
        keep_columns=_strings(spec.get("keep_columns") or [], "keep_columns"),
        missing_columns=missing,
        close_skew=skew,
        compute_deadlines=bool(spec.get("compute_deadlines", True)),
        sheet=(str(spec["sheet"]) if spec.get("sheet") else None),
        schema=schema,
    )


def load_mapping_file(path: str | Path, schema: Schema = ORDERS) -> Mapping:
    """A mapping from a .yaml/.yml or .json file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"列对应文件无法读取：{path}（{exc.__class__.__name__}）") from None
    if path.suffix.lower() == ".json":
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(f"列对应文件不是有效的 JSON：第{exc.lineno}行 {exc.msg}") from None
    else:
        import yaml

        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"第{mark.line + 1}行" if mark else ""
            raise BadInput(f"列对应文件不是有效的 YAML：{where}{getattr(exc, 'problem', '')}"
                           ) from None
    return parse_mapping(spec, schema)
