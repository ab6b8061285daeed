"""The row checks of both sheets: those declared in ``checks.toml`` and the few that need code.

Most checks compare cells of one row and are data (``youjun.io.reader.declared``). In code are only the checks
that look at other rows: a school id or county code given twice in a year, one county code under two names, a
school's change from the year before, and the two sheets covering different counties. All are evaluated over all
input files together, so a duplicate across two files is found like one within a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from youjun.contract import COUNTY_COLUMNS, COUNTY_SHEET, SCHOOL_COLUMNS, SCHOOL_SHEET
from youjun.errors import YoujunError
from youjun.io.reader.declared import CheckRules, PartWhole, load_checks
from youjun.io.reader.plausibility import Plausibility, load_plausibility
from youjun.io.reader.problems import Sink, Source
from youjun.io.reader.rowchecks import RowCheck, run_checks
from youjun.io.reader.sources import SheetKind


def _packaged_part_whole(sheet: SheetKind) -> tuple[PartWhole, ...]:
    try:
        return load_checks().part_whole(sheet)
    except YoujunError:  # reported, with every mistake, when a file is read with these checks
        return ()


#: The hard checks "Σ parts ≤ Σ whole" of the packaged ``checks.toml`` (decision 28): (parts, whole, the rule in
#: words). A stage's largest class or its number of classes cannot exceed its students; the school's counts of
#: migrant children, zoned admissions, certified and trained teachers and its training funds are parts of the
#: totals named; the county sheet's rotated, allocated, enrolled and positive counts are parts of their wholes.
SCHOOL_PART_WHOLE = _packaged_part_whole("school")
COUNTY_PART_WHOLE = _packaged_part_whole("county")


def school_checks(limits: Plausibility, rules: CheckRules | None = None) -> list[RowCheck]:
    """Hard and soft row checks of the school sheet; evaluated over all input files together.

    The frame they run on has every ``SCHOOL_COLUMNS`` key (typed, defaults applied), ``source_file``,
    ``source_row``, ``__students`` (all stages) and ``__prev_students`` (the school's total of the year
    before, when that year is in the input; ``prepare_schools``). The declared checks come from ``rules``
    (default: the packaged ``checks.toml``); add a check there.
    """
    declared = (rules if rules is not None else load_checks()).row_checks("school", limits)
    return [duplicate_school_id(), *declared, county_name_inconsistent(), students_change_large(limits)]


def county_checks(limits: Plausibility | None = None, rules: CheckRules | None = None) -> list[RowCheck]:
    """Row checks of the county sheet (declared ones from ``rules``, default the packaged ``checks.toml``)."""
    thresholds = limits if limits is not None else load_plausibility()
    declared = (rules if rules is not None else load_checks()).row_checks("county", thresholds)
    return [duplicate_county(), *declared]


def prepare_schools(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``__students`` (all stages) and ``__prev_students`` (the same school's total in ``year - 1``)."""
    students = pl.col("students_primary") + pl.col("students_junior") + pl.col("students_senior")
    frame = frame.with_columns(students.alias("__students"))
    if frame["year"].drop_nulls().n_unique() < 2:
        return frame.with_columns(pl.lit(None, pl.Int64).alias("__prev_students"))
    previous = (
        frame.filter(pl.col("year").is_not_null() & pl.col("school_id").is_not_null())
        .unique(subset=["year", "school_id"], keep="first", maintain_order=True)
        .select("school_id", (pl.col("year") + 1).alias("year"), pl.col("__students").alias("__prev_students"))
    )
    return frame.join(previous, on=["school_id", "year"], how="left", maintain_order="left")


# ----------------------------------------------------------------------------------------------------
# Checks that look at other rows


def _duplicate(code: str, group: list[str], message: str) -> RowCheck:
    """A hard error on every row but the first of its ``group`` (the message may say where the first one is)."""
    col = pl.col
    return RowCheck(
        code,
        group[1],
        col(group[0]).is_not_null() & col(group[1]).is_not_null() & ~pl.struct(group).is_first_distinct(),
        message,
        extra={
            "first_file": col("source_file").first().over(group),
            "first_row": col("source_row").first().over(group),
        },
    )


def duplicate_school_id() -> RowCheck:
    """Hard: one row per school and year, across every input file."""
    return _duplicate(
        "duplicate_school_id",
        ["year", "school_id"],
        "学校标识码「{school_id}」在 {year} 年度重复，首次出现在文件「{first_file}」第 {first_row} 行；"
        "同一年度每所学校只能填写一行",
    )


