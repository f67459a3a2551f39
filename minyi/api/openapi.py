"""The OpenAPI 3.1 document of /api/v1/, built from the same field lists the views read
(`inputs`), so the request bodies it describes are the ones accepted. The responses are
described here by hand; the tests validate real answers against them, and check that every
route of `api.urls` is in the document and every path of the document is routed."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from functools import lru_cache
from typing import Any

from minyi.api.inputs import (
    ACTION_FIELDS,
    ATTACHMENTS_FIELD,
    EXPECTED_VERSION,
    MAX_BATCH,
    ORDER_FIELDS,
    Field,
)
from minyi.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from minyi.api.serializers import API_ACTIONS
from minyi.intake.models import FeedbackDelivery
from minyi.orders.rules import TRANSITION_LABELS, CallbackOutcome, DemandKind, State
from minyi.orders.selectors import OrderFilter

VERSION = "1.0.0"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]}


def obj(properties: dict[str, Any], description: str = "",
        required: list[str] | None = None) -> dict[str, Any]:
    """A closed object: every property listed, and (unless said otherwise) always present.
    Closed so that a field added to a serializer but not here fails the schema tests."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def s(description: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra} if description else {
        "type": "string", **extra}


TIME = {"type": "string", "format": "date-time"}
N_TIME = nullable(TIME)
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STATE = {"type": "string", "enum": State.values,
         "description": "、".join(f"`{v}` {n}" for v, n in State.choices)}
ACTION_NAMES = {"type": "string", "enum": list(API_ACTIONS)}


def _input_schema(fields: list[Field], description: str) -> dict[str, Any]:
    return obj({f.name: f.schema() for f in fields}, description,
               required=[f.name for f in fields if f.required])


def _action_schema_name(action: str) -> str:
    return "".join(part.title() for part in action.split("-")) + "Input"


