"""Excel exports of the evaluation pages (``?format=xlsx``), built with ``youjun.io.workbook.write_tables``.

Numbers are written in full precision with the rule set's display formats (``display_cv_decimals`` for coefficients,
``display_value_decimals`` for values and rates; ``youjun.formatting.excel_format``), strings always as inert text
(a school named ``=HYPERLINK(...)`` stays text). The file name is Chinese, sent per RFC 6266 / RFC 5987 with an
ASCII fallback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.http import HttpResponse

from youjun.formatting import excel_format, rule_number
from youjun.io.workbook import Table
from youjun.standards import RuleSet
from youjun.web.evaluation.pages import CountyPage, NationalPage, UnitPage
from youjun.web.exports import XLSX, content_disposition, xlsx_response

__all__ = ["XLSX", "content_disposition", "county_xlsx", "national_names", "unit_names", "xlsx_response"]
#: Shares of counties (达标比例) as the pages show them: one decimal (not a figure of the rule set).
SHARE_FMT = "0.0%"
YES, NO = "达标", "未达标"


@dataclass(frozen=True)
class _Formats:
    """The Excel number formats of a rule set's display precision."""

    value: str
    cv: str
    limit: str
    rate: str
    value_change: str
    cv_change: str
    note: str

    @classmethod
    def of(cls, rules: RuleSet) -> _Formats:
        p = rules.precision
        return cls(
            value=excel_format(p.display_value_decimals, grouping=True),
            cv=excel_format(p.display_cv_decimals),
            limit=excel_format(p.compare_cv_decimals),
            rate=excel_format(p.display_value_decimals, percent_=True),
            value_change=excel_format(p.display_value_decimals, grouping=True, signed=True),
            cv_change=excel_format(p.display_cv_decimals, signed=True),
            note=(
                f"显示时差异系数保留 {p.display_cv_decimals} 位小数、"
                f"其他数值保留 {p.display_value_decimals} 位小数（四舍五入）。"
            ),
        )


