"""Reads for the hot-issue page and the campaign pages, always within what the user may see.

Hot issues read aggregates, never the orders themselves: one grouped query per dimension
(order type, demand kind, township or street) over the period and its baseline, each order put
in its period by a CASE on its receiving time. Keywords need the titles: those are read grouped
by title, for the period and the baseline only, and not at all beyond KEYWORD_ORDER_CAP orders
(the page says so). The orders counted are the user's visible orders, the same the order list
shows, so every count links to a list with the same number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Substr
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from minyi.campaigns import hot
from minyi.campaigns.actions import ISSUE_ROLES
from minyi.campaigns.models import Campaign, CampaignTask, Source
from minyi.core.audit import Event
from minyi.core.text import words
from minyi.orders.models import Order, OrderType
from minyi.orders.rules import DemandKind
from minyi.orders.selectors import OrderFilter
from minyi.orgs import access
from minyi.orgs.models import Area, Role, Unit

# A county's month and its three months of baseline are some ten thousand orders; a city's are
# millions, whose titles are not read into one process to count words.
KEYWORD_ORDER_CAP = 30_000
KEYWORD_ROWS = 30
# Who reads the hot issues: the roles that see every order of their bureau and act on them.
HOT_ROLES = (Role.DISPATCHER, Role.BUREAU_LEADER, Role.OPINION_OFFICER, Role.INSPECTOR,
             Role.ADMINISTRATOR)
# A township's or street's path is its own id: eight digits and a dot (see orgs.TreeNode).
TOP_PATH_LENGTH = 9


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _bucket(periods: list[hot.Period]) -> Case:
    return Case(*[When(received_at__gte=_start(p.start), received_at__lt=_start(p.end),
                       then=Value(i)) for i, p in enumerate(periods)],
                default=Value(-1), output_field=IntegerField())


def _grouped(window: QuerySet, key: Any, periods: int) -> dict[str, list[int]]:
    """Orders per value of `key` (an expression) and per period."""
    counts: dict[str, list[int]] = {}
    rows = window.annotate(key=key).values("bucket", "key").annotate(n=Count("pk")).order_by()
    for row in rows:
        if row["key"] in (None, "") or row["bucket"] < 0:
            continue
        counts.setdefault(str(row["key"]), [0] * periods)[row["bucket"]] += row["n"]
    return counts


def order_filter_supports(name: str) -> bool:
    """Whether the order list can filter by `name`: a count links only where it can."""
    return name in {f.name for f in fields(OrderFilter)}


def orders_url(first: date, last: date, **filters: Any) -> str:
    """The order list of the orders received from `first` to `last` (inclusive)."""
    params = {"received_from": first.isoformat(), "received_to": last.isoformat(), **filters}
    return reverse("orders:list") + "?" + urlencode(params)


@dataclass
class HotRow:
    """One row of a hot-issue table, with where its numbers lead."""

    dimension: str  # a Source value
    rise: hot.Rise
    current_url: str = ""
    baseline_url: str = ""
    campaign_url: str = ""

    @property
    def key(self) -> str:
        return self.rise.key

    @property
    def change_text(self) -> str:
        change = self.rise.change
        if change is None:
            return "新出现" if self.rise.current else "—"
        return f"{change:+.0%}"

    @property
    def p_text(self) -> str:
        p = self.rise.p_value
        if p is None:
            return "—"
        return "< 0.001" if p < 0.001 else f"{p:.3f}"


@dataclass
class HotReport:
    period: hot.Period
    baseline: list[hot.Period]
    totals: list[int]  # orders per period, the baseline's oldest first, the period last
    total_urls: tuple[str, str] = ("", "")
    order_types: list[HotRow] = field(default_factory=list)
    demand_kinds: list[HotRow] = field(default_factory=list)
    areas: list[HotRow] = field(default_factory=list)
    keywords: list[HotRow] = field(default_factory=list)
    keyword_note: str = ""
    unplaced: int = 0  # orders of the period without an area

    @property
    def current_total(self) -> int:
        return self.totals[-1]

    @property
    def baseline_total(self) -> int:
        return sum(self.totals[:-1])

    @property
    def baseline_last_day(self) -> date:
        return self.baseline[-1].last_day

    @property
    def baseline_mean(self) -> float:
        return hot.measure("", "", 0, self.totals[:-1], self.period, self.baseline).expected

    @property
    def rising(self) -> list[HotRow]:
        rows = self.order_types + self.demand_kinds + self.areas + self.keywords
        return sorted((r for r in rows if r.rise.rising), key=lambda r: r.rise.p_value)


def _rows(dimension: str, rises: list[hot.Rise], report: HotReport,
          filter_of: Any) -> list[HotRow]:
    first, last = report.baseline[0].start, report.baseline[-1].last_day
    out = []
    for rise in rises:
        filters = filter_of(rise.key)
        row = HotRow(dimension=dimension, rise=rise)
        if filters is not None:
            row.current_url = orders_url(report.period.start, report.period.last_day,
                                         **filters)
            row.baseline_url = orders_url(first, last, **filters)
        row.campaign_url = reverse("campaigns:new") + "?" + urlencode({
            "source": dimension, "key": rise.key, "period": report.period.label})
        out.append(row)
    return out


def hot_report(orders: QuerySet[Order], period: hot.Period,
               keyword_cap: int = KEYWORD_ORDER_CAP) -> HotReport:
    """The period against its baseline, per order type, demand kind, area and keyword."""
    baseline = hot.baseline_periods(period)
    periods = [*baseline, period]
    n = len(periods)
    window = orders.filter(received_at__gte=_start(periods[0].start),
                           received_at__lt=_start(period.end)).annotate(bucket=_bucket(periods))
    per_period = {row["bucket"]: row["n"] for row in
                  window.values("bucket").annotate(n=Count("pk")).order_by()}
    report = HotReport(period=period, baseline=baseline,
                       totals=[per_period.get(i, 0) for i in range(n)])
    report.total_urls = (orders_url(period.start, period.last_day),
                         orders_url(baseline[0].start, baseline[-1].last_day))

    types = _grouped(window, F("order_type__code"), n)
    type_names = dict(OrderType.objects.filter(code__in=types).values_list("code", "name"))
    report.order_types = _rows(Source.ORDER_TYPE, hot.rank(types, type_names, period, baseline),
                               report, lambda key: {"order_type": key})

    kinds = _grouped(window, F("demand_kind"), n)
    kind_filter = order_filter_supports("demand_kind")
    report.demand_kinds = _rows(
        Source.DEMAND_KIND, hot.rank(kinds, dict(DemandKind.choices), period, baseline), report,
        lambda key: {"demand_kind": key} if kind_filter else None)

    tops = _grouped(window.filter(area__isnull=False),
                    Substr("area__path", 1, TOP_PATH_LENGTH), n)
    areas = {a.path: a for a in Area.objects.filter(path__in=tops)}
    by_id = {str(areas[path].pk): row for path, row in tops.items() if path in areas}
    names = {str(a.pk): a.name for a in areas.values()}
    report.areas = _rows(Source.AREA, hot.rank(by_id, names, period, baseline), report,
                         lambda key: {"area": key})
    report.unplaced = report.current_total - sum(row[-1] for row in tops.values())

    in_window = sum(report.totals)
    if in_window > keyword_cap:
        report.keyword_note = (f"本期与基线期共 {in_window} 件，超过关键词统计的上限 "
                               f"{keyword_cap} 件，未统计关键词；请选择较短的周期。")
    else:
        titles = ((row["bucket"], row["title"], row["n"]) for row in
                  window.values("bucket", "title").annotate(n=Count("pk")).order_by()
                  if row["bucket"] >= 0)
        counts = hot.keyword_counts(titles, n, words)
        ranked = hot.rank(counts, {}, period, baseline)[:KEYWORD_ROWS]
        report.keywords = _rows(Source.KEYWORD, ranked, report, lambda key: {"q": key})
    return report


def hot_report_for(user: Any, period: hot.Period) -> HotReport:
    access.require_role(user, *HOT_ROLES)
    return hot_report(access.visible_orders(user), period)


def source_label(source: str, key: str) -> str:
    """A hot issue's name for people: the order type's name, the area's, the word itself."""
    if source == Source.ORDER_TYPE:
        return OrderType.objects.filter(code=key).values_list("name", flat=True).first() or ""
    if source == Source.DEMAND_KIND:
        return dict(DemandKind.choices).get(key, "")
    if source == Source.AREA:
        if not str(key).isdecimal():
            return ""
        return Area.objects.filter(pk=int(key)).values_list("name", flat=True).first() or ""
    if source == Source.KEYWORD:
        return key.strip()[:30]
    return ""


