"""The rectification loop in a real browser: the station's officer on a phone reports what was
done, the opinion office at a desk returns it, the station reports again, the office accepts;
the recall confirms and the item is closed out. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from minyi.callbacks.models import Rectification
from minyi.conftest import ARTIFACTS, screenshot_on_failure
from minyi.public.tests.callback_fixtures import answer, make_task

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
REPORT = "已上门向群众当面说明处理结果，并对接警民警进行批评教育。"


@pytest.fixture
def phone(request, browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    phone_page = context.new_page()
    yield phone_page
    screenshot_on_failure(request, phone_page, "-phone")
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"rectification-{name}.png"), full_page=True)


def login(page, user) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("pw-for-tests-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector('[data-testid^="home-"]')


def test_rectification_loop(page, phone, bureau, handler, opinion_officer):
    task = make_task(bureau)
    answer(task, "dissatisfied", reasons=["speed"], comment="等了两天才有人来")
    item = Rectification.objects.get(task=task)
    url = f"/callbacks/rectifications/{item.pk}/"

    login(phone, handler)
    phone.goto(url)
    expect(phone.locator('[data-testid="rect-state"]')).to_have_text("待整改")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_label("整改情况").fill(REPORT)
    shot(phone, "report-phone")
    phone.get_by_role("button", name="上报整改情况").click()
    expect(phone.locator('[data-testid="rect-state"]')).to_have_text("已上报待审核")

    login(page, opinion_officer)
    page.goto(url)
    page.get_by_label("审核意见（退回时必填）").fill("请写明是否已与群众当面沟通")
    page.get_by_role("button", name="退回重新整改").click()
    expect(page.locator('[data-testid="rect-state"]')).to_have_text("退回重新整改")

    phone.goto(url)
    expect(phone.locator('[data-testid="rect-facts"]')).to_contain_text("请写明是否已与群众当面沟通")
    phone.get_by_label("整改情况").fill(REPORT + "已当面沟通，群众表示理解。")
    phone.get_by_role("button", name="上报整改情况").click()

    page.goto(url)
    page.get_by_role("button", name="审核通过，安排再回访").click()
    expect(page.locator('[data-testid="rect-state"]')).to_have_text("已通过待再回访")
    expect(page.locator('[data-testid="rect-recall"]')).to_contain_text("待回访")
    shot(page, "accepted-desktop")

    item.refresh_from_db()
    answer(item.recall, "satisfied", actor=opinion_officer)
    page.goto(url)
    expect(page.locator('[data-testid="rect-state"]')).to_have_text("再回访满意，已销号")
    expect(page.locator('[data-testid="timeline-entry"]')).to_have_count(9)
    shot(page, "confirmed-desktop")
