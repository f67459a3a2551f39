import pytest
from django.core.management import call_command

from minyi.orgs.demo import DEMO_PASSWORD

# Transactional, so the live server's thread sees the data; the flush after each test takes the
# migrations' calendars with it, which `load_demo` puts back.
pytestmark = pytest.mark.django_db(transaction=True)


def _login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_station_officer_logs_in_and_sees_the_home_page(page):
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    _login(page, "zhengwei")
    page.wait_for_selector('[data-testid="home-unit_handler"]')
    assert page.locator('[data-testid="topbar-name"]').inner_text() == "郑伟"
    assert page.locator('[data-testid="topbar-unit"]').inner_text() == "历山派出所"
    unit_card = page.locator('[data-testid="unit-card"]')
    assert "历山街道" in unit_card.inner_text()
    assert page.locator('[data-testid="today-card"]').is_visible()
    # The stylesheet is the project's own and it loaded.
    colour = page.locator(".topbar").evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(31, 78, 140)"


def test_wrong_password_stays_on_login_with_a_chinese_message(page):
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    _login(page, "zhengwei", "wrong")
    assert "请输入一个正确的" in page.locator(".alert-error").inner_text()


def test_station_officer_cannot_open_another_station(page):
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    from minyi.orgs.models import Unit

    other = Unit.objects.get(name="南麻派出所")
    _login(page, "zhengwei")
    page.wait_for_selector('[data-testid="home-unit_handler"]')
    response = page.goto(f"/orgs/units/{other.pk}/")
    assert response.status == 404


def test_phone_width_folds_the_navigation(browser, live_server):
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server.url)
    page = context.new_page()
    try:
        _login(page, "zhengwei")
        page.wait_for_selector('[data-testid="home-unit_handler"]')
        assert not page.locator(".sidenav").is_visible()
        page.get_by_role("button", name="菜单").click()
        assert page.locator(".sidenav").is_visible()
    finally:
        context.close()
