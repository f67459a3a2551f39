"""Standard errors after post-stratification, raking and calibration, against R's survey package.

The weights are made by `weighting.poststratify` / `weighting.rake` and the design is told how
(`Calibration`). Data: R survey's apiclus1 and apiclus2 (../shared/data/survey/). Every reference
value names where it was published:

- [api.Rout]   cran/survey tests/api.Rout.save: dclus1p <- postStratify(dclus1, ~stype,
               pop.types), dclus1 <- svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc),
               pop.types E 4421, H 755, M 1018: svymean(~api00) 642.31 SE 23.921;
               svytotal(~enroll, na.rm=TRUE) 3680893 SE 406293
- [rakecheck]  cran/survey tests/rakecheck.Rout.save, pop.schwide No 1072, Yes 5122:
               dclus1r <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide)):
               svymean(~api00) 641.23 SE 23.704, svytotal(~enroll) 3647300 SE 400603;
               dclus1g <- calibrate(dclus1, ~stype+sch.wide, poptotals, calfun="raking"):
               641.23 SE 23.704, 3647280 SE 400603
- [jl-ps]      xKDR/Survey.jl test/r_reference/poststratify_results.csv, written by
               generate_fixtures.R with survey 4.5 at 15 digits: postStratify(svydesign(id=~dnum,
               weights=~pw, data=apiclus1), ~stype, pop.types) (no fpc), svymean(~api00)
- [svy-cal]    samplics-org/svy packages/svy/tests/svy/weighting/test_calibration_variance.py,
               R survey 4.5 values at 15 digits on dclus1: postStratify to stype; rake to stype
               and sch.wide with No 1000, Yes 5194; calibrate(dclus1, ~api99,
               c(`(Intercept)`=6194, api99=3914069)); and the standardisation of stype to
               pop.types within sch.wide (R's svystandardize by=~stype, over=~sch.wide:
               postStratify to stype × sch.wide, each cell's total the stype share times the
               estimated sch.wide total) with svyby(~api00, ~sch.wide, svymean)
- [ch7]        a knitted R Markdown notebook "Chapter 7 Notes" (2017-11-16), found by text
               search, repository not recorded by the index: postStratify(svydesign(id=~dnum+snum,
               fpc=~fpc1+fpc2, data=apiclus2), ~stype, pop.types): svytotal(~enroll,
               na.rm=TRUE) 3074076 SE 292584; svymean(~api00, na.rm=TRUE) 673 SE 28.832

R prints 5 significant digits (all the integer digits of a large total); `prints(x, "642.31")`
checks that x rounds to exactly what R printed. R's printCoefmat takes the SE column for a test
statistic column and rounds it to 4 decimals before showing 5 digits, so an SE of 23.92049 shows
as 23.921: `prints(se, "23.921", se=True)` rounds the same way. Values R wrote with 15 digits are
checked to a relative 1e-9.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from minyi.surveys.stats import (
    Calibration,
    Design,
    estimate,
    estimate_by,
    poststratify,
    rake,
)

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "survey"

needs_data = pytest.mark.skipif(
    not (DATA / "apiclus1.csv").is_file(),
    reason=f"R survey's api data not found at {DATA} (../shared/data is not part of the repo)")

POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}


def api(name: str) -> dict[str, np.ndarray]:
    with open(DATA / f"{name}.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def num(column: np.ndarray) -> np.ndarray:
    return np.array([float(v) if v not in ("", "NA") else math.nan for v in column])


def prints(value: float, printed: str, *, se: bool = False) -> None:
    """`value` shows as R printed it (same number of decimals); an SE first rounded to 4
    decimals, as R's printCoefmat does."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    shown = round(value, 4) if se else value
    assert f"{shown:.{decimals}f}" == printed, (value, printed)


def close(value: float, reference: float, rel: float = 1e-9) -> None:
    assert value == pytest.approx(reference, rel=rel), (value, reference)


@pytest.fixture(scope="module")
def clus1():
    return api("apiclus1")


def dclus1(clus1, weights, calibration=None, *, fpc=True):
    """svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc) with the given weights."""
    return Design(weights=weights, clusters=(clus1["dnum"],),
                  fpc=(num(clus1["fpc"]),) if fpc else (), calibration=calibration)


def r_rake(weights, margins):
    """R's rake() with its defaults (at most 10 sweeps, stop when no cell of the joint table
    moved by 1) and the weights just after each margin in the last sweep: the sweeps before
    the last, then the margins post-stratified one by one."""
    result = rake(weights, margins, max_iter=10, epsilon=1)
    assert result.converged and result.iterations > 1
    current = rake(weights, margins, max_iter=result.iterations - 1, epsilon=1).weights
    sweeps = []
    for cells, totals in margins:
        current = poststratify(current, cells, totals)
        sweeps.append(current)
    np.testing.assert_array_equal(sweeps[-1], result.weights)
    return result.weights, sweeps