def duplicate_county() -> RowCheck:
    """Hard: one county-sheet row per county and year."""
    return _duplicate(
        "duplicate_county",
        ["year", "county_code"],
        "县级区划代码 {county_code} 在 {year} 年度重复，首次出现在文件「{first_file}」第 {first_row} 行；"
        "每个县每年只能填写一行",
    )


def county_name_inconsistent() -> RowCheck:
    """Soft: the schools of one county code and year name the county as its first school does."""
    group = ["year", "county_code"]
    first_name = pl.col("county_name").first().over(group)
    return RowCheck(
        "county_name_inconsistent",
        "county_name",
        pl.col("county_name") != first_name,
        "县级区划代码 {county_code} 在 {year} 年度已对应名称「{first_name}」"
        "（文件「{first_file}」第 {first_row} 行），同一代码的名称应一致",
        "warning",
        {
            "first_name": first_name,
            "first_file": pl.col("source_file").first().over(group),
            "first_row": pl.col("source_row").first().over(group),
        },
    )


def students_change_large(limits: Plausibility) -> RowCheck:
    """Soft: a school's students of all stages changed by more than ``max_relative_change`` since the year before
    (when the larger of the two totals is at least ``change_min_students``)."""
    students, prev = pl.col("__students"), pl.col("__prev_students")
    change = (students - prev) / prev
    return RowCheck(
        "students_change_large",
        "students_primary",
        (prev > 0)
        & (pl.max_horizontal(students, prev) >= limits.change_min_students)
        & (change.abs() > limits.max_relative_change),
        "在校生总数由上一年度的 {prev} 人变为 {students} 人（变化 {change:+.0%}），"
        "超过 {max_relative_change:.0%}，请核实",
        "warning",
        {"prev": prev, "students": students, "change": change},
    )


def cross_sheet_checks(
    schools: pl.DataFrame, counties: pl.DataFrame, sources: Sequence[Source], params: Mapping[str, Any], sink: Sink
) -> None:
    """Warnings where the two sheets do not cover the same counties: the assessment then lacks a part."""
    keys = ["year", "county_code"]
    per_county = schools.group_by(keys).agg(pl.len().alias("__schools"))
    with_schools = counties.join(per_county, on=keys, how="left", maintain_order="left")
    without_schools = RowCheck(
        "county_without_schools",
        "county_code",
        pl.col("__schools").is_null() & pl.col("year").is_not_null(),
        f"「{COUNTY_SHEET}」表中的 {{county_name}}（{{county_code}}）{{year}} 年度在「{SCHOOL_SHEET}」表中没有学校："
        "资源配置和学校类条目将为“数据不足”，请核实是否漏填了该县的学校",
        "warning",
    )
    run_checks(with_schools, [without_schools], sources, COUNTY_COLUMNS, params, sink)
    with_row, without_row = _rows_without_county(schools, counties)
    run_checks(with_row, [without_row], sources, SCHOOL_COLUMNS, params, sink)


def _rows_without_county(schools: pl.DataFrame, counties: pl.DataFrame) -> tuple[pl.DataFrame, RowCheck]:
    """The school rows with ``__has_row`` (their county has a county-sheet row), and the check on them."""
    keys = ["year", "county_code"]
    listed = counties.select(keys).unique().with_columns(pl.lit(True).alias("__has_row"))
    with_row = schools.join(listed, on=keys, how="left", maintain_order="left")
    without_row = RowCheck(
        "county_row_missing",
        "county_code",
        pl.col("__has_row").is_null() & pl.col("year").is_not_null() & pl.struct(keys).is_first_distinct(),
        f"「{SCHOOL_SHEET}」表中 {{county_name}}（{{county_code}}）{{year}} 年度的 {{n_schools}} 所学校"
        f"在「{COUNTY_SHEET}」表中没有对应的县级数据：政府保障程度、教育质量等县级条目将为“数据不足”",
        "warning",
        {"n_schools": pl.len().over(keys)},
    )
    return with_row, without_row


def rows_without_county_flagged(schools: pl.DataFrame, counties: pl.DataFrame | None) -> bool:
    """Whether ``cross_sheet_checks`` will report a school row (``county_row_missing``) when ``counties`` is given."""
    if counties is None or schools.height == 0:
        return False
    with_row, without_row = _rows_without_county(schools, counties)
    return bool(with_row.select(without_row.fails.fill_null(False).any()).item())
