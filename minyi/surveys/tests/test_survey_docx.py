"""The analysis report of a wave (reports.survey_docx): a Word file python-docx opens, in the
official layout, with the headline indices, the changes worded as the test allows, the
benchmarks, the weakest items and areas, the problems named most and the method."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import docx
import pytest

from minyi.reports.docx import RED
from minyi.reports.survey_docx import survey_report_docx
from minyi.surveys import results as res
from minyi.surveys.models import Benchmark
from minyi.surveys.tests import factories as f

pytestmark = pytest.mark.django_db


def fill(wave, area, secure: int, insecure: int, *, problems=None) -> None:
    for i in range(secure + insecure):
        answers = {"security": "安全" if i < secure else "不安全",
                   "sat_police": "满意" if i % 4 else "不满意"}
        if problems is not None:
            answers["problems"] = problems[i % len(problems)]
        f.response(wave, area, answers)


@pytest.fixture
def report_text(bureau, opinion_officer, settings):
    settings.MINYI_SURVEY_MIN_N = 20
    previous = f.wave(bureau, opinion_officer, name="2026年第三季度调查",
                      starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30))
    fill(previous, bureau.township, 20, 20)
    fill(previous, bureau.other_township, 18, 2)
    wave = f.wave(bureau, opinion_officer, version=previous.version)
    fill(wave, bureau.township, 38, 2,
         problems=[["盗窃", "电信网络诈骗"], ["盗窃"], ["电信网络诈骗"], ["盗窃", "噪音扰民"]])
    fill(wave, bureau.other_township, 17, 3, problems=[["噪音扰民"], ["盗窃"]])
    Benchmark.objects.create(bureau=bureau.bureau, index_code="security", label="全省平均",
                             year=2026, value=Decimal("98.00"))
    found = res.wave_results(wave, all_domains=True)
    data = survey_report_docx(found, on=date(2027, 1, 8))
    document = docx.Document(BytesIO(data))
    return document, "\n".join(p.text for p in document.paragraphs)


def test_the_report_opens_and_says_what_the_page_says(report_text):
    document, text = report_text
    # The head of an official document: the issuer in red, the title.
    issuer = document.paragraphs[0]
    assert issuer.text == "测试县公安局" and issuer.runs[0].font.color.rgb == RED
    assert "2026年第四季度群众安全感满意度调查分析报告" in text
    assert "共获得有效答卷60份（电话访问60份，网上自填0份）" in text
    assert "本期答卷未加权" in text
    # Headline: 55 of 60 安全, with its interval and definition.
    assert "安全感指数为91.67%（95%置信区间" in text
    assert "口径 security v1）" in text
    # 38/60 before: a significant rise, worded with its p.
    assert "较上期提高28.33个百分点，差异显著（p" in text
    assert "显著提高的有安全感指数" in text
    # 公安工作满意度 is 75% in both waves: no change claimed.
    assert "公安工作满意度为75.00%" in text and "较上期与上期持平" not in text
    assert "与上期持平" in text
    # The benchmark: 91.67 against 98.00.
    # Tested on the log-odds scale, as the interval 81.12–96.57% that leaves 98% out.
    assert "全省平均为98.00%，低于全省平均6.33个百分点，差异显著（p=0.001）" in text
    assert "显著低于比较基准的有安全感指数" in text
    # Weakest areas: 西城镇 85% below 东城镇 95%, the two not told apart.
    assert ("较低的乡镇（街道）是西城镇85.00%（59.62%–95.60%，第1–2名）。"
            "各乡镇（街道）之间的差异均不显著") in text
    assert "东城镇95.00%" not in text
    # The problems named most: 盗窃 by 30 + 10 of 60, 电信网络诈骗 by 20, 噪音扰民 by 10 + 10.
    assert "提及最多的依次是盗窃（66.67%" in text
    assert "电信网络诈骗（33.33%" in text and "噪音扰民（33.33%" in text
    assert "logit" in text and "以乡镇（街道）为层" in text
    assert text.rstrip().endswith("2027年1月8日")


def test_the_tables(report_text):
    document, _text = report_text
    headline, townships = document.tables
    assert [c.text for c in headline.rows[0].cells] == [
        "指标", "口径", "本期", "95%置信区间", "上期", "较上期"]
    first = [c.text for c in headline.rows[1].cells]
    assert first[:3] == ["安全感指数", "security v1", "91.67%"]
    assert first[4] == "63.33%"
    assert [c.text for c in townships.rows[1].cells][:4] == ["东城镇", "东城派出所", "40",
                                                            "95.00%"]
    assert townships.rows[1].cells[5].text == "第1–2名"


def test_a_first_wave_without_anything_to_compare(bureau, opinion_officer):
    wave = f.wave(bureau, opinion_officer)
    fill(wave, bureau.township, 3, 1)
    text = "\n".join(p.text for p in docx.Document(BytesIO(survey_report_docx(
        res.wave_results(wave, all_domains=True), on=date(2027, 1, 8)))).paragraphs)
    assert "暂无上期数据可比" in text
    assert "2026年尚未录入全省、全市等比较基准" in text
    assert "各乡镇（街道）样本均不足30人，不作排名" in text
    assert "本期没有人回答突出问题一题" in text
