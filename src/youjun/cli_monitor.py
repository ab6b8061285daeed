"""``youjun monitor``: several years' data files → each year evaluated → the monitoring series and early warnings
(``youjun.engine.monitoring``), without the web. Output: a table of the warnings, the series and warnings as JSON,
or the annex workbook of the monitoring report (指标序列, 预警事项, 地区汇总)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from youjun.errors import YoujunError

LEVEL_STYLES = {"关注": "cyan", "预警": "yellow", "警报": "bold red"}
_YEARS = re.compile(r"^\s*(\d{4})\s*(?:[-–—~]\s*(\d{4}))?\s*$")


def parse_years(text: str | None) -> list[int] | None:
    """``"2019-2025"`` or ``"2023,2024"`` → the years; None → every year in the data.

    >>> parse_years("2021-2023"), parse_years("2022, 2024"), parse_years(None)
    ([2021, 2022, 2023], [2022, 2024], None)
    """
    if text is None or not text.strip():
        return None
    years: list[int] = []
    for part in text.replace("，", ",").split(","):
        found = _YEARS.match(part)
        if found is None:
            raise YoujunError.single(
                "monitor_years", f"年度「{part.strip()}」无法识别，应写成「2019-2025」或「2023,2024」"
            )
        first, last = int(found.group(1)), int(found.group(2) or found.group(1))
        if last < first or last - first > 50:
            raise YoujunError.single("monitor_years", f"年度范围「{part.strip()}」应从小到大，且不超过 50 年")
        years += range(first, last + 1)
    return sorted(set(years))


def read_grades(path: Path) -> pl.DataFrame:
    """Enrolment by grade (CSV or Excel), held to the command line's input limits and checked cell by cell."""
    from youjun.io.forecast_inputs import read_table
    from youjun.io.limits import CLI_LIMITS

    return read_table(path, path.suffix or ".csv", "grades", CLI_LIMITS)


def read_births(path: Path) -> pl.DataFrame:
    """Births per county and year (CSV or Excel), checked like :func:`read_grades`."""
    from youjun.io.forecast_inputs import read_table
    from youjun.io.limits import CLI_LIMITS

    return read_table(path, path.suffix or ".csv", "births", CLI_LIMITS)


def project(schools: pl.DataFrame, grades: pl.DataFrame, births: pl.DataFrame | None, rules: Any, horizon: int) -> Any:
    """The forecast from the latest year's schools and the enrolment by grade (and births) of the years before."""
    from youjun.engine.forecast import forecast, project_enrolment

    base = int(grades["year"].max())  # type: ignore[arg-type]
    if base not in set(schools["year"].to_list()):
        raise YoujunError.single("forecast_year", f"分年级在校生的最近年度 {base} 年不在学校数据中")
    projection = project_enrolment(grades, births, horizon=horizon)
    return forecast(schools.filter(pl.col("year") == base), projection, rules)


def render_forecast(out: Console, fc: Any, limit: int) -> None:
    """Per county: the last projected year's units passing and CVs over their limits, schools falling below."""
    last = int(fc.cvs["year"].max())
    over = fc.cvs.filter(pl.col("year") == last, pl.col("cv_passed").not_())
    table = Table(title=f"在校生与资源配置预测（{last} 年，按今天的资源）", title_style="bold")
    for col in ("代码", "县（区）", "达标单元", "超限差异系数", "首次低于标准的学校指标"):
        table.add_column(col, no_wrap=col == "代码")
    for row in fc.counties.filter(pl.col("year") == last).head(limit).iter_rows(named=True):
        mine = over.filter(pl.col("county_code") == row["county_code"])
        codes = "、".join(
            f"{(r['stage'] == 'primary' and '小学') or '初中'}{r['indicator']}" for r in mine.iter_rows(named=True)
        )
        below = fc.below.filter(pl.col("county_code") == row["county_code"]).height
        table.add_row(
            row["county_code"],
            row["county_name"] or "",
            f"{row['units_passed']}/{row['units']}",
            codes or "—",
            str(below),
        )
    out.print(table)
    out.print(f"[dim]{fc.method[:200]}……（完整说明见 --format json）[/]")


