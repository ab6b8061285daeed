"""The evaluation report workbook: county summary, units, shortfall list, influence, exclusions, rule set."""

from __future__ import annotations

import os

import polars as pl

from youjun.engine.balance import stage_order
from youjun.engine.evaluate import ResourceEvaluation
from youjun.engine.scope import SCHOOL_KEYS
from youjun.formatting import excel_format, rule_number
from youjun.io.report import shortfalls, stage_label
from youjun.io.workbook import Table, write_tables
from youjun.standards import RuleSet

BASE_HEADERS = {
    "year": "年度",
    "county_code": "县级区划代码",
    "county_name": "县（区）",
    "school_id": "学校标识码",
    "school_name": "学校名称",
    "school_type": "办学类型",
    "stage": "学段",
    "students": "在校生数",
    "share": "分摊比例",
    "units": "评估单元数",
    "units_passed": "达标单元数",
    "passed": "是否达标",
    "n_met": "达标指标数",
    "min_ratio": "最低达标比例",
    "cv_limit": "差异系数限值",
    "composite": "综合差异系数",
    "composite_limit": "综合差异系数限值",
    "reason": "不纳入原因",
}


def _verdict(column: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("达标")).otherwise(pl.lit("未达标")).alias(column)


def _cv_format(rules: RuleSet) -> str:
    return excel_format(rules.precision.display_cv_decimals)


def _value_format(rules: RuleSet) -> str:
    return excel_format(rules.precision.display_value_decimals, grouping=True)


def _rate_format(rules: RuleSet) -> str:
    return excel_format(rules.precision.display_value_decimals, percent_=True)


def _precision_note(rules: RuleSet) -> str:
    p = rules.precision
    return (
        f"表中数值为全精度计算结果，显示时差异系数保留 {p.display_cv_decimals} 位小数、"
        f"其他数值保留 {p.display_value_decimals} 位小数（四舍五入）。"
    )


def county_sheet(ev: ResourceEvaluation) -> Table:
    rules = ev.rules
    headers = dict(BASE_HEADERS)
    formats: dict[str, str] = {}
    cv_fmt = _cv_format(rules)
    value_fmt = _value_format(rules)
    columns: list[pl.Expr | str] = [
        "year",
        "county_code",
        "county_name",
        stage_label(ev),
        "units",
        "units_passed",
    ]
    for code, ind in rules.indicators.items():
        headers[f"county_value_{code}"] = f"{code} {ind.name}（县域值）"
        headers[f"cv_{code}"] = f"{code} 差异系数"
        formats[f"county_value_{code}"] = value_fmt
        formats[f"cv_{code}"] = cv_fmt
        columns += [f"county_value_{code}", f"cv_{code}"]
        if f"cv_passed_{code}" in ev.stages.columns:
            headers[f"cv_passed_{code}"] = f"{code} 差异系数是否达标"
            headers[f"cv_boundary_{code}"] = f"{code} 临界（四舍五入前后结论不同）"
            columns += [_verdict(f"cv_passed_{code}"), f"cv_boundary_{code}"]
    columns.append("cv_limit")
    formats["cv_limit"] = excel_format(rules.precision.compare_cv_decimals)
    if "composite" in ev.stages.columns:
        columns += ["composite", "composite_limit"]
        formats["composite"] = cv_fmt
        formats["composite_limit"] = excel_format(rules.precision.compare_cv_decimals)
    columns.append(_verdict("passed"))
    frame = ev.stages.select(columns)
    verdicts = ev.counties.select("year", "county_code", pl.col("passed").alias("county_passed")).with_columns(
        _verdict("county_passed")
    )
    frame = frame.join(verdicts, on=["year", "county_code"], how="left")
    headers["county_passed"] = "县域资源配置结论"
    return Table(
        sheet="县域汇总",
        frame=frame,
        headers=headers,
        formats=formats,
        title=f"资源配置评估汇总（{rules.name}）",
        notes=(
            "差异系数按学生数加权（总体形式）计算：CV = S / X̄，X̄ = 县域总量 ÷ 县域学生数。",
            _precision_note(rules),
        ),
    )


def unit_sheet(ev: ResourceEvaluation) -> Table:
    rules = ev.rules
    headers = dict(BASE_HEADERS)
    formats = {"share": "0.0000", "min_ratio": _rate_format(rules)}
    columns: list[pl.Expr | str] = [*SCHOOL_KEYS, stage_label(ev), "students", "share"]
    value_fmt = _value_format(rules)
    for code, ind in rules.indicators.items():
        headers[f"value_{code}"] = f"{code} {ind.name}"
        formats[f"value_{code}"] = value_fmt
        columns.append(f"value_{code}")
        if f"met_{code}" in ev.units.columns:
            headers[f"met_{code}"] = f"{code} 是否达标"
            columns.append(_verdict(f"met_{code}"))
    if "n_met" in ev.units.columns:
        columns += ["n_met", "min_ratio", _verdict("passed")]
    units = ev.units.sort(["year", "county_code", stage_order(rules), "school_id"])
    return Table(sheet="学校单元", frame=units.select(columns), headers=headers, formats=formats)


