"""The official-document formatter: layout after GB/T 9704-2012, read back with python-docx,
and the file LibreOffice turns into a PDF."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from minyi.reports import docx as official


def sample() -> bytes:
    doc = official.official_document(issuer="测试县公安局", number="督〔2026〕37号",
                                     title="关于东城派出所工单超期的督办单")
    official.add_heading(doc, "一、基本情况")
    official.add_heading(doc, "（一）办理情况", level=2)
    official.add_body(doc, "东城派出所：工单 2026110001 超期未办结。\n请于两个工作日内答复。")
    official.add_table(doc, ["单位", "受理量", "满意率"],
                       [["东城派出所", 12, 0.875], ["西城派出所", 3, None]],
                       col_widths_cm=[6, 3, 3])
    official.add_signature(doc, issuer="测试县公安局", on=date(2026, 11, 23))
    return official.to_bytes(doc)


def reopen(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def east_asia(run) -> str | None:
    fonts = run._element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def paragraph_with(doc, text: str):
    return next(p for p in doc.paragraphs if p.text == text)


def test_official_date_has_no_leading_zeros():
    assert official.official_date(date(2026, 11, 23)) == "2026年11月23日"
    assert official.official_date(date(2026, 1, 5)) == "2026年1月5日"


def test_page_is_a4_with_the_standard_margins():
    section = reopen(sample()).sections[0]
    # Word stores lengths in twentieths of a point: compare to a tenth of a millimetre.
    def mm(length) -> float:
        return round(length.mm, 1)

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert mm(section.top_margin) == 37
    assert mm(section.bottom_margin) == 35
    assert mm(section.left_margin) == 28
    assert mm(section.right_margin) == 26


def test_issuer_mark_is_red_large_xiaobiaosong_and_centred():
    doc = reopen(sample())
    mark = doc.paragraphs[0]
    assert mark.text == "测试县公安局"
    assert mark.alignment == WD_ALIGN_PARAGRAPH.CENTER
    run = mark.runs[0]
    assert run.font.color.rgb == RGBColor(0xFF, 0x00, 0x00)
    assert east_asia(run) == "方正小标宋简体"
    assert run.font.size >= Pt(22)


def test_number_line_red_separator_and_title():
    doc = reopen(sample())
    number = paragraph_with(doc, "督〔2026〕37号")
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert east_asia(number.runs[0]) == "仿宋_GB2312"
    borders = [p._p.pPr.find(qn("w:pBdr")) for p in doc.paragraphs
               if p._p.pPr is not None and p._p.pPr.find(qn("w:pBdr")) is not None]
    assert len(borders) == 1
    assert borders[0].find(qn("w:bottom")).get(qn("w:color")) == "FF0000"
    title = paragraph_with(doc, "关于东城派出所工单超期的督办单")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22)
    assert east_asia(title.runs[0]) == "方正小标宋简体"
    # Header first: mark, number, line, then the title.
    texts = [p.text for p in doc.paragraphs]
    assert texts.index("督〔2026〕37号") < texts.index("关于东城派出所工单超期的督办单")


def test_body_is_fangsong_16pt_indented_two_characters_on_fixed_28pt_lines():
    doc = reopen(sample())
    body = paragraph_with(doc, "东城派出所：工单 2026110001 超期未办结。")
    assert paragraph_with(doc, "请于两个工作日内答复。") is not None
    run = body.runs[0]
    assert east_asia(run) == "仿宋_GB2312"
    assert run.font.size == Pt(16)
    fmt = body.paragraph_format
    assert fmt.first_line_indent == Pt(32)
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert fmt.line_spacing == Pt(28)
    # The document's default font is the body font too, so text typed later in Word matches.
    normal = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_headings_use_heiti_then_kaiti():
    doc = reopen(sample())
    assert east_asia(paragraph_with(doc, "一、基本情况").runs[0]) == "黑体"
    assert east_asia(paragraph_with(doc, "（一）办理情况").runs[0]) == "楷体_GB2312"
    # Kept with the text they head, never alone at the foot of a page.
    assert paragraph_with(doc, "一、基本情况").paragraph_format.keep_with_next is True


def test_table_has_bold_header_borders_and_the_values():
    doc = reopen(sample())
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.style.name == "Table Grid"
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells == [["单位", "受理量", "满意率"], ["东城派出所", "12", "0.9"],
                     ["西城派出所", "3", ""]]
    header = table.rows[0].cells[0].paragraphs[0].runs[0]
    assert header.font.bold is True
    body = table.rows[1].cells[0].paragraphs[0].runs[0]
    assert body.font.bold is False
    assert Pt(10.5) <= body.font.size <= Pt(12)
    assert table.rows[0].cells[0].width.cm == pytest.approx(6, abs=0.01)


def test_signature_is_right_aligned_with_the_official_date():
    doc = reopen(sample())
    texts = [p.text for p in doc.paragraphs]
    assert texts[-2:] == ["测试县公安局", "2026年11月23日"]
    assert doc.paragraphs[-1].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert doc.paragraphs[-2].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_footer_has_a_page_number_field():
    footer = reopen(sample()).sections[0].footer.paragraphs[0]
    instructions = [e.text for e in footer._p.iter(qn("w:instrText"))]
    assert instructions == [" PAGE "]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")


def test_font_table_names_fallbacks_for_the_chinese_fonts():
    package = reopen(sample()).part.package
    table = next(p for p in package.iter_parts() if p.partname.endswith("fontTable.xml"))
    xml = table.blob.decode("utf-8")
    for name in ("方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"):
        assert f'w:name="{name}"' in xml
    assert 'w:charset w:val="86"' in xml


def libreoffice() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


def test_libreoffice_converts_the_document_to_pdf():
    binary = libreoffice()
    if binary is None:
        pytest.skip("没有安装 LibreOffice（libreoffice/soffice 不在 PATH 上）："
                    "跳过 docx→PDF 转换测试")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "督办单.docx"
        source.write_bytes(sample())
        profile = Path(tmp) / "profile"
        # A private profile and HOME: two test processes converting at once would otherwise
        # fight over ~/.config/libreoffice's lock.
        env = {**os.environ, "HOME": tmp}
        completed = subprocess.run(
            [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless",
             "--convert-to", "pdf", "--outdir", tmp, str(source)],
            env=env, capture_output=True, timeout=120, check=False)
        pdf = Path(tmp) / "督办单.pdf"
        assert pdf.exists(), completed.stdout.decode() + completed.stderr.decode()
        assert pdf.read_bytes().startswith(b"%PDF")
        assert pdf.stat().st_size > 1000


def test_addressee_is_flush_left_with_a_colon():
    doc = official.official_document(issuer="测试县公安局", title="提醒函")
    official.add_addressee(doc, "东城派出所")
    doc = reopen(official.to_bytes(doc))
    line = paragraph_with(doc, "东城派出所：")
    assert line.alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert line.paragraph_format.first_line_indent is None
    # No number given: no number line, but the red separator is still there.
    assert [p.text for p in doc.paragraphs if p.text][:2] == ["测试县公安局", "提醒函"]
