"""Files prepared in the background: a request is queued for the worker (asking twice while it waits gives the same
file), the worker builds it with progress, only its owner sees and downloads it, a failure says why in Chinese,
a job put back after its worker died builds the file once, and old files are pruned with their rows."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import fastexcel
import pytest
from django.core.management import call_command
from django.http import Http404
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from web.conftest import OWN_COUNTY, YEAR, make_user
from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.downloads import services
from youjun.web.downloads.models import FileStatus, PreparedFile
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import OrgUnit

PROVINCE_EXPORT = f"/evaluation/unit/340000/{YEAR}/?format=xlsx"


@pytest.fixture
def queue(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


@pytest.fixture
def province(db: None) -> User:
    recompute(OrgUnit.objects.get(code=OWN_COUNTY), YEAR)
    return make_user(Role.PROVINCE, "340000")


def _jobs() -> Any:
    return DBTaskResult.objects.filter(task_path="youjun.web.downloads.services.prepare_file_job")


def test_the_worker_builds_a_queued_file_once_and_only_its_owner_downloads_it(
    queue: None, province: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    client.force_login(province)
    first = client.post(PROVINCE_EXPORT)
    again = client.post(PROVINCE_EXPORT)  # a second click while it waits: the same file, no second job
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert PreparedFile.objects.count() == 1 and _jobs().count() == 1
    file = PreparedFile.objects.get()
    waiting = client.get(first["Location"]).content.decode()
    assert 'data-status="queued"' in waiting and 'http-equiv="refresh"' in waiting and "排队中" in waiting
    assert client.get(first["Location"] + "download/").status_code == 404  # not built yet

    reported: list[tuple[int, int]] = []
    advance = services.Progress.advance
    monkeypatch.setattr(services.Progress, "advance", lambda self, d, t: (reported.append((d, t)), advance(self, d, t)))
    call_command("worker", "--batch", "--id", "test-downloads")
    file.refresh_from_db()
    assert file.status == FileStatus.READY and file.size and file.percent == 100 and reported == [(1, 1)]
    assert file.step == "已生成" and file.started_at and file.finished_at
    ready = client.get(first["Location"]).content.decode()
    assert 'data-status="ready"' in ready and 'http-equiv="refresh"' not in ready
    response = client.get(first["Location"] + "download/")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    book = fastexcel.read_excel(b"".join(response.streaming_content))
    assert book.sheet_names == ["县域汇总", "地市汇总", "学校单元明细"]
    assert "省、地市评估汇总" in client.get("/downloads/").content.decode()

    other = Client()
    other.force_login(make_user(Role.PROVINCE, "340000", name="another-official"))  # same role, same province
    assert other.get(first["Location"]).status_code == 404
    assert other.get(first["Location"] + "download/").status_code == 404
    assert (
        "矩阵" not in other.get("/downloads/").content.decode()
        and file.title not in other.get("/downloads/").content.decode()
    )

    client.post(PROVINCE_EXPORT)  # asked again once it is ready: a new file with the data as it is now
    assert PreparedFile.objects.count() == 2


def test_a_job_put_back_after_its_worker_died_builds_the_file_once(queue: None, province: User) -> None:
    file = services.request_file(
        province,
        "evaluation.unit",
        {"code": "340000", "year": YEAR},
        title="t.xlsx",
        fallback="t.xlsx",
        content_type="application/octet-stream",
    )
    PreparedFile.objects.filter(pk=file.pk).update(status=FileStatus.RUNNING, done=1, total=5)  # the worker died
    services.stored_path(file).with_name(f"prepared-{file.pk}.xlsx.part").write_bytes(b"half")
    assert services.prepare_file_job.call(file.pk).startswith("已生成")
    file.refresh_from_db()
    assert file.status == FileStatus.READY and services.stored_path(file).read_bytes()[:2] == b"PK"
    assert not services.stored_path(file).with_name(f"prepared-{file.pk}.xlsx.part").exists()
    assert services.prepare_file_job.call(file.pk) == "文件已生成或已删除"  # run again: nothing to do


def test_a_failure_is_told_in_chinese_and_leaves_no_file(province: User, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(owner: User, params: Mapping[str, Any], progress: services.Progress, target: Path) -> None:
        target.write_bytes(b"partial")
        raise YoujunError.single("not_found", "该单位尚无评估结果。")

    def crashed(owner: User, params: Mapping[str, Any], progress: services.Progress, target: Path) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setitem(services.KINDS, "test.refused", services.Kind("test.refused", "测试", refused))
    monkeypatch.setitem(services.KINDS, "test.crashed", services.Kind("test.crashed", "测试", crashed))
    client = Client()
    client.force_login(province)
    for kind, message in (("test.refused", "该单位尚无评估结果。"), ("test.crashed", "生成文件时出错")):
        file = services.request_file(province, kind, {}, title="x.xlsx", fallback="x.xlsx", content_type="x/y")
        file.refresh_from_db()
        assert file.status == FileStatus.FAILED and file.error.startswith(message)
        page = client.get(f"/downloads/{file.pk}/").content.decode()
        assert 'data-status="failed"' in page and message in page and "disk full" not in page
        assert not list(Path(services.folder()).glob(f"prepared-{file.pk}*"))
        assert client.get(f"/downloads/{file.pk}/download/").status_code == 404


def test_a_province_cannot_prepare_another_provinces_export(province: User) -> None:
    client = Client()
    client.force_login(province)
    assert client.post(f"/evaluation/unit/110000/{YEAR}/?format=xlsx").status_code == 404
    with pytest.raises((YoujunError, Http404)):  # and the builder checks again when it runs (a request made otherwise)
        services.KINDS["evaluation.unit"].build(
            province, {"code": "110000", "year": YEAR}, services.Progress(0), Path("x")
        )
    assert PreparedFile.objects.count() == 0


def test_form_bundles_report_progress_form_by_form(province: User) -> None:
    seen: list[tuple[int, int]] = []
    from youjun.web.programme import recommendation_docs

    class Nom:
        def __init__(self, name: str) -> None:
            self.name = name

    recommendation_docs_bundle = recommendation_docs.bundle
    fake = [Nom("a"), Nom("b"), Nom("c")]
    original = (recommendation_docs.file_name, recommendation_docs.document)
    try:
        recommendation_docs.file_name = lambda n, fmt: f"{n.name}.{fmt}"  # type: ignore[assignment]
        recommendation_docs.document = lambda n, fmt: n.name.encode()  # type: ignore[assignment]
        content, count = recommendation_docs_bundle(fake, lambda done, total: seen.append((done, total)))  # type: ignore[arg-type]
    finally:
        recommendation_docs.file_name, recommendation_docs.document = original
    assert count == 3 and seen == [(1, 3), (2, 3), (3, 3)]
    assert zipfile.ZipFile(io.BytesIO(content)).namelist() == ["a.docx", "b.docx", "c.docx"]


def test_old_files_are_pruned_with_their_rows(province: User) -> None:
    file = services.request_file(
        province,
        "evaluation.unit",
        {"code": "340000", "year": YEAR},
        title="t.xlsx",
        fallback="t.xlsx",
        content_type="application/octet-stream",
    )
    assert services.stored_path(file).exists()
    PreparedFile.objects.filter(pk=file.pk).update(created_at=timezone.now() - services.KEEP - timedelta(minutes=1))
    fresh = services.request_file(
        province,
        "evaluation.unit",
        {"code": "340000", "year": YEAR},
        title="t.xlsx",
        fallback="t.xlsx",
        content_type="application/octet-stream",
    )
    assert services.prune() == 1
    assert not services.stored_path(file).exists() and services.stored_path(fresh).exists()
    assert list(PreparedFile.objects.values_list("pk", flat=True)) == [fresh.pk]
