"""The creation programme of the 2021 notice (programme.md §2): batches, nominations, pilots' plans and progress.

Every state change goes through ``services`` and leaves an ``AuditEntry`` (actor, time, reason); pages only read.
Objects are placed in the hierarchy by their county or province code, so ``accounts.scoping`` decides who sees them.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from youjun.web.organisation.models import OrgUnit


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    OPEN = "open", "推荐中"
    CLOSED = "closed", "推荐截止"
    PUBLISHED = "published", "名单已公布"


class Batch(models.Model):
    """A creation batch (创建批次). Quota, deadline and conditions are settings of the batch, not code."""

    number = models.PositiveIntegerField("批次", unique=True)
    name = models.CharField("名称", max_length=100)
    year = models.PositiveIntegerField("批次年度")
    deadline = models.DateTimeField("推荐截止时间")
    quota_min = models.PositiveIntegerField("每省推荐下限", default=3)
    quota_max = models.PositiveIntegerField("每省推荐上限", default=5)
    min_years = models.PositiveIntegerField("通过基本均衡认定至少年数", default=3)
    conditions = models.JSONField("其他条件设置", default=dict, blank=True)
    status = models.CharField("状态", max_length=16, choices=BatchStatus.choices, default=BatchStatus.DRAFT)
    published_on = models.DateField("名单公布日期", null=True, blank=True)
    created_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=BatchStatus.values), name="batch_status_known")
        ]
        verbose_name = "创建批次"
        verbose_name_plural = "创建批次"

    def __str__(self) -> str:
        return self.name


class Extension(models.Model):
    """A later nomination deadline the ministry granted one province for one batch."""

    batch = models.ForeignKey(Batch, models.CASCADE, related_name="extensions")
    province = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+")
    deadline = models.DateTimeField("延期至")
    reason = models.CharField("理由", max_length=500, blank=True)
    granted_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "province"], name="one_extension_per_province")]


class ProvinceSubmission(models.Model):
    """The province's signed-off set of nominations for a batch (one per batch and province), with the stamped
    letter (盖章扫描件) it was sent under."""

    batch = models.ForeignKey(Batch, models.CASCADE, related_name="submissions")
    province = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+")
    signatory = models.CharField("签发人", max_length=64)
    letter = models.ForeignKey(
        "Attachment", models.PROTECT, null=True, blank=True, related_name="+", verbose_name="盖章扫描件"
    )
    submitted_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField("报送时间", auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "province"], name="one_submission_per_province")]


class NominationStatus(models.TextChoices):
    DRAFT = "draft", "填写中"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回修改"
    CONFIRMED = "confirmed", "已确认"
    REJECTED = "rejected", "不予确认"
    WITHDRAWN = "withdrawn", "已撤回"


class Verdict(models.TextChoices):
    PENDING = "pending", "待审核"
    MET = "met", "符合"
    NOT_MET = "not_met", "不符合"


class Nomination(models.Model):
    """One county recommended by its province, with the recommendation form (推荐表) values.

    ``form_id``/``form_version`` name the definition the values were entered under, so a later definition change
    never re-reads old values under a different meaning.
    """

    batch = models.ForeignKey(Batch, models.PROTECT, related_name="nominations")
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="nominations", verbose_name="县（区）")
    province = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=16, choices=NominationStatus.choices, default=NominationStatus.DRAFT)
    form_id = models.CharField("推荐表定义", max_length=64)
    form_version = models.CharField("推荐表版本", max_length=32)
    values = models.JSONField("推荐表内容", default=dict)
    #: Keys of the values the data supplied when the county was nominated (shown, not edited by the province). The
    #: basic-balance year and what follows from it are never stored here: see ``recommendation.LIVE_SOURCES``.
    data_keys = models.JSONField("来自数据的字段", default=list, blank=True)
    condition1 = models.CharField("条件一核定", max_length=16, choices=Verdict.choices, default=Verdict.PENDING)
    condition3 = models.CharField("条件三核定", max_length=16, choices=Verdict.choices, default=Verdict.PENDING)
    reason = models.CharField("退回或不通过理由", max_length=1000, blank=True)
    created_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["province__code", "county__code"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "county"], name="one_nomination_per_county"),
            models.CheckConstraint(
                condition=models.Q(status__in=NominationStatus.values), name="nomination_status_known"
            ),
        ]
        verbose_name = "先行创建县推荐"
        verbose_name_plural = "先行创建县推荐"

    def __str__(self) -> str:
        return f"{self.county.full_name}（{self.batch.name}）"


class AttachmentKind(models.TextChoices):
    CONDITION_1 = "condition_1", "条件一（党委政府重视）佐证材料"
    CONDITION_3 = "condition_3", "条件三（良好教育生态）佐证材料"
    LETTER = "letter", "推荐文件盖章扫描件"


class Attachment(models.Model):
    """A file the notice asks for: evidence of conditions 1 and 3 on a nomination, or the province's stamped letter.

    Checked and stored like the assessment's evidence (``assessment.uploads``: allow-list, content sniffing, size
    and archive limits, random stored name under ``YOUJUN_EVIDENCE_DIR``). ``unit`` places it for scoping: the county
    of a nomination's evidence, the province of a letter. A deleted file leaves its row (who, when).
    """

    kind = models.CharField("类别", max_length=16, choices=AttachmentKind.choices)
    batch = models.ForeignKey(Batch, models.PROTECT, related_name="attachments")
    nomination = models.ForeignKey(Nomination, models.PROTECT, null=True, blank=True, related_name="attachments")
    unit = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+")
    original_name = models.CharField("文件名", max_length=255)
    stored_name = models.CharField("存储名", max_length=64, unique=True)
    content_type = models.CharField("文件类型", max_length=128)
    size = models.PositiveBigIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    deleted_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=AttachmentKind.values), name="attachment_kind_known"),
            models.CheckConstraint(
                condition=models.Q(kind=AttachmentKind.LETTER, nomination__isnull=True)
                | (~models.Q(kind=AttachmentKind.LETTER) & models.Q(nomination__isnull=False)),
                name="attachment_belongs_to_its_kind",
            ),
        ]
        verbose_name = "附件"
        verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.original_name


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "编制中"
    SUBMITTED = "submitted", "已报省级审核"
    RETURNED = "returned", "已退回修改"
    ACCEPTED = "accepted", "省级已审核通过"


class Plan(models.Model):
    """A pilot county's implementation plan (创建工作实施方案)."""

    nomination = models.OneToOneField(Nomination, models.CASCADE, related_name="plan")
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    target_year = models.PositiveIntegerField("申请国家认定目标年份", null=True, blank=True)
    #: {"R1": {"2025": 5.8, "2026": 6.0}, "units_share": {...}}: targets per indicator and year.
    targets = models.JSONField("指标目标", default=dict, blank=True)
    items = models.JSONField("攻坚清单选项", default=list, blank=True)
    summary = models.TextField("主要举措", blank=True)
    reason = models.CharField("退回理由", max_length=1000, blank=True)
    #: The planner's scenario the targets and tasks were adopted from: {"scenario", "name", "year", "cost", …}.
    adopted = models.JSONField("采用的规划方案", default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=PlanStatus.values), name="plan_status_known")
        ]


