from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

from minyi.core.models import TimeStampedModel


class TreeNode(TimeStampedModel):
    """A node of a tree kept as a materialised path ("00000001.00000004.").

    A subtree is one indexed prefix query, which is what access checks ask on every request.
    """

    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("路径", max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField("层级", default=0, editable=False)

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if self.pk is not None and self.parent_id is not None:
            ancestor = self.parent
            while ancestor is not None:
                if ancestor.pk == self.pk:
                    raise ValidationError({"parent": "上级不能是自己或自己的下级"})
                ancestor = ancestor.parent

    def _path_for(self) -> str:
        prefix = self.parent.path if self.parent_id else ""
        return f"{prefix}{self.pk:08d}."

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            old_path = self.path
            super().save(*args, **kwargs)
            new_path = self._path_for()
            if new_path != old_path:
                new_depth = new_path.count(".") - 1
                type(self)._default_manager.filter(pk=self.pk).update(
                    path=new_path, depth=new_depth
                )
                if old_path:
                    # A move: the subtree follows its root.
                    for node in type(self)._default_manager.filter(
                        path__startswith=old_path
                    ).exclude(pk=self.pk):
                        moved = new_path + node.path[len(old_path):]
                        type(self)._default_manager.filter(pk=node.pk).update(
                            path=moved, depth=moved.count(".") - 1
                        )
                self.path, self.depth = new_path, new_depth

    def is_descendant_of(self, other: TreeNode) -> bool:
        return self.path.startswith(other.path)

    def ancestors(self) -> models.QuerySet:
        """From the root down to the parent."""
        pks = [int(part) for part in self.path.split(".") if part][:-1]
        return type(self)._default_manager.filter(pk__in=pks).order_by("depth")

    def descendants(self, include_self: bool = True) -> models.QuerySet:
        qs = type(self)._default_manager.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)


class Unit(TreeNode):
    """A unit of the bureau: the bureau itself, the command centre, an office, a squad, a
    police station, a team."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", "公安局"
        SUB_BUREAU = "sub_bureau", "分局"
        COMMAND_CENTRE = "command_centre", "指挥中心"
        OFFICE = "office", "科室"
        SQUAD = "squad", "大队"
        STATION = "station", "派出所"
        TEAM = "team", "中队"

    code = models.CharField("单位代码", max_length=32, unique=True)
    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=30, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    phone = models.CharField("值班电话", max_length=30, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.short_name or self.name

    def bureau(self) -> Unit:
        """The nearest bureau or sub-bureau at or above this unit (the tree's root failing that)."""
        chain = [*self.ancestors(), self]
        for unit in reversed(chain):
            if unit.kind in (Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU):
                return unit
        return chain[0]


class Area(TreeNode):
    """A township or street, and the villages and communities in it.

    Every area lies in one police station's jurisdiction (辖区), which decides who may see the
    orders and callbacks of the people living there.
    """

    class Kind(models.TextChoices):
        TOWNSHIP = "township", "镇"
        STREET = "street", "街道"
        VILLAGE = "village", "村"
        COMMUNITY = "community", "社区"

    code = models.CharField("区划代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    station = models.ForeignKey(
        Unit, verbose_name="辖区派出所", on_delete=models.PROTECT, related_name="areas",
        limit_choices_to={"kind": Unit.Kind.STATION},
    )
    population = models.PositiveIntegerField("常住人口", null=True, blank=True)

    class Meta:
        verbose_name = "区域"
        verbose_name_plural = "区域"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.station_id and self.station.kind != Unit.Kind.STATION:
            raise ValidationError({"station": "辖区单位必须是派出所"})
        top_level = self.kind in (Area.Kind.TOWNSHIP, Area.Kind.STREET)
        if top_level and self.parent_id:
            raise ValidationError({"parent": "乡镇、街道是最上一级区域，不能有上级"})
        if not top_level and not self.parent_id:
            raise ValidationError({"parent": "村、社区必须属于一个乡镇或街道"})


class Role(models.TextChoices):
    BUREAU_LEADER = "bureau_leader", "局领导"
    DISPATCHER = "dispatcher", "指挥调度员"
    OPINION_OFFICER = "opinion_officer", "民意专员"
    INSPECTOR = "inspector", "督察"
    LEGAL_REVIEWER = "legal_reviewer", "法制审核员"
    UNIT_HANDLER = "unit_handler", "承办民警"
    UNIT_HEAD = "unit_head", "单位负责人"
    ADMINISTRATOR = "administrator", "系统管理员"


class User(AbstractUser):
    """A police officer or staff member who logs in. The username is the login name (警号 or
    pinyin); `full_name` is the Chinese name as written."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    police_number = models.CharField("警号", max_length=20, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_username()

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class Membership(TimeStampedModel):
    """A user's role in a unit. A user may hold several (a station head who also reviews)."""

    user = models.ForeignKey(
        User, verbose_name="用户", on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField("角色", max_length=30, choices=Role.choices)
    title = models.CharField("职务", max_length=50, blank=True)
    is_primary = models.BooleanField("主要岗位", default=True)

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], name="membership_unique_user_unit_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"
