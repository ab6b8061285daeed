"""``youjun-web restore FILE.tar [--yes]``: replace the database and evidence files by a backup's, after checking it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from youjun.errors import YoujunError
from youjun.web.site.backup import restore_backup


class Command(BaseCommand):
    help = "从备份恢复数据库和佐证材料文件（先校验全部内容，再替换；当前数据将被覆盖）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="backup 命令生成的 .tar 文件")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接恢复")

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["archive"]
        if not options["yes"]:
            answer = input(f"将用「{source}」覆盖当前数据库和佐证材料，确认请输入 yes：")
            if answer.strip().lower() != "yes":
                raise CommandError("已取消，未做任何更改。")
        try:
            summary = restore_backup(source.resolve())
        except YoujunError as exc:
            raise CommandError(exc.problems[0].message) from None
        call_command("migrate", verbosity=0)
        self.stdout.write(
            f"已恢复：{summary.path}（备份时间 {summary.created_at}，{summary.files} 个佐证文件）；"
            "数据库已迁移到当前版本。"
        )
