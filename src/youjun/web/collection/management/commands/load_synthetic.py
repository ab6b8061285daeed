"""Load a national synthetic dataset (one year, all county-level units) for load tests."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from youjun.io.synth import generate
from youjun.web.bulk import refresh_statistics
from youjun.web.collection.loading import load_frame, onto_real_counties
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.organisation.models import Level, OrgUnit, School
from youjun.web.organisation.services import load_divisions


class Command(BaseCommand):
    help = "载入全国规模的模拟学校数据（约 20 万所学校），用于性能测试"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--counties", type=int, default=0, help="县级单位数（默认：全部）")
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--year", type=int, default=2024)

    def handle(self, *args: object, **options: int) -> None:
        started = time.perf_counter()
        if not OrgUnit.objects.filter(level=Level.COUNTY).exists():
            load_divisions()
        counties = list(OrgUnit.objects.filter(level=Level.COUNTY).order_by("code"))
        n = options["counties"] or len(counties)
        frame = onto_real_counties(generate(n, options["seed"], year=options["year"]).schools, counties[:n])
        generated = time.perf_counter()
        schools, records = load_frame(frame, RecordStatus.APPROVED)
        refresh_statistics(School, SchoolRecord, vacuum=True)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"已载入 {schools} 所学校、{records} 条年度数据（{n} 个县级单位）："
            f"生成 {generated - started:.1f} 秒，入库 {elapsed - (generated - started):.1f} 秒，共 {elapsed:.1f} 秒。"
        )
