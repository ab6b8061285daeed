"""``youjun-web send_reminders [--dry-run] [--digest]``: the daily run of deadline reminders (see todo.services)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from youjun.web.todo import services

SHOWN = 50


class Command(BaseCommand):
    help = "发送截止提醒：为临近截止或已逾期的待办事项创建站内通知（同一提醒不重复），并在启用邮件时发送邮件"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只列出将要发送的提醒，不保存、不发送")
        parser.add_argument("--digest", action="store_true", help="同时发送每日待办摘要邮件（每人每天一封）")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        run = services.send_reminders(dry_run=dry_run, digest=bool(options["digest"]))
        for reminder in run.created[:SHOWN]:
            self.stdout.write(f"  {reminder.user.name}：{reminder.text}")
        if len(run.created) > SHOWN:
            self.stdout.write(f"  ……另有 {len(run.created) - SHOWN} 条")
        mail = "" if settings.YOUJUN_EMAIL_ENABLED else "（未配置邮件服务器，只发站内通知）"
        if dry_run:
            would = f"演练：将新建站内通知 {len(run.created)} 条，发送邮件 {run.would_email} 封{mail}"
            self.stdout.write(would + "；未保存、未发送任何内容。")
            return
        line = f"新建站内通知 {len(run.created)} 条，发送邮件 {run.emails} 封{mail}，已办结通知 {run.settled} 条"
        if run.failed:
            line += f"，邮件发送失败 {run.failed} 封（详见日志）"
        if options["digest"]:
            line += f"，每日待办摘要 {run.digests} 封"
        self.stdout.write(line + "。")
