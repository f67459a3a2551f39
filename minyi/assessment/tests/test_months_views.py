"""The monthly assessment pages: access (leader and opinion office manage; a station reads its
bureau's ranking read-only; another bureau is 404), the ranking's marks and links, closing and
reopening, the scheme, hand-entered values, downloads."""

import io
import json
from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from minyi.assessment import facts, months
from minyi.assessment.models import AssessmentMonth, Indicator, ManualValue, MonthlyFigures
from minyi.core.models import Event

pytestmark = pytest.mark.django_db
OCT = date(2026, 10, 1)


@pytest.fixture
def october(bureau, opinion_officer):
    scheme = months.create_default_scheme(actor=opinion_officer, bureau=bureau.bureau,
                                          year=2026)
    for unit, counts in (
        (bureau.station, dict(received=22, invalid=2, closed=20, closed_on_time=19,
                              contact_due=20, contact_on_time=20, cb_satisfied=19,
                              cb_dissatisfied=1)),
        # Three callbacks reached: fewer than the scheme's 10, so 样本不足.
        (bureau.other_station, dict(received=4, closed=3, closed_on_time=3, contact_due=4,
                                    contact_on_time=4, cb_satisfied=3)),
    ):
        MonthlyFigures.objects.create(bureau=bureau.bureau, unit=unit, month=OCT,
                                      counts=dict.fromkeys(facts.COUNT_KEYS, 0) | counts,
                                      computed_at=timezone.now())
    return scheme


def url(name, bureau, month="2026-10", **extra):
    return reverse(f"assessment:{name}", kwargs={"bureau_id": bureau.bureau.pk,
                                                 "month": month, **extra})


def test_leader_sees_the_ranking_with_marks_and_links(client, leader, bureau, october):
    client.force_login(leader)
    response = client.get(url("month", bureau))
    assert response.status_code == 200
    html = response.content.decode()
    assert "未关账 · 实时计算" in html and 'data-testid="close"' in html
    rows = response.context["rows"]
    assert [r["unit"]["name"] for r in rows] == ["东城派出所", "西城派出所"]
    west_sat = next(c for c in rows[1]["cells"] if c["code"] == "satisfaction")
    assert west_sat["insufficient"] and west_sat["text"] == "100.0%"
    assert west_sat["interval"] == "43.9–100.0%"
    assert "样本不足" in html
    east_completion = next(c for c in rows[0]["cells"] if c["code"] == "completion")
    assert east_completion["url"] == reverse("orders:list") + (
        f"?received_from=2026-10-01&received_to=2026-10-31&unit={bureau.station.pk}"
        "&state=closed")
    assert f'href="{east_completion["url"]}"'.replace("&", "&amp;") in html


def test_station_reads_its_bureaus_ranking_but_may_not_manage(client, handler, bureau,
                                                               october):
    client.force_login(handler)
    response = client.get(url("month", bureau))
    assert response.status_code == 200
    assert 'data-testid="close"' not in response.content.decode()
    rows = {r["unit"]["name"]: r for r in response.context["rows"]}
    # Links only to its own orders.
    assert rows["东城派出所"]["cells"][1]["url"]
    assert not any(c["url"] for c in rows["西城派出所"]["cells"])
    assert client.post(url("month_close", bureau)).status_code == 403
    assert client.get(url("manual_values", bureau)).status_code == 403
    scheme_url = reverse("assessment:scheme", kwargs={"bureau_id": bureau.bureau.pk,
                                                      "year": 2026})
    assert client.get(scheme_url).status_code == 200
    assert client.post(scheme_url, {"action": "create"}).status_code == 403
    assert not AssessmentMonth.objects.exists()


def test_another_bureau_is_404_everywhere(client, other_bureau_user, bureau, october):
    client.force_login(other_bureau_user)
    for name in ("month", "month_close", "month_reopen", "manual_values"):
        method = client.get if name in ("month", "manual_values") else client.post
        assert method(url(name, bureau)).status_code == 404, name
    assert client.get(url("month_download", bureau, fmt="xlsx")).status_code == 404
    scheme_url = reverse("assessment:scheme", kwargs={"bureau_id": bureau.bureau.pk,
                                                      "year": 2026})
    assert client.get(scheme_url).status_code == 404
    assert client.get(reverse("assessment:months")).status_code == 200


def test_bad_month_in_url_is_404(client, leader, bureau, october):
    client.force_login(leader)
    assert client.get(url("month", bureau, month="2026-13")).status_code == 404


def test_close_then_reopen_needs_a_reason(client, opinion_officer, bureau, october):
    client.force_login(opinion_officer)
    response = client.post(url("month_close", bureau))
    assert response.status_code == 302
    assessment = AssessmentMonth.objects.get()
    assert assessment.state == "closed"
    frozen = assessment.snapshot
    # A figure changed after closing: the closed month's page shows the frozen one.
    MonthlyFigures.objects.filter(unit=bureau.station).update(
        counts=dict.fromkeys(facts.COUNT_KEYS, 0))
    page = client.get(url("month", bureau))
    assert "已关账 · 成绩已冻结" in page.content.decode()
    assert page.context["snapshot"] == frozen

    response = client.post(url("month_reopen", bureau), {"reason": ""})
    assert response.status_code == 400
    assert "重新打开已关账的月份须填写理由" in response.content.decode()
    assert AssessmentMonth.objects.get().state == "closed"
    response = client.post(url("month_reopen", bureau), {"reason": "西城所回访数据补录"})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert (assessment.state, assessment.reopen_count) == ("open", 1)
    assert Event.objects.get(action="assessment.month_reopen").payload["reason"] == \
        "西城所回访数据补录"


