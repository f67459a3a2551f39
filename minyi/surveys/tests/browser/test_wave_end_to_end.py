"""A wave from beginning to end in Debian's Chromium: set up from the built-in template, answered
at the desk and on the web link, weighted on its page, and reported by township with intervals.

The set-up pages, the desk and the web link have their own browser tests; this one follows one
wave through all of them, so that what the desk writes is what the weighting and the results
read. Most answers are written directly (a desk session of a hundred calls would only make the
test slow); two come through the browser.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.callbacks.rules import TIME_ZONE
from minyi.notifications.models import SmsMessage
from minyi.orders.tests.browser.conftest import PHONE, login
from minyi.surveys import actions, population, weblinks
from minyi.surveys.models import AgeGroup, FrameMember, Response, Sex, Weighting
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-for-tests-1"  # minyi.orgs.tests.factories.UserFactory
SECURITY = ["很安全", "安全", "基本安全", "不太安全", "不安全"]


@pytest.fixture
def at_ten():
    moment = datetime.combine(timezone.localdate(), time(10), TIME_ZONE)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def _answers(rng: random.Random, security: str) -> dict:
    return {"security": security, "sat_police": rng.choice(["满意", "基本满意", "不满意"]),
            "sat_station": "满意", "antigang_aware": "不知道", "sat_traffic": "满意",
            "participation": "从未参加"}


def test_a_wave_from_the_template_to_the_township_results(
        page, browser, live_server, bureau, opinion_officer, at_ten):
    # Set up from the template, as the set-up pages do (their own browser test clicks them).
    questionnaire = actions.create_questionnaire_from_template(actor=opinion_officer,
                                                               bureau=bureau.bureau)
    wave = actions.create_wave(actor=opinion_officer, version=questionnaire.latest_version(),
                               name="2026年第四季度调查", starts_on=date(2026, 10, 1),
                               ends_on=date(2026, 12, 31))
    actions.set_quotas(actor=opinion_officer, wave=wave,
                       targets={bureau.township.pk: 60, bureau.other_township.pk: 60})
    desk_member = factories.member(wave, area=bureau.township, sex="F", age_group="30-39",
                                   phone="13900001111")
    web_member = factories.member(wave, area=bureau.other_township, sex="M", age_group="60+",
                                  phone="13900002222")
    actions.open_wave(actor=opinion_officer, wave=wave)
    FrameMember.objects.filter(pk=web_member.pk).update(
        state=FrameMember.State.RETRY, attempts=1,
        next_attempt_at=at_ten.replace(hour=16))  # not due: the desk leaves it to the web link

    # 40 answers per township already in; 东城镇 feels safer than 西城镇.
    rng = random.Random(7)
    for area, safe_share in ((bureau.township, 0.95), (bureau.other_township, 0.70)):
        for i in range(40):
            security = rng.choice(SECURITY[:3]) if rng.random() < safe_share else \
                rng.choice(SECURITY[3:])
            factories.response(wave, area, _answers(rng, security),
                               sex="M" if i % 3 else "F",
                               age_group=AgeGroup.values[i % len(AgeGroup.values)])

    # One answer at the desk, by keyboard.
    login(page, opinion_officer.username, PASSWORD)
    page.goto("/surveys/desk/")
    page.keyboard.press("n")
    expect(page.get_by_test_id("phone-masked")).to_have_text("139****1111")
    page.keyboard.press("1")  # 接通
    expect(page.get_by_test_id("answer-form")).to_be_visible()
    for key in "111":  # 很安全; 满意; 满意
        page.keyboard.press(key)
    page.keyboard.press("2")  # 不知道
    page.keyboard.press("1")  # 交通 满意
    page.keyboard.press("3")  # 从未参加
    page.keyboard.press("Control+Enter")
    expect(page.locator(".alert-success")).to_contain_text("已保存问卷（东城镇）")

    # One on the web link, on a phone.
    weblinks.send_web_link(actor=opinion_officer, member=web_member)
    text = SmsMessage.objects.order_by("-pk").values_list("text", flat=True).first()
    path = re.search(r"/p/s/[A-Za-z0-9_\-]+/", text).group(0)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(path)
    for code, option in (("security", "不安全"), ("sat_police", "不满意"),
                         ("sat_station", "不满意"), ("antigang_aware", "不知道"),
                         ("sat_traffic", "不满意"), ("participation", "从未参加")):
        phone.get_by_test_id(f"question-{code}").get_by_text(option, exact=True).click()
    phone.get_by_test_id("survey-submit").click()
    expect(phone.get_by_test_id("survey-thanks")).to_be_visible()
    context.close()
    assert Response.objects.filter(wave=wave).count() == 82
    assert set(Response.objects.filter(member__in=[desk_member, web_member])
               .values_list("mode", flat=True)) == {"phone", "web"}

    # Population totals of both townships by sex and age group; weighted on the wave's page.
    table = population.create_population_table(actor=opinion_officer, bureau=bureau.bureau,
                                               name="第七次人口普查", year=2020)
    counts = {}
    for area, size in ((bureau.township, 1000), (bureau.other_township, 3000)):
        for sex in Sex.values:
            for age in AgeGroup.values:
                counts[(area.pk, sex, age)] = size
    population.save_population_cells(actor=opinion_officer, table=table, counts=counts)
    page.goto(f"/surveys/waves/{wave.pk}/weighting/")
    form = page.get_by_test_id("weigh-form")
    form.locator("select[name=table]").select_option(str(table.pk))
    form.get_by_label("迭代加权（乡镇、性别、年龄段三个边际）").check()
    form.get_by_role("button", name="计算并保存权重").click()
    expect(page.get_by_test_id("diag-n")).to_have_text("82")
    weighting = Weighting.objects.get(wave=wave)
    assert weighting.method == "rake"
    assert not Response.objects.filter(wave=wave, weight__isnull=True).exists()

    # The results by township, with intervals, under the security index's first definition.
    page.goto(f"/surveys/waves/{wave.pk}/results/")
    expect(page.get_by_test_id("weighting")).to_have_text("已加权")
    rows = page.get_by_test_id("township-row")
    expect(rows).to_have_count(2)
    for name in ("东城镇", "西城镇"):
        row = rows.filter(has_text=name)
        n = int(row.locator("[data-figure=n]").inner_text())
        assert n == 41
        estimate = float(row.locator("[data-figure=estimate]").inner_text().rstrip("%"))
        low, high = (float(x) for x in re.findall(
            r"\d+(?:\.\d+)?", row.locator("[data-figure=ci]").inner_text()))
        assert low < estimate < high <= 100
    east = float(rows.filter(has_text="东城镇").locator("[data-figure=estimate]")
                 .inner_text().rstrip("%"))
    west = float(rows.filter(has_text="西城镇").locator("[data-figure=estimate]")
                 .inner_text().rstrip("%"))
    assert east > west
    expect(page.get_by_test_id("chart-townships").locator("canvas, svg").first).to_be_visible()
