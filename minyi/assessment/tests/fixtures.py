"""Fixtures of the bulletin tests. A small week of orders with exact figures: 2024-W19
(Monday 6 to Sunday 12 May 2024).

东城派出所 (with its 中队): six orders (one invalid), four closed (three on time), contact on
time for three of five with a deadline, callbacks satisfied / basically / dissatisfied / not
reached, two repeats, one notice issued in the week and unanswered. 西城派出所: one order,
all on time and satisfied, one reminder letter. One order not yet dispatched counts in the
total only; three orders and a notice just outside the week count nowhere.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from minyi.assessment.rules import IsoWeek
from minyi.orders import escalation
from minyi.orders.models import Order
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = IsoWeek(2024, 19)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# The Monday after the week, 08:00: when the automatic bulletin counts.
CUTOFF = at("2024-05-13 08:00")


@pytest.fixture
def week_orders(make_order, bureau):
    def make(stage: str, received: str, unit=None, **fields) -> Order:
        order = make_order(stage)
        fields["received_at"] = at(received)
        if unit is not None:
            fields["lead_unit"] = unit
        Order.objects.filter(pk=order.pk).update(**fields)
        order.refresh_from_db()
        return order

    def done(on_time: bool = True, contact: str = "on_time", callback: str = "satisfied"):
        """Timestamps of an order handled on Monday 6 May."""
        fields = {"handling_due_at": at("2024-05-06 17:30"),
                  "handled_at": at("2024-05-06 16:00" if on_time else "2024-05-07 10:00"),
                  "contact_due_at": at("2024-05-06 10:00"),
                  "contacted_at": at("2024-05-06 09:30" if contact == "on_time"
                                     else "2024-05-06 11:00"),
                  "callback_outcome": callback}
        return fields

    station, other, team = bureau.station, bureau.other_station, bureau.team
    orders = {
        "o1": make("closed", "2024-05-06 09:00", **done()),
        "o2": make("closed", "2024-05-07 09:00", **done(False, "late", "basically_satisfied")),
        "o3": make("closed", "2024-05-08 09:00", is_repeat=True,
                   **done(callback="dissatisfied")),
        "o4": make("signed", "2024-05-09 09:00", contact_due_at=at("2024-05-09 10:00"),
                   contacted_at=None, handling_due_at=at("2024-05-09 17:30")),
        "o5": make("closed", "2024-05-10 09:00", unit=team, **done(callback="not_reached")),
        "o6": make("received", "2024-05-11 09:00", unit=station, state="invalid",
                   is_repeat=True, invalid_reason="恶意重复来电"),
        "o7": make("closed", "2024-05-11 10:00", unit=other, **done()),
        # The last second of Sunday: in the week; not dispatched, so in the total only.
        "o10": make("received", "2024-05-12 23:59:59"),
        # Just outside: Sunday before, Monday after.
        "o8": make("closed", "2024-05-05 23:59:59", **done()),
        "o9": make("closed", "2024-05-13 00:00", **done()),
    }
    escalation.issue_notice(actor=None, order=orders["o4"], reason="overdue",
                            now=at("2024-05-09 18:00"))
    escalation.issue_letter(actor=None, order=orders["o7"], reason="leader_assigned",
                            now=at("2024-05-11 12:00"))
    # Issued the week after: neither counted in the week nor overdue at the cut-off.
    escalation.issue_notice(actor=None, order=orders["o2"], reason="unresolved",
                            now=at("2024-05-14 09:00"))
    return orders


@pytest.fixture
def other_bureau_user(db):
    """A unit head in another bureau: must see nothing of `bureau`'s bulletins."""
    other = UnitFactory(kind="bureau", name="外县公安局")
    station = UnitFactory(kind="station", name="外县派出所", parent=other)
    user = UserFactory(full_name="钱外县")
    MembershipFactory(user=user, unit=station, role=Role.UNIT_HEAD)
    return user
