"""Weighting against hand-worked cases and against the published outputs of R's survey package.

R references (cran/survey):
* tests/api.Rout.save — ``dclus1p <- postStratify(dclus1, ~stype, pop.types)`` on apiclus1 with
  pop.types E 4421, H 755, M 1018: ``summary(dclus1p)`` probabilities Min 0.01854, Mean 0.03040,
  Max 0.03257; ``svymean(~api00, dclus1p)`` 642.31; ``svytotal(~enroll, dclus1p)`` 3680893.
* tests/rakecheck.Rout.save (the example of man/rake.Rd) — ``dclus1r <- rake(dclus1,
  list(~stype, ~sch.wide), list(pop.types, pop.schwide))`` with pop.schwide No 1072, Yes 5122:
  ``svymean(~api00, dclus1r)`` 641.23, ``svytotal(~enroll, dclus1r)`` 3647300; the fully
  converged raking of ``calibrate(dclus1, ~stype+sch.wide, poptotals, calfun="raking")``:
  641.23 and 3647280. (R's rake stops by default after a sweep that moved no cell of the
  stype × sch.wide table by 1 or more, hence the 20 between the two totals.)
"""

import csv
import math
import time
from pathlib import Path

import numpy as np
import pytest

from minyi.surveys.stats.weighting import (
    PopulationTable,
    WeightingError,
    diagnostics,
    population_table,
    poststratify,
    rake,
    trim,
)

API = Path("/work/shared/data/survey")
if not API.exists():  # the checkout's sibling, as the issue names it
    API = Path(__file__).resolve().parents[4] / "shared" / "data" / "survey"

POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}


@pytest.fixture(scope="module")
def apiclus1():
    path = API / "apiclus1.csv"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        "stype": np.array([r["stype"] for r in rows]),
        "sch_wide": np.array([r["sch_wide"] for r in rows]),
        "pw": np.array([float(r["pw"]) for r in rows]),
        "api00": np.array([float(r["api00"]) for r in rows]),
        "enroll": np.array([float(r["enroll"]) for r in rows]),
    }


def weighted_totals(weights, labels):
    return {k: float(weights[labels == k].sum()) for k in np.unique(labels).tolist()}


# --------------------------------------------------------------------------------------------
# post-stratification


def test_poststratify_six_rows_by_hand():
    # Cell sums of the weights: A 1+1 = 2, B 1+2 = 3, C 2+3 = 5; factors 10/2, 6/3, 20/5.
    w = poststratify([1, 1, 1, 2, 2, 3], ["A", "A", "B", "B", "C", "C"], {"A": 10, "B": 6, "C": 20})
    assert w.tolist() == [5.0, 5.0, 2.0, 4.0, 8.0, 12.0]


def test_poststratify_joint_cells_take_tuple_keys():
    sex = ["男", "男", "女", "女", "女"]
    age = ["青", "老", "青", "青", "老"]
    w = poststratify(
        [2, 2, 1, 3, 4], (sex, age),
        {("男", "青"): 10, ("男", "老"): 5, ("女", "青"): 8, ("女", "老"): 2},
    )
    # 女·青 has 1 + 3 = 4 → factor 2; the others are single rows.
    assert w.tolist() == [10.0, 5.0, 2.0, 6.0, 2.0]


def test_poststratify_does_not_change_its_input():
    original = np.array([1.0, 2.0])
    poststratify(original, ["A", "A"], {"A": 6})
    assert original.tolist() == [1.0, 2.0]


def test_poststratify_matches_r_on_apiclus1(apiclus1):
    w = poststratify(apiclus1["pw"], apiclus1["stype"], POP_TYPES)
    assert weighted_totals(w, apiclus1["stype"]) == pytest.approx(POP_TYPES, rel=1e-12)
    prob = 1 / w
    assert round(prob.min(), 5) == 0.01854
    assert round(prob.mean(), 5) == 0.03040
    assert round(prob.max(), 5) == 0.03257
    assert round(np.average(apiclus1["api00"], weights=w), 2) == 642.31
    assert round(float(np.dot(w, apiclus1["enroll"]))) == 3680893


