"""The order pages: access by unit and role, every form's refusals, conflicts, the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from minyi.core.models import Event
from minyi.orders import actions
from minyi.orders.models import Attachment, Order
from minyi.orders.rules import TRANSITION_LABELS, State
from minyi.orders.tests.factories import channel, order_type
from minyi.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def body(response) -> str:
    return response.content.decode()


def act_url(order, transition: str) -> str:
    return reverse("orders:act", args=[order.pk, transition])


def post_act(client, order, transition: str, data: dict | None = None, **extra):
    data = {"expected_version": order.version, **(data or {})}
    return client.post(act_url(order, transition), data, **extra)


def unchanged(order) -> tuple[int, int]:
    """The order's version and its number of events: what a refused form must not move."""
    return (Order.objects.get(pk=order.pk).version,
            Event.objects.filter(object_type="orders.order", object_id=str(order.pk)).count())


# --- access ----------------------------------------------------------------------------------


def test_outsider_gets_404_for_the_order_page_and_its_reveal(client, make_order, outsider):
    order = make_order("signed")
    client.force_login(outsider)
    assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 404
    assert client.post(reverse("orders:reveal", args=[order.pk, "phone"])).status_code == 404
    assert client.get(reverse("orders:detail", args=[999999])).status_code == 404
    assert not Event.objects.filter(action="order.reveal").exists()


@pytest.mark.parametrize("transition", sorted(TRANSITION_LABELS.keys() - {"receive"}))
def test_outsider_gets_404_for_every_action(client, make_order, outsider, transition):
    order = make_order("signed")
    before = unchanged(order)
    client.force_login(outsider)
    response = post_act(client, order, transition, {"reason": "x", "method": "phone"})
    assert response.status_code == 404
    assert unchanged(order) == before


def test_outsider_gets_404_for_an_attachment(client, make_order, handler, outsider, dispatcher):
    order = make_order("contacted")
    actions.report_order(actor=handler, order=order, result="已调解",
                         files=[SimpleUploadedFile("现场.txt", b"photo")])
    item = Attachment.objects.get()
    url = reverse("orders:attachment", args=[item.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("orders:attachment", args=[item.pk + 100])).status_code == 404
    for user in (handler, dispatcher):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"photo"
        assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("name", ["orders:new", "orders:board", "orders:returns",
                                  "orders:review_queue"])
def test_command_centre_pages_are_403_for_a_unit(client, handler, name):
    client.force_login(handler)
    assert client.get(reverse(name)).status_code == 403


def test_bulk_dispatch_is_403_for_a_unit(client, handler, make_order, bureau):
    order = make_order()
    client.force_login(handler)
    response = client.post(reverse("orders:bulk_dispatch"),
                           {"orders": [order.pk], "lead_unit": bureau.station.pk})
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).state == State.RECEIVED


def test_workbench_is_403_for_the_command_centre(client, dispatcher):
    client.force_login(dispatcher)
    assert client.get(reverse("orders:workbench")).status_code == 403


def test_review_queue_is_open_to_inspectors(client, inspector, make_order):
    order = make_order("reported")
    client.force_login(inspector)
    response = client.get(reverse("orders:review_queue"))
    assert response.status_code == 200 and order.title in body(response)


def test_an_insider_without_the_role_is_refused_with_403(client, make_order, handler):
    order = make_order("reported")
    before = unchanged(order)
    client.force_login(handler)
    response = post_act(client, order, "review", {"decision": "pass"})
    assert response.status_code == 403
    assert unchanged(order) == before


def test_a_unit_sees_its_own_orders_only(client, make_order, handler, outsider, bureau):
    mine = make_order("dispatched", title="东城的工单")
    theirs = make_order("received", title="西城的工单")
    actions.dispatch_order(actor=None, order=theirs, lead_unit=bureau.other_station)
    client.force_login(handler)
    listed = body(client.get(reverse("orders:list")))
    assert mine.title in listed and theirs.title not in listed
    bench = body(client.get(reverse("orders:workbench")))
    assert mine.title in bench and theirs.title not in bench
    client.force_login(outsider)
    listed = body(client.get(reverse("orders:list")))
    assert theirs.title in listed and mine.title not in listed


