"""The design-based estimators against the R package survey on its `api` data.

The data are R survey's apistrat, apiclus1 and apiclus2 (../shared/data/survey/, read where they
lie). Every reference value names where it was published:

- [api.Rout]   cran/survey tests/api.Rout.save (`example(api)`; svymean, svytotal on dstrat,
               dclus1, dclus2 and dclus2wr)
- [lonely]     cran/survey tests/lonely.psu.Rout.save (strata = dnum on apiclus1)
- [deff.Rout]  cran/survey tests/deff.Rout.save (Takahiro Tsuchiya's 10-row example)
- [domain-web] r-survey.r-forge.r-project.org/survey/example-domain.html (svyby, subset)
- [jl-*]       xKDR/Survey.jl test/r_reference/*.csv, written by generate_fixtures.R with R
               survey 4.5 at 15 digits (est_basic, proportions, domain, confint)
- [jl-doc]     xKDR/Survey.jl docs, design effect page: R's svymean(~api00, dclus1, deff=TRUE)
- [svy-*]      R survey 4.5 values (sprintf %.15g) quoted in the tests of the Python package
               svy: tests/svy/estimation/test_factor_total.py, test_prop_drop_nulls.py
- [svyby-deff] an R survey 4.5 session (R 4.6.1) quoted in a report to the survey maintainer
               on deff.svyby: svyby(~api99+api00, ~stype, dclus1, svymean, deff=TRUE,
               vartype="ci") — DEff, ci_l and ci_u columns
- [wr-deff]    R output quoted in a public script (found by text search, repository not
               recorded by the index): svymean(~api00, dclus, deff=TRUE) with
               dclus <- svydesign(id=~dnum+snum, weights=~pw, data=apiclus2)

R prints 5 significant digits by default; `prints(x, "9.4089")` checks x rounds to exactly
what R printed. Values R wrote with 15 digits are checked to a relative 1e-9.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from minyi.surveys.stats import Design, Estimate, estimate, estimate_by

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "survey"

needs_data = pytest.mark.skipif(
    not (DATA / "apistrat.csv").is_file(),
    reason=f"R survey's api data not found at {DATA} (../shared/data is not part of the repo)")


def api(name: str) -> dict[str, np.ndarray]:
    """A data file as columns of strings; `num` and `lab` turn them into arrays."""
    with open(DATA / f"{name}.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def num(column: np.ndarray) -> np.ndarray:
    return np.array([float(v) if v not in ("", "NA") else math.nan for v in column])


def prints(value: float, printed: str) -> None:
    """`value` shows as R printed it (same number of decimals)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert f"{value:.{decimals}f}" == printed, (value, printed)


def close(value: float, reference: float, rel: float = 1e-9) -> None:
    assert value == pytest.approx(reference, rel=rel), (value, reference)


@pytest.fixture(scope="module")
def strat():
    return api("apistrat")


@pytest.fixture(scope="module")
def clus1():
    return api("apiclus1")


@pytest.fixture(scope="module")
def clus2():
    return api("apiclus2")


@pytest.fixture(scope="module")
def dstrat(strat):
    # svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)
    return Design(weights=num(strat["pw"]), strata=strat["stype"], fpc=(num(strat["fpc"]),))


@pytest.fixture(scope="module")
def dclus1(clus1):
    # svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)
    return Design(weights=num(clus1["pw"]), clusters=(clus1["dnum"],), fpc=(num(clus1["fpc"]),))


@pytest.fixture(scope="module")
def dclus1_w(clus1):
    # svydesign(id=~dnum, weights=~pw, data=apiclus1): no fpc
    return Design(weights=num(clus1["pw"]), clusters=(clus1["dnum"],))


@pytest.fixture(scope="module")
def dclus2(clus2):
    # svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2): weights from the fpc
    return Design(clusters=(clus2["dnum"], clus2["snum"]),
                  fpc=(num(clus2["fpc1"]), num(clus2["fpc2"])))


# --- stratified: apistrat --------------------------------------------------------------------


