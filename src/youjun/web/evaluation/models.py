"""Stored evaluation results: recomputed when approved data change, so pages only read."""

from __future__ import annotations

from django.db import models

from youjun.web.organisation.models import OrgUnit


class CountyEvaluation(models.Model):
    """The evaluation JSON object of one county and year under one rule set (data-contract.md §2)."""

    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="evaluations", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    standard = models.CharField("规则集", max_length=64)
    # null: the resource part cannot be judged (county inputs but no approved school record yet, decision 18)
    passed = models.BooleanField("资源配置达标", null=True)
    units = models.PositiveIntegerField("评估单元数")
    units_passed = models.PositiveIntegerField("达标单元数")
    result = models.JSONField("评估结果")
    computed_at = models.DateTimeField("计算时间", auto_now=True)

    class Meta:
        ordering = ["county__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year", "standard"], name="one_evaluation_per_county_year")
        ]
        verbose_name = "县域评估结果"
        verbose_name_plural = "县域评估结果"
