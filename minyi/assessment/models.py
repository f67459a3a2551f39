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


# --- monthly figures, indicators, schemes and scores (issue 7) -------------------------------


class MonthlyFigures(models.Model):
    """The counts of one unit (or, with `unit` = the bureau itself, of the whole bureau) in one
    month, kept by a job that recounts the current and the previous month (`assessment.facts`).
    Dashboards and monthly scores read these rows, never the orders themselves: a page costs the
    same with a thousand orders as with a million. `counts` holds the bulletin's COUNTS and the
    further ones the indicators need (returns, redos, rectifications, callback calls …)."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="公安局", on_delete=models.CASCADE,
                               related_name="+")
    unit = models.ForeignKey("orgs.Unit", verbose_name="单位", on_delete=models.CASCADE,
                             related_name="+")
    month = models.DateField("月份（当月1日）")
    counts = models.JSONField("计数", default=dict)
    computed_at = models.DateTimeField("统计时间")

    class Meta:
        verbose_name = "月度统计"
        verbose_name_plural = "月度统计"
        ordering = ["bureau", "month", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="monthly_figures_once"),
        ]
        indexes = [models.Index(fields=["bureau", "month"], name="monthly_figures_bureau_idx")]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m}"


class Indicator(TimeStampedModel):
    """An indicator (考核指标) with a versioned definition (口径): what it counts, its numerator
    and denominator and which records they are. `formula` names the pure function of
    `assessment.indicators` that computes it from a unit's monthly counts (computed indicators),
    or is "manual" for figures entered by hand for what lives in other systems (clearance rates,
    dissuasion rates, petitions resolved). A used version is never edited: a change is the next
    version."""

    class Kind(models.TextChoices):
        COMPUTED = "computed", "系统计算"
        MANUAL = "manual", "手工填报"

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text="空为内置指标")
    code = models.SlugField("指标代码", max_length=40)
    version = models.PositiveIntegerField("版本", default=1)
    name = models.CharField("指标名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    formula = models.CharField("计算方法", max_length=40)
    params = models.JSONField("参数", default=dict, blank=True)
    counts_what = models.TextField("统计对象")
    numerator = models.TextField("分子")
    denominator = models.TextField("分母", blank=True)
    unit_label = models.CharField("单位", max_length=10, default="%")
    higher_is_better = models.BooleanField("越高越好", default=True)
    is_share = models.BooleanField("是比率（显示区间）", default=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "考核指标"
        verbose_name_plural = "考核指标"
        ordering = ["code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"],
                                    condition=models.Q(bureau=None), name="indicator_builtin_once"),
            models.UniqueConstraint(fields=["bureau", "code", "version"], name="indicator_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.label}）"

    @property
    def label(self) -> str:
        return f"口径 {self.code} v{self.version}"


class ManualValue(TimeStampedModel):
    """A hand-entered monthly figure of a unit for a manual indicator (with its numerator and
    denominator where it is a share, so that its interval can be shown)."""

    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.PROTECT,
                                  related_name="manual_values")
    unit = models.ForeignKey("orgs.Unit", verbose_name="单位", on_delete=models.PROTECT,
                             related_name="+")
    month = models.DateField("月份（当月1日）")
    value = models.DecimalField("数值", max_digits=12, decimal_places=2)
    numerator = models.PositiveIntegerField("分子", null=True, blank=True)
    denominator = models.PositiveIntegerField("分母", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="填报人",
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "手工填报值"
        verbose_name_plural = "手工填报值"
        constraints = [
            models.UniqueConstraint(fields=["indicator", "unit", "month"],
                                    name="manual_value_once"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m} {self.indicator.name} {self.value}"


class Scheme(TimeStampedModel):
    """A bureau's assessment scheme for a year (年度考核方案): which indicators, their targets,
    weights and scoring rules, which units are assessed."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="公安局", on_delete=models.PROTECT,
                               related_name="+")
    year = models.PositiveIntegerField("年度")
    name = models.CharField("方案名称", max_length=100)
    unit_kinds = models.JSONField("参评单位类型", default=list,
                                  help_text="如 [\"station\"]：参评的单位类型")
    min_count = models.PositiveIntegerField(
        "参与排名的最少件数", default=10,
        help_text="比率的分母少于此数的单位标注“样本不足”，不参与该项排名")
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "考核方案"
        verbose_name_plural = "考核方案"
        ordering = ["bureau", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["bureau", "year"], name="scheme_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年 {self.name}"


class SchemeItem(models.Model):
    """One indicator of a scheme with its target, weight (points) and scoring rule:
    linear to target, by rank, a deduction per event, or a veto (一票否决)."""

    class Rule(models.TextChoices):
        LINEAR = "linear", "达标线性计分"
        RANK = "rank", "按排名计分"
        DEDUCTION = "deduction", "按件扣分"
        VETO = "veto", "一票否决"

    scheme = models.ForeignKey(Scheme, verbose_name="考核方案", on_delete=models.CASCADE,
                               related_name="items")
    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.PROTECT,
                                  related_name="+")
    position = models.PositiveIntegerField("序号", default=0)
    weight = models.DecimalField("分值", max_digits=6, decimal_places=2, default=Decimal("10"))
    target = models.DecimalField("目标值", max_digits=8, decimal_places=2, null=True, blank=True)
    rule = models.CharField("计分规则", max_length=20, choices=Rule.choices, default=Rule.LINEAR)
    params = models.JSONField("规则参数", default=dict, blank=True,
                              help_text="如 floor（零分线）、per_event（每件扣分）、"
                                        "cap（扣分上限）")

    class Meta:
        verbose_name = "考核项目"
        verbose_name_plural = "考核项目"
        ordering = ["scheme", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "indicator"], name="scheme_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.indicator.name}"


