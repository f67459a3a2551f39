"""Setting a survey up: questionnaires and their versions, waves, quotas, the sample frame.

Who: questionnaires, quotas, frames and state changes are for the bureau's survey managers
(opinion officers, administrators: 403 for other roles); the list of waves and a wave's page
(progress, rates) for everyone in the bureau; anything of another bureau is 404. Every change
goes through `surveys.actions` (or `surveys.frames` for an import); a refused change shows the
action's Chinese message on the form.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from minyi.core.errors import MinyiError, NotAllowed
from minyi.intake.importing import BadInput, background
from minyi.intake.models import ImportBatch
from minyi.intake.selectors import batch_progress, errors_file_of, get_import_batch
from minyi.orgs import access
from minyi.orgs.models import Unit
from minyi.surveys import actions, frames, selectors
from minyi.surveys.forms import (
    FrameGenerateForm,
    FrameUploadForm,
    QuestionForm,
    QuestionnaireCreateForm,
    QuestionnaireForm,
    QuotaForm,
    WaveForm,
)
from minyi.surveys.models import (
    FrameMember,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Quota,
    Wave,
)

FRAME_PAGE = 50
RECENT_BATCHES = 10


def _manager_bureaus(request: HttpRequest) -> list[Unit]:
    bureaus = selectors.manager_bureaus(request.user)
    if not bureaus:
        raise PermissionDenied("只有民意专员或系统管理员可以设置民意调查")
    return bureaus


def _questionnaire(request: HttpRequest, pk: Any) -> Questionnaire:
    _manager_bureaus(request)
    return selectors.get_questionnaire_for_user(request.user, pk)


def _version(request: HttpRequest, pk: Any) -> QuestionnaireVersion:
    _manager_bureaus(request)
    return selectors.get_version_for_user(request.user, pk)


def _wave(request: HttpRequest, pk: Any) -> Wave:
    return access.get_wave_for_user(request.user, pk)


def _managed_wave(request: HttpRequest, pk: Any) -> Wave:
    """A wave of the user's bureau (404 otherwise) that the user sets up (403 otherwise)."""
    wave = _wave(request, pk)
    if not access.may_manage_surveys(request.user, wave.bureau):
        raise PermissionDenied("只有民意专员或系统管理员可以设置民意调查")
    return wave


def _refused(request: HttpRequest, exc: MinyiError) -> None:
    if isinstance(exc, NotAllowed):
        raise PermissionDenied(str(exc))
    messages.error(request, str(exc))


# --- questionnaires -------------------------------------------------------------------------


def questionnaires(request: HttpRequest) -> HttpResponse:
    bureaus = _manager_bureaus(request)
    form = QuestionnaireCreateForm(request.POST or None, bureaus=bureaus)
    if request.method == "POST" and form.is_valid():
        try:
            made = actions.create_questionnaire_from_template(
                actor=request.user, bureau=form.cleaned_data["bureau"],
                name=form.cleaned_data["name"])
        except MinyiError as exc:
            _refused(request, exc)
        else:
            messages.success(request, f"已由内置模板新建问卷「{made}」第1版。")
            return redirect("surveys:questionnaire_version", pk=made.latest_version().pk)
    return render(request, "surveys/setup/questionnaires.html", {
        "rows": selectors.questionnaire_rows(request.user), "form": form,
        "several_bureaus": len(bureaus) > 1,
    }, status=400 if form.errors else 200)


def questionnaire(request: HttpRequest, pk: int) -> HttpResponse:
    made = _questionnaire(request, pk)
    form = QuestionnaireForm(request.POST or None,
                             initial={"name": made.name, "description": made.description})
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_questionnaire(actor=request.user, questionnaire=made,
                                         name=form.cleaned_data["name"],
                                         description=form.cleaned_data["description"])
        except MinyiError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已保存问卷名称和说明。")
            return redirect("surveys:questionnaire", pk=made.pk)
    return render(request, "surveys/setup/questionnaire.html", {
        "questionnaire": made, "versions": selectors.version_rows(made), "form": form,
    }, status=400 if form.errors else 200)


def _version_context(version: QuestionnaireVersion, **extra: Any) -> dict[str, Any]:
    questions = list(version.questions.order_by("position"))
    rows = []
    for i, q in enumerate(questions):
        rows.append({"question": q, "form": QuestionForm(
            initial=QuestionForm.initial_of(q), earlier=questions[:i], fixed_code=q.code,
            prefix=f"q-{q.code}")})
    latest = version.questionnaire.latest_version()
    return {
        "version": version, "questionnaire": version.questionnaire, "rows": rows,
        "add_form": extra.pop("add_form", None) or QuestionForm(earlier=questions,
                                                                prefix="new"),
        "latest": latest, "next_number": (latest.number + 1) if latest else 1,
        "waves": list(version.waves.order_by("starts_on")), **extra,
    }


