from django.contrib import admin

from minyi.core.admin import AuditedModelAdmin, ReadOnlyAdmin
from minyi.intake.models import Channel, FeedbackDelivery, ImportBatch, IntegrationClient


@admin.register(Channel)
class ChannelAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]


@admin.register(IntegrationClient)
class IntegrationClientAdmin(AuditedModelAdmin):
    """Clients are made with `minyi intake create-client`, which shows the token once; the
    admin edits them but cannot make one (it could not show a token it never keeps)."""

    list_display = ["name", "channel", "bureau", "token_prefix", "webhook_url", "is_active"]
    readonly_fields = ["token_prefix"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(FeedbackDelivery)
class FeedbackDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["order", "client", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "client"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "preset", "status", "rows_total", "created", "existing", "bad",
                    "created_by", "created_at"]
    list_filter = ["status", "preset"]