# --- navigation ------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "unit_attr", "present", "absent"), [
    (Role.DISPATCHER, "command_centre", ["接单录入", "派单台", "审核", "退单审批", "工单列表"],
     ["我的工单"]),
    (Role.UNIT_HANDLER, "station", ["我的工单", "工单列表"], ["派单台", "接单录入", "退单审批"]),
    (Role.UNIT_HEAD, "station", ["我的工单", "工单列表"], ["派单台"]),
    (Role.BUREAU_LEADER, "bureau", ["工单列表"], ["派单台", "我的工单"]),
    (Role.LEGAL_REVIEWER, "squad", ["工单列表", "审核"], ["派单台"]),
])
def test_navigation_by_role(client, bureau, role, unit_attr, present, absent):
    from minyi.core.navigation import navigation_for

    user = bureau.member(role, getattr(bureau, unit_attr))
    labels = [item["label"] for item in navigation_for(user, "/orders/board/")]
    assert all(label in labels for label in present)
    assert not any(label in labels for label in absent)
    client.force_login(user)
    assert client.get(reverse("orders:list")).status_code == 200


def test_only_the_closest_navigation_entry_is_active(dispatcher):
    from minyi.core.navigation import navigation_for

    active = [i["label"] for i in navigation_for(dispatcher, "/orders/board/") if i["active"]]
    assert active == ["派单台"]


# --- intake ----------------------------------------------------------------------------------


def intake_data(bureau, **overrides) -> dict:
    data = {"channel": channel().pk, "order_type": order_type("noise").pk,
            "demand_kind": "complaint", "title": "广场舞音响扰民", "content": "每晚九点后",
            "citizen_name": "王先生", "citizen_phone": "13912345678",
            "citizen_address": "东城镇东城村5号", "area": bureau.village.pk,
            "location": "东城村文化广场"}
    data.update(overrides)
    return data


def test_intake_creates_an_order_and_opens_it(client, dispatcher, bureau):
    client.force_login(dispatcher)
    response = client.post(reverse("orders:new"), intake_data(bureau))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.citizen_phone == "13912345678" and order.citizen_phone_mask == "139****5678"
    assert order.received_by == dispatcher and order.area == bureau.village
    page = body(client.get(response["Location"]))
    assert "139****5678" in page and "13912345678" not in page
    assert "已接单，工单编号" in page


def test_intake_and_continue_comes_back_to_the_form(client, dispatcher, bureau):
    client.force_login(dispatcher)
    response = client.post(reverse("orders:new"), {**intake_data(bureau), "and_new": "1"})
    assert response["Location"] == reverse("orders:new")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"citizen_phone": "12345"}, "电话号码格式不正确"),
    ({"title": ""}, "请填写标题"),
    ({"channel": ""}, "请选择受理渠道"),
    ({"is_leader_assigned": "on", "leader_instruction": ""}, "领导批示交办的工单请填写批示内容"),
    ({"area": "999999"}, "选择一个有效的选项"),
])
def test_intake_bad_input_is_told_in_chinese_and_writes_nothing(client, dispatcher, bureau,
                                                                 overrides, message):
    client.force_login(dispatcher)
    events = Event.objects.count()
    response = client.post(reverse("orders:new"), intake_data(bureau, **overrides))
    assert response.status_code == 400
    assert message in body(response)
    assert not Order.objects.exists() and Event.objects.count() == events


def test_intake_area_choices_are_the_bureaus_only(client, dispatcher, bureau):
    from minyi.orgs.tests.factories import AreaFactory, UnitFactory

    foreign_station = UnitFactory(kind="station", name="邻县派出所")
    foreign = AreaFactory(kind="township", name="邻县镇", station=foreign_station)
    client.force_login(dispatcher)
    page = body(client.get(reverse("orders:new")))
    assert "东城镇" in page and "邻县镇" not in page
    response = client.post(reverse("orders:new"), intake_data(bureau, area=foreign.pk))
    assert response.status_code == 400 and not Order.objects.exists()


