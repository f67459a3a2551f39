"""Reading import files: xlsx, csv (utf-8, utf-8 with BOM, GBK), each possibly gzip-compressed.

A file is opened once to check it and read its header (`open_source`), then streamed row by
row. Rows are numbered as a spreadsheet numbers them: the header is row 1, so the number a
user reads in an error message is the one Excel or WPS shows beside the row.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from minyi.intake.importing.errors import BadInput

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
# Enough of the file to judge its encoding: a GBK file shows itself in its header row.
ENCODING_SAMPLE = 1 << 20
DELIMITERS = (",", "\t", ";", "|")

# Cells of real exports run long (a complaint's whole text); csv's default limit of 128 KiB
# would turn such a row into an error about the file rather than about the row.
csv.field_size_limit(min(sys.maxsize, 1 << 30))


@dataclass
class SourceFile:
    """An import file that could be opened, with its header."""

    path: Path
    kind: str  # "csv" or "xlsx"
    compressed: bool = False
    encoding: str = ""
    delimiter: str = ","
    sheet: str | None = None
    header: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        parts = [self.kind]
        if self.kind == "csv":
            parts.append({"utf-8-sig": "UTF-8（带BOM）", "utf-8": "UTF-8",
                          "gb18030": "GBK"}.get(self.encoding, self.encoding))
        if self.compressed:
            parts.append("gzip 压缩")
        return "，".join(parts)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cell values) for every non-blank row after the header."""
        if self.kind == "csv":
            yield from self._csv_rows()
        else:
            yield from self._xlsx_rows()

    def count_rows(self) -> int:
        """How many rows the progress bar counts to (blank ones included: cheap to count)."""
        if self.kind == "xlsx":
            with _workbook(self.path, self.compressed) as workbook:
                sheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
                if sheet.max_row:
                    return max(0, sheet.max_row - 1)
                return sum(1 for _ in sheet.iter_rows(values_only=True)) - 1
        with self._text() as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            next(reader, None)
            count = 0
            try:
                for _ in reader:
                    count += 1
            except UnicodeDecodeError:
                raise _encoding_error(count + 2) from None
            except csv.Error as exc:
                raise BadInput(f"第{count + 2}行附近 CSV 格式有误：{exc}") from None
            return count

    def _text(self) -> IO[str]:
        raw: IO[bytes] = (gzip.open(self.path, "rb") if self.compressed
                          else open(self.path, "rb"))
        return io.TextIOWrapper(raw, encoding=self.encoding, newline="", errors="strict")

    def _csv_rows(self) -> Iterator[tuple[int, list[Any]]]:
        with self._text() as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            next(reader, None)
            line = 1
            try:
                for values in reader:
                    line += 1
                    if values and any(values):
                        yield line, values
            except UnicodeDecodeError:
                raise _encoding_error(line + 1) from None
            except csv.Error as exc:
                raise BadInput(f"第{line + 1}行附近 CSV 格式有误：{exc}") from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[Any]]]:
        with _workbook(self.path, self.compressed) as workbook:
            sheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            next(rows, None)
            for line, values in enumerate(rows, start=2):
                if any(v not in (None, "") for v in values):
                    yield line, list(values)


def _encoding_error(line: int) -> BadInput:
    # The encoding was judged on the first megabyte; this part of the file is in another one.
    return BadInput(f"第{line}行附近的文字编码无法识别（与文件开头的编码不同），"
                    "请整个文件另存为 UTF-8 或 GBK 编码的 CSV")


def _describe(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


@contextmanager
def _workbook(path: Path, compressed: bool) -> Iterator[Any]:
    from openpyxl import load_workbook

    # A file object, not the path: openpyxl judges a path by its extension, and an upload
    # may be called anything.
    if compressed:
        # openpyxl needs to seek; a gzipped workbook is small enough to hold in memory.
        with gzip.open(path, "rb") as packed:
            handle: IO[bytes] = io.BytesIO(packed.read())
    else:
        handle = open(path, "rb")  # closed below, after the workbook
    try:
        # read_only streams the sheet instead of building every cell; data_only takes the
        # values formulas last computed, which is what the user saw.
        workbook = load_workbook(handle, read_only=True, data_only=True)
        try:
            yield workbook
        finally:
            workbook.close()
    finally:
        handle.close()


def _head(path: Path, compressed: bool, size: int) -> bytes:
    opener = gzip.open if compressed else open
    with opener(path, "rb") as handle:
        return handle.read(size)


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig, utf-8 or gb18030 (a superset of GBK and GB2312, which Excel in China writes).

    Raises BadInput when the sample is none of them.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # final=False: a sample cut in the middle of a character is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise BadInput("文件的文字编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV") from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_source(path: str | Path, sheet: str | None = None) -> SourceFile:
    """Check that `path` is a readable csv/xlsx (gz too) and read its header.

    Raises BadInput, with the reason in Chinese, for a file that cannot be imported.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"找不到文件：{path}")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
        compressed = magic.startswith(GZIP_MAGIC)
        if compressed:
            magic = _head(path, True, 4)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInput(f"文件无法读取：{_describe(exc)}") from None
    if magic.startswith(OLE_MAGIC):
        raise BadInput("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    if magic.startswith(ZIP_MAGIC):
        source = SourceFile(path=path, kind="xlsx", compressed=compressed, sheet=sheet)
        source.header = _xlsx_header(source)
    else:
        source = SourceFile(path=path, kind="csv", compressed=compressed)
        try:
            sample = _head(path, compressed, ENCODING_SAMPLE)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise BadInput(f"文件无法读取：{_describe(exc)}") from None
        if b"\x00" in sample[:4096]:
            raise BadInput("文件不是 CSV 或 xlsx 表格（含有二进制内容）")
        source.encoding = detect_encoding(sample)
        try:
            with source._text() as text:
                first = text.readline()
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise BadInput(f"文件无法读取：{_describe(exc)}") from None
        source.delimiter = _delimiter(first)
        source.header = next(csv.reader([first], delimiter=source.delimiter), [])
    source.header = [str(name or "").strip() for name in source.header]
    while source.header and not source.header[-1]:
        source.header.pop()
    if not any(source.header):
        raise BadInput("文件是空的，或第一行没有表头")
    seen: set[str] = set()
    for name in source.header:
        if name and name in seen:
            raise BadInput(f"表头中有两列都叫「{name}」，请改名后再导入")
        seen.add(name)
    return source


def _xlsx_header(source: SourceFile) -> list[str]:
    try:
        with _workbook(source.path, source.compressed) as workbook:
            if source.sheet:
                if source.sheet not in workbook.sheetnames:
                    names = "、".join(workbook.sheetnames)
                    raise BadInput(f"工作簿中没有名为「{source.sheet}」的工作表（有：{names}）")
                sheet = workbook[source.sheet]
            else:
                sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True, max_row=1):
                return list(values)
            return []
    except BadInput:
        raise
    except Exception as exc:  # zip, XML and openpyxl's own errors all mean "not a workbook"
        raise BadInput(f"xlsx 文件无法打开：{_describe(exc)}") from None
