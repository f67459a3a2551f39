from django.contrib import admin

from minyi.campaigns.models import Campaign, CampaignTask


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read-only: campaigns change only through their actions, each with its event."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CampaignTaskInline(admin.TabularInline):
    model = CampaignTask
    fields = ["unit", "state", "signed_at", "reported_at", "accepted_at", "return_count"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["display_number", "title", "bureau", "state", "deadline", "issued_at"]
    list_filter = ["state", "source_kind"]
    search_fields = ["title"]
    inlines = [CampaignTaskInline]


@admin.register(CampaignTask)
class CampaignTaskAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "unit", "state", "signed_at", "reported_at", "accepted_at"]
    list_filter = ["state"]
    list_select_related = ["campaign", "unit"]
