"""``youjun-web recompute [--year Y] [--province P] [--county C] [--stale]``: recompute stored results.

Every county-year with school records, county inputs or a stored result, narrowed by the options; ``--stale``
only those behind their data, the engine or their rule set (after an upgrade, or a province's new rule set).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from youjun.web.assessment.models import CountyInputs
from youjun.web.collection.models import SchoolRecord
from youjun.web.evaluation import pipeline
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit


class Command(BaseCommand):
    help = "重新计算评估结果（可按年度、省份、县（区）筛选；--stale 只计算待更新的结果）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="统计年度")
        parser.add_argument("--province", help="省级区划代码的前 2 位或 6 位，如 34 或 340000")
        parser.add_argument("--county", help="县级区划代码（6 位）")
        parser.add_argument("--stale", action="store_true", help="只重新计算显示「结果待更新」的结果")

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = str(options.get("county") or (options.get("province") or "")[:2])
        if options.get("county") and len(prefix) != 6:
            raise CommandError("--county 应为 6 位县级区划代码")
        pairs: set[tuple[int, int]] = set()
        for model in (SchoolRecord, CountyInputs, CountyEvaluation):
            query = model.objects.filter(county__code__startswith=prefix)
            if options.get("year"):
                query = query.filter(year=options["year"])
            pairs |= set(query.values_list("county_id", "year").distinct())
        counties = OrgUnit.objects.in_bulk({c for c, _ in pairs})
        done = failed = skipped = 0
        for county_id, year in sorted(pairs, key=lambda p: (counties[p[0]].code, p[1])):
            county = counties[county_id]
            if options["stale"]:
                stored = CountyEvaluation.objects.filter(county=county, year=year).first()
                if stored is not None and not pipeline.staleness(stored, county, year)["stale"]:
                    skipped += 1
                    continue
            if pipeline.recompute_safely(county, year):
                done += 1
            else:
                failed += 1
                self.stderr.write(f"{county.name}（{county.code}）{year} 年：计算失败，详见日志")
        self.stdout.write(f"已重新计算 {done} 个县（区）年度，失败 {failed} 个，无需更新 {skipped} 个。")
        if failed:
            raise CommandError(f"{failed} 个县（区）年度计算失败")
