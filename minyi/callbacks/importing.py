"""Import of 110 calls, cases and window services as callback contacts (回访对象).

The work-order import's machinery (`minyi.intake.importing`) does the reading (xlsx, csv in
UTF-8 or GBK, gz), the column mapping, the date-times, the chunks, all or nothing or
skip_bad, the bad rows and their workbook, the batch and its progress; this module brings what
is a contact's: its fields (`CONTACTS`), the check of one row, how a record is recognised, and
the writing.

Each good row becomes a Contact of the bureau: its unit (code, name or short name of a unit of
the bureau), its source (the preset's, or a column), its own type, number and time (naive
times are Asia/Shanghai, or the mapping's `timezone`), the person's name and phone encrypted,
masked and hashed (`Contact.set_person`), a summary; one `contact.import` event each.

Recognising a record (nothing counted twice):
- by bureau + source + number: a row whose record is already there (a file sent again, two
  exports that overlap) is counted as `existing`, and left as it is;
- a row without a number gets `H-` + a keyed hash (HMAC) of its source, time (UTC, to the
  second), unit code and phone: the same person dealt with by the same unit at the same moment
  is one record, so a re-sent file without numbers is recognised too;
- the same key twice in one file: the first row is kept, the second reported as bad, naming
  the row it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone

from minyi.callbacks.models import Contact, Source
from minyi.core import crypto
from minyi.core.audit import record_events_bulk
from minyi.intake.importing.errors import BadInput
from minyi.intake.importing.lookups import UnitLookup
from minyi.intake.importing.mapping import Mapping, Schema, Target, parse_mapping
from minyi.intake.importing.reading import open_source
from minyi.intake.importing.rows import (
    FUTURE_SLACK,
    MAX_EXTERNAL_ID,
    CellReader,
    derived_external_id,
)
from minyi.intake.importing.run import (
    CHUNK_ROWS,
    ImportResult,
    Plan,
    execute,
    file_sha256,
    import_with,
    resolve_bureau,
    run_stored_batch,
)
from minyi.orgs.models import Unit

TARGETS: tuple[Target, ...] = (
    Target("external_id", "记录编号", "text",
           "接警单编号、案件编号或业务流水号；同一来源同一编号只导入一次。"
           "没有时按来源、电话、时间和单位识别"),
    Target("source", "来源", "choice", "110、案件或窗口；预设格式已定"),
    Target("record_type", "业务类型", "text", "警情类别、案件类别或业务类型，照原样保存"),
    Target("unit", "办理单位", "ref", "单位代码、名称或简称，须是本局的单位"),
    Target("occurred_at", "办理时间", "datetime", "报警、受案或办理的时间"),
    Target("person_name", "姓名", "text", "加密保存"),
    Target("person_phone", "联系电话", "phone", "手机或固定电话；加密保存，回访拨打此号码"),
    Target("summary", "事由", "text"),
)
CONTACTS = Schema(
    targets=TARGETS,
    required=("occurred_at", "unit", "person_phone", "source"),
    defaultable=("source", "record_type"),
)
MAX_RECORD_TYPE = 100
NAME_MASK_LENGTH = 20
NOUN = "回访对象"

# What a file may write for a source: the codes, the labels, and the words people use.
SOURCE_WORDS: dict[str, str] = {
    "call_110": Source.CALL_110, "110": Source.CALL_110, "110报警": Source.CALL_110,
    "110报警求助": Source.CALL_110, "报警求助": Source.CALL_110, "接处警": Source.CALL_110,
    "case": Source.CASE, "案件": Source.CASE, "案件当事人": Source.CASE, "刑事案件": Source.CASE,
    "行政案件": Source.CASE,
    "window": Source.WINDOW, "窗口": Source.WINDOW, "窗口办事": Source.WINDOW,
    "窗口办事群众": Source.WINDOW, "窗口服务": Source.WINDOW,
}
ORDER_WORDS = {"order", "工单", "群众诉求工单"}


@dataclass(slots=True)
class ContactRow:
    """A good row: what its Contact is made of."""

    line: int
    source: str
    external_id: str
    derived_id: bool
    unit: Unit
    occurred_at: datetime
    record_type: str
    name: str
    phone: str
    summary: str


def source_of(value: str) -> tuple[str | None, str]:
    """The source a cell names, or None and why not (pure)."""
    word = value.replace(" ", "").strip()
    found = SOURCE_WORDS.get(word) or SOURCE_WORDS.get(word.lower())
    if found is not None:
        return str(found), ""
    if word.lower() in ORDER_WORDS:
        return None, "工单的回访对象由办结的工单自动生成，不能导入"
    return None, f"未知的来源「{value}」（应为 110报警求助、案件当事人 或 窗口办事群众）"


class ContactChecker(CellReader):
    """Checks one row; reads its look-ups and the clock, writes nothing."""

    def __init__(self, mapping: Mapping, units: UnitLookup, *,
                 now: datetime | None = None) -> None:
        super().__init__(mapping, ("occurred_at",))
        self.units = units
        self.now = now or timezone.now()

    def check(self, line: int, values: list[Any]) -> tuple[ContactRow | None, list[str]]:
        errors: list[str] = []
        source = None
        value = self._text(values, "source")
        if not value:
            errors.append("缺少来源")
        else:
            source, error = source_of(value)
            if error:
                errors.append(error)

        unit = None
        value = self._text(values, "unit")
        if not value:
            errors.append("缺少办理单位")
        else:
            unit, error = self.units.unit(value, "办理单位")
            if error:
                errors.append(error)

        occurred_at = self._date(values, "occurred_at", errors)
        if occurred_at is None and self._cell(values, "occurred_at") is None:
            errors.append("缺少办理时间")
        elif occurred_at is not None and occurred_at > self.now + FUTURE_SLACK:
            errors.append("办理时间晚于当前时间")

        phone = self._text(values, "person_phone")
        if not phone:
            errors.append("缺少联系电话，无法回访")
        elif not crypto.is_valid_phone(phone):
            errors.append(f"联系电话「{phone}」格式不正确（应为手机号、带区号的固定电话或本地号码）")

        external_id = self._text(values, "external_id")
        if len(external_id) > MAX_EXTERNAL_ID:
            errors.append(f"记录编号超过{MAX_EXTERNAL_ID}个字符")
        record_type = self._text(values, "record_type")
        if len(record_type) > MAX_RECORD_TYPE:
            errors.append(f"业务类型超过{MAX_RECORD_TYPE}个字符")
        if errors:
            return None, errors

        derived = not external_id
        if derived:
            external_id = derived_external_id(
                source, occurred_at, [unit.code, crypto.normalize_phone(phone)])
        return ContactRow(line=line, source=source, external_id=external_id,
                          derived_id=derived, unit=unit, occurred_at=occurred_at,
                          record_type=record_type, name=self._text(values, "person_name"),
                          phone=phone, summary=self._text(values, "summary")), []


class _ContactRows:
    """Contacts: the RowImporter (see `minyi.intake.importing.run.import_with`)."""

    def __init__(self, plan: Plan, actor: Any, batch_id: int | None,
                 now: datetime | None) -> None:
        self.bureau = plan.bureau
        self.actor = actor
        self.batch_id = batch_id
        self.via = plan.preset_name or "mapping"
        checker = ContactChecker(plan.mapping, UnitLookup(plan.bureau, plan.preset), now=now)
        self.check = checker.check

    @staticmethod
    def key(row: ContactRow) -> tuple[str, str]:
        return (row.source, row.external_id)

    @staticmethod
    def repeats(row: ContactRow, first: int) -> str:
        if row.derived_id:
            return (f"与第{first}行是同一条记录（两行都没有记录编号，按来源、联系电话、办理时间和"
                    "办理单位识别为同一人同一次办理）")
        return (f"与第{first}行重复（{Source(row.source).label}、"
                f"记录编号 {row.external_id}），只导入第{first}行")

    def new_only(self, rows: list[ContactRow]) -> list[ContactRow]:
        by_source: dict[str, list[str]] = {}
        for row in rows:
            by_source.setdefault(row.source, []).append(row.external_id)
        existing: set[tuple[str, str]] = set()
        for source, ids in by_source.items():
            # `~Q(external_id="")` repeats the partial unique index's condition, so that the
            # index can be used.
            found = (Contact.objects.filter(~Q(external_id=""), bureau=self.bureau,
                                            source=source, external_id__in=ids)
                     .order_by().values_list("external_id", flat=True))
            existing.update((source, external_id) for external_id in found)
        return [r for r in rows if (r.source, r.external_id) not in existing]

    def write(self, rows: list[ContactRow]) -> None:
        contacts = []
        for row in rows:
            contact = Contact(bureau=self.bureau, unit=row.unit, source=row.source,
                              record_type=row.record_type, external_id=row.external_id,
                              occurred_at=row.occurred_at, summary=row.summary,
                              import_batch_id=self.batch_id)
            contact.set_person(name=row.name, phone=row.phone)
            # The mask's column is short; the name itself is kept whole (encrypted).
            contact.person_name_mask = contact.person_name_mask[:NAME_MASK_LENGTH]
            contacts.append(contact)
        Contact.objects.bulk_create(contacts, batch_size=1000)
        record_events_bulk([
            {"obj": contact, "action": "contact.import",
             "payload": {"batch": self.batch_id, "line": row.line, "source": row.source,
                         "external_id": row.external_id, "unit": row.unit.code,
                         "via": self.via}}
            for row, contact in zip(rows, contacts, strict=True)
        ], actor=self.actor)


def plan_contact_import(path: str | Path, *, preset: str | None = None,
                        mapping: Mapping | dict | None = None,
                        bureau: Unit | str | None = None) -> Plan:
    """Check the preset or mapping, the file and its header, and the bureau (BadInput, in
    Chinese, when one of them cannot be used; nothing is written)."""
    from minyi.callbacks.presets import get_contact_preset

    chosen = get_contact_preset(preset) if preset else None
    if chosen is not None and mapping is not None:
        raise BadInput("预设格式与列对应只能选一个")
    if chosen is not None:
        mapping = chosen.mapping()
    elif mapping is None:
        raise BadInput("请选择预设格式（110、案件或窗口），或给出列对应文件")
    elif isinstance(mapping, dict):
        mapping = parse_mapping(mapping, CONTACTS)
    elif mapping.schema is not CONTACTS:
        raise BadInput("列对应不是回访对象的列对应")
    source = open_source(path, sheet=mapping.sheet)
    mapping.bind(source.header)
    unit = bureau if isinstance(bureau, Unit) else resolve_bureau(bureau)
    return Plan(source=source, mapping=mapping, bureau=unit, preset=chosen)


def import_contact_rows(plan: Plan, *, skip_bad: bool = False, actor: Any = None,
                        batch_id: int | None = None, progress: Any = None,
                        chunk_rows: int = CHUNK_ROWS,
                        now: datetime | None = None) -> ImportResult:
    """Check every row and write the new contacts: all or nothing unless `skip_bad`."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return import_with(
        plan.source, lambda seconds: _ContactRows(plan, actor, batch_id, now),
        skip_bad=skip_bad, progress=progress, chunk_rows=chunk_rows,
        conflict="有记录在导入期间被另一次导入同时写入，本次未导入任何回访对象；"
                 "请重新导入，已导入的记录会被识别")


