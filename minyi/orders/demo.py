"""Demo orders for the demo bureau: a few weeks of 12345 and 110 demands in every state.

Every order goes through the real actions, so each has its whole timeline and audit events.
The actions take "now" from the clock; to give the demo a history of weeks, each step runs with
the clock set to the moment it would have happened (a demo-only device: nothing else sets the
clock). A step that would fall after the real now is not taken, which leaves the recent orders
open, and those past their deadline overdue. External ids make a second load change nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

from minyi.core.errors import MinyiError
from minyi.intake.models import Channel
from minyi.orders import actions
from minyi.orders.models import Order, OrderType
from minyi.orgs.demo import BUREAU_CODE
from minyi.orgs.models import Area, Role, Unit, User

DEMO_ORDERS = 320
DAYS_BACK = 35
SEED = 20261122

# (order type code, demand kind, title, content) — the kinds of demand seed 001 names.
DEMANDS = [
    ("noise", "complaint", "夜间广场舞噪音扰民",
     "小区广场舞音响每晚放到十点以后，影响孩子上网课。"),
    ("noise", "complaint", "楼上装修噪音", "楼上装修周末早上七点就开始电钻作业。"),
    ("noise", "complaint", "烧烤店深夜喧哗", "沿街烧烤店凌晨一两点仍有人喝酒吵闹。"),
    ("public_order", "report", "小区电动车电池被盗",
     "停在楼下的电动车电池昨夜被人偷走，要求查处。"),
    ("public_order", "complaint", "门市部夜间被撬", "沿街门市部卷帘门被撬，丢失现金和香烟。"),
    ("case_progress", "consultation", "询问被盗案件进展",
     "上月报案的电动车被盗案，想了解侦办进展。"),
    ("fraud", "help", "遭遇刷单诈骗求助", "在网上刷单被骗两万元，已报案，希望尽快止付追回。"),
    ("fraud", "consultation", "询问撤案程序", "被骗资金已追回，想申请撤案，派出所说不符合程序。"),
    ("hukou", "consultation", "新生儿落户需要哪些材料",
     "孩子刚出生，想了解落户需要准备的材料和办理地点。"),
    ("hukou", "complaint", "户籍窗口排队时间长", "上午在户籍窗口排队两个多小时，希望增加窗口。"),
    ("exit_entry", "consultation", "护照加急办理", "下月出国务工，询问护照能否加急办理。"),
    ("traffic", "complaint", "学校门口上下学拥堵", "小学门口上下学时段车辆乱停，存在安全隐患。"),
    ("traffic", "suggestion", "路口增设信号灯", "振兴路与胜利街路口车流量大，建议增设信号灯。"),
    ("help", "help", "老人走失求助", "家中七旬老人早上出门未归，患有阿尔茨海默症。"),
    ("help", "help", "钥匙反锁家中", "孩子一人在家，钥匙被反锁在屋内，请求帮助开锁。"),
    ("dispute", "help", "邻里宅基地纠纷", "与邻居因宅基地界限发生争执，希望派出所协调。"),
    ("dispute", "complaint", "物业纠纷未得到处理", "与物业因停车费发生纠纷，之前反映后无人处理。"),
    ("conduct", "complaint", "反映民警处警态度", "报警后出警民警态度生硬，没有耐心听完情况。"),
    ("consult", "consultation", "无犯罪记录证明开具", "单位要求开具无犯罪记录证明，询问办理流程。"),
    ("consult", "consultation", "居住证办理咨询", "外地来沂源工作，询问居住证办理条件。"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董"
CALL_NAMES = ["先生", "女士"]
REASONS_DISSATISFIED = ["问题没有解决，噪音依旧", "民警只是电话答复，没有到现场", "处理太慢"]


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _working_moment(rng: random.Random, day: datetime) -> datetime:
    hour = rng.choice([8, 9, 9, 10, 10, 11, 14, 15, 15, 16, 17, 19, 21])
    return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60),
                       microsecond=0)


def load_demo_orders(count: int = DEMO_ORDERS) -> int:
    """Load the demo orders; returns how many were created (0 on a second run)."""
    bureau = Unit.objects.filter(code=BUREAU_CODE).first()
    if bureau is None:
        return 0
    channels = {c.code: c for c in Channel.objects.all()}
    types = {t.code: t for t in OrderType.objects.all()}
    if "12345" not in channels or not types:
        return 0
    people = {role: list(User.objects.filter(memberships__role=role,
                                             memberships__unit__path__startswith=bureau.path)
                         .order_by("pk"))
              for role in Role.values}
    handlers: dict[int, list[User]] = {}
    for user in User.objects.filter(memberships__role__in=[Role.UNIT_HANDLER, Role.UNIT_HEAD],
                                    memberships__unit__path__startswith=bureau.path
                                    ).prefetch_related("memberships"):
        for m in user.memberships.all():
            handlers.setdefault(m.unit_id, []).append(user)
    villages = list(Area.objects.filter(station__path__startswith=bureau.path,
                                        parent__isnull=False).select_related("station", "parent"))
    dispatchers = people[Role.DISPATCHER]
    if not dispatchers or not villages:
        return 0
    now = timezone.now()
    start_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    created = 0
    for index in range(count):
        external_id = f"DEMO-{index + 1:04d}"
        if Order.objects.filter(bureau=bureau, external_id=external_id).exists():
            continue
        # One generator per order, so that the orders already there do not shift the others.
        rng = random.Random(SEED * 10_000 + index)
        channel = channels["12345"] if rng.random() < 0.7 else channels[
            rng.choice(sorted(c for c in channels if c != "12345"))]
        type_code, kind, title, content = rng.choice(DEMANDS)
        # Older orders are rarer than recent ones, as in a growing pilot.
        days_ago = min(int(rng.expovariate(1 / 12)), DAYS_BACK)
        received_at = _working_moment(rng, start_day - timedelta(days=days_ago))
        # Drawn whether used or not, so that the time of day the demo is loaded at does not
        # shift the rest of the order's story.
        minutes_ago = rng.randrange(5, 90)
        if received_at > now:
            received_at = now - timedelta(minutes=minutes_ago)
        village = rng.choice(villages)
        station = village.station
        dispatcher = rng.choice(dispatchers)
        unit_people = handlers.get(station.pk) or []
        if not unit_people:
            continue
        officer = rng.choice(unit_people)
        leader_assigned = rng.random() < 0.04
        citizen_name = rng.choice(SURNAMES) + rng.choice(CALL_NAMES)
        citizen_phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        citizen_address = f"{village.parent.name}{village.name}{rng.randrange(1, 80)}号"
        location = f"{village.name}{rng.randrange(1, 300)}号附近"
        with _clock(received_at):
            order, was_created = actions.receive_order(
                actor=dispatcher, bureau=bureau, channel=channel, order_type=types[type_code],
                # Callers say where: without it the demo's twenty stock texts would all read
                # as repeats of each other within a township.
                demand_kind=kind, title=title, content=f"{location}，{content}",
                citizen_name=citizen_name, citizen_phone=citizen_phone,
                citizen_address=citizen_address, area=village, location=location,
                is_leader_assigned=leader_assigned,
                leader_instruction="请迅速核查处理，及时回复群众。" if leader_assigned else "",
                external_id=external_id, received_at=received_at,
            )
        if not was_created:
            continue
        created += 1
        _advance(order, rng, now, received_at, dispatcher, officer, station, people, villages)
    return created


def _advance(order: Order, rng: random.Random, now: datetime, t: datetime, dispatcher: User,
             officer: User, station: Unit, people: dict[str, list[User]],
             villages: list[Area]) -> None:
    """Take the order as far along the loop as the time since it came in allows."""
    reviewers = people[Role.LEGAL_REVIEWER] + dispatchers_or(people, dispatcher)
    opinion = people[Role.OPINION_OFFICER] or [dispatcher]
    # Some orders stop at a stage whatever their age, so that every state is on show.
    stop = rng.choices(["", "received", "signed", "reported", "reviewed", "fed_back",
                        "return_requested"], weights=[73, 3, 4, 5, 5, 5, 5])[0]
    if stop == "received":
        return

    def step(minutes: float, action, **kwargs) -> bool:
        nonlocal t
        moment = t + timedelta(minutes=minutes)
        if moment > now:
            return False
        t = moment
        try:
            with _clock(moment):
                action(order=order.pk, **kwargs)
        except MinyiError:
            return False
        return True

    if rng.random() < 0.02:
        step(rng.uniform(5, 60), actions.mark_invalid, actor=dispatcher,
             reason="同一号码当日反复来电，内容与公安业务无关")
        return
    if not step(rng.uniform(5, 50), actions.dispatch_order, actor=dispatcher, lead_unit=station):
        return
    if stop == "return_requested" or rng.random() < 0.05:
        if not step(rng.uniform(10, 90), actions.request_return, actor=officer,
                    reason="经核实事发地不在本所辖区") or stop == "return_requested":
            return
        approve = rng.random() < 0.5
        if not step(rng.uniform(30, 240), actions.decide_return, actor=dispatcher,
                    approve=approve,
                    note="" if approve else "经核实属你所辖区，请继续办理"):
            return
        if approve:
            other = rng.choice([v.station for v in villages if v.station_id != station.pk])
            if not step(rng.uniform(5, 30), actions.dispatch_order, actor=dispatcher,
                        lead_unit=other):
                return
            return  # the new unit has not started yet in this story
    if not step(rng.uniform(3, 40), actions.sign_order, actor=officer) or stop == "signed":
        return
    # Mostly within the hour of seed 001; sometimes late.
    if not step(rng.uniform(5, 50) if rng.random() < 0.85 else rng.uniform(70, 300),
                actions.contact_citizen, actor=officer,
                method="phone" if rng.random() < 0.7 else "visit",
                note="已与群众取得联系，了解诉求"):
        return
    late = rng.random() < 0.12
    if not step(rng.uniform(600, 3000) if late else rng.uniform(40, 300), actions.report_order,
                actor=officer, result="已到现场核实并依法处理，向群众说明了处理结果。",
                measures="现场调解、教育劝诫，明确后续回访时间。",
                resolved=rng.random() > 0.08) or stop == "reported":
        return
    if rng.random() < 0.08:
        if not step(rng.uniform(30, 120), actions.review_order, actor=rng.choice(reviewers),
                    passed=False, reason="办理结果表述不清，请补充与群众沟通的具体情况"):
            return
        if not step(rng.uniform(60, 400), actions.report_order, actor=officer,
                    result="补充：已再次上门与群众面对面沟通，群众表示理解。",
                    measures="上门回访，留下联系方式"):
            return
    if not step(rng.uniform(20, 180), actions.review_order, actor=rng.choice(reviewers),
                passed=True) or stop == "reviewed":
        return
    if not step(rng.uniform(10, 60), actions.feed_back_order, actor=dispatcher) or (
            stop == "fed_back"):
        return
    roll = rng.random()
    outcome = ("satisfied" if roll < 0.78 else "basically_satisfied" if roll < 0.88
               else "dissatisfied" if roll < 0.95 else "not_reached")
    caller = rng.choice(opinion)
    if not step(rng.uniform(600, 1800), actions.record_callback, actor=caller, outcome=outcome,
                note=rng.choice(REASONS_DISSATISFIED) if outcome == "dissatisfied" else ""):
        return
    if outcome == "dissatisfied" and rng.random() < 0.7:
        step(rng.uniform(30, 120), actions.redo_order, actor=caller,
             reason="回访不满意，重新办理")
        return
    step(rng.uniform(5, 60), actions.close_order, actor=caller,
         note="已向群众充分解释，诉求不符合法律规定" if outcome == "dissatisfied" else "")


def dispatchers_or(people: dict[str, list[User]], fallback: User) -> list[User]:
    return people[Role.DISPATCHER] or [fallback]
