"""The form that asks for a bulletin of any week."""

from __future__ import annotations

from typing import Any

from django import forms

from minyi.assessment.rules import IsoWeek, parse_week
from minyi.core.errors import InvalidInput
from minyi.orgs.models import Unit


class GenerateForm(forms.Form):
    week = forms.CharField(
        label="周次", max_length=10,
        widget=forms.TextInput(attrs={"type": "week", "placeholder": "2026-W47"}),
        help_text="周一至周日；如 2026-W47 表示 2026 年第 47 周",
        error_messages={"required": "请选择要通报的周"})
    bureau = forms.TypedChoiceField(label="公安局", coerce=int)

    def __init__(self, *args: Any, bureaus: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bureaus = {b.pk: b for b in bureaus}
        self.fields["bureau"].choices = [(b.pk, b.name) for b in bureaus]
        if len(bureaus) == 1:
            self.fields["bureau"].initial = bureaus[0].pk
            self.fields["bureau"].widget = forms.HiddenInput()

    def clean_week(self) -> IsoWeek:
        try:
            return parse_week(self.cleaned_data["week"])
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_bureau(self) -> Unit:
        return self.bureaus[self.cleaned_data["bureau"]]