def test_a_sample_cell_without_population_total_is_named():
    with pytest.raises(WeightingError, match="样本中的单元格「D」（2名受访者）没有总体数"):
        poststratify([1, 1, 1], ["A", "D", "D"], {"A": 5})


def test_a_population_cell_without_respondents_is_named():
    with pytest.raises(WeightingError, match="总体单元格「男·老」（总体数 40）没有受访者"):
        poststratify([1, 1], (["男", "女"], ["青", "青"]),
                     {("男", "青"): 10, ("女", "青"): 12, ("男", "老"): 40})


@pytest.mark.parametrize("total", [0, -3, float("nan"), "many"])
def test_a_total_must_be_a_positive_number(total):
    with pytest.raises(WeightingError, match="单元格「B」的总体数"):
        poststratify([1, 1], ["A", "B"], {"A": 5, "B": total})


@pytest.mark.parametrize("missing", [None, "", float("nan")])
def test_a_respondent_without_a_cell_is_named_by_row(missing):
    with pytest.raises(WeightingError, match="第2条记录的事后分层变量为空"):
        poststratify([1, 1, 1], ["A", missing, "A"], {"A": 5})


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan")])
def test_weights_must_be_positive(bad):
    with pytest.raises(WeightingError, match="第3条记录的权重"):
        poststratify([1, 1, bad], ["A", "A", "A"], {"A": 5})


def test_cells_must_have_one_label_per_weight():
    with pytest.raises(WeightingError, match="长度（2）与权重个数（3）不一致"):
        poststratify([1, 1, 1], ["A", "A"], {"A": 5})


# --------------------------------------------------------------------------------------------
# raking


def test_rake_two_by_two_independent_start_converges_in_one_sweep():
    rows = ["r1", "r1", "r2", "r2"]
    cols = ["c1", "c2", "c1", "c2"]
    result = rake([1, 1, 1, 1], [(rows, {"r1": 30, "r2": 70}), (cols, {"c1": 40, "c2": 60})])
    # Rows: 15 15 35 35; columns ×40/50 and ×60/50: 12 18 28 42 (= row·col/100).
    assert result.weights == pytest.approx([12, 18, 28, 42], rel=1e-12)
    assert result.iterations == 1 and result.converged
    assert result.max_error < 1e-12


def test_rake_two_by_two_first_sweep_by_hand():
    rows = ["r1", "r1", "r2", "r2"]
    cols = ["c1", "c2", "c1", "c2"]
    margins = [(rows, {"r1": 10, "r2": 10}), (cols, {"c1": 10, "c2": 10})]
    one = rake([1, 2, 3, 4], margins, max_iter=1)
    # Rows ×10/3 and ×10/7: 10/3 20/3 30/7 40/7. Columns: c1 sums 160/21 → ×21/16,
    # c2 sums 260/21 → ×21/26: 35/8 70/13 45/8 60/13.
    assert one.weights == pytest.approx([35 / 8, 70 / 13, 45 / 8, 60 / 13], rel=1e-12)
    assert one.iterations == 1 and not one.converged
    # Row r1 then sums 35/8 + 70/13 = 1015/104 against 10.
    assert one.max_error == pytest.approx((10 - 1015 / 104) / 10, rel=1e-12)


def test_rake_two_by_two_limit_keeps_the_odds_ratio():
    # IPF keeps the odds ratio 1·4 / (2·3) = 2/3; with all margins 10 the table is
    # x, 10−x, 10−x, x with x²/(10−x)² = 2/3, so x = 10·√6 − 20.
    rows = ["r1", "r1", "r2", "r2"]
    cols = ["c1", "c2", "c1", "c2"]
    result = rake([1, 2, 3, 4], [(rows, {"r1": 10, "r2": 10}), (cols, {"c1": 10, "c2": 10})],
                  tol=1e-12)
    x = 10 * math.sqrt(6) - 20
    assert result.weights == pytest.approx([x, 10 - x, 10 - x, x], rel=1e-10)
    assert result.converged and result.iterations > 1