def new_batch(plan: Plan, *, file_name: str, sha256: str, skip_bad: bool,
              actor: Any = None) -> Any:
    from minyi.intake.models import ImportBatch

    return ImportBatch(kind=ImportBatch.Kind.CONTACT, file_name=file_name[:255],
                       file_sha256=sha256, preset=plan.preset_name,
                       mapping=plan.mapping.as_json(), skip_bad=skip_bad, bureau=plan.bureau,
                       created_by=actor if getattr(actor, "pk", None) else None)


def run_contacts(batch: Any, plan: Plan, *, actor: Any = None,
                 errors_path: str | Path | None = None) -> ImportResult:
    """Run a planned contact import for its batch; the batch's message says plainly when the
    file brought nothing new (sent again, or already imported)."""
    result = execute(batch, plan, actor=actor, errors_path=errors_path,
                     rows=import_contact_rows, noun=NOUN)
    if result.committed and not result.created and result.existing:
        batch.message = _nothing_new_message(batch, result)
        batch.save(update_fields=["message", "updated_at"])
    return result


def _nothing_new_message(batch: Any, result: ImportResult) -> str:
    from minyi.intake.models import ImportBatch

    earlier = (ImportBatch.objects.filter(kind=ImportBatch.Kind.CONTACT, bureau=batch.bureau,
                                          file_sha256=batch.file_sha256,
                                          status=ImportBatch.Status.DONE, created__gt=0)
               .exclude(pk=batch.pk).order_by("created_at").first())
    message = f"文件中的 {result.existing} 条记录此前都已导入，本次未新建任何回访对象"
    if earlier is not None:
        when = timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")
        message += f"（同一文件已于 {when} 导入，批次 {earlier.pk}）"
    if result.bad:
        message += f"；跳过错误行 {result.bad} 行"
    return message[:500]


