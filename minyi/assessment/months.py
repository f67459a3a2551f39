"""The monthly assessment (月度考核): a bureau's units scored for a month under the year's
scheme, live while the month is open, frozen into a snapshot when it is closed.

The scores are read from the kept monthly figures (`facts`) and the hand-entered values, never
from the orders: `run` recounts the month first (facts.recount), the page reads what is kept.
Closing recomputes and freezes scores, ranks, rank ranges, intervals and the definitions
(indicator codes and versions) used; reopening needs a reason and is an event; closing again
makes a new snapshot. Every state change is an event in the audit chain.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from minyi.assessment import bulletins, facts, scoring
from minyi.assessment import indicators as ind
from minyi.assessment.models import AssessmentMonth, Indicator, ManualValue, Scheme, SchemeItem
from minyi.assessment.selectors import figure_link, linkable_units, user_bureaus
from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

VERSION = "assessment.months/1"
# Who runs, closes and reopens a month and keeps the scheme and the hand-entered values.
MANAGE_ROLES = frozenset({Role.OPINION_OFFICER, Role.BUREAU_LEADER, Role.ADMINISTRATOR})
MONTH_PATTERN = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
RULE_LABELS = dict(SchemeItem.Rule.choices)


class MonthError(InvalidInput):
    """A month string that names no month: the message in Chinese, `english` for consoles."""

    def __init__(self, message: str, english: str) -> None:
        super().__init__(message)
        self.english = english


def parse_month(text: str) -> date:
    """`2026-10` as date(2026, 10, 1); anything else is a MonthError naming the value."""
    match = MONTH_PATTERN.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise MonthError(f"无法识别的月份「{text}」：应写作 2026-10 这样的年-月",
                         f"invalid month {text!r}, expected e.g. 2026-10")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def month_title(month: date) -> str:
    return f"{month.year}年{month.month}月"


def month_end(month: date) -> date:
    return month.replace(day=monthrange(month.year, month.month)[1])


# --- the scheme --------------------------------------------------------------------------------

# The default scheme: (indicator code, points, target, rule, rule params). 100 points in all.
DEFAULT_ITEMS: list[tuple[str, str, str | None, str, dict[str, Any]]] = [
    ("satisfaction", "30", "95", "linear", {"floor": "80"}),
    ("on_time", "20", "95", "linear", {"floor": "70"}),
    ("contact", "15", "98", "linear", {"floor": "80"}),
    ("completion", "10", None, "rank", {}),
    ("rectification_on_time", "10", "100", "linear", {"floor": "60"}),
    ("notices", "10", None, "deduction", {"per_event": "2", "cap": "10"}),
    ("notices_unanswered", "5", None, "deduction", {"per_event": "5"}),
    ("veto_events", "0", None, "veto", {}),
]


def may_manage(user: Any, bureau: Unit) -> bool:
    return user is None or getattr(user, "is_superuser", False) or \
        access.bureau_role(user, bureau, MANAGE_ROLES)


def _check_manage(actor: Any, bureau: Unit) -> None:
    if not may_manage(actor, bureau):
        raise NotAllowed("只有民意专员、局领导和系统管理员可以管理月度考核")


def latest_indicator(code: str) -> Indicator:
    found = (Indicator.objects.filter(bureau=None, code=code, is_active=True)
             .order_by("-version").first())
    if found is None:
        raise InvalidInput(f"没有代码为「{code}」的内置指标")
    return found


def create_default_scheme(*, actor: Any, bureau: Unit, year: int) -> Scheme:
    """The year's scheme from the built-in indicators (DEFAULT_ITEMS); an existing one is an
    error."""
    _check_manage(actor, bureau)
    if Scheme.objects.filter(bureau=bureau, year=year).exists():
        raise InvalidInput(f"{year}年的考核方案已存在")
    with transaction.atomic():
        lock_chain()
        try:
            with transaction.atomic():
                scheme = Scheme.objects.create(
                    bureau=bureau, year=year, name=f"{year}年度群众满意度考核方案",
                    unit_kinds=[Unit.Kind.STATION], min_count=10)
        except IntegrityError:
            raise InvalidInput(f"{year}年的考核方案已存在") from None
        for position, (code, weight, target, rule, params) in enumerate(DEFAULT_ITEMS, 1):
            SchemeItem.objects.create(
                scheme=scheme, indicator=latest_indicator(code), position=position,
                weight=Decimal(weight), target=Decimal(target) if target else None,
                rule=rule, params=params)
        record_event(actor=actor, obj=scheme, action="assessment.scheme_create", payload={
            "year": year, "items": [code for code, *_ in DEFAULT_ITEMS]})
    return scheme


def _closed_months(scheme: Scheme) -> list[str]:
    return [month_title(m) for m in scheme.months.filter(
        state=AssessmentMonth.State.CLOSED).values_list("month", flat=True)]


def update_item(*, actor: Any, item: SchemeItem, weight: Decimal, target: Decimal | None,
                rule: str, params: dict[str, Any]) -> SchemeItem:
    """Change an item's points, target, rule or rule params. Closed months keep the scores
    they were frozen with; open months are scored anew."""
    _check_manage(actor, item.scheme.bureau)
    if rule not in RULE_LABELS:
        raise InvalidInput(f"未知的计分规则「{rule}」")
    if weight < 0:
        raise InvalidInput("分值不能为负数")
    if rule == "linear" and target is None:
        raise InvalidInput("达标线性计分须填写目标值")
    if not isinstance(params, dict):
        raise InvalidInput("规则参数应为 JSON 对象，如 {\"floor\": \"80\"}")
    with transaction.atomic():
        lock_chain()
        item = SchemeItem.objects.select_for_update().get(pk=item.pk)
        before = {"weight": item.weight, "target": item.target, "rule": item.rule,
                  "params": item.params}
        item.weight, item.target, item.rule, item.params = weight, target, rule, params
        item.save(update_fields=["weight", "target", "rule", "params"])
        record_event(actor=actor, obj=item.scheme, action="assessment.scheme_item_update",
                     before=before, after={"weight": weight, "target": target, "rule": rule,
                                           "params": params},
                     payload={"indicator": item.indicator.label,
                              "closed_months_kept": _closed_months(item.scheme)})
    return item


def set_manual_value(*, actor: Any, indicator: Indicator, unit: Unit, month: date,
                     value: Decimal, numerator: int | None = None,
                     denominator: int | None = None, note: str = "") -> ManualValue:
    """Enter (or change) a unit's hand-entered figure for a month. A closed month refuses."""
    bureau = unit.bureau()
    _check_manage(actor, bureau)
    month = month.replace(day=1)
    if indicator.kind != Indicator.Kind.MANUAL:
        raise InvalidInput(f"「{indicator.name}」由系统计算，不能手工填报")
    if (numerator is None) != (denominator is None):
        raise InvalidInput("分子和分母须同时填写或同时不填")
    if denominator is not None and (numerator < 0 or denominator <= 0 or numerator > denominator):
        raise InvalidInput("分子应为 0 至分母之间的整数，分母应大于 0")
    if value < 0:
        raise InvalidInput("数值不能为负数")
    with transaction.atomic():
        lock_chain()
        closed = AssessmentMonth.objects.filter(bureau=bureau, month=month,
                                                state=AssessmentMonth.State.CLOSED).exists()
        if closed:
            raise InvalidInput(f"{month_title(month)}的考核已关账，不能修改填报值；"
                               "如确需修改，请先重新打开该月（须填写理由）")
        row = ManualValue.objects.filter(indicator=indicator, unit=unit, month=month).first()
        before = None
        if row is None:
            row = ManualValue(indicator=indicator, unit=unit, month=month)
        else:
            before = {"value": row.value, "numerator": row.numerator,
                      "denominator": row.denominator}
        row.value, row.numerator, row.denominator = value, numerator, denominator
        row.note, row.entered_by = note, actor
        row.save()
        record_event(actor=actor, obj=row, action="assessment.manual_value", before=before,
                     after={"value": value, "numerator": numerator, "denominator": denominator},
                     payload={"indicator": indicator.label, "unit": unit.name,
                              "month": month_label(month)})
    return row


