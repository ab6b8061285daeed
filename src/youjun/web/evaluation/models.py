"""Stored evaluation results: recomputed when approved data change, so pages only read."""

from __future__ import annotations

from django.db import models

from youjun.web.organisation.models import OrgUnit


class CountyEvaluation(models.Model):
    """The evaluation JSON object of one county and year under one rule set (data-contract.md §2)."""

    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="evaluations", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    standard = models.CharField("规则集", max_length=80)
    # null: the resource part cannot be judged (county inputs but no approved school record yet, decision 18)
    passed = models.BooleanField("资源配置达标", null=True)
    units = models.PositiveIntegerField("评估单元数")
    units_passed = models.PositiveIntegerField("达标单元数")
    result = models.JSONField("评估结果")
    computed_at = models.DateTimeField("计算时间", auto_now=True)
    #: Stamps (decision 31): the engine and rule set that made the result, and the generation of the county-year's
    #: inputs it reflects (``EvaluationState.generation`` when it was computed).
    engine_version = models.CharField("计算程序版本", max_length=32, default="")
    ruleset_digest = models.CharField("规则集摘要", max_length=64, default="")
    generation = models.PositiveBigIntegerField("数据版本", default=0)

    class Meta:
        ordering = ["county__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year", "standard"], name="one_evaluation_per_county_year")
        ]
        verbose_name = "县域评估结果"
        verbose_name_plural = "县域评估结果"


class EvaluationState(models.Model):
    """Per county and year: how often its inputs changed (``generation``), when, and the last failed recompute.

    Every change that can alter the result increments ``generation`` in the transaction that writes it; a
    recompute takes this row's lock first (so recomputes of one county-year run one after another and each reads
    the data as of its lock) and stores the generation it read. A stored result with a lower generation, another
    engine version or another rule-set digest is stale ("结果待更新").
    """

    county = models.ForeignKey(OrgUnit, models.CASCADE, related_name="+", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    generation = models.PositiveBigIntegerField("数据版本", default=0)
    changed_at = models.DateTimeField("数据最后变化时间", null=True, blank=True)
    locked_at = models.DateTimeField("最近计算开始时间", null=True, blank=True)
    failed_at = models.DateTimeField("最近计算失败时间", null=True, blank=True)
    error = models.TextField("失败原因", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="one_state_per_county_year")]
        verbose_name = "评估状态"
        verbose_name_plural = "评估状态"
