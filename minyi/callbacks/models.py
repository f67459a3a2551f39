"""Callbacks (回访): who is called, how they are drawn, the calls, the answers, rectification.

Seed 000 asks every unit to call back the people it dealt with (110 callers, case parties,
window customers, 12345 complainants) while the opinion office re-calls a sample of them; every
dissatisfied answer goes back to the unit to be fixed until the list is empty.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from minyi.core import crypto
from minyi.core.models import TimeStampedModel


class Source(models.TextChoices):
    """Where a contact comes from: the groups a sampling plan draws from."""

    ORDER = "order", "群众诉求工单"
    CALL_110 = "call_110", "110 报警求助"
    CASE = "case", "案件当事人"
    WINDOW = "window", "窗口办事群众"


class Contact(TimeStampedModel):
    """Someone the police dealt with, who may be called back: made from a closed work order
    (automatically) or from an imported record of a 110 call, a case or a window service.
    A record keeps its own type, unit and time, and the person's phone encrypted."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    unit = models.ForeignKey("orgs.Unit", verbose_name="责任单位", on_delete=models.PROTECT,
                             related_name="+")
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    # The record's own type as the source system names it (盗窃案, 户籍业务 …).
    record_type = models.CharField("业务类型", max_length=100, blank=True)
    order = models.OneToOneField("orders.Order", verbose_name="工单", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="callback_contact")
    # The record's id in its source system: a re-sent record is recognised, not duplicated.
    external_id = models.CharField("来源编号", max_length=64, blank=True)
    occurred_at = models.DateTimeField("办理时间")
    person_name_enc = models.TextField("姓名（密文）", blank=True, editable=False)
    person_name_mask = models.CharField("姓名", max_length=20, blank=True, editable=False)
    phone_enc = models.TextField("电话（密文）", blank=True, editable=False)
    phone_mask = models.CharField("电话", max_length=20, blank=True, editable=False)
    phone_hash = models.CharField("电话哈希", max_length=64, blank=True, editable=False,
                                  db_index=True)
    summary = models.TextField("事由", blank=True)
    import_batch = models.ForeignKey("intake.ImportBatch", verbose_name="导入批次", null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "回访对象"
        verbose_name_plural = "回访对象"
        constraints = [
            models.UniqueConstraint(fields=["bureau", "source", "external_id"],
                                    condition=~Q(external_id=""),
                                    name="contact_external_once"),
        ]
        indexes = [models.Index(fields=["bureau", "source", "occurred_at"],
                                name="contact_source_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.phone_mask}"

    def set_person(self, *, name: str = "", phone: str = "") -> None:
        self.person_name_enc = crypto.encrypt(name.strip())
        self.person_name_mask = crypto.mask_name(name)
        self.phone_enc = crypto.encrypt(crypto.normalize_phone(phone))
        self.phone_mask = crypto.mask_phone(phone)
        self.phone_hash = crypto.keyed_hash("phone", phone) if phone.strip() else ""

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_enc)

    @property
    def person_name(self) -> str:
        return crypto.decrypt(self.person_name_enc)


class Caller(models.TextChoices):
    """Who makes the calls of a plan: the unit itself, or the bureau's opinion office."""

    UNIT = "unit", "责任单位自行回访"
    OPINION_OFFICE = "opinion_office", "民意访查中心回访"


class SamplingPlan(TimeStampedModel):
    """How many of a group's contacts are called, per unit and day: a share, with a minimum
    and a maximum, no one called twice within the cooling-off period (across groups), the
    call due a while after the contact."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    name = models.CharField("方案名称", max_length=100)
    source = models.CharField("回访对象来源", max_length=20, choices=Source.choices)
    # Empty: every unit of the bureau with contacts of the group.
    unit = models.ForeignKey("orgs.Unit", verbose_name="限定单位", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    caller = models.CharField("回访主体", max_length=20, choices=Caller.choices,
                              default=Caller.UNIT)
    share = models.DecimalField("抽取比例", max_digits=5, decimal_places=4, default=1)
    minimum = models.PositiveIntegerField("每单位每日最少", default=0)
    maximum = models.PositiveIntegerField("每单位每日最多", null=True, blank=True)
    cooling_off_days = models.PositiveIntegerField("冷却期（天）", default=30)
    due_after_hours = models.PositiveIntegerField("办理后多久回访（小时）", default=24)
    is_active = models.BooleanField("启用", default=True)
    valid_from = models.DateField("生效日期", null=True, blank=True)
    valid_to = models.DateField("失效日期", null=True, blank=True)

    class Meta:
        verbose_name = "抽样方案"
        verbose_name_plural = "抽样方案"
        ordering = ["bureau", "source", "name"]

    def __str__(self) -> str:
        return self.name


class Draw(TimeStampedModel):
    """One day's draw of a plan: random and reproducible, its seed recorded."""

    plan = models.ForeignKey(SamplingPlan, verbose_name="抽样方案", on_delete=models.PROTECT,
                             related_name="draws")
    day = models.DateField("抽样日期")
    seed = models.BigIntegerField("随机种子")
    population = models.PositiveIntegerField("可抽对象数", default=0)
    drawn = models.PositiveIntegerField("抽中数", default=0)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="执行人", null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "抽样记录"
        verbose_name_plural = "抽样记录"
        constraints = [models.UniqueConstraint(fields=["plan", "day"], name="draw_once_a_day")]

    def __str__(self) -> str:
        return f"{self.plan} {self.day}"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"


class Reason(models.TextChoices):
    """Why not satisfied."""

    ATTITUDE = "attitude", "态度"
    SPEED = "speed", "速度"
    RESULT = "result", "结果"
    CONDUCT = "conduct", "作风纪律"
    OTHER = "other", "其他"


class CallbackTask(TimeStampedModel):
    """One person to be called: a regular callback, an opinion-office spot check of a unit's
    completed callback, or the re-call after a rectification."""

    class Kind(models.TextChoices):
        CALLBACK = "callback", "回访"
        SPOT_CHECK = "spot_check", "抽测回访"
        RECALL = "recall", "整改后再回访"

    class State(models.TextChoices):
        PENDING = "pending", "待回访"
        RETRY = "retry", "待重拨"
        COMPLETED = "completed", "已完成"
        # Attempts used up, or a final disposition (空号, 拒访 …): no answer will come.
        CLOSED = "closed", "已结束（未获回答）"
        CANCELLED = "cancelled", "已取消"

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    unit = models.ForeignKey("orgs.Unit", verbose_name="被评价单位", on_delete=models.PROTECT,
                             related_name="+")
    caller = models.CharField("回访主体", max_length=20, choices=Caller.choices)
    contact = models.ForeignKey(Contact, verbose_name="回访对象", on_delete=models.PROTECT,
                                related_name="tasks")
    kind = models.CharField("类别", max_length=20, choices=Kind.choices, default=Kind.CALLBACK)
    draw = models.ForeignKey(Draw, verbose_name="抽样", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="tasks")
    # The task a spot check re-asks, or the dissatisfied task a recall follows up.
    parent = models.ForeignKey("self", verbose_name="原回访", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    state = models.CharField("状态", max_length=20, choices=State.choices,
                             default=State.PENDING)
    due_at = models.DateTimeField("应回访时间")
    next_attempt_at = models.DateTimeField("下次拨打时间", null=True, blank=True)
    attempts = models.PositiveIntegerField("拨打次数", default=0)
    # The AAPOR outcome class of the last attempt (see rules.AAPOR): I, P, R, NC, O, UH, UO, NE.
    outcome = models.CharField("AAPOR 结果", max_length=4, blank=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="正在拨打",
                                    null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    assigned_at = models.DateTimeField("领取时间", null=True, blank=True)
    closed_at = models.DateTimeField("完成时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1, editable=False)

    class Meta:
        verbose_name = "回访任务"
        verbose_name_plural = "回访任务"
        constraints = [
            # One regular callback per contact; one spot check and one recall per parent.
            models.UniqueConstraint(fields=["contact"], condition=Q(kind="callback"),
                                    name="callback_once_per_contact"),
            models.UniqueConstraint(fields=["parent", "kind"], condition=~Q(kind="callback"),
                                    name="child_task_once"),
        ]
        indexes = [
            models.Index(fields=["caller", "unit", "state", "due_at"], name="task_queue_idx"),
            models.Index(fields=["bureau", "state", "due_at"], name="task_bureau_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.contact.phone_mask}"

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.PENDING, self.State.RETRY)


class Attempt(TimeStampedModel):
    """One call: who, when, and how it ended (the callers' disposition and its AAPOR class)."""

    task = models.ForeignKey(CallbackTask, verbose_name="回访任务", on_delete=models.CASCADE,
                             related_name="attempt_set")
    number = models.PositiveIntegerField("第几次")
    caller_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="回访人",
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    at = models.DateTimeField("拨打时间", default=timezone.now)
    disposition = models.CharField("结果代码", max_length=30)
    outcome = models.CharField("AAPOR 结果", max_length=4)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "拨打记录"
        verbose_name_plural = "拨打记录"
        ordering = ["task", "number"]
        constraints = [models.UniqueConstraint(fields=["task", "number"],
                                               name="attempt_number_once")]


class Answer(TimeStampedModel):
    """What the person said, by phone at the desk or through a rating link: one per task."""

    class Via(models.TextChoices):
        PHONE = "phone", "电话回访"
        LINK = "link", "短信评价链接"

    task = models.OneToOneField(CallbackTask, verbose_name="回访任务", on_delete=models.CASCADE,
                                related_name="answer")
    via = models.CharField("方式", max_length=10, choices=Via.choices)
    satisfaction = models.CharField("满意度", max_length=30, choices=Satisfaction.choices)
    reasons = models.JSONField("不满意原因", default=list, blank=True)
    comment = models.TextField("意见建议", blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="记录人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField("回答时间", default=timezone.now)

    class Meta:
        verbose_name = "回访回答"
        verbose_name_plural = "回访回答"


class RatingLink(TimeStampedModel):
    """A signed, single-use, expiring link sent by SMS, instead of or before a call."""

    task = models.ForeignKey(CallbackTask, verbose_name="回访任务", on_delete=models.CASCADE,
                             related_name="rating_links")
    # Only the token's hash is kept (like the API's tokens): a database read gives no link.
    token_hash = models.CharField("链接哈希", max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField("失效时间")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    sms = models.ForeignKey("notifications.SmsMessage", verbose_name="短信", null=True,
                            blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发送人", null=True,
                                blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "评价链接"
        verbose_name_plural = "评价链接"


class Rectification(TimeStampedModel):
    """整改: a dissatisfied answer goes back to the responsible unit with a deadline; the unit
    reports what it did, the opinion office accepts or returns it, and the person is called
    again (the recall task)."""

    class State(models.TextChoices):
        OPEN = "open", "待整改"
        REPORTED = "reported", "已上报待审核"
        RETURNED = "returned", "退回重新整改"
        ACCEPTED = "accepted", "已通过待再回访"
        CONFIRMED = "confirmed", "再回访满意，已销号"
        UNCONFIRMED = "unconfirmed", "再回访仍不满意"

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    unit = models.ForeignKey("orgs.Unit", verbose_name="整改单位", on_delete=models.PROTECT,
                             related_name="+")
    task = models.OneToOneField(CallbackTask, verbose_name="不满意的回访",
                                on_delete=models.PROTECT, related_name="rectification")
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField("整改期限")
    report = models.TextField("整改情况", blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上报人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField("上报时间", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.TextField("审核意见", blank=True)
    return_count = models.PositiveIntegerField("退回次数", default=0)
    recall = models.OneToOneField(CallbackTask, verbose_name="再回访", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="recall_of")
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)

    class Meta:
        verbose_name = "整改事项"
        verbose_name_plural = "整改事项"
        indexes = [models.Index(fields=["unit", "state", "due_at"], name="rectification_unit_idx")]

    def __str__(self) -> str:
        return f"整改 {self.unit} {self.get_state_display()}"