def test_the_same_external_id_twice_is_told_not_duplicated(client, dispatcher, bureau):
    client.force_login(dispatcher)
    client.post(reverse("orders:new"), intake_data(bureau, external_id="GD-1"))
    response = client.post(reverse("orders:new"), intake_data(bureau, external_id="GD-1"),
                           follow=True)
    assert Order.objects.count() == 1
    assert "已经录入过" in body(response)


# --- every transition's form -----------------------------------------------------------------

BAD_INPUT = [
    # (stage, who, transition, data, message)
    ("received", "dispatcher", "dispatch", {}, "请选择承办单位"),
    ("received", "dispatcher", "dispatch", {"lead_unit": "999999"}, "选择一个有效的选项"),
    ("dispatched", "handler", "contact", {}, "请选择联系方式"),
    ("dispatched", "handler", "contact", {"method": "fax"}, "选择一个有效的选项"),
    ("contacted", "handler", "report", {"resolved": "yes"}, "请填写办理结果"),
    ("signed", "handler", "report", {"result": "已处理", "resolved": "yes"},
     "请先登记与群众的联系情况"),
    ("signed", "handler", "request_return", {"reason": "  "}, "请填写退单理由"),
    ("reported", "dispatcher", "review", {}, "请选择审核通过或退回"),
    ("reported", "dispatcher", "review", {"decision": "send_back"}, "审核退回时请填写退回理由"),
    ("fed_back", "dispatcher", "record_callback", {}, "请选择回访结果"),
    ("fed_back", "dispatcher", "redo", {}, "请填写重办理由"),
    ("received", "dispatcher", "mark_invalid", {}, "请填写无效原因"),
    ("dispatched", "handler", "sign", {"expected_version": ""}, "页面信息不完整"),
]


@pytest.mark.parametrize(("stage", "who", "transition", "data", "message"), BAD_INPUT)
def test_bad_input_is_told_next_to_the_form_and_writes_nothing(
        client, make_order, request, stage, who, transition, data, message):
    order = make_order(stage)
    before = unchanged(order)
    client.force_login(request.getfixturevalue(who))
    response = post_act(client, order, transition, data)
    assert response.status_code in (400, 409)
    assert message in body(response)
    assert unchanged(order) == before


def test_a_rejected_return_needs_a_note(client, make_order, handler, dispatcher):
    order = make_order("signed")
    actions.request_return(actor=handler, order=order, reason="不在本所辖区")
    order.refresh_from_db()
    before = unchanged(order)
    client.force_login(dispatcher)
    response = post_act(client, order, "decide_return", {"decision": "reject"})
    assert response.status_code == 400
    assert "不同意退单时请填写审批意见" in body(response)
    assert unchanged(order) == before


def test_closing_a_dissatisfied_order_needs_a_note(client, make_order, dispatcher):
    order = make_order("fed_back")
    actions.record_callback(actor=dispatcher, order=order, outcome="dissatisfied")
    order.refresh_from_db()
    before = unchanged(order)
    client.force_login(dispatcher)
    response = post_act(client, order, "close")
    assert response.status_code == 400
    assert "群众不满意的工单应当重办" in body(response)
    assert unchanged(order) == before


