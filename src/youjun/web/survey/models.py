"""Survey campaigns, their links (single-use tokens and open QR links) and the anonymous responses.

The database enforces the two "only once" rules, so no race between requests can break them:

* a single-use link has at most one response: unique ``link`` among responses of channel ``single``;
* an open link accepts one response per device per campaign: unique (``campaign``, ``device``) among responses of
  channel ``open`` (``device`` is the keyed hash of the signed device cookie).

No respondent is identified: device ids and IP addresses are stored only as keyed hashes (HMAC with the secret key).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from youjun.web.organisation.models import OrgUnit, School

TOKEN_BYTES = 24  # 192 bits, url-safe base64: 32 characters


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    OPEN = "open", "调查中"
    CLOSED = "closed", "已结束"


class Campaign(models.Model):
    """One county's survey of a year. ``questionnaire`` is the frozen snapshot (see ``questionnaires.snapshot``)."""

    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="survey_campaigns", verbose_name="县（区）")
    year = models.PositiveIntegerField("年度")
    title = models.CharField("调查名称", max_length=128)
    questionnaire = models.JSONField("问卷快照")
    population = models.PositiveIntegerField("常住人口", null=True, blank=True)
    quotas = models.JSONField("各类对象样本数", default=dict)
    status = models.CharField("状态", max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    opens_at = models.DateTimeField("计划开始", null=True, blank=True)
    closes_at = models.DateTimeField("计划结束", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="开始人"
    )
    opened_at = models.DateTimeField("开始时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="结束人"
    )
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        ordering = ["county__code", "-year", "-id"]
        indexes = [models.Index(fields=["county", "year"])]
        verbose_name = "社会认可度调查"
        verbose_name_plural = "社会认可度调查"

    def __str__(self) -> str:
        return f"{self.title}（{self.county.name} {self.year}）"

    @property
    def quota_total(self) -> int:
        return sum(int(v) for v in self.quotas.values())


class LinkKind(models.TextChoices):
    SINGLE = "single", "一次性链接"
    OPEN = "open", "二维码链接"


class Link(models.Model):
    """A way into the questionnaire of one group: a personal single-use token, or an open QR link of a school."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="links")
    kind = models.CharField("类型", max_length=8, choices=LinkKind.choices)
    group = models.CharField("调查对象", max_length=16)
    token = models.CharField("令牌", max_length=64, unique=True, default=new_token)
    school = models.ForeignKey(School, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="学校")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "kind", "group", "id"]
        indexes = [models.Index(fields=["campaign", "kind", "group"])]
        verbose_name = "调查链接"
        verbose_name_plural = "调查链接"


class Response(models.Model):
    """One submitted questionnaire. ``answers`` maps question id → chosen option (text of the scale)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="responses")
    link = models.ForeignKey(Link, models.CASCADE, related_name="responses")
    channel = models.CharField("渠道", max_length=8, choices=LinkKind.choices)
    group = models.CharField("调查对象", max_length=16)
    school = models.ForeignKey(School, models.PROTECT, null=True, blank=True, related_name="+")
    answers = models.JSONField("答案")
    submitted_at = models.DateTimeField("提交时间")
    device = models.CharField("设备（散列）", max_length=64, null=True, blank=True)
    ip = models.CharField("IP（散列）", max_length=64, blank=True)
    duration = models.PositiveIntegerField("答题用时（秒）", null=True, blank=True)

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["link"], condition=Q(channel="single"), name="survey_one_response_per_token"
            ),
            models.UniqueConstraint(
                fields=["campaign", "device"], condition=Q(channel="open"), name="survey_one_response_per_device"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "ip", "submitted_at"]), models.Index(fields=["campaign", "group"])]
        verbose_name = "调查答卷"
        verbose_name_plural = "调查答卷"