def import_contacts(path: str | Path, *, preset: str | None = None,
                    mapping: Mapping | dict | None = None, bureau: Unit | str | None = None,
                    skip_bad: bool = False, actor: Any = None,
                    errors_path: str | Path | None = None) -> tuple[Any, ImportResult]:
    """Plan and run a contact import in one call (the command, tests), recorded as a batch.

    Raises BadInput, before anything is written, when the file, preset, mapping or bureau
    cannot be used.
    """
    plan = plan_contact_import(path, preset=preset, mapping=mapping, bureau=bureau)
    batch = new_batch(plan, file_name=Path(path).name, sha256=file_sha256(path),
                      skip_bad=skip_bad, actor=actor)
    batch.save()
    return batch, run_contacts(batch, plan, actor=actor, errors_path=errors_path)


def run_contact_batch(batch_id: int) -> None:
    """The background entry point of the import page (the thread, or a Celery task later)."""
    from minyi.intake.models import ImportBatch

    def plan(batch: Any) -> Plan:
        return plan_contact_import(batch.source_file.path, preset=batch.preset or None,
                                   mapping=None if batch.preset else batch.mapping,
                                   bureau=batch.bureau)

    run_stored_batch(batch_id, kind=ImportBatch.Kind.CONTACT, plan=plan,
                     rows=import_contact_rows, noun=NOUN)
    # The "nothing new" wording, as the command gives it.
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if (batch is not None and batch.status == ImportBatch.Status.DONE and not batch.created
            and batch.existing):
        result = ImportResult(existing=batch.existing, bad=batch.bad)
        batch.message = _nothing_new_message(batch, result)
        batch.save(update_fields=["message", "updated_at"])


def register() -> None:
    """The Chinese label of the import's event (called from the app's `ready`)."""
    from minyi.core.audit import register_action_labels

    register_action_labels({"contact.import": "导入回访对象"})
