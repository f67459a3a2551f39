"""The annual programme's actions: creating it, measures and tasks, monthly progress (a re-sent
month updates, never duplicates), completion, the overdue query, who may do what, the events;
and the demo programme."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from minyi.assessment import programme as actions
from minyi.assessment.models import Measure, Programme, ProgrammeTask, TaskProgress
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import UnitFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)


def events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("id"))


@pytest.fixture
def plan(bureau, opinion_officer):
    """A 2026 programme: measure 1 led by the squad with both stations responsible, its task 1
    due 31 May (both stations), task 2 due 30 September (the station only)."""
    programme = actions.create_programme(actor=opinion_officer, bureau=bureau.bureau, year=2026,
                                         title="2026年提升群众安全感满意度工作方案",
                                         document_number="测公发〔2026〕1号")
    measure = actions.add_measure(
        actor=opinion_officer, programme=programme, title="抓110接处警，提升接处警能力促群众满意",
        leader="王局长", lead_unit=bureau.squad, liaison="窦联络",
        responsible_units=[bureau.station, bureau.other_station])
    first = actions.add_task(actor=opinion_officer, measure=measure, title="制定接处警检查细则",
                             deadline=date(2026, 5, 31))
    second = actions.add_task(actor=opinion_officer, measure=measure, title="开展接处警培训",
                              deadline=date(2026, 9, 30), units=[bureau.station])
    return programme, measure, first, second


def test_create_programme_measure_and_tasks_with_events(plan, bureau, opinion_officer):
    programme, measure, first, second = plan
    assert (programme.year, programme.document_number) == (2026, "测公发〔2026〕1号")
    assert (measure.number, measure.leader, measure.liaison) == (1, "王局长", "窦联络")
    assert measure.lead_unit == bureau.squad
    assert set(measure.responsible_units.all()) == {bureau.station, bureau.other_station}
    # A task's units default to the measure's responsible units.
    assert (first.number, second.number) == (1, 2)
    assert set(first.units.all()) == {bureau.station, bureau.other_station}
    assert list(second.units.all()) == [bureau.station]
    assert [e.object_id for e in events("programme.create")] == [str(programme.pk)]
    assert [e.object_id for e in events("programme.measure_add")] == [str(measure.pk)]
    added = events("programme.task_add")
    assert [e.object_id for e in added] == [str(first.pk), str(second.pk)]
    assert added[0].actor == opinion_officer
    assert added[0].after["units"] == sorted([bureau.station.pk, bureau.other_station.pk])


def test_same_title_and_year_is_refused(plan, bureau, opinion_officer):
    with pytest.raises(InvalidInput, match="2026年已有名为"):
        actions.create_programme(actor=opinion_officer, bureau=bureau.bureau, year=2026,
                                 title="2026年提升群众安全感满意度工作方案")
    assert Programme.objects.count() == 1


def test_edit_measure_and_task_record_before_and_after(plan, bureau, leader):
    _, measure, first, _ = plan
    actions.edit_measure(actor=leader, measure=measure, liaison="新联络员",
                         responsible_units=[bureau.station])
    measure.refresh_from_db()
    assert measure.liaison == "新联络员"
    assert list(measure.responsible_units.all()) == [bureau.station]
    edit = events("programme.measure_edit")
    assert len(edit) == 1
    assert (edit[0].before["liaison"], edit[0].after["liaison"]) == ("窦联络", "新联络员")
    assert edit[0].after["responsible_units"] == [bureau.station.pk]
    actions.edit_task(actor=leader, task=first, deadline=date(2026, 6, 30))
    first.refresh_from_db()
    assert first.deadline == date(2026, 6, 30)
    edit = events("programme.task_edit")
    assert [(e.before["deadline"], e.after["deadline"]) for e in edit] == [
        ("2026-05-31", "2026-06-30")]
    # Nothing changed: no event.
    actions.edit_task(actor=leader, task=first, deadline=date(2026, 6, 30))
    assert len(events("programme.task_edit")) == 1


def test_units_of_another_bureau_are_refused(plan, opinion_officer):
    _, measure, _, _ = plan
    foreign = UnitFactory(kind="station", name="外县派出所",
                          parent=UnitFactory(kind="bureau", name="外县公安局"))
    with pytest.raises(InvalidInput, match="外县派出所」不属于测试县公安局"):
        actions.add_task(actor=opinion_officer, measure=measure, title="外县任务",
                         deadline=date(2026, 8, 1), units=[foreign])
    assert measure.tasks.count() == 2


def test_only_managers_manage(plan, bureau, handler, inspector):
    _, measure, _, _ = plan
    for user in (handler, inspector):
        with pytest.raises(NotAllowed):
            actions.add_task(actor=user, measure=measure, title="x", deadline=date(2026, 7, 1))
        with pytest.raises(NotAllowed):
            actions.edit_measure(actor=user, measure=measure, title="改名")
    assert ProgrammeTask.objects.count() == 2


def test_progress_report_and_resend_of_the_month_updates(plan, bureau, handler):
    _, _, first, _ = plan
    report, created = actions.report_progress(
        actor=handler, task=first, unit=bureau.station, text="已起草细则", percent_done=40,
        now=NOW)
    assert created
    assert (report.month, report.percent_done, report.reported_by) == (
        date(2026, 6, 1), 40, handler)
    again, created = actions.report_progress(
        actor=handler, task=first, unit=bureau.station, text="细则已印发", percent_done=80,
        now=NOW.replace(day=28))
    assert not created and again.pk == report.pk
    assert TaskProgress.objects.count() == 1
    report.refresh_from_db()
    assert (report.text, report.percent_done) == ("细则已印发", 80)
    assert len(events("programme.progress_report")) == 1
    update = events("programme.progress_update")
    assert len(update) == 1
    assert (update[0].before["percent_done"], update[0].after["percent_done"]) == (40, 80)
    assert update[0].payload["month"] == "2026-06"
    # Another month is another report.
    actions.report_progress(actor=handler, task=first, unit=bureau.station, text="五月",
                            percent_done=20, month=date(2026, 5, 1), now=NOW)
    assert TaskProgress.objects.count() == 2


def test_a_unit_reports_for_itself_only(plan, bureau, handler, outsider, opinion_officer):
    _, _, first, second = plan
    # The other station carries task 1, but its handler cannot report for the station.
    with pytest.raises(NotAllowed, match="只能报送本单位"):
        actions.report_progress(actor=outsider, task=first, unit=bureau.station, text="代报",
                                percent_done=10, now=NOW)
    actions.report_progress(actor=outsider, task=first, unit=bureau.other_station,
                            text="西城已部署", percent_done=10, now=NOW)
    # Task 2 is the station's only.
    with pytest.raises(InvalidInput, match="西城派出所不是该任务的承担单位"):
        actions.report_progress(actor=outsider, task=second, unit=bureau.other_station,
                                text="x", percent_done=10, now=NOW)
    # The opinion office may enter a unit's report for it.
    actions.report_progress(actor=opinion_officer, task=second, unit=bureau.station,
                            text="纸质报送录入", percent_done=30, now=NOW)
    assert sorted(TaskProgress.objects.values_list("unit__name", "percent_done")) == [
        ("东城派出所", 30), ("西城派出所", 10)]


@pytest.mark.parametrize(("fields", "message"), [
    ({"percent_done": 101}, "0—100"),
    ({"text": "  "}, "请填写工作进展"),
    ({"month": date(2026, 7, 1)}, "以后月份"),
    ({"month": date(2025, 12, 1)}, "方案年度"),
])
def test_bad_progress_is_refused_and_nothing_written(plan, bureau, handler, fields, message):
    _, _, first, _ = plan
    data = {"text": "进展", "percent_done": 50, **fields}
    with pytest.raises(InvalidInput, match=message):
        actions.report_progress(actor=handler, task=first, unit=bureau.station, now=NOW, **data)
    assert TaskProgress.objects.count() == 0
    assert not events("programme.progress_report")


def test_mark_done_by_lead_unit_head_or_opinion_office(plan, bureau, handler, opinion_officer):
    _, _, first, second = plan
    station_head = bureau.member(Role.UNIT_HEAD, bureau.station, full_name="冯所长")
    squad_head = bureau.member(Role.UNIT_HEAD, bureau.squad, full_name="督察大队长")
    for user in (handler, station_head):
        with pytest.raises(NotAllowed, match="牵头单位负责人"):
            actions.mark_done(actor=user, task=first, now=NOW)
    done = actions.mark_done(actor=squad_head, task=first, now=NOW)
    assert (done.state, done.done_at) == ("done", NOW)
    event = events("programme.task_done")[0]
    assert (event.from_state, event.to_state, event.actor) == ("open", "done", squad_head)
    assert event.payload == {"deadline": "2026-05-31", "late": True}
    with pytest.raises(InvalidInput, match="已标记完成"):
        actions.mark_done(actor=opinion_officer, task=first, now=NOW)
    with pytest.raises(InvalidInput, match="已完成，无需再报送"):
        actions.report_progress(actor=handler, task=first, unit=bureau.station, text="x",
                                percent_done=100, now=NOW)
    actions.mark_done(actor=opinion_officer, task=second, now=NOW)
    # Reopening takes a manager and a reason.
    with pytest.raises(NotAllowed):
        actions.reopen_task(actor=squad_head, task=first, reason="误点")
    actions.reopen_task(actor=opinion_officer, task=first, reason="细则被退回修改")
    first.refresh_from_db()
    assert (first.state, first.done_at) == ("open", None)
    assert events("programme.task_reopen")[0].payload == {"reason": "细则被退回修改"}


def test_overdue_is_open_and_past_the_deadline_day(plan, bureau, opinion_officer):
    programme, _, first, second = plan

    def overdue(day: date) -> list[int]:
        return list(actions.overdue_tasks(bureau=bureau.bureau, today=day)
                    .values_list("pk", flat=True))

    assert overdue(date(2026, 5, 31)) == []  # in time on its deadline's day
    assert overdue(date(2026, 6, 1)) == [first.pk]
    assert overdue(date(2026, 10, 1)) == [first.pk, second.pk]
    assert actions.is_overdue(first, date(2026, 6, 1))
    actions.mark_done(actor=opinion_officer, task=first, now=NOW)
    assert overdue(date(2026, 10, 1)) == [second.pk]
    assert list(actions.overdue_tasks(programme=programme, today=date(2026, 10, 1))) == [second]
    other = UnitFactory(kind="bureau", name="外县公安局")
    assert list(actions.overdue_tasks(bureau=other, today=date(2026, 10, 1))) == []
    assert actions.summary_by_bureau(bureau.bureau, today=date(2026, 10, 1)) == {
        "tasks": 2, "done": 1, "overdue": 1}


def test_programme_view_latest_progress_and_flags(plan, bureau, handler, outsider,
                                                  django_assert_max_num_queries):
    programme, _, first, second = plan
    actions.report_progress(actor=handler, task=first, unit=bureau.station, text="五月",
                            percent_done=20, month=date(2026, 5, 1), now=NOW)
    actions.report_progress(actor=outsider, task=first, unit=bureau.other_station,
                            text="六月西城", percent_done=50, now=NOW)
    with django_assert_max_num_queries(8):
        view = actions.programme_view(handler, programme, today=date(2026, 6, 20))
    rows = view.measures[0].rows
    assert [r.task for r in rows] == [first, second]
    assert (rows[0].latest.text, rows[0].overdue, rows[0].days_late) == ("六月西城", True, 20)
    assert (rows[1].latest, rows[1].overdue, rows[1].mine) == (None, False, True)
    assert (view.tasks, view.done, view.overdue, view.reported_this_month) == (2, 0, 1, 1)


def test_demo_programme_is_the_seven_measures_and_idempotent(db):
    from minyi.assessment import programme_demo
    from minyi.orgs.demo import BUREAU_CODE, load_demo_bureau
    from minyi.orgs.models import Unit

    load_demo_bureau()
    bureau = Unit.objects.get(code=BUREAU_CODE)
    today = date(2026, 11, 22)
    made = programme_demo.load(bureau, today=today)
    assert made.title == "2026年提升群众安全感满意度工作方案"
    measures = list(Measure.objects.filter(programme=made).order_by("number"))
    assert [m.title[:4] for m in measures] == ["抓110", "抓执法办", "抓便民惠", "抓电诈打",
                                               "抓投诉回", "抓校园安", "抓公安宣"]
    assert measures[0].lead_unit.name == "指挥中心"
    assert measures[0].liaison == "赵敏"
    assert measures[3].responsible_units.count() == 12  # 各派出所
    assert ProgrammeTask.objects.filter(measure__programme=made).count() == 21
    overdue = list(actions.overdue_tasks(programme=made, today=today))
    assert [(t.measure.number, t.number) for t in overdue] == [(2, 2), (6, 2)]
    done = ProgrammeTask.objects.filter(measure__programme=made, state="done").count()
    # Deadlines before 22 November: 15 tasks, of which the two behind are not done.
    assert done == 13
    assert TaskProgress.objects.filter(task__measure__programme=made).count() > 40
    counted = Event.objects.count()
    assert programme_demo.load(bureau, today=today) is None
    assert Event.objects.count() == counted