@needs_data
def test_stratified_mean_and_total(strat, dstrat):
    # [api.Rout] svymean(~api00, dstrat): 662.29 SE 9.4089;
    # svytotal(~enroll, dstrat, na.rm=TRUE): 3687178 SE 114642
    mean = estimate(num(strat["api00"]), dstrat)
    prints(mean.estimate, "662.29")
    prints(mean.se, "9.4089")
    assert mean.n == 200
    total = estimate(num(strat["enroll"]), dstrat, stat="total")
    prints(total.estimate, "3687178")
    prints(total.se, "114642")
    # confint(svymean(...)) is Wald with qnorm: [jl-confint] strat_fpc normal bounds (that
    # design takes its weights from the fpc, equal to pw up to pw's float rounding).
    close(mean.ci_low, 643.846178321298, rel=1e-7)
    close(mean.ci_high, 680.728548834012, rel=1e-7)


@needs_data
def test_stratified_without_fpc(strat):
    # [jl-est_basic] strat_w: svydesign(id=~1, strata=~stype, weights=~pw) — no fpc
    design = Design(weights=num(strat["pw"]), strata=strat["stype"])
    close(estimate(num(strat["api00"]), design).se, 9.53613229692516)
    total = estimate(num(strat["enroll"]), design, stat="total")
    close(total.estimate, 3687177.53243828)
    close(total.se, 117319.085968965)


@needs_data
def test_weights_implied_by_fpc_and_fpc_as_fractions(strat):
    # [jl-est_basic] strat_fpc: svydesign(id=~1, strata=~stype, fpc=~fpc) — no weights, so
    # the weights are N_h/n_h; the same fpc given as sampling fractions n_h/N_h is the same.
    sizes = num(strat["fpc"])
    by_size = Design(strata=strat["stype"], fpc=(sizes,))
    mean = estimate(num(strat["api00"]), by_size)
    close(mean.estimate, 662.287363577655)
    close(mean.se, 9.408940879434)
    counts = {s: int(np.sum(strat["stype"] == s)) for s in ("E", "H", "M")}
    fractions = np.array([counts[s] for s in strat["stype"]]) / sizes
    by_fraction = Design(strata=strat["stype"], fpc=(fractions,))
    again = estimate(num(strat["api00"]), by_fraction)
    close(again.estimate, mean.estimate, rel=1e-12)
    close(again.se, mean.se, rel=1e-12)


@needs_data
def test_stratified_domains(strat):
    # [jl-domain] svyby(~api00, ~awards, strat_fpc, svymean / svytotal)
    design = Design(strata=strat["stype"], fpc=(num(strat["fpc"]),))
    means = estimate_by(num(strat["api00"]), design, strat["awards"])
    totals = estimate_by(num(strat["api00"]), design, strat["awards"], stat="total")
    assert list(means) == ["No", "Yes"]
    close(means["No"].estimate, 633.734912337968)
    close(means["No"].se, 15.3347711842501)
    close(means["Yes"].se, 11.8566310509714)
    close(totals["No"].estimate, 1417303.77)
    close(totals["No"].se, 142752.682431189)
    close(totals["Yes"].se, 152042.166199407)
    assert means["No"].label == "No" and means["No"].n + means["Yes"].n == 200


@needs_data
def test_stratified_design_effect_of_level_totals(strat, dstrat):
    # [svy-factor_total] svytotal(~factor(tier), dstrat, deff=TRUE), tier = 1/2/10 by api00
    # cut at 600 and 750: total, SE and DEff of each level.
    api00 = num(strat["api00"])
    tier = np.where(api00 < 600, 1, np.where(api00 < 750, 2, 10))
    reference = {1: (2023.88998985291, 220.152515066912, 1.18091987367229),
                 2: (2525.75998878479, 230.592280981214, 1.1801772855841),
                 10: (1644.34997940064, 213.048835018579, 1.24765244829902)}
    for level, (total, se, deff) in reference.items():
        found = estimate((tier == level).astype(float), dstrat, stat="total")
        close(found.estimate, total)
        close(found.se, se)
        close(found.deff, deff)
    # svyby(~factor(tier), ~stype, dstrat, svytotal): (E, 1) and (M, 10)
    by = estimate_by((tier == 1).astype(float), dstrat, strat["stype"], stat="total")
    close(by["E"].estimate, 1370.50997161865)
    close(by["E"].se, 203.160922698593)
    by = estimate_by((tier == 10).astype(float), dstrat, strat["stype"], stat="total")
    close(by["M"].estimate, 183.240005493164)
    close(by["M"].se, 54.4824613457954)


