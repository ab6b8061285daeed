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


def write_json(frames: Any, found: pl.DataFrame, target: Path | None) -> None:
    """``{"years": …, "indicators": […], "counties": […], "warnings": […]}`` at full precision."""
    document = {
        "years": sorted(frames.indicators["year"].unique().to_list()),
        "indicators": frames.indicators.to_dicts(),
        "counties": frames.counties.to_dicts(),
        "warnings": found.to_dicts(),
    }
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, default=str)
    if target is None:
        sys.stdout.write(text + "\n")
    else:
        target.write_text(text + "\n", encoding="utf-8")


def write_xlsx(frames: Any, found: pl.DataFrame, rules: Any, target: Path) -> None:
    from youjun.io.documents.monitoring import monitoring_annex_tables
    from youjun.io.workbook import write_tables

    latest = max(frames.indicators["year"].to_list())
    write_tables(target, monitoring_annex_tables(frames, found, rules, "000000", latest))
