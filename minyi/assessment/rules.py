"""The weekly bulletin's pure rules (no database): ISO weeks, rates, the red and black lists,
and the sentences that state the figures.

Kept apart from the queries so that each rule is tested with exact numbers and no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from minyi.core.errors import InvalidInput

# --- ISO weeks ---------------------------------------------------------------------------------

WEEK_PATTERN = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    """A Monday–Sunday week by its ISO 8601 number (2026-W47)."""

    year: int
    week: int

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def title_label(self) -> str:
        """As the bulletin's title says it: 2026年第47周."""
        return f"{self.year}年第{self.week}周"

    @property
    def span_label(self) -> str:
        """11月16日至11月22日 (the year once, as the dates read in a sentence)."""
        start, end = self.monday, self.sunday
        head = f"{start.year}年{start.month}月{start.day}日"
        tail = f"{end.month}月{end.day}日" if end.year == start.year else \
            f"{end.year}年{end.month}月{end.day}日"
        return f"{head}至{tail}"

    def previous(self) -> IsoWeek:
        return week_of(self.monday - timedelta(days=7))

    def next(self) -> IsoWeek:
        return week_of(self.monday + timedelta(days=7))


def weeks_in_year(year: int) -> int:
    # 28 December always lies in the year's last ISO week.
    return date(year, 12, 28).isocalendar()[1]


class WeekError(InvalidInput):
    """A week string that names no ISO week: the message in Chinese, `english` for consoles."""

    def __init__(self, message: str, english: str) -> None:
        super().__init__(message)
        self.english = english


