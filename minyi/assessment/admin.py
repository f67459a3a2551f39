from django.contrib import admin

from minyi.assessment.models import BulletinSettings, WeeklyBulletin
from minyi.core.admin import AuditedModelAdmin


@admin.register(BulletinSettings)
class BulletinSettingsAdmin(AuditedModelAdmin):
    """The floors of a bureau's red and black lists; each change is an event."""

    list_display = ["bureau", "satisfaction_floor", "on_time_floor", "contact_floor",
                    "min_orders", "basic_weight"]
    raw_id_fields = ["bureau"]


@admin.register(WeeklyBulletin)
class WeeklyBulletinAdmin(admin.ModelAdmin):
    """Read-only: a bulletin is made and remade only by its actions (each with its event)."""

    list_display = ["display_number", "bureau", "week_label", "generated_at", "generated_by",
                    "definitions_version"]
    list_filter = ["year"]
    list_select_related = ["bureau", "generated_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
