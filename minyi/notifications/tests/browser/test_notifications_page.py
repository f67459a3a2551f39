"""The bell and the notifications page in Chromium: a dispatch lights the handler's bell,
marking one read with HTMX puts the count down, opening one goes to the order; at phone width
the bell stays in the top bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from minyi.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)


def _login(page, username: str) -> None:
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-1")
    page.get_by_role("button", name="登录").click()


def test_the_bell_and_the_list(page, make_order, handler):
    first = make_order("dispatched", title="小区门口占道经营")
    make_order("dispatched", title="夜间施工噪音")
    _login(page, handler.username)
    bell = page.locator('[data-testid="bell-count"]')
    assert bell.inner_text() == "2"
    page.locator('[data-testid="bell"]').click()
    page.wait_for_selector('[data-testid="notification"]')
    assert page.locator(".notif-unread").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / "notifications-desktop.png"), full_page=True)

    page.locator('[data-testid="mark-read"]').first.click()
    page.wait_for_function("document.querySelectorAll('.notif-unread').length === 1")
    assert bell.inner_text() == "1"  # swapped out of band, without a reload

    page.get_by_text("小区门口占道经营").click()
    page.wait_for_url(f"**/orders/{first.pk}/")
    assert page.locator('[data-testid="bell-count"]').count() == 0


def test_phone_width(browser, live_server, make_order, handler):
    make_order("dispatched")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server.url)
    page = context.new_page()
    try:
        _login(page, handler.username)
        page.goto("/notifications/")
        assert page.locator('[data-testid="bell-count"]').is_visible()
        row = page.locator('[data-testid="notification"]').first
        assert row.bounding_box()["width"] <= 390
        # Nothing sticks out sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(Path(ARTIFACTS) / "notifications-phone.png"), full_page=True)
        page.get_by_role("button", name="全部标为已读").click()
        page.wait_for_function("document.querySelectorAll('.notif-unread').length === 0")
        assert page.locator('[data-testid="bell-count"]').count() == 0
    finally:
        context.close()
