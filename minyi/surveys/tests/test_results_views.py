"""The results pages: who sees them (anyone in the bureau; 404 for another bureau's people),
what they show (definitions named, intervals, small numbers marked, 未加权), the downloads, the
definitions pages and their form, and the queries of the results page not growing with the
responses."""

from __future__ import annotations

import json
from datetime import date
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.core.models import Event
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory
from minyi.surveys.models import IndexDefinition
from minyi.surveys.tests import factories as f

pytestmark = pytest.mark.django_db


def builtin(code: str, version: int) -> IndexDefinition:
    return IndexDefinition.objects.get(bureau=None, code=code, version=version)


@pytest.fixture
def stranger():
    """An opinion officer of another bureau."""
    other = UnitFactory(kind="bureau", name="邻县公安局")
    user = UserFactory(full_name="外局民意")
    MembershipFactory(user=user, unit=other, role=Role.OPINION_OFFICER)
    return user


def fill(wave, bureau, east: int, west: int) -> None:
    for i in range(east):
        f.response(wave, bureau.township,
                   {"security": "安全" if i % 5 else "不安全", "sat_police": "满意",
                    "problems": ["盗窃"] if i % 2 else ["电信网络诈骗", "盗窃"],
                    "suggestion": f"建议{i}"})
    for _i in range(west):
        f.response(wave, bureau.other_township, {"security": "很安全", "sat_police": "不满意"})


@pytest.fixture
def wave(bureau, opinion_officer):
    made = f.wave(bureau, opinion_officer, state="closed")
    fill(made, bureau, 35, 5)
    return made


def login(client, user):
    client.force_login(user)
    return client


def test_results_page_for_people_of_the_bureau(client, wave, bureau, handler, outsider,
                                               leader):
    # The handler of the other station is of the same bureau: results are aggregates.
    for user in (handler, outsider, leader):
        response = login(client, user).get(reverse("surveys:results", args=[wave.pk]))
        assert response.status_code == 200
    html = response.content.decode()
    assert "口径 security v1" in html
    assert "未加权" in html
    # 东城镇: 28 of 35 安全 = 80.00%; 西城镇 only 5 respondents: shown, marked, not ranked.
    assert "80.00%" in html
    assert html.count('data-testid="township-row"') == 2
    assert "样本不足" in html and "不排名" in html
    assert 'id="chart-townships"' in html and "vendor/echarts/echarts.min.js" in html
    assert 'id="results-chart"' in html
    chart = response.context["chart"]
    assert [b["name"] for b in chart["focus"]["townships"]] == ["东城镇", "西城镇"]
    assert chart["focus"]["townships"][1]["suppressed"] is True
    assert "logit" in html  # the interval method is named on the page


def test_other_bureaus_get_404(client, wave, stranger):
    login(client, stranger)
    for name, args in (("surveys:results", [wave.pk]), ("surveys:report", [wave.pk]),
                       ("surveys:results_export", [wave.pk, "json"])):
        assert client.get(reverse(name, args=args)).status_code == 404
    # The overview of a bureau without responses is an empty state, not someone else's wave.
    response = client.get(reverse("surveys:overview"))
    assert response.status_code == 200
    assert "还没有可看的结果" in response.content.decode()


def test_overview_goes_to_the_latest_wave_with_responses(client, bureau, opinion_officer,
                                                         handler):
    older = f.wave(bureau, opinion_officer, name="三季度", starts_on=date(2026, 7, 1),
                   ends_on=date(2026, 9, 30))
    fill(older, bureau, 2, 0)
    f.wave(bureau, opinion_officer, name="四季度（尚无答卷）")
    response = login(client, handler).get(reverse("surveys:overview"))
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:results", args=[older.pk])


