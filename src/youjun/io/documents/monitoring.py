"""The annual monitoring report (年度监测报告, Word with native charts) of a county or a province, and its Excel
annex, from the monitoring series and warnings of :mod:`youjun.engine.monitoring` (standard-2017.md §8).

The report of year Y reads the years up to Y; nothing is recomputed here. Every limit, level and warning parameter
printed comes from the rule set the series was judged under, every figure from the frames: CVs in tables are shown
with the rule set's ``display_cv_decimals`` (half-up), the charts cache them at full precision.

- :func:`county_monitoring_docx`: 一、监测概况 (years, the latest verdicts, units passing, warnings counted);
  二、资源配置指标的变化 (per stage a table of the county value and CV of every indicator year by year, over-limit
  CVs marked, and a line chart of the CVs with the limit as a dashed line); 三、预警事项 (the year's warnings by
  level, highest first); 四、学校层面情况 (school units falling below a standard, school and class sizes); 五、趋势预测
  (only with a forecast frame: projected CVs as dashed continuations); 附：数据说明 (method, limits, warning rules).
- :func:`province_monitoring_docx`: 一、监测概况 (counties evaluated and passing per year, a bar chart);
  二、资源配置指标超限情况 (counties over the limit per stage, indicator and year); 三、预警县（区） (the counties
  with warnings above the lowest level); 四、进步与退步 (:func:`movers`, defined in the document); 五、各市（州）汇总;
  附：数据说明.
- :func:`monitoring_annex_tables`: the sheets 指标序列, 预警事项, 地区汇总 for :func:`youjun.io.workbook.write_tables`.

Names: a county's name comes from the frames (``county_name``); a province's or a prefecture's is not in them and
is passed in (``scope_name``, ``names``), else its code is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import polars as pl

from youjun.engine.assessment import CONCLUSIONS, PARTS
from youjun.engine.monitoring import NATION_CODE, Series
from youjun.errors import YoujunError
from youjun.formatting import DASH, chinese_count, excel_format, number, rule_number
from youjun.io.documents.terms import PART_NAMES, Terms, status_label
from youjun.io.docx_base import Cell, Chart, add_chart, add_heading, add_paragraph, add_table, new_document, to_bytes
from youjun.io.docx_base import Series as ChartSeries
from youjun.io.workbook import Table
from youjun.standards import RuleSet
from youjun.standards.sections import (
    ClassSizeCap,
    CvNearLimit,
    CvRising,
    RecheckRisk,
    RotationShortfall,
    SchoolSizeCap,
    UnitFirstBelow,
    UnitsPassingFalling,
    WarningRule,
    WarningRules,
    warning_rules,
)

__all__ = [
    "ANNEX_SHEETS",
    "MOVERS_SHOWN",
    "NO_SCHOOL_WARNINGS",
    "NO_WARNINGS",
    "annex_frames",
    "county_monitoring_docx",
    "monitoring_annex_tables",
    "movers",
    "province_monitoring_docx",
]

#: What the county report says when the year has no warning at all, and none at school level.
NO_WARNINGS = "本年度未发现预警事项。"
NO_SCHOOL_WARNINGS = "本年度学校层面未发现预警事项。"
#: The sheets of the annex, in order.
ANNEX_SHEETS = ("指标序列", "预警事项", "地区汇总")
#: How many counties the province report lists as most improved and most worsened.
MOVERS_SHOWN = 5
#: Years side by side in one table (more years: the next table carries on).
YEARS_PER_TABLE = 5
#: Line colours of the indicators (in the rule set's order), of the limit, and the shading of an over-limit CV.
PALETTE = ("4472C4", "ED7D31", "70AD47", "FFC000", "7030A0", "5B9BD5", "264478", "9E480E", "636363", "997300")
LIMIT_COLOR = "C00000"
OVER_SHADE = "F8CBAD"
REGION_LEVEL_NAMES = {"nation": "全国", "province": "省", "prefecture": "市（州）"}
#: What a forecast frame must have to be drawn (``county_code`` too, when it holds several counties).
FORECAST_COLUMNS = ("year", "stage", "indicator", "cv")


# ---------------------------------------------------------------------------------------------------------------
# Shared pieces


def _years_text(years: Sequence[int]) -> str:
    """2021—2024 年 for consecutive years, 2021、2023 年 otherwise."""
    if not years:
        return ""
    if len(years) > 1 and list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}—{years[-1]} 年"
    return "、".join(str(y) for y in years) + " 年"


def _how_many(n: int) -> str:
    """A small count as a sentence says it before a measure word: 两个年度, 三个年度."""
    return "两" if n == 2 else chinese_count(n)


def _missing_years(years: Sequence[int]) -> list[int]:
    return [y for y in range(years[0], years[-1] + 1) if y not in years] if years else []


def _chunks(years: Sequence[int], size: int) -> list[list[int]]:
    """The years in consecutive tables of at most ``size`` columns, as even as possible.

    >>> _chunks(list(range(2018, 2025)), 5), _chunks([2023, 2024], 5)
    ([[2018, 2019, 2020, 2021], [2022, 2023, 2024]], [[2023, 2024]])
    """
    if not years:
        return []
    tables = -(-len(years) // size)
    step = -(-len(years) // tables)
    return [list(years[i : i + step]) for i in range(0, len(years), step)]


def _numbered(doc: Any) -> Callable[[str], None]:
    numbers = count(1)

    def heading(title: str) -> None:
        add_heading(doc, f"{chinese_count(next(numbers))}、{title}", 1)

    return heading


def _stages_in(t: Terms, found: Iterable[str]) -> list[str]:
    present = set(found)
    order = t.stage_order()
    return [s for s in order if s in present] + sorted(present - set(order))


def _short(t: Terms, code: str, *, unit: bool = True) -> str:
    """An indicator as narrow tables write it: R1 高学历教师（人）."""
    indicator = t.rules.indicators.get(code)
    if indicator is None:
        return code
    text = f"{code} {indicator.label}"
    return text + (f"（{indicator.unit}）" if unit and indicator.unit else "")


def _settings(rules: RuleSet) -> WarningRules:
    return warning_rules(rules.sections.get("monitoring"), rules.stages)


def _levels(rules: RuleSet, found: pl.DataFrame) -> list[str]:
    """The warning levels, highest first: the rule set's, then any other level the frame holds."""
    levels = list(reversed(_settings(rules).levels))
    others = (
        found.filter(~pl.col("level").is_in(levels))
        .group_by("level")
        .agg(pl.col("severity").max())
        .sort("severity", "level", descending=[True, False])["level"]
        .to_list()
        if found.height
        else []
    )
    return levels + [str(level) for level in others if level is not None]


def _level_counts(found: pl.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in found.group_by("level").len().iter_rows()} if found.height else {}


def _cv_limit(t: Terms, limits: Iterable[float | None]) -> str:
    shown = list(dict.fromkeys(t.limit(v) for v in limits if v is not None))
    return "≤ " + "、".join(shown) if shown else DASH


def _signed(text: str, value: float) -> str:
    return "+" + text if value > 0 and not text.startswith("-") else text


def _figure(t: Terms, code: object, value: object) -> str:
    """A warning's figure: an indicator's value with the display decimals, a count of pupils as a whole number."""
    if value is None:
        return DASH
    if str(code) in t.rules.indicators:
        return t.value(value)
    figure = float(value)  # type: ignore[arg-type]  # the frames hold Float64
    return number(figure, 0) if figure.is_integer() else t.value(figure)


def _part_text(part: str, status: str) -> str:
    """One part of the verdict in a sentence: 政府保障程度未达标; the vetoes as found or not."""
    if part == "vetoes":
        return {"met": "无一票否决事项", "not_met": "存在一票否决事项"}.get(status, "一票否决事项数据不足")
    return f"{PART_NAMES.get(part, part)}{status_label(status)}"


# ---------------------------------------------------------------------------------------------------------------
# The method notes (附：数据说明), shared by both reports


