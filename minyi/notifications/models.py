from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from minyi.core.models import TimeStampedModel

KIND_LABELS = {
    "order.review": "审核退回",
    "order.request_return": "退单申请",
    "order.decide_return": "退单审批",
    "notice.escalate": "移交督察",
}


class Notification(models.Model):
    """One thing a user must know or do, shown in their list and counted on the bell.

    Most are made from an event by the rules of `minyi.notifications.rules`; one per user and
    event, so an event handed over twice never notifies anybody twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="接收人",
                             on_delete=models.CASCADE, related_name="notifications")
    text = models.TextField("内容")
    link = models.CharField("链接", max_length=300, blank=True)
    event = models.ForeignKey("core.Event", verbose_name="事件", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    # The event's action, copied: the list shows a label per kind without joining the events.
    action = models.CharField("类型", max_length=64, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="notification_once_per_event"),
        ]
        indexes = [
            # The bell asks on every page: a partial index of the unread ones keeps it one
            # small index probe however many old notifications a user has.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True),
                         name="notification_unread_idx"),
            models.Index(fields=["user", "-id"], name="notification_list_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text[:30]}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def kind_label(self) -> str:
        """A short tag for the list: the event's label, or a plainer word where the event's
        label would mislead (a review that notifies anyone is a send-back)."""
        from minyi.core.audit import action_label

        if not self.action:
            return ""
        return KIND_LABELS.get(self.action) or action_label(self.action)


class SmsMessage(TimeStampedModel):
    """One text message to one mobile number: the outbox, delivered by `sms.outbox` through
    the configured backend and retried with back-off until the gateway accepts it.

    The number is kept encrypted, as citizens' numbers are (rating links go to citizens); pages
    and the admin show it masked."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        GIVEN_UP = "given_up", "发送失败"

    to_encrypted = models.TextField("手机号（加密）")
    to_masked = models.CharField("手机号", max_length=20)
    text = models.TextField("内容")
    segments = models.PositiveSmallIntegerField("计费条数", default=1)
    # Who asked for it, so that one can tell a notice's texts from the callbacks' rating links.
    purpose = models.CharField("用途", max_length=40, blank=True)
    reference = models.CharField("关联对象", max_length=100, blank=True)
    notification = models.ForeignKey(Notification, verbose_name="通知", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="sms_messages")
    status = models.CharField("状态", max_length=20, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", default=timezone.now)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    backend = models.CharField("发送通道", max_length=100, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "短信"
        verbose_name_plural = "短信"
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sms_due_idx")]

    def __str__(self) -> str:
        return f"{self.to_masked}：{self.text[:20]}"
