"""The national hierarchy (ministry → provinces → prefectures → counties) and the school registry.

Administrative codes are hierarchical by prefix (34 → 3402 → 340207), so a unit's jurisdiction is the set of codes
starting with its ``prefix``: the ministry's prefix is empty, a province's is two digits, a prefecture's four and a
county's six. Every scoped query filters on that prefix (see ``youjun.web.accounts.scoping``).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from youjun.contract import OWNERSHIP, SCHOOL_TYPES, URBAN_RURAL


class Level(models.TextChoices):
    MINISTRY = "ministry", "教育部"
    PROVINCE = "province", "省级"
    PREFECTURE = "prefecture", "地市级"
    COUNTY = "county", "县级"


PREFIX_LENGTH = {Level.MINISTRY: 0, Level.PROVINCE: 2, Level.PREFECTURE: 4, Level.COUNTY: 6}
MINISTRY_CODE = "000000"


class OrgUnit(models.Model):
    code = models.CharField("行政区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")
    prefix = models.CharField("辖区代码前缀", max_length=6, db_index=True, editable=False)
    province_name = models.CharField("所属省份", max_length=64, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "行政单位"
        verbose_name_plural = "行政单位"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.prefix = self.code[: PREFIX_LENGTH[Level(self.level)]]
        super().save(*args, **kwargs)

    def contains(self, code: str) -> bool:
        """Whether an administrative code lies in this unit's jurisdiction."""
        return code.startswith(self.prefix)

    @property
    def full_name(self) -> str:
        if self.level in (Level.MINISTRY, Level.PROVINCE) or not self.province_name:
            return self.name
        return f"{self.province_name}{self.name}"


class School(models.Model):
    """A school (or independent campus) in the registry. Annual data live in ``collection.SchoolRecord``; registry
    changes are dated by year, so the records of past years stay as they were."""

    school_id = models.CharField("学校标识码", max_length=32, unique=True)
    name = models.CharField("学校名称", max_length=128)
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="schools", verbose_name="所属县（区）")
    school_type = models.CharField("办学类型", max_length=16)
    ownership = models.CharField("举办者", max_length=8)
    urban_rural = models.CharField("城乡分类", max_length=8)
    opened_year = models.PositiveIntegerField("设立年度", null=True, blank=True)
    closed_year = models.PositiveIntegerField("撤销年度", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="merged_from", verbose_name="并入学校"
    )

    class Meta:
        ordering = ["county__code", "school_id"]
        verbose_name = "学校"
        verbose_name_plural = "学校"
        # The enumerations of the workbook, held by the database too (SQLite would otherwise store any text).
        constraints = [
            models.CheckConstraint(condition=models.Q(school_type__in=SCHOOL_TYPES), name="school_type_known"),
            models.CheckConstraint(condition=models.Q(ownership__in=OWNERSHIP), name="school_ownership_known"),
            models.CheckConstraint(condition=models.Q(urban_rural__in=URBAN_RURAL), name="school_urban_rural_known"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.school_id}）"

    def active_in(self, year: int) -> bool:
        return (self.opened_year is None or self.opened_year <= year) and (
            self.closed_year is None or year < self.closed_year
        )
