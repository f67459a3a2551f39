"""The surveys in the admin: to look things up. Questionnaires, waves, frames, answers and
weights change only through the survey pages (`surveys.actions`), which keep versions frozen and
write every event, so they are read-only here; the benchmarks, typed in by hand, may be
corrected here, each change in the audit trail. No phone number is shown, only its mask."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from minyi.core.admin import AuditedModelAdmin, ReadOnlyAdmin
from minyi.surveys.models import (
    Benchmark,
    FrameMember,
    IndexDefinition,
    PopulationCell,
    PopulationTable,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Quota,
    Response,
    SurveyAttempt,
    Wave,
    WebLink,
    Weighting,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VersionInline(ReadOnlyInline):
    model = QuestionnaireVersion
    fields = ["number", "note", "frozen_at", "created_by", "created_at"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(ReadOnlyAdmin):
    list_display = ["name", "bureau", "template_code", "updated_at"]
    list_filter = ["bureau"]
    search_fields = ["name"]
    inlines = [VersionInline]


class QuestionInline(ReadOnlyInline):
    model = Question
    fields = ["position", "code", "kind", "text", "options", "required", "show_if",
              "max_choices"]


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(ReadOnlyAdmin):
    list_display = ["questionnaire", "number", "frozen_at", "created_by", "created_at"]
    list_filter = ["questionnaire__bureau"]
    inlines = [QuestionInline]


@admin.register(IndexDefinition)
class IndexDefinitionAdmin(ReadOnlyAdmin):
    # A definition's version is never changed once figures name it (surveys.definitions).
    list_display = ["code", "version", "name", "question_code", "bureau", "is_active"]
    list_filter = ["bureau", "is_active"]
    search_fields = ["code", "name"]


class QuotaInline(ReadOnlyInline):
    model = Quota
    fields = ["area", "target"]


@admin.register(Wave)
class WaveAdmin(ReadOnlyAdmin):
    list_display = ["name", "bureau", "state", "starts_on", "ends_on", "version", "opened_at",
                    "closed_at"]
    list_filter = ["state", "bureau"]
    search_fields = ["name"]
    inlines = [QuotaInline]


class SurveyAttemptInline(ReadOnlyInline):
    model = SurveyAttempt
    fields = ["number", "caller_user", "at", "disposition", "outcome", "note"]


@admin.register(FrameMember)
class FrameMemberAdmin(ReadOnlyAdmin):
    list_display = ["pk", "wave", "phone_mask", "origin", "area", "sex", "age_group", "state",
                    "attempts", "outcome"]
    list_filter = ["state", "origin", "outcome"]
    # The cipher text and the keyed hash are of no use to a reader and are left out.
    exclude = ["phone_enc", "phone_hash"]
    raw_id_fields = ["wave", "import_batch"]
    inlines = [SurveyAttemptInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("wave", "area")


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ["pk", "wave", "mode", "area", "station", "sex", "age_group", "weight",
                    "completed_at"]
    list_filter = ["mode", "wave"]
    raw_id_fields = ["member"]


@admin.register(WebLink)
class WebLinkAdmin(ReadOnlyAdmin):
    list_display = ["pk", "member", "expires_at", "used_at", "sent_by"]
    exclude = ["token_hash"]
    raw_id_fields = ["member", "sms"]


class PopulationCellInline(ReadOnlyInline):
    model = PopulationCell
    fields = ["area", "sex", "age_group", "count"]


@admin.register(PopulationTable)
class PopulationTableAdmin(ReadOnlyAdmin):
    list_display = ["name", "bureau", "year", "source"]
    list_filter = ["bureau", "year"]
    inlines = [PopulationCellInline]


@admin.register(Weighting)
class WeightingAdmin(ReadOnlyAdmin):
    list_display = ["wave", "method", "table", "trim_lower", "trim_upper", "performed_by",
                    "created_at"]
    list_filter = ["method"]


@admin.register(Benchmark)
class BenchmarkAdmin(AuditedModelAdmin):
    list_display = ["year", "label", "index_code", "value", "bureau", "source"]
    list_filter = ["bureau", "year", "label"]
    search_fields = ["index_code", "label"]
