"""One row per prepared file: who asked for it, what it is (kind and parameters), how far it is, where it lies."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FileStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "正在生成"
    READY = "ready", "可以下载"
    FAILED = "failed", "生成失败"


class PreparedFile(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prepared_files")
    kind = models.CharField("文件种类", max_length=60)
    params = models.JSONField(default=dict)
    #: kind and parameters in one canonical string: one file in preparation per owner and key (coalescing).
    key = models.CharField(max_length=300)
    title = models.CharField("文件名", max_length=200)
    fallback = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    status = models.CharField("状态", max_length=10, choices=FileStatus.choices, default=FileStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    step = models.CharField(max_length=100, blank=True)
    size = models.BigIntegerField(null=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "key", "status"], name="prepared_owner_key_status")]

    @property
    def percent(self) -> int:
        if self.status == FileStatus.READY:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def pending(self) -> bool:
        return self.status in (FileStatus.QUEUED, FileStatus.RUNNING)
