from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from minyi.core.admin import AuditedModelAdmin
from minyi.orgs.models import Area, Membership, Unit, User


@admin.register(Unit)
class UnitAdmin(AuditedModelAdmin):
    list_display = ["indented_name", "code", "kind", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "code"]
    autocomplete_fields = ["parent"]

    @admin.display(description="单位名称", ordering="path")
    def indented_name(self, obj: Unit) -> str:
        return "　" * obj.depth + obj.name


@admin.register(Area)
class AreaAdmin(AuditedModelAdmin):
    list_display = ["indented_name", "code", "kind", "station", "population"]
    list_filter = ["kind", "station"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent", "station"]

    @admin.display(description="名称", ordering="path")
    def indented_name(self, obj: Area) -> str:
        return "　" * obj.depth + obj.name


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ["username", "full_name", "police_number", "is_active", "is_staff"]
    search_fields = ["username", "full_name", "police_number"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("full_name", "police_number", "phone", "email")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("重要日期", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "full_name", "password1", "password2")}),
    )


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "unit", "role", "title", "is_primary"]
    list_filter = ["role", "unit"]
    search_fields = ["user__full_name", "user__username", "unit__name"]
    autocomplete_fields = ["user", "unit"]
