from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Base of the project's models: when a row was made and last changed."""

    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit row."""


class Event(models.Model):
    """One change of state: the audit trail and every object's timeline.

    Rows are only ever inserted (see `minyi.core.audit.record_event`). Each carries the hash of
    the row before it, so a row changed or removed behind the application's back breaks the
    chain that `minyi audit verify` walks.
    """

    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The name as it was then: a renamed or deactivated user still reads right in old timelines.
    actor_label = models.CharField("操作人姓名", max_length=100)
    object_type = models.CharField("对象类型", max_length=100)
    object_id = models.CharField("对象编号", max_length=64)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    action = models.CharField("动作", max_length=64)
    from_state = models.CharField("原状态", max_length=32, blank=True)
    to_state = models.CharField("新状态", max_length=32, blank=True)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    payload = models.JSONField("附加信息", default=dict, blank=True)
    prev_hash = models.CharField("前一条哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64, unique=True)

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="event_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("审计事件只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("审计事件只能追加，不能删除")


class AuditCheck(models.Model):
    """The result of one walk of the chain, and the tail it saw.

    The chain alone cannot show rows cut off its end; a later walk checks that the tail seen
    here is still there with the same hash.
    """

    checked_at = models.DateTimeField("校验时间", default=timezone.now)
    ok = models.BooleanField("校验通过")
    rows = models.BigIntegerField("事件数")
    last_event_id = models.BigIntegerField("最后事件编号", null=True, blank=True)
    last_hash = models.CharField("最后事件哈希", max_length=64, blank=True)
    broken_event_id = models.BigIntegerField("断链事件编号", null=True, blank=True)
    message = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "审计链校验"
        verbose_name_plural = "审计链校验"
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'通过' if self.ok else '断链'}"
