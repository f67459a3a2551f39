"""Weighting a wave: post-stratification worked by hand, raking's margins, trimming, the
responses whose sex or age is unknown, the errors that name a cell, the history; benchmarks."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from minyi.core.audit import verify_chain
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orgs.tests.factories import AreaFactory, MembershipFactory, UnitFactory, UserFactory
from minyi.surveys import population, weights
from minyi.surveys.models import (
    Benchmark,
    FrameMember,
    PopulationCell,
    Response,
    Wave,
    Weighting,
)
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db

ANSWERS = {"security": "安全"}


def make_table(bureau, actor, cells):
    """cells: {(area, sex, age_group): count}"""
    table = population.create_population_table(actor=actor, bureau=bureau.bureau,
                                               name="七普成年人口", year=2020)
    PopulationCell.objects.bulk_create([
        PopulationCell(table=table, area=area, sex=sex, age_group=age, count=count)
        for (area, sex, age), count in cells.items()])
    return table


@pytest.fixture
def wave(bureau, opinion_officer):
    return factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)


@pytest.fixture
def sample(bureau, wave):
    """Six responses, all aged 30–39: 东城镇 two men and a woman, 西城镇 a man and two women."""
    east, west = bureau.township, bureau.other_township
    people = [(east, "M"), (east, "M"), (east, "F"), (west, "M"), (west, "F"), (west, "F")]
    return [factories.response(wave, area, ANSWERS, sex=sex, age_group="30-39")
            for area, sex in people]


@pytest.fixture
def table(bureau, opinion_officer):
    east, west = bureau.township, bureau.other_township
    return make_table(bureau, opinion_officer, {
        (east, "M", "30-39"): 300, (east, "F", "30-39"): 200,
        (west, "M", "30-39"): 100, (west, "F", "30-39"): 400,
    })


def stored(sample):
    return [Response.objects.get(pk=r.pk).weight for r in sample]


def test_poststratification_gives_each_cell_its_population_over_its_respondents(
        bureau, opinion_officer, wave, sample, table):
    weighting = weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    # 东城 men 300/2, 东城 women 200/1, 西城 men 100/1, 西城 women 400/2.
    assert stored(sample) == [150.0, 150.0, 200.0, 100.0, 200.0, 200.0]
    d = weighting.diagnostics
    assert (weighting.method, weighting.table, weighting.performed_by) == (
        "poststratify", table, opinion_officer)
    assert (d["n"], d["min"], d["max"], d["population_total"], d["population_cells"]) == (
        6, 100.0, 200.0, 1000.0, 4)
    assert d["weighted_total"] == pytest.approx(1000.0, rel=1e-12)
    # Σw² = 2·150² + 3·200² + 100² = 175 000; deff = 6·175 000 / 1000² = 1.05.
    assert d["deff_w"] == pytest.approx(1.05, rel=1e-12)
    assert d["efficiency"] == pytest.approx(1 / 1.05, rel=1e-12)
    assert d["n_eff"] == pytest.approx(1_000_000 / 175_000, rel=1e-12)
    assert d["cv"] == pytest.approx(math.sqrt(0.05), rel=1e-12)
    assert d["mean"] == pytest.approx(1000 / 6, rel=1e-12)
    assert (d["iterations"], d["converged"], d["trimmed"]) == (None, None, 0)
    township = d["margins"][0]
    assert township["label"] == "乡镇（街道）"
    assert [(r["label"], r["population"], r["respondents"]) for r in township["rows"]] == [
        ("东城镇", 500.0, 3), ("西城镇", 500.0, 3)]
    assert [r["weighted"] for r in township["rows"]] == pytest.approx([500.0, 500.0])
    sex = d["margins"][1]
    assert [(r["label"], r["population"], r["respondents"]) for r in sex["rows"]] == [
        ("男", 400.0, 3), ("女", 600.0, 3)]
    event = Event.objects.get(action="survey.weigh")
    assert (event.object_id, event.actor, event.after["method"], event.payload["n"]) == (
        str(wave.pk), opinion_officer, "poststratify", 6)
    assert verify_chain().ok


def test_raking_meets_the_three_margins(bureau, opinion_officer, wave, table):
    east, west = bureau.township, bureau.other_township
    # Ages and sexes that cross unevenly, so that raking needs several sweeps.
    people = [(east, "M", "18-29"), (east, "M", "60+"), (east, "F", "60+"), (east, "F", "60+"),
              (west, "M", "18-29"), (west, "F", "18-29"), (west, "F", "60+"),
              (west, "M", "60+"), (west, "M", "60+")]
    for area, sex, age in people:
        factories.response(wave, area, ANSWERS, sex=sex, age_group=age)
    table.cells.all().delete()
    make_cells = {(east, "M", "18-29"): 120, (east, "M", "60+"): 130, (east, "F", "18-29"): 90,
                  (east, "F", "60+"): 160, (west, "M", "18-29"): 200, (west, "M", "60+"): 100,
                  (west, "F", "18-29"): 150, (west, "F", "60+"): 50}
    PopulationCell.objects.bulk_create([
        PopulationCell(table=table, area=a, sex=s, age_group=g, count=n)
        for (a, s, g), n in make_cells.items()])
    weighting = weights.weigh_wave(actor=opinion_officer, wave=wave, table=table,
                                   method="rake")
    d = weighting.diagnostics
    assert d["converged"] is True and 1 < d["iterations"] < 100
    rows = list(Response.objects.filter(wave=wave).values_list("area_id", "sex", "age_group",
                                                                "weight"))
    by = lambda position, key: sum(r[3] for r in rows if r[position] == key)  # noqa: E731
    assert by(0, east.pk) == pytest.approx(500, rel=1e-6)
    assert by(0, west.pk) == pytest.approx(500, rel=1e-6)
    assert by(1, "M") == pytest.approx(550, rel=1e-6)
    assert by(1, "F") == pytest.approx(450, rel=1e-6)
    assert by(2, "18-29") == pytest.approx(560, rel=1e-6)
    assert by(2, "60+") == pytest.approx(440, rel=1e-6)
    age = d["margins"][2]
    assert [(r["label"], r["population"]) for r in age["rows"]] == [
        ("18–29岁", 560.0), ("60岁及以上", 440.0)]
    assert [r["weighted"] for r in age["rows"]] == pytest.approx([560, 440], rel=1e-6)
    # Everyone in a cell has the same weight.
    east_old_women = {r[3] for r in rows if r[:3] == (east.pk, "F", "60+")}
    assert len(east_old_women) == 1


def test_trimming_caps_at_the_bound_relative_to_the_mean_and_keeps_the_total(
        bureau, opinion_officer, wave, sample, table):
    weighting = weights.weigh_wave(actor=opinion_officer, wave=wave, table=table,
                                   trim_upper=1.1)
    # Mean 1000/6; the bound 1.1 × mean = 183.33…: the three 200s are cut to it and the 50
    # they lose goes to the others in proportion (150, 150, 100 times 450/400).
    cap = 1.1 * 1000 / 6
    assert stored(sample) == pytest.approx([168.75, 168.75, cap, 112.5, cap, cap], rel=1e-12)
    d = weighting.diagnostics
    assert (weighting.trim_upper, weighting.trim_lower, d["trimmed"]) == (1.1, None, 3)
    assert d["trim_upper_weight"] == pytest.approx(cap)
    assert d["weighted_total"] == pytest.approx(1000.0)
    assert d["max"] == pytest.approx(cap)


def test_unknown_sex_refused_by_poststratification_and_raked_in_the_margins_it_has(
        bureau, opinion_officer, wave, sample, table):
    unknown = factories.response(wave, bureau.township, ANSWERS, sex="", age_group="30-39")
    with pytest.raises(InvalidInput, match="1份答卷的性别未知，无法按乡镇×性别×年龄段事后分层"):
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    assert not Weighting.objects.exists()
    assert not Response.objects.filter(weight__isnull=False).exists()

    weighting = weights.weigh_wave(actor=opinion_officer, wave=wave, table=table,
                                   method="rake")
    d = weighting.diagnostics
    assert (d["unknown_sex"], d["unknown_age_group"], d["converged"]) == (1, 0, True)
    rows = list(Response.objects.filter(wave=wave).values_list("pk", "area_id", "sex",
                                                                "weight"))
    total = sum(r[3] for r in rows)
    assert total == pytest.approx(1000, rel=1e-6)
    assert sum(r[3] for r in rows if r[1] == bureau.township.pk) == pytest.approx(500, rel=1e-6)
    known = [r for r in rows if r[2]]
    known_total = sum(r[3] for r in known)
    # The respondents of known sex are 40% men, 60% women, as the population.
    assert sum(r[3] for r in known if r[2] == "M") / known_total == pytest.approx(0.4, rel=1e-6)
    sex_rows = d["margins"][1]["rows"]
    assert [r["label"] for r in sex_rows] == ["男", "女", "未知"]
    assert sex_rows[2]["respondents"] == 1
    assert sex_rows[2]["weighted"] == pytest.approx(
        Response.objects.get(pk=unknown.pk).weight)


def test_errors_name_the_cell_and_write_nothing(bureau, opinion_officer, wave, sample, table):
    lonely = factories.response(wave, bureau.township, ANSWERS, sex="M", age_group="60+")
    events = Event.objects.count()
    with pytest.raises(InvalidInput) as caught:
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    assert "「东城镇·男·60岁及以上」（1名受访者）没有总体数" in str(caught.value)
    lonely.delete()
    PopulationCell.objects.create(table=table, area=bureau.township, sex="F",
                                  age_group="18-29", count=50)
    with pytest.raises(InvalidInput) as caught:
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    assert "总体单元格「东城镇·女·18–29岁」（总体数 50）没有受访者" in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table, method="rake")
    assert "「18–29岁」（总体数 50）没有受访者" in str(caught.value)
    assert not Weighting.objects.exists()
    assert not Response.objects.filter(weight__isnull=False).exists()
    assert Event.objects.count() == events


def test_bad_requests_are_refused_in_chinese(bureau, opinion_officer, handler, wave, sample,
                                             table):
    with pytest.raises(NotAllowed):
        weights.weigh_wave(actor=handler, wave=wave, table=table)
    with pytest.raises(InvalidInput, match="权重上限是均值的倍数，应大于1"):
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table, trim_upper=0.8)
    with pytest.raises(InvalidInput, match="权重下限是均值的倍数"):
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table, trim_lower=1.5)
    with pytest.raises(InvalidInput, match="加权方法"):
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table, method="linear")
    other = UnitFactory(kind="bureau", name="邻县公安局")
    officer = UserFactory()
    MembershipFactory(user=officer, unit=other, role="opinion_officer")
    foreign = population.create_population_table(actor=officer, bureau=other, name="邻县",
                                                 year=2020)
    with pytest.raises(InvalidInput, match="不属于测试县公安局"):
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=foreign)
    empty = factories.wave(bureau, opinion_officer, name="空调查", state=Wave.State.CLOSED,
                           version=wave.version)
    with pytest.raises(InvalidInput, match="还没有答卷"):
        weights.weigh_wave(actor=opinion_officer, wave=empty, table=table)
    draft = factories.wave(bureau, opinion_officer, name="准备中的调查", version=wave.version)
    with pytest.raises(InvalidInput, match="调查尚未开始，没有答卷可加权"):
        weights.weigh_wave(actor=opinion_officer, wave=draft, table=table)
    assert not Weighting.objects.exists()


def test_reweighting_replaces_the_weights_and_keeps_the_history(
        bureau, opinion_officer, wave, sample, table):
    first = weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    Wave.objects.filter(pk=wave.pk).update(state=Wave.State.CLOSED)
    wave.refresh_from_db()
    second = weights.weigh_wave(actor=opinion_officer, wave=wave, table=table,
                                trim_upper=1.1)
    assert Weighting.objects.filter(wave=wave).count() == 2
    assert weights.current_weighting(wave) == second
    assert stored(sample)[0] == pytest.approx(168.75)
    assert first.diagnostics["max"] == 200.0
    assert Event.objects.filter(action="survey.weigh").count() == 2


def test_weights_of_a_large_wave_are_written_in_batches_per_weight(
        bureau, opinion_officer, wave, table, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    east, west = bureau.township, bureau.other_township
    members = FrameMember.objects.bulk_create([
        FrameMember(wave=wave, origin="imported", phone_enc="-", phone_mask="-",
                    phone_hash=f"h{i}", state="done", outcome="I") for i in range(3000)])
    Response.objects.bulk_create([
        Response(wave=wave, member=m, mode="phone", answers=ANSWERS,
                 area=east if i % 2 else west, station=bureau.station,
                 sex="M" if i % 4 < 2 else "F", age_group="30-39")
        for i, m in enumerate(members)])
    monkeypatch.setattr(weights, "UPDATE_BATCH", 500)
    with CaptureQueriesContext(connection) as queries:
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    updates = [q for q in queries.captured_queries
               if q["sql"].startswith('UPDATE "surveys_response"')]
    # Four cells of 750 responses, each one weight: two statements of at most 500 ids each.
    assert len(updates) == 8
    assert not Response.objects.filter(wave=wave, weight__isnull=True).exists()
    assert set(Response.objects.filter(wave=wave, area=east, sex="M")
               .values_list("weight", flat=True)) == {300 / 750}
    assert sum(Response.objects.filter(wave=wave).values_list("weight", flat=True)) == (
        pytest.approx(1000))


def test_a_township_name_two_areas_share_is_told_apart(bureau, opinion_officer, wave, table):
    twin = AreaFactory(kind="township", name="东城镇", station=bureau.other_station)
    factories.response(wave, twin, ANSWERS, sex="M", age_group="30-39")
    factories.response(wave, bureau.township, ANSWERS, sex="M", age_group="30-39")
    with pytest.raises(InvalidInput) as caught:
        weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    assert f"「东城镇（{twin.code}）·男·30–39岁」（1名受访者）没有总体数" in str(caught.value)


# --- benchmarks -----------------------------------------------------------------------------


def test_benchmarks_are_entered_changed_and_deleted_with_events(bureau, opinion_officer):
    made = weights.save_benchmark(actor=opinion_officer, bureau=bureau.bureau,
                                  index_code="security", label="全省平均", year=2019,
                                  value="98.6", source="2019年全省民调通报")
    assert (made.value, made.year, made.label) == (Decimal("98.60"), 2019, "全省平均")
    with pytest.raises(InvalidInput, match="2019年全省平均的「security」已录入"):
        weights.save_benchmark(actor=opinion_officer, bureau=bureau.bureau,
                               index_code="security", label="全省平均", year=2019, value="98")
    with pytest.raises(InvalidInput, match="没有口径代码为「happiness」的指数"):
        weights.save_benchmark(actor=opinion_officer, bureau=bureau.bureau,
                               index_code="happiness", label="全省平均", year=2019, value="98")
    with pytest.raises(InvalidInput, match="0 到 100"):
        weights.save_benchmark(actor=opinion_officer, bureau=bureau.bureau,
                               index_code="security", label="全市平均", year=2019, value="101")
    with pytest.raises(InvalidInput, match="不是数字"):
        weights.save_benchmark(actor=opinion_officer, bureau=bureau.bureau,
                               index_code="security", label="全市平均", year=2019, value="高")
    changed = weights.save_benchmark(actor=opinion_officer, bureau=bureau.bureau,
                                     benchmark=made, index_code="security", label="全省平均",
                                     year=2019, value="98.55")
    assert Benchmark.objects.get().value == Decimal("98.55") and changed.pk == made.pk
    update = Event.objects.get(action="survey.benchmark_update")
    assert (update.before["value"], update.after["value"]) == ("98.60", "98.55")
    weights.delete_benchmark(actor=opinion_officer, benchmark=changed)
    assert not Benchmark.objects.exists()
    assert [e.action for e in Event.objects.filter(action__startswith="survey.benchmark")
            .order_by("id")] == ["survey.benchmark_create", "survey.benchmark_update",
                                 "survey.benchmark_delete"]


def test_benchmarks_need_a_manager(bureau, handler, leader):
    for user in (handler, leader):
        with pytest.raises(NotAllowed):
            weights.save_benchmark(actor=user, bureau=bureau.bureau, index_code="security",
                                   label="全省平均", year=2019, value="98")
    assert not Benchmark.objects.exists()


def test_index_choices_name_the_first_version(bureau):
    choices = dict(weights.index_choices(bureau.bureau))
    assert choices["security"] == "安全感指数（security）"
    assert choices["antigang-sat"] == "扫黑除恶满意度（antigang-sat）"