def _rule_condition(rule: WarningRule, t: Terms) -> str:
    """What a warning rule watches, with its parameters, in words."""
    rules = t.rules
    if isinstance(rule, CvNearLimit):
        return f"差异系数未超过限值，但距限值不足 {rule.margin:g}"
    if isinstance(rule, CvRising):
        rise = f"且每年升幅超过 {rule.min_increase:g}" if rule.min_increase > 0 else ""
        return f"差异系数连续{_how_many(rule.years)}年上升{rise}"
    if isinstance(rule, UnitsPassingFalling):
        what = "比例" if rule.measure == "share" else "数量"
        return f"达到校际均衡指标要求的学校单元{what}低于上年"
    if isinstance(rule, UnitFirstBelow):
        return "学校单元上年达到某项指标的标准，本年低于标准"
    if isinstance(rule, RecheckRisk):
        statuses = "或".join(rule.statuses.values())
        parts = "、".join(PART_NAMES.get(p, p) for p in rule.parts)
        return f"{statuses}的县（区）{parts}中任一部分未达标"
    if isinstance(rule, SchoolSizeCap):
        types = "、".join(rule.multi_stage_types)
        return (
            f"学校义务教育阶段在校生超过 {number(rule.max_students.single_stage, 0)} 人"
            f"（{types}超过 {number(rule.max_students.multi_stage, 0)} 人）"
        )
    if isinstance(rule, ClassSizeCap):
        caps = "、".join(f"{rules.stage_name(s)} {n} 人" for s, n in rule.max_class_size.items())
        return f"学段最大班额超过上限（{caps}）"
    if isinstance(rule, RotationShortfall):
        return (
            f"交流轮岗教师占符合交流条件教师的比例低于 {rule_number(rule.min_rotation_rate, 0, percent_=True)}，"
            f"或其中骨干教师占交流轮岗教师的比例低于 {rule_number(rule.min_backbone_share, 0, percent_=True)}"
        )
    return rule.name


def _method_notes(doc: Any, t: Terms, rules: RuleSet) -> None:
    add_heading(doc, "附：数据说明", 1)
    precision = rules.precision
    notes = [
        "一、数据来源：各年度数据为该年度的评估结果（学校年度数据和县级指标）；资源配置按评估单元计算，"
        "九年一贯制等学校按学段拆分为评估单元。",
        "二、差异系数：各学段、各项指标的校际差异系数 = 学生数加权标准差 ÷ 县域均值。县域均值为县域总量除以县域"
        "学生数；加权标准差以各评估单元的在校生数为权重，按总体标准差计算，不作样本校正。",
    ]
    limits = "；".join(text for text in (t.cv_limit_text(), t.school_rule_text()) if text)
    if limits:
        notes.append(f"三、限值：按{t.standard_name()}，{limits}。")
    compare = (
        f"比较前按 {precision.compare_cv_decimals} 位小数四舍五入"
        if precision.compare == "rounded"
        else "以全精度数值比较"
    )
    notes.append(
        f"四、精度：全精度计算，{compare}；表中差异系数保留 {precision.display_cv_decimals} 位小数、其他数值保留 "
        f"{precision.display_value_decimals} 位小数（四舍五入），图表数据为全精度数值。"
        "「⚠临界」表示四舍五入前后结论不同。"
    )
    settings = _settings(rules)
    if settings.levels:
        levels = "、".join(settings.levels)
        notes.append(
            f"五、预警级别：由低到高分为{levels}{chinese_count(len(settings.levels))}级，报告按由高到低排列。"
            "比较的年度为连续的自然年度：缺少某一年度的数据时，跨越该年度的比较不作预警。各项预警规则如下表。"
        )
    else:
        notes.append("五、预警规则：本规则集未设监测预警规则，报告不列预警事项。")
    for note in notes:
        add_paragraph(doc, note, indent=True)
    if settings.rules:
        rows: list[list[Any]] = [["预警类型", "级别", "条件", "启用"]]
        for rule in settings.rules.values():
            rows.append(
                [
                    rule.name,
                    Cell(rule.level, align="center"),
                    _rule_condition(rule, t),
                    Cell("是" if rule.enabled else "否", align="center"),
                ]
            )
        add_paragraph(doc, "监测预警规则", style="图表标题")
        add_table(doc, rows, [3.2, 1.4, 9.8, 1.2])


# ---------------------------------------------------------------------------------------------------------------
# One county


@dataclass(frozen=True)
class _County:
    """A county's frames of the years up to the report's."""

    code: str
    name: str
    year: int
    years: list[int]
    indicators: pl.DataFrame
    stages: pl.DataFrame
    counties: pl.DataFrame
    units: pl.DataFrame
    warnings: pl.DataFrame

    @classmethod
    def of(cls, series: Series, warnings: pl.DataFrame, code: str, year: int) -> _County:
        mine = (pl.col("county_code") == code) & (pl.col("year") <= year)
        indicators = series.indicators.filter(mine)
        counties = series.counties.filter(mine)
        years = sorted(set(indicators["year"].to_list()) | set(counties["year"].to_list()))
        if year not in years:
            raise YoujunError.single(
                "monitoring_report",
                f"县（区）{code} 没有 {year} 年的评估结果，不能生成该年度的监测报告",
                value=str(year),
            )
        names = [n for n in (*counties.sort("year")["county_name"], *indicators["county_name"]) if n]
        return cls(
            code=code,
            name=str(names[-1]) if names else code,
            year=year,
            years=years,
            indicators=indicators,
            stages=series.stages.filter(mine),
            counties=counties,
            units=series.units.filter(mine),
            warnings=warnings.filter(mine),
        )

    def verdict(self, year: int) -> dict[str, Any] | None:
        rows = self.counties.filter(pl.col("year") == year).rows(named=True)
        return rows[0] if rows else None


def _resource_status(row: Mapping[str, Any]) -> str | None:
    if row.get("resource_allocation"):
        return str(row["resource_allocation"])
    passed = row.get("passed")
    return None if passed is None else ("met" if passed else "not_met")


def county_monitoring_docx(
    series: Series,
    warnings: pl.DataFrame,
    rules: RuleSet,
    county_code: str,
    year: int,
    *,
    forecast: pl.DataFrame | None = None,
    scope_name: str | None = None,
) -> bytes:
    """The annual monitoring report of one county for ``year`` (.docx), from the series and warnings of the years up
    to it, judged under ``rules``. ``scope_name`` is the name in the title (e.g. 安徽省芜湖市鸠江区; default the
    county's name in the frames). ``forecast`` (columns ``year``, ``stage``, ``indicator``, ``cv``, and
    ``county_code`` when it holds several counties) adds 五、趋势预测 with the projected CVs of the years after the
    last one; without those columns, or without rows for the county, the chapter is left out."""
    t = Terms.of(rules)
    county = _County.of(series, warnings, county_code, year)
    name = scope_name or county.name
    title = f"{name}{year}年义务教育优质均衡年度监测报告"
    doc = new_document(title=title)
    add_heading(doc, title, 0)
    add_paragraph(doc, f"县级区划代码：{county_code}　监测年度：{_years_text(county.years)}", align="center")
    heading = _numbered(doc)
    heading("监测概况")
    _county_overview(doc, t, county, name)
    heading("资源配置指标的变化")
    _county_indicators(doc, t, county)
    heading("预警事项")
    _county_warnings(doc, t, county, rules)
    heading("学校层面情况")
    _county_schools(doc, t, county)
    projected = _forecast_rows(forecast, county)
    if projected is not None:
        heading("趋势预测")
        _county_forecast(doc, t, county, projected)
    _method_notes(doc, t, rules)
    add_paragraph(
        doc, f"本报告由优均系统根据 {_years_text(county.years)}的评估结果和监测预警规则生成。", size=9, align="right"
    )
    return to_bytes(doc)


