"""The leadership dashboard at 1 thousand and at 1 million orders: does it cost the same?

    .venv/bin/python bench/dashboard.py [--db sqlite postgres] [--sizes 1000 1000000]

For each database (a fresh one of its own, see common.py) the synthetic orders of
`import_orders.py` (a city of twenty stations, 2024) are imported up to each size in turn;
the twelve months of 2024 are recounted into MonthlyFigures (`assessment.facts.recount`,
timed), and the dashboard page of 2024 is fetched through django.test.Client as the bureau's
leader: median of 5 requests after one to warm up, with the SQL queries of one request.
Prints both sizes' figures and the ratio of the page times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from typing import Any

from common import bench_bureau, create_database, drop_database, log, setup_django, synthetic_csv

DB_NAME = f"minyi_bench_dashboard_{os.getpid()}"
PAGE = "/assessment/dashboard/?year=2024"


def leader(people: dict[str, Any]) -> Any:
    from minyi.orgs.models import Membership, Role, User

    user, _ = User.objects.get_or_create(username="bench-leader",
                                         defaults={"full_name": "基准局长"})
    Membership.objects.get_or_create(user=user, unit=people["bureau"], role=Role.BUREAU_LEADER)
    return user


def recount_year(bureau: Any) -> float:
    from minyi.assessment import facts

    started = time.perf_counter()
    for month in range(1, 13):
        facts.recount(bureau=bureau, month=date(2024, month, 1))
    return time.perf_counter() - started


def time_page(client: Any, repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(PAGE)
    if first.status_code != 200:
        return {"status": first.status_code}
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(PAGE)
        timings.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
    return {"status": response.status_code, "ms": round(statistics.median(timings) * 1000, 1),
            "queries": len(queries), "bytes": len(response.content)}


def run_one(kind: str, sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    url = create_database(kind, DB_NAME)
    results: list[dict[str, Any]] = []
    try:
        setup_django(url)
        people = bench_bureau()
        from django.db import connection
        from django.test import Client

        from minyi.intake.importing import import_file
        from minyi.orders.models import Order

        client = Client()
        client.force_login(leader(people))
        for size in sorted(sizes):
            path = synthetic_csv(size)
            log(f"filling to {size:,} orders with the importer ({path.name})")
            started = time.perf_counter()
            result = import_file(path, preset="standard", bureau=people["bureau"])
            log(f"  created {result.created:,} in {time.perf_counter() - started:.0f} s")
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            assert Order.objects.count() == size
            recount = recount_year(people["bureau"])
            log(f"  recount of 12 months: {recount:.2f} s")
            figures = time_page(client, repeat)
            figures.update(database=connection.vendor, orders=size,
                           recount_s=round(recount, 2))
            log(f"{connection.vendor:<10} {size:>9,} orders  dashboard "
                f"{figures.get('ms', figures['status'])} ms, {figures.get('queries')} queries")
            results.append(figures)
        if len(results) >= 2 and "ms" in results[0] and "ms" in results[-1]:
            ratio = results[-1]["ms"] / results[0]["ms"]
            log(f"{connection.vendor}: dashboard {results[-1]['orders']:,} / "
                f"{results[0]['orders']:,} orders = {ratio:.2f}")
            results[-1]["ratio"] = round(ratio, 2)
        return results
    finally:
        drop_database(kind, DB_NAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"],
                        default=["sqlite", "postgres"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
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