def schemas() -> dict[str, Any]:
    unit = obj({"id": INT, "code": s("单位代码"), "name": s("单位名称")}, "单位")
    summary_props: dict[str, Any] = {
        "id": {**INT, "description": "工单编号（接口中用它指代工单）"},
        "number": s("工单号：接单日期加流水号，供人阅读"),
        "url": s("本工单在接口中的地址"),
        "external_id": s("来源编号；无则为空串"),
        "channel": obj({"code": s(), "name": s()}, "渠道"),
        "order_type": obj({"code": s(), "name": s()}, "工单类型"),
        "demand_kind": {"type": "string", "enum": DemandKind.values},
        "demand_kind_label": s("诉求类型（中文）"),
        "title": s("标题"),
        "state": STATE,
        "state_label": s("状态（中文）"),
        "version": {**INT, "description": "版本号，每次办理加一；可作 expected_version 提交"},
        "is_leader_assigned": BOOL,
        "lead_unit": nullable(ref("Unit")),
        "area": nullable(ref("Area")),
        "citizen": obj({"name": s("脱敏姓名，如 刘**"), "phone": s("脱敏电话，如 138****5678")},
                       "群众信息（脱敏）"),
        "received_at": TIME,
        "contact_due_at": {**N_TIME, "description": "联系时限"},
        "handling_due_at": {**N_TIME, "description": "办理时限"},
        "overdue": {**BOOL, "description": "承办单位办理中且已过办理时限"},
    }
    detail_props = {
        **summary_props,
        "bureau": ref("Unit"),
        "content": s("诉求内容"),
        "citizen": obj({"name": s("脱敏姓名"), "phone": s("脱敏电话"),
                        "address": s("脱敏住址")}, "群众信息（脱敏）"),
        "location": s("事发地址"),
        "leader_instruction": s("领导批示"),
        "created_via": {"type": "string", "enum": ["form", "api", "import"]},
        "order_type": obj({"code": s(), "name": s(), "business_class": s("业务类别")},
                          "工单类型"),
        **{name: N_TIME for name in ("dispatched_at", "signed_at", "contacted_at",
                                     "reported_at", "reviewed_at", "fed_back_at",
                                     "closed_at", "handled_at", "paused_at")},
        "on_time": {"type": ["boolean", "null"],
                    "description": "按时办结：办理完成不晚于办理时限；未完成或无时限为 null"},
        "callback": obj({
            "outcome": {"type": "string", "enum": ["", *CallbackOutcome.values]},
            "outcome_label": s(), "at": N_TIME, "note": s(),
        }, "回访结果"),
        "close_note": s("办结说明"),
        "invalid_reason": s("无效原因"),
        "redo_count": INT, "sendback_count": INT, "return_count": INT,
        "available_actions": {"type": "array", "items": ACTION_NAMES,
                              "description": "按当前状态可进行的操作（是否有权限另行检查）"},
        "assignments": {"type": "array", "items": ref("Assignment")},
        "reports": {"type": "array", "items": ref("Report")},
        "return_requests": {"type": "array", "items": ref("ReturnRequest")},
        "timeline": {"type": "array", "items": ref("Event"),
                     "description": "全部操作记录，仅当 include=timeline 时答复"},
    }
    order = obj(detail_props, "工单详情", required=[k for k in detail_props if k != "timeline"])
    result: dict[str, Any] = {
        "Unit": unit,
        "Area": obj({"id": INT, "code": s("区划代码"), "name": s()}, "区域"),
        "OrderSummary": obj(summary_props, "工单列表中的一行"),
        "Order": order,
        "OrderList": obj({
            "results": {"type": "array", "items": ref("OrderSummary")},
            "next_cursor": nullable(s("下一页的游标，原样放入 cursor 参数；没有下一页时为 null")),
        }, "一页工单"),
        "OrderInput": _input_schema(ORDER_FIELDS, "提交一张工单"),
        "BatchResult": obj({"results": {"type": "array", "items": obj({
            "index": {**INT, "description": "在提交列表中的位置（从 0 起）"},
            "created": {**BOOL, "description": "true 为新建；false 为此前已提交过的同一工单"},
            "order": ref("OrderSummary"),
        })}}, "批量提交的结果，顺序同提交"),
        "Assignment": obj({
            "unit": ref("Unit"), "is_lead": {**BOOL, "description": "主办（否则协办）"},
            "dispatched_at": TIME, "note": s("转办意见"),
            "contact_due_at": N_TIME, "handling_due_at": N_TIME, "ended_at": N_TIME,
            "end_reason": {"type": "string", "enum": ["", "returned", "redone", "finished",
                                                      "invalid"]},
        }, "转办记录"),
        "Report": obj({
            "id": INT, "unit": ref("Unit"), "result": s("办理结果"), "measures": s("采取措施"),
            "resolved": BOOL, "created_at": TIME,
            "decision": {"type": "string", "enum": ["", "passed", "sent_back"]},
            "review_reason": s(), "reviewed_at": N_TIME,
            "attachments": {"type": "array", "items": obj({
                "name": s(), "size": INT, "content_type": s()})},
        }, "办理报告与审核"),
        "ReturnRequest": obj({
            "unit": ref("Unit"), "reason": s("退单理由"), "created_at": TIME,
            "decision": {"type": "string", "enum": ["", "approved", "rejected"]},
            "decided_at": N_TIME, "decision_note": s(),
        }, "退单申请"),
        "Event": obj({
            "id": INT, "at": TIME, "actor": s("操作人"), "action": s("动作代码"),
            "action_label": s("动作（中文）"), "from_state": s(), "to_state": s(),
            "payload": {"type": "object", "description": "附加信息"},
        }, "一条操作记录"),
        "Feedback": obj({
            "id": INT,
            "order": obj({"id": INT, "number": s(), "external_id": s(), "title": s(),
                          "url": s()}),
            "client": obj({"id": INT, "name": s()}, "对接系统"),
            "status": {"type": "string", "enum": FeedbackDelivery.Status.values},
            "status_label": s(),
            "attempts": {**INT, "description": "已尝试次数"},
            "last_error": s("最近一次失败的原因"),
            "next_attempt_at": {**TIME, "description": "下次尝试时间"},
            "delivered_at": N_TIME, "created_at": TIME,
            "payload": {"type": "object", "description": "推送给来源平台的内容（见 webhook 说明）"},
        }, "一条反馈推送"),
        "FeedbackList": obj({
            "results": {"type": "array", "items": ref("Feedback")},
            "next_cursor": nullable(s("下一页的游标")),
        }),
        "Problem": obj({
            "field": s("出错的字段；整体问题为空串"), "label": s("字段的中文名"),
            "message": s("错在哪里（中文）"),
            "index": {**INT, "description": "批量提交时出错的那一条（从 0 起）"},
        }, "一处错误", required=["field", "label", "message"]),
        "Error": obj({
            "detail": s("说明（中文）"),
            "errors": {"type": "array", "items": ref("Problem"),
                       "description": "400 时逐字段列出全部问题"},
            "current": obj({"state": STATE, "version": INT}, "409 时工单的当前状态与版本"),
        }, "错误答复", required=["detail"]),
    }
    for action, action_fields in ACTION_FIELDS.items():
        result[_action_schema_name(action)] = _input_schema(
            [*action_fields, EXPECTED_VERSION], f"{TRANSITION_LABELS[API_ACTIONS[action]]}")
    result.update(callback_schemas())
    return result


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": ref("Error")}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


