"""Official-document layout (公文格式) for Word files, after GB/T 9704-2012.

The formatter knows nothing about orders or bulletins: a generator builds the text and calls

    doc = official_document(issuer="某某县公安局", number="督〔2026〕37号", title="督办单")
    add_heading(doc, "一、基本情况")            # the caller writes the 一、/（一） numbering
    add_body(doc, "……")
    add_table(doc, ["单位", "件数"], [["城关派出所", 12]])
    add_signature(doc, issuer="某某县公安局", on=date(2026, 11, 23))
    data = to_bytes(doc)

Fonts: the Chinese names the standard prescribes go in the w:eastAsia attribute (the one Word
and LibreOffice use for Chinese characters); Latin letters and digits get Times New Roman. A
machine without the prescribed fonts substitutes by the entries added to the font table
(alternative name and the GB2312 character set), so the document still shows Chinese text in
a Chinese font instead of boxes.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import docx
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

# Font names as GB/T 9704-2012 gives them, with what to fall back to where they are missing.
XIAOBIAOSONG = "方正小标宋简体"
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"
FALLBACKS = {
    XIAOBIAOSONG: ("宋体", "roman"),
    FANGSONG: ("仿宋", "modern"),
    HEITI: ("SimHei", "modern"),
    KAITI: ("楷体", "modern"),
    SONGTI: ("SimSun", "auto"),
}

RED = RGBColor(0xFF, 0x00, 0x00)
RED_HEX = "FF0000"

# Sizes in points: 2号 = 22, 3号 = 16, 4号 = 14, 小4 = 12, 5号 = 10.5.
ISSUER_SIZE = 30
TITLE_SIZE = 22
BODY_SIZE = 16
PAGE_NUMBER_SIZE = 14
TABLE_SIZE = 12
LINE = Pt(28)  # fixed line spacing: 22 lines of 28 characters on a page


def official_date(on: date) -> str:
    """A date as official documents write it: 2026年11月23日 (no leading zeros)."""
    return f"{on.year}年{on.month}月{on.day}日"


def set_run_font(run: Run, name: str, size: float | None = None, *, bold: bool | None = None,
                 color: RGBColor | None = None) -> Run:
    """Chinese font in w:eastAsia, Latin font for letters and digits."""
    run.font.name = LATIN
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:hint"), "eastAsia")
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def _fixed_lines(paragraph: Paragraph, line: Pt = LINE) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = line
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _indent_two_chars(paragraph: Paragraph, size: float = BODY_SIZE) -> None:
    # Both forms: firstLineChars follows the font size in Word, firstLine is what LibreOffice
    # and python-docx read.
    paragraph.paragraph_format.first_line_indent = Pt(2 * size)
    ind = paragraph._p.get_or_add_pPr().find(qn("w:ind"))
    if ind is not None:
        ind.set(qn("w:firstLineChars"), "200")


def _paragraph(doc: Document, text: str, font: str, size: float, *,
               align: WD_ALIGN_PARAGRAPH | None = None, bold: bool | None = None,
               color: RGBColor | None = None, line: Pt = LINE) -> Paragraph:
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    _fixed_lines(paragraph, line)
    if text:
        set_run_font(paragraph.add_run(text), font, size, bold=bold, color=color)
    return paragraph


def _add_font_fallbacks(doc: Document) -> None:
    table = None
    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            table = rel.target_part
    if table is None:
        return
    from lxml import etree

    root = etree.fromstring(table.blob)
    known = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, (alt, family) in FALLBACKS.items():
        if name in known:
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", alt), ("w:charset", "86"), ("w:family", family),
                           ("w:pitch", "variable")):
            etree.SubElement(font, qn(tag)).set(qn("w:val"), value)
    table._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _set_style_fonts(doc: Document) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(BODY_SIZE)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    fonts.set(qn("w:eastAsia"), FANGSONG)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    fmt = normal.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _page_number_footer(section: Any) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_run_font(paragraph.add_run("— "), SONGTI, PAGE_NUMBER_SIZE)
    run = set_run_font(paragraph.add_run(), SONGTI, PAGE_NUMBER_SIZE)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                       ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == "1":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)
    set_run_font(paragraph.add_run(" —"), SONGTI, PAGE_NUMBER_SIZE)


def _red_line(doc: Document) -> Paragraph:
    """The red separator (版头中的分隔线) under the number: a paragraph's bottom border."""
    paragraph = doc.add_paragraph()
    _fixed_lines(paragraph, Pt(8))
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"),
                       ("w:color", RED_HEX)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr = paragraph._p.get_or_add_pPr()
    # w:pBdr must come before spacing/indentation/alignment in w:pPr.
    anchor = next((child for child in ppr if child.tag in {
        qn("w:spacing"), qn("w:ind"), qn("w:jc")}), None)
    if anchor is not None:
        anchor.addprevious(borders)
    else:
        ppr.append(borders)
    return paragraph


