"""A supervision notice in a real browser: the station head (冯军 of the demo bureau) finds it
in the list, opens it, signs for it and answers it, on a phone; the document page as it looks at
a desk. Screenshots of both widths go to test-artifacts/."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from minyi.conftest import ARTIFACTS
from minyi.orders.tests.browser.conftest import login, phone  # noqa: F401 - the phone fixture

# Transactional, so the live server's thread sees the data; marked like the tests under
# browser/ so that `-m "not browser"` leaves it out.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

TITLE = "历山街道夜市摊点噪音扰民"
MEASURES = "已约谈夜市管理方，责令22点后停止外放音响；社区民警每晚巡查，明日回访群众。"


@pytest.fixture(autouse=True)
def _demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", "--quiet-logins", "--orders", "0")


def _notice():
    """An order dispatched to 历山派出所 and a notice about it (it ran late)."""
    from minyi.intake.models import Channel
    from minyi.orders import actions, escalation
    from minyi.orders.models import OrderType
    from minyi.orgs.models import Area, Unit, User

    dispatcher = User.objects.get(username="zhaomin")
    station = Unit.objects.get(name="历山派出所")
    order, _ = actions.receive_order(
        actor=dispatcher, bureau=station.bureau(), channel=Channel.objects.get(code="12345"),
        order_type=OrderType.objects.get(code="noise"), demand_kind="complaint", title=TITLE,
        citizen_name="王先生", citizen_phone="13700002222",
        area=Area.objects.get(name="南麻社区"), location="夜市东口")
    order = actions.dispatch_order(actor=dispatcher, order=order, lead_unit=station)
    return escalation.issue_notice(actor=None, order=order, reason="overdue")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_head_signs_and_answers_a_notice(page, phone):  # noqa: F811 - fixture
    notice = _notice()
    number = notice.display_number

    # On a phone: the workbench says a notice waits, the list leads to it.
    login(phone, "fengjun")
    phone.goto("/orders/workbench/")
    expect(phone.locator('[data-testid="pending-notices"]')).to_contain_text("尚未答复")
    phone.locator('[data-testid="pending-notices"] a').click()
    row = phone.locator('[data-testid="notice-row"]', has_text=TITLE)
    expect(row.locator('[data-testid="doc-status"]:visible')).to_have_text("未签收")
    shot(phone, "notice-list-phone.png")
    row.get_by_role("link", name=number).click()
    expect(phone.locator('[data-testid="doc-number"]')).to_have_text(number)
    expect(phone.locator('[data-testid="paper"]')).to_contain_text(TITLE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.locator('[data-testid="sign-form"]').get_by_role("button", name="签收").click()
    expect(phone.locator(".alert-success")).to_contain_text(f"已签收督办单 {number}")
    expect(phone.locator('[data-testid="doc-status"]').first).to_have_text("未答复")
    expect(phone.locator('[data-testid="answer"]')).to_contain_text("冯军")

    reply = phone.locator('[data-testid="reply-form"]')
    reply.get_by_label("整改措施").fill("已处理")
    reply.get_by_role("button", name="答复整改措施").click()
    # Too short: said next to the field, the text kept.
    expect(phone.locator('[data-testid="reply-form"] .errorlist')).to_contain_text(
        "不少于 10 个字")
    reply = phone.locator('[data-testid="reply-form"]')
    reply.get_by_label("整改措施").fill(MEASURES)
    reply.get_by_role("button", name="答复整改措施").click()
    expect(phone.locator(".alert-success")).to_contain_text(f"已答复督办单 {number}")
    expect(phone.locator('[data-testid="reply"]')).to_contain_text("已约谈夜市管理方")
    expect(phone.locator('[data-testid="doc-actions"]')).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "notice-phone.png")

    # At a desk: the document as on paper, printable and downloadable.
    login(page, "fengjun")
    page.goto("/orders/notices/")
    shot(page, "notice-list-desktop.png")
    page.locator('[data-testid="notice-row"]', has_text=TITLE).get_by_role(
        "link", name=number).click()
    paper = page.locator('[data-testid="paper"]')
    expect(paper).to_contain_text("督办单")
    expect(paper).to_contain_text(MEASURES)
    expect(page.locator('[data-testid="doc-status"]').first).to_have_text("已答复")
    expect(page.locator('[data-testid="print"]')).to_be_visible()
    shot(page, "notice-desktop.png")
    # Printing shows the paper alone: navigation, top bar and buttons are gone.
    page.emulate_media(media="print")
    expect(page.locator(".sidenav")).to_be_hidden()
    expect(page.locator('[data-testid="print"]')).to_be_hidden()
    expect(paper).to_be_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.locator('[data-testid="docx"]').click()
    assert download.value.suggested_filename == f"{number}.docx"
