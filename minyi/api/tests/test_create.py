"""POST /orders: idempotent on channel + external id, every problem reported, nothing written
on a bad request."""

import pytest

from minyi.core.models import Event
from minyi.intake.models import Channel
from minyi.orders.models import Order
from minyi.orders.rules import CreatedVia

pytestmark = pytest.mark.django_db


def test_a_client_creates_an_order_in_its_bureau_and_channel(integration, api_as, order_input,
                                                             bureau):
    response = api_as(integration).post("/orders", order_input)
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/orders/{body['id']}"
    order = Order.objects.get(pk=body["id"])
    assert order.bureau == bureau.bureau and order.channel.code == "12345"
    assert order.source_client == integration and order.created_via == CreatedVia.API
    assert order.received_by is None  # the system received it, not a person
    # Personal data is kept encrypted and answered masked.
    assert order.citizen_phone == "13812345678"
    assert body["citizen"] == {"name": "刘**", "phone": "138****5678",
                               "address": "东城镇东城村****"}
    assert "13812345678" not in response.content.decode()
    assert body["state"] == "received" and body["version"] == 1
    assert Event.objects.filter(action="order.receive", object_id=str(order.pk)).count() == 1


def test_the_same_external_id_twice_makes_one_order_201_then_200(integration, api_as,
                                                                  order_input):
    caller = api_as(integration)
    first = caller.post("/orders", order_input)
    again = caller.post("/orders", {**order_input, "title": "改过的标题"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["title"] == "楼上装修噪音扰民"  # the order as it is, not overwritten
    assert "Location" not in again
    assert Order.objects.count() == 1


def test_a_client_may_name_another_active_channel(integration, api_as, order_input):
    response = api_as(integration).post("/orders", {**order_input, "channel": "110"})
    assert response.status_code == 201
    assert response.json()["channel"]["code"] == "110"
    Channel.objects.filter(code="window").update(is_active=False)
    response = api_as(integration).post("/orders", {**order_input, "channel": "window",
                                                     "external_id": "w1"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "渠道「窗口服务评价」已停用"


def test_bad_fields_are_all_reported_in_chinese_and_nothing_is_written(integration, api_as,
                                                                        bureau):
    events = Event.objects.count()
    response = api_as(integration).post("/orders", {
        "order_type": "no-such-type",
        "demand_kind": "praise",
        "title": "",
        "citizen_phone": "12345",
        "area": bureau.other_township.code + "x",
        "is_leader_assigned": "yes",
        "received_at": "昨天",
        "channel": "fax",
        "colour": "red",
    })
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "工单内容有误，未录入任何工单"
    by_field = {e["field"]: e["message"] for e in body["errors"]}
    assert list(by_field)[:3] == ["colour", "external_id", "channel"]  # in the fields' order
    assert by_field == {
        "colour": "未知字段 'colour'",
        "external_id": "请填写来源编号：同一工单重复提交时凭它识别，不会重复建单",
        "order_type": "没有工单类型代码 'no-such-type'",
        "demand_kind": "诉求类型只能是 consultation（咨询）、help（求助）、complaint（投诉）、"
                       "report（举报）、suggestion（建议），而不是 'praise'",
        "title": "请填写标题",
        "citizen_phone": "联系电话格式不正确：12345",
        "area": f"没有区划代码 '{bureau.other_township.code}x'",
        "is_leader_assigned": "领导批示交办应为 true 或 false",
        "received_at": "接单时间不是时间（应为 2026-11-22T09:30:00+08:00 这样）",
        "channel": "没有渠道代码 'fax'",
    }
    labels = {e["field"]: e["label"] for e in body["errors"]}
    assert labels["title"] == "标题" and labels["citizen_phone"] == "联系电话"
    assert Order.objects.count() == 0 and Event.objects.count() == events


def test_rules_across_fields(integration, api_as, order_input, bureau):
    from minyi.orgs.tests.factories import AreaFactory, UnitFactory

    elsewhere = AreaFactory(station=UnitFactory(kind="station", name="外县派出所"))
    response = api_as(integration).post("/orders", {
        **order_input, "area": elsewhere.code, "is_leader_assigned": True,
        "received_at": "2999-01-01T00:00:00", "bureau": bureau.bureau.pk,
    })
    assert response.status_code == 400
    by_field = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert by_field == {
        "area": f"区域「{elsewhere.name}」不属于测试县公安局",
        "leader_instruction": "领导批示交办的工单请填写批示内容",
        "received_at": "接单时间不能晚于现在",
        "bureau": "对接系统提交的工单归属其所属公安局，不能指定 bureau",
    }


def test_not_json_and_not_an_object_are_400(integration, api_as, order_input):
    caller = api_as(integration)
    response = caller.client.post("/api/v1/orders", "{not json", content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {integration.token}")
    assert response.status_code == 400 and "JSON" in response.json()["errors"][0]["message"]
    response = caller.post("/orders", "a string")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "", "label": "", "message": "请求体应为 JSON 对象"}]
    response = caller.post("/orders", [order_input, 7])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "", "label": "", "message": "请求体应为 JSON 对象", "index": 1}]


def test_a_batch_is_all_or_nothing_with_every_bad_row_reported(integration, api_as, order_input):
    caller = api_as(integration)
    rows = [
        {**order_input, "external_id": "b1"},
        {**order_input, "external_id": "b2", "citizen_phone": "abc"},
        {**order_input, "external_id": "b1"},
        {**order_input, "external_id": "b4", "title": "", "demand_kind": "x"},
    ]
    response = caller.post("/orders", rows)
    assert response.status_code == 400
    errors = [(e["index"], e["field"]) for e in response.json()["errors"]]
    assert errors == [(1, "citizen_phone"), (2, "external_id"), (3, "demand_kind"),
                      (3, "title")]
    assert next(e["message"] for e in response.json()["errors"] if e["index"] == 2) == \
        "与第 1 条的来源编号重复"
    assert Order.objects.count() == 0

    good = [{**order_input, "external_id": f"g{i}"} for i in range(3)]
    response = caller.post("/orders", good)
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2] and all(r["created"] for r in results)
    # Sent again with one new row: the old ones are recognised, the new one made.
    response = caller.post("/orders", [*good, {**order_input, "external_id": "g3"}])
    assert response.status_code == 201
    assert [r["created"] for r in response.json()["results"]] == [False, False, False, True]
    response = caller.post("/orders", good)
    assert response.status_code == 200
    assert Order.objects.count() == 4