def shortfall_sheet(ev: ResourceEvaluation) -> Table:
    value_fmt = _value_format(ev.rules)
    headers = {
        **BASE_HEADERS,
        "passed": "学校单元是否达标",
        "indicator": "指标代码",
        "indicator_name": "指标",
        "value": "现值",
        "standard": "标准",
        "ratio": "达标比例",
        "shortfall": "差距（达到标准还需）",
        "unit": "单位",
        "boundary": "临界",
    }
    frame = shortfalls(ev)
    if frame.height:
        marker = pl.when(pl.col("boundary")).then(pl.lit("⚠临界：显示值与标准相同，全精度未达到")).otherwise(pl.lit(""))
        frame = frame.with_columns(stage_label(ev), _verdict("passed"), marker.alias("boundary"))
    return Table(
        sheet="差距清单",
        frame=frame,
        headers=headers,
        formats={"value": value_fmt, "standard": value_fmt, "ratio": _rate_format(ev.rules), "shortfall": value_fmt},
        notes=("差距 = 标准 × 在校生数 ÷ 计量基数 − 现有量；教师和教室数向上取整。",),
    )


def influence_sheet(ev: ResourceEvaluation) -> Table:
    cv = ev.stages.unpivot(
        index=["year", "county_code", "stage"], on=[f"cv_{c}" for c in ev.codes], variable_name="indicator"
    ).with_columns(pl.col("indicator").str.strip_prefix("cv_"), pl.col("value").alias("cv"))
    frame = ev.influence.join(cv.drop("value"), on=["year", "county_code", "stage", "indicator"], how="left")
    frame = (
        frame.sort(["year", "county_code", stage_order(ev.rules), "indicator"])
        .with_columns(stage_label(ev))
        .select(
            "year",
            "county_code",
            "stage",
            "indicator",
            "cv",
            "removal_school_id",
            "removal_school_name",
            "cv_after_removal",
            "levelling_school_id",
            "levelling_school_name",
            "cv_after_levelling",
        )
    )
    headers = {
        **BASE_HEADERS,
        "indicator": "指标代码",
        "cv": "现差异系数",
        "removal_school_id": "移除后差异系数降幅最大的学校（标识码）",
        "removal_school_name": "学校名称",
        "cv_after_removal": "移除该校后的差异系数",
        "levelling_school_id": "提升（拉平）至其他学校均值后降幅最大的学校（标识码）",
        "levelling_school_name": "学校名称 ",
        "cv_after_levelling": "拉平该校后的差异系数",
    }
    cv_fmt = _cv_format(ev.rules)
    return Table(
        sheet="影响最大学校",
        frame=frame,
        headers=headers,
        formats={"cv": cv_fmt, "cv_after_removal": cv_fmt, "cv_after_levelling": cv_fmt},
    )


def excluded_sheet(ev: ResourceEvaluation) -> Table:
    return Table(sheet="不纳入评估学校", frame=ev.excluded, headers=BASE_HEADERS)


def rules_sheet(ev: ResourceEvaluation) -> Table:
    rules = ev.rules
    rows = []
    for code, ind in rules.indicators.items():
        standard = ind.standard or {}
        limit = rules.balance.cv_limit or {}
        rows.append(
            {
                "code": code,
                "name": ind.name,
                "unit": ind.unit,
                "per": ind.per,
                "numerator": " ".join(("− " if t.sign < 0 else "+ ") + t.field for t in ind.numerator).lstrip("+ "),
                **{f"standard_{s}": standard.get(s) for s in rules.stages},
                **{f"limit_{s}": limit.get(s) for s in rules.stages},
            }
        )
    headers = {
        "code": "代码",
        "name": "指标",
        "unit": "单位",
        "per": "计量基数（每百名学生为 100）",
        "numerator": "分子",
    }
    for s in rules.stages:
        headers[f"standard_{s}"] = f"{rules.stage_name(s)}标准"
        headers[f"limit_{s}"] = f"{rules.stage_name(s)}差异系数限值"
    notes = [f"规则集：{rules.name}（{rules.id}，来源：{' → '.join(rules.sources)}）"]
    if rules.school_rule:
        notes.append(
            f"逐校规则：{len(rules.indicators)} 项指标中至少 {rules.school_rule.min_met} 项达标，"
            f"其余指标不低于标准的 {rule_number(rules.school_rule.min_ratio, 0, percent_=True)}。"
        )
    notes.append(f"比较方式：{'四舍五入后比较' if rules.precision.compare == 'rounded' else '全精度比较'}。")
    for relax in rules.relaxations.values():
        notes.append(f"放宽条件「{relax.name}」：{'已启用' if relax.enabled else '未启用'}。")
    return Table(sheet="评估规则", frame=pl.DataFrame(rows), headers=headers, notes=tuple(notes))


def write_report(ev: ResourceEvaluation, path: str | os.PathLike[str]) -> None:
    """Write the evaluation report workbook."""
    tables = [county_sheet(ev), unit_sheet(ev)]
    if "met_" + ev.codes[0] in ev.units.columns:
        tables.append(shortfall_sheet(ev))
    tables += [influence_sheet(ev), excluded_sheet(ev), rules_sheet(ev)]
    write_tables(path, tables)
