"""The import page: upload, column mapping, progress, result; who may use it."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from minyi.intake.models import ImportBatch
from minyi.intake.tests.test_import_support import read_xlsx, row, write_csv
from minyi.orders.models import Order
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(bureau):
    return bureau.member(Role.DISPATCHER, bureau.command_centre, full_name="赵调度")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def inline(settings):
    settings.MINYI_IMPORTS_INLINE = True


def upload(tmp_path, rows, name="orders.csv"):
    path = write_csv(tmp_path / name, rows)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def test_dispatcher_imports_a_file_with_bad_rows_and_sees_every_one(client, dispatcher, inline,
                                                                    tmp_path):
    client.force_login(dispatcher)
    page = client.get(reverse("intake:imports"))
    assert page.status_code == 200 and "批量导入工单" in page.content.decode()
    response = client.post(reverse("intake:imports"), {
        "file": upload(tmp_path, [row(来源编号="A-1"), row(来源编号="A-2", 联系电话="1"),
                                  row(来源编号="A-3", 接单时间="不知道")]),
        "preset": "standard", "skip_bad": "on", "bureau": dispatcher.memberships.get()
        .unit.bureau().pk,
    })
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:import_detail", args=[batch.pk])
    assert (batch.status, batch.created, batch.bad, batch.created_by) == ("done", 1, 2,
                                                                          dispatcher)
    detail = client.get(response["Location"]).content.decode()
    assert "第 3 行" in detail and "联系电话「1」格式不正确" in detail
    assert "第 4 行" in detail and "接单时间「不知道」不是可识别的日期时间" in detail
    assert 'hx-trigger="every 1s"' not in detail  # finished: no more polling
    errors = client.get(reverse("intake:import_errors", args=[batch.pk]))
    assert errors.status_code == 200
    assert "attachment" in errors["Content-Disposition"]
    saved = tmp_path / "errors.xlsx"
    saved.write_bytes(b"".join(errors.streaming_content))
    assert [r[0] for r in read_xlsx(saved)[1:]] == ["A-2", "A-3"]
    assert Order.objects.get().created_via == "import"


def test_all_or_nothing_from_the_page(client, dispatcher, inline, tmp_path):
    client.force_login(dispatcher)
    client.post(reverse("intake:imports"), {
        "file": upload(tmp_path, [row(来源编号="A-1"), row(来源编号="A-2", 渠道="微博")]),
        "preset": "standard", "bureau": dispatcher.memberships.get().unit.bureau().pk,
    })
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and not Order.objects.exists()
    detail = client.get(reverse("intake:import_detail", args=[batch.pk])).content.decode()
    assert "未导入任何工单" in detail and "未知的渠道「微博」" in detail


def test_progress_partial_polls_while_running(client, dispatcher, bureau):
    client.force_login(dispatcher)
    batch = ImportBatch.objects.create(file_name="o.csv", bureau=bureau.bureau,
                                       status="running", rows_total=1000, rows_done=250)
    partial = client.get(reverse("intake:import_progress", args=[batch.pk])).content.decode()
    assert f'hx-get="{reverse("intake:import_progress", args=[batch.pk])}"' in partial
    assert 'hx-trigger="every 1s"' in partial
    assert 'data-testid="rows-done">250<' in partial
    assert 'data-testid="rows-total">1000<' in partial
    assert "25%" in partial
    # The live count of a running import comes from the cache (its transaction is open).
    from django.core.cache import cache

    from minyi.intake.importing.run import PROGRESS_KEY

    cache.set(PROGRESS_KEY.format(batch.pk), 600)
    partial = client.get(reverse("intake:import_progress", args=[batch.pk])).content.decode()
    assert 'data-testid="rows-done">600<' in partial
    cache.delete(PROGRESS_KEY.format(batch.pk))


def test_mapping_page_offers_the_header_and_runs_the_import(client, dispatcher, inline,
                                                            tmp_path):
    client.force_login(dispatcher)
    rows = [{"编号": "M-1", "事由": "咨询户口迁移", "时间": "2024-05-06 09:00"}]
    path = write_csv(tmp_path / "m.csv", rows, header=["编号", "事由", "时间"])
    response = client.post(reverse("intake:imports"), {
        "file": SimpleUploadedFile("m.csv", path.read_bytes()), "preset": "",
        "bureau": dispatcher.memberships.get().unit.bureau().pk,
    })
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("intake:import_mapping", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    for column in ("编号", "事由", "时间"):
        assert f'<option value="{column}">{column}</option>' in page
    # Without a title or a channel the mapping is refused, in Chinese, next to the form.
    refused = client.post(response["Location"], {"col_external_id": "编号",
                                                 "col_received_at": "时间"})
    assert "缺少「标题」" in refused.content.decode()
    assert ImportBatch.objects.get().status == "pending"
    done = client.post(response["Location"], {
        "col_external_id": "编号", "col_title": "事由", "col_received_at": "时间",
        "default_channel": "12345", "default_order_type": "hukou",
        "default_demand_kind": "consultation"})
    assert done["Location"] == reverse("intake:import_detail", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == "done" and batch.created == 1
    assert batch.mapping["columns"] == {"external_id": "编号", "title": "事由",
                                        "received_at": "时间"}
    order = Order.objects.get()
    assert (order.title, order.order_type.code, order.state) == ("咨询户口迁移", "hukou",
                                                                 "received")


def test_an_unreadable_upload_is_refused_on_the_form_and_nothing_kept(client, dispatcher,
                                                                      inline):
    client.force_login(dispatcher)
    response = client.post(reverse("intake:imports"), {
        "file": SimpleUploadedFile("o.csv", b"\xd0\xcf\x11\xe0" + b"\x00" * 64),
        "preset": "standard", "bureau": dispatcher.memberships.get().unit.bureau().pk,
    })
    assert response.status_code == 200
    assert "不支持旧版 .xls 文件" in response.content.decode()
    assert not ImportBatch.objects.exists()
    wrong = client.post(reverse("intake:imports"), {
        "file": SimpleUploadedFile("o.pdf", b"%PDF"), "preset": "standard",
        "bureau": dispatcher.memberships.get().unit.bureau().pk})
    assert "只能导入 .xlsx、.csv 文件" in wrong.content.decode()


def test_other_roles_get_403(client, handler, outsider, leader):
    for user in (handler, outsider, leader):
        client.force_login(user)
        assert client.get(reverse("intake:imports")).status_code == 403
        assert client.get(reverse("intake:import_template")).status_code == 403


def test_a_batch_of_another_bureau_is_404(client, dispatcher, bureau, handler):
    batch = ImportBatch.objects.create(file_name="o.csv", bureau=bureau.bureau, status="done",
                                       bad=1, errors=[{"line": 2, "reason": "缺少标题"}])
    other = UnitFactory(kind="bureau", name="邻县公安局")
    stranger = UserFactory()
    MembershipFactory(user=stranger, role=Role.DISPATCHER,
                      unit=UnitFactory(kind="command_centre", parent=other))
    client.force_login(stranger)
    for name in ("import_detail", "import_progress", "import_mapping", "import_errors"):
        assert client.get(reverse(f"intake:{name}", args=[batch.pk])).status_code == 404
    assert "o.csv" not in client.get(reverse("intake:imports")).content.decode()
    client.force_login(handler)  # a unit's officer: not an importer at all
    assert client.get(reverse("intake:import_detail", args=[batch.pk])).status_code == 403
    client.force_login(dispatcher)
    assert client.get(reverse("intake:import_detail", args=[batch.pk])).status_code == 200


def test_administrator_may_import_and_boston_is_for_superusers(client, administrator):
    client.force_login(administrator)
    page = client.get(reverse("intake:imports")).content.decode()
    assert 'value="standard"' in page and 'value="boston311"' not in page


def test_the_template_workbook(client, dispatcher, tmp_path):
    client.force_login(dispatcher)
    response = client.get(reverse("intake:import_template"))
    saved = tmp_path / "t.xlsx"
    saved.write_bytes(b"".join(response.streaming_content))
    header = read_xlsx(saved)[0]
    assert header[:5] == ["来源编号", "渠道", "工单类型", "诉求类型", "标题"]


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_runs_the_batch(client, tmp_path, settings):
    """The single-machine default: a thread of the web process, with its own connection."""
    from minyi.conftest import Bureau

    bureau = Bureau()
    dispatcher = bureau.member(Role.DISPATCHER, bureau.command_centre)
    client.force_login(dispatcher)
    client.post(reverse("intake:imports"), {
        "file": upload(tmp_path, [row(来源编号=f"T-{i}") for i in range(30)]),
        "preset": "standard", "bureau": bureau.bureau.pk,
    })
    batch = ImportBatch.objects.get()
    from minyi.intake.importing import background

    deadline = time.monotonic() + 30
    while background.running_here(batch.pk) and time.monotonic() < deadline:
        time.sleep(0.05)
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.rows_done, batch.rows_total) == ("done", 30, 30,
                                                                                30)
    assert Order.objects.count() == 30


def test_a_superuser_imports_boston_into_its_own_demo_city(client, bureau, inline, tmp_path):
    """Whatever bureau the page offered, a demo preset's orders go to its own city."""
    header = ["CASE_ENQUIRY_ID", "OPEN_DT", "TARGET_DT", "CLOSED_DT", "OnTime_Status",
              "CASE_STATUS", "CLOSURE_REASON", "CASE_TITLE", "SUBJECT", "REASON", "TYPE",
              "QUEUE", "Department", "Location", "neighborhood", "police_district", "LATITUDE",
              "LONGITUDE", "Source"]
    case = {"CASE_ENQUIRY_ID": "101001242404", "OPEN_DT": "01/05/2015 12:40:41 PM",
            "TARGET_DT": "01/07/2015 12:40:41 PM", "CLOSED_DT": "01/06/2015 01:46:56 PM",
            "OnTime_Status": "ONTIME", "CASE_STATUS": "Closed", "CASE_TITLE": "Pothole",
            "SUBJECT": "Public Works Department", "TYPE": "Pothole Repair",
            "Source": "Constituent Call"}
    path = write_csv(tmp_path / "b.csv", [case], header=header)
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert 'value="boston311"' in client.get(reverse("intake:imports")).content.decode()
    client.post(reverse("intake:imports"), {
        "file": SimpleUploadedFile("b.csv", path.read_bytes()), "preset": "boston311",
        "bureau": bureau.bureau.pk})
    batch = ImportBatch.objects.get()
    assert batch.bureau.code == "BOSTON" and batch.created == 1
    order = Order.objects.get()
    assert order.bureau.code == "BOSTON" and order.on_time is True
    assert order.lead_unit.parent == batch.bureau and order.created_via == "import"
