"""An import from start to end: plan it (file, mapping, bureau), then check and write every row.

All or nothing by default: every row is checked and written inside one transaction, and one bad
row rolls the whole file back (the others are still checked, so that every bad row is reported
at once). With `skip_bad` the good rows are kept and the bad ones go to the errors workbook.

Rows are written in chunks with `bulk_create` (per-row actions would take hours for a million
rows): the rules `orders.actions.receive_order` enforces one order at a time are checked here in
Python for the whole chunk, and every new order gets its `order.import` event through
`record_events_bulk`, hashed into the audit chain in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from minyi.core.audit import record_events_bulk
from minyi.intake.importing.errors import BadInput
from minyi.intake.importing.errors_file import write_errors_workbook
from minyi.intake.importing.insert import FastInserter
from minyi.intake.importing.lookups import Lookups
from minyi.intake.importing.mapping import Mapping, parse_mapping
from minyi.intake.importing.reading import SourceFile, open_source
from minyi.intake.importing.rows import Checked, RowChecker
from minyi.orders.models import Assignment, Order
from minyi.orders.rules import CreatedVia
from minyi.orgs.models import Unit

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2000
# Orders per INSERT statement on PostgreSQL: an order has ~50 columns and a statement may bind
# at most 65,535 parameters. SQLite's limit is worked out by Django itself.
PG_INSERT_ROWS = 1000
# PostgreSQL: orders written before the table's statistics are taken again, inside the import's
# transaction (see FastInserter.analyze): after 10,000, 50,000, 250,000, 1,250,000 …
ANALYZE_FIRST = 10_000
ANALYZE_GROWTH = 5
# The batch keeps this many bad rows for the page; the errors workbook has all of them.
MAX_STORED_ERRORS = 5000
PROGRESS_KEY = "minyi:import-progress:{}"


@dataclass
class Plan:
    """What an import will read, how, and into which bureau: all checked before any row."""

    source: SourceFile
    mapping: Mapping
    bureau: Unit
    preset: Any = None  # minyi.intake.presets.Preset

    @property
    def preset_name(self) -> str:
        return self.preset.name if self.preset else ""


@dataclass
class ImportResult:
    created: int = 0
    existing: int = 0
    bad: int = 0
    rows: int = 0
    committed: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)
    bad_rows: list[tuple[int, list[Any], str]] = field(default_factory=list)
    errors_file: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {"created": self.created, "existing": self.existing, "bad": self.bad}


def resolve_bureau(code: str | None) -> Unit:
    """The bureau named by `code`; without a code, the only bureau there is."""
    bureaus = Unit.objects.filter(kind__in=(Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU))
    if code:
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            raise BadInput(f"没有代码为「{code}」的单位")
        if unit.kind not in (Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU):
            raise BadInput(f"「{unit}」（{code}）不是公安局或分局，只能导入到公安局或分局")
        return unit
    top = list(bureaus.filter(depth=0)[:2])
    if len(top) == 1:
        return top[0]
    if not top:
        raise BadInput("系统中还没有公安局，请先建立单位")
    raise BadInput("系统中有多个公安局，请指定导入到哪一个（--bureau 单位代码）")


def plan_import(path: str | Path, *, preset: str | None = None,
                mapping: Mapping | dict | None = None,
                bureau: Unit | str | None = None) -> Plan:
    """Check the preset or mapping, the file and its header, and the bureau.

    Raises BadInput (one line of Chinese) when any of them cannot be used; nothing is written
    then, except that a demo preset's bureau is made once the rest has been checked.
    """
    from minyi.intake.presets import get_preset

    chosen = get_preset(preset) if preset else None
    if chosen is not None and mapping is not None:
        raise BadInput("预设格式与列对应只能选一个")
    if chosen is not None:
        mapping = chosen.mapping()
    elif mapping is None:
        raise BadInput("请选择预设格式，或给出列对应")
    elif isinstance(mapping, dict):
        mapping = parse_mapping(mapping)
    source = open_source(path, sheet=mapping.sheet)
    mapping.bind(source.header)
    if chosen is not None and chosen.bureau_code:
        # A demo city's preset imports into its own bureau, whatever the page offered.
        unit = chosen.bureau(bureau if isinstance(bureau, str) else None)
    elif isinstance(bureau, Unit):
        unit = bureau
    else:
        unit = resolve_bureau(bureau)
    return Plan(source=source, mapping=mapping, bureau=unit, preset=chosen)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Progress:
    """rows_done for the progress bar, while the import's transaction is still open.

    The batch row cannot show it through the import's own connection: nothing the transaction
    writes is seen before it commits. So the count goes to the cache (shared by the web
    process's threads, or through Redis by every process), and on PostgreSQL also to the batch
    row through a second connection of its own. SQLite admits one writer at a time and the
    import holds that lock, so there the row gets the count when the import ends.
    """

    def __init__(self, batch_id: int | None, total: int) -> None:
        self.batch_id = batch_id
        self.total = total
        self.side = None
        if (batch_id is not None and connection.vendor == "postgresql"
                and not connection.in_atomic_block):
            try:
                self.side = connections.create_connection("default")
            except Exception:  # progress is a nicety; the import must not fail for it
                logger.exception("no second connection for import progress")

    def __call__(self, rows_done: int) -> None:
        if self.batch_id is None:
            return
        cache.set(PROGRESS_KEY.format(self.batch_id), rows_done, 3600)
        if self.side is not None:
            try:
                with self.side.cursor() as cursor:
                    cursor.execute(
                        "UPDATE intake_importbatch SET rows_done = %s, updated_at = %s "
                        "WHERE id = %s", [rows_done, timezone.now(), self.batch_id])
            except Exception:
                logger.exception("import progress not written")
                self.close()

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def live_rows_done(batch: Any) -> int:
    """What the progress bar shows: the live count of a running import, else the stored one."""
    live = cache.get(PROGRESS_KEY.format(batch.pk))
    return max(batch.rows_done, live or 0)


class _Rollback(Exception):
    """Raised inside the transaction to undo an all-or-nothing import that had bad rows."""


class RowImporter(Protocol):
    """What one model's import does with the rows of a file; `import_with` does the rest
    (reading, chunks, duplicates within the file, all or nothing, skip_bad, bad rows)."""

    def check(self, line: int, values: list[Any]) -> tuple[Any | None, list[str]]:
        """The checked row, or None and every reason it is bad (Chinese)."""

    def key(self, checked: Any) -> Hashable:
        """What identifies the record: two rows of a file with one key are one record."""

    def repeats(self, checked: Any, first_line: int) -> str:
        """The reason given for the second row with the key of row `first_line`."""

    def new_only(self, rows: list[Any]) -> list[Any]:
        """The rows whose record is not yet in the database."""

    def write(self, rows: list[Any]) -> None:
        """Write new records (with their events), inside the import's transaction."""


def import_with(source: SourceFile, make: Callable[[dict[str, float]], RowImporter], *,
                skip_bad: bool = False, progress: Callable[[int], None] | None = None,
                chunk_rows: int = CHUNK_ROWS, conflict: str) -> ImportResult:
    """Check every row of `source` and write the good new ones, for any model: `make` builds
    the model's RowImporter inside the import's transaction. `conflict` is the BadInput
    message when a record is written by someone else meanwhile (a unique index refuses it)."""
    result = ImportResult()
    seconds: dict[str, float] = defaultdict(float)
    result.seconds = seconds
    try:
        with transaction.atomic():
            importer = make(seconds)
            check, key_of = importer.check, importer.key
            seen: dict[Hashable, int] = {}
            pending: list[Any] = []

            def flush() -> None:
                started = time.perf_counter()
                new = importer.new_only(pending)
                result.existing += len(pending) - len(new)
                seconds["existing"] += time.perf_counter() - started
                if new and (skip_bad or not result.bad):
                    importer.write(new)
                    result.created += len(new)
                pending.clear()
                if progress is not None:
                    progress(result.rows)

            tick = time.perf_counter()
            for line, values in source.rows():
                result.rows += 1
                checked, errors = check(line, values)
                if checked is not None:
                    key = key_of(checked)
                    first = seen.get(key)
                    if first is None:
                        seen[key] = line
                        pending.append(checked)
                    else:
                        errors = [importer.repeats(checked, first)]
                if errors:
                    reason = "；".join(errors)
                    result.bad += 1
                    result.bad_rows.append((line, values, reason))
                    if len(result.errors) < MAX_STORED_ERRORS:
                        result.errors.append((line, reason))
                if len(pending) >= chunk_rows:
                    seconds["read_and_check"] += time.perf_counter() - tick
                    flush()
                    tick = time.perf_counter()
            seconds["read_and_check"] += time.perf_counter() - tick
            flush()
            if result.bad and not skip_bad:
                raise _Rollback
    except _Rollback:
        result.created = 0
        result.committed = False
        return result
    except IntegrityError:
        # Another import (or the API) wrote one of these records after this one looked: the
        # unique index refused it, and this import is rolled back whole.
        raise BadInput(conflict) from None
    result.committed = True
    return result


class _OrderRows:
    """Orders: the RowImporter of `import_rows`."""

    def __init__(self, plan: Plan, actor: Any, batch_id: int | None, now: datetime | None,
                 seconds: dict[str, float]) -> None:
        lookups = Lookups(plan.bureau, plan.preset)
        self.checker = RowChecker(plan.mapping, lookups, now=now,
                                  preset_name=plan.preset_name, batch_id=batch_id)
        self.check = self.checker.check
        self.writer = _Writer(plan, actor, batch_id, seconds)
        self.write = self.writer.write

    @staticmethod
    def key(checked: Checked) -> tuple[int, str]:
        return (checked.channel.pk, checked.external_id)

    @staticmethod
    def repeats(checked: Checked, first: int) -> str:
        if checked.derived_id:
            return (f"与第{first}行内容相同（两行都没有来源编号，按渠道、接单时间、"
                    "标题、内容、群众和地址识别为同一工单）")
        return (f"与第{first}行重复（渠道「{checked.channel.name}」、"
                f"来源编号 {checked.external_id}）")

    @staticmethod
    def new_only(rows: list[Checked]) -> list[Checked]:
        # Looked up at each call: tests replace it to simulate a concurrent writer.
        return _not_existing(rows)


def import_rows(plan: Plan, *, skip_bad: bool = False, actor: Any = None,
                batch_id: int | None = None, progress: Callable[[int], None] | None = None,
                chunk_rows: int = CHUNK_ROWS, now: datetime | None = None) -> ImportResult:
    """Check every row of the planned file and write the good new orders; see the module doc."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return import_with(
        plan.source, lambda seconds: _OrderRows(plan, actor, batch_id, now, seconds),
        skip_bad=skip_bad, progress=progress, chunk_rows=chunk_rows,
        conflict="有工单在导入期间被另一次导入或接口同时写入，本次未导入任何工单；"
                 "请重新导入，已有的工单会被识别")


def _not_existing(rows: list[Checked]) -> list[Checked]:
    """The rows whose (channel, external id) is not yet in the database."""
    if not rows:
        return []
    by_channel: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        by_channel[row.channel.pk].append(row.external_id)
    existing: set[tuple[int, str]] = set()
    for channel_id, ids in by_channel.items():
        # `~Q(external_id="")` repeats the partial unique index's condition word for word:
        # without it SQLite cannot use that index and scans all of the channel's orders.
        found = (Order.objects.filter(~Q(external_id=""), channel_id=channel_id,
                                      external_id__in=ids)
                 .order_by().values_list("external_id", flat=True))
        existing.update((channel_id, external_id) for external_id in found)
    if not existing:
        return list(rows)
    return [r for r in rows if (r.channel.pk, r.external_id) not in existing]


class _Attrs(dict):
    """A row as a dict whose attributes are its keys: lets `Order.set_citizen` and
    `Order.set_location` fill a row without building a model instance (~40 µs each)."""

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Writer:
    """Writes the new orders of a chunk: orders, lead assignments, events."""

    def __init__(self, plan: Plan, actor: Any, batch_id: int | None,
                 seconds: dict[str, float]) -> None:
        self.plan = plan
        self.actor = actor
        self.batch_id = batch_id
        self.seconds = seconds
        self.via = plan.preset_name or "mapping"
        try:
            self.inserter: FastInserter | None = FastInserter(Order)
            self.defaults = self.inserter.defaults()
        except NotImplementedError:  # another database: the ORM's bulk_create
            self.inserter = None
        self.written = 0
        self.analyze_at = ANALYZE_FIRST

    def _row(self, row: Checked, now: datetime) -> _Attrs:
        values = _Attrs(self.defaults)
        for name, value in row.fields.items():
            if name in _FOREIGN_KEYS:
                values[f"{name}_id"] = value.pk if value is not None else None
            else:
                values[name] = value
        values.update(created_via=CreatedVia.IMPORT, created_at=now, updated_at=now)
        name, phone, address = row.citizen
        if name or phone or address:
            Order.set_citizen(values, name=name, phone=phone, address=address)
        if values["location"]:
            Order.set_location(values, values["location"])
        return values

    def write(self, rows: list[Checked]) -> None:
        if self.inserter is None:
            self._write_orm(rows)
            return
        seconds = self.seconds
        started = time.perf_counter()
        now = timezone.now()
        built = [self._row(row, now) for row in rows]
        ids = self.inserter.allocate_ids(len(built))
        for values, pk in zip(built, ids, strict=True):
            values["id"] = pk
        ready = time.perf_counter()
        seconds["build"] += ready - started
        self.inserter.insert(built)
        self.written += len(built)
        if self.written >= self.analyze_at:
            self.inserter.analyze()
            self.analyze_at *= ANALYZE_GROWTH
        inserted = time.perf_counter()
        seconds["insert_orders"] += inserted - ready
        self._assign([(row, values["id"], values) for row, values in
                      zip(rows, built, strict=True) if row.holds])
        assigned = time.perf_counter()
        seconds["insert_assignments"] += assigned - inserted
        self._events([(row, values["id"], values["received_at"], values["state"])
                      for row, values in zip(rows, built, strict=True)])
        seconds["events"] += time.perf_counter() - assigned

    def _write_orm(self, rows: list[Checked]) -> None:
        orders = []
        for row in rows:
            order = Order(created_via=CreatedVia.IMPORT, **row.fields)
            name, phone, address = row.citizen
            if name or phone or address:
                order.set_citizen(name=name, phone=phone, address=address)
            if order.location:
                order.set_location(order.location)
            orders.append(order)
        Order.objects.bulk_create(orders)
        self._assign([(row, order.pk, order.__dict__) for row, order in
                      zip(rows, orders, strict=True) if row.holds])
        self._events([(row, order.pk, order.received_at, order.state)
                      for row, order in zip(rows, orders, strict=True)])

    def _assign(self, held: list[tuple[Checked, int, dict[str, Any]]]) -> None:
        if not held:
            return
        Assignment.objects.bulk_create([
            Assignment(order_id=pk, unit_id=values["lead_unit_id"], is_lead=True,
                       dispatched_at=values["dispatched_at"], handling_limit=row.handling_limit,
                       contact_due_at=values["contact_due_at"],
                       handling_due_at=values["handling_due_at"])
            for row, pk, values in held
        ], batch_size=PG_INSERT_ROWS if connection.vendor == "postgresql" else None)

    def _events(self, written: list[tuple[Checked, int, datetime, str]]) -> None:
        entries = []
        for row, pk, received_at, state in written:
            # Order.__str__ (number and title) without building the order.
            number = Order.number.fget(_Attrs(pk=pk, received_at=received_at))
            entries.append({
                "object_type": "orders.order", "object_id": str(pk),
                "object_repr": Order.__str__(_Attrs(number=number, title=row.fields["title"])),
                "action": "order.import", "to_state": state,
                "payload": {"batch": self.batch_id, "line": row.line,
                            "channel": row.channel.code, "external_id": row.external_id,
                            "via": self.via},
            })
        record_events_bulk(entries, actor=self.actor)


_FOREIGN_KEYS = frozenset(f.name for f in Order._meta.concrete_fields if f.is_relation)


def import_file(path: str | Path, *, preset: str | None = None,
                mapping: Mapping | dict | None = None, bureau: Unit | str | None = None,
                skip_bad: bool = False, actor: Any = None,
                errors_path: str | Path | None = None) -> ImportResult:
    """Plan and run an import in one call (scripts, tests, the benchmark), recorded as a batch.

    Raises BadInput, before anything is written, when the file, preset, mapping or bureau
    cannot be used.
    """
    from minyi.intake.models import ImportBatch

    plan = plan_import(path, preset=preset, mapping=mapping, bureau=bureau)
    batch = ImportBatch.objects.create(
        file_name=Path(path).name[:255], file_sha256=file_sha256(path),
        preset=plan.preset_name, mapping=plan.mapping.as_json(), skip_bad=skip_bad,
        bureau=plan.bureau, created_by=actor if getattr(actor, "pk", None) else None,
        status=ImportBatch.Status.RUNNING, started_at=timezone.now())
    return execute(batch, plan, actor=actor, errors_path=errors_path)


def execute(batch: Any, plan: Plan, *, actor: Any = None,
            errors_path: str | Path | None = None, count_rows: bool = True,
            rows: Callable[..., ImportResult] | None = None, noun: str = "工单") -> ImportResult:
    """Run a planned import for its batch: progress while it runs, counts and errors after.

    `rows` is the model's `import_rows` (orders by default), `noun` what the messages call
    its records."""
    rows = rows or import_rows
    from minyi.intake.models import ImportBatch

    progress = None
    try:
        if count_rows:
            batch.rows_total = plan.source.count_rows()
        batch.status = ImportBatch.Status.RUNNING
        batch.started_at = batch.started_at or timezone.now()
        batch.save(update_fields=["rows_total", "status", "started_at", "updated_at"])
        progress = _Progress(batch.pk, batch.rows_total)
        result = rows(plan, skip_bad=batch.skip_bad, actor=actor, batch_id=batch.pk,
                      progress=progress)
    except BadInput as exc:
        if progress is not None:
            progress.close()
        _finish(batch, ImportBatch.Status.FAILED, f"未导入：{exc}")
        raise
    except Exception as exc:
        if progress is not None:
            progress.close()
        logger.exception("import batch %s failed", batch.pk)
        _finish(batch, ImportBatch.Status.FAILED, f"导入出错，未导入任何{noun}：{exc}"[:500])
        raise
    progress.close()
    if result.bad_rows and errors_path is not None:
        result.errors_file = write_errors_workbook(errors_path, plan.source.header,
                                                   result.bad_rows)
        media = Path(settings.MEDIA_ROOT).resolve()
        if result.errors_file.resolve().is_relative_to(media):
            batch.errors_file.name = str(result.errors_file.resolve().relative_to(media))
    batch.rows_total = max(batch.rows_total, result.rows)
    batch.rows_done = result.rows
    batch.created, batch.existing, batch.bad = result.created, result.existing, result.bad
    batch.errors = [{"line": line, "reason": reason} for line, reason in result.errors]
    if result.committed:
        status = ImportBatch.Status.DONE
        message = f"新建 {result.created} 条，已存在 {result.existing} 条"
        if result.bad:
            message += f"，跳过错误行 {result.bad} 行"
    else:
        status = ImportBatch.Status.FAILED
        message = (f"有 {result.bad} 行错误，按“全部成功才导入”的规则，本次未导入任何{noun}；"
                   "请改正后重新导入，或选择“跳过错误行”")
    _finish(batch, status, message)
    return result


def _finish(batch: Any, status: str, message: str) -> None:
    batch.status = status
    batch.message = message[:500]
    batch.finished_at = timezone.now()
    batch.save()
    cache.delete(PROGRESS_KEY.format(batch.pk))


def run_batch(batch_id: int) -> None:
    """Run an import of orders the import page planned and stored: the background entry point.

    Takes only the batch id, so that the thread of the single-machine default and a Celery
    task later call it the same way. A batch runs once: a second delivery of the same task
    finds it no longer pending and returns.
    """
    from minyi.intake.models import ImportBatch

    def plan(batch: Any) -> Plan:
        return plan_import(batch.source_file.path, preset=batch.preset or None,
                           mapping=None if batch.preset else batch.mapping,
                           bureau=batch.bureau)

    run_stored_batch(batch_id, kind=ImportBatch.Kind.ORDER, plan=plan)


def run_stored_batch(batch_id: int, *, kind: str, plan: Callable[[Any], Plan],
                     rows: Callable[..., ImportResult] | None = None,
                     noun: str = "工单") -> None:
    """Claim a pending batch of `kind`, plan it again from what was stored (`plan(batch)`),
    and run it; failures are recorded on the batch (a background thread has no one to raise
    to)."""
    from minyi.intake.models import ImportBatch

    claimed = ImportBatch.objects.filter(
        pk=batch_id, kind=kind, status=ImportBatch.Status.PENDING).update(
        status=ImportBatch.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return
    batch = ImportBatch.objects.select_related("bureau", "created_by").get(pk=batch_id)
    try:
        planned = plan(batch)
    except BadInput as exc:
        _finish(batch, ImportBatch.Status.FAILED, f"未导入：{exc}")
        return
    stored = Path(batch.source_file.path)
    errors_path = stored.with_name(f"{stored.stem}-错误行.xlsx")
    try:
        execute(batch, planned, actor=batch.created_by, errors_path=errors_path, rows=rows,
                noun=noun)
    except Exception:
        logger.exception("import batch %s failed", batch_id)
