"""The programme pages: the year's programme with overdue tasks flagged, a task with its history
and the report form, the import page and its template; who sees and does what (a manager; a
responsible unit reports for itself only; another unit 403; another bureau 404)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from minyi.assessment import programme as actions
from minyi.assessment.models import Programme, TaskProgress
from minyi.core.models import Event
from minyi.orgs.models import Role

TODAY = timezone.localdate()
YEAR = TODAY.year
MONTH = TODAY.replace(day=1)


@pytest.fixture
def plan(bureau, opinion_officer):
    """This year's programme: task 1 (both stations) overdue since 10 days, task 2 (the
    other station only) due in 30 days."""
    programme = actions.create_programme(actor=opinion_officer, bureau=bureau.bureau,
                                         year=YEAR, title="提升群众安全感满意度工作方案")
    measure = actions.add_measure(
        actor=opinion_officer, programme=programme, title="抓投诉回访，提升解决问题质效促群众满意",
        leader="王局长", lead_unit=bureau.squad, liaison="张联络",
        responsible_units=[bureau.station, bureau.other_station])
    late = actions.add_task(actor=opinion_officer, measure=measure, title="分层级回访常态化",
                            deadline=max(TODAY - timedelta(days=10), TODAY.replace(month=1,
                                                                                 day=1)))
    later = actions.add_task(actor=opinion_officer, measure=measure, title="高效处理不满意事项",
                             deadline=TODAY + timedelta(days=30) if TODAY.month < 12
                             else TODAY.replace(day=31), units=[bureau.other_station])
    return programme, measure, late, later


def post_report(client, task, unit, percent=40, text="本月已部署"):
    return client.post(reverse("assessment:programme_task", args=[task.pk]), {
        "unit": unit.pk, "month": MONTH.isoformat(), "percent_done": percent, "text": text})


def test_programme_page_shows_measures_people_tasks_and_overdue(client, plan, leader, bureau,
                                                                 handler):
    programme, _, late, _ = plan
    actions.report_progress(actor=handler, task=late, unit=bureau.station,
                            text="东城所已回访 120 人", percent_done=35)
    client.force_login(leader)
    response = client.get(reverse("assessment:programme"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "提升群众安全感满意度工作方案" in html
    assert "抓投诉回访，提升解决问题质效促群众满意" in html
    assert "王局长" in html and "张联络" in html and "督察大队" in html
    assert "东城所已回访 120 人" in html and "35%" in html
    if late.deadline < TODAY:
        assert html.count('class="programme-overdue"') == 1
        assert f"⚠ 逾期 {(TODAY - late.deadline).days} 天" in html
    assert 'data-testid="import-link"' in html
    # The same page by the programme's own address.
    assert client.get(reverse("assessment:programme_detail",
                              args=[programme.pk])).status_code == 200


def test_programme_page_for_a_unit_and_another_bureau(client, plan, handler, other_bureau_user):
    programme, _, _, _ = plan
    client.force_login(handler)
    html = client.get(reverse("assessment:programme")).content.decode()
    assert "抓投诉回访" in html
    assert 'data-testid="import-link"' not in html
    assert "本单位" in html  # the station's task is marked as its own
    client.force_login(other_bureau_user)
    assert client.get(reverse("assessment:programme_detail",
                              args=[programme.pk])).status_code == 404
    assert client.get(reverse("assessment:programme"),
                      {"bureau": programme.bureau_id}).status_code == 404
    html = client.get(reverse("assessment:programme")).content.decode()
    assert "抓投诉回访" not in html and 'data-testid="no-programme"' in html


def test_task_page_history_and_form_for_the_responsible_unit(client, plan, handler, bureau):
    _, _, late, _ = plan
    client.force_login(handler)
    response = client.get(reverse("assessment:programme_task", args=[late.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-form"' in html
    assert "本月未报送" in html
    form = response.context["form"]
    assert [u.pk for u in form.fields["unit"].queryset] == [bureau.station.pk]
    response = post_report(client, late, bureau.station)
    assert response.status_code == 302
    assert TaskProgress.objects.get().percent_done == 40
    # Sent again for the same month: updated, not a second row.
    response = post_report(client, late, bureau.station, percent=70, text="已回访 300 人")
    assert response.status_code == 302
    assert list(TaskProgress.objects.values_list("percent_done", "text")) == [
        (70, "已回访 300 人")]
    html = client.get(reverse("assessment:programme_task", args=[late.pk])).content.decode()
    assert "已回访 300 人" in html and html.count('data-testid="progress-row"') == 1
    assert [e.action for e in Event.objects.filter(action__startswith="programme.progress")
            .order_by("id")] == ["programme.progress_report", "programme.progress_update"]


def test_bad_report_shows_the_error_and_writes_nothing(client, plan, handler, bureau):
    _, _, late, _ = plan
    client.force_login(handler)
    response = post_report(client, late, bureau.station, percent=150, text="")
    assert response.status_code == 400
    html = response.content.decode()
    assert "完成进度应在 0—100 之间" in html and "这个字段是必填项" in html
    assert TaskProgress.objects.count() == 0


def test_another_unit_cannot_report_and_another_bureau_sees_nothing(
        client, plan, handler, outsider, other_bureau_user, bureau):
    _, _, late, later = plan
    # `later` is the other station's only: the station's handler reads it but has no form.
    client.force_login(handler)
    response = client.get(reverse("assessment:programme_task", args=[later.pk]))
    assert response.status_code == 200
    assert 'data-testid="report-form"' not in response.content.decode()
    assert post_report(client, later, bureau.other_station).status_code == 403
    # On a task both carry, the other station's handler may not report for the station.
    client.force_login(outsider)
    response = post_report(client, late, bureau.station)
    assert response.status_code == 400  # not one of the form's choices
    assert TaskProgress.objects.count() == 0
    client.force_login(other_bureau_user)
    for name in ("assessment:programme_task", "assessment:programme_task_done"):
        method = client.get if name == "assessment:programme_task" else client.post
        assert method(reverse(name, args=[late.pk])).status_code == 404
    assert post_report(client, late, bureau.station).status_code == 404
    assert TaskProgress.objects.count() == 0


def test_mark_done_by_lead_unit_head_and_not_by_a_station(client, plan, handler, bureau):
    _, _, late, _ = plan
    client.force_login(handler)
    assert client.post(reverse("assessment:programme_task_done",
                               args=[late.pk])).status_code == 403
    head = bureau.member(Role.UNIT_HEAD, bureau.squad, full_name="督察大队长")
    client.force_login(head)
    html = client.get(reverse("assessment:programme_task", args=[late.pk])).content.decode()
    assert 'data-testid="done-form"' in html
    response = client.post(reverse("assessment:programme_task_done", args=[late.pk]))
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.state == "done"
    assert Event.objects.filter(action="programme.task_done", actor=head).count() == 1


def test_reopen_by_the_opinion_office(client, plan, opinion_officer):
    _, _, late, _ = plan
    actions.mark_done(actor=opinion_officer, task=late)
    client.force_login(opinion_officer)
    response = client.post(reverse("assessment:programme_task_reopen", args=[late.pk]),
                           {"reason": "回访台账不全"})
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.state == "open"


def _upload(rows: list[list], title: str = "导入的方案") -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["方案名称", title])
    sheet.append(["年度", YEAR])
    sheet.append(["序号", "措施", "分管领导", "牵头单位", "联络员", "责任单位", "任务", "完成时限"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "方案.xlsx"
    return buffer


def test_import_page_good_bad_and_again(client, bureau, opinion_officer):
    client.force_login(opinion_officer)
    url = reverse("assessment:programme_import")
    html = client.get(url).content.decode()
    assert "下载导入模板" in html and "各派出所" in html
    rows = [[1, "抓校园安保", "王局长", "督察大队", "", "各派出所", "护校安园常态化",
             f"{YEAR}-09-01"]]
    response = client.post(url, {"bureau": bureau.bureau.pk, "file": _upload(rows)})
    programme = Programme.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:programme_detail", args=[programme.pk])
    assert programme.measures.get().tasks.get().units.count() == 2
    # The same file again: refused and said so.
    response = client.post(url, {"bureau": bureau.bureau.pk, "file": _upload(rows)})
    assert response.status_code == 400
    assert "本次未导入" in response.content.decode()
    # With 更新已有方案: recognised, nothing changes.
    response = client.post(url, {"bureau": bureau.bureau.pk, "file": _upload(rows),
                                 "update": "on"}, follow=True)
    assert "没有改动" in response.content.decode()
    assert Programme.objects.count() == 1
    # A bad row: named with its line.
    bad = [[1, "抓校园安保", "", "火星大队", "", "", "任务", "明天"]]
    response = client.post(url, {"bureau": bureau.bureau.pk, "file": _upload(bad, "另一个")})
    assert response.status_code == 400
    html = response.content.decode()
    assert "第 4 行：牵头单位：单位「火星大队」在测试县公安局中不存在" in html
    assert "第 4 行：完成时限「明天」不是日期" in html
    assert Programme.objects.count() == 1


def test_import_page_and_template_are_for_managers(client, bureau, handler, leader):
    client.force_login(handler)
    assert client.get(reverse("assessment:programme_import")).status_code == 403
    assert client.get(reverse("assessment:programme_import_template")).status_code == 403
    client.force_login(leader)
    response = client.get(reverse("assessment:programme_import_template"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[5]] == actions.TEMPLATE_HEADER
    assert workbook.sheetnames == ["年度工作方案", "填写说明"]


def test_import_refuses_another_bureau_id(client, bureau, opinion_officer):
    from minyi.orgs.tests.factories import UnitFactory

    other = UnitFactory(kind="bureau", name="外县公安局")
    client.force_login(opinion_officer)
    rows = [[1, "措施", "", "督察大队", "", "", "任务", f"{YEAR}-09-01"]]
    response = client.post(reverse("assessment:programme_import"),
                           {"bureau": other.pk, "file": _upload(rows)})
    assert response.status_code == 400
    assert Programme.objects.count() == 0


def test_overdue_filter_shows_exactly_the_overdue_tasks(client, plan, leader):
    programme, _, late, later = plan
    client.force_login(leader)
    response = client.get(reverse("assessment:programme_detail", args=[programme.pk]),
                          {"overdue": "1"})
    html = response.content.decode()
    shown = [r.task.pk for block in response.context["view"].measures for r in block.rows]
    expected = [late.pk] if late.deadline < TODAY else []
    assert shown == expected
    assert 'data-testid="overdue-filter"' in html
    assert f'data-task="{later.pk}"' not in html
