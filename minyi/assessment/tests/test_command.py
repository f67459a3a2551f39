"""`minyi bulletin weekly`: the formats, and bad input answered with exit status 2."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from minyi.assessment.models import WeeklyBulletin
from minyi.core.models import Event

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("bulletin", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("week", "named"), [
    ("2026-W54", "「2026-W54」"), ("2026-47", "「2026-47」"), ("abc", "「abc」"),
])
def test_a_bad_week_exits_2_and_writes_nothing(bureau, tmp_path, week, named):
    out = tmp_path / "bulletin.docx"
    status, stdout, stderr = run("weekly", "--week", week, "--format", "docx",
                                 "--out", str(out))
    assert status == 2
    assert named in stderr and f"'{week}'" in stderr  # Chinese, then English
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists() and stdout == ""
    assert not WeeklyBulletin.objects.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "pdf"], "不支持的格式「pdf」"),
    (["--format", "docx", "--out", "-"], "docx 文件不能写到标准输出"),
    (["--bureau", "NOPE"], "没有代码为「NOPE」的单位"),
])
def test_other_bad_input_exits_2(bureau, tmp_path, args, message):
    argv = ["weekly", "--week", "2024-W19", "--out", str(tmp_path / "x.docx"), *args]
    status, _, stderr = run(*argv)
    assert status == 2 and message in stderr
    assert not WeeklyBulletin.objects.exists()


def test_json_to_stdout_then_the_same_bulletin_as_files(week_orders, bureau, tmp_path):
    status, stdout, _ = run("weekly", "--week", "2024-W19", "--bureau", bureau.bureau.code,
                            "--format", "json", "--out", "-")
    assert status == 0
    data = json.loads(stdout)
    assert data["number"] == "通报〔2024〕1号"
    assert data["total"]["received"] == 8 and data["total"]["rates"]["completion"] is not None
    assert data["generated_by"] == "系统（自动生成）"
    assert Event.objects.filter(action="bulletin.generate").count() == 1

    for fmt, magic in (("xlsx", b"PK"), ("docx", b"PK")):
        path = tmp_path / f"bulletin.{fmt}"
        status, _, stderr = run("weekly", "--week", "2024-W19", "--format", fmt,
                                "--out", str(path))
        assert status == 0 and path.read_bytes()[:2] == magic
        assert "通报〔2024〕1号（已有）" in stderr
    assert WeeklyBulletin.objects.count() == 1

    status, stdout, _ = run("weekly", "--week", "2024-W19", "--format", "json", "--out", "-",
                            "--regenerate")
    assert status == 0 and Event.objects.filter(action="bulletin.regenerate").count() == 1


def test_an_empty_week_is_an_empty_bulletin(bureau, tmp_path):
    status, stdout, _ = run("weekly", "--week", "2021-W10", "--format", "json", "--out", "-")
    assert status == 0
    data = json.loads(stdout)
    assert data["total"]["received"] == 0
    assert set(data["total"]["rates"].values()) == {None}
    path = tmp_path / "empty.docx"
    assert run("weekly", "--week", "2021-W10", "--format", "docx", "--out", str(path))[0] == 0
    assert path.stat().st_size > 0