@needs_data
def test_stratified_proportions_per_level(strat):
    # [jl-proportions] strat_w: svymean(~stype) is exact (the strata), svymean(~awards) is not
    design = Design(weights=num(strat["pw"]), strata=strat["stype"])
    levels = estimate(strat["stype"], design, stat="proportion")
    assert [e.label for e in levels] == ["E", "H", "M"]
    close(levels[0].estimate, 0.713755237067748)
    assert all(e.se < 1e-15 for e in levels)
    awards = estimate(strat["awards"], design, stat="proportion")
    close(awards[0].estimate, 0.361063935949422)
    close(awards[0].se, 0.0348975177769063)
    close(awards[1].se, 0.0348975177769063)


# --- one-stage cluster: apiclus1 -------------------------------------------------------------


@needs_data
def test_one_stage_cluster_mean_total_and_deff(clus1, dclus1):
    # [api.Rout] svymean(~api00, dclus1): 644.17 SE 23.542;
    # svytotal(~enroll, dclus1, na.rm=TRUE): 3404940 SE 932235
    mean = estimate(num(clus1["api00"]), dclus1)
    prints(mean.estimate, "644.17")
    prints(mean.se, "23.542")
    # [jl-doc] svymean(~api00, dclus1, deff=TRUE): 644.169 23.542 DEff 9.3459
    prints(mean.deff, "9.3459")
    total = estimate(num(clus1["enroll"]), dclus1, stat="total")
    prints(total.estimate, "3404940")
    prints(total.se, "932235")


@needs_data
def test_one_stage_cluster_without_fpc(clus1, dclus1_w):
    # [jl-est_basic] clus1_w
    close(estimate(num(clus1["api00"]), dclus1_w).se, 23.7790107208869)
    total = estimate(num(clus1["enroll"]), dclus1_w, stat="total")
    close(total.estimate, 3404940.13452911)
    close(total.se, 941610.74091198)


@needs_data
def test_weights_from_fpc_in_a_cluster_design(clus1):
    # [jl-est_basic] clus1_fpc: svydesign(id=~dnum, fpc=~fpc) — weights 757/15
    design = Design(clusters=(clus1["dnum"],), fpc=(num(clus1["fpc"]),))
    total = estimate(num(clus1["api00"]), design, stat="total")
    close(total.estimate, 5949162.06666667)
    close(total.se, 1339481.29924731)


@needs_data
def test_svyby_school_type_with_deff_and_intervals(clus1, dclus1):
    # [svyby-deff] svyby(~api99+api00, ~stype, dclus1, svymean, deff=TRUE, vartype="ci")
    api99 = estimate_by(num(clus1["api99"]), dclus1, clus1["stype"])
    api00 = estimate_by(num(clus1["api00"]), dclus1, clus1["stype"])
    assert list(api00) == ["E", "H", "M"]
    prints(api99["E"].estimate, "607.7917")
    prints(api00["E"].estimate, "648.8681")
    for found, deff, ci_high in ((api99["E"], "5.895734", "652.5114"),
                                 (api99["H"], "2.211866", "677.5702"),
                                 (api99["M"], "2.226990", "672.4177"),
                                 (api00["E"], "6.583674", "692.6976"),
                                 (api00["H"], "2.228259", "693.0897"),
                                 (api00["M"], "2.163900", "693.3934")):
        prints(found.deff, deff)
        prints(found.ci_high, ci_high)
    prints(api99["E"].ci_low, "563.0720")
    prints(api00["E"].ci_low, "605.0385")
    # deff="replace" (same report): E 5.721546 and 6.389161
    prints(estimate_by(num(clus1["api99"]), dclus1, clus1["stype"], deff="replace")["E"].deff,
           "5.721546")
    prints(estimate_by(num(clus1["api00"]), dclus1, clus1["stype"], deff="replace")["E"].deff,
           "6.389161")
    # svyby(~enroll, ~stype, dclus1, svytotal, deff=TRUE, vartype="ci"), E: DEff 125.04,
    # ci_u 3347139.2
    enroll = estimate_by(num(clus1["enroll"]), dclus1, clus1["stype"], stat="total")
    prints(enroll["E"].deff, "125.04")
    prints(enroll["E"].ci_high, "3347139.2")


