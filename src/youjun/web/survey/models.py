"""Survey campaigns, their links (single-use tokens and open QR links) and the anonymous responses.

The database enforces every "only once" and "at most" rule, so no race between requests can break them:

* a single-use link has at most one response: unique ``link`` among responses of channel ``single``;
* an open link accepts one response per device per campaign: unique (``campaign``, ``device``) among responses of
  channel ``open`` (``device`` is the keyed hash of the signed device cookie);
* a rendered answering form is submitted at most once: its ``FormNonce`` is consumed by a conditional UPDATE
  (``used_at IS NULL``) in the transaction that stores the response;
* a respondent group counts at most its cap of answers: ``GroupCount.counted < cap`` in a conditional UPDATE in
  the same transaction; an answer over the cap is stored with ``excess`` set and never counted;
* a campaign's state moves by a conditional UPDATE on its current state, and each move writes one
  ``CampaignEvent``.

No respondent is identified: device ids, IP addresses and address blocks are stored only as keyed hashes (HMAC
with the secret key).
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
    """One submitted questionnaire. ``answers`` maps question id → chosen option (text of the scale).

    ``excess``: the answer arrived when its group had reached its cap (quota plus allowance); it is kept, shown and
    exported, but not counted in any rate. ``net``: keyed hash of the address block (/24 IPv4, /64 IPv6).
    """

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
    net = models.CharField("网段（散列）", max_length=64, blank=True)
    excess = models.BooleanField("超出计划（不计入）", default=False)

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


class FormNonce(models.Model):
    """One rendered answering form: a one-time secret in the page, stored as its SHA-256.

    A submission must present a nonce rendered for the same link and (open links) the same device cookie, not used
    before, at least ``min_seconds`` old and not expired; it is consumed by ``UPDATE … WHERE used_at IS NULL`` in
    the transaction that stores the response, so it is spent exactly once. ``device`` is null for single-use links
    (the token is the credential). Rows past ``expires_at`` are deleted (``services.purge_nonces``).
    """

    digest = models.CharField("随机数（散列）", max_length=64, primary_key=True)
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+", db_index=False)
    link = models.ForeignKey(Link, models.CASCADE, related_name="+")
    device = models.CharField("设备（散列）", max_length=64, null=True, blank=True)
    rendered_at = models.DateTimeField("页面生成时间")
    expires_at = models.DateTimeField("失效时间", db_index=True)
    used_at = models.DateTimeField("提交时间", null=True, blank=True)

    class Meta:
        verbose_name = "问卷页面随机数"
        verbose_name_plural = "问卷页面随机数"


class GroupCount(models.Model):
    """Counted answers of one respondent group and their cap (quota plus the allowance of the settings file).

    The submission increments ``counted`` with ``UPDATE … WHERE counted < cap``: the row lock serialises the
    group's submissions for the instant of that statement, and the cap holds under any concurrency. Changing the
    quotas changes ``cap`` under the same lock (never below ``counted``).
    """

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="group_counts")
    group = models.CharField("调查对象", max_length=16)
    cap = models.PositiveIntegerField("计入上限")
    counted = models.PositiveIntegerField("已计入", default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "group"], name="survey_one_count_per_group"),
            models.CheckConstraint(condition=Q(counted__lte=models.F("cap")), name="survey_counted_within_cap"),
        ]
        verbose_name = "各类对象计数"
        verbose_name_plural = "各类对象计数"


class RefusalReason(models.TextChoices):
    REPLAYED = "replayed", "页面重复提交或非本设备打开"
    TOO_FAST = "too_fast", "答题时间过短"
    IP_CAP = "ip_cap", "同一网络提交过多"
    EXPIRED = "expired", "页面过期、缺失或伪造"
    NO_COOKIE = "no_cookie", "未保存设备 Cookie"
    DEVICE_USED = "device_used", "本设备已提交过"
    TOKEN_USED = "token_used", "一次性链接已使用"
    HONEYPOT = "honeypot", "机器填写（隐藏字段）"


class Refusal(models.Model):
    """Refused submissions, counted per campaign, reason and minute (the answers themselves are not kept)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="refusals")
    reason = models.CharField("原因", max_length=16, choices=RefusalReason.choices)
    minute = models.DateTimeField("分钟")
    n = models.PositiveIntegerField("次数", default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "reason", "minute"], name="survey_one_refusal_count"),
        ]
        verbose_name = "被拒绝的提交"
        verbose_name_plural = "被拒绝的提交"


class CampaignAction(models.TextChoices):
    OPEN = "open", "开始调查"
    CLOSE = "close", "结束调查"
    REOPEN = "reopen", "重新开始调查"


class CampaignEvent(models.Model):
    """One state move of a campaign: who, when, from which state to which, and why (required to reopen)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=8, choices=CampaignAction.choices)
    from_status = models.CharField("原状态", max_length=8, choices=CampaignStatus.choices)
    to_status = models.CharField("新状态", max_length=8, choices=CampaignStatus.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="操作人"
    )
    at = models.DateTimeField("时间")
    reason = models.CharField("原因", max_length=500, blank=True)

    class Meta:
        ordering = ["campaign", "at", "id"]
        verbose_name = "调查状态记录"
        verbose_name_plural = "调查状态记录"