def test_manual_values_entry(client, opinion_officer, bureau, october):
    client.force_login(opinion_officer)
    indicator = Indicator.objects.get(code="veto_events")
    october.items.create(indicator=Indicator.objects.get(code="clearance_rate"), position=9,
                         weight=D(5), target=D(90), rule="linear")
    clearance = Indicator.objects.get(code="clearance_rate")
    bad = client.post(url("manual_values", bureau), {
        "unit": bureau.station.pk, "indicator": clearance.pk, "value": "abc"})
    assert bad.status_code == 400 and "数值应为数字，而不是「abc」" in bad.content.decode()
    assert not ManualValue.objects.exists()
    ok = client.post(url("manual_values", bureau), {
        "unit": bureau.station.pk, "indicator": clearance.pk, "value": "90",
        "numerator": "9", "denominator": "10"})
    assert ok.status_code == 302
    client.post(url("manual_values", bureau), {
        "unit": bureau.other_station.pk, "indicator": indicator.pk, "value": "1"})
    page = client.get(url("month", bureau))
    rows = {r["unit"]["name"]: r for r in page.context["rows"]}
    assert rows["西城派出所"]["vetoed"] and rows["西城派出所"]["total"] == "0.00"
    assert 'data-testid="veto"' in page.content.decode()
    clearance_cell = next(c for c in rows["东城派出所"]["cells"] if c["code"] == "clearance_rate")
    assert (clearance_cell["text"], clearance_cell["fraction"]) == ("90.0%", "9 / 10")

    client.post(url("month_close", bureau))
    refused = client.post(url("manual_values", bureau), {
        "unit": bureau.station.pk, "indicator": clearance.pk, "value": "50"})
    assert refused.status_code == 400
    assert "已关账，不能修改填报值" in refused.content.decode()
    assert ManualValue.objects.get(indicator=clearance).value == D(90)


def test_scheme_page_create_and_edit(client, opinion_officer, bureau):
    client.force_login(opinion_officer)
    scheme_url = reverse("assessment:scheme", kwargs={"bureau_id": bureau.bureau.pk,
                                                      "year": 2027})
    assert "尚无考核方案" in client.get(scheme_url).content.decode()
    assert client.post(scheme_url, {"action": "create"}).status_code == 302
    scheme_item = months.scheme_for(bureau.bureau, 2027).items.get(indicator__code="on_time")
    bad = client.post(scheme_url, {"item": scheme_item.pk, "rule": "linear", "weight": "20",
                                   "target": "95", "params": "{floor"})
    assert bad.status_code == 400 and "规则参数应为 JSON 对象" in bad.content.decode()
    ok = client.post(scheme_url, {"item": scheme_item.pk, "rule": "rank", "weight": "25",
                                  "target": "", "params": "{}"})
    assert ok.status_code == 302
    scheme_item.refresh_from_db()
    assert (scheme_item.rule, scheme_item.weight, scheme_item.target) == ("rank", D(25), None)


def test_run_from_the_list(client, opinion_officer, bureau, october):
    client.force_login(opinion_officer)
    response = client.post(reverse("assessment:months"),
                           {"month": "2026-10", "bureau": bureau.bureau.pk})
    assert response.status_code == 302 and response["Location"] == url("month", bureau)
    bad = client.post(reverse("assessment:months"), {"month": "2026-13",
                                                     "bureau": bureau.bureau.pk})
    assert bad.status_code == 400 and "无法识别的月份「2026-13」" in bad.content.decode()
    listing = client.get(reverse("assessment:months"))
    assert "2026年10月" in listing.content.decode()


def test_downloads(client, leader, bureau, october):
    client.force_login(leader)
    docx = client.get(url("month_download", bureau, fmt="docx"))
    assert docx.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "关于2026年10月群众满意度工作考核情况的通报" in text
    assert "东城派出所以" in text and "附件" in text
    xlsx = client.get(url("month_download", bureau, fmt="xlsx"))
    ws = load_workbook(io.BytesIO(xlsx.content))["考核排名"]
    names = [ws.cell(row, 2).value for row in range(6, ws.max_row + 1)]
    assert names == ["东城派出所", "西城派出所"]
    assert ws.cell(6, 1).value == 1
    data = json.loads(client.get(url("month_download", bureau, fmt="json")).content)
    assert data["month"] == "2026-10"
    assert client.get(url("month_download", bureau, fmt="pdf")).status_code == 404


def test_a_year_without_scheme_says_so(client, handler, leader, bureau):
    client.force_login(handler)
    page = client.get(url("month", bureau))
    assert page.status_code == 200 and "2026年尚无考核方案。" in page.content.decode()
    assert "建立考核方案" not in page.content.decode()
    assert client.get(url("month_download", bureau, fmt="docx")).status_code == 404
    listing = client.get(reverse("assessment:months"))
    assert listing.status_code == 200 and 'data-testid="run-form"' not in \
        listing.content.decode()
    assert client.post(reverse("assessment:months"), {"month": "2026-10"}).status_code == 403
    client.force_login(leader)
    assert "建立考核方案" in client.get(url("month", bureau)).content.decode()