def test_choosing_a_definition(client, wave, handler, stranger, bureau):
    login(client, handler)
    url = reverse("surveys:results", args=[wave.pk])
    response = client.get(url, {"definition": builtin("security", 2).pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "口径 security v2" in html
    assert response.context["focus"].definition.version == 2
    # Another bureau's own definition, or nonsense: 404.
    other = IndexDefinition.objects.create(bureau=UnitFactory(kind="bureau"), code="x",
                                           version=1, name="外局", question_code="security",
                                           rule={"kind": "top_share", "top": ["安全"]})
    assert client.get(url, {"definition": other.pk}).status_code == 404
    assert client.get(url, {"definition": "abc"}).status_code == 404


def test_suggestions_for_readers_only(client, wave, leader, handler):
    html = login(client, leader).get(reverse("surveys:results", args=[wave.pk])).content.decode()
    assert 'data-testid="suggestions"' in html and "建议34" in html
    html = login(client, handler).get(reverse("surveys:results", args=[wave.pk])).content.decode()
    assert 'data-testid="suggestions"' not in html and "建议34" not in html


def test_a_wave_without_responses(client, bureau, opinion_officer):
    empty = f.wave(bureau, opinion_officer)
    login(client, opinion_officer)
    response = client.get(reverse("surveys:results", args=[empty.pk]))
    assert response.status_code == 200
    assert "本期还没有答卷" in response.content.decode()
    response = client.get(reverse("surveys:report", args=[empty.pk]))
    assert response.status_code == 302


def test_downloads(client, wave, handler):
    login(client, handler)
    response = client.get(reverse("surveys:results_export", args=[wave.pk, "json"]))
    assert response.status_code == 200
    data = json.loads(response.content)
    security = next(i for i in data["indices"] if i["definition"]["code"] == "security")
    assert security["definition"]["label"] == "口径 security v1"
    assert security["overall"]["n"] == 40 and security["overall"]["estimate"] == 82.5
    assert [t["name"] for t in security["townships"]] == ["东城镇", "西城镇"]
    assert data["weighted"] is False and data["ci_method"] == "logit"

    response = client.get(reverse("surveys:results_export", args=[wave.pk, "xlsx"]))
    assert response.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["总体指数", "按乡镇", "按派出所", "突出问题", "说明"]
    rows = list(book["总体指数"].iter_rows(values_only=True))
    assert rows[1][:2] == ("安全感指数", "口径 security v1") and rows[1][4] == 82.5
    assert client.get(reverse("surveys:results_export", args=[wave.pk, "csv"])).status_code == 404


def test_report_download(client, wave, leader):
    response = login(client, leader).get(reverse("surveys:report", args=[wave.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    import docx

    text = "\n".join(p.text for p in docx.Document(BytesIO(response.content)).paragraphs)
    assert "安全感指数为82.50%" in text


def test_queries_do_not_grow_with_responses(client, bureau, opinion_officer, leader):
    from django.core.cache import cache

    def count(n: int) -> tuple[int, int]:
        made = f.wave(bureau, opinion_officer, name=f"{n}份")
        fill(made, bureau, n // 2, n - n // 2)
        login(client, leader)
        url = reverse("surveys:results", args=[made.pk])
        client.get(reverse("surveys:definitions"))  # the session's own first queries
        cache.clear()
        counted = []
        for _ in range(2):  # the responses read, then taken from the cache
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counted.append(len(queries))
        return counted[0], counted[1]

    cold, warm = count(10)
    assert count(50) == (cold, warm)
    assert warm < cold


# --- definitions ---------------------------------------------------------------------------


def test_definitions_page(client, bureau, handler, opinion_officer):
    html = login(client, handler).get(reverse("surveys:definitions")).content.decode()
    assert "口径 security v1" in html and "口径 security v2" in html
    assert "很安全＋安全＋基本安全" in html
    assert "新增版本" not in html
    html = login(client, opinion_officer).get(reverse("surveys:definitions")).content.decode()
    assert "新增版本" in html


def test_a_manager_adds_a_version(client, bureau, opinion_officer):
    login(client, opinion_officer)
    base = builtin("sat-traffic", 1)
    url = reverse("surveys:definition_version", args=[base.pk])
    form = client.get(url)
    assert form.status_code == 200 and form.context["form"].initial["top"] == "满意、基本满意"
    response = client.post(url, {"name": "交通管理满意度（仅满意）", "question_code": "sat_traffic",
                                 "kind": "top_share", "top": "满意", "excluded": "不清楚",
                                 "bureau": bureau.bureau.pk})
    assert response.status_code == 302
    made = IndexDefinition.objects.get(bureau=bureau.bureau, code="sat-traffic")
    assert made.version == 2 and made.rule["top"] == ["满意"]


def test_bad_definition_input_is_told_in_chinese(client, bureau, opinion_officer):
    login(client, opinion_officer)
    response = client.post(reverse("surveys:definition_new"), {
        "code": "mine", "name": "自定义", "question_code": "security", "kind": "top_share",
        "top": "非常安全"})
    assert response.status_code == 400
    assert "题目“security”没有选项：非常安全" in response.content.decode()
    response = client.post(reverse("surveys:definition_new"), {
        "code": "mine", "name": "自定义", "question_code": "security", "kind": "category_scores",
        "scores": "很安全=满分"})
    assert response.status_code == 400
    assert "不是数字" in response.content.decode()
    assert not IndexDefinition.objects.filter(bureau=bureau.bureau).exists()
    assert not Event.objects.filter(action__startswith="survey.definition").exists()


def test_definition_writes_are_for_managers(client, bureau, handler, leader, opinion_officer,
                                            stranger):
    base = builtin("security", 1)
    for user in (handler, leader):
        login(client, user)
        assert client.get(reverse("surveys:definition_new")).status_code == 403
        assert client.post(reverse("surveys:definition_version", args=[base.pk]), {
            "name": "x", "question_code": "security", "kind": "top_share",
            "top": "很安全"}).status_code == 403
    login(client, opinion_officer)
    client.post(reverse("surveys:definition_new"), {
        "code": "mine", "name": "自定义", "question_code": "security", "kind": "top_share",
        "top": "很安全"})
    mine = IndexDefinition.objects.get(bureau=bureau.bureau, code="mine")
    # Another bureau's officer cannot see, extend or switch off this bureau's definition.
    login(client, stranger)
    assert client.get(reverse("surveys:definition_version", args=[mine.pk])).status_code == 404
    assert client.post(reverse("surveys:definition_active", args=[mine.pk]),
                       {"active": "0"}).status_code == 404
    login(client, handler)
    assert client.post(reverse("surveys:definition_active", args=[mine.pk]),
                       {"active": "0"}).status_code == 403
    login(client, opinion_officer)
    assert client.post(reverse("surveys:definition_active", args=[mine.pk]),
                       {"active": "0"}).status_code == 302
    mine.refresh_from_db()
    assert not mine.is_active
