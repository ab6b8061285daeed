"""Kinds of prepared files, the job that builds one, and the request that starts it.

An app offers a kind with ``register`` (in its ``AppConfig.ready``, so the worker knows it too): a builder
``build(owner, params, progress, target)`` that writes the file to ``target``, checking the owner's jurisdiction
itself (the file is built for the official who asked, with what that official may see at the time it is built).
Requests are coalesced: while a file of the same kind and parameters is queued or being built for the same official,
asking again shows that one. The job is idempotent: a file already built (or failed) is left as it is, and a job put
back on the queue after its worker died builds the file again from the start, writing a temporary file that is
renamed into place only when complete.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django_tasks import task

from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.downloads.models import FileStatus, PreparedFile

log = logging.getLogger("youjun.downloads")

#: Prepared files are kept this long, then deleted with their rows (the daily pruning job).
KEEP = timedelta(days=7)
#: Progress is written to the database at most this often (seconds), and at every step.
PROGRESS_INTERVAL = 0.5


class Progress:
    """What a builder reports: a step ("写入 Excel") and, within it, how many of how many are done."""

    def __init__(self, file_id: int) -> None:
        self.file_id = file_id
        self._last = 0.0

    def step(self, text: str, total: int = 0) -> None:
        PreparedFile.objects.filter(pk=self.file_id).update(step=text[:100], done=0, total=max(0, total))
        self._last = time.monotonic()

    def advance(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL or done >= total:
            PreparedFile.objects.filter(pk=self.file_id).update(done=max(0, done), total=max(0, total))
            self._last = now


Builder = Callable[[User, Mapping[str, Any], Progress, Path], None]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # Chinese, for the page ("全国评估结果 Excel")
    build: Builder


KINDS: dict[str, Kind] = {}


def register(name: str, label: str, build: Builder) -> None:
    KINDS[name] = Kind(name, label, build)


def folder() -> Path:
    path = Path(settings.YOUJUN_PREPARED_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(file: PreparedFile) -> Path:
    suffix = Path(file.fallback).suffix or ".bin"
    return folder() / f"prepared-{file.pk}{suffix}"


def key_of(kind: str, params: Mapping[str, Any]) -> str:
    return f"{kind}:{json.dumps(dict(params), sort_keys=True, ensure_ascii=False, separators=(',', ':'))}"[:300]


def request_file(
    owner: User, kind: str, params: Mapping[str, Any], *, title: str, fallback: str, content_type: str
) -> PreparedFile:
    """The file in preparation for this official and request (one per key), or a new one, queued for the worker."""
    if kind not in KINDS:
        raise YoujunError.single("downloads.kind", "不支持的文件种类。")
    key = key_of(kind, params)
    pending = PreparedFile.objects.filter(owner=owner, key=key, status__in=[FileStatus.QUEUED, FileStatus.RUNNING])
    existing = pending.order_by("-created_at").first()
    if existing is not None:
        return existing
    file = PreparedFile.objects.create(
        owner=owner,
        kind=kind,
        params=dict(params),
        key=key,
        title=title[:200],
        fallback=fallback[:200],
        content_type=content_type,
        step="等待后台任务进程",
    )
    prepare_file_job.enqueue(file.pk)
    file.refresh_from_db()
    return file


@task()
def prepare_file_job(file_id: int) -> str:
    """Build one prepared file (see the module's note on idempotence)."""
    claimed = PreparedFile.objects.filter(pk=file_id, status__in=[FileStatus.QUEUED, FileStatus.RUNNING]).update(
        status=FileStatus.RUNNING, started_at=timezone.now(), done=0, total=0, step="开始生成"
    )
    file = PreparedFile.objects.filter(pk=file_id).select_related("owner").first()
    if not claimed or file is None:
        return "文件已生成或已删除"
    kind = KINDS.get(file.kind)
    target = stored_path(file)
    partial = target.with_name(target.name + ".part")
    try:
        if kind is None:
            raise YoujunError.single("downloads.kind", "不支持的文件种类。")
        kind.build(file.owner, file.params, Progress(file.pk), partial)
        partial.replace(target)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, YoujunError) and exc.problems:
            message = exc.problems[0].message
        elif isinstance(exc, Http404):  # the owner no longer sees the unit (moved, or the account changed)
            message = "要导出的单位不存在或已不在您的管辖范围内。"
        else:
            log.exception("could not prepare file %s (%s)", file.pk, file.kind)
            message = "生成文件时出错，请稍后重试；如仍失败，请联系管理员（后台任务页面有详细原因）。"
        PreparedFile.objects.filter(pk=file.pk).update(
            status=FileStatus.FAILED, error=message[:500], finished_at=timezone.now()
        )
        return f"生成失败：{message}"
    PreparedFile.objects.filter(pk=file.pk).update(
        status=FileStatus.READY, size=target.stat().st_size, finished_at=timezone.now(), step="已生成"
    )
    return f"已生成「{file.title}」"


def prune(now: Any = None) -> int:
    """Delete prepared files older than ``KEEP`` (rows and files); how many."""
    cutoff = (now or timezone.now()) - KEEP
    old = list(PreparedFile.objects.filter(Q(created_at__lt=cutoff)))
    for file in old:
        stored_path(file).unlink(missing_ok=True)
        stored_path(file).with_name(stored_path(file).name + ".part").unlink(missing_ok=True)
    PreparedFile.objects.filter(pk__in=[f.pk for f in old]).delete()
    return len(old)


def recent(owner: User, key: str | None = None) -> list[PreparedFile]:
    files = PreparedFile.objects.filter(owner=owner, created_at__gte=timezone.now() - KEEP)
    if key is not None:
        files = files.filter(key=key)
    return list(files[:50])
