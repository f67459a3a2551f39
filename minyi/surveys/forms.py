"""Forms of a survey's set-up: questionnaires, questions, waves, quotas and the frame. They turn
what was typed into the actions' arguments; the rules themselves (skip rules, states, limits)
are checked by `surveys.actions`, whose Chinese messages the views put on the form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django import forms

from minyi.orgs.models import Area, Unit
from minyi.surveys import frames
from minyi.surveys.models import Question, QuestionKind, QuestionnaireVersion, Wave

RULE_KINDS = (QuestionKind.SINGLE, QuestionKind.SCALE)
_LIST_SEPARATORS = re.compile(r"[\n\r、,，;；]+")
FRAME_SUFFIXES = (".csv", ".xlsx", ".gz", ".txt")
MAX_FRAME_BYTES = 50 * 1024 * 1024
DATE_WIDGET = {"type": "date"}


def split_list(text: str) -> list[str]:
    """Items written one per line or separated by 、 , ; (pure)."""
    return [item.strip() for item in _LIST_SEPARATORS.split(text or "") if item.strip()]


class QuestionnaireCreateForm(forms.Form):
    bureau = forms.ModelChoiceField(label="所属公安局", queryset=Unit.objects.none(),
                                    empty_label=None)
    name = forms.CharField(label="问卷名称", max_length=100, required=False,
                           help_text="留空则为“群众安全感满意度调查问卷”")

    def __init__(self, *args: Any, bureaus: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bureau"].queryset = Unit.objects.filter(pk__in=[b.pk for b in bureaus])
        if len(bureaus) == 1:
            self.fields["bureau"].initial = bureaus[0].pk
            self.fields["bureau"].widget = forms.HiddenInput()


class QuestionnaireForm(forms.Form):
    name = forms.CharField(label="问卷名称", max_length=100)
    description = forms.CharField(label="说明", required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class QuestionForm(forms.Form):
    """One question. For a new question its code is asked; an existing one keeps its code."""

    code = forms.CharField(label="题目代码", max_length=40,
                           help_text="小写英文字母、数字和下划线，如 sat_police；"
                                     "指数口径和统计按代码找题，创建后不能修改")
    kind = forms.ChoiceField(label="题型", choices=QuestionKind.choices)
    text = forms.CharField(label="题目", widget=forms.Textarea(attrs={"rows": 2}))
    options = forms.CharField(
        label="选项", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="每行一个（也可用顿号分隔）；等级量表从最好到最差排列；打分题和文字题不填")
    required = forms.BooleanField(label="必答", required=False, initial=True)
    max_choices = forms.IntegerField(label="最多选几项", required=False, min_value=1,
                                     help_text="仅多选题；不限请留空")
    show_if_question = forms.ChoiceField(label="跳题条件：前面的题目", required=False,
                                         help_text="只能选本题之前的单选题或等级量表题")
    show_if_in = forms.CharField(label="跳题条件：回答以下选项时才问本题", required=False,
                                 help_text="用顿号或换行分隔，须是所选题目的选项")

    def __init__(self, *args: Any, earlier: list[Question], fixed_code: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_code = fixed_code
        if fixed_code is not None:
            del self.fields["code"]
        self.fields["show_if_question"].choices = [("", "总是问本题（无跳题条件）")] + [
            (q.code, f"{q.position}. {q.code} {q.text[:30]}")
            for q in earlier if q.kind in RULE_KINDS]
        self.fields["max_choices"].error_messages["min_value"] = "“最多选几项”至少为 1"

    @classmethod
    def initial_of(cls, question: Question) -> dict[str, Any]:
        rule = question.show_if or {}
        return {"kind": question.kind, "text": question.text,
                "options": "\n".join(question.options or []), "required": question.required,
                "max_choices": question.max_choices,
                "show_if_question": rule.get("question", ""),
                "show_if_in": "、".join(rule.get("in", []))}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("show_if_question") and not split_list(data.get("show_if_in", "")):
            self.add_error("show_if_in", "请填写满足哪些选项时才问本题")
        if not data.get("show_if_question") and split_list(data.get("show_if_in", "")):
            self.add_error("show_if_question", "填写了跳题选项，请选择它们所属的题目")
        return data

    def spec(self) -> dict[str, Any]:
        """The action's keyword arguments (code included)."""
        data = self.cleaned_data
        show_if = {}
        if data.get("show_if_question"):
            show_if = {"question": data["show_if_question"],
                       "in": split_list(data.get("show_if_in", ""))}
        return {"code": self.fixed_code if self.fixed_code is not None else data["code"].strip(),
                "kind": data["kind"], "text": data["text"],
                "options": split_list(data.get("options", "")),
                "required": bool(data.get("required")), "show_if": show_if,
                "max_choices": data.get("max_choices")}


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: QuestionnaireVersion) -> str:
        frozen = "（已冻结）" if obj.is_frozen else ""
        return f"{obj.questionnaire.name} 第{obj.number}版{frozen}"


