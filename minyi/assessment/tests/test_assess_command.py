"""`minyi assess run|show|facts`: output, closing, and bad input answered with exit status 2."""

import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from minyi.assessment import months
from minyi.assessment.models import AssessmentMonth, MonthlyFigures

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("assess", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


@pytest.fixture
def scheme(bureau, opinion_officer):
    return months.create_default_scheme(actor=opinion_officer, bureau=bureau.bureau, year=2024)


@pytest.mark.parametrize("sub", ["run", "show", "facts"])
@pytest.mark.parametrize("month", ["2024-13", "2024/05", "五月"])
def test_a_bad_month_exits_2_with_one_chinese_line(bureau, sub, month):
    code, message = run(sub, "--month", month)
    assert code == 2 and f"无法识别的月份「{month}」" in message and "\n" not in message
    assert not AssessmentMonth.objects.exists()


def test_unknown_bureau_and_no_scheme(bureau):
    assert run("run", "--month", "2024-05", "--bureau", "NOPE") == (
        2, "没有单位代码为 'NOPE' 的公安局")
    code, message = run("run", "--month", "2024-05", "--bureau", bureau.bureau.code)
    assert code == 2 and "2024年尚无考核方案" in message


def test_run_close_and_show(week_orders, bureau, scheme):
    code, out = run("run", "--month", "2024-05", "--bureau", bureau.bureau.code, "--close")
    assert code == 0
    assert out.strip().splitlines() == [out.strip()]
    assert out.startswith("测试县公安局 2024年5月：2个单位已计分，第一名") and "（已关账）" in out
    assert MonthlyFigures.objects.filter(bureau=bureau.bureau, month=date(2024, 5, 1)).exists()
    month = AssessmentMonth.objects.get()
    assert month.state == "closed"

    code, out = run("show", "--month", "2024-05", "--format", "json")
    data = json.loads(out)
    (shown,) = data["bureaus"]
    assert data["month"] == "2024-05" and shown["state"] == "closed"
    assert [u["unit"] for u in shown["units"]] == [
        r["unit"]["name"] for r in month.snapshot["units"]]
    assert [u["rank"] for u in shown["units"]] == [r["rank"] for r in month.snapshot["units"]]
    assert shown["units"][0]["items"]["satisfaction"]["score"] == \
        month.snapshot["units"][0]["cells"]["satisfaction"]["score"]
    assert [i["code"] for i in shown["items"]][:2] == ["satisfaction", "on_time"]

    code, out = run("show", "--month", "2024-05", "--format", "table")
    assert code == 0 and out.splitlines()[0] == "测试县公安局 2024-05（closed）"
    assert run("show", "--month", "2024-05", "--format", "csv")[0] == 2


def test_facts_recounts(week_orders, bureau):
    code, out = run("facts", "--month", "2024-05")
    assert code == 0
    rows = MonthlyFigures.objects.filter(bureau=bureau.bureau, month=date(2024, 5, 1)).count()
    assert out.strip() == f"测试县公安局 2024-05：{rows}行月度统计已重算"
    assert rows >= 3
