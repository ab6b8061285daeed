"""Background work through the task system's database backend: a data change enqueues one recompute per county-year
(coalesced), the worker runs it and the page shows the new result; a job a killed worker left running is finished
once when the worker starts again; a failing recompute is retried, then left failed and visible; the scheduled jobs
start once per day however many workers ask; the administrators' page lists the jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from web.conftest import OWN_COUNTY, YEAR, make_user
from youjun.web.accounts.models import Role
from youjun.web.collection import services as collection
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.evaluation import pipeline
from youjun.web.evaluation.models import CountyEvaluation, EvaluationState
from youjun.web.operations import jobs
from youjun.web.operations.models import ScheduledRun
from youjun.web.operations.worker import release_orphans
from youjun.web.organisation.models import OrgUnit
from youjun.web.signals import county_data_changed

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def queue(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real backend: jobs wait in the database until a worker runs them. The worker runs in the test's own
    transaction here, so it must not close the connection between jobs as a worker process does."""
    settings.TASKS = DATABASE
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


def _recompute_jobs() -> Any:
    return DBTaskResult.objects.filter(task_path="youjun.web.evaluation.pipeline.recompute_job")


@pytest.mark.django_db
def test_a_data_change_enqueues_one_job_per_county_year_and_the_worker_stores_the_result(queue: None) -> None:
    county = OrgUnit.objects.get(code=OWN_COUNTY)
    pipeline.recompute(county, YEAR)
    stored = CountyEvaluation.objects.get(county=county, year=YEAR)
    record = SchoolRecord.objects.filter(county=county, year=YEAR, status=RecordStatus.APPROVED).first()
    assert record is not None
    county_user = make_user(Role.COUNTY, OWN_COUNTY)

    collection.move_record(county_user, record, RecordStatus.RETURNED, reason="更正数据")  # two changes, one queued job
    county_data_changed(county, YEAR)
    assert _recompute_jobs().filter(status=TaskResultStatus.READY).count() == 1
    assert pipeline.staleness(CountyEvaluation.objects.get(pk=stored.pk), county, YEAR)["stale"]

    client = Client()
    client.force_login(county_user)
    page = f"/evaluation/county/{OWN_COUNTY}/{YEAR}/"
    assert "正在后台重新计算" in client.get(page).content.decode()

    call_command("worker", "--batch", "--id", "test-worker-1")
    assert "结果待更新" not in client.get(page).content.decode()
    [job] = _recompute_jobs()
    assert job.status == TaskResultStatus.SUCCESSFUL and job.return_value == "已重新计算"
    fresh = CountyEvaluation.objects.get(county=county, year=YEAR)
    assert fresh.generation == EvaluationState.objects.get(county=county, year=YEAR).generation
    assert not pipeline.staleness(fresh, county, YEAR)["stale"]


@pytest.mark.django_db
def test_a_job_left_running_by_a_killed_worker_is_finished_once_on_restart(queue: None) -> None:
    county = OrgUnit.objects.get(code=OWN_COUNTY)
    pipeline.mark_changed(county, YEAR)
    pipeline.schedule(county, YEAR)
    job = _recompute_jobs().get()
    job.claim("killed-worker-1")  # what a worker killed mid-job leaves behind: RUNNING, held by its id
    call_command("worker", "--batch", "--id", "another-worker")  # another worker does not steal a live job
    job.refresh_from_db()
    assert job.status == TaskResultStatus.RUNNING

    call_command("worker", "--batch", "--id", "killed-worker-1")  # the same worker starts again
    job.refresh_from_db()
    assert job.status == TaskResultStatus.SUCCESSFUL and job.worker_ids == ["killed-worker-1", "killed-worker-1"]
    assert _recompute_jobs().count() == 1 and CountyEvaluation.objects.filter(county=county, year=YEAR).count() == 1