class WaveForm(forms.Form):
    name = forms.CharField(label="调查名称", max_length=100,
                           help_text="如：2026年第四季度群众安全感满意度调查")
    version = VersionChoiceField(label="问卷版本", queryset=QuestionnaireVersion.objects.none(),
                                 empty_label=None,
                                 help_text="开始调查时该版本即冻结；之后修改问卷会生成新版本")
    starts_on = forms.DateField(label="开始日期", widget=forms.DateInput(DATE_WIDGET))
    ends_on = forms.DateField(label="结束日期", widget=forms.DateInput(DATE_WIDGET))
    web_enabled = forms.BooleanField(label="启用网上自填", required=False, initial=True,
                                     help_text="可向样本发送短信链接，由群众自行填答")
    max_attempts = forms.IntegerField(label="每个号码最多拨打次数", min_value=1, max_value=10,
                                      initial=3)

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = versions
        self.fields["max_attempts"].error_messages.update(
            min_value="最多拨打次数应在 1 到 10 之间", max_value="最多拨打次数应在 1 到 10 之间")
        for name in ("starts_on", "ends_on"):
            self.fields[name].error_messages["invalid"] = "请输入日期，如 2026-10-01"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "结束日期不能早于开始日期")
        return data

    @classmethod
    def initial_of(cls, wave: Wave) -> dict[str, Any]:
        return {"name": wave.name, "version": wave.version_id, "starts_on": wave.starts_on,
                "ends_on": wave.ends_on, "web_enabled": wave.web_enabled,
                "max_attempts": wave.max_attempts}


class QuotaForm(forms.Form):
    """One target per township of the bureau, all in one form."""

    PREFIX = "area_"

    def __init__(self, *args: Any, townships: list[Area], current: dict[int, int],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.townships = townships
        for area in townships:
            field = forms.IntegerField(
                label=f"{area.name}（{area.station.name}）", required=False, min_value=0,
                max_value=100_000, initial=current.get(area.pk))
            field.error_messages.update(min_value="目标样本量不能为负",
                                        max_value="目标样本量不能超过 100000",
                                        invalid="请输入整数")
            self.fields[f"{self.PREFIX}{area.pk}"] = field

    def targets(self) -> dict[int, int]:
        return {area.pk: self.cleaned_data.get(f"{self.PREFIX}{area.pk}") or 0
                for area in self.townships}


class FrameUploadForm(forms.Form):
    file = forms.FileField(
        label="样本框文件",
        help_text="xlsx 或 csv（UTF-8 或 GBK 编码），第一行为表头：电话、乡镇、性别、年龄段；"
                  "只有“电话”必填")
    skip_bad = forms.BooleanField(
        label="跳过错误行", required=False,
        help_text="不勾选：有任何一行错误则整个文件都不导入；勾选：导入正确的行，错误行另存为文件")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(FRAME_SUFFIXES):
            raise forms.ValidationError("只能导入 .xlsx、.csv 文件（或其 .gz 压缩文件）")
        if upload.size > MAX_FRAME_BYTES:
            raise forms.ValidationError("文件超过 50MB，请拆分后导入")
        return upload

    @property
    def file_name(self) -> str:
        return Path(self.cleaned_data["file"].name).name


class FrameGenerateForm(forms.Form):
    prefixes = forms.CharField(
        label="号段", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="手机号的前 3 到 10 位，如 139（运营商号段）或 1390571（本地号段）；"
                  "多个号段用空格、逗号或换行分隔。号码在所有号段中均匀随机抽取")
    count = forms.IntegerField(label="生成数量", min_value=1, max_value=frames.MAX_GENERATE)
    seed = forms.IntegerField(label="随机种子", required=False, min_value=0,
                              max_value=2 ** 63 - 1,
                              help_text="留空则随机选取；种子记入操作记录，相同号段、数量和种子"
                                        "可重现同一批号码")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["count"].error_messages.update(
            min_value="生成数量至少为 1",
            max_value=f"一次最多生成 {frames.MAX_GENERATE} 个号码")
        self.fields["seed"].error_messages["min_value"] = "随机种子应为非负整数"

    def clean_prefixes(self) -> list[str]:
        try:
            return frames.parse_prefixes(self.cleaned_data["prefixes"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
