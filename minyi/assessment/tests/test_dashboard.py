"""The leadership dashboard: who may read it, what it shows for a year, links that select
exactly the orders a figure counts, the alerts, and a cost that does not grow with the orders
or the units."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.assessment import facts
from minyi.assessment.models import Measure, MonthlyFigures, Programme, ProgrammeTask
from minyi.assessment.tests.fixtures import CUTOFF, at
from minyi.callbacks.models import Rectification
from minyi.orders.models import Order
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import UnitFactory
from minyi.public.tests.callback_fixtures import make_task

pytestmark = pytest.mark.django_db
URL = reverse("assessment:dashboard")
MAY = date(2024, 5, 1)


@pytest.fixture
def counted(week_orders, bureau):
    for month in (date(2024, 4, 1), MAY):
        facts.recount(bureau=bureau.bureau, month=month, now=CUTOFF)
    return week_orders


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def rows_listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().count('data-testid="order-row"')


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["leader", "inspector", "opinion_officer", "administrator"])
def test_the_bureau_wide_posts_read_it(client, request, counted, role):
    response = get(client, request.getfixturevalue(role), year="2024")
    assert response.status_code == 200
    assert "领导驾驶舱 · 测试县公安局" in response.content.decode()


@pytest.mark.parametrize("role", ["handler", "dispatcher"])
def test_other_posts_are_refused(client, request, counted, bureau, role):
    user = request.getfixturevalue(role)
    assert get(client, user, year="2024").status_code == 403
    assert get(client, user, year="2024", bureau=str(bureau.bureau.pk)).status_code == 403


def test_another_bureau_is_not_found(client, counted, bureau, other_bureau_user):
    # A leader of another bureau asking for this one: 404, as for a bureau that does not exist.
    other_leader = other_bureau_user
    other_leader.memberships.update(role=Role.BUREAU_LEADER)
    assert get(client, other_leader, bureau=str(bureau.bureau.pk)).status_code == 404
    assert get(client, other_leader, bureau="999999").status_code == 404
    response = get(client, other_leader, year="2024")
    assert response.status_code == 200
    assert "外县公安局" in response.content.decode()
    assert "东城派出所" not in response.content.decode()


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_bad_year_is_answered_in_chinese(client, counted, leader):
    response = get(client, leader, year="二〇二四")
    assert response.status_code == 400
    assert "年度「二〇二四」不正确" in response.content.decode()


# --- the figures -------------------------------------------------------------------------------


def test_the_year_shows_the_latest_month_and_its_trend(client, counted, bureau, leader):
    response = get(client, leader, year="2024")
    page = response.context
    assert page["latest"] == MAY
    assert "统计于 2024年5月13日 08:00" in response.content.decode()
    headline = {h["key"]: h for h in page["headline"]}
    assert headline["received"]["text"] == "10"
    # 7 closed of 10 − 1 invalid; 6 on time of 7 closed.
    assert (headline["completion"]["text"], headline["completion"]["n"]) == ("77.8%", 9)
    assert (headline["on_time"]["numerator"], headline["on_time"]["n"]) == (6, 7)
    trend = page["charts"]["trend"]
    assert len(trend["months"]) == 12
    assert trend["received"][:6] == [None, None, None, 0, 10, None]
    assert trend["completion"][4] == 77.8
    league = {row["unit"].pk: row for row in page["league"]}
    assert list(league) == [bureau.station.pk, bureau.other_station.pk, bureau.squad.pk]
    station = {c["key"]: c for c in league[bureau.station.pk]["cells"]}
    assert (league[bureau.station.pk]["received"], station["on_time"]["numerator"],
            station["on_time"]["n"], station["on_time"]["text"]) == (8, 5, 6, "83.3%")
    assert station["on_time"]["low"]  # below the 90% floor
    assert page["charts"]["compare"]["units"] == ["东城派出所", "西城派出所"]


def test_every_count_links_to_exactly_the_orders_it_counts(client, counted, bureau, leader):
    page = get(client, leader, year="2024").context
    station = next(r for r in page["league"] if r["unit"] == bureau.station)
    on_time = next(c for c in station["cells"] if c["key"] == "on_time")
    assert on_time["url"] == (f"/orders/?received_from=2024-05-01&received_to=2024-05-31"
                              f"&unit={bureau.station.pk}&handling=on_time")
    assert rows_listed(client, on_time["url"]) == on_time["numerator"] == 5
    assert rows_listed(client, station["received_url"]) == station["received"] == 8
    contact = next(c for c in station["cells"] if c["key"] == "contact")
    assert rows_listed(client, contact["url"]) == contact["numerator"] == 5
    headline = {h["key"]: h for h in page["headline"]}
    assert rows_listed(client, headline["received"]["url"]) == 10
    assert rows_listed(client, headline["completion"]["url"]) == 7


def test_a_year_without_figures_says_so(client, counted, leader):
    response = get(client, leader)  # this year: nothing counted
    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year
    assert f"{timezone.localdate().year}年尚无月度统计数据" in response.content.decode()


# --- alerts ------------------------------------------------------------------------------------


def test_the_alerts(client, counted, bureau, leader):
    task = make_task(bureau)
    Rectification.objects.create(bureau=bureau.bureau, unit=bureau.station, task=task,
                                 due_at=timezone.now() - timedelta(days=1))
    programme = Programme.objects.create(bureau=bureau.bureau, year=2024, title="七抓七促")
    measure = Measure.objects.create(programme=programme, number=1, title="抓接处警促规范",
                                     lead_unit=bureau.command_centre)
    today = timezone.localdate()
    ProgrammeTask.objects.create(measure=measure, number=1, title="完善接处警流程",
                                 deadline=today - timedelta(days=3))
    ProgrammeTask.objects.create(measure=measure, number=2, title="按期完成的任务",
                                 deadline=today - timedelta(days=3), state="done")
    ProgrammeTask.objects.create(measure=measure, number=3, title="未到期的任务",
                                 deadline=today + timedelta(days=3))
    response = get(client, leader, year="2024")
    alerts = response.context["alerts"]
    # Both notices of the fixture are long past their reply deadline.
    assert (alerts["notices"], alerts["rectifications"], alerts["tasks"]) == (2, 1, 1)
    assert alerts["notices_url"] == "/orders/notices/?status=overdue"
    listed = client.get(alerts["notices_url"]).content.decode()
    assert len(set(re.findall(r"督〔2024〕\d+号", listed))) == 2
    assert [b["unit"] for b in alerts["below_floor"]] == [bureau.station]
    html = response.content.decode()
    assert "完善接处警流程" in html and "未到期的任务" not in html


# --- cost --------------------------------------------------------------------------------------


def _orders_in_units(make_order, bureau, units: int) -> None:
    template = make_order("closed")
    stations = [UnitFactory(kind="station", name=f"第{i}派出所", parent=bureau.bureau)
                for i in range(units)]
    copies = []
    for i, station in enumerate(stations):
        for _ in range(2):
            copy = Order.objects.get(pk=template.pk)
            copy.pk = None
            copy.lead_unit = station
            copy.received_at = at(f"2024-05-{i % 28 + 1:02d} 10:00")
            copies.append(copy)
    Order.objects.bulk_create(copies)
    facts.recount(bureau=bureau.bureau, month=MAY, now=CUTOFF)


def _queries(client, user) -> int:
    client.force_login(user)
    client.get(URL, {"year": "2024"})  # warm-up: the session and caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, {"year": "2024"}).status_code == 200
    assert not any('"orders_order"' in q["sql"] for q in queries.captured_queries)
    return len(queries)


def test_the_query_count_does_not_grow_with_units_or_orders(client, make_order, bureau,
                                                           leader):
    _orders_in_units(make_order, bureau, 5)
    few = _queries(client, leader)
    assert MonthlyFigures.objects.filter(month=MAY).count() == 5 + 4
    _orders_in_units(make_order, bureau, 45)
    many = _queries(client, leader)
    assert MonthlyFigures.objects.filter(month=MAY).count() == 50 + 4
    assert few == many