E400 = _error("请求有误：errors 逐字段列出全部问题，什么也没有写入")
E401 = _error("缺少访问令牌，或令牌无效、已过期、已撤销")
E403 = _error("岗位或单位无权进行此操作")
E404 = _error("没有找到，或无权查看（两者答复相同）")
E409 = _error("工单已被他人改动或状态不允许：detail 说明谁在何时做了什么，current 为当前状态与版本")

FILTER_PARAMS: dict[str, tuple[dict[str, Any], str]] = {
    "channel": ({"type": "string"}, "渠道代码，如 12345"),
    "order_type": ({"type": "string"}, "工单类型代码"),
    "demand_kind": ({"type": "string", "enum": DemandKind.values}, "诉求类型"),
    "state": ({"type": "string", "enum": State.values}, "工单状态"),
    "unit": ({"type": "integer"}, "承办单位编号（含其下级单位）"),
    "area": ({"type": "integer"}, "区域编号（含其下级区域）"),
    "received_from": ({"type": "string", "format": "date"}, "接单日期起（含），如 2026-11-01"),
    "received_to": ({"type": "string", "format": "date"}, "接单日期止（含）"),
    "overdue": ({"type": "boolean"}, "只看已超过办理时限、仍在承办单位手中的工单"),
    "q": ({"type": "string"}, "标题包含的文字，或完整的来源编号"),
    "handling": ({"type": "string", "enum": ["on_time", "late"]},
                 "已办结的工单中按时（不晚于办理时限，或无时限）或超时办结的"),
    "contact": ({"type": "string", "enum": ["on_time", "late", "none"]},
                "在联系时限内联系群众的、超时联系的、有联系时限但尚未联系的"),
    "callback": ({"type": "string", "enum": CallbackOutcome.values}, "回访结果"),
    "repeat": ({"type": "boolean"}, "只看重复投诉"),
    "notice": ({"type": "boolean"}, "只看下发过督办单的工单"),
    "letter": ({"type": "boolean"}, "只看下发过提醒函的工单"),
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


PAGING = [
    _query("cursor", {"type": "string"}, "翻页游标：上一页答复中的 next_cursor"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                     "default": DEFAULT_LIMIT}, f"每页条数，最多 {MAX_LIMIT}"),
]
ORDER_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
            "description": "工单编号（答复中的 id）"}


def _action_operation(action: str) -> dict[str, Any]:
    transition = API_ACTIONS[action]
    schema = ref(_action_schema_name(action))
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    description = (f"对工单进行「{TRANSITION_LABELS[transition]}」，以调用者本人的身份："
                   "岗位与单位由系统检查。答复办理后的工单。")
    if action == "report":
        fields = ACTION_FIELDS["report"]
        content["multipart/form-data"] = {"schema": obj({
            **{f.name: f.schema() for f in [*fields, EXPECTED_VERSION]},
            ATTACHMENTS_FIELD: {"type": "array", "description": "附件，可多个（每个不超过 20MB）",
                                "items": {"type": "string",
                                          "contentMediaType": "application/octet-stream"}},
        }, required=[f.name for f in fields if f.required])}
        description += "带附件时用 multipart/form-data，字段同 JSON，文件放在 attachments。"
    return {
        "operationId": f"order_{transition}",
        "tags": ["办理"],
        "summary": TRANSITION_LABELS[transition],
        "description": description,
        "parameters": [ORDER_ID],
        "requestBody": {"required": False, "content": content},
        "responses": {"200": _json(ref("Order"), "办理后的工单"), "400": E400, "401": E401,
                      "403": E403, "404": E404, "409": E409},
    }


