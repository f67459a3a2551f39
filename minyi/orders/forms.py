"""The forms of the order pages: intake, the transitions of the closed loop, bulk dispatch and
the list filters.

Each transition's form checks what a form can (required text, a choice) with a message in
Chinese next to the field, and `perform` hands the rest to the action, whose own refusals
(InvalidInput, Conflict, NotAllowed) the view shows next to the form.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from minyi.core.crypto import is_valid_phone
from minyi.intake.models import Channel
from minyi.orders import actions
from minyi.orders.models import Order, OrderType
from minyi.orders.rules import TRANSITION_LABELS, CallbackOutcome, DemandKind, State
from minyi.orders.selectors import dispatch_units
from minyi.orgs.models import Area, Unit

RADIO = forms.RadioSelect(attrs={"class": "choices"})


def _required(message: str) -> dict[str, str]:
    return {"required": message}


def _text_area(rows: int = 3, placeholder: str = "") -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "text", "placeholder": placeholder})


def _unit_choices(units: list[Unit]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Grouped by kind (派出所, 大队 …), in the order `dispatch_units` gives."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for unit in units:
        groups.setdefault(unit.get_kind_display(), []).append((unit.pk, unit.name))
    return list(groups.items())


class UnitChoiceField(forms.TypedChoiceField):
    def __init__(self, units: list[Unit], **kwargs: Any) -> None:
        self.units = {u.pk: u for u in units}
        super().__init__(choices=[("", "请选择单位"), *_unit_choices(units)], coerce=int,
                         empty_value=None, **kwargs)

    def clean(self, value: Any) -> Unit | None:
        pk = super().clean(value)
        return self.units.get(pk) if pk is not None else None


class UnitMultipleChoiceField(forms.TypedMultipleChoiceField):
    def __init__(self, units: list[Unit], **kwargs: Any) -> None:
        self.units = {u.pk: u for u in units}
        super().__init__(choices=_unit_choices(units), coerce=int,
                         widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
                         **kwargs)

    def clean(self, value: Any) -> list[Unit]:
        return [self.units[pk] for pk in super().clean(value)]


# --- transitions ---------------------------------------------------------------------------


class ActionForm(forms.Form):
    """A transition's form: the version the user saw, where to go afterwards, and the fields
    the transition needs. `perform` calls the action and says what was done."""

    transition: ClassVar[str] = ""
    submit_label: ClassVar[str] = ""
    button_class: ClassVar[str] = "btn-primary"
    multipart: ClassVar[bool] = False
    # Shown folded on the queues (a return, marking invalid): rarer than the main step.
    secondary: ClassVar[bool] = False

    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, error_messages=_required("页面信息不完整，请刷新页面后重试"))
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.transition}_{order.pk}_%s")
        super().__init__(*args, **kwargs)
        self.order = order

    @property
    def label(self) -> str:
        return TRANSITION_LABELS[self.transition]

    @property
    def button(self) -> str:
        return self.submit_label or self.label

    def perform(self, actor: Any) -> str:  # pragma: no cover - every subclass says
        raise NotImplementedError

    def _run(self, action: Any, actor: Any, **kwargs: Any) -> Any:
        return action(actor=actor, order=self.order,
                      expected_version=self.cleaned_data["expected_version"], **kwargs)


class DispatchForm(ActionForm):
    transition = "dispatch"
    submit_label = "转办"

    lead_unit = forms.Field(label="承办单位")
    co_units = forms.Field(label="协办单位", required=False)
    note = forms.CharField(label="转办意见", required=False, widget=_text_area(2))

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, order=order, **kwargs)
        units = dispatch_units(order.bureau)
        self.fields["lead_unit"] = UnitChoiceField(
            units, label="承办单位", error_messages=_required("请选择承办单位"))
        self.fields["co_units"] = UnitMultipleChoiceField(units, label="协办单位",
                                                          required=False)
        if not self.is_bound and order.area_id:
            # The station whose jurisdiction the place is in is nearly always the one.
            self.initial.setdefault("lead_unit", order.area.station_id)

    def perform(self, actor: Any) -> str:
        d = self.cleaned_data
        order = self._run(actions.dispatch_order, actor, lead_unit=d["lead_unit"],
                          co_units=d["co_units"], note=d["note"])
        return f"工单 {order.number} 已转办至{order.lead_unit}"


class SignForm(ActionForm):
    transition = "sign"

    def perform(self, actor: Any) -> str:
        order = self._run(actions.sign_order, actor)
        return f"工单 {order.number} 已签收，请在联系时限内联系群众"


class ContactForm(ActionForm):
    transition = "contact"
    submit_label = "登记联系"

    method = forms.ChoiceField(label="联系方式", widget=RADIO,
                               choices=[("phone", "电话联系"), ("visit", "见面沟通")],
                               error_messages=_required("请选择联系方式"))
    note = forms.CharField(label="联系情况", required=False,
                           widget=_text_area(2, "群众诉求、约定办理时间等"))

    def perform(self, actor: Any) -> str:
        d = self.cleaned_data
        order = self._run(actions.contact_citizen, actor, method=d["method"], note=d["note"])
        return f"工单 {order.number} 已登记联系情况"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ReportForm(ActionForm):
    transition = "report"
    submit_label = "上报"
    multipart = True

    result = forms.CharField(label="办理结果", widget=_text_area(3),
                             error_messages=_required("请填写办理结果"))
    measures = forms.CharField(label="采取措施", required=False, widget=_text_area(2))
    resolved = forms.TypedChoiceField(
        label="诉求是否解决", widget=RADIO, coerce=lambda v: v == "yes",
        choices=[("yes", "已解决"), ("no", "未解决")], initial="yes",
        error_messages=_required("请选择诉求是否解决"))
    files = MultipleFileField(label="附件", required=False,
                              help_text="照片、调解协议等，可选多个，每个不超过 20MB")

    def clean_files(self) -> list[Any]:
        files = self.cleaned_data.get("files") or []
        for upload in files:
            if upload.size > actions.MAX_ATTACHMENT_BYTES:
                raise forms.ValidationError(f"附件「{upload.name}」超过 20MB")
        return files

    def perform(self, actor: Any) -> str:
        d = self.cleaned_data
        report = self._run(actions.report_order, actor, result=d["result"],
                           measures=d["measures"], resolved=d["resolved"], files=d["files"])
        return f"工单 {report.order.number} 已上报办理结果，等待审核"


class RequestReturnForm(ActionForm):
    transition = "request_return"
    button_class = "btn-warn"
    secondary = True

    reason = forms.CharField(label="退单理由", widget=_text_area(2, "说明为什么不属于本单位"),
                             error_messages=_required("请填写退单理由"))

    def perform(self, actor: Any) -> str:
        request = self._run(actions.request_return, actor, reason=self.cleaned_data["reason"])
        return f"工单 {request.order.number} 已申请退单，等待指挥中心审批"


class DecideReturnForm(ActionForm):
    transition = "decide_return"
    submit_label = "提交审批"

    decision = forms.ChoiceField(
        label="审批结果", widget=RADIO,
        choices=[("approve", "同意退单（工单回到待转办）"), ("reject", "不同意，原单位继续办理")],
        error_messages=_required("请选择同意或不同意"))
    note = forms.CharField(label="审批意见", required=False, widget=_text_area(2))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not (cleaned.get("note") or "").strip():
            self.add_error("note", "不同意退单时请填写审批意见，告诉承办单位为什么仍由其办理")
        return cleaned

    def perform(self, actor: Any) -> str:
        d = self.cleaned_data
        approve = d["decision"] == "approve"
        order = self._run(actions.decide_return, actor, approve=approve, note=d["note"])
        if approve:
            return f"已同意退单，工单 {order.number} 回到派单台待重新转办"
        due = order.handling_due_at
        moved = f"，办理时限顺延至 {_local(due)}" if due else ""
        return f"已驳回退单，工单 {order.number} 由原单位继续办理{moved}"


def _local(moment: Any) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(moment):%m月%d日 %H:%M}"


class ReviewForm(ActionForm):
    transition = "review"
    submit_label = "提交审核"

    decision = forms.ChoiceField(
        label="审核结论", widget=RADIO,
        choices=[("pass", "审核通过"), ("send_back", "审核退回")],
        error_messages=_required("请选择审核通过或退回"))
    reason = forms.CharField(label="审核意见", required=False,
                             widget=_text_area(2, "退回时必填：需要补充或重新办理的内容"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("decision") == "send_back" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "审核退回时请填写退回理由")
        return cleaned

    def perform(self, actor: Any) -> str:
        d = self.cleaned_data
        passed = d["decision"] == "pass"
        order = self._run(actions.review_order, actor, passed=passed, reason=d["reason"])
        if passed:
            return f"工单 {order.number} 审核通过，待反馈"
        return f"工单 {order.number} 已退回{order.lead_unit}重新办理"


class FeedBackForm(ActionForm):
    transition = "feed_back"
    submit_label = "反馈"

    note = forms.CharField(label="反馈说明", required=False, widget=_text_area(2))

    def perform(self, actor: Any) -> str:
        order = self._run(actions.feed_back_order, actor, note=self.cleaned_data["note"])
        return f"工单 {order.number} 已反馈，待回访"


class CallbackForm(ActionForm):
    transition = "record_callback"
    submit_label = "登记回访"

    outcome = forms.ChoiceField(label="回访结果", widget=RADIO,
                                choices=CallbackOutcome.choices,
                                error_messages=_required("请选择回访结果"))
    note = forms.CharField(label="回访情况", required=False, widget=_text_area(2))

    def perform(self, actor: Any) -> str:
        d = self.cleaned_data
        order = self._run(actions.record_callback, actor, outcome=d["outcome"], note=d["note"])
        return f"工单 {order.number} 已登记回访结果：{order.get_callback_outcome_display()}"


class CloseForm(ActionForm):
    transition = "close"

    note = forms.CharField(label="办结说明", required=False,
                           widget=_text_area(2, "群众不满意而确需办结的，必须说明理由"))

    def perform(self, actor: Any) -> str:
        order = self._run(actions.close_order, actor, note=self.cleaned_data["note"])
        return f"工单 {order.number} 已办结"


class RedoForm(ActionForm):
    transition = "redo"
    button_class = "btn-warn"
    secondary = True

    reason = forms.CharField(label="重办理由", widget=_text_area(2),
                             error_messages=_required("请填写重办理由"))
    lead_unit = forms.Field(label="重办单位", required=False)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, order=order, **kwargs)
        self.fields["lead_unit"] = UnitChoiceField(
            dispatch_units(order.bureau), label="重办单位", required=False,
            help_text="不选则由原承办单位重办")

    def perform(self, actor: Any) -> str:
        d = self.cleaned_data
        order = self._run(actions.redo_order, actor, reason=d["reason"],
                          lead_unit=d["lead_unit"])
        return f"工单 {order.number} 已交{order.lead_unit}重办"


class InvalidForm(ActionForm):
    transition = "mark_invalid"
    button_class = "btn-danger"
    secondary = True

    reason = forms.CharField(label="无效原因", widget=_text_area(2, "如：恶意重复来电、测试来电"),
                             error_messages=_required("请填写无效原因"))

    def perform(self, actor: Any) -> str:
        order = self._run(actions.mark_invalid, actor, reason=self.cleaned_data["reason"])
        return f"工单 {order.number} 已标记为无效"


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.transition: form
    for form in (DispatchForm, SignForm, ContactForm, ReportForm, RequestReturnForm,
                 DecideReturnForm, ReviewForm, FeedBackForm, CallbackForm, CloseForm,
                 RedoForm, InvalidForm)
}


def action_form(transition: str, order: Order, next_url: str = "",
                data: Any = None, files: Any = None) -> ActionForm:
    """A transition's form for an order: bound to a POST, or fresh with the order's version."""
    form_class = ACTION_FORMS[transition]
    if data is not None:
        return form_class(data, files, order=order)
    return form_class(order=order, initial={"expected_version": order.version,
                                            "next": next_url})


# --- intake, bulk dispatch, filters ----------------------------------------------------------


def area_choices(areas: list[Area]) -> list[Any]:
    """Townships and streets, each with its villages and communities under it."""
    tops = [a for a in areas if a.parent_id is None]
    children: dict[int, list[Area]] = {}
    for area in areas:
        if area.parent_id is not None:
            children.setdefault(area.parent_id, []).append(area)
    choices: list[Any] = [("", "请选择区域")]
    for top in tops:
        group = [(top.pk, f"{top.name}（{top.get_kind_display()}）")]
        group += [(child.pk, f"{top.name} · {child.name}") for child in children.get(top.pk, [])]
        choices.append((f"{top.name}（{top.station.name}）", group))
    return choices


class ReceiveForm(forms.Form):
    """接单录入: a demand as the command centre takes it in."""

    channel = forms.ModelChoiceField(label="受理渠道", queryset=Channel.objects.none(),
                                     empty_label="请选择渠道",
                                     error_messages=_required("请选择受理渠道"))
    order_type = forms.ModelChoiceField(label="工单类型", queryset=OrderType.objects.none(),
                                        empty_label="请选择类型",
                                        error_messages=_required("请选择工单类型"))
    demand_kind = forms.ChoiceField(label="诉求类型",
                                    choices=[("", "请选择"), *DemandKind.choices],
                                    error_messages=_required("请选择诉求类型"))
    title = forms.CharField(label="标题", max_length=200,
                            error_messages={**_required("请填写标题"),
                                            "max_length": "标题不能超过 200 字"})
    content = forms.CharField(label="诉求内容", required=False, widget=_text_area(4))
    external_id = forms.CharField(label="来源编号", max_length=64, required=False,
                                  help_text="12345 等平台的工单编号，可不填")
    citizen_name = forms.CharField(label="群众姓名", max_length=50, required=False)
    citizen_phone = forms.CharField(label="联系电话", max_length=30, required=False)
    citizen_address = forms.CharField(label="群众住址", max_length=300, required=False)
    area = forms.TypedChoiceField(label="所属区域", coerce=int, empty_value=None,
                                  required=False)
    location = forms.CharField(label="事发地址", max_length=300, required=False)
    is_leader_assigned = forms.BooleanField(label="领导批示交办", required=False)
    leader_instruction = forms.CharField(label="领导批示", required=False, widget=_text_area(2))

    def __init__(self, *args: Any, bureau: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bureau = bureau
        self.fields["channel"].queryset = Channel.objects.filter(is_active=True)
        self.fields["order_type"].queryset = OrderType.objects.filter(is_active=True)
        self.areas = {a.pk: a for a in Area.objects.filter(station__path__startswith=bureau.path)
                      .select_related("station").order_by("path")}
        self.fields["area"].choices = area_choices(list(self.areas.values()))

    def clean_citizen_phone(self) -> str:
        phone = self.cleaned_data["citizen_phone"].strip()
        if phone and not is_valid_phone(phone):
            raise forms.ValidationError("电话号码格式不正确：应为 11 位手机号或带区号的固定电话")
        return phone

    def clean_area(self) -> Area | None:
        pk = self.cleaned_data.get("area")
        return self.areas.get(pk) if pk is not None else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("is_leader_assigned") and not cleaned.get("leader_instruction", "").strip():
            self.add_error("leader_instruction", "领导批示交办的工单请填写批示内容")
        return cleaned

    def perform(self, actor: Any) -> tuple[Order, bool]:
        return actions.receive_order(actor=actor, bureau=self.bureau, **self.cleaned_data)


class IdListField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            return [int(v) for v in values if str(v).strip()]
        except ValueError:
            raise forms.ValidationError("工单编号不正确") from None


class BulkDispatchForm(forms.Form):
    orders = IdListField(label="工单", error_messages=_required("请先勾选要转办的工单"))
    lead_unit = forms.Field(label="承办单位")
    note = forms.CharField(label="转办意见", required=False, max_length=500)

    def __init__(self, *args: Any, bureau: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"] = UnitChoiceField(
            dispatch_units(bureau), label="承办单位", error_messages=_required("请选择承办单位"))


class OrderFilterForm(forms.Form):
    """The list filters as inputs; the values are read by `OrderFilter.from_params`, which
    says what is wrong with them, so this form only draws them."""

    q = forms.CharField(label="标题或来源编号", required=False)
    channel = forms.ChoiceField(label="渠道", required=False)
    order_type = forms.ChoiceField(label="类型", required=False)
    demand_kind = forms.ChoiceField(label="诉求类型", required=False,
                                    choices=[("", "全部诉求类型"), *DemandKind.choices])
    state = forms.ChoiceField(label="状态", required=False,
                              choices=[("", "全部状态"), *State.choices])
    unit = forms.ChoiceField(label="承办单位", required=False)
    area = forms.ChoiceField(label="区域", required=False)
    received_from = forms.DateField(label="接单日期从", required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    received_to = forms.DateField(label="至", required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label="仅看超时", required=False)
    handling = forms.ChoiceField(label="办理时效", required=False, choices=[
        ("", "全部"), ("on_time", "按时办结"), ("late", "超时办结")])
    contact = forms.ChoiceField(label="联系时效", required=False, choices=[
        ("", "全部"), ("on_time", "及时联系"), ("late", "超时联系"), ("none", "未联系")])
    callback = forms.ChoiceField(label="回访结果", required=False,
                                 choices=[("", "全部"), *CallbackOutcome.choices])
    repeat = forms.BooleanField(label="仅看重复投诉", required=False)
    notice = forms.BooleanField(label="有督办单", required=False)
    letter = forms.BooleanField(label="有提醒函", required=False)

    def __init__(self, *args: Any, units: Any, areas: Any, hide: tuple[str, ...] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "全部渠道"), *Channel.objects.order_by(
            "sort_order", "code").values_list("code", "name")]
        self.fields["order_type"].choices = [("", "全部类型"), *OrderType.objects.order_by(
            "sort_order", "code").values_list("code", "name")]
        self.fields["unit"].choices = [("", "全部单位"), *[(u.pk, u.name) for u in units]]
        self.fields["area"].choices = [("", "全部区域"), *[
            (a.pk, ("　" * a.depth) + a.name) for a in areas]]
        for name in hide:
            del self.fields[name]


# --- supervision notices and reminder letters --------------------------------------------------


class DocumentFilterForm(forms.Form):
    """The notice and letter list filters as inputs; `DocumentFilter.from_params` reads them."""

    order = forms.CharField(label="工单编号或文号", required=False)
    unit = forms.ChoiceField(label="责任单位", required=False)
    reason = forms.ChoiceField(label="原因", required=False)
    status = forms.ChoiceField(label="状态", required=False)
    issued_from = forms.DateField(label="下发日期从", required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    issued_to = forms.DateField(label="至", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, kind: str, units: Any, **kwargs: Any) -> None:
        from minyi.orders.models import ReminderLetter, SupervisionNotice
        from minyi.orders.selectors import LETTER_STATUSES, NOTICE_PENDING, NOTICE_STATUSES

        super().__init__(*args, **kwargs)
        model = SupervisionNotice if kind == "notice" else ReminderLetter
        statuses = ([(NOTICE_PENDING, "全部未答复"), *NOTICE_STATUSES.items()]
                    if kind == "notice" else list(LETTER_STATUSES.items()))
        self.fields["unit"].choices = [("", "全部单位"), *[(u.pk, u.name) for u in units]]
        self.fields["reason"].choices = [("", "全部原因"), *model.Reason.choices]
        self.fields["status"].choices = [("", "全部状态"), *statuses]


class NoticeReplyForm(forms.Form):
    """The unit head's answer to a notice: the measures taken."""

    measures = forms.CharField(
        label="整改措施", min_length=10,
        widget=_text_area(5, "写明已采取的整改措施、责任人和完成情况"),
        error_messages={"required": "请填写已采取的整改措施",
                        "min_length": "请具体写明已采取的整改措施（不少于 10 个字）"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser's own check would stop the form with a message of its own; the server's
        # says in Chinese, next to the field, how much to write.
        self.fields["measures"].widget.attrs.pop("minlength", None)
