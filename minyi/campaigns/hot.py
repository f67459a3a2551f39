"""Hot issues (热点): what rose most in a week or a month against the periods before it.

Pure functions, no database: periods and their baselines, the test that says whether a count
rose, the ranking, and the keyword counts of a set of titles.

The definition (口径), as the page states it:
- A period is an ISO week (2026-W47, Monday to Sunday) or a calendar month (2026-11), in local
  dates (Asia/Shanghai); an order belongs to the period its receiving time falls in, whatever
  its state (invalid orders included, as in the order list).
- The baseline is the periods just before: the 4 weeks before a week, the 3 months before a
  month. Its rate is scaled to the period's length in days (months differ in length); that is
  the "expected" count shown as 基线平均.
- Whether a count rose is the exact conditional test of two Poisson rates: given n = current +
  baseline orders, under "no change" the current period's share of them is binomial with
  p0 = days of the period / days of period and baseline together; the p-value is
  P(X >= current). A jump from 1 to 3 a week (baseline 4, n = 7, p0 = 1/5) has p = 0.148: not
  a rise. A rise (上升显著) needs p < 0.01 and at least 5 orders in the period.
- Keywords are the content words (jieba, `core.text.words`) of the titles; a keyword's count
  is the number of orders whose title contains it, once per order, which is exactly what the
  order list's keyword filter (q=…, titles) finds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from minyi.core.errors import InvalidInput

# Named on the page with the definition, so a figure can be traced to how it was computed.
DEFINITION_VERSION = "热点口径 2026.1"
WEEK = "week"
MONTH = "month"
BASELINE_PERIODS = {WEEK: 4, MONTH: 3}
MIN_CURRENT = 5
ALPHA = 0.01

_WEEK_TEXT = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")
_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class Period:
    """Local dates from `start` (inclusive) to `end` (exclusive)."""

    kind: str
    start: date
    end: date

    @property
    def label(self) -> str:
        """What the address bar and the period picker say: 2026-W47, 2026-11."""
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def title(self) -> str:
        """How people read it: 2026年第47周（11月16日—11月22日）, 2026年11月."""
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            last = self.last_day
            return (f"{year}年第{week}周（{self.start.month}月{self.start.day}日—"
                    f"{last.month}月{last.day}日）")
        return f"{self.start.year}年{self.start.month}月"

    def previous(self) -> Period:
        if self.kind == WEEK:
            return Period(WEEK, self.start - timedelta(days=7), self.start)
        last_month_end = self.start
        first = (last_month_end - timedelta(days=1)).replace(day=1)
        return Period(MONTH, first, last_month_end)

    def next(self) -> Period:
        if self.kind == WEEK:
            return Period(WEEK, self.end, self.end + timedelta(days=7))
        return month_period(self.end.year, self.end.month)


def week_period(year: int, week: int) -> Period:
    start = date.fromisocalendar(year, week, 1)
    return Period(WEEK, start, start + timedelta(days=7))


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(MONTH, start, end)


def parse_period(text: str) -> Period:
    """2026-W47 (an ISO week) or 2026-11 (a month); anything else is a clear error."""
    raw = (text or "").strip()
    if match := _WEEK_TEXT.match(raw):
        year, week = int(match[1]), int(match[2])
        try:
            return week_period(year, week)
        except ValueError:
            raise InvalidInput(f"{year} 年没有第 {week} 周") from None
    if match := _MONTH_TEXT.match(raw):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise InvalidInput(f"「{raw}」不是有效的月份（月份应为 1 到 12）")
        if year < 1900:
            raise InvalidInput(f"「{raw}」的年份不对")
        return month_period(year, month)
    raise InvalidInput(f"「{raw}」不是周或月：周写作 2026-W47，月写作 2026-11")


def period_containing(kind: str, day: date) -> Period:
    if kind == WEEK:
        year, week, _ = day.isocalendar()
        return week_period(year, week)
    return month_period(day.year, day.month)


def default_period(kind: str, today: date) -> Period:
    """The last complete week or month: a period still running would look like a fall."""
    return period_containing(kind, today).previous()


def baseline_periods(period: Period) -> list[Period]:
    """The periods the period is compared with, oldest first."""
    periods = [period.previous()]
    for _ in range(BASELINE_PERIODS[period.kind] - 1):
        periods.append(periods[-1].previous())
    return list(reversed(periods))


def recent_periods(today: date, weeks: int = 8, months: int = 6) -> list[Period]:
    """For the period picker: this week and the weeks before, this month and the months before."""
    out = [period_containing(WEEK, today)]
    for _ in range(weeks - 1):
        out.append(out[-1].previous())
    month = period_containing(MONTH, today)
    for _ in range(months):
        out.append(month)
        month = month.previous()
    return out


# --- the test ----------------------------------------------------------------------------------


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (n may be in the millions)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    total = 0.0
    mean = n * p
    for i in range(k, n + 1):
        term = math.exp(log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                        + i * log_p + (n - i) * log_q)
        total += term
        # Past the mode the terms only shrink: stop once they no longer change the sum.
        if i > mean and term <= total * 1e-17:
            break
    return min(total, 1.0)


def rise_p_value(current: int, baseline_total: int, share: float) -> float | None:
    """The one-sided p-value of "the period's rate is higher than the baseline's".

    `share` is the period's part of the days of period and baseline together. None when the
    count is not above what the baseline expects (nothing to test).
    """
    n = current + baseline_total
    expected = baseline_total * share / (1 - share)
    if current <= expected:
        return None
    return binomial_upper_tail(current, n, share)


@dataclass(frozen=True)
class Rise:
    """One category, area or keyword: its count in the period against its baseline."""

    key: str
    label: str
    current: int
    baseline: tuple[int, ...]  # per baseline period, oldest first
    expected: float  # the baseline's rate over the period's length (基线平均)
    p_value: float | None

    @property
    def baseline_total(self) -> int:
        return sum(self.baseline)

    @property
    def change(self) -> float | None:
        """Relative change against the expectation; None when the baseline had none."""
        if self.expected <= 0:
            return None
        return (self.current - self.expected) / self.expected

    @property
    def rising(self) -> bool:
        return (self.current >= MIN_CURRENT and self.p_value is not None
                and self.p_value < ALPHA)


def share_of(period: Period, baseline: Sequence[Period]) -> float:
    days = sum(p.days for p in baseline)
    return period.days / (period.days + days)


def measure(key: str, label: str, current: int, baseline: Sequence[int],
            period: Period, baseline_periods_: Sequence[Period]) -> Rise:
    share = share_of(period, baseline_periods_)
    total = sum(baseline)
    expected = total * period.days / sum(p.days for p in baseline_periods_)
    return Rise(key=key, label=label, current=current, baseline=tuple(baseline),
                expected=expected, p_value=rise_p_value(current, total, share))


def rank(counts: Mapping[str, Sequence[int]], labels: Mapping[str, str], period: Period,
         baseline: Sequence[Period]) -> list[Rise]:
    """Every key measured and ranked: significant rises first, by p-value, then the others by
    p-value, then by how far above the expectation; falls last.

    `counts[key]` is the counts per baseline period (oldest first) followed by the period's.
    """
    rises = []
    for key, row in counts.items():
        row = list(row)
        if len(row) != len(baseline) + 1:
            raise ValueError(f"{key}: {len(row)} counts for {len(baseline) + 1} periods")
        rises.append(measure(key, labels.get(key, key), row[-1], row[:-1], period, baseline))
    return sorted(rises, key=lambda r: (not r.rising,
                                        r.p_value if r.p_value is not None else 2.0,
                                        -(r.current - r.expected), r.label))


# --- keywords ----------------------------------------------------------------------------------


def keyword_counts(titles: Iterable[tuple[int, str, int]], periods: int,
                   tokenize: Callable[[str], Iterable[str]],
                   min_current: int = MIN_CURRENT) -> dict[str, list[int]]:
    """Per keyword, the orders whose title contains it, per period.

    `titles` are (period index, title, number of orders with that title in that period); the
    last index (periods - 1) is the period itself, the others the baseline. Candidates are the
    words of the period's titles; each is counted as a substring of every title, once per
    order, which is what a title search finds. Keywords with fewer than `min_current` orders
    in the period are left out, and so is a word inside a longer keyword with the very same
    counts (广场 when every one of its titles says 广场舞).
    """
    current = periods - 1
    by_title: dict[str, list[int]] = {}
    for index, title, n in titles:
        if not 0 <= index < periods:
            raise ValueError(f"period index {index} outside 0..{periods - 1}")
        text = (title or "").casefold()
        by_title.setdefault(text, [0] * periods)[index] += n
    texts = list(by_title)
    # Which titles hold each character: a word's titles are among those holding all of its
    # characters, so most substring tests are never made.
    holding: dict[str, set[int]] = {}
    for i, text in enumerate(texts):
        for char in set(text):
            holding.setdefault(char, set()).add(i)
    candidates: set[str] = set()
    for text, row in by_title.items():
        if row[current] > 0:
            candidates.update(word.casefold() for word in tokenize(text))
    out: dict[str, list[int]] = {}
    for word in candidates:
        sets = sorted((holding.get(char, set()) for char in set(word)), key=len)
        pool = set.intersection(*sets) if sets else set()
        row = [0] * periods
        for i in pool:
            if word in texts[i]:
                for j, n in enumerate(by_title[texts[i]]):
                    row[j] += n
        if row[current] >= min_current:
            out[word] = row
    shadowed = {word for word, row in out.items()
                if any(word != other and word in other and out[other] == row for other in out)}
    return {word: row for word, row in out.items() if word not in shadowed}
