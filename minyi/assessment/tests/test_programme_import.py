"""The programme's xlsx import: a good file, every bad row named by its line and nothing
written, re-importing the same file (refused, or an update that changes nothing), an update
that changes, and the template importing as it is."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from minyi.assessment import programme as actions
from minyi.assessment.models import Measure, Programme, ProgrammeTask, TaskProgress
from minyi.core.errors import NotAllowed
from minyi.core.models import Event

HEADER = ["序号", "措施", "分管领导", "牵头单位", "联络员", "责任单位", "任务", "完成时限",
          "承担单位"]
GOOD = [
    [1, "抓110接处警，提升民警接处警能力促群众满意", "王局长", "指挥中心", "窦联络",
     "各派出所、督察大队", "1.接处警及时规范", datetime(2026, 4, 30), "指挥中心"],
    [None, None, None, None, None, None, "2.加大接处警培训力度", "2026年6月30日", None],
    [None, None, None, None, None, None, "3.每月分析警情", "2026-12-31", None],
    [2, "抓投诉回访，提升解决问题质效促群众满意", "李副局长", "东城派出所", "",
     "东城派出所", "分层级回访常态化", "2026/9/30", ""],
]


def xlsx(rows: list[list], *, title: str = "2026年提升群众安全感满意度工作方案",
         year: object = 2026, header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title is not None:
        sheet.append(["方案名称", title])
    if year is not None:
        sheet.append(["年度", year])
    sheet.append(["文号", "测公发〔2026〕3号"])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_good_file_imports_measures_tasks_units_and_events(bureau, opinion_officer):
    outcome = actions.import_programme(actor=opinion_officer, bureau=bureau.bureau,
                                       data=xlsx(GOOD), file_name="方案.xlsx")
    programme = outcome.programme
    assert outcome.created
    assert (outcome.measures_added, outcome.tasks_added) == (2, 4)
    assert outcome.message == ("已导入2026年《2026年提升群众安全感满意度工作方案》："
                               "2 项措施，4 项任务。")
    assert (programme.year, programme.document_number) == (2026, "测公发〔2026〕3号")
    first, second = programme.measures.order_by("number")
    assert (first.title, first.leader, first.lead_unit, first.liaison) == (
        "抓110接处警，提升民警接处警能力促群众满意", "王局长", bureau.command_centre, "窦联络")
    assert set(first.responsible_units.all()) == {bureau.station, bureau.other_station,
                                                   bureau.squad}
    tasks = list(first.tasks.order_by("number"))
    assert [(t.number, t.title, t.deadline) for t in tasks] == [
        (1, "接处警及时规范", date(2026, 4, 30)),
        (2, "加大接处警培训力度", date(2026, 6, 30)),
        (3, "每月分析警情", date(2026, 12, 31))]
    assert list(tasks[0].units.all()) == [bureau.command_centre]
    assert set(tasks[1].units.all()) == set(first.responsible_units.all())
    assert list(second.tasks.get().units.all()) == [bureau.station]
    actions_written = list(Event.objects.order_by("id").values_list("action", flat=True))
    assert actions_written == ["programme.create", "programme.measure_add",
                               "programme.task_add", "programme.task_add",
                               "programme.task_add", "programme.measure_add",
                               "programme.task_add", "programme.import"]
    last = Event.objects.order_by("-id").first()
    assert last.actor == opinion_officer
    assert last.payload["file"] == "方案.xlsx"
    assert Event.objects.get(action="programme.task_add", object_id=str(tasks[1].pk)
                             ).payload == {"line": 7}


def test_every_bad_row_is_named_by_its_line_and_nothing_is_written(bureau, opinion_officer):
    rows = [
        [None, None, None, None, None, None, "第一项措施之前的任务", "2026-05-01", None],
        [1, "措施一", "王局长", "不存在大队", "", "东城派出所、火星派出所", "任务一",
         "2026-13-01", None],
        [None, "不该在这里的措施", None, None, None, None, "任务二", None, None],
        [1, "序号重复的措施", "", "指挥中心", "", "", "任务三", "2026-06-30", "西城派出所"],
        [None, None, None, None, None, None, None, "2026-07-01", None],
        [2, "", "", "", "", "", "任务四", "2029-01-01", None],
    ]
    with pytest.raises(actions.ImportRejected) as caught:
        actions.import_programme(actor=opinion_officer, bureau=bureau.bureau, data=xlsx(rows))
    assert caught.value.errors == [
        "第 6 行：第一项措施之前的行没有序号",
        "第 7 行：牵头单位：单位「不存在大队」在测试县公安局中不存在",
        "第 7 行：责任单位：单位「火星派出所」在测试县公安局中不存在",
        "第 7 行：完成时限「2026-13-01」不是日期（如 2026-06-30 或 2026年6月30日）",
        "第 8 行：措施只能写在有序号的措施行；新措施请填写序号",
        "第 8 行：缺少完成时限",
        "第 9 行：序号 1 与第 7 行重复",
        "第 10 行：有完成时限但缺少任务",
        "第 11 行：缺少措施",
        "第 11 行：缺少牵头单位",
        "第 11 行：完成时限 2029-01-01 不在方案年度（2026年）前后",
    ]
    assert Programme.objects.count() == Measure.objects.count() == 0
    assert ProgrammeTask.objects.count() == Event.objects.count() == 0


@pytest.mark.parametrize(("data", "message"), [
    (b"not a workbook", "文件不是 xlsx 格式"),
    (xlsx(GOOD, header=["序号", "措施", "任务"]), "第 5 行（表头）缺少列：牵头单位、完成时限"),
    (xlsx(GOOD, title=None), "缺少“方案名称”行"),
    (xlsx(GOOD, year="明年"), "第 2 行：年度「明年」应为四位年份"),
    (xlsx([], header=["姓名", "电话"]), "没有找到表头行"),
])
def test_bad_files_are_refused_with_a_reason(bureau, opinion_officer, data, message):
    with pytest.raises(actions.ImportRejected) as caught:
        actions.import_programme(actor=opinion_officer, bureau=bureau.bureau, data=data)
    assert message in caught.value.errors[0]
    assert Programme.objects.count() == 0


def test_units_by_code_short_name_and_ambiguity(bureau, opinion_officer):
    bureau.station.short_name = "东城"
    bureau.station.save()
    bureau.other_station.short_name = "东城"  # two units with one short name
    bureau.other_station.save()
    rows = [[1, "措施", "", bureau.command_centre.code, "", "东城", "任务", "2026-06-30", None]]
    with pytest.raises(actions.ImportRejected) as caught:
        actions.import_programme(actor=opinion_officer, bureau=bureau.bureau, data=xlsx(rows))
    assert caught.value.errors == [
        "第 6 行：责任单位：「东城」对应多个单位（东城派出所、西城派出所），请写全称或单位代码"]
    rows[0][5] = "东城派出所"
    outcome = actions.import_programme(actor=opinion_officer, bureau=bureau.bureau,
                                       data=xlsx(rows))
    measure = outcome.programme.measures.get()
    assert measure.lead_unit == bureau.command_centre


def test_reimport_is_refused_unless_update_and_then_changes_nothing(bureau, opinion_officer):
    data = xlsx(GOOD)
    first = actions.import_programme(actor=opinion_officer, bureau=bureau.bureau, data=data)
    events_before = Event.objects.count()
    with pytest.raises(actions.ImportRejected) as caught:
        actions.import_programme(actor=opinion_officer, bureau=bureau.bureau, data=data)
    assert "已于" in caught.value.errors[0] and "本次未导入" in caught.value.errors[0]
    assert "更新已有方案" in caught.value.errors[0]
    assert Event.objects.count() == events_before
    again = actions.import_programme(actor=opinion_officer, bureau=bureau.bureau, data=data,
                                     update=True)
    assert not again.created and again.programme.pk == first.programme.pk
    assert again.changes == 0
    assert "本文件与现有内容一致，没有改动" in again.message
    assert (Programme.objects.count(), Measure.objects.count(),
            ProgrammeTask.objects.count()) == (1, 2, 4)
    # Only the import itself is recorded.
    assert list(Event.objects.filter(pk__gt=Event.objects.order_by("id")[events_before - 1].pk)
                .values_list("action", flat=True)) == ["programme.import"]


def test_update_changes_adds_and_removes_but_keeps_reported_tasks(bureau, opinion_officer,
                                                                  handler):
    outcome = actions.import_programme(actor=opinion_officer, bureau=bureau.bureau,
                                       data=xlsx(GOOD))
    measure = outcome.programme.measures.get(number=1)
    task_two = measure.tasks.get(number=2)
    actions.mark_done(actor=opinion_officer, task=measure.tasks.get(number=1))
    actions.report_progress(actor=handler, task=task_two, unit=bureau.station,
                            text="培训两期", percent_done=50, month=date(2026, 6, 1))
    # Measure 1 loses its third task and task 2 gets a new deadline; measure 2 goes; a
    # measure 3 comes.
    rows = [GOOD[0], [*GOOD[1][:7], "2026-07-31", None],
            [3, "抓公安宣传", "", "督察大队", "", "西城派出所", "扩大宣传覆盖面", "2026-12-31",
             None]]
    changed = actions.import_programme(actor=opinion_officer, bureau=bureau.bureau,
                                       data=xlsx(rows), update=True)
    assert (changed.measures_added, changed.measures_changed, changed.measures_removed,
            changed.tasks_added, changed.tasks_changed, changed.tasks_removed) == (
        1, 0, 1, 1, 1, 2)
    assert sorted(Measure.objects.values_list("number", flat=True)) == [1, 3]
    task_two.refresh_from_db()
    assert task_two.deadline == date(2026, 7, 31)
    assert TaskProgress.objects.get().task == task_two
    assert measure.tasks.get(number=1).state == "done"
    # Dropping a task with progress refuses the whole update.
    with pytest.raises(actions.ImportRejected) as caught:
        actions.import_programme(actor=opinion_officer, bureau=bureau.bureau,
                                 data=xlsx([GOOD[0]]), update=True)
    assert caught.value.errors == [
        "本文件删去了第 1 项措施的第 2 项任务（加大接处警培训力度）已有进展报送，不能删除"]
    assert ProgrammeTask.objects.filter(measure__programme=changed.programme).count() == 3


def test_only_managers_import(bureau, handler):
    with pytest.raises(NotAllowed):
        actions.import_programme(actor=handler, bureau=bureau.bureau, data=xlsx(GOOD))
    assert Programme.objects.count() == 0


def test_the_template_imports_as_it_is(bureau, opinion_officer):
    from minyi.orgs.tests.factories import UnitFactory

    # The template's example names these units.
    for name, kind in [("刑侦大队", "squad"), ("治安大队", "squad"), ("户政科", "office"),
                       ("出入境科", "office")]:
        UnitFactory(kind=kind, name=name, parent=bureau.bureau)
    outcome = actions.import_programme(actor=opinion_officer, bureau=bureau.bureau,
                                       data=actions.import_template(2026))
    assert (outcome.measures_added, outcome.tasks_added) == (2, 5)
    assert outcome.programme.title == "2026年提升群众安全感满意度工作方案"