# --- scoring a month ---------------------------------------------------------------------------


def scheme_for(bureau: Unit, year: int) -> Scheme | None:
    return Scheme.objects.filter(bureau=bureau, year=year).first()


def assessed_units(bureau: Unit, scheme: Scheme) -> list[Unit]:
    units = bulletins.bulletin_units(bureau)
    if scheme.unit_kinds:
        units = [u for u in units if u.kind in scheme.unit_kinds]
    return units


def _item_dict(item: SchemeItem) -> dict[str, Any]:
    i = item.indicator
    return {"code": i.code, "version": i.version, "label": i.label, "name": i.name,
            "kind": i.kind, "formula": i.formula, "indicator_params": i.params,
            "rule": item.rule, "rule_label": RULE_LABELS.get(item.rule, item.rule),
            "weight": str(item.weight), "target": str(item.target) if item.target is not None
            else None, "params": item.params, "higher_is_better": i.higher_is_better,
            "is_share": i.is_share, "unit_label": i.unit_label, "counts_what": i.counts_what,
            "numerator": i.numerator, "denominator": i.denominator}


def compute(*, bureau: Unit, month: date, scheme: Scheme,
            now: datetime | None = None) -> dict[str, Any]:
    """The month's scores under the scheme, from the kept figures and hand-entered values."""
    now = now or timezone.now()
    month = month.replace(day=1)
    items = list(scheme.items.select_related("indicator").order_by("position", "id"))
    units = assessed_units(bureau, scheme)
    kept = facts.figures(bureau, [month])
    blank = dict.fromkeys(facts.COUNT_KEYS, 0)
    manual_ids = [i.indicator_id for i in items if i.indicator.kind == Indicator.Kind.MANUAL]
    manual = {(mv.indicator_id, mv.unit_id): mv for mv in ManualValue.objects.filter(
        indicator_id__in=manual_ids, month=month, unit__in=units)}
    results: dict[tuple[int, str], ind.Result] = {}
    for unit in units:
        counts = kept.get((unit.pk, month), blank)
        for item in items:
            i = item.indicator
            if i.kind == Indicator.Kind.MANUAL:
                mv = manual.get((i.pk, unit.pk))
                results[(unit.pk, i.code)] = (
                    ind.manual(mv.value, mv.numerator, mv.denominator, is_share=i.is_share)
                    if mv else ind.Value(None))
            else:
                results[(unit.pk, i.code)] = ind.compute(i.formula, counts, i.params)
    specs = [scoring.Item(code=i.indicator.code, version=i.indicator.version,
                          name=i.indicator.name, rule=i.rule, weight=i.weight, target=i.target,
                          params=i.params or {}, higher_is_better=i.indicator.higher_is_better,
                          is_share=i.indicator.is_share) for i in items]
    scores = scoring.score_units([u.pk for u in units], specs, results,
                                 min_count=scheme.min_count)
    by_id = {u.pk: u for u in units}
    rows = [{"unit": {"id": s.unit_id, "code": by_id[s.unit_id].code,
                      "name": by_id[s.unit_id].name, "kind": by_id[s.unit_id].kind},
             "total": str(s.total), "rank": s.rank, "vetoed": s.vetoed,
             "cells": {code: cell.as_dict() for code, cell in s.cells.items()}}
            for s in scores]
    rows.sort(key=lambda r: (r["rank"] or 10**6, r["unit"]["name"]))
    kept_at = [c for c in (kept.get((u.pk, month)) for u in units) if c is not None]
    return {
        "version": VERSION,
        "bureau": {"id": bureau.pk, "code": bureau.code, "name": bureau.name},
        "month": month_label(month), "title": month_title(month),
        "week": {"from": month.isoformat(), "to": month_end(month).isoformat()},
        "scheme": {"id": scheme.pk, "year": scheme.year, "name": scheme.name,
                   "min_count": scheme.min_count},
        "computed_at": timezone.localtime(now).isoformat(timespec="seconds"),
        "figures_kept": bool(kept_at),
        "level": scoring.LEVEL,
        "items": [_item_dict(i) for i in items],
        "units": rows,
    }


