"""Backups that can be restored: the database and the evidence files in one archive, with a manifest of checksums.

An archive is a plain ``.tar`` (readable with any tar tool) holding

- ``manifest.json``: format version, creation time, product version, database vendor, the migrations applied, and
  for every other member its size and SHA-256;
- ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite, the online backup API:
  a consistent copy while the site runs);
- ``evidence/…``: every file under ``YOUJUN_EVIDENCE_DIR`` (uploaded evidence, stamped letters).

``restore`` checks everything before it changes anything: the manifest, every checksum, the vendor, and that the
backup's migrations are known to this code (a backup from a newer release is refused). Only then does it replace the
database (``pg_restore --clean --single-transaction``, or the SQLite backup API into the live database) and swap the
evidence folder in by renames. A restore of an older backup is followed by ``migrate``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader

from youjun.errors import YoujunError

FORMAT = 1
MANIFEST = "manifest.json"
EVIDENCE = "evidence"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Summary:
    path: Path
    vendor: str
    files: int
    bytes: int
    created_at: str


def _fail(message: str) -> YoujunError:
    return YoujunError.single("backup", message)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _evidence_dir() -> Path:
    return Path(settings.YOUJUN_EVIDENCE_DIR)


def _evidence_files() -> Iterator[Path]:
    root = _evidence_dir()
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path


def _applied_migrations() -> list[list[str]]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return sorted([app, name] for app, name in loader.applied_migrations)


def _pg_env() -> tuple[dict[str, str], list[str], str]:
    db = settings.DATABASES["default"]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return env, args, str(db["NAME"])


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise _fail(f"找不到 PostgreSQL 工具「{command[0]}」，请在服务器上安装 postgresql-client。") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise _fail(f"{command[0]} 执行失败：{detail[-1] if detail else done.returncode}")


def _dump_database(folder: Path) -> Path:
    vendor = connection.vendor
    if vendor == "postgresql":
        target = folder / "database.dump"
        env, args, name = _pg_env()
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *args, "--file", str(target), name], env)
        return target
    if vendor == "sqlite":
        target = folder / "database.sqlite3"
        connection.ensure_connection()
        source = connection.connection
        with sqlite3.connect(target) as copy:
            source.backup(copy)
        copy.close()
        return target
    raise _fail(f"不支持备份此类数据库：{vendor}")


def create_backup(target: Path) -> Summary:
    """Write the archive to ``target`` (a new file; an existing one is not replaced)."""
    if target.exists():
        raise _fail(f"文件「{target}」已存在，不会覆盖；请换一个文件名。")
    if not target.parent.is_dir():
        raise _fail(f"目录「{target.parent}」不存在。")
    with tempfile.TemporaryDirectory(prefix="youjun-backup-", dir=target.parent) as work:
        dump = _dump_database(Path(work))
        members: list[tuple[str, Path]] = [(dump.name, dump)]
        members += [(f"{EVIDENCE}/{p.relative_to(_evidence_dir()).as_posix()}", p) for p in _evidence_files()]
        entries: dict[str, dict[str, Any]] = {
            name: {"size": path.stat().st_size, "sha256": _sha256(path)} for name, path in members
        }
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "product": "youjun",
            "version": _version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "vendor": connection.vendor,
            "database": dump.name,
            "migrations": _applied_migrations(),
            "files": entries,
        }
        partial = Path(work) / "archive.tar"
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
            archive.addfile(info, io.BytesIO(data))
            for name, path in members:
                archive.add(path, arcname=name, recursive=False)
        os.replace(partial, target)
    return Summary(
        target, manifest["vendor"], len(members) - 1, sum(e["size"] for e in entries.values()), manifest["created_at"]
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("youjun")
    except PackageNotFoundError:
        return "unknown"


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        manifest = json.loads(handle.read().decode()) if handle else None
    except (KeyError, ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("product") != "youjun" or "files" not in manifest:
        raise _fail("这不是优均的备份文件（缺少或无法读取 manifest.json）。")
    if manifest.get("format") != FORMAT:
        raise _fail(f"备份格式版本 {manifest.get('format')} 不受支持（本版本支持 {FORMAT}）。")
    return manifest


def _safe_name(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def _verified_extract(source: Path, work: Path) -> dict[str, Any]:
    """Extract every member the manifest names into ``work``, checking names, sizes and checksums."""
    try:
        archive = tarfile.open(source, "r:")  # noqa: SIM115 (closed by the with block below; open can fail alone)
    except (OSError, tarfile.TarError):
        raise _fail(f"无法读取备份文件「{source}」（不是 tar 文件或已损坏）。") from None
    with archive:
        manifest = _read_manifest(archive)
        files: dict[str, dict[str, Any]] = manifest["files"]
        names = {m.name for m in archive.getmembers()} - {MANIFEST}
        if names != set(files):
            raise _fail("备份文件的内容与清单不一致（多出或缺少文件），未做任何更改。")
        for member in archive.getmembers():
            if member.name == MANIFEST:
                continue
            if not member.isfile() or not _safe_name(member.name):
                raise _fail(f"备份中有不安全的条目「{member.name}」，未做任何更改。")
            expected = files[member.name]
            if member.size != expected["size"]:
                raise _fail(f"「{member.name}」大小与清单不符，备份可能已损坏，未做任何更改。")
            target = work / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = archive.extractfile(member)
            if handle is None:
                raise _fail(f"无法读取「{member.name}」。")
            with target.open("wb") as out:
                shutil.copyfileobj(handle, out, CHUNK)
            if _sha256(target) != expected["sha256"]:
                raise _fail(f"「{member.name}」校验和不符，备份可能已损坏，未做任何更改。")
    return manifest


def _check_compatible(manifest: dict[str, Any]) -> None:
    if manifest.get("vendor") != connection.vendor:
        raise _fail(f"备份来自 {manifest.get('vendor')} 数据库，当前数据库是 {connection.vendor}，不能直接恢复。")
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    unknown = sorted(f"{app}.{name}" for app, name in manifest.get("migrations", []) if f"{app}.{name}" not in known)
    if unknown:
        raise _fail(f"备份来自更新的版本（本程序不认识迁移 {unknown[0]} 等 {len(unknown)} 项），请先升级程序再恢复。")


def _restore_database(dump: Path, vendor: str) -> None:
    connections.close_all()
    if vendor == "postgresql":
        env, args, name = _pg_env()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                *args,
                "--dbname",
                name,
                str(dump),
            ],
            env,
        )
        return
    connection.ensure_connection()
    with sqlite3.connect(dump) as source:
        source.backup(connection.connection)
    source.close()


def _swap_evidence(extracted: Path) -> None:
    root = _evidence_dir()
    root.parent.mkdir(parents=True, exist_ok=True)
    incoming = root.with_name(root.name + ".restoring")
    shutil.rmtree(incoming, ignore_errors=True)
    if extracted.is_dir():
        shutil.copytree(extracted, incoming)
    else:
        incoming.mkdir()
    old = root.with_name(root.name + ".before-restore")
    shutil.rmtree(old, ignore_errors=True)
    if root.exists():
        os.replace(root, old)
    os.replace(incoming, root)
    shutil.rmtree(old, ignore_errors=True)


def restore_backup(source: Path) -> Summary:
    """Replace the database and the evidence files by the archive's, after every check has passed."""
    if not source.is_file():
        raise _fail(f"备份文件「{source}」不存在。")
    with tempfile.TemporaryDirectory(prefix="youjun-restore-") as work:
        manifest = _verified_extract(source, Path(work))
        _check_compatible(manifest)
        _restore_database(Path(work) / manifest["database"], manifest["vendor"])
        _swap_evidence(Path(work) / EVIDENCE)
    files: dict[str, dict[str, Any]] = manifest["files"]
    return Summary(
        source, manifest["vendor"], len(files) - 1, sum(e["size"] for e in files.values()), manifest["created_at"]
    )
