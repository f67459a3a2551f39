from django.contrib import admin

from minyi.callbacks.models import Attempt, CallbackTask, Contact, Draw, SamplingPlan


@admin.register(SamplingPlan)
class SamplingPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "bureau", "source", "unit", "caller", "share", "minimum", "maximum",
                    "cooling_off_days", "due_after_hours", "is_active"]
    list_filter = ["source", "caller", "is_active"]
    search_fields = ["name"]


@admin.register(Draw)
class DrawAdmin(admin.ModelAdmin):
    list_display = ["plan", "day", "seed", "population", "drawn", "drawn_by", "created_at"]
    list_filter = ["day"]
    # A draw is a record of what happened: read-only here.
    readonly_fields = ["plan", "day", "seed", "population", "drawn", "drawn_by"]

    def has_add_permission(self, request):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["pk", "source", "unit", "occurred_at", "phone_mask", "record_type"]
    list_filter = ["source"]
    search_fields = ["external_id", "summary"]
    raw_id_fields = ["order", "import_batch"]


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    readonly_fields = ["number", "caller_user", "at", "disposition", "outcome", "note"]


@admin.register(CallbackTask)
class CallbackTaskAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "unit", "caller", "state", "due_at", "attempts", "outcome"]
    list_filter = ["kind", "caller", "state"]
    raw_id_fields = ["contact", "draw", "parent"]
    inlines = [AttemptInline]
