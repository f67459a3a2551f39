"""A weighted wave's standard errors take its weighting into account: after post-stratification
to township × sex × age group they are those of R's postStratify design (residuals within the
cells), not the plain Taylor SEs of the adjusted weights."""

import numpy as np
import pytest

from minyi.surveys import population, results, weights
from minyi.surveys.models import IndexDefinition, Response
from minyi.surveys.stats.design import Calibration, Design, estimate
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db

# (township, sex, respondents, of whom 很安全, population)
CELLS = [("east", "M", 6, 5, 400), ("east", "F", 4, 1, 600),
         ("west", "M", 5, 2, 900), ("west", "F", 7, 6, 300)]


def _wave(bureau, officer, method):
    wave = factories.wave(bureau, officer, state="fielding")
    areas = {"east": bureau.township, "west": bureau.other_township}
    for key, sex, n, safe, _ in CELLS:
        for i in range(n):
            factories.response(wave, areas[key], {"security": "很安全" if i < safe else "不安全"},
                               sex=sex, age_group="30-39")
    table = population.create_population_table(actor=officer, bureau=bureau.bureau,
                                               name="人口", year=2020)
    population.save_population_cells(actor=officer, table=table, counts={
        (areas[key].pk, sex, "30-39"): size for key, sex, _, _, size in CELLS})
    weights.weigh_wave(actor=officer, wave=wave, table=table, method=method)
    return wave


@pytest.mark.parametrize("method", ["poststratify", "rake"])
def test_the_overall_figure_has_the_calibrated_standard_error(bureau, opinion_officer, method):
    wave = _wave(bureau, opinion_officer, method)
    definition = IndexDefinition.objects.get(bureau=None, code="security", version=1)
    figure = results.wave_results(wave, definition=definition).focus.overall

    rows = list(Response.objects.filter(wave=wave).order_by("pk")
                .values_list("area_id", "sex", "weight", "answers__security"))
    area = np.array([r[0] for r in rows])
    sex = np.array([r[1] for r in rows])
    w = np.array([r[2] for r in rows])
    y = np.array([1.0 if r[3] == "很安全" else 0.0 for r in rows])
    assert figure.estimate == pytest.approx(100 * np.average(y, weights=w), rel=1e-9)
    if method == "poststratify":
        # Post-stratified to the four cells: the population's share of 很安全.
        expected = (5 / 6 * 400 + 1 / 4 * 600 + 2 / 5 * 900 + 6 / 7 * 300) / 2200
        assert figure.estimate == pytest.approx(100 * expected, rel=1e-9)
        calibration = Calibration(cells=(area, sex))
    else:
        calibration = Calibration(margins=[area, sex], base_weights=np.ones(len(w)))
    calibrated = estimate(y, Design(weights=w, strata=area, calibration=calibration)).se
    plain = estimate(y, Design(weights=w, strata=area)).se
    assert figure.se == pytest.approx(100 * calibrated, rel=1e-9)
    # Not the plain SE of the adjusted weights (smaller or larger depends on the data).
    assert abs(calibrated - plain) > 1e-4
