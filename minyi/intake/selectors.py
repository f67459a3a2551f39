"""Reads of the intake app for pages."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from django.db.models import Q, QuerySet
from django.http import Http404

from minyi.intake.importing.run import live_rows_done
from minyi.intake.models import ImportBatch


def import_batches(user: Any, *, kind: str, bureaus: list[Any]) -> QuerySet[ImportBatch]:
    """The import batches of one kind (orders, callback contacts) in the bureaus the user may
    import into, newest first."""
    batches = ImportBatch.objects.filter(kind=kind).select_related("bureau", "created_by")
    if user.is_superuser:
        return batches
    scope = Q(pk__in=[])
    for bureau in bureaus:
        scope |= Q(bureau__path__startswith=bureau.path)
    return batches.filter(scope)


def get_import_batch(batches: QuerySet[ImportBatch], pk: Any) -> ImportBatch:
    """One of `batches`; 404 alike for a missing batch and one out of reach."""
    batch = batches.filter(pk=pk).first()
    if batch is None:
        raise Http404("没有找到该导入批次")
    return batch


def batch_progress(batch: ImportBatch) -> dict[str, Any]:
    """What an import's page and its polled progress bar show (orders and contacts alike)."""
    done = live_rows_done(batch)
    total = batch.rows_total or 0
    finished = batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED)
    return {
        "batch": batch,
        "rows_done": done,
        "rows_total": total,
        "percent": 100 if finished else (int(done * 100 / total) if total else 0),
        "finished": finished,
        "stored_errors_cut": batch.bad > len(batch.errors),
    }


def errors_file_of(batch: ImportBatch) -> tuple[IO[bytes], str]:
    """The batch's file of bad rows, open, and the name to download it under; 404 without."""
    if not batch.errors_file:
        raise Http404("本批次没有错误行文件")
    try:
        handle = batch.errors_file.open("rb")
    except OSError:
        raise Http404("错误行文件已不存在") from None
    return handle, f"{Path(batch.file_name).stem}-错误行.xlsx"