def _county_overview(doc: Any, t: Terms, county: _County, name: str) -> None:
    years, year = county.years, county.year
    add_paragraph(
        doc,
        f"本报告汇总{name}{_years_text(years)}共{_how_many(len(years))}个年度的义务教育优质均衡发展评估结果，"
        f"依据{t.standard_name()}{'和监测预警规则' if _settings(t.rules).rules else ''}，"
        "逐年比较资源配置各项指标的县域值和校际差异系数，"
        f"列出 {year} 年的预警事项。",
        indent=True,
    )
    if missing := _missing_years(years):
        add_paragraph(
            doc,
            f"缺少 {'、'.join(str(y) for y in missing)} 年的评估结果；比较只在连续的年度之间进行，"
            "跨越缺失年度的变化不作预警。",
            indent=True,
        )
    row = county.verdict(year) or {}
    resource = _resource_status(row)
    sentence = f"{year} 年资源配置{status_label(resource)}"
    others = [_part_text(p, str(row[p])) for p in PARTS if p != "resource_allocation" and row.get(p)]
    if others:
        sentence += "；" + "，".join(others)
    if row.get("status"):
        sentence += f"。综合评估结论：{CONCLUSIONS.get(str(row['status']), status_label(row['status']))}。"
    else:
        sentence += "。评估数据只包含资源配置部分，不能作出是否达到优质均衡发展标准的结论。"
    add_paragraph(doc, sentence, indent=True)
    _verdict_table(doc, county)
    _units_table(doc, t, county)
    found = county.warnings.filter(pl.col("year") == year)
    if found.height:
        counts = _level_counts(found)
        levels = [f"{level} {counts[level]} 项" for level in reversed(_settings(t.rules).levels) if counts.get(level)]
        levels += [f"{k} {v} 项" for k, v in counts.items() if k not in _settings(t.rules).levels]
        add_paragraph(doc, f"{year} 年发现预警事项 {found.height} 项：{'、'.join(levels)}（见第三部分）。", indent=True)
    else:
        add_paragraph(doc, NO_WARNINGS, indent=True)


def _verdict_table(doc: Any, county: _County) -> None:
    """Each part's status year by year (the parts an assessment gave, the resource part always)."""
    frame = county.counties.sort("year")
    by_year = {int(r["year"]): r for r in frame.rows(named=True)}
    parts = ["resource_allocation"] + [
        p for p in PARTS if p != "resource_allocation" and p in frame.columns and frame[p].is_not_null().any()
    ]
    overall = "status" in frame.columns and frame["status"].is_not_null().any()
    for years in _chunks(county.years, 6):
        rows: list[list[Any]] = [["评估内容", *(f"{y} 年" for y in years)]]
        for part in parts:
            cells = []
            for y in years:
                r = by_year.get(y) or {}
                status = _resource_status(r) if part == "resource_allocation" else r.get(part)
                cells.append(Cell(status_label(status), align="center"))
            rows.append([PART_NAMES.get(part, part), *cells])
        if overall:
            rows.append(
                [
                    "综合评估结论",
                    *(Cell(status_label((by_year.get(y) or {}).get("status")), align="center") for y in years),
                ]
            )
        width = min(2.2, 11.6 / len(years))
        add_paragraph(doc, f"各年度评估结论（{_years_text(years)}）", style="图表标题")
        add_table(doc, rows, [4.0, *([width] * len(years))])


def _units_table(doc: Any, t: Terms, county: _County) -> None:
    stages = county.stages.sort("year")
    over = (
        county.indicators.filter(pl.col("cv_passed").not_().fill_null(False))
        .group_by("year", "stage", maintain_order=True)
        .agg(pl.col("indicator"))
    )
    over_of = {(int(y), str(s)): list(codes) for y, s, codes in over.iter_rows()}
    per_school = t.rules.school_rule is not None  # a method without the per-school rule passes no unit
    rows: list[list[Any]] = [["年度", "学段", "评估单元数", "达标单元数", "达标比例", "差异系数超限的指标"]]
    for year in county.years:
        here = stages.filter(pl.col("year") == year)
        by_stage = {str(r["stage"]): r for r in here.rows(named=True)}
        for stage in _stages_in(t, by_stage):
            r = by_stage[stage]
            n, ok = int(r["units"] or 0), int(r["units_passed"] or 0)
            codes = t.codes(over_of.get((year, stage), []))
            rows.append(
                [
                    Cell(str(year), align="center"),
                    Cell(t.stage(stage), align="center"),
                    Cell(number(n, 0), align="right"),
                    Cell(number(ok, 0) if per_school else DASH, align="right"),
                    Cell(t.rate(ok / n if n and per_school else None), align="right"),
                    "、".join(codes) if codes else "无",
                ]
            )
    if len(rows) > 1:
        add_paragraph(doc, "各年度评估单元达标情况", style="图表标题")
        add_table(doc, rows, [1.6, 1.4, 2.1, 2.1, 2.0, 6.4])
    latest = {str(r["stage"]): r for r in stages.filter(pl.col("year") == county.year).rows(named=True)}
    before = {str(r["stage"]): r for r in stages.filter(pl.col("year") == county.year - 1).rows(named=True)}
    texts = []
    for stage in _stages_in(t, latest) if per_school else ():
        r = latest[stage]
        n, ok = int(r["units"] or 0), int(r["units_passed"] or 0)
        text = (
            f"{t.stage(stage)}评估单元 {number(n, 0)} 个，达到校际均衡指标要求的 {number(ok, 0)} 个"
            f"（{t.rate(ok / n if n else None)}）"
        )
        if stage in before:
            b = before[stage]
            text += f"，上年 {number(int(b['units_passed'] or 0), 0)} / {number(int(b['units'] or 0), 0)} 个"
        texts.append(text)
    if texts:
        add_paragraph(doc, f"{county.year} 年" + "；".join(texts) + "。", indent=True)


def _cv_cell(t: Terms, row: Mapping[str, Any] | None) -> Cell:
    """A CV as the tables show it; over its limit: marked 超限 and shaded; on a boundary: ⚠临界."""
    if row is None or row.get("cv") is None:
        return Cell(DASH, align="right")
    text = t.cv(row["cv"])
    over = row.get("cv_passed") is False
    if over:
        text += "\n超限"
    if row.get("cv_boundary"):
        text += "\n⚠临界"
    return Cell(text, align="right", bold=over, shade=OVER_SHADE if over else None)


def _county_indicators(doc: Any, t: Terms, county: _County) -> None:
    limits = t.cv_limit_text()
    add_paragraph(
        doc,
        "校际差异系数按学生数加权计算"
        + (f"，{limits}" if limits else "")
        + "。表中差异系数超过限值的标「超限」并加底色，四舍五入前后结论不同的标「⚠临界」；"
        "图中实线为各项指标差异系数，红色虚线为限值。",
        indent=True,
    )
    frame = county.indicators
    for index, stage in enumerate(_stages_in(t, frame["stage"].unique().to_list())):
        label = t.stage(stage)
        add_heading(doc, f"（{chinese_count(index + 1)}）{label}", 2)
        mine = frame.filter(pl.col("stage") == stage)
        years = sorted(mine["year"].unique().to_list())
        codes = t.codes(mine["indicator"].unique().to_list())
        cells = {(str(r["indicator"]), int(r["year"])): r for r in mine.rows(named=True)}
        for chunk in _chunks(years, YEARS_PER_TABLE):
            rows: list[list[Any]] = [["指标", "项目", *(f"{y} 年" for y in chunk), "限值"]]
            for code in codes:
                here = [cells.get((code, y)) for y in chunk]
                rows.append(
                    [
                        _short(t, code),
                        Cell("县域值", align="center"),
                        *(Cell(t.value(r.get("county_value") if r else None), align="right") for r in here),
                        "",
                    ]
                )
                rows.append(
                    [
                        "",
                        Cell("差异系数", align="center"),
                        *(_cv_cell(t, r) for r in here),
                        Cell(_cv_limit(t, [r.get("cv_limit") for r in here if r]), align="center"),
                    ]
                )
            width = min(2.2, 9.0 / len(chunk))
            add_paragraph(doc, f"{label}资源配置指标县域值与校际差异系数（{_years_text(chunk)}）", style="图表标题")
            add_table(doc, rows, [3.4, 1.9, *([width] * len(chunk)), 1.3])
        add_paragraph(doc, _change_text(t, label, years, codes, cells), indent=True)
        by_year = {int(r["year"]): r.get("cv_limit") for r in mine.rows(named=True)}
        add_chart(
            doc,
            Chart(
                title=f"{label}各项指标校际差异系数变化",
                categories=[f"{y}年" for y in years],
                series=[
                    *(
                        ChartSeries(
                            code,
                            [_cv_value(cells.get((code, y))) for y in years],
                            kind="line",
                            color=PALETTE[i % len(PALETTE)],
                            dashed=False,
                            markers=True,
                        )
                        for i, code in enumerate(codes)
                    ),
                    *_limit_series([_float(by_year.get(y)) for y in years]),
                ],
                number_format=excel_format(t.shown.cv_decimals),
                axis_title="差异系数",
            ),
        )


