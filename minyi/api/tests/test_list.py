"""GET /orders and GET /orders/{id}: filters, cursor pages, one page's cost."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minyi.api.tests.conftest import Caller
from minyi.orders.models import Order

pytestmark = pytest.mark.django_db


def _walk(caller: Caller, params: dict) -> tuple[list[int], int]:
    seen, pages, cursor = [], 0, None
    while True:
        response = caller.get("/orders", {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        seen.extend(row["id"] for row in body["results"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


def test_cursor_pages_walk_every_order_once_even_when_they_share_a_time(
        make_order, dispatcher, api_as):
    moment = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    ids = []
    for i in range(23):
        # Groups of five share a receiving time, so pages must split inside a group.
        order = make_order(received_at=moment - timedelta(minutes=i // 5),
                           title=f"工单{i}")
        ids.append(order.pk)
    seen, pages = _walk(api_as(dispatcher), {"limit": 4})
    assert pages == 6
    assert len(seen) == len(set(seen)) == 23 and set(seen) == set(ids)
    # Newest first, ties broken by the higher id.
    rows = Order.objects.filter(pk__in=seen).values_list("pk", "received_at")
    order = sorted(rows, key=lambda r: (r[1], r[0]), reverse=True)
    assert seen == [pk for pk, _ in order]


def test_an_order_added_while_paging_shifts_nothing(make_order, dispatcher, api_as):
    for _ in range(5):
        make_order()
    caller = api_as(dispatcher)
    first = caller.get("/orders", {"limit": 2}).json()
    make_order()  # newer than all: it belongs before page one, not inside the walk
    rest, _ = _walk(caller, {"limit": 2, "cursor": first["next_cursor"]})
    ids = [r["id"] for r in first["results"]] + rest
    assert len(ids) == len(set(ids)) == 5


def test_filters_are_the_pages_filters(make_order, dispatcher, api_as, bureau):
    make_order("dispatched", title="噪音")
    make_order(title="停车")
    caller = api_as(dispatcher)
    assert [r["title"] for r in caller.get("/orders", {"state": "dispatched"}).json()["results"]] \
        == ["噪音"]
    assert [r["title"] for r in caller.get("/orders", {"q": "停车"}).json()["results"]] == ["停车"]
    assert [r["title"] for r in caller.get("/orders", {"unit": bureau.station.pk})
            .json()["results"]] == ["噪音"]


def test_bad_filters_limits_cursors_and_unknown_params_are_400(dispatcher, api_as):
    caller = api_as(dispatcher)
    response = caller.get("/orders", {"state": "nope", "received_from": "yesterday"})
    assert response.status_code == 400
    assert "state='nope' 不是工单状态" in response.json()["detail"]
    assert "received_from='yesterday' 不是日期" in response.json()["detail"]
    assert caller.get("/orders", {"limit": "201"}).status_code == 400
    assert caller.get("/orders", {"limit": "0"}).status_code == 400
    response = caller.get("/orders", {"cursor": "forged"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "cursor"
    response = caller.get("/orders", {"stat": "received"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "未知的查询参数 'stat'"


def test_a_client_lists_only_what_it_sent(integration, api_as, order_input, make_order, bureau):
    make_order(title="指挥中心录入的")
    caller = api_as(integration)
    mine = caller.post("/orders", order_input).json()
    body = caller.get("/orders").json()
    assert [r["id"] for r in body["results"]] == [mine["id"]]
    assert caller.get(f"/orders/{mine['id']}").status_code == 200
    # Its unit filter works within its bureau; a unit elsewhere is 404.
    assert caller.get("/orders", {"unit": bureau.station.pk}).json()["results"] == []
    from minyi.orgs.tests.factories import UnitFactory

    assert caller.get("/orders", {"unit": UnitFactory().pk}).status_code == 404


def test_a_handler_sees_the_orders_of_the_station(make_order, handler, outsider, api_as):
    mine = make_order("dispatched")
    make_order()  # not dispatched yet: the command centre's
    assert [r["id"] for r in api_as(handler).get("/orders").json()["results"]] == [mine.pk]
    assert api_as(handler).get(f"/orders/{mine.pk}").status_code == 200
    assert api_as(outsider).get(f"/orders/{mine.pk}").status_code == 404
    assert api_as(handler).get("/orders/999999").status_code == 404


def _list_queries(caller: Caller) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = caller.get("/orders", {"limit": 200})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_one_page_costs_the_same_with_10_and_60_orders(make_order, dispatcher, api_as, bureau):
    from minyi.orders import actions

    caller = api_as(dispatcher)
    caller.get("/orders")  # the token's first use writes last_used_at; not part of a page
    for i in range(10):
        order = make_order(title=f"工单{i}", area=bureau.village)
        if i % 2:
            actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station)
    ten = _list_queries(caller)
    for i in range(50):
        make_order(title=f"工单{i}", area=bureau.village if i % 2 else None)
    sixty = _list_queries(caller)
    assert ten == sixty, (ten, sixty)
    # token, memberships, the ids of the bureaus in scope, the page (the session-free path)
    assert sixty <= 5


def test_the_client_list_costs_the_same_too(integration, api_as, order_input):
    caller = api_as(integration)
    for i in range(3):
        caller.post("/orders", {**order_input, "external_id": f"a{i}"})
    few = _list_queries(caller)
    for i in range(30):
        caller.post("/orders", {**order_input, "external_id": f"b{i}"})
    assert _list_queries(caller) == few


def test_the_detail_has_deadlines_assignments_reports_and_on_request_the_timeline(
        make_order, handler, api_as):
    order = make_order("reported")
    body = api_as(handler).get(f"/orders/{order.pk}").json()
    assert body["state"] == "reported" and body["version"] == order.version
    assert body["handling_due_at"] and body["contact_due_at"]
    assert body["assignments"][0]["unit"]["name"] == "东城派出所"
    assert body["assignments"][0]["is_lead"] is True
    assert body["reports"][0]["result"] == "已责令停工并调解"
    assert body["available_actions"] == ["review"]
    assert "timeline" not in body
    body = api_as(handler).get(f"/orders/{order.pk}", {"include": "timeline"}).json()
    assert [e["action"] for e in body["timeline"]] == [
        "order.receive", "order.dispatch", "order.sign", "order.contact", "order.report"]
    assert body["timeline"][1]["action_label"] == "转办"
    assert api_as(handler).get(f"/orders/{order.pk}", {"include": "all"}).status_code == 400
