"""Surveys (民调): questionnaires with versions, waves with quotas and a sample frame, the
interviews at the survey desk and on the web link, the answers, population totals and weights,
the definitions (口径) of the indices and the benchmarks they are compared with.

Seeds 002 and 003: a county's sense of security and satisfaction is measured by survey, analysed
by township, quarter and year, compared with the province and the city, and reported to the
leadership. The statistics are in `surveys/stats/` (plain arrays); this module only holds them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from minyi.core import crypto
from minyi.core.models import TimeStampedModel


class Questionnaire(TimeStampedModel):
    """A questionnaire of a bureau. What is asked lives in its versions: a version that a wave
    has used is frozen, so the answers of every wave keep the wording they were given under."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="questionnaires")
    name = models.CharField("问卷名称", max_length=100)
    description = models.TextField("说明", blank=True)
    template_code = models.CharField("模板", max_length=50, blank=True,
                                     help_text="由内置模板生成时记模板代码")

    class Meta:
        verbose_name = "问卷"
        verbose_name_plural = "问卷"
        ordering = ["bureau", "name"]

    def __str__(self) -> str:
        return self.name

    def latest_version(self) -> QuestionnaireVersion | None:
        return self.versions.order_by("-number").first()


class QuestionnaireVersion(TimeStampedModel):
    questionnaire = models.ForeignKey(Questionnaire, verbose_name="问卷", on_delete=models.CASCADE,
                                      related_name="versions")
    number = models.PositiveIntegerField("版本号")
    note = models.CharField("修改说明", max_length=200, blank=True)
    # Set when a wave starts fielding on this version; a frozen version is never edited again
    # (an edit makes the next version).
    frozen_at = models.DateTimeField("冻结时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "问卷版本"
        verbose_name_plural = "问卷版本"
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"],
                                    name="questionnaire_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.name} 第{self.number}版"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class QuestionKind(models.TextChoices):
    SINGLE = "single", "单选"
    MULTIPLE = "multiple", "多选"
    SCALE = "scale", "等级量表"
    RATING = "rating", "0–10 打分"
    TEXT = "text", "文字"


class Question(models.Model):
    """One question of a questionnaire version.

    `options` is the list of answers offered (for single, multiple and scale questions; a scale's
    options run from the best to the worst). `show_if` is a simple skip rule: {"question": code,
    "in": [option, …]} shows the question only when that earlier question was answered with one
    of the options; empty means always shown.
    """

    version = models.ForeignKey(QuestionnaireVersion, verbose_name="问卷版本",
                                on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField("序号")
    code = models.SlugField("题目代码", max_length=40)
    kind = models.CharField("题型", max_length=20, choices=QuestionKind.choices)
    text = models.TextField("题目")
    options = models.JSONField("选项", default=list, blank=True)
    required = models.BooleanField("必答", default=True)
    show_if = models.JSONField("跳题条件", default=dict, blank=True)
    max_choices = models.PositiveIntegerField("最多选几项", null=True, blank=True)

    class Meta:
        verbose_name = "题目"
        verbose_name_plural = "题目"
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="question_code_once"),
            models.UniqueConstraint(fields=["version", "position"], name="question_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"


class IndexDefinition(TimeStampedModel):
    """A definition (口径) of an index, with a version: which question it reads and how its
    answers count (`rule`: the JSON of `surveys.stats.indices.IndexRule`). The same answers can
    be reported under any definition; every figure names the code and version it was made by.
    Built-in definitions have no bureau and are shared."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="index_definitions")
    code = models.SlugField("口径代码", max_length=40)
    version = models.PositiveIntegerField("版本", default=1)
    name = models.CharField("指标名称", max_length=100)
    question_code = models.SlugField("对应题目代码", max_length=40)
    rule = models.JSONField("计算规则")
    note = models.TextField("说明", blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "指数口径"
        verbose_name_plural = "指数口径"
        ordering = ["code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], condition=Q(bureau=None),
                                    name="index_definition_builtin_once"),
            models.UniqueConstraint(fields=["bureau", "code", "version"],
                                    name="index_definition_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.label}）"

    @property
    def label(self) -> str:
        return f"口径 {self.code} v{self.version}"


class Wave(TimeStampedModel):
    """One round of a survey (一期民调): a period, a questionnaire version, quotas per township,
    a sample frame, interviews by phone at the desk and on the web link."""

    class State(models.TextChoices):
        DRAFT = "draft", "准备中"
        FIELDING = "fielding", "调查中"
        CLOSED = "closed", "已结束"

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="survey_waves")
    name = models.CharField("调查名称", max_length=100)
    version = models.ForeignKey(QuestionnaireVersion, verbose_name="问卷版本",
                                on_delete=models.PROTECT, related_name="waves")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.DRAFT)
    web_enabled = models.BooleanField("启用网上自填", default=True)
    max_attempts = models.PositiveIntegerField("每个号码最多拨打次数", default=3)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField("开始调查时间", null=True, blank=True)
    closed_at = models.DateTimeField("结束调查时间", null=True, blank=True)

    class Meta:
        verbose_name = "调查"
        verbose_name_plural = "调查"
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                   name="wave_period_ordered"),
        ]

    def __str__(self) -> str:
        return self.name

    def previous(self) -> Wave | None:
        """The bureau's wave before this one, on the same questionnaire: the one changes are
        measured against."""
        return (Wave.objects.filter(bureau_id=self.bureau_id,
                                    version__questionnaire_id=self.version.questionnaire_id,
                                    ends_on__lt=self.starts_on)
                .exclude(pk=self.pk).order_by("-ends_on", "-id").first())


class Quota(models.Model):
    """The number of completed interviews a wave aims for in a township."""

    wave = models.ForeignKey(Wave, verbose_name="调查", on_delete=models.CASCADE,
                             related_name="quotas")
    area = models.ForeignKey("orgs.Area", verbose_name="乡镇（街道）", on_delete=models.PROTECT,
                             related_name="+")
    target = models.PositiveIntegerField("目标样本量")

    class Meta:
        verbose_name = "配额"
        verbose_name_plural = "配额"
        ordering = ["wave", "area"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "area"], name="quota_once"),
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.target}"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class AgeGroup(models.TextChoices):
    """The age groups of the population totals (seventh census tables by five-year groups,
    folded into these)."""

    A18_29 = "18-29", "18–29岁"
    A30_39 = "30-39", "30–39岁"
    A40_49 = "40-49", "40–49岁"
    A50_59 = "50-59", "50–59岁"
    A60 = "60+", "60岁及以上"


class FrameMember(TimeStampedModel):
    """A number in a wave's sample frame (样本框), and its interviewing: like a callback task it
    is claimed at the desk, called up to `wave.max_attempts` times within call hours, and ends
    with an AAPOR outcome. The number is kept encrypted and shown masked."""

    class Origin(models.TextChoices):
        IMPORTED = "imported", "导入"
        GENERATED = "generated", "随机生成"

    class State(models.TextChoices):
        PENDING = "pending", "待拨打"
        RETRY = "retry", "待重拨"
        DONE = "done", "已完成"
        CLOSED = "closed", "已结案"

    wave = models.ForeignKey(Wave, verbose_name="调查", on_delete=models.CASCADE,
                             related_name="members")
    origin = models.CharField("来源", max_length=20, choices=Origin.choices)
    phone_enc = models.TextField("电话（密文）", editable=False)
    phone_mask = models.CharField("电话", max_length=20, editable=False)
    phone_hash = models.CharField("电话哈希", max_length=64, editable=False)
    area = models.ForeignKey("orgs.Area", verbose_name="乡镇（街道）", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)
    age_group = models.CharField("年龄段", max_length=10, choices=AgeGroup.choices, blank=True)
    import_batch = models.ForeignKey("intake.ImportBatch", verbose_name="导入批次", null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    line = models.PositiveIntegerField("文件行号", null=True, blank=True)

    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField("拨打次数", default=0)
    next_attempt_at = models.DateTimeField("下次拨打时间", null=True, blank=True)
    outcome = models.CharField("AAPOR 结果", max_length=4, blank=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="正在拨打", null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField("领取时间", null=True, blank=True)
    closed_at = models.DateTimeField("完成时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1, editable=False)

    class Meta:
        verbose_name = "样本"
        verbose_name_plural = "样本框"
        ordering = ["wave", "id"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "phone_hash"], name="frame_member_once"),
        ]
        indexes = [
            models.Index(fields=["wave", "state", "next_attempt_at"],
                         name="frame_member_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.phone_mask

    def set_phone(self, phone: str) -> None:
        self.phone_enc = crypto.encrypt(crypto.normalize_phone(phone))
        self.phone_mask = crypto.mask_phone(phone)
        self.phone_hash = crypto.keyed_hash("phone", phone)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_enc)

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.PENDING, self.State.RETRY)


class SurveyAttempt(TimeStampedModel):
    """One call to a frame member, with the disposition code of the callback desk."""

    member = models.ForeignKey(FrameMember, verbose_name="样本", on_delete=models.CASCADE,
                               related_name="survey_attempts")
    number = models.PositiveIntegerField("第几次")
    caller_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="访员",
                                    on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("拨打时间", default=timezone.now)
    disposition = models.CharField("结果代码", max_length=30)
    outcome = models.CharField("AAPOR 结果", max_length=4)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "拨打记录"
        verbose_name_plural = "拨打记录"
        ordering = ["member", "number"]
        constraints = [
            models.UniqueConstraint(fields=["member", "number"], name="survey_attempt_once"),
        ]


class Mode(models.TextChoices):
    PHONE = "phone", "电话访问"
    WEB = "web", "网上自填"


class Response(TimeStampedModel):
    """A completed questionnaire: the answers by question code, and where the respondent lives
    (township, hence station), their sex and age group, which the weights are made from.
    `weight` is the current weight (None until the wave is weighted)."""

    wave = models.ForeignKey(Wave, verbose_name="调查", on_delete=models.CASCADE,
                             related_name="responses")
    member = models.OneToOneField(FrameMember, verbose_name="样本", on_delete=models.PROTECT,
                                  related_name="response")
    mode = models.CharField("方式", max_length=10, choices=Mode.choices)
    answers = models.JSONField("回答", default=dict)
    area = models.ForeignKey("orgs.Area", verbose_name="乡镇（街道）", on_delete=models.PROTECT,
                             related_name="+")
    station = models.ForeignKey("orgs.Unit", verbose_name="辖区派出所", on_delete=models.PROTECT,
                                related_name="+")
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)
    age_group = models.CharField("年龄段", max_length=10, choices=AgeGroup.choices, blank=True)
    interviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="访员", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField("完成时间", default=timezone.now)
    weight = models.FloatField("权重", null=True, blank=True)

    class Meta:
        verbose_name = "答卷"
        verbose_name_plural = "答卷"
        ordering = ["wave", "id"]
        indexes = [models.Index(fields=["wave", "area"], name="response_wave_area_idx")]

    def __str__(self) -> str:
        return f"{self.wave} #{self.pk}"


class WebLink(TimeStampedModel):
    """A self-completion link sent by SMS to a frame member: one use, an expiry, only the
    token's hash kept (as the callback rating links)."""

    member = models.ForeignKey(FrameMember, verbose_name="样本", on_delete=models.CASCADE,
                               related_name="web_links")
    token_hash = models.CharField("链接哈希", max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField("失效时间")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    sms = models.ForeignKey("notifications.SmsMessage", verbose_name="短信", null=True,
                            blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发送人", null=True,
                                blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "自填链接"
        verbose_name_plural = "自填链接"


class PopulationTable(TimeStampedModel):
    """Population totals of a bureau's townships by sex and age group (from the census or the
    household register), the targets the weights are made to."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="population_tables")
    name = models.CharField("名称", max_length=100)
    year = models.PositiveIntegerField("年份")
    source = models.CharField("来源", max_length=200, blank=True)

    class Meta:
        verbose_name = "人口总体"
        verbose_name_plural = "人口总体"
        ordering = ["bureau", "-year", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.year}）"


class PopulationCell(models.Model):
    table = models.ForeignKey(PopulationTable, verbose_name="人口总体", on_delete=models.CASCADE,
                              related_name="cells")
    area = models.ForeignKey("orgs.Area", verbose_name="乡镇（街道）", on_delete=models.PROTECT,
                             related_name="+")
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    age_group = models.CharField("年龄段", max_length=10, choices=AgeGroup.choices)
    count = models.PositiveIntegerField("人数")

    class Meta:
        verbose_name = "人口数"
        verbose_name_plural = "人口数"
        constraints = [
            models.UniqueConstraint(fields=["table", "area", "sex", "age_group"],
                                    name="population_cell_once"),
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.get_sex_display()} {self.get_age_group_display()} {self.count}"


class Weighting(TimeStampedModel):
    """One weighting of a wave: the method, the targets, the trimming bounds and the
    diagnostics it gave. The latest is the current one; its weights are on the responses."""

    class Method(models.TextChoices):
        POSTSTRATIFY = "poststratify", "事后分层（乡镇×性别×年龄段）"
        RAKE = "rake", "迭代加权（乡镇、性别、年龄段三个边际）"

    wave = models.ForeignKey(Wave, verbose_name="调查", on_delete=models.CASCADE,
                             related_name="weightings")
    table = models.ForeignKey(PopulationTable, verbose_name="人口总体", on_delete=models.PROTECT,
                              related_name="+")
    method = models.CharField("方法", max_length=20, choices=Method.choices)
    trim_lower = models.FloatField("权重下限（相对均值）", null=True, blank=True)
    trim_upper = models.FloatField("权重上限（相对均值）", null=True, blank=True)
    diagnostics = models.JSONField("诊断", default=dict)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="执行人",
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "加权"
        verbose_name_plural = "加权"
        ordering = ["wave", "-created_at"]


class Benchmark(TimeStampedModel):
    """A published figure to compare with (the province's or the city's average of an index in
    a year), entered by hand."""

    bureau = models.ForeignKey("orgs.Unit", verbose_name="所属公安局", on_delete=models.PROTECT,
                               related_name="survey_benchmarks")
    index_code = models.SlugField("口径代码", max_length=40)
    label = models.CharField("比较对象", max_length=50, help_text="如：全省平均、全市平均")
    year = models.PositiveIntegerField("年份")
    value = models.DecimalField("数值（%或分）", max_digits=6, decimal_places=2)
    source = models.CharField("出处", max_length=200, blank=True)

    class Meta:
        verbose_name = "比较基准"
        verbose_name_plural = "比较基准"
        ordering = ["bureau", "-year", "index_code", "label"]
        constraints = [
            models.UniqueConstraint(fields=["bureau", "index_code", "label", "year"],
                                    name="benchmark_once"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.label} {self.index_code} {self.value}"
