"""POST /orders/{id}/{action}: every transition as the calling officer, with the actions' rules:
403 for the wrong role or unit, 409 for a stale version or state, 400 for bad bodies."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from minyi.api.tests.conftest import BASE
from minyi.core.models import Event
from minyi.intake.models import FeedbackDelivery
from minyi.orders.models import Attachment, Order

pytestmark = pytest.mark.django_db


def test_the_whole_loop_through_the_api(integration, dispatcher, handler, opinion_officer,
                                        api_as, order_input, bureau):
    platform, centre, station = api_as(integration), api_as(dispatcher), api_as(handler)
    created = platform.post("/orders", order_input)
    assert created.status_code == 201
    pk = created.json()["id"]

    steps = [
        (centre, "dispatch", {"lead_unit": bureau.station.pk, "co_units": [bureau.team.code],
                              "note": "请东城所办理"}, "dispatched"),
        (station, "sign", {}, "signed"),
        (station, "contact", {"method": "phone", "note": "已电话联系"}, "signed"),
        (station, "report", {"result": "已责令停工并调解", "measures": "上门调解"}, "reported"),
        (centre, "review", {"passed": True}, "reviewed"),
        (centre, "feed-back", {"note": "已反馈"}, "fed_back"),
        (api_as(opinion_officer), "callback", {"outcome": "satisfied"}, "fed_back"),
        (centre, "close", {}, "closed"),
    ]
    version = 1
    for caller, action, body, state in steps:
        response = caller.post(f"/orders/{pk}/{action}", {**body, "expected_version": version})
        assert response.status_code == 200, (action, response.content)
        order = response.json()
        assert order["state"] == state, action
        assert order["version"] == version + 1
        version = order["version"]

    order = Order.objects.get(pk=pk)
    assert order.state == "closed" and order.callback_outcome == "satisfied"
    assert [a.unit for a in order.assignments.order_by("-is_lead", "id")] == [bureau.station,
                                                                              bureau.team]
    actors = dict(Event.objects.filter(object_id=str(pk), object_type="orders.order")
                  .values_list("action", "actor_id"))
    assert actors["order.receive"] is None  # the platform is the system, not a person
    assert actors["order.dispatch"] == dispatcher.pk and actors["order.sign"] == handler.pk
    # The platform has a webhook: feeding back queued its delivery, which it can see.
    delivery = FeedbackDelivery.objects.get(order=order)
    assert delivery.payload["external_id"] == "12345-0001"
    assert delivery.payload["result"] == "已责令停工并调解"
    listed = platform.get("/feedback").json()["results"]
    assert [d["id"] for d in listed] == [delivery.pk]
    assert centre.get("/feedback").json()["results"][0]["order"]["id"] == pk
    # And it reads the outcome of its order.
    assert platform.get(f"/orders/{pk}").json()["state"] == "closed"


def test_a_stale_version_is_409_with_who_did_what(make_order, handler, bureau, api_as):
    from minyi.orgs.models import Role

    colleague = bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="王同事")
    order = make_order("dispatched")
    seen = order.version
    assert api_as(colleague).post(f"/orders/{order.pk}/sign").status_code == 200
    response = api_as(handler).post(f"/orders/{order.pk}/contact",
                                    {"method": "phone", "expected_version": seen})
    assert response.status_code == 409
    body = response.json()
    assert "已被更新" in body["detail"] and "王同事" in body["detail"]
    assert body["current"] == {"state": "signed", "version": seen + 1}
    # Without expected_version, a transition the state no longer allows is a 409 too.
    response = api_as(handler).post(f"/orders/{order.pk}/sign")
    assert response.status_code == 409 and "不能签收" in response.json()["detail"]


def test_the_wrong_role_or_unit_is_403(make_order, handler, bureau, api_as, dispatcher):
    from minyi.orgs.models import Role

    order = make_order("received")
    response = api_as(handler).post(f"/orders/{order.pk}/dispatch",
                                    {"lead_unit": bureau.station.pk})
    # A handler does not see an undispatched order at all.
    assert response.status_code == 404
    order = make_order("dispatched")
    response = api_as(handler).post(f"/orders/{order.pk}/dispatch",
                                    {"lead_unit": bureau.station.pk})
    assert response.status_code == 409  # state first: it is dispatched already
    leader = bureau.member(Role.BUREAU_LEADER, bureau.bureau, full_name="王局长")
    response = api_as(leader).post(f"/orders/{order.pk}/sign")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("只有承办单位（东城派出所）的民警可以签收")


def test_bad_bodies_are_400_field_by_field(make_order, dispatcher, api_as):
    order = make_order()
    caller = api_as(dispatcher)
    response = caller.post(f"/orders/{order.pk}/dispatch",
                           {"co_units": "all", "expected_version": "1", "urgent": True})
    assert response.status_code == 400
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("urgent", "未知字段 'urgent'"),
        ("lead_unit", "请填写承办单位"),
        ("co_units", "协办单位应为列表"),
        ("expected_version", "您看到的版本号应为整数"),
    ]
    response = caller.post(f"/orders/{order.pk}/dispatch", {"lead_unit": "NOPE"})
    assert response.json()["errors"][0]["message"] == "没有找到单位 'NOPE'"
    # A rule the action checks (a bureau is no handling unit) is 400 with its message.
    response = caller.post(f"/orders/{order.pk}/dispatch", {"lead_unit": order.bureau.pk})
    assert response.status_code == 400
    assert response.json()["detail"] == "「测试县公安局」不是测试县公安局的承办单位"
    assert Order.objects.get(pk=order.pk).version == 1


def test_report_with_attachments_as_multipart(make_order, handler, api_as):
    order = make_order("contacted")
    caller = api_as(handler)
    response = caller.client.post(
        f"{BASE}/orders/{order.pk}/report",
        {"result": "已处理", "resolved": "false", "expected_version": str(order.version),
         "attachments": [SimpleUploadedFile("现场.jpg", b"\xff\xd8jpeg", "image/jpeg"),
                         SimpleUploadedFile("记录.txt", "笔录".encode(), "text/plain")]},
        HTTP_AUTHORIZATION=f"Bearer {caller.token}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "reported"
    report = body["reports"][0]
    assert report["resolved"] is False
    assert sorted(a["name"] for a in report["attachments"]) == ["现场.jpg", "记录.txt"]
    assert Attachment.objects.count() == 2


def test_return_decide_redo_and_invalid(make_order, dispatcher, handler, opinion_officer,
                                        api_as, bureau):
    centre, station = api_as(dispatcher), api_as(handler)
    order = make_order("signed")
    assert station.post(f"/orders/{order.pk}/request-return",
                        {"reason": "不属本所辖区"}).json()["state"] == "return_requested"
    response = centre.post(f"/orders/{order.pk}/decide-return", {"approve": False})
    assert response.status_code == 400 and "审批意见" in response.json()["detail"]
    response = centre.post(f"/orders/{order.pk}/decide-return",
                           {"approve": True, "note": "改派西城所"})
    assert response.json()["state"] == "received"
    assert response.json()["return_requests"][0]["decision"] == "approved"

    closed = make_order("closed")
    response = api_as(opinion_officer).post(f"/orders/{closed.pk}/redo",
                                            {"reason": "群众重复投诉",
                                             "lead_unit": bureau.other_station.code})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "dispatched"
    assert response.json()["lead_unit"]["name"] == "西城派出所"

    response = centre.post(f"/orders/{order.pk}/invalid", {"reason": "恶意重复来电"})
    assert response.json()["state"] == "invalid"
    assert response.json()["invalid_reason"] == "恶意重复来电"


def test_review_send_back_and_callback_outcomes(make_order, dispatcher, api_as):
    centre = api_as(dispatcher)
    order = make_order("reported")
    response = centre.post(f"/orders/{order.pk}/review", {"passed": False})
    assert response.status_code == 400 and response.json()["detail"] == "审核退回时请填写退回理由"
    response = centre.post(f"/orders/{order.pk}/review", {"passed": False, "reason": "未说明结果"})
    assert response.json()["state"] == "signed" and response.json()["sendback_count"] == 1
    fed = make_order("fed_back")
    response = centre.post(f"/orders/{fed.pk}/callback", {"outcome": "angry"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "outcome"
