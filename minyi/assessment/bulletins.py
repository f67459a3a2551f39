"""The weekly bulletin (每周通报): its figures, counted by the database, and the actions that
generate and regenerate it.

The figures are those of `minyi.orders.stats` (the same selection by receiving date, the same
aggregates for received, closed, on time and invalid), with the contact, callback and repeat
counts added, per handling unit and for the whole bureau. They are frozen into the bulletin
when it is generated, so the Monday bulletin reads the same whatever happens to its orders
afterwards; regenerating one is an explicit action with its own event.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from minyi.assessment.models import BulletinSettings, WeeklyBulletin
from minyi.assessment.rules import (
    COUNTS,
    Floors,
    IsoWeek,
    format_floor,
    judge,
    last_complete_week,
    rates,
)
from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.orders import stats
from minyi.orders.models import ReminderLetter, SupervisionNotice
from minyi.orders.rules import CallbackOutcome
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

VERSION = "assessment.bulletin/1"
SEQUENCE_KIND = "bulletin"
BUREAU_KINDS = (Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU)
# The units a bulletin names, in this order; other units under the bureau (the command centre)
# are named only in a week they led orders or were sent a notice or letter.
UNIT_KINDS = (Unit.Kind.STATION, Unit.Kind.SQUAD, Unit.Kind.OFFICE, Unit.Kind.TEAM)
# Who may generate and regenerate a bureau's bulletins: the opinion office that compiles them,
# the leaders and inspectors who use them, the administrators.
GENERATE_ROLES = frozenset({Role.OPINION_OFFICER, Role.BUREAU_LEADER, Role.INSPECTOR,
                            Role.ADMINISTRATOR})


def floors_for(bureau: Unit) -> Floors:
    row = BulletinSettings.objects.filter(bureau=bureau).first()
    if row is None:
        return Floors()
    return Floors(satisfaction=row.satisfaction_floor, on_time=row.on_time_floor,
                  contact=row.contact_floor, min_orders=row.min_orders,
                  basic_weight=row.basic_weight)


def definitions(floors: Floors) -> dict[str, str]:
    """The definitions (口径) every format of the bulletin states, with this bureau's floors."""
    weight = f"{floors.basic_weight.normalize():f}"
    return {
        "selection": "接单时间在该周周一 0:00 至下周一 0:00（北京时间）之间的本局工单"
                     f"（与工单统计 {stats.VERSION} 的日期口径相同），含无效工单",
        "unit": "按承办单位（lead_unit）统计，派出所、大队等单位含其下属中队；"
                "尚未转办（无承办单位）的工单只计入全局合计",
        "cutoff": "办结、联系、回访等状态以通报生成时（截止时刻）为准；通报生成后数据冻结，"
                  "重新生成须另行操作并留痕",
        "received": "受理：所选工单数（含无效工单）",
        "invalid": "无效：所选工单中被标记为无效的件数",
        "closed": "办结：所选工单中截至生成时状态为已办结的件数",
        "completion": "办结率 = 办结 ÷（受理 − 无效）",
        "on_time": "按时办结率 = 按时办结 ÷ 办结；按时办结指办理完成时间不晚于办理时限，"
                   "没有办理时限的算按时（工单统计口径）",
        "contact": "及时联系率 = 在联系时限内联系群众的件数 ÷ 有联系时限的件数"
                   "（未联系的算不及时）",
        "satisfaction": f"满意率 =（满意 + 基本满意 × {weight}）÷ 回访联系上的件数"
                        "（满意、基本满意、不满意）；未联系上的不计",
        "repeats": "重复投诉：所选工单中被判定为重复投诉的件数",
        "notices": "督办单、提醒函：该周下发给该单位（含下属单位）的件数，按下发时间计",
        "notices_unanswered": "逾期未答复督办单：截至生成时已过答复期限仍未答复的督办单"
                              "（不限下发周）",
        "red_list": f"红榜：受理工单（不含无效）不少于{floors.min_orders}件，满意率、"
                    "按时办结率、及时联系率均有数据且均不低于下限，且无逾期未答复督办单",
        "black_list": f"黑榜：满意率低于{format_floor(floors.satisfaction)}、按时办结率低于"
                      f"{format_floor(floors.on_time)}、及时联系率低于"
                      f"{format_floor(floors.contact)}（受理不足{floors.min_orders}件的单位"
                      "不按比率评判），或有逾期未答复督办单",
        "rounding": "比率以百分数保留一位小数（四舍五入），以保留后的数值与下限比较；"
                    "分母为零时记为“—”",
    }


