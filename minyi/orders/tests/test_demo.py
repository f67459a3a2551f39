import pytest
from django.core.management import call_command

from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.orders.models import Order

pytestmark = pytest.mark.django_db


def test_demo_orders_span_the_loop_and_load_once(capsys):
    call_command("load_demo", "--quiet-logins", "--orders", "150")
    orders = Order.objects.all()
    assert orders.count() == 150
    states = set(orders.values_list("state", flat=True))
    assert {"received", "dispatched", "signed", "reported", "closed"} <= states
    assert len(states) >= 7
    assert Order.objects.overdue().exists()
    closed = orders.filter(state="closed")
    assert all(o.on_time is not None for o in closed)
    # Every order's first event is its receipt, with the demo's own time.
    first = Event.objects.filter(action="order.receive").order_by("id").first()
    assert first.created_at == Order.objects.get(pk=first.object_id).received_at
    # The weeks that are over have their bulletins, and the hottest issue its campaign.
    from minyi.assessment.models import WeeklyBulletin
    from minyi.campaigns.models import Campaign

    assert WeeklyBulletin.objects.count() == 4
    assert Campaign.objects.count() == 1 and Campaign.objects.get().tasks.count() >= 1
    events = Event.objects.count()
    call_command("load_demo", "--quiet-logins", "--orders", "150")
    assert Order.objects.count() == 150 and Event.objects.count() == events
    assert WeeklyBulletin.objects.count() == 4 and Campaign.objects.count() == 1
    assert "未做任何改动" in capsys.readouterr().out
    assert verify_chain().ok
