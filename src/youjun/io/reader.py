"""Read and validate the annual school workbook (学校年度数据表), data-contract.md §1.

``read_school_data`` reads one or more ``.xlsx`` / ``.xlsm`` / ``.xls`` workbooks or ``.csv`` files (one
file per sheet), checks every cell and every row, and returns typed polars frames. An import succeeds whole
or raises one ``YoujunError`` carrying every hard error found (plus the warnings); bad input never surfaces
as a traceback.

Everything is vectorised: each column is parsed by one polars expression over all rows, and only the cells
it rejects get the costlier cleaning (strip, NFKC, separators); row checks are one table of polars
expressions (``RowCheck``) evaluated over all rows of all files at once; ``Problem`` objects are built only
for failing cells. About 0.5 s for 200,000 rows × 54 columns from CSV on two cores.

Decisions worth knowing:

* Every cell is read as text (fastexcel ``dtypes="string"``, CSV ``infer_schema=False``) so that a bad cell
  can be reported with what the user typed. fastexcel renders a whole float cell as ``12`` (not ``12.0``),
  ``1e-5`` as ``0.00001`` and dates as ``2024-01-02 00:00:00`` (rejected in numeric columns). Excel formula
  error values such as ``#DIV/0!`` arrive as empty cells.
* The header row is the first non-blank row; row numbers are the ones the user sees (Excel row number, CSV
  record number counting the header as 1). Wholly blank rows are skipped silently, and so is a second header
  row that names the same columns again (e.g. English keys under the Chinese headers).
* A blank or header-only ``县级指标`` sheet is treated as absent (the template always has one); a blank
  ``学校`` sheet is an error. A CSV whose name contains ``县级指标`` / ``county`` is the county sheet.
* Encodings: UTF-8 (BOM optional), UTF-16 with BOM, else GB18030; separator "," or, if the header line has
  none, tab or ";".
* ``code6`` accepts ``340207`` and also ``340207.0`` (CSV written by tools that turned the code into a
  float); the stored value is always the 6 digits. ``school_id`` is text: it is stripped and NFKC-normalised
  (full-width digits) but never reinterpreted as a number.
* Listing is capped at ``MAX_LISTED_PROBLEMS``; the rest are counted in one summary problem so a wholly
  wrong file cannot exhaust memory.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import io
import math
import os
import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import fastexcel
import polars as pl

from youjun.errors import Location, Problem, Severity, YoujunError
from youjun.io.columns import COUNTY_COLUMNS, COUNTY_SHEET, SCHOOL_COLUMNS, SCHOOL_SHEET, Column
from youjun.io.limits import CLI_LIMITS, InputLimits, check_file_size, check_input

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "Plausibility",
    "RowCheck",
    "SchoolData",
    "county_checks",
    "load_plausibility",
    "normalize_header",
    "read_school_data",
    "school_checks",
]

MAX_LISTED_PROBLEMS = 100_000
"""At most this many problems are listed one by one; the rest are counted in a summary problem."""

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv",)
PROVENANCE_COLUMNS = ("source_file", "source_row")
PLAUSIBILITY_FILE = Path(__file__).with_name("plausibility.toml")

SheetKind = Literal["school", "county"]

_DTYPES: dict[str, type[pl.DataType]] = {
    "int": pl.Int64,
    "year": pl.Int64,
    "number": pl.Float64,
    "text": pl.String,
    "code6": pl.String,
    "enum": pl.String,
}
_STAGES = (("primary", "小学"), ("junior", "初中"))
_MAX_EXACT_INT = 2**53  # counts above this cannot round-trip through a float
_SHEET_ALIASES: dict[SheetKind, tuple[str, ...]] = {
    "school": (SCHOOL_SHEET, "school", "schools"),
    "county": (COUNTY_SHEET, "county", "counties"),
}


# ----------------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class SchoolData:
    """The typed content of the input files.

    ``schools`` has exactly the ``SCHOOL_COLUMNS`` keys in order (int/year → Int64, number → Float64, others →
    String) followed by ``source_file`` (the path as given) and ``source_row`` (row number the user sees).
    ``counties`` has the same shape with ``COUNTY_COLUMNS``, or is ``None`` when no county sheet was given.
    """

    schools: pl.DataFrame
    counties: pl.DataFrame | None
    warnings: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Plausibility:
    """Thresholds of the soft checks, loaded from ``plausibility.toml`` (see the comments there)."""

    max_area_per_student: float
    max_equipment_per_student: float
    ratio_min_students: int
    ratio_primary_min: float
    ratio_primary_max: float
    ratio_junior_min: float
    ratio_junior_max: float
    max_class_size: int
    change_min_students: int
    max_relative_change: float


@dataclass(frozen=True, slots=True)
class RowCheck:
    """One row-level check: a polars expression that is true on failing rows (null counts as passing).

    ``message`` is a ``str.format`` template filled with the row's values (by column key), the ``extra``
    values computed for the row and the ``Plausibility`` thresholds. ``field`` is the column the problem
    points at.
    """

    code: str
    field: str
    fails: pl.Expr
    message: str
    severity: Severity = "error"
    extra: Mapping[str, pl.Expr] = dataclasses.field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------
# Plausibility thresholds


_PLAUSIBILITY_KEYS: dict[str, tuple[str, str, type]] = {
    "max_area_per_student": ("teaching_area_per_student", "max", float),
    "max_equipment_per_student": ("equipment_per_student", "max", float),
    "ratio_min_students": ("student_teacher_ratio", "min_students", int),
    "ratio_primary_min": ("student_teacher_ratio", "primary_min", float),
    "ratio_primary_max": ("student_teacher_ratio", "primary_max", float),
    "ratio_junior_min": ("student_teacher_ratio", "junior_min", float),
    "ratio_junior_max": ("student_teacher_ratio", "junior_max", float),
    "max_class_size": ("class_size", "max", int),
    "change_min_students": ("year_change", "min_students", int),
    "max_relative_change": ("year_change", "max_relative_change", float),
}


def load_plausibility(path: str | os.PathLike[str] | None = None) -> Plausibility:
    """Load soft-check thresholds from a TOML file (default: the packaged ``plausibility.toml``)."""
    source = Path(path) if path is not None else PLAUSIBILITY_FILE
    shown = os.fspath(source)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise YoujunError.single("bad_plausibility_config", f"无法读取合理性阈值配置：{exc}", file=shown) from None
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, (section, key, kind) in _PLAUSIBILITY_KEYS.items():
        table = data.get(section)
        raw = table.get(key) if isinstance(table, dict) else None
        number = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else math.nan
        if not (math.isfinite(number) and number >= 0 and (kind is float or number.is_integer())):
            problems.append(
                Problem(
                    "bad_plausibility_config",
                    f"合理性阈值配置缺少或错误：[{section}] {key} 应为非负数值",
                    "error",
                    Location(file=shown, field=f"{section}.{key}", value=None if raw is None else str(raw)),
                )
            )
            continue
        values[name] = kind(raw)
    if problems:
        raise YoujunError(problems)
    return Plausibility(**values)


# ----------------------------------------------------------------------------------------------------
# Row checks


def _label(key: str, columns: Sequence[Column] = SCHOOL_COLUMNS) -> str:
    return next(c.header for c in columns if c.key == key)


#: Parts that cannot exceed their whole (hard checks, decision 28): (parts summed, whole summed, the rule in words).
#: A stage's largest class or its number of classes cannot exceed its students; the school's counts of migrant
#: children, zoned admissions, certified and trained teachers and its training funds are parts of the totals named.
SCHOOL_PART_WHOLE: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    *(((f"max_class_size_{stage}",), (f"students_{stage}",), f"最大班额不能超过{zh}在校生数") for stage, zh in _STAGES),
    *(((f"classes_{stage}",), (f"students_{stage}",), f"班级数不能超过{zh}在校生数") for stage, zh in _STAGES),
    (("migrant_students",), ("students_primary", "students_junior"), "随迁子女是义务教育阶段在校生的一部分"),
    (("zoned_students",), ("students_primary", "students_junior"), "就近划片入学学生是义务教育阶段在校生的一部分"),
    (("certified_teachers",), ("teachers_primary", "teachers_junior"), "持证教师是义务教育阶段专任教师的一部分"),
    (("trained_360h_teachers",), ("teachers_primary", "teachers_junior"), "培训满学时教师是专任教师的一部分"),
    (("training_funds",), ("public_funds",), "教师培训经费从公用经费预算中安排"),
)
COUNTY_PART_WHOLE: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("rotated_backbone_teachers",), ("rotated_teachers",), "交流轮岗骨干教师是交流轮岗教师的一部分"),
    (("rotated_teachers",), ("rotation_eligible_teachers",), "交流轮岗教师来自符合交流条件的教师"),
    (("quality_hs_allocated",), ("quality_hs_plan",), "分配到初中学校的名额是优质高中招生计划的一部分"),
    (
        ("migrant_in_public", "migrant_in_purchased"),
        ("eligible_migrant_children",),
        "公办学校和政府购买服务民办学校就读的随迁子女是符合条件随迁子女的一部分",
    ),
    (("disabled_enrolled",), ("disabled_children",), "入学的适龄残疾儿童少年是适龄残疾儿童少年的一部分"),
    (("junior_deaths",), ("grade7_enrolment",), "死亡学生来自三年前初一入学学生"),
    (("recognition_positive",), ("recognition_valid",), "认可回答是有效回答的一部分"),
)


def _part_whole_checks(
    rules: Sequence[tuple[tuple[str, ...], tuple[str, ...], str]], columns: Sequence[Column]
) -> list[RowCheck]:
    """Hard checks "Σ parts ≤ Σ whole", pointing at the first part's cell; blank cells are not checked."""
    checks = []
    for parts, whole, why in rules:

        def total(keys: tuple[str, ...]) -> pl.Expr:
            expr = pl.col(keys[0])
            for key in keys[1:]:
                expr = expr + pl.col(key)
            return expr

        def named(keys: tuple[str, ...]) -> str:
            return " + ".join(f"「{_label(k, columns)}」（{{{k}}}）" for k in keys)

        checks.append(
            RowCheck(
                "part_exceeds_whole",
                parts[0],
                total(parts) > total(whole),
                f"{named(parts)}不得大于{named(whole)}：{why}",
            )
        )
    return checks