def _extra_aggregates() -> dict[str, Any]:
    """What the bulletin counts beyond `orders.stats`, each the same set the order list's
    filter of that name selects (contact=…, callback=…, repeat=1)."""
    contact_due = Q(contact_due_at__isnull=False)
    return {
        "contact_due": Count("id", filter=contact_due),
        "contact_on_time": Count("id", filter=contact_due & Q(
            contacted_at__isnull=False, contacted_at__lte=F("contact_due_at"))),
        "contact_late": Count("id", filter=Q(contacted_at__gt=F("contact_due_at"))),
        "contact_none": Count("id", filter=contact_due & Q(contacted_at__isnull=True)),
        "cb_satisfied": Count("id", filter=Q(callback_outcome=CallbackOutcome.SATISFIED)),
        "cb_basic": Count("id", filter=Q(callback_outcome=CallbackOutcome.BASICALLY_SATISFIED)),
        "cb_dissatisfied": Count("id", filter=Q(callback_outcome=CallbackOutcome.DISSATISFIED)),
        "cb_not_reached": Count("id", filter=Q(callback_outcome=CallbackOutcome.NOT_REACHED)),
        "repeats": Count("id", filter=Q(is_repeat=True)),
    }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def bulletin_units(bureau: Unit, active_ids: set[int] = frozenset()) -> list[Unit]:
    """The units a bulletin of the bureau names: the handling units right under it."""
    children = Unit.objects.filter(parent=bureau).exclude(kind__in=BUREAU_KINDS)
    units = [u for u in children if (u.kind in UNIT_KINDS and u.is_active) or u.pk in active_ids]
    order = list(UNIT_KINDS)
    return sorted(units, key=lambda u: (order.index(u.kind) if u.kind in order else len(order),
                                        u.sort_order, u.path))


def _blank() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def _roll_up(rows: list[tuple[int | None, dict[str, int]]], paths: dict[int, str],
             tops: dict[int, str]) -> dict[int, dict[str, int]]:
    """Add the counts of each unit to the bulletin unit above it (or itself)."""
    sums: dict[int, dict[str, int]] = {}
    for unit_id, counts in rows:
        path = paths.get(unit_id or 0, "")
        top = next((pk for pk, top_path in tops.items() if path.startswith(top_path)), None)
        if top is None:
            continue
        target = sums.setdefault(top, _blank())
        for key, value in counts.items():
            target[key] += int(value or 0)
    return sums


