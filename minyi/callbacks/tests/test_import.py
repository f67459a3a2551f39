"""Import of 110 calls, cases and window services as callback contacts: presets, every bad row,
all or nothing, skip-bad, duplicates in a file and across imports, GBK, the errors workbook."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from minyi.callbacks.importing import import_contacts, plan_contact_import, source_of
from minyi.callbacks.models import Contact, Source
from minyi.core import crypto
from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.intake.importing import BadInput
from minyi.intake.importing.errors_file import REASON_COLUMN
from minyi.intake.models import ImportBatch
from minyi.intake.tests.test_import_support import read_xlsx, write_csv, write_xlsx
from minyi.orgs.tests.factories import UnitFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db

CALL_HEADER = ["接警单编号", "报警时间", "报警人", "报警人电话", "处警单位", "警情类别", "报警内容"]
CASE_HEADER = ["案件编号", "受案时间", "当事人", "当事人电话", "办案单位", "案件类别", "案件名称"]
WINDOW_HEADER = ["业务流水号", "办理时间", "办事人", "办事人电话", "办理窗口", "业务类型"]


def call(**fields: Any) -> dict[str, Any]:
    values = {"接警单编号": "J2024050600001", "报警时间": "2024-05-06 21:15:00",
              "报警人": "刘某某", "报警人电话": "13812345678", "处警单位": "东城派出所",
              "警情类别": "纠纷求助", "报警内容": "邻居深夜吵闹"}
    values.update(fields)
    return values


def case(**fields: Any) -> dict[str, Any]:
    values = {"案件编号": "A3301002024050001", "受案时间": "2024/5/7 10:30",
              "当事人": "王某", "当事人电话": "0571-88776655", "办案单位": "西城派出所",
              "案件类别": "盗窃案", "案件名称": "电动车被盗案"}
    values.update(fields)
    return values


def window(**fields: Any) -> dict[str, Any]:
    values = {"业务流水号": "HZ20240508000123", "办理时间": "2024年5月8日 9:05",
              "办事人": "赵某", "办事人电话": "+86 139 0000 1111", "办理窗口": "东城派出所",
              "业务类型": "户籍迁入"}
    values.update(fields)
    return values


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# --- each preset with good rows --------------------------------------------------------------


def test_110_calls_become_contacts_with_their_own_type_unit_time_and_encrypted_phone(
        bureau, tmp_path):
    path = write_xlsx(tmp_path / "110.xlsx", [
        call(),
        call(接警单编号="J2024050600002", 报警人电话=13900001111.0,
             处警单位=bureau.other_station.code, 报警时间=datetime(2024, 5, 6, 23, 0),
             警情类别="交通事故"),
    ], header=CALL_HEADER)
    batch, result = import_contacts(path, preset="call_110", bureau=bureau.bureau)
    assert result.summary() == {"created": 2, "existing": 0, "bad": 0}

    first = Contact.objects.get(external_id="J2024050600001")
    assert (first.bureau, first.unit, first.source, first.record_type) == (
        bureau.bureau, bureau.station, Source.CALL_110, "纠纷求助")
    assert first.occurred_at == at("2024-05-06 21:15")
    assert first.summary == "邻居深夜吵闹" and first.import_batch == batch
    assert first.phone == "13812345678" and first.phone_mask == "138****5678"
    assert "13812345678" not in first.phone_enc
    assert first.phone_hash == crypto.keyed_hash("phone", "13812345678")
    assert first.person_name == "刘某某" and first.person_name_mask == "刘**"
    # A unit by its code; an Excel number loses its ".0"; an xlsx date is a Shanghai time.
    second = Contact.objects.get(external_id="J2024050600002")
    assert (second.unit, second.record_type, second.phone) == (
        bureau.other_station, "交通事故", "13900001111")
    assert second.occurred_at == at("2024-05-06 23:00")
    assert (batch.kind, batch.status, batch.preset, batch.created) == (
        "contact", "done", "call_110", 2)


def test_case_parties_keep_a_landline(bureau, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [case()], header=CASE_HEADER)
    _, result = import_contacts(path, preset="case", bureau=bureau.bureau)
    assert result.created == 1
    contact = Contact.objects.get()
    assert (contact.source, contact.unit, contact.record_type, contact.external_id) == (
        Source.CASE, bureau.other_station, "盗窃案", "A3301002024050001")
    assert contact.occurred_at == at("2024-05-07 10:30")
    assert contact.phone == "057188776655" and contact.summary == "电动车被盗案"


def test_window_services_by_short_name_and_a_written_chinese_date(bureau, tmp_path):
    bureau.station.short_name = "东城所"
    bureau.station.save()
    path = write_csv(tmp_path / "window.csv", [window(办理窗口="东城所")], header=WINDOW_HEADER)
    _, result = import_contacts(path, preset="window", bureau=bureau.bureau)
    assert result.created == 1
    contact = Contact.objects.get()
    assert (contact.source, contact.unit, contact.record_type) == (
        Source.WINDOW, bureau.station, "户籍迁入")
    assert contact.occurred_at == at("2024-05-08 09:05")
    assert contact.phone == "13900001111"  # +86 and spaces gone


def test_each_contact_has_its_import_event_in_the_chain(bureau, tmp_path, opinion_officer):
    path = write_csv(tmp_path / "110.csv", [call(), call(接警单编号="J2")], header=CALL_HEADER)
    batch, _ = import_contacts(path, preset="call_110", bureau=bureau.bureau,
                               actor=opinion_officer)
    events = Event.objects.filter(action="contact.import").order_by("id")
    assert events.count() == 2
    contact = Contact.objects.get(external_id="J2")
    event = events.get(object_id=str(contact.pk))
    assert event.object_type == "callbacks.contact" and event.actor == opinion_officer
    assert event.payload == {"batch": batch.pk, "line": 3, "source": "call_110",
                             "external_id": "J2", "unit": bureau.station.code,
                             "via": "call_110"}
    assert verify_chain().ok


def test_the_import_event_has_a_chinese_label():
    from minyi.callbacks.importing import register
    from minyi.core.audit import action_label

    register()
    assert action_label("contact.import") == "导入回访对象"


# --- bad rows --------------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_kept(bureau, tmp_path):
    other = UnitFactory(kind="bureau", name="邻县公安局")
    UnitFactory(kind="station", name="邻县城关派出所", parent=other)
    path = write_csv(tmp_path / "110.csv", [
        call(接警单编号="J1"),
        call(接警单编号="J2", 报警人电话="12345"),
        call(接警单编号="J3", 处警单位="南城派出所"),
        call(接警单编号="J4", 报警时间="昨天晚上"),
        call(接警单编号="J5", 报警时间=""),
        call(接警单编号="J6", 报警人电话=""),
        call(接警单编号="J7", 处警单位="邻县城关派出所", 报警时间="2099-01-01 08:00"),
    ], header=CALL_HEADER)
    batch, result = import_contacts(path, preset="call_110", bureau=bureau.bureau)
    assert not result.committed and result.created == 0 and result.bad == 6
    assert dict(result.errors) == {
        3: "联系电话「12345」格式不正确（应为手机号、带区号的固定电话或本地号码）",
        4: "办理单位「南城派出所」不是测试县公安局的单位",
        5: "办理时间「昨天晚上」不是可识别的日期时间（如 2024-05-01 08:30）",
        6: "缺少办理时间",
        7: "缺少联系电话，无法回访",
        8: "办理单位「邻县城关派出所」不是测试县公安局的单位；办理时间晚于当前时间",
    }
    assert Contact.objects.count() == 0
    assert not Event.objects.filter(action="contact.import").exists()
    assert batch.status == "failed"
    assert batch.message.startswith("有 6 行错误，按“全部成功才导入”的规则，本次未导入任何回访对象")


def test_a_missing_required_column_stops_the_file_naming_it(bureau, tmp_path):
    header = [c for c in CALL_HEADER if c != "报警人电话"]
    path = write_csv(tmp_path / "110.csv", [call()], header=header)
    with pytest.raises(BadInput, match="缺少「联系电话」：请指定文件中的哪一列是联系电话"):
        import_contacts(path, preset="call_110", bureau=bureau.bureau)
    assert not ImportBatch.objects.exists() and not Contact.objects.exists()


def test_skip_bad_keeps_the_good_rows_and_writes_the_errors_workbook(bureau, tmp_path):
    path = write_csv(tmp_path / "110.csv", [
        call(接警单编号="J1"), call(接警单编号="J2", 处警单位="南城派出所"), call(接警单编号="J3"),
    ], header=CALL_HEADER)
    errors = tmp_path / "bad.xlsx"
    batch, result = import_contacts(path, preset="call_110", bureau=bureau.bureau,
                                    skip_bad=True, errors_path=errors)
    assert result.committed and result.summary() == {"created": 2, "existing": 0, "bad": 1}
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == ["J1", "J3"]
    rows = read_xlsx(errors)
    assert rows[0] == [*CALL_HEADER, "原行号", REASON_COLUMN]
    assert rows[1][0] == "J2" and rows[1][-2] == 3
    assert rows[1][-1] == "办理单位「南城派出所」不是测试县公安局的单位"
    assert batch.message == "新建 2 条，已存在 0 条，跳过错误行 1 行"


def test_order_is_not_a_source_one_can_import(bureau, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", [
        {"编号": "X1", "来源": "110", "时间": "2024-05-06 09:00", "电话": "13812345678",
         "单位": "东城派出所"},
        {"编号": "X2", "来源": "工单", "时间": "2024-05-06 09:00", "电话": "13812345678",
         "单位": "东城派出所"},
        {"编号": "X3", "来源": "快递", "时间": "2024-05-06 09:00", "电话": "13812345678",
         "单位": "东城派出所"},
    ], header=["编号", "来源", "时间", "电话", "单位"])
    mapping = {"columns": {"external_id": "编号", "source": "来源", "occurred_at": "时间",
                           "person_phone": "电话", "unit": "单位"}}
    _, result = import_contacts(path, mapping=mapping, bureau=bureau.bureau, skip_bad=True)
    assert result.created == 1
    assert dict(result.errors) == {
        3: "工单的回访对象由办结的工单自动生成，不能导入",
        4: "未知的来源「快递」（应为 110报警求助、案件当事人 或 窗口办事群众）",
    }


def test_source_words_are_read_without_a_database():
    assert source_of("110报警求助") == ("call_110", "")
    assert source_of(" 案件当事人 ") == ("case", "")
    assert source_of("WINDOW") == ("window", "")
    assert source_of("110 报警求助") == ("call_110", "")
    assert source_of("order")[0] is None


# --- duplicates ------------------------------------------------------------------------------


def test_the_same_number_twice_in_a_file_keeps_the_first_and_names_it(bureau, tmp_path):
    path = write_csv(tmp_path / "110.csv", [
        call(接警单编号="J1"), call(接警单编号="J2"),
        call(接警单编号="J1", 报警人电话="13900001111"),
    ], header=CALL_HEADER)
    _, result = import_contacts(path, preset="call_110", bureau=bureau.bureau, skip_bad=True)
    assert result.summary() == {"created": 2, "existing": 0, "bad": 1}
    assert result.errors == [
        (4, "与第2行重复（110 报警求助、记录编号 J1），只导入第2行")]
    assert Contact.objects.get(external_id="J1").phone == "13812345678"


def test_a_file_sent_again_creates_nothing_and_says_so(bureau, tmp_path):
    path = write_csv(tmp_path / "110.csv", [call(接警单编号="J1"), call(接警单编号="J2")],
                     header=CALL_HEADER)
    first, _ = import_contacts(path, preset="call_110", bureau=bureau.bureau)
    again, result = import_contacts(path, preset="call_110", bureau=bureau.bureau)
    assert result.summary() == {"created": 0, "existing": 2, "bad": 0}
    assert Contact.objects.count() == 2
    assert Event.objects.filter(action="contact.import").count() == 2
    assert again.message.startswith("文件中的 2 条记录此前都已导入，本次未新建任何回访对象")
    assert f"批次 {first.pk}" in again.message


def test_an_overlapping_export_adds_only_the_new_records(bureau, tmp_path):
    import_contacts(write_csv(tmp_path / "a.csv", [call(接警单编号="J1"), call(接警单编号="J2")],
                              header=CALL_HEADER), preset="call_110", bureau=bureau.bureau)
    # The next export covers J2 again, in xlsx this time, with a corrected type.
    path = write_xlsx(tmp_path / "b.xlsx", [call(接警单编号="J2", 警情类别="改"),
                                            call(接警单编号="J3")], header=CALL_HEADER)
    batch, result = import_contacts(path, preset="call_110", bureau=bureau.bureau)
    assert result.summary() == {"created": 1, "existing": 1, "bad": 0}
    assert Contact.objects.get(external_id="J2").record_type == "纠纷求助"  # left as it was
    assert batch.message == "新建 1 条，已存在 1 条"


def test_the_same_number_in_two_sources_is_two_records(bureau, tmp_path):
    import_contacts(write_csv(tmp_path / "a.csv", [call(接警单编号="N1")], header=CALL_HEADER),
                    preset="call_110", bureau=bureau.bureau)
    _, result = import_contacts(
        write_csv(tmp_path / "b.csv", [window(业务流水号="N1")], header=WINDOW_HEADER),
        preset="window", bureau=bureau.bureau)
    assert result.created == 1 and Contact.objects.count() == 2


def test_rows_without_a_number_are_one_record_per_phone_time_and_unit(bureau, tmp_path):
    rows = [call(接警单编号=""), call(接警单编号="", 报警人电话="138-1234-5678"),
            call(接警单编号="", 报警时间="2024-05-06 21:16:00")]
    path = write_csv(tmp_path / "110.csv", rows, header=CALL_HEADER)
    _, result = import_contacts(path, preset="call_110", bureau=bureau.bureau, skip_bad=True)
    assert result.summary() == {"created": 2, "existing": 0, "bad": 1}
    assert result.errors == [(3, "与第2行是同一条记录（两行都没有记录编号，按来源、联系电话、"
                                 "办理时间和办理单位识别为同一人同一次办理）")]
    ids = set(Contact.objects.values_list("external_id", flat=True))
    assert len(ids) == 2 and all(i.startswith("H-") and len(i) == 34 for i in ids)
    # Sent again: recognised.
    _, again = import_contacts(write_csv(tmp_path / "again.csv", rows[:1], header=CALL_HEADER),
                               preset="call_110", bureau=bureau.bureau)
    assert again.summary() == {"created": 0, "existing": 1, "bad": 0}


# --- encodings, mappings, plans --------------------------------------------------------------


def test_a_gbk_csv_from_a_county_export(bureau, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [case(), case(案件编号="A2", 办案单位="东城派出所")],
                     header=CASE_HEADER, encoding="gbk")
    assert "王某".encode("gbk") in path.read_bytes()
    _, result = import_contacts(path, preset="case", bureau=bureau.bureau)
    assert result.created == 2
    assert Contact.objects.get(external_id="A2").person_name == "王某"
    assert plan_contact_import(path, preset="case", bureau=bureau.bureau).source.encoding \
        == "gb18030"


def test_a_yaml_mapping_file(bureau, tmp_path):
    from minyi.callbacks.importing import CONTACTS
    from minyi.intake.importing import load_mapping_file

    spec = tmp_path / "m.yaml"
    spec.write_text("columns:\n  external_id: 流水\n  occurred_at: 时间\n  person_phone: 手机\n"
                    "  unit: 窗口\n  record_type: 事项\ndefaults:\n  source: window\n"
                    "date_formats: ['%d.%m.%Y %H:%M']\n", encoding="utf-8")
    path = write_csv(tmp_path / "w.csv", [{"流水": "W1", "时间": "08.05.2024 09:05",
                                           "手机": "13812345678", "窗口": "东城派出所",
                                           "事项": "身份证换领"}],
                     header=["流水", "时间", "手机", "窗口", "事项"])
    _, result = import_contacts(path, mapping=load_mapping_file(spec, CONTACTS),
                                bureau=bureau.bureau)
    assert result.created == 1
    contact = Contact.objects.get()
    assert (contact.source, contact.record_type, contact.occurred_at) == (
        "window", "身份证换领", at("2024-05-08 09:05"))


def test_plans_refuse_what_cannot_be_used(bureau, tmp_path):
    path = write_csv(tmp_path / "110.csv", [call()], header=CALL_HEADER)
    with pytest.raises(BadInput, match="没有名为「standard」的预设格式"):
        plan_contact_import(path, preset="standard", bureau=bureau.bureau)
    with pytest.raises(BadInput, match="没有字段「title」"):
        plan_contact_import(path, mapping={"columns": {"title": "报警内容"}},
                            bureau=bureau.bureau)
    with pytest.raises(BadInput, match="不是公安局或分局"):
        plan_contact_import(path, preset="call_110", bureau=bureau.station.code)
    with pytest.raises(BadInput, match="请选择预设格式"):
        plan_contact_import(path, bureau=bureau.bureau)


def test_order_import_pages_and_runner_leave_contact_batches_alone(bureau, tmp_path):
    from minyi.intake.importing.run import run_batch

    path = write_csv(tmp_path / "110.csv", [call()], header=CALL_HEADER)
    batch = ImportBatch.objects.create(kind="contact", file_name="110.csv", preset="call_110",
                                       bureau=bureau.bureau)
    run_batch(batch.pk)  # the orders' runner does not claim it
    batch.refresh_from_db()
    assert batch.status == "pending"
    assert path.exists()
