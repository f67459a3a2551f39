"""The bulletin page in a real browser: the charts drawn by the local ECharts, a figure that
leads to exactly its orders, and the page at desktop and phone widths (screenshots under
test-artifacts/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from minyi.assessment import bulletins
from minyi.assessment.tests.fixtures import CUTOFF, WEEK
from minyi.conftest import ARTIFACTS, screenshot_on_failure
from minyi.orders.tests.browser.conftest import login

# Transactional, so the live server's thread sees the data.
pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-for-tests-1"  # minyi.orgs.tests.factories.UserFactory
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def bulletin(week_orders, bureau):
    return bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK, now=CUTOFF)[0]


def charts_drawn(page) -> None:
    for chart in ("chart-satisfaction", "chart-on-time", "chart-volume"):
        expect(page.locator(f'[data-testid="{chart}"] canvas').first).to_be_visible()


def test_charts_and_a_figure_that_leads_to_its_orders(page, live_server, bulletin, bureau,
                                                      leader):
    login(page, leader.username, PASSWORD)
    page.goto(f"/assessment/bulletins/{bulletin.pk}/")
    expect(page.get_by_test_id("bulletin-number")).to_have_text("通报〔2024〕1号")
    expect(page.get_by_test_id("headline")).to_contain_text("全局共受理群众诉求工单8件")
    charts_drawn(page)
    # The charts were drawn by the file served here, not fetched from anywhere else.
    assert page.evaluate("typeof window.echarts.init") == "function"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "bulletin-desktop.png"), full_page=True)

    row = page.locator(f'[data-testid="unit-row"][data-unit="{bureau.station.pk}"]')
    expect(row.locator('[data-figure="closed_on_time"]')).to_have_text("3")
    row.locator('[data-figure="received"] a').click()
    expect(page).to_have_url(f"{live_server.url}/orders/?received_from="
                             f"2024-05-06&received_to=2024-05-12&unit={bureau.station.pk}")
    expect(page.get_by_test_id("order-row")).to_have_count(6)

    page.go_back()
    row.locator('[data-figure="closed_on_time"] a').click()
    expect(page.get_by_test_id("order-row")).to_have_count(3)


def test_the_page_on_a_phone(request, browser, live_server, bulletin, handler):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        login(phone, handler.username, PASSWORD)
        phone.goto(f"/assessment/bulletins/{bulletin.pk}/")
        charts_drawn(phone)
        expect(phone.get_by_test_id("black-list")).to_contain_text("东城派出所")
        # The wide table scrolls inside its frame; the page itself does not scroll sideways.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / "bulletin-phone.png"), full_page=True)
    finally:
        screenshot_on_failure(request, phone, "-phone")
        context.close()
