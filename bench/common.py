"""What the benchmarks share: a database of their own, Django on it, a bureau, a synthetic file.

Never the project's database nor a test database: SQLite in a file under the temp directory,
PostgreSQL in a database `minyi_bench*` created at the start and dropped at the end.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("MINYI_BENCH_DIR", Path(tempfile.gettempdir()) / "minyi_bench"))
PG_SERVER = os.environ.get("MINYI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BOSTON = ROOT.parent / "shared" / "data" / "boston311_2015.csv.gz"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STATIONS = 20


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- databases -------------------------------------------------------------------------------


def database_url(kind: str, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{WORK / (name + '.sqlite3')}"
    return f"{PG_SERVER}/{name}"


def create_database(kind: str, name: str) -> str:
    """A fresh, empty database; its URL."""
    WORK.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (WORK / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)
    else:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    return database_url(kind, name)


def drop_database(kind: str, name: str) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (WORK / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)
    else:
        from django.db import connections

        connections.close_all()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def _pg_admin(*statements: str) -> None:
    import psycopg

    if not all(s.split('"')[1].startswith("minyi_bench") for s in statements):
        raise SystemExit("the benchmark only creates and drops databases named minyi_bench*")
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def setup_django(url: str) -> None:
    """Django on the benchmark's database, migrated."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minyi.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Pages render {% static %}; the manifest storage would need `collectstatic`.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    call_command("migrate", verbosity=0)


def vendor() -> str:
    from django.db import connection

    return connection.vendor


# --- the bench bureau ------------------------------------------------------------------------


def bench_bureau() -> dict[str, Any]:
    """A city bureau with a command centre and 20 stations, two townships each; a dispatcher
    and a station officer."""
    from minyi.orgs.models import Area, Membership, Role, Unit, User

    bureau, _ = Unit.objects.get_or_create(code="BENCH", defaults={
        "name": "基准市公安局", "kind": Unit.Kind.BUREAU})
    centre, _ = Unit.objects.get_or_create(code="BENCH-CC", defaults={
        "name": "基准市指挥中心", "kind": Unit.Kind.COMMAND_CENTRE, "parent": bureau})
    stations = []
    for i in range(1, STATIONS + 1):
        station, _ = Unit.objects.get_or_create(code=f"BENCH-S{i:02d}", defaults={
            "name": f"第{i}派出所", "kind": Unit.Kind.STATION, "parent": bureau})
        stations.append(station)
        for j in (1, 2):
            Area.objects.get_or_create(code=f"BENCH-A{i:02d}{j}", defaults={
                "name": f"第{i}-{j}镇", "kind": Area.Kind.TOWNSHIP, "station": station})
    dispatcher, _ = User.objects.get_or_create(username="bench-dispatcher",
                                               defaults={"full_name": "基准调度"})
    Membership.objects.get_or_create(user=dispatcher, unit=centre, role=Role.DISPATCHER)
    officer, _ = User.objects.get_or_create(username="bench-officer",
                                            defaults={"full_name": "基准民警"})
    Membership.objects.get_or_create(user=officer, unit=stations[0], role=Role.UNIT_HANDLER)
    return {"bureau": bureau, "centre": centre, "stations": stations,
            "dispatcher": dispatcher, "officer": officer}


# --- the synthetic file ----------------------------------------------------------------------

HEADER = ["来源编号", "渠道", "工单类型", "诉求类型", "标题", "诉求内容", "群众姓名", "联系电话",
          "群众住址", "所属区域", "事发地址", "接单时间", "承办单位", "办理时限", "办结时间",
          "办理状态"]
CHANNELS = ["12345"] * 14 + ["110"] * 3 + ["platform"] * 2 + ["window"]
TYPES = [("公安业务咨询", "咨询"), ("户籍业务", "咨询"), ("出入境业务", "求助"),
         ("交通管理", "投诉"), ("群众求助", "求助"), ("噪音扰民", "投诉"), ("治安问题", "举报"),
         ("案件进展", "咨询"), ("电信网络诈骗", "求助"), ("民警执法作风", "投诉"),
         ("矛盾纠纷", "求助")]
TITLES = {
    "公安业务咨询": "咨询无犯罪记录证明开具流程", "户籍业务": "咨询新生儿落户所需材料",
    "出入境业务": "护照加急办理", "交通管理": "路口红绿灯时长不合理",
    "群众求助": "老人走失求助", "噪音扰民": "夜间施工噪音扰民",
    "治安问题": "小区周边有人聚众赌博", "案件进展": "询问电动车被盗案件进展",
    "电信网络诈骗": "疑似遭遇刷单诈骗", "民警执法作风": "反映窗口民警态度生硬",
    "矛盾纠纷": "邻里因停车位发生纠纷",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def synthetic_csv(rows: int, seed: int = 2024) -> Path:
    """`rows` orders of a city in 2024 in the standard preset's columns (made once, kept)."""
    path = WORK / f"orders_{rows}.csv"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=SHANGHAI)
    year = 366 * 24 * 3600
    partial = path.with_suffix(f".part{os.getpid()}")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            received = start + timedelta(seconds=rng.randrange(year))
            type_name, kind = rng.choice(TYPES)
            station = rng.randrange(1, STATIONS + 1)
            town = f"第{station}-{rng.choice((1, 2))}镇"
            due = received + timedelta(hours=rng.choice((4, 24, 24, 48)))
            luck = rng.random()
            closed = luck < 0.9
            unit = f"第{station}派出所"
            closed_at = ""
            if closed:
                closed_at = (received + timedelta(minutes=rng.randrange(30, 60 * 50))).strftime(
                    "%Y-%m-%d %H:%M:%S")
            elif luck > 0.98:
                unit = ""  # waiting to be dispatched
            writer.writerow([
                f"12345-2024-{n:07d}", rng.choice(CHANNELS), type_name, kind,
                TITLES[type_name], f"群众来电反映：{TITLES[type_name]}，请尽快处理（{n}）",
                rng.choice(SURNAMES) + rng.choice(("女士", "先生")),
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                f"{town}{rng.randrange(1, 40)}村{rng.randrange(1, 200)}号", town,
                f"{town}{rng.randrange(1, 40)}村", received.strftime("%Y-%m-%d %H:%M:%S"), unit,
                # Open ones: half with the platform's deadline, half computed on import.
                due.strftime("%Y-%m-%d %H:%M:%S") if closed or luck < 0.94 else "",
                closed_at, "已办结" if closed else "办理中",
            ])
    partial.rename(path)
    return path