def paths() -> dict[str, Any]:
    filters = []
    for f in dataclass_fields(OrderFilter):
        schema, description = FILTER_PARAMS[f.name]  # KeyError: a new filter needs its docs
        filters.append(_query(f.name, schema, description))
    result: dict[str, Any] = {
        "/orders": {
            "get": {
                "operationId": "list_orders",
                "tags": ["工单"],
                "summary": "工单列表",
                "description": "按接单时间从新到旧，游标翻页：每页的代价与总数无关，不计总数。"
                               "对接系统只看到本系统提交的工单；民警看到本人单位范围内的工单，"
                               "与网页相同。未知的参数答复 400。",
                "parameters": [*filters, *PAGING],
                "responses": {"200": _json(ref("OrderList"), "一页工单"), "400": E400,
                              "401": E401, "404": _error("unit 所指的单位不存在或无权查看")},
            },
            "post": {
                "operationId": "create_orders",
                "tags": ["工单"],
                "summary": "提交工单（一张或一批）",
                "description": (
                    "请求体为一张工单（对象），或一批工单（数组，最多 "
                    f"{MAX_BATCH} 张）。同一渠道下同一来源编号只建一张：重复提交答复已有的工单，"
                    "不重复建单。有任何一处错误时答复 400，逐条逐字段列出全部问题，一张也不录入。"
                    "对接系统的工单归属其所属公安局，不填 channel 时为其默认渠道；民警提交须为"
                    "指挥中心调度员。"),
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "oneOf": [ref("OrderInput"),
                              {"type": "array", "items": ref("OrderInput"), "minItems": 1,
                               "maxItems": MAX_BATCH}]}}}},
                "responses": {
                    "201": {**_json({"oneOf": [ref("Order"), ref("BatchResult")]},
                                    "已新建（批量时至少新建了一张）：单张答复工单详情，批量答复每一张的结果"),
                            "headers": {"Location": {"schema": {"type": "string"},
                                                     "description": "单张新建时为工单地址"}}},
                    "200": _json({"oneOf": [ref("Order"), ref("BatchResult")]},
                                 "此前已提交过（批量时全部都已提交过）：答复已有的工单"),
                    "400": E400, "401": E401, "403": E403,
                },
            },
        },
        "/orders/{id}": {
            "get": {
                "operationId": "get_order",
                "tags": ["工单"],
                "summary": "工单详情",
                "description": "群众信息脱敏；含时限、转办记录、办理报告与退单申请。",
                "parameters": [ORDER_ID, _query(
                    "include", {"type": "string", "enum": ["timeline"]},
                    "timeline：附带全部操作记录")],
                "responses": {"200": _json(ref("Order"), "工单"), "400": E400, "401": E401,
                              "404": E404},
            },
        },
        "/feedback": {
            "get": {
                "operationId": "list_feedback",
                "tags": ["反馈"],
                "summary": "反馈推送情况",
                "description": "办结结果推送给来源平台的情况，默认列出尚未送达的。"
                               "对接系统看到推送给本系统的；民警须为指挥中心调度员。",
                "parameters": [_query("status", {"type": "string",
                                                 "enum": FeedbackDelivery.Status.values,
                                                 "default": "pending"},
                                      "pending 待发送、delivered 已送达、given_up 已放弃"),
                               *PAGING],
                "responses": {"200": _json(ref("FeedbackList"), "一页推送记录"), "400": E400,
                              "401": E401, "403": E403},
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi", "tags": ["文档"], "summary": "本文档（OpenAPI 3.1）",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "OpenAPI 文档")},
            },
        },
        "/docs": {
            "get": {
                "operationId": "docs", "tags": ["文档"], "summary": "本文档的网页版",
                "security": [],
                "responses": {"200": {"description": "HTML 页面",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}},
            },
        },
    }
    for action in API_ACTIONS:
        result[f"/orders/{{id}}/{action}"] = {"post": _action_operation(action)}
    result.update(callback_paths())
    return result


# --- callbacks ----------------------------------------------------------------------------------


