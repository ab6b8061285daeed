"""Which schools enter the resource-allocation evaluation (standard-2017.md §1).

Excluded by default: special-education schools, teaching points with fewer than 50 compulsory-stage students
(不足50人), schools with no compulsory-stage students; private schools only if the rule set says so.
"""

from __future__ import annotations

import polars as pl

from youjun.standards.model import Scope

SCHOOL_KEYS = ["year", "county_code", "county_name", "school_id", "school_name", "school_type"]


def exclusion_reason(scope: Scope) -> pl.Expr:
    """The Chinese reason a school is out of scope (the first that applies), or null when it is evaluated."""
    compulsory = pl.col("students_primary") + pl.col("students_junior")
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    if scope.excluded_school_types:
        rules.append(
            (
                pl.col("school_type").is_in(scope.excluded_school_types),
                pl.format("{}不纳入资源配置评估", pl.col("school_type")),
            )
        )
    if not scope.include_private:
        rules.append((pl.col("ownership") == "民办", pl.lit("民办学校不纳入资源配置评估（按规则集设置）")))
    if scope.teaching_point_min_students > 0:
        minimum = scope.teaching_point_min_students
        rules.append(
            (
                (pl.col("school_type") == scope.teaching_point_type) & (compulsory < minimum),
                pl.lit(f"{scope.teaching_point_type}在校生不足{minimum}人"),
            )
        )
    rules.append((compulsory == 0, pl.lit("无义务教育阶段在校生")))
    return pl.coalesce([pl.when(condition).then(reason) for condition, reason in rules])


def scope_schools(schools: pl.DataFrame, scope: Scope) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (in-scope schools, exclusions with ``reason``).

    >>> from youjun.standards import load_rule_set
    >>> df = pl.DataFrame({"year": [2024] * 3, "county_code": ["340207"] * 3, "county_name": ["某区"] * 3,
    ...     "school_id": ["a", "b", "c"], "school_name": ["甲", "乙", "丙"],
    ...     "school_type": ["教学点", "教学点", "特殊教育学校"], "ownership": ["公办"] * 3,
    ...     "students_primary": [49, 50, 80], "students_junior": [0, 0, 20]})
    >>> kept, out = scope_schools(df, load_rule_set().scope)
    >>> kept["school_id"].to_list(), out["reason"].to_list()
    (['b'], ['教学点在校生不足50人', '特殊教育学校不纳入资源配置评估'])
    """
    marked = schools.with_columns(exclusion_reason(scope).alias("_reason"))
    excluded = marked.filter(pl.col("_reason").is_not_null()).select(
        *[c for c in SCHOOL_KEYS if c in marked.columns], pl.col("_reason").alias("reason")
    )
    kept = marked.filter(pl.col("_reason").is_null()).drop("_reason")
    return kept, excluded
