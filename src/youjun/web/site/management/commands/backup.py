"""``youjun-web backup --out FILE.tar``: the database and the evidence files in one archive with checksums."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from youjun.errors import YoujunError
from youjun.web.site.backup import create_backup


class Command(BaseCommand):
    help = "备份数据库和佐证材料文件（一个 .tar 文件，附校验和清单）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="备份文件路径（默认：当前目录下 youjun-backup-日期时间.tar）")

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["out"] or Path(f"youjun-backup-{timezone.localtime():%Y%m%d-%H%M%S}.tar")
        try:
            summary = create_backup(target.resolve())
        except YoujunError as exc:
            raise CommandError(exc.problems[0].message) from None
        self.stdout.write(
            f"已备份：{summary.path}（{summary.vendor} 数据库，{summary.files} 个佐证文件，共 {summary.bytes:,} 字节）"
        )
