"""What the API accepts: each request body and query as a list of fields, used both to read a
request (every problem reported, field by field, in Chinese) and to write the OpenAPI document,
so that the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from minyi.orders.rules import CallbackOutcome, DemandKind


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    label: str = ""
    index: int | None = None  # the row of a batch

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "label": self.label,
                                "message": self.message}
        if self.index is not None:
            data["index"] = self.index
        return data


class BadRequest(Exception):
    """Input that cannot be accepted; every problem found, not just the first (answered 400)."""

    def __init__(self, problems: Sequence[Problem], detail: str = "请求内容有误") -> None:
        super().__init__(detail)
        self.problems = list(problems)
        self.detail = detail


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # the Chinese name used in messages and the docs
    kind: str  # string, integer, boolean, datetime, ref, refs, choice, object
    required: bool = False
    max_length: int | None = None
    choices: tuple[tuple[str, str], ...] = ()
    description: str = ""
    example: Any = None

    # --- reading ----------------------------------------------------------------------------

    def parse(self, raw: Any, from_form: bool = False) -> Any:
        """The value, or ValueError with the Chinese message. `from_form` reads multipart
        fields, which arrive as strings."""
        kind = self.kind
        if kind in ("string", "datetime", "choice"):
            if not isinstance(raw, str):
                raise ValueError(f"{self.label}应为文本")
            value = raw.strip()
            if self.required and not value:
                raise ValueError(f"请填写{self.label}")
            if kind == "string":
                if self.max_length and len(value) > self.max_length:
                    raise ValueError(f"{self.label}不能超过 {self.max_length} 个字")
                return value
            if kind == "choice":
                allowed = [c for c, _ in self.choices]
                if value not in allowed:
                    names = "、".join(f"{c}（{n}）" for c, n in self.choices)
                    raise ValueError(f"{self.label}只能是 {names}，而不是 {value!r}")
                return value
            return parse_datetime(value, self.label)
        if kind == "integer":
            if from_form and isinstance(raw, str) and raw.strip().lstrip("-").isdecimal():
                return int(raw.strip())
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError(f"{self.label}应为整数")
            return raw
        if kind == "boolean":
            if from_form and isinstance(raw, str):
                text = raw.strip().lower()
                if text in {"true", "1", "yes", "on"}:
                    return True
                if text in {"false", "0", "no", "off"}:
                    return False
            if not isinstance(raw, bool):
                raise ValueError(f"{self.label}应为 true 或 false")
            return raw
        if kind == "ref":
            return _ref(raw, self.label)
        if kind == "refs":
            if not isinstance(raw, list):
                raise ValueError(f"{self.label}应为列表")
            return [_ref(item, self.label) for item in raw]
        if kind == "object":
            if not isinstance(raw, dict):
                raise ValueError(f"{self.label}应为 JSON 对象")
            return raw
        raise AssertionError(f"unknown field kind {kind}")

    # --- describing -------------------------------------------------------------------------

    def schema(self) -> dict[str, Any]:
        """This field as JSON Schema (OpenAPI 3.1)."""
        text = self.label + (f"。{self.description}" if self.description else "")
        kind = self.kind
        if kind == "string":
            schema: dict[str, Any] = {"type": "string"}
            if self.max_length:
                schema["maxLength"] = self.max_length
        elif kind == "datetime":
            schema = {"type": "string", "format": "date-time"}
            text += "。ISO 8601；不带时区的按北京时间（Asia/Shanghai）理解"
        elif kind == "choice":
            schema = {"type": "string", "enum": [c for c, _ in self.choices]}
            text += "：" + "、".join(f"`{c}` {n}" for c, n in self.choices)
        elif kind == "integer":
            schema = {"type": "integer"}
        elif kind == "boolean":
            schema = {"type": "boolean"}
        elif kind == "ref":
            schema = {"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1}]}
            text += "。单位编号（整数）或单位代码（文本）"
        elif kind == "refs":
            schema = {"type": "array", "items": {"oneOf": [{"type": "integer"},
                                                           {"type": "string",
                                                            "minLength": 1}]}}
            text += "。单位编号（整数）或单位代码（文本）的列表"
        elif kind == "object":
            schema = {"type": "object"}
        else:
            raise AssertionError(kind)
        schema["description"] = text
        if self.example is not None:
            schema["examples"] = [self.example]
        return schema


def _ref(raw: Any, label: str) -> int | str:
    if isinstance(raw, bool):
        raise ValueError(f"{label}应为单位编号或单位代码")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    raise ValueError(f"{label}应为单位编号或单位代码")


def parse_datetime(value: str, label: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{label}不是时间（应为 2026-11-22T09:30:00+08:00 这样）") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def read(data: Any, fields: Sequence[Field], *, index: int | None = None,
         from_form: bool = False, ignore: Iterable[str] = ()) -> tuple[dict[str, Any],
                                                                        list[Problem]]:
    """The values given (absent ones left out, so that the action's defaults apply) and every
    problem: unknown fields, missing required ones, bad values."""
    if not isinstance(data, Mapping):
        return {}, [Problem("", "请求体应为 JSON 对象", index=index)]
    known = {f.name: f for f in fields}
    problems = [
        Problem(name, f"未知字段 {name!r}", index=index)
        for name in data if name not in known and name not in ignore
    ]
    values: dict[str, Any] = {}
    for f in fields:
        raw = data.get(f.name)
        if raw is None or (from_form and raw == "" and not f.required):
            if f.required:
                problems.append(Problem(f.name, f"请填写{f.label}", f.label, index))
            continue
        try:
            values[f.name] = f.parse(raw, from_form=from_form)
        except ValueError as exc:
            problems.append(Problem(f.name, str(exc), f.label, index))
    return values, problems


def require(data: Any, fields: Sequence[Field], **kwargs: Any) -> dict[str, Any]:
    values, problems = read(data, fields, **kwargs)
    if problems:
        raise BadRequest(problems)
    return values


# --- the bodies ------------------------------------------------------------------------------

EXPECTED_VERSION = Field(
    "expected_version", "您看到的版本号", "integer",
    description="可选。给出时，工单若已被他人改动（版本号不同）则不执行并答复 409",
    example=3)
NOTE = Field("note", "说明", "string", max_length=2000)

ORDER_FIELDS: list[Field] = [
    Field("external_id", "来源编号", "string", max_length=64,
          description="来源平台的工单编号。同一渠道下同一来源编号只建一张工单：重复提交答复已有工单"
                      "（200）。对接系统必填",
          example="12345-20261122-0001"),
    Field("channel", "渠道", "string", max_length=30,
          description="渠道代码，如 12345、110。对接系统不填时为其默认渠道；民警提交时必填",
          example="12345"),
    Field("order_type", "工单类型", "string", required=True, max_length=30,
          description="工单类型代码（后台“工单类型”中的代码）", example="noise"),
    Field("demand_kind", "诉求类型", "choice", required=True,
          choices=tuple(DemandKind.choices)),
    Field("title", "标题", "string", required=True, max_length=200, example="楼上装修噪音扰民"),
    Field("content", "诉求内容", "string", max_length=10000),
    Field("citizen_name", "群众姓名", "string", max_length=50,
          description="加密保存，接口只答复脱敏后的姓名"),
    Field("citizen_phone", "联系电话", "string", max_length=30,
          description="手机、带区号的固话或本地号码；加密保存", example="13812345678"),
    Field("citizen_address", "群众住址", "string", max_length=300, description="加密保存"),
    Field("area", "所属区域", "string", max_length=20,
          description="乡镇（街道）或村（社区）的区划代码，须属于本局辖区"),
    Field("location", "事发地址", "string", max_length=300),
    Field("is_leader_assigned", "领导批示交办", "boolean"),
    Field("leader_instruction", "领导批示", "string", max_length=2000,
          description="领导批示交办的工单必填"),
    Field("received_at", "接单时间", "datetime", description="不填为收到请求的时间"),
    Field("bureau", "所属公安局", "ref",
          description="仅民警提交时可用：不填为本人所在的公安局。对接系统的工单一律归属其所属公安局"),
    Field("source_data", "来源原始数据", "object", description="来源平台的原始记录，原样保存备查"),
]
MAX_BATCH = 500

ACTION_FIELDS: dict[str, list[Field]] = {
    "dispatch": [
        Field("lead_unit", "承办单位", "ref", required=True, example=12),
        Field("co_units", "协办单位", "refs"),
        Field("note", "转办意见", "string", max_length=2000),
    ],
    "sign": [],
    "contact": [
        Field("method", "联系方式", "choice", required=True,
              choices=(("phone", "电话联系"), ("visit", "见面沟通"))),
        Field("note", "联系情况", "string", max_length=2000),
        Field("at", "联系时间", "datetime", description="不填为现在"),
    ],
    "report": [
        Field("result", "办理结果", "string", required=True, max_length=10000),
        Field("measures", "采取措施", "string", max_length=10000),
        Field("resolved", "诉求已解决", "boolean", description="不填为 true"),
    ],
    "request-return": [Field("reason", "退单理由", "string", required=True, max_length=2000)],
    "decide-return": [
        Field("approve", "是否同意退单", "boolean", required=True),
        Field("note", "审批意见", "string", max_length=2000, description="不同意时必填"),
    ],
    "review": [
        Field("passed", "审核是否通过", "boolean", required=True),
        Field("reason", "审核意见", "string", max_length=2000, description="退回时必填"),
    ],
    "feed-back": [NOTE],
    "callback": [
        Field("outcome", "回访结果", "choice", required=True,
              choices=tuple(CallbackOutcome.choices)),
        Field("note", "回访情况", "string", max_length=2000),
    ],
    "close": [Field("note", "办结说明", "string", max_length=2000,
                    description="群众不满意仍办结的必填")],
    "redo": [
        Field("reason", "重办理由", "string", required=True, max_length=2000),
        Field("lead_unit", "重办承办单位", "ref", description="不填为原承办单位"),
    ],
    "invalid": [Field("reason", "无效原因", "string", required=True, max_length=2000)],
}
# Multipart form field that carries the report's files (may be repeated).
ATTACHMENTS_FIELD = "attachments"
