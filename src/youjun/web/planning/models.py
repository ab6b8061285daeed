"""A county's what-if scenario: a copy of one year's approved school data that the county edits and plans on.

A scenario never touches the reported data: it holds its own copy of the schools (``schools``, rows as the engine's
school frame has them) and the rule set it was copied under. Every change is a conditional UPDATE on ``version``
(two tabs editing one scenario cannot both win) and is listed in ``edits``. ``plan`` holds the last plan computed on
the scenario, stamped with the version it was computed on: it can be applied only to that version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from youjun.web.organisation.models import OrgUnit


class Scenario(models.Model):
    county = models.ForeignKey(OrgUnit, models.CASCADE, related_name="scenarios", verbose_name="县（区）")
    year = models.PositiveSmallIntegerField("数据年度")
    name = models.CharField("情景名称", max_length=60)
    standard = models.CharField("规则集", max_length=100)
    #: The generation of the county-year's data the copy was taken at (the reported data may move on).
    base_generation = models.PositiveIntegerField(default=0)
    schools = models.JSONField("学校数据（副本）", default=list)
    edits = models.JSONField("修改记录", default=list, blank=True)
    plan = models.JSONField("规划方案", default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="scenario_name_unique_per_county")]

    def __str__(self) -> str:
        return self.name
