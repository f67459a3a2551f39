"""Survey estimates at one million respondents in 2,000 strata: Minyi against samplics.

    .venv/bin/python bench/survey_estimates.py [--rows 1000000] [--strata 2000]
                                               [--repeat 5] [--samplics-repeat 3]

A synthetic survey (seeded, made in memory): 2,000 strata (townships), 5 to 15 clusters each
(villages), respondents spread at random over the clusters, a population size per stratum
(fpc), weights that vary, a 0-100 score, a 0/1 "satisfied", a five-level answer (1-5) and an
age group (4 levels) that cuts across the strata. Each estimate — the mean and the total of
the score, the proportions of the answer's levels, and the mean of the score per age group
(domains) — is made by Minyi (minyi.surveys.stats) and by samplics' TaylorEstimator on the
same arrays in the same run; the median of several runs of each is printed with the ratio
samplics / Minyi, and the two are checked to agree (estimate and SE, and the logit interval of
the proportions, to a relative 1e-9). Minyi's time includes building its Design from the raw
arrays in every run, as samplics re-reads its arrays in every call.

Needs samplics (the `bench` extra of pyproject.toml); no database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from common import ROOT, log

sys.path.insert(0, str(ROOT))

AGREEMENT = 1e-9


def synthetic(rows: int, strata: int, seed: int = 2024) -> dict[str, np.ndarray]:
    """The survey's columns, one value per respondent."""
    rng = np.random.default_rng(seed)
    psus_per_stratum = rng.integers(5, 16, strata)
    n_psu = int(psus_per_stratum.sum())
    if rows < n_psu:
        raise SystemExit(f"--rows must be at least the number of clusters ({n_psu})")
    psu_stratum = np.repeat(np.arange(strata), psus_per_stratum)
    psu = rng.integers(0, n_psu, rows)
    psu[:n_psu] = np.arange(n_psu)  # every cluster has respondents
    rng.shuffle(psu)
    stratum = psu_stratum[psu]
    population = psus_per_stratum * rng.integers(2, 30, strata)  # clusters in the population
    score = (70 + rng.normal(0, 5, strata)[stratum] + rng.normal(0, 3, n_psu)[psu]
             + rng.normal(0, 10, rows))
    return {
        "stratum": stratum,
        "psu": psu,  # numbered across strata: samplics counts PSUs by label within a stratum
        "fpc": population[stratum].astype(float),
        "weight": rng.lognormal(3, 0.4, rows),
        "score": score,
        "satisfied": (score >= 70).astype(float),
        "answer": np.digitize(score, [55, 65, 75, 85]) + 1,
        "age": rng.integers(1, 5, rows),
    }


# --- the two implementations -----------------------------------------------------------------


def minyi_runs(data: dict[str, np.ndarray]) -> dict[str, Callable[[], dict[Any, tuple]]]:
    from minyi.surveys.stats import Design, estimate, estimate_by

    def design() -> Any:
        return Design(weights=data["weight"], strata=data["stratum"], clusters=(data["psu"],),
                      fpc=(data["fpc"],))

    def one(found: Any) -> tuple:
        return found.estimate, found.se, found.ci_low, found.ci_high

    return {
        "mean": lambda: {None: one(estimate(data["score"], design()))},
        "total": lambda: {None: one(estimate(data["score"], design(), stat="total"))},
        "proportion (5 levels)": lambda: {
            int(e.label): one(e)
            for e in estimate(data["answer"], design(), stat="proportion")},
        "mean by age group": lambda: {
            key: one(e) for key, e in estimate_by(data["score"], design(), data["age"]).items()},
    }


