"""Cells into typed values: every column parsed by one polars expression, only rejected cells cleaned.

Cells are parsed in two steps. The fast step takes the text as a careful user writes it (ASCII digits, no stray
spaces, exact choice) over the whole column in one vectorised expression. Only the cells it rejects (usually none)
go through the slow step (strip incl. U+3000 and NBSP, NFKC, thousands separators) and are parsed again; what
still fails is an error. This keeps string work proportional to the messy cells, and ``Problem`` objects are built
only for failing cells.

* ``code6`` accepts ``340207`` and also ``340207.0`` (CSV written by tools that turned the code into a float); the
  stored value is always the 6 digits. ``school_id`` is text: it is stripped and NFKC-normalised (full-width
  digits) but never reinterpreted as a number.
* Counts are integers up to 2**53 (above, they cannot round-trip through a float); years are 1900–2100.
* The raw text of every column stays in a hidden ``__raw_{key}`` column, so that a row check can show what the
  user typed.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from youjun.contract import Column
from youjun.errors import Problem
from youjun.io.reader.problems import Sink, Source

DTYPES: dict[str, type[pl.DataType]] = {
    "int": pl.Int64,
    "year": pl.Int64,
    "number": pl.Float64,
    "text": pl.String,
    "code6": pl.String,
    "enum": pl.String,
}
_NUMERIC = ("int", "number", "year")
_THOUSANDS = r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?$"
_MAX_EXACT_INT = 2**53  # counts above this cannot round-trip through a float


@functools.cache
def cell_problem_message(code: str, column: Column) -> str:
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
    return typed.cast(DTYPES[column.kind])


def parse_cells(frame: pl.DataFrame, present: Sequence[Column]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse every ``__raw_{key}`` column into ``{key}`` (typed); drop wholly blank rows.

    Returns the typed frame and the failing rows with an ``__err_{key}`` code column per cell (null if fine).
    """
    frame = frame.with_columns(_fast_expr(pl.col(f"__raw_{c.key}"), c).alias(f"__v_{c.key}") for c in present)
    frame, present_of = _clean_rejected(frame, present)
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


def _clean_rejected(frame: pl.DataFrame, present: Sequence[Column]) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
    """The slow step for the cells the fast step rejected; then wholly blank rows dropped.

    Returns the frame (``__v_{key}`` parsed again where cleaned) and, per key, whether its cell holds anything."""
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
    return frame, present_of


def collect_cell_problems(
    bad: pl.DataFrame, present: Sequence[Column], source: Source, position: Mapping[str, int], sink: Sink
) -> None:
    """One problem per failing cell (row by row, in column order), as many as the sink lists; the rest counted."""
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
                cell_problem_message(code, column),
                "error",
                source.where(row=row, column=source.headers[key], field=key, value=value),
            ),
            (source.file_index, source.sheet_index, row, pos),
        )