def parse_week(text: str) -> IsoWeek:
    """`2026-W47` (also `2026W47`, `2026-w47`) as an IsoWeek; anything else is a WeekError
    that names the value."""
    match = WEEK_PATTERN.match(text or "")
    if not match:
        raise WeekError(f"无法识别的周「{text}」：应写作 2026-W47 这样的 ISO 周",
                        f"invalid ISO week {text!r}, expected e.g. 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9999 or not 1 <= week <= weeks_in_year(year):
        last = weeks_in_year(year) if 1 <= year <= 9999 else 52
        raise WeekError(f"无效的周「{text}」：{year}年只有第1至第{last}周",
                        f"invalid ISO week {text!r}: {year} has weeks 1-{last}")
    return IsoWeek(year, week)


def week_of(day: date | datetime) -> IsoWeek:
    if isinstance(day, datetime):
        day = day.date()
    year, week, _ = day.isocalendar()
    return IsoWeek(year, week)


def last_complete_week(today: date) -> IsoWeek:
    """The Monday–Sunday week before the one `today` falls in."""
    return week_of(today - timedelta(days=7))


# --- floors and rates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Floors:
    """What a unit must reach not to be named on the black list (percent), the weight of a
    "basically satisfied" answer, and the fewest orders a unit must have to be judged."""

    satisfaction: Decimal = Decimal("85")
    on_time: Decimal = Decimal("90")
    contact: Decimal = Decimal("95")
    min_orders: int = 5
    basic_weight: Decimal = Decimal("1")

    def as_dict(self) -> dict[str, Any]:
        return {"satisfaction": str(self.satisfaction), "on_time": str(self.on_time),
                "contact": str(self.contact), "min_orders": self.min_orders,
                "basic_weight": str(self.basic_weight)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Floors:
        return cls(satisfaction=Decimal(data["satisfaction"]), on_time=Decimal(data["on_time"]),
                   contact=Decimal(data["contact"]), min_orders=int(data["min_orders"]),
                   basic_weight=Decimal(data["basic_weight"]))


# The counts each row of a bulletin carries (the bureau's total and each unit).
COUNTS = ("received", "invalid", "closed", "closed_on_time", "closed_late", "contact_due",
          "contact_on_time", "contact_late", "contact_none", "cb_satisfied", "cb_basic",
          "cb_dissatisfied", "cb_not_reached", "repeats", "notices", "letters",
          "notices_unanswered")
RATES = ("completion", "on_time", "contact", "satisfaction")
ONE_DECIMAL = Decimal("0.1")


def percent(numerator: Decimal | int, denominator: int) -> Decimal | None:
    """numerator / denominator as a percentage with one decimal, half up; None for 0/0."""
    if not denominator:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def rates(counts: dict[str, int], basic_weight: Decimal = Decimal("1")) -> dict[str, float | None]:
    """The four rates of a row of counts, in percent with one decimal (None: nothing to divide
    by, shown as —)."""
    reached = counts["cb_satisfied"] + counts["cb_basic"] + counts["cb_dissatisfied"]
    values = {
        "completion": percent(counts["closed"], counts["received"] - counts["invalid"]),
        "on_time": percent(counts["closed_on_time"], counts["closed"]),
        "contact": percent(counts["contact_on_time"], counts["contact_due"]),
        "satisfaction": percent(counts["cb_satisfied"] + counts["cb_basic"] * basic_weight,
                                reached),
    }
    return {key: float(value) if value is not None else None for key, value in values.items()}


RATE_LABELS = {"completion": "办结率", "on_time": "按时办结率", "contact": "及时联系率",
               "satisfaction": "满意率"}
JUDGED_RATES = (("satisfaction", "satisfaction"), ("on_time", "on_time"),
                ("contact", "contact"))


@dataclass(frozen=True)
class Verdict:
    judged: bool  # enough orders to be judged on its rates
    list: str  # "red", "black" or ""
    reasons: tuple[str, ...]  # why it is on the black list


def judge(counts: dict[str, int], unit_rates: dict[str, float | None],
          floors: Floors) -> Verdict:
    """Red: judged, every judged rate known and at or above its floor, no notice left
    unanswered. Black: a judged rate below its floor, or a notice left unanswered past its
    reply deadline (named whatever the unit's volume: it is a failure in itself)."""
    judged = counts["received"] - counts["invalid"] >= floors.min_orders
    reasons: list[str] = []
    complete = True
    if judged:
        for rate_key, floor_key in JUDGED_RATES:
            value = unit_rates[rate_key]
            floor = getattr(floors, floor_key)
            if value is None:
                complete = False
            elif Decimal(str(value)) < floor:
                reasons.append(f"{RATE_LABELS[rate_key]}{format_rate(value)}，"
                               f"低于{format_floor(floor)}")
    if counts["notices_unanswered"]:
        reasons.append(f"逾期未答复督办单{counts['notices_unanswered']}件")
    if reasons:
        return Verdict(judged, "black", tuple(reasons))
    if judged and complete:
        return Verdict(judged, "red", ())
    return Verdict(judged, "", ())


# --- how the figures read ----------------------------------------------------------------------


def format_count(value: int | None) -> str:
    return f"{value or 0:,}"


def format_rate(value: float | Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(str(value)).quantize(ONE_DECIMAL)}%"


def format_floor(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"{text}%"


Segment = tuple[str, str]  # (text, the figure's key, "" for plain text)


def headline_segments(total: dict[str, Any], week: IsoWeek, *,
                      scope: str = "全局") -> list[list[Segment]]:
    """The opening sentences of the bulletin, each a list of pieces of text, the figures as
    pieces of their own (keyed) so that a page can link each to the orders it counts."""
    r = total["rates"]

    def n(key: str) -> Segment:
        return format_count(total[key]), key

    def rate(key: str) -> Segment:
        return format_rate(r[key]), key

    first = f"{week.span_label}（{week.title_label}），{scope}"
    if not total["received"]:
        sentences = [[(first + "未受理群众诉求工单。", "")]]
    else:
        reached = total["cb_satisfied"] + total["cb_basic"] + total["cb_dissatisfied"]
        invalid = [("（其中无效工单", ""), n("invalid"), ("件）", "")] if total["invalid"] else []
        sentences = [[
            (f"{first}共受理群众诉求工单", ""), n("received"), ("件", ""), *invalid,
            ("，办结", ""), n("closed"), ("件，办结率", ""), rate("completion"),
            ("；按时办结", ""), n("closed_on_time"), ("件，按时办结率", ""), rate("on_time"),
            ("；及时联系群众", ""), n("contact_on_time"), ("件，及时联系率", ""), rate("contact"),
            (f"；回访联系上{format_count(reached)}件，满意", ""), n("cb_satisfied"),
            ("件、基本满意", ""), n("cb_basic"), ("件、不满意", ""), n("cb_dissatisfied"),
            ("件，满意率", ""), rate("satisfaction"), ("。", ""),
        ]]
    last = [("下发督办单", ""), n("notices"), ("件、提醒函", ""), n("letters"),
            ("件，重复投诉", ""), n("repeats"), ("件", "")]
    if total["notices_unanswered"]:
        last += [("；逾期未答复的督办单", ""), n("notices_unanswered"), ("件", "")]
    sentences.append([*last, ("。", "")])
    return sentences


def headline(total: dict[str, Any], week: IsoWeek, *, scope: str = "全局") -> list[str]:
    """The opening sentences of the bulletin, with the figures written out."""
    return ["".join(text for text, _key in sentence)
            for sentence in headline_segments(total, week, scope=scope)]


def lists_sentences(units: list[dict[str, Any]], floors: Floors) -> list[str]:
    """The red and black lists as sentences, and who was not judged."""
    red = [u["unit"]["name"] for u in units if u["list"] == "red"]
    black = [f"{u['unit']['name']}（{'；'.join(u['reasons'])}）" for u in units
             if u["list"] == "black"]
    unjudged = [u["unit"]["name"] for u in units if not u["judged"] and not u["list"]]
    sentences = [
        "红榜：" + ("、".join(red) if red else "无") + "。",
        "黑榜：" + ("；".join(black) if black else "无") + "。",
    ]
    if unjudged:
        sentences.append(f"受理工单（不含无效）不足{floors.min_orders}件的单位不按比率评判："
                         + "、".join(unjudged) + "。")
    return sentences