def school_checks(limits: Plausibility) -> list[RowCheck]:
    """Hard and soft row checks of the school sheet; evaluated over all input files together.

    The frame they run on has every ``SCHOOL_COLUMNS`` key (typed, defaults applied), ``source_file``,
    ``source_row``, ``__students`` (all stages) and ``__prev_students`` (the school's total of the year
    before, when that year is in the input). Extend the product's checks by adding rows to this table.
    """
    col = pl.col
    students = col("__students")
    checks: list[RowCheck] = []

    # Hard: duplicate school_id within a year, across every input file.
    group = ["year", "school_id"]
    checks.append(
        RowCheck(
            "duplicate_school_id",
            "school_id",
            col("year").is_not_null() & col("school_id").is_not_null() & ~pl.struct(group).is_first_distinct(),
            "学校标识码「{school_id}」在 {year} 年度重复，首次出现在文件「{first_file}」第 {first_row} 行；"
            "同一年度每所学校只能填写一行",
            extra={
                "first_file": col("source_file").first().over(group),
                "first_row": col("source_row").first().over(group),
            },
        )
    )
    # Hard: each kind of teacher of a stage ≤ full-time teachers of that stage.
    for stage, _ in _STAGES:
        total = f"teachers_{stage}"
        for part in (
            "qualified_teachers",
            "backbone_teachers",
            "pe_teachers",
            "music_teachers",
            "art_teachers",
        ):
            key = f"{part}_{stage}"
            checks.append(
                RowCheck(
                    "exceeds_full_time_teachers",
                    key,
                    col(key) > col(total),
                    f"「{_label(key)}」（{{{key}}}）不得大于「{_label(total)}」（{{{total}}}），请核实是否按学段填报",
                )
            )
    checks += [
        RowCheck(
            "indoor_exceeds_teaching_area",
            "indoor_sports_area",
            col("indoor_sports_area") > col("teaching_aux_area"),
            "「室内体育用房面积」（{indoor_sports_area}㎡）不得大于「教学及辅助用房面积」（{teaching_aux_area}㎡），"
            "室内体育用房是教学及辅助用房的一部分",
        ),
        *_part_whole_checks(SCHOOL_PART_WHOLE, SCHOOL_COLUMNS),
        RowCheck(
            "no_students",
            "students_primary",
            students == 0,
            "小学、初中、高中在校生数均为 0：每所学校至少应有一个学段的在校生（已撤并或停办的学校请删除此行）",
        ),
    ]

    # Soft: plausible ranges.
    per_area = col("teaching_aux_area") / students
    per_equipment = col("equipment_value") / students
    checks += [
        RowCheck(
            "area_per_student_high",
            "teaching_aux_area",
            (students > 0) & (per_area > limits.max_area_per_student),
            "生均教学及辅助用房面积 {per_student:.1f}㎡，超过 {max_area_per_student:g}㎡ 的合理上限，"
            "请核实面积单位和在校生数",
            "warning",
            {"per_student": per_area},
        ),
        RowCheck(
            "equipment_per_student_high",
            "equipment_value",
            (students > 0) & (per_equipment > limits.max_equipment_per_student),
            "生均教学仪器设备值 {per_student:,.0f} 元，超过 {max_equipment_per_student:,.0f} 元的合理上限，"
            "请核实单位（应以元为单位）",
            "warning",
            {"per_student": per_equipment},
        ),
    ]
    for stage, zh in _STAGES:
        n, t = col(f"students_{stage}"), col(f"teachers_{stage}")
        lo, hi = (
            (limits.ratio_primary_min, limits.ratio_primary_max)
            if stage == "primary"
            else (limits.ratio_junior_min, limits.ratio_junior_max)
        )
        ratio = n / t
        size, classes = col(f"max_class_size_{stage}"), col(f"classes_{stage}")
        checks += [
            RowCheck(
                "student_teacher_ratio_implausible",
                f"teachers_{stage}",
                (n >= limits.ratio_min_students) & (t > 0) & ((ratio < lo) | (ratio > hi)),
                f"{zh}生师比 {{ratio:.1f}} : 1，不在合理范围 {lo:g}–{hi:g} 之内，请核实{zh}在校生数和专任教师数",
                "warning",
                {"ratio": ratio},
            ),
            RowCheck(
                "teachers_without_students",
                f"teachers_{stage}",
                (t > 0) & (n == 0),
                f"{zh}专任教师数为 {{teachers_{stage}}}，但{zh}在校生数为 0，请核实是否按学段填报",
                "warning",
            ),
            RowCheck(
                "students_without_teachers",
                f"students_{stage}",
                (n > 0) & (t == 0),
                f"{zh}在校生数为 {{students_{stage}}}，但{zh}专任教师数为 0，请核实是否按学段填报",
                "warning",
            ),
            RowCheck(
                "oversized_class",
                f"max_class_size_{stage}",
                size > limits.max_class_size,
                f"{zh}最大班额 {{max_class_size_{stage}}} 人，超过 {{max_class_size}} 人（超大班额），请核实",
                "warning",
            ),
            RowCheck(
                "class_size_inconsistent",
                f"max_class_size_{stage}",
                (classes > 0) & (size > 0) & (n > classes * size),
                f"{zh}在校生数（{{students_{stage}}}）大于班级数 × 最大班额（{{classes_{stage}}} × "
                f"{{max_class_size_{stage}}}），数据相互矛盾，请核实",
                "warning",
            ),
        ]
    prev = col("__prev_students")
    change = (students - prev) / prev
    first_name = col("county_name").first().over(["year", "county_code"])
    checks += [
        RowCheck(
            "built_after_year",
            "built_year",
            col("built_year") > col("year"),
            "建成年份 {built_year} 晚于统计年度 {year}，请核实",
            "warning",
        ),
        RowCheck(
            "county_name_inconsistent",
            "county_name",
            col("county_name") != first_name,
            "县级区划代码 {county_code} 在 {year} 年度已对应名称「{first_name}」"
            "（文件「{first_file}」第 {first_row} 行），同一代码的名称应一致",
            "warning",
            {
                "first_name": first_name,
                "first_file": col("source_file").first().over(["year", "county_code"]),
                "first_row": col("source_row").first().over(["year", "county_code"]),
            },
        ),
        RowCheck(
            "students_change_large",
            "students_primary",
            (prev > 0)
            & (pl.max_horizontal(students, prev) >= limits.change_min_students)
            & (change.abs() > limits.max_relative_change),
            "在校生总数由上一年度的 {prev} 人变为 {students} 人（变化 {change:+.0%}），"
            "超过 {max_relative_change:.0%}，请核实",
            "warning",
            {"prev": prev, "students": students, "change": change},
        ),
    ]
    return checks


