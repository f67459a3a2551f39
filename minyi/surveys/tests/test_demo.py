"""The demo surveys: two waves with every outcome of the frame, answers with the shares and
changes the demo promises, a sample skewed against the population, weights, benchmarks; a
second load writes nothing."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.orgs.demo import BUREAU_CODE, load_demo_bureau
from minyi.orgs.models import Unit
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory
from minyi.surveys import demo
from minyi.surveys.models import (
    Benchmark,
    FrameMember,
    PopulationCell,
    PopulationTable,
    Questionnaire,
    Quota,
    Response,
    SurveyAttempt,
    Wave,
    Weighting,
)

pytestmark = pytest.mark.django_db

SECURE = ("很安全", "安全", "基本安全")
SATISFIED = ("满意", "基本满意")


def share(answers, code, top):
    valid = [a[code] for a in answers if code in a and a[code] != "不清楚"]
    return 100 * sum(v in top for v in valid) / len(valid)


@pytest.fixture
def loaded():
    load_demo_bureau()
    bureau = Unit.objects.get(code=BUREAU_CODE)
    return bureau, demo.load_demo_surveys(bureau)


def test_the_demo_has_two_waves_with_every_outcome_and_weights(loaded):
    bureau, result = loaded
    third, fourth = result.waves
    assert (third.name, third.state, fourth.name, fourth.state) == (
        "2026年第三季度群众安全感满意度调查", "closed", "2026年第四季度群众安全感满意度调查",
        "fielding")
    assert fourth.previous() == third
    assert third.version.is_frozen and Questionnaire.objects.filter(bureau=bureau).count() == 1
    assert Quota.objects.filter(wave=third).count() == 12
    assert Quota.objects.get(wave=third, area__name="鲁村镇").target == 80
    # Seeded: the same numbers on every load.
    assert (third.responses.count(), fourth.responses.count(), result.responses) == (
        670, 603, 1273)
    closed = Counter(FrameMember.objects.filter(wave=third).values_list("state", "outcome"))
    assert set(closed) == {("done", "I"), ("closed", "R"), ("closed", "UH"), ("closed", "NE"),
                           ("closed", "NC"), ("closed", "O")}
    assert closed[("done", "I")] == 670
    fielding = Counter(FrameMember.objects.filter(wave=fourth).values_list("state", flat=True))
    assert (fielding["pending"], fielding["retry"]) == (60, 36)
    assert not FrameMember.objects.filter(wave=fourth, state="retry",
                                          next_attempt_at__isnull=True).exists()
    assert SurveyAttempt.objects.filter(member__wave=third, disposition="answered").count() == (
        Response.objects.filter(wave=third, mode="phone").count())
    assert Response.objects.filter(wave=third, mode="web", interviewer__isnull=True).exists()
    for wave in (third, fourth):
        weighting = Weighting.objects.get(wave=wave)
        assert weighting.method == "rake" and weighting.diagnostics["converged"] is True
        assert weighting.diagnostics["unknown_age_group"] > 0
        assert not wave.responses.filter(weight__isnull=True).exists()
    assert Weighting.objects.get(wave=third).trim_upper == 3.0
    assert Event.objects.filter(action="survey.demo_load").count() == 2
    assert verify_chain().ok


def test_the_answers_have_the_promised_levels_and_changes(loaded):
    _bureau, (third, fourth) = loaded[0], loaded[1].waves

    def answers(wave, township=None):
        rows = wave.responses.all()
        if township:
            rows = rows.filter(area__name=township)
        return list(rows.values_list("answers", flat=True))

    for wave in (third, fourth):
        everyone = answers(wave)
        assert 95 <= share(everyone, "security", SECURE) <= 98
        assert 85 <= share(everyone, "sat_police", SATISFIED) <= 95
        assert 55 <= share(everyone, "participation", ("从未参加",)) <= 65
    # 鲁村镇 turned round; 中庄镇 stayed where it was; 南鲁山镇 lags in both.
    assert share(answers(third, "鲁村镇"), "sat_police", SATISFIED) == pytest.approx(80.0, abs=1)
    assert share(answers(fourth, "鲁村镇"), "sat_police", SATISFIED) == pytest.approx(94.0, abs=1)
    assert abs(share(answers(third, "中庄镇"), "sat_police", SATISFIED)
               - share(answers(fourth, "中庄镇"), "sat_police", SATISFIED)) < 2
    assert share(answers(third, "南鲁山镇"), "security", SECURE) < 95
    # A skip rule respected: only those who know of the campaign rate it.
    for a in answers(third):
        assert ("antigang_sat" in a) == (a["antigang_aware"] == "知道")


def test_the_sample_is_skewed_and_the_weights_correct_it(loaded):
    bureau, result = loaded
    third = result.waves[0]
    table = PopulationTable.objects.get(bureau=bureau)
    assert table.cells.count() == 120
    people = sum(table.cells.values_list("count", flat=True))
    old_people = sum(table.cells.filter(age_group="60+").values_list("count", flat=True))
    responses = third.responses.exclude(age_group="")
    old_share = responses.filter(age_group="60+").count() / responses.count()
    assert old_share > old_people / people + 0.03
    weighted_old = sum(responses.filter(age_group="60+").values_list("weight", flat=True))
    weighted = sum(responses.values_list("weight", flat=True))
    assert weighted_old / weighted == pytest.approx(old_people / people, abs=0.01)
    d = Weighting.objects.get(wave=third).diagnostics
    assert 1.1 < d["deff_w"] < 1.6


def test_benchmarks_for_the_province_and_the_city(loaded):
    bureau, _result = loaded
    assert Benchmark.objects.filter(bureau=bureau).count() == 28
    assert Benchmark.objects.get(index_code="security", label="全省平均", year=2025).value == (
        Decimal("97.80"))
    city = Benchmark.objects.get(index_code="antigang-sat", label="全市平均", year=2026)
    assert (city.value, city.source) == (Decimal("87.20"),
                                         "2026年全市群众安全感满意度调查通报（演示数据）")


def test_a_second_load_writes_nothing(loaded):
    bureau, _result = loaded
    counts = (Event.objects.count(), Response.objects.count(), FrameMember.objects.count(),
              Weighting.objects.count(), Benchmark.objects.count(), PopulationCell.objects.count())
    again = demo.load_demo_surveys(bureau)
    assert again.created == 0 and again.responses == 0
    assert [w.name for w in again.waves] == [w.name for w in Wave.objects.order_by("starts_on")]
    assert (Event.objects.count(), Response.objects.count(), FrameMember.objects.count(),
            Weighting.objects.count(), Benchmark.objects.count(),
            PopulationCell.objects.count()) == counts


def test_nothing_for_a_bureau_without_townships_or_officer(bureau, opinion_officer):
    empty = UnitFactory(kind="bureau", name="空局")
    MembershipFactory(user=UserFactory(), unit=empty, role="opinion_officer")
    assert demo.load_demo_surveys(empty) is None
    lonely = UnitFactory(kind="bureau", name="无专员局")
    assert demo.load_demo_surveys(lonely) is None
    # The test bureau's two townships are enough.
    made = demo.load_demo_surveys(bureau.bureau)
    assert made is not None and [w.responses.count() > 0 for w in made.waves] == [True, True]
