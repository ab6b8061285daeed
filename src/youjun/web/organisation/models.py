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
#: Prefecture-level placeholders of GB/T 2260 (divisions README, convention 2): not places, never part of a name.
PLACEHOLDER_PREFECTURES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
#: The placeholders of the four municipalities, where the municipality itself stands for the prefecture.
MUNICIPAL_PLACEHOLDERS = frozenset({"市辖区", "县"})


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
        """The unit's complete name for a heading or a document title: 安徽省芜湖市鸠江区, 安徽省芜湖市, 安徽省 (a
        county with its prefecture, decision 49; reads ``parent`` for a county)."""
        if self.level in (Level.MINISTRY, Level.PROVINCE) or not self.province_name:
            return self.name
        if self.level == Level.COUNTY:
            return self.national_name
        return f"{self.province_name}{self.name}"

    @property
    def local_name(self) -> str:
        """A county with its prefecture, as it is written inside its province: 芜湖市鸠江区; under a placeholder the
        municipality (北京市东城区) or nothing (济源市); a county named after its city once (东莞市). Other units: the
        name. Reads ``parent``: lists select it (``select_related("county__parent")``)."""
        if self.level != Level.COUNTY or self.parent_id is None:
            return self.name
        above = self.parent.name if self.parent is not None else ""
        if above in MUNICIPAL_PLACEHOLDERS:
            above = self.province_name
        elif above in PLACEHOLDER_PREFECTURES:
            above = ""
        return self.name if not above or self.name.startswith(above) else above + self.name

    @property
    def national_name(self) -> str:
        """The unit as written on a page that spans provinces: 安徽省芜湖市鸠江区, 北京市东城区, 安徽省芜湖市."""
        local = self.local_name
        if self.level in (Level.MINISTRY, Level.PROVINCE) or not self.province_name:
            return local
        return local if local.startswith(self.province_name) else self.province_name + local


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


#: The basic-balance recognitions began under the 2012 method (教督〔2012〕3号).
FIRST_BASIC_BALANCE_YEAR = 2012


class BasicBalance(models.Model):
    """The year a county passed the national basic-balance recognition (国家义务教育基本均衡发展督导评估认定).

    The one record of it: the province keeps it (programme pages, audited), the programme's condition 2 and the
    assessment's eligibility read it through ``organisation.selectors.basic_balance_year``.
    """

    county = models.OneToOneField(OrgUnit, models.CASCADE, related_name="basic_balance", verbose_name="县（区）")
    year = models.PositiveIntegerField("通过国家基本均衡认定年份")
    document = models.CharField("认定文件", max_length=200, blank=True)
    updated_at = models.DateTimeField("最后修改时间", auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(year__gte=FIRST_BASIC_BALANCE_YEAR, year__lte=2100), name="basic_balance_year_range"
            )
        ]
        verbose_name = "基本均衡认定"
        verbose_name_plural = "基本均衡认定"

    def __str__(self) -> str:
        return f"{self.county.name} {self.year} 年"