def compute(*, bureau: Unit, week: IsoWeek, now: datetime | None = None,
            floors: Floors | None = None) -> dict[str, Any]:
    """The bulletin's figures for the bureau and week, counted now (the cut-off)."""
    now = now or timezone.now()
    floors = floors or floors_for(bureau)
    start, end = _day_start(week.monday), _day_start(week.sunday + timedelta(days=1))
    orders = stats.selection(bureau=bureau, date_from=week.monday, date_to=week.sunday).order_by()
    # The aggregates of `orders stats` (received, closed, closed on time …), and ours.
    aggregates = {**stats.aggregates(now), **_extra_aggregates()}
    order_keys = [k for k in COUNTS if k in aggregates]

    total = _blank()
    total.update({k: int(v or 0) for k, v in orders.aggregate(**aggregates).items()
                  if k in order_keys})
    per_unit = [(row["lead_unit_id"], {k: row[k] for k in order_keys})
                for row in orders.values("lead_unit_id").annotate(**aggregates)]

    notices = SupervisionNotice.objects.filter(bureau=bureau).order_by()
    letters = ReminderLetter.objects.filter(bureau=bureau).order_by()
    in_week = Q(issued_at__gte=start, issued_at__lt=end)
    unanswered = Q(issued_at__lt=now, reply_due_at__lt=now) & (
        Q(replied_at__isnull=True) | Q(replied_at__gt=now))
    doc_rows: list[tuple[int | None, dict[str, int]]] = []
    for qs, key, condition in ((notices, "notices", in_week), (letters, "letters", in_week),
                               (notices, "notices_unanswered", unanswered)):
        counted = list(qs.filter(condition).values("unit_id").annotate(n=Count("id")))
        total[key] = sum(row["n"] for row in counted)
        doc_rows += [(row["unit_id"], {key: row["n"]}) for row in counted]

    unit_ids = {pk for pk, _ in per_unit + doc_rows if pk}
    paths = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "path"))
    active_tops = {pk for pk, path in paths.items()
                   if path.startswith(bureau.path) and path != bureau.path}
    # A unit that led orders this week is named even if it is not a usual handling unit.
    active_ids = {int(path[len(bureau.path):].split(".")[0]) for pk, path in paths.items()
                  if pk in active_tops}
    units = bulletin_units(bureau, active_ids)
    tops = {u.pk: u.path for u in units}
    sums = _roll_up(per_unit + doc_rows, paths, tops)

    unit_rows = []
    for unit in units:
        counts = sums.get(unit.pk, _blank())
        unit_rows.append(_row(counts, floors, unit={
            "id": unit.pk, "code": unit.code, "name": unit.name, "kind": unit.kind}))
    total_row = _row(total, floors, unit=None)
    return {
        "version": VERSION,
        "stats_version": stats.VERSION,
        "bureau": {"id": bureau.pk, "code": bureau.code, "name": bureau.name},
        "week": {"label": week.label, "year": week.year, "week": week.week,
                 "from": week.monday.isoformat(), "to": week.sunday.isoformat()},
        "cutoff": timezone.localtime(now).isoformat(timespec="seconds"),
        "floors": floors.as_dict(),
        # A list, not an object: PostgreSQL's jsonb keeps no key order, and the definitions
        # are read in this order.
        "definitions": [{"key": key, "text": text}
                        for key, text in definitions(floors).items()],
        "total": total_row,
        "units": unit_rows,
    }


def _row(counts: dict[str, int], floors: Floors, *, unit: dict[str, Any] | None) -> dict:
    row_rates = rates(counts, floors.basic_weight)
    row: dict[str, Any] = {"unit": unit, **counts, "rates": row_rates}
    if unit is not None:
        verdict = judge(counts, row_rates, floors)
        row.update(judged=verdict.judged, list=verdict.list, reasons=list(verdict.reasons))
    return row


# --- actions -----------------------------------------------------------------------------------


def _check_may_generate(actor: Any, bureau: Unit) -> None:
    if actor is None or getattr(actor, "is_superuser", False):
        return
    if not access.bureau_role(actor, bureau, GENERATE_ROLES):
        raise NotAllowed("只有民意专员、局领导、督察和系统管理员可以生成通报")


def _check_week_started(week: IsoWeek, now: datetime) -> None:
    if week.monday > timezone.localdate(now):
        raise InvalidInput(f"{week.title_label}（{week.label}）尚未开始，不能生成通报")


def generate(*, actor: Any, bureau: Unit, week: IsoWeek,
             now: datetime | None = None) -> tuple[WeeklyBulletin, bool]:
    """The bureau's bulletin of the week: made, numbered and frozen now if there is none yet;
    otherwise the one made before, unchanged (created=False). Safe to run twice or at once."""
    now = now or timezone.now()
    _check_may_generate(actor, bureau)
    _check_week_started(week, now)
    existing = WeeklyBulletin.objects.filter(bureau=bureau, year=week.year,
                                             week=week.week).first()
    if existing is not None:
        return existing, False
    # Counted before taking any lock: the chain's lock stops every writer while it is held.
    snapshot = compute(bureau=bureau, week=week, now=now)
    try:
        with transaction.atomic():
            lock_chain()
            # Another run may have made it while we counted; the lock orders us after it.
            existing = WeeklyBulletin.objects.filter(bureau=bureau, year=week.year,
                                                     week=week.week).first()
            if existing is not None:
                return existing, False
            from minyi.orders.escalation import next_number

            bulletin = WeeklyBulletin.objects.create(
                bureau=bureau, year=week.year, week=week.week,
                number=next_number(bureau=bureau, kind=SEQUENCE_KIND, year=week.year),
                week_start=week.monday, week_end=week.sunday, generated_at=now,
                generated_by=actor if getattr(actor, "is_authenticated", False) else None,
                definitions_version=VERSION, snapshot=snapshot)
            record_event(actor=actor, obj=bulletin, action="bulletin.generate", payload={
                "number": bulletin.display_number, "week": week.label,
                "received": snapshot["total"]["received"], "closed": snapshot["total"]["closed"],
                "version": VERSION, "automatic": actor is None})
    except IntegrityError:
        # Made by a run in another process between our check and our insert.
        return WeeklyBulletin.objects.get(bureau=bureau, year=week.year, week=week.week), False
    return bulletin, True