def official_document(*, issuer: str, number: str = "", title: str) -> Document:
    """A new document with the header of an official document: issuer mark in red, number,
    red separator line, title. Add the body with add_heading/add_body/add_table."""
    doc = docx.Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Cm(1.5), Cm(2.0)
    _set_style_fonts(doc)
    _add_font_fallbacks(doc)
    doc.core_properties.title = title
    doc.core_properties.author = issuer
    doc.core_properties.language = "zh-CN"

    _paragraph(doc, issuer, XIAOBIAOSONG, ISSUER_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
               color=RED, line=Pt(ISSUER_SIZE + 14))
    _paragraph(doc, "", FANGSONG, BODY_SIZE)
    _paragraph(doc, number, FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    _red_line(doc)
    _paragraph(doc, "", FANGSONG, BODY_SIZE)
    _paragraph(doc, title, XIAOBIAOSONG, TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
               line=Pt(35))
    _paragraph(doc, "", FANGSONG, BODY_SIZE)
    _page_number_footer(section)
    return doc


def add_heading(doc: Document, text: str, level: int = 1) -> Paragraph:
    """A heading inside the body; the caller writes its number (一、 / （一） / 1.).
    Level 1 in 黑体, level 2 in 楷体, level 3 in bold 仿宋, all 3号 with the body's indent."""
    font, bold = {1: (HEITI, False), 2: (KAITI, False)}.get(level, (FANGSONG, True))
    paragraph = _paragraph(doc, text, font, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                           bold=bold)
    _indent_two_chars(paragraph)
    # A heading never ends a page: it goes over with the text it heads.
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def add_body(doc: Document, text: str) -> list[Paragraph]:
    """Body text in 仿宋 3号, first line indented two characters, fixed 28 pt lines; each line
    of `text` is a paragraph."""
    paragraphs = []
    for line in (text or "").splitlines() or [""]:
        paragraph = _paragraph(doc, line.strip(), FANGSONG, BODY_SIZE,
                               align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        _indent_two_chars(paragraph)
        paragraphs.append(paragraph)
    return paragraphs


def add_addressee(doc: Document, text: str) -> Paragraph:
    """The addressee line (主送机关): flush left, ending with a full-width colon."""
    text = text if text.endswith("：") else f"{text}："
    return _paragraph(doc, text, FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.LEFT)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if value != int(value) else f"{int(value)}"
    if isinstance(value, date):
        return official_date(value)
    return str(value)


def add_table(doc: Document, headers: list[str], rows: list[list[object]],
              col_widths_cm: list[float] | None = None, *, size: float = TABLE_SIZE) -> Any:
    """A simple table with borders: bold header row (repeated on each page), cells in 仿宋."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_row = table.rows[0]
    trpr = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    trpr.append(repeat)

    def fill(cell: Any, text: str, bold: bool) -> None:
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _fixed_lines(paragraph, Pt(size + 8))
        set_run_font(paragraph.add_run(text), HEITI if bold else FANGSONG, size, bold=bold)

    for cell, text in zip(header_row.cells, headers, strict=True):
        fill(cell, str(text), True)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            fill(cell, _cell_text(value), False)
    if col_widths_cm:
        table.autofit = False
        for row in table.rows:
            for cell, width in zip(row.cells, col_widths_cm, strict=False):
                cell.width = Cm(width)
    # A table followed directly by another block sticks to it; an empty line keeps them apart.
    _paragraph(doc, "", FANGSONG, BODY_SIZE)
    return table


def add_signature(doc: Document, *, issuer: str, on: date) -> list[Paragraph]:
    """The issuer and date at the bottom right (date four characters from the right edge,
    the issuer centred over it)."""
    _paragraph(doc, "", FANGSONG, BODY_SIZE)
    _paragraph(doc, "", FANGSONG, BODY_SIZE)
    written = official_date(on)
    right = Pt(4 * BODY_SIZE)
    # Centre the issuer over the date: pad on the right by half the difference in length.
    pad = Pt(4 * BODY_SIZE + max(0, len(written) - len(issuer)) * BODY_SIZE / 2)
    name = _paragraph(doc, issuer, FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.RIGHT)
    name.paragraph_format.right_indent = pad
    when = _paragraph(doc, written, FANGSONG, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.RIGHT)
    when.paragraph_format.right_indent = right
    return [name, when]


def to_bytes(doc: Document) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


DOCX_CONTENT_TYPE = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