# --- post-stratification -------------------------------------------------------------------


@needs_data
def test_post_stratified_cluster_design(clus1):
    # [api.Rout] svymean 642.31 SE 23.921, svytotal(~enroll) 3680893 SE 406293; [svy-cal] the
    # mean and SE at 15 digits: 23.9204864450905 is what R prints as 23.921 (round to 23.9205
    # first), not 23.920.
    pw = num(clus1["pw"])
    weights = poststratify(pw, clus1["stype"], POP_TYPES)
    design = dclus1(clus1, weights, Calibration(cells=clus1["stype"]))
    mean = estimate(num(clus1["api00"]), design)
    prints(mean.estimate, "642.31")
    prints(mean.se, "23.921", se=True)
    close(mean.estimate, 642.310788211584)
    close(mean.se, 23.9204864450905)
    total = estimate(num(clus1["enroll"]), design, stat="total")
    prints(total.estimate, "3680893")
    prints(total.se, "406293", se=True)
    # The same weights taken as sampling weights: the SE of the total is 2.5 times too large.
    plain = estimate(num(clus1["enroll"]), dclus1(clus1, weights), stat="total")
    assert plain.estimate == total.estimate
    assert round(plain.se) == 1021788
    # Degrees of freedom are those of the design (15 districts, one stratum): t on 14 df
    assert design.degf() == 14


@needs_data
def test_post_stratum_totals_have_no_sampling_error(clus1):
    # [svy-cal] svytotal of each stype indicator on the post-stratified design: exactly 0 (the
    # population totals fix them); as sampling weights they would have SE 1209 / 253 / 202.
    weights = poststratify(num(clus1["pw"]), clus1["stype"], POP_TYPES)
    design = dclus1(clus1, weights, Calibration(cells=clus1["stype"]))
    for level, size in POP_TYPES.items():
        found = estimate((clus1["stype"] == level).astype(float), design, stat="total")
        assert found.estimate == pytest.approx(size, rel=1e-12)
        assert found.se == pytest.approx(0.0, abs=1e-9)
    assert all(e.se < 1e-12 for e in estimate(clus1["stype"], design, stat="proportion"))
    plain = estimate((clus1["stype"] == "E").astype(float), dclus1(clus1, weights), stat="total")
    assert round(plain.se) == 1209


@needs_data
def test_post_stratified_design_without_fpc(clus1):
    # [jl-ps] postStratify(svydesign(id=~dnum, weights=~pw), ~stype, pop.types): linearised
    # svymean(~api00) 642.310788211584 SE 24.1610605814973
    weights = poststratify(num(clus1["pw"]), clus1["stype"], POP_TYPES)
    design = dclus1(clus1, weights, Calibration(cells=clus1["stype"]), fpc=False)
    mean = estimate(num(clus1["api00"]), design)
    close(mean.estimate, 642.310788211584)
    close(mean.se, 24.1610605814973)


@needs_data
def test_post_stratified_two_stage_design_with_missing_values():
    # [ch7] postStratify(dclus2, ~stype, pop.types), dclus2 two-stage with fpc1 and fpc2 (its
    # weights those the fpc imply): svytotal(~enroll, na.rm=TRUE) 3074076 SE 292584 — six
    # schools have no enroll, and stay in their post-strata with their weights;
    # svymean(~api00) 673 SE 28.832
    clus2 = api("apiclus2")
    dnum, fpc1, fpc2 = clus2["dnum"], num(clus2["fpc1"]), num(clus2["fpc2"])
    schools = np.array([np.sum(dnum == d) for d in dnum])
    districts = len(set(dnum))
    base = fpc1 / districts * fpc2 / schools
    weights = poststratify(base, clus2["stype"], POP_TYPES)
    design = Design(weights=weights, clusters=(dnum, clus2["snum"]), fpc=(fpc1, fpc2),
                    calibration=Calibration(cells=clus2["stype"]))
    total = estimate(num(clus2["enroll"]), design, stat="total")
    assert total.n == 120
    prints(total.estimate, "3074076")
    prints(total.se, "292584", se=True)
    mean = estimate(num(clus2["api00"]), design)
    prints(mean.estimate, "673")
    prints(mean.se, "28.832", se=True)
    # Leaving the six schools out of the calibration instead gives another SE.
    has_enroll = ~np.isnan(num(clus2["enroll"]))
    cut = Design(weights=weights[has_enroll],
                 clusters=(dnum[has_enroll], clus2["snum"][has_enroll]),
                 fpc=(fpc1[has_enroll], fpc2[has_enroll]),
                 calibration=Calibration(cells=clus2["stype"][has_enroll]))
    other = estimate(num(clus2["enroll"])[has_enroll], cut, stat="total")
    assert other.estimate == pytest.approx(total.estimate, rel=1e-12)
    assert abs(other.se - total.se) > 100


