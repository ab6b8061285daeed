"""``youjun-web recompute [--year Y] [--province P] [--county C] [--stale]``: recompute stored results.

Every county-year with school records, county inputs or a stored result, narrowed by the options; ``--stale``
only those behind their data, the engine or their rule set (after an upgrade, or a province's new rule set).
A year of many counties is recomputed in one batch (``evaluation.national``: one query, one engine run per rule
set, bulk writes); ``--county`` goes through the per-county pipeline.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from youjun.web.assessment.models import CountyInputs
from youjun.web.collection.models import SchoolRecord
from youjun.web.evaluation import national, pipeline
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
            pairs |= set(query.order_by().values_list("county_id", "year").distinct())
        counties = OrgUnit.objects.in_bulk({c for c, _ in pairs})
        by_year: dict[int, list[OrgUnit]] = defaultdict(list)
        for county_id, year in pairs:
            by_year[year].append(counties[county_id])
        if options.get("county"):
            self._one_by_one(by_year, options["stale"])
            return
        for year in sorted(by_year):
            chosen = sorted(by_year[year], key=lambda c: c.code)
            skipped = 0
            if options["stale"]:
                stale = national.stale_counties(year, chosen)
                skipped, chosen = len(chosen) - len(stale), stale
            if not chosen:
                self.stdout.write(f"{year} 年：{skipped} 个县（区）的结果已是最新，无需计算。")
                continue
            started = time.perf_counter()
            outcome = national.recompute_year(year, chosen, self._progress(year))
            phases = "，".join(f"{k} {v:.1f} 秒" for k, v in outcome.seconds.items())
            self.stdout.write(
                f"{year} 年：已重新计算 {outcome.stored} 个县（区），删除无数据的结果 {outcome.removed} 个，"
                f"无需更新 {skipped} 个，用时 {time.perf_counter() - started:.1f} 秒（{phases}）。"
            )
            if outcome.moved_on:
                self.stdout.write(
                    f"  其间数据又有变化的 {len(outcome.moved_on)} 个县（区）由各自的后台任务重新计算："
                    + "、".join(outcome.moved_on[:10])
                )

    def _progress(self, year: int) -> Any:
        last = [0.0]

        def report(phase: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 2 or done == total:
                label = "计算" if phase == "computed" else "写入"
                self.stderr.write(f"  {year} 年 {label}：{done:,} / {total:,}")
                last[0] = now

        return report

    def _one_by_one(self, by_year: dict[int, list[OrgUnit]], stale_only: bool) -> None:
        done = failed = skipped = 0
        for year in sorted(by_year):
            for county in by_year[year]:
                if stale_only and not national.stale_counties(year, [county]):
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
