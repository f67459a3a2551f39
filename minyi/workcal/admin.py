from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from minyi.core.admin import AuditedModelAdmin
from minyi.workcal.models import Calendar, HolidayDay, HolidayYear, WorkingSlot, slots_overlap
from minyi.workcal.signals import holidays_changed


class WorkingSlotFormSet(BaseInlineFormSet):
    """Overlaps among the rows being saved together, which no single row's clean() can see."""

    def clean(self) -> None:
        super().clean()
        kept = [
            form.instance
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.instance.start is not None
            and form.instance.end is not None
        ]
        for index, slot in enumerate(kept):
            for other in kept[index + 1:]:
                if slot.weekday == other.weekday and slots_overlap(slot, other):
                    raise ValidationError(f"工作时段重叠：{slot} 与 {other}")


class WorkingSlotInline(admin.TabularInline):
    model = WorkingSlot
    formset = WorkingSlotFormSet
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "observes_holidays", "is_default"]
    inlines = [WorkingSlotInline]


class HolidayDayInline(admin.TabularInline):
    model = HolidayDay
    extra = 0


@admin.register(HolidayYear)
class HolidayYearAdmin(AuditedModelAdmin):
    list_display = ["year", "source", "notice", "entered_by", "updated_at"]
    list_filter = ["source"]
    search_fields = ["year", "notice"]
    readonly_fields = ["entered_by"]
    inlines = [HolidayDayInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        year = form.instance.year
        # Edits here move deadlines just like the entry form does.
        transaction.on_commit(lambda: holidays_changed.send(sender=HolidayYear, years=[year]))

    def delete_model(self, request: HttpRequest, obj: HolidayYear) -> None:
        year = obj.year
        super().delete_model(request, obj)
        transaction.on_commit(lambda: holidays_changed.send(sender=HolidayYear, years=[year]))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        years = sorted(queryset.values_list("year", flat=True))
        super().delete_queryset(request, queryset)
        transaction.on_commit(lambda: holidays_changed.send(sender=HolidayYear, years=years))