@needs_data
def test_domains_of_a_post_stratified_design(clus1):
    # [svy-cal] stype standardised to pop.types within sch.wide, then svyby(~api00, ~sch.wide,
    # svymean): No 605.662913034119 SE 31.9154418732174, Yes 646.303126782460 SE
    # 24.9249948644004
    pw, stype, wide = num(clus1["pw"]), clus1["stype"], clus1["sch_wide"]
    share = {level: size / sum(POP_TYPES.values()) for level, size in POP_TYPES.items()}
    within = {w: float(pw[wide == w].sum()) for w in ("No", "Yes")}
    totals = {(s, w): share[s] * within[w] for s in POP_TYPES for w in within}
    weights = poststratify(pw, (stype, wide), totals)
    design = dclus1(clus1, weights, Calibration(cells=(stype, wide)))
    by = estimate_by(num(clus1["api00"]), design, wide)
    close(by["No"].estimate, 605.662913034119)
    close(by["No"].se, 31.9154418732174)
    close(by["Yes"].estimate, 646.303126782460)
    close(by["Yes"].se, 24.9249948644004)


# --- raking --------------------------------------------------------------------------------


@needs_data
def test_raking_as_calibrate_does_it(clus1):
    # [rakecheck] calibrate(dclus1, ~stype+sch.wide, poptotals, calfun="raking"): 641.23 SE
    # 23.704; svytotal(~enroll) 3647280 SE 400603. weighting.rake runs to convergence.
    pw = num(clus1["pw"])
    margins = [(clus1["stype"], POP_TYPES), (clus1["sch_wide"], POP_SCHWIDE)]
    raked = rake(pw, margins)
    assert raked.converged
    design = dclus1(clus1, raked.weights,
                    Calibration(margins=[clus1["stype"], clus1["sch_wide"]], base_weights=pw))
    mean = estimate(num(clus1["api00"]), design)
    prints(mean.estimate, "641.23")
    prints(mean.se, "23.704", se=True)
    total = estimate(num(clus1["enroll"]), design, stat="total")
    prints(total.estimate, "3647280")
    prints(total.se, "400603", se=True)


@needs_data
def test_raking_as_r_rake_does_it(clus1):
    # [rakecheck] rake(dclus1, list(~stype, ~sch.wide), ...): 641.23 SE 23.704; svytotal
    # 3647300 SE 400603. R's rake stops after the 4th sweep (no joint cell moved by 1), so the
    # margins hold only nearly, and its SEs come from its own projections on each sweep's
    # weights: the regression on the same weights gives 400608.
    pw = num(clus1["pw"])
    stype, wide = clus1["stype"], clus1["sch_wide"]
    weights, sweeps = r_rake(pw, [(stype, POP_TYPES), (wide, POP_SCHWIDE)])
    design = dclus1(clus1, weights, Calibration(margins=[stype, wide], sweep_weights=sweeps))
    mean = estimate(num(clus1["api00"]), design)
    prints(mean.estimate, "641.23")
    prints(mean.se, "23.704", se=True)
    total = estimate(num(clus1["enroll"]), design, stat="total")
    prints(total.estimate, "3647300")
    prints(total.se, "400603", se=True)
    regression = dclus1(clus1, weights, Calibration(margins=[stype, wide], base_weights=pw))
    assert round(estimate(num(clus1["enroll"]), regression, stat="total").se) == 400608


@needs_data
def test_raking_to_other_totals_at_fifteen_digits(clus1):
    # [svy-cal] rake to stype and sch.wide (No 1000, Yes 5194): svymean(~api00) SE
    # 23.7458597039106; the regression on converged weights is within 1e-6 of it
    pw = num(clus1["pw"])
    stype, wide = clus1["stype"], clus1["sch_wide"]
    schwide = {"No": 1000, "Yes": 5194}
    weights, sweeps = r_rake(pw, [(stype, POP_TYPES), (wide, schwide)])
    design = dclus1(clus1, weights, Calibration(margins=[stype, wide], sweep_weights=sweeps))
    close(estimate(num(clus1["api00"]), design).se, 23.7458597039106)
    converged = rake(pw, [(stype, POP_TYPES), (wide, schwide)]).weights
    regression = dclus1(clus1, converged, Calibration(margins=[stype, wide], base_weights=pw))
    close(estimate(num(clus1["api00"]), regression).se, 23.7458597039106, rel=1e-6)


