"""``youjun-web worker``: run background jobs (recomputes, reminders, exports) and the scheduled jobs.

Several workers may run on one or several machines against the same PostgreSQL; give each a stable ``--id`` (default
``<hostname>-1``). ``--batch`` runs until the queue is empty, then exits (for scripts and tests).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from youjun.web.operations.worker import Scheduler, default_worker_id, release_orphans


class Command(BaseCommand):
    help = "运行后台任务（重新计算、提醒、导出）和定时任务"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", dest="worker_id", help="本工作进程的固定标识（默认：主机名-1）")
        parser.add_argument("--interval", type=float, default=1.0, help="队列为空时的检查间隔（秒）")
        parser.add_argument("--batch", action="store_true", help="队列为空时退出")
        parser.add_argument("--no-schedule", action="store_true", help="不安排定时任务（另有进程负责时）")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = options["worker_id"] or default_worker_id()
        released = release_orphans(worker_id)
        if released:
            self.stdout.write(f"已将 {released} 个未完成的任务重新放回队列")
        scheduler = None
        if not options["no_schedule"] and not options["batch"]:
            scheduler = Scheduler()
            scheduler.start()
        worker = Worker(
            queue_names=["default"],
            interval=options["interval"],
            batch=options["batch"],
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=not options["batch"],
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        self.stdout.write(f"后台任务进程 {worker_id} 已启动")
        if not options["batch"]:
            worker.configure_signals()
        try:
            worker.run()
        finally:
            if scheduler is not None:
                scheduler.stopped.set()