def _limit_series(limits: list[float | None]) -> list[ChartSeries]:
    """The limit drawn across a chart as a dashed red line (none when the method sets no limit per indicator)."""
    if all(v is None for v in limits):
        return []
    return [ChartSeries("限值", limits, kind="line", color=LIMIT_COLOR)]


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]  # Float64 cells


def _cv_value(row: Mapping[str, Any] | None) -> float | None:
    return None if row is None else _float(row.get("cv"))


def _change_text(
    t: Terms, label: str, years: list[int], codes: list[str], cells: Mapping[tuple[str, int], Mapping[str, Any]]
) -> str:
    last = years[-1]
    parts = []
    if len(years) > 1:
        first = years[0]
        falling: list[str] = []
        rising: list[str] = []
        for code in codes:
            a, b = _cv_value(cells.get((code, first))), _cv_value(cells.get((code, last)))
            if a is not None and b is not None:
                (falling if b < a else rising if b > a else []).append(code)
        parts.append(
            f"与 {first} 年相比，{last} 年{label}差异系数下降的指标 {len(falling)} 项"
            + (f"（{'、'.join(falling)}）" if falling else "")
            + f"，上升的 {len(rising)} 项"
            + (f"（{'、'.join(rising)}）" if rising else "")
            + "。"
        )
    else:
        parts.append(f"只有 {last} 年一个年度的数据，不作比较。")
    over = [
        f"{code}（{t.cv(r['cv'])}）"
        for code in codes
        if (r := cells.get((code, last))) is not None and r.get("cv_passed") is False
    ]
    undefined = [code for code in codes if (r := cells.get((code, last))) is not None and r.get("cv") is None]
    parts.append(
        f"{last} 年差异系数超过限值的有 {'、'.join(over)}。" if over else f"{last} 年各项指标差异系数均未超过限值。"
    )
    if undefined:
        parts.append(f"{'、'.join(undefined)} 的差异系数无法计算（县域均值为零），请核实数据。")
    return "".join(parts)


def _county_warnings(doc: Any, t: Terms, county: _County, rules: RuleSet) -> None:
    year = county.year
    found = county.warnings.filter(pl.col("year") == year)
    levels = _levels(rules, county.warnings)
    if not found.height:
        add_paragraph(doc, NO_WARNINGS, indent=True)
    else:
        counts = _level_counts(found)
        add_paragraph(
            doc,
            f"按监测预警规则（见附：数据说明），{year} 年发现预警事项 {found.height} 项，按级别由高到低列出。",
            indent=True,
        )
        shown = [level for level in levels if counts.get(level)]
        for index, level in enumerate(shown):
            add_heading(doc, f"（{chinese_count(index + 1)}）{level}（{counts[level]} 项）", 2)
            rows: list[list[Any]] = [["序号", "预警类型", "预警内容"]]
            for i, r in enumerate(found.filter(pl.col("level") == level).rows(named=True)):
                rows.append([Cell(str(i + 1), align="center"), str(r["rule_name"] or r["rule"]), str(r["message"])])
            add_table(doc, rows, [1.2, 3.4, 11.0])
    if len(county.years) > 1 and levels:
        history = _level_history(county.warnings, county.years)
        rows = [["年度", *levels, "合计"]]
        for y in county.years:
            counts = history.get(y, {})
            rows.append(
                [
                    Cell(str(y), align="center"),
                    *(Cell(str(counts.get(level, 0)), align="right") for level in levels),
                    Cell(str(sum(counts.values())), align="right"),
                ]
            )
        add_paragraph(doc, "各年度预警事项数（项）", style="图表标题")
        width = 12.0 / (len(levels) + 1)
        add_table(doc, rows, [2.0, *([width] * (len(levels) + 1))])


def _level_history(found: pl.DataFrame, years: Sequence[int]) -> dict[int, dict[str, int]]:
    history: dict[int, dict[str, int]] = {y: {} for y in years}
    for y, level, n in found.group_by("year", "level").len().iter_rows():
        history.setdefault(int(y), {})[str(level)] = int(n)
    return history


def _county_schools(doc: Any, t: Terms, county: _County) -> None:
    year = county.year
    units = county.units
    now = units.filter(pl.col("year") == year)
    before = units.filter(pl.col("year") == year - 1)
    failing = now.filter(pl.col("passed").not_().fill_null(False))
    if now.height:
        per_stage = {str(s): int(n) for s, n in failing.group_by("stage").len().iter_rows()}
        stages = "、".join(f"{t.stage(s)} {per_stage[s]} 个" for s in _stages_in(t, per_stage))
        text = f"{year} 年未达到校际均衡指标要求的学校单元 {failing.height} 个" + (f"（{stages}）" if stages else "")
        if before.height:
            newly = failing.join(
                before.filter(pl.col("passed").fill_null(False)).select("school_id", "stage"),
                on=["school_id", "stage"],
                how="semi",
            )
            text += f"，其中上年达到要求、本年未达到的 {newly.height} 个"
        add_paragraph(doc, text + "。", indent=True)
    schools = county.warnings.filter(pl.col("year") == year, pl.col("school_id").is_not_null())
    if not schools.height:
        add_paragraph(doc, NO_SCHOOL_WARNINGS, indent=True)
        return
    by_rule = schools.group_by("rule_name", maintain_order=True).len().rows()
    add_paragraph(
        doc,
        f"{year} 年学校层面预警事项 {schools.height} 项："
        + "、".join(f"{name} {n} 项" for name, n in by_rule)
        + "。上年达标、本年低于标准的指标，以及学校规模和班额超过上限的情况如下表。",
        indent=True,
    )
    rows: list[list[Any]] = [["学校", "学段", "预警类型", "指标或事项", "本年", "标准或上限", "上年"]]
    for r in schools.rows(named=True):
        code = r["code"]
        previous = r["previous"] or []
        rows.append(
            [
                str(r["school_name"] or r["school_id"]),
                Cell(t.stage(r["stage"]) if r["stage"] else DASH, align="center"),
                str(r["rule_name"] or r["rule"]),
                _short(t, str(code), unit=False) if code else DASH,
                Cell(_figure(t, code, r["value"]), align="right"),
                Cell(_figure(t, code, r["limit"]), align="right"),
                Cell(_figure(t, code, previous[-1]) if previous else DASH, align="right"),
            ]
        )
    add_paragraph(doc, f"{year} 年学校层面预警事项", style="图表标题")
    add_table(doc, rows, [3.6, 1.2, 2.6, 2.8, 1.8, 1.8, 1.8])


# ---------------------------------------------------------------------------------------------------------------
# The forecast (五、趋势预测)