def month_for(bureau: Unit, month: date) -> AssessmentMonth:
    scheme = scheme_for(bureau, month.year)
    if scheme is None:
        raise InvalidInput(f"{bureau.name}{month.year}年尚无考核方案，请先建立年度考核方案")
    try:
        with transaction.atomic():
            found, _ = AssessmentMonth.objects.get_or_create(
                bureau=bureau, month=month, defaults={"scheme": scheme})
    except IntegrityError:
        found = AssessmentMonth.objects.get(bureau=bureau, month=month)
    return found


def _summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"definitions": [f"{i['code']} v{i['version']}" for i in snapshot["items"]],
            "units": len(snapshot["units"]),
            "first": snapshot["units"][0]["unit"]["name"] if snapshot["units"] else None}


def run(*, actor: Any, bureau: Unit, month: date, recount: bool = True,
        now: datetime | None = None) -> AssessmentMonth:
    """Score the month now (recounting its figures first). A closed month is left as it was
    frozen and returned unchanged."""
    now = now or timezone.now()
    month = month.replace(day=1)
    _check_manage(actor, bureau)
    if month > timezone.localdate(now).replace(day=1):
        raise InvalidInput(f"{month_title(month)}尚未开始，不能考核")
    assessment = month_for(bureau, month)
    if assessment.state == AssessmentMonth.State.CLOSED:
        return assessment
    if recount:
        facts.recount(bureau=bureau, month=month, now=now)
    snapshot = compute(bureau=bureau, month=month, scheme=assessment.scheme, now=now)
    with transaction.atomic():
        lock_chain()
        assessment = AssessmentMonth.objects.select_for_update().get(pk=assessment.pk)
        if assessment.state == AssessmentMonth.State.CLOSED:
            return assessment
        assessment.snapshot, assessment.computed_at = snapshot, now
        assessment.save(update_fields=["snapshot", "computed_at", "updated_at"])
        record_event(actor=actor, obj=assessment, action="assessment.month_run",
                     payload={"month": month_label(month), **_summary(snapshot)})
    return assessment


