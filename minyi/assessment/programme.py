"""The annual programme (年度工作方案, seed 000: 七抓七促): its measures, tasks and the units'
monthly progress; who may do what; the overdue tasks; and the import from a structured xlsx.

Every change is one function here, with keyword-only arguments and the acting user, in one
transaction that writes its event (the chain lock first, then the rows, as `core.audit` asks).

Who may do what. The programme is circulated to every unit of its bureau (全局各单位), so
anyone with a post in the bureau reads it. The bureau's leaders, the opinion office (its
leading group's office sits there) and administrators manage it: create, import, edit, mark
tasks done. The head of a measure's lead unit may also mark that measure's tasks done. A
responsible unit's people (unit head, handler) report progress for their own unit only;
managers may enter a unit's report for it (a report handed in on paper).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from minyi.assessment.models import Measure, Programme, ProgrammeTask, TaskProgress
from minyi.core.audit import (
    lock_chain,
    record_event,
    record_events_bulk,
    register_action_labels,
    snapshot,
)
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

State = ProgrammeTask.State
MANAGER_ROLES = frozenset({Role.BUREAU_LEADER, Role.OPINION_OFFICER, Role.ADMINISTRATOR})
BUREAU_KINDS = (Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU)

ACTION_LABELS = {
    "programme.create": "新建年度工作方案",
    "programme.import": "导入年度工作方案",
    "programme.edit": "修改工作方案",
    "programme.measure_add": "新增工作措施",
    "programme.measure_edit": "修改工作措施",
    "programme.measure_remove": "删除工作措施",
    "programme.task_add": "新增工作任务",
    "programme.task_edit": "修改工作任务",
    "programme.task_remove": "删除工作任务",
    "programme.progress_report": "报送工作进展",
    "programme.progress_update": "更新当月工作进展",
    "programme.task_done": "任务标记完成",
    "programme.task_reopen": "任务重新开启",
}
register_action_labels(ACTION_LABELS)


# --- who may do what ---------------------------------------------------------------------------


def _is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def may_manage(user: Any, bureau: Unit) -> bool:
    return _is_superuser(user) or access.bureau_role(user, bureau, MANAGER_ROLES)


def reporting_units(user: Any, task: ProgrammeTask) -> list[Unit]:
    """The task's units the user may report progress for: all of them for a manager, else
    those the user works in (or above)."""
    units = list(task.units.all())
    if may_manage(user, task.measure.programme.bureau):
        return units
    return [u for u in units if access.acts_for_unit(user, u)]


def may_mark_done(user: Any, task: ProgrammeTask) -> bool:
    return may_manage(user, task.measure.programme.bureau) or access.acts_for_unit(
        user, task.measure.lead_unit, {Role.UNIT_HEAD})


def _require_manager(actor: Any, bureau: Unit) -> None:
    if actor is not None and not may_manage(actor, bureau):
        raise NotAllowed("只有局领导、政工室（民意访查中心）和系统管理员可以管理年度工作方案")


# --- reads ---------------------------------------------------------------------------------------


def user_bureaus(user: Any) -> list[Unit]:
    """The bureaus whose programmes the user reads: any post in the bureau will do."""
    if _is_superuser(user):
        return list(Unit.objects.filter(kind__in=BUREAU_KINDS).order_by("path"))
    seen: dict[int, Unit] = {}
    for membership in access.memberships_of(user):
        bureau = membership.unit.bureau()
        seen.setdefault(bureau.pk, bureau)
    return sorted(seen.values(), key=lambda u: u.path)


def managed_bureaus(user: Any) -> list[Unit]:
    return [b for b in user_bureaus(user) if may_manage(user, b)]


def programmes_for_user(user: Any) -> QuerySet[Programme]:
    return (Programme.objects.filter(bureau__in=user_bureaus(user))
            .select_related("bureau").order_by("bureau__path", "-year", "title"))


def get_programme_for_user(user: Any, pk: Any) -> Programme:
    try:
        return programmes_for_user(user).get(pk=int(pk))
    except (Programme.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该工作方案") from None


def get_task_for_user(user: Any, pk: Any) -> ProgrammeTask:
    try:
        return (ProgrammeTask.objects
                .filter(measure__programme__bureau__in=user_bureaus(user))
                .select_related("measure__programme__bureau", "measure__lead_unit")
                .get(pk=int(pk)))
    except (ProgrammeTask.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该工作任务") from None


def overdue_tasks(*, bureau: Unit | None = None, programme: Programme | None = None,
                  today: date | None = None) -> QuerySet[ProgrammeTask]:
    """Tasks still open after their deadline's day (逾期未完成). A task is in time on its
    deadline's day itself."""
    today = today or timezone.localdate()
    qs = ProgrammeTask.objects.filter(state=State.OPEN, deadline__lt=today)
    if programme is not None:
        qs = qs.filter(measure__programme=programme)
    if bureau is not None:
        qs = qs.filter(measure__programme__bureau=bureau)
    return qs.select_related("measure__programme", "measure__lead_unit").order_by(
        "deadline", "measure__number", "number")


def is_overdue(task: ProgrammeTask, today: date | None = None) -> bool:
    return task.state == State.OPEN and task.deadline < (today or timezone.localdate())


def month_start(day: date) -> date:
    return day.replace(day=1)


