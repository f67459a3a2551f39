from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from minyi.campaigns import actions, hot
from minyi.orders.tests.factories import order_type
from minyi.orgs.models import Role

REQUIREMENTS = "逐件梳理本周噪音扰民工单，对广场舞集中点位开展夜间巡查并上报成效。"


@pytest.fixture
def head(bureau):
    """The head of 东城派出所."""
    return bureau.member(Role.UNIT_HEAD, bureau.station, full_name="钱所长")


@pytest.fixture
def other_head(bureau):
    return bureau.member(Role.UNIT_HEAD, bureau.other_station, full_name="孙所长")


@pytest.fixture
def issue(bureau, dispatcher):
    def make(units=None, actor=None, **fields):
        defaults = dict(title="广场舞噪音扰民问题专项整治", requirements=REQUIREMENTS,
                        source_kind="order_type", source_key="noise", source_label="噪音扰民",
                        source_period="2026-W10")
        defaults.update(fields)
        return actions.issue_campaign(actor=actor or dispatcher, bureau=bureau.bureau,
                                      units=units or [bureau.station], **defaults)

    return make


PERIOD = hot.parse_period("2026-W10")  # 2 to 8 March 2026; baseline W06–W09 (2 Feb – 1 Mar)
NOISE = "夜间广场舞噪音扰民"
HUKOU = "户籍窗口排队时间长"


def at(month: int, day: int, hour: int = 10, minute: int = 0):
    return timezone.make_aware(datetime(2026, month, day, hour, minute))


@pytest.fixture
def orders(bureau, make_order):
    """Noise in 东城镇: 6 this week (one at 23:59 on Sunday), 1 in W07. Hukou in 西城镇: one a
    week in the baseline, one this week. And three outside the window."""
    for day in (2, 3, 4, 5, 6):
        make_order(title=NOISE, received_at=at(3, day))
    make_order(title=NOISE, received_at=at(3, 8, 23, 59))
    make_order(title=NOISE, received_at=at(2, 10))
    for month, day in ((2, 2), (2, 9), (2, 16), (3, 1)):
        make_order(title=HUKOU, order_type=order_type("hukou"), demand_kind="consultation",
                   area=bureau.other_township, received_at=at(month, day, 9))
    make_order(title=HUKOU, order_type=order_type("hukou"), demand_kind="consultation",
               area=bureau.other_township, received_at=at(3, 3, 9))
    make_order(title=NOISE, received_at=at(3, 9, 0, 0))  # next week
    make_order(title=NOISE, received_at=at(2, 1, 23, 59))  # before the baseline
    make_order(title="无区域的咨询", area=None, received_at=at(3, 4))