def samplics_runs(data: dict[str, np.ndarray]) -> dict[str, Callable[[], dict[Any, tuple]]]:
    warnings.filterwarnings("ignore", category=FutureWarning)
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    # samplics takes the fpc as the factor (1 - n_h/N_h) per stratum.
    strata, first = np.unique(data["stratum"], return_index=True)
    psus = np.bincount(data["stratum"][np.unique(data["psu"], return_index=True)[1]],
                       minlength=len(strata))
    fpc = {int(h): 1 - psus[h] / data["fpc"][i] for h, i in zip(strata, first, strict=True)}

    def run(param: Any, y: np.ndarray, domain: np.ndarray | None = None) -> Any:
        estimator = TaylorEstimator(param)
        estimator.estimate(y, samp_weight=data["weight"], stratum=data["stratum"],
                           psu=data["psu"], domain=domain, fpc=fpc)
        return estimator

    def single(e: Any) -> dict[Any, tuple]:
        return {None: (e.point_est, e.stderror, e.lower_ci, e.upper_ci)}

    def per_key(e: Any) -> dict[Any, tuple]:
        return {int(k): (e.point_est[k], e.stderror[k], e.lower_ci[k], e.upper_ci[k])
                for k in e.point_est}

    return {
        "mean": lambda: single(run(PopParam.mean, data["score"])),
        "total": lambda: single(run(PopParam.total, data["score"])),
        "proportion (5 levels)": lambda: per_key(run(PopParam.prop, data["answer"])),
        "mean by age group": lambda: per_key(run(PopParam.mean, data["score"], data["age"])),
    }


# --- timing and checking ---------------------------------------------------------------------


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of `repeat` runs, and the result of the last."""
    timings = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def difference(ours: dict[Any, tuple], theirs: dict[Any, tuple], with_ci: bool) -> float:
    """The largest relative difference of estimate and SE (and CI bounds when compared)."""
    if set(ours) != set(theirs):
        raise SystemExit(f"different keys: {sorted(ours)} and {sorted(theirs)}")
    worst = 0.0
    for key, figures in ours.items():
        compared = range(4 if with_ci else 2)
        for i in compared:
            a, b = float(figures[i]), float(theirs[key][i])
            worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--strata", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of Minyi per estimate")
    parser.add_argument("--samplics-repeat", type=int, default=3,
                        help="runs of samplics per estimate (each takes tens of seconds)")
    args = parser.parse_args()

    started = time.perf_counter()
    data = synthetic(args.rows, args.strata)
    log(f"synthetic survey: {args.rows:,} respondents, {args.strata:,} strata, "
        f"{len(np.unique(data['psu'])):,} clusters ({time.perf_counter() - started:.1f} s)")
    ours, theirs = minyi_runs(data), samplics_runs(data)
    table = []
    for name in ours:
        ours[name]()  # warm-up: imports, caches
        minyi_s, minyi_result = timed(ours[name], args.repeat)
        samplics_s, samplics_result = timed(theirs[name], args.samplics_repeat)
        # Intervals are compared for proportions only: for means and totals samplics gives a
        # t interval, Minyi a normal one as R's confint(svymean()).
        worst = difference(minyi_result, samplics_result, with_ci=name.startswith("proportion"))
        verdict = "agree" if worst <= AGREEMENT else "DIFFER"
        ratio = samplics_s / minyi_s
        table.append((name, minyi_s, samplics_s, ratio, worst, verdict))
        log(f"{name:<22} Minyi {minyi_s * 1000:>8.1f} ms   samplics {samplics_s:>7.2f} s   "
            f"ratio {ratio:>7.1f}×   max rel diff {worst:.1e} ({verdict})")
    # Where Minyi's time goes: building the design, and a mean on a design built once.
    from minyi.surveys.stats import Design, estimate

    def design() -> Any:
        return Design(weights=data["weight"], strata=data["stratum"], clusters=(data["psu"],),
                      fpc=(data["fpc"],))

    built_s, built = timed(design, args.repeat)
    reused_s, _ = timed(lambda: estimate(data["score"], built), args.repeat)
    log(f"Minyi: building the design {built_s * 1000:.1f} ms; a mean on a design built once "
        f"{reused_s * 1000:.1f} ms")
    print()
    print("| estimate | Minyi | samplics | samplics / Minyi | largest relative difference |")
    print("|---|---:|---:|---:|---:|")
    for name, minyi_s, samplics_s, ratio, worst, verdict in table:
        print(f"| {name} | {minyi_s * 1000:.0f} ms | {samplics_s:.1f} s | **{ratio:.0f}×** | "
              f"{worst:.1e} ({verdict}) |")
    if any(row[5] != "agree" for row in table):
        raise SystemExit("the estimates do not agree")


if __name__ == "__main__":
    main()