@dataclass
class TaskRow:
    task: ProgrammeTask
    units: list[Unit]
    latest: TaskProgress | None
    overdue: bool
    days_late: int
    mine: bool


@dataclass
class MeasureBlock:
    measure: Measure
    responsible: list[Unit]
    rows: list[TaskRow]


@dataclass
class ProgrammeView:
    programme: Programme
    measures: list[MeasureBlock]
    tasks: int = 0
    done: int = 0
    overdue: int = 0
    reported_this_month: int = 0


def programme_view(user: Any, programme: Programme, today: date | None = None) -> ProgrammeView:
    """The programme page's data in a fixed number of queries: measures with their people and
    units, tasks with their units, state, latest progress and whether they are overdue."""
    today = today or timezone.localdate()
    measures = list(programme.measures.select_related("lead_unit")
                    .prefetch_related("responsible_units").order_by("number"))
    tasks = list(ProgrammeTask.objects.filter(measure__programme=programme)
                 .prefetch_related("units").order_by("measure__number", "number"))
    latest: dict[int, TaskProgress] = {}
    for report in (TaskProgress.objects.filter(task__measure__programme=programme)
                   .select_related("unit").order_by("-month", "-updated_at", "-pk")):
        latest.setdefault(report.task_id, report)
    own_paths = [m.unit.path for m in access.memberships_of(user)
                 if m.role in access.UNIT_ROLES]
    by_measure: dict[int, list[TaskRow]] = {}
    view = ProgrammeView(programme=programme, measures=[])
    this_month = month_start(today)
    for task in tasks:
        units = list(task.units.all())
        overdue = is_overdue(task, today)
        by_measure.setdefault(task.measure_id, []).append(TaskRow(
            task=task, units=units, latest=latest.get(task.pk), overdue=overdue,
            days_late=(today - task.deadline).days if overdue else 0,
            mine=any(u.path.startswith(p) for u in units for p in own_paths)))
        view.tasks += 1
        view.done += task.state == State.DONE
        view.overdue += overdue
        report = latest.get(task.pk)
        view.reported_this_month += bool(report and report.month == this_month)
    for measure in measures:
        view.measures.append(MeasureBlock(
            measure=measure, responsible=list(measure.responsible_units.all()),
            rows=by_measure.get(measure.pk, [])))
    return view


def programme_years(user: Any, bureau: Unit) -> list[int]:
    return sorted(set(Programme.objects.filter(bureau=bureau).values_list("year", flat=True)),
                  reverse=True)


def task_units_status(task: ProgrammeTask, month: date) -> list[tuple[Unit, TaskProgress | None]]:
    """Each of the task's units with its report of `month` (None: not reported yet)."""
    reports = {p.unit_id: p for p in task.progress.filter(month=month)}
    return [(u, reports.get(u.pk)) for u in task.units.all()]


def progress_history(task: ProgrammeTask) -> QuerySet[TaskProgress]:
    return task.progress.select_related("unit", "reported_by").order_by("-month", "unit__path")


def task_events(task: ProgrammeTask) -> QuerySet:
    from minyi.core.models import Event

    progress_ids = [str(pk) for pk in task.progress.values_list("pk", flat=True)]
    return Event.objects.filter(
        Q(object_type="assessment.programmetask", object_id=str(task.pk))
        | Q(object_type="assessment.taskprogress", object_id__in=progress_ids)
    ).order_by("-id")


def summary_by_bureau(bureau: Unit, today: date | None = None) -> dict[str, int]:
    """Counts for the dashboard's alerts: the tasks of the bureau's programmes, done, overdue."""
    today = today or timezone.localdate()
    row = ProgrammeTask.objects.filter(measure__programme__bureau=bureau).aggregate(
        tasks=Count("pk"), done=Count("pk", filter=Q(state=State.DONE)),
        overdue=Count("pk", filter=Q(state=State.OPEN, deadline__lt=today)))
    return {k: int(v or 0) for k, v in row.items()}


# --- writes --------------------------------------------------------------------------------------


def _snap(obj: Any) -> dict[str, Any]:
    """The row as the events keep it; without `updated_at`, so that a save that changes
    nothing compares equal and writes no event."""
    data = snapshot(obj)
    data.pop("updated_at", None)
    return data