def test_rake_with_a_joint_margin():
    # Margin 1 is sex × age (a partial joint table), margin 2 the township; one row per cell
    # of the full table, so the fitted table is the joint margin split by the township shares.
    sex = ["男", "男", "女", "女"] * 2
    age = ["青", "老"] * 4
    town = ["东"] * 4 + ["西"] * 4
    joint = {("男", "青"): 20, ("男", "老"): 30, ("女", "青"): 25, ("女", "老"): 25}
    result = rake([1.0] * 8, [((sex, age), joint, "性别×年龄"), (town, {"东": 40, "西": 60})])
    assert result.converged
    assert result.weights == pytest.approx([8, 12, 10, 10, 12, 18, 15, 15], rel=1e-9)


def test_rake_matches_r_on_apiclus1(apiclus1):
    margins = [(apiclus1["stype"], POP_TYPES), (apiclus1["sch_wide"], POP_SCHWIDE)]
    full = rake(apiclus1["pw"], margins)
    assert full.converged
    assert weighted_totals(full.weights, apiclus1["stype"]) == pytest.approx(POP_TYPES, rel=1e-6)
    assert weighted_totals(full.weights, apiclus1["sch_wide"]) == pytest.approx(
        POP_SCHWIDE, rel=1e-6
    )
    assert full.max_error < 1e-6
    # calibrate(..., calfun="raking") in rakecheck.Rout.save: the converged raking.
    assert round(np.average(apiclus1["api00"], weights=full.weights), 2) == 641.23
    assert round(float(np.dot(full.weights, apiclus1["enroll"]))) == 3647280

    # rake() with R's default control = list(maxit=10, epsilon=1).
    r_like = rake(apiclus1["pw"], margins, max_iter=10, epsilon=1)
    assert r_like.converged
    assert round(np.average(apiclus1["api00"], weights=r_like.weights), 2) == 641.23
    assert round(float(np.dot(r_like.weights, apiclus1["enroll"]))) == 3647300
    # The last margin raked to is exact after every sweep.
    assert weighted_totals(r_like.weights, apiclus1["sch_wide"]) == pytest.approx(
        POP_SCHWIDE, rel=1e-12
    )


def test_rake_that_cannot_converge_is_reported_not_raised():
    # Respondents only on the diagonal: rows force r1 = 10, columns force c1 = 5.
    result = rake([1, 1], [(["r1", "r2"], {"r1": 10, "r2": 10}),
                           (["c1", "c2"], {"c1": 5, "c2": 15})], max_iter=7)
    assert not result.converged
    assert result.iterations == 7
    assert result.weights.tolist() == [5.0, 15.0]
    assert result.max_error == 0.5  # r1 at 5 against 10


def test_rake_margins_with_different_grand_totals_are_refused():
    with pytest.raises(WeightingError, match="边际1（类型）合计 100，边际2（性别）合计 90"):
        rake([1, 1], [(["a", "b"], {"a": 50, "b": 50}, "类型"),
                      (["男", "女"], {"男": 45, "女": 45}, "性别")])


def test_rake_names_the_margin_and_the_cell():
    with pytest.raises(WeightingError, match="边际2（性别）：总体单元格「女」"):
        rake([1, 1], [(["a", "b"], {"a": 50, "b": 50}),
                      (["男", "男"], {"男": 60, "女": 40}, "性别")])


