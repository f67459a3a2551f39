"""导入回访对象: 110 calls, cases and window services from xlsx/csv, as callback contacts.

For the opinion office's officers and the administrators of a bureau (403 for other roles); a
batch is seen only by those of its bureau (404 for everyone else). Upload with a preset (110,
case, window) or a mapping file (YAML/JSON) → run in the background → the progress bar polls →
the result, with every bad row and the errors workbook. The machinery and its batches are the
work-order import's (`minyi.intake.importing`, `ImportBatch` of kind "contact").
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from minyi.callbacks.importing import (
    CONTACTS,
    new_batch,
    plan_contact_import,
    run_contact_batch,
)
from minyi.callbacks.presets import CONTACT_PRESETS
from minyi.intake.importing import BadInput, background, file_sha256
from minyi.intake.importing.mapping import load_mapping_file
from minyi.intake.models import ImportBatch
from minyi.intake.selectors import (
    batch_progress,
    errors_file_of,
    get_import_batch,
    import_batches,
)
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

IMPORT_ROLES = frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR})
RECENT = 20
CUSTOM = ""
ALLOWED_SUFFIXES = (".csv", ".xlsx", ".gz", ".txt")
MAPPING_SUFFIXES = (".yaml", ".yml", ".json")
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_MAPPING_BYTES = 256 * 1024


class ContactUploadForm(forms.Form):
    file = forms.FileField(
        label="导入文件",
        help_text="110 接处警、执法办案或窗口业务系统导出的 xlsx 或 csv（UTF-8 或 GBK 编码均可），"
                  "第一行为表头")
    preset = forms.ChoiceField(label="文件格式", required=False)
    mapping_file = forms.FileField(
        label="列对应文件", required=False,
        help_text="选“自定义列对应”时上传（YAML 或 JSON），写明哪一列是记录编号、办理时间、"
                  "联系电话、办理单位等")
    bureau = forms.ModelChoiceField(label="导入到", queryset=Unit.objects.none(),
                                    empty_label=None)
    skip_bad = forms.BooleanField(
        label="跳过错误行", required=False,
        help_text="不勾选：有任何一行错误则整个文件都不导入；勾选：导入正确的行，错误行另存为文件")

    def __init__(self, *args: Any, bureaus: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(p.name, p.label) for p in CONTACT_PRESETS.values()]
        self.fields["preset"].choices += [(CUSTOM, "自定义列对应（上传列对应文件）")]
        self.fields["preset"].initial = "call_110"
        self.fields["bureau"].queryset = Unit.objects.filter(pk__in=[b.pk for b in bureaus])
        if len(bureaus) == 1:
            self.fields["bureau"].initial = bureaus[0].pk
            self.fields["bureau"].widget = forms.HiddenInput()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError("只能导入 .xlsx、.csv 文件（或其 .gz 压缩文件）")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("文件超过 200MB，请拆分后导入，或在服务器上用命令行导入")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("mapping_file")
        if data.get("preset") == CUSTOM and "preset" not in self.errors:
            if upload is None:
                self.add_error("mapping_file", "选择“自定义列对应”时，请上传列对应文件")
                return data
            suffix = Path(upload.name).suffix.lower()
            if suffix not in MAPPING_SUFFIXES or upload.size > MAX_MAPPING_BYTES:
                self.add_error("mapping_file", "列对应文件应为 .yaml、.yml 或 .json 文本文件")
                return data
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"mapping{suffix}"
                path.write_bytes(upload.read())
                try:
                    data["mapping"] = load_mapping_file(path, CONTACTS)
                except BadInput as exc:
                    self.add_error("mapping_file", str(exc))
        elif upload is not None and data.get("preset"):
            self.add_error("mapping_file",
                           "已选预设格式时不用上传列对应文件；要用它，请选“自定义列对应”")
        return data


def _require_importer(request: HttpRequest) -> list[Unit]:
    bureaus = access.bureaus_with_role(request.user, IMPORT_ROLES)
    if not bureaus:
        raise PermissionDenied("只有民意专员和系统管理员可以导入回访对象")
    return bureaus


def _batches(request: HttpRequest) -> Any:
    return import_batches(request.user, kind=ImportBatch.Kind.CONTACT,
                          bureaus=_require_importer(request))


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_import_batch(_batches(request), pk)


def imports(request: HttpRequest) -> HttpResponse:
    bureaus = _require_importer(request)
    form = ContactUploadForm(request.POST or None, request.FILES or None, bureaus=bureaus)
    if request.method == "POST" and form.is_valid():
        batch = _start_batch(request, form)
        if batch is not None:
            background.start(batch.pk, runner=run_contact_batch)
            return redirect("callbacks:import_detail", pk=batch.pk)
    recent = _batches(request).select_related("bureau", "created_by")[:RECENT]
    return render(request, "callbacks/import.html", {
        "form": form, "batches": recent, "presets": list(CONTACT_PRESETS.values()),
    })


def _start_batch(request: HttpRequest, form: ContactUploadForm) -> ImportBatch | None:
    """Keep the upload as a pending batch once the file, preset or mapping and its columns
    are known to be usable; otherwise put the reason on the form and keep nothing."""
    upload = form.cleaned_data["file"]
    preset = form.cleaned_data["preset"] or None
    mapping = form.cleaned_data.get("mapping")
    batch = ImportBatch(kind=ImportBatch.Kind.CONTACT, bureau=form.cleaned_data["bureau"])
    batch.source_file.save(Path(upload.name).name, upload, save=False)
    path = batch.source_file.path
    try:
        plan = plan_contact_import(path, preset=preset, mapping=mapping, bureau=batch.bureau)
    except BadInput as exc:
        batch.source_file.delete(save=False)
        form.add_error(None, str(exc))
        return None
    stored = batch.source_file.name
    batch = new_batch(plan, file_name=upload.name, sha256=file_sha256(path),
                      skip_bad=form.cleaned_data["skip_bad"], actor=request.user)
    batch.source_file.name = stored
    batch.save()
    return batch


def _progress_context(batch: ImportBatch) -> dict[str, Any]:
    return {**batch_progress(batch),
            "preset_label": (CONTACT_PRESETS[batch.preset].label.split("（")[0]
                             if batch.preset in CONTACT_PRESETS else "自定义列对应")}


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return render(request, "callbacks/import_detail.html", _progress_context(batch))


def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The partial the progress bar polls (hx-get every second) until the import ends."""
    batch = _batch(request, pk)
    return render(request, "callbacks/import_progress.html", _progress_context(batch))


def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    handle, name = errors_file_of(_batch(request, pk))
    return FileResponse(handle, as_attachment=True, filename=name)


def import_template(request: HttpRequest, preset: str) -> FileResponse:
    """An empty workbook with a preset's header (the first spelling of each column)."""
    _require_importer(request)
    chosen = CONTACT_PRESETS.get(preset)
    if chosen is None:
        raise Http404("没有该预设格式")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "回访对象"
    sheet.append([names[0] for names in chosen.spec["columns"].values()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    name = chosen.label.split("（")[0]
    return FileResponse(buffer, as_attachment=True, filename=f"{name}导入模板.xlsx")