def _enum(choices: Any, description: str = "") -> dict[str, Any]:
    text = "、".join(f"`{v}` {n}" for v, n in choices.choices)
    return {"type": "string", "enum": choices.values,
            "description": f"{description}：{text}" if description else text}


def callback_schemas() -> dict[str, Any]:
    from minyi.callbacks import aapor
    from minyi.callbacks import figures as fig
    from minyi.callbacks.models import Answer, CallbackTask, Caller, Reason, Satisfaction, Source

    number = {"type": ["number", "null"]}
    answer_props: dict[str, Any] = {
        "via": _enum(Answer.Via, "回答方式"), "via_label": s(),
        "satisfaction": _enum(Satisfaction, "满意度"), "satisfaction_label": s(),
        "reasons": {"type": "array", "items": _enum(Reason), "description": "不满意原因"},
        "reason_labels": {"type": "array", "items": s()},
        "comment": s("意见建议（群众原话）"), "answered_at": TIME,
    }
    task_props: dict[str, Any] = {
        "id": {**INT, "description": "回访任务编号"},
        "url": s("本任务在接口中的地址"),
        "kind": _enum(CallbackTask.Kind, "类别"), "kind_label": s(),
        "state": _enum(CallbackTask.State, "状态"), "state_label": s(),
        "caller": _enum(Caller, "回访主体"), "caller_label": s(),
        "bureau": ref("Unit"), "unit": {**ref("Unit"), "description": "被评价单位"},
        "contact": obj({
            "source": _enum(Source, "来源"), "source_label": s(),
            "record_type": s("业务类型"), "name": s("脱敏姓名"),
            "phone": s("脱敏电话，如 138****5678"), "occurred_at": TIME,
            "order_id": nullable({**INT, "description": "来自工单时为工单编号"}),
        }, "回访对象（脱敏）"),
        "parent_id": nullable({**INT, "description": "抽测或再回访所针对的原任务"}),
        "due_at": TIME, "next_attempt_at": N_TIME,
        "attempts": {**INT, "description": "已拨打次数"},
        "outcome": {"type": "string", "enum": ["", *aapor.CLASSES],
                    "description": "最后一次拨打（或回答）的 AAPOR 结果类别"},
        "closed_at": N_TIME,
        "satisfaction": nullable(_enum(Satisfaction, "已回答时的满意度")),
        "version": INT,
    }
    detail_props = {
        **task_props,
        "calls": {"type": "array", "description": "每次拨打", "items": obj({
            "number": INT, "at": TIME, "disposition": s("结果代码"), "disposition_label": s(),
            "outcome": {"type": "string", "enum": list(aapor.CLASSES)}, "note": s(),
        })},
        "answer": nullable(ref("CallbackAnswerBody")),
    }
    counts = obj({k: {**INT, "description": v} for k, v in fig.COUNT_LABELS.items()}, "计数")
    row = obj({
        "key": s("分组的值：单位编号、来源、回访主体、2026-11 或 2026-11-03；合计为 total"),
        "label": s("分组名称"),
        "unit": nullable(ref("Unit")),
        "counts": counts,
        "outcomes": obj({c: {**INT, "description": aapor.CLASS_LABELS[c]}
                         for c in aapor.CLASSES}, "已结束任务的 AAPOR 结果类别计数"),
        "e": {**number, "description": "本行所用的 e；无法估计时为 null"},
        "rates": obj({name: {**number, "description": f"{aapor.RATE_LABELS[name]} "
                                                     f"{aapor.FORMULAS[name]}（0–1）"}
                      for name in aapor.RATES}, "AAPOR 比率；分母为 0 时为 null"),
        "satisfaction_rate": {**number, "description": "按所选口径的满意率（0–1）"},
    }, "一行统计")
    text_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "CallbackAnswerBody": obj(answer_props, "回答"),
        "CallbackTask": obj(task_props, "回访任务列表中的一行"),
        "CallbackTaskDetail": obj(detail_props, "回访任务详情：含每次拨打和回答"),
        "CallbackTaskList": obj({
            "results": {"type": "array", "items": ref("CallbackTask")},
            "next_cursor": nullable(s("下一页的游标")),
        }, "一页回访任务"),
        "CallbackAnswer": obj({
            "id": INT,
            "task": obj({"id": INT, "url": s(), "kind": _enum(CallbackTask.Kind),
                         "caller": _enum(Caller)}, "所属回访任务"),
            "unit": ref("Unit"),
            **answer_props,
        }, "一条回答"),
        "CallbackAnswerList": obj({
            "results": {"type": "array", "items": ref("CallbackAnswer")},
            "next_cursor": nullable(s("下一页的游标")),
        }, "一页回答"),
        "CallbackFigureRow": row,
        "CallbackFigures": obj({
            "period": obj({"date_from": {"type": "string", "format": "date"},
                           "date_to": {"type": "string", "format": "date"},
                           "by_due_date": {**BOOL, "description": "按应回访日期归入统计期"}},
                          "统计期（起止均含）"),
            "by": {"type": "string", "enum": list(fig.GROUPINGS)},
            "by_label": s(),
            "kind": _enum(CallbackTask.Kind),
            "unit": nullable(ref("Unit")),
            "computed_at": TIME,
            "definitions": obj({
                "satisfaction": obj({
                    "id": s("口径及版本，如 callbacks.satisfaction/0.9"),
                    "name": s("口径名称"), "version": s("版本"),
                    "basically_satisfied_weight": {"type": "number",
                                                   "description": "基本满意计入的权重"},
                    "formula": s("满意率公式"),
                }, "满意率口径"),
                "aapor": obj({
                    "edition": s("AAPOR 标准定义的版本"),
                    "formulas": {**text_map, "description": "各比率的公式"},
                    "labels": {**text_map, "description": "各比率的中文名"},
                    "classes": {**text_map, "description": "结果类别的中文名"},
                    "e": obj({"method": s("given（指定）或比例分配法"), "label": s(),
                              "value": {**number, "description": "指定的 e；按行估计时为 null"}},
                             "e：资格不明者中估计合格的比例"),
                }, "AAPOR 比率的定义"),
                "counting": {**text_map,
                             "description": "统计期、任务类别、结果归类、整改的计数规则"},
            }, "本次统计所用的全部口径"),
            "rows": {"type": "array", "items": ref("CallbackFigureRow")},
            "total": ref("CallbackFigureRow"),
        }, "回访统计"),
    }


