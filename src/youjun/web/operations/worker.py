"""The worker process: release jobs a dead worker left running, enqueue the scheduled jobs, run jobs until stopped.

A job whose worker was killed stays RUNNING in the database. When a worker starts, the jobs its own id held go back
to the queue (a worker id is stable per machine and slot: ``<hostname>-1``), and so do jobs running longer than the
lease (``YOUJUN_TASK_LEASE`` seconds) whoever held them; every job is idempotent, so a released job that had in fact
finished its transaction does nothing the second time.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from youjun.web.operations import jobs

log = logging.getLogger("youjun.worker")


def default_worker_id(slot: int = 1) -> str:
    return f"{socket.gethostname()[:40]}-{slot}"


def release_orphans(worker_id: str, lease: timedelta | None = None) -> int:
    """Put back on the queue the jobs this worker id left running and those running longer than the lease."""
    lease = lease if lease is not None else timedelta(seconds=settings.YOUJUN_TASK_LEASE)
    cutoff = timezone.now() - lease
    orphans = [
        row.pk
        for row in DBTaskResult.objects.running().only("id", "worker_ids", "started_at")
        if (row.worker_ids and row.worker_ids[-1] == worker_id) or (row.started_at and row.started_at < cutoff)
    ]
    if not orphans:
        return 0
    count = DBTaskResult.objects.filter(pk__in=orphans, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )
    log.warning("worker %s: %s unfinished job(s) put back on the queue", worker_id, count)
    return count


class Scheduler(threading.Thread):
    """Every ``interval`` seconds, enqueue the scheduled jobs that are due (once per period across all workers)."""

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__(name="youjun-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                for job in jobs.enqueue_due():
                    log.info("scheduled job %s enqueued", job)
            except Exception:
                log.exception("the scheduler could not enqueue the due jobs")
            finally:
                close_old_connections()
            self.stopped.wait(self.interval)
