"""The demo bureau's surveys: the questionnaire from the template, two quarterly waves with
quotas, sample frames and answers, a population table, the weights, and the province's and
city's averages to compare with.

- 2026年第三季度 is closed: every number of its frame ended (completed, refused, never
  reached, not a working number, an appointment not kept, a language barrier), so the AAPOR
  rates are real. 2026年第四季度 is fielding: most quotas nearly met, and a few numbers per
  township still to call or to call again, so the survey desk has work.
- The answers are made township by township with the shares fixed in `PROFILES` (the sense of
  security around 95–98% in the top three answers, satisfaction 85–95%), two townships clearly
  lower, 鲁村镇 much better in the fourth quarter than in the third, the others about the same:
  the results show changes both significant and not.
- Respondents are older and more often women than the population (as phone samples are), and
  the young answer a little less favourably, so weighting moves the figures. A few web
  respondents did not give their age: the raking uses the margins they have.
- The population table is the townships' residents (Area.population) aged 18 and over, split
  by sex and age group in the census's proportions for a rural county.
- The waves are set up, opened and closed through the actions (on the dates of their
  history); the frame, the calls and the answers are written in bulk.
- Both waves are raked to the table (the third quarter trimmed to 0.3–3 times the mean).
- The benchmarks are the province's and city's averages for 2025 and 2026, a little above the
  county's, as seed 003 reports the county behind them.

Deterministic (one seeded random generator). Idempotent: the questionnaire is found by its
template, a wave and the population table by name, benchmarks by index, label and year, and
what exists is left as it is; a second load writes nothing. The frame members, calls and
responses have no event each; one `survey.demo_load` event per wave says how many were made.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from minyi.callbacks.rules import next_call_time
from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.orgs.models import Area, Role, Unit, User
from minyi.surveys import actions, population, template, weights
from minyi.surveys.models import (
    AgeGroup,
    Benchmark,
    FrameMember,
    Mode,
    PopulationTable,
    Questionnaire,
    Response,
    SurveyAttempt,
    Wave,
    Weighting,
)
from minyi.surveys.selectors import bureau_townships

ACTION_LABELS = {"survey.demo_load": "载入演示调查数据"}

SEED = 20260930
TZ = ZoneInfo("Asia/Shanghai")
AGES = list(AgeGroup.values)

# Who the phone reaches, against who lives there (`POPULATION_*`).
SAMPLE_MEN = 0.44
SAMPLE_AGES = [0.09, 0.13, 0.19, 0.25, 0.34]
POPULATION_MEN = 0.505
POPULATION_AGES = [0.16, 0.15, 0.19, 0.21, 0.29]
ADULT_SHARE = 0.83
# How much less favourably each age group answers (the young most).
AGE_MOOD = {"18-29": 0.6, "30-39": 0.45, "40-49": 0.3, "50-59": 0.15, "60+": 0.0, "": 0.3}

POPULATION_NAME = "第七次人口普查18岁及以上人口（按乡镇推算）"
POPULATION_YEAR = 2020
POPULATION_SOURCE = "第七次全国人口普查分乡镇常住人口，按全县性别、年龄构成推算（演示数据）"


@dataclass(frozen=True)
class WaveSpec:
    name: str
    starts_on: date
    ends_on: date
    state: str
    quarter: int
    # The share of each township's quota completed so far (1 for a closed wave).
    completion: float
    trim: tuple[float | None, float | None] = (None, None)


WAVES = [
    WaveSpec("2026年第三季度群众安全感满意度调查", date(2026, 7, 1), date(2026, 9, 30),
             Wave.State.CLOSED, 3, 1.0, (0.3, 3.0)),
    WaveSpec("2026年第四季度群众安全感满意度调查", date(2026, 10, 1), date(2026, 12, 31),
             Wave.State.FIELDING, 4, 0.9, (None, 4.0)),
]
# The last day calls of the fielding wave were made on, in the demo's own history.
FIELDED_UNTIL = date(2026, 11, 20)

DEFAULT_QUOTA = 50
QUOTAS = {"历山街道": 70, "南麻街道": 70, "鲁村镇": 80}

# Shares per township: security (top three of five), satisfaction with the police, with the
# station, with traffic management, awareness of the campaign against organised crime, and
# satisfaction with it (among those aware). Townships not named have BASE.
BASE = {"security": 0.976, "sat_police": 0.92, "sat_station": 0.93, "sat_traffic": 0.86,
        "antigang_aware": 0.84, "antigang_sat": 0.87}
PROFILES: dict[str, dict[int, dict[str, float]]] = {
    "历山街道": {3: {"security": 0.985, "sat_police": 0.94, "sat_traffic": 0.82},
             4: {"security": 0.985, "sat_police": 0.945, "sat_traffic": 0.83}},
    "南麻街道": {3: {"sat_traffic": 0.80}, 4: {"sat_traffic": 0.81}},
    # 鲁村镇: a station that turned round after the third quarter's poor result.
    "鲁村镇": {3: {"security": 0.94, "sat_police": 0.80, "sat_station": 0.76},
            4: {"security": 0.985, "sat_police": 0.94, "sat_station": 0.94}},
    "石桥镇": {3: {"sat_police": 0.85, "sat_station": 0.84, "sat_traffic": 0.76},
            4: {"sat_police": 0.86, "sat_station": 0.85, "sat_traffic": 0.77}},
    "南鲁山镇": {3: {"security": 0.94, "sat_police": 0.86, "sat_station": 0.85,
                   "antigang_aware": 0.74},
             4: {"security": 0.945, "sat_police": 0.86, "sat_station": 0.86,
                 "antigang_aware": 0.75}},
    "燕崖镇": {3: {"sat_station": 0.95}, 4: {"sat_station": 0.96}},
}
CANNOT_SAY = {"sat_police": 0.03, "sat_station": 0.03, "sat_traffic": 0.02,
              "antigang_sat": 0.05}

PROBLEM_WEIGHTS = {"电信网络诈骗": 0.45, "盗窃": 0.35, "交通秩序": 0.25, "邻里纠纷": 0.15,
                   "噪音扰民": 0.12, "抢劫抢夺": 0.05, "黄赌毒": 0.04, "其他": 0.05}
SUGGESTIONS = [
    "希望晚上多在村里巡逻，特别是村口和小卖部附近。",
    "电信诈骗的宣传还要加强，老人最容易上当。",
    "学校门口上下学时车太多，希望交警多来疏导。",
    "派出所办户口的窗口中午也能开就好了。",
    "村里的监控有几个坏了，希望尽快修好。",
    "邻里纠纷调解后要回头看看，不然容易再吵起来。",
    "电动车被偷的案子希望尽快破案。",
    "民警态度很好，希望继续保持。",
    "夜里有人飙车，噪音很大，希望管一管。",
    "希望多开展防诈骗进村入户宣传。",
    "路口缺少红绿灯，早晚高峰容易出事故。",
    "社区民警经常来走访，感觉很安心。",
]

# Outcomes of the numbers that did not end in a completed interview, per completed one.
NONRESPONSE = [("R", 0.26), ("UH", 0.30), ("NE", 0.15), ("NC", 0.03), ("O", 0.01)]
OPEN_PENDING = 5
OPEN_RETRY = 3
WEB_SHARE = 0.10
WEB_AGE_UNKNOWN = 0.2

BENCHMARK_SOURCE = "{year}年{scope}群众安全感满意度调查通报（演示数据）"
# (index code, 全省平均, 全市平均) for 2025; 2026 adds the given step to both.
BENCHMARKS = [
    ("security", Decimal("97.80"), Decimal("97.45")),
    ("sat-police", Decimal("91.50"), Decimal("90.80")),
    ("sat-station", Decimal("92.10"), Decimal("91.40")),
    ("antigang-aware", Decimal("86.50"), Decimal("84.90")),
    ("antigang-sat", Decimal("88.20"), Decimal("87.10")),
    ("sat-traffic", Decimal("86.30"), Decimal("85.10")),
    ("participation", Decimal("44.80"), Decimal("42.30")),
]
BENCHMARK_YEARS = {2025: Decimal("0"), 2026: Decimal("0.10")}


@dataclass
class SurveyDemoResult:
    created: int = 0
    waves: list[Wave] = field(default_factory=list)
    responses: int = 0


def _officer(bureau: Unit) -> User | None:
    return (User.objects.filter(memberships__role=Role.OPINION_OFFICER,
                                memberships__unit__path__startswith=bureau.path, is_active=True)
            .order_by("pk").first())


def _at(rng: random.Random, start: date, end: date) -> datetime:
    """A moment within the call hours of a day between start and end."""
    day = start + timedelta(days=rng.randrange((end - start).days + 1))
    minutes = rng.randrange(9 * 60, 20 * 60 + 30)
    return datetime.combine(day, time(minutes // 60, minutes % 60), TZ)


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = rng.choice(("133", "135", "138", "139", "150", "152", "158", "159", "187",
                            "188")) + f"{rng.randrange(10 ** 8):08d}"
        if phone not in used:
            used.add(phone)
            return phone


# --- answers --------------------------------------------------------------------------------


def _split(rng: random.Random, order: Sequence[int], shares: Sequence[tuple[str, float]]
           ) -> dict[int, str]:
    """Give the indices in `order` the labels in `shares`, in that order, by rounded counts."""
    out: dict[int, str] = {}
    start = 0
    for position, (label, share) in enumerate(shares):
        count = (len(order) - start if position == len(shares) - 1
                 else round(share * len(order)))
        for i in order[start:start + count]:
            out[i] = label
        start += count
    return out


def _scale(rng: random.Random, mood: list[float], base: Sequence[int], positive: float,
           labels: tuple[str, str, str | None], split: float) -> dict[int, str]:
    """A satisfaction-like item over the respondents `base`: exactly round(positive × n)
    favourable answers; the least favourable go to the moodiest, with noise."""
    score = {i: mood[i] + rng.gauss(0, 0.35) for i in base}
    order = sorted(base, key=lambda i: score[i])
    favourable = round(positive * len(order))
    top, middle, bottom = labels
    out = _split(rng, order[:favourable], [(top, split), (middle, 1 - split)])
    for i in order[favourable:]:
        out[i] = bottom if bottom else middle
    return out


def _answers(rng: random.Random, people: list[tuple[str, str]], shares: dict[str, float]
             ) -> list[dict[str, Any]]:
    n = len(people)
    everyone = list(range(n))
    mood = [AGE_MOOD[age] + rng.gauss(0, 0.3) for _sex, age in people]
    answers: list[dict[str, Any]] = [{} for _ in everyone]

    score = {i: mood[i] + rng.gauss(0, 0.35) for i in everyone}
    order = sorted(everyone, key=lambda i: score[i])
    safe = round(shares["security"] * n)
    security = _split(rng, order[:safe], [("很安全", 0.45), ("安全", 0.38), ("基本安全", 0.17)])
    security.update(_split(rng, order[safe:], [("不太安全", 0.75), ("不安全", 0.25)]))
    for i, value in security.items():
        answers[i]["security"] = value

    def satisfaction(code: str, base: list[int]) -> None:
        unsure = set(rng.sample(base, round(CANNOT_SAY[code] * len(base))))
        valid = [i for i in base if i not in unsure]
        for i in unsure:
            answers[i][code] = "不清楚"
        for i, value in _scale(rng, mood, valid, shares[code], ("满意", "基本满意", "不满意"),
                               0.68).items():
            answers[i][code] = value

    satisfaction("sat_police", everyone)
    satisfaction("sat_station", everyone)
    shuffled = everyone[:]
    rng.shuffle(shuffled)
    aware_count = round(shares["antigang_aware"] * n)
    aware = set(shuffled[:aware_count])
    for i in everyone:
        answers[i]["antigang_aware"] = "知道" if i in aware else "不知道"
    satisfaction("antigang_sat", sorted(aware))
    satisfaction("sat_traffic", everyone)
    rng.shuffle(shuffled)
    for i, value in _split(rng, shuffled, [("经常参加", 0.09), ("偶尔参加", 0.31),
                                           ("从未参加", 0.60)]).items():
        answers[i]["participation"] = value

    ratings = {"满意": (7, 8, 8, 9, 9, 10, 10), "基本满意": (6, 7, 7, 8),
               "不满意": (2, 3, 4, 5, 6), "不清楚": (5, 6, 7, 8)}
    problems = list(PROBLEM_WEIGHTS)
    for i in everyone:
        if rng.random() < 0.88:
            answers[i]["police_rating"] = rng.choice(ratings[answers[i]["sat_station"]])
        if rng.random() < 0.75:
            count = rng.choice((1, 1, 2, 2, 3))
            picked: list[str] = []
            while len(picked) < count:
                choice = rng.choices(problems, weights=list(PROBLEM_WEIGHTS.values()))[0]
                if choice not in picked:
                    picked.append(choice)
            answers[i]["problems"] = [p for p in template.PROBLEMS if p in picked]
        if rng.random() < 0.18:
            answers[i]["suggestion"] = rng.choice(SUGGESTIONS)
    return answers


# --- frame, calls, responses ----------------------------------------------------------------


@dataclass
class _Member:
    member: FrameMember
    attempts: list[tuple[datetime, str, str]]  # (at, disposition, outcome)
    response: dict[str, Any] | None = None


def _attempts_for(rng: random.Random, outcome: str, start: date, end: date
                  ) -> list[tuple[datetime, str, str]]:
    first = _at(rng, start, end)
    later = [first + timedelta(hours=2 + 22 * k) for k in range(5)]
    if outcome == "I":
        if rng.random() < 0.3:
            return [(first, "no_answer", "UH"), (later[0], "answered", "I")]
        return [(first, "answered", "I")]
    if outcome == "R":
        return [(first, rng.choice(("refused", "refused", "hung_up")), "R")]
    if outcome == "UH":
        return [(t, rng.choice(("no_answer", "no_answer", "busy", "switched_off")), "UH")
                for t in [first, *later[:2]]]
    if outcome == "NE":
        return [(first, rng.choice(("invalid_number", "invalid_number", "suspended",
                                     "wrong_number")), "NE")]
    if outcome == "NC":
        return [(first, "no_answer", "UH")] + [(t, "appointment", "NC") for t in later[:4]]
    return [(first, "language", "O")]


def _township_members(rng: random.Random, wave: Wave, spec: WaveSpec, area: Area,
                      quota: int, used: set[str]) -> list[_Member]:
    last_day = min(spec.ends_on, FIELDED_UNTIL)
    completes = round(quota * spec.completion)
    outcomes = ["I"] * completes
    for outcome, per in NONRESPONSE:
        outcomes += [outcome] * round(per * completes)
    rng.shuffle(outcomes)
    made: list[_Member] = []
    for outcome in outcomes:
        sex = "M" if rng.random() < SAMPLE_MEN else "F"
        age = rng.choices(AGES, weights=SAMPLE_AGES)[0]
        member = FrameMember(wave=wave, origin=FrameMember.Origin.IMPORTED, area=area,
                             sex=sex, age_group=age)
        member.set_phone(_phone(rng, used))
        entry = _Member(member, [])
        if outcome == "I" and rng.random() < WEB_SHARE:
            entry.response = {"mode": Mode.WEB, "at": _at(rng, spec.starts_on, last_day)}
            if rng.random() < WEB_AGE_UNKNOWN:
                member.age_group = ""
        else:
            entry.attempts = _attempts_for(rng, outcome, spec.starts_on, last_day)
            if outcome == "I":
                entry.response = {"mode": Mode.PHONE, "at": entry.attempts[-1][0]}
        member.outcome = outcome
        member.attempts = len(entry.attempts)
        member.state = FrameMember.State.DONE if outcome == "I" else FrameMember.State.CLOSED
        member.closed_at = (entry.response["at"] if entry.response
                            else entry.attempts[-1][0])
        made.append(entry)
    if spec.state == Wave.State.FIELDING:
        now = timezone.now()
        for k in range(OPEN_PENDING + OPEN_RETRY):
            member = FrameMember(wave=wave, origin=FrameMember.Origin.IMPORTED, area=area,
                                 sex="M" if rng.random() < SAMPLE_MEN else "F",
                                 age_group=rng.choices(AGES, weights=SAMPLE_AGES)[0])
            member.set_phone(_phone(rng, used))
            entry = _Member(member, [])
            if k >= OPEN_PENDING:
                called = _at(rng, FIELDED_UNTIL - timedelta(days=3), FIELDED_UNTIL)
                entry.attempts = [(called, "no_answer", "UH")]
                member.state = FrameMember.State.RETRY
                member.attempts = 1
                member.outcome = "UH"  # the desk keeps the last call's class on the number
                # Due now for some, later today for the others: the desk has work at once.
                member.next_attempt_at = next_call_time(now + timedelta(hours=2 * (k % 2)))
            made.append(entry)
    return made


def _load_wave(rng: random.Random, bureau: Unit, actor: User, version: Any, spec: WaveSpec,
               townships: list[Area]) -> tuple[Wave, int]:
    wave = actions.create_wave(actor=actor, version=version, name=spec.name,
                               starts_on=spec.starts_on, ends_on=spec.ends_on)
    actions.set_quotas(actor=actor, wave=wave, targets={
        a: QUOTAS.get(a.name, DEFAULT_QUOTA) for a in townships})
    used: set[str] = set()
    entries: list[_Member] = []
    answers_by_area: dict[int, list[dict[str, Any]]] = {}
    for area in townships:
        quota = QUOTAS.get(area.name, DEFAULT_QUOTA)
        made = _township_members(rng, wave, spec, area, quota, used)
        entries += made
        people = [(e.member.sex, e.member.age_group) for e in made if e.response]
        shares = {**BASE, **PROFILES.get(area.name, {}).get(spec.quarter, {})}
        answers_by_area[area.pk] = _answers(rng, people, shares)
    FrameMember.objects.bulk_create([e.member for e in entries], batch_size=1000)
    SurveyAttempt.objects.bulk_create([
        SurveyAttempt(member=e.member, number=k, caller_user=actor, at=at, disposition=code,
                      outcome=outcome)
        for e in entries for k, (at, code, outcome) in enumerate(e.attempts, start=1)
    ], batch_size=2000)
    stations = {a.pk: a.station_id for a in townships}
    responses = []
    for e in entries:
        if not e.response:
            continue
        member = e.member
        responses.append(Response(
            wave=wave, member=member, mode=e.response["mode"],
            answers=answers_by_area[member.area_id].pop(0), area_id=member.area_id,
            station_id=stations[member.area_id], sex=member.sex, age_group=member.age_group,
            interviewer=actor if e.response["mode"] == Mode.PHONE else None,
            completed_at=e.response["at"]))
    Response.objects.bulk_create(responses, batch_size=1000)
    # Opened and closed on the days the wave's history says (the events are dated today).
    wave = actions.open_wave(actor=actor, wave=wave,
                             now=datetime.combine(spec.starts_on, time(8, 30), TZ))
    if spec.state == Wave.State.CLOSED:
        wave = actions.close_wave(actor=actor, wave=wave,
                                  now=datetime.combine(spec.ends_on, time(17, 30), TZ))
    with transaction.atomic():
        lock_chain()
        record_event(actor=actor, obj=wave, action="survey.demo_load",
                     after={"members": len(entries), "responses": len(responses),
                            "attempts": sum(len(e.attempts) for e in entries)})
    return wave, len(responses)


def _population(bureau: Unit, actor: User, townships: list[Area]) -> tuple[PopulationTable,
                                                                            bool]:
    found = PopulationTable.objects.filter(bureau=bureau, name=POPULATION_NAME,
                                           year=POPULATION_YEAR).first()
    if found is not None:
        return found, False
    table = population.create_population_table(actor=actor, bureau=bureau,
                                               name=POPULATION_NAME, year=POPULATION_YEAR,
                                               source=POPULATION_SOURCE)
    counts: dict[tuple[int, str, str], int | None] = {}
    for area in townships:
        adults = (area.population or 40000) * ADULT_SHARE
        for sex, sex_share in (("M", POPULATION_MEN), ("F", 1 - POPULATION_MEN)):
            for age, age_share in zip(AGES, POPULATION_AGES, strict=True):
                counts[(area.pk, sex, age)] = round(adults * sex_share * age_share)
    population.save_population_cells(actor=actor, table=table, counts=counts)
    return table, True


def _benchmarks(bureau: Unit, actor: User) -> int:
    made = 0
    for year, step in BENCHMARK_YEARS.items():
        for code, province, city in BENCHMARKS:
            for label, value in (("全省平均", province), ("全市平均", city)):
                if Benchmark.objects.filter(bureau=bureau, index_code=code, label=label,
                                            year=year).exists():
                    continue
                weights.save_benchmark(actor=actor, bureau=bureau, index_code=code,
                                       label=label, year=year, value=value + step,
                                       source=BENCHMARK_SOURCE.format(year=year, scope=label[:2]))
                made += 1
    return made


def load_demo_surveys(bureau: Unit, actor: User | None = None) -> SurveyDemoResult | None:
    """Load the demo surveys into `bureau` (by its first opinion officer unless `actor` is
    given); None when the bureau has no opinion officer or no townships. Idempotent."""
    actor = actor or _officer(bureau)
    townships = list(bureau_townships(bureau))
    if actor is None or not townships:
        return None
    result = SurveyDemoResult()
    questionnaire = (Questionnaire.objects.filter(bureau=bureau,
                                                  template_code=template.TEMPLATE_CODE)
                     .order_by("pk").first())
    if questionnaire is None:
        questionnaire = actions.create_questionnaire_from_template(actor=actor, bureau=bureau)
        result.created += 1
    version = questionnaire.versions.order_by("number").first()
    table, made = _population(bureau, actor, townships)
    result.created += int(made)
    for spec in WAVES:
        wave = Wave.objects.filter(bureau=bureau, name=spec.name).first()
        if wave is None:
            with transaction.atomic():
                # A generator per wave: a wave made on a later load is the same as on the first.
                rng = random.Random(SEED + spec.quarter)
                wave, responses = _load_wave(rng, bureau, actor, version, spec, townships)
            result.created += 1
            result.responses += responses
        result.waves.append(wave)
        if not Weighting.objects.filter(wave=wave).exists():
            lower, upper = spec.trim
            weights.weigh_wave(actor=actor, wave=wave, table=table,
                               method=Weighting.Method.RAKE, trim_lower=lower,
                               trim_upper=upper)
            result.created += 1
    result.created += _benchmarks(bureau, actor)
    return result


def register() -> None:
    register_action_labels(ACTION_LABELS)
