"""Forms of the callback desk and the sampling plans; messages in Chinese, next to the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from minyi.callbacks import rules
from minyi.callbacks.models import Reason, SamplingPlan, Satisfaction
from minyi.orgs.models import Unit


class PlanForm(forms.ModelForm):
    class Meta:
        model = SamplingPlan
        fields = ["name", "source", "unit", "caller", "share", "minimum", "maximum",
                  "cooling_off_days", "due_after_hours", "is_active", "valid_from", "valid_to"]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "share": "0 到 1 之间，如 0.3 表示抽取 30%；按单位计算后四舍五入",
            "unit": "留空：本局所有单位",
            "maximum": "留空：不设上限",
            "cooling_off_days": "同一电话在此期间内被回访过（含抽测）的不再抽取",
            "due_after_hours": "办结或办理后多少小时回访；落在回访时段之外的顺延到下一时段开始",
        }

    def __init__(self, *args: Any, bureau: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bureau = bureau
        self.fields["unit"].queryset = Unit.objects.filter(
            path__startswith=bureau.path, is_active=True).order_by("path")
        self.fields["unit"].required = False
        self.fields["share"].error_messages["invalid"] = "请输入 0 到 1 之间的数"

    def clean_share(self) -> Decimal:
        share = self.cleaned_data["share"]
        if share is None or not Decimal(0) <= share <= Decimal(1):
            raise forms.ValidationError("抽取比例应在 0 到 1 之间（如 0.3 表示 30%）")
        return share

    def clean_due_after_hours(self) -> int:
        hours = self.cleaned_data["due_after_hours"]
        if hours > 24 * 30:
            raise forms.ValidationError("回访时间不应晚于办理后 30 天（720 小时）")
        return hours

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        minimum, maximum = data.get("minimum"), data.get("maximum")
        if minimum is not None and maximum is not None and minimum > maximum:
            self.add_error("maximum", "每日最多数不能小于每日最少数")
        if maximum == 0:
            self.add_error("maximum", "每日最多为 0 则抽不到任何人；不设上限请留空")
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and start > end:
            self.add_error("valid_to", "失效日期不能早于生效日期")
        return data


class AttemptForm(forms.Form):
    disposition = forms.ChoiceField(
        label="拨打结果",
        choices=[(d.code, d.label) for d in rules.DISPOSITIONS.values()
                 if d.code != rules.ANSWERED],
        error_messages={"required": "请选择拨打结果", "invalid_choice": "请选择拨打结果"})
    retry_at = forms.DateTimeField(
        label="约定再拨时间", required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        error_messages={"invalid": "请填写正确的时间，如 2026-11-20 15:30"})
    note = forms.CharField(label="备注", required=False, max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("disposition") == rules.APPOINTMENT:
            at = data.get("retry_at")
            if at is None:
                self.add_error("retry_at", "预约再拨请填写约定的时间")
            elif at <= timezone.now():
                self.add_error("retry_at", "约定的再拨时间应晚于现在")
        return data


class AnswerForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label="满意度", choices=Satisfaction.choices, widget=forms.RadioSelect,
        error_messages={"required": "请选择满意度", "invalid_choice": "请选择满意度"})
    reasons = forms.MultipleChoiceField(
        label="不满意原因", choices=Reason.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    comment = forms.CharField(label="意见建议", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("satisfaction") == Satisfaction.DISSATISFIED and not data.get("reasons"):
            self.add_error("reasons", "群众不满意时请选择不满意的原因")
        return data
