"""The figures of a wave (surveys.results) against numbers computed by hand: estimates, base
counts, standard errors and design effects of a small weighted wave in two townships; the same
answers under two versions of a definition; changes against the previous wave worded as the
test allows; benchmarks; suppression and rank ranges; the problems named most; who reads the
suggestions."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from minyi.orgs.tests.factories import AreaFactory
from minyi.surveys import definitions as defs
from minyi.surveys import results as res
from minyi.surveys.models import Benchmark, IndexDefinition
from minyi.surveys.tests import factories as f

pytestmark = pytest.mark.django_db

# Ten respondents: six in 东城镇 (one answers 不清楚, outside the base), four in 西城镇.
EAST = [("很安全", 1.0), ("安全", 2.0), ("基本安全", 1.0), ("不太安全", 2.0), ("很安全", 1.0),
        ("不清楚", 1.0)]
WEST = [("安全", 3.0), ("不安全", 1.0), ("基本安全", 2.0), ("很安全", 2.0)]


def builtin(code: str, version: int) -> IndexDefinition:
    return IndexDefinition.objects.get(bureau=None, code=code, version=version)


def answered(security: str, **more) -> dict:
    return {"security": security, "sat_police": "满意", **more}


@pytest.fixture
def small_wave(bureau, opinion_officer):
    wave = f.wave(bureau, opinion_officer, state="closed")
    for answer, weight in EAST:
        f.response(wave, bureau.township, answered(answer), weight=weight)
    for answer, weight in WEST:
        f.response(wave, bureau.other_township, answered(answer), weight=weight)
    return wave


def direct(y, w, strata, domain=None):
    """The weighted mean and its linearised SE for a stratified design of single-respondent
    PSUs, written out: z = w (y - ȳ) / Σw in the domain's base, 0 elsewhere;
    var = Σ_h n_h/(n_h - 1) Σ_i (z_i - z̄_h)²."""
    y, w, strata = np.asarray(y, float), np.asarray(w, float), np.asarray(strata)
    base = ~np.isnan(y)
    if domain is not None:
        base &= np.asarray(domain)
    yb = np.where(base, y, 0.0)
    total = (w * base).sum()
    mean = (w * yb).sum() / total
    z = np.where(base, w * (yb - mean) / total, 0.0)
    var = 0.0
    for h in np.unique(strata):
        zh = z[strata == h]
        var += len(zh) / (len(zh) - 1) * ((zh - zh.mean()) ** 2).sum()
    return mean, math.sqrt(var)


def arrays():
    top = {"很安全": 1, "安全": 1, "基本安全": 1, "不太安全": 0, "不安全": 0, "不清楚": np.nan}
    rows = [(top[a], w, 0) for a, w in EAST] + [(top[a], w, 1) for a, w in WEST]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def test_a_weighted_wave_by_hand(small_wave, bureau, settings):
    settings.MINYI_SURVEY_MIN_N = 5
    found = res.wave_results(small_wave, definition=builtin("security", 1))
    assert found.weighted and found.n == 10 and found.phone == 10
    focus = found.focus
    assert focus.label == "口径 security v1"
    y, w, h = arrays()

    # Overall: (1+2+1+1 + 3+2+2) / (7 + 8) = 12/15 of the weight in the base of 9.
    mean, se = direct(y, w, h)
    assert mean == pytest.approx(0.8)
    assert focus.overall.estimate == pytest.approx(80.0)
    assert focus.overall.n == 9
    assert focus.overall.se == pytest.approx(se * 100, rel=1e-12)
    assert focus.overall.se == pytest.approx(14.871299726505, rel=1e-9)
    # Design effect against simple random sampling with replacement: var / (s² / n) with
    # s² = n/(n-1) Σ w (y - ȳ)² / Σ w over the base.
    yb, wb = np.array(y)[~np.isnan(y)], np.array(w)[~np.isnan(y)]
    s2 = 9 / 8 * (wb * (yb - 0.8) ** 2).sum() / wb.sum()
    assert focus.overall.deff == pytest.approx(se ** 2 / (s2 / 9), rel=1e-9)
    # A logit interval, inside 0–100% and not symmetric around 80.
    assert 0 < focus.overall.ci_low < 80 < focus.overall.ci_high < 100
    assert focus.overall.ci_high - 80 < 80 - focus.overall.ci_low

    east, west = focus.townships
    assert (east.name, east.station, west.name) == ("东城镇", "东城派出所", "西城镇")
    mean, se = direct(y, w, h, domain=np.array(h) == 0)
    assert east.estimate == pytest.approx(500 / 7) == pytest.approx(mean * 100)
    assert east.se == pytest.approx(se * 100, rel=1e-12)
    assert east.n == 5 and not east.suppressed and east.rank == (1, 1)
    assert west.estimate == pytest.approx(87.5)
    assert west.n == 4 and west.suppressed and west.rank is None
    assert west.rank_text == "不排名"
    # A station's domain is its township's here.
    east_station = focus.stations[0]
    assert (east_station.name, east_station.n) == ("东城派出所", 5)
    assert east_station.estimate == pytest.approx(east.estimate)
    assert east_station.se == pytest.approx(east.se)


def test_the_same_answers_under_two_versions(small_wave):
    first = res.wave_results(small_wave, definition=builtin("security", 1)).focus
    second = res.wave_results(small_wave, definition=builtin("security", 2)).focus
    assert first.overall.estimate == pytest.approx(80.0)
    # Half credit for 基本安全: 东城 1+2+0.5+0+1 = 4.5, 西城 3+0+1+2 = 6, over 15.
    assert second.overall.estimate == pytest.approx(70.0)
    assert second.label == "口径 security v2"
    assert second.townships[0].estimate == pytest.approx(450 / 7)
    assert "基本安全×0.5" in second.description and "第2版" in second.description


def test_a_bureaus_own_version_gives_its_own_figures(small_wave, bureau, opinion_officer):
    own = defs.add_version(actor=opinion_officer, bureau=bureau.bureau,
                           base=builtin("security", 1), name="安全感指数（不含基本安全）",
                           rule={"kind": "top_share", "top": ["很安全", "安全"]})
    assert own.version == 3
    found = res.wave_results(small_wave)
    # The bureau's own latest version is the default of its code.
    security = next(r for r in found.headline if r.definition.code == "security")
    assert security.definition == own
    # 东城 1+2+1 = 4, 西城 3+2 = 5, over 15.
    assert security.overall.estimate == pytest.approx(60.0)


def test_scores_are_means_with_normal_intervals(small_wave, bureau, opinion_officer):
    rule = {"kind": "category_scores", "scale": 100,
            "scores": {"很安全": 100, "安全": 80, "基本安全": 60, "不太安全": 30, "不安全": 0}}
    made = defs.add_definition(actor=opinion_officer, bureau=bureau.bureau, code="security-pts",
                               name="安全感得分", question_code="security", rule=rule)
    focus = res.wave_results(small_wave, definition=made).focus
    points = {"很安全": 100, "安全": 80, "基本安全": 60, "不太安全": 30, "不安全": 0,
              "不清楚": np.nan}
    y = [points[a] for a, _w in EAST + WEST]
    _y, w, h = arrays()
    mean, se = direct(y, w, h)
    # 东城 100+160+60+60+100 = 480, 西城 240+0+120+200 = 560, over 15.
    assert mean == pytest.approx(1040 / 15)
    assert focus.unit == "分" and not focus.points
    assert focus.overall.estimate == pytest.approx(1040 / 15)
    assert focus.overall.se == pytest.approx(se)
    assert focus.overall.ci_low == pytest.approx(mean - 1.959963984540054 * se)
    assert focus.overall.ci_high == pytest.approx(mean + 1.959963984540054 * se)


def test_an_unweighted_wave_says_so(bureau, opinion_officer):
    wave = f.wave(bureau, opinion_officer)
    f.response(wave, bureau.township, answered("很安全"), weight=1.5)
    f.response(wave, bureau.township, answered("不安全"))  # came after the weighting
    found = res.wave_results(wave, definition=builtin("security", 1))
    assert not found.weighted and found.missing_weights == 1
    assert found.focus.overall.estimate == pytest.approx(50.0)
    assert "未加权" in found.method[1] and "1份答卷是加权后新增的" in found.method[1]


def _wave_with(bureau, actor, answers_by_area, *, version=None, name="本期",
               starts_on=date(2026, 10, 1), ends_on=date(2026, 12, 31)):
    wave = f.wave(bureau, actor, name=name, starts_on=starts_on, ends_on=ends_on,
                  version=version)
    for area, answers in answers_by_area:
        for a in answers:
            f.response(wave, area, answered(a))
    return wave


def test_change_not_significant(small_wave, bureau, opinion_officer):
    previous = _wave_with(bureau, opinion_officer,
                          [(bureau.township, ["安全"] * 7 + ["不安全"] * 3)],
                          version=small_wave.version, name="上期",
                          starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30))
    found = res.wave_results(small_wave, definition=builtin("security", 1))
    assert found.previous_wave == previous
    focus = found.focus
    assert focus.previous.estimate == pytest.approx(70.0)
    # se of the previous wave: 10/9 Σ((y - 0.7)/10)² = 10/9 × 0.021.
    se_prev = math.sqrt(10 / 9 * 0.021)
    y, w, h = arrays()
    _m, se_now = direct(y, w, h)
    z = 0.1 / math.hypot(se_now, se_prev)
    assert z == pytest.approx(0.4690, abs=1e-4)
    assert focus.change.text == "提高10.00个百分点，差异不显著"
    assert not focus.change.significant
    assert focus.change.diff == pytest.approx(10.0)
    # 东城镇 has too few respondents in this wave to compare (n = 5 < 30).
    assert focus.townships[0].change is None


def test_change_significant_overall_and_by_township(bureau, opinion_officer, settings):
    settings.MINYI_SURVEY_MIN_N = 20
    previous = _wave_with(bureau, opinion_officer,
                          [(bureau.township, ["安全"] * 20 + ["不太安全"] * 20),
                           (bureau.other_township, ["安全"] * 18 + ["不安全"] * 2)],
                          name="上期", starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30))
    current = _wave_with(bureau, opinion_officer,
                         [(bureau.township, ["很安全"] * 38 + ["不安全"] * 2),
                          (bureau.other_township, ["安全"] * 17 + ["不安全"] * 3)],
                         version=previous.version)
    focus = res.wave_results(current, definition=builtin("security", 1)).focus
    east, west = focus.townships
    assert east.estimate == pytest.approx(95.0) and east.n == 40
    assert east.change.text == "提高45.00个百分点，差异显著（p<0.001）"
    assert east.change.significant
    assert west.estimate == pytest.approx(85.0) and west.n == 20
    assert west.change.text == "下降5.00个百分点，差异不显著"
    # Overall: 55/60 now against 38/60 before.
    assert focus.overall.estimate == pytest.approx(5500 / 60)
    assert focus.change.significant
    assert focus.change.text.startswith("提高28.33个百分点，差异显著（p")


def test_benchmarks_of_the_waves_year(small_wave, bureau):
    for label, year, value in (("全省平均", 2026, "97.50"), ("全市平均", 2026, "85.00"),
                               ("全省平均", 2025, "60.00")):
        Benchmark.objects.create(bureau=bureau.bureau, index_code="security", label=label,
                                 year=year, value=Decimal(value))
    focus = res.wave_results(small_wave, definition=builtin("security", 1)).focus
    city, province = focus.benchmarks
    # On the log-odds scale, where the interval is made: se 0.1487 / (0.8 × 0.2).
    y, w, h = arrays()
    _m, se = direct(y, w, h)

    def logit(p):
        return math.log(p / (1 - p))

    z = (logit(0.8) - logit(0.975)) / (se / 0.16)
    assert z == pytest.approx(-2.4502, abs=1e-4)
    assert math.erfc(abs(z) / math.sqrt(2)) == pytest.approx(0.01428, abs=1e-5)
    assert province.text == "低于全省平均17.50个百分点，差异显著（p=0.014）"
    assert province.other == pytest.approx(97.5) and province.significant
    # The interval agrees: 97.5% is above its upper end.
    assert focus.overall.ci_high < 97.5
    # 85% lies inside the interval: z = -0.375.
    assert city.text == "低于全市平均5.00个百分点，差异不显著"
    assert focus.overall.ci_low < 85 < focus.overall.ci_high


def test_no_test_against_a_benchmark_at_100_percent():
    change = res.versus_benchmark((1.0, 0.0), 0.98, bounded=True)
    assert change.diff == pytest.approx(0.02) and math.isnan(change.p)
    assert not change.significant


def test_rank_ranges_and_suppression(bureau, opinion_officer, settings):
    settings.MINYI_SURVEY_MIN_N = 30
    third = AreaFactory(kind="township", name="南城镇", station=bureau.station)
    fourth = AreaFactory(kind="township", name="北城镇", station=bureau.other_station)
    wave = _wave_with(bureau, opinion_officer, [
        (bureau.township, ["安全"] * 38 + ["不安全"] * 2),      # 95%
        (bureau.other_township, ["安全"] * 20 + ["不安全"] * 20),  # 50%
        (third, ["安全"] * 36 + ["不安全"] * 4),                 # 90%
        (fourth, ["安全"] * 29),                                 # 100%, but n = 29
    ])
    focus = res.wave_results(wave, definition=builtin("security", 1)).focus
    by_name = {t.name: t for t in focus.townships}
    # 95% and 90% cannot be told apart (z = 0.84); both are above 50%.
    assert by_name["东城镇"].rank == (1, 2)
    assert by_name["南城镇"].rank == (1, 2)
    assert by_name["西城镇"].rank == (3, 3)
    assert by_name["南城镇"].rank_text == "第1–2名"
    north = by_name["北城镇"]
    assert north.suppressed and north.n == 29 and north.rank is None
    # Still shown with its figure: 100%, the Wilson interval on n = 29 below it.
    assert north.estimate == pytest.approx(100.0)
    assert north.ci_high == pytest.approx(100.0) and 85 < north.ci_low < 100
    # Stations: 东城派出所 has 东城镇 and 南城镇 (80 respondents, 92.5%), 西城派出所 西城镇 and
    # 北城镇 (69, 49/69).
    east_station, west_station = focus.stations
    assert east_station.n == 80 and east_station.estimate == pytest.approx(92.5)
    assert west_station.n == 69 and west_station.estimate == pytest.approx(4900 / 69)
    assert east_station.rank == (1, 1) and west_station.rank == (2, 2)


def test_problems_named_most_first(bureau, opinion_officer):
    wave = f.wave(bureau, opinion_officer)
    for named in (["盗窃", "电信网络诈骗"], ["盗窃"], ["盗窃", "噪音扰民"], ["电信网络诈骗"]):
        f.response(wave, bureau.township, answered("安全", problems=named))
    f.response(wave, bureau.township, answered("安全"))  # did not answer: outside the base
    found = res.wave_results(wave)
    (problems,) = found.choices
    assert problems.code == "problems" and problems.n == 4
    shares = [(s.name, s.estimate) for s in problems.shares]
    assert shares[:3] == [("盗窃", pytest.approx(75.0)), ("电信网络诈骗", pytest.approx(50.0)),
                          ("噪音扰民", pytest.approx(25.0))]
    assert all(v == 0 for _n, v in shares[3:]) and len(shares) == 8
    theft = problems.shares[0]
    assert theft.ci_low < 75 < theft.ci_high
    # None named 抢劫抢夺: a Wilson interval from 0 upwards, not a point.
    robbery = next(s for s in problems.shares if s.name == "抢劫抢夺")
    assert robbery.ci_low == pytest.approx(0.0) and robbery.ci_high > 20


def test_suggestions_only_for_readers(bureau, opinion_officer, leader, handler):
    wave = f.wave(bureau, opinion_officer)
    f.response(wave, bureau.township, answered("安全", suggestion="夜间多巡逻"))
    f.response(wave, bureau.other_township, answered("安全", suggestion="  "))
    f.response(wave, bureau.other_township, answered("安全", suggestion="路灯坏了"))
    for reader in (opinion_officer, leader):
        found = res.wave_results(wave, user=reader)
        assert found.suggestion_total == 2
        assert [(s.township, s.text) for s in found.suggestions] == [
            ("西城镇", "路灯坏了"), ("东城镇", "夜间多巡逻")]
    assert res.wave_results(wave, user=handler).suggestions is None


def test_an_unreadable_definition_is_reported_not_raised(small_wave, bureau):
    broken = IndexDefinition.objects.create(bureau=bureau.bureau, code="broken", version=1,
                                            name="坏口径", question_code="security",
                                            rule={"kind": "nonsense"})
    found = res.wave_results(small_wave, definition=broken)
    assert found.focus.error.startswith("计算规则无法读取")
    missing = IndexDefinition.objects.create(bureau=bureau.bureau, code="other-q", version=1,
                                             name="别的题", question_code="no_such",
                                             rule={"kind": "top_share", "top": ["是"]})
    found = res.wave_results(small_wave, definition=missing)
    assert found.focus.error == "本期问卷没有题目“no_such”"


def test_an_empty_wave(bureau, opinion_officer):
    wave = f.wave(bureau, opinion_officer)
    found = res.wave_results(wave)
    assert found.empty and found.choices == []
    assert found.focus.overall.estimate is None and found.focus.townships == []


def test_interval_methods():
    # Logit on the log-odds scale; Wilson on the base count at 0 and 100%; normal for scores.
    low, high = res.interval(0.98, 0.01, 200, None, bounded=True)
    centre = math.log(0.98 / 0.02)
    half = 1.959963984540054 * 0.01 / (0.98 * 0.02)
    assert low == pytest.approx(1 / (1 + math.exp(-(centre - half))))
    assert high == pytest.approx(1 / (1 + math.exp(-(centre + half))))
    assert high < 1
    low, high = res.interval(1.0, 0.0, 30, 29, bounded=True)
    assert high == 1.0 and 0.85 < low < 0.9
    assert res.interval(0.5, 0.1, 30, None, bounded=False) == pytest.approx(
        (0.5 - 0.1959963984540054, 0.5 + 0.1959963984540054))


def test_the_arrays_are_cached_and_follow_new_responses_and_weights(small_wave, bureau,
                                                                    opinion_officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minyi.surveys.models import PopulationTable, Response, Weighting

    v1 = builtin("security", 1)
    assert res.wave_results(small_wave, definition=v1).focus.overall.estimate == \
        pytest.approx(80.0)
    # Read again from the cache: no query reads the answers.
    with CaptureQueriesContext(connection) as queries:
        res.wave_results(small_wave, definition=v1)
    assert not [q for q in queries.captured_queries if "answers" in q["sql"]]

    # A response comes in without a weight: only it is read, and the wave is now unweighted.
    added = f.response(small_wave, bureau.other_township, answered("不安全"))
    with CaptureQueriesContext(connection) as queries:
        found = res.wave_results(small_wave, definition=v1)
    reads = [q["sql"] for q in queries.captured_queries if "answers" in q["sql"]]
    assert len(reads) == 1 and f'"id" > {added.pk - 1}' in reads[0].replace("surveys_response"
                                                                            ".", "")
    assert not found.weighted and found.n == 11
    assert found.focus.overall.estimate == pytest.approx(700 / 10)
    fresh = res.load_wave(small_wave, ["security"])
    cached = res.wave_arrays(small_wave, ["security"])
    assert (cached.area == fresh.area).all()
    assert [cached.column("security").values[c] for c in cached.column("security").codes] == \
        [fresh.column("security").values[c] for c in fresh.column("security").codes]

    # A weighting rewrites every weight (without touching the rows' change time).
    Response.objects.filter(wave=small_wave).update(weight=1.0)
    Response.objects.filter(pk=added.pk).update(weight=5.0)
    table = PopulationTable.objects.create(bureau=bureau.bureau, name="七普", year=2020)
    Weighting.objects.create(wave=small_wave, table=table, method="poststratify",
                             performed_by=opinion_officer, diagnostics={"deff_w": 1.23,
                                                                        "efficiency": 0.8})
    found = res.wave_results(small_wave, definition=v1)
    assert found.weighted
    # 7 of the 9 earlier in the base count 1 each, the new one (insecure) 5: 7 / 14.
    assert found.focus.overall.estimate == pytest.approx(50.0)
    assert "权重引起的设计效应为1.23，加权效率为80.0%" in found.method[1]


def test_suggestions_are_counted_once_as_responses_come_in(bureau, opinion_officer, leader):
    wave = f.wave(bureau, opinion_officer)
    f.response(wave, bureau.township, answered("安全", suggestion="夜间多巡逻"))
    assert res.wave_results(wave, user=leader).suggestion_total == 1
    f.response(wave, bureau.other_township, answered("安全"))
    f.response(wave, bureau.other_township, answered("安全", suggestion="路灯坏了"))
    found = res.wave_results(wave, user=leader)
    assert found.suggestion_total == 2
    assert [s.text for s in found.suggestions] == ["路灯坏了", "夜间多巡逻"]
    assert res.wave_results(wave, user=leader).suggestion_total == 2