TASK_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
           "description": "回访任务编号（答复中的 id）"}
CALLBACK_SCOPE = ("民警看到的范围与回访统计相同：局领导、督察、民意访查中心、指挥中心等全局岗位"
                  "看到本局的，"
                  "其他民警看到本单位及下级单位的；对接系统只看到本系统所提交工单的回访。"
                  "看不到的答复 404。群众信息一律脱敏。")


def callback_paths() -> dict[str, Any]:
    from minyi.callbacks import figures as fig
    from minyi.callbacks import rules
    from minyi.callbacks.models import Answer, CallbackTask, Satisfaction

    date_schema = {"type": "string", "format": "date"}
    unit = _query("unit", {"type": "integer"}, "单位编号（含其下级单位）")
    kind = _query("kind", {"type": "string", "enum": CallbackTask.Kind.values}, "任务类别")
    return {
        "/callbacks/tasks": {"get": {
            "operationId": "list_callback_tasks", "tags": ["回访"], "summary": "回访任务列表",
            "description": ("按应回访时间从新到旧，游标翻页。" + CALLBACK_SCOPE
                            + "未知的参数答复 400。"),
            "parameters": [
                unit,
                _query("state", {"type": "string", "enum": CallbackTask.State.values}, "状态"),
                kind,
                _query("due_from", date_schema, "应回访日期起（含），如 2026-11-01"),
                _query("due_to", date_schema, "应回访日期止（含）"),
                *PAGING],
            "responses": {"200": _json(ref("CallbackTaskList"), "一页回访任务"), "400": E400,
                          "401": E401, "404": _error("unit 所指的单位不存在或无权查看")},
        }},
        "/callbacks/tasks/{id}": {"get": {
            "operationId": "get_callback_task", "tags": ["回访"], "summary": "回访任务详情",
            "description": "含每次拨打的结果及其 AAPOR 类别、群众的回答；电话只给脱敏号码。"
                           + CALLBACK_SCOPE,
            "parameters": [TASK_ID],
            "responses": {"200": _json(ref("CallbackTaskDetail"), "回访任务"), "400": E400,
                          "401": E401, "404": E404},
        }},
        "/callbacks/answers": {"get": {
            "operationId": "list_callback_answers", "tags": ["回访"], "summary": "回访回答列表",
            "description": "按回答时间从新到旧，游标翻页。" + CALLBACK_SCOPE,
            "parameters": [
                unit, kind,
                _query("satisfaction", {"type": "string", "enum": Satisfaction.values},
                       "满意度"),
                _query("via", {"type": "string", "enum": Answer.Via.values}, "回答方式"),
                _query("answered_from", date_schema, "回答日期起（含）"),
                _query("answered_to", date_schema, "回答日期止（含）"),
                *PAGING],
            "responses": {"200": _json(ref("CallbackAnswerList"), "一页回答"), "400": E400,
                          "401": E401, "404": _error("unit 所指的单位不存在或无权查看")},
        }},
        "/callbacks/figures": {"get": {
            "operationId": "callback_figures", "tags": ["回访"], "summary": "回访统计",
            "description": "与网页「回访统计」相同：按单位、来源、回访主体、月或日统计抽取、拨打、"
                           "获得回答、满意度及满意率、AAPOR 结果类别与 RR1–RR6、COOP1–COOP4、"
                           "REF1–REF3、CON1–CON3，以及整改未销号和逾期数；definitions 给出所用的"
                           "全部口径和版本。任务按应回访日期归入统计期。" + CALLBACK_SCOPE,
            "parameters": [
                _query("date_from", date_schema, "起始日期（含），默认本月 1 日"),
                _query("date_to", date_schema, "截止日期（含），默认今天"),
                _query("by", {"type": "string", "enum": list(fig.GROUPINGS),
                              "default": "unit"},
                       "分组：" + "、".join(f"{k} {v}" for k, v in fig.GROUPINGS.items())),
                kind,
                _query("definition", {"type": "string", "enum": list(rules.DEFINITIONS),
                                      "default": rules.DEFAULT_DEFINITION},
                       "满意率口径：基本满意计 1、0.9 或 0.5"),
                unit,
                _query("e", {"type": "number", "minimum": 0, "maximum": 1},
                       "资格不明者中合格的比例；不填时每行按比例分配法估计"),
            ],
            "responses": {"200": _json(ref("CallbackFigures"), "统计结果"), "400": E400,
                          "401": E401, "404": _error("unit 所指的单位不存在或无权查看")},
        }},
    }


