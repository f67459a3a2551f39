from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from minyi.core import crypto
from minyi.core.models import TimeStampedModel
from minyi.orders.rules import (
    CLOCK_STATES,
    BusinessClass,
    CallbackOutcome,
    CreatedVia,
    DemandKind,
    State,
    is_on_time,
)


class OrderType(TimeStampedModel):
    """What an order is about (户籍业务, 噪音扰民 …), its business class and its timers."""

    code = models.CharField("类型代码", max_length=30, unique=True)
    name = models.CharField("类型名称", max_length=50)
    business_class = models.CharField("业务类别", max_length=30, choices=BusinessClass.choices)
    contact_limit = models.CharField("联系时限", max_length=20, default="1h",
                                     help_text="如 1h、30m；按联系日历计算")
    contact_calendar = models.CharField("联系日历", max_length=30, default="24x7")
    handling_limit = models.CharField("办理时限", max_length=20, default="1d",
                                      help_text="如 0.5d、1d、3.5h；d 为工作日")
    handling_calendar = models.CharField("办理日历", max_length=30, default="office")
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "工单类型"
        verbose_name_plural = "工单类型"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from minyi.workcal.timecalc import check_duration_text

        errors = {}
        for field in ("contact_limit", "handling_limit"):
            try:
                check_duration_text(getattr(self, field))
            except ValueError as exc:
                errors[field] = str(exc)
        if errors:
            raise ValidationError(errors)


class OrderQuerySet(models.QuerySet):
    def overdue(self, now=None) -> OrderQuerySet:
        """Held by a unit with the handling deadline past: a query, never a stored flag."""
        return self.filter(state__in=CLOCK_STATES, handling_due_at__lt=now or timezone.now())

    def contact_overdue(self, now=None) -> OrderQuerySet:
        return self.filter(state__in=CLOCK_STATES, contacted_at__isnull=True,
                           contact_due_at__lt=now or timezone.now())