@pytest.mark.django_db
def test_a_job_running_past_the_lease_goes_back_to_the_queue(queue: None) -> None:
    result = jobs.ping_job.enqueue()
    job = DBTaskResult.objects.get(pk=result.id)
    job.claim("lost-machine-3")
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=2))
    assert release_orphans("other", lease=timedelta(hours=3)) == 0
    assert release_orphans("other", lease=timedelta(hours=1)) == 1
    assert DBTaskResult.objects.get(pk=job.pk).status == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_failing_recompute_is_retried_then_left_failed_and_visible(
    queue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    county = OrgUnit.objects.get(code=OWN_COUNTY)

    def broken(county: OrgUnit, year: int) -> None:
        raise ValueError("规则集文件无法读取")

    monkeypatch.setattr(pipeline, "recompute", broken)
    monkeypatch.setattr(pipeline, "RETRY_DELAYS", (timedelta(0), timedelta(0)))
    pipeline.mark_changed(county, YEAR)
    pipeline.schedule(county, YEAR)
    call_command("worker", "--batch", "--id", "w")
    statuses = list(_recompute_jobs().order_by("enqueued_at").values_list("status", flat=True))
    assert statuses == [TaskResultStatus.SUCCESSFUL, TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    failed = _recompute_jobs().get(status=TaskResultStatus.FAILED)
    assert "3 次均失败" in failed.traceback and "规则集文件无法读取" in failed.traceback
    state = EvaluationState.objects.get(county=county, year=YEAR)
    assert state.failed_at is not None and "规则集文件无法读取" in state.error

    ministry = make_user(Role.MINISTRY, "000000")
    client = Client()
    client.force_login(ministry)
    page = client.get("/operations/tasks/").content.decode()
    assert "重新计算评估结果" in page and "3 次均失败" in page and f"{county.full_name} {YEAR} 年" in page


@pytest.mark.django_db
def test_the_tasks_page_is_the_ministrys_and_checks_the_worker(queue: None) -> None:
    client = Client()
    client.force_login(make_user(Role.PROVINCE, "340000"))
    assert client.get("/operations/tasks/").status_code == 403
    client.force_login(make_user(Role.MINISTRY, "000000"))
    assert client.post("/operations/tasks/").status_code == 302
    assert DBTaskResult.objects.filter(task_path="youjun.web.operations.jobs.ping_job").count() == 1
    call_command("worker", "--batch", "--id", "w")
    page = client.get("/operations/tasks/").content.decode()
    assert "检查后台任务进程" in page and "后台任务进程正常" in page


@pytest.mark.django_db
def test_scheduled_jobs_start_once_per_day_whatever_the_number_of_workers(queue: None, settings: Any) -> None:
    settings.YOUJUN_SCHEDULE = [("prune", "03:30"), ("recompute_stale", "02:00")]
    early = timezone.make_aware(timezone.datetime(2026, 12, 2, 1, 0))
    assert jobs.enqueue_due(early) == []
    late = early + timedelta(hours=3)
    assert sorted(jobs.enqueue_due(late)) == ["prune", "recompute_stale"]
    assert jobs.enqueue_due(late) == [] and jobs.enqueue_due(late + timedelta(hours=5)) == []  # a second worker
    assert ScheduledRun.objects.count() == 2 and DBTaskResult.objects.count() == 2
    assert jobs.enqueue_due(late + timedelta(days=1)) != []  # the next day


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="a worker process needs a database it can share")
def test_killing_a_real_worker_mid_job_and_starting_it_again_finishes_the_job_once(settings: Any) -> None:
    settings.TASKS = DATABASE
    result = jobs.ping_job.enqueue(3.0)
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "youjun.web.settings"}
    command = [sys.executable, "-m", "django", "worker", "--id", "kill-test-1", "--no-schedule"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while DBTaskResult.objects.get(pk=result.id).status != TaskResultStatus.RUNNING:
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.1)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.RUNNING  # left behind
    done = subprocess.run([*command, "--batch"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    job = DBTaskResult.objects.get(pk=result.id)
    assert job.status == TaskResultStatus.SUCCESSFUL and job.worker_ids == ["kill-test-1", "kill-test-1"]
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_a_county_page_waiting_for_its_first_result_says_so_and_refreshes(queue: None, client: Client) -> None:
    county = OrgUnit.objects.get(code=OWN_COUNTY)
    CountyEvaluation.objects.filter(county=county, year=YEAR).delete()
    client.force_login(make_user(Role.COUNTY, OWN_COUNTY))
    url = f"/evaluation/county/{OWN_COUNTY}/{YEAR}/"
    assert client.get(url).status_code == 404  # nothing stored, nothing queued
    pipeline.schedule(county, YEAR)
    waiting = client.get(url)
    assert waiting.status_code == 200
    html = waiting.content.decode()
    assert 'id="computing"' in html and 'http-equiv="refresh"' in html and "正在后台计算" in html
    call_command("worker", "--batch", "--id", "w")
    assert client.get(url).status_code == 200 and 'id="computing"' not in client.get(url).content.decode()
