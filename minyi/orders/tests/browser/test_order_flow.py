"""An order through the closed loop in a real browser, as the demo bureau's people would take
it: the dispatcher at a desk, the station's officer on a phone."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from minyi.orders.tests.browser.conftest import login

# Transactional, so the live server's thread sees the data.
pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "楼下烧烤店油烟扰民"


@pytest.fixture(autouse=True)
def _demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", "--quiet-logins", "--orders", "0")


def card(page, title: str):
    return page.locator('[data-testid="workbench-item"]', has_text=title)


def done(page, text: str) -> None:
    """The step went through: the page reloaded with the success message."""
    expect(page.locator(".alert-success")).to_contain_text(text)


def test_main_path(page, phone):
    # The command centre takes the demand in.
    login(page, "zhaomin")
    page.get_by_role("link", name="接单录入").click()
    form = page.locator('[data-testid="intake-form"]')
    form.get_by_label("受理渠道").select_option(label="12345政务服务热线")
    form.get_by_label("工单类型").select_option(label="噪音扰民")
    form.get_by_label("诉求类型").select_option(label="投诉")
    form.get_by_label("标题").fill(TITLE)
    form.get_by_label("诉求内容").fill("每晚十点后烧烤店油烟和噪音很大，影响休息。")
    form.get_by_label("群众姓名").fill("李秀兰")
    form.get_by_label("联系电话").fill("13900001111")
    form.get_by_label("群众住址").fill("历山街道城关社区8号楼")
    form.get_by_label("所属区域").select_option(label="历山街道 · 城关社区")
    form.get_by_label("事发地址").fill("城关社区西门烧烤店")
    form.get_by_role("button", name="接单", exact=True).click()
    done(page, "已接单")
    order_url = page.url
    assert re.search(r"/orders/\d+/$", order_url)
    expect(page.locator('[data-testid="citizen-phone"]')).to_contain_text("139****1111")

    # … and dispatches it to the station whose jurisdiction it is in.
    dispatch = page.locator('[data-testid="act-dispatch"]')
    expect(dispatch.get_by_label("承办单位")).to_have_value(re.compile(r"\d+"))
    dispatch.get_by_label("承办单位").select_option(label="历山派出所")
    dispatch.get_by_label("转办意见").fill("请1小时内联系群众")
    dispatch.get_by_role("button", name="转办").click()
    done(page, "已转办至历山派出所")

    # The station's officer, on a phone: sign, contact, report with a photo.
    login(phone, "zhengwei")
    phone.goto("/orders/workbench/")
    item = card(phone, TITLE)
    expect(item.locator('[data-testid="countdown"]').first).to_contain_text("剩余")
    item.get_by_role("button", name="签收").click()
    done(phone, "已签收")
    item = card(phone, TITLE)
    item.get_by_label("电话联系").check()
    item.get_by_label("联系情况").fill("已电话联系李女士，约定今晚到场查看")
    item.get_by_role("button", name="登记联系").click()
    done(phone, "已登记联系情况")
    item = card(phone, TITLE)
    item.get_by_label("办理结果").fill("已到场责令烧烤店整改，加装油烟净化器，22点前停止营业")
    item.get_by_label("采取措施").fill("现场检查、责令整改、约定回访")
    item.get_by_label("已解决").check()
    item.locator('input[type="file"]').set_input_files(files=[
        {"name": "现场照片.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff fake"},
    ])
    item.get_by_role("button", name="上报").click()
    done(phone, "已上报办理结果")
    expect(card(phone, TITLE)).to_have_count(0)
    # Everything fitted the phone's width: nothing to scroll sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # Back at the command centre: review, feed back, call back, close.
    page.get_by_role("link", name="审核").click()
    review = page.locator('[data-testid="review-item"]', has_text=TITLE)
    expect(review).to_contain_text("已到场责令烧烤店整改")
    expect(review.locator('[data-testid="attachment"]')).to_have_text("现场照片.jpg")
    review.get_by_label("审核通过").check()
    review.get_by_role("button", name="提交审核").click()
    done(page, "审核通过")

    page.goto(order_url)
    page.locator('[data-testid="act-feed_back"]').get_by_role("button", name="反馈").click()
    done(page, "已反馈")
    callback = page.locator('[data-testid="act-record_callback"]')
    callback.get_by_label("满意", exact=True).check()
    callback.get_by_label("回访情况").fill("群众表示满意")
    callback.get_by_role("button", name="登记回访").click()
    done(page, "已登记回访结果：满意")
    page.locator('[data-testid="act-close"]').get_by_role("button", name="办结").click()
    done(page, "已办结")

    # The order page tells the whole story.
    expect(page.locator('[data-testid="state"]').first).to_have_text("已办结")
    steps = page.locator('[data-testid="timeline-entry"] .tl-head strong').all_inner_texts()
    assert steps == ["接单", "转办", "签收", "联系群众", "上报办理结果", "审核", "反馈",
                     "登记回访结果", "办结"]
    timeline = page.locator('[data-testid="timeline"]')
    expect(timeline).to_contain_text("承办单位：历山派出所")
    expect(timeline).to_contain_text("电话联系")
    expect(timeline).to_contain_text("附件 1 个")
    expect(timeline).to_contain_text("满意")
    with page.expect_download() as download:
        page.locator('[data-testid="attachment"]').click()
    assert download.value.suggested_filename == "现场照片.jpg"

    # Revealing the phone number shows it, and the look is in the timeline.
    page.locator('[data-testid="reveal-phone"]').click()
    expect(page.locator('[data-testid="revealed-phone"]')).to_have_text("13900001111")
    page.reload()
    expect(timeline).to_contain_text("查看了群众电话")


def _order_at_the_station(title: str):
    """An order dispatched to 历山派出所 by zhaomin, made through the actions."""
    from minyi.intake.models import Channel
    from minyi.orders import actions
    from minyi.orders.models import OrderType
    from minyi.orgs.models import Area, Unit, User

    dispatcher = User.objects.get(username="zhaomin")
    station = Unit.objects.get(name="历山派出所")
    order, _ = actions.receive_order(
        actor=dispatcher, bureau=station.bureau(), channel=Channel.objects.get(code="12345"),
        order_type=OrderType.objects.get(code="noise"), demand_kind="complaint", title=title,
        citizen_name="王先生", citizen_phone="13700002222",
        area=Area.objects.get(name="南麻社区"), location="南麻社区东门")
    return actions.dispatch_order(actor=dispatcher, order=order, lead_unit=station)


def _request_return(phone, title: str) -> None:
    login(phone, "zhengwei")
    phone.goto("/orders/workbench/")
    item = card(phone, title)
    item.get_by_text("申请退单…").click()
    item.get_by_label("退单理由").fill("事发地南麻社区属南麻派出所辖区")
    item.get_by_role("button", name="申请退单").click()
    done(phone, "已申请退单")
    expect(card(phone, title)).to_contain_text("退单审批中，计时暂停")


def test_return_rejected_moves_the_deadline(page, phone):
    title = "南麻社区门口占道经营"
    order = _order_at_the_station(title)
    _request_return(phone, title)

    login(page, "zhaomin")
    page.get_by_role("link", name="退单审批").click()
    item = page.locator('[data-testid="return-item"]', has_text=title)
    expect(item).to_contain_text("事发地南麻社区属南麻派出所辖区")
    item.get_by_label("不同意，原单位继续办理").check()
    item.get_by_role("button", name="提交审批").click()
    # Without the note the refusal is explained next to the form, in place.
    expect(item.locator(".errorlist")).to_contain_text("不同意退单时请填写审批意见")
    item.get_by_label("审批意见").fill("该处由历山派出所巡区负责，请继续办理")
    item.get_by_role("button", name="提交审批").click()
    done(page, "已驳回退单")
    expect(page.locator(".alert-success")).to_contain_text("办理时限顺延至")

    page.goto(f"/orders/{order.pk}/")
    expect(page.locator('[data-testid="return-requests"]')).to_contain_text("不同意退单")
    expect(page.locator('[data-testid="timeline"]')).to_contain_text("不同意退单")
    phone.goto("/orders/workbench/")
    expect(card(phone, title)).to_contain_text("已转办")  # back where it was before


def test_return_approved_then_dispatched_to_another_station(page, phone):
    title = "南麻社区夜间广场舞扰民"
    order = _order_at_the_station(title)
    _request_return(phone, title)

    login(page, "zhaomin")
    page.goto("/orders/returns/")
    item = page.locator('[data-testid="return-item"]', has_text=title)
    item.get_by_label("同意退单（工单回到待转办）").check()
    item.get_by_role("button", name="提交审批").click()
    done(page, "已同意退单")

    page.get_by_role("link", name="派单台").click()
    row = page.locator('[data-testid="order-row"]', has_text=title)
    row.get_by_role("checkbox").check()
    bulk = page.locator('[data-testid="bulk-form"]')
    bulk.get_by_label("承办单位").select_option(label="南麻派出所")
    bulk.get_by_role("button", name="转办勾选的工单").click()
    done(page, "已将 1 件工单转办至南麻派出所")

    page.goto(f"/orders/{order.pk}/")
    expect(page.locator('[data-testid="deadlines"]')).to_contain_text("南麻派出所")
    heads = page.locator('[data-testid="timeline-entry"] .tl-head strong').all_inner_texts()
    assert heads == ["接单", "转办", "申请退单", "退单审批", "转办"]
    # 历山派出所 no longer holds it.
    phone.goto("/orders/workbench/")
    expect(card(phone, title)).to_have_count(0)
