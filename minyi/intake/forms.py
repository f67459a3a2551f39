"""Forms of the import page: the upload, and the column mapping when no preset fits."""

from __future__ import annotations

from typing import Any

from django import forms

from minyi.intake.importing import TARGETS, BadInput, parse_mapping
from minyi.intake.importing.mapping import DEFAULTABLE, REQUIRED
from minyi.intake.models import Channel
from minyi.intake.presets import PRESETS
from minyi.intake.presets.standard import COLUMNS as STANDARD_COLUMNS
from minyi.orders.models import OrderType
from minyi.orders.rules import DemandKind
from minyi.orgs.models import Unit

ALLOWED_SUFFIXES = (".csv", ".xlsx", ".gz", ".txt")
MAX_UPLOAD_BYTES = 500 * 1024 * 1024
CUSTOM = ""


class UploadForm(forms.Form):
    file = forms.FileField(
        label="导入文件", help_text="xlsx 或 csv（UTF-8 或 GBK 编码），可为 .gz 压缩；第一行为表头")
    preset = forms.ChoiceField(label="文件格式", required=False)
    bureau = forms.ModelChoiceField(label="导入到", queryset=Unit.objects.none(),
                                    empty_label=None)
    skip_bad = forms.BooleanField(
        label="跳过错误行", required=False,
        help_text="不勾选：有任何一行错误则整个文件都不导入；勾选：导入正确的行，错误行另存为文件")

    def __init__(self, *args: Any, bureaus: list[Unit], superuser: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(CUSTOM, "自定义列对应（下一步逐列选择）")]
        choices += [(p.name, p.label) for p in PRESETS.values()
                    if superuser or not p.superuser_only]
        self.fields["preset"].choices = choices
        self.fields["preset"].initial = "standard"
        self.fields["bureau"].queryset = Unit.objects.filter(pk__in=[b.pk for b in bureaus])
        if len(bureaus) == 1:
            self.fields["bureau"].initial = bureaus[0].pk
            self.fields["bureau"].widget = forms.HiddenInput()
        self.fields["bureau"].help_text = "演示格式（如波士顿311）导入到它自己的演示城市，不用此项"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError("只能导入 .xlsx、.csv 文件（或其 .gz 压缩文件）")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("文件超过 500MB，请拆分后导入，或在服务器上用命令行导入")
        return upload


def _guess(target: str, header: list[str]) -> str:
    """The column a target most likely is: its label, or a spelling the standard preset knows."""
    for name in [next(t.label for t in TARGETS if t.name == target),
                 *STANDARD_COLUMNS.get(target, [])]:
        if name in header:
            return name
    return ""


class MappingForm(forms.Form):
    """A select per field of an order, offering the file's columns; defaults for the fields
    a whole file often shares (one channel, one type)."""

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header = header
        columns = [(CUSTOM, "（不导入）")] + [(name, name) for name in header if name]
        self.rows: list[dict[str, Any]] = []
        for target in TARGETS:
            name = f"col_{target.name}"
            self.fields[name] = forms.ChoiceField(
                label=target.label, choices=columns, required=False,
                initial=_guess(target.name, header), help_text=target.help)
            row = {"target": target, "column": self[name], "default": None,
                   "required": target.name in REQUIRED}
            if target.name in DEFAULTABLE and target.name != "state":
                default = f"default_{target.name}"
                self.fields[default] = forms.ChoiceField(
                    label=f"{target.label}默认值", choices=self._default_choices(target.name),
                    required=False)
                row["default"] = self[default]
            self.rows.append(row)

    @staticmethod
    def _default_choices(target: str) -> list[tuple[str, str]]:
        choices: list[tuple[str, str]] = [(CUSTOM, "（无）")]
        if target == "channel":
            choices += list(Channel.objects.filter(is_active=True).values_list("code", "name"))
        elif target == "order_type":
            choices += list(OrderType.objects.filter(is_active=True)
                            .values_list("code", "name"))
        elif target == "demand_kind":
            choices += [(value, str(label)) for value, label in DemandKind.choices]
        return choices

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        spec: dict[str, Any] = {"columns": {}, "defaults": {}}
        for target in TARGETS:
            column = data.get(f"col_{target.name}")
            if column:
                spec["columns"][target.name] = column
            default = data.get(f"default_{target.name}")
            if default:
                spec["defaults"][target.name] = default
        try:
            parse_mapping(spec).bind(self.header)
        except BadInput as exc:
            raise forms.ValidationError(str(exc)) from None
        data["spec"] = spec
        return data
