"""The pages of population tables, weighting and benchmarks: managers act, everyone in the
bureau reads, a user of another bureau gets 404 (403 where they have no survey bureau's page
at all)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from minyi.core.models import Event
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory
from minyi.surveys import population, weights
from minyi.surveys.models import Benchmark, PopulationCell, PopulationTable, Wave, Weighting
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreigner():
    """The opinion officer of another bureau."""
    other = UnitFactory(kind="bureau", name="邻县公安局")
    user = UserFactory(full_name="邻县民意")
    MembershipFactory(user=user, unit=other, role=Role.OPINION_OFFICER)
    return user


@pytest.fixture
def table(bureau, opinion_officer):
    table = population.create_population_table(actor=opinion_officer, bureau=bureau.bureau,
                                               name="七普成年人口", year=2020)
    east, west = bureau.township, bureau.other_township
    PopulationCell.objects.bulk_create([
        PopulationCell(table=table, area=a, sex=s, age_group="30-39", count=n)
        for a, s, n in [(east, "M", 300), (east, "F", 200), (west, "M", 100), (west, "F", 400)]])
    return table


@pytest.fixture
def wave(bureau, opinion_officer):
    wave = factories.wave(bureau, opinion_officer, state=Wave.State.CLOSED)
    east, west = bureau.township, bureau.other_township
    for area, sex in [(east, "M"), (east, "M"), (east, "F"), (west, "M"), (west, "F"),
                      (west, "F")]:
        factories.response(wave, area, {"security": "安全"}, sex=sex, age_group="30-39")
    return wave


# --- population tables ----------------------------------------------------------------------


def test_a_manager_creates_a_table_and_fills_the_grid(client, bureau, opinion_officer):
    client.force_login(opinion_officer)
    page = client.get(reverse("surveys:populations")).content.decode()
    assert "还没有人口总体" in page and 'data-testid="population-new"' in page
    response = client.post(reverse("surveys:populations"),
                           {"name": "七普成年人口", "year": "2020", "source": "普查"})
    table = PopulationTable.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:population", args=[table.pk])
    page = client.get(response["Location"]).content.decode()
    east = population.cell_field_name(bureau.township.pk, "M", "18-29")
    assert f'name="{east}"' in page and "西城镇" in page
    response = client.post(reverse("surveys:population", args=[table.pk]), {east: "1200"})
    assert response.status_code == 302
    assert list(table.cells.values_list("count", flat=True)) == [1200]
    page = client.get(reverse("surveys:populations")).content.decode()
    assert "七普成年人口" in page and ">1200<" in page


def test_bad_grid_values_are_named_and_nothing_saved(client, bureau, opinion_officer, table):
    client.force_login(opinion_officer)
    men = population.cell_field_name(bureau.township.pk, "M", "30-39")
    women = population.cell_field_name(bureau.township.pk, "F", "60+")
    response = client.post(reverse("surveys:population", args=[table.pk]),
                           {men: "350", women: "很多"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "东城镇 女 60岁及以上：「很多」不是不小于0的整数" in page
    assert 'value="很多"' in page and 'value="350"' in page
    assert table.cells.get(area=bureau.township, sex="M").count == 300


def test_the_create_form_says_what_is_wrong(client, opinion_officer, table):
    client.force_login(opinion_officer)
    response = client.post(reverse("surveys:populations"), {"name": "", "year": "二〇二〇"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "请填写名称" in page and "年份应为四位数字，如 2020" in page
    response = client.post(reverse("surveys:populations"),
                           {"name": "七普成年人口", "year": "2020"})
    assert response.status_code == 400
    assert "2020年已有名为「七普成年人口」的人口总体" in response.content.decode()
    assert PopulationTable.objects.count() == 1


def test_an_import_with_bad_rows_shows_every_line(client, bureau, opinion_officer, table):
    client.force_login(opinion_officer)
    content = "乡镇,性别,年龄段,人数\n东城镇,男,18-29,100\n南城镇,男,18-29,5\n东城镇,女,18-29,x\n"
    upload = SimpleUploadedFile("人口.csv", content.encode("utf-8"), content_type="text/csv")
    response = client.post(reverse("surveys:population_import", args=[table.pk]),
                           {"file": upload})
    page = response.content.decode()
    assert response.status_code == 400
    assert "文件中有2处错误，未导入任何数据" in page
    assert "第 3 行" in page and "乡镇「南城镇」不是测试县公安局的乡镇（街道）" in page
    assert "第 4 行" in page and "人数「x」应为不小于0的整数" in page
    assert table.cells.count() == 4

    good = "乡镇,性别,年龄段,人数\n东城镇,男,18-29,100\n西城镇,女,60岁及以上,90\n"
    upload = SimpleUploadedFile("人口.csv", good.encode("gb18030"), content_type="text/csv")
    response = client.post(reverse("surveys:population_import", args=[table.pk]),
                           {"file": upload}, follow=True)
    page = response.content.decode()
    assert "已导入 2 个单元格，合计 190 人（替换原有 4 个单元格）" in page
    assert sorted(table.cells.values_list("count", flat=True)) == [90, 100]


def test_population_pages_read_only_for_the_bureau_and_hidden_from_others(
        client, bureau, handler, foreigner, table):
    client.force_login(handler)
    page = client.get(reverse("surveys:population", args=[table.pk])).content.decode()
    assert ">300<" in page and "<input type=\"text\"" not in page and "导入人数" not in page
    assert "新建人口总体" not in client.get(reverse("surveys:populations")).content.decode()
    field = population.cell_field_name(bureau.township.pk, "M", "30-39")
    assert client.post(reverse("surveys:population", args=[table.pk]),
                       {field: "1"}).status_code == 403
    assert client.post(reverse("surveys:populations"),
                       {"name": "x", "year": "2020"}).status_code == 403
    assert client.post(reverse("surveys:population_delete", args=[table.pk])).status_code == 403
    client.force_login(foreigner)
    for name in ("surveys:population", "surveys:population_import",
                 "surveys:population_delete"):
        method = client.get if name == "surveys:population" else client.post
        assert method(reverse(name, args=[table.pk])).status_code == 404
    assert "七普成年人口" not in client.get(reverse("surveys:populations")).content.decode()
    assert table.cells.get(area=bureau.township, sex="M").count == 300


def test_a_user_with_no_bureau_gets_403(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("surveys:populations")).status_code == 403
    assert client.get(reverse("surveys:benchmarks")).status_code == 403


# --- weighting ------------------------------------------------------------------------------


def test_a_manager_weights_a_wave_and_sees_the_diagnostics(client, opinion_officer, wave,
                                                           table):
    client.force_login(opinion_officer)
    url = reverse("surveys:weighting", args=[wave.pk])
    page = client.get(url).content.decode()
    assert "本调查尚未加权" in page and 'data-testid="weigh-form"' in page
    response = client.post(url, {"table": table.pk, "method": "poststratify",
                                 "trim_lower": "", "trim_upper": ""}, follow=True)
    page = response.content.decode()
    assert "已完成加权：6 份答卷，设计效应 1.050，有效样本量 5.7" in page
    assert 'data-testid="diag-deff">1.050<' in page
    assert 'data-testid="diag-efficiency">95.2%<' in page
    assert "100.00 – 200.00" in page
    assert Weighting.objects.get().method == "poststratify"


def test_weighting_errors_are_shown_and_nothing_written(client, bureau, opinion_officer, wave,
                                                        table):
    factories.response(wave, bureau.township, {}, sex="F", age_group="60+")
    client.force_login(opinion_officer)
    url = reverse("surveys:weighting", args=[wave.pk])
    response = client.post(url, {"table": table.pk, "method": "poststratify"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "「东城镇·女·60岁及以上」（1名受访者）没有总体数" in page
    response = client.post(url, {"table": table.pk, "method": "rake", "trim_upper": "0.5"})
    assert response.status_code == 400
    assert "上限应大于 1（均值的倍数）" in response.content.decode()
    assert not Weighting.objects.exists()
    assert not Event.objects.filter(action="survey.weigh").exists()


def test_weighting_page_read_only_for_a_station_handler_and_404_for_another_bureau(
        client, opinion_officer, handler, foreigner, wave, table):
    weights.weigh_wave(actor=opinion_officer, wave=wave, table=table, trim_upper=1.1)
    url = reverse("surveys:weighting", args=[wave.pk])
    client.force_login(handler)
    page = client.get(url).content.decode()
    assert 'data-testid="current-diagnostics"' in page and 'data-testid="weigh-form"' not in page
    assert "3 个权重取到上下限" in page
    assert client.post(url, {"table": table.pk, "method": "rake"}).status_code == 403
    client.force_login(foreigner)
    assert client.get(url).status_code == 404
    assert client.post(url, {"table": table.pk, "method": "rake"}).status_code == 404
    assert Weighting.objects.count() == 1


def test_history_keeps_every_weighting(client, opinion_officer, wave, table):
    weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    weights.weigh_wave(actor=opinion_officer, wave=wave, table=table, method="rake")
    client.force_login(opinion_officer)
    page = client.get(reverse("surveys:weighting", args=[wave.pk])).content.decode()
    assert page.count('data-testid="history-row"') == 2
    assert "迭代加权（乡镇、性别、年龄段三个边际）" in page and "重新加权" in page


def test_responses_after_the_weighting_are_flagged(client, bureau, opinion_officer, wave,
                                                   table):
    weights.weigh_wave(actor=opinion_officer, wave=wave, table=table)
    factories.response(wave, bureau.township, {}, sex="M", age_group="30-39")
    client.force_login(opinion_officer)
    page = client.get(reverse("surveys:weighting", args=[wave.pk])).content.decode()
    assert "1 份答卷在最近一次加权之后完成" in page


# --- benchmarks -----------------------------------------------------------------------------


def test_a_manager_enters_changes_and_deletes_benchmarks(client, bureau, opinion_officer):
    client.force_login(opinion_officer)
    url = reverse("surveys:benchmarks")
    page = client.get(url).content.decode()
    assert 'value="security"' in page and "全市平均" in page
    response = client.post(url, {"index_code": "antigang-sat", "label": "全省平均",
                                 "year": "2019", "value": "88.10", "source": "通报"})
    assert response.status_code == 302
    made = Benchmark.objects.get()
    assert (made.index_code, made.value) == ("antigang-sat", Decimal("88.10"))
    response = client.post(url, {"index_code": "antigang-sat", "label": "全省平均",
                                 "year": "2019", "value": "87"})
    assert response.status_code == 400
    assert "2019年全省平均的「antigang-sat」已录入" in response.content.decode()
    response = client.post(url, {"index_code": "security", "label": "全市平均", "year": "2019",
                                 "value": "120"})
    assert "数值应在 0 到 100 之间" in response.content.decode()
    page = client.get(url).content.decode()
    assert "扫黑除恶满意度（antigang-sat）" in page and "88.10" in page
    edit = reverse("surveys:benchmark_edit", args=[made.pk])
    assert 'value="88.10"' in client.get(edit).content.decode()
    response = client.post(edit, {"index_code": "antigang-sat", "label": "全省平均",
                                  "year": "2019", "value": "88.2", "source": "通报"})
    assert response.status_code == 302
    assert Benchmark.objects.get().value == Decimal("88.20")
    response = client.post(reverse("surveys:benchmark_delete", args=[made.pk]))
    assert response.status_code == 302 and not Benchmark.objects.exists()


def test_benchmarks_read_only_for_the_bureau_and_404_for_another(client, bureau,
                                                                 opinion_officer, handler,
                                                                 foreigner):
    made = weights.save_benchmark(actor=opinion_officer, bureau=bureau.bureau,
                                  index_code="security", label="全省平均", year=2019,
                                  value="98.6")
    client.force_login(handler)
    page = client.get(reverse("surveys:benchmarks")).content.decode()
    assert "98.60" in page and 'data-testid="benchmark-form"' not in page and "修改" not in page
    assert client.post(reverse("surveys:benchmarks"), {
        "index_code": "security", "label": "全市平均", "year": "2019",
        "value": "98"}).status_code == 403
    assert client.get(reverse("surveys:benchmark_edit", args=[made.pk])).status_code == 403
    assert client.post(reverse("surveys:benchmark_delete",
                               args=[made.pk])).status_code == 403
    client.force_login(foreigner)
    assert "98.60" not in client.get(reverse("surveys:benchmarks")).content.decode()
    assert client.get(reverse("surveys:benchmark_edit", args=[made.pk])).status_code == 404
    assert client.post(reverse("surveys:benchmark_delete",
                               args=[made.pk])).status_code == 404
    assert Benchmark.objects.count() == 1