DESCRIPTION = """民意平台的对接接口：12345 热线、110 等来源平台提交工单并接收办理结果；
民警的应用办理工单。

**身份。** 请求头 `Authorization: Bearer <访问令牌>`。

- 对接系统的令牌（`mic_` 开头，由管理员用 `minyi intake create-client` 生成，只显示一次）：
  可提交工单、查询本系统提交的工单、查看推送给本系统的反馈；不能办理工单。
- 民警本人的令牌（`miu_` 开头，由管理员用 `minyi apitoken create` 生成）：以本人身份办理，
  可见范围与岗位权限与网页完全相同，看不到的工单答复 404。
- 已登录网页的会话也可调用；此时写操作须带 CSRF 令牌（请求头 `X-CSRFToken`）。

缺少或错误的令牌答复 401。错误答复都是 `{"detail": "…", "errors": […]}`，说明为中文。

**并发。** 办理操作可带 `expected_version`（答复中的 `version`）：工单在此期间已被他人改动时
答复 409，说明谁在何时做了什么，不会覆盖他人的办理。

**反馈推送（webhook）。** 工单反馈后，平台向对接系统配置的反馈地址 POST 一份 JSON（工单号、
来源编号、渠道、状态、承办单位、办理结果、采取措施、办理完成时间、反馈时间）。请求头
`X-Minyi-Signature` 为以反馈签名密钥对请求体做的 HMAC-SHA256（十六进制），
`X-Minyi-Delivery` 为推送编号（同一推送重试时不变，可用于去重）。答复 2xx 视为送达；
否则按 1、2、4、8…分钟（最长 6 小时）的间隔重试，直到送达。

**时间。** ISO 8601；答复为北京时间并带时区，提交时不带时区的按北京时间理解。"""


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole document. Cached: it depends only on the code (and the state and choice
    lists, which are code too)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "民意 Minyi 接口", "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "工单", "description": "提交、查询工单"},
            {"name": "办理",
             "description": "工单的每一步办理（转办、签收…办结），以调用者本人身份"},
            {"name": "反馈", "description": "办理结果推送给来源平台的情况"},
            {"name": "回访", "description": "回访任务、回答与回访统计（只读）"},
            {"name": "文档", "description": "本文档"},
        ],
        "security": [{"bearerToken": []}, {"session": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "对接系统令牌（mic_…）或民警本人令牌（miu_…）"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid",
                            "description": "已登录网页的会话；写操作须带 X-CSRFToken"},
            },
            "schemas": schemas(),
        },
    }


