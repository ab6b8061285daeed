"""The annual monitoring report (年度监测报告) and its Excel annex from the web: a county's at once (a few stored
years of one county), a province's prepared in the background (every county of every year) for its owner."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from youjun.errors import YoujunError
from youjun.io.documents.monitoring import (
    county_monitoring_docx,
    forecast_annex_table,
    monitoring_annex_tables,
    province_monitoring_docx,
)
from youjun.io.workbook import write_tables
from youjun.web.accounts.models import User
from youjun.web.downloads.services import Progress, register
from youjun.web.evaluation import selectors
from youjun.web.monitoring import forecasting, services
from youjun.web.organisation.models import Level, OrgUnit

REPORT_KIND = "monitoring.report"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def county_report(county: OrgUnit, fmt: str) -> tuple[bytes, str]:
    """The county's report (``docx``) or annex (``xlsx``) for its latest stored year, and its file name."""
    frames, found, rules = services.compute(services.province_of(county), county)
    year = max(frames.indicators["year"].to_list() or frames.counties["year"].to_list())
    fc = forecasting.county_forecast(county)
    result = fc.result if fc is not None else None
    if fmt == "docx":
        projected = result.cvs if result is not None else None
        content = county_monitoring_docx(
            frames, found, rules, county.code, year, scope_name=county.national_name, forecast=projected
        )
        return content, f"{county.national_name}{year}年义务教育优质均衡年度监测报告.docx"
    tables = monitoring_annex_tables(frames, found, rules, county.code, year)
    if result is not None:
        tables.append(forecast_annex_table(result.cvs, result.method))
    with tempfile.TemporaryDirectory(prefix="youjun-monitoring-") as tmp:
        path = Path(tmp) / "annex.xlsx"
        write_tables(path, tables)
        return path.read_bytes(), f"{county.national_name}{year}年度监测附表.xlsx"


def build_report(owner: User, params: Mapping[str, Any], progress: Progress, target: Path) -> None:
    province = selectors.visible_unit(owner, str(params["code"]))
    if province.level != Level.PROVINCE:
        raise YoujunError.single("not_found", "年度监测报告按省生成。")
    progress.step("计算各县逐年序列与预警")
    frames, found, rules = services.compute(province)
    year = max(frames.indicators["year"].to_list())
    names = dict(OrgUnit.objects.filter(parent=province, level=Level.PREFECTURE).values_list("code", "name"))
    if params.get("format") == "xlsx":
        progress.step("写入 Excel 附表")
        write_tables(target, monitoring_annex_tables(frames, found, rules, province.code, year))
        return
    progress.step("生成 Word 报告")
    content = province_monitoring_docx(frames, found, rules, province.code, year, scope_name=province.name, names=names)
    target.write_bytes(content)


def register_all() -> None:
    register(REPORT_KIND, "省级年度监测报告（Word）或附表（Excel）", build_report)