class TaskStatus(models.TextChoices):
    PLANNED = "planned", "未开始"
    ACTIVE = "active", "推进中"
    DONE = "done", "已完成"
    DELAYED = "delayed", "滞后"


class PlanTask(models.Model):
    """A task of a plan: one of the basic tasks B1–B4, a tackling item, or the county's own."""

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="tasks")
    code = models.CharField("任务编号", max_length=8, blank=True)
    title = models.CharField("任务", max_length=200)
    owner = models.CharField("责任单位", max_length=100, blank=True)
    milestone = models.DateField("节点时间", null=True, blank=True)
    evidence = models.TextField("佐证材料（说明或链接）", blank=True)
    status = models.CharField("进展", max_length=16, choices=TaskStatus.choices, default=TaskStatus.PLANNED)
    #: A task of an adopted plan: its school and cost (元); ``source`` "planner" marks the tasks a new adoption
    #: replaces (the county's own tasks stay).
    school_id = models.CharField("学校标识码", max_length=32, blank=True)
    cost = models.DecimalField("费用（元）", max_digits=16, decimal_places=0, null=True, blank=True)
    source = models.CharField("来源", max_length=16, blank=True)

    class Meta:
        ordering = ["code", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=TaskStatus.values), name="task_status_known")
        ]


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "填写中"
    SUBMITTED = "submitted", "已报省"
    RETURNED = "returned", "已退回修改"
    FORWARDED = "forwarded", "已报教育部"


class ProgressReport(models.Model):
    """A periodic progress report of a pilot (county → province → ministry)."""

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="reports")
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+")
    period = models.CharField("报告期", max_length=40)
    status = models.CharField("状态", max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    summary = models.TextField("总体进展", blank=True)
    #: {task pk (str): {"status": ..., "note": ...}} at the time of the report.
    task_status = models.JSONField("任务进展", default=dict, blank=True)
    reason = models.CharField("退回理由", max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ReportStatus.values), name="report_status_known")
        ]


class Experience(models.Model):
    """An experience write-up on one tackling item; the ministry may publish it as a typical experience (典型经验)."""

    report = models.ForeignKey(ProgressReport, models.CASCADE, related_name="experiences")
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+")
    item = models.CharField("攻坚清单项", max_length=8)
    title = models.CharField("标题", max_length=200)
    text = models.TextField("经验做法")
    published = models.BooleanField("已发布为典型经验", default=False)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "-pk"]


class Notification(models.Model):
    """An in-app notice to one user; ``key`` makes reminders idempotent (one per user and event).

    ``done_at`` is set when the action the notice asks for has been done (by anyone), so that the notice leaves the
    user's open list although nobody clicked it; ``read`` only says the user has seen it.
    """

    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, models.CASCADE, related_name="programme_notifications")
    key = models.CharField(max_length=80)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)
    done_at = models.DateTimeField("已办理时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_notification_per_event")]


#: The state names of each audited kind, for the history shown on an object's page.
STATES: dict[str, type[models.TextChoices]] = {
    "batch": BatchStatus,
    "nomination": NominationStatus,
    "plan": PlanStatus,
    "report": ReportStatus,
}
