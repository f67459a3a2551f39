from django.contrib import admin

from minyi.core.admin import AuditedModelAdmin
from minyi.orders.models import Order, OrderType, ReminderLetter, SupervisionNotice


@admin.register(OrderType)
class OrderTypeAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "business_class", "contact_limit", "contact_calendar",
                    "handling_limit", "handling_calendar", "is_active"]
    list_filter = ["business_class", "is_active"]
    list_editable = ["contact_limit", "handling_limit", "is_active"]
    search_fields = ["name", "code"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: orders change only through the closed loop's actions, each with its event."""

    list_display = ["__str__", "channel", "order_type", "state", "lead_unit", "received_at",
                    "handling_due_at"]
    list_filter = ["state", "channel", "order_type"]
    search_fields = ["title", "external_id"]
    raw_id_fields = ["bureau", "lead_unit", "area", "received_by", "source_client"]
    list_select_related = ["channel", "order_type", "lead_unit"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DocumentAdmin(admin.ModelAdmin):
    """Read-only: notices and letters are issued, signed and answered only through the
    escalation actions, each with its event."""

    list_filter = ["reason", "year"]
    search_fields = ["text"]
    raw_id_fields = ["bureau", "order", "unit", "issued_by"]
    list_select_related = ["unit", "order"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupervisionNotice)
class SupervisionNoticeAdmin(DocumentAdmin):
    list_display = ["__str__", "unit", "reason", "issued_at", "reply_due_at", "signed_at",
                    "replied_at", "escalated_at"]


@admin.register(ReminderLetter)
class ReminderLetterAdmin(DocumentAdmin):
    list_display = ["__str__", "unit", "reason", "issued_at", "acknowledged_at"]