def source_orders(orders: QuerySet[Order], source: str, key: str,
                  period: hot.Period) -> QuerySet[Order]:
    """The period's orders of one hot issue (as its count on the page counts them)."""
    qs = orders.filter(received_at__gte=_start(period.start), received_at__lt=_start(period.end))
    if source == Source.ORDER_TYPE:
        return qs.filter(order_type__code=key)
    if source == Source.DEMAND_KIND:
        return qs.filter(demand_kind=key)
    if source == Source.AREA:
        area = Area.objects.filter(pk=int(key)).first() if str(key).isdecimal() else None
        return qs.filter(area__path__startswith=area.path) if area else qs.none()
    if source == Source.KEYWORD:
        return qs.filter(title__icontains=key)
    return qs.none()


def suggested_units(orders: QuerySet[Order], source: str, key: str, period: hot.Period,
                    limit: int = 2) -> list[int]:
    """The units a campaign on this issue would name first: the station of an area; else the
    units that led most of the issue's orders in the period."""
    if source == Source.AREA and str(key).isdecimal():
        station = Area.objects.filter(pk=int(key)).values_list("station_id", flat=True).first()
        return [station] if station else []
    rows = (source_orders(orders, source, key, period).filter(lead_unit__isnull=False)
            .values("lead_unit").annotate(n=Count("pk")).order_by("-n", "lead_unit")[:limit])
    return [row["lead_unit"] for row in rows]


