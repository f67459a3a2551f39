"""The weekly bulletin as a Word document: its parts read back with python-docx, and the file
converted to PDF by LibreOffice where it is installed."""

from __future__ import annotations

import io
import shutil
import subprocess
import uuid

import docx
import pytest

from minyi.assessment import bulletins
from minyi.assessment.tests import fixtures
from minyi.assessment.tests.fixtures import CUTOFF, WEEK
from minyi.reports.bulletin_docx import bulletin_docx

pytestmark = pytest.mark.django_db
# The week of orders the assessment tests use (their conftest is not seen from here).
week_orders = fixtures.week_orders


@pytest.fixture
def data(week_orders, bureau) -> bytes:
    bulletin, _ = bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    return bulletin_docx(bulletins.document(bulletin))


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_the_parts_of_the_bulletin(data):
    document = docx.Document(io.BytesIO(data))
    paragraphs = texts(document)
    assert paragraphs[0] == "测试县公安局"  # the issuer mark
    assert "通报〔2024〕1号" in paragraphs
    assert "关于2024年第19周群众诉求办理情况的通报" in paragraphs
    headings = [p for p in paragraphs if p[:2] in {"一、", "二、", "三、", "四、"}]
    assert headings == ["一、总体情况", "二、各单位办理情况", "三、红黑榜", "四、有关要求"]
    body = "\n".join(paragraphs)
    assert ("全局共受理群众诉求工单8件（其中无效工单1件），办结5件，办结率71.4%；"
            "按时办结4件，按时办结率80.0%") in body
    assert "东城派出所受理6件，办结4件，办结率80.0%" in body
    assert "黑榜：东城派出所（满意率66.7%，低于85%" in body
    assert "受理工单（不含无效）不足5件的单位不按比率评判：西城派出所、督察大队。" in body
    # Signature and date, then the definitions as the appendix.
    assert paragraphs.count("测试县公安局") == 2
    assert "附件" in paragraphs
    assert any("办结率 = 办结 ÷（受理 − 无效）" in p for p in paragraphs)
    assert any(bulletins.VERSION in p for p in paragraphs)

    rates, counts = document.tables
    assert [c.text for c in rates.rows[0].cells] == ["单位", "受理", "办结", "办结率",
                                                     "按时办结率", "及时联系率", "满意率"]
    assert [c.text for c in rates.rows[1].cells] == ["东城派出所", "6", "4", "80.0%", "75.0%",
                                                     "60.0%", "66.7%"]
    assert [c.text for c in rates.rows[3].cells] == ["督察大队", "0", "0", "—", "—", "—", "—"]
    assert [c.text for c in rates.rows[4].cells][:4] == ["全局合计", "8", "5", "71.4%"]
    assert [c.text for c in counts.rows[1].cells] == ["东城派出所", "1", "1", "1", "2", "1",
                                                      "0"]


def _soffice() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


def test_libreoffice_converts_it_to_pdf(data, tmp_path):
    soffice = _soffice()
    if soffice is None:
        pytest.skip("没有安装 LibreOffice（libreoffice/soffice 不在 PATH 中），跳过 PDF 转换测试")
    source = tmp_path / "bulletin.docx"
    source.write_bytes(data)
    # A profile of its own: two conversions at once would otherwise fight over one.
    profile = tmp_path / f"lo-profile-{uuid.uuid4().hex}"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=120)
    pdf = tmp_path / "bulletin.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.exists(), f"LibreOffice wrote no PDF: {result.stdout} {result.stderr}"
    head = pdf.read_bytes()
    assert head[:5] == b"%PDF-" and len(head) > 5000


def test_an_empty_week(bureau):
    bulletin, _ = bulletins.generate(actor=None, bureau=bureau.bureau, week=WEEK, now=CUTOFF)
    document = docx.Document(io.BytesIO(bulletin_docx(bulletins.document(bulletin))))
    body = "\n".join(texts(document))
    assert "全局未受理群众诉求工单" in body and "本周各单位均未受理群众诉求工单" in body
    assert document.tables == []
