from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from minyi.api import actions
from minyi.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with `minyi apitoken create` (the token is shown once there); the admin
    lists them and revokes them."""

    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at",
                    "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "user__full_name", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at",
                       "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.action(description="撤销所选令牌")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            actions.revoke_user_token(actor=request.user, token=token)
            count += 1
        messages.success(request, f"已撤销 {count} 个令牌")
