"""Special campaigns (专项整治): a numbered task for named units with a deadline, opened from a
hot issue and tracked like a supervision notice (signed for, reported on, accepted or sent
back)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from minyi.core.models import TimeStampedModel


class Source(models.TextChoices):
    """What kind of hot issue a campaign came from."""

    ORDER_TYPE = "order_type", "工单类型"
    DEMAND_KIND = "demand_kind", "诉求类型"
    AREA = "area", "区域"
    KEYWORD = "keyword", "关键词"


class Campaign(TimeStampedModel):
    class State(models.TextChoices):
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"

    PREFIX = "专"

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="+")
    year = models.PositiveIntegerField("年度")
    number = models.PositiveIntegerField("序号")
    title = models.CharField("标题", max_length=200)
    requirements = models.TextField("工作要求")
    # The hot issue it came from, as it was when the campaign was opened (optional).
    source_kind = models.CharField("来源热点类别", max_length=20, choices=Source.choices,
                                   blank=True)
    source_key = models.CharField("来源热点", max_length=100, blank=True)
    source_label = models.CharField("来源热点名称", max_length=100, blank=True)
    source_period = models.CharField("来源统计周期", max_length=20, blank=True)
    deadline = models.DateTimeField("完成期限")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="下发人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField("下发时间")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="结束人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    close_note = models.TextField("总结", blank=True)

    class Meta:
        verbose_name = "专项整治"
        verbose_name_plural = "专项整治"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["bureau", "year", "number"],
                                    name="campaign_number_unique"),
        ]
        indexes = [models.Index(fields=["bureau", "state", "-issued_at"],
                                name="campaign_bureau_state_idx")]

    def __str__(self) -> str:
        return f"{self.display_number} {self.title}"

    @property
    def display_number(self) -> str:
        return f"{self.PREFIX}〔{self.year}〕{self.number}号"

    @property
    def is_open(self) -> bool:
        return self.state == Campaign.State.OPEN

    @property
    def is_past_deadline(self) -> bool:
        return self.deadline < timezone.now()


class CampaignTaskQuerySet(models.QuerySet):
    def overdue(self, now=None) -> CampaignTaskQuerySet:
        """Past the campaign's deadline and not accepted: a query, never a stored flag."""
        return self.filter(accepted_at__isnull=True, campaign__deadline__lt=now or timezone.now())


class CampaignTask(TimeStampedModel):
    """One named unit's part of a campaign."""

    class State(models.TextChoices):
        ISSUED = "issued", "待签收"
        SIGNED = "signed", "已签收"
        REPORTED = "reported", "已上报"
        RETURNED = "returned", "已退回"
        ACCEPTED = "accepted", "已验收"

    campaign = models.ForeignKey(Campaign, verbose_name="专项整治", on_delete=models.CASCADE,
                                 related_name="tasks")
    unit = models.ForeignKey("orgs.Unit", verbose_name="责任单位", on_delete=models.PROTECT,
                             related_name="campaign_tasks")
    state = models.CharField("状态", max_length=10, choices=State.choices,
                             default=State.ISSUED)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签收人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    report = models.TextField("整治情况", blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上报人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField("上报时间", null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="验收人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField("验收时间", null=True, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="退回人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)
    return_count = models.PositiveIntegerField("退回次数", default=0)

    objects = CampaignTaskQuerySet.as_manager()

    class Meta:
        verbose_name = "专项整治任务"
        verbose_name_plural = "专项整治任务"
        ordering = ["campaign", "unit__sort_order", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="campaign_task_one_per_unit"),
        ]
        indexes = [models.Index(fields=["unit", "accepted_at"], name="campaign_task_unit_idx")]

    def __str__(self) -> str:
        return f"{self.campaign.display_number} · {self.unit}"

    @property
    def is_overdue(self) -> bool:
        return self.accepted_at is None and self.campaign.deadline < timezone.now()
