"""An officer works through the day's callbacks at the desk by keyboard only, at a desktop
and on a phone (Debian's Chromium via Playwright; fixtures in minyi/conftest.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from minyi.callbacks.models import Answer, CallbackTask, Caller, Contact, Rectification
from minyi.callbacks.rules import TIME_ZONE
from minyi.conftest import ARTIFACTS
from minyi.orders.tests.browser.conftest import PHONE, login
from minyi.orgs.demo import BUREAU_CODE
from minyi.orgs.models import Unit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def at_ten():
    """Ten in the morning today, within the calling hours whenever the test runs (the live
    server's thread reads the same patched clock)."""
    moment = datetime.combine(timezone.localdate(), time(10), TIME_ZONE)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


@pytest.fixture
def two_tasks(at_ten):
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    bureau = Unit.objects.get(code=BUREAU_CODE)
    station = Unit.objects.get(code=f"{BUREAU_CODE}-PCS01")
    tasks = []
    for i, (phone, summary) in enumerate([("13900001111", "夜间邻居吵闹求助"),
                                          ("13900002222", "电动车电池被盗报警")]):
        contact = Contact(bureau=bureau, unit=station, source="call_110", record_type="求助",
                          external_id=f"B{i}", occurred_at=at_ten - timedelta(days=1),
                          summary=summary)
        contact.set_person(name="李秀兰", phone=phone)
        contact.save()
        due = at_ten - timedelta(hours=2 - i)
        tasks.append(CallbackTask.objects.create(
            bureau=bureau, unit=station, caller=Caller.UNIT, contact=contact, due_at=due,
            next_attempt_at=due))
    return tasks


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_officer_works_through_two_tasks_by_keyboard(page, two_tasks):
    first, second = two_tasks
    login(page, "zhengwei")
    page.goto("/callbacks/desk/")
    expect(page.get_by_test_id("count-due")).to_have_text("2")
    page.keyboard.press("n")  # 取下一个
    expect(page.get_by_test_id("script")).to_contain_text("夜间邻居吵闹求助")
    expect(page.get_by_test_id("phone-masked")).to_have_text("139****1111")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "callbacks-desk-task-desktop.png"), full_page=True)
    page.keyboard.press("2")  # 无人接听: saved, and the next task opens
    expect(page.locator(".alert-success")).to_contain_text("无人接听")
    expect(page.get_by_test_id("script")).to_contain_text("电动车电池被盗报警")
    page.keyboard.press("1")  # 接通: the questions
    expect(page.get_by_test_id("answer-form")).to_be_visible()
    page.keyboard.press("3")  # 不满意
    page.keyboard.press("6")  # 原因：结果
    page.keyboard.press("c")
    page.keyboard.type("电池没有找回")
    page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("不满意")
    expect(page.locator(".alert-info")).to_contain_text("目前没有到期的回访任务")
    assert page.url.endswith("/callbacks/desk/")
    expect(page.get_by_test_id("count-done")).to_have_text("1")
    expect(page.get_by_test_id("count-later")).to_have_text("1")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.attempts, first.outcome) == ("retry", 1, "UH")
    assert first.next_attempt_at == first.attempt_set.get().at + timedelta(hours=2)
    answer = Answer.objects.get(task=second)
    assert (answer.satisfaction, answer.reasons, answer.comment) == (
        "dissatisfied", ["result"], "电池没有找回")
    assert second.state == "completed"
    assert Rectification.objects.filter(task=second).exists()


def test_the_desk_on_a_phone(browser, live_server, two_tasks):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        login(phone, "zhengwei")
        phone.goto("/callbacks/desk/")
        assert fits(phone)
        phone.get_by_test_id("desk-next").click()
        expect(phone.get_by_test_id("dispose-no_answer")).to_be_visible()
        assert fits(phone)
        phone.get_by_test_id("reveal").click()
        expect(phone.get_by_test_id("phone-revealed")).to_have_text("13900001111")
        phone.get_by_test_id("dispose-answered").click()
        phone.locator('input[name="satisfaction"][value="satisfied"]').check()
        ARTIFACTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / "callbacks-desk-task-phone.png"), full_page=True)
        assert fits(phone)
        phone.get_by_test_id("save-answer").click()
        expect(phone.locator(".alert-success")).to_contain_text("满意")
        assert Answer.objects.get(task=two_tasks[0]).satisfaction == "satisfied"
    finally:
        context.close()
