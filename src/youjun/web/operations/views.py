"""The administrators' page of background jobs: queued, running, failed (with the error) and recently finished."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from youjun.web.accounts.models import Role
from youjun.web.downloads.models import PreparedFile
from youjun.web.operations.jobs import LABELS, ping_job
from youjun.web.organisation.models import OrgUnit
from youjun.web.shortcuts import TITLES, message_page, user_of

STATUS_LABELS = {
    TaskResultStatus.READY: "排队中",
    TaskResultStatus.RUNNING: "执行中",
    TaskResultStatus.FAILED: "失败",
    TaskResultStatus.SUCCESSFUL: "已完成",
}
SHOWN = 50


def _rows(query: Any, counties: dict[int, OrgUnit], files: dict[int, PreparedFile]) -> list[dict[str, Any]]:
    rows = []
    for job in query:
        name = job.task_path.rsplit(".", 1)[-1]
        args = (job.args_kwargs or {}).get("args", [])
        subject = ""
        if name == "recompute_job" and len(args) >= 2:
            county = counties.get(args[0])
            subject = f"{county.full_name if county else args[0]} {args[1]} 年"
            if len(args) >= 3 and args[2] > 1:
                subject += f"（第 {args[2]} 次尝试）"
        elif name == "prepare_file_job" and args and (file := files.get(args[0])) is not None:
            subject = f"{file.title}（{file.owner.username}）"
        error = (job.traceback or "").strip().splitlines()
        rows.append(
            {
                "label": LABELS.get(name, name),
                "subject": subject,
                "status": STATUS_LABELS.get(job.status, job.status),
                "enqueued_at": job.enqueued_at,
                "run_after": job.run_after if job.run_after and job.run_after > timezone.now() else None,
                "started_at": job.started_at,
                "finished_at": job.finished_at,
                "worker": (job.worker_ids or [""])[-1],
                "error": error[-1] if error else "",
                "result": job.return_value if isinstance(job.return_value, str) else "",
            }
        )
    return rows


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    if user_of(request).role != Role.MINISTRY:
        return message_page(request, TITLES[403], "后台任务页面供教育部管理员使用。", 403)
    if request.method == "POST":
        ping_job.enqueue()
        messages.info(request, "已提交检查任务：后台任务进程运行时，几秒内会出现在「最近完成」中。")
        return redirect("operations:tasks")
    jobs = DBTaskResult.objects.all()
    counts = {STATUS_LABELS[s]: jobs.filter(status=s).count() for s in STATUS_LABELS}
    sections = [
        ("执行中", jobs.running().order_by("started_at")),
        ("排队中", jobs.filter(status=TaskResultStatus.READY).order_by("run_after", "enqueued_at")),
        ("失败", jobs.failed().order_by("-finished_at")),
        ("最近完成", jobs.successful().order_by("-finished_at")),
    ]
    picked = [(title, list(query[:SHOWN])) for title, query in sections]
    ids = {
        a[0]
        for _, rows in picked
        for job in rows
        if isinstance(a := (job.args_kwargs or {}).get("args", []), list) and a and isinstance(a[0], int)
    }
    counties = OrgUnit.objects.in_bulk(ids)
    files = PreparedFile.objects.select_related("owner").in_bulk(ids)
    context = {
        "counts": counts,
        "sections": [(title, _rows(rows, counties, files), len(rows) == SHOWN) for title, rows in picked],
    }
    return render(request, "youjun/operations/tasks.html", context)
