"""Population tables: created by a manager, filled in the grid or by importing a file, every
bad row of a file named with its line, all or nothing."""

from __future__ import annotations

import pytest

from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.intake.importing.errors import BadInput
from minyi.intake.tests.test_import_support import write_csv, write_xlsx
from minyi.orgs.tests.factories import AreaFactory, UnitFactory
from minyi.surveys import population, weights
from minyi.surveys.models import PopulationCell, PopulationTable, Wave
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db

HEADER = ["乡镇", "性别", "年龄段", "人数"]


def line(township, sex, age, count):
    return {"乡镇": township, "性别": sex, "年龄段": age, "人数": count}


@pytest.fixture
def table(bureau, opinion_officer):
    return population.create_population_table(actor=opinion_officer, bureau=bureau.bureau,
                                              name="七普成年人口", year=2020,
                                              source="第七次全国人口普查")


def cells(table):
    return sorted(table.cells.values_list("area__name", "sex", "age_group", "count"))


def test_a_manager_creates_a_table_with_an_event(bureau, opinion_officer, table):
    assert (table.bureau, table.name, table.year, table.source) == (
        bureau.bureau, "七普成年人口", 2020, "第七次全国人口普查")
    event = Event.objects.get(action="survey.population_create")
    assert event.object_id == str(table.pk) and event.after["year"] == 2020
    with pytest.raises(InvalidInput, match="2020年已有名为「七普成年人口」的人口总体"):
        population.create_population_table(actor=opinion_officer, bureau=bureau.bureau,
                                           name="七普成年人口", year=2020)
    with pytest.raises(InvalidInput, match="年份应为四位数字"):
        population.create_population_table(actor=opinion_officer, bureau=bureau.bureau,
                                           name="户籍人口", year="二〇二〇")
    with pytest.raises(InvalidInput, match="请填写人口总体的名称"):
        population.create_population_table(actor=opinion_officer, bureau=bureau.bureau,
                                           name="  ", year=2020)


def test_only_managers_create_or_change_tables(bureau, handler, leader, table):
    for user in (handler, leader):
        with pytest.raises(NotAllowed):
            population.create_population_table(actor=user, bureau=bureau.bureau, name="x",
                                               year=2020)
        with pytest.raises(NotAllowed):
            population.save_population_cells(actor=user, table=table, counts={
                (bureau.township.pk, "M", "18-29"): 5})
    assert PopulationTable.objects.count() == 1 and not PopulationCell.objects.exists()


def test_the_grid_sets_changes_and_clears_cells(bureau, opinion_officer, table):
    east, west = bureau.township, bureau.other_township
    changed = population.save_population_cells(actor=opinion_officer, table=table, counts={
        (east.pk, "M", "18-29"): 1200, (east.pk, "F", "18-29"): 1100, (west.pk, "M", "60+"): 0,
        (west.pk, "F", "60+"): None})
    assert changed == 3
    assert cells(table) == [("东城镇", "F", "18-29", 1100), ("东城镇", "M", "18-29", 1200),
                            ("西城镇", "M", "60+", 0)]
    changed = population.save_population_cells(actor=opinion_officer, table=table, counts={
        (east.pk, "M", "18-29"): 1250, (east.pk, "F", "18-29"): 1100,
        (west.pk, "M", "60+"): None})
    assert changed == 2
    assert cells(table) == [("东城镇", "F", "18-29", 1100), ("东城镇", "M", "18-29", 1250)]
    events = Event.objects.filter(action="survey.population_cells").order_by("id")
    assert [(e.before["people"], e.after["people"], e.payload) for e in events] == [
        (0, 2300, {"created": 3, "updated": 0, "cleared": 0}),
        (2300, 2350, {"created": 0, "updated": 1, "cleared": 1})]
    # Nothing changed: no event.
    assert population.save_population_cells(actor=opinion_officer, table=table, counts={
        (east.pk, "M", "18-29"): 1250}) == 0
    assert events.count() == 2


def test_the_grid_refuses_a_township_of_another_bureau_and_bad_counts(bureau, opinion_officer,
                                                                      table):
    elsewhere = AreaFactory(kind="township", name="邻县镇",
                            station=UnitFactory(kind="station", name="邻县派出所"))
    with pytest.raises(InvalidInput) as caught:
        population.save_population_cells(actor=opinion_officer, table=table, counts={
            (bureau.township.pk, "M", "18-29"): 10, (elsewhere.pk, "M", "18-29"): 10,
            (bureau.township.pk, "F", "30-39"): -1})
    message = str(caught.value)
    assert f"区域（编号{elsewhere.pk}）不是测试县公安局的乡镇（街道）" in message
    assert "东城镇 女 30–39岁：人数「-1」应为不小于0的整数" in message
    assert not PopulationCell.objects.exists()


def test_parse_grid_names_each_bad_value(bureau, table):
    east = bureau.township
    counts, errors = population.parse_grid(table, {
        population.cell_field_name(east.pk, "M", "18-29"): "1,200",
        population.cell_field_name(east.pk, "F", "18-29"): "",
        population.cell_field_name(east.pk, "F", "60+"): "三百",
        population.cell_field_name(east.pk, "M", "60+"): "2.5",
    })
    assert counts == {(east.pk, "M", "18-29"): 1200, (east.pk, "F", "18-29"): None}
    # In the grid's order: men's row before women's.
    assert errors == ["东城镇 男 60岁及以上：「2.5」不是不小于0的整数",
                      "东城镇 女 60岁及以上：「三百」不是不小于0的整数"]


