"""Browser tests of the order pages: a second person on a phone (the `browser` and `page`
fixtures are in minyi/conftest.py)."""

from __future__ import annotations

import pytest

from minyi.conftest import screenshot_on_failure
from minyi.orgs.demo import DEMO_PASSWORD

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(request, browser, live_server):
    """A second person on a phone-sized screen (a station's officer on duty)."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    phone_page = context.new_page()
    yield phone_page
    screenshot_on_failure(request, phone_page, "-phone")
    context.close()


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector('[data-testid^="home-"]')
