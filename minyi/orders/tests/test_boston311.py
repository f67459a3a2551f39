"""The real feed: Boston's 311 requests of 2015 as historical orders of a demo city.

Boston's OnTime_Status is the city's own verdict of CLOSED_DT against TARGET_DT; Minyi's verdict
for a closed order is rules.is_on_time(handled_at, handling_due_at). They must agree wherever
Boston's is not empty, and they do, on every case: a case without TARGET_DT had no deadline, so
it could not be late, which both Boston (ONTIME) and Minyi (on time) say.

The full file takes about a minute on SQLite (121,145 rows, with their audit events); a
deterministic sample (every 40th row) checks the same things in a second or two.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from minyi.intake.importing import import_file
from minyi.intake.models import Channel
from minyi.orders.models import Assignment, Order
from minyi.orders.rules import is_on_time
from minyi.orders.stats import order_stats
from minyi.orgs.models import Unit

DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "boston311_2015.csv.gz"
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not DATA.is_file(), reason=f"Boston 311 data not found at {DATA} "
                       "(../shared/data is not part of this repository)"),
]


def agreement() -> Counter:
    """Boston's OnTime_Status against Minyi's on-time verdict, for every closed order."""
    counts: Counter = Counter()
    closed = Order.objects.filter(state="closed", bureau__code="BOSTON").values_list(
        "handled_at", "handling_due_at", "source_data__OnTime_Status")
    for handled_at, due_at, status in closed.iterator(chunk_size=5000):
        verdict = is_on_time(handled_at, due_at)
        if not status:
            counts["boston_empty"] += 1
        elif verdict is None:
            counts["no_verdict"] += 1
        elif verdict == (status == "ONTIME"):
            counts["agree"] += 1
        else:
            counts["disagree"] += 1
    return counts


@pytest.fixture
def sample(tmp_path) -> Path:
    """Every 40th request of the file, with the header: 3,029 rows."""
    path = tmp_path / "boston_sample.csv"
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as source, \
            open(path, "w", encoding="utf-8", newline="") as target:
        reader, writer = csv.reader(source), csv.writer(target)
        writer.writerow(next(reader))
        for i, values in enumerate(reader):
            if i % 40 == 0:
                writer.writerow(values)
    return path


def test_a_sample_imports_as_historical_orders_of_the_demo_city(sample):
    result = import_file(sample, preset="boston311")
    assert result.summary() == {"created": 3029, "existing": 0, "bad": 0}
    assert agreement() == Counter(agree=2521, boston_empty=3)

    bureau = Unit.objects.get(code="BOSTON")
    assert bureau.kind == "bureau" and bureau.name == "波士顿（演示城市）"
    works = Unit.objects.get(parent=bureau, name="公共工程局（Public Works Department）")
    assert works.kind == "office"
    call = Channel.objects.get(code="bos_constituent_call")
    assert call.name == "波士顿·市民来电" and not call.is_active

    case = Order.objects.get(external_id="101001242404")  # the first row of the file
    assert case.channel.code == "bos_city_worker_app" and case.bureau == bureau
    assert case.lead_unit.name == "市长24小时热线（Mayor's 24 Hour Hotline）"
    assert case.title == "Abandoned Bicycle" and case.order_type.code == "boston311"
    # 01/05/2015 12:40:41 PM in Boston is 17:40:41 UTC (EST, UTC-5).
    assert case.received_at.isoformat() == "2015-01-05T17:40:41+00:00"
    assert case.state == "closed" and case.closed_at == case.handled_at
    assert case.closed_at.isoformat() == "2015-01-06T18:46:56+00:00"
    assert case.handling_due_at is None and case.on_time is True  # no TARGET_DT: not late
    assert case.source_data["OnTime_Status"] == "ONTIME"
    assert case.close_note.startswith("Case Closed Case Noted no bicycle")

    open_cases = Order.objects.filter(bureau=bureau).exclude(state="closed")
    assert open_cases.count() == 505 and set(open_cases.values_list("state", flat=True)) == {
        "dispatched"}
    assert Assignment.objects.filter(order__bureau=bureau, ended_at__isnull=True).count() == 505

    # Stamped closed a few seconds before it was opened: read as closed at the opening.
    skewed = [o for o in Order.objects.filter(bureau=bureau, state="closed")
              if o.source_data.get("CASE_STATUS") == "Closed" and o.closed_at == o.received_at]
    assert len(skewed) >= 4

    again = import_file(sample, preset="boston311")
    assert again.summary() == {"created": 0, "existing": 3029, "bad": 0}


def test_the_whole_file_agrees_with_bostons_own_verdict():
    """121,145 requests; 101,272 closed: 101,190 with Boston's verdict, all agreeing (79,126
    with a target, judged against it; 22,064 without one, on time in both), 82 without it."""
    out = io.StringIO()
    call_command("orders", "import", str(DATA), "--preset", "boston311", stdout=out)
    assert json.loads(out.getvalue()) == {"created": 121145, "existing": 0, "bad": 0}

    counts = agreement()
    assert counts["agree"] == 101_190 and counts["disagree"] == 0
    assert counts["no_verdict"] == 0 and counts["boston_empty"] == 82

    stats = order_stats(bureau=Unit.objects.get(code="BOSTON"), by="unit")
    assert stats["total"] == {
        "received": 121_145, "closed": 101_272, "closed_on_time": 82_118,
        "closed_late": 19_154, "closed_no_verdict": 0, "open": 19_873,
        # Every open case with a target is past it by now (the targets are of 2015-16).
        "overdue": 14_946, "invalid": 0,
    }
    assert len(stats["groups"]) == 16
    works = stats["groups"][0]
    assert works["unit"]["name"] == "公共工程局（Public Works Department）"
    assert works["received"] == 51_911
    assert sum(g["received"] for g in stats["groups"]) == 121_145
