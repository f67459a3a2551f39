"""The text threshold of repeat complaints, and what the repeat check costs in the sweep.

    .venv/bin/python bench/repeat_threshold.py                  # threshold table (no database)
    .venv/bin/python bench/repeat_threshold.py --sweep [--db sqlite postgres]
        [--window-orders 8000] [--new 2000]

1. Threshold: the labelled pairs of `minyi/orders/tests/data/repeat_pairs.csv` (written by the
   project, see bench/README.md) scored with `core.text.similarity`; precision, recall and F1
   per threshold, and the one `repeats.choose_threshold` picks (highest F1 with a precision of
   at least 0.6).
2. Sweep: a county bureau's 30 days (`--window-orders` orders spread over the 30 days before
   now, texts built from the labelled set's sentences with varied places) and `--new` orders
   received in the last hour, never checked; one `repeats.check_orders` over them, timed by
   stage, and the recall of the rare-word index against comparing every pair.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "minyi" / "orders" / "tests" / "data" / "repeat_pairs.csv"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def load_pairs() -> list[tuple[int, str, str]]:
    with PAIRS.open(encoding="utf-8") as f:
        return [(int(r["label"]), r["a"], r["b"]) for r in csv.DictReader(f)]


def threshold_table() -> None:
    from minyi.core.text import similarity
    from minyi.orders import repeats

    pairs = load_pairs()
    scored = [(similarity(a, b), label == 1) for label, a, b in pairs]
    same = sum(1 for _, s in scored if s)
    print(f"{len(pairs)} labelled pairs: {same} the same matter, {len(pairs) - same} not")
    print("threshold  TP  FP  FN  precision  recall     F1")
    for t in [i / 100 for i in range(5, 100, 5)]:
        s = repeats.score(scored, t)
        print(f"     {t:.2f}  {s.true_pos:2d}  {s.false_pos:2d}  {s.false_neg:2d}"
              f"     {s.precision:.3f}   {s.recall:.3f}  {s.f1:.3f}")
    best = repeats.choose_threshold(scored)
    print(f"chosen: {best.threshold:.2f} (precision {best.precision:.3f}, recall "
          f"{best.recall:.3f}, F1 {best.f1:.3f}); repeats.TEXT_THRESHOLD = "
          f"{repeats.TEXT_THRESHOLD:.2f}")


PLACES = ["幸福小区", "阳光花园", "翠苑小区", "锦绣家园", "龙湖小区", "明珠花园", "绿城小区",
          "金桂园", "和平里小区", "东湖路", "解放路", "长安街", "清河路", "光明路", "青年路",
          "红星村", "桃源村", "城南菜市场", "滨江广场", "华联超市"]


def synthetic_texts(rng: random.Random, n: int) -> list[str]:
    """Complaint texts: the labelled set's sentences with their place swapped for one of many
    (a county has hundreds of estates, roads and villages)."""
    sentences = [t for _, a, b in load_pairs() for t in (a, b)]
    chars = "东西南北新老城河山湖园桥金银华兴安平和顺福康宁泰丰盛春秋明光青松竹梅兰"
    names = [f"{a}{b}{kind}" for a in chars for b in chars if a != b
             for kind in ("小区", "花园", "村", "路", "街", "家园")]
    out = []
    for _ in range(n):
        sentence = rng.choice(sentences)
        for place in PLACES:
            if place in sentence:
                sentence = sentence.replace(place, rng.choice(names))
        out.append(sentence)
    return out


def sweep_bench(kind: str, window_orders: int, new: int) -> None:
    from common import bench_bureau, create_database, drop_database, log, setup_django

    name = f"minyi_bench_repeats_{os.getpid()}"
    setup_django(create_database(kind, name))
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        _sweep_bench(kind, window_orders, new, bench_bureau, log)
    finally:
        drop_database(kind, name)


def _sweep_bench(kind, window_orders, new, bench_bureau, log) -> None:
    from django.db import connection
    from django.utils import timezone

    from minyi.core import crypto
    from minyi.intake.models import Channel
    from minyi.orders import repeats
    from minyi.orders.models import Order, OrderType

    rng = random.Random(20261122)
    bureau = bench_bureau()["bureau"]
    channels = list(Channel.objects.all()[:3])
    order_type = OrderType.objects.first()
    now = timezone.now()
    texts = synthetic_texts(rng, window_orders + new)
    # One caller in ten rings again within the month (a county's share is about that).
    callers = [f"139{rng.randrange(10**8):08d}" for _ in range(window_orders // 20)]
    rows = []
    for i, body in enumerate(texts):
        recent = i >= window_orders
        received = (now - timedelta(minutes=rng.randrange(60)) if recent
                    else now - timedelta(seconds=rng.randrange(30 * 86400)))
        title, _, content = body.partition("，")
        order = Order(bureau=bureau, channel=rng.choice(channels), order_type=order_type,
                      demand_kind="complaint", title=title[:200], content=content,
                      received_at=received, state="closed" if not recent else "received",
                      repeat_checked_at=None if recent else now)
        phone = rng.choice(callers) if rng.random() < 0.1 else f"138{rng.randrange(10**8):08d}"
        order.citizen_phone_hash = crypto.keyed_hash("phone", phone)
        rows.append(order)
    Order.objects.bulk_create(rows, batch_size=2000)
    log(f"{kind}: {window_orders} orders over 30 days, {new} new ones unchecked")
    text_cache_clear()
    started = time.perf_counter()
    result = repeats.check_orders(now=now, batch=new)
    total = time.perf_counter() - started
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items() if k != "total")
    print(f"{kind}: checked {result.checked} new orders against {window_orders + new} in the "
          f"window in {total:.2f} s ({stages}); {result.repeats} repeats")
    brute_force_recall(now)
    connection.close()


def text_cache_clear() -> None:
    from minyi.core import text

    text._matter_tokens.cache_clear()


def brute_force_recall(now) -> None:
    """Text matches the rare-word index finds, against comparing every pair (a sample of the
    new orders against the whole window)."""
    from minyi.core import text
    from minyi.orders import repeats
    from minyi.orders.models import Order

    pool = [(pk, repeats.order_text(t, c)) for pk, t, c in
            Order.objects.values_list("pk", "title", "content")]
    index = repeats.TextIndex(pool)
    new = [pk for pk, in Order.objects.filter(received_at__gte=now - timedelta(hours=1))
           .values_list("pk")[:200]]
    started = time.perf_counter()
    expected = found = 0
    for pk in new:
        mine = index.profiles[pk]
        every = {other for other, p in index.profiles.items() if other != pk
                 and text.profile_similarity(mine, p) >= repeats.TEXT_THRESHOLD}
        hits = {other for other, _ in index.similar(mine, repeats.TEXT_THRESHOLD, exclude=pk)}
        expected += len(every)
        found += len(every & hits)
    seconds = time.perf_counter() - started
    print(f"text pairs at or above the threshold, {len(new)} new orders against all "
          f"{len(pool)}: {expected} by comparing every pair, {found} of them found through the "
          f"rare-word index ({found / max(1, expected):.1%}); index rare limit "
          f"{index.rare_limit} texts; {seconds:.1f} s for both")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    parser.add_argument("--window-orders", type=int, default=8000)
    parser.add_argument("--new", type=int, default=2000)
    args = parser.parse_args()
    if not args.sweep:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minyi.settings")
        import django

        django.setup()
        threshold_table()
        return
    for kind in args.db:
        sweep_bench(kind, args.window_orders, args.new)


if __name__ == "__main__":
    main()
