"""One row per scheduled run: the unique (job, period) makes a daily job start once however many workers run."""

from __future__ import annotations

from django.db import models


class ScheduledRun(models.Model):
    job = models.CharField("定时任务", max_length=40)
    period = models.CharField("周期", max_length=20)  # e.g. "2026-12-02" for a daily job
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="one_run_per_job_and_period")]
        ordering = ["-enqueued_at"]