def _bureau_units(bureau: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(path__startswith=bureau.path)


def _check_units(bureau: Unit, units: Iterable[Unit], what: str) -> list[Unit]:
    units = list(dict.fromkeys(units))
    foreign = [u.name for u in units if not u.path.startswith(bureau.path)]
    if foreign:
        raise InvalidInput(f"{what}「{'、'.join(foreign)}」不属于{bureau.name}")
    return units


def _clean_text(value: str, label: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"请填写{label}")
    if len(value) > limit:
        raise InvalidInput(f"{label}不能超过 {limit} 个字")
    return value


def create_programme(*, actor: Any, bureau: Unit, year: int, title: str,
                     document_number: str = "") -> Programme:
    _require_manager(actor, bureau)
    title = _clean_text(title, "方案名称", 200)
    document_number = _clean_text(document_number, "文号", 50, required=False)
    if not 2000 <= int(year) <= 2100:
        raise InvalidInput("年度应为 2000—2100 之间的年份")
    with transaction.atomic():
        lock_chain()
        if Programme.objects.filter(bureau=bureau, year=year, title=title).exists():
            raise InvalidInput(f"{year}年已有名为《{title}》的工作方案")
        programme = Programme.objects.create(bureau=bureau, year=year, title=title,
                                             document_number=document_number)
        record_event(actor=actor, obj=programme, action="programme.create",
                     after=_snap(programme))
    return programme


def add_measure(*, actor: Any, programme: Programme, title: str, lead_unit: Unit,
                leader: str = "", liaison: str = "", content: str = "",
                responsible_units: Iterable[Unit] = (), number: int | None = None) -> Measure:
    bureau = programme.bureau
    _require_manager(actor, bureau)
    title = _clean_text(title, "措施", 200)
    _check_units(bureau, [lead_unit], "牵头单位")
    responsible = _check_units(bureau, responsible_units, "责任单位")
    with transaction.atomic():
        lock_chain()
        if number is None:
            number = (max(programme.measures.values_list("number", flat=True), default=0) + 1)
        elif programme.measures.filter(number=number).exists():
            raise InvalidInput(f"序号 {number} 的措施已存在")
        measure = Measure.objects.create(
            programme=programme, number=number, title=title, content=(content or "").strip(),
            leader=_clean_text(leader, "分管领导", 50, required=False), lead_unit=lead_unit,
            liaison=_clean_text(liaison, "联络员", 50, required=False))
        measure.responsible_units.set(responsible)
        record_event(actor=actor, obj=measure, action="programme.measure_add",
                     after=_snap(measure), payload={"programme": programme.pk})
    return measure


MEASURE_FIELDS = ("title", "content", "leader", "lead_unit", "liaison", "responsible_units")


def edit_measure(*, actor: Any, measure: Measure, **changes: Any) -> Measure:
    """Change any of MEASURE_FIELDS; an event with before and after when something changed."""
    unknown = set(changes) - set(MEASURE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    bureau = measure.programme.bureau
    _require_manager(actor, bureau)
    with transaction.atomic():
        lock_chain()
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        before = _snap(measure)
        for name, value in changes.items():
            if name == "responsible_units":
                measure.responsible_units.set(_check_units(bureau, value, "责任单位"))
            elif name == "lead_unit":
                measure.lead_unit = _check_units(bureau, [value], "牵头单位")[0]
            elif name == "title":
                measure.title = _clean_text(value, "措施", 200)
            elif name in ("leader", "liaison"):
                setattr(measure, name, _clean_text(value, "分管领导" if name == "leader"
                                                   else "联络员", 50, required=False))
            else:
                measure.content = (value or "").strip()
        measure.save()
        after = _snap(measure)
        if after != before:
            record_event(actor=actor, obj=measure, action="programme.measure_edit",
                         before=before, after=after)
    return measure


def _check_deadline(deadline: Any, programme: Programme) -> date:
    if not isinstance(deadline, date):
        raise InvalidInput("请填写完成时限（日期）")
    if isinstance(deadline, datetime):
        deadline = deadline.date()
    if not programme.year - 1 <= deadline.year <= programme.year + 1:
        raise InvalidInput(f"完成时限 {deadline:%Y-%m-%d} 不在方案年度（{programme.year}年）前后")
    return deadline


def add_task(*, actor: Any, measure: Measure, title: str, deadline: date,
             units: Iterable[Unit] | None = None, number: int | None = None) -> ProgrammeTask:
    """A task of a measure; its units default to the measure's responsible units."""
    programme = measure.programme
    _require_manager(actor, programme.bureau)
    title = _clean_text(title, "任务", 300)
    deadline = _check_deadline(deadline, programme)
    chosen = (_check_units(programme.bureau, units, "承担单位") if units is not None
              else list(measure.responsible_units.all()))
    with transaction.atomic():
        lock_chain()
        if number is None:
            number = max(measure.tasks.values_list("number", flat=True), default=0) + 1
        elif measure.tasks.filter(number=number).exists():
            raise InvalidInput(f"该措施已有序号 {number} 的任务")
        task = ProgrammeTask.objects.create(measure=measure, number=number, title=title,
                                            deadline=deadline)
        task.units.set(chosen)
        record_event(actor=actor, obj=task, action="programme.task_add",
                     to_state=task.state, after=_snap(task),
                     payload={"measure": measure.pk})
    return task


TASK_FIELDS = ("title", "deadline", "units")


def edit_task(*, actor: Any, task: ProgrammeTask, **changes: Any) -> ProgrammeTask:
    unknown = set(changes) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    programme = task.measure.programme
    _require_manager(actor, programme.bureau)
    with transaction.atomic():
        lock_chain()
        task = ProgrammeTask.objects.select_for_update().get(pk=task.pk)
        before = _snap(task)
        if "title" in changes:
            task.title = _clean_text(changes["title"], "任务", 300)
        if "deadline" in changes:
            task.deadline = _check_deadline(changes["deadline"], programme)
        if "units" in changes:
            task.units.set(_check_units(programme.bureau, changes["units"], "承担单位"))
        task.save()
        after = _snap(task)
        if after != before:
            record_event(actor=actor, obj=task, action="programme.task_edit",
                         before=before, after=after)
    return task


def report_progress(*, actor: Any, task: ProgrammeTask, unit: Unit, text: str,
                    percent_done: int, month: date | None = None,
                    now: datetime | None = None) -> tuple[TaskProgress, bool]:
    """A unit's report of the month (default: this month) on a task. One report per task, unit
    and month: sending the month again updates it (with an event saying what changed), never
    adds a second. Returns (report, created)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAllowed("报送工作进展需要登录")
    now = now or timezone.now()
    this_month = month_start(timezone.localdate(now))
    month = month_start(month) if month else this_month
    text = _clean_text(text, "工作进展", 2000)
    try:
        percent_done = int(percent_done)
    except (TypeError, ValueError):
        raise InvalidInput("完成进度应为 0—100 的整数") from None
    if not 0 <= percent_done <= 100:
        raise InvalidInput("完成进度应为 0—100 的整数")
    if month > this_month:
        raise InvalidInput("不能报送以后月份的进展")
    with transaction.atomic():
        lock_chain()
        task = (ProgrammeTask.objects.select_for_update()
                .select_related("measure__programme__bureau", "measure__lead_unit")
                .get(pk=task.pk))
        if month.year != task.measure.programme.year:
            raise InvalidInput(f"只能报送方案年度（{task.measure.programme.year}年）内的月份")
        if not task.units.filter(pk=unit.pk).exists():
            raise InvalidInput(f"{unit.name}不是该任务的承担单位")
        if unit not in reporting_units(actor, task):
            raise NotAllowed("只能报送本单位承担任务的进展")
        if task.state == State.DONE:
            raise InvalidInput("该任务已完成，无需再报送进展")
        existing = TaskProgress.objects.filter(task=task, unit=unit, month=month).first()
        if existing is None:
            report = TaskProgress.objects.create(task=task, unit=unit, month=month, text=text,
                                                 percent_done=percent_done, reported_by=actor)
            record_event(actor=actor, obj=report, action="programme.progress_report",
                         after=_snap(report),
                         payload={"task": task.pk, "unit_name": unit.name,
                                  "month": f"{month:%Y-%m}", "percent": percent_done})
            return report, True
        before = _snap(existing)
        existing.text, existing.percent_done, existing.reported_by = text, percent_done, actor
        existing.save()
        record_event(actor=actor, obj=existing, action="programme.progress_update",
                     before=before, after=_snap(existing),
                     payload={"task": task.pk, "unit_name": unit.name,
                              "month": f"{month:%Y-%m}", "percent": percent_done})
        return existing, False


def mark_done(*, actor: Any, task: ProgrammeTask, now: datetime | None = None) -> ProgrammeTask:
    """The lead unit's head or a manager declares the task done."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_chain()
        task = (ProgrammeTask.objects.select_for_update()
                .select_related("measure__programme__bureau", "measure__lead_unit")
                .get(pk=task.pk))
        if actor is not None and not may_mark_done(actor, task):
            raise NotAllowed("只有牵头单位负责人、政工室（民意访查中心）和局领导可以确认任务完成")
        if task.state == State.DONE:
            raise InvalidInput("该任务已标记完成")
        task.state, task.done_at = State.DONE, now
        task.save(update_fields=["state", "done_at", "updated_at"])
        record_event(actor=actor, obj=task, action="programme.task_done",
                     from_state=State.OPEN, to_state=State.DONE,
                     payload={"deadline": task.deadline, "late": task.deadline <
                              timezone.localdate(now)})
    return task


def reopen_task(*, actor: Any, task: ProgrammeTask, reason: str) -> ProgrammeTask:
    """Undo a completion (marked by mistake, or the work came back); managers only."""
    reason = _clean_text(reason, "重新开启的原因", 500)
    with transaction.atomic():
        lock_chain()
        task = (ProgrammeTask.objects.select_for_update()
                .select_related("measure__programme__bureau").get(pk=task.pk))
        _require_manager(actor, task.measure.programme.bureau)
        if task.state != State.DONE:
            raise InvalidInput("该任务尚未完成，无需重新开启")
        task.state, task.done_at = State.OPEN, None
        task.save(update_fields=["state", "done_at", "updated_at"])
        record_event(actor=actor, obj=task, action="programme.task_reopen",
                     from_state=State.DONE, to_state=State.OPEN, payload={"reason": reason})
    return task


# --- the xlsx import -----------------------------------------------------------------------------
#
# One sheet. Above the table, label rows name the programme (方案名称, 年度, 文号). Then the
# header row, then the measures: a row with a 序号 starts a measure (措施, 分管领导, 牵头单位,
# 联络员, 责任单位 on that row) and may carry its first task; the rows below it with no 序号
# are further tasks of that measure (任务, 完成时限, optionally 承担单位). Merged cells read
# as blank below their first row, so a sheet with 序号 and 措施 merged down works as it looks.

COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("序号",),
    "title": ("措施", "工作措施"),
    "leader": ("分管领导", "分管局领导"),
    "lead_unit": ("牵头单位",),
    "liaison": ("联络员",),
    "responsible": ("责任单位",),
    "task": ("任务", "工作任务"),
    "deadline": ("完成时限", "时限"),
    "task_units": ("承担单位",),
}
REQUIRED = ("number", "title", "lead_unit", "task", "deadline")
MEASURE_ONLY = ("title", "leader", "lead_unit", "liaison", "responsible")
LABELS = {"方案名称": "title", "年度": "year", "文号": "document_number"}
GROUP_WORDS: dict[str, tuple[str, ...]] = {
    "各派出所": (Unit.Kind.STATION,),
    "各大队": (Unit.Kind.SQUAD,),
    "各科室": (Unit.Kind.OFFICE,),
    "全局各单位": (),
    "全局各科室所队": (),
    "全局各科室队所": (),
}
SEPARATORS = re.compile(r"[、，,；;/\n\r\t ]+")
TASK_NUMBERING = re.compile(r"^\s*[（(]?\d{1,2}[)）]?\s*[.．、,，]\s*")
DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
MAX_ROWS = 2000


class ImportRejected(InvalidInput):
    """The file was not imported; `errors` lists every problem, each with its line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors[:3]) + (f" 等 {len(errors)} 处问题" if len(errors) > 3
                                                  else ""))
        self.errors = errors


@dataclass
class PlannedTask:
    line: int
    title: str
    deadline: date
    units: list[Unit] | None  # None: the measure's responsible units


@dataclass
class PlannedMeasure:
    line: int
    number: int
    title: str
    leader: str
    lead_unit: Unit
    liaison: str
    responsible: list[Unit]
    tasks: list[PlannedTask] = field(default_factory=list)


@dataclass
class ImportPlan:
    title: str
    year: int
    document_number: str
    measures: list[PlannedMeasure]


@dataclass
class ImportOutcome:
    programme: Programme
    created: bool  # a new programme; else an existing one updated
    measures_added: int = 0
    measures_changed: int = 0
    measures_removed: int = 0
    tasks_added: int = 0
    tasks_changed: int = 0
    tasks_removed: int = 0

    @property
    def changes(self) -> int:
        return (self.measures_added + self.measures_changed + self.measures_removed
                + self.tasks_added + self.tasks_changed + self.tasks_removed)

    @property
    def message(self) -> str:
        name = f"{self.programme.year}年《{self.programme.title}》"
        if self.created:
            return (f"已导入{name}：{self.measures_added} 项措施，{self.tasks_added} 项任务。")
        if not self.changes:
            return f"{name}已导入过，本文件与现有内容一致，没有改动。"
        return (f"已按本文件更新{name}：措施新增 {self.measures_added}、修改 "
                f"{self.measures_changed}、删除 {self.measures_removed} 项；任务新增 "
                f"{self.tasks_added}、修改 {self.tasks_changed}、删除 {self.tasks_removed} 项。"
                "已完成的任务和已报送的进展保留不变。")


def _norm(text: Any) -> str:
    if text is None:
        return ""
    return re.sub(r"\s+", "", str(text)).replace("(", "（").replace(")", "）")


class UnitNames:
    """The bureau's units by name, short name and code, for the import's unit cells."""

    def __init__(self, bureau: Unit) -> None:
        self.bureau = bureau
        self.units = list(_bureau_units(bureau).filter(is_active=True).order_by("path"))
        self.by_key: dict[str, list[Unit]] = {}
        for unit in self.units:
            keys = {_norm(unit.name), _norm(unit.short_name), _norm(unit.code).upper()}
            for key in keys - {""}:
                self.by_key.setdefault(key, []).append(unit)

    def one(self, text: str) -> Unit:
        key = _norm(text)
        found = self.by_key.get(key) or self.by_key.get(key.upper())
        if not found:
            raise InvalidInput(f"单位「{text}」在{self.bureau.name}中不存在")
        if len(found) > 1:
            raise InvalidInput(f"「{text}」对应多个单位（{'、'.join(u.name for u in found)}），"
                               "请写全称或单位代码")
        return found[0]

    def many(self, text: str) -> list[Unit]:
        chosen: list[Unit] = []
        problems: list[str] = []
        for part in SEPARATORS.split(str(text or "").strip()):
            if not part:
                continue
            word = _norm(part)
            if word in GROUP_WORDS:
                kinds = GROUP_WORDS[word]
                chosen += [u for u in self.units if u.pk != self.bureau.pk
                           and u.kind not in BUREAU_KINDS and (not kinds or u.kind in kinds)]
                continue
            try:
                chosen.append(self.one(part))
            except InvalidInput as exc:
                problems.append(str(exc))
        if problems:
            raise InvalidInput("；".join(problems))
        return list(dict.fromkeys(chosen))


def _cell_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = DATE_TEXT.match(str(value or ""))
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise InvalidInput(f"完成时限「{value}」不是日期（如 2026-06-30 或 2026年6月30日）")


def _cell_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _norm(value).rstrip("、.．")
    text = text.strip("（）")
    return int(text) if text.isdecimal() else None


CHINESE_NUMBERS = "一二三四五六七八九十"


def _measure_number(value: Any) -> int | None:
    number = _cell_int(value)
    if number is not None:
        return number
    text = _norm(value).strip("（）、.．")
    if len(text) == 1 and text in CHINESE_NUMBERS:
        return CHINESE_NUMBERS.index(text) + 1
    return None


def _read_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    if not data.startswith(b"PK\x03\x04"):
        raise ImportRejected(["文件不是 xlsx 格式，请用 Excel 或 WPS 另存为 .xlsx 后再导入"])
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a corrupt or encrypted workbook: openpyxl raises many kinds
        raise ImportRejected(["无法打开该 xlsx 文件，请检查文件是否损坏或加密"]) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if line > MAX_ROWS:
                raise ImportRejected([f"文件超过 {MAX_ROWS} 行，请检查是否选错了文件"])
            cells = list(values)
            if any(v not in (None, "") and str(v).strip() for v in cells):
                rows.append((line, cells))
        return rows
    finally:
        workbook.close()


def plan_import(data: bytes, *, bureau: Unit) -> ImportPlan:
    """Read and check the whole file; raise ImportRejected listing every bad row (with its
    line, as Excel numbers it) before anything is written."""
    rows = _read_rows(data)
    errors: list[str] = []
    meta: dict[str, Any] = {}
    header_at = None
    columns: dict[str, int] = {}
    for index, (line, cells) in enumerate(rows):
        names = [_norm(c) for c in cells]
        if "序号" in names and ("措施" in names or "工作措施" in names):
            header_at = index
            for key, accepted in COLUMNS.items():
                for position, name in enumerate(names):
                    if name in accepted:
                        columns[key] = position
                        break
            break
        label = names[0].rstrip("：:") if names else ""
        if label in LABELS:
            value = next((c for c in cells[1:] if c not in (None, "")), None)
            meta[LABELS[label]] = (line, value)
    if header_at is None:
        raise ImportRejected(["没有找到表头行（应有“序号”“措施”“分管领导”“牵头单位”“联络员”"
                              "“责任单位”“任务”“完成时限”等列），请使用导入模板"])
    header_line = rows[header_at][0]
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in columns]
    if missing:
        raise ImportRejected([f"第 {header_line} 行（表头）缺少列：{'、'.join(missing)}"])

    title = _norm(meta.get("title", (0, ""))[1]).strip("《》")
    if not title:
        errors.append("表头上方缺少“方案名称”行（A 列写“方案名称”，B 列写方案名称）")
    elif len(title) > 200:
        errors.append(f"第 {meta['title'][0]} 行：方案名称不能超过 200 个字")
    year = None
    if "year" not in meta:
        errors.append("表头上方缺少“年度”行（A 列写“年度”，B 列写如 2026）")
    else:
        year = _cell_int(str(meta["year"][1] or "").removesuffix("年"))
        if year is None or not 2000 <= year <= 2100:
            errors.append(f"第 {meta['year'][0]} 行：年度「{meta['year'][1]}」应为四位年份")
            year = None
    document_number = str(meta.get("document_number", (0, ""))[1] or "").strip()[:50]

    names = UnitNames(bureau)
    measures: list[PlannedMeasure] = []
    numbers: dict[int, int] = {}

    def cell(cells: list[Any], key: str) -> Any:
        position = columns.get(key)
        if position is None or position >= len(cells):
            return None
        value = cells[position]
        return value.strip() if isinstance(value, str) else value

    for line, cells in rows[header_at + 1:]:
        problems: list[str] = []
        raw_number = cell(cells, "number")
        current = measures[-1] if measures else None
        if raw_number not in (None, ""):
            number = _measure_number(raw_number)
            title_text = str(cell(cells, "title") or "").strip()
            lead_text = str(cell(cells, "lead_unit") or "").strip()
            lead_unit = None
            responsible: list[Unit] = []
            if number is None or number < 1:
                problems.append(f"序号「{raw_number}」应为正整数")
            elif number in numbers:
                problems.append(f"序号 {number} 与第 {numbers[number]} 行重复")
            if not title_text:
                problems.append("缺少措施")
            elif len(title_text) > 200:
                problems.append("措施不能超过 200 个字")
            if not lead_text:
                problems.append("缺少牵头单位")
            else:
                try:
                    lead_unit = names.one(lead_text)
                except InvalidInput as exc:
                    problems.append(f"牵头单位：{exc}")
            try:
                responsible = names.many(cell(cells, "responsible") or "")
            except InvalidInput as exc:
                problems.append(f"责任单位：{exc}")
            leader = str(cell(cells, "leader") or "").strip()
            liaison = str(cell(cells, "liaison") or "").strip()
            if len(leader) > 50 or len(liaison) > 50:
                problems.append("分管领导、联络员不能超过 50 个字")
            if number is not None and number >= 1 and number not in numbers:
                numbers[number] = line
            current = PlannedMeasure(line=line, number=number or 0, title=title_text,
                                     leader=leader, lead_unit=lead_unit, liaison=liaison,
                                     responsible=responsible)
            measures.append(current)
        else:
            filled = [COLUMNS[k][0] for k in MEASURE_ONLY if cell(cells, k) not in (None, "")]
            if filled:
                problems.append(f"{'、'.join(filled)}只能写在有序号的措施行；"
                                "新措施请填写序号")
            if current is None:
                problems.append("第一项措施之前的行没有序号")
        task_text = TASK_NUMBERING.sub("", str(cell(cells, "task") or "").strip())
        raw_deadline = cell(cells, "deadline")
        if task_text or raw_deadline not in (None, ""):
            if not task_text:
                problems.append("有完成时限但缺少任务")
            elif len(task_text) > 300:
                problems.append("任务不能超过 300 个字")
            deadline = None
            try:
                deadline = _cell_date(raw_deadline)
            except InvalidInput as exc:
                problems.append("缺少完成时限" if raw_deadline in (None, "") else str(exc))
            if deadline and year and not year - 1 <= deadline.year <= year + 1:
                problems.append(f"完成时限 {deadline:%Y-%m-%d} 不在方案年度（{year}年）前后")
            units = None
            raw_units = cell(cells, "task_units")
            if raw_units not in (None, ""):
                try:
                    units = names.many(raw_units)
                except InvalidInput as exc:
                    problems.append(f"承担单位：{exc}")
            if current is not None and not problems:
                current.tasks.append(PlannedTask(line=line, title=task_text,
                                                 deadline=deadline, units=units))
        elif raw_number in (None, "") and not problems:
            problems.append("没有可导入的内容（新措施请填写序号，任务请填写任务和完成时限）")
        errors += [f"第 {line} 行：{p}" for p in problems]
    if not measures and not errors:
        errors.append("表头下面没有措施")
    if errors:
        raise ImportRejected(errors)
    return ImportPlan(title=title, year=year, document_number=document_number,
                      measures=measures)


def _unit_ids(units: Iterable[Unit]) -> list[int]:
    return sorted(u.pk for u in units)


def import_programme(*, actor: Any, bureau: Unit, data: bytes, update: bool = False,
                     file_name: str = "") -> ImportOutcome:
    """Import a programme from an xlsx file, all or nothing.

    The programme is known by its bureau, year and title. When it exists already, the import
    is refused unless `update` is set; then the file is the new content: measures and tasks are
    matched by their numbers, changed ones updated, new ones added, and those missing from the
    file removed — unless progress was reported on them, which refuses the import. A task's
    state (done or not) and its reports are kept."""
    _require_manager(actor, bureau)
    plan = plan_import(data, bureau=bureau)
    with transaction.atomic():
        lock_chain()
        programme = (Programme.objects.select_for_update()
                     .filter(bureau=bureau, year=plan.year, title=plan.title).first())
        if programme is not None and not update:
            at = timezone.localtime(programme.created_at)
            raise ImportRejected([
                f"{plan.year}年《{plan.title}》已于 {at:%Y年%m月%d日 %H:%M} 导入，本次未导入。"
                "如需按本文件更新该方案，请勾选“更新已有方案”后重新导入"])
        entries: list[dict[str, Any]] = []
        created = programme is None
        if created:
            programme = Programme.objects.create(bureau=bureau, year=plan.year,
                                                 title=plan.title,
                                                 document_number=plan.document_number)
            entries.append({"obj": programme, "action": "programme.create",
                            "after": _snap(programme)})
        elif programme.document_number != plan.document_number and plan.document_number:
            before = _snap(programme)
            programme.document_number = plan.document_number
            programme.save(update_fields=["document_number", "updated_at"])
            entries.append({"obj": programme, "action": "programme.edit",
                            "before": before, "after": _snap(programme)})
        outcome = ImportOutcome(programme=programme, created=created)
        _apply_plan(programme, plan, outcome, entries)
        entries.append({"obj": programme, "action": "programme.import",
                        "payload": {"file": file_name, "created": created,
                                    "measures_added": outcome.measures_added,
                                    "measures_changed": outcome.measures_changed,
                                    "measures_removed": outcome.measures_removed,
                                    "tasks_added": outcome.tasks_added,
                                    "tasks_changed": outcome.tasks_changed,
                                    "tasks_removed": outcome.tasks_removed}})
        record_events_bulk(entries, actor=actor)
    return outcome


def _apply_plan(programme: Programme, plan: ImportPlan, outcome: ImportOutcome,
                entries: list[dict[str, Any]]) -> None:
    existing = {m.number: m for m in programme.measures.prefetch_related(
        "responsible_units", "tasks__units")}
    wanted = {m.number for m in plan.measures}
    blocked: list[str] = []
    for number, measure in existing.items():
        keep_tasks = ({len(p.tasks) for p in plan.measures if p.number == number} or {0}).pop()
        for task in measure.tasks.all():
            gone = number not in wanted or task.number > keep_tasks
            if gone and task.progress.exists():
                blocked.append(f"第 {number} 项措施的第 {task.number} 项任务（{task.title[:20]}）"
                               "已有进展报送，不能删除")
    if blocked:
        raise ImportRejected([f"本文件删去了{b}" for b in blocked])
    for number, measure in existing.items():
        if number not in wanted:
            for task in measure.tasks.all():
                entries.append({"obj": task, "action": "programme.task_remove",
                                "before": _snap(task)})
                outcome.tasks_removed += 1
            entries.append({"obj": measure, "action": "programme.measure_remove",
                            "before": _snap(measure)})
            outcome.measures_removed += 1
            measure.delete()
    for planned in plan.measures:
        measure = existing.get(planned.number)
        fields = {"title": planned.title, "leader": planned.leader,
                  "lead_unit": planned.lead_unit, "liaison": planned.liaison}
        if measure is None:
            measure = Measure.objects.create(programme=programme, number=planned.number,
                                             **fields)
            measure.responsible_units.set(planned.responsible)
            entries.append({"obj": measure, "action": "programme.measure_add",
                            "after": _snap(measure), "payload": {"line": planned.line}})
            outcome.measures_added += 1
            old_tasks: dict[int, ProgrammeTask] = {}
        else:
            before = _snap(measure)
            for name, value in fields.items():
                setattr(measure, name, value)
            measure.save()
            if _unit_ids(measure.responsible_units.all()) != _unit_ids(planned.responsible):
                measure.responsible_units.set(planned.responsible)
            after = _snap(measure)
            if after != before:
                entries.append({"obj": measure, "action": "programme.measure_edit",
                                "before": before, "after": after,
                                "payload": {"line": planned.line}})
                outcome.measures_changed += 1
            old_tasks = {t.number: t for t in measure.tasks.all()}
        for number, planned_task in enumerate(planned.tasks, start=1):
            units = (planned_task.units if planned_task.units is not None
                     else planned.responsible)
            task = old_tasks.pop(number, None)
            if task is None:
                task = ProgrammeTask.objects.create(measure=measure, number=number,
                                                    title=planned_task.title,
                                                    deadline=planned_task.deadline)
                task.units.set(units)
                entries.append({"obj": task, "action": "programme.task_add",
                                "to_state": task.state, "after": _snap(task),
                                "payload": {"line": planned_task.line}})
                outcome.tasks_added += 1
                continue
            before = _snap(task)
            task.title, task.deadline = planned_task.title, planned_task.deadline
            task.save()
            if _unit_ids(task.units.all()) != _unit_ids(units):
                task.units.set(units)
            after = _snap(task)
            if after != before:
                entries.append({"obj": task, "action": "programme.task_edit", "before": before,
                                "after": after, "payload": {"line": planned_task.line}})
                outcome.tasks_changed += 1
        for task in old_tasks.values():
            entries.append({"obj": task, "action": "programme.task_remove",
                            "before": _snap(task)})
            outcome.tasks_removed += 1
            task.delete()


# --- the import template -------------------------------------------------------------------------

TEMPLATE_HEADER = ["序号", "措施", "分管领导", "牵头单位", "联络员", "责任单位", "任务", "完成时限",
                   "承担单位"]
TEMPLATE_EXAMPLE = [
    [1, "抓110接处警，提升民警接处警能力促群众满意", "李志强", "指挥中心", "赵敏",
     "各派出所、刑侦大队、治安大队", "制定110接处警勤务检查细则", date(2026, 4, 30), "指挥中心"],
    [None, None, None, None, None, None, "开展疑难复杂警情处置培训", date(2026, 6, 30), ""],
    [None, None, None, None, None, None, "每月分析全县治安形势，下发防范对策", date(2026, 12, 31),
     ""],
    [2, "抓便民惠企，提升窗口单位服务水平促群众满意", "王建国", "户政科", "",
     "户政科、出入境科", "推动简易高频业务“一窗通办”", date(2026, 5, 31), ""],
    [None, None, None, None, None, None, "拓展网上办理，推出一批全程网办事项", date(2026, 8, 31),
     ""],
]
TEMPLATE_NOTES = [
    "填写说明",
    "1. 只导入第一张工作表；请保留表头行（序号、措施、分管领导、牵头单位、联络员、责任单位、"
    "任务、完成时限、承担单位）。",
    "2. 表头上方三行：A 列分别写“方案名称”“年度”“文号”，B 列写内容；方案名称和年度必填，"
    "同一年度同名方案视为同一方案。",
    "3. 有序号的行开始一项措施，措施、分管领导、牵头单位、联络员、责任单位写在这一行，"
    "这一行也可以写第一项任务。",
    "4. 下面不填序号的行是该措施的其余任务，只填任务、完成时限和（可选）承担单位；"
    "序号、措施等单元格可以合并。",
    "5. 单位写本局单位的全称、简称或单位代码，多个单位用顿号分隔；"
    "也可写“各派出所”“各大队”“各科室”“全局各单位”。",
    "6. 承担单位不填时，任务由该措施的全部责任单位承担。"
    "完成时限写日期，如 2026-06-30 或 2026年6月30日。",
    "7. 有任何一行出错时整个文件都不导入，页面列出每一处错误及其行号；改正后重新导入即可。",
]


def import_template(year: int | None = None) -> bytes:
    """The import template: the label rows, the header and two example measures, with a
    second sheet of notes (the import reads the first sheet only)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    year = year or timezone.localdate().year
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "年度工作方案"
    sheet.append(["方案名称", f"{year}年提升群众安全感满意度工作方案"])
    sheet.append(["年度", year])
    sheet.append(["文号", ""])
    sheet.append([])
    sheet.append(TEMPLATE_HEADER)
    for row in TEMPLATE_EXAMPLE:
        deadline = row[7].replace(year=year)
        sheet.append([*row[:7], deadline, row[8]])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[5]:
        cell.font, cell.fill = bold, fill
    for row in range(1, 4):
        sheet.cell(row=row, column=1).font = bold
    for row in range(6, 6 + len(TEMPLATE_EXAMPLE)):
        sheet.cell(row=row, column=8).number_format = "yyyy-mm-dd"
        for column in (2, 6, 7):
            sheet.cell(row=row, column=column).alignment = Alignment(wrap_text=True)
    for letter, width in zip("ABCDEFGHI", (10, 36, 10, 12, 10, 26, 40, 12, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    notes = workbook.create_sheet("填写说明")
    for line in TEMPLATE_NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
