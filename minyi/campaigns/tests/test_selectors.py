"""Hot issues from the database: the aggregates per period, and counts that agree with the
order list their links open."""

from __future__ import annotations

import re

import pytest

from minyi.campaigns import selectors
from minyi.campaigns.tests.conftest import PERIOD
from minyi.orgs import access


def rows_by_key(rows):
    return {row.key: row for row in rows}


def test_aggregates(bureau, dispatcher, orders, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        report = selectors.hot_report(access.visible_orders(dispatcher), PERIOD)
    assert report.totals == [1, 2, 1, 1, 8]
    assert report.baseline_total == 5 and report.current_total == 8

    types = rows_by_key(report.order_types)
    assert types["noise"].rise.current == 7 and types["noise"].rise.baseline == (0, 1, 0, 0)
    assert types["noise"].rise.expected == 0.25
    # n = 8, p0 = 1/5: P(X >= 7) = 8·0.2^7·0.8 + 0.2^8
    assert types["noise"].rise.p_value == pytest.approx(8 * 0.2**7 * 0.8 + 0.2**8)
    assert types["noise"].rise.rising
    assert types["hukou"].rise.current == 1 and types["hukou"].rise.p_value is None
    assert report.order_types[0].key == "noise"
    assert types["noise"].rise.label == "噪音扰民"

    kinds = rows_by_key(report.demand_kinds)
    assert kinds["complaint"].rise.current == 7 and kinds["consultation"].rise.baseline == (
        1, 1, 1, 1)

    areas = rows_by_key(report.areas)
    east, west = str(bureau.township.pk), str(bureau.other_township.pk)
    assert set(areas) == {east, west}
    assert areas[east].rise.label == "东城镇"
    assert (areas[east].rise.current, areas[east].rise.baseline) == (6, (0, 1, 0, 0))
    assert (areas[west].rise.current, areas[west].rise.baseline) == (1, (1, 1, 1, 1))
    assert report.unplaced == 1

    words = rows_by_key(report.keywords)
    assert words["噪音"].rise.current == 6 and words["噪音"].rise.baseline == (0, 1, 0, 0)
    assert "户籍" not in words  # one this week: under the minimum of five
    rising = {r.rise.label for r in report.rising}
    assert {"噪音扰民", "投诉", "东城镇", "噪音"} <= rising
    assert not rising & {"户籍业务", "西城镇", "咨询"}


def test_keyword_cap(dispatcher, orders):
    report = selectors.hot_report(access.visible_orders(dispatcher), PERIOD, keyword_cap=12)
    assert report.keywords == []
    assert "超过关键词统计的上限 12 件" in report.keyword_note
    assert report.order_types  # the aggregates are still there


def test_a_unit_counts_only_its_own_orders(bureau, handler, outsider, orders):
    # The hot page belongs to bureau-wide roles; the selector under it still counts only
    # what the user may see.
    report = selectors.hot_report(access.visible_orders(outsider), PERIOD)
    assert report.totals == [0, 0, 0, 0, 0]


def listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return len(re.findall(r'data-testid="order-row"', response.content.decode()))


def test_every_count_links_to_as_many_orders(client, dispatcher, orders):
    """The links of every row open the order list with exactly the orders counted."""
    from minyi.orders.models import Order

    assert Order.objects.count() == 15
    client.force_login(dispatcher)
    report = selectors.hot_report(access.visible_orders(dispatcher), PERIOD)
    checked = 0
    for row in report.order_types + report.areas + report.keywords + report.demand_kinds:
        if not row.current_url:
            continue
        assert listed(client, row.current_url) == row.rise.current, (row.rise.label, "本期")
        assert listed(client, row.baseline_url) == row.rise.baseline_total, (row.rise.label,
                                                                             "基线")
        checked += 1
    assert checked >= 5
    assert listed(client, report.total_urls[0]) == report.current_total
    assert listed(client, report.total_urls[1]) == report.baseline_total


def test_source_orders_and_suggested_units(bureau, dispatcher, orders):
    qs = access.visible_orders(dispatcher)
    assert selectors.source_orders(qs, "keyword", "噪音", PERIOD).count() == 6
    assert selectors.source_orders(qs, "area", str(bureau.township.pk), PERIOD).count() == 6
    assert selectors.source_orders(qs, "order_type", "hukou", PERIOD).count() == 1
    assert selectors.source_orders(qs, "nonsense", "x", PERIOD).count() == 0
    assert selectors.suggested_units(qs, "area", str(bureau.other_township.pk), PERIOD) == [
        bureau.other_station.pk]
    assert selectors.source_label("order_type", "noise") == "噪音扰民"
    assert selectors.source_label("area", str(bureau.township.pk)) == "东城镇"
    assert selectors.source_label("area", "x") == ""
    assert selectors.source_label("demand_kind", "complaint") == "投诉"
