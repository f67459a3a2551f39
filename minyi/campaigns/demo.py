"""The demo's special campaign: opened from the demo orders' hottest issue of the last complete
week, for two stations, by the demo dispatcher. Idempotent: a bureau that has a campaign gets
none more."""

from __future__ import annotations

from django.template.defaultfilters import floatformat
from django.utils import timezone

from minyi.campaigns import actions, hot, selectors
from minyi.campaigns.models import Campaign, Source
from minyi.orders.models import Order
from minyi.orgs.models import Area, Role, Unit, User

REQUIREMENTS = (
    "请各责任单位：一、逐件梳理本期相关工单，查清问题成因和集中的点位；"
    "二、对反映集中的点位开展集中整治，明确责任人和时间节点；"
    "三、对已办结工单开展回访，防止问题反弹；"
    "四、在完成期限前上报整治措施、成效和下一步打算。")


def _stations(bureau: Unit, source: str, key: str, period: hot.Period,
              orders: object) -> list[Unit]:
    """Two stations: those that led most of the issue's orders, filled up with the first
    stations of the bureau."""
    ids = selectors.suggested_units(orders, source, key, period, limit=5)
    if source == Source.AREA:
        ids += list(Area.objects.filter(pk=int(key)).values_list("station_id", flat=True))
    stations = list(Unit.objects.filter(pk__in=ids, kind=Unit.Kind.STATION))
    stations.sort(key=lambda u: ids.index(u.pk))
    for unit in Unit.objects.filter(path__startswith=bureau.path, kind=Unit.Kind.STATION,
                                    is_active=True).order_by("sort_order", "path"):
        if len(stations) >= 2:
            break
        if unit not in stations:
            stations.append(unit)
    return stations[:2]


def load_demo_campaigns(bureau: Unit) -> Campaign | None:
    """Open the demo campaign; None when the bureau has one already, or nothing to go on."""
    if Campaign.objects.filter(bureau=bureau).exists():
        return None
    dispatcher = (User.objects.filter(memberships__role=Role.DISPATCHER,
                                      memberships__unit__path__startswith=bureau.path)
                  .order_by("pk").first())
    if dispatcher is None:
        return None
    orders = Order.objects.filter(bureau=bureau)
    period = hot.default_period(hot.WEEK, timezone.localdate())
    report = selectors.hot_report(orders, period)
    rows = [r for r in report.order_types + report.areas if r.rise.current > 0]
    if not rows:
        return None
    # The same order the page ranks in: significant rises first, by p-value.
    row = min(rows, key=lambda r: (not r.rise.rising, r.rise.p_value if r.rise.p_value
                                   is not None else 2.0, -(r.rise.current - r.rise.expected)))
    stations = _stations(bureau, row.dimension, row.key, period, orders)
    if not stations:
        return None
    label = row.rise.label
    title = (f"{label}群众诉求集中问题专项整治" if row.dimension == Source.AREA
             else f"{label}问题专项整治")
    expected = floatformat(row.rise.expected, 1)
    change = (f"较前 4 周平均 {expected} 件上升 {row.rise.change:.0%}"
              if row.rise.change is not None and row.rise.change > 0
              else f"前 4 周平均 {expected} 件")
    return actions.issue_campaign(
        actor=dispatcher, bureau=bureau, title=title,
        requirements=f"{period.title}，「{label}」相关群众诉求 {row.rise.current} 件，"
                     f"{change}。{REQUIREMENTS}",
        units=stations, source_kind=row.dimension, source_key=row.key, source_label=label,
        source_period=period.label)
