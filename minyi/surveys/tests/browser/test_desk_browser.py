"""The survey desk and the web link in Debian's Chromium (Playwright; fixtures in
minyi/conftest.py): an interviewer takes a number, answers the questionnaire by keyboard only,
saves and is given the next one; a citizen opens the link texted to them on a phone, answers and
submits. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.callbacks.rules import TIME_ZONE
from minyi.conftest import ARTIFACTS, screenshot_on_failure
from minyi.notifications.models import SmsMessage
from minyi.orders.tests.browser.conftest import PHONE, login
from minyi.surveys import weblinks
from minyi.surveys.models import FrameMember, Quota, Response, Wave
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-for-tests-1"  # minyi.orgs.tests.factories.UserFactory


@pytest.fixture
def at_ten():
    """Ten in the morning today, within the calling hours whenever the test runs (the live
    server's thread reads the same patched clock)."""
    moment = datetime.combine(timezone.localdate(), time(10), TIME_ZONE)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


@pytest.fixture
def phone(request, browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    phone_page = context.new_page()
    yield phone_page
    screenshot_on_failure(request, phone_page, "-phone")
    context.close()


@pytest.fixture
def fielding(bureau, opinion_officer, at_ten):
    wave = factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)
    Quota.objects.create(wave=wave, area=bureau.township, target=5)
    Quota.objects.create(wave=wave, area=bureau.other_township, target=5)
    first = factories.member(wave, area=bureau.township, sex="F", age_group="40-49",
                             phone="13900001111")
    second = factories.member(wave, phone="13900002222")  # a number the frame knows nothing of
    # Not due before this afternoon: the desk leaves it to the web link.
    web = factories.member(wave, phone="13900003333", state=FrameMember.State.RETRY,
                           attempts=1, next_attempt_at=at_ten + timedelta(hours=3))
    return wave, first, second, web


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"survey-{name}.png"), full_page=True)


def test_an_interviewer_answers_by_keyboard_and_a_citizen_on_the_web(
        page, phone, bureau, opinion_officer, fielding):
    wave, first, second, web = fielding
    login(page, opinion_officer.username, PASSWORD)
    page.goto("/surveys/desk/")
    expect(page.get_by_test_id("count-due")).to_have_text("2")
    shot(page, "desk")
    page.keyboard.press("n")  # 接下一个
    expect(page.get_by_test_id("phone-masked")).to_have_text("139****1111")
    page.keyboard.press("1")  # 接通: the questionnaire opens on its first question
    expect(page.get_by_test_id("answer-form")).to_be_visible()
    for key in "21":  # 安全; 满意
        page.keyboard.press(key)
    page.keyboard.press("2")  # 基本满意
    page.keyboard.press("1")  # 知道 → the follow-up question appears
    expect(page.get_by_test_id("question-antigang_sat")).to_be_visible()
    for key in "112":  # 扫黑除恶满意; 交通满意; 偶尔参加
        page.keyboard.press(key)
    page.keyboard.type("8")  # the 0–10 rating is typed
    page.keyboard.press("Enter")
    page.keyboard.press("1")  # 盗窃
    page.keyboard.press("2")  # 电信网络诈骗
    page.keyboard.press("Enter")
    page.keyboard.type("希望晚上多巡逻")
    shot(page, "interview-desktop")
    page.keyboard.press("Enter")  # the last question: saved, and the next number opens
    expect(page.locator(".alert-success")).to_contain_text("已保存问卷（东城镇）")
    expect(page.get_by_test_id("phone-masked")).to_have_text("139****2222")

    page.keyboard.press("1")
    expect(page.get_by_test_id("screener-area")).to_be_visible()
    for key in "223":  # 西城镇; 女; 40–49岁
        page.keyboard.press(key)
    for key in "111":
        page.keyboard.press(key)
    page.keyboard.press("2")  # 不知道 → the follow-up question is skipped
    expect(page.get_by_test_id("question-antigang_sat")).to_be_hidden()
    page.keyboard.press("3")  # 交通 不满意
    page.keyboard.press("3")  # 从未参加
    page.keyboard.press("Control+Enter")  # the rest is optional: save now
    expect(page.locator(".alert-info")).to_contain_text("目前没有待拨打的号码")
    assert page.url.endswith("/surveys/desk/")

    weblinks.send_web_link(actor=opinion_officer, member=web)
    text = SmsMessage.objects.order_by("-pk").values_list("text", flat=True).first()
    path = re.search(r"/p/s/[A-Za-z0-9_\-]+/", text).group(0)
    phone.goto(path)
    expect(phone.get_by_test_id("survey-bureau")).to_have_text("测试县公安局")
    phone.get_by_test_id("screener-area").locator("select").select_option(label="东城镇")
    phone.get_by_test_id("screener-sex").get_by_text("男", exact=True).click()
    phone.get_by_test_id("screener-age_group").get_by_text("60岁及以上").click()
    for code, option in (("security", "很安全"), ("sat_police", "满意"),
                         ("sat_station", "满意"), ("antigang_aware", "不知道"),
                         ("sat_traffic", "基本满意"), ("participation", "经常参加"),
                         ("police_rating", "10"), ("problems", "交通秩序")):
        phone.get_by_test_id(f"question-{code}").get_by_text(option, exact=True).click()
    expect(phone.get_by_test_id("question-antigang_sat")).to_be_hidden()
    phone.get_by_test_id("question-suggestion").locator("textarea").fill("路灯不亮")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "web-phone")
    phone.get_by_test_id("survey-submit").click()
    expect(phone.get_by_test_id("survey-thanks")).to_be_visible()

    got = {r.member_id: r for r in Response.objects.filter(wave=wave)}
    assert set(got) == {first.pk, second.pk, web.pk}
    assert (got[first.pk].mode, got[first.pk].answers) == ("phone", {
        "security": "安全", "sat_police": "满意", "sat_station": "基本满意",
        "antigang_aware": "知道", "antigang_sat": "满意", "sat_traffic": "满意",
        "participation": "偶尔参加", "police_rating": 8, "problems": ["盗窃", "电信网络诈骗"],
        "suggestion": "希望晚上多巡逻"})
    assert (got[second.pk].area, got[second.pk].sex, got[second.pk].age_group) == (
        bureau.other_township, "F", "40-49")
    assert got[second.pk].answers == {
        "security": "很安全", "sat_police": "满意", "sat_station": "满意",
        "antigang_aware": "不知道", "sat_traffic": "不满意", "participation": "从未参加"}
    assert (got[web.pk].mode, got[web.pk].area, got[web.pk].sex, got[web.pk].age_group) == (
        "web", bureau.township, "M", "60+")
    assert got[web.pk].answers == {
        "security": "很安全", "sat_police": "满意", "sat_station": "满意",
        "antigang_aware": "不知道", "sat_traffic": "基本满意", "participation": "经常参加",
        "police_rating": 10, "problems": ["交通秩序"], "suggestion": "路灯不亮"}
