"""The lists at the cost of one page: filters, keyset pages, query counts, the xlsx export."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minyi.orders import actions, exports, selectors
from minyi.orders.selectors import OrderFilter
from minyi.orders.tests.factories import channel, order_type

pytestmark = pytest.mark.django_db

# The number of queries each page took in the last run, for the report (filled by `queries`).
MEASURED: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def queries(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def grow(make_order, stage: str, n: int, **fields) -> None:
    for i in range(n):
        make_order(stage, title=f"工单{i}", **fields)


def same_cost(client, url: str, make_order, stage: str, name: str, **params) -> None:
    """The page's query count with 10 orders and with 50 is the same."""
    grow(make_order, stage, 10)
    queries(client, url, **params)  # the session's first request loads more than the rest
    small = queries(client, url, **params)
    grow(make_order, stage, 40)
    large = queries(client, url, **params)
    MEASURED[name] = large
    assert small == large, f"{name}: {small} queries with 10 orders, {large} with 50"


def test_list_costs_the_same_with_10_and_50_orders(client, make_order, dispatcher):
    client.force_login(dispatcher)
    same_cost(client, reverse("orders:list"), make_order, "signed", "list")


def test_filtered_list_costs_the_same(client, make_order, dispatcher, bureau):
    client.force_login(dispatcher)
    same_cost(client, reverse("orders:list"), make_order, "signed", "list_filtered",
              unit=bureau.station.pk, area=bureau.township.pk, channel="12345")


def test_board_costs_the_same(client, make_order, dispatcher):
    client.force_login(dispatcher)
    same_cost(client, reverse("orders:board"), make_order, "received", "board")


def test_workbench_costs_the_same(client, make_order, handler):
    client.force_login(handler)
    same_cost(client, reverse("orders:workbench"), make_order, "contacted", "workbench")


def test_review_queue_costs_the_same(client, make_order, dispatcher):
    client.force_login(dispatcher)
    same_cost(client, reverse("orders:review_queue"), make_order, "reported", "review_queue")


def test_returns_cost_the_same(client, make_order, dispatcher, handler):
    client.force_login(dispatcher)
    url = reverse("orders:returns")

    def grow_returns(n):
        for _ in range(n):
            order = make_order("signed")
            actions.request_return(actor=handler, order=order, reason="不在本所辖区")

    grow_returns(10)
    queries(client, url)
    small = queries(client, url)
    grow_returns(40)
    large = queries(client, url)
    MEASURED["returns"] = large
    assert small == large


def test_export_costs_the_same(client, make_order, dispatcher):
    client.force_login(dispatcher)
    same_cost(client, reverse("orders:export"), make_order, "signed", "export")


def test_order_page_costs_the_same_however_long_its_history(client, make_order, dispatcher,
                                                              handler):
    client.force_login(dispatcher)
    short = make_order("contacted")
    actions.report_order(actor=handler, order=short, result="已处理",
                         files=[SimpleUploadedFile("a.txt", b"x")])
    long = make_order("contacted")
    files = [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(3)]
    for round_ in range(3):
        actions.report_order(actor=handler, order=long, result=f"第{round_}次", files=files)
        actions.review_order(actor=dispatcher, order=long, passed=False, reason="补充材料")
    for field in ("name", "phone", "address"):
        actions.reveal_citizen(actor=dispatcher, order=long, field=field)
    queries(client, reverse("orders:detail", args=[short.pk]))
    few = queries(client, reverse("orders:detail", args=[short.pk]))
    many = queries(client, reverse("orders:detail", args=[long.pk]))
    MEASURED["detail"] = many
    assert few == many


# --- filters and pages -----------------------------------------------------------------------


