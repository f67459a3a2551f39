"""`minyi workcal due` and `minyi workcal import-year`, through call_command and as a process."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from minyi.core.models import Event
from minyi.workcal.models import HolidayDay, HolidayYear

PROJECT_ROOT = Path(settings.BASE_DIR)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("workcal", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def bad(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        run(*args)
    assert excinfo.value.returncode == 2
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def write_file(tmp_path: Path, days: list[dict], year: int = 2027, name: str = "2027.json"):
    path = tmp_path / name
    path.write_text(
        json.dumps({"year": year, "papers": ["国办发明电〔2026〕X号"], "days": days},
                   ensure_ascii=False),
        encoding="utf-8",
    )
    return path


GOOD_2027 = [
    {"name": "元旦", "date": "2027-01-01", "isOffDay": True},
    {"name": "春节", "date": "2027-02-06", "isOffDay": True},
    {"name": "春节", "date": "2027-02-14", "isOffDay": False},
]


# --- due ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_due_prints_only_the_deadline():
    out, err = run("due", "--start", "2026-09-30T16:00+08:00", "--duration", "1d")
    assert out == "2026-10-08T16:00:00+08:00\n"
    assert err == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "duration", "calendar", "expected"),
    [
        ("2026-09-30T16:00+08:00", "0.5d", "office", "2026-10-08T10:30:00+08:00"),
        ("2026-09-30T16:00+08:00", "3.5h", "office", "2026-10-08T10:30:00+08:00"),
        ("2026-09-30T08:00Z", "1h", "office", "2026-09-30T17:00:00+08:00"),
        ("2026-02-13T16:00:00+08:00", "1d", "office", "2026-02-14T16:00:00+08:00"),
        ("2026-03-02T08:30+08:00", "0.5d", "office", "2026-03-02T12:00:00+08:00"),
        ("2026-09-30T16:00+08:00", "1d", "24x7", "2026-10-01T16:00:00+08:00"),
        ("2026-09-30T16:00+08:00", "30m", "24x7", "2026-09-30T16:30:00+08:00"),
    ],
)
def test_due(start, duration, calendar, expected):
    out, err = run("due", "--start", start, "--duration", duration, "--calendar", calendar)
    assert out == expected + "\n"
    assert err == ""


@pytest.mark.django_db
def test_due_warns_on_stderr_when_a_year_is_not_entered():
    out, err = run("due", "--start", "2026-12-31T16:00+08:00", "--duration", "2d")
    assert out == "2027-01-04T16:00:00+08:00\n"
    assert "2027" in err and "尚未录入" in err


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--start", "2026-09-31T16:00+08:00", "--duration", "1d"], "'2026-09-31T16:00+08:00'"),
        (["--start", "yesterday", "--duration", "1d"], "'yesterday'"),
        (["--start", "2026-09-30T16:00", "--duration", "1d"], "缺少时区偏移"),
        (["--start", "2026-09-30T16:00+08:00", "--duration", "1 day"], "'1 day'"),
        (["--start", "2026-09-30T16:00+08:00", "--duration=-1h"], "'-1h'"),
        (["--start", "2026-09-30T16:00+08:00"], "--duration"),
        (["--start", "2026-09-30T16:00+08:00", "--duration", "1d", "--calendar", "7x24"],
         "'7x24'"),
    ],
)
def test_due_bad_input(args, fragment):
    events = Event.objects.count()
    assert fragment in bad("due", *args)
    assert Event.objects.count() == events


# --- import-year ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_import_year(tmp_path):
    out, _err = run("import-year", str(write_file(tmp_path, GOOD_2027)))
    assert out == "已导入 2027 年节假日：放假 2 天，调休上班 1 天\n"
    year = HolidayYear.objects.get(year=2027)
    assert year.source == "file"
    assert year.notice == "国办发明电〔2026〕X号"
    assert year.days.count() == 3
    assert Event.objects.filter(action="workcal.enter_holiday_year").count() == 1
    out, _ = run("due", "--start", "2026-12-31T16:00+08:00", "--duration", "2d")
    assert out == "2027-01-05T16:00:00+08:00\n"  # 1 January 2027 is now off


@pytest.mark.django_db
def test_import_year_replaces_a_year(reference_file):
    out, _ = run("import-year", str(reference_file(2026)))
    assert out == "已导入 2026 年节假日：放假 33 天，调休上班 6 天（替换原有 39 天）\n"
    assert HolidayYear.objects.get(year=2026).source == "file"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ([*GOOD_2027, {"name": "元旦", "date": "2028-01-01", "isOffDay": True}],
         "2028-01-01 不在 2027"),
        ([*GOOD_2027, GOOD_2027[0]], "2027-01-01 重复"),
        ([*GOOD_2027, {"name": "元旦", "date": "2027-01-01", "isOffDay": False}], "自相矛盾"),
        ([*GOOD_2027, {"name": "春节", "date": "2027-02-10", "isOffDay": False}],
         "2027-02-10 是工作日"),
        ([{"name": "元旦", "date": "2027-13-01", "isOffDay": True}], "'2027-13-01'"),
        ("{ broken", "JSON"),
        ({"year": 2027}, "'days'"),
    ],
)
def test_import_year_bad_files_write_nothing(tmp_path, content, fragment):
    path = tmp_path / "2027.json"
    if isinstance(content, list):
        write_file(tmp_path, content)
    elif isinstance(content, dict):
        path.write_text(json.dumps(content), encoding="utf-8")
    else:
        path.write_text(content, encoding="utf-8")
    counts = (Event.objects.count(), HolidayYear.objects.count(), HolidayDay.objects.count())
    message = bad("import-year", str(path))
    assert fragment in message
    assert str(path) in message
    assert counts == (
        Event.objects.count(), HolidayYear.objects.count(), HolidayDay.objects.count()
    )
    assert not HolidayYear.objects.filter(year=2027).exists()


@pytest.mark.django_db
def test_import_year_unreadable_files(tmp_path):
    assert "找不到文件" in bad("import-year", str(tmp_path / "missing.json"))
    assert "无法读取" in bad("import-year", str(tmp_path))  # a directory
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "无法读取" in bad("import-year", str(binary))


# --- as a process: exit code 2, one line on stderr, no traceback ----------------------------------

def process_env(var_dir: Path, keep_database_url: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "minyi.settings"
    # Its own var/ so that nothing the developer keeps there is touched.
    env["MINYI_VAR_DIR"] = str(var_dir)
    if not keep_database_url:
        env.pop("DATABASE_URL", None)
    return env


def minyi(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "minyi", "workcal", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--start", "2026-09-30 16h", "--duration", "1d"], "'2026-09-30 16h'"),
        (["--start", "2026-09-30T16:00", "--duration", "1d"], "缺少时区偏移"),
        (["--start", "2026-09-30T16:00+08:00", "--duration", "one day"], "'one day'"),
        (["--start", "2026-09-30T16:00+08:00", "--duration", "-1h"], "'-1h'"),
        (["--start", "2026-09-30T16:00+08:00"], "--duration"),
    ],
)
def test_process_exit_code_2_before_touching_the_database(tmp_path, args, fragment):
    result = minyi(process_env(tmp_path), "due", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> dict[str, str]:
    """A throw-away SQLite database, migrated by the command itself, for end-to-end runs."""
    var_dir = tmp_path_factory.mktemp("workcal-var")
    env = process_env(var_dir, keep_database_url=False)
    migrate = subprocess.run(
        [sys.executable, "-m", "minyi", "migrate", "-v0"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    env["_DB"] = str(var_dir / "minyi.sqlite3")
    return env


def table_counts(db: str) -> tuple[int, int, int]:
    with sqlite3.connect(db) as connection:
        return tuple(
            connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("core_event", "workcal_holidayyear", "workcal_holidayday")
        )


def test_process_end_to_end(migrated_sqlite, tmp_path):
    env = migrated_sqlite
    result = minyi(env, "due", "--start", "2026-09-30T16:00+08:00", "--duration", "1d")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "2026-10-08T16:00:00+08:00\n", ""
    )

    result = minyi(env, "due", "--start", "2026-09-30T16:00+08:00", "--duration", "1d",
                   "--calendar", "nope")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "'nope'" in result.stderr

    before = table_counts(env["_DB"])
    for days in (
        [*GOOD_2027, {"name": "元旦", "date": "2026-12-31", "isOffDay": True}],
        [*GOOD_2027, GOOD_2027[1]],
        [*GOOD_2027, {"name": "春节", "date": "2027-02-06", "isOffDay": False}],
    ):
        result = minyi(env, "import-year", str(write_file(tmp_path, days)))
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
    result = minyi(env, "import-year", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert table_counts(env["_DB"]) == before

    result = minyi(env, "import-year", str(write_file(tmp_path, GOOD_2027)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "已导入 2027 年节假日：放假 2 天，调休上班 1 天"
    assert table_counts(env["_DB"]) == (before[0] + 1, before[1] + 1, before[2] + 3)
