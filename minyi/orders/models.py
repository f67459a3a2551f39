from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.db.models import F, OrderBy, Q
from django.utils import timezone

from minyi.core import crypto
from minyi.core.models import TimeStampedModel
from minyi.orders.rules import (
    CLOCK_STATES,
    WORKBENCH_STATES,
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


def _ordering_term(term: Any, nulls_largest: bool) -> tuple[str, bool, bool]:
    """(field name, descending, NULLs last) of one `order_by` term. Where the term does not say
    where NULLs go, the database decides: PostgreSQL takes NULL as the largest value, SQLite as
    the smallest (`nulls_largest`)."""
    if isinstance(term, str):
        name = term.lstrip("-")
        descending = term.startswith("-")
        return name, descending, nulls_largest != descending
    if isinstance(term, OrderBy) and isinstance(term.expression, F):
        if term.nulls_last or term.nulls_first:
            nulls_last = bool(term.nulls_last)
        else:
            nulls_last = nulls_largest != term.descending
        return term.expression.name, term.descending, nulls_last
    raise ValueError(f"unsupported ordering {term!r}")


class OrderQuerySet(models.QuerySet):
    # The parts of a unit user's scope (orders its units lead; orders they help with), set by
    # `orgs.access.visible_orders`. Together they are one OR, which no index serves in the
    # order of a list: the database would read and sort every order of the unit. A page is
    # therefore taken from each part in turn, each along its own index (`fetch_slice`).
    scope_arms: list[Q] | None = None

    def _clone(self) -> OrderQuerySet:
        clone = super()._clone()
        clone.scope_arms = self.scope_arms
        return clone

    def fetch_slice(self, start: int, stop: int) -> list[Order]:
        """The rows [start:stop] in the queryset's order, as `list(qs[start:stop])` gives them,
        at the cost of a page per part of the scope rather than of the whole scope."""
        if not self.scope_arms or not self.query.order_by or not self.query.standard_ordering:
            return list(self[start:stop])
        nulls_largest = connections[self.db].features.nulls_order_largest
        ordering = [_ordering_term(term, nulls_largest) for term in self.query.order_by]
        names = [name for name, _, _ in ordering]
        keyed: dict[int, tuple] = {}
        for arm in self.scope_arms:
            for row in self.filter(arm).values_list("pk", *names)[:stop]:
                keyed[row[0]] = row[1:]
        pks = list(keyed)
        # Stable sorts from the last key to the first give the combined order.
        for position in reversed(range(len(ordering))):
            _, descending, nulls_last = ordering[position]
            # Sorting in reverse also reverses where NULLs go: rank them to land where asked.
            null_rank = 1 if nulls_last != descending else 0

            def key(pk: int, position: int = position, null_rank: int = null_rank) -> tuple:
                value = keyed[pk][position]
                return (null_rank, 0) if value is None else (1 - null_rank, value)
            pks.sort(key=key, reverse=descending)
        pks = pks[start:stop]
        rows = {row.pk: row for row in self.filter(pk__in=pks).order_by()}
        return [rows[pk] for pk in pks if pk in rows]

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
    # When the repeat check (run by the sweep) looked at the order; NULL: not yet. Every way in
    # (form, API, a million-row import) leaves it NULL, and the sweep claims orders by it.
    repeat_checked_at = models.DateTimeField("重复投诉检查时间", null=True, blank=True,
                                             editable=False)
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
            # A unit's work list, nearest deadline first, read in index order: its cost is one
            # page however many orders the unit holds or the table has.
            models.Index(fields=["lead_unit", "handling_due_at", "id"],
                         condition=Q(state__in=WORKBENCH_STATES), name="order_unit_work_idx"),
            models.Index(fields=["bureau", "state", "-received_at"], name="order_state_recv_idx"),
            models.Index(fields=["closed_at"], name="order_closed_idx"),
            models.Index(fields=["repeat_checked_at", "received_at"],
                         name="order_repeat_check_idx"),
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
        indexes = [
            models.Index(fields=["unit", "ended_at"], name="assignment_unit_open_idx"),
            # The co-handled part of a unit's scope (orgs.access.order_arms) is asked on every
            # list page: only the few open co-handlings, not the unit's open lead assignments
            # (thousands at a million orders).
            models.Index(fields=["unit", "order"], name="assignment_cohandling_idx",
                         condition=Q(is_lead=False, ended_at__isnull=True)),
        ]

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


class RepeatLink(TimeStampedModel):
    """An order that repeats an earlier one (重复投诉): the same caller, the same address, or
    text alike enough, within the repeat window (`orders.repeats`)."""

    class Basis(models.TextChoices):
        PHONE = "phone", "同一来电号码"
        ADDRESS = "address", "同一地址"
        TEXT = "text", "内容相似"

    order = models.ForeignKey(Order, verbose_name="工单", on_delete=models.CASCADE,
                              related_name="repeat_links")
    earlier = models.ForeignKey(Order, verbose_name="此前工单", on_delete=models.CASCADE,
                                related_name="later_repeat_links")
    # The strongest reason when several hold: phone, then address, then text.
    basis = models.CharField("判定依据", max_length=10, choices=Basis.choices)
    # The text similarity of the two (0–1), whatever the basis.
    similarity = models.FloatField("内容相似度", default=0.0)

    class Meta:
        verbose_name = "重复投诉关联"
        verbose_name_plural = "重复投诉关联"
        ordering = ["-earlier__received_at", "-earlier_id"]
        constraints = [models.UniqueConstraint(fields=["order", "earlier"],
                                               name="repeat_link_unique")]

    def __str__(self) -> str:
        return f"{self.order_id} ← {self.earlier_id} ({self.basis})"