def test_a_batch_too_big_or_empty_is_refused(integration, api_as, order_input):
    from minyi.api.inputs import MAX_BATCH

    caller = api_as(integration)
    assert caller.post("/orders", []).status_code == 400
    response = caller.post("/orders", [order_input] * (MAX_BATCH + 1))
    assert response.status_code == 400 and "最多" in response.json()["errors"][0]["message"]


def test_an_existing_order_of_someone_else_is_not_shown(integration, api_as, order_input,
                                                         make_order):
    # The command centre entered it by hand (or imported it) before the platform sent it.
    make_order(external_id="12345-0001")
    response = api_as(integration).post("/orders", order_input)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "external_id" and "不是由本系统提交的" in error["message"]
    assert set(response.json()) == {"detail", "errors"}  # nothing of the order itself
    assert Order.objects.count() == 1


def test_a_dispatcher_creates_with_a_token_and_a_handler_may_not(dispatcher, handler, api_as,
                                                                  order_input, bureau):
    response = api_as(dispatcher).post("/orders", {**order_input, "channel": "12345",
                                                   "area": bureau.village.code})
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert order.received_by == dispatcher and order.source_client is None
    assert order.bureau == bureau.bureau and order.area == bureau.village
    # The dispatcher sees it and gets it back when sending it again.
    again = api_as(dispatcher).post("/orders", {**order_input, "channel": "12345"})
    assert again.status_code == 200 and again.json()["id"] == order.pk

    response = api_as(handler).post("/orders", {**order_input, "channel": "12345",
                                                "external_id": "h1"})
    assert response.status_code == 403
    assert response.json()["detail"] == "只有指挥中心调度员可以接单录入工单"


def test_an_officer_must_name_the_channel(dispatcher, api_as, order_input):
    response = api_as(dispatcher).post("/orders", order_input)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "channel", "label": "渠道", "message": "请填写渠道"}]


def test_received_at_without_offset_is_beijing_time(integration, api_as, order_input):
    response = api_as(integration).post("/orders", {**order_input,
                                                     "received_at": "2026-03-02T09:30:00"})
    assert response.status_code == 201
    assert response.json()["received_at"] == "2026-03-02T09:30:00+08:00"