@needs_data
def test_calibration_to_a_numeric_total(clus1):
    # [svy-cal] calibrate(dclus1, ~api99, c(`(Intercept)`=6194, api99=3914069)) (linear):
    # svymean(~api00) 666.717736250273 SE 3.29588091215716. The intercept is a margin of
    # one level (the population size).
    pw, api99 = num(clus1["pw"]), num(clus1["api99"])
    x = np.column_stack([np.ones_like(pw), api99])
    target = np.array([6194.0, 3914069.0])
    weights = pw * (1 + x @ np.linalg.solve((x.T * pw) @ x, target - x.T @ pw))
    calibration = Calibration(margins=[np.zeros(len(pw))], covariates=[api99], base_weights=pw)
    design = dclus1(clus1, weights, calibration)
    mean = estimate(num(clus1["api00"]), design)
    close(mean.estimate, 666.717736250273)
    close(mean.se, 3.29588091215716)
    assert estimate(api99, design, stat="total").se == pytest.approx(0.0, abs=1e-6)


# --- properties ----------------------------------------------------------------------------


def test_post_stratified_total_by_hand():
    # One stratum of 6 units with replacement: V = n/(n-1)·Σr², r = w(y - ȳ_c) with ȳ_c the
    # weighted mean of the post-stratum: A 2 → r = -5, 5; B (2·2 + 4·5)/6 = 4 → r = -4, 4;
    # C constant → 0, 0. V = 6/5·82 = 98.4.
    weights = np.array([5.0, 5, 2, 4, 8, 12])
    y = np.array([1.0, 3, 2, 5, 4, 4])
    design = Design(weights=weights, calibration=Calibration(cells=list("AABBCC")))
    found = estimate(y, design, stat="total")
    assert found.estimate == 124
    assert found.se == pytest.approx(math.sqrt(98.4), rel=1e-12)
    assert estimate(y, Design(weights=weights), stat="total").se > 40


@needs_data
@pytest.mark.parametrize("kind", ["cells", "base", "sweep"])
def test_a_domain_is_the_variable_zeroed_outside_it(clus1, kind):
    # In R a subset of a calibrated design keeps every row (weight 0 outside): the total over
    # a domain equals the total of y·1(domain) — estimate and SE — and a group of estimate_by
    # equals the domain; rows with y missing are a domain too.
    pw, stype, wide = num(clus1["pw"]), clus1["stype"], clus1["sch_wide"]
    if kind == "cells":
        weights = poststratify(pw, stype, POP_TYPES)
        calibration = Calibration(cells=stype)
    else:
        weights, sweeps = r_rake(pw, [(stype, POP_TYPES), (wide, POP_SCHWIDE)])
        calibration = (Calibration(margins=[stype, wide], base_weights=pw) if kind == "base"
                       else Calibration(margins=[stype, wide], sweep_weights=sweeps))
    design = dclus1(clus1, weights, calibration)
    enroll, api00 = num(clus1["enroll"]), num(clus1["api00"])
    domain = clus1["comp_imp"] == "Yes"
    inside = estimate(enroll, design, stat="total", domain=domain)
    zeroed = estimate(enroll * domain, design, stat="total")
    assert inside.estimate == pytest.approx(zeroed.estimate, rel=1e-12)
    assert inside.se == pytest.approx(zeroed.se, rel=1e-9)
    assert inside.n == int(domain.sum())
    by = estimate_by(api00, design, clus1["comp_imp"])
    alone = estimate(api00, design, domain=domain)
    assert by["Yes"].estimate == pytest.approx(alone.estimate, rel=1e-12)
    assert by["Yes"].se == pytest.approx(alone.se, rel=1e-9)
    assert estimate(np.where(domain, api00, math.nan), design) == alone
    # the residuals reach rows outside the domain: the uncalibrated SE is another
    assert abs(estimate(api00, dclus1(clus1, weights), domain=domain).se - alone.se) > 0.01