def monitor(
    schools: pl.DataFrame, counties: pl.DataFrame | None, rules: Any, years: Sequence[int] | None
) -> tuple[Any, pl.DataFrame]:
    """Evaluate every year (the full assessment when there is a county sheet) and return the series and warnings."""
    from youjun.engine.assessment import assess
    from youjun.engine.evaluate import evaluate_resources
    from youjun.engine.monitoring import ROTATION_COLUMNS, Context, series, warnings

    found = sorted(set(schools["year"].to_list()))
    chosen = [y for y in found if years is None or y in years]
    missing = [y for y in (years or []) if y not in found]
    if missing:
        raise YoujunError.single(
            "monitor_years",
            f"数据中没有 {'、'.join(map(str, missing))} 年度（有 {'、'.join(map(str, found))} 年度）",
        )
    if len(chosen) < 2:
        raise YoujunError.single("monitor_years", "年度监测至少需要两个年度的数据（可一次给出多个文件）")
    full = counties is not None and bool(rules.sections.get("guarantee"))
    evaluations: dict[int, Any] = {}
    for year in chosen:
        mine = schools.filter(pl.col("year") == year)
        if full and counties is not None:
            evaluations[year] = assess(mine, counties.filter(pl.col("year") == year), rules)
        else:
            evaluations[year] = evaluate_resources(mine, rules)
    rotation = None
    if counties is not None and all(c in counties.columns for c in ROTATION_COLUMNS):
        rotation = counties.filter(pl.col("year").is_in(chosen)).select(ROTATION_COLUMNS)
    frames = series(evaluations)
    context = Context(schools=schools.filter(pl.col("year").is_in(chosen)), rotation=rotation)
    return frames, warnings(frames, rules, context)


def render(out: Console, frames: Any, found: pl.DataFrame, limit: int) -> None:
    """The warnings of the latest year by county (highest level first), then the counts by year and level."""
    years = sorted(frames.indicators["year"].unique().to_list())
    latest = years[-1]
    now = found.filter(pl.col("year") == latest)
    table = Table(title=f"{latest} 年度监测预警（{years[0]}–{latest} 年）", title_style="bold")
    for col in ("级别", "代码", "县（区）", "预警规则"):
        table.add_column(col, no_wrap=col in ("级别", "代码"))
    table.add_column("内容", overflow="fold")
    for row in now.head(limit).iter_rows(named=True):
        table.add_row(
            Text(row["level"], style=LEVEL_STYLES.get(row["level"], "")),
            row["county_code"],
            row["county_name"] or "",
            row["rule_name"],
            row["message"],
        )
    if now.height:
        out.print(table)
        if now.height > limit:
            out.print(f"……另有 {now.height - limit} 条未显示（可用 --limit 调整，或 --format json / xlsx 输出全部）。")
    else:
        out.print(f"[green]{latest} 年度未发现预警事项。[/]")
    counts = (
        found.group_by("year", "level", "severity")
        .agg(pl.len().alias("n"))
        .sort("year", "severity", descending=[False, True])
    )
    summary = "；".join(
        f"{y} 年 "
        + "、".join(f"{r['level']} {r['n']} 条" for r in counts.filter(pl.col("year") == y).iter_rows(named=True))
        for y in years
        if counts.filter(pl.col("year") == y).height
    )
    counties = frames.counties.filter(pl.col("year") == latest).height
    out.print(f"共 {counties} 个县（区）、{len(years)} 个年度。{summary or '各年度均未发现预警事项。'}")


def write_json(frames: Any, found: pl.DataFrame, target: Path | None, fc: Any = None) -> None:
    """``{"years": …, "indicators": […], "counties": […], "warnings": […]}`` at full precision (and ``forecast``)."""
    document: dict[str, Any] = {
        "years": sorted(frames.indicators["year"].unique().to_list()),
        "indicators": frames.indicators.to_dicts(),
        "counties": frames.counties.to_dicts(),
        "warnings": found.to_dicts(),
    }
    if fc is not None:
        document["forecast"] = {
            "method": fc.method,
            "cvs": fc.cvs.to_dicts(),
            "counties": fc.counties.to_dicts(),
            "stages": fc.stages.to_dicts(),
            "below": fc.below.to_dicts(),
        }
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, default=str)
    if target is None:
        sys.stdout.write(text + "\n")
    else:
        target.write_text(text + "\n", encoding="utf-8")


def write_xlsx(frames: Any, found: pl.DataFrame, rules: Any, target: Path, fc: Any = None) -> None:
    from youjun.io.documents.monitoring import forecast_annex_table, monitoring_annex_tables
    from youjun.io.workbook import write_tables

    latest = max(frames.indicators["year"].to_list())
    tables = monitoring_annex_tables(frames, found, rules, "000000", latest)
    if fc is not None:
        tables.append(forecast_annex_table(fc.cvs, fc.method))
    write_tables(target, tables)


def write_report(frames: Any, found: pl.DataFrame, rules: Any, county: str, target: Path, fc: Any = None) -> None:
    """The county's annual monitoring report (Word), with the forecast chapter when there is a forecast."""
    from youjun.io.documents.monitoring import county_monitoring_docx

    if county not in set(frames.counties["county_code"].to_list()):
        raise YoujunError.single("monitor_county", f"数据中没有县级区划代码为 {county} 的县（区）")
    latest = max(frames.indicators["year"].to_list())
    projected = fc.cvs.filter(pl.col("county_code") == county) if fc is not None else None
    target.write_bytes(county_monitoring_docx(frames, found, rules, county, latest, forecast=projected))