def _frame(rows: Sequence[Mapping[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=dict(schema), orient="row" if not rows else None)


def _verdict(passed: bool | None) -> str | None:
    return None if passed is None else (YES if passed else NO)


# ----------------------------------------------------------------------------------------------------
# County


def county_tables(page: CountyPage) -> list[Table]:
    """The county page's workbook: summary, coefficients, units, shortfalls, exclusions (one function per sheet)."""
    fmt = _Formats.of(page.rules)
    return [
        _summary_table(page, fmt),
        _coefficients_table(page, fmt),
        _units_table(page, fmt),
        _gaps_table(page, fmt),
        _excluded_table(page),
    ]


def _summary_table(page: CountyPage, fmt: _Formats) -> Table:
    """Sheet 县域汇总: one row per stage with its units, limit and verdicts."""
    county = page.county
    year = page.year
    rules = page.rules
    heading = f"{county.full_name} {year} 年资源配置评估：{YES if page.passed else NO}"
    notes = (f"规则集：{rules.name}", f"差异系数按学生数加权（总体形式）计算；表中为全精度数值，{fmt.note}")
    stage_rows = [
        {
            "county_code": county.code,
            "county_name": county.name,
            "year": year,
            "stage": s.name,
            "units": s.units,
            "units_passed": s.units_passed,
            "students": s.students,
            "cv_limit": s.cv_limit,
            "failed": "、".join(s.failed_cvs),
            "boundary": "、".join(s.boundary),
            "stage_passed": _verdict(s.passed),
            "county_passed": _verdict(page.passed),
        }
        for s in page.stages
    ]
    summary = Table(
        sheet="县域汇总",
        frame=_frame(
            stage_rows,
            {
                "county_code": pl.String(),
                "county_name": pl.String(),
                "year": pl.Int64(),
                "stage": pl.String(),
                "units": pl.Int64(),
                "units_passed": pl.Int64(),
                "students": pl.Int64(),
                "cv_limit": pl.Float64(),
                "failed": pl.String(),
                "boundary": pl.String(),
                "stage_passed": pl.String(),
                "county_passed": pl.String(),
            },
        ),
        headers={
            "county_code": "县级区划代码",
            "county_name": "县（区）",
            "year": "年度",
            "stage": "学段",
            "units": "评估单元数",
            "units_passed": "达标单元数",
            "students": "在校生数",
            "cv_limit": "差异系数限值",
            "failed": "差异系数超限指标",
            "boundary": "临界指标",
            "stage_passed": "学段结论",
            "county_passed": "县域资源配置结论",
        },
        formats={"cv_limit": fmt.limit},
        title=heading,
        notes=notes,
    )
    return summary


def _coefficients_table(page: CountyPage, fmt: _Formats) -> Table:
    """Sheet 差异系数: every indicator of every stage, with last year and the most influential schools."""
    with_previous = page.previous_year is not None
    cv_rows = []
    for s in page.stages:
        for r in s.rows:
            row: dict[str, Any] = {
                "stage": s.name,
                "code": r.code,
                "name": r.name,
                "unit": r.unit,
                "value": r.value,
                "cv": r.cv,
                "limit": s.cv_limit,
                "passed": _verdict(r.passed),
                "boundary": "临界" if r.boundary else None,
                "removal": r.removal_school or None,
                "removal_cv": r.removal_after,
                "levelling": r.levelling_school or None,
                "levelling_cv": r.levelling_after,
            }
            if with_previous:
                pv, pc = r.prev_value, r.prev_cv
                row |= {
                    "prev_value": pv,
                    "value_change": None if pv is None or r.value is None else r.value - pv,
                    "prev_cv": pc,
                    "cv_change": None if pc is None or r.cv is None else r.cv - pc,
                }
            cv_rows.append(row)
    cv_schema: dict[str, pl.DataType] = {
        "stage": pl.String(),
        "code": pl.String(),
        "name": pl.String(),
        "unit": pl.String(),
        "value": pl.Float64(),
        "cv": pl.Float64(),
        "limit": pl.Float64(),
        "passed": pl.String(),
        "boundary": pl.String(),
    }
    if with_previous:
        cv_schema |= {
            "prev_value": pl.Float64(),
            "value_change": pl.Float64(),
            "prev_cv": pl.Float64(),
            "cv_change": pl.Float64(),
        }
    cv_schema |= {
        "removal": pl.String(),
        "removal_cv": pl.Float64(),
        "levelling": pl.String(),
        "levelling_cv": pl.Float64(),
    }
    previous_label = f"{page.previous_year} 年" if with_previous else "上年"
    coefficients = Table(
        sheet="差异系数",
        frame=_frame(cv_rows, cv_schema),
        headers={
            "stage": "学段",
            "code": "指标代码",
            "name": "指标",
            "unit": "单位",
            "value": "县域值",
            "cv": "差异系数",
            "limit": "限值",
            "passed": "差异系数是否达标",
            "boundary": "临界（四舍五入前后结论不同）",
            "prev_value": f"{previous_label}县域值",
            "value_change": "县域值变化",
            "prev_cv": f"{previous_label}差异系数",
            "cv_change": "差异系数变化",
            "removal": "移除后差异系数降幅最大的学校",
            "removal_cv": "移除该校后的差异系数",
            "levelling": "拉平至其他学校均值后降幅最大的学校",
            "levelling_cv": "拉平该校后的差异系数",
        },
        formats={
            "value": fmt.value,
            "cv": fmt.cv,
            "limit": fmt.limit,
            "prev_value": fmt.value,
            "value_change": fmt.value_change,
            "prev_cv": fmt.cv,
            "cv_change": fmt.cv_change,
            "removal_cv": fmt.cv,
            "levelling_cv": fmt.cv,
        },
    )
    return coefficients


def _units_table(page: CountyPage, fmt: _Formats) -> Table:
    """Sheet 学校单元: every evaluated unit with its seven values."""
    rules = page.rules
    codes = page.codes
    unit_schema: dict[str, pl.DataType] = {
        "school_id": pl.String(),
        "school_name": pl.String(),
        "stage": pl.String(),
        "students": pl.Int64(),
        **{f"value_{c}": pl.Float64() for c in codes},
        "unmet": pl.String(),
        "n_met": pl.Int64(),
        "passed": pl.String(),
    }
    unit_rows = [
        {
            "school_id": u.school_id,
            "school_name": u.school_name,
            "stage": u.stage_name,
            "students": u.students,
            **{f"value_{c}": cell.value for c, cell in zip(codes, u.cells, strict=True)},
            "unmet": "、".join(c for c, cell in zip(codes, u.cells, strict=True) if cell.met is False) or None,
            "n_met": u.n_met,
            "passed": _verdict(u.passed),
        }
        for u in page.unit_rows
    ]
    units = Table(
        sheet="学校单元",
        frame=_frame(unit_rows, unit_schema),
        headers={
            "school_id": "学校标识码",
            "school_name": "学校名称",
            "stage": "学段",
            "students": "在校生数",
            **{f"value_{c}": f"{c} {ind.name}（{ind.unit}）" for c, ind in rules.indicators.items()},
            "unmet": "未达标指标",
            "n_met": "达标指标数",
            "passed": "单元结论",
        },
        formats={f"value_{c}": fmt.value for c in codes},
    )
    return units


def units_table(page: CountyPage) -> Table:
    """The county's 学校单元 sheet on its own (the province-wide export stacks them)."""
    return _units_table(page, _Formats.of(page.rules))


def _gaps_table(page: CountyPage, fmt: _Formats) -> Table:
    """Sheet 差距清单: every unmet indicator of every unit and what is missing."""
    gap_rows = [
        {
            "school_id": g.school_id,
            "school_name": g.school_name,
            "stage": g.stage_name,
            "code": g.code,
            "indicator": g.indicator,
            "value": g.value,
            "standard": g.standard,
            "ratio": g.ratio,
            "shortfall": g.shortfall,
            "unit": g.unit,
            "unit_passed": _verdict(g.unit_passed),
        }
        for g in page.shortfalls
    ]
    gaps = Table(
        sheet="差距清单",
        frame=_frame(
            gap_rows,
            {
                "school_id": pl.String(),
                "school_name": pl.String(),
                "stage": pl.String(),
                "code": pl.String(),
                "indicator": pl.String(),
                "value": pl.Float64(),
                "standard": pl.Float64(),
                "ratio": pl.Float64(),
                "shortfall": pl.Float64(),
                "unit": pl.String(),
                "unit_passed": pl.String(),
            },
        ),
        headers={
            "school_id": "学校标识码",
            "school_name": "学校名称",
            "stage": "学段",
            "code": "指标代码",
            "indicator": "指标",
            "value": "现值",
            "standard": "标准",
            "ratio": "达标比例",
            "shortfall": "差距（达到标准还需）",
            "unit": "单位",
            "unit_passed": "单元结论",
        },
        formats={"value": fmt.value, "standard": fmt.value, "ratio": fmt.rate, "shortfall": fmt.value},
        notes=("差距 = 标准 × 在校生数 ÷ 计量基数 − 现有量；教师和教室数向上取整。",),
    )
    return gaps


def _excluded_table(page: CountyPage) -> Table:
    """Sheet 不纳入评估学校."""
    excluded = Table(
        sheet="不纳入评估学校",
        frame=_frame(page.excluded, {"school_id": pl.String(), "school_name": pl.String(), "reason": pl.String()}),
        headers={"school_id": "学校标识码", "school_name": "学校名称", "reason": "不纳入原因"},
    )
    return excluded


def county_xlsx(page: CountyPage) -> HttpResponse:
    name = f"{page.county.full_name}{page.year}年资源配置评估.xlsx"
    return xlsx_response(county_tables(page), name, f"youjun-county-{page.county.code}-{page.year}.xlsx")


# ----------------------------------------------------------------------------------------------------
# Province / prefecture


def unit_tables(page: UnitPage) -> list[Table]:
    unit, year = page.unit, page.year
    fmt = _Formats.of(page.rules)
    keys = [f"cv_{s}_{c}" for s, c, _ in page.columns]
    schema: dict[str, pl.DataType] = {
        "county_code": pl.String(),
        "county_name": pl.String(),
        "prefecture": pl.String(),
        "passed": pl.String(),
        "units": pl.Int64(),
        "units_passed": pl.Int64(),
        "failed_cvs": pl.Int64(),
        **{k: pl.Float64() for k in keys},
    }
    rows = [
        {
            "county_code": r.code,
            "county_name": r.name,
            "prefecture": r.prefecture,
            "passed": _verdict(r.passed),
            "units": r.units,
            "units_passed": r.units_passed,
            "failed_cvs": r.failed_cvs,
            **{k: cell.value for k, cell in zip(keys, r.cells, strict=True)},
        }
        for r in page.rows
    ]
    headers = {
        "county_code": "县级区划代码",
        "county_name": "县（区）",
        "prefecture": "所属地市",
        "passed": "资源配置结论",
        "units": "评估单元数",
        "units_passed": "达标单元数",
        "failed_cvs": "超限差异系数个数",
        **{k: f"{label} 差异系数" for k, (_, _, label) in zip(keys, page.columns, strict=True)},
    }
    title = (
        f"{unit.full_name} {year} 年县域资源配置评估汇总：县级单位 {page.counties_total} 个，"
        f"已评估 {page.evaluated} 个，达标 {page.passed} 个"
    )
    tables = [
        Table(
            sheet="县域汇总",
            frame=_frame(rows, schema),
            headers=headers,
            formats={k: fmt.cv for k in keys},
            title=title,
            notes=(
                f"差异系数限值：{_limits(page)}。表中为全精度数值，"
                f"显示保留 {page.rules.precision.display_cv_decimals} 位小数（四舍五入）。",
            ),
        )
    ]
    if page.prefectures:
        tables.append(_group_table("地市汇总", page.prefectures, "地市", "地市代码"))
    return tables


def _limits(page: UnitPage) -> str:
    limits = page.rules.balance.cv_limit or {}
    decimals = page.rules.precision.compare_cv_decimals
    return "；".join(
        f"{page.rules.stage_name(s)} ≤ {rule_number(limits[s], decimals)}" for s in page.rules.stages if s in limits
    )


def _group_table(sheet: str, groups: Sequence[Any], label: str, code_label: str, title: str | None = None) -> Table:
    rows = [
        {
            "code": g.code,
            "name": g.name,
            "counties": g.counties,
            "evaluated": g.evaluated,
            "passed": g.passed,
            "share": g.passed / g.evaluated if g.evaluated else None,
        }
        for g in groups
    ]
    return Table(
        sheet=sheet,
        frame=_frame(
            rows,
            {
                "code": pl.String(),
                "name": pl.String(),
                "counties": pl.Int64(),
                "evaluated": pl.Int64(),
                "passed": pl.Int64(),
                "share": pl.Float64(),
            },
        ),
        headers={
            "code": code_label,
            "name": label,
            "counties": "县级单位数",
            "evaluated": "已评估县数",
            "passed": "达标县数",
            "share": "达标比例（占已评估）",
        },
        formats={"share": SHARE_FMT},
        title=title,
    )


def unit_names(page: UnitPage) -> tuple[str, str]:
    """The export's Chinese file name and its ASCII fallback."""
    name = f"{page.unit.full_name}{page.year}年县域资源配置评估汇总.xlsx"
    return name, f"youjun-unit-{page.unit.code}-{page.year}.xlsx"


# ----------------------------------------------------------------------------------------------------
# National


def national_tables(page: NationalPage) -> list[Table]:
    title = (
        f"全国 {page.year} 年县域资源配置评估汇总：县级单位 {page.counties} 个，"
        f"已评估 {page.evaluated} 个，达标 {page.passed} 个（{page.share_text}）"
    )
    return [_group_table("各省汇总", page.provinces, "省份", "省级代码", title)]


def national_names(page: NationalPage) -> tuple[str, str]:
    return f"全国{page.year}年县域资源配置评估汇总.xlsx", f"youjun-national-{page.year}.xlsx"
