from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest

from minyi.core.audit import record_event, snapshot
from minyi.core.models import AuditCheck, Event

admin.site.site_header = "民意平台 · 基础数据管理"
admin.site.site_title = "民意平台管理"
admin.site.index_title = "基础数据"


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions go into the audit trail.

    Django's admin saves in one transaction and calls `log_addition`/`log_change` after the
    object and its many-to-many relations are saved, so the event is written with the final
    state and is kept or lost with the change itself.
    """

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            obj._audit_before = snapshot(stored) if stored is not None else None
        super().save_model(request, obj, form, change)

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any):
        record_event(actor=request.user, obj=obj, action="admin.add", after=snapshot(obj))
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any):
        record_event(
            actor=request.user,
            obj=obj,
            action="admin.change",
            before=getattr(obj, "_audit_before", None),
            after=snapshot(obj),
        )
        return super().log_change(request, obj, message)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            record_event(actor=request.user, obj=obj, action="admin.delete", before=snapshot(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        with transaction.atomic():
            for obj in queryset:
                record_event(
                    actor=request.user, obj=obj, action="admin.delete", before=snapshot(obj)
                )
            super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id"]
    date_hierarchy = "created_at"


@admin.register(AuditCheck)
class AuditCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "ok", "rows", "last_event_id", "broken_event_id", "message"]
