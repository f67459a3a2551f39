"""Bulk import of orders: reading, mapping, every row checked, all or nothing, re-import."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.intake.importing import BadInput, import_file, load_mapping_file, plan_import
from minyi.intake.importing.errors_file import REASON_COLUMN
from minyi.intake.importing.values import DateParser
from minyi.intake.models import ImportBatch
from minyi.intake.tests.test_import_support import (
    HEADER,
    read_xlsx,
    row,
    write_csv,
    write_xlsx,
)
from minyi.orders.actions import deadlines_for
from minyi.orders.models import Assignment, Order, OrderType
from minyi.orders.rules import State
from minyi.orgs.tests.factories import AreaFactory, UnitFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def run(path, bureau, **kwargs):
    return import_file(path, preset="standard", bureau=bureau.bureau, **kwargs)


# --- the good path ---------------------------------------------------------------------------


def test_open_closed_and_waiting_orders_keep_their_source_state(bureau, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [
        row(来源编号="A-1"),  # open, held by the station, no deadline in the file
        row(来源编号="A-2", 办理时限="2024-05-07 17:30", 办结时间="2024-05-07 10:00",
            办理状态="已办结", 承办单位=bureau.other_station.name, 所属区域="西城镇"),
        row(来源编号="A-3", 承办单位="", 联系电话=""),  # open, not yet dispatched
    ])
    result = run(path, bureau)
    assert result.summary() == {"created": 3, "existing": 0, "bad": 0}

    held = Order.objects.get(external_id="A-1")
    assert held.state == State.DISPATCHED
    assert held.lead_unit == bureau.station and held.area == bureau.township
    assert held.received_at == held.dispatched_at == at("2024-05-06 09:00")
    due = deadlines_for(OrderType.objects.get(code="noise"), held.dispatched_at)
    assert (held.contact_due_at, held.handling_due_at) == (due.contact_due_at,
                                                           due.handling_due_at)
    assignment = Assignment.objects.get(order=held)
    assert (assignment.unit, assignment.is_lead, assignment.ended_at) == (bureau.station, True,
                                                                          None)
    assert assignment.handling_limit == due.handling_limit  # recomputed if holidays change
    assert held.citizen_phone == "13812345678" and held.citizen_phone_mask == "138****5678"
    assert held.citizen_name == "刘女士" and "刘女士" not in held.citizen_name_enc
    assert held.location_hash and held.created_via == "import"
    assert held.source_data["line"] == 2 and held.source_data["preset"] == "standard"

    closed = Order.objects.get(external_id="A-2")
    assert closed.state == State.CLOSED and closed.lead_unit == bureau.other_station
    assert closed.closed_at == closed.handled_at == at("2024-05-07 10:00")
    assert closed.handling_due_at == at("2024-05-07 17:30") and closed.on_time is True
    assert not Assignment.objects.filter(order=closed).exists()

    waiting = Order.objects.get(external_id="A-3")
    assert waiting.state == State.RECEIVED and waiting.lead_unit is None
    assert waiting.handling_due_at is None and waiting.citizen_phone == ""


def test_every_imported_order_has_its_event_in_the_chain(bureau, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [row(来源编号=f"A-{i}") for i in range(5)])
    before = Event.objects.count()
    result = run(path, bureau)
    events = Event.objects.filter(action="order.import").order_by("id")
    assert result.created == 5 == events.count() == Event.objects.count() - before
    orders = {str(o.pk): o for o in Order.objects.all()}
    for event in events:
        order = orders[event.object_id]
        assert event.object_type == "orders.order" and event.object_repr == str(order)
        assert event.to_state == order.state and event.actor is None
        assert event.payload["external_id"] == order.external_id
        assert event.payload["line"] == order.source_data["line"]
    assert verify_chain().ok


def test_reimporting_the_same_file_creates_nothing(bureau, tmp_path):
    rows = [row(来源编号="A-1"), row(来源编号="", 标题="没有来源编号的工单")]
    path = write_csv(tmp_path / "orders.csv", rows)
    assert run(path, bureau).summary() == {"created": 2, "existing": 0, "bad": 0}
    events = Event.objects.count()
    assert run(path, bureau).summary() == {"created": 0, "existing": 2, "bad": 0}
    assert Order.objects.count() == 2 and Event.objects.count() == events
    # The same rows in an xlsx, in another column order, are still the same orders.
    xlsx = write_xlsx(tmp_path / "orders.xlsx", rows, header=list(reversed(HEADER)))
    assert run(xlsx, bureau).summary() == {"created": 0, "existing": 2, "bad": 0}
    derived = Order.objects.get(title="没有来源编号的工单").external_id
    assert derived.startswith("H-") and len(derived) == 34


def test_a_later_export_of_an_order_without_id_is_recognised(bureau, tmp_path):
    """The derived id leaves out what changes as an order moves on (state, close, unit)."""
    run(write_csv(tmp_path / "a.csv", [row(来源编号="")]), bureau)
    later = write_csv(tmp_path / "b.csv", [row(来源编号="", 办结时间="2024-05-07 10:00",
                                                办理状态="已办结")])
    assert run(later, bureau).summary() == {"created": 0, "existing": 1, "bad": 0}


def test_xlsx_with_real_dates_and_phone_numbers_as_numbers(bureau, tmp_path):
    path = write_xlsx(tmp_path / "orders.xlsx", [
        row(来源编号=1001, 联系电话=13812345678, 接单时间=datetime(2024, 5, 6, 9, 0),
            办结时间=datetime(2024, 5, 6, 15, 0), 办理时限=datetime(2024, 5, 7, 9, 0)),
    ])
    assert run(path, bureau).summary() == {"created": 1, "existing": 0, "bad": 0}
    order = Order.objects.get()
    assert order.external_id == "1001" and order.citizen_phone == "13812345678"
    assert order.received_at == at("2024-05-06 09:00") and order.state == State.CLOSED


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
@pytest.mark.parametrize("compress", [False, True])
def test_csv_encodings_and_gzip(bureau, tmp_path, encoding, compress):
    path = write_csv(tmp_path / "orders.csv", [row(标题="深夜广场舞扰民")],
                     encoding=encoding, compress=compress)
    assert run(path, bureau).summary() == {"created": 1, "existing": 0, "bad": 0}
    assert Order.objects.get().title == "深夜广场舞扰民"


@pytest.mark.parametrize("text, expected", [
    ("2024-05-06 09:00:00", "2024-05-06 09:00"),
    ("2024-05-06T09:00", "2024-05-06 09:00"),
    ("2024/5/6 9:00", "2024-05-06 09:00"),
    ("2024.05.06 09:00", "2024-05-06 09:00"),
    ("2024年5月6日 9:00", "2024-05-06 09:00"),
    ("2024年5月6日 9时30分", "2024-05-06 09:30"),
    ("20240506090000", "2024-05-06 09:00"),
    ("2024-05-06", "2024-05-06 00:00"),
])
def test_common_date_formats_are_read_in_shanghai_time(text, expected):
    assert DateParser(SHANGHAI).parse(text) == at(expected)


def test_a_date_with_its_own_offset_keeps_it():
    moment = DateParser(SHANGHAI).parse("2024-05-06T01:00:00+00:00")
    assert moment == at("2024-05-06 09:00")


# --- bad rows -------------------------------------------------------------------------------


@pytest.fixture
def far_bureau(db):
    """Another bureau, with a station and an area of its own."""
    other = UnitFactory(kind="bureau", name="邻县公安局")
    station = UnitFactory(kind="station", name="邻县派出所", parent=other)
    AreaFactory(kind="township", name="邻县镇", station=station)
    return other


BAD_ROWS = [
    (dict(接单时间="2024-13-45"), "接单时间「2024-13-45」不是可识别的日期时间"),
    (dict(接单时间=""), "缺少接单时间"),
    (dict(标题=""), "缺少标题"),
    (dict(办结时间="2024-05-05 10:00", 办理状态="已办结"), "办结时间早于接单时间"),
    (dict(办理时限="2024-05-01 10:00"), "办理时限早于接单时间"),
    (dict(办结时间="2024-05-07 10:00", 办理状态="办理中"), "状态为办理中，却填写了办结时间"),
    (dict(办理状态="已办结"), "状态为已办结，但没有办结时间"),
    (dict(办结时间="2024-05-07 10:00", 承办单位=""), "已办结的工单须填写承办单位"),
    (dict(接单时间="2099-01-01 08:00"), "接单时间晚于当前时间"),
    (dict(联系电话="12345"), "联系电话「12345」格式不正确"),
    (dict(渠道="微博"), "未知的渠道「微博」"),
    (dict(工单类型="养猫"), "未知的工单类型「养猫」"),
    (dict(诉求类型="表扬"), "未知的诉求类型「表扬」"),
    (dict(承办单位="不存在派出所"), "承办单位「不存在派出所」不是测试县公安局的单位"),
    (dict(承办单位="邻县派出所"), "承办单位「邻县派出所」不是测试县公安局的单位"),
    (dict(承办单位="测试县公安局"), "承办单位「测试县公安局」不是测试县公安局的单位"),
    (dict(所属区域="邻县镇"), "所属区域「邻县镇」不在测试县公安局的辖区内"),
    (dict(来源编号="X" * 65), "来源编号超过64个字符"),
    (dict(办理状态="挂起"), "未知的办理状态「挂起」"),
]


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_kept(bureau, far_bureau,
                                                                      tmp_path):
    rows = [row(来源编号="OK-1")]
    rows += [row(**{"来源编号": f"BAD-{i}", **fields}) for i, (fields, _) in enumerate(BAD_ROWS)]
    rows += [row(来源编号="OK-1")]  # the first row again
    path = write_csv(tmp_path / "orders.csv", rows)
    events = Event.objects.count()

    result = run(path, bureau)

    assert not result.committed
    assert result.summary() == {"created": 0, "existing": 0, "bad": len(BAD_ROWS) + 1}
    assert Order.objects.count() == 0 and Event.objects.count() == events
    reasons = dict(result.errors)
    for line, (_, reason) in enumerate(BAD_ROWS, start=3):
        assert reason in reasons[line], (line, reasons[line])
    duplicate_line = len(BAD_ROWS) + 3
    assert "与第2行重复" in reasons[duplicate_line]
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and batch.created == 0
    assert batch.errors[0] == {"line": 3, "reason": result.errors[0][1]}
    assert "未导入任何工单" in batch.message


def test_one_row_can_have_several_reasons(bureau, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [row(联系电话="1", 渠道="微博", 标题="")])
    [(line, reason)] = run(path, bureau).errors
    assert line == 2
    assert reason.split("；") == ["未知的渠道「微博」", "缺少标题",
                                 "联系电话「1」格式不正确（应为手机号、带区号的固定电话或本地号码）"]


def test_identical_rows_without_an_id_are_one_order(bureau, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [row(来源编号=""), row(来源编号="")])
    [(line, reason)] = run(path, bureau).errors
    assert line == 3 and reason.startswith("与第2行内容相同")


def test_a_name_two_units_share_asks_for_the_code(bureau, tmp_path):
    UnitFactory(kind="team", name="东城派出所", parent=bureau.squad)
    path = write_csv(tmp_path / "orders.csv", [row(), row(来源编号="A-2",
                                                          承办单位=bureau.station.code)])
    result = run(path, bureau)
    assert result.errors == [
        (2, "单位名称「东城派出所」对应测试县公安局的多个单位，请改用单位代码")]


def test_skip_bad_keeps_the_good_rows_and_writes_the_bad_ones_to_a_workbook(bureau, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [
        row(来源编号="A-1"), row(来源编号="A-2", 联系电话="12345"), row(来源编号="A-3"),
        row(来源编号="A-4", 接单时间="昨天"),
    ])
    errors = tmp_path / "out" / "bad.xlsx"
    result = run(path, bureau, skip_bad=True, errors_path=errors)
    assert result.committed
    assert result.summary() == {"created": 2, "existing": 0, "bad": 2}
    assert set(Order.objects.values_list("external_id", flat=True)) == {"A-1", "A-3"}
    sheet = read_xlsx(errors)
    assert sheet[0] == [*HEADER, "原行号", REASON_COLUMN]
    assert [r[0] for r in sheet[1:]] == ["A-2", "A-4"]
    assert sheet[1][HEADER.index("联系电话")] == "12345" and sheet[1][-2] == 3
    assert sheet[2][-1].startswith("接单时间「昨天」不是可识别的日期时间")
    # Corrected and imported again, the bad rows go in and the good ones are recognised.
    fixed = write_csv(tmp_path / "fixed.csv", [row(来源编号="A-2"), row(来源编号="A-4")])
    assert run(fixed, bureau, skip_bad=True).summary() == {"created": 2, "existing": 0,
                                                          "bad": 0}


def test_a_close_a_little_before_the_receipt_is_a_clock_difference_when_allowed(bureau,
                                                                               tmp_path):
    mapping = {"columns": {"external_id": "来源编号", "channel": "渠道", "order_type": "工单类型",
                           "demand_kind": "诉求类型", "title": "标题", "received_at": "接单时间",
                           "closed_at": "办结时间", "lead_unit": "承办单位"},
               "close_skew_seconds": 60}
    path = write_csv(tmp_path / "orders.csv", [
        row(来源编号="A-1", 接单时间="2024-05-06 09:00:30", 办结时间="2024-05-06 09:00:00"),
        row(来源编号="A-2", 接单时间="2024-05-06 09:02:00", 办结时间="2024-05-06 09:00:00"),
    ])
    result = import_file(path, mapping=mapping, bureau=bureau.bureau, skip_bad=True)
    assert result.errors == [(3, "办结时间早于接单时间")]
    order = Order.objects.get()
    assert order.closed_at == order.handled_at == order.received_at


# --- mappings and bad input ----------------------------------------------------------------


def test_a_yaml_mapping_with_defaults_and_value_translation(bureau, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n"
        "  external_id: 编号\n"
        "  title: [摘要, 内容]\n"
        "  content: 内容\n"
        "  received_at: 时间\n"
        "  lead_unit: 单位\n"
        "  state: 状态\n"
        "  closed_at: 完成\n"
        "defaults:\n"
        "  channel: '12345'\n"
        "  order_type: consult\n"
        "  demand_kind: consultation\n"
        "values:\n"
        "  state: {完结: closed, 未完结: open}\n"
        "date_formats: ['%d.%m.%Y %H:%M']\n", encoding="utf-8")
    header = ["编号", "摘要", "内容", "时间", "单位", "状态", "完成"]
    path = write_csv(tmp_path / "o.csv", [
        {"编号": "N1", "摘要": "", "内容": "如何办理居住证", "时间": "06.05.2024 09:00",
         "单位": bureau.station.name, "状态": "完结", "完成": "06.05.2024 11:00"},
    ], header=header)
    result = import_file(path, mapping=load_mapping_file(mapping), bureau=bureau.bureau)
    assert result.summary() == {"created": 1, "existing": 0, "bad": 0}
    order = Order.objects.get()
    assert order.title == order.content == "如何办理居住证"
    assert order.order_type.code == "consult" and order.demand_kind == "consultation"
    assert order.state == State.CLOSED and order.closed_at == at("2024-05-06 11:00")


def test_a_json_mapping(bureau, tmp_path):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"columns": {"title": "标题", "received_at": "接单时间"},
                                   "defaults": {"channel": "110", "order_type": "help",
                                                "demand_kind": "求助"}}), encoding="utf-8")
    path = write_csv(tmp_path / "o.csv", [row()])
    result = import_file(path, mapping=load_mapping_file(mapping), bureau=bureau.bureau)
    assert result.created == 1 and Order.objects.get().channel.code == "110"


@pytest.mark.parametrize("spec, message", [
    ({"columns": {"titel": "标题"}}, "没有字段「titel」"),
    ({"columns": {"title": "题目", "received_at": "接单时间"},
      "defaults": {"channel": "12345", "order_type": "noise", "demand_kind": "投诉"}},
     "「标题」的列「题目」在文件表头中找不到"),
    ({"columns": {"title": "标题"}}, "缺少「接单时间」"),
    ({"columns": {"title": "标题", "received_at": "接单时间"}}, "缺少「渠道」"),
    ({"columns": {}, "timezone": "Mars/Olympus"}, "不认识的时区"),
    ({"colums": {}}, "不认识的设置「colums」"),
    ({"columns": {"title": "标题"}, "defaults": {"title": "x"}}, "字段「title」不能设默认值"),
])
def test_a_bad_mapping_is_refused_before_any_row(bureau, tmp_path, spec, message):
    path = write_csv(tmp_path / "o.csv", [row()])
    with pytest.raises(BadInput, match=message):
        plan_import(path, mapping=spec, bureau=bureau.bureau)


@pytest.mark.parametrize("content, message", [
    (b"", "文件是空的"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "不支持旧版 .xls"),
    (b"PK\x03\x04broken", "xlsx 文件无法打开"),
    (b"\x1f\x8bnot really gzip", "文件无法读取"),
    ("标题,标题\n".encode(), "两列都叫「标题」"),
    (b"\xff\xfe\x00t\x00i\x00t\x00l\x00e", "二进制"),
])
def test_an_unreadable_file_is_refused(bureau, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(BadInput, match=message):
        plan_import(path, preset="standard", bureau=bureau.bureau)


def test_unknown_preset_and_missing_file(bureau, tmp_path):
    with pytest.raises(BadInput, match="没有名为「boston」的预设格式"):
        plan_import(tmp_path / "x.csv", preset="boston")
    with pytest.raises(BadInput, match="找不到文件"):
        plan_import(tmp_path / "x.csv", preset="standard")


def test_the_only_bureau_is_the_default_and_several_need_a_code(bureau, tmp_path):
    path = write_csv(tmp_path / "o.csv", [row()])
    assert plan_import(path, preset="standard").bureau == bureau.bureau
    UnitFactory(kind="bureau", name="邻县公安局")
    with pytest.raises(BadInput, match="有多个公安局"):
        plan_import(path, preset="standard")
    with pytest.raises(BadInput, match="不是公安局或分局"):
        plan_import(path, preset="standard", bureau=bureau.station.code)


def test_progress_is_reported_in_chunks(bureau, tmp_path):
    from minyi.intake.importing import import_rows

    path = write_csv(tmp_path / "o.csv", [row(来源编号=f"A-{i}") for i in range(7)])
    seen: list[int] = []
    plan = plan_import(path, preset="standard", bureau=bureau.bureau)
    result = import_rows(plan, progress=seen.append, chunk_rows=3)
    assert result.created == 7 and seen == [3, 6, 7]


def test_the_batch_records_counts_and_timing(bureau, tmp_path):
    path = write_csv(tmp_path / "o.csv", [row(来源编号="A-1"), row(来源编号="A-2")])
    run(path, bureau)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_total, batch.rows_done, batch.created) == ("done", 2, 2, 2)
    assert batch.file_sha256 and batch.preset == "standard" and batch.bureau == bureau.bureau
    assert batch.finished_at >= batch.started_at
    assert batch.mapping["columns"]["title"][0] == "标题"


def test_deadlines_of_an_open_order_come_from_the_file_when_it_has_them(bureau, tmp_path):
    path = write_csv(tmp_path / "o.csv", [row(办理时限="2024-05-08 12:00")])
    run(path, bureau)
    order = Order.objects.get()
    assert order.handling_due_at == at("2024-05-08 12:00")
    # No working-time limit is kept: a holiday change must not move the source's deadline.
    assert Assignment.objects.get(order=order).handling_limit is None
    assert order.contact_due_at == order.dispatched_at + timedelta(hours=1)


def test_an_order_written_meanwhile_by_someone_else_rolls_the_import_back(bureau, tmp_path,
                                                                          monkeypatch):
    from minyi.intake.importing import run as run_module

    path = write_csv(tmp_path / "o.csv", [row(来源编号="A-1")])
    run(path, bureau)
    more = write_csv(tmp_path / "more.csv", [row(来源编号="A-2"), row(来源编号="A-1")])
    # As if A-1 had been written by another import between the look-up and the insert.
    monkeypatch.setattr(run_module, "_not_existing", lambda rows: list(rows))
    with pytest.raises(BadInput, match="被另一次导入或接口同时写入"):
        run(more, bureau)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A-1"]
    assert ImportBatch.objects.order_by("-id").first().status == "failed"
