"""The evaluation's large exports, prepared in the background with progress (see ``youjun.web.downloads``):

- a province or prefecture: the county summary and prefecture summary of its page, and every school unit of every
  county with a stored result (学校单元明细), county by county;
- the nation: the province summary of the national page and every county of every province (各县汇总), province by
  province.

Each builder checks the owner's jurisdiction when it runs and reads only what the owner may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from youjun.errors import YoujunError
from youjun.io.workbook import Table, write_tables
from youjun.web.accounts.models import User
from youjun.web.downloads.services import Progress, register
from youjun.web.evaluation import exports, pages, selectors
from youjun.web.organisation.models import Level, OrgUnit

UNIT_KIND = "evaluation.unit"
NATIONAL_KIND = "evaluation.national"


def _stacked(sheet: str, tables: list[Table], lead: dict[str, str], title: str | None = None) -> Table:
    """One sheet from several tables of the same kind (a county's units, a province's counties), the ``lead``
    columns (already added to each frame) first."""
    frame = pl.concat([t.frame for t in tables], how="diagonal_relaxed") if tables else pl.DataFrame()
    headers = dict(lead)
    formats: dict[str, str] = {}
    for t in tables:
        headers.update({k: v for k, v in t.headers.items() if k not in headers})
        formats.update(t.formats or {})
    order = [c for c in headers if c in frame.columns]
    return Table(sheet=sheet, frame=frame.select(order), headers=headers, formats=formats, title=title)


def build_unit(owner: User, params: Mapping[str, Any], progress: Progress, target: Path) -> None:
    org = selectors.visible_unit(owner, str(params["code"]))
    year = int(params["year"])
    if org.level not in (Level.PROVINCE, Level.PREFECTURE):
        raise YoujunError.single("not_found", "该单位不是省或地市。")
    progress.step("读取各县评估结果")
    page = pages.unit_page(owner, org, year)
    if not page.rows:
        raise YoujunError.single("not_found", f"{org.full_name}{year}年尚无已存储的评估结果。")
    tables = exports.unit_tables(page)
    counties = {c.code: c for c in OrgUnit.objects.filter(code__in=[r.code for r in page.rows], level=Level.COUNTY)}
    progress.step("汇总各县学校单元", total=len(page.rows))
    units = []
    for i, row in enumerate(page.rows, start=1):
        county_page = pages.county_page(owner, counties[row.code], year) if row.code in counties else None
        if county_page is not None:
            table = exports.units_table(county_page)
            units.append(
                Table(
                    sheet=table.sheet,
                    frame=table.frame.with_columns(
                        pl.lit(row.code).alias("county_code"), pl.lit(row.name).alias("county_name")
                    ),
                    headers=table.headers,
                    formats=table.formats,
                )
            )
        progress.advance(i, len(page.rows))
    lead = {"county_code": "县级区划代码", "county_name": "县（区）"}
    tables.append(_stacked("学校单元明细", units, lead, f"{org.full_name} {year} 年各县学校单元评估明细"))
    progress.step("写入 Excel 文件")
    write_tables(target, tables)


def build_national(owner: User, params: Mapping[str, Any], progress: Progress, target: Path) -> None:
    if not selectors.sees_whole_country(owner):
        raise YoujunError.single("forbidden", "全国汇总仅供教育部账号查看。")
    year = int(params["year"])
    progress.step("读取全国汇总")
    page = pages.national_page(owner, year)
    if not page.evaluated:
        raise YoujunError.single("not_found", f"全国{year}年尚无已存储的评估结果。")
    tables = exports.national_tables(page)
    provinces = list(OrgUnit.objects.filter(level=Level.PROVINCE).order_by("code"))
    progress.step("汇总各省各县", total=len(provinces))
    counties = []
    for i, province in enumerate(provinces, start=1):
        unit_page = pages.unit_page(owner, province, year)
        if unit_page.rows:
            table = exports.unit_tables(unit_page)[0]
            counties.append(
                Table(
                    sheet=table.sheet,
                    frame=table.frame.with_columns(pl.lit(province.name).alias("province")),
                    headers=table.headers,
                    formats=table.formats,
                )
            )
        progress.advance(i, len(provinces))
    title = f"全国 {year} 年各县资源配置评估汇总（已评估 {page.evaluated} 个县级单位）"
    tables.append(_stacked("各县汇总", counties, {"province": "省份"}, title))
    progress.step("写入 Excel 文件")
    write_tables(target, tables)


def register_all() -> None:
    register(UNIT_KIND, "省、地市评估汇总与学校单元明细 Excel", build_unit)
    register(NATIONAL_KIND, "全国评估汇总与各县汇总 Excel", build_national)
