from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from minyi.core.admin import ReadOnlyAdmin
from minyi.notifications.models import Notification, SmsMessage
from minyi.notifications.sms import outbox


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "text", "action", "created_at", "read_at"]
    list_filter = ["action"]
    search_fields = ["user__username", "user__full_name"]
    raw_id_fields = ["user", "event"]


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    """The outbox, numbers masked: the encrypted number is never shown."""

    list_display = ["to_masked", "text", "purpose", "status", "attempts", "next_attempt_at",
                    "last_error", "backend", "sent_at"]
    list_filter = ["status", "purpose", "backend"]
    exclude = ["to_encrypted"]
    raw_id_fields = ["notification"]
    actions = ["send_again"]

    @admin.action(description="立即重新发送所选短信")
    def send_again(self, request: HttpRequest, queryset: QuerySet[SmsMessage]) -> None:
        results = [outbox.retry_now(pk, actor=request.user)
                   for pk in queryset.values_list("pk", flat=True)]
        self.message_user(request, f"已发送 {results.count(True)} 条，"
                                   f"失败 {results.count(False)} 条，"
                                   f"跳过 {results.count(None)} 条（已发送或正在发送）",
                          messages.INFO)
