"""Item-by-item evaluation shared by the government guarantee (G1–G15) and education quality (Q1–Q9) parts.

standard-2017.md §4–5, data-contract.md §2. Every item of every county gets a status ``met`` / ``not_met`` /
``insufficient_data``. A check is a Boolean expression read in three-valued (Kleene) logic, as Polars' ``&`` and
``|`` already do: true → met, false → not_met, null → insufficient_data. A missing input or a division by zero gives
null, and the null survives exactly when the outcome depends on it: ``false & null`` is false (a county failing one
part fails whatever the other part would say), ``true | null`` is true (a school meeting the standard limit needs no
relaxation, whatever its building year).

Kinds of item:

- evidence: the reviewer's verdict in the county sheet: 达标 → true, 不达标 → false, 待补充 or blank → null;
- county: figures of the county sheet (``县级指标``) against thresholds of the rule set;
- school: a check per applicable school (the drill-down), and the county item: not met when any applicable school
  fails (or a county aggregate such as the G9 rate falls short), insufficient data when none fails but some cannot
  be checked, met otherwise. One rule for every school item (decision 27): a county with schools but none the item
  applies to (no village school under 100 students for G6, no school in scope for G9) meets it, with the detail
  "无适用学校" and no county figure; a county without any school row cannot be checked. The county ``value`` is the
  aggregate (G9, G12) or null; the counts of applicable, failing and unchecked schools are in ``detail`` and
  ``inputs``.

Every comparison is written the one way (``Item.clause``, decision 26): the value, the requirement in brackets with
its comparison word, the verdict ("2,001 人（要求不超过 2,000 人），未达标"); a boundary case — the figures shown
look equal (or the rule set's rounding turns the verdict) while the full-precision reading differs — adds
"⚠临界：全精度值 …" and sets ``boundary`` on the school row and on the county item.

Which schools a school item covers is data (rule set ``[guarantee.Gn]`` / ``[quality.Qn]``): ``scope = "resources"``
takes the schools of the resource evaluation (``youjun.engine.scope.exclusion_reason``: no special-education
schools, no teaching points under 50 students, private schools as the rule set says, no school without
compulsory-stage students); ``scope = "all"`` every school with compulsory-stage students; ``applies_to`` narrows
either to schools matching any one of its conditions.

Counties are the union of the school frame and the county frame, by (year, county_code). A county with schools but
no county row has its county and evidence items insufficient ("县级指标表中无本县（区）数据"). An insufficient item
names the missing inputs by their template headers ("数据不足：缺少「…」"); ``inputs`` is a JSON object of the raw
inputs (English keys, full precision, null when blank).

Rates (rule-set ``unit = "%"``) are shown as percentages and, when the rule set compares rounded values, rounded as
percentages (95.00 %: ``compare_value_decimals`` decimals of the percentage); other values at
``compare_value_decimals``. Strict thresholds (低于, 超过) are the negation of the inclusive ones with the same
tolerance: a value within the tolerance of the limit counts as at the limit, hence not below it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import polars as pl

from youjun.contract import COUNTY_COLUMNS, SCHOOL_COLUMNS, VERDICT, Column
from youjun.engine.precision import at_least, at_most, round_half_up, round_half_up_scalar
from youjun.engine.recognition import RETURN_INPUTS
from youjun.engine.scope import exclusion_reason
from youjun.engine.status import INSUFFICIENT as INSUFFICIENT
from youjun.engine.status import MET as MET
from youjun.engine.status import NOT_MET as NOT_MET
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet

COUNTY = ["year", "county_code"]
YES, NO = "是", "否"
PASS_VERDICT, FAIL_VERDICT = VERDICT[0], VERDICT[1]  # 达标, 不达标 (待补充 and blank: insufficient)
PERCENT_DIGITS = 2  # a rate of 1 is 100 %: two more decimals when shown or rounded as a percentage
MISSING_TEXT = "未填写"
DISPLAY_ROUNDING_SLACK = 1e-14
COUNT_GROUPS = 3  # thousands groups shown for counts of people, rooms and classes (exact below 10⁹)
UNDEFINED_TEXT = "无法计算"

ITEM_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "county_name": pl.String(),
    "code": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
    "status": pl.String(),
    "value": pl.Float64(),
    "threshold": pl.Float64(),
    "detail": pl.String(),
    "boundary": pl.Boolean(),
    "inputs": pl.String(),
}
SCHOOL_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "code": pl.String(),
    "school_id": pl.String(),
    "school_name": pl.String(),
    "status": pl.String(),
    "value": pl.Float64(),
    "threshold": pl.Float64(),
    "detail": pl.String(),
    "boundary": pl.Boolean(),
}
_DTYPES: dict[str, pl.DataType] = {"int": pl.Int64(), "number": pl.Float64(), "year": pl.Int64()}
_LABELS: dict[str, str] = {c.key: c.header for c in (*COUNTY_COLUMNS, *SCHOOL_COLUMNS)}
_CONDITION_COLUMNS = {
    "school_types": "school_type",
    "urban_rural": "urban_rural",
    "ownership": "ownership",
    "boarding": "boarding",
}


@dataclass(frozen=True)
class ItemEvaluation:
    """The items of one part (guarantee or quality) for every county, and the per-school drill-down.

    - ``items``: one row per (year, county_code, code): ``county_name``, ``code``, ``name``, ``kind``, ``status``,
      ``value``, ``threshold``, ``detail`` (Chinese), ``inputs`` (JSON of the inputs used, full precision);
    - ``schools``: one row per (year, county_code, code, school_id) for every school a school item applies to:
      ``school_name``, ``status``, ``value``, ``threshold``, ``detail``.
    """

    items: pl.DataFrame
    schools: pl.DataFrame


@dataclass(frozen=True)
class CountyCheck:
    """A county-level item: ``ok`` in Kleene logic, the figure, its threshold, a Chinese detail and the inputs.

    ``missing`` pairs an input key with a Boolean "missing and needed"; the labels of those that hold explain an
    insufficient status.
    """

    ok: pl.Expr
    detail: pl.Expr
    inputs: Mapping[str, pl.Expr]
    value: pl.Expr = field(default_factory=lambda: pl.lit(None, pl.Float64))
    threshold: pl.Expr = field(default_factory=lambda: pl.lit(None, pl.Float64))
    missing: Sequence[tuple[str, pl.Expr]] = ()
    boundary: pl.Expr = field(default_factory=lambda: pl.lit(False))


@dataclass(frozen=True)
class Aggregate:
    """A county figure summed over the applicable schools: Σ numerator ÷ Σ denominator (G9, G12)."""

    numerator: pl.Expr
    denominator: pl.Expr
    numerator_label: str
    denominator_label: str
    threshold: float


@dataclass(frozen=True)
class SchoolCheck:
    """A school item: which schools (beyond the item's scope), and per school the same parts as ``CountyCheck``.

    ``county_columns`` are county-sheet columns the school check reads (joined by year and county).
    """

    applies: pl.Expr
    ok: pl.Expr
    detail: pl.Expr
    value: pl.Expr = field(default_factory=lambda: pl.lit(None, pl.Float64))
    threshold: pl.Expr = field(default_factory=lambda: pl.lit(None, pl.Float64))
    missing: Sequence[tuple[str, pl.Expr]] = ()
    aggregate: Aggregate | None = None
    county_columns: Sequence[str] = ()
    boundary: pl.Expr = field(default_factory=lambda: pl.lit(False))


Check = CountyCheck | SchoolCheck

#: The comparison words of the legal reading (standard-2017.md): 不低于 / 不超过 include the boundary, 低于 / 超过
#: exclude it. Counts of people, rooms and classes read "不少于" (at least so many).
WORDS = {"at_least": "不低于", "at_most": "不超过", "below": "低于", "above": "超过"}
COUNT_UNITS = ("人", "间", "个", "年")
VERDICT_WORDS = {True: "达标", False: "未达标"}
BOUNDARY_MARK = "⚠临界"


@dataclass(frozen=True)
class Clause:
    """One comparison of an item, as every item writes it (decision 26).

    ``text`` reads "value（要求不低于 threshold），verdict", and where the value shown at the display precision
    reads the other way from the full-precision value, "⚠临界：全精度值 …" after it; ``boundary`` flags that case.
    """

    ok: pl.Expr
    text: pl.Expr
    boundary: pl.Expr


def verdict_text(ok: pl.Expr) -> pl.Expr:
    """ "，达标" / "，未达标" after a clause; nothing when it cannot be decided."""
    return pl.when(ok).then(pl.lit("，达标")).when(~ok).then(pl.lit("，未达标")).otherwise(pl.lit(""))


def _reading(value: pl.Expr, threshold: pl.Expr, op: str, tolerance: float) -> pl.Expr:
    if op == "at_least":
        return value >= threshold * (1 - tolerance)
    if op == "at_most":
        return value <= threshold * (1 + tolerance)
    if op == "below":
        return ~(value >= threshold * (1 - tolerance))
    return ~(value <= threshold * (1 + tolerance))


def full_precision_text(value: pl.Expr, *, percent: bool = False) -> pl.Expr:
    """A value with ten significant digits, trailing zeros dropped: the figure behind a boundary case.

    >>> pl.select(a=full_precision_text(pl.lit(0.9999999)), b=full_precision_text(pl.lit(0.84996), percent=True),
    ...     c=full_precision_text(pl.lit(10000 / 20001), percent=True), d=full_precision_text(pl.lit(99999.99))).row(0)
    ('0.9999999', '84.996%', '49.99750012%', '99999.99')
    """
    x = value.cast(pl.Float64) * (100 if percent else 1)
    digits = (pl.lit(9) - x.abs().log10().floor()).clip(-300, 300)
    scale = pl.lit(10.0).pow(digits)
    text = ((x * scale).round(0) / scale).cast(pl.String).str.replace(r"\.0$", "")
    text = pl.when(x == 0).then(pl.lit("0")).otherwise(text)
    return text + ("%" if percent else "")


@dataclass(frozen=True)
class Item:
    """One item of the rule set (``[guarantee.G7]``) with typed access to its settings and its comparisons."""

    section: str
    code: str
    settings: Mapping[str, Any]
    rules: RuleSet

    @property
    def name(self) -> str:
        return str(self.settings["name"])

    @property
    def kind(self) -> str:
        return str(self.settings.get("kind", ""))

    @property
    def unit(self) -> str:
        return str(self.settings.get("unit", ""))

    def get(self, key: str, table: Mapping[str, Any] | None = None, path: str = "") -> Any:
        """A setting of the item (or of one of its sub-tables); a missing key is a rule-set error."""
        source = self.settings if table is None else table
        if key not in source:
            where = ".".join(p for p in (self.section, self.code, path, key) if p)
            raise YoujunError.single("ruleset_invalid", "缺少该条目的设置项", field=where)
        return source[key]

    def number(self, key: str, table: Mapping[str, Any] | None = None, path: str = "") -> float:
        value = self.get(key, table, path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            where = ".".join(p for p in (self.section, self.code, path, key) if p)
            raise YoujunError.single("ruleset_invalid", "设置项应为数值", field=where, value=repr(value))
        return float(value)

    def by_stage(self, key: str, table: Mapping[str, Any] | None = None, path: str = "") -> dict[str, float]:
        values = self.get(key, table, path)
        sub = ".".join(p for p in (path, key) if p)
        return {stage: self.number(stage, values, sub) for stage in self.rules.stages}

    def decimals(self, unit: str | None = None) -> int:
        """Decimals of a rounded comparison (precision.compare = "rounded"); a rate is rounded as a percentage."""
        extra = PERCENT_DIGITS if (self.unit if unit is None else unit) == "%" else 0
        return self.rules.precision.compare_value_decimals + extra

    def at_least(self, value: pl.Expr, threshold: pl.Expr | float, unit: str | None = None) -> pl.Expr:
        """不低于 / 以上 / 达到 (≥); ``unit`` overrides the item's unit ("%" for a rate)."""
        return at_least(value, threshold, self.rules.precision, self.decimals(unit))

    def at_most(self, value: pl.Expr, limit: pl.Expr | float, unit: str | None = None) -> pl.Expr:
        """不超过 / 以下 (≤)."""
        return at_most(value, limit, self.rules.precision, self.decimals(unit))

    def below(self, value: pl.Expr, limit: pl.Expr | float, unit: str | None = None) -> pl.Expr:
        """低于 / 不足 (<), strict: not at least the limit."""
        return ~self.at_least(value, limit, unit)

    def above(self, value: pl.Expr, limit: pl.Expr | float, unit: str | None = None) -> pl.Expr:
        """超过 (>), strict: not at most the limit."""
        return ~self.at_most(value, limit, unit)

    def clause(
        self,
        value: pl.Expr,
        threshold: pl.Expr | float,
        op: str = "at_least",
        *,
        unit: str | None = None,
        shown: pl.Expr | None = None,
        threshold_shown: pl.Expr | str | None = None,
        ok: pl.Expr | None = None,
        decimals: int | None = None,
        note: str | pl.Expr = "",
    ) -> Clause:
        """``value`` against ``threshold`` (``op``: at_least, at_most, below, above), written the one way.

        ``shown`` is the text before the bracket (default: the value as :meth:`rate_text` shows it),
        ``threshold_shown`` the requirement's figure (default: :meth:`threshold_text`), ``ok`` the verdict when the
        item decides otherwise (default: the rule set's comparison), ``decimals`` the display decimals of the value
        (default: the rule set's; a rate's percentage keeps that many), ``note`` words inside the bracket after the
        figure. The boundary flag compares the full-precision reading with the reading of the values rounded
        half-up as displayed; the two differ only where the figures shown look equal (or the rule set's rounding
        turns the verdict), and then the text adds the full-precision value.
        """
        unit = self.unit if unit is None else unit
        percent = unit == "%"
        limit = threshold if isinstance(threshold, pl.Expr) else pl.lit(float(threshold))
        if ok is None:
            ok = {"at_least": self.at_least, "at_most": self.at_most, "below": self.below, "above": self.above}[op](
                value, threshold, unit
            )
        if decimals is None:
            decimals = 0 if unit in COUNT_UNITS else self.display_decimals
        digits = decimals + (PERCENT_DIGITS if percent else 0)
        tolerance = self.rules.precision.tolerance
        full = _reading(value.cast(pl.Float64), limit, op, tolerance)
        rounded = _reading(
            round_half_up(value.cast(pl.Float64), digits, tolerance),
            round_half_up(limit, digits, tolerance),
            op,
            tolerance,
        )
        boundary = (full != rounded).fill_null(False)
        if shown is None:
            shown = self.rate_text(value, unit)
        if threshold_shown is None:
            if isinstance(threshold, pl.Expr):
                threshold_shown = self.rate_text(threshold, unit)
            else:
                threshold_shown = self.threshold_text(float(threshold), unit)
        figure = pl.lit(threshold_shown) if isinstance(threshold_shown, str) else threshold_shown
        word = "不少于" if op == "at_least" and unit in COUNT_UNITS else WORDS[op]
        marker = pl.when(boundary).then(
            pl.format("（{}：全精度值 {}）", pl.lit(BOUNDARY_MARK), full_precision_text(value, percent=percent))
        )
        text = pl.concat_str(
            shown,
            pl.lit(f"（要求{word} "),
            figure,
            pl.lit(note) if isinstance(note, str) else note,
            pl.lit("）"),
            verdict_text(ok),
            marker.otherwise(pl.lit("")),
        )
        return Clause(ok=ok, text=text, boundary=boundary)

    # Display -----------------------------------------------------------------------------------------------
    @property
    def display_decimals(self) -> int:
        return self.rules.precision.display_value_decimals

    def rate_text(self, value: pl.Expr, unit: str | None = None) -> pl.Expr:
        """A computed figure: percentage for a rate, else a plain number; "无法计算" when undefined."""
        if (self.unit if unit is None else unit) == "%":
            text = number_text(value * 100, self.display_decimals) + "%"
        else:
            text = number_text(value, self.display_decimals)
        return text.fill_null(UNDEFINED_TEXT)

    def money_text(self, value: pl.Expr) -> pl.Expr:
        return (number_text(value, self.display_decimals, trim=True) + " 元").fill_null(MISSING_TEXT)

    def threshold_text(self, threshold: float, unit: str | None = None) -> str:
        """A rule-set number as shown to users: 95.00%, 6,000 元, 1.00."""
        unit = self.unit if unit is None else unit
        d = self.display_decimals
        if unit == "%":
            return f"{round_half_up_scalar(threshold * 100, d):.{d}f}%"
        if unit == "元":
            return f"{threshold:,.0f} 元" if threshold == int(threshold) else f"{threshold:,.{d}f} 元"
        if unit in ("人", "间", "个"):
            return f"{threshold:,.0f} {unit}"
        return f"{round_half_up_scalar(threshold, d):.{d}f}"


Evaluator = Callable[[Item], Check]


# ---------------------------------------------------------------------------------------------------------------
# Small expression helpers


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator ÷ denominator, null when the denominator is missing, zero or negative (never a silent pass).

    >>> pl.select(a=ratio(pl.lit(3), pl.lit(4)), b=ratio(pl.lit(3), pl.lit(0))).row(0)
    (0.75, None)
    """
    return pl.when(denominator > 0).then(numerator.cast(pl.Float64) / denominator.cast(pl.Float64))


def verdict_ok(column: pl.Expr) -> pl.Expr:
    """A reviewer verdict as a check: 达标 → true, 不达标 → false, 待补充 or blank → null."""
    return (
        pl.when(column == PASS_VERDICT)
        .then(pl.lit(True))
        .when(column == FAIL_VERDICT)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )


def yes_ok(column: pl.Expr) -> pl.Expr:
    """A 是/否 answer as a check: 是 → true, 否 → false, blank → null."""
    return (
        pl.when(column == YES)
        .then(pl.lit(True))
        .when(column == NO)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )


def rank(column: pl.Expr, ordered: Sequence[str]) -> pl.Expr:
    """Position of an ordinal answer in ``ordered`` (lowest first); null when blank or unknown."""
    return column.replace_strict({v: i for i, v in enumerate(ordered)}, default=None, return_dtype=pl.Int32)


def need(key: str, when: pl.Expr | None = None) -> tuple[str, pl.Expr]:
    """An input that must be present (``when`` it is needed) for the check to decide."""
    missing = pl.col(key).is_null()
    return key, missing if when is None else (missing & when)


def _grouped(whole: pl.Expr, groups: int) -> pl.Expr:
    """A whole number ≥ 0 with thousands separators, up to ``groups`` groups (more digits stay in the first)."""
    pieces = []
    top = groups - 1
    for k in range(top, -1, -1):
        part = whole // 1000**k if k == top else (whole // 1000**k) % 1000
        plain, padded = part.cast(pl.String), part.cast(pl.String).str.zfill(3)
        lead = pl.when(whole >= 1000 ** (k + 1)).then(padded)
        pieces.append(lead.otherwise(plain) if k == 0 else lead.when(whole >= 1000**k).then(plain))
    return pl.when(whole.is_not_null()).then(pl.concat_str(pieces, separator=",", ignore_nulls=True))


def number_text(value: pl.Expr, decimals: int = 0, *, trim: bool = False, groups: int = 7) -> pl.Expr:
    """Thousands-separated text rounded half-up (四舍五入); ``trim`` drops an all-zero decimal part.

    ``groups`` bounds the work: seven groups cover every Int64; counts use three (exact below 10⁹).

    >>> pl.select(a=number_text(pl.lit(1234567.891), 2), b=number_text(pl.lit(98000.0), 2, trim=True),
    ...     c=number_text(pl.lit(-0.975), 2), d=number_text(pl.lit(999.5), 0)).row(0)
    ('1,234,567.89', '98,000', '-0.98', '1,000')
    >>> pl.select(a=number_text(pl.lit(0)), b=number_text(pl.lit(1000)), c=number_text(pl.lit(12_345_678_901_234)),
    ...     d=number_text(pl.lit(None, pl.Float64))).row(0)
    ('0', '1,000', '12,345,678,901,234', None)
    """
    # Formatted on the materialised column: the value's expression is evaluated once, not once per group.
    return value.cast(pl.Float64).map_batches(
        partial(_format_numbers, decimals=decimals, trim=trim, groups=groups),
        return_dtype=pl.String,
        is_elementwise=True,
    )


def _format_numbers(values: pl.Series, *, decimals: int, trim: bool, groups: int) -> pl.Series:
    scale = 10**decimals
    value = pl.col("v")
    # Half-up on the magnitude; the slack (~45 ulps) lifts 0.505, stored as 0.50499…, to 0.51 without moving
    # large amounts (a relative 1e-9 would add 0.1 to 100,000,000.00).
    shifted = value.abs() * scale * (1 + DISPLAY_ROUNDING_SLACK) + 0.5
    frame = values.to_frame("v").with_columns(shifted.floor().cast(pl.Int64, strict=False).alias("m"))
    magnitude = pl.col("m")
    text = _grouped(magnitude // scale, groups)
    if decimals > 0:
        fraction = "." + (magnitude % scale).cast(pl.String).str.zfill(decimals)
        text = text + (pl.when(magnitude % scale == 0).then(pl.lit("")).otherwise(fraction) if trim else fraction)
    negative = (value < 0) & (magnitude > 0)
    return frame.select(pl.when(negative).then("-" + text).otherwise(text)).to_series()


def count_text(value: pl.Expr, unit: str = "人") -> pl.Expr:
    """A whole count with its unit: "1,200 人"; "未填写" when blank."""
    return (number_text(value, groups=COUNT_GROUPS) + f" {unit}").fill_null(MISSING_TEXT)


def status_of(ok: pl.Expr) -> pl.Expr:
    return pl.when(ok.is_null()).then(pl.lit(INSUFFICIENT)).when(ok).then(pl.lit(MET)).otherwise(pl.lit(NOT_MET))


def _json(inputs: Mapping[str, pl.Expr]) -> pl.Expr:
    """The inputs of a row as a JSON object, numbers in full precision."""
    if not inputs:
        return pl.lit("{}")
    return pl.struct([expr.alias(key) for key, expr in inputs.items()]).struct.json_encode()


def _missing_labels(missing: Sequence[tuple[str, pl.Expr]]) -> pl.Expr:
    if not missing:
        return pl.lit("")
    parts = [pl.when(flag).then(pl.lit(f"「{_LABELS.get(key, key)}」")) for key, flag in missing]
    return pl.concat_str(parts, separator="、", ignore_nulls=True)


def _explained(status: pl.Expr, labels: pl.Expr, detail: pl.Expr) -> pl.Expr:
    return (
        pl.when((status == INSUFFICIENT) & (labels != ""))
        .then(pl.format("数据不足：缺少{}", labels))
        .otherwise(detail)
        .fill_null("数据不足")
    )


# ---------------------------------------------------------------------------------------------------------------
# Frames


def complete_frame(frame: pl.DataFrame, columns: Sequence[Column]) -> pl.DataFrame:
    """The frame with every template column (absent optional ones as nulls), year and county code typed."""
    absent = [
        pl.lit(None, _DTYPES.get(c.kind, pl.String())).alias(c.key) for c in columns if c.key not in frame.columns
    ]
    return frame.with_columns(absent).with_columns(pl.col("year").cast(pl.Int64), pl.col("county_code").cast(pl.String))


def county_base(schools: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """One row per (year, county) of either frame, with the county-sheet columns, ``_has_row`` and ``_schools``."""
    from_schools = schools.group_by(COUNTY, maintain_order=True).agg(
        pl.col("county_name").first().alias("_school_county_name"), pl.len().alias("_schools")
    )
    sheet = counties.with_columns(pl.lit(True).alias("_has_row"))
    base = from_schools.join(sheet, on=COUNTY, how="full", coalesce=True)
    return base.with_columns(
        pl.coalesce("_school_county_name", "county_name").alias("county_name"),
        pl.col("_has_row").fill_null(False),
        pl.col("_schools").fill_null(0),
    ).sort(COUNTY)


def _in_scope(item: Item) -> pl.Expr:
    scope = item.get("scope")
    compulsory = pl.col("students_primary") + pl.col("students_junior")
    if scope == "resources":
        chosen = exclusion_reason(item.rules.scope).is_null()
    elif scope == "all":
        chosen = compulsory > 0
    else:
        raise YoujunError.single(
            "ruleset_invalid",
            "scope 应为 resources（资源配置评估范围）或 all（所有有义务教育阶段学生的学校）",
            field=f"{item.section}.{item.code}.scope",
            value=repr(scope),
        )
    conditions = item.settings.get("applies_to")
    if conditions is None:
        return chosen
    if not isinstance(conditions, list) or not conditions:
        raise YoujunError.single(
            "ruleset_invalid", "applies_to 应为条件表的列表", field=f"{item.section}.{item.code}.applies_to"
        )
    matches: list[pl.Expr] = []
    for i, cond in enumerate(conditions):
        path = f"{item.section}.{item.code}.applies_to[{i}]"
        if not isinstance(cond, dict):
            raise YoujunError.single("ruleset_invalid", "条件应为表（table）", field=path)
        parts: list[pl.Expr] = [pl.lit(True)]
        for key, values in cond.items():
            column = _CONDITION_COLUMNS.get(key)
            if column is None or not isinstance(values, list):
                known = "、".join(_CONDITION_COLUMNS)
                raise YoujunError.single("ruleset_invalid", f"条件键应为 {known}，值为列表", field=f"{path}.{key}")
            expr = pl.col(column).fill_null(NO) if column == "boarding" else pl.col(column)
            parts.append(expr.is_in(values))
        matches.append(pl.all_horizontal(parts))
    return chosen & pl.any_horizontal(matches)


def county_item_rows(item: Item, check: CountyCheck, base: pl.DataFrame) -> pl.DataFrame:
    status = status_of(check.ok)
    detail = (
        pl.when(~pl.col("_has_row"))
        .then(pl.lit("县级指标表中无本县（区）数据"))
        .otherwise(_explained(status, _missing_labels(check.missing), check.detail))
    )
    return base.select(
        *COUNTY,
        "county_name",
        pl.lit(item.code).alias("code"),
        pl.lit(item.name).alias("name"),
        pl.lit(item.kind).alias("kind"),
        status.alias("status"),
        check.value.cast(pl.Float64).alias("value"),
        check.threshold.cast(pl.Float64).alias("threshold"),
        detail.alias("detail"),
        check.boundary.fill_null(False).alias("boundary"),
        _json(check.inputs).alias("inputs"),
    )


def _per_school(item: Item, check: SchoolCheck, schools: pl.LazyFrame, base: pl.DataFrame) -> pl.LazyFrame:
    """The drill-down of one school item (with ``_num``/``_den`` for an aggregate), as a lazy query."""
    applicable = schools.filter(_in_scope(item) & check.applies)
    if check.county_columns:
        applicable = applicable.join(base.lazy().select(*COUNTY, *check.county_columns), on=COUNTY, how="left")
    agg = check.aggregate
    extra = [agg.numerator.alias("_num"), agg.denominator.alias("_den")] if agg else []
    return applicable.select(
        *COUNTY,
        pl.lit(item.code).alias("code"),
        "school_id",
        "school_name",
        status_of(check.ok).alias("status"),
        check.value.cast(pl.Float64).alias("value"),
        check.threshold.cast(pl.Float64).alias("threshold"),
        check.detail.alias("detail"),
        check.boundary.fill_null(False).alias("boundary"),
        _missing_labels(check.missing).alias("_missing"),
        *extra,
    ).with_columns(_explained(pl.col("status"), pl.col("_missing"), pl.col("detail")).alias("detail"))


def _school_county_rows(item: Item, check: SchoolCheck, per: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """The county row of a school item from its drill-down ``per``."""
    agg = check.aggregate
    sums = [
        pl.col("_num").sum().alias("_num"),
        pl.col("_den").sum().alias("_den"),
        (pl.col("_num").null_count() + pl.col("_den").null_count()).alias("_gaps"),
    ]
    counts = per.group_by(COUNTY).agg(
        pl.len().alias("_applicable"),
        (pl.col("status") == NOT_MET).sum().alias("_not_met"),
        (pl.col("status") == INSUFFICIENT).sum().alias("_insufficient"),
        pl.col("boundary").any().alias("_boundary"),
        *(sums if agg else []),
    )
    county = base.select(*COUNTY, "county_name", "_schools").join(counts, on=COUNTY, how="left")
    county = county.with_columns(
        pl.col("_applicable", "_not_met", "_insufficient").fill_null(0), pl.col("_boundary").fill_null(False)
    )
    every = (
        pl.when(pl.col("_not_met") > 0)
        .then(pl.lit(False))
        .when(pl.col("_insufficient") > 0)
        .then(pl.lit(None, pl.Boolean))
        .otherwise(pl.lit(True))
    )
    tally = pl.format("适用学校 {} 所", pl.col("_applicable"))
    tally = pl.concat_str(
        tally,
        pl.when(pl.col("_not_met") > 0).then(pl.format("，未达标学校 {} 所", pl.col("_not_met"))),
        pl.when(pl.col("_insufficient") > 0).then(pl.format("，数据不足学校 {} 所", pl.col("_insufficient"))),
        pl.when((pl.col("_not_met") == 0) & (pl.col("_insufficient") == 0)).then(pl.lit("，全部达标")),
        ignore_nulls=True,
    )
    inputs: dict[str, pl.Expr] = {
        "schools": pl.col("_applicable"),
        "schools_not_met": pl.col("_not_met"),
        "schools_insufficient_data": pl.col("_insufficient"),
    }
    value = pl.lit(None, pl.Float64)
    threshold = pl.lit(None, pl.Float64)
    ok = every
    boundary = pl.col("_boundary")
    if agg:
        value = pl.when(pl.col("_gaps") == 0).then(ratio(pl.col("_num"), pl.col("_den")))
        threshold = pl.lit(agg.threshold)
        shown = pl.format(
            "全县{} {} ÷ {} {} = {}",
            pl.lit(agg.numerator_label),
            count_text(pl.col("_num")),
            pl.lit(agg.denominator_label),
            count_text(pl.col("_den")),
            item.rate_text(value),
        )
        county_rate = item.clause(value, agg.threshold, shown=shown)
        ok = every & county_rate.ok
        boundary = boundary | county_rate.boundary
        summary = pl.when(pl.col("_gaps") == 0).then(county_rate.text + "；")
        tally = summary.otherwise(pl.lit("部分学校数据不全，未计算全县比例；")) + tally
        inputs |= {"numerator": pl.col("_num"), "denominator": pl.col("_den")}
    no_schools = pl.col("_schools") == 0
    none_apply = pl.col("_applicable") == 0
    # Decision 27: an item that applies to none of the county's schools has nothing to fail: met, "无适用学校",
    # for every school item alike (an aggregate such as the G9 rate is then not computed at all).
    ok = pl.when(none_apply).then(pl.lit(True)).otherwise(ok)
    ok = pl.when(no_schools).then(pl.lit(None, pl.Boolean)).otherwise(ok)
    detail = (
        pl.when(no_schools)
        .then(pl.lit("学校表中无本县（区）学校"))
        .when(none_apply)
        .then(pl.lit("无适用学校"))
        .otherwise(tally)
    )
    return county.select(
        *COUNTY,
        "county_name",
        pl.lit(item.code).alias("code"),
        pl.lit(item.name).alias("name"),
        pl.lit(item.kind).alias("kind"),
        status_of(ok).alias("status"),
        value.alias("value"),
        threshold.alias("threshold"),
        detail.alias("detail"),
        boundary.alias("boundary"),
        _json(inputs).alias("inputs"),
    )


def evidence(item: Item) -> CountyCheck:
    """An evidence item: the reviewer's verdict column named by the rule set (``verdict = "g1_verdict"``)."""
    key = str(item.get("verdict"))
    verdict = pl.col(key)
    return CountyCheck(
        ok=verdict_ok(verdict),
        detail=pl.format("审核结论：{}", verdict.fill_null(MISSING_TEXT)),
        inputs={key: verdict},
        missing=[need(key)],
    )


def _unsupported(item: Item) -> CountyCheck:
    return CountyCheck(ok=pl.lit(None, pl.Boolean), detail=pl.lit("本系统尚无该条目的计算规则"), inputs={})


def _typed(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def evaluate_items(
    schools: pl.DataFrame,
    counties: pl.DataFrame | None,
    rules: RuleSet,
    section: str,
    evaluators: Mapping[str, Evaluator],
) -> ItemEvaluation:
    """Evaluate every item of ``rules.sections[section]`` for every county of either frame.

    Items are taken in the rule set's order; a code without an evaluator is judged on its verdict column when it
    names one (evidence), else reported as insufficient data.
    """
    schools = complete_frame(schools, SCHOOL_COLUMNS)
    sheet = complete_frame(counties if counties is not None else pl.DataFrame(), COUNTY_COLUMNS)
    table: Mapping[str, Any] = rules.sections.get(section, {})
    # A provincial evidence item (or veto) may name a verdict (finding) column outside the template: blank unless
    # the sheet has it.
    verdicts = {
        str(s[key]) for s in table.values() if isinstance(s, dict) for key in ("verdict", "finding") if key in s
    }
    template = [c.key for c in COUNTY_COLUMNS]
    # Beside the template: the survey's valid returns and sample, which V7 reads through S1's rule.
    template += [k for k in RETURN_INPUTS if k in sheet.columns]
    keep = template + sorted(v for v in verdicts if v in sheet.columns and v not in template)
    sheet = sheet.select(keep).with_columns(pl.lit(None, pl.String).alias(v) for v in verdicts if v not in keep)
    base = county_base(schools, sheet)
    item_rows: list[pl.DataFrame] = []
    school_items: list[tuple[Item, SchoolCheck]] = []
    for code, settings in table.items():
        item = Item(section, code, settings, rules)
        evaluator = evaluators.get(code) or (evidence if "verdict" in settings else _unsupported)
        check = evaluator(item)
        if isinstance(check, SchoolCheck):
            school_items.append((item, check))
        else:
            item_rows.append(county_item_rows(item, check, base))
    # The school items run as one batch of lazy queries, in parallel.
    lazy = schools.lazy()
    drilled = pl.collect_all([_per_school(item, check, lazy, base) for item, check in school_items])
    school_rows: list[pl.DataFrame] = []
    for (item, check), per_school in zip(school_items, drilled, strict=True):
        item_rows.append(_school_county_rows(item, check, per_school, base))
        school_rows.append(per_school.select(list(SCHOOL_SCHEMA)))
    order = {code: i for i, code in enumerate(table)}
    position = pl.col("code").replace_strict(order, default=len(order), return_dtype=pl.Int32)
    items = pl.concat([_typed(f, ITEM_SCHEMA) for f in item_rows]) if item_rows else pl.DataFrame(schema=ITEM_SCHEMA)
    per = pl.concat([_typed(f, SCHOOL_SCHEMA) for f in school_rows]) if school_rows else None
    return ItemEvaluation(
        items=items.sort([*COUNTY, position], maintain_order=True),
        schools=(per if per is not None else pl.DataFrame(schema=SCHOOL_SCHEMA)).sort(
            [*COUNTY, position, "school_id"], maintain_order=True
        ),
    )
