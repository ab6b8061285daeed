"""Rounds of the national recognition and of re-checks, the counties' cases in them, what each step recorded, the
findings to rectify, the files kept with a case, and the experts assigned to counties.

A case follows the procedure file its round names (``youjun.standards.procedures``): ``step`` is the key of the step
it waits at, ``state`` ``open`` until an outcome ends it. Every move is one conditional UPDATE on ``version``
(``youjun.web.workflow.advance``) inside the transaction that writes its ``StepRecord`` and its audit row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from youjun.standards.procedures import FINAL_STATES, PROCEDURE_KINDS
from youjun.web.organisation.models import OrgUnit


class RoundStatus(models.TextChoices):
    OPEN = "open", "进行中"
    PUBLISHED = "published", "名单已公布"


class Round(models.Model):
    """One year's national recognition (认定批次) or re-check round, under one procedure file."""

    kind = models.CharField("类别", max_length=16, choices=list(PROCEDURE_KINDS.items()))
    year = models.PositiveSmallIntegerField("年度")
    procedure = models.CharField("程序文件", max_length=60)
    name = models.CharField("名称", max_length=100)
    status = models.CharField("状态", max_length=16, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    document_number = models.CharField("认定文件文号", max_length=60, blank=True)
    document_date = models.DateField("发文日期", null=True, blank=True)
    published_at = models.DateTimeField("公布时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-year", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="one_round_per_kind_and_year"),
            models.CheckConstraint(condition=models.Q(status__in=RoundStatus.values), name="round_status_known"),
        ]
        verbose_name = "认定批次"
        verbose_name_plural = "认定批次"

    def __str__(self) -> str:
        return self.name


class CaseState(models.TextChoices):
    OPEN = "open", "办理中"
    RECOGNISED = "recognised", FINAL_STATES["recognised"]
    NOT_RECOGNISED = "not_recognised", FINAL_STATES["not_recognised"]
    WITHDRAWN = "withdrawn", FINAL_STATES["withdrawn"]
    MAINTAINED = "maintained", FINAL_STATES["maintained"]
    RECTIFY = "rectify", FINAL_STATES["rectify"]
    REVOKED = "revoked", FINAL_STATES["revoked"]


class Case(models.Model):
    """One county in a round: its application (or re-check) from the county's first step to the decision."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="cases")
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="recognition_cases", verbose_name="县（区）")
    step = models.CharField("当前环节", max_length=40)
    state = models.CharField("状态", max_length=16, choices=CaseState.choices, default=CaseState.OPEN)
    #: The data year the county applied with (the latest year with a stored result at the first submission).
    data_year = models.PositiveSmallIntegerField("数据年度", null=True, blank=True)
    #: Drafts of the current and past steps' records: {step key: {...}} (opinions, results, item comments, schools).
    work = models.JSONField("环节记录", default=dict, blank=True)
    #: A re-check ended in 「限期整改」: the date by which the county has to have rectified.
    deadline = models.DateField("整改期限", null=True, blank=True)
    decided_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["county__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "county"], name="one_case_per_round_and_county"),
            models.CheckConstraint(condition=models.Q(state__in=CaseState.values), name="case_state_known"),
        ]
        verbose_name = "认定申请"
        verbose_name_plural = "认定申请"

    def __str__(self) -> str:
        return f"{self.county.name}（{self.round.name}）"


class Snapshot(models.Model):
    """The county's data and result frozen at a submission; a resubmission after a return adds a new one, the old
    ones stay. ``sha256`` is over the canonical JSON of ``data``."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="snapshots")
    year = models.PositiveSmallIntegerField("数据年度")
    data = models.JSONField("数据与评估结果")
    sha256 = models.CharField(max_length=64)
    taken_at = models.DateTimeField(auto_now_add=True)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-taken_at", "-pk"]


class StepRecord(models.Model):
    """The outcome of one step: who, when, which outcome, the reason and the step's record as it stood."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="records")
    step = models.CharField("环节", max_length=40)
    outcome = models.CharField("结果", max_length=40)
    reason = models.TextField("意见或理由", blank=True)
    data = models.JSONField("环节记录", default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]


class FileKind(models.TextChoices):
    REPORT = "report", "自评报告"
    FORM_DOCX = "form_docx", "申报表（Word）"
    FORM_XLSX = "form_xlsx", "申报表（Excel）"
    EVIDENCE = "evidence", "佐证材料"
    ON_SITE = "on_site", "实地核查记录"
    FINDING = "finding", "问题佐证"
    RECTIFICATION = "rectification", "整改佐证"


class CaseFile(models.Model):
    """A file kept with a case: the documents generated at submission and the files uploaded at its steps (checked
    and stored as the assessment's evidence is)."""

    case = models.ForeignKey(Case, models.PROTECT, related_name="files")
    kind = models.CharField("类别", max_length=16, choices=FileKind.choices)
    step = models.CharField("环节", max_length=40, blank=True)
    finding = models.ForeignKey("Finding", models.PROTECT, null=True, blank=True, related_name="files")
    snapshot = models.ForeignKey(Snapshot, models.PROTECT, null=True, blank=True, related_name="files")
    original_name = models.CharField("文件名", max_length=255)
    stored_name = models.CharField("存储名", max_length=64, unique=True)
    content_type = models.CharField("文件类型", max_length=128)
    size = models.PositiveBigIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=FileKind.values), name="case_file_kind_known")
        ]


class FindingStatus(models.TextChoices):
    OPEN = "open", "待整改"
    SUBMITTED = "submitted", "整改待核验"
    VERIFIED = "verified", "整改已核验"


class Finding(models.Model):
    """A problem found at a step (问题清单), rectified by the county and verified by the level that raised it."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="findings")
    step = models.CharField("发现环节", max_length=40)
    raised_by = models.CharField("提出层级", max_length=16)  # an actor key of the procedures
    indicator = models.CharField("涉及指标", max_length=8, blank=True)
    school_id = models.CharField("涉及学校", max_length=40, blank=True)
    text = models.TextField("问题描述")
    responsible = models.CharField("责任单位", max_length=100, blank=True)
    deadline = models.DateField("整改期限")
    measures = models.TextField("整改措施", blank=True)
    status = models.CharField("状态", max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    verification = models.TextField("核验意见", blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["deadline", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=FindingStatus.values), name="finding_status_known")
        ]


class Assignment(models.Model):
    """An expert assigned to one case: the expert sees and acts on that case only."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="recognition_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "expert"], name="one_assignment_per_expert")]


#: The state names of each audited kind, for the history shown on an object's page.
STATES: dict[str, type[models.TextChoices]] = {
    "recognition_round": RoundStatus,
    "recognition_case": CaseState,
    "recognition_finding": FindingStatus,
}