def close(*, actor: Any, assessment: AssessmentMonth,
          now: datetime | None = None) -> AssessmentMonth:
    """Score the month from the kept figures and freeze it (a new snapshot each time)."""
    now = now or timezone.now()
    _check_manage(actor, assessment.bureau)
    snapshot = compute(bureau=assessment.bureau, month=assessment.month,
                       scheme=assessment.scheme, now=now)
    with transaction.atomic():
        lock_chain()
        assessment = AssessmentMonth.objects.select_for_update().get(pk=assessment.pk)
        if assessment.state == AssessmentMonth.State.CLOSED:
            raise InvalidInput(f"{month_title(assessment.month)}的考核已关账")
        assessment.snapshot, assessment.computed_at = snapshot, now
        assessment.state = AssessmentMonth.State.CLOSED
        assessment.closed_at = now
        assessment.closed_by = actor if getattr(actor, "is_authenticated", False) else None
        assessment.save(update_fields=["snapshot", "computed_at", "state", "closed_at",
                                       "closed_by", "updated_at"])
        record_event(actor=actor, obj=assessment, action="assessment.month_close",
                     from_state=AssessmentMonth.State.OPEN, to_state=AssessmentMonth.State.CLOSED,
                     payload={"month": month_label(assessment.month),
                              "reopen_count": assessment.reopen_count, **_summary(snapshot)})
    return assessment


def reopen(*, actor: Any, assessment: AssessmentMonth, reason: str,
           now: datetime | None = None) -> AssessmentMonth:
    """Open a closed month again; the reason is required and kept in the event, with the
    totals the month was closed with."""
    _check_manage(actor, assessment.bureau)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("重新打开已关账的月份须填写理由")
    with transaction.atomic():
        lock_chain()
        assessment = AssessmentMonth.objects.select_for_update().get(pk=assessment.pk)
        if assessment.state != AssessmentMonth.State.CLOSED:
            raise InvalidInput(f"{month_title(assessment.month)}的考核尚未关账")
        closed_totals = {r["unit"]["name"]: r["total"]
                         for r in assessment.snapshot.get("units", [])}
        assessment.state = AssessmentMonth.State.OPEN
        assessment.reopen_count += 1
        assessment.save(update_fields=["state", "reopen_count", "updated_at"])
        record_event(actor=actor, obj=assessment, action="assessment.month_reopen",
                     from_state=AssessmentMonth.State.CLOSED, to_state=AssessmentMonth.State.OPEN,
                     before={"totals": closed_totals,
                             "closed_at": assessment.closed_at},
                     payload={"month": month_label(assessment.month), "reason": reason,
                              "reopen_count": assessment.reopen_count})
    return assessment


