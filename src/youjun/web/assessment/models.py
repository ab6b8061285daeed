"""What the county and its reviewers record for the full assessment (standard-2017.md §4–8).

- ``CountyInputs``: the county's ``县级指标`` values of a year (keys of ``COUNTY_COLUMNS``), versioned so that two
  people editing at once cannot overwrite each other; every change is an ``InputChange`` (who, when, old → new, why).
- ``Evidence``: a file the county (or a reviewer, for a veto) uploaded for an item; stored under a random name.
- ``Review``: a reviewer's verdict on an evidence item; the latest one feeds the item's ``*_verdict`` column.
- ``VetoFinding``: a reviewer's finding on a veto V1–V6; the latest one feeds ``v1_finding``…``v6_finding``.

Reviews and findings are never edited: a new one supersedes the previous, so the history is the table itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from youjun.web.organisation.models import OrgUnit

#: Items whose judgement rests on documents (standard-2017.md §4–5); Q3 is judged per school, evidence supports it.
EVIDENCE_ITEMS = ("G1", "G2", "G10", "G14", "G15", "Q3", "Q5", "Q7", "Q8")
VETO_ITEMS = ("V1", "V2", "V3", "V4", "V5", "V6")
#: The county-sheet column each reviewed item feeds (Q3 has none: it is computed from school data).
VERDICT_COLUMNS = {code: f"{code.lower()}_verdict" for code in EVIDENCE_ITEMS if code != "Q3"}
FINDING_COLUMNS = {code: f"{code.lower()}_finding" for code in VETO_ITEMS}
ITEM_CHOICES = [(c, c) for c in (*EVIDENCE_ITEMS, *VETO_ITEMS)]


class Verdict(models.TextChoices):
    MET = "达标", "达标"
    NOT_MET = "不达标", "不达标"
    PENDING = "待补充", "待补充"


class Found(models.TextChoices):
    ABSENT = "不存在", "不存在"
    PRESENT = "存在", "存在"


class FindingSource(models.TextChoices):
    INSPECTION = "督导检查", "督导检查"
    PETITION = "信访举报", "信访举报"
    MEDIA = "媒体报道", "媒体报道"
    DATA_CHECK = "数据核查", "数据核查"
    OTHER = "其他", "其他"


class CountyInputs(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="assessment_inputs", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    values = models.JSONField("县级指标", default=dict)
    version = models.PositiveIntegerField("版本", default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="最后修改人"
    )
    updated_at = models.DateTimeField("最后修改时间", auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="one_inputs_per_county_year")]
        verbose_name = "县级指标"
        verbose_name_plural = "县级指标"


class InputChange(models.Model):
    inputs = models.ForeignKey(CountyInputs, models.CASCADE, related_name="changes")
    field = models.CharField("字段", max_length=64)
    old = models.JSONField("原值", null=True)
    new = models.JSONField("新值", null=True)
    reason = models.TextField("原因", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]


class Evidence(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="evidence", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    item = models.CharField("指标", max_length=4, choices=ITEM_CHOICES)
    original_name = models.CharField("文件名", max_length=255)
    stored_name = models.CharField("存储名", max_length=64, unique=True)
    content_type = models.CharField("文件类型", max_length=128)
    size = models.PositiveBigIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    #: A deleted file leaves its row (who deleted it, when) so the audit trail stays whole; the bytes are removed.
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "uploaded_at", "pk"]
        indexes = [models.Index(fields=["county", "year", "item"])]
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"


class Review(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    item = models.CharField("指标", max_length=4, choices=ITEM_CHOICES)
    verdict = models.CharField("审核结论", max_length=8, choices=Verdict.choices)
    comment = models.TextField("审核意见", blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["county", "year", "item"])]


class VetoFinding(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    code = models.CharField("否决事项", max_length=4, choices=[(c, c) for c in VETO_ITEMS])
    found = models.CharField("核查结论", max_length=8, choices=Found.choices)
    evidence = models.TextField("核查情况", blank=True)
    source = models.CharField("线索来源", max_length=8, choices=FindingSource.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["county", "year", "code"])]
