"""The dashboard in a real browser: the charts drawn by the local ECharts, the league table
sorted by a click, and a unit's figure that leads to exactly the orders it counts."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from minyi.assessment import facts
from minyi.assessment.tests.fixtures import CUTOFF
from minyi.conftest import ARTIFACTS
from minyi.orders.tests.browser.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-for-tests-1"  # minyi.orgs.tests.factories.UserFactory


@pytest.fixture
def counted(week_orders, bureau):
    facts.recount(bureau=bureau.bureau, month=date(2024, 5, 1), now=CUTOFF)
    return week_orders


def test_a_units_figure_leads_to_exactly_its_orders(page, live_server, counted, bureau,
                                                    leader):
    login(page, leader.username, PASSWORD)
    page.goto("/assessment/dashboard/?year=2024")
    expect(page.get_by_test_id("computed-at")).to_contain_text("统计于 2024年5月13日 08:00")
    for chart in ("chart-trend", "chart-compare"):
        expect(page.locator(f'[data-testid="{chart}"] canvas').first).to_be_visible()
    assert page.evaluate("typeof window.echarts.init") == "function"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)

    # Sorting by received puts the station with 8 orders first, then last.
    league = page.get_by_test_id("league")
    heading = league.locator("th", has_text="受理")
    heading.click()
    expect(league.locator("tbody tr").first).to_have_attribute("data-unit",
                                                               str(bureau.station.pk))
    heading.click()
    expect(league.locator("tbody tr").last).to_have_attribute("data-unit",
                                                              str(bureau.station.pk))

    row = page.locator(f'[data-testid="league-row"][data-unit="{bureau.station.pk}"]')
    link = row.locator('[data-count="on_time"]')
    counted_on_time = int(link.inner_text())
    assert counted_on_time == 5
    link.click()
    expect(page).to_have_url(f"{live_server.url}/orders/?received_from=2024-05-01"
                             f"&received_to=2024-05-31&unit={bureau.station.pk}"
                             "&handling=on_time")
    expect(page.get_by_test_id("order-row")).to_have_count(counted_on_time)

    page.go_back()
    received = row.locator('[data-figure="received"] a')
    expected = int(received.inner_text())
    received.click()
    expect(page.get_by_test_id("order-row")).to_have_count(expected)