def county_checks() -> list[RowCheck]:
    """Row checks of the county sheet."""
    group = ["year", "county_code"]
    return [
        RowCheck(
            "duplicate_county",
            "county_code",
            pl.col("year").is_not_null() & pl.col("county_code").is_not_null() & ~pl.struct(group).is_first_distinct(),
            "县级区划代码 {county_code} 在 {year} 年度重复，首次出现在文件「{first_file}」第 {first_row} 行；"
            "每个县每年只能填写一行",
            extra={
                "first_file": pl.col("source_file").first().over(group),
                "first_row": pl.col("source_row").first().over(group),
            },
        ),
        *_part_whole_checks(COUNTY_PART_WHOLE, COUNTY_COLUMNS),
        RowCheck(
            "recognised_after_year",
            "basic_balance_year",
            pl.col("basic_balance_year") > pl.col("year"),
            f"「{_label('basic_balance_year', COUNTY_COLUMNS)}」（{{basic_balance_year}}）晚于统计年度（{{year}}）："
            "认定年份不能在评估年度之后",
        ),
        RowCheck(
            "rate_out_of_range",
            "recognition_rate",
            pl.col("recognition_rate") > 1,
            f"「{_label('recognition_rate', COUNTY_COLUMNS)}」（{{recognition_rate}}）"
            "应为 0–1 之间的小数，如 0.875（即 87.5%）",
        ),
    ]


# ----------------------------------------------------------------------------------------------------
# Problem collection