# --- campaigns -------------------------------------------------------------------------------


def issuing_bureau(user: Any) -> Unit | None:
    """The bureau a dispatcher or leader issues campaigns for (their first such post)."""
    for membership in access.memberships_of(user):
        if membership.role in ISSUE_ROLES:
            return membership.unit.bureau()
    return None


def _scope(user: Any) -> tuple[list[str], list[str]] | None:
    """(bureau paths, unit paths): all campaigns of those bureaus, and those naming a unit in
    those subtrees. None means everything."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return [], []
    if user.is_superuser:
        return None
    bureaus, units = set(), set()
    for membership in access.memberships_of(user):
        if membership.role in access.ORDER_WIDE_ROLES:
            bureaus.add(membership.unit.bureau().path)
        else:
            units.add(membership.unit.path)
    return sorted(bureaus), sorted(units)


def _paths(field_name: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field_name}__startswith": path})
    return q


def visible_campaigns(user: Any) -> QuerySet[Campaign]:
    scope = _scope(user)
    if scope is None:
        return Campaign.objects.all()
    bureaus, units = scope
    q = _paths("bureau__path", bureaus)
    if units:
        q |= Exists(CampaignTask.objects.filter(_paths("unit__path", units),
                                                campaign=OuterRef("pk")))
    return Campaign.objects.filter(q)


def get_campaign_for_user(user: Any, pk: Any) -> Campaign:
    try:
        return visible_campaigns(user).select_related("bureau", "issued_by", "closed_by").get(
            pk=int(pk))
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该专项整治") from None


def sees_all_tasks(user: Any, campaign: Campaign) -> bool:
    scope = _scope(user)
    return scope is None or any(campaign.bureau.path.startswith(p) for p in scope[0])


def tasks_for(user: Any, campaign: Campaign) -> list[CampaignTask]:
    """The campaign's tasks the user sees: all for the bureau's people, a unit its own."""
    qs = campaign.tasks.select_related("unit", "signed_by", "reported_by", "accepted_by",
                                       "returned_by")
    if not sees_all_tasks(user, campaign):
        qs = qs.filter(_paths("unit__path", _scope(user)[1]))
    return list(qs.order_by("unit__sort_order", "unit__path"))


def get_task_for_user(user: Any, campaign: Campaign, pk: Any) -> CampaignTask:
    for task in tasks_for(user, campaign):
        if str(task.pk) == str(pk):
            task.campaign = campaign
            return task
    raise Http404("没有找到该任务")


def campaign_list(user: Any, state: str = "", now: datetime | None = None) -> QuerySet:
    """The campaigns the user sees with their progress: units in all, accepted, overdue."""
    now = now or timezone.now()
    qs = visible_campaigns(user).select_related("bureau", "issued_by")
    if state in Campaign.State.values:
        qs = qs.filter(state=state)
    accepted = Q(tasks__state=CampaignTask.State.ACCEPTED)
    return qs.annotate(
        units=Count("tasks"),
        done=Count("tasks", filter=accepted),
        overdue=Count("tasks", filter=~accepted & Q(deadline__lt=now)),
    ).order_by("-issued_at", "-id")


def open_tasks_of(user: Any) -> QuerySet[CampaignTask]:
    """What a unit has to do: tasks of its units in open campaigns, not yet accepted."""
    scope = _scope(user)
    if scope is None or not scope[1]:
        return CampaignTask.objects.none()
    return (CampaignTask.objects.filter(_paths("unit__path", scope[1]),
                                        campaign__state=Campaign.State.OPEN)
            .exclude(state=CampaignTask.State.ACCEPTED)
            .select_related("campaign", "unit").order_by("campaign__deadline", "pk"))


def timeline(user: Any, campaign: Campaign, tasks: list[CampaignTask]) -> QuerySet[Event]:
    """The campaign's events and those of the tasks the user sees, oldest first."""
    return (Event.objects.filter(
        Q(object_type=Campaign._meta.label_lower, object_id=str(campaign.pk))
        | Q(object_type=CampaignTask._meta.label_lower,
            object_id__in=[str(t.pk) for t in tasks]))
        .select_related("actor").order_by("id"))