class Order(TimeStampedModel):
    """One demand of the public in the closed loop (工单)."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    channel = models.ForeignKey("intake.Channel", verbose_name="渠道", on_delete=models.PROTECT)
    external_id = models.CharField("来源编号", max_length=64, blank=True)
    order_type = models.ForeignKey(OrderType, verbose_name="工单类型", on_delete=models.PROTECT)
    demand_kind = models.CharField("诉求类型", max_length=20, choices=DemandKind.choices)
    title = models.CharField("标题", max_length=200)
    content = models.TextField("诉求内容", blank=True)

    # Personal data: cipher text, a keyed hash for matching, and a mask for lists.
    citizen_name_enc = models.TextField("姓名（密文）", blank=True, editable=False)
    citizen_name_mask = models.CharField("姓名", max_length=20, blank=True, editable=False)
    citizen_phone_enc = models.TextField("电话（密文）", blank=True, editable=False)
    citizen_phone_mask = models.CharField("电话", max_length=20, blank=True, editable=False)
    citizen_phone_hash = models.CharField("电话哈希", max_length=64, blank=True, editable=False,
                                          db_index=True)
    citizen_address_enc = models.TextField("住址（密文）", blank=True, editable=False)

    area = models.ForeignKey("orgs.Area", verbose_name="所属区域", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="orders")
    location = models.CharField("事发地址", max_length=300, blank=True)
    location_hash = models.CharField("地址哈希", max_length=64, blank=True, editable=False,
                                     db_index=True)
    is_leader_assigned = models.BooleanField("领导批示交办", default=False)
    leader_instruction = models.TextField("领导批示", blank=True)

    state = models.CharField("状态", max_length=20, choices=State.choices,
                             default=State.RECEIVED)
    state_before_return = models.CharField(max_length=20, blank=True, editable=False)
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_via = models.CharField("录入方式", max_length=10, choices=CreatedVia.choices,
                                   default=CreatedVia.FORM)
    source_client = models.ForeignKey("intake.IntegrationClient", verbose_name="来源系统",
                                      null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="orders")

    received_at = models.DateTimeField("接单时间", default=timezone.now)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="接单人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    lead_unit = models.ForeignKey("orgs.Unit", verbose_name="承办单位", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="lead_orders")
    dispatched_at = models.DateTimeField("转办时间", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    contacted_at = models.DateTimeField("联系时间", null=True, blank=True)
    reported_at = models.DateTimeField("上报时间", null=True, blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    fed_back_at = models.DateTimeField("反馈时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # When the unit finished: the report that passed review (for imports, the source's close).
    handled_at = models.DateTimeField("办理完成时间", null=True, blank=True)
    contact_due_at = models.DateTimeField("联系时限", null=True, blank=True)
    handling_due_at = models.DateTimeField("办理时限", null=True, blank=True)
    paused_at = models.DateTimeField("计时暂停于", null=True, blank=True)

    callback_outcome = models.CharField("回访结果", max_length=30,
                                        choices=CallbackOutcome.choices, blank=True)
    callback_at = models.DateTimeField("回访时间", null=True, blank=True)
    callback_note = models.TextField("回访情况", blank=True)
    close_note = models.TextField("办结说明", blank=True)
    invalid_reason = models.TextField("无效原因", blank=True)
    redo_count = models.PositiveIntegerField("重办次数", default=0)
    sendback_count = models.PositiveIntegerField("审核退回次数", default=0)
    return_count = models.PositiveIntegerField("退单次数", default=0)
    # Set when an earlier order of the same citizen, address or matter falls within the repeat
    # window (`orders.repeats`); counted per unit in the bulletins.
    is_repeat = models.BooleanField("重复投诉", default=False)
    source_data = models.JSONField("来源原始数据", default=dict, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = "工单"
        verbose_name_plural = "工单"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~Q(external_id=""),
                name="order_unique_channel_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["bureau", "-received_at", "-id"], name="order_bureau_recv_idx"),
            models.Index(fields=["lead_unit", "state", "handling_due_at"],
                         name="order_unit_due_idx"),
            models.Index(fields=["lead_unit", "-received_at", "-id"], name="order_unit_recv_idx"),
            models.Index(fields=["state", "handling_due_at"], name="order_state_due_idx"),
            models.Index(fields=["bureau", "state", "-received_at"], name="order_state_recv_idx"),
            models.Index(fields=["closed_at"], name="order_closed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        """The order number people read and say: the receiving date and the row number."""
        received = timezone.localtime(self.received_at)
        return f"{received:%Y%m%d}-{self.pk:06d}" if self.pk else ""

    @property
    def citizen_name(self) -> str:
        return crypto.decrypt(self.citizen_name_enc)

    @property
    def citizen_phone(self) -> str:
        return crypto.decrypt(self.citizen_phone_enc)

    @property
    def citizen_address(self) -> str:
        return crypto.decrypt(self.citizen_address_enc)

    def set_citizen(self, *, name: str = "", phone: str = "", address: str = "") -> None:
        self.citizen_name_enc = crypto.encrypt(name.strip())
        self.citizen_name_mask = crypto.mask_name(name)
        self.citizen_phone_enc = crypto.encrypt(crypto.normalize_phone(phone))
        self.citizen_phone_mask = crypto.mask_phone(phone)
        self.citizen_phone_hash = crypto.keyed_hash("phone", phone)
        self.citizen_address_enc = crypto.encrypt(address.strip())

    def set_location(self, location: str) -> None:
        self.location = location.strip()
        self.location_hash = crypto.keyed_hash("address", location)

    @property
    def is_overdue(self) -> bool:
        return (self.state in CLOCK_STATES and self.handling_due_at is not None
                and self.handling_due_at < timezone.now())

    @property
    def on_time(self) -> bool | None:
        return is_on_time(self.handled_at, self.handling_due_at)


class Assignment(TimeStampedModel):
    """An order in a unit's hands: the lead unit or a co-handling one, with the unit's timers.

    A timer belongs to the unit holding the order: a return ends the assignment, and the next
    dispatch starts a new one with new deadlines.
    """

    class EndReason(models.TextChoices):
        RETURNED = "returned", "退单"
        REDONE = "redone", "重办"
        FINISHED = "finished", "办结"
        INVALID = "invalid", "无效"

    order = models.ForeignKey(Order, verbose_name="工单", on_delete=models.CASCADE,
                              related_name="assignments")
    unit = models.ForeignKey("orgs.Unit", verbose_name="单位", on_delete=models.PROTECT,
                             related_name="assignments")
    is_lead = models.BooleanField("主办", default=True)
    dispatched_at = models.DateTimeField("转办时间")
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="转办人",
                                      null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    note = models.TextField("转办意见", blank=True)
    handling_limit = models.DurationField("办理时限（工作时间）", null=True, blank=True)
    # Working time the clock stood still while a return was being decided.
    paused_working = models.DurationField("暂停计时", default=timedelta(0))
    contact_due_at = models.DateTimeField("联系时限", null=True, blank=True)
    handling_due_at = models.DateTimeField("办理时限", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=20, choices=EndReason.choices,
                                  blank=True)

    class Meta:
        verbose_name = "转办记录"
        verbose_name_plural = "转办记录"
        ordering = ["dispatched_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(is_lead=True, ended_at__isnull=True),
                name="assignment_one_open_lead",
            ),
        ]
        indexes = [models.Index(fields=["unit", "ended_at"], name="assignment_unit_open_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.unit}"


class Report(TimeStampedModel):
    """A unit's account of what it did (上报), and the review of it (审核)."""

    class Decision(models.TextChoices):
        PASSED = "passed", "审核通过"
        SENT_BACK = "sent_back", "审核退回"

    order = models.ForeignKey(Order, verbose_name="工单", on_delete=models.CASCADE,
                              related_name="reports")
    unit = models.ForeignKey("orgs.Unit", verbose_name="上报单位", on_delete=models.PROTECT,
                             related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上报人", null=True,
                               blank=True, on_delete=models.PROTECT, related_name="+")
    result = models.TextField("办理结果")
    measures = models.TextField("采取措施", blank=True)
    resolved = models.BooleanField("诉求已解决", default=True)
    decision = models.CharField("审核结论", max_length=20, choices=Decision.choices, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    review_reason = models.TextField("审核意见", blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)

    class Meta:
        verbose_name = "办理报告"
        verbose_name_plural = "办理报告"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} 报告 {self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    today = timezone.localdate()
    return f"attachments/{today:%Y/%m}/{instance.report.order_id}/{filename}"


class Attachment(TimeStampedModel):
    report = models.ForeignKey(Report, verbose_name="报告", on_delete=models.CASCADE,
                               related_name="attachments")
    file = models.FileField("文件", upload_to=attachment_path)
    name = models.CharField("文件名", max_length=255)
    size = models.PositiveIntegerField("大小")
    content_type = models.CharField("类型", max_length=100, blank=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.name


class ReturnRequest(TimeStampedModel):
    """A unit says an order is not its own (退单); the command centre decides."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "同意退单"
        REJECTED = "rejected", "不同意，继续办理"

    order = models.ForeignKey(Order, verbose_name="工单", on_delete=models.CASCADE,
                              related_name="return_requests")
    unit = models.ForeignKey("orgs.Unit", verbose_name="退单单位", on_delete=models.PROTECT,
                             related_name="+")
    reason = models.TextField("退单理由")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField("审批结果", max_length=20, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "退单申请"
        verbose_name_plural = "退单申请"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} 退单"


class DocumentSequence(models.Model):
    """The last number given to a kind of document, per bureau and year.

    Taken with a row lock in the transaction that creates the document, so a number is never
    given twice, and a transaction that fails gives its number back: no gaps.
    """

    bureau = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "文书编号"
        verbose_name_plural = "文书编号"
        constraints = [models.UniqueConstraint(fields=["bureau", "kind", "year"],
                                               name="document_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"


class NumberedDocument(TimeStampedModel):
    """What a supervision notice and a reminder letter share: a number per bureau and year, an
    order, the unit that must answer for it, and why it was issued."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    order = models.ForeignKey(Order, verbose_name="工单", on_delete=models.PROTECT)
    unit = models.ForeignKey("orgs.Unit", verbose_name="责任单位", on_delete=models.PROTECT,
                             related_name="+")
    year = models.PositiveIntegerField("年度")
    number = models.PositiveIntegerField("序号")
    # Which round of the order it belongs to (its redo or send-back count then), so that an
    # order redone and late again gets a new document but one round never gets two.
    cycle = models.PositiveIntegerField("轮次", default=0)
    issued_at = models.DateTimeField("下发时间")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="下发人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("事由")

    class Meta:
        abstract = True
        ordering = ["-year", "-number"]

    PREFIX = ""

    @property
    def display_number(self) -> str:
        return f"{self.PREFIX}〔{self.year}〕{self.number}号"

    def __str__(self) -> str:
        return self.display_number


class SupervisionNotice(NumberedDocument):
    """督办单: for an order past its handling deadline, or sent back as unresolved. The unit
    head signs for it and answers with the measures taken by the reply deadline; unanswered,
    it goes to the inspectors."""

    class Reason(models.TextChoices):
        OVERDUE = "overdue", "超期未办结"
        UNRESOLVED = "unresolved", "问题未解决被退回"

    PREFIX = "督"
    reason = models.CharField("督办原因", max_length=20, choices=Reason.choices)
    reply_due_at = models.DateTimeField("答复期限")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签收人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    reply = models.TextField("整改措施", blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="答复人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    escalated_at = models.DateTimeField("移交督察时间", null=True, blank=True)

    class Meta(NumberedDocument.Meta):
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        constraints = [
            models.UniqueConstraint(fields=["bureau", "year", "number"],
                                    name="notice_number_unique"),
            models.UniqueConstraint(fields=["order", "reason", "cycle"],
                                    name="notice_once_per_round"),
        ]
        indexes = [models.Index(fields=["replied_at", "reply_due_at"], name="notice_reply_idx")]


class ReminderLetter(NumberedDocument):
    """提醒函: for a dissatisfied callback, a repeat complaint or a leader-assigned order."""

    class Reason(models.TextChoices):
        DISSATISFIED = "dissatisfied", "回访不满意"
        REPEAT = "repeat", "重复投诉"
        LEADER_ASSIGNED = "leader_assigned", "领导批示交办"

    PREFIX = "提醒"
    reason = models.CharField("提醒原因", max_length=20, choices=Reason.choices)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签收人",
                                        null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)

    class Meta(NumberedDocument.Meta):
        verbose_name = "提醒函"
        verbose_name_plural = "提醒函"
        constraints = [
            models.UniqueConstraint(fields=["bureau", "year", "number"],
                                    name="letter_number_unique"),
            models.UniqueConstraint(fields=["order", "reason", "cycle"],
                                    name="letter_once_per_round"),
        ]