@needs_data
def test_svyby_two_variables_and_subset(clus1, dclus1):
    # [domain-web] svyby(~api99+api00, ~stype+sch.wide, dclus1, svymean, keep.var=TRUE)
    groups = np.char.add(np.char.add(clus1["stype"], "."), clus1["sch_wide"])
    api99 = estimate_by(num(clus1["api99"]), dclus1, groups)
    api00 = estimate_by(num(clus1["api00"]), dclus1, groups)
    reference = {"E.No": ("601.6667", "596.3333", "47.27582", "43.49010"),
                 "E.Yes": ("608.3485", "653.6439", "21.52493", "20.31720"),
                 "H.No": ("662.0000", "659.3333", "29.23003", "27.00275"),
                 "H.Yes": ("577.6364", "607.4545", "46.50125", "43.70468"),
                 "M.No": ("611.3750", "606.3750", "41.11886", "41.11686")}
    for group, (m99, m00, se99, se00) in reference.items():
        prints(api99[group].estimate, m99)
        prints(api00[group].estimate, m00)
        prints(api99[group].se, se99)
        prints(api00[group].se, se00)
    # svytotal(~enroll, subset(dclus1, sch.wide=="Yes" & comp.imp=="Yes")): 2406420 SE 645444
    domain = (clus1["sch_wide"] == "Yes") & (clus1["comp_imp"] == "Yes")
    total = estimate(num(clus1["enroll"]), dclus1, stat="total", domain=domain)
    prints(total.estimate, "2406420")
    prints(total.se, "645444")


@needs_data
def test_domains_with_one_cluster_and_without_fpc(clus1, dclus1, dclus1_w):
    # [jl-domain] svyby(~api00, ~cname, ...): most counties are one district, whose mean has
    # no between-cluster variance while its total does
    for design, la_mean_se, la_total, la_total_se in (
            (dclus1_w, 17.4230693023744, 328620.487148285, 290601.912061673),
            (Design(clusters=(clus1["dnum"],), fpc=(num(clus1["fpc"]),)), 17.2495860301136,
             489980.866666667, 428979.922861841)):
        means = estimate_by(num(clus1["api00"]), design, clus1["cname"])
        totals = estimate_by(num(clus1["api00"]), design, clus1["cname"], stat="total")
        close(means["Los Angeles"].estimate, 647.266666666667)
        close(means["Los Angeles"].se, la_mean_se)
        close(totals["Los Angeles"].estimate, la_total)
        close(totals["Los Angeles"].se, la_total_se)
        assert means["Kern"].se < 1e-12
    close(estimate_by(num(clus1["api00"]), dclus1_w, clus1["cname"])["San Diego"].se,
          2.31989997506545)
    close(estimate_by(num(clus1["api00"]), dclus1_w, clus1["cname"],
                      stat="total")["Alameda"].se, 249080.045825958)


@needs_data
def test_level_totals_deff_both_ways(clus1, dclus1_w):
    # [svy-factor_total] svytotal(~factor(stype), dclus1 (no fpc), deff=TRUE / "replace")
    reference = {"E": (4873.96746826172, 1346.72892173089, 52.8675113300029, 51.3055555555555),
                 "H": (473.857948303222, 160.295355947307, 1.77779930649152, 1.72527472527472),
                 "M": (846.174907684325, 169.234981536865, 1.1869673512099, 1.15189873417722)}
    for level, (total, se, deff, deff_wr) in reference.items():
        y = (clus1["stype"] == level).astype(float)
        found = estimate(y, dclus1_w, stat="total")
        close(found.estimate, total)
        close(found.se, se)
        close(found.deff, deff)
        close(estimate(y, dclus1_w, stat="total", deff="replace").deff, deff_wr)
    # svyby(~factor(stype), ~both, dclus1, svytotal): (No, E) and (Yes, H)
    by = estimate_by((clus1["stype"] == "E").astype(float), dclus1_w, clus1["both"],
                     stat="total")
    close(by["No"].estimate, 1083.10388183594)
    close(by["No"].se, 376.904199658061)
    by = estimate_by((clus1["stype"] == "H").astype(float), dclus1_w, clus1["both"],
                     stat="total")
    close(by["Yes"].se, 83.8890626604538)


