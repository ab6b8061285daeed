"""The scheduled jobs (daily, at the times of ``settings.YOUJUN_SCHEDULE``) and the names of every job on the page.

Each job is a task of the task system; the worker enqueues a job once per period whatever the number of workers
(``ScheduledRun``'s unique key decides), so a job that is due runs exactly once a day even on several machines.
"""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from youjun.web.downloads import services as downloads
from youjun.web.operations.models import ScheduledRun

#: Finished jobs are kept this long on the page, then pruned.
KEEP_FINISHED = timedelta(days=30)


def _command(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue().strip()[-2000:]


@task()
def reminders_job() -> str:
    """Deadline reminders and each level's to-do reminders (in-app, and e-mail when SMTP is configured)."""
    return _command("send_reminders", "--digest")


@task()
def recompute_stale_job() -> str:
    """Bring every stale stored result up to date (after an upgrade, a rule-set change or a failed recompute)."""
    return _command("recompute", "--stale")


@task()
def prune_job() -> str:
    """Delete finished jobs older than ``KEEP_FINISHED``."""
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=timezone.now() - KEEP_FINISHED).delete()
    files = downloads.prune()
    return f"已清理 {deleted} 条已结束的任务记录、{files} 个过期的导出文件"


@task()
def ping_job(seconds: float = 0.0) -> str:
    """The administrators' check that a worker is alive (and, with ``seconds``, that a long job survives a restart)."""
    import time as clock

    clock.sleep(max(0.0, min(seconds, 600.0)))
    return f"后台任务进程正常（{timezone.localtime():%H:%M:%S}）"


JOBS = {"reminders": reminders_job, "recompute_stale": recompute_stale_job, "prune": prune_job}

#: Chinese names of the jobs, by the task's function name (the page shows these, never the code's).
LABELS = {
    "recompute_job": "重新计算评估结果",
    "reminders_job": "发送截止提醒与待办提醒",
    "recompute_stale_job": "更新全部待更新的评估结果",
    "prune_job": "清理过期的任务记录与导出文件",
    "ping_job": "检查后台任务进程",
    "prepare_file_job": "生成导出文件",
}


def due(now: datetime | None = None) -> list[tuple[str, str]]:
    """The (job, period) pairs whose time of day has come today (local time)."""
    local = timezone.localtime(now or timezone.now())
    pairs = []
    for job, at in settings.YOUJUN_SCHEDULE:
        hour, minute = (int(part) for part in at.split(":"))
        if local.time() >= time(hour, minute) and job in JOBS:
            pairs.append((job, local.date().isoformat()))
    return pairs


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue the jobs that are due and not yet enqueued for their period; the names of those enqueued."""
    started = []
    for job, period in due(now):
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job, period=period)
                result = JOBS[job].enqueue()
                ScheduledRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
        except IntegrityError:
            continue  # another worker enqueued it for this period
        started.append(job)
    return started
