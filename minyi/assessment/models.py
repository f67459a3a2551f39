from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from minyi.core.models import TimeStampedModel


def _percent_field(label: str, default: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=4, decimal_places=1, default=Decimal(default),
                               validators=[MinValueValidator(0), MaxValueValidator(100)],
                               help_text="百分数，如 85 表示 85%；低于此值的单位上黑榜")


class BulletinSettings(TimeStampedModel):
    """A bureau's floors for the red and black lists of its weekly bulletin; without a row the
    defaults apply (satisfaction 85%, on time 90%, timely contact 95%, at least 5 orders)."""

    bureau = models.OneToOneField("orgs.Unit", verbose_name="公安局", on_delete=models.CASCADE,
                                  related_name="bulletin_settings",
                                  limit_choices_to={"kind__in": ["bureau", "sub_bureau"]})
    satisfaction_floor = _percent_field("满意率下限", "85")
    on_time_floor = _percent_field("按时办结率下限", "90")
    contact_floor = _percent_field("及时联系率下限", "95")
    min_orders = models.PositiveIntegerField(
        "参评最少工单数", default=5,
        help_text="一周受理工单（不含无效）少于此数的单位不按比率评判红黑榜")
    basic_weight = models.DecimalField(
        "基本满意计入权重", max_digits=3, decimal_places=2, default=Decimal("1"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="满意率 =（满意 + 基本满意 × 权重）÷ 回访联系上的件数；"
                  "1 为全额计入，0.5 为半数计入")

    class Meta:
        verbose_name = "通报红黑榜设置"
        verbose_name_plural = "通报红黑榜设置"

    def __str__(self) -> str:
        return f"{self.bureau} 通报设置"


class WeeklyBulletin(TimeStampedModel):
    """A bureau's weekly bulletin (每周通报) of one ISO week, numbered per bureau and year, with
    its figures frozen when it was generated: orders changed later do not change it; only an
    explicit regeneration (an event) does."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="公安局", on_delete=models.PROTECT,
                               related_name="+")
    year = models.PositiveIntegerField("年度（ISO 周年）")
    week = models.PositiveSmallIntegerField("周次")
    number = models.PositiveIntegerField("文号序号")
    week_start = models.DateField("起始日（周一）")
    week_end = models.DateField("截止日（周日）")
    generated_at = models.DateTimeField("生成时间")
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="生成人", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+",
                                     help_text="空表示每周一 08:00 自动生成")
    definitions_version = models.CharField("口径版本", max_length=40)
    snapshot = models.JSONField("数据快照", default=dict)

    class Meta:
        verbose_name = "每周通报"
        verbose_name_plural = "每周通报"
        ordering = ["-year", "-week", "bureau_id"]
        constraints = [
            models.UniqueConstraint(fields=["bureau", "year", "week"],
                                    name="bulletin_one_per_week"),
            models.UniqueConstraint(fields=["bureau", "year", "number"],
                                    name="bulletin_number_unique"),
        ]

    PREFIX = "通报"

    def __str__(self) -> str:
        return f"{self.display_number} {self.title}"

    @property
    def display_number(self) -> str:
        return f"{self.PREFIX}〔{self.year}〕{self.number}号"

    @property
    def week_label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def title(self) -> str:
        return f"关于{self.year}年第{self.week}周群众诉求办理情况的通报"