@needs_data
def test_cluster_proportions_per_level(clus1, dclus1):
    # [jl-proportions] clus1_fpc: svymean(~stype), svymean(~awards) (design with fpc, weights
    # from it: equal to pw's 757/15)
    levels = estimate(clus1["stype"], dclus1, stat="proportion")
    close(levels[0].estimate, 0.78688524590164)
    close(levels[0].se, 0.0463365536499119)
    close(levels[1].se, 0.0268102190507709)
    close(levels[2].se, 0.0296490466402603)
    awards = estimate(clus1["awards"], dclus1, stat="proportion")
    close(awards[0].se, 0.033018299553719)


@needs_data
def test_missing_values_are_a_domain_and_logit_intervals(clus1, dclus1_w):
    # [svy-prop_drop_nulls] every 10th row's y missing (PSU 413 then has none):
    # svymean(~factor(st), dna, na.rm=TRUE) and, on obs <- subset(dna, !is.na(st)) whose
    # degf is 13, confint(svyciprop(~I(st == "E"), obs, method="logit")), also H and M
    missing = np.arange(len(clus1["stype"])) % 10 == 0
    st = clus1["stype"].astype(object)
    st[missing] = None
    levels = estimate(st, dclus1_w, stat="proportion")
    reference = {"E": (0.810975609756098, 0.0463941779262182, 0.690515543875448,
                       0.891889966529345),
                 "H": (0.0670731707317072, 0.0287011472557465, 0.0259967110599201,
                       0.162241942794033),
                 "M": (0.121951219512195, 0.0279104585073063, 0.0732920117301412,
                       0.196080292706089)}
    for found in levels:
        p, se, low, high = reference[found.label]
        close(found.estimate, p)
        close(found.se, se)
        close(found.ci_low, low)
        close(found.ci_high, high)
        assert found.n == 164
    # the same figures for a 0/1 variable with NaN, and for the level as a domain
    binary = np.where(missing, np.nan, (clus1["stype"] == "H").astype(float))
    one = estimate(binary, dclus1_w, stat="proportion")
    assert isinstance(one, Estimate) and one.label is None
    close(one.ci_low, 0.0259967110599201)
    # svymean(~factor(ti), dna, na.rm=TRUE), ti = api00 %/% 200: numeric levels
    ti = np.where(missing, np.nan, np.floor(num(clus1["api00"]) / 200))
    levels = estimate(ti, dclus1_w, stat="proportion")
    assert [e.label for e in levels] == ["2", "3", "4"]
    close(levels[0].estimate, 0.347560975609756)
    close(levels[0].se, 0.108656064412381)
    close(levels[2].se, 0.029889908256352)
    # svyby(~factor(st), ~both, dna, svymean, na.rm=TRUE)
    by = estimate_by(st, dclus1_w, clus1["both"], stat="proportion")
    close(by["No"][0].estimate, 0.695652173913043)
    close(by["No"][0].se, 0.0925669556286492)
    close(by["Yes"][2].se, 0.0305324929991536)


@needs_data
def test_nan_rows_equal_an_explicit_domain(clus1, dclus1):
    y = num(clus1["api00"])
    keep = np.arange(len(y)) % 7 != 3
    with_nan = estimate(np.where(keep, y, np.nan), dclus1)
    as_domain = estimate(y, dclus1, domain=keep)
    assert with_nan == as_domain
    assert with_nan.n == int(keep.sum())


# --- two-stage cluster: apiclus2 -------------------------------------------------------------


@needs_data
def test_two_stage_with_fpc_at_both_stages(clus2, dclus2):
    # [api.Rout] svymean(~api00, dclus2): 670.81 SE 30.099;
    # svytotal(~enroll, dclus2, na.rm=TRUE): 2639273 SE 799638 (6 schools without enroll)
    mean = estimate(num(clus2["api00"]), dclus2)
    prints(mean.estimate, "670.81")
    prints(mean.se, "30.099")
    total = estimate(num(clus2["enroll"]), dclus2, stat="total")
    prints(total.estimate, "2639273")
    prints(total.se, "799638")
    assert total.n == 120