def _forecast_rows(forecast: pl.DataFrame | None, county: _County) -> pl.DataFrame | None:
    """The projected CVs of the county after its last year (year, stage, indicator, cv), or None to leave the
    chapter out: no frame, a frame without the columns, or no usable row for the county."""
    if forecast is None or not set(FORECAST_COLUMNS) <= set(forecast.columns):
        return None
    frame = forecast
    if "county_code" in frame.columns:
        frame = frame.filter(pl.col("county_code").cast(pl.String, strict=False) == county.code)
    frame = (
        frame.select(
            pl.col("year").cast(pl.Int64, strict=False),
            pl.col("stage").cast(pl.String, strict=False),
            pl.col("indicator").cast(pl.String, strict=False),
            pl.col("cv").cast(pl.Float64, strict=False),
        )
        .drop_nulls()
        .filter(pl.col("year") > county.years[-1], pl.col("cv").is_finite())
        .unique(["year", "stage", "indicator"], keep="first", maintain_order=True)
        .sort("year")
    )
    return frame if frame.height else None


def _county_forecast(doc: Any, t: Terms, county: _County, projected: pl.DataFrame) -> None:
    last = county.years[-1]
    add_paragraph(
        doc,
        f"以下为预测模型给出的 {_years_text(sorted(projected['year'].unique().to_list()))}各项指标差异系数预测值，"
        "图中实线为各年度实际值，虚线为预测值，红色虚线为限值。预测值仅供参考，不是评估结论。",
        indent=True,
    )
    actual = county.indicators
    tolerance = t.rules.precision.tolerance
    warned: list[str] = []
    for index, stage in enumerate(_stages_in(t, projected["stage"].unique().to_list())):
        label = t.stage(stage)
        add_heading(doc, f"（{chinese_count(index + 1)}）{label}", 2)
        mine = projected.filter(pl.col("stage") == stage)
        past = actual.filter(pl.col("stage") == stage)
        years = sorted(past["year"].unique().to_list())
        ahead = sorted(mine["year"].unique().to_list())
        codes = t.codes([*mine["indicator"].unique().to_list(), *past["indicator"].unique().to_list()])
        seen = {(str(r["indicator"]), int(r["year"])): float(r["cv"]) for r in mine.rows(named=True)}
        cells = {(str(r["indicator"]), int(r["year"])): r for r in past.rows(named=True)}
        limits = [_float(r["cv_limit"]) for r in past.sort("year").rows(named=True) if r["cv_limit"] is not None]
        limit = limits[-1] if limits else _float((t.rules.balance.cv_limit or {}).get(stage))
        rows: list[list[Any]] = [["指标", f"{last} 年实际", *(f"{y} 年预测" for y in ahead)]]
        for code in codes:
            shown = []
            for y in ahead:
                value = seen.get((code, y))
                over = value is not None and limit is not None and value > limit * (1 + tolerance)
                if over:
                    warned.append(f"{y} 年{label} {code}（{t.cv(value)}，限值 {t.limit(limit or 0.0)}）")
                shown.append(
                    Cell(
                        DASH if value is None else t.cv(value) + ("\n超限" if over else ""),
                        align="right",
                        bold=over,
                        shade=OVER_SHADE if over else None,
                    )
                )
            rows.append([_short(t, code), _cv_cell(t, cells.get((code, last))), *shown])
        width = min(2.4, 10.0 / (len(ahead) + 1))
        add_paragraph(doc, f"{label}校际差异系数预测值", style="图表标题")
        add_table(doc, rows, [3.6, *([width] * (len(ahead) + 1))])
        categories = [*years, *ahead]
        series: list[ChartSeries] = []
        for i, code in enumerate(codes):
            color = PALETTE[i % len(PALETTE)]
            series.append(
                ChartSeries(
                    code,
                    [_cv_value(cells.get((code, y))) for y in years] + [None] * len(ahead),
                    kind="line",
                    color=color,
                    dashed=False,
                    markers=True,
                )
            )
            start = _cv_value(cells.get((code, last))) if years and years[-1] == last else None
            series.append(
                ChartSeries(
                    f"{code}预测",
                    [None] * max(len(years) - 1, 0) + ([start] if years else []) + [seen.get((code, y)) for y in ahead],
                    kind="line",
                    color=color,
                    markers=True,
                )
            )
        by_year = {int(r["year"]): _float(r["cv_limit"]) for r in past.rows(named=True)}
        series += _limit_series([by_year.get(y, limit) for y in years] + [limit] * len(ahead))
        add_chart(
            doc,
            Chart(
                title=f"{label}各项指标校际差异系数预测",
                categories=[f"{y}年" for y in categories],
                series=series,
                number_format=excel_format(t.shown.cv_decimals),
                axis_title="差异系数",
            ),
        )
    if warned:
        add_paragraph(doc, "按预测值，" + "；".join(warned) + "将超过限值，需提前采取措施。", indent=True)
    else:
        add_paragraph(doc, "按预测值，预测期内各项指标差异系数均不超过限值。", indent=True)


# ---------------------------------------------------------------------------------------------------------------
# A province


def _region_code(code: str) -> str:
    """A 6-digit region code; a 2-digit province prefix (34) is read as its code (340000)."""
    code = str(code).strip()
    return code + "0000" if len(code) == 2 else code


@dataclass(frozen=True)
class _Province:
    code: str
    prefix: str
    year: int
    years: list[int]
    totals: pl.DataFrame  # region_counties of the province, by year
    regions: pl.DataFrame  # regions of the province, by year, stage and indicator
    indicators: pl.DataFrame
    warnings: pl.DataFrame
    prefectures: pl.DataFrame  # region_counties of its prefectures, the report's year
    prefecture_regions: pl.DataFrame  # regions of its prefectures, the report's year

    @classmethod
    def of(cls, series: Series, warnings: pl.DataFrame, code: str, year: int) -> _Province:
        prefix = code[:2]
        upto = pl.col("year") <= year
        own = (pl.col("level") == "province") & (pl.col("region_code") == code) & upto
        below = (pl.col("level") == "prefecture") & pl.col("region_code").str.starts_with(prefix)
        totals = series.region_counties.filter(own).sort("year")
        years = sorted(totals["year"].to_list())
        if year not in years:
            raise YoujunError.single(
                "monitoring_report",
                f"省级区划 {code} 没有 {year} 年的评估结果，不能生成该年度的监测报告",
                value=str(year),
            )
        counties = pl.col("county_code").str.starts_with(prefix) & upto
        return cls(
            code=code,
            prefix=prefix,
            year=year,
            years=years,
            totals=totals,
            regions=series.regions.filter(own),
            indicators=series.indicators.filter(counties),
            warnings=warnings.filter(counties),
            prefectures=series.region_counties.filter(below, pl.col("year") == year).sort("region_code"),
            prefecture_regions=series.regions.filter(below, pl.col("year") == year),
        )


def _listed_levels(rules: RuleSet, found: pl.DataFrame) -> list[str]:
    """The levels a province lists counties for: every level above the lowest of the rule set (all of one)."""
    levels = _levels(rules, found)
    lowest = _settings(rules).levels[:1]
    listed = [level for level in levels if level not in lowest]
    return listed or levels


def province_monitoring_docx(
    series: Series,
    warnings: pl.DataFrame,
    rules: RuleSet,
    province_code: str,
    year: int,
    *,
    scope_name: str | None = None,
    names: Mapping[str, str] | None = None,
) -> bytes:
    """The annual monitoring report of a province for ``year`` (.docx): its counties year by year, the counties with
    warnings, the counties most improved and most worsened (:func:`movers`), and its prefectures. ``scope_name`` is
    the province's name (the frames do not hold it; default: its code); ``names`` maps prefecture codes (340200)
    to their names for the per-prefecture table."""
    t = Terms.of(rules)
    code = _region_code(province_code)
    province = _Province.of(series, warnings, code, year)
    name = scope_name or f"省级区划 {code} "
    title = f"{name}{year}年义务教育优质均衡年度监测报告"
    doc = new_document(title=title)
    add_heading(doc, title, 0)
    add_paragraph(doc, f"省级区划代码：{code}　监测年度：{_years_text(province.years)}", align="center")
    heading = _numbered(doc)
    heading("监测概况")
    _province_overview(doc, t, province, name.strip(), rules)
    heading("资源配置指标超限情况")
    _province_indicators(doc, t, province)
    heading("预警县（区）")
    _province_warned(doc, province, rules)
    heading("进步与退步")
    _province_movers(doc, t, province)
    heading("各市（州）汇总")
    _province_prefectures(doc, t, province, rules, names or {})
    _method_notes(doc, t, rules)
    add_paragraph(
        doc,
        f"本报告由优均系统根据 {_years_text(province.years)}的评估结果和监测预警规则生成。",
        size=9,
        align="right",
    )
    return to_bytes(doc)


