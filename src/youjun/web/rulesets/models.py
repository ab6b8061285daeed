"""Rule sets assigned to provinces (decision 39)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from youjun.web.organisation.models import OrgUnit


class RuleSetAssignment(models.Model):
    """The rule set a province's counties are evaluated under, from a given year on (decision 39).

    ``ruleset`` is a shipped rule set's id, or empty with ``content`` holding an uploaded TOML file (validated when
    assigned, kept here so every worker and every later year can load the same text). Without an assignment a
    county is evaluated under the national default (``settings.YOUJUN_STANDARD``).
    """

    province = models.ForeignKey(OrgUnit, models.PROTECT, related_name="rule_sets", verbose_name="省级单位")
    from_year = models.PositiveIntegerField("起始年度")
    ruleset = models.CharField("内置规则集", max_length=64, blank=True)
    content = models.TextField("上传的规则集文件", blank=True)
    name = models.CharField("规则集名称", max_length=200)
    digest = models.CharField("规则集摘要", max_length=64)
    reason = models.TextField("说明", blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="指定人")
    assigned_at = models.DateTimeField("指定时间", auto_now_add=True)

    class Meta:
        ordering = ["province__code", "-from_year"]
        constraints = [
            models.UniqueConstraint(fields=["province", "from_year"], name="one_rule_set_per_province_year"),
            models.CheckConstraint(condition=~models.Q(ruleset="", content=""), name="rule_set_shipped_or_uploaded"),
        ]
        verbose_name = "省级规则集"
        verbose_name_plural = "省级规则集"

    @property
    def ref(self) -> str:
        """How stored results name it: the shipped id, or ``upload:<digest>``."""
        return self.ruleset or f"upload:{self.digest}"
