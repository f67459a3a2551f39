"""Reads of the intake app for pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

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