def _counties_with(found: pl.DataFrame, level: str) -> pl.DataFrame:
    """Per year: the number of counties with at least one warning of ``level``."""
    return found.filter(pl.col("level") == level).group_by("year").agg(pl.col("county_code").n_unique().alias("n"))


def _province_overview(doc: Any, t: Terms, province: _Province, name: str, rules: RuleSet) -> None:
    rows_by_year = {int(r["year"]): r for r in province.totals.rows(named=True)}
    year = province.year
    now = rows_by_year[year]
    n, ok = int(now["counties"]), int(now["resources_passed"])
    text = (
        f"本报告汇总{name}所辖县（区）{_years_text(province.years)}的义务教育优质均衡发展评估结果。"
        f"{year} 年参加评估的县（区）{n} 个，资源配置达标 {ok} 个（{t.rate(ok / n if n else None)}）"
    )
    if (before := rows_by_year.get(year - 1)) is not None:
        change = ok - int(before["resources_passed"])
        text += (
            f"，较上年增加 {change} 个"
            if change > 0
            else f"，较上年减少 {-change} 个"
            if change < 0
            else "，与上年持平"
        )
    if int(now["assessed"] or 0):
        text += f"；完成综合评估的 {int(now['assessed'])} 个，达到优质均衡发展标准的 {int(now['met'] or 0)} 个"
    add_paragraph(doc, text + "。", indent=True)
    if missing := _missing_years(province.years):
        add_paragraph(
            doc, f"缺少 {'、'.join(str(y) for y in missing)} 年的评估结果，跨越缺失年度的变化不作预警。", indent=True
        )
    levels = _listed_levels(rules, province.warnings)
    with_level = {
        level: {int(y): int(k) for y, k in _counties_with(province.warnings, level).iter_rows()} for level in levels
    }
    assessed = province.totals["assessed"].fill_null(0).sum() > 0
    header = ["年度", "参评县（区）", "资源配置达标", "达标比例"]
    if assessed:
        header += ["完成综合评估", "达到优质均衡标准"]
    header += [f"有{level}的县（区）" for level in levels]
    rows: list[list[Any]] = [header]
    for y in province.years:
        r = rows_by_year[y]
        n, ok = int(r["counties"]), int(r["resources_passed"])
        cells = [
            Cell(str(y), align="center"),
            Cell(number(n, 0), align="right"),
            Cell(number(ok, 0), align="right"),
            Cell(t.rate(ok / n if n else None), align="right"),
        ]
        if assessed:
            cells += [
                Cell(number(int(r["assessed"] or 0), 0), align="right"),
                Cell(number(int(r["met"] or 0), 0), align="right"),
            ]
        cells += [Cell(number(with_level[level].get(y, 0), 0), align="right") for level in levels]
        rows.append(cells)
    width = 14.2 / (len(header) - 1)
    add_paragraph(doc, "各年度县（区）评估与预警情况", style="图表标题")
    add_table(doc, rows, [1.4, *([width] * (len(header) - 1))])
    years = province.years
    series = [
        ChartSeries("参评县（区）", [float(rows_by_year[y]["counties"]) for y in years], color="A5A5A5"),
        ChartSeries("资源配置达标", [float(rows_by_year[y]["resources_passed"]) for y in years], color="4472C4"),
    ]
    if assessed:
        series.append(
            ChartSeries("达到优质均衡标准", [float(rows_by_year[y]["met"] or 0) for y in years], color="70AD47")
        )
    add_chart(
        doc,
        Chart(
            title="各年度资源配置达标县（区）数",
            categories=[f"{y}年" for y in years],
            series=series,
            number_format="0",
            axis_title="县（区）数",
        ),
    )


def _province_indicators(doc: Any, t: Terms, province: _Province) -> None:
    add_paragraph(
        doc,
        "下表为各学段、各项指标校际差异系数超过限值的县（区）数（个），括号内为参评县（区）数。",
        indent=True,
    )
    frame = province.regions
    for index, stage in enumerate(_stages_in(t, frame["stage"].unique().to_list())):
        label = t.stage(stage)
        add_heading(doc, f"（{chinese_count(index + 1)}）{label}", 2)
        mine = frame.filter(pl.col("stage") == stage)
        cells = {(str(r["indicator"]), int(r["year"])): r for r in mine.rows(named=True)}
        codes = t.codes(mine["indicator"].unique().to_list())
        years = sorted(mine["year"].unique().to_list())
        for chunk in _chunks(years, 7):
            rows: list[list[Any]] = [["指标", *(f"{y} 年" for y in chunk)]]
            for code in codes:
                shown = []
                for y in chunk:
                    r = cells.get((code, y))
                    shown.append(
                        Cell(DASH if r is None else f"{int(r['failed'])}（{int(r['counties'])}）", align="center")
                    )
                rows.append([_short(t, code, unit=False), *shown])
            width = min(2.0, 12.0 / len(chunk))
            add_paragraph(doc, f"{label}差异系数超限县（区）数（{_years_text(chunk)}）", style="图表标题")
            add_table(doc, rows, [3.6, *([width] * len(chunk))])
        latest = [(code, cells[(code, province.year)]) for code in codes if (code, province.year) in cells]
        over = [f"{code} {int(r['failed'])} 个" for code, r in latest if int(r["failed"] or 0)]
        undefined = sum(int(r["undefined"] or 0) for _, r in latest)
        text = (
            f"{province.year} 年{label}差异系数超过限值的县（区）：{'、'.join(over)}。"
            if over
            else f"{province.year} 年{label}各项指标均没有差异系数超过限值的县（区）。"
        )
        if undefined:
            text += f"另有 {undefined} 项差异系数无法计算。"
        add_paragraph(doc, text, indent=True)


def _province_warned(doc: Any, province: _Province, rules: RuleSet) -> None:
    found = province.warnings.filter(pl.col("year") == province.year)
    levels = _levels(rules, found)
    listed = _listed_levels(rules, found)
    warned = found.filter(pl.col("level").is_in(listed))
    if not warned.height:
        text = f"{province.year} 年没有发出{'、'.join(listed)}的县（区）。"
        if found.height:
            text += f"有其他预警事项的县（区）{found['county_code'].n_unique()} 个，见附件。"
        add_paragraph(doc, text, indent=True)
        return
    counties = warned["county_code"].unique().to_list()
    add_paragraph(
        doc,
        f"{province.year} 年有{'、'.join(listed)}事项的县（区）{len(counties)} 个，按事项级别和数量排列如下"
        "（主要事项为最高一级的前三项）。",
        indent=True,
    )
    mine = found.filter(pl.col("county_code").is_in(counties))
    table = (
        mine.group_by("county_code", maintain_order=True)
        .agg(
            pl.col("county_name").drop_nulls().first(),
            *((pl.col("level") == level).sum().alias(level) for level in levels),
        )
        .sort([*levels, "county_code"], descending=[*([True] * len(levels)), False])
    )
    rows: list[list[Any]] = [["县（区）", "区划代码", *levels, "主要预警事项"]]
    for r in table.rows(named=True):
        own = mine.filter(pl.col("county_code") == r["county_code"]).sort(
            "severity", descending=True, maintain_order=True
        )
        top = own.filter(pl.col("severity") == own["severity"].max())
        lines = [f"【{m['rule_name']}】{m['message']}" for m in top.head(3).rows(named=True)]
        if own.height > len(lines):
            lines.append(f"等 {own.height} 项")
        rows.append(
            [
                str(r["county_name"] or r["county_code"]),
                Cell(str(r["county_code"]), align="center"),
                *(Cell(str(r[level]), align="right") for level in levels),
                "\n".join(lines),
            ]
        )
    width = 1.2
    add_paragraph(doc, f"{province.year} 年预警县（区）", style="图表标题")
    add_table(doc, rows, [2.4, 1.6, *([width] * len(levels)), 11.6 - width * len(levels)])


