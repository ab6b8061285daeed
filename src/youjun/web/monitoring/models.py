"""A province's monitoring as last computed (the snapshot: series summarised for the pages) and its warnings."""

from __future__ import annotations

from django.db import models

from youjun.web.organisation.models import OrgUnit


class Snapshot(models.Model):
    """The monitoring of one province, from every stored result of its counties.

    ``stamp`` names the results it was made from (their count, latest computation, highest id, sum of generations,
    and the pilots): a page whose current stamp differs says "监测结果待更新" and has it recomputed."""

    province = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="monitoring")
    stamp = models.CharField(max_length=200)
    computed_at = models.DateTimeField()
    years = models.JSONField(default=list)
    data = models.JSONField(default=dict)
    #: The few figures the national page shows of the province (so it never reads ``data``).
    summary = models.JSONField(default=dict)
    seconds = models.FloatField(default=0.0)


class Warning(models.Model):
    """One early warning (the engine's warning row, decision 59), kept for the pages and the to-do lists."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="warnings")
    county = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    stage = models.CharField(max_length=20, blank=True)
    code = models.CharField(max_length=20, blank=True)
    school_id = models.CharField(max_length=40, blank=True)
    school_name = models.CharField(max_length=200, blank=True)
    rule = models.CharField(max_length=60)
    rule_name = models.CharField(max_length=100)
    level = models.CharField(max_length=10)
    severity = models.PositiveSmallIntegerField()
    message = models.CharField(max_length=500)
    value = models.FloatField(null=True)
    limit = models.FloatField(null=True)
    previous = models.JSONField(default=list)

    class Meta:
        ordering = ["-severity", "id"]
        indexes = [
            models.Index(fields=["county", "year"], name="warning_county_year"),
            models.Index(fields=["snapshot", "year", "severity"], name="warning_snapshot_year_level"),
        ]


class ForecastInputs(models.Model):
    """A county's optional inputs of the enrolment forecast (decision 63): pupils by grade per school and year, and
    births per year, each kept as column → values (``youjun.io.forecast_inputs.REQUIRED``). An upload replaces the
    years it holds and keeps the others; ``version`` counts the changes (the forecast is cached by it)."""

    county = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="+")
    grades = models.JSONField(default=dict)
    births = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
