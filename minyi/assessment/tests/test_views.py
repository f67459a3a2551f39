"""The bulletin pages: list and generate form, one bulletin, its downloads; who sees what."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.urls import reverse

from minyi.assessment import bulletins
from minyi.assessment.models import WeeklyBulletin
from minyi.assessment.tests.fixtures import CUTOFF, WEEK
from minyi.core.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def bulletin(week_orders, bureau):
    return bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK, now=CUTOFF)[0]


def test_the_list_and_generating_any_week(client, opinion_officer, bureau, week_orders):
    client.force_login(opinion_officer)
    page = client.get(reverse("assessment:bulletins"))
    assert page.status_code == 200
    assert 'type="week"' in page.content.decode()
    answer = client.post(reverse("assessment:bulletins"),
                         {"week": "2024-W19", "bureau": bureau.bureau.pk})
    made = WeeklyBulletin.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("assessment:bulletin", args=[made.pk])
    assert made.generated_by == opinion_officer
    assert Event.objects.filter(action="bulletin.generate", actor=opinion_officer).count() == 1
    # The same week again: the one already made, not a second.
    again = client.post(reverse("assessment:bulletins"),
                        {"week": "2024-W19", "bureau": bureau.bureau.pk}, follow=True)
    assert WeeklyBulletin.objects.count() == 1
    assert "该周的通报已于" in again.content.decode()
    listing = client.get(reverse("assessment:bulletins")).content.decode()
    assert "通报〔2024〕1号" in listing and "关于2024年第19周群众诉求办理情况的通报" in listing


@pytest.mark.parametrize(("week", "message"), [
    ("2026-W54", "无效的周「2026-W54」：2026年只有第1至第53周"),
    ("abc", "无法识别的周「abc」"),
    ("2099-W01", "2099年第1周（2099-W01）尚未开始，不能生成通报"),
    ("", "请选择要通报的周"),
])
def test_a_bad_week_is_answered_in_chinese(client, opinion_officer, bureau, week, message):
    client.force_login(opinion_officer)
    page = client.post(reverse("assessment:bulletins"), {"week": week, "bureau": bureau.bureau.pk})
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not WeeklyBulletin.objects.exists()


def test_a_unit_officer_reads_but_does_not_generate(client, handler, bulletin, bureau):
    client.force_login(handler)
    page = client.get(reverse("assessment:bulletins")).content.decode()
    assert "通报〔2024〕1号" in page
    assert 'data-testid="generate-form"' not in page
    answer = client.post(reverse("assessment:bulletins"),
                         {"week": "2024-W18", "bureau": bureau.bureau.pk})
    assert answer.status_code == 403
    assert client.post(reverse("assessment:bulletin_regenerate", args=[bulletin.pk])
                       ).status_code == 403
    assert WeeklyBulletin.objects.count() == 1


def _cell(html: str, unit: str, figure: str) -> str:
    row = re.search(rf'data-unit="{unit}".*?</tr>', html, re.S).group(0)
    return re.search(rf'data-figure="{figure}"[^>]*>(.*?)</td>', row, re.S).group(1)


def test_the_bulletin_page(client, leader, bulletin, bureau):
    client.force_login(leader)
    page = client.get(reverse("assessment:bulletin", args=[bulletin.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "关于2024年第19周群众诉求办理情况的通报" in html
    summary = re.search(r'data-testid="headline">(.*?)</div>', html, re.S).group(1)
    assert ("全局共受理群众诉求工单8件（其中无效工单1件），办结5件，办结率71.4%"
            in re.sub(r"<[^>]+>", "", summary))
    # The figures of the sentences link to their orders too.
    assert re.search(r'<a href="/orders/\?received_from=2024-05-06&amp;received_to=2024-05-12"'
                     r' data-figure="received">8</a>', summary), summary
    assert re.search(r'data-figure="repeats">2</a>', summary)
    assert "黑榜：东城派出所（满意率66.7%，低于85%" in html
    assert "vendor/echarts/echarts.min.js" in html
    assert 'id="chart-satisfaction"' in html
    assert "assessment.bulletin/1" in html and "统计口径" in html
    keys = re.findall(r'<li data-key="(\w+)">', html)
    assert keys[:4] == ["selection", "unit", "cutoff", "received"]
    station = bureau.station.pk
    cell = _cell(html, str(station), "received")
    assert re.search(rf'<a href="/orders/\?[^"]*unit={station}[^"]*">6</a>', cell), cell
    assert "handling=on_time" in _cell(html, str(station), "closed_on_time")
    assert ">75.0%<" in _cell(html, str(station), "on_time")
    assert "—" in _cell(html, str(bureau.squad.pk), "satisfaction")
    assert ">8</a>" in _cell(html, "total", "received")
    charts = json.loads(re.search(r'id="bulletin-charts"[^>]*>(.*?)</script>', html,
                                  re.S).group(1))
    assert charts["units"] == ["东城派出所", "西城派出所", "督察大队"]
    assert charts["satisfaction"] == [66.7, 100.0, None]
    assert charts["floors"] == {"satisfaction": 85.0, "on_time": 90.0, "contact": 95.0}


def test_unit_staff_get_links_only_into_their_own_orders(client, handler, bulletin, bureau):
    client.force_login(handler)
    html = client.get(reverse("assessment:bulletin", args=[bulletin.pk])).content.decode()
    assert "<a " in _cell(html, str(bureau.station.pk), "received")
    assert _cell(html, str(bureau.other_station.pk), "received") == "1"
    assert _cell(html, "total", "received") == "8"


def test_downloads(client, inspector, bulletin):
    client.force_login(inspector)
    docx = client.get(reverse("assessment:bulletin_download", args=[bulletin.pk, "docx"]))
    assert docx.status_code == 200
    assert docx["Content-Type"].startswith("application/vnd.openxmlformats-officedocument"
                                           ".wordprocessingml")
    assert "attachment;" in docx["Content-Disposition"]
    import docx as python_docx

    document = python_docx.Document(io.BytesIO(docx.content))
    assert any(p.text == "通报〔2024〕1号" for p in document.paragraphs)
    xlsx = client.get(reverse("assessment:bulletin_download", args=[bulletin.pk, "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    data = client.get(reverse("assessment:bulletin_download", args=[bulletin.pk, "json"])).json()
    assert data["number"] == "通报〔2024〕1号" and data["total"]["received"] == 8
    assert "definitions" in data and data["definitions_version"] == bulletins.VERSION
    assert client.get(reverse("assessment:bulletin_download", args=[bulletin.pk, "pdf"])
                      ).status_code == 404


def test_regenerate_from_the_page(client, opinion_officer, bulletin):
    client.force_login(opinion_officer)
    answer = client.post(reverse("assessment:bulletin_regenerate", args=[bulletin.pk]),
                         follow=True)
    assert answer.status_code == 200
    assert "已按最新数据重新生成通报〔2024〕1号" in answer.content.decode()
    assert Event.objects.filter(action="bulletin.regenerate", actor=opinion_officer).exists()


def test_another_bureau_sees_nothing(client, other_bureau_user, bulletin):
    client.force_login(other_bureau_user)
    assert "通报〔2024〕1号" not in client.get(reverse("assessment:bulletins")).content.decode()
    assert client.get(reverse("assessment:bulletin", args=[bulletin.pk])).status_code == 404
    for fmt in ("docx", "xlsx", "json"):
        assert client.get(reverse("assessment:bulletin_download",
                                  args=[bulletin.pk, fmt])).status_code == 404
    assert client.post(reverse("assessment:bulletin_regenerate", args=[bulletin.pk])
                       ).status_code == 404
    assert client.get(reverse("assessment:bulletin", args=[999999])).status_code == 404
    assert not Event.objects.filter(action="bulletin.regenerate").exists()


def test_an_empty_week_page(client, leader, bureau):
    empty, _ = bulletins.generate(actor=None, bureau=bureau.bureau,
                                  week=WEEK.previous().previous(), now=CUTOFF)
    client.force_login(leader)
    page = client.get(reverse("assessment:bulletin", args=[empty.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "全局未受理群众诉求工单" in html
    assert ">—<" in _cell(html, "total", "completion")