@needs_data
def test_joint_cells_and_one_margin_are_post_strata(clus1):
    # A tuple is a joint classification; post-stratification is the calibration to one margin
    # (the base weights' ratio to the final ones is constant in each post-stratum).
    pw, stype, wide = num(clus1["pw"]), clus1["stype"], clus1["sch_wide"]
    cells = np.char.add(np.char.add(stype, "."), wide)
    totals = {key: 100.0 * (i + 1) for i, key in enumerate(sorted(set(cells)))}
    weights = poststratify(pw, cells, totals)
    api00 = num(clus1["api00"])
    reference = estimate(api00, dclus1(clus1, weights, Calibration(cells=cells))).se
    for calibration in (Calibration(cells=(stype, wide)),
                        Calibration(margins=[cells], base_weights=pw),
                        Calibration(margins=[(stype, wide)], base_weights=pw),
                        Calibration(margins=[(stype, wide), stype], base_weights=pw)):
        found = estimate(api00, dclus1(clus1, weights, calibration)).se
        assert found == pytest.approx(reference, rel=1e-9)


def test_many_groups_in_chunks(monkeypatch):
    # Groups are handled a chunk at a time; the result does not depend on the chunk size.
    from minyi.surveys.stats import design as module

    rng = np.random.default_rng(7)
    n = 400
    strata = rng.integers(0, 8, n)
    psu = rng.integers(0, 5, n)
    sex, age, town = rng.integers(0, 2, n), rng.integers(0, 3, n), rng.integers(0, 6, n)
    base = rng.uniform(1, 3, n)
    weights = base * rng.uniform(0.8, 1.2, n)
    y = rng.normal(size=n)
    calibrations = (Calibration(cells=(sex, age)),
                    Calibration(margins=[sex, age], base_weights=base),
                    Calibration(margins=[sex, age], sweep_weights=[weights, weights]))
    for calibration in calibrations:
        design = Design(weights=weights, strata=strata, clusters=(psu,), calibration=calibration)
        whole = estimate_by(y, design, town)
        monkeypatch.setattr(module, "CHUNK", 1)
        again = Design(weights=weights, strata=strata, clusters=(psu,), calibration=calibration)
        small = estimate_by(y, again, town)
        monkeypatch.undo()
        for key, found in whole.items():
            assert small[key].se == pytest.approx(found.se, rel=1e-12)
            assert 0 < found.se < 1


def test_bad_calibrations_raise_clear_errors():
    w = np.array([1.0, 2, 3, 4])
    cells = ["a", "a", "b", "b"]
    with pytest.raises(ValueError, match="cells（事后分层）或 margins/covariates"):
        Calibration()
    with pytest.raises(ValueError, match="cells（事后分层）或 margins/covariates"):
        Calibration(cells=cells, margins=[cells])
    with pytest.raises(ValueError, match="不需要 base_weights"):
        Calibration(cells=cells, base_weights=w)
    with pytest.raises(ValueError, match="须给出校准前的权重 base_weights"):
        Calibration(margins=[cells])
    with pytest.raises(ValueError, match="只能给出其一"):
        Calibration(margins=[cells], base_weights=w, sweep_weights=[w])
    with pytest.raises(ValueError, match="应为每个边际一组权重（2 组），而不是 1 组"):
        Calibration(margins=[cells, cells], sweep_weights=[w])
    with pytest.raises(ValueError, match="不能与 covariates 同用"):
        Calibration(margins=[cells], covariates=[w], sweep_weights=[w])
    with pytest.raises(ValueError, match="margins 应为列表"):
        Calibration(margins=np.array(cells), base_weights=w)
    with pytest.raises(ValueError, match="须同时给出校准后的权重 weights"):
        Design(calibration=Calibration(cells=cells))
    with pytest.raises(ValueError, match="calibration 应为 Calibration"):
        Design(weights=w, calibration=cells)
    with pytest.raises(ValueError, match="长度不一致"):
        Design(weights=w, calibration=Calibration(cells=["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"cells\[1\] 有缺失值（第 2 个值）"):
        Design(weights=w, calibration=Calibration(cells=(cells, ["x", None, "y", "y"])))
    with pytest.raises(ValueError, match="base_weights 不能为负数（第 3 个值为 -1）"):
        Design(weights=w, calibration=Calibration(margins=[cells], base_weights=[1, 1, -1, 1]))
    with pytest.raises(ValueError, match="sweep_weights 须全部大于 0"):
        Design(weights=w, calibration=Calibration(margins=[cells], sweep_weights=[[1, 0, 1, 1]]))
    with pytest.raises(ValueError, match="最后一组应等于设计的权重"):
        Design(weights=w, calibration=Calibration(margins=[cells], sweep_weights=[w * 2]))
    with pytest.raises(ValueError, match=r"covariates\[0\] 有缺失或非有限值"):
        Design(weights=w, calibration=Calibration(margins=[cells], covariates=[[1, 2, math.nan, 4]],
                                                  base_weights=w))