def movers(indicators: pl.DataFrame, before: int, after: int, tolerance: float = 1e-9) -> pl.DataFrame:
    """The change of every county between two years, for the province report's 进步与退步.

    Over the (stage, indicator) pairs a county has in both years: ``within_before`` / ``within_after`` count the
    CVs within their limits (an undefined CV is not within), ``change`` = after − before; ``margin_before`` /
    ``margin_after`` sum (limit − CV) over the pairs whose CV is defined both years, ``margin_change`` their
    difference (within ``tolerance`` of zero counts as zero). A county improved when (``change``,
    ``margin_change``) is above (0, 0) in that order (more CVs within, ties by the margin), worsened when below.
    Sorted most improved first.

    >>> rows = pl.DataFrame({"year": [2023, 2024], "county_code": "340207", "county_name": "示例区",
    ...     "stage": "primary", "indicator": "R5", "cv": [0.55, 0.48], "cv_limit": 0.5, "cv_passed": [False, True]})
    >>> movers(rows, 2023, 2024).select("county_code", "within_before", "within_after", "change").rows()
    [('340207', 0, 1, 1)]
    """
    keys = ["county_code", "stage", "indicator"]
    columns = [*keys, "cv", "cv_limit", "cv_passed"]
    a = indicators.filter(pl.col("year") == before).select(columns)
    b = indicators.filter(pl.col("year") == after).select(*columns, "county_name")
    both = b.join(a, on=keys, how="inner", suffix="_before")
    defined = pl.col("cv").is_not_null() & pl.col("cv_before").is_not_null()
    frame = (
        both.group_by("county_code")
        .agg(
            pl.col("county_name").drop_nulls().first(),
            pl.len().cast(pl.Int64).alias("pairs"),
            pl.col("cv_passed_before").fill_null(False).sum().cast(pl.Int64).alias("within_before"),
            pl.col("cv_passed").fill_null(False).sum().cast(pl.Int64).alias("within_after"),
            (pl.col("cv_limit_before") - pl.col("cv_before")).filter(defined).sum().alias("margin_before"),
            (pl.col("cv_limit") - pl.col("cv")).filter(defined).sum().alias("margin_after"),
        )
        .with_columns((pl.col("within_after") - pl.col("within_before")).alias("change"))
        .with_columns(
            (pl.col("margin_after") - pl.col("margin_before")).alias("margin_change"),
        )
        .with_columns(
            pl.when(pl.col("margin_change").abs() <= tolerance * pl.col("pairs"))
            .then(0.0)
            .otherwise(pl.col("margin_change"))
            .alias("margin_change")
        )
    )
    return frame.sort(["change", "margin_change", "county_code"], descending=[True, True, False])


MOVERS_DEFINITION = (
    "进步与退步的确定方法：对每个县（区）在 {before} 年和 {after} 年都有数据的各学段、各项指标，统计差异系数"
    "不超过限值的项数（差异系数无法计算的不计入），以 {after} 年项数减 {before} 年项数为「限值内项数变化」，"
    "增加越多进步越大、减少越多退步越大；项数变化相同的，比较两个年度都能计算差异系数的各项「限值 − 差异系数」"
    "之和的变化（「余量变化」），增加的为进步、减少的为退步。项数和余量均无变化的不列入。"
    "各列出变化最大的 {shown} 个县（区）。"
)


def _province_movers(doc: Any, t: Terms, province: _Province) -> None:
    years = sorted(province.indicators["year"].unique().to_list())
    if len(years) < 2:
        add_paragraph(doc, f"只有 {province.year} 年一个年度的数据，不作比较。", indent=True)
        return
    before, after = years[-2], years[-1]
    add_paragraph(doc, MOVERS_DEFINITION.format(before=before, after=after, shown=MOVERS_SHOWN), indent=True)
    if after - before > 1:
        add_paragraph(doc, f"{before} 年与 {after} 年之间缺少年度数据，比较的是这两个年度。", indent=True)
    frame = movers(province.indicators, before, after, t.rules.precision.tolerance)
    better = pl.col("change") > 0
    tied = pl.col("change") == 0
    improved = frame.filter(better | (tied & (pl.col("margin_change") > 0))).head(MOVERS_SHOWN)
    worsened = (
        frame.filter((pl.col("change") < 0) | (tied & (pl.col("margin_change") < 0)))
        .sort(["change", "margin_change", "county_code"])
        .head(MOVERS_SHOWN)
    )
    for index, (title, rows_of) in enumerate((("进步最大的县（区）", improved), ("退步最大的县（区）", worsened))):
        add_heading(doc, f"（{chinese_count(index + 1)}）{title}", 2)
        if not rows_of.height:
            add_paragraph(doc, "无。", indent=True)
            continue
        rows: list[list[Any]] = [
            ["县（区）", "区划代码", f"{before} 年限值内项数", f"{after} 年限值内项数", "限值内项数变化", "余量变化"]
        ]
        for r in rows_of.rows(named=True):
            rows.append(
                [
                    str(r["county_name"] or r["county_code"]),
                    Cell(str(r["county_code"]), align="center"),
                    Cell(f"{int(r['within_before'])} / {int(r['pairs'])}", align="right"),
                    Cell(f"{int(r['within_after'])} / {int(r['pairs'])}", align="right"),
                    Cell(f"{int(r['change']):+d}" if r["change"] else "0", align="right"),
                    Cell(_signed(t.cv(r["margin_change"]), float(r["margin_change"])), align="right"),
                ]
            )
        add_table(doc, rows, [3.0, 1.8, 2.7, 2.7, 2.7, 2.7])


def _province_prefectures(doc: Any, t: Terms, province: _Province, rules: RuleSet, names: Mapping[str, str]) -> None:
    year = province.year
    found = province.warnings.filter(pl.col("year") == year)
    levels = _listed_levels(rules, found)
    over = {
        str(code): int(n)
        for code, n in province.prefecture_regions.group_by("region_code").agg(pl.col("failed").sum()).iter_rows()
    }
    warned = (
        found.filter(pl.col("level").is_in(levels))
        .with_columns((pl.col("county_code").str.slice(0, 4) + "00").alias("region_code"))
        .group_by("region_code", "level")
        .agg(pl.col("county_code").n_unique().alias("n"))
    )
    counts = {(str(c), str(level)): int(n) for c, level, n in warned.iter_rows()}
    add_paragraph(
        doc,
        f"{year} 年各市（州）所辖县（区）的评估与预警情况如下；「差异系数超限」为各县（区）各学段、各项指标超过限值的"
        "项数之和（项次）。",
        indent=True,
    )
    header = ["市（州）", "参评县（区）", "资源配置达标", "达标比例", "差异系数超限（项次）"]
    header += [f"有{level}的县（区）" for level in levels]
    rows: list[list[Any]] = [header]

    def line(label: str, r: Mapping[str, Any], overs: int, code: str | None) -> list[Any]:
        n, ok = int(r["counties"]), int(r["resources_passed"])
        by_level = [
            sum(v for (c, lv), v in counts.items() if lv == level and (code is None or c == code)) for level in levels
        ]
        return [
            label,
            Cell(number(n, 0), align="right"),
            Cell(number(ok, 0), align="right"),
            Cell(t.rate(ok / n if n else None), align="right"),
            Cell(number(overs, 0), align="right"),
            *(Cell(number(v, 0), align="right") for v in by_level),
        ]

    for r in province.prefectures.rows(named=True):
        code = str(r["region_code"])
        rows.append(line(names.get(code) or code, r, over.get(code, 0), code))
    total = province.totals.filter(pl.col("year") == year).row(0, named=True)
    rows.append(line("合计", total, sum(over.values()), None))
    width = 12.4 / (len(header) - 1)
    add_paragraph(doc, f"{year} 年各市（州）汇总", style="图表标题")
    add_table(doc, rows, [3.2, *([width] * (len(header) - 1))])