# --- the docs page ------------------------------------------------------------------------------


def type_text(schema: dict[str, Any]) -> str:
    """A schema in a few words for the docs page: `string`, `Order`, `array<Unit>`, …"""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " | ".join(type_text(s) for s in schema[key])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind == "array":
        return f"array<{type_text(schema.get('items', {}))}>"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return kind


def _refs(schema: Any) -> list[str]:
    """The component schemas a schema names, in order, once each."""
    found: list[str] = []
    if isinstance(schema, dict):
        if "$ref" in schema:
            found.append(schema["$ref"].rsplit("/", 1)[-1])
        for value in schema.values():
            found.extend(n for n in _refs(value) if n not in found)
    elif isinstance(schema, list):
        for value in schema:
            found.extend(n for n in _refs(value) if n not in found)
    return list(dict.fromkeys(found))


def _rows(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {"name": name, "type": type_text(prop), "required": name in required,
         "description": prop.get("description", ""),
         "enum": prop.get("enum") or prop.get("items", {}).get("enum")}
        for name, prop in schema.get("properties", {}).items()
    ]


def docs_context(doc: dict[str, Any]) -> dict[str, Any]:
    """The document flattened for a plain HTML page (no script, nothing from outside)."""
    operations = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            bodies = []
            for content_type, media in op.get("requestBody", {}).get("content", {}).items():
                schema = media["schema"]
                bodies.append({"content_type": content_type, "type": type_text(schema),
                               "rows": _rows(schema), "links": _refs(schema)})
            operations.append({
                "anchor": op["operationId"], "method": method.upper(), "path": path,
                "summary": op.get("summary", ""), "description": op.get("description", ""),
                "tag": op.get("tags", [""])[0], "public": op.get("security") == [],
                "parameters": [{"name": p["name"], "in": p["in"], "required": p["required"],
                                "type": type_text(p["schema"]),
                                "enum": p["schema"].get("enum"),
                                "description": p.get("description", "")}
                               for p in op.get("parameters", [])],
                "bodies": bodies,
                "responses": [{"status": status, "description": r["description"],
                               "types": [type_text(m["schema"])
                                         for m in r.get("content", {}).values()],
                               "links": _refs(r.get("content", {}))}
                              for status, r in op["responses"].items()],
            })
    components = [{"name": name, "description": schema.get("description", ""),
                   "type": type_text(schema), "rows": _rows(schema)}
                  for name, schema in doc["components"]["schemas"].items()]
    from django.utils.safestring import mark_safe

    return {"doc": doc, "info": doc["info"], "operations": operations,
            "description_html": mark_safe(markdown_lite(doc["info"]["description"])),
            "components": components, "tags": doc["tags"]}


def markdown_lite(text: str) -> str:
    """The little Markdown the descriptions use (paragraphs, `- ` lists, **bold**, `code`) as
    HTML, escaped first, so the docs page needs no Markdown library and no script."""
    import re

    from django.utils.html import escape

    html: list[str] = []
    for block in text.strip().split("\n\n"):
        lines = [escape(line) for line in block.splitlines()]
        lines = [re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", line) for line in lines]
        lines = [re.sub(r"`(.+?)`", r"<code>\1</code>", line) for line in lines]
        items: list[str] = []
        para: list[str] = []
        for line in lines:
            if line.startswith("- "):
                items.append(line[2:])
            elif items and line.startswith("  "):
                items[-1] += line.strip()
            else:
                para.append(line.strip())
        if para:
            html.append("<p>" + "".join(para) + "</p>")
        if items:
            html.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    return "\n".join(html)
