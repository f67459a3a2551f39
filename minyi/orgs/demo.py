"""The demo bureau: a county bureau shaped like the one in seed 000 (沂源县公安局's 2023 plan).

The townships are the county's; villages, people and phone numbers are made up. Loading is
idempotent: every row is looked up by its code or username first, and nothing that exists is
touched, so a second run writes nothing (no rows, no events).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from minyi.orgs import actions
from minyi.orgs.models import Area, Membership, Role, Unit, User

DEMO_PASSWORD = "Minyi@2026"
BUREAU_CODE = "370323"

# (code suffix, name, short name, kind, duty phone)
DEPARTMENTS = [
    ("ZHZX", "指挥中心", "指挥中心", Unit.Kind.COMMAND_CENTRE, "0533-3241110"),
    ("ZGS", "政工室（民意访查中心）", "政工室", Unit.Kind.OFFICE, "0533-3241201"),
    ("FZDD", "法制大队", "法制", Unit.Kind.SQUAD, "0533-3241302"),
    ("DCDD", "督察大队", "督察", Unit.Kind.SQUAD, "0533-3241303"),
    ("XZDD", "刑事侦查大队", "刑侦大队", Unit.Kind.SQUAD, "0533-3241304"),
    ("ZADD", "治安管理大队", "治安大队", Unit.Kind.SQUAD, "0533-3241305"),
    ("XJDD", "巡特警大队", "巡警大队", Unit.Kind.SQUAD, "0533-3241306"),
    ("JJDD", "交通警察大队", "交警大队", Unit.Kind.SQUAD, "0533-3241307"),
    ("HZK", "户政管理科", "户政科", Unit.Kind.OFFICE, "0533-3241408"),
    ("CRJ", "出入境管理科", "出入境科", Unit.Kind.OFFICE, "0533-3241409"),
]

# (township code suffix, township, kind, station name, [villages and communities])
TOWNSHIPS = [
    ("001", "历山街道", Area.Kind.STREET, "历山派出所",
     ["城关社区", "振兴路社区", "胜利社区", "儒林村"]),
    ("002", "南麻街道", Area.Kind.STREET, "南麻派出所",
     ["南麻社区", "龙山社区", "东安村", "北麻村"]),
    ("101", "鲁村镇", Area.Kind.TOWNSHIP, "鲁村派出所", ["鲁村", "徐家庄村", "安平村"]),
    ("102", "东里镇", Area.Kind.TOWNSHIP, "东里派出所", ["东里村", "下柳沟村", "东顺村"]),
    ("103", "悦庄镇", Area.Kind.TOWNSHIP, "悦庄派出所", ["悦庄村", "韩旺村", "东埠村"]),
    ("104", "西里镇", Area.Kind.TOWNSHIP, "西里派出所", ["西里村", "黄家宅村", "南坡村"]),
    ("105", "大张庄镇", Area.Kind.TOWNSHIP, "大张庄派出所", ["大张庄村", "石臼村", "石井村"]),
    ("106", "中庄镇", Area.Kind.TOWNSHIP, "中庄派出所", ["中庄村", "上崖村", "流水村"]),
    ("107", "张家坡镇", Area.Kind.TOWNSHIP, "张家坡派出所", ["张家坡村", "桃花坪村", "蒋家庄村"]),
    ("108", "燕崖镇", Area.Kind.TOWNSHIP, "燕崖派出所", ["燕崖村", "朱家户村", "姬家峪村"]),
    ("109", "石桥镇", Area.Kind.TOWNSHIP, "石桥派出所", ["石桥村", "米家庄村", "双埠村"]),
    ("110", "南鲁山镇", Area.Kind.TOWNSHIP, "南鲁山派出所", ["南鲁山村", "道士峪村", "西鲁山村"]),
]


@dataclass(frozen=True)
class Person:
    username: str
    full_name: str
    unit: str  # unit code suffix, "" for the bureau itself
    role: str
    title: str = ""
    is_staff: bool = False


# The people named in the README, one login per role.
KEY_PEOPLE = [
    Person("wangjianguo", "王建国", "", Role.BUREAU_LEADER, "局长"),
    Person("lizhiqiang", "李志强", "", Role.BUREAU_LEADER, "副局长"),
    Person("zhaomin", "赵敏", "ZHZX", Role.DISPATCHER, "指挥调度员"),
    Person("qianlei", "钱磊", "ZHZX", Role.DISPATCHER, "指挥调度员"),
    Person("sunli", "孙丽", "ZGS", Role.OPINION_OFFICER, "民意访查员"),
    Person("zhoutao", "周涛", "DCDD", Role.INSPECTOR, "督察民警"),
    Person("wugang", "吴刚", "FZDD", Role.LEGAL_REVIEWER, "法制员"),
    Person("fengjun", "冯军", "PCS01", Role.UNIT_HEAD, "所长"),
    Person("zhengwei", "郑伟", "PCS01", Role.UNIT_HANDLER, "社区民警"),
    Person("chenjing", "陈静", "", Role.ADMINISTRATOR, "系统管理员", is_staff=True),
]
# One login per role, in the order the README lists them.
DEMO_LOGINS = [p for p in KEY_PEOPLE if p.username not in {"lizhiqiang", "qianlei"}]

_SURNAMES = (
    "王李张刘陈杨黄周吴徐胡朱高林何郭马罗梁宋谢韩唐于董程曹袁邓许傅沈曾彭吕卢蒋蔡贾丁"
    "魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟万段"
)
_GIVEN = ["海涛", "建华", "晓东", "志刚", "立新", "永刚", "红梅", "海燕", "国庆", "秀英",
          "文博", "晨阳", "浩然", "宇航", "思远", "雪峰", "春生", "俊杰", "明亮", "丽娟",
          "爱民", "卫东", "振华", "德胜", "玉兰", "金凤", "新民", "光明", "学军", "保国"]


def _generated_name(index: int) -> str:
    return _SURNAMES[(index * 7) % len(_SURNAMES)] + _GIVEN[(index * 11) % len(_GIVEN)]


def _station_people() -> list[Person]:
    people: list[Person] = []
    index = 0
    for number in range(1, len(TOWNSHIPS) + 1):
        suffix = f"PCS{number:02d}"
        roles = [(Role.UNIT_HEAD, "所长"), (Role.UNIT_HANDLER, "社区民警"),
                 (Role.UNIT_HANDLER, "社区民警")]
        for slot, (role, title) in enumerate(roles):
            if number == 1 and slot < 2:
                continue  # 冯军 and 郑伟 of KEY_PEOPLE hold these posts at 历山派出所
            index += 1
            people.append(Person(f"0323{number:02d}{slot + 1}", _generated_name(index), suffix,
                                 role, title))
    for dept_number, (suffix, _name, _short, kind, _phone) in enumerate(DEPARTMENTS, start=1):
        if kind == Unit.Kind.SQUAD or suffix in {"HZK", "CRJ"}:
            index += 1
            people.append(Person(f"0323{50 + dept_number:02d}1", _generated_name(index), suffix,
                                 Role.UNIT_HEAD, "负责人"))
            index += 1
            people.append(Person(f"0323{50 + dept_number:02d}2", _generated_name(index), suffix,
                                 Role.UNIT_HANDLER, "民警"))
    return people


@dataclass
class LoadResult:
    created: int = 0


def _unit(result: LoadResult, *, code: str, **fields) -> Unit:
    existing = Unit.objects.filter(code=code).first()
    if existing is not None:
        return existing
    result.created += 1
    return actions.create_unit(actor=None, code=code, **fields)


def _area(result: LoadResult, *, code: str, **fields) -> Area:
    existing = Area.objects.filter(code=code).first()
    if existing is not None:
        return existing
    result.created += 1
    return actions.create_area(actor=None, code=code, **fields)


def _person(result: LoadResult, person: Person, units: dict[str, Unit]) -> User:
    user = User.objects.filter(username=person.username).first()
    if user is None:
        result.created += 1
        user = actions.create_user(
            actor=None,
            username=person.username,
            full_name=person.full_name,
            password=DEMO_PASSWORD,
            police_number=person.username if person.username.isdecimal() else "",
            is_staff=person.is_staff,
        )
    unit = units[person.unit]
    if not Membership.objects.filter(user=user, unit=unit, role=person.role).exists():
        result.created += 1
        actions.add_membership(actor=None, user=user, unit=unit, role=person.role,
                               title=person.title)
    return user


@transaction.atomic
def load_demo_bureau() -> LoadResult:
    result = LoadResult()
    bureau = _unit(result, code=BUREAU_CODE, name="沂源县公安局", short_name="县局",
                   kind=Unit.Kind.BUREAU, phone="0533-3241000")
    units: dict[str, Unit] = {"": bureau}
    for order, (suffix, name, short, kind, phone) in enumerate(DEPARTMENTS, start=1):
        units[suffix] = _unit(result, code=f"{BUREAU_CODE}-{suffix}", name=name,
                              short_name=short, kind=kind, parent=bureau, phone=phone,
                              sort_order=order)
    for number, (code, township, kind, station, villages) in enumerate(TOWNSHIPS, start=1):
        suffix = f"PCS{number:02d}"
        unit = _unit(result, code=f"{BUREAU_CODE}-{suffix}", name=station,
                     short_name=station.removesuffix("派出所"), kind=Unit.Kind.STATION,
                     parent=bureau, phone=f"0533-32{42000 + number:05d}", sort_order=100 + number)
        units[suffix] = unit
        top = _area(result, code=f"{BUREAU_CODE}{code}000", name=township, kind=kind,
                    station=unit, population=30000 + 4700 * number)
        for v, village in enumerate(villages, start=1):
            village_kind = Area.Kind.COMMUNITY if village.endswith("社区") else Area.Kind.VILLAGE
            _area(result, code=f"{BUREAU_CODE}{code}{v:03d}", name=village, kind=village_kind,
                  station=unit, parent=top, population=1200 + 310 * ((number + v) % 9))
    for person in [*KEY_PEOPLE, *_station_people()]:
        _person(result, person, units)
    return result
