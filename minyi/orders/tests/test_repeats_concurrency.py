"""Two sweeps at once on real connections: each repeat is linked once, flagged once, and gets
exactly one reminder letter, numbered without gaps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.orders import actions, escalation
from minyi.orders.models import ReminderLetter, RepeatLink
from minyi.orders.tests.factories import channel, order_type
from minyi.testing import race_ok

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sweeps_at_once_link_and_letter_each_repeat_once(bureau, dispatcher, settings):
    settings.MINYI_REPEAT_CHECK = True
    now = timezone.now()
    orders = []
    for i in range(8):
        order, _ = actions.receive_order(
            actor=None, bureau=bureau.bureau, channel=channel(), order_type=order_type("noise"),
            demand_kind="complaint", title=f"第{i}次来电", content="翠苑小区车棚电动车被盗",
            citizen_phone="13812345678", received_at=now - timedelta(hours=8 - i))
        actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station)
        orders.append(order)
    results = race_ok(*[lambda: escalation.sweep(now=now)] * 2)
    assert sum(r.repeats_found for r in results) == 7
    assert sum(r.letters for r in results) == 7
    # the i-th order repeats the i before it (all within the window, same caller)
    assert RepeatLink.objects.count() == sum(range(8))
    assert Event.objects.filter(action="order.repeat").count() == 7
    letters = ReminderLetter.objects.filter(reason="repeat")
    assert sorted(letters.values_list("order_id", flat=True)) == [o.pk for o in orders[1:]]
    assert sorted(letters.values_list("number", flat=True)) == list(range(1, 8))
    assert verify_chain().ok