class _Sink:
    """Problems with a sort key (file, sheet, row, column), listing capped at ``MAX_LISTED_PROBLEMS``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.items: list[tuple[tuple[int, int, int, int], Problem]] = []
        self.unlisted: dict[Severity, int] = {"error": 0, "warning": 0}
        self.has_error = False

    def room(self) -> int:
        return max(self.cap - len(self.items), 0)

    def add(self, problem: Problem, order: tuple[int, int, int, int] = (0, 0, 0, 0)) -> None:
        if problem.severity == "error":
            self.has_error = True
        if len(self.items) >= self.cap:
            self.unlisted[problem.severity] += 1
            return
        self.items.append((order, problem))

    def skip(self, severity: Severity, count: int) -> None:
        if count > 0:
            self.unlisted[severity] += count
            if severity == "error":
                self.has_error = True

    def result(self) -> tuple[list[Problem], list[Problem]]:
        ordered = [p for _, p in sorted(self.items, key=lambda item: item[0])]
        errors = [p for p in ordered if p.severity == "error"]
        warnings = [p for p in ordered if p.severity == "warning"]
        if self.unlisted["error"]:
            errors.append(self._summary("error", "错误"))
        if self.unlisted["warning"]:
            warnings.append(self._summary("warning", "警告"))
        return errors, warnings

    def _summary(self, severity: Severity, what: str) -> Problem:
        n = self.unlisted[severity]
        return Problem("too_many_problems", f"另有 {n} 个{what}未逐一列出，请先修正上面列出的问题后重新导入", severity)


@dataclass(frozen=True, slots=True)
class _Source:
    """One sheet (or CSV file) that was read: provenance for every problem of its rows."""

    file: str
    sheet: str | None
    file_index: int
    sheet_index: int
    headers: dict[str, str]  # key -> header text as found in the file

    def where(self, **kw: Any) -> Location:
        return Location(file=self.file, sheet=self.sheet, **kw)


@dataclass(slots=True)
class _RawSheet:
    file: str
    sheet: str | None
    kind: SheetKind
    grid: pl.DataFrame  # every cell as text, positional column names, grid row 0 is user row ``first_row``
    file_index: int
    sheet_index: int
    first_row: int = 1


# ----------------------------------------------------------------------------------------------------
# Headers


_INVISIBLE = re.compile(r"[\s\u200b\ufeff]+")
_REQUIRED_MARKS = ("*", "(必填)", "(必填项)", "(选填)")


def normalize_header(text: str) -> str:
    """Header as matched: NFKC, no whitespace at all, no required marks (``*``, ``（必填）``), lower case.

    >>> normalize_header(" 教学及辅助用房面积（㎡）* ")
    '教学及辅助用房面积(m2)'
    >>> normalize_header("Students_Primary（必填）")
    'students_primary'
    """
    s = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    changed = True
    while changed and s:
        changed = False
        for mark in _REQUIRED_MARKS:
            if s.endswith(mark) and len(s) > len(mark):
                s, changed = s[: -len(mark)], True
        if s.startswith("*") and len(s) > 1:
            s, changed = s[1:], True
    return s.lower()


def _header_lookup(columns: Sequence[Column]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for c in columns:
        lookup[normalize_header(c.header)] = c.key
        lookup[normalize_header(c.key)] = c.key
    for c in columns:  # also accept an area/money header without its unit, e.g. 教学及辅助用房面积
        if c.unit:
            full, unit = normalize_header(c.header), normalize_header(f"({c.unit})")
            if full.endswith(unit):
                lookup.setdefault(full[: -len(unit)], c.key)
    return lookup


_LOOKUPS: dict[SheetKind, dict[str, str]] = {
    "school": _header_lookup(SCHOOL_COLUMNS),
    "county": _header_lookup(COUNTY_COLUMNS),
}
_COLUMNS: dict[SheetKind, tuple[Column, ...]] = {"school": SCHOOL_COLUMNS, "county": COUNTY_COLUMNS}
_SHEET_LABEL: dict[SheetKind, str] = {"school": SCHOOL_SHEET, "county": COUNTY_SHEET}


# ----------------------------------------------------------------------------------------------------
# Cells


_NUMERIC = ("int", "number", "year")
_THOUSANDS = r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?$"


@functools.cache
def _cell_problem_message(code: str, column: Column) -> str:
    h = column.header
    if code == "missing_value":
        return f"必填项「{h}」为空，请填写"
    if code == "not_a_number":
        return f"「{h}」应填写数字（可带千位分隔符），当前内容无法识别为数字"
    if code == "not_an_integer":
        return f"「{h}」应为整数（人数、间数等计数不能有小数）"
    if code == "negative":
        return f"「{h}」不能为负数"
    if code == "number_too_large":
        return f"「{h}」数值过大，请核实"
    if code == "invalid_year":
        return f"「{h}」应为 1900–2100 之间的四位年份（如 2024）"
    if code == "invalid_code6":
        return f"「{h}」应为 6 位数字的县级行政区划代码（如 340207）"
    if code == "invalid_choice":
        return f"「{h}」只能填写：{'、'.join(column.choices)}"
    if code == "text_too_long":
        return f"「{h}」不能超过 {column.max_length} 个字符"
    if code == "invalid_characters":
        return f"「{h}」只能包含{column.pattern_text}"
    if code == "control_characters":
        return f"「{h}」含有换行、制表符等控制字符，请删除"
    return f"「{h}」的值无效"


# Cells are parsed in two steps. The fast step takes the text as a careful user writes it (ASCII digits, no
# stray spaces, exact choice) over the whole column in one vectorised expression. Only the cells it rejects
# (usually none) go through the slow step (strip incl. U+3000 and NBSP, NFKC, thousands separators) and are
# parsed again; what still fails is an error. This keeps string work proportional to the messy cells.


def _fast_expr(text: pl.Expr, column: Column) -> pl.Expr:
    """Parsed value (Float64 for numbers, String otherwise), null where the text is not taken as it is."""
    kind = column.kind
    if kind in ("int", "year"):  # plain integers parse faster than floats; "12.0" etc. go to the slow step
        return text.str.to_integer(strict=False).cast(pl.Float64)
    if kind == "number":
        return text.cast(pl.Float64, strict=False)
    if kind == "code6":
        return pl.when(text.str.contains(r"^[0-9]{6}$")).then(text)
    if kind == "enum":
        return pl.when(text.is_in(column.choices)).then(text)
    stripped = text.str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def _retry_expr(raw: pl.Expr, value: pl.Expr, column: Column) -> pl.Expr | None:
    """Cells that need the slow step (None: the column never needs it)."""
    if column.kind != "text":
        return (raw.str.len_bytes() > 0) & value.is_null()  # "" (a quoted empty CSV field) is blank, not retried
    if column.key == "school_id":  # an identifier: full-width digits are the same digits
        return value.str.contains(r"[^\x00-\x7f]").fill_null(False)
    return None


def _slow_clean(text: pl.Series, column: Column) -> pl.Series:
    """Strip (incl. full-width space and NBSP), NFKC, number separators; blank → null.

    Each costly step runs only on the cells that need it, so a wholly wrong file stays affordable.
    """

    def on(series: pl.Series, pattern: str, step: pl.Expr) -> pl.Series:
        index = series.str.contains(pattern).fill_null(False).arg_true()
        if index.len() == 0:
            return series
        return series.scatter(index, series.gather(index).to_frame("t").select(step).to_series())

    s = text.str.strip_chars()
    if column.kind != "text" or column.key == "school_id":
        s = on(s, r"[^\x00-\x7f]", pl.col("t").str.normalize("NFKC").str.strip_chars())
    if column.kind in _NUMERIC:
        # Spaces anywhere; "," (NFKC turns "，" into ",") only as a thousands separator, so "12,5" stays invalid.
        s = on(s, r"\s", pl.col("t").str.replace_all(r"\s", ""))
        s = on(s, _THOUSANDS, pl.col("t").str.replace_all(",", "", literal=True))
    elif column.kind == "code6":
        # "340207.0" is accepted: a CSV written by a tool that read the code as a float. Value: the 6 digits.
        s = on(s, r"^[0-9]{6}\.0+$", pl.col("t").str.slice(0, 6))
    elif column.kind == "enum":
        s = s.replace({unicodedata.normalize("NFKC", choice): choice for choice in column.choices})
    return s.to_frame("t").select(pl.when(pl.col("t").str.len_bytes() > 0).then(pl.col("t"))).to_series()


def _error_conditions(value: pl.Expr, present: pl.Expr, column: Column) -> list[tuple[str, pl.Expr]]:
    """(code, failing condition) in priority order; a cell's error is the first condition that holds."""
    conditions: list[tuple[str, pl.Expr]] = []
    if column.required:
        conditions.append(("missing_value", ~present))
    kind = column.kind
    if kind in _NUMERIC:
        unreadable = present & (value.is_null() | ~value.is_finite())
        if kind == "year":
            out_of_range = (value != value.floor()) | (value < 1900) | (value > 2100)
            conditions.append(("invalid_year", unreadable | out_of_range))
        else:
            conditions.append(("not_a_number", unreadable))
            if kind == "int":
                conditions.append(("not_an_integer", value != value.floor()))
            conditions.append(("negative", value < 0))
            if kind == "int":
                conditions.append(("number_too_large", value > _MAX_EXACT_INT))
    elif kind == "code6":
        conditions.append(("invalid_code6", present & value.is_null()))
    elif kind == "text":
        if column.max_length:
            conditions.append(("text_too_long", present & (value.str.len_chars() > column.max_length)))
        if column.pattern:
            conditions.append(("invalid_characters", present & ~value.str.contains(column.pattern)))
        else:  # control characters (tabs, line breaks, NUL) never belong in a name
            conditions.append(("control_characters", present & value.str.contains(r"[\x00-\x1f\x7f]")))
    elif kind == "enum":
        conditions.append(("invalid_choice", present & value.is_null()))
    return [(code, condition.fill_null(False)) for code, condition in conditions]


