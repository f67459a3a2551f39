"""The demo's annual programme: seed 000's plan (沂源县公安局 2023 年提升群众安全感满意度工作
方案, 七抓七促) with its seven measures and three tasks each, set in the current year so that the
demo shows a whole year: tasks whose deadline has passed are done, except two that are overdue;
the units have reported their progress month by month.

The measures' titles and tasks are the seed's, shortened. The leaders in charge and liaisons are
the demo bureau's made-up people (orgs/demo.py keeps people made up), not the persons the seed
names. Idempotent: a bureau that has the programme gets nothing more.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from minyi.assessment import programme as actions
from minyi.assessment.models import Programme, ProgrammeTask
from minyi.orgs.models import Membership, Role, Unit, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "提升群众安全感满意度工作方案"

# Groups of units by the demo bureau's code suffixes (orgs/demo.py).
STATIONS = "PCS"
ALL = "ALL"

# (title, content, leader, lead unit, liaison's unit, responsible units, tasks); each task is
# (title, deadline month, deadline day).
MEASURES = [
    ("抓110接处警，提升民警接处警能力促群众满意",
     "文明规范接警、依法快速处警、积极妥善处置、态度亲和认真，不断优化接处警制度。",
     "李志强", "ZHZX", "ZHZX", [STATIONS, "XZDD", "ZADD", "XJDD"], [
         ("接处警及时规范：全面落实110接处警工作规范，制定《110接处警勤务检查细则》", 4, 30),
         ("加大民警接处警培训力度：对接派警、反馈录入、出警时限、现场取证重点培训和调度检查",
          6, 30),
         ("每月立足警情分析全县治安状况，对高发、可防性案件提出打击防范对策并下发", 12, 31),
     ]),
    ("抓执法办案，提升执法工作质效促群众满意",
     "树立“行政案件快办、刑事案件快侦快破快挽损”理念，既要案结又要事了。",
     "李志强", "FZDD", "FZDD", [STATIONS, "XZDD", "ZADD", "JJDD"], [
         ("提高执法办案效率，实现法律效果与社会效果有机统一", 9, 30),
         ("积极妥善处理因案件办理引发的信访等不满意事项，第一时间找准症结", 6, 30),
         ("提高执法办案质量：规范办案程序和办案场所使用，加大网上巡查，全流程监管", 11, 30),
     ]),
    ("抓便民惠企，提升窗口单位服务水平促群众满意",
     "窗口服务“当场评价”“当场满意”，多警种简易高频业务“一窗通办”“一次办结”。",
     "王建国", "HZK", "HZK", ["HZK", "CRJ", "ZHZX"], [
         ("提升窗口单位服务效能，推动简易高频业务“一窗通办”“一次办结”", 5, 31),
         ("拓展网上办理应用场景，推出一批全程网办、秒批秒办事项，严格限时办结", 8, 31),
         ("做大做强“警企会客厅”，落实挂包联系企业机制，定期召开企业家座谈会", 10, 31),
     ]),
    ("抓电诈打防，提升电诈案件打防效能促群众满意",
     "坚持把电诈预警劝阻作为“防”的重要内容，精准预警、上门劝阻，能破尽破、能破快破。",
     "王建国", "XZDD", "XZDD", [STATIONS], [
         ("做实“反诈轻骑兵”，优化预警劝阻考核办法，当面见群众精准劝阻", 4, 15),
         ("开展社会面反诈宣传，发动网格员上门“一对一”宣传，降低发案减少损失", 12, 31),
         ("提升打击电诈能力，及时止付、冻结、研判，最大限度追赃挽损", 12, 31),
     ]),
    ("抓投诉回访，提升解决问题质效促群众满意",
     "分层级回访常态化，高效处理不满意事项，问题清单即时清空。",
     "王建国", "ZGS", "ZGS", [ALL], [
         ("分层级回访常态化：各科室队所回访本单位业务往来群众，民意访查中心不定期抽测",
          3, 31),
         ("高效处理不满意事项：汇总梳理后第一时间推送责任单位整改，健全反馈、通报、督办、问责机制",
          12, 31),
         ("创新回访机制平台，通过12345、好差评、民意电话访查等渠道收集热点难点问题", 9, 30),
     ]),
    ("抓校园安保，提升校园安全水平促群众满意",
     "“护校安园”常态化、“警校互动”实效化、“一校一警”制度化。",
     "李志强", "XJDD", "XJDD", ["ZADD", STATIONS], [
         ("“护校安园”常态化：落实高峰勤务和“护学岗”机制，督促学校落实重点时段警戒守护",
          9, 1),
         ("“警校互动”实效化：组织法制教育、反诈宣传进校园和师生进警营活动", 11, 15),
         ("“一校一警”制度化：一所学校确定一名挂包民警，制定突发事件处置预案并组织演练",
          6, 30),
     ]),
    ("抓公安宣传，提升队伍形象促群众满意",
     "坚持全域化宣传，线上线下相互补充，全面扩大宣传覆盖面。",
     "王建国", "ZGS", "ZGS", [ALL], [
         ("扩大宣传覆盖面：“指尖警务室”覆盖人数由20万人增加至30万人", 12, 31),
         ("提高宣传作品质量，展示打击力度、服务温度，及时宣传创满意工作成效", 10, 31),
         ("拓展宣传形式：用好微信、微博、抖音、快手、视频号，无人机赶大集、逛夜市", 8, 31),
     ]),
]
# The two tasks left behind (measure, task): their deadlines are moved to shortly before the
# day of loading, so that the demo shows them overdue whatever the day.
BEHIND = {(2, 2): 40, (6, 2): 9}
PROGRESS_WORDS = ["已部署", "稳步推进", "按计划推进", "基本完成阶段目标", "已完成"]


def _units(bureau: Unit, codes: list[str]) -> list[Unit]:
    below = Unit.objects.filter(path__startswith=bureau.path).exclude(pk=bureau.pk)
    chosen: list[Unit] = []
    for code in codes:
        if code == STATIONS:
            chosen += list(below.filter(kind=Unit.Kind.STATION).order_by("sort_order", "path"))
        elif code == ALL:
            chosen += list(below.order_by("sort_order", "path"))
        else:
            unit = below.filter(code=f"{bureau.code}-{code}").first()
            if unit is not None:
                chosen.append(unit)
    return list(dict.fromkeys(chosen))


def _person(unit: Unit, roles: tuple[str, ...] = (Role.UNIT_HEAD, Role.UNIT_HANDLER,
                                                  Role.OPINION_OFFICER, Role.DISPATCHER)
            ) -> User | None:
    membership = (Membership.objects.filter(unit=unit, role__in=roles)
                  .select_related("user").order_by("pk").first())
    return membership.user if membership else None


def _at(day: date, hour: int = 17) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


@transaction.atomic
def load(bureau: Unit, today: date | None = None) -> Programme | None:
    """Build the demo programme of the current year; None when the bureau has it already or
    lacks the people to run it."""
    today = today or timezone.localdate()
    year = today.year
    if Programme.objects.filter(bureau=bureau, year=year, title=f"{year}年{TITLE}").exists():
        return None
    manager = (User.objects.filter(memberships__role=Role.OPINION_OFFICER,
                                   memberships__unit__path__startswith=bureau.path)
               .order_by("pk").first())
    if manager is None:
        return None
    programme = actions.create_programme(
        actor=manager, bureau=bureau, year=year, title=f"{year}年{TITLE}",
        document_number=f"源公发〔{year}〕12号")
    start = date(year, 4, 1)  # the plan was issued on 30 March
    for number, (title, content, leader, lead, liaison_unit, codes, tasks) in enumerate(
            MEASURES, start=1):
        lead_unit = _units(bureau, [lead])[0]
        liaison = _person(_units(bureau, [liaison_unit])[0], (Role.UNIT_HANDLER,
                                                              Role.OPINION_OFFICER,
                                                              Role.DISPATCHER))
        measure = actions.add_measure(
            actor=manager, programme=programme, number=number, title=title, content=content,
            leader=leader, lead_unit=lead_unit,
            liaison=liaison.display_name if liaison else "",
            responsible_units=_units(bureau, codes))
        for task_number, (task_title, month, day) in enumerate(tasks, start=1):
            deadline = date(year, month, day)
            behind = BEHIND.get((number, task_number))
            if behind is not None:
                deadline = max(today - timedelta(days=behind), date(year, 1, 31))
            task = actions.add_task(actor=manager, measure=measure, number=task_number,
                                    title=task_title, deadline=deadline)
            _progress(task, manager, start, today, done=deadline < today and behind is None)
    return programme


def _progress(task: ProgrammeTask, manager: User, start: date, today: date,
              done: bool) -> None:
    """Monthly reports of the task's first two units up to this month (or the deadline's month
    for a finished task), then the completion by the lead unit's head."""
    last = min(today, task.deadline) if done else today
    months = _months(start, last)[-3:]
    total_days = max((task.deadline - start).days, 1)
    for unit in list(task.units.all())[:2]:
        reporter = _person(unit, (Role.UNIT_HEAD, Role.UNIT_HANDLER)) or manager
        for index, month in enumerate(months, start=1):
            if done and index == len(months):
                percent = 100
            else:
                elapsed = (min(month.replace(day=28), task.deadline) - start).days
                percent = max(10, min(90, round(100 * elapsed / total_days / 10) * 10))
                if task.deadline < today:
                    percent = 20 * index  # left behind: 20, 40, 60
            words = PROGRESS_WORDS[min(len(PROGRESS_WORDS) - 1, percent // 25)]
            if task.deadline < today and not done:
                words = "进度滞后，正在加紧推进"
            actions.report_progress(
                actor=reporter, task=task, unit=unit, month=month, percent_done=percent,
                text=f"{unit.label}：{re.split('[：，]', task.title)[0]}{words}，"
                     f"累计完成约 {percent}%。",
                now=_at(min(today, (month + timedelta(days=32)).replace(day=1)
                            - timedelta(days=3))))
    if done:
        head = _person(task.measure.lead_unit, (Role.UNIT_HEAD,)) or manager
        actions.mark_done(actor=head, task=task,
                          now=_at(task.deadline - timedelta(days=2)))