def regenerate(*, actor: Any, bulletin: WeeklyBulletin,
               now: datetime | None = None) -> WeeklyBulletin:
    """Count the bulletin's week again now and replace its frozen figures (number kept)."""
    now = now or timezone.now()
    _check_may_generate(actor, bulletin.bureau)
    week = IsoWeek(bulletin.year, bulletin.week)
    snapshot = compute(bureau=bulletin.bureau, week=week, now=now)
    with transaction.atomic():
        bulletin = WeeklyBulletin.objects.select_for_update().get(pk=bulletin.pk)
        before = {"generated_at": bulletin.generated_at, "version": bulletin.definitions_version,
                  "received": bulletin.snapshot.get("total", {}).get("received"),
                  "closed": bulletin.snapshot.get("total", {}).get("closed")}
        bulletin.snapshot = snapshot
        bulletin.generated_at = now
        bulletin.generated_by = actor if getattr(actor, "is_authenticated", False) else None
        bulletin.definitions_version = VERSION
        bulletin.save(update_fields=["snapshot", "generated_at", "generated_by",
                                     "definitions_version", "updated_at"])
        record_event(actor=actor, obj=bulletin, action="bulletin.regenerate", before=before,
                     after={"generated_at": now, "version": VERSION,
                            "received": snapshot["total"]["received"],
                            "closed": snapshot["total"]["closed"]},
                     payload={"number": bulletin.display_number, "week": week.label})
    return bulletin


def bureaus() -> list[Unit]:
    return list(Unit.objects.filter(kind__in=BUREAU_KINDS, is_active=True).order_by("path"))


def generate_last_week(now: datetime | None = None) -> list[tuple[WeeklyBulletin, bool]]:
    """Monday 08:00: every bureau's bulletin of the week before (a second run makes none)."""
    now = now or timezone.now()
    week = last_complete_week(timezone.localdate(now))
    return [generate(actor=None, bureau=bureau, week=week, now=now) for bureau in bureaus()]


CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}


def export(bulletin: WeeklyBulletin, fmt: str) -> bytes:
    """The bulletin as a docx, xlsx or json file."""
    doc = document(bulletin)
    if fmt == "docx":
        from minyi.reports.bulletin_docx import bulletin_docx

        return bulletin_docx(doc)
    if fmt == "xlsx":
        from minyi.reports.bulletin_xlsx import bulletin_xlsx

        return bulletin_xlsx(doc)
    if fmt == "json":
        import json

        return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
    raise InvalidInput(f"不支持的格式「{fmt}」：应为 docx、xlsx 或 json")


def document(bulletin: WeeklyBulletin) -> dict[str, Any]:
    """The bulletin as the formatters (docx, xlsx, json) take it: its heading and the frozen
    figures."""
    by = bulletin.generated_by
    generated_by = by.display_name if by else "系统（自动生成）"
    return {
        "number": bulletin.display_number,
        "title": bulletin.title,
        "issuer": bulletin.bureau.name,
        "generated_at": timezone.localtime(bulletin.generated_at).isoformat(timespec="seconds"),
        "generated_by": generated_by,
        "definitions_version": bulletin.definitions_version,
        **bulletin.snapshot,
    }