@needs_data
def test_two_stage_with_replacement(clus2):
    # [api.Rout] dclus2wr <- svydesign(id=~dnum+snum, weights=~pw, data=apiclus2):
    # svymean 670.81 SE 30.712; svytotal(~enroll) 2639273 SE 820261
    design = Design(weights=num(clus2["pw"]), clusters=(clus2["dnum"], clus2["snum"]))
    mean = estimate(num(clus2["api00"]), design)
    prints(mean.se, "30.712")
    # [wr-deff] svymean(~api00, dclus, deff=TRUE): 670.812 30.712 DEff 6.5075
    prints(mean.deff, "6.5075")
    total = estimate(num(clus2["enroll"]), design, stat="total")
    prints(total.se, "820261")


@needs_data
def test_second_stage_adds_variance(clus2):
    # With the first-stage fpc only (no fpc2) R adds no second stage: the stage-2 term of the
    # full design is what separates the two.
    weights = num(clus2["pw"])
    both = Design(weights=weights, clusters=(clus2["dnum"], clus2["snum"]),
                  fpc=(num(clus2["fpc1"]), num(clus2["fpc2"])))
    first_only = Design(weights=weights, clusters=(clus2["dnum"], clus2["snum"]),
                        fpc=(num(clus2["fpc1"]),))
    full = estimate(num(clus2["api00"]), both)
    first = estimate(num(clus2["api00"]), first_only)
    assert first.estimate == full.estimate
    assert first.se < full.se
    # fpc given as sampling fractions (n/N at each stage) is the same design
    districts = {d: int(np.sum(clus2["dnum"] == d)) for d in set(clus2["dnum"])}
    fraction2 = np.array([districts[d] for d in clus2["dnum"]]) / num(clus2["fpc2"])
    as_fractions = Design(weights=weights, clusters=(clus2["dnum"], clus2["snum"]),
                          fpc=(np.full(len(weights), 40 / 757), fraction2))
    close(estimate(num(clus2["api00"]), as_fractions).se, full.se, rel=1e-12)


# --- lonely PSUs -----------------------------------------------------------------------------


@needs_data
def test_a_stratum_with_one_psu(clus1):
    # [lonely] svydesign(id=~1, weights=~pw, strata=~dnum, data=apiclus1): district 413 has
    # one school. "fail": an error naming it; remove/certainty 5.8058, adjust 5.8281,
    # average 6.0096.
    def se(rule: str) -> float:
        design = Design(weights=num(clus1["pw"]), strata=clus1["dnum"], lonely_psu=rule)
        return estimate(num(clus1["api00"]), design).se

    with pytest.raises(ValueError, match="分层 '413' 只有一个初级抽样单位"):
        se("fail")
    prints(se("remove"), "5.8058")
    prints(se("certainty"), "5.8058")
    prints(se("adjust"), "5.8281")
    prints(se("average"), "6.0096")


@needs_data
def test_a_single_psu_taken_with_certainty_is_no_error(clus1):
    # [lonely] fpc 1 for district 413 (taken with certainty), 1000 elsewhere: 644.17 SE 5.7344
    fpc = np.where(clus1["dnum"] == "413", 1, 1000)
    for rule in ("fail", "adjust"):
        design = Design(weights=num(clus1["pw"]), strata=clus1["dnum"], fpc=(fpc,),
                        lonely_psu=rule)
        found = estimate(num(clus1["api00"]), design)
        prints(found.estimate, "644.17")
        prints(found.se, "5.7344")


@needs_data
def test_one_psu_of_a_stratum_in_the_domain_is_no_error(clus1):
    # [lonely] ds <- svydesign(..., strata=~dnum, data=subset(apiclus1, dnum != 413));
    # ds1 <- ds[-31,] leaves district 406 with one of its two schools: 645.14 SE 5.8909
    keep = clus1["dnum"] != "413"
    design = Design(weights=num(clus1["pw"])[keep], strata=clus1["dnum"][keep])
    domain = np.ones(int(keep.sum()), dtype=bool)
    domain[30] = False
    found = estimate(num(clus1["api00"])[keep], design, domain=domain)
    prints(found.estimate, "645.14")
    prints(found.se, "5.8909")