def questionnaire_version(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    return render(request, "surveys/setup/version.html", _version_context(version))


def _changed(request: HttpRequest, before: QuestionnaireVersion,
             after: QuestionnaireVersion, done: str, anchor: str = "") -> HttpResponse:
    if after.pk != before.pk:
        messages.success(request, f"第{before.number}版已冻结（已有调查使用），"
                                  f"{done}已保存为第{after.number}版。")
    else:
        messages.success(request, f"{done}已保存。")
    url = reverse("surveys:questionnaire_version", args=[after.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_POST
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    questions = list(version.questions.order_by("position"))
    form = QuestionForm(request.POST, earlier=questions, prefix="new")
    if form.is_valid():
        spec = form.spec()
        try:
            made = actions.add_question(actor=request.user, version=version, **spec)
        except MinyiError as exc:
            if isinstance(exc, NotAllowed):
                raise PermissionDenied(str(exc)) from None
            form.add_error(None, str(exc))
        else:
            return _changed(request, version, made.version, f"新题目「{made.code}」",
                            f"q-{made.code}")
    return render(request, "surveys/setup/version.html",
                  _version_context(version, add_form=form, add_open=True), status=400)


def _question(version: QuestionnaireVersion, code: str) -> tuple[Question, list[Question]]:
    questions = list(version.questions.order_by("position"))
    for i, q in enumerate(questions):
        if q.code == code:
            return q, questions[:i]
    raise Http404("本版问卷中没有该题目")


def question_edit(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    version = _version(request, pk)
    question, earlier = _question(version, code)
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_of(question),
                        earlier=earlier, fixed_code=question.code, prefix=f"q-{question.code}")
    if request.method == "POST" and form.is_valid():
        try:
            saved = actions.update_question(actor=request.user, version=version,
                                            **form.spec())
        except MinyiError as exc:
            if isinstance(exc, NotAllowed):
                raise PermissionDenied(str(exc)) from None
            form.add_error(None, str(exc))
        else:
            return _changed(request, version, saved.version, f"题目「{code}」的修改",
                            f"q-{code}")
    return render(request, "surveys/setup/question_form.html", {
        "version": version, "question": question, "form": form,
    }, status=400 if form.errors else 200)


@require_POST
def question_remove(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    version = _version(request, pk)
    _question(version, code)
    try:
        target = actions.remove_question(actor=request.user, version=version, code=code)
    except MinyiError as exc:
        _refused(request, exc)
        return redirect("surveys:questionnaire_version", pk=version.pk)
    return _changed(request, version, target, f"删除题目「{code}」")


@require_POST
def question_move(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    version = _version(request, pk)
    _question(version, code)
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        moved = actions.move_question(actor=request.user, version=version, code=code,
                                      offset=offset)
    except MinyiError as exc:
        _refused(request, exc)
        return redirect("surveys:questionnaire_version", pk=version.pk)
    return _changed(request, version, moved.version, f"题目「{code}」的新位置", f"q-{code}")


# --- waves ----------------------------------------------------------------------------------


def waves(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/setup/waves.html", {
        "rows": selectors.wave_rows(request.user),
        "can_create": bool(selectors.manager_bureaus(request.user)),
    })


def wave_new(request: HttpRequest) -> HttpResponse:
    _manager_bureaus(request)
    versions = selectors.wave_versions(request.user)
    initial = {"version": versions.first().pk} if versions.exists() else None
    form = WaveForm(request.POST or None, versions=versions, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = actions.create_wave(actor=request.user, version=data["version"],
                                       name=data["name"], starts_on=data["starts_on"],
                                       ends_on=data["ends_on"], web_enabled=data["web_enabled"],
                                       max_attempts=data["max_attempts"])
        except MinyiError as exc:
            if isinstance(exc, NotAllowed):
                raise PermissionDenied(str(exc)) from None
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已新建调查「{made}」。下一步：设置各乡镇配额，"
                                      "导入或生成样本框，然后开始调查。")
            return redirect("surveys:wave", pk=made.pk)
    return render(request, "surveys/setup/wave_form.html", {
        "form": form, "wave": None, "has_versions": versions.exists(),
    }, status=400 if form.errors else 200)


def wave_edit(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    versions = selectors.wave_versions(request.user).filter(
        questionnaire__bureau=wave.bureau)
    form = WaveForm(request.POST or None, versions=versions, initial=WaveForm.initial_of(wave))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.update_wave(actor=request.user, wave=wave, name=data["name"],
                                starts_on=data["starts_on"], ends_on=data["ends_on"],
                                version=data["version"], web_enabled=data["web_enabled"],
                                max_attempts=data["max_attempts"])
        except MinyiError as exc:
            if isinstance(exc, NotAllowed):
                raise PermissionDenied(str(exc)) from None
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已保存调查设置。")
            return redirect("surveys:wave", pk=wave.pk)
    return render(request, "surveys/setup/wave_form.html", {
        "form": form, "wave": wave, "has_versions": True,
    }, status=400 if form.errors else 200)


def wave(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk)
    manager = access.may_manage_surveys(request.user, wave.bureau)
    links = selectors.wave_links(wave)
    # Only the pages the user may open: the desk is the interviewers', weighting the managers'.
    if not access.may_interview(request.user, wave.bureau):
        links["desk"] = None
    if not manager:
        links["weighting"] = None
    context: dict[str, Any] = {
        "wave": wave, "manager": manager, "progress": selectors.quota_progress(wave),
        "frame": selectors.frame_counts(wave), "rates": selectors.wave_rates(wave),
        "links": links,
    }
    if manager:
        context["batches"] = list(frames.frame_batches(wave)[:RECENT_BATCHES])
        context["history"] = selectors.wave_history(wave, limit=20)
    return render(request, "surveys/setup/wave.html", context)


def wave_quotas(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    townships = list(selectors.bureau_townships(wave.bureau))
    current = dict(Quota.objects.filter(wave=wave).values_list("area_id", "target"))
    form = QuotaForm(request.POST or None, townships=townships, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            quotas = actions.set_quotas(actor=request.user, wave=wave, targets=form.targets())
        except MinyiError as exc:
            if isinstance(exc, NotAllowed):
                raise PermissionDenied(str(exc)) from None
            form.add_error(None, str(exc))
        else:
            total = sum(q.target for q in quotas)
            messages.success(request, f"已保存配额：{len(quotas)} 个乡镇（街道），"
                                      f"合计目标样本量 {total}。")
            return redirect("surveys:wave", pk=wave.pk)
    return render(request, "surveys/setup/quotas.html", {
        "wave": wave, "form": form, "townships": townships,
    }, status=400 if form.errors else 200)


@require_POST
def wave_open(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    try:
        actions.open_wave(actor=request.user, wave=wave)
    except MinyiError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"「{wave}」已开始调查，问卷第{wave.version.number}版已冻结。")
    return redirect("surveys:wave", pk=wave.pk)


@require_POST
def wave_close(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    try:
        actions.close_wave(actor=request.user, wave=wave)
    except MinyiError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"「{wave}」已结束调查；未完成的号码已按 AAPOR 规则结案。")
    return redirect("surveys:wave", pk=wave.pk)


# --- the frame ------------------------------------------------------------------------------


def wave_frame(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    state = request.GET.get("state", "")
    if state not in FrameMember.State.values:
        state = ""
    page = Paginator(selectors.frame_members(wave, state=state), FRAME_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "surveys/setup/frame.html", {
        "wave": wave, "page": page, "state": state, "states": FrameMember.State.choices,
        "frame": selectors.frame_counts(wave),
        "batches": list(frames.frame_batches(wave)[:RECENT_BATCHES]),
    })


def frame_import(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    form = FrameUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = _start_frame_batch(request, wave, form)
        if batch is not None:
            background.start(batch.pk, runner=frames.run_frame_batch)
            return redirect("surveys:frame_import_detail", pk=wave.pk, batch=batch.pk)
    return render(request, "surveys/setup/frame_import.html", {
        "wave": wave, "form": form, "batches": list(frames.frame_batches(wave)[:RECENT_BATCHES]),
        "columns": frames.TARGETS,
    }, status=400 if form.errors else 200)


def _start_frame_batch(request: HttpRequest, wave: Wave,
                       form: FrameUploadForm) -> ImportBatch | None:
    """Keep the upload as a pending batch once its header is usable; otherwise put the reason
    on the form and keep nothing."""
    upload = form.cleaned_data["file"]
    holder = ImportBatch(kind=ImportBatch.Kind.SURVEY_FRAME, bureau=wave.bureau)
    holder.source_file.save(form.file_name, upload, save=False)
    try:
        return frames.start_frame_batch(
            actor=request.user, wave=wave, stored_name=holder.source_file.name,
            path=holder.source_file.path, file_name=form.file_name,
            skip_bad=form.cleaned_data["skip_bad"])
    except BadInput as exc:
        holder.source_file.delete(save=False)
        form.add_error(None, str(exc))
        return None


def _batch(request: HttpRequest, pk: int, batch: int) -> tuple[Wave, ImportBatch]:
    wave = _managed_wave(request, pk)
    return wave, get_import_batch(frames.frame_batches(wave), batch)


def frame_import_detail(request: HttpRequest, pk: int, batch: int) -> HttpResponse:
    wave, found = _batch(request, pk, batch)
    return render(request, "surveys/setup/frame_import_detail.html",
                  {"wave": wave, **batch_progress(found)})


def frame_import_progress(request: HttpRequest, pk: int, batch: int) -> HttpResponse:
    """The partial the progress bar polls (hx-get every second) until the import ends."""
    wave, found = _batch(request, pk, batch)
    return render(request, "surveys/setup/frame_import_progress.html",
                  {"wave": wave, **batch_progress(found)})


def frame_import_errors(request: HttpRequest, pk: int, batch: int) -> FileResponse:
    _, found = _batch(request, pk, batch)
    handle, name = errors_file_of(found)
    return FileResponse(handle, as_attachment=True, filename=name)


def frame_template(request: HttpRequest) -> FileResponse:
    _manager_bureaus(request)
    return FileResponse(io.BytesIO(frames.frame_template()), as_attachment=True,
                        filename="样本框导入模板.xlsx")


def frame_generate(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    form = FrameGenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = actions.generate_frame(actor=request.user, wave=wave,
                                          prefixes=data["prefixes"], count=data["count"],
                                          seed=data["seed"])
        except MinyiError as exc:
            if isinstance(exc, NotAllowed):
                raise PermissionDenied(str(exc)) from None
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已在号段 {'、'.join(made.prefixes)} 内随机生成 "
                                      f"{made.created} 个号码（随机种子 {made.seed}）。")
            return redirect("surveys:wave_frame", pk=wave.pk)
    return render(request, "surveys/setup/frame_generate.html", {
        "wave": wave, "form": form,
    }, status=400 if form.errors else 200)


@require_POST
def frame_clear(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _managed_wave(request, pk)
    try:
        removed = actions.clear_frame(actor=request.user, wave=wave)
    except MinyiError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"已清空样本框（{removed} 个号码）。")
    return redirect("surveys:wave_frame", pk=wave.pk)


urlpatterns = [
    path("questionnaires/", questionnaires, name="questionnaires"),
    path("questionnaires/<int:pk>/", questionnaire, name="questionnaire"),
    path("questionnaires/versions/<int:pk>/", questionnaire_version,
         name="questionnaire_version"),
    path("questionnaires/versions/<int:pk>/add/", question_add, name="question_add"),
    path("questionnaires/versions/<int:pk>/questions/<slug:code>/", question_edit,
         name="question_edit"),
    path("questionnaires/versions/<int:pk>/questions/<slug:code>/remove/", question_remove,
         name="question_remove"),
    path("questionnaires/versions/<int:pk>/questions/<slug:code>/move/", question_move,
         name="question_move"),
    path("waves/", waves, name="waves"),
    path("waves/new/", wave_new, name="wave_new"),
    path("waves/frame-template.xlsx", frame_template, name="frame_template"),
    path("waves/<int:pk>/", wave, name="wave"),
    path("waves/<int:pk>/edit/", wave_edit, name="wave_edit"),
    path("waves/<int:pk>/quotas/", wave_quotas, name="wave_quotas"),
    path("waves/<int:pk>/open/", wave_open, name="wave_open"),
    path("waves/<int:pk>/close/", wave_close, name="wave_close"),
    path("waves/<int:pk>/frame/", wave_frame, name="wave_frame"),
    path("waves/<int:pk>/frame/import/", frame_import, name="frame_import"),
    path("waves/<int:pk>/frame/imports/<int:batch>/", frame_import_detail,
         name="frame_import_detail"),
    path("waves/<int:pk>/frame/imports/<int:batch>/progress/", frame_import_progress,
         name="frame_import_progress"),
    path("waves/<int:pk>/frame/imports/<int:batch>/errors.xlsx", frame_import_errors,
         name="frame_import_errors"),
    path("waves/<int:pk>/frame/generate/", frame_generate, name="frame_generate"),
    path("waves/<int:pk>/frame/clear/", frame_clear, name="frame_clear"),
]
