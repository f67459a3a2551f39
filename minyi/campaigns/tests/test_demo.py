"""The demo's campaign: opened once, from the hottest issue of last week, for two stations."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from minyi.campaigns import hot
from minyi.campaigns.demo import load_demo_campaigns
from minyi.campaigns.models import Campaign
from minyi.core.models import Event
from minyi.intake.models import Channel
from minyi.orders import actions
from minyi.orders.models import OrderType
from minyi.orgs.demo import load_demo_bureau
from minyi.orgs.models import Area, Unit, User


def test_load_demo_campaigns(db):
    load_demo_bureau()
    station = Unit.objects.get(name="历山派出所")
    bureau = station.bureau()
    assert load_demo_campaigns(bureau) is None  # no orders, nothing to go on
    dispatcher = User.objects.get(username="zhaomin")
    week = hot.default_period(hot.WEEK, timezone.localdate())
    start = timezone.make_aware(datetime.combine(week.start, datetime.min.time()))
    for day in range(6):
        order, _ = actions.receive_order(
            actor=dispatcher, bureau=bureau, channel=Channel.objects.get(code="12345"),
            order_type=OrderType.objects.get(code="fraud"), demand_kind="help",
            title="遭遇刷单诈骗求助", area=Area.objects.get(name="城关社区"),
            received_at=start + timedelta(days=day, hours=9))
        actions.dispatch_order(actor=dispatcher, order=order, lead_unit=station)

    campaign = load_demo_campaigns(bureau)
    assert campaign is not None
    assert campaign.display_number.startswith("专〔") and campaign.issued_by == dispatcher
    assert (campaign.source_kind, campaign.source_key, campaign.source_label,
            campaign.source_period) == ("order_type", "fraud", "电信网络诈骗", week.label)
    assert "相关群众诉求 6 件" in campaign.requirements
    # The station that led the orders, and the bureau's next station to make two.
    assert list(campaign.tasks.values_list("unit__name", flat=True)) == ["历山派出所",
                                                                        "南麻派出所"]

    events = Event.objects.count()
    assert load_demo_campaigns(bureau) is None
    assert Campaign.objects.count() == 1 and Event.objects.count() == events
