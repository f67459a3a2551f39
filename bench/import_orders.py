"""Import speed: `minyi orders import` against a plain bulk insert of the same rows.

    .venv/bin/python bench/import_orders.py [--rows 1000000] [--db sqlite postgres] [--no-boston]

For each database (a fresh one of its own, see common.py) and each file (the synthetic orders,
then Boston's 311 requests):

1. the rows are read and checked by the importer's own code and built into Order objects
   (not timed), then `Order.objects.bulk_create` inserts them in one transaction (timed):
   the plain bulk insert, no validation, no events;
2. the orders are deleted, and the file is imported with the importer (timed from the file
   name to the commit: reading, checking, encrypting, inserting, assignments, audit events);
3. rows per second of both, the ratio (goal: the import at least half as fast), and where
   the import's time went, with the audit events' share.

Prints its figures as it goes and one JSON line per measurement at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    BOSTON,
    bench_bureau,
    create_database,
    drop_database,
    log,
    setup_django,
    synthetic_csv,
    vendor,
)

# One database per run: two runs at once (or a test suite) never share one.
DB_NAME = f"minyi_bench_import_{os.getpid()}"


def prebuilt_orders(path: Path, preset: str, bureau: Any) -> list[Any]:
    """The file's good rows as unsaved Order objects, built as the ORM would (not timed)."""
    from django.db import transaction

    from minyi.intake.importing import plan_import
    from minyi.intake.importing.lookups import Lookups
    from minyi.intake.importing.rows import RowChecker
    from minyi.orders.models import Order

    plan = plan_import(path, preset=preset, bureau=bureau)
    objects = []
    with transaction.atomic():  # a demo preset makes its units and channels as it goes
        checker = RowChecker(plan.mapping, Lookups(plan.bureau, plan.preset),
                             preset_name=plan.preset_name)
        for line, values in plan.source.rows():
            checked, _errors = checker.check(line, values)
            if checked is None:
                continue
            order = Order(created_via="import", **checked.fields)
            name, phone, address = checked.citizen
            if name or phone or address:
                order.set_citizen(name=name, phone=phone, address=address)
            if order.location:
                order.set_location(order.location)
            objects.append(order)
    return objects


def clear_orders() -> None:
    from django.db import connection

    from minyi.orders.models import Assignment

    # The events of the import stay: the audit chain is append-only.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE orders_assignment, orders_order RESTART IDENTITY CASCADE")
            cursor.execute("VACUUM ANALYZE")
        else:
            Assignment.objects.all().delete()
            cursor.execute("DELETE FROM orders_order")
            cursor.execute("VACUUM")


def measure(path: Path, preset: str, bureau: Any, label: str) -> dict[str, Any]:
    from django.db import connection, transaction

    from minyi.core.models import Event
    from minyi.intake.importing import import_file
    from minyi.orders.models import Order

    log(f"{label}: building the rows for the plain bulk insert (not timed)")
    objects = prebuilt_orders(path, preset, bureau)
    rows = len(objects)
    batch_size = 1000 if connection.vendor == "postgresql" else None
    log(f"{label}: plain bulk_create of {rows:,} prebuilt orders")
    started = time.perf_counter()
    with transaction.atomic():
        Order.objects.bulk_create(objects, batch_size=batch_size)
    plain = time.perf_counter() - started
    del objects
    log(f"{label}: plain {plain:.1f} s, {rows / plain:,.0f} rows/s; clearing")
    clear_orders()

    events_before = Event.objects.count()
    log(f"{label}: import")
    started = time.perf_counter()
    result = import_file(path, preset=preset, bureau=bureau)
    seconds = time.perf_counter() - started
    events = Event.objects.count() - events_before
    assert result.created == rows and result.bad == 0, result.summary()
    parts = {k: round(v, 1) for k, v in result.seconds.items()}
    figures = {
        "database": connection.vendor, "file": label, "rows": rows,
        "plain_seconds": round(plain, 1), "plain_rows_per_s": round(rows / plain),
        "import_seconds": round(seconds, 1), "import_rows_per_s": round(rows / seconds),
        "ratio": round(plain / seconds, 2),
        "events": events, "events_seconds": parts.get("events", 0),
        "events_share": round(result.seconds.get("events", 0) / seconds, 2),
        "import_without_events_rows_per_s": round(
            rows / (seconds - result.seconds.get("events", 0))),
        "parts_seconds": parts,
    }
    log(f"{label}: import {seconds:.1f} s, {rows / seconds:,.0f} rows/s, ratio "
        f"{figures['ratio']} of the plain insert; audit events {parts.get('events', 0)} s "
        f"({figures['events_share']:.0%}); parts {parts}")
    return figures


def run_one(kind: str, rows: int, boston: bool) -> list[dict[str, Any]]:
    url = create_database(kind, DB_NAME)
    try:
        setup_django(url)
        assert vendor() == ("postgresql" if kind == "postgres" else "sqlite")
        bureau = bench_bureau()["bureau"]
        path = synthetic_csv(rows)
        results = [measure(path, "standard", bureau, f"synthetic {rows:,}")]
        if boston and BOSTON.is_file():
            results.append(measure(BOSTON, "boston311", None, "boston311"))
        return results
    finally:
        drop_database(kind, DB_NAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"],
                        default=["sqlite", "postgres"])
    parser.add_argument("--no-boston", action="store_true")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        for figures in run_one(args.child, args.rows, not args.no_boston):
            print("RESULT " + json.dumps(figures, ensure_ascii=False), flush=True)
        return
    # One process per database: Django is set up once per process.
    synthetic_csv(args.rows)
    for kind in args.db:
        command = [sys.executable, __file__, "--child", kind, "--rows", str(args.rows)]
        if args.no_boston:
            command.append("--no-boston")
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