def test_htmx_gets_the_form_back_with_the_error(client, make_order, handler):
    order = make_order("dispatched")
    client.force_login(handler)
    response = post_act(client, order, "contact", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = body(response)
    assert html.lstrip().startswith('<div class="action action-contact')
    assert "请选择联系方式" in html and "<html" not in html


def test_htmx_success_redirects_to_the_page_it_came_from(client, make_order, handler):
    order = make_order("dispatched")
    client.force_login(handler)
    back = reverse("orders:workbench")
    response = post_act(client, order, "sign", {"next": back}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == back
    assert Order.objects.get(pk=order.pk).state == State.SIGNED


def test_next_cannot_leave_the_site(client, make_order, handler):
    order = make_order("dispatched")
    client.force_login(handler)
    response = post_act(client, order, "sign", {"next": "https://evil.example/"})
    assert response["Location"] == reverse("orders:detail", args=[order.pk])


def test_a_stale_version_shows_who_did_what(client, make_order, dispatcher, handler):
    order = make_order("dispatched")
    seen = order.version
    actions.sign_order(actor=handler, order=order)  # a colleague, meanwhile
    client.force_login(handler)
    response = client.post(act_url(order, "contact"),
                           {"expected_version": seen, "method": "phone"})
    assert response.status_code == 409
    html = body(response)
    assert "张承办已于" in html and "「签收」" in html and "请刷新页面" in html
    assert Order.objects.get(pk=order.pk).contacted_at is None

    response = client.post(act_url(order, "contact"), {"expected_version": seen,
                                                        "method": "phone"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="conflict"' in body(response) and "张承办已于" in body(response)


def test_a_step_already_taken_is_a_conflict_even_with_bad_input(client, make_order, dispatcher):
    order = make_order("dispatched")
    client.force_login(dispatcher)
    response = client.post(act_url(order, "dispatch"), {"expected_version": order.version - 1})
    assert response.status_code == 409
    assert "当前状态为「已转办」" in body(response)


def test_the_whole_loop_through_the_pages(client, make_order, dispatcher, handler, bureau):
    order = make_order()

    def step(user, transition, data=None, files=None):
        nonlocal order
        client.force_login(user)
        order.refresh_from_db()
        payload = {"expected_version": order.version, **(data or {})}
        if files:
            payload["files"] = files
        response = client.post(act_url(order, transition), payload)
        assert response.status_code == 302, body(response)
        order.refresh_from_db()

    step(dispatcher, "dispatch", {"lead_unit": bureau.station.pk,
                                  "co_units": [bureau.squad.pk], "note": "请尽快处理"})
    assert order.lead_unit == bureau.station and order.assignments.count() == 2
    step(handler, "sign")
    step(handler, "contact", {"method": "visit", "note": "已上门"})
    step(handler, "report", {"result": "已调解", "measures": "约定施工时间", "resolved": "yes"},
         files=[SimpleUploadedFile("调解协议.txt", b"a"), SimpleUploadedFile("照片.jpg", b"b")])
    assert sorted(a.name for a in Attachment.objects.all()) == ["照片.jpg", "调解协议.txt"]
    step(dispatcher, "review", {"decision": "pass"})
    step(dispatcher, "feed_back", {"note": "已电话告知"})
    step(dispatcher, "record_callback", {"outcome": "satisfied"})
    step(dispatcher, "close")
    assert order.state == State.CLOSED

    client.force_login(dispatcher)
    page = body(client.get(reverse("orders:detail", args=[order.pk])))
    for label in ["接单", "转办", "签收", "联系群众", "上报办理结果", "审核", "反馈",
                  "登记回访结果", "办结"]:
        assert f"<strong>{label}</strong>" in page
    assert "协办单位：督察大队" in page and "见面沟通" in page and "满意" in page
    assert "调解协议.txt" in page


def test_the_order_page_offers_each_user_their_steps_only(client, make_order, dispatcher,
                                                          handler, leader):
    order = make_order("dispatched")
    client.force_login(handler)
    page = body(client.get(reverse("orders:detail", args=[order.pk])))
    assert 'data-testid="act-sign"' in page and 'data-testid="act-request_return"' in page
    assert 'data-testid="act-mark_invalid"' not in page
    client.force_login(dispatcher)
    page = body(client.get(reverse("orders:detail", args=[order.pk])))
    assert 'data-testid="act-sign"' not in page and 'data-testid="act-mark_invalid"' in page
    client.force_login(leader)
    page = body(client.get(reverse("orders:detail", args=[order.pk])))
    assert 'data-testid="actions"' not in page


def test_send_back_shows_on_the_workbench(client, make_order, dispatcher, handler):
    order = make_order("reported")
    client.force_login(dispatcher)
    post_act(client, order, "review", {"decision": "send_back", "reason": "缺少调解协议"})
    client.force_login(handler)
    page = body(client.get(reverse("orders:workbench")))
    assert "审核退回" in page and "缺少调解协议" in page


def test_return_rejected_moves_the_deadline(client, make_order, dispatcher, handler):
    order = make_order("signed")
    client.force_login(handler)
    response = post_act(client, order, "request_return", {"reason": "不在本所辖区"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.RETURN_REQUESTED
    client.force_login(dispatcher)
    page = body(client.get(reverse("orders:returns")))
    assert "不在本所辖区" in page and order.title in page
    response = post_act(client, order, "decide_return",
                        {"decision": "reject", "note": "事发地属东城派出所辖区"}, follow=True)
    assert "已驳回退单" in body(response) and "由原单位继续办理" in body(response)
    order.refresh_from_db()
    assert order.state == State.SIGNED


def test_return_approved_goes_back_to_the_board(client, make_order, dispatcher, handler):
    order = make_order("signed")
    actions.request_return(actor=handler, order=order, reason="不在本所辖区")
    order.refresh_from_db()
    client.force_login(dispatcher)
    board = body(client.get(reverse("orders:board")))
    assert 'data-testid="board-returns"' in board and "不在本所辖区" in board
    post_act(client, order, "decide_return", {"decision": "approve"})
    order.refresh_from_db()
    assert order.state == State.RECEIVED and order.lead_unit is None
    assert order.title in body(client.get(reverse("orders:board")))


def test_reveal_shows_the_clear_value_and_is_logged(client, make_order, handler):
    order = make_order("dispatched")
    client.force_login(handler)
    page = body(client.get(reverse("orders:detail", args=[order.pk])))
    assert "138****5678" in page and "13812345678" not in page and "刘女士" not in page
    response = client.post(reverse("orders:reveal", args=[order.pk, "phone"]),
                           HTTP_HX_REQUEST="true")
    assert body(response).strip() == (
        '<span class="revealed" data-testid="revealed-phone">13812345678</span>')
    event = Event.objects.filter(action="order.reveal").get()
    assert event.actor == handler and event.payload["field"] == "phone"
    response = client.post(reverse("orders:reveal", args=[order.pk, "name"]))
    assert "刘女士" in body(response)
    assert client.post(reverse("orders:reveal", args=[order.pk, "password"])).status_code == 404


# --- board and bulk dispatch -----------------------------------------------------------------


def test_bulk_dispatch(client, make_order, dispatcher, bureau):
    first, second, taken = make_order(), make_order(), make_order("dispatched")
    client.force_login(dispatcher)
    response = client.post(reverse("orders:bulk_dispatch"), {
        "orders": [first.pk, second.pk, taken.pk], "lead_unit": bureau.other_station.pk,
        "note": "批量", "next": reverse("orders:board")}, follow=True)
    html = body(response)
    assert "已将 2 件工单转办至西城派出所" in html
    assert "不能转办" in html  # the one a colleague took meanwhile
    for order in (first, second):
        assert Order.objects.get(pk=order.pk).lead_unit == bureau.other_station
    assert Order.objects.get(pk=taken.pk).lead_unit == bureau.station


@pytest.mark.parametrize(("data", "message"), [
    ({"lead_unit": "station"}, "请先勾选要转办的工单"),
    ({"orders": "mine"}, "请选择承办单位"),
])
def test_bulk_dispatch_bad_input(client, make_order, dispatcher, bureau, data, message):
    order = make_order()
    client.force_login(dispatcher)
    data = {k: (bureau.station.pk if v == "station" else [order.pk]) for k, v in data.items()}
    response = client.post(reverse("orders:bulk_dispatch"), data)
    assert response.status_code == 400 and message in body(response)
    assert Order.objects.get(pk=order.pk).state == State.RECEIVED


def test_bulk_dispatch_of_an_order_not_ones_own_is_404(client, make_order, dispatcher, bureau):
    order = make_order()
    client.force_login(dispatcher)
    response = client.post(reverse("orders:bulk_dispatch"),
                           {"orders": [order.pk, 999999], "lead_unit": bureau.station.pk})
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).state == State.RECEIVED


def test_board_lists_orders_waiting_with_filters(client, make_order, dispatcher):
    waiting = make_order(title="等待转办的")
    make_order("dispatched", title="已经转办的")
    other_type = make_order(title="户籍咨询的", order_type=order_type("hukou"))
    client.force_login(dispatcher)
    page = body(client.get(reverse("orders:board")))
    assert waiting.title in page and other_type.title in page and "已经转办的" not in page
    page = body(client.get(reverse("orders:board"), {"order_type": "hukou"}))
    assert other_type.title in page and waiting.title not in page


# --- workbench -------------------------------------------------------------------------------


def test_workbench_countdowns_turn_amber_and_red(client, make_order, dispatcher, handler,
                                                 bureau):
    now = timezone.now()
    soon, late = make_order(title="快到时限"), make_order(title="已经超时")
    actions.dispatch_order(actor=dispatcher, order=soon, lead_unit=bureau.station,
                           at=now - timedelta(minutes=40))
    actions.dispatch_order(actor=dispatcher, order=late, lead_unit=bureau.station,
                           at=now - timedelta(hours=3))
    client.force_login(handler)
    page = body(client.get(reverse("orders:workbench")))
    assert "countdown-warn" in page and "剩余 " in page
    assert "countdown-late" in page and "已超时 " in page


def test_workbench_puts_the_nearest_deadline_first(client, make_order, dispatcher, handler,
                                                   bureau):
    fresh, old = make_order(title="今天转办的"), make_order(title="上周转办的")
    actions.dispatch_order(actor=dispatcher, order=fresh, lead_unit=bureau.station)
    actions.dispatch_order(actor=dispatcher, order=old, lead_unit=bureau.station,
                           at=timezone.now() - timedelta(days=7))
    client.force_login(handler)
    page = body(client.get(reverse("orders:workbench")))
    assert page.index("上周转办的") < page.index("今天转办的")


def test_workbench_offers_the_next_step(client, make_order, handler):
    make_order("dispatched", title="待签收的")
    make_order("signed", title="待联系的")
    make_order("contacted", title="待上报的")
    client.force_login(handler)
    page = body(client.get(reverse("orders:workbench")))
    assert page.count('data-testid="act-sign"') == 1
    assert page.count('data-testid="act-contact"') == 1
    assert page.count('data-testid="act-report"') == 1
    assert page.count('data-testid="act-request_return"') == 3
    assert 'enctype="multipart/form-data"' in page


def test_home_page_counts_what_waits(client, make_order, dispatcher, handler, bureau):
    make_order()
    make_order("reported")
    late = make_order()
    actions.dispatch_order(actor=dispatcher, order=late, lead_unit=bureau.station,
                           at=timezone.now() - timedelta(days=10))
    client.force_login(dispatcher)
    card = body(client.get(reverse("home")))
    assert 'data-testid="orders-card"' in card and "待转办" in card
    assert reverse("orders:board") in card
    client.force_login(handler)
    counts = client.get(reverse("home")).context["order_counts"]
    assert counts["in_hand"] == 1 and counts["overdue"] == 1 and counts["contact_overdue"] == 1


def test_htmx_refusal_comes_back_in_the_form(client, make_order, handler):
    order = make_order("reported")
    client.force_login(handler)
    response = post_act(client, order, "review", {"decision": "pass"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "您的岗位不能审核该工单" in body(response)
    assert Order.objects.get(pk=order.pk).state == State.REPORTED