# ---------------------------------------------------------------------------------------------------------------
# The Excel annex


def _scope(code: str) -> tuple[str, str]:
    """The kind of a region code and the prefix of its counties: nation, province (34), prefecture (3402), county."""
    code = _region_code(code)
    if code == NATION_CODE:
        return "nation", ""
    if code.endswith("0000"):
        return "province", code[:2]
    if code.endswith("00"):
        return "prefecture", code[:4]
    return "county", code


def _counties_of(code: str) -> pl.Expr:
    kind, prefix = _scope(code)
    if kind == "county":
        return pl.col("county_code") == prefix
    return pl.col("county_code").str.starts_with(prefix)


def _regions_of(code: str) -> pl.Expr:
    """The regions of the annex's 地区汇总: for a county, the regions holding it (its prefecture, province and the
    nation); for a province, itself and its prefectures; for a prefecture, itself; for the nation, every region."""
    kind, prefix = _scope(code)
    level, region = pl.col("level"), pl.col("region_code")
    if kind == "nation":
        return pl.lit(True)
    if kind == "province":
        return ((level == "province") & (region == prefix + "0000")) | (
            (level == "prefecture") & region.str.starts_with(prefix)
        )
    if kind == "prefecture":
        return (level == "prefecture") & (region == prefix + "00")
    return (
        (level == "nation")
        | ((level == "province") & (region == prefix[:2] + "0000"))
        | ((level == "prefecture") & (region == prefix[:4] + "00"))
    )


def annex_frames(series: Series, warnings: pl.DataFrame, scope_code: str, year: int) -> dict[str, pl.DataFrame]:
    """The rows of each annex sheet (indicators, warnings, regions) before they are labelled: the years up to
    ``year`` of the counties and regions of ``scope_code`` (see :func:`_regions_of`)."""
    upto = pl.col("year") <= year
    return {
        "indicators": series.indicators.filter(_counties_of(scope_code), upto),
        "warnings": warnings.filter(_counties_of(scope_code), upto),
        "regions": series.regions.filter(_regions_of(scope_code), upto),
    }


def monitoring_annex_tables(
    series: Series, warnings: pl.DataFrame, rules: RuleSet, scope_code: str, year: int
) -> list[Table]:
    """The annex of a monitoring report (sheets :data:`ANNEX_SHEETS`): every county × year × stage × indicator of
    ``scope_code`` (a county, prefecture, province or 000000) with its value, CV, limit and verdict; every warning;
    the regional roll-ups. Full precision in the cells, the display decimals in the number formats."""
    t = Terms.of(rules)
    frames = annex_frames(series, warnings, scope_code, year)
    stage_names = dict(rules.stage_names)
    stage = pl.col("stage").replace_strict(stage_names, default=pl.col("stage"), return_dtype=pl.String)
    names = {code: ind.name for code, ind in rules.indicators.items()}
    units = {code: ind.unit for code, ind in rules.indicators.items()}
    indicator = pl.col("indicator")
    value_format = excel_format(t.shown.value_decimals, grouping=True)
    cv_format = excel_format(t.shown.cv_decimals)
    limit_format = excel_format(rules.precision.compare_cv_decimals)
    indicators = frames["indicators"].select(
        "year",
        "county_code",
        "county_name",
        stage.alias("stage"),
        "indicator",
        indicator.replace_strict(names, default=indicator, return_dtype=pl.String).alias("indicator_name"),
        indicator.replace_strict(units, default=pl.lit(""), return_dtype=pl.String).alias("unit"),
        "county_value",
        "cv",
        "cv_limit",
        pl.when(pl.col("cv").is_null())
        .then(pl.lit("无法计算"))
        .when(pl.col("cv_passed"))
        .then(pl.lit("达标"))
        .otherwise(pl.lit("超限"))
        .alias("verdict"),
        pl.when(pl.col("cv_boundary")).then(pl.lit("是")).otherwise(pl.lit("否")).alias("boundary"),
        "units",
        "units_passed",
        "students",
    )
    found = frames["warnings"]
    found = found.select(
        "year",
        "county_code",
        "county_name",
        "level",
        "rule_name",
        stage.alias("stage"),
        "code",
        "school_id",
        "school_name",
        "message",
        "value",
        "limit",
        pl.col("previous").list.eval(pl.element().cast(pl.String)).list.join("；").alias("previous"),
    )
    level = pl.col("level")
    regions = frames["regions"].select(
        level.replace_strict(REGION_LEVEL_NAMES, default=level, return_dtype=pl.String).alias("level"),
        "region_code",
        "year",
        stage.alias("stage"),
        "indicator",
        indicator.replace_strict(names, default=indicator, return_dtype=pl.String).alias("indicator_name"),
        indicator.replace_strict(units, default=pl.lit(""), return_dtype=pl.String).alias("unit"),
        "counties",
        "passed",
        "failed",
        "undefined",
        "cv_mean",
        "cv_median",
        "value",
        "units",
        "units_passed",
        "shortfall",
        "students",
    )
    return [
        Table(
            sheet=ANNEX_SHEETS[0],
            frame=indicators,
            headers={
                "year": "年度",
                "county_code": "县级区划代码",
                "county_name": "县（区）",
                "stage": "学段",
                "indicator": "指标代码",
                "indicator_name": "指标",
                "unit": "单位",
                "county_value": "县域值",
                "cv": "差异系数",
                "cv_limit": "差异系数限值",
                "verdict": "差异系数结论",
                "boundary": "临界（四舍五入前后结论不同）",
                "units": "评估单元数",
                "units_passed": "达标单元数",
                "students": "在校生数",
            },
            formats={"county_value": value_format, "cv": cv_format, "cv_limit": limit_format},
        ),
        Table(
            sheet=ANNEX_SHEETS[1],
            frame=found,
            headers={
                "year": "年度",
                "county_code": "县级区划代码",
                "county_name": "县（区）",
                "level": "级别",
                "rule_name": "预警类型",
                "stage": "学段",
                "code": "指标或事项代码",
                "school_id": "学校标识码",
                "school_name": "学校名称",
                "message": "预警内容",
                "value": "本年数值",
                "limit": "限值或标准",
                "previous": "往年数值（由远及近）",
            },
        ),
        Table(
            sheet=ANNEX_SHEETS[2],
            frame=regions,
            headers={
                "level": "层级",
                "region_code": "区划代码",
                "year": "年度",
                "stage": "学段",
                "indicator": "指标代码",
                "indicator_name": "指标",
                "unit": "单位",
                "counties": "县（区）数",
                "passed": "差异系数达标县（区）数",
                "failed": "差异系数超限县（区）数",
                "undefined": "无法计算县（区）数",
                "cv_mean": "差异系数平均值",
                "cv_median": "差异系数中位数",
                "value": "地区值（学生数加权）",
                "units": "评估单元数",
                "units_passed": "达标单元数",
                "shortfall": "达到标准还需（合计）",
                "students": "在校生数",
            },
            formats={"cv_mean": cv_format, "cv_median": cv_format, "value": value_format, "shortfall": value_format},
        ),
    ]


#: Chinese headers of the annex sheet of projected CVs.
FORECAST_HEADERS = {
    "year": "年度",
    "county_code": "县级区划代码",
    "county_name": "县（区）",
    "stage": "学段",
    "projected": "是否预测",
    "indicator": "指标",
    "county_value": "县域值",
    "cv": "差异系数",
    "cv_limit": "限值",
    "cv_passed": "是否在限值内",
}


def forecast_annex_table(cvs: pl.DataFrame, method: str) -> Table:
    """The annex sheet 预测差异系数: the forecast's CVs (the base year as evaluated, then each projected year)."""
    return Table(sheet="预测差异系数", frame=cvs, headers=FORECAST_HEADERS, notes=(method,))