def _error_code_expr(conditions: Sequence[tuple[str, pl.Expr]]) -> pl.Expr:
    if not conditions:
        return pl.lit(None, pl.String)
    (code, condition), *rest = conditions
    chain: Any = pl.when(condition).then(pl.lit(code))
    for code, condition in rest:
        chain = chain.when(condition).then(pl.lit(code))
    result: pl.Expr = chain.otherwise(pl.lit(None, pl.String))
    return result


def _typed_expr(value: pl.Expr, present: pl.Expr, bad: pl.Expr, column: Column) -> pl.Expr:
    """The output column: null where the cell is in error, the default where it is absent."""
    typed: pl.Expr = pl.when(~bad).then(value)
    if column.kind in ("int", "year"):
        typed = typed.cast(pl.Int64, strict=False)
    if not column.required and column.default is not None:
        typed = pl.when(~present).then(pl.lit(column.default)).otherwise(typed)
    return typed.cast(_DTYPES[column.kind])


# ----------------------------------------------------------------------------------------------------
# Reading files


def _is_panic(exc: BaseException) -> bool:
    # pyo3 turns a Rust panic into PanicException, which derives from BaseException.
    return type(exc).__name__ == "PanicException"


def _read_bytes(path: Path, shown: str, file_index: int, sink: _Sink) -> bytes | None:
    order = (file_index, -1, 0, 0)
    where = Location(file=shown)
    try:
        if not path.exists():
            sink.add(Problem("file_not_found", "文件不存在，请检查路径和文件名", "error", where), order)
            return None
        if not path.is_file():
            sink.add(Problem("not_a_file", "这不是一个文件（可能是文件夹），请指定数据文件", "error", where), order)
            return None
        data = path.read_bytes()
    except OSError as exc:
        sink.add(
            Problem("file_unreadable", f"无法读取文件（{exc.strerror or exc}），请检查文件权限", "error", where),
            order,
        )
        return None
    if not data:
        sink.add(Problem("empty_file", "文件是空的（0 字节），请确认导出或保存是否成功", "error", where), order)
        return None
    return data


def _read_excel(data: bytes, shown: str, file_index: int, sink: _Sink) -> list[_RawSheet]:
    order = (file_index, -1, 0, 0)
    try:
        reader = fastexcel.read_excel(data)  # from bytes: the format is sniffed, so a renamed .xls still opens
        names = list(reader.sheet_names)
    except BaseException as exc:
        if not isinstance(exc, Exception) and not _is_panic(exc):
            raise
        sink.add(
            Problem(
                "not_a_workbook",
                "无法打开：这不是有效的 Excel 工作簿（文件可能已损坏，或是其他格式的文件改了扩展名）",
                "error",
                Location(file=shown),
            ),
            order,
        )
        return []

    def find(kind: SheetKind) -> str | None:
        wanted = {normalize_header(n) for n in _SHEET_ALIASES[kind]}
        return next((n for n in names if normalize_header(n) in wanted), None)

    school, county = find("school"), find("county")
    chosen: list[tuple[str, SheetKind]] = []
    if school is None:
        candidates = [n for n in names if n != county and not n.startswith("_") and normalize_header(n) != "填表说明"]
        if len(candidates) == 1:
            school = candidates[0]
            sink.add(
                Problem(
                    "school_sheet_guessed",
                    f"工作簿中没有名为「{SCHOOL_SHEET}」的工作表，已按学校数据读取唯一的工作表「{school}」",
                    "warning",
                    Location(file=shown, sheet=school),
                ),
                order,
            )
        else:
            found = "、".join(f"「{n}」" for n in names) or "（无）"
            sink.add(
                Problem(
                    "missing_school_sheet",
                    f"工作簿中没有名为「{SCHOOL_SHEET}」的工作表（现有工作表：{found}），请使用模板填报",
                    "error",
                    Location(file=shown),
                ),
                order,
            )
    if school is not None:
        chosen.append((school, "school"))
    if county is not None:
        chosen.append((county, "county"))

    sheets: list[_RawSheet] = []
    for index, (name, kind) in enumerate(chosen):
        try:
            grid = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
        except BaseException as exc:
            if not isinstance(exc, Exception) and not _is_panic(exc):
                raise
            sink.add(
                Problem(
                    "unreadable_sheet",
                    "无法读取该工作表，文件可能已损坏",
                    "error",
                    Location(file=shown, sheet=name),
                ),
                (file_index, index, 0, 0),
            )
            continue
        grid = grid.select(pl.col(c).cast(pl.String).alias(f"c{i}") for i, c in enumerate(grid.columns))
        sheets.append(_RawSheet(shown, name, kind, grid, file_index, index))
    return sheets


def _csv_kind(path: Path) -> SheetKind:
    stem = unicodedata.normalize("NFKC", path.stem).lower()
    return "county" if (COUNTY_SHEET in stem or "county" in stem or "counties" in stem) else "school"


def _separator(body: bytes) -> str:
    """Comma, unless the header line has none but has tabs (Excel "Unicode text") or ";" (some locales)."""
    head = body[:65536]
    first_line = head.split(b"\n", 1)[0]
    if b"," in first_line:
        return ","
    best = max(("\t", ";"), key=lambda s: first_line.count(s.encode()))
    return best if best.encode() in first_line else ","


def _parse_csv(body: bytes) -> pl.DataFrame:
    return pl.read_csv(body, has_header=False, infer_schema=False, separator=_separator(body), raise_if_empty=False)


def _read_csv(path: Path, data: bytes, shown: str, file_index: int, sink: _Sink) -> list[_RawSheet]:
    """One CSV file = one sheet. UTF-8 (BOM optional) or UTF-16 with BOM; GB18030 when it is not UTF-8."""
    order = (file_index, -1, 0, 0)
    where = Location(file=shown)

    def fail(code: str, message: str) -> list[_RawSheet]:
        sink.add(Problem(code, message, "error", where), order)
        return []

    body = data  # polars skips a UTF-8 BOM itself
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            body = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return fail("bad_encoding", "无法识别文件编码，请在 Excel 中另存为「CSV UTF-8」格式")
    # Leading blank lines would confuse the field count: drop them and shift the row numbers.
    bom = b"\xef\xbb\xbf"
    skipped = 0
    start = len(bom) if body.startswith(bom) else 0  # look at the first bytes only: no copy of a large file
    if body[start : start + 1] in (b"\r", b"\n"):
        rest = body[start:]
        stripped = rest.lstrip(b"\r\n")
        skipped = rest[: len(rest) - len(stripped)].count(b"\n")
        body, start = stripped, 0
    if not body[start : start + 65536].strip() and not body[start:].strip():
        return fail("empty_file", "文件没有任何内容（没有表头和数据）")
    try:
        grid = _parse_csv(body)
    except pl.exceptions.PolarsError:
        try:
            body.decode("utf-8")  # only on the failure path: was it the encoding?
        except UnicodeDecodeError:
            try:
                body = body.decode("gb18030").encode("utf-8")  # Excel on Chinese Windows saves GBK
            except UnicodeDecodeError:
                return fail("bad_encoding", "无法识别文件编码，请在 Excel 中另存为「CSV UTF-8」格式")
        try:
            grid = _parse_csv(body)
        except pl.exceptions.PolarsError:
            return fail("bad_csv", _csv_failure(body, skipped))
    grid = grid.rename({c: f"c{i}" for i, c in enumerate(grid.columns)})
    return [_RawSheet(shown, None, _csv_kind(path), grid, file_index, 0, first_row=skipped + 1)]