def test_the_grid_lists_every_township_by_sex(bureau, table):
    rows = population.grid(table)
    assert [(r.area.name, r.sex_label) for r in rows] == [
        ("东城镇", "男"), ("东城镇", "女"), ("西城镇", "男"), ("西城镇", "女")]
    assert rows[0].counts == [None] * 5 and rows[0].total == 0


def test_an_import_replaces_the_table(bureau, opinion_officer, table, tmp_path):
    PopulationCell.objects.create(table=table, area=bureau.township, sex="M", age_group="60+",
                                  count=1)
    path = write_xlsx(tmp_path / "人口.xlsx", [
        line("东城镇", "男", "18-29岁", 1200), line("东城镇", "女", "18–29岁", 1100.0),
        line(bureau.other_township.code, "M", "60岁及以上", "2,300"),
        line("西城镇", "女性", "60+", 0)], header=HEADER)
    result = population.import_population(actor=opinion_officer, table=table, path=path)
    assert (result.rows, result.people, result.replaced) == (4, 4600, 1)
    assert cells(table) == [("东城镇", "F", "18-29", 1100), ("东城镇", "M", "18-29", 1200),
                            ("西城镇", "F", "60+", 0), ("西城镇", "M", "60+", 2300)]
    event = Event.objects.get(action="survey.population_import")
    assert (event.before, event.after, event.payload) == (
        {"cells": 1, "people": 1}, {"cells": 4, "people": 4600}, {"file": "人口.xlsx"})


def test_an_import_with_bad_rows_names_each_with_its_line_and_writes_nothing(
        bureau, opinion_officer, table, tmp_path):
    PopulationCell.objects.create(table=table, area=bureau.township, sex="M", age_group="60+",
                                  count=7)
    path = write_csv(tmp_path / "人口.csv", [
        line("东城镇", "男", "18-29", 1200),          # row 2: good
        line("南城镇", "男", "18-29", 10),            # row 3: not of the bureau
        line("东城镇", "未说", "18-29", 10),          # row 4: sex
        line("东城镇", "女", "16-17", 10),            # row 5: age group
        line("东城镇", "女", "30-39", -3),            # row 6: count
        line("东城镇", "男", "18–29岁", 5),           # row 7: the cell of row 2 again
        line("", "", "", ""),                         # blank: skipped
        line("西城镇", "女", "40-49", "约300"),       # row 9
        line("", "女", "40-49", 3),                   # row 10
    ], header=HEADER, encoding="gb18030")
    with pytest.raises(population.PopulationImportError) as caught:
        population.import_population(actor=opinion_officer, table=table, path=path)
    error = caught.value
    assert error.errors == [
        (3, "乡镇「南城镇」不是测试县公安局的乡镇（街道）"),
        (4, "性别「未说」应为 男 或 女"),
        (5, "年龄段「16-17」应为 18–29岁、30–39岁、40–49岁、50–59岁、60岁及以上 之一"),
        (6, "人数「-3」应为不小于0的整数"),
        (7, "与第2行重复（东城镇 男 18–29岁）"),
        (9, "人数「约300」应为不小于0的整数"),
        (10, "缺少乡镇"),
    ]
    assert str(error) == "文件中有7处错误，未导入任何数据；请改正后重新导入。"
    assert cells(table) == [("东城镇", "M", "60+", 7)]
    assert not Event.objects.filter(action="survey.population_import").exists()


def test_an_import_without_the_columns_is_refused(bureau, opinion_officer, table, tmp_path):
    path = write_csv(tmp_path / "人口.csv", [{"乡镇": "东城镇", "人口": 5}],
                     header=["乡镇", "人口"])
    with pytest.raises(BadInput, match="文件第1行缺少列：性别、年龄段、人数"):
        population.import_population(actor=opinion_officer, table=table, path=path)
    empty = write_csv(tmp_path / "空.csv", [], header=HEADER)
    with pytest.raises(BadInput, match="文件中没有数据行"):
        population.import_population(actor=opinion_officer, table=table, path=empty)


def test_a_table_used_by_a_weighting_is_not_deleted(bureau, opinion_officer, table):
    wave = factories.wave(bureau, opinion_officer, state=Wave.State.CLOSED)
    factories.response(wave, bureau.township, {}, sex="M", age_group="60+")
    population.save_population_cells(actor=opinion_officer, table=table,
                                     counts={(bureau.township.pk, "M", "60+"): 100})
    weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    with pytest.raises(InvalidInput, match="已用于1次加权，不能删除"):
        population.delete_population_table(actor=opinion_officer, table=table)
    spare = population.create_population_table(actor=opinion_officer, bureau=bureau.bureau,
                                               name="户籍人口", year=2025)
    population.delete_population_table(actor=opinion_officer, table=spare)
    assert list(PopulationTable.objects.all()) == [table]
    assert Event.objects.get(action="survey.population_delete").before["name"] == "户籍人口"


def test_words_for_sex_and_age():
    assert [population.sex_of(v) for v in ("男", "女性", "M", "f", "x", None)] == [
        "M", "F", "M", "F", None, None]
    assert [population.age_group_of(v) for v in (
        "18-29", "18–29岁", "18~29", "30至39岁", "60岁及以上", "60+", "60岁以上", "17-29",
        None)] == ["18-29", "18-29", "18-29", "30-39", "60+", "60+", "60+", None, None]
