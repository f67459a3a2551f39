"""`minyi survey estimate` on R survey's api files: the JSON lines carry R's figures.

References as in test_stats_design.py: [api.Rout] cran/survey tests/api.Rout.save,
[svyby-deff] the R survey 4.5 session on svyby(~api99+api00, ~stype, dclus1, svymean,
deff=TRUE), [svy-prop_drop_nulls] svy's tests/svy/estimation/test_prop_drop_nulls.py.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from minyi.surveys.tests.test_stats_design import DATA, needs_data, prints

KEYS = ["estimate", "se", "ci_low", "ci_high", "deff", "n"]


def run(*args: str) -> list[dict]:
    out = StringIO()
    call_command("survey", "estimate", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("survey", "estimate", *args, stdout=StringIO())
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert "\n" not in message
    return message


@needs_data
def test_stratified_mean():
    # [api.Rout] svymean(~api00, dstrat): 662.29 SE 9.4089
    (line,) = run("--data", str(DATA / "apistrat.csv"), "--var", "api00", "--weights", "pw",
                  "--strata", "stype", "--fpc", "fpc")
    assert list(line) == KEYS
    prints(line["estimate"], "662.29")
    prints(line["se"], "9.4089")
    assert line["n"] == 200
    assert line["ci_low"] < line["estimate"] < line["ci_high"]


@needs_data
def test_by_school_type_with_design_effects():
    # [svyby-deff] svyby(~api00, ~stype, dclus1, svymean, deff=TRUE, vartype="ci")
    lines = run("--data", str(DATA / "apiclus1.csv"), "--var", "api00", "--weights", "pw",
                "--cluster", "dnum", "--fpc", "fpc", "--by", "stype")
    assert [line["by"] for line in lines] == ["E", "H", "M"]
    assert list(lines[0]) == ["by", *KEYS]
    prints(lines[0]["estimate"], "648.8681")
    for line, deff, ci_high in zip(lines, ("6.583674", "2.228259", "2.163900"),
                                   ("692.6976", "693.0897", "693.3934"), strict=True):
        prints(line["deff"], deff)
        prints(line["ci_high"], ci_high)
    assert sum(line["n"] for line in lines) == 183


@needs_data
def test_two_stage_total_with_missing_values():
    # [api.Rout] svytotal(~enroll, dclus2, na.rm=TRUE) with fpc=~fpc1+fpc2: 2639273 SE 799638
    (line,) = run("--data", str(DATA / "apiclus2.csv"), "--var", "enroll", "--stat", "total",
                  "--cluster", "dnum,snum", "--fpc", "fpc1,fpc2")
    prints(line["estimate"], "2639273")
    prints(line["se"], "799638")
    assert line["n"] == 120  # six schools have no enrolment


@needs_data
def test_proportion_per_level_with_na_cells(tmp_path):
    # [svy-prop_drop_nulls] every 10th school's type is NA; svymean(~factor(st), dna,
    # na.rm=TRUE) and confint(svyciprop(~I(st == "E"), obs, method="logit"))
    source = DATA / "apiclus1.csv"
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("stype")
    for i, row in enumerate(rows[1:]):
        if i % 10 == 0:
            row[column] = "NA"
    path = tmp_path / "apiclus1_na.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    lines = run("--data", str(path), "--var", "stype", "--stat", "proportion",
                "--weights", "pw", "--cluster", "dnum")
    assert [line["label"] for line in lines] == ["E", "H", "M"]
    assert list(lines[0]) == ["label", *KEYS]
    assert lines[0]["estimate"] == pytest.approx(0.810975609756098, rel=1e-12)
    assert lines[0]["se"] == pytest.approx(0.0463941779262182, rel=1e-9)
    assert lines[0]["ci_low"] == pytest.approx(0.690515543875448, rel=1e-9)
    assert lines[0]["ci_high"] == pytest.approx(0.891889966529345, rel=1e-9)
    assert lines[1]["ci_low"] == pytest.approx(0.0259967110599201, rel=1e-9)
    assert lines[0]["n"] == 164
    wilson = run("--data", str(path), "--var", "stype", "--stat", "proportion", "--weights",
                 "pw", "--cluster", "dnum", "--ci", "wilson", "--level", "0.9")
    assert wilson[0]["estimate"] == lines[0]["estimate"]
    assert lines[0]["ci_low"] < wilson[0]["ci_low"] < wilson[0]["ci_high"] < lines[0]["ci_high"]


@needs_data
def test_proportion_of_a_binary_column_by_group():
    lines = run("--data", str(DATA / "apiclus1.csv"), "--var", "sch_wide", "--stat",
                "proportion", "--weights", "pw", "--cluster", "dnum", "--fpc", "fpc",
                "--by", "stype")
    # not 0/1 but Yes/No: one line per level within each group
    assert [(line["by"], line["label"]) for line in lines] == [
        ("E", "No"), ("E", "Yes"), ("H", "No"), ("H", "Yes"), ("M", "No"), ("M", "Yes")]
    assert lines[0]["estimate"] + lines[1]["estimate"] == pytest.approx(1)


def test_gbk_file_and_line_numbers_of_bad_values(tmp_path):
    path = tmp_path / "答卷.csv"
    path.write_bytes("乡镇,满意,权重\n城关镇,1,10\n城关镇,0,10\n\n东山乡,1,20\n东山乡,1,20\n"
                     .encode("gbk"))
    lines = run("--data", str(path), "--var", "满意", "--stat", "proportion",
                "--weights", "权重", "--strata", "乡镇", "--by", "乡镇")
    assert [line["by"] for line in lines] == ["东山乡", "城关镇"]
    assert lines[0]["estimate"] == 1 and lines[1]["estimate"] == 0.5
    bad = tmp_path / "bad.csv"
    bad.write_text("乡镇,满意,权重\n城关镇,1,10\n\n城关镇,很满意,10\n", encoding="utf-8")
    assert refused("--data", str(bad), "--var", "满意") == "第4行 满意 列的值 '很满意' 不是数字"
    assert refused("--data", str(bad), "--var", "权重", "--weights", "满意") == (
        "第4行 满意 列的值 '很满意' 不是数字")
    empty_weight = tmp_path / "weight.csv"
    empty_weight.write_text("y,w\n1,2\n2,\n", encoding="utf-8")
    assert refused("--data", str(empty_weight), "--var", "y", "--weights", "w") == (
        "第3行 w 列缺少值（抽样设计变量不能缺失）")


@needs_data
def test_bad_input_is_refused_in_one_chinese_line(tmp_path):
    strat = str(DATA / "apistrat.csv")
    message = refused("--data", strat, "--var", "api00", "--strata", "stratum")
    assert message.startswith("数据文件中没有列 'stratum'（有：row_names、cds、stype")
    assert refused("--data", str(tmp_path / "none.csv"), "--var", "y") == (
        f"找不到数据文件：{tmp_path / 'none.csv'}")
    assert refused("--data", strat, "--var", "api00", "--stat", "median") == (
        "--stat 应为 mean、total、proportion 之一，而不是 'median'")
    assert refused("--data", strat, "--var", "api00", "--ci", "exact") == (
        "--ci 应为 normal、wilson、logit 之一，而不是 'exact'")
    assert refused("--data", strat, "--var", "api00", "--ci", "logit") == (
        "logit 区间只适用于比例（stat=\"proportion\"）")
    assert refused("--data", strat, "--var", "api00", "--level", "95") == (
        "--level 应为 0 和 1 之间的数，如 0.95，而不是 '95'")
    assert "分层 '413' 只有一个初级抽样单位" in refused(
        "--data", str(DATA / "apiclus1.csv"), "--var", "api00", "--weights", "pw",
        "--strata", "dnum")
    (line,) = run("--data", str(DATA / "apiclus1.csv"), "--var", "api00", "--weights", "pw",
                  "--strata", "dnum", "--lonely-psu", "adjust")
    prints(line["se"], "5.8281")  # cran/survey tests/lonely.psu.Rout.save
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "是空的" in refused("--data", str(empty), "--var", "y")


def test_from_the_console_exit_2_and_one_line(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("y,w\n1,2\n2,3\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "minyi", "survey", "estimate", "--data", str(data), "--var", "y",
         "--cluster", "psu"], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert "数据文件中没有列 'psu'（有：y、w）" in done.stderr
    fine = subprocess.run(
        [sys.executable, "-m", "minyi", "survey", "estimate", "--data", str(data), "--var", "y",
         "--weights", "w"], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[3])
    assert fine.returncode == 0, fine.stderr
    line = json.loads(fine.stdout)
    assert line["estimate"] == pytest.approx(8 / 5) and line["n"] == 2