def _csv_failure(body: bytes, skipped: int) -> str:
    """Explain why polars could not parse a CSV (only on the failure path, so a Python scan is fine)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8", errors="replace")), delimiter=_separator(body))
    try:
        width = len(next(reader))
        for record in reader:
            if len(record) > width:
                return (
                    f"CSV 第 {reader.line_num + skipped} 行有 {len(record)} 个字段，多于表头的 {width} 列"
                    "（可能有未加引号的逗号），请修正后重新导入"
                )
    except csv.Error as exc:
        return f"CSV 格式错误（{exc}），请在 Excel 中另存为「CSV UTF-8」格式"
    return "CSV 格式错误，无法解析，请在 Excel 中另存为「CSV UTF-8」格式"


# ----------------------------------------------------------------------------------------------------
# Validating one sheet


def _first_nonblank_row(grid: pl.DataFrame) -> int | None:
    def scan(frame: pl.DataFrame) -> int | None:
        if frame.width == 0 or frame.height == 0:
            return None
        nonblank = frame.select(
            pl.any_horizontal(pl.all().str.strip_chars().str.len_bytes().fill_null(0) > 0)
        ).to_series()
        hits = nonblank.arg_true()
        return int(hits[0]) if hits.len() else None

    head = scan(grid.head(100))
    return head if head is not None or grid.height <= 100 else scan(grid)


def _validate_sheet(raw: _RawSheet, source_index: int, sink: _Sink) -> tuple[_Source, pl.DataFrame] | None:
    """Check headers and cells of one sheet; return its source and typed frame (None if it has no data)."""
    columns, lookup = _COLUMNS[raw.kind], _LOOKUPS[raw.kind]
    file_order = (raw.file_index, raw.sheet_index)
    where = Location(file=raw.file, sheet=raw.sheet)
    header_at = _first_nonblank_row(raw.grid)
    if header_at is None:
        if raw.kind == "county":  # the county sheet is optional: a blank one is the same as none
            return None
        sink.add(
            Problem("no_data", f"{_SHEET_LABEL[raw.kind]}数据为空：没有表头和数据行", "error", where),
            (*file_order, 0, 0),
        )
        return None
    header_row = raw.first_row + header_at
    header_cells = raw.grid.row(header_at)
    # One rechunk up front: the multithreaded CSV reader yields many chunks, and every eager polars operation on
    # a chunked frame would otherwise rechunk it again.
    grid = raw.grid.slice(header_at + 1).rechunk()

    headers: dict[str, str] = {}
    source_of: dict[str, str] = {}  # key -> grid column
    position = {c.key: i for i, c in enumerate(columns)}
    for index, cell in enumerate(header_cells):
        grid_col = f"c{index}"
        text = (cell or "").strip()
        loc = Location(file=raw.file, sheet=raw.sheet, row=header_row, column=text or None)
        order = (*file_order, header_row, index)
        if not text:
            if grid.height and grid[grid_col].str.strip_chars().str.len_bytes().fill_null(0).gt(0).any():
                sink.add(
                    Problem(
                        "unknown_column",
                        f"第 {index + 1} 列有数据但没有列名，该列数据不会导入",
                        "warning",
                        loc,
                    ),
                    order,
                )
            continue
        key = lookup.get(normalize_header(text))
        if key is None:
            known = {normalize_header(c.header): c.header for c in columns}
            hint = difflib.get_close_matches(normalize_header(text), list(known), n=1, cutoff=0.6)
            guess = f"，是否应为「{known[hint[0]]}」？" if hint else ""
            sink.add(
                Problem("unknown_column", f"未识别的列「{text}」，该列数据不会导入{guess}", "warning", loc),
                order,
            )
            continue
        if key in headers:
            sink.add(
                Problem(
                    "duplicate_column",
                    f"列「{text}」与列「{headers[key]}」重复（都对应「{_label(key, columns)}」），请删除其中一列",
                    "error",
                    Location(file=raw.file, sheet=raw.sheet, row=header_row, column=text, field=key),
                ),
                order,
            )
            continue
        headers[key] = text
        source_of[key] = grid_col
    for c in columns:
        if c.required and c.key not in headers:
            sink.add(
                Problem(
                    "missing_column",
                    f"缺少必填列「{c.header}」（英文列名 {c.key}）",
                    "error",
                    Location(file=raw.file, sheet=raw.sheet, row=header_row, field=c.key),
                ),
                (*file_order, header_row, len(header_cells) + position[c.key]),
            )
    source = _Source(raw.file, raw.sheet, raw.file_index, raw.sheet_index, headers)
    present = [c for c in columns if c.key in source_of]
    if not present:  # nothing recognised: the missing_column errors above say why
        return None
    first_data_row = header_row + 1
    if grid.height and _is_second_header(grid.row(0), source_of, lookup):
        grid, first_data_row = grid.slice(1), first_data_row + 1

    frame = grid.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_data_row).alias("source_row"),
        *[pl.col(source_of[c.key]).alias(f"__raw_{c.key}") for c in present],
    )
    frame, bad = _parse_cells(frame, present)
    if frame.height == 0:
        if raw.kind == "county":  # a template's county sheet left with its header only
            return None
        sink.add(
            Problem("no_data", f"{_SHEET_LABEL[raw.kind]}只有表头，没有数据行", "error", where),
            (*file_order, header_row, 0),
        )
        return None
    _collect_cell_problems(bad, present, source, position, sink)

    # Absent columns: default value (or null); raw text null.
    missing = [c for c in columns if c.key not in source_of]
    frame = frame.with_columns(
        *[pl.lit(c.default, _DTYPES[c.kind]).alias(c.key) for c in missing],
        *[pl.lit(None, pl.String).alias(f"__raw_{c.key}") for c in missing],
        pl.lit(raw.file, pl.String).alias("source_file"),
        pl.lit(source_index, pl.Int32).alias("__src"),
    ).select(
        *[c.key for c in columns],
        *PROVENANCE_COLUMNS,
        "__src",
        *[f"__raw_{c.key}" for c in columns],
    )
    return source, frame


def _is_second_header(cells: Sequence[str | None], source_of: Mapping[str, str], lookup: Mapping[str, str]) -> bool:
    """A row under the header that names the same columns again (e.g. English keys under Chinese headers)."""
    named = 0
    for key, grid_col in source_of.items():
        cell = cells[int(grid_col[1:])]
        if cell is None or not cell.strip():
            continue
        if lookup.get(normalize_header(cell)) != key:
            return False
        named += 1
    return named > 0


def _parse_cells(frame: pl.DataFrame, present: Sequence[Column]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse every ``__raw_{key}`` column into ``{key}`` (typed); drop wholly blank rows.

    Returns the typed frame and the failing rows with an ``__err_{key}`` code column per cell (null if fine).
    """
    frame = frame.with_columns(_fast_expr(pl.col(f"__raw_{c.key}"), c).alias(f"__v_{c.key}") for c in present)
    retry = {
        c.key: expr
        for c in present
        if (expr := _retry_expr(pl.col(f"__raw_{c.key}"), pl.col(f"__v_{c.key}"), c)) is not None
    }
    present_of: dict[str, pl.Expr] = {
        c.key: pl.col(f"__v_{c.key}").is_not_null()
        if c.kind == "text"
        else pl.col(f"__raw_{c.key}").str.len_bytes().fill_null(0) > 0
        for c in present
    }
    # One pass: which columns have cells for the slow step, and whether any row is wholly blank.
    needed = frame.select(
        *[expr.any().alias(key) for key, expr in retry.items()],
        pl.any_horizontal(list(present_of.values())).all().alias("__no_blank_rows"),
    ).row(0, named=True)
    no_blank_rows = bool(needed.pop("__no_blank_rows"))
    by_key = {c.key: c for c in present}
    for key in [k for k, v in needed.items() if v]:
        column = by_key[key]
        index = frame.select(retry[key]).to_series().arg_true()
        cleaned = _slow_clean(frame.get_column(f"__raw_{key}").gather(index), column)
        reparse = (
            pl.col("t").cast(pl.Float64, strict=False) if column.kind in _NUMERIC else _fast_expr(pl.col("t"), column)
        )
        parsed = cleaned.to_frame("t").select(reparse).to_series()
        values = frame.get_column(f"__v_{key}").clone().scatter(index, parsed)
        frame = frame.with_columns(values.alias(f"__v_{key}"))
        if column.kind != "text":
            mask = frame.select(present_of[key]).to_series().scatter(index, cleaned.is_not_null())
            frame = frame.with_columns(mask.alias(f"__p_{key}"))
            present_of[key] = pl.col(f"__p_{key}")
            no_blank_rows = False  # cleaning may have blanked cells: check again below

    # Wholly blank rows (e.g. formatted but empty Excel rows) are skipped silently.
    keep = pl.any_horizontal(list(present_of.values()))
    if not no_blank_rows and not frame.select(keep.all()).item():
        frame = frame.filter(keep)

    conditions = {c.key: _error_conditions(pl.col(f"__v_{c.key}"), present_of[c.key], c) for c in present}
    frame = frame.with_columns(
        (pl.any_horizontal([cond for _, cond in conditions[c.key]]) if conditions[c.key] else pl.lit(False)).alias(
            f"__bad_{c.key}"
        )
        for c in present
    )
    bad_rows = frame.filter(pl.any_horizontal([f"__bad_{c.key}" for c in present]))
    if bad_rows.height:  # the error code of each failing cell, computed on the failing rows only
        bad_rows = bad_rows.select(
            "source_row",
            *[f"__raw_{c.key}" for c in present],
            *[_error_code_expr(conditions[c.key]).alias(f"__err_{c.key}") for c in present],
        )
    typed = frame.select(
        "source_row",
        *[f"__raw_{c.key}" for c in present],
        *[
            _typed_expr(pl.col(f"__v_{c.key}"), present_of[c.key], pl.col(f"__bad_{c.key}"), c).alias(c.key)
            for c in present
        ],
    )
    return typed, bad_rows


