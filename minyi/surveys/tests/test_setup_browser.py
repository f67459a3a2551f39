"""An opinion officer sets a wave up in the browser, forms only: a questionnaire from the
template, one question changed, a wave, its quotas, random numbers, and the start; then the
wave page on a phone (Debian's Chromium via Playwright; fixtures in minyi/conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from minyi.conftest import ARTIFACTS
from minyi.orders.tests.browser.conftest import PHONE
from minyi.orgs.models import Role
from minyi.surveys.models import FrameMember, Quota, Wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def login(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector('[data-testid^="home-"]')


def test_an_officer_sets_up_and_opens_a_wave(page, browser, live_server, bureau):
    officer = bureau.member(Role.OPINION_OFFICER, bureau.bureau, username="minyi",
                            full_name="孙民意")
    login(page, officer.username)
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto("/surveys/questionnaires/")
    page.get_by_role("button", name="新建问卷").click()
    expect(page.locator('[data-testid="question"]')).to_have_count(10)
    traffic = page.locator('[data-testid="question"][data-code="sat_traffic"]')
    traffic.get_by_text("修改本题").click()
    traffic.locator('textarea[name="q-sat_traffic-text"]').fill("您对本地交通秩序满意吗？")
    traffic.get_by_role("button", name="保存").click()
    expect(page.locator("#q-sat_traffic h2")).to_contain_text("您对本地交通秩序满意吗？")
    page.screenshot(path=str(ARTIFACTS / "surveys-setup-version.png"), full_page=True)

    page.goto("/surveys/waves/")
    page.get_by_test_id("wave-new").click()
    page.get_by_label("调查名称").fill("2026年第四季度群众安全感满意度调查")
    page.get_by_label("开始日期").fill("2026-10-01")
    page.get_by_label("结束日期").fill("2026-12-31")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("wave-state")).to_have_text("准备中")

    page.get_by_test_id("quotas-link").click()
    page.get_by_label("东城镇（东城派出所）").fill("300")
    page.get_by_label("西城镇（西城派出所）").fill("200")
    page.get_by_role("button", name="保存配额").click()
    expect(page.get_by_test_id("quota-total")).to_have_text("500")

    page.get_by_test_id("frame-generate-link").click()
    page.get_by_label("号段").fill("1390571 1860571")
    page.get_by_label("生成数量").fill("40")
    page.get_by_label("随机种子").fill("20261001")
    page.get_by_role("button", name="生成").click()
    expect(page.get_by_test_id("frame-members")).to_contain_text("139****")
    page.get_by_text("« 返回调查").click()

    page.get_by_test_id("wave-open").click()
    expect(page.get_by_test_id("wave-state")).to_have_text("调查中")
    expect(page.get_by_test_id("frame-total")).to_have_text("40")
    page.screenshot(path=str(ARTIFACTS / "surveys-setup-wave.png"), full_page=True)

    wave = Wave.objects.get()
    assert wave.state == "fielding" and wave.version.is_frozen
    assert sorted(Quota.objects.values_list("target", flat=True)) == [200, 300]
    assert FrameMember.objects.filter(wave=wave, origin="generated").count() == 40
    assert wave.version.questions.get(code="sat_traffic").text == "您对本地交通秩序满意吗？"

    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        login(phone, officer.username)
        phone.goto(f"/surveys/waves/{wave.pk}/")
        expect(phone.get_by_test_id("quota-progress")).to_contain_text("东城镇")
        phone.screenshot(path=str(ARTIFACTS / "surveys-setup-wave-phone.png"), full_page=True)
    finally:
        context.close()