def test_rake_one_million_rows_three_margins_is_fast():
    rng = np.random.default_rng(6)
    n = 1_000_000
    town = rng.integers(0, 40, n).astype(str)
    sex = rng.choice(np.array(["男", "女"]), n)
    age = rng.integers(0, 6, n)
    w = rng.uniform(0.5, 3, n)

    def margin(col, total):
        labels, counts = np.unique(col, return_counts=True)
        shares = counts * rng.uniform(0.8, 1.2, counts.size)
        return dict(zip(labels.tolist(), (shares / shares.sum() * total).tolist(), strict=True))

    margins = [(town, margin(town, 5e6)), (sex, margin(sex, 5e6)), (age, margin(age, 5e6))]
    start = time.perf_counter()
    rake(w, margins, max_iter=1, tol=0)
    one = time.perf_counter() - start
    start = time.perf_counter()
    result = rake(w, margins, max_iter=6, tol=0)
    six = time.perf_counter() - start
    per_iteration = (six - one) / 5
    assert result.iterations == 6
    assert per_iteration < 0.5, f"{per_iteration:.3f} s per sweep"
    assert one < 3, f"set-up and one sweep took {one:.3f} s"


# --------------------------------------------------------------------------------------------
# trimming


def test_trim_caps_and_keeps_the_total():
    # 6 → 3; the 3 cut off go to the four 1s in proportion: ×(10 − 3)/4 = 1.75.
    assert trim([1, 1, 1, 1, 6], upper=3).tolist() == [1.75, 1.75, 1.75, 1.75, 3.0]


def test_trim_iterates_when_the_share_pushes_others_over():
    # Round 1: 8 → 4, the rest ×12/8: 1.5 1.5 4.5 4.5; round 2: the two 4.5 → 4, the 1s ×4/2.
    assert trim([1, 1, 3, 3, 8], upper=4).tolist() == [2.0, 2.0, 4.0, 4.0, 4.0]


def test_trim_lower_bound():
    # 0.2 → 0.5; the rest ×(4 − 0.5)/3.8 = 35/38.
    w = trim([0.2, 1, 1, 1.8], lower=0.5)
    assert w == pytest.approx([0.5, 35 / 38, 35 / 38, 63 / 38], rel=1e-12)
    assert w.sum() == pytest.approx(4.0, rel=1e-12)


def test_trim_without_keeping_the_total_only_clips():
    assert trim([0.2, 1, 9], lower=0.5, upper=4, keep_total=False).tolist() == [0.5, 1.0, 4.0]


def test_trim_with_nothing_outside_changes_nothing():
    assert trim([1, 2, 3], lower=1, upper=3).tolist() == [1.0, 2.0, 3.0]


def test_trim_refuses_bounds_that_cannot_keep_the_total():
    with pytest.raises(WeightingError, match=r"权重上限 1\.5 过低：4个权重最多合计 6，不足总数 8"):
        trim([1, 1, 2, 4], upper=1.5)
    with pytest.raises(WeightingError, match="权重下限 3 过高"):
        trim([1, 1, 2, 4], lower=3)
    with pytest.raises(WeightingError, match="下限 3 大于上限 2"):
        trim([1, 1, 2, 4], lower=3, upper=2)


def test_trim_exactly_at_the_feasible_bound_puts_every_weight_on_it():
    assert trim([1, 1, 2, 4], upper=2).tolist() == [2.0, 2.0, 2.0, 2.0]


# --------------------------------------------------------------------------------------------
# diagnostics


def test_diagnostics_of_1_1_2_4():
    d = diagnostics([1, 1, 2, 4])
    # Σw = 8, Σw² = 22, n = 4: deff_w = 4·22/64 = 11/8; sd (over n) = √(22/4 − 4) = √1.5;
    # cv = √1.5 / 2 = √0.375; efficiency 8/11; n_eff = 64/22 = 32/11.
    assert (d.n, d.total, d.min, d.max, d.mean) == (4, 8.0, 1.0, 4.0, 2.0)
    assert d.deff_w == 1.375
    assert d.cv == pytest.approx(math.sqrt(0.375), rel=1e-15)
    assert d.cv == pytest.approx(math.sqrt(1.5) / 2, rel=1e-15)
    assert d.deff_w == pytest.approx(1 + d.cv**2, rel=1e-15)
    assert d.efficiency == pytest.approx(8 / 11, rel=1e-15)
    assert d.n_eff == pytest.approx(32 / 11, rel=1e-15)
    assert d.as_dict()["deff_w"] == 1.375


