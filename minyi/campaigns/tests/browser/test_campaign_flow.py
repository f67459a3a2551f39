"""From a hot issue to a special campaign in a real browser: the dispatcher at a desk opens the
hot issues and starts a campaign from a row for two stations; a station head on a phone signs
and reports; the dispatcher accepts. Screenshots of each page at both widths go to
test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from minyi.conftest import ARTIFACTS, screenshot_on_failure
from minyi.orders.tests.browser.conftest import PHONE, login

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = "已对城关社区广场舞点位开展夜间巡查 12 次，约谈组织者 3 人，音响音量已降低。"


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
    page.screenshot(path=str(ARTIFACTS / f"campaigns-{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def _demo_with_a_hot_week(settings, tmp_path):
    """The demo bureau, and last week's noise complaints in 城关社区: six against one in the
    four weeks before."""
    from minyi.campaigns import hot
    from minyi.intake.models import Channel
    from minyi.orders import actions
    from minyi.orders.models import OrderType
    from minyi.orgs.models import Area, Unit, User

    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    dispatcher = User.objects.get(username="zhaomin")
    bureau = Unit.objects.get(name="历山派出所").bureau()
    week = hot.default_period(hot.WEEK, timezone.localdate())
    start = timezone.make_aware(timezone.datetime.combine(week.start, timezone.datetime.min.time()))
    moments = [start + timedelta(days=day, hours=10) for day in range(6)]
    moments.append(start - timedelta(days=10) + timedelta(hours=10))
    for index, moment in enumerate(moments):
        actions.receive_order(
            actor=dispatcher, bureau=bureau, channel=Channel.objects.get(code="12345"),
            order_type=OrderType.objects.get(code="noise"), demand_kind="complaint",
            title="夜间广场舞噪音扰民", citizen_name="刘女士",
            citizen_phone=f"1380000{index:04d}", area=Area.objects.get(name="城关社区"),
            location="城关社区广场", received_at=moment)


def test_hot_issue_to_campaign(page, phone):
    login(page, "zhaomin")
    page.get_by_role("link", name="热点分析").click()
    types = page.locator('[data-testid="hot-order-types"]')
    noise = types.locator('[data-testid="hot-row"][data-key="noise"]')
    expect(noise.locator('[data-testid="hot-current"]')).to_have_text("6")
    expect(noise).to_contain_text("显著上升")
    shot(page, "hot-desktop")

    noise.get_by_role("link", name="发起专项整治").click()
    expect(page.locator('[data-testid="source"]')).to_contain_text("工单类型「噪音扰民」")
    form = page.locator('[data-testid="campaign-form"]')
    expect(form.get_by_label("标题")).to_have_value("噪音扰民问题专项整治")
    expect(form.get_by_label("工作要求")).to_have_value(re.compile("相关群众诉求 6 件"))
    form.get_by_label("历山派出所", exact=True).check()
    form.get_by_label("南麻派出所", exact=True).check()
    form.get_by_role("button", name="下发").click()
    expect(page.locator(".alert-success")).to_contain_text("下发至 2 个单位")
    campaign_url = page.url
    tasks = page.locator('[data-testid="task"]')
    expect(tasks).to_have_count(2)
    expect(tasks.locator('[data-testid="task-state"]')).to_have_text(["待签收", "待签收"])
    shot(page, "detail-desktop")

    # The head of 历山派出所, on a phone.
    login(phone, "fengjun")
    phone.goto(campaign_url)
    mine = phone.locator('[data-testid="task"]')
    expect(mine).to_have_count(1)  # only the station's own task
    mine.get_by_role("button", name="签收").click()
    expect(phone.locator(".alert-success")).to_contain_text("已签收")
    mine.get_by_label("整治情况").fill(REPORT)
    mine.get_by_role("button", name="上报整治情况").click()
    expect(phone.locator(".alert-success")).to_contain_text("等待验收")
    expect(mine.locator('[data-testid="task-state"]')).to_have_text("已上报")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "detail-phone")
    phone.goto("/campaigns/")
    expect(phone.locator('[data-testid="campaign-row"]')).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "list-phone")

    # Back at the command centre: accept.
    page.reload()
    station = page.locator('[data-testid="task"][data-unit="历山派出所"]')
    expect(station.locator('[data-testid="task-report"]')).to_contain_text("夜间巡查 12 次")
    station.get_by_role("button", name="验收通过").click()
    expect(page.locator(".alert-success")).to_contain_text("验收通过")
    expect(page.locator('[data-testid="task"][data-unit="历山派出所"] '
                        '[data-testid="task-state"]')).to_have_text("已验收")
    steps = page.locator('[data-testid="timeline-entry"] strong').all_inner_texts()
    assert steps == ["发起专项整治", "签收专项整治任务", "上报整治情况", "验收通过"]
    page.goto("/campaigns/")
    expect(page.locator('[data-testid="progress"]')).to_contain_text("1/2 个单位已完成")
    shot(page, "list-desktop")

    # The hot page at phone width: the tables scroll inside their cards, the page does not.
    page.set_viewport_size(PHONE)
    page.goto("/campaigns/hot/")
    expect(page.locator('[data-testid="hot-order-types"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "hot-phone")
