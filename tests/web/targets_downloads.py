"""Prepared files in the permission matrix (tests/web/test_permissions.py): the list is everyone's own; a file and
its download are its owner's alone (here the ministry's), every other account gets 404 whatever its role."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from youjun.web.accounts.models import Role, User
from youjun.web.downloads import services
from youjun.web.downloads.models import FileStatus, PreparedFile

FILE = 990001
UNSCOPED: dict[str, dict[str, Any]] = {
    "downloads:mine": {},
    "downloads:file": {"pk": FILE},
    "downloads:download": {"pk": FILE},
}


def SNAPSHOT() -> tuple[Any, ...]:
    owner = User.objects.filter(role=Role.MINISTRY, username__startswith="ministry-").first()
    if owner is not None and not PreparedFile.objects.filter(pk=FILE).exists():
        file = PreparedFile.objects.create(
            pk=FILE,
            owner=owner,
            kind="evaluation.national",
            params={"year": 2024},
            key="matrix",
            title="矩阵测试.xlsx",
            fallback="matrix.xlsx",
            content_type="application/octet-stream",
            status=FileStatus.READY,
            size=4,
        )
        settings.YOUJUN_PREPARED_DIR.mkdir(parents=True, exist_ok=True)
        services.stored_path(file).write_bytes(b"test")
    return (PreparedFile.objects.count(),)


#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous (test_permissions.py).
UNSCOPED_STATUS = {
    "downloads:mine": "200/405 200/405 200/405 200/405 200/405 200/405 200/405 200/405 302/302",
    "downloads:file": "200/405 404/405 404/405 404/405 404/405 404/405 404/405 404/405 302/302",
    "downloads:download": "200/405 404/405 404/405 404/405 404/405 404/405 404/405 404/405 302/302",
}