class AssessmentMonth(TimeStampedModel):
    """The monthly assessment (月度考核) of a bureau under its year's scheme. While open its
    scores are computed live from the monthly figures; closing freezes them into `snapshot`
    (scores, ranks, intervals, the definitions used). Reopening needs a reason and is an
    event; closing again makes a new snapshot."""

    class State(models.TextChoices):
        OPEN = "open", "未关账"
        CLOSED = "closed", "已关账"

    bureau = models.ForeignKey("orgs.Unit", verbose_name="公安局", on_delete=models.PROTECT,
                               related_name="+")
    scheme = models.ForeignKey(Scheme, verbose_name="考核方案", on_delete=models.PROTECT,
                               related_name="months")
    month = models.DateField("月份（当月1日）")
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.OPEN)
    snapshot = models.JSONField("成绩快照", default=dict, blank=True)
    computed_at = models.DateTimeField("计算时间", null=True, blank=True)
    closed_at = models.DateTimeField("关账时间", null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="关账人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    reopen_count = models.PositiveIntegerField("重新打开次数", default=0)

    class Meta:
        verbose_name = "月度考核"
        verbose_name_plural = "月度考核"
        ordering = ["bureau", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["bureau", "month"], name="assessment_month_once"),
        ]

    def __str__(self) -> str:
        return f"{self.bureau} {self.month:%Y年%m月}考核"


# --- the annual programme (年度工作方案, seed 000: 七抓七促) -------------------------------------


class Programme(TimeStampedModel):
    """A bureau's annual programme for raising the sense of security and satisfaction."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="公安局", on_delete=models.PROTECT,
                               related_name="+")
    year = models.PositiveIntegerField("年度")
    title = models.CharField("方案名称", max_length=200)
    document_number = models.CharField("文号", max_length=50, blank=True)

    class Meta:
        verbose_name = "年度工作方案"
        verbose_name_plural = "年度工作方案"
        ordering = ["bureau", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["bureau", "year", "title"], name="programme_once"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年 {self.title}"


class Measure(TimeStampedModel):
    """One measure of the programme (e.g. 抓…促…) with the leader in charge, the lead unit, the
    liaison and the responsible units."""

    programme = models.ForeignKey(Programme, verbose_name="年度工作方案", on_delete=models.CASCADE,
                                  related_name="measures")
    number = models.PositiveIntegerField("序号")
    title = models.CharField("措施", max_length=200)
    content = models.TextField("主要内容", blank=True)
    leader = models.CharField("分管领导", max_length=50, blank=True)
    lead_unit = models.ForeignKey("orgs.Unit", verbose_name="牵头单位", on_delete=models.PROTECT,
                                  related_name="+")
    liaison = models.CharField("联络员", max_length=50, blank=True)
    responsible_units = models.ManyToManyField("orgs.Unit", verbose_name="责任单位",
                                               related_name="+", blank=True)

    class Meta:
        verbose_name = "工作措施"
        verbose_name_plural = "工作措施"
        ordering = ["programme", "number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="measure_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class ProgrammeTask(TimeStampedModel):
    """A task of a measure with its deadline and the units that carry it out."""

    class State(models.TextChoices):
        OPEN = "open", "推进中"
        DONE = "done", "已完成"

    measure = models.ForeignKey(Measure, verbose_name="工作措施", on_delete=models.CASCADE,
                                related_name="tasks")
    number = models.PositiveIntegerField("序号")
    title = models.CharField("任务", max_length=300)
    deadline = models.DateField("完成时限")
    units = models.ManyToManyField("orgs.Unit", verbose_name="承担单位", related_name="+",
                                   blank=True)
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "工作任务"
        verbose_name_plural = "工作任务"
        ordering = ["measure", "number"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "number"], name="programme_task_once"),
        ]
        indexes = [models.Index(fields=["state", "deadline"], name="programme_task_due_idx")]

    def __str__(self) -> str:
        return f"{self.measure.number}.{self.number} {self.title}"


class TaskProgress(TimeStampedModel):
    """A unit's monthly report of its progress on a task (每月报送工作进展)."""

    task = models.ForeignKey(ProgrammeTask, verbose_name="工作任务", on_delete=models.CASCADE,
                             related_name="progress")
    unit = models.ForeignKey("orgs.Unit", verbose_name="报送单位", on_delete=models.PROTECT,
                             related_name="+")
    month = models.DateField("月份（当月1日）")
    text = models.TextField("工作进展")
    percent_done = models.PositiveSmallIntegerField(
        "完成进度（%）", default=0, validators=[MaxValueValidator(100)])
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="报送人",
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "工作进展"
        verbose_name_plural = "工作进展"
        ordering = ["task", "-month", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit", "month"], name="task_progress_once"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.unit} {self.month:%Y-%m}"