def test_a_secondary_stage_with_one_unit():
    # PSU "b" has one SSU of two in its population: stage 2 cannot be estimated there.
    design = Design(clusters=(["a", "a", "b", "c", "c"], [1, 2, 1, 1, 2]),
                    fpc=([10] * 5, [2, 2, 2, 2, 2]))
    with pytest.raises(ValueError, match="初级单位 'b' 只有一个二级抽样单位（第 2 阶段）"):
        estimate(np.array([1.0, 2, 3, 4, 5]), design)
    certain = Design(clusters=(["a", "a", "b", "c", "c"], [1, 2, 1, 1, 2]),
                     fpc=([10] * 5, [2, 2, 1, 2, 2]))
    assert estimate(np.array([1.0, 2, 3, 4, 5]), certain).se > 0


# --- design effects: R's own example ---------------------------------------------------------

URIAGE = np.array([15, 143, 21, 51, 337, 50, 274, 145, 15, 86], dtype=float)
SRS_W = np.full(10, 100.0)
PPS_W = np.array([20, 200, 11, 25, 550, 30, 250, 100, 10, 55], dtype=float)


def test_design_effects_of_r_tests():
    # [deff.Rout] svymean(~uriage, des.srs, deff=TRUE): 113.700 35.626 DEff 1.0101, the same
    # DEff for the total 113700 35626: without replacement from N = Σw = 1000, although the
    # design has no fpc.
    srs = Design(weights=SRS_W)
    mean = estimate(URIAGE, srs)
    prints(mean.estimate, "113.700")
    prints(mean.se, "35.626")
    prints(mean.deff, "1.0101")
    total = estimate(URIAGE, srs, stat="total")
    prints(total.se, "35626")
    prints(total.deff, "1.0101")
    # des.pps with deff="replace": 243.914 48.752 DEff 1.9741; total 305136 184965 DEff 18.157
    pps = Design(weights=PPS_W)
    mean = estimate(URIAGE, pps, deff="replace")
    prints(mean.estimate, "243.914")
    prints(mean.se, "48.752")
    prints(mean.deff, "1.9741")
    total = estimate(URIAGE, pps, stat="total", deff="replace")
    prints(total.estimate, "305136")
    prints(total.se, "184965")
    prints(total.deff, "18.157")


def test_no_deff_when_it_cannot_be_formed():
    # weights summing to n: no finite population for the without-replacement variance
    found = estimate(URIAGE, Design())
    assert found.deff is None
    assert estimate(URIAGE, Design(), deff="replace").deff == pytest.approx(1.0)
    assert estimate(URIAGE, Design(weights=SRS_W), deff=False).deff is None


# --- intervals -------------------------------------------------------------------------------


@needs_data
def test_proportion_intervals(clus1, dclus1):
    # logit is the default for a proportion; wilson and normal on request; all on the SE that
    # matches R. df = degf(dclus1) = 14 ([jl-degf]).
    y = (num(clus1["ell"]) == 0).astype(float)
    logit = estimate(y, dclus1, stat="proportion")
    wilson = estimate(y, dclus1, stat="proportion", ci="wilson")
    normal = estimate(y, dclus1, stat="proportion", ci="normal")
    assert logit.estimate == pytest.approx(4 / 183)
    assert 0 < logit.ci_low < logit.estimate < logit.ci_high < 1
    assert 0 < wilson.ci_low < wilson.estimate < wilson.ci_high < 1
    assert normal.ci_low < 0  # the Wald interval runs below zero near 0
    assert dclus1.degf() == 14


def test_proportion_of_exactly_one():
    # 30 of 30 satisfied: R has no interval (NaN); Wilson with n = 30 respondents instead.
    design = Design(strata=np.repeat(["a", "b"], 15))
    found = estimate(np.ones(30), design, stat="proportion")
    assert found.estimate == 1 and found.se == 0
    assert found.ci_high == 1
    # Wilson at p = 1: n/(n + t²), t = qt(0.975, 28) = 2.048407 (30 rows less 2 strata)
    assert found.ci_low == pytest.approx(30 / (30 + 2.0484071417952445 ** 2), rel=1e-12)


def test_level_and_domain_without_degrees_of_freedom():
    design = Design(clusters=(np.repeat([1, 2, 3], 4),))
    y = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0], dtype=float)
    in_one_psu = np.repeat([True, False, False], 4)
    found = estimate(y, design, stat="proportion", domain=in_one_psu)
    assert math.isnan(found.ci_low) and found.as_dict()["ci_low"] is None
    wide = estimate(y, design, stat="proportion", level=0.99)
    narrow = estimate(y, design, stat="proportion", level=0.8)
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high
    assert wide.level == 0.99


