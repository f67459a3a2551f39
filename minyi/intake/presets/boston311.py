"""`boston311`: the City of Boston's 311 requests of 2015, as historical orders of a demo city.

../shared/data/boston311_2015.csv.gz (121,145 rows, City of Boston open data). The requests
go into a bureau of their own, 波士顿（演示城市） (code BOSTON, made when missing), so that they
never mix with a real bureau's figures:

- CASE_ENQUIRY_ID → external id; OPEN_DT → received; TARGET_DT → handling deadline; CLOSED_DT →
  closed and handled (the on-time verdict is CLOSED_DT ≤ TARGET_DT, as the city's own
  OnTime_Status); CASE_STATUS Closed → 已办结, Open → 已转办 and held by the unit.
- SUBJECT (the city department) → lead unit: one office (科室) per department under the demo
  bureau, made the first time a department appears, named in Chinese with the English name.
- Source → channel: one inactive channel per Boston source (code ``bos_<source>``), made the
  first time it appears. Inactive, so that they never show in a real bureau's intake form; kept
  apart from 12345 and the others, so that a Boston case number can never collide with a real
  platform's order number.
- CASE_TITLE (TYPE when empty) → title; TYPE → content; Location → place; CLOSURE_REASON →
  close note; one inactive order type ``boston311``; demand kind 求助.
- Times are Boston's local time (America/New_York). 197 cases are stamped closed up to 58
  seconds before they were opened (the worker app's and the case system's clocks); a close at
  most 60 seconds early is read as a close at the opening, anything earlier would be a bad row.
- Deadlines are the city's: an open case without TARGET_DT gets none (Boston's calendar is not
  a Chinese office calendar).
- Kept in source_data: OnTime_Status, CASE_STATUS, SUBJECT, REASON, TYPE, QUEUE, Department,
  Source, neighborhood, police_district, LATITUDE, LONGITUDE.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from minyi.intake.presets.base import Preset

if TYPE_CHECKING:
    from minyi.intake.importing.lookups import Lookups
    from minyi.intake.models import Channel
    from minyi.orders.models import OrderType
    from minyi.orgs.models import Unit

BUREAU_CODE = "BOSTON"
BUREAU_NAME = "波士顿（演示城市）"
ORDER_TYPE_CODE = "boston311"

DEPARTMENTS = {
    "Public Works Department": "公共工程局",
    "Inspectional Services": "检查服务局",
    "Transportation - Traffic Division": "交通局交通处",
    "Parks & Recreation Department": "公园与游憩局",
    "Mayor's 24 Hour Hotline": "市长24小时热线",
    "Property Management": "物业管理处",
    "Animal Control": "动物管理处",
    "Civil Rights": "民权办公室",
    "Boston Water & Sewer Commission": "供水与排水委员会",
    "Disability Department": "残障事务局",
    "Youthline": "青少年热线",
    "City Hall Truck": "市政厅流动服务车",
    "Neighborhood Services": "社区服务办公室",
    "Boston Police Department": "波士顿警察局",
    "Consumer Affairs & Licensing": "消费者事务与许可办公室",
    "Veterans": "退伍军人事务局",
}
SOURCES = {
    "Constituent Call": "市民来电",
    "Citizens Connect App": "市民连线App",
    "Employee Generated": "员工发起",
    "City Worker App": "市政工作人员App",
    "Self Service": "网上自助",
    "Maximo Integration": "Maximo系统对接",
    "Twitter": "推特",
}

SPEC = {
    "columns": {
        "external_id": "CASE_ENQUIRY_ID",
        "received_at": "OPEN_DT",
        "handling_due_at": "TARGET_DT",
        "closed_at": "CLOSED_DT",
        "state": "CASE_STATUS",
        "title": ["CASE_TITLE", "TYPE"],
        "content": ["TYPE", "REASON"],
        "lead_unit": "SUBJECT",
        "channel": "Source",
        "location": "Location",
        "close_note": "CLOSURE_REASON",
    },
    "defaults": {"order_type": ORDER_TYPE_CODE, "demand_kind": "help"},
    "values": {"state": {"Closed": "closed", "Open": "open"}},
    "timezone": "America/New_York",
    "date_formats": ["%m/%d/%Y %I:%M:%S %p"],
    "keep_columns": ["OnTime_Status", "CASE_STATUS", "SUBJECT", "REASON", "TYPE", "QUEUE",
                     "Department", "Source", "neighborhood", "police_district", "LATITUDE",
                     "LONGITUDE"],
    "close_skew_seconds": 60,
    "compute_deadlines": False,
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class Boston311(Preset):
    def bureau(self, code: str | None) -> Unit | None:
        from minyi.core.errors import InvalidInput
        from minyi.intake.importing.errors import BadInput
        from minyi.orgs.actions import create_unit
        from minyi.orgs.models import Unit

        code = code or BUREAU_CODE
        unit = Unit.objects.filter(code=code).first()
        if unit is not None:
            if unit.kind not in (Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU):
                raise BadInput(f"单位「{unit}」（{code}）不是公安局，不能导入工单")
            return unit
        if code != BUREAU_CODE:
            raise BadInput(f"没有代码为「{code}」的公安局")
        try:
            return create_unit(actor=None, code=code, name=BUREAU_NAME, kind=Unit.Kind.BUREAU,
                               short_name="波士顿")
        except InvalidInput as exc:
            raise BadInput(f"无法建立演示城市：{exc}") from None

    def missing_unit(self, lookups: Lookups, value: str) -> Unit | None:
        from minyi.orgs.actions import create_unit
        from minyi.orgs.models import Unit

        bureau = lookups.bureau
        digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:8].upper()
        code = f"{bureau.code[:22]}-{digest}"
        existing = Unit.objects.filter(code=code).first()
        if existing is not None:
            return existing if existing.path.startswith(bureau.path) else None
        chinese = DEPARTMENTS.get(value)
        name = f"{chinese}（{value}）" if chinese else value
        return create_unit(actor=None, code=code, name=name[:100], kind=Unit.Kind.OFFICE,
                           parent=bureau, short_name=(chinese or value)[:30])

    def missing_channel(self, lookups: Lookups, value: str) -> Channel | None:
        from minyi.intake.models import Channel

        code = f"bos_{_slug(value)}"[:30]
        chinese = SOURCES.get(value, value)
        channel, _ = Channel.objects.get_or_create(code=code, defaults={
            "name": f"波士顿·{chinese}"[:50], "is_active": False, "sort_order": 900})
        return channel

    def missing_order_type(self, lookups: Lookups, value: str) -> OrderType | None:
        from minyi.orders.models import OrderType

        if value != ORDER_TYPE_CODE:
            return None
        order_type, _ = OrderType.objects.get_or_create(code=ORDER_TYPE_CODE, defaults={
            "name": "波士顿311服务请求（演示）", "business_class": "management_service",
            "handling_limit": "1d", "is_active": False, "sort_order": 900})
        return order_type


BOSTON311 = Boston311(
    name="boston311",
    label="波士顿311（演示城市）",
    description="City of Boston 311 service requests (CASE_ENQUIRY_ID, OPEN_DT, TARGET_DT, "
                "CLOSED_DT, CASE_STATUS, SUBJECT, Source …)，导入到演示城市「波士顿」。",
    spec=SPEC,
    bureau_code=BUREAU_CODE,
    superuser_only=True,
)
