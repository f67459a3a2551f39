"""The forms of the hot-issue and campaign pages; `perform` hands the rest to the actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from minyi.campaigns import actions, hot
from minyi.campaigns.models import Campaign, CampaignTask, Source
from minyi.core.errors import InvalidInput
from minyi.orders.forms import UnitMultipleChoiceField
from minyi.orders.selectors import dispatch_units
from minyi.orgs.models import Unit

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _text_area(rows: int = 3, placeholder: str = "") -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "text", "placeholder": placeholder})


def campaign_units(bureau: Unit) -> list[Unit]:
    """The units a campaign can name: the bureau's stations, squads and offices."""
    return [u for u in dispatch_units(bureau) if u.kind != Unit.Kind.COMMAND_CENTRE]


class CampaignForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200,
                            error_messages={"required": "请填写专项整治的标题"})
    requirements = forms.CharField(
        label="工作要求", widget=_text_area(6, "整治的对象、措施、时间节点和上报要求"),
        error_messages={"required": "请填写工作要求"})
    units = forms.Field(label="责任单位")
    deadline = forms.DateTimeField(
        label="完成期限", input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text="默认为 10 个工作日后",
        error_messages={"required": "请填写完成期限",
                        "invalid": "完成期限的格式不对（应为 2026-12-05 17:30 这样）"})
    source = forms.ChoiceField(choices=[("", ""), *Source.choices], required=False,
                               widget=forms.HiddenInput)
    key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    period = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, bureau: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bureau = bureau
        self.fields["units"] = UnitMultipleChoiceField(
            campaign_units(bureau), label="责任单位",
            error_messages={"required": "请至少选择一个责任单位"})
        if not self.is_bound:
            self.initial.setdefault(
                "deadline", timezone.localtime(actions.default_deadline()).replace(
                    second=0, microsecond=0))

    def clean_period(self) -> str:
        text = self.cleaned_data.get("period", "")
        if not text:
            return ""
        try:
            return hot.parse_period(text).label
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_deadline(self) -> Any:
        value = self.cleaned_data["deadline"]
        if value <= timezone.now():
            raise forms.ValidationError("完成期限须晚于现在")
        return value

    def perform(self, actor: Any, label: str = "") -> Campaign:
        d = self.cleaned_data
        source = d["source"] if label else ""
        return actions.issue_campaign(
            actor=actor, bureau=self.bureau, title=d["title"], requirements=d["requirements"],
            units=d["units"], deadline=d["deadline"], source_kind=source,
            source_key=d["key"] if source else "", source_label=label,
            source_period=d["period"] if source else "")


class ReportForm(forms.Form):
    report = forms.CharField(label="整治情况",
                             widget=_text_area(4, "采取的措施、取得的成效、下一步打算"),
                             error_messages={"required": "请填写整治情况"})


class ReturnForm(forms.Form):
    reason = forms.CharField(label="退回理由", widget=_text_area(2),
                             error_messages={"required": "请填写退回理由"})


class CloseForm(forms.Form):
    note = forms.CharField(label="总结", required=False, widget=_text_area(3))


# The forms a task's buttons send, and who sees them (see `task_actions`).
TASK_FORMS: dict[str, type[forms.Form] | None] = {
    "sign": None,
    "report": ReportForm,
    "accept": None,
    "return": ReturnForm,
}
TASK_LABELS = {"sign": "签收", "report": "上报整治情况", "accept": "验收通过", "return": "退回"}


def task_actions(user: Any, task: CampaignTask) -> list[str]:
    """What this user may do with this task now: the same checks the actions make."""
    if not task.campaign.is_open:
        return []
    out = []
    if actions.for_unit(user, task.unit):
        if task.state == CampaignTask.State.ISSUED:
            out.append("sign")
        if task.state in (CampaignTask.State.ISSUED, CampaignTask.State.SIGNED,
                          CampaignTask.State.RETURNED):
            out.append("report")
    if (actions.issuing_side(user, task.campaign.bureau)
            and task.state == CampaignTask.State.REPORTED):
        out += ["accept", "return"]
    return out
