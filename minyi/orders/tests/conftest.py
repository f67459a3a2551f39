"""Orders at every stage of the closed loop, made through the actions as the users would."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from minyi.orders import actions
from minyi.orders.models import Order
from minyi.orders.tests.factories import channel, order_type
from minyi.orgs.models import Role

# The transitions that take a new order to each state, in order.
PATH = ["dispatched", "signed", "contacted", "reported", "reviewed", "fed_back",
        "called_back", "closed"]


@pytest.fixture
def dispatcher(bureau):
    return bureau.member(Role.DISPATCHER, bureau.command_centre, full_name="赵调度")


@pytest.fixture
def opinion_officer(bureau):
    return bureau.member(Role.OPINION_OFFICER, bureau.bureau, full_name="孙民意")


@pytest.fixture
def make_order(bureau, dispatcher, handler) -> Callable[..., Order]:
    """make_order(stage="signed", **fields): a new order taken to `stage` through the actions."""

    def make(stage: str = "received", **fields) -> Order:
        defaults = dict(
            bureau=bureau.bureau, channel=channel(), order_type=order_type("noise"),
            demand_kind="complaint", title="楼上装修噪音扰民", content="每天晚上十点后仍在施工",
            citizen_name="刘女士", citizen_phone="13812345678",
            citizen_address="东城镇东城村3号", area=bureau.village, location="东城村3号楼",
        )
        defaults.update(fields)
        order, _ = actions.receive_order(actor=dispatcher, **defaults)
        steps = PATH[: PATH.index(stage) + 1] if stage != "received" else []
        for step in steps:
            if step == "dispatched":
                actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station)
            elif step == "signed":
                actions.sign_order(actor=handler, order=order)
            elif step == "contacted":
                actions.contact_citizen(actor=handler, order=order, method="phone")
            elif step == "reported":
                actions.report_order(actor=handler, order=order, result="已责令停工并调解",
                                     measures="上门调解，约定施工时间")
            elif step == "reviewed":
                actions.review_order(actor=dispatcher, order=order, passed=True)
            elif step == "fed_back":
                actions.feed_back_order(actor=dispatcher, order=order)
            elif step == "called_back":
                actions.record_callback(actor=dispatcher, order=order, outcome="satisfied")
            elif step == "closed":
                actions.close_order(actor=dispatcher, order=order)
        order.refresh_from_db()
        return order

    return make
