from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from minyi.core.models import TimeStampedModel


class Channel(TimeStampedModel):
    """Where a demand came in: 12345 hotline, 110 non-emergency, window rating, ... Configurable
    in the admin; the codes are what integrating systems and import files name."""

    code = models.CharField("渠道代码", max_length=30, unique=True)
    name = models.CharField("渠道名称", max_length=50)
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "受理渠道"
        verbose_name_plural = "受理渠道"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class IntegrationClient(TimeStampedModel):
    """An integrating system (the 12345 platform, the 110 system ...) that calls the API with a
    token, and to which results are fed back by webhook."""

    name = models.CharField("系统名称", max_length=100)
    channel = models.ForeignKey(Channel, verbose_name="默认渠道", on_delete=models.PROTECT)
    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    # Only the token's hash is kept; the token is shown once when it is made.
    token_hash = models.CharField("令牌哈希", max_length=64, unique=True, editable=False)
    token_prefix = models.CharField("令牌前缀", max_length=12, editable=False)
    webhook_url = models.URLField("反馈地址", blank=True)
    webhook_secret = models.CharField("反馈签名密钥", max_length=100, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "对接系统"
        verbose_name_plural = "对接系统"

    def __str__(self) -> str:
        return self.name


class FeedbackDelivery(TimeStampedModel):
    """One result to be posted back to the source platform, retried until it is accepted."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        DELIVERED = "delivered", "已送达"
        GIVEN_UP = "given_up", "已放弃"

    order = models.ForeignKey("orders.Order", verbose_name="工单", on_delete=models.CASCADE,
                              related_name="feedback_deliveries")
    client = models.ForeignKey(IntegrationClient, verbose_name="对接系统",
                               on_delete=models.PROTECT)
    payload = models.JSONField("内容")
    status = models.CharField("状态", max_length=20, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", default=timezone.now)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "反馈推送"
        verbose_name_plural = "反馈推送"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="feedback_due_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.client}"


def import_file_path(instance: ImportBatch, filename: str) -> str:
    today = timezone.localdate()
    return f"imports/{today:%Y/%m}/{filename}"


class ImportBatch(TimeStampedModel):
    """One import of a file of orders (or of callback contacts: `kind`): its progress, its
    counts and its bad rows."""

    class Kind(models.TextChoices):
        ORDER = "order", "工单"
        # 110 calls, cases and window services imported as callback contacts (callbacks app).
        CONTACT = "contact", "回访对象"
        # A survey wave's sample frame: numbers with township, sex and age group (surveys app).
        SURVEY_FRAME = "survey_frame", "调查样本框"

    class Status(models.TextChoices):
        PENDING = "pending", "等待中"
        RUNNING = "running", "导入中"
        DONE = "done", "已完成"
        FAILED = "failed", "未导入"

    kind = models.CharField("导入内容", max_length=20, choices=Kind.choices, default=Kind.ORDER)

    file_name = models.CharField("文件名", max_length=255)
    file_sha256 = models.CharField("文件摘要", max_length=64, db_index=True)
    preset = models.CharField("预设格式", max_length=50, blank=True)
    mapping = models.JSONField("列对应", default=dict, blank=True)
    skip_bad = models.BooleanField("跳过错误行", default=False)
    status = models.CharField("状态", max_length=20, choices=Status.choices,
                              default=Status.PENDING)
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_done = models.PositiveIntegerField("已处理", default=0)
    created = models.PositiveIntegerField("新建", default=0)
    existing = models.PositiveIntegerField("已存在", default=0)
    bad = models.PositiveIntegerField("错误行", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导入人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # The uploaded file (the import page), kept for the background run and for the record; a
    # command-line import reads the user's file in place and leaves this empty.
    source_file = models.FileField("导入文件", upload_to=import_file_path, max_length=300,
                                   blank=True)
    errors_file = models.FileField("错误行文件", upload_to=import_file_path, max_length=300,
                                   blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"
