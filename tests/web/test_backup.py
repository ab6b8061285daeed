"""Backups that are tested: back up a database with evidence files, destroy both, restore, find the same pages and
files; a damaged, foreign or newer archive is refused before anything changes (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import Level, OrgUnit, School
from youjun.web.site.backup import MANIFEST, create_backup, restore_backup

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "backup-test-password-2024"


@pytest.fixture
def evidence(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    (folder / "ab").mkdir(parents=True)
    (folder / "ab" / "abcdef.pdf").write_bytes(b"%PDF-1.4 stamped letter " + bytes(range(256)) * 40)
    (folder / "cd.bin").write_bytes(b"\x00" * 1000)
    settings.YOUJUN_EVIDENCE_DIR = folder
    return folder


def _county_with_school() -> User:
    province = OrgUnit.objects.create(code="990000", name="备份省", level=Level.PROVINCE)
    prefecture = OrgUnit.objects.create(
        code="990100", name="备份市", level=Level.PREFECTURE, parent=province, province_name="备份省"
    )
    county = OrgUnit.objects.create(
        code="990101", name="备份县", level=Level.COUNTY, parent=prefecture, province_name="备份省"
    )
    School.objects.create(
        school_id="9901010001",
        name="备份县第一小学",
        county=county,
        school_type="小学",
        ownership="公办",
        urban_rural="城区",
    )
    user = User.objects.create(username="backup-county", role=Role.COUNTY, org_unit=county)
    user.set_password(PASSWORD)
    user.save()
    return user


def _page() -> str:
    client = Client()
    assert client.login(username="backup-county", password=PASSWORD)
    response = client.get("/registry/county/990101/schools/")
    assert response.status_code == 200
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())  # one per request


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_backup_destroy_restore_gives_the_same_pages_and_files(evidence: Path, tmp_path: Path) -> None:
    _county_with_school()
    page, files = _page(), _files(evidence)
    assert "备份县第一小学" in page and len(files) == 2
    archive = tmp_path / "backup.tar"
    summary = create_backup(archive)
    assert summary.files == 2

    call_command("flush", interactive=False, verbosity=0)  # the disaster: database and files gone
    for path in evidence.rglob("*.pdf"):
        path.unlink()
    (evidence / "stray.txt").write_text("written after the backup")
    assert not User.objects.exists()

    restore_backup(archive)
    assert _page() == page
    assert _files(evidence) == files  # the stray file is gone too: the folder is the backup's


def test_the_command_pair_reports_and_refuses_to_overwrite(evidence: Path, tmp_path: Path) -> None:
    _county_with_school()
    archive = tmp_path / "b.tar"
    out = io.StringIO()
    call_command("backup", "--out", str(archive), stdout=out)
    assert "已备份" in out.getvalue() and "2 个佐证文件" in out.getvalue()
    with pytest.raises(CommandError, match="已存在，不会覆盖"):
        call_command("backup", "--out", str(archive))
    School.objects.all().delete()
    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    assert "已恢复" in out.getvalue() and School.objects.filter(name="备份县第一小学").exists()


def _rewrite(archive: Path, target: Path, change: Any) -> None:
    """Copy the archive with ``change(name, data) -> data | None`` applied to each member (None drops it)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as copy:
        for member in source.getmembers():
            handle = source.extractfile(member)
            data = change(member.name, handle.read() if handle else b"")
            if data is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))


def _flip_last_byte(name: str, data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1]) if name.endswith(".pdf") else data


def _newer_migration(name: str, data: bytes) -> bytes:
    if name != MANIFEST:
        return data
    manifest = json.loads(data)
    manifest["migrations"].append(["programme", "9999_from_the_future"])
    return json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_flip_last_byte, "校验和不符"),
        (_newer_migration, "更新的版本"),
        (lambda name, data: None if name.endswith(".bin") else data, "不一致"),
    ],
    ids=["damaged-file", "newer-release", "missing-file"],
)
def test_a_bad_archive_is_refused_and_nothing_changes(
    change: Any, message: str, evidence: Path, tmp_path: Path
) -> None:
    _county_with_school()
    archive, bad = tmp_path / "good.tar", tmp_path / "bad.tar"
    create_backup(archive)
    School.objects.create(
        school_id="9901010002",
        name="备份后新建的学校",
        county=OrgUnit.objects.get(code="990101"),
        school_type="小学",
        ownership="公办",
        urban_rural="城区",
    )
    before = _files(evidence)
    _rewrite(archive, bad, change)
    with pytest.raises(Exception, match=message):
        restore_backup(bad)
    assert School.objects.filter(name="备份后新建的学校").exists() and _files(evidence) == before


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as archive:
        info = tarfile.TarInfo("notes.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(Exception, match="不是优均的备份文件"):
        restore_backup(other)
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(Exception, match="无法读取备份文件"):
        restore_backup(tmp_path / "junk.tar")
