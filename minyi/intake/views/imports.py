"""Bulk import of orders (xlsx/csv) with column mapping and a progress bar.

For the command centre's dispatchers and the administrators (403 for other roles). A batch is
seen only by those of its bureau (404 for everyone else, as for any object not one's own).
Upload → (map the columns, when no preset fits) → run in the background → the progress bar
polls a partial every second → the result, with every bad row and the errors workbook.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from minyi.intake.forms import MappingForm, UploadForm
from minyi.intake.importing import BadInput, background, file_sha256, plan_import
from minyi.intake.importing.reading import open_source
from minyi.intake.models import ImportBatch
from minyi.intake.selectors import (
    batch_progress,
    errors_file_of,
    get_import_batch,
    import_batches,
)
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

IMPORT_ROLES = frozenset({Role.DISPATCHER, Role.ADMINISTRATOR})
RECENT = 20


def _require_importer(request: HttpRequest) -> list[Unit]:
    bureaus = access.bureaus_with_role(request.user, IMPORT_ROLES)
    if not bureaus:
        raise PermissionDenied("只有指挥中心调度员和系统管理员可以批量导入工单")
    return bureaus


def _batches(request: HttpRequest) -> Any:
    return import_batches(request.user, kind=ImportBatch.Kind.ORDER,
                          bureaus=_require_importer(request))


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_import_batch(_batches(request), pk)


def imports(request: HttpRequest) -> HttpResponse:
    bureaus = _require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None, bureaus=bureaus,
                      superuser=request.user.is_superuser)
    if request.method == "POST" and form.is_valid():
        batch = _start_batch(request, form)
        if batch is not None:
            if not batch.preset:
                return redirect("intake:import_mapping", pk=batch.pk)
            background.start(batch.pk)
            return redirect("intake:import_detail", pk=batch.pk)
    recent = _batches(request).select_related("bureau", "created_by")[:RECENT]
    return render(request, "intake/import.html", {"form": form, "batches": recent})


def _start_batch(request: HttpRequest, form: UploadForm) -> ImportBatch | None:
    """Keep the upload as a pending batch, once the file (and preset) are known to be usable;
    otherwise put the reason on the form and keep nothing."""
    upload = form.cleaned_data["file"]
    preset = form.cleaned_data["preset"]
    batch = ImportBatch(file_name=upload.name[:255], preset=preset,
                        skip_bad=form.cleaned_data["skip_bad"],
                        bureau=form.cleaned_data["bureau"], created_by=request.user)
    batch.source_file.save(Path(upload.name).name, upload, save=False)
    path = batch.source_file.path
    try:
        if preset:
            plan = plan_import(path, preset=preset, bureau=batch.bureau)
            batch.bureau = plan.bureau  # a demo preset brings its own
            batch.mapping = plan.mapping.as_json()
        else:
            open_source(path)
    except BadInput as exc:
        batch.source_file.delete(save=False)
        form.add_error("file" if not preset else None, str(exc))
        return None
    batch.file_sha256 = file_sha256(path)
    batch.save()
    return batch


def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch.status != ImportBatch.Status.PENDING or batch.preset:
        return redirect("intake:import_detail", pk=batch.pk)
    try:
        source = open_source(batch.source_file.path)
    except (BadInput, ValueError, OSError) as exc:
        raise Http404(f"导入文件已不可读：{exc}") from None
    form = MappingForm(request.POST or None, header=source.header)
    if request.method == "POST" and form.is_valid():
        batch.mapping = form.cleaned_data["spec"]
        batch.save(update_fields=["mapping", "updated_at"])
        background.start(batch.pk)
        return redirect("intake:import_detail", pk=batch.pk)
    return render(request, "intake/import_mapping.html", {
        "batch": batch, "form": form, "header": source.header, "source": source,
    })


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return render(request, "intake/import_detail.html", batch_progress(batch))


def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The partial the progress bar polls (hx-get every second) until the import ends."""
    batch = _batch(request, pk)
    return render(request, "intake/import_progress.html", batch_progress(batch))


def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    handle, name = errors_file_of(_batch(request, pk))
    return FileResponse(handle, as_attachment=True, filename=name)


def import_template(request: HttpRequest) -> FileResponse:
    """An empty workbook with the standard preset's header, to fill in and import."""
    _require_importer(request)
    from openpyxl import Workbook

    from minyi.intake.presets.standard import TEMPLATE_HEADER

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工单"
    sheet.append(TEMPLATE_HEADER)
    sheet.append(["12345-20240501-0001", "12345", "噪音扰民", "投诉", "楼上装修噪音扰民",
                  "每天晚上十点后仍在施工", "刘女士", "13812345678", "东城镇东城村3号", "",
                  "东城村3号楼", "2024-05-01 08:30", "", "", "", "", "", "", "办理中", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename="工单导入模板.xlsx")
