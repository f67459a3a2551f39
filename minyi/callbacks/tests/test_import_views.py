"""The contact import page and the `minyi callbacks import` command: who may use them, the
upload with a preset or a mapping file, every bad row, the errors workbook, re-import."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from minyi.callbacks.models import Contact, Source
from minyi.callbacks.tests.test_import import CALL_HEADER, CASE_HEADER, call, case
from minyi.intake.models import ImportBatch
from minyi.intake.tests.test_import_support import read_xlsx, write_csv
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MINYI_IMPORTS_INLINE = True


def upload(tmp_path, rows, header=CALL_HEADER, name="110.csv", encoding="utf-8"):
    path = write_csv(tmp_path / name, rows, header=header, encoding=encoding)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def test_opinion_officer_imports_110_calls_and_sees_every_bad_row(client, bureau,
                                                                  opinion_officer, tmp_path):
    client.force_login(opinion_officer)
    page = client.get(reverse("callbacks:imports")).content.decode()
    assert "导入回访对象" in page and 'value="call_110"' in page and 'value="window"' in page
    response = client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call(接警单编号="J1"), call(接警单编号="J2", 报警人电话="1"),
                                  call(接警单编号="J3", 处警单位="南城派出所"),
                                  call(接警单编号="J1")]),
        "preset": "call_110", "skip_bad": "on", "bureau": bureau.bureau.pk,
    })
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("callbacks:import_detail", args=[batch.pk])
    assert (batch.kind, batch.status, batch.created, batch.bad, batch.created_by) == (
        "contact", "done", 1, 3, opinion_officer)
    assert Contact.objects.get().import_batch == batch
    detail = client.get(response["Location"]).content.decode()
    assert "第 3 行" in detail and "联系电话「1」格式不正确" in detail
    assert "第 4 行" in detail and "办理单位「南城派出所」不是测试县公安局的单位" in detail
    assert "第 5 行" in detail and "与第2行重复" in detail
    assert 'hx-trigger="every 1s"' not in detail
    errors = client.get(reverse("callbacks:import_errors", args=[batch.pk]))
    assert errors.status_code == 200
    saved = tmp_path / "errors.xlsx"
    saved.write_bytes(b"".join(errors.streaming_content))
    assert [r[-2] for r in read_xlsx(saved)[1:]] == [3, 4, 5]
    # The list of recent imports shows it; the order import page does not.
    assert "110.csv" in client.get(reverse("callbacks:imports")).content.decode()


def test_all_or_nothing_from_the_page_keeps_nothing(client, bureau, opinion_officer, tmp_path):
    client.force_login(opinion_officer)
    client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call(接警单编号="J1"), call(接警单编号="J2", 报警时间="明天")]),
        "preset": "call_110", "bureau": bureau.bureau.pk,
    })
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created, batch.bad) == ("failed", 0, 1)
    assert not Contact.objects.exists()
    detail = client.get(reverse("callbacks:import_detail", args=[batch.pk])).content.decode()
    assert "本次未导入任何回访对象" in detail and "第 3 行" in detail


def test_the_same_file_twice_says_nothing_new(client, bureau, opinion_officer, tmp_path):
    client.force_login(opinion_officer)
    for _ in range(2):
        client.post(reverse("callbacks:imports"), {
            "file": upload(tmp_path, [case(), case(案件编号="A2")], header=CASE_HEADER,
                           name="cases.csv", encoding="gbk"),
            "preset": "case", "bureau": bureau.bureau.pk,
        })
    first, again = ImportBatch.objects.order_by("id")
    assert (first.created, again.created, again.existing) == (2, 0, 2)
    assert Contact.objects.filter(source=Source.CASE).count() == 2
    detail = client.get(reverse("callbacks:import_detail", args=[again.pk])).content.decode()
    assert "此前都已导入，本次未新建任何回访对象" in detail and f"批次 {first.pk}" in detail


def test_a_mapping_file_uploaded_with_the_data(client, bureau, administrator, tmp_path):
    client.force_login(administrator)
    mapping = SimpleUploadedFile(
        "m.yaml", "columns:\n  external_id: 流水\n  occurred_at: 时间\n  person_phone: 手机\n"
                  "  unit: 窗口\ndefaults:\n  source: window\n".encode())
    data = SimpleUploadedFile("w.csv", "流水,时间,手机,窗口\nW1,2024-05-08 09:05,13812345678,"
                                       "东城派出所\n".encode(), content_type="text/csv")
    client.post(reverse("callbacks:imports"), {"file": data, "preset": "",
                                               "mapping_file": mapping,
                                               "bureau": bureau.bureau.pk})
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created, batch.preset) == ("done", 1, "")
    assert batch.mapping["columns"]["person_phone"] == ["手机"]
    assert Contact.objects.get().source == Source.WINDOW


def test_problems_with_the_upload_are_told_on_the_form(client, bureau, opinion_officer,
                                                       tmp_path):
    client.force_login(opinion_officer)
    missing = client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call()], header=[c for c in CALL_HEADER if c != "处警单位"]),
        "preset": "call_110", "bureau": bureau.bureau.pk,
    })
    assert missing.status_code == 200
    assert "缺少「办理单位」：请指定文件中的哪一列是办理单位" in missing.content.decode()
    no_mapping = client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call()]), "preset": "", "bureau": bureau.bureau.pk})
    assert "请上传列对应文件" in no_mapping.content.decode()
    bad_mapping = client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call()]), "preset": "", "bureau": bureau.bureau.pk,
        "mapping_file": SimpleUploadedFile("m.yaml", b"columns:\n  title: x\n")})
    assert "没有字段「title」" in bad_mapping.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_preset_template_downloads(client, opinion_officer):
    client.force_login(opinion_officer)
    response = client.get(reverse("callbacks:import_template", args=["window"]))
    assert response.status_code == 200
    assert client.get(reverse("callbacks:import_template", args=["nope"])).status_code == 404


def test_a_handler_is_refused(client, bureau, handler, outsider, tmp_path):
    batch = ImportBatch.objects.create(kind="contact", file_name="x.csv", bureau=bureau.bureau,
                                       status="done")
    for user in (handler, outsider):
        client.force_login(user)
        assert client.get(reverse("callbacks:imports")).status_code == 403
        assert client.post(reverse("callbacks:imports"), {
            "file": upload(tmp_path, [call()]), "preset": "call_110"}).status_code == 403
        assert client.get(reverse("callbacks:import_detail",
                                  args=[batch.pk])).status_code == 403
    assert not Contact.objects.exists()


def test_an_officer_of_another_bureau_gets_404_on_a_batch(client, bureau, opinion_officer,
                                                          tmp_path):
    client.force_login(opinion_officer)
    client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call(接警单编号="J1"), call(接警单编号="J2", 报警人电话="1")]),
        "preset": "call_110", "skip_bad": "on", "bureau": bureau.bureau.pk})
    batch = ImportBatch.objects.get()
    other = UnitFactory(kind="bureau", name="邻县公安局")
    stranger = UserFactory()
    MembershipFactory(user=stranger, unit=other, role=Role.OPINION_OFFICER)
    client.force_login(stranger)
    assert client.get(reverse("callbacks:imports")).status_code == 200
    for name in ("import_detail", "import_progress", "import_errors"):
        assert client.get(reverse(f"callbacks:{name}", args=[batch.pk])).status_code == 404
    assert "110.csv" not in client.get(reverse("callbacks:imports")).content.decode()
    # It cannot import into the first bureau either: the form offers only its own.
    response = client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call(接警单编号="J9")]), "preset": "call_110",
        "bureau": bureau.bureau.pk})
    assert response.status_code == 200 and not Contact.objects.filter(external_id="J9").exists()


def test_order_import_pages_do_not_show_contact_batches(client, bureau, opinion_officer,
                                                        dispatcher, tmp_path):
    client.force_login(opinion_officer)
    client.post(reverse("callbacks:imports"), {
        "file": upload(tmp_path, [call()], name="calls-110.csv"), "preset": "call_110",
        "bureau": bureau.bureau.pk})
    batch = ImportBatch.objects.get()
    client.force_login(dispatcher)
    assert "calls-110.csv" not in client.get(reverse("intake:imports")).content.decode()
    assert client.get(reverse("intake:import_detail", args=[batch.pk])).status_code == 404


# --- the command -----------------------------------------------------------------------------


def test_the_command_imports_and_reports(bureau, tmp_path, capsys):
    path = write_csv(tmp_path / "110.csv", [call(接警单编号="J1"), call(接警单编号="J2")],
                     header=CALL_HEADER)
    call_command("callbacks", "import", str(path), "--preset", "call_110")
    assert json.loads(capsys.readouterr().out.strip()) == {"created": 2, "existing": 0,
                                                           "bad": 0}
    call_command("callbacks", "import", str(path), "--preset", "call_110",
                 "--bureau", bureau.bureau.code)
    assert json.loads(capsys.readouterr().out.strip()) == {"created": 0, "existing": 2,
                                                           "bad": 0}
    assert Contact.objects.count() == 2
    assert ImportBatch.objects.filter(kind="contact").count() == 2


def test_the_command_with_bad_rows_and_skip_bad(bureau, tmp_path, capsys):
    path = write_csv(tmp_path / "110.csv", [call(接警单编号="J1"),
                                            call(接警单编号="J2", 处警单位="南城派出所")],
                     header=CALL_HEADER)
    with pytest.raises(CommandError) as stopped:
        call_command("callbacks", "import", str(path), "--preset", "call_110")
    assert stopped.value.returncode == 1 and "未导入任何回访对象" in str(stopped.value)
    out = capsys.readouterr()
    assert json.loads(out.out.strip()) == {"created": 0, "existing": 0, "bad": 1}
    assert "第3行：办理单位「南城派出所」不是测试县公安局的单位" in out.err
    assert not Contact.objects.exists()
    errors = tmp_path / "bad.xlsx"
    call_command("callbacks", "import", str(path), "--preset", "call_110", "--skip-bad",
                 "--errors", str(errors))
    assert json.loads(capsys.readouterr().out.strip()) == {"created": 1, "existing": 0,
                                                           "bad": 1}
    assert read_xlsx(errors)[1][0] == "J2"


def test_the_command_refuses_what_it_cannot_use(bureau, tmp_path):
    path = write_csv(tmp_path / "110.csv", [call()], header=CALL_HEADER)
    with pytest.raises(CommandError, match="请用 --preset 指定预设格式") as stopped:
        call_command("callbacks", "import", str(path))
    assert stopped.value.returncode == 2
    with pytest.raises(CommandError, match="没有名为「orders」的预设格式"):
        call_command("callbacks", "import", str(path), "--preset", "orders")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: [oops\n", encoding="utf-8")
    with pytest.raises(CommandError, match="不是有效的 YAML"):
        call_command("callbacks", "import", str(path), "--mapping", str(mapping))
    assert not Contact.objects.exists() and not ImportBatch.objects.exists()