def test_diagnostics_of_equal_weights():
    d = diagnostics([3, 3, 3])
    assert (d.cv, d.deff_w, d.efficiency, d.n_eff) == (0.0, 1.0, 1.0, 3.0)


def test_diagnostics_of_nothing_is_an_error():
    with pytest.raises(WeightingError, match="样本为空"):
        diagnostics([])


# --------------------------------------------------------------------------------------------
# population totals


ROWS = [
    {"township": "城关镇", "sex": "男", "age_group": "18-39岁", "total": 300},
    {"township": "城关镇", "sex": "男", "age_group": "40岁以上", "total": 200},
    {"township": "城关镇", "sex": "女", "age_group": "18-39岁", "total": 250},
    {"township": "城关镇", "sex": "女", "age_group": "40岁以上", "total": 250},
    ("河口乡", "男", "18-39岁", 100),
    ("河口乡", "男", "40岁以上", 150),
    ("河口乡", "女", "18-39岁", "150"),
    ("河口乡", "女", "40岁以上", 0),
]


def test_population_table_cells_and_margins():
    table = population_table(ROWS)
    assert isinstance(table, PopulationTable)
    assert table.dims == ("township", "sex", "age_group")
    assert len(table.cells) == 7  # the empty cell is left out
    assert table.total == 1400
    assert table.margin("township") == {"城关镇": 1000, "河口乡": 400}
    assert table.margin("sex") == {"男": 750, "女": 650}
    assert table.margin("sex", "age_group") == {
        ("男", "18-39岁"): 400, ("男", "40岁以上"): 350,
        ("女", "18-39岁"): 400, ("女", "40岁以上"): 250,
    }


def test_population_table_feeds_rake_and_poststratify():
    table = population_table(ROWS)
    columns = {
        "township": ["城关镇", "城关镇", "城关镇", "城关镇", "河口乡", "河口乡", "河口乡"],
        "sex": ["男", "男", "女", "女", "男", "男", "女"],
        "age_group": ["18-39岁", "40岁以上", "18-39岁", "40岁以上", "18-39岁", "40岁以上",
                      "18-39岁"],
    }
    w = poststratify([1] * 7, table.sample_cells(columns), table.cells)
    assert w.tolist() == [300, 200, 250, 250, 100, 150, 150]
    margins = table.rake_margins(columns, ["township", ("sex", "age_group")])
    assert [m[2] for m in margins] == ["乡镇（街道）", "性别×年龄段"]
    result = rake([1] * 7, margins, tol=1e-10)
    assert result.converged
    totals = {}
    for t, wt in zip(columns["township"], result.weights, strict=True):
        totals[t] = totals.get(t, 0) + wt
    assert totals == pytest.approx({"城关镇": 1000, "河口乡": 400}, rel=1e-9)


def test_population_table_reports_every_bad_row():
    rows = [
        ("城关镇", "男", "18-39岁", 10),
        ("城关镇", "男", "18-39岁", 12),
        ("城关镇", "", "18-39岁", 5),
        ("城关镇", "女", "18-39岁", -1),
        ("城关镇", "女", "40岁以上", "几百"),
        ("城关镇", "女"),
        {"township": "河口乡", "sex": "男"},
    ]
    with pytest.raises(WeightingError) as err:
        population_table(rows)
    message = str(err.value)
    assert "第2行与第1行重复：「城关镇·男·18-39岁」" in message
    assert "第3行的性别为空" in message
    assert "第4行「城关镇·女·18-39岁」的总体数为 -1，不能为负数" in message
    assert "第5行「城关镇·女·40岁以上」的总体数「几百」不是数字" in message
    assert "第6行应有4列，实有2列" in message
    assert "第7行缺少年龄段、总体数" in message


def test_population_table_unknown_dimension():
    with pytest.raises(WeightingError, match="总体数表没有维度「education」"):
        population_table(ROWS).margin("education")
