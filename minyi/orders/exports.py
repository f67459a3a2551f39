"""The order list as an xlsx workbook: exactly the rows the filters select, citizens masked.

Written with openpyxl's write-only mode, row by row from a database iterator, so memory stays
flat however many rows there are; a cap keeps one export from running for minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from minyi.orders.models import Order
from minyi.orders.rules import CLOCK_STATES, CallbackOutcome, DemandKind, State

MAX_EXPORT_ROWS = 100_000

# (header, width)
COLUMNS = [
    ("工单编号", 16), ("来源编号", 16), ("受理渠道", 16), ("工单类型", 14), ("诉求类型", 9),
    ("标题", 36), ("状态", 9), ("承办单位", 16), ("所属区域", 14), ("事发地址", 24),
    ("群众姓名", 10), ("联系电话", 14), ("接单时间", 17), ("转办时间", 17), ("联系时限", 17),
    ("联系时间", 17), ("办理时限", 17), ("上报时间", 17), ("办结时间", 17), ("是否超时", 9),
    ("回访结果", 10), ("领导批示交办", 12),
]
FIELDS = [
    "pk", "received_at", "external_id", "channel__name", "order_type__name", "demand_kind",
    "title", "state", "lead_unit__name", "area__name", "location", "citizen_name_mask",
    "citizen_phone_mask", "dispatched_at", "contact_due_at", "contacted_at", "handling_due_at",
    "reported_at", "closed_at", "handled_at", "callback_outcome", "is_leader_assigned",
]


@dataclass(frozen=True)
class ExportResult:
    rows: int
    truncated: bool


def _local(value: datetime | None) -> datetime | None:
    # Excel has no time zones: the time as it reads in Shanghai, without the zone.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _late(row: dict[str, Any], now: datetime) -> str:
    due = row["handling_due_at"]
    if due is None:
        return ""
    if row["state"] in CLOCK_STATES:
        return "是" if due < now else "否"
    if row["handled_at"] is not None:
        return "是" if row["handled_at"] > due else "否"
    return ""


STATES = dict(State.choices)
DEMAND_KINDS = dict(DemandKind.choices)
OUTCOMES = dict(CallbackOutcome.choices)


def _values(row: dict[str, Any], now: datetime) -> list[Any]:
    received = timezone.localtime(row["received_at"])
    return [
        f"{received:%Y%m%d}-{row['pk']:06d}", row["external_id"], row["channel__name"],
        row["order_type__name"], DEMAND_KINDS.get(row["demand_kind"], ""),
        row["title"], STATES.get(row["state"], row["state"]), row["lead_unit__name"] or "",
        row["area__name"] or "", row["location"], row["citizen_name_mask"],
        row["citizen_phone_mask"], _local(row["received_at"]), _local(row["dispatched_at"]),
        _local(row["contact_due_at"]), _local(row["contacted_at"]),
        _local(row["handling_due_at"]), _local(row["reported_at"]), _local(row["closed_at"]),
        _late(row, now), OUTCOMES.get(row["callback_outcome"], ""),
        "是" if row["is_leader_assigned"] else "",
    ]


def write_orders(orders: QuerySet[Order], out: IO[bytes], *, description: Iterable[str] = (),
                 cap: int = MAX_EXPORT_ROWS) -> ExportResult:
    """Write the orders (in the queryset's order) to `out`; at most `cap` rows, and a sheet
    that says what was selected and whether the cap cut it short."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("工单")
    for index, (_, width) in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _ in COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    now = timezone.now()
    written, truncated = 0, False
    # One more than the cap tells whether there were more, without counting them all.
    for row in orders.values(*FIELDS)[: cap + 1].iterator(chunk_size=2000):
        if written == cap:
            truncated = True
            break
        sheet.append(_values(row, now))
        written += 1
    notes = workbook.create_sheet("说明")
    notes.append(["导出时间", _local(now)])
    notes.append(["导出行数", written])
    for line in description:
        notes.append(["筛选条件", line])
    notes.append(["个人信息", "群众姓名、电话已脱敏"])
    if truncated:
        notes.append(["提示", f"超过 {cap} 行，只导出了前 {cap} 行，请缩小筛选范围后分批导出"])
    workbook.save(out)
    return ExportResult(written, truncated)


# --- supervision notices and reminder letters ---------------------------------------------------

NOTICE_COLUMNS = [("文号", 16), ("工单编号", 16), ("标题", 36), ("责任单位", 16),
                  ("督办原因", 16), ("下发时间", 17), ("答复期限", 17), ("状态", 12),
                  ("签收时间", 17), ("答复时间", 17), ("整改措施", 48), ("移交督察时间", 17)]
LETTER_COLUMNS = [("文号", 16), ("工单编号", 16), ("标题", 36), ("责任单位", 16),
                  ("提醒原因", 16), ("下发时间", 17), ("状态", 12), ("签收时间", 17)]


def write_documents(documents: Iterable[Any], out: IO[bytes], *, kind: str,
                    description: Iterable[str] = ()) -> int:
    """The notice or letter list as a workbook: one row per document (give them with
    `selectors.with_notice_states` / `with_letter_states` applied)."""
    columns = NOTICE_COLUMNS if kind == "notice" else LETTER_COLUMNS
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("督办单" if kind == "notice" else "提醒函")
    for index, (_, width) in enumerate(columns):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _ in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    written = 0
    for d in documents:
        row = [d.display_number, d.order.number, d.order.title, d.unit.name,
               d.get_reason_display(), _local(d.issued_at)]
        if kind == "notice":
            row += [_local(d.reply_due_at), d.status_label, _local(d.signed_at),
                    _local(d.replied_at), d.reply, _local(d.escalated_at)]
        else:
            row += [d.status_label, _local(d.acknowledged_at)]
        sheet.append(row)
        written += 1
    notes = workbook.create_sheet("说明")
    notes.append(["导出时间", _local(timezone.now())])
    notes.append(["导出行数", written])
    for line in description:
        notes.append(["筛选条件", line])
    workbook.save(out)
    return written