# --- reads for the pages and the command ---------------------------------------------------------


def get_bureau_for_user(user: Any, bureau_id: Any) -> Unit:
    """One of the user's bureaus (any post in it reads the ranking); 404 otherwise."""
    found = next((b for b in user_bureaus(user) if str(b.pk) == str(bureau_id)), None)
    if found is None:
        raise Http404("没有找到该公安局")
    return found


def view_of(bureau: Unit, month: date, now: datetime | None = None) -> dict[str, Any]:
    """What the month page shows: the frozen snapshot of a closed month, or the live scores of
    an open one (computed from the kept figures). `snapshot` is None without a scheme."""
    assessment = AssessmentMonth.objects.filter(bureau=bureau, month=month).first()
    if assessment is not None and assessment.state == AssessmentMonth.State.CLOSED:
        return {"assessment": assessment, "snapshot": assessment.snapshot, "live": False,
                "scheme": assessment.scheme}
    scheme = assessment.scheme if assessment else scheme_for(bureau, month.year)
    snapshot = compute(bureau=bureau, month=month, scheme=scheme, now=now) if scheme else None
    return {"assessment": assessment, "snapshot": snapshot, "live": True, "scheme": scheme}


def format_value(value: str | None, unit_label: str) -> str:
    if value is None:
        return "—"
    return f"{value}%" if unit_label == "%" else f"{value}{unit_label}"


def table(user: Any, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The ranking table's rows, each cell with its text, interval, marks and link to the
    orders its numerator counts (where the order list has a filter for it and the user may
    follow it)."""
    linkable = linkable_units(user, snapshot) if user is not None else set()
    rows = []
    for row in snapshot["units"]:
        unit_id = row["unit"]["id"]
        cells = []
        for item in snapshot["items"]:
            c = row["cells"][item["code"]]
            numerator_key, denominator_key = ind.ORDER_LINKS.get(item["code"], ("", ""))
            linked = unit_id in linkable
            interval = c.get("interval")
            rank_range = c.get("rank_range")
            cells.append({
                "code": item["code"], "text": format_value(c["value"], item["unit_label"]),
                "score": c["score"], "rank": c["rank"],
                "rank_text": (f"{rank_range[0]}–{rank_range[1]}" if rank_range
                              and rank_range[0] != rank_range[1] else
                              (str(c["rank"]) if c["rank"] else "")),
                "interval": f"{interval[0]}–{interval[1]}%" if interval else "",
                "fraction": (f"{c['numerator']} / {c['denominator']}"
                             if c.get("denominator") is not None else ""),
                "insufficient": c["insufficient"] and not c["no_data"],
                "no_data": c["no_data"], "not_available": c.get("not_available", ""),
                "events": c["events"], "vetoes": c["vetoes"],
                "url": figure_link(snapshot, unit_id, numerator_key)
                if linked and numerator_key else "",
                "denominator_url": figure_link(snapshot, unit_id, denominator_key)
                if linked and denominator_key else "",
            })
        rows.append({"unit": row["unit"], "total": row["total"], "rank": row["rank"],
                     "vetoed": row["vetoed"], "cells": cells})
    return rows


def months_for_user(user: Any) -> list[dict[str, Any]]:
    """The assessment months of the user's bureaus, newest first."""
    bureaus = user_bureaus(user)
    found = (AssessmentMonth.objects.filter(bureau__in=bureaus)
             .select_related("bureau", "scheme").order_by("-month", "bureau__path"))
    return list(found[:240])


def document(bureau: Unit, month: date, view: dict[str, Any]) -> dict[str, Any]:
    """The month's bulletin as the formatters take it."""
    snapshot = view["snapshot"]
    assessment = view["assessment"]
    return {
        **snapshot,
        "issuer": bureau.name,
        "title": f"关于{month_title(month)}群众满意度工作考核情况的通报",
        "month": month_label(month),
        "month_title": month_title(month),
        "state": "已关账" if not view["live"] else "未关账、实时计算",
        "reopen_count": assessment.reopen_count if assessment else 0,
        "closed_at": (timezone.localtime(assessment.closed_at).isoformat(timespec="seconds")
                      if assessment and assessment.closed_at and not view["live"] else ""),
        "rows": table(None, snapshot),
    }
