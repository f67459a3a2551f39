"""The results page of a wave in a real browser (Debian's Chromium via Playwright): township rows
with their intervals and the small-number mark, the charts drawn by the local ECharts (a canvas
exists), another definition chosen from the list, and the page on a phone (screenshots under
test-artifacts/)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from minyi.conftest import ARTIFACTS, screenshot_on_failure
from minyi.orders.tests.browser.conftest import PHONE, login
from minyi.surveys.models import IndexDefinition
from minyi.surveys.tests import factories as f

# Transactional, so the live server's thread sees the data.
pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-for-tests-1"  # minyi.orgs.tests.factories.UserFactory


@pytest.fixture
def wave(bureau, opinion_officer):
    previous = f.wave(bureau, opinion_officer, name="2026年第三季度调查",
                      starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30))
    made = f.wave(bureau, opinion_officer, version=previous.version, state="closed")
    for target, secure, insecure in ((previous, 30, 10), (made, 38, 2)):
        for i in range(secure + insecure):
            f.response(target, bureau.township,
                       {"security": "安全" if i < secure else "不安全", "sat_police": "满意",
                        "problems": ["盗窃"] if i % 3 else ["盗窃", "电信网络诈骗"]})
    for i in range(6):
        f.response(made, bureau.other_township,
                   {"security": "很安全" if i else "基本安全", "sat_police": "不满意",
                    "problems": ["噪音扰民"]})
    return made


def charts_drawn(page) -> None:
    for chart in ("chart-townships", "chart-stations"):
        expect(page.locator(f'[data-testid="{chart}"] canvas').first).to_be_visible()
    expect(page.locator('[data-testid="chart-choice"] canvas').first).to_be_visible()


def test_township_rows_with_intervals_and_the_charts(page, live_server, wave, handler):
    login(page, handler.username, PASSWORD)
    page.goto("/surveys/results/")
    expect(page.get_by_test_id("wave-name")).to_have_text(wave.name)
    expect(page.get_by_test_id("weighting")).to_have_text("未加权")

    rows = page.get_by_test_id("township-row")
    expect(rows).to_have_count(2)
    east = rows.filter(has_text="东城镇")
    expect(east.locator('[data-figure="estimate"]')).to_have_text("95.00%")
    expect(east.locator('[data-figure="n"]')).to_have_text("40")
    expect(east.locator('[data-figure="ci"]')).to_contain_text("–")
    expect(east.locator('[data-figure="change"]')).to_contain_text("提高20.00个百分点，差异显著")
    west = rows.filter(has_text="西城镇")
    expect(west.get_by_test_id("insufficient")).to_have_text("样本不足")
    expect(west.locator('[data-figure="rank"]')).to_have_text("不排名")

    charts_drawn(page)
    # Drawn by the file served here, not fetched from anywhere else.
    assert page.evaluate("typeof window.echarts.init") == "function"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "survey-results-desktop.png"), full_page=True)

    # Another version of the definition, chosen from the list.
    v2 = IndexDefinition.objects.get(bureau=None, code="security", version=2)
    page.select_option("#definition", str(v2.pk))
    page.get_by_role("button", name="查看").click()
    expect(page.locator('[data-testid="townships"] h2')).to_contain_text("口径 security v2")
    # 38 安全 counted 1 of 40: unchanged for 东城镇; 西城镇 has 基本安全 at half credit.
    expect(page.get_by_test_id("township-row").filter(has_text="西城镇")
           .locator('[data-figure="estimate"]')).to_have_text("91.67%")
    charts_drawn(page)


def test_the_page_on_a_phone(request, browser, live_server, wave, leader):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        login(phone, leader.username, PASSWORD)
        phone.goto(f"/surveys/waves/{wave.pk}/results/")
        charts_drawn(phone)
        expect(phone.get_by_test_id("headline")).to_contain_text("口径 security v1")
        # The wide tables scroll inside their frames; the page itself does not scroll sideways.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / "survey-results-phone.png"), full_page=True)
    finally:
        screenshot_on_failure(request, phone, "-phone")
        context.close()
