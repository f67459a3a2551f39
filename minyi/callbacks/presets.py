"""Presets of the contact import: the exports a county bureau's systems give.

- `call_110`: the 110 alarm-handling system's export (接警单编号, 报警时间, 报警人电话, 处警单位,
  警情类别 …);
- `case`: the law-enforcement case system's export (案件编号, 受案时间, 当事人电话, 办案单位,
  案件类别 …);
- `window`: the window-service (户政、出入境、车驾管 …) system's export (业务流水号, 办理时间,
  办事人电话, 办理窗口, 业务类型 …).

Each field accepts the usual spellings; optional columns a file lacks are simply not read
(`missing_columns: ignore`); a required one it lacks stops the import with its name. The
source (call_110 / case / window) is the preset's: a file of one system is one group. A file
that mixes them is imported with a mapping (YAML) whose `columns.source` names the column.
"""

from __future__ import annotations

from minyi.callbacks.models import Source
from minyi.intake.importing.errors import BadInput
from minyi.intake.importing.mapping import Mapping, parse_mapping
from minyi.intake.presets.base import Preset


class ContactPreset(Preset):
    """A preset read with the contacts' schema instead of the orders'."""

    def mapping(self) -> Mapping:
        from minyi.callbacks.importing import CONTACTS

        return parse_mapping(self.spec, CONTACTS)


CALL_110 = ContactPreset(
    name="call_110",
    label="110 接处警记录（接警单编号、报警时间、报警人电话、处警单位、警情类别）",
    description="110 接处警系统导出表；每行一次报警求助，回访报警人。",
    spec={
        "columns": {
            "external_id": ["接警单编号", "接警编号", "警情编号"],
            "occurred_at": ["报警时间", "接警时间"],
            "person_phone": ["报警人电话", "报警电话", "联系电话"],
            "person_name": ["报警人", "报警人姓名"],
            "unit": ["处警单位", "管辖单位"],
            "record_type": ["警情类别", "警情类型"],
            "summary": ["报警内容", "简要警情", "警情摘要"],
        },
        "defaults": {"source": Source.CALL_110.value},
        "missing_columns": "ignore",
    },
)

CASE = ContactPreset(
    name="case",
    label="案件当事人（案件编号、受案时间、当事人电话、办案单位、案件类别）",
    description="执法办案系统导出表；每行一名案件当事人（报案人、被害人等），回访当事人。",
    spec={
        "columns": {
            "external_id": ["案件编号"],
            "occurred_at": ["受案时间", "立案时间"],
            "person_phone": ["当事人电话", "联系电话"],
            "person_name": ["当事人", "当事人姓名"],
            "unit": ["办案单位", "主办单位"],
            "record_type": ["案件类别", "案由", "案件类型"],
            "summary": ["案件名称", "简要案情"],
        },
        "defaults": {"source": Source.CASE.value},
        "missing_columns": "ignore",
    },
)

WINDOW = ContactPreset(
    name="window",
    label="窗口办事记录（业务流水号、办理时间、办事人电话、办理窗口、业务类型）",
    description="户政、出入境、车驾管等窗口业务系统导出表；每行一次办事，回访办事群众。",
    spec={
        "columns": {
            "external_id": ["业务流水号", "受理编号"],
            "occurred_at": ["办理时间", "受理时间"],
            "person_phone": ["办事人电话", "联系电话"],
            "person_name": ["办事人", "办事人姓名", "申请人"],
            "unit": ["办理窗口", "办理单位", "受理单位"],
            "record_type": ["业务类型", "业务名称"],
            "summary": ["业务摘要", "办理事项"],
        },
        "defaults": {"source": Source.WINDOW.value},
        "missing_columns": "ignore",
    },
)

CONTACT_PRESETS: dict[str, ContactPreset] = {p.name: p for p in (CALL_110, CASE, WINDOW)}


def get_contact_preset(name: str) -> ContactPreset:
    try:
        return CONTACT_PRESETS[name]
    except KeyError:
        known = "、".join(CONTACT_PRESETS)
        raise BadInput(f"没有名为「{name}」的预设格式（可用的有：{known}）") from None