# --- inputs ----------------------------------------------------------------------------------


def test_estimate_as_dict():
    found = Estimate(estimate=0.5, se=0.1, ci_low=0.3, ci_high=0.7, deff=None, n=10)
    assert found.as_dict() == {"estimate": 0.5, "se": 0.1, "ci_low": 0.3, "ci_high": 0.7,
                               "deff": None, "n": 10}
    labelled = Estimate(0.5, 0.1, 0.3, 0.7, 1.2, 10, label="很安全")
    assert labelled.as_dict()["label"] == "很安全"


def test_bad_inputs_raise_clear_errors():
    y = np.array([1.0, 2, 3, 4])
    with pytest.raises(ValueError, match="长度不一致"):
        Design(weights=[1, 2, 3, 4], strata=["a", "b", "c"])
    with pytest.raises(ValueError, match="变量有 3 个值，而抽样设计有 4 行"):
        estimate(y[:3], Design(weights=[1, 2, 3, 4]))
    with pytest.raises(ValueError, match="权重不能为负数（第 2 个值为 -1）"):
        Design(weights=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="weights 有缺失或非有限值（第 3 个值）"):
        Design(weights=[1, 1, math.nan, 1])
    with pytest.raises(ValueError, match="strata 有缺失值"):
        Design(strata=["a", None, "b", "b"])
    with pytest.raises(ValueError, match="分层 'b' 只有一个初级抽样单位"):
        estimate(y, Design(strata=["a", "a", "a", "b"]))
    with pytest.raises(ValueError, match="fpc 不一致"):
        Design(strata=["a", "a", "b", "b"], fpc=([10, 11, 10, 10],))
    with pytest.raises(ValueError, match="超过 100% 的抽样"):
        Design(strata=["a", "a", "b", "b"], fpc=([1, 1, 10, 10],))
    with pytest.raises(ValueError, match="混用了总体规模"):
        Design(strata=["a", "a", "b", "b"], fpc=([0.5, 0.5, 10, 10],))
    with pytest.raises(ValueError, match="最多支持两阶段"):
        Design(clusters=([1, 1, 2, 2], [1, 2, 1, 2], [1, 1, 1, 1]))
    with pytest.raises(ValueError, match="lonely_psu"):
        Design(lonely_psu="skip")
    with pytest.raises(ValueError, match="domain 应为布尔数组"):
        estimate(y, Design(), domain=[1, 0, 1, 0])
    with pytest.raises(ValueError, match="没有可用于估计的观测"):
        estimate(np.full(4, math.nan), Design())
    with pytest.raises(ValueError, match="wilson 区间只适用于比例"):
        estimate(y, Design(), ci="wilson")
    with pytest.raises(ValueError, match="mean 需要数值型变量"):
        estimate(np.array(["a", "b", "a", "b"]), Design())
    with pytest.raises(ValueError, match="stat 应为"):
        estimate(y, Design(), stat="median")
    with pytest.raises(ValueError, match="置信水平"):
        estimate(y, Design(), level=95)


def test_zero_weights_are_out_of_the_estimate():
    design = Design(weights=[1, 1, 0, 2])
    found = estimate(np.array([1.0, 2, 100, 4]), design)
    assert found.n == 3
    assert found.estimate == pytest.approx((1 + 2 + 8) / 4)


def test_groups_with_missing_labels_and_empty_groups():
    design = Design(weights=[1, 2, 1, 2, 1, 2])
    y = np.array([1.0, 2, math.nan, 4, 5, 6])
    by = estimate_by(y, design, np.array(["a", "a", "b", None, "c", "c"], dtype=object))
    assert list(by) == ["a", "b", "c"]
    assert by["b"].n == 0 and math.isnan(by["b"].estimate)
    assert by["b"].as_dict()["estimate"] is None
    assert by["a"].estimate == pytest.approx((1 + 4) / 3)
    numbers = estimate_by(y, design, np.array([2, 2, 1, 1, 2, 1]))
    assert list(numbers) == [1, 2]
