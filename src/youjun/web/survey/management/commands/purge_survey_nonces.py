"""Delete expired answering-form nonces of the survey (also done a batch at a time while pages are rendered)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from youjun.web.survey.services import purge_nonces


class Command(BaseCommand):
    help = "删除已过期的问卷页面随机数（可由定时任务每天运行）"

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_nonces()
        self.stdout.write(f"已删除 {deleted} 个过期的问卷页面随机数。")