def _collect_cell_problems(
    bad: pl.DataFrame, present: Sequence[Column], source: _Source, position: Mapping[str, int], sink: _Sink
) -> None:
    if bad.height == 0:
        return
    by_key = {c.key: c for c in present}
    err_cols = [f"__err_{c.key}" for c in present]
    per_row = bad.select(pl.sum_horizontal(pl.col(err_cols).is_not_null()).cum_sum()).to_series()
    total, room = int(per_row[-1]), sink.room()
    sink.skip("error", max(total - room, 0))
    rows_needed = int(per_row.search_sorted(room, side="left")) + 1  # rows holding the first `room` errors
    long = (
        bad.head(rows_needed)
        .select(
            "source_row",
            *[pl.struct(code=f"__err_{c.key}", raw=f"__raw_{c.key}").alias(c.key) for c in present],
        )
        .unpivot(index="source_row", variable_name="key", value_name="cell")
        .unnest("cell")
        .filter(pl.col("code").is_not_null())
        .with_columns(pl.col("key").replace_strict(dict(position), return_dtype=pl.Int64).alias("pos"))
        .sort("source_row", "pos")
    )
    for row, key, code, value, pos in long.head(room).iter_rows():
        column = by_key[key]
        sink.add(
            Problem(
                code,
                _cell_problem_message(code, column),
                "error",
                source.where(row=row, column=source.headers[key], field=key, value=value),
            ),
            (source.file_index, source.sheet_index, row, pos),
        )


# ----------------------------------------------------------------------------------------------------
# Row checks over all files


