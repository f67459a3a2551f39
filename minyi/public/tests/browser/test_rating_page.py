"""A rating link on a phone (390×844): the person rates 不满意 with a reason and a comment and
sees the thanks page; the station's officer then finds the rectification item. Screenshots go
to test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from minyi.callbacks import links
from minyi.callbacks.models import Answer, Rectification
from minyi.conftest import ARTIFACTS, screenshot_on_failure
from minyi.public.tests.callback_fixtures import make_task, token_of_last_sms

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


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
    page.screenshot(path=str(ARTIFACTS / f"rating-{name}.png"), full_page=True)


def test_rate_dissatisfied_on_a_phone(phone, page, bureau, handler):
    task = make_task(bureau)
    links.send_rating_link(actor=handler, task=task)
    url = f"/p/r/{token_of_last_sms()}/"

    phone.goto(url)
    expect(phone.locator('[data-testid="rate-unit"]')).to_have_text("东城派出所")
    # Phone-sized: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    reasons = phone.locator('[data-testid="rate-reasons"]')
    expect(reasons).to_be_hidden()
    shot(phone, "form-phone")
    phone.get_by_text("不满意", exact=True).click()
    expect(reasons).to_be_visible()
    phone.get_by_label("态度").check()
    phone.get_by_label("意见和建议（选填）").fill("打了三次电话都没人回")
    shot(phone, "dissatisfied-phone")
    phone.get_by_role("button", name="提交评价").click()
    expect(phone.locator('[data-testid="rate-thanks"]')).to_contain_text("不满意")
    shot(phone, "thanks-phone")

    saved = Answer.objects.get(task=task)
    assert (saved.via, saved.satisfaction, saved.reasons, saved.comment) == (
        "link", "dissatisfied", ["attitude"], "打了三次电话都没人回")
    item = Rectification.objects.get(task=task)

    # The link again: used.
    phone.goto(url)
    expect(phone.locator('[data-testid="rate-problem"]')).to_contain_text("您已经评价过了")

    # The station's officer finds the item on the rectification list.
    page.goto("/login/")
    page.get_by_label("用户名").fill(handler.username)
    page.get_by_label("密码").fill("pw-for-tests-1")
    page.get_by_role("button", name="登录").click()
    page.goto("/callbacks/rectifications/")
    row = page.locator('[data-testid="rect-row"]')
    expect(row).to_have_count(1)
    expect(row.locator('[data-testid="rect-state"]')).to_have_text("待整改")
    row.get_by_role("link", name="东城派出所").click()
    expect(page.locator('[data-testid="rect-reasons"]')).to_have_text("态度")
    expect(page.locator('[data-testid="rect-comment"]')).to_contain_text("打了三次电话都没人回")
    assert page.url.endswith(f"/callbacks/rectifications/{item.pk}/")
    shot(page, "rectification-desktop")
