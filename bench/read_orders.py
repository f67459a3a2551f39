"""Reads at 10 thousand and at 1 million orders: do the pages cost one page of results?

    .venv/bin/python bench/read_orders.py [--db sqlite postgres] [--sizes 10000 1000000]

For each database (a fresh one of its own), the synthetic orders of `import_orders.py` are
imported up to each size in turn (10,000, then the rest up to 1,000,000), and each page is
fetched through django.test.Client as a logged-in dispatcher (the whole bureau) and a station
officer (one station of twenty): the order list, the officer's workbench, the list API and an
order's page and API record. Median of several requests after one to warm up, with the number
of SQL queries of one request. A page the other work has not built yet prints "not available".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from common import bench_bureau, create_database, drop_database, log, setup_django, synthetic_csv

# One database per run: two runs at once (or a test suite) never share one.
DB_NAME = f"minyi_bench_read_{os.getpid()}"


def pages(role: str, order_pk: int) -> list[tuple[str, str]]:
    workbench = [("workbench page", "/orders/workbench/")] if role == "officer" else []
    return [
        ("order list page", "/orders/"),
        *workbench,  # a unit's page: the dispatcher is refused it (403)
        ("list API", "/api/v1/orders"),
        ("order page", f"/orders/{order_pk}/"),
        ("order API", f"/api/v1/orders/{order_pk}"),
    ]


def time_page(client: Any, path: str, repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return {"status": "not available"}
    first = client.get(path)  # warm-up: caches, the schedule, the user's scope
    if first.status_code != 200:
        return {"status": first.status_code}
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return {"status": response.status_code, "ms": round(statistics.median(timings) * 1000, 1),
            "queries": len(queries), "bytes": len(response.content)}


def measure(size: int, people: dict[str, Any], repeat: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client

    from minyi.orders.models import Order

    station = people["stations"][0]
    order = Order.objects.filter(lead_unit=station).order_by("-received_at", "-id").first()
    results = []
    for role in ("dispatcher", "officer"):
        client = Client()
        client.force_login(people[role])
        for label, path in pages(role, order.pk):
            figures = time_page(client, path, repeat)
            figures.update(database=connection.vendor, orders=size, user=role, page=label)
            results.append(figures)
            shown = (f"{figures['ms']:>8.1f} ms {figures['queries']:>3} queries"
                     if "ms" in figures else f"{figures['status']}")
            log(f"{connection.vendor:<10} {size:>9,} orders  {role:<10} {label:<16} {shown}")
    return results


def run_one(kind: str, sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    url = create_database(kind, DB_NAME)
    results: list[dict[str, Any]] = []
    try:
        setup_django(url)
        people = bench_bureau()
        from django.db import connection

        from minyi.intake.importing import import_file
        from minyi.orders.models import Order

        for size in sorted(sizes):
            path = synthetic_csv(size)
            log(f"filling to {size:,} orders with the importer ({path.name})")
            started = time.perf_counter()
            result = import_file(path, preset="standard", bureau=people["bureau"])
            log(f"  created {result.created:,} in {time.perf_counter() - started:.0f} s")
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")  # as autovacuum would soon after a bulk load
            assert Order.objects.count() == size
            results += measure(size, people, repeat)
        return results
    finally:
        drop_database(kind, DB_NAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"],
                        default=["sqlite", "postgres"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.getLogger("django.request").setLevel(logging.ERROR)  # a 403 is a figure here
        for figures in run_one(args.child, args.sizes, args.repeat):
            print("RESULT " + json.dumps(figures, ensure_ascii=False), flush=True)
        return
    for size in args.sizes:
        synthetic_csv(size)
    for kind in args.db:
        command = [sys.executable, __file__, "--child", kind, "--repeat", str(args.repeat),
                   "--sizes", *map(str, args.sizes)]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