def _display(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _run_checks(
    frame: pl.DataFrame,
    checks: Sequence[RowCheck],
    sources: Sequence[_Source],
    columns: Sequence[Column],
    params: Mapping[str, Any],
    sink: _Sink,
) -> None:
    if frame.height == 0 or not checks:
        return
    position = {c.key: i for i, c in enumerate(columns)}
    # One cheap pass for every check's flag; extras (often window expressions) only for checks that fail.
    flags = frame.select(check.fails.fill_null(False).alias(f"__f{i}") for i, check in enumerate(checks))
    counts = flags.sum().row(0)
    # Hard checks first so that warnings never crowd errors out of the listing.
    for i, check in sorted(enumerate(checks), key=lambda item: item[1].severity != "error"):
        if not counts[i]:
            continue
        room = sink.room()
        sink.skip(check.severity, max(counts[i] - room, 0))
        # Only the columns the message needs, so that formatting stays cheap even for many failing rows.
        names = {name for _, name, _, _ in string.Formatter().parse(check.message) if name}
        prefix = f"__x{i}_"
        wanted = {"__src", "source_row", f"__raw_{check.field}"} | {n for n in names if n in frame.columns}
        failing = (
            frame.lazy()
            .with_columns(flags.get_column(f"__f{i}"))
            .with_columns(expr.alias(prefix + name) for name, expr in check.extra.items() if name in names)
            .filter(pl.col(f"__f{i}"))
            .head(room)
            .select(sorted(wanted | {prefix + n for n in names if n in check.extra}))
            .collect()
        )
        keys = [name.removeprefix(prefix) for name in failing.columns]
        at_src, at_row = keys.index("__src"), keys.index("source_row")
        at_raw = keys.index(f"__raw_{check.field}")
        pos = position.get(check.field, 0)
        for row in failing.iter_rows():
            values = _Values(params)
            values.update(zip(keys, map(_display, row), strict=True))
            try:
                message = check.message.format_map(values)
            except (ValueError, TypeError):  # a value of an unexpected type for a format spec
                message = check.message
            source = sources[row[at_src]]
            where = Location(
                source.file, source.sheet, row[at_row], source.headers.get(check.field), check.field, row[at_raw]
            )
            sink.add(
                Problem(check.code, message, check.severity, where),
                (source.file_index, source.sheet_index, row[at_row], pos),
            )


def _cross_sheet_checks(
    schools: pl.DataFrame, counties: pl.DataFrame, sources: Sequence[_Source], params: Mapping[str, Any], sink: _Sink
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
    _run_checks(with_schools, [without_schools], sources, COUNTY_COLUMNS, params, sink)
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
    _run_checks(with_row, [without_row], sources, SCHOOL_COLUMNS, params, sink)


def _prepare_schools(frame: pl.DataFrame) -> pl.DataFrame:
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
# Entry point


def _as_paths(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
) -> list[str | os.PathLike[str]]:
    if isinstance(paths, str | os.PathLike):
        return [paths]
    return list(paths)


#: Problems about finding the school sheet: beside the point when only the county sheet is read.
_SCHOOL_SHEET_PROBLEMS = frozenset({"missing_school_sheet", "school_sheet_guessed", "no_school_data"})


def read_school_data(
    paths: Sequence[str | os.PathLike[str]],
    *,
    plausibility: Plausibility | None = None,
    county_only: bool = False,
    limits: InputLimits | None = None,
) -> SchoolData:
    """Read, check and concatenate school (and county) data from workbooks or CSV files.

    Raises ``YoujunError`` with every hard error (and the warnings) if any hard error exists; otherwise
    returns the typed frames and the warnings. ``county_only`` reads just the county sheet (``县级指标``) with its
    checks, ignoring any school sheet; ``schools`` is then empty, and a file without a county sheet is an error.
    Every file is first held to ``limits`` (default ``CLI_LIMITS``; the web passes ``WEB_LIMITS``): its size before
    it is read, then its bytes before any parser sees them (``youjun.io.limits``); a refused file is not parsed.
    """
    guard = limits if limits is not None else CLI_LIMITS
    thresholds = plausibility if plausibility is not None else load_plausibility()
    sink = _Sink(MAX_LISTED_PROBLEMS)
    given = _as_paths(paths)
    if not given:
        raise YoujunError.single("no_input", "没有指定数据文件")

    raws: list[_RawSheet] = []
    seen: dict[Path, str] = {}
    for file_index, item in enumerate(given):
        shown = os.fspath(item)
        path = Path(shown)
        suffix = path.suffix.lower()
        order = (file_index, -1, 0, 0)
        if suffix not in EXCEL_SUFFIXES + CSV_SUFFIXES:
            supported = "、".join(EXCEL_SUFFIXES + CSV_SUFFIXES)
            sink.add(
                Problem(
                    "unsupported_format",
                    f"不支持的文件类型「{path.suffix or '（无扩展名）'}」，请使用 {supported} 文件",
                    "error",
                    Location(file=shown),
                ),
                order,
            )
            continue
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            resolved = path
        if resolved in seen:
            sink.add(
                Problem(
                    "duplicate_file",
                    f"同一文件被重复指定（与「{seen[resolved]}」相同）",
                    "error",
                    Location(file=shown),
                ),
                order,
            )
            continue
        seen[resolved] = shown
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError:
            size = None  # _read_bytes reports it
        oversized = check_file_size(size, suffix, guard, file=shown) if size is not None else None
        if oversized is not None:  # refused before it is read into memory
            sink.add(oversized, order)
            continue
        data = _read_bytes(path, shown, file_index, sink)
        if data is None:
            continue
        refused = check_input(data, suffix, guard, file=shown)
        if refused:  # a file over the limits is never parsed
            for problem in refused:
                sink.add(problem, order)
            continue
        if suffix in EXCEL_SUFFIXES:
            raws += _read_excel(data, shown, file_index, sink)
        else:
            raws += _read_csv(path, data, shown, file_index, sink)

    if county_only:
        raws = [r for r in raws if r.kind == "county"]
        sink.items = [(o, p) for o, p in sink.items if p.code not in _SCHOOL_SHEET_PROBLEMS]
        sink.has_error = any(p.severity == "error" for _, p in sink.items) or sink.unlisted["error"] > 0
        if not raws and not sink.has_error:
            message = f"没有找到县级指标：请提供含「{COUNTY_SHEET}」工作表的工作簿或文件名含“县级指标”的 CSV 文件"
            sink.add(Problem("no_county_data", message))
    sources: list[_Source] = []
    parts: dict[SheetKind, list[pl.DataFrame]] = {"school": [], "county": []}
    for raw in raws:
        try:
            validated = _validate_sheet(raw, len(sources), sink)
        except pl.exceptions.PolarsError as exc:  # not expected; even so, a message and no traceback
            where = Location(file=raw.file, sheet=raw.sheet)
            message = f"无法处理该表的数据（{type(exc).__name__}），请检查文件内容或反馈给维护人员"
            sink.add(Problem("unreadable_sheet", message, "error", where), (raw.file_index, raw.sheet_index, 0, 0))
            continue
        if validated is not None:
            sources.append(validated[0])
            parts[raw.kind].append(validated[1])
    if county_only and not parts["county"] and not sink.has_error:
        sink.add(Problem("no_county_data", f"「{COUNTY_SHEET}」表没有数据行"))
    if not county_only and not any(r.kind == "school" for r in raws) and not sink.has_error:
        sink.add(
            Problem("no_school_data", f"没有找到学校数据：请提供含「{SCHOOL_SHEET}」工作表的工作簿或学校 CSV 文件")
        )

    params = {name: getattr(thresholds, name) for name in _PLAUSIBILITY_KEYS}
    schools = _concat(parts["school"], SCHOOL_COLUMNS)
    if schools.height:
        schools = _prepare_schools(schools)
        _run_checks(schools, school_checks(thresholds), sources, SCHOOL_COLUMNS, params, sink)
    counties = _concat(parts["county"], COUNTY_COLUMNS) if parts["county"] else None
    if counties is not None:
        _run_checks(counties, county_checks(), sources, COUNTY_COLUMNS, params, sink)
        if not county_only:
            _cross_sheet_checks(schools, counties, sources, params, sink)

    errors, warnings = sink.result()
    if errors:
        raise YoujunError([*errors, *warnings])
    output = [*(c.key for c in SCHOOL_COLUMNS), *PROVENANCE_COLUMNS]
    return SchoolData(
        schools=schools.select(output),
        counties=None if counties is None else counties.select(*(c.key for c in COUNTY_COLUMNS), *PROVENANCE_COLUMNS),
        warnings=tuple(warnings),
    )


def _concat(frames: Iterable[pl.DataFrame], columns: Sequence[Column]) -> pl.DataFrame:
    frames = list(frames)
    if frames:
        return pl.concat(frames, how="vertical").rechunk()
    schema: dict[str, Any] = {c.key: _DTYPES[c.kind] for c in columns}
    schema |= {"source_file": pl.String, "source_row": pl.Int64, "__src": pl.Int32}
    schema |= {f"__raw_{c.key}": pl.String for c in columns}
    return pl.DataFrame(schema=schema)
