"""`minyi orders import FILE [--preset | --mapping] [--bureau] [--skip-bad --errors]`."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command

from minyi.intake.models import ImportBatch
from minyi.intake.tests.test_import_support import read_xlsx, row, write_csv
from minyi.orders.models import Order

pytestmark = pytest.mark.django_db


def orders(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("orders", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def test_prints_exactly_one_json_line(bureau, tmp_path):
    path = write_csv(tmp_path / "o.csv", [row(来源编号="A-1"), row(来源编号="A-2")])
    status, out, err = orders("import", str(path), "--preset", "standard")
    assert status == 0 and err == ""
    assert out.splitlines() == ['{"created": 2, "existing": 0, "bad": 0}']
    status, out, _ = orders("import", str(path), "--preset", "standard",
                            "--bureau", bureau.bureau.code)
    assert json.loads(out) == {"created": 0, "existing": 2, "bad": 0}


def test_bad_rows_stop_the_import_and_are_listed_on_stderr(bureau, tmp_path):
    path = write_csv(tmp_path / "o.csv", [row(来源编号="A-1"), row(来源编号="A-2", 联系电话="1")])
    status, out, err = orders("import", str(path), "--preset", "standard")
    assert status == 1
    assert json.loads(out) == {"created": 0, "existing": 0, "bad": 1}
    assert err.strip() == "第3行：联系电话「1」格式不正确（应为手机号、带区号的固定电话或本地号码）"
    assert Order.objects.count() == 0


def test_skip_bad_with_an_errors_workbook(bureau, tmp_path):
    path = write_csv(tmp_path / "o.csv", [row(来源编号="A-1"), row(来源编号="A-2", 联系电话="1")])
    errors = tmp_path / "bad.xlsx"
    status, out, _ = orders("import", str(path), "--preset", "standard", "--skip-bad",
                            "--errors", str(errors))
    assert status == 0 and json.loads(out) == {"created": 1, "existing": 0, "bad": 1}
    assert read_xlsx(errors)[1][0] == "A-2"


def test_a_mapping_file(bureau, tmp_path):
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns: {title: 标题, received_at: 接单时间, external_id: 来源编号}\n"
                       "defaults: {channel: '110', order_type: help, demand_kind: 求助}\n",
                       encoding="utf-8")
    path = write_csv(tmp_path / "o.csv", [row()])
    status, out, _ = orders("import", str(path), "--mapping", str(mapping))
    assert status == 0 and json.loads(out)["created"] == 1


@pytest.mark.parametrize("make_args, message", [
    (lambda p, t: [str(t / "missing.csv"), "--preset", "standard"], "找不到文件"),
    (lambda p, t: [str(p), "--preset", "nope"], "没有名为「nope」的预设格式"),
    (lambda p, t: [str(p), "--mapping", str(t / "none.yaml")], "列对应文件无法读取"),
    (lambda p, t: [str(p), "--mapping", str(t / "bad.yaml")], "不是有效的 YAML"),
    (lambda p, t: [str(p), "--mapping", str(t / "wrong.yaml")], "没有字段「tilte」"),
    (lambda p, t: [str(p)], "请用 --preset 指定预设格式"),
    (lambda p, t: [str(p), "--preset", "standard", "--bureau", "NOPE"], "没有代码为「NOPE」"),
    (lambda p, t: [str(t / "x.xls"), "--preset", "standard"], "不支持旧版 .xls"),
])
def test_bad_input_is_one_chinese_line_exit_2_and_nothing_written(bureau, tmp_path, make_args,
                                                                   message):
    path = write_csv(tmp_path / "o.csv", [row()])
    (tmp_path / "bad.yaml").write_text("columns: [unclosed\n", encoding="utf-8")
    (tmp_path / "wrong.yaml").write_text("columns: {tilte: 标题}\n", encoding="utf-8")
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 64)
    status, out, err = orders("import", *make_args(path, tmp_path))
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not ImportBatch.objects.exists() and not Order.objects.exists()


def test_an_encoding_error_deep_in_the_file_rolls_everything_back(bureau, tmp_path):
    """The encoding is judged on the first megabyte; a bad byte after it stops the import."""
    path = write_csv(tmp_path / "o.csv", [row(来源编号=f"A-{i}", 诉求内容="x" * 200)
                                          for i in range(5000)])
    with open(path, "ab") as handle:
        handle.write("A-x,12345,噪音扰民,投诉,".encode() + b"\xff\xfe bad\n")
    status, out, err = orders("import", str(path), "--preset", "standard")
    assert status == 2 and out == ""
    # "Near": the text is decoded in blocks of a few kilobytes, ahead of the rows.
    assert re.fullmatch(r"第(\d+)行附近的文字编码无法识别（与文件开头的编码不同），"
                        r"请整个文件另存为 UTF-8 或 GBK 编码的 CSV\n", err)
    assert 4900 < int(re.match(r"第(\d+)行", err)[1]) <= 5002
    assert not Order.objects.exists()
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and batch.message.startswith("未导入：")
