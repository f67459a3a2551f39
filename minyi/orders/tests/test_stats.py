"""`minyi orders stats`: volumes, completion, on-time and overdue, counted by the database."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from minyi.orders.models import Order
from minyi.orders.stats import DEFINITIONS, order_stats
from minyi.orgs.tests.factories import UnitFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def orders(make_order, bureau):
    """Eight orders of the bureau, received 1–8 May 2024, in every kind of situation."""
    now = timezone.now()

    def make(day: int, stage: str, unit=None, **fields) -> Order:
        order = make_order(stage)
        fields.setdefault("received_at", at(f"2024-05-0{day} 09:00"))
        if unit is not None:
            fields["lead_unit"] = unit
        Order.objects.filter(pk=order.pk).update(**fields)
        return order

    other = bureau.other_station
    return {
        "on_time": make(1, "closed", handled_at=at("2024-05-01 10:00"),
                        handling_due_at=at("2024-05-01 17:30")),
        "late": make(2, "closed", handled_at=at("2024-05-03 10:00"),
                     handling_due_at=at("2024-05-02 17:30")),
        "no_deadline": make(3, "closed", handled_at=at("2024-05-03 10:00"),
                            handling_due_at=None),
        "overdue": make(4, "signed", handling_due_at=now - timedelta(hours=1)),
        "in_time": make(5, "dispatched", unit=other, handling_due_at=now + timedelta(hours=3)),
        # Reported: the unit's clock has stopped, past the deadline or not.
        "reported": make(6, "reported", handling_due_at=now - timedelta(days=1)),
        "waiting": make(7, "received"),
        "invalid": make(8, "received", state="invalid"),
    }


def test_the_totals_and_their_definitions(orders, bureau):
    stats = order_stats(bureau=bureau.bureau)
    # The order closed without a deadline could not be late: on time.
    assert stats["total"] == {"received": 8, "closed": 3, "closed_on_time": 2, "closed_late": 1,
                              "closed_no_verdict": 0, "open": 4, "overdue": 1, "invalid": 1}
    assert stats["definitions"] == DEFINITIONS and "now > handling_due_at" in \
        stats["definitions"]["overdue"]
    assert stats["version"] == "orders.stats/2" and "groups" not in stats


def test_by_unit_with_the_orders_no_unit_holds(orders, bureau):
    groups = {g["unit"]["name"]: g for g in order_stats(bureau=bureau.bureau, by="unit")["groups"]}
    assert set(groups) == {"东城派出所", "西城派出所", "未指定"}
    assert groups["东城派出所"]["received"] == 5 and groups["东城派出所"]["overdue"] == 1
    assert groups["西城派出所"] | {"unit": None} == {
        "unit": None, "received": 1, "closed": 0, "closed_on_time": 0, "closed_late": 0,
        "closed_no_verdict": 0, "open": 1, "overdue": 0, "invalid": 0}
    assert groups["未指定"]["received"] == 2 and groups["未指定"]["unit"]["id"] is None


def test_dates_are_inclusive_shanghai_days(orders, bureau):
    stats = order_stats(bureau=bureau.bureau, date_from=date(2024, 5, 2),
                        date_to=date(2024, 5, 4))
    assert stats["total"]["received"] == 3
    assert stats["selection"] == {"bureau": bureau.bureau.code, "from": "2024-05-02",
                                  "to": "2024-05-04", "by": None}


def test_another_bureaus_orders_are_not_counted(orders, bureau):
    other = UnitFactory(kind="bureau", name="邻县公安局")
    assert order_stats(bureau=other)["total"]["received"] == 0
    assert order_stats()["total"]["received"] == 8


def test_aggregated_in_sql_whatever_the_number_of_orders(orders, bureau,
                                                         django_assert_num_queries):
    with django_assert_num_queries(1):
        order_stats(bureau=bureau.bureau)
    with django_assert_num_queries(3):  # total, groups, the units' names
        order_stats(bureau=bureau.bureau, by="unit")


def test_the_command_prints_json(orders, bureau):
    out = io.StringIO()
    call_command("orders", "stats", "--from", "2024-05-01", "--to", "2024-05-31", "--by",
                 "channel", "--bureau", bureau.bureau.code, stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["total"]["received"] == 8
    assert [g["channel"]["code"] for g in answer["groups"]] == ["12345"]


def test_the_command_refuses_a_bad_bureau_or_range(bureau):
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("orders", "stats", "--bureau", "NOPE", stderr=err)
    assert exit_.value.code == 2 and "没有代码为「NOPE」的单位" in err.getvalue()
    with pytest.raises(SystemExit):
        call_command("orders", "stats", "--from", "2024-05-02", "--to", "2024-05-01",
                     stderr=err)
    assert "起始日期晚于截止日期" in err.getvalue()