@pytest.mark.parametrize(("params", "message"), [
    ({"received_from": "2026-13-01"}, "不是日期"),
    ({"state": "lost"}, "不是工单状态"),
    ({"unit": "abc"}, "不是编号"),
    ({"after": "nonsense"}, "翻页参数不正确"),
    ({"handling": "soon"}, "应为 on_time、late 之一"),
    ({"contact": "x"}, "应为 on_time、late、none 之一"),
    ({"callback": "happy"}, "应为 satisfied、basically_satisfied"),
    ({"demand_kind": "praise"}, "应为 consultation、help"),
])
def test_bad_filters_are_told_in_chinese(client, dispatcher, params, message):
    client.force_login(dispatcher)
    response = client.get(reverse("orders:list"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_filters_select_what_they_say(client, make_order, dispatcher, bureau):
    hukou = make_order("received", title="户籍的", order_type=order_type("hukou"),
                       channel=channel("110"))
    late = make_order("received", title="超时的")
    actions.dispatch_order(actor=dispatcher, order=late, lead_unit=bureau.station,
                           at=timezone.now() - timedelta(days=10))
    elsewhere = make_order("received", title="西城的", area=bureau.other_township)
    old = make_order("received", title="去年的",
                     received_at=timezone.now() - timedelta(days=400))
    client.force_login(dispatcher)

    def titles(**params):
        response = client.get(reverse("orders:list"), params)
        html = response.content.decode()
        return {o.title for o in (hukou, late, elsewhere, old) if o.title in html}

    assert titles() == {"户籍的", "超时的", "西城的", "去年的"}
    assert titles(channel="110") == {"户籍的"}
    assert titles(order_type="hukou") == {"户籍的"}
    assert titles(overdue="1") == {"超时的"}
    assert titles(state="dispatched") == {"超时的"}
    assert titles(unit=bureau.station.pk) == {"超时的"}
    assert titles(area=bureau.other_township.pk) == {"西城的"}
    last_year = (timezone.localdate() - timedelta(days=400)).isoformat()
    assert titles(received_from=last_year, received_to=last_year) == {"去年的"}
    assert titles(q="户籍") == {"户籍的"}


def test_a_unit_filter_outside_ones_units_is_404(client, make_order, handler, bureau):
    client.force_login(handler)
    response = client.get(reverse("orders:list"), {"unit": bureau.other_station.pk})
    assert response.status_code == 404


def test_keyset_pages_walk_every_order_once_even_with_equal_times(make_order, dispatcher):
    same_time = timezone.now() - timedelta(hours=1)
    made = [make_order(received_at=same_time).pk for _ in range(7)]
    made += [make_order().pk for _ in range(4)]
    seen, cursor, pages = [], "", 0
    while True:
        page = selectors.keyset_page(selectors.order_list(dispatcher, OrderFilter()), cursor,
                                     per_page=3)
        seen += [o.pk for o in page.rows]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert pages == 4


def test_list_pages_by_next_links(client, make_order, dispatcher, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    for i in range(9):
        make_order(title=f"第{i}件")
    client.force_login(dispatcher)
    url, shown = reverse("orders:list") + "?channel=12345", []
    while url:
        response = client.get(url)
        html = response.content.decode()
        shown += [i for i in range(9) if f">第{i}件<" in html]
        url = response.context.get("next_url", "")
        if url:
            assert "channel=12345" in url and "after=" in url
    assert sorted(shown) == list(range(9))


# --- export ----------------------------------------------------------------------------------


def read(response):
    data = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(data), read_only=True)


def test_export_is_what_the_filters_select_and_masked(client, make_order, dispatcher):
    signed = [make_order("signed", title=f"签收的{i}") for i in range(3)]
    make_order("received", title="未转办的")
    client.force_login(dispatcher)
    response = client.get(reverse("orders:export"), {"state": "signed"})
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response["X-Export-Rows"] == "3" and response["X-Export-Truncated"] == "0"
    book = read(response)
    rows = list(book["工单"].iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[:7] == ("工单编号", "来源编号", "受理渠道", "工单类型", "诉求类型", "标题",
                          "状态")
    assert sorted(r[5] for r in data) == sorted(o.title for o in signed)
    column = {name: i for i, name in enumerate(header)}
    for row in data:
        assert row[column["状态"]] == "已签收"
        assert row[column["群众姓名"]] == "刘**"
        assert row[column["联系电话"]] == "138****5678"
        assert row[column["承办单位"]] == "东城派出所"
        assert row[column["接单时间"]] is not None
    everything = [v for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)
                  for v in r]
    assert "13812345678" not in everything and "刘女士" not in everything
    notes = dict(book["说明"].iter_rows(values_only=True))
    assert notes["导出行数"] == 3 and notes["筛选条件"] == "状态：已签收"


def test_export_stops_at_the_cap_and_says_so(client, make_order, dispatcher, monkeypatch):
    monkeypatch.setattr(exports, "MAX_EXPORT_ROWS", 2)
    for _ in range(3):
        make_order()
    client.force_login(dispatcher)
    response = client.get(reverse("orders:export"))
    assert response["X-Export-Rows"] == "2" and response["X-Export-Truncated"] == "1"
    book = read(response)
    assert len(list(book["工单"].iter_rows())) == 3  # the header and two rows
    notes = [r[1] for r in book["说明"].iter_rows(values_only=True)]
    assert any("只导出了前 2 行" in str(n) for n in notes)


def test_export_of_a_unit_is_its_own_orders(client, make_order, handler, outsider, bureau):
    make_order("signed", title="东城的")
    client.force_login(outsider)
    response = client.get(reverse("orders:export"))
    assert response["X-Export-Rows"] == "0"


def test_export_with_a_bad_filter_goes_back_to_the_list(client, dispatcher):
    client.force_login(dispatcher)
    response = client.get(reverse("orders:export"), {"state": "lost"}, follow=True)
    assert "不是工单状态" in response.content.decode()


def test_the_measured_counts(capsys):
    """Not a check: prints what the tests above measured, for the closing note."""
    if MEASURED:
        with capsys.disabled():
            print("\nqueries per page (50 orders):",
                  ", ".join(f"{k}={v}" for k, v in sorted(MEASURED.items())))


def test_a_units_pages_taken_part_by_part_equal_the_plain_query(bureau, make_order, dispatcher,
                                                                 handler):
    """A station's orders are its own and those it helps with: the page taken from each part
    along its own index is exactly the page of the one OR query, for every ordering in use."""
    from django.db.models import F

    from minyi.orders.models import Order
    from minyi.orgs import access

    base = timezone.now() - timedelta(days=3)
    for i in range(7):  # the station's own: received at times between the others'
        order = make_order("dispatched", received_at=base + timedelta(hours=2 * i))
        if i % 3 == 0:  # some with no handling deadline: NULLs in the workbench's order
            Order.objects.filter(pk=order.pk).update(handling_due_at=None)
    for i in range(5):  # led by the other station, the station helping
        order = make_order("received", received_at=base + timedelta(hours=2 * i + 1))
        actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.other_station,
                               co_units=[bureau.station])
    make_order("received")  # waiting at the command centre: not the station's

    visible = access.visible_orders(handler)
    assert visible.scope_arms is not None and len(visible.scope_arms) == 2
    plain = Order.objects.filter(access.order_filter(handler))
    assert plain.count() == 12
    # With NULL deadlines, also where the ordering leaves their place to the database.
    orderings = [("-received_at", "-id"), ("received_at", "id"),
                 (F("handling_due_at").asc(nulls_last=True), "id"),
                 (F("handling_due_at").desc(), "id"), ("handling_due_at", "id"),
                 ("-handling_due_at", "-id"), (F("handling_due_at").desc(nulls_first=True), "id")]
    for ordering in orderings:
        expected = list(plain.order_by(*ordering).values_list("pk", flat=True))
        for start, stop in [(0, 5), (3, 9), (10, 15), (0, 20)]:
            got = [o.pk for o in selectors.rows_of(visible.order_by(*ordering), start, stop)]
            assert got == expected[start:stop], (ordering, start, stop)
    # A reversed queryset is taken the plain way, and still right.
    reversed_qs = visible.order_by("received_at", "id").reverse()
    assert [o.pk for o in selectors.rows_of(reversed_qs, 0, 5)] == list(
        plain.order_by("-received_at", "-id").values_list("pk", flat=True))[:5]
    # The keyset pages of the list walk every order once, in order.
    seen, cursor = [], ""
    while True:
        page = selectors.keyset_page(selectors.order_list(handler, OrderFilter()), cursor,
                                     per_page=5)
        seen += [o.pk for o in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == list(plain.order_by("-received_at", "-id").values_list("pk", flat=True))


def test_the_bulletin_filters_select_what_they_count(client, make_order, dispatcher, handler,
                                                     bureau, settings):
    """handling, contact, callback, repeat, notice, letter, demand_kind: the figures of a
    bulletin link to the list with these, so each must select exactly what it names."""
    from minyi.orders import escalation
    from minyi.orders.models import Order

    settings.MINYI_REPEAT_CHECK = False
    make_order("closed", title="满意的", citizen_phone="13900000001")
    late = make_order("fed_back", title="超时办结的", demand_kind="help",
                      citizen_phone="13900000002")
    Order.objects.filter(pk=late.pk).update(handling_due_at=late.handled_at - timedelta(hours=1))
    actions.record_callback(actor=dispatcher, order=late, outcome="dissatisfied")  # a letter
    uncontacted = make_order("signed", title="未联系的", citizen_phone="13900000003")
    contacted_late = make_order("signed", title="超时联系的", citizen_phone="13900000004")
    Order.objects.filter(pk=contacted_late.pk).update(
        contact_due_at=timezone.now() - timedelta(minutes=5))
    actions.contact_citizen(actor=handler, order=contacted_late, method="phone")
    overdue = make_order("signed", title="督办的", citizen_phone="13900000005")
    Order.objects.filter(pk=overdue.pk).update(
        handling_due_at=timezone.now() - timedelta(hours=1))
    escalation.sweep()
    Order.objects.filter(pk=uncontacted.pk).update(is_repeat=True)
    everything = {"满意的", "超时办结的", "未联系的", "超时联系的", "督办的"}
    client.force_login(dispatcher)

    def titles(**params):
        response = client.get(reverse("orders:list"), params)
        assert response.status_code == 200
        html = response.content.decode()
        return {title for title in everything if title in html}

    assert titles() == everything
    assert titles(handling="on_time") == {"满意的"}
    assert titles(handling="late") == set()  # fed back, not closed: not counted yet
    assert titles(callback="satisfied") == {"满意的"}
    assert titles(callback="dissatisfied") == {"超时办结的"}
    assert titles(contact="on_time") == {"满意的", "超时办结的"}
    assert titles(contact="late") == {"超时联系的"}
    assert titles(contact="none") == {"未联系的", "督办的"}
    assert titles(repeat="1") == {"未联系的"}
    assert titles(notice="1") == {"督办的"}
    assert titles(letter="1") == {"超时办结的"}
    assert titles(demand_kind="help") == {"超时办结的"}
    actions.close_order(actor=dispatcher, order=late, note="群众诉求超出公安职责，已解释说明")
    assert titles(handling="late") == {"超时办结的"}


@pytest.mark.parametrize("page", ["²", "１２x", "-1", "0"])
def test_a_page_number_that_is_no_number_gives_the_first_page(client, handler, page):
    client.force_login(handler)
    assert client.get(reverse("orders:workbench"), {"page": page}).status_code == 200
