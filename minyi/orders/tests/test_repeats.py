"""Repeat complaints found by the sweep: links, the flag, the event, one reminder letter; the
earlier orders on the order page; the counts per unit."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from minyi.core.models import Event
from minyi.orders import actions, escalation, repeats
from minyi.orders.models import Order, ReminderLetter, RepeatLink
from minyi.orders.rules import CreatedVia
from minyi.orders.tests.factories import channel, order_type
from minyi.orgs.tests.factories import UnitFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
NOISE = "幸福小区3栋楼下烧烤店每天营业到凌晨两点，油烟和噪音严重扰民。"
NOISE_AGAIN = "幸福小区3号楼底商烧烤摊半夜还在营业，吵得没法睡觉，油烟也很大，噪音扰民。"
THEFT = "翠苑小区车棚电动车被盗，报案一周没有进展。"
HUKOU = "户籍窗口排队两个多小时，希望增加窗口。"


@pytest.fixture(autouse=True)
def _repeat_check_on(settings):
    settings.MINYI_REPEAT_CHECK = True


@pytest.fixture
def receive(bureau, dispatcher):
    """receive(days_before, text, phone=, location=, channel_code=, via=, unit=): an order."""

    def make(days_before, body, *, phone="", location="", channel_code="12345",
             via=CreatedVia.FORM, unit=None, in_bureau=None, area="default"):
        title, _, content = body.partition("，")
        order, _ = actions.receive_order(
            actor=None, bureau=in_bureau or bureau.bureau, channel=channel(channel_code),
            order_type=order_type("noise"), demand_kind="complaint", title=title,
            content=content, citizen_phone=phone, location=location,
            area=(bureau.village if area == "default" and in_bureau is None
                  else area if area != "default" else None),
            received_at=NOW - timedelta(days=days_before), created_via=via)
        if unit is not None:
            actions.dispatch_order(actor=dispatcher, order=order, lead_unit=unit)
        order.refresh_from_db()
        return order

    return make


def links(order):
    return sorted(RepeatLink.objects.filter(order=order).values_list("earlier_id", "basis"))


def test_same_caller_across_channels_is_linked_marked_and_gets_one_letter(receive, bureau):
    first = receive(10, THEFT, phone="13812345678", channel_code="110")
    again = receive(0, HUKOU, phone="138-1234-5678", unit=bureau.station)
    result = escalation.sweep(now=NOW)
    assert (result.repeats_checked, result.repeats_found, result.letters) == (2, 1, 1)
    assert links(again) == [(first.pk, "phone")]
    assert links(first) == []
    again.refresh_from_db()
    first.refresh_from_db()
    assert again.is_repeat and not first.is_repeat
    assert again.repeat_checked_at == NOW and first.repeat_checked_at == NOW
    letter = ReminderLetter.objects.get(order=again)
    assert letter.reason == "repeat" and letter.unit == bureau.station and letter.cycle == 0
    assert "重复投诉" in letter.text
    event = Event.objects.get(action="order.repeat", object_id=str(again.pk))
    assert event.payload["earlier"] == [{"order": first.pk, "basis": "phone",
                                         "similarity": 0.0}]
    # again: nothing new
    result = escalation.sweep(now=NOW + timedelta(minutes=1))
    assert (result.repeats_checked, result.letters) == (0, 0)
    assert ReminderLetter.objects.filter(reason="repeat").count() == 1
    assert Event.objects.filter(action="order.repeat").count() == 1


def test_a_redone_repeat_gets_no_second_letter(receive, bureau):
    receive(3, THEFT, phone="13812345678")
    again = receive(0, HUKOU, phone="13812345678", unit=bureau.station)
    escalation.sweep(now=NOW)
    Order.objects.filter(pk=again.pk).update(redo_count=1)
    assert escalation.sweep(now=NOW + timedelta(minutes=1)).letters == 0
    assert ReminderLetter.objects.filter(order=again).count() == 1


def test_same_address_is_linked(receive):
    first = receive(5, THEFT, location="东城村3号楼 2单元")
    again = receive(0, HUKOU, location="东城村3号楼2单元")
    receive(1, NOISE, location="东城村4号楼")
    repeats.check_orders(now=NOW)
    assert links(again) == [(first.pk, "address")]


def test_similar_text_is_linked_with_its_similarity(receive):
    first = receive(7, NOISE, phone="13800000001")
    receive(6, THEFT, phone="13800000002")
    again = receive(0, NOISE_AGAIN, phone="13800000003", channel_code="110")
    repeats.check_orders(now=NOW)
    link = RepeatLink.objects.get(order=again)
    assert (link.earlier_id, link.basis) == (first.pk, "text")
    assert link.similarity >= repeats.TEXT_THRESHOLD


def test_similar_text_in_another_township_is_not_linked(receive, bureau):
    receive(7, NOISE, phone="13800000001", area=bureau.other_township)
    again = receive(0, NOISE_AGAIN, phone="13800000003")
    repeats.check_orders(now=NOW)
    assert links(again) == [] and not Order.objects.get(pk=again.pk).is_repeat


def test_outside_the_window_is_not_linked_and_the_window_is_a_setting(receive, settings):
    receive(31, THEFT, phone="13812345678")
    again = receive(0, HUKOU, phone="13812345678")
    repeats.check_orders(now=NOW)
    assert links(again) == []
    settings.MINYI_REPEAT_WINDOW_DAYS = 40
    Order.objects.update(repeat_checked_at=None)
    repeats.check_orders(now=NOW)
    assert len(links(again)) == 1


def test_another_bureau_is_never_linked(receive):
    other = UnitFactory(kind="bureau", name="邻县公安局")
    receive(2, NOISE, phone="13812345678", location="幸福小区3栋", in_bureau=other)
    again = receive(0, NOISE, phone="13812345678", location="幸福小区3栋")
    repeats.check_orders(now=NOW)
    assert links(again) == []
    assert not Order.objects.get(pk=again.pk).is_repeat


def test_an_invalid_earlier_order_is_no_basis(receive, dispatcher):
    prank = receive(2, THEFT, phone="13812345678")
    actions.mark_invalid(actor=dispatcher, order=prank, reason="恶意重复来电")
    again = receive(0, HUKOU, phone="13812345678")
    repeats.check_orders(now=NOW)
    assert links(again) == []


def test_history_is_marked_checked_without_links_and_imports_get_no_letters(receive, bureau):
    old = [receive(d, THEFT, phone="13812345678", via=CreatedVia.IMPORT) for d in (400, 200, 60)]
    recent_import = receive(1, THEFT, phone="13812345678", via=CreatedVia.IMPORT,
                            unit=bureau.station)
    result = escalation.sweep(now=NOW)
    assert (result.repeats_checked, result.repeats_found, result.letters) == (1, 0, 0)
    for order in old:
        order.refresh_from_db()
        assert order.repeat_checked_at == NOW and not order.is_repeat
    assert not RepeatLink.objects.filter(order__in=old).exists()
    assert links(recent_import) == []  # the one of 60 days before is outside its window
    # a new call from the same number does repeat the imported history of the last 30 days
    new = receive(0, HUKOU, phone="13812345678", unit=bureau.station)
    result = escalation.sweep(now=NOW + timedelta(minutes=1))
    assert links(new) == [(recent_import.pk, "phone")]
    assert result.letters == 1 and ReminderLetter.objects.get().order_id == new.pk


def test_an_imported_repeat_is_linked_but_gets_no_letter(receive, bureau):
    receive(3, THEFT, phone="13812345678", via=CreatedVia.IMPORT)
    imported = receive(1, HUKOU, phone="13812345678", via=CreatedVia.IMPORT, unit=bureau.station)
    result = escalation.sweep(now=NOW)
    assert result.repeats_found == 1 and result.letters == 0
    assert Order.objects.get(pk=imported.pk).is_repeat


def test_a_closed_repeat_gets_no_letter(make_order):
    make_order("closed")
    second = make_order("closed")
    result = escalation.sweep()
    assert result.repeats_found == 1 and result.letters == 0
    assert Order.objects.get(pk=second.pk).is_repeat


def test_a_repeat_not_yet_dispatched_gets_its_letter_once_dispatched(receive, bureau,
                                                                    dispatcher):
    receive(2, THEFT, phone="13812345678")
    waiting = receive(0, HUKOU, phone="13812345678")
    assert escalation.sweep(now=NOW).letters == 0
    actions.dispatch_order(actor=dispatcher, order=waiting, lead_unit=bureau.station)
    assert escalation.sweep(now=NOW + timedelta(minutes=1)).letters == 1


def test_earlier_orders_hide_what_the_user_may_not_see(receive, bureau, handler, outsider,
                                                       leader):
    mine = receive(5, THEFT, phone="13812345678", unit=bureau.station)
    theirs = receive(3, HUKOU, phone="13812345678", unit=bureau.other_station)
    again = receive(0, NOISE, phone="13812345678", unit=bureau.station)
    repeats.check_orders(now=NOW)
    again.refresh_from_db()
    assert [e.order.pk for e in repeats.earlier_orders(again, leader)] == [theirs.pk, mine.pk]
    seen = repeats.earlier_orders(again, handler)
    assert [(e.order.pk, e.basis_label) for e in seen] == [(mine.pk, "同一来电号码")]
    assert [e.order.pk for e in repeats.earlier_orders(again, outsider)] == [theirs.pk]

    page = Template("{% load repeats %}{% earlier_orders order user %}")
    html = page.render(Context({"order": again, "user": handler}))
    assert "重复投诉" in html and mine.number in html and theirs.number not in html
    assert "同一来电号码" in html and f"/orders/{mine.pk}/" in html
    html = page.render(Context({"order": again, "user": outsider}))
    assert mine.number not in html and theirs.number in html


def test_the_block_shows_the_text_similarity_and_nothing_for_an_order_without_repeats(
        receive, leader):
    first = receive(7, NOISE, phone="13800000001")
    again = receive(0, NOISE_AGAIN, phone="13800000003")
    repeats.check_orders(now=NOW)
    again.refresh_from_db()
    link = RepeatLink.objects.get(order=again)
    page = Template("{% load repeats %}{% earlier_orders order user %}")
    html = page.render(Context({"order": again, "user": leader}))
    assert f"内容相似 {round(link.similarity * 100)}%" in html
    assert page.render(Context({"order": first, "user": leader})).strip() == ""


def test_a_repeat_whose_earlier_orders_are_all_hidden_says_so(receive, bureau, outsider):
    receive(5, THEFT, phone="13812345678", unit=bureau.station)
    again = receive(0, HUKOU, phone="13812345678", unit=bureau.other_station)
    repeats.check_orders(now=NOW)
    again.refresh_from_db()
    html = Template("{% load repeats %}{% earlier_orders order user %}").render(
        Context({"order": again, "user": outsider}))
    assert "此前工单不在您的查看范围内" in html


def test_repeat_counts_per_lead_unit_in_a_half_open_range(receive, bureau, dispatcher):
    receive(20, THEFT, phone="13812345678")
    a = receive(10, HUKOU, phone="13812345678", unit=bureau.station)
    b = receive(5, HUKOU, phone="13812345678", unit=bureau.station)
    c = receive(5, NOISE, phone="13812345678", unit=bureau.other_station)
    receive(4, NOISE, phone="13812345678")  # no lead unit: not counted
    d = receive(3, THEFT, phone="13812345678", unit=bureau.station)
    repeats.check_orders(now=NOW)
    actions.mark_invalid(actor=dispatcher, order=d, reason="恶意重复来电")
    assert all(Order.objects.get(pk=o.pk).is_repeat for o in (a, b, c, d))
    start, end = NOW - timedelta(days=10), NOW - timedelta(days=5)
    assert repeats.repeat_counts(bureau=bureau.bureau, start=start, end=end) == {
        bureau.station.pk: 1}
    assert repeats.repeat_counts(bureau=bureau.bureau, start=start,
                                 end=end + timedelta(seconds=1)) == {
        bureau.station.pk: 2, bureau.other_station.pk: 1}
    assert repeats.repeat_counts(bureau=bureau.bureau, start=NOW - timedelta(days=30),
                                 end=NOW) == {bureau.station.pk: 2, bureau.other_station.pk: 1}
