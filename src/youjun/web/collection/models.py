"""Annual data collection: a collection year with its window, one record per school and year, the county's
submission upward, and an audit trail of every value change and every workflow transition."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from youjun.web.organisation.models import OrgUnit, School


class CollectionYear(models.Model):
    """A collection year opened by the ministry (whole country) or a province (its counties), with a window."""

    year = models.PositiveIntegerField("统计年度")
    scope = models.ForeignKey(OrgUnit, models.PROTECT, related_name="collection_years", verbose_name="开放范围")
    opens_at = models.DateTimeField("开始时间")
    closes_at = models.DateTimeField("截止时间")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="开放人")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "scope__code"]
        constraints = [models.UniqueConstraint(fields=["year", "scope"], name="one_collection_per_scope_year")]
        verbose_name = "采集年度"
        verbose_name_plural = "采集年度"

    def __str__(self) -> str:
        return f"{self.year} 年度（{self.scope.name}）"


class RecordStatus(models.TextChoices):
    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "已提交待审核"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已审核（锁定）"


class SchoolRecord(models.Model):
    """One school's annual data: ``values`` holds the workbook columns by English key (typed JSON)."""

    school = models.ForeignKey(School, models.PROTECT, related_name="records", verbose_name="学校")
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="school_records", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    #: The school's name in this year (decision 32): a later rename in the registry never rewrites it. The other
    #: attributes of the year (type, ownership, urban/rural) are in ``values``.
    school_name = models.CharField("学校名称（当年）", max_length=128, blank=True, default="")
    values = models.JSONField("数据", default=dict)
    explanations = models.JSONField("提醒说明", default=dict, blank=True)
    status = models.CharField("状态", max_length=16, choices=RecordStatus.choices, default=RecordStatus.DRAFT)
    version = models.PositiveIntegerField("版本", default=1)
    return_reason = models.TextField("退回原因", blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="最后修改人"
    )
    updated_at = models.DateTimeField("最后修改时间", auto_now=True)

    class Meta:
        ordering = ["county__code", "school__school_id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year"], name="one_record_per_school_year"),
            models.CheckConstraint(condition=models.Q(status__in=RecordStatus.values), name="record_status_known"),
        ]
        indexes = [
            models.Index(fields=["county", "year"]),
            # The overviews count a year's records by county and status, the batch recompute reads a year's
            # approved ones: from this index alone (the rows carry ~1.5 KB of values each).
            models.Index(fields=["year", "status", "county"], name="record_year_status_county"),
        ]
        verbose_name = "学校年度数据"
        verbose_name_plural = "学校年度数据"

    def __str__(self) -> str:
        return f"{self.name} {self.year}"

    @property
    def name(self) -> str:
        """The school's name in the record's year (the registry's current name for records made before 2026)."""
        return self.school_name or self.school.name

    @property
    def locked(self) -> bool:
        return self.status == RecordStatus.APPROVED


class SubmissionStatus(models.TextChoices):
    OPEN = "open", "县级审核中"
    SUBMITTED = "submitted", "已报送待上级审核"
    RETURNED = "returned", "上级已退回"
    ACCEPTED = "accepted", "上级已接收"


class CountySubmission(models.Model):
    """The county's year as a whole, submitted upward once every school record is approved."""

    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="submissions", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    status = models.CharField("状态", max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.OPEN)
    reason = models.TextField("原因", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="one_submission_per_county_year"),
            models.CheckConstraint(
                condition=models.Q(status__in=SubmissionStatus.values), name="submission_status_known"
            ),
        ]
        verbose_name = "县级报送"
        verbose_name_plural = "县级报送"


class ValueChange(models.Model):
    """Who changed which value of a school record, when, from what to what, and why."""

    record = models.ForeignKey(SchoolRecord, models.CASCADE, related_name="changes")
    field = models.CharField("字段", max_length=64)
    old = models.JSONField("原值", null=True)
    new = models.JSONField("新值", null=True)
    reason = models.TextField("原因", blank=True)
    source = models.CharField("来源", max_length=16, default="form")  # form | upload | county-upload
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "field"]
