"""The fast path for a clean CSV school sheet: its numbers parsed by the CSV parser itself, no grid of text.

Reading every cell as text and parsing it again costs as much as the CSV parse itself. A school CSV as the template
writes it (a header row of known, distinct headers; plain integers and decimals; exact choices) is read once with the
column types, then held to exactly the rules of the text path (``cells``): where the typed parse takes a cell, the text
path takes it too, with the same value (the CSV parser and the text path share Polars' integer and float parsers; a
cell that only the text path's cleaning would take, e.g. ``1,234`` or full-width digits, fails the typed parse).

Anything else declines the fast path, and the sheet is read as text as before: a header problem of any kind, a second
header row, a header with quotes, a cell the typed parse rejects, and every cell the text path would reject, clean
(``school_id`` with non-ASCII characters, a choice with spaces) or report. So a sheet read here has no header or cell
problem, and its typed frame is the one the text path gives. The text of its cells is not kept: when a row check
fails on such a sheet (its problems show the cell as typed), the reader reads the sheet again as text
(``youjun.io.reader.read_school_data``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from youjun.contract import SCHOOL_COLUMNS, Column
from youjun.io.reader.cells import DTYPES, _fast_expr, _typed_expr
from youjun.io.reader.headers import SCHOOL_LOOKUP, HeaderRow, is_second_header, match_headers
from youjun.io.reader.problems import Sink

_NUMERIC = ("int", "number", "year")
_MAX_EXACT_INT = 2**53  # as in ``cells``: a count above it is an error there


@dataclass(frozen=True, slots=True)
class TypedSheet:
    """A clean school CSV: ``frame`` has ``source_row`` and the typed columns of ``present`` (in column order)."""

    headers: dict[str, str]  # key -> header text as found in the file
    present: tuple[Column, ...]
    frame: pl.DataFrame


def read_typed(body: bytes, separator: str, first_row: int) -> TypedSheet | None:
    """The sheet, when ``body`` (a school CSV, its header on the first line) is clean; None on any doubt.

    ``first_row`` is the user's row number of the header. Never raises for a bad file: the text path reports it."""
    try:
        return _read_typed(body, separator, first_row)
    except BaseException as exc:
        # A Rust panic reaches Python as PanicException (a BaseException): the text path reports the file.
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        return None


def _read_typed(body: bytes, separator: str, first_row: int) -> TypedSheet | None:
    end = body.find(b"\n")
    if end < 0:
        return None
    header_line = body[:end].removesuffix(b"\r")
    if b'"' in header_line or b"\r" in header_line:  # one record per line: skipping the first line skips the header
        return None
    head = pl.read_csv(body, has_header=False, infer_schema=False, separator=separator, n_rows=2, raise_if_empty=False)
    if head.height < 2:
        return None
    cells = head.row(0)
    if any(cell is None or not cell.strip() for cell in cells):
        return None
    scratch = Sink(1)
    at = HeaderRow("", None, first_row, (0, 0))
    headers, source_of = match_headers(cells, head.clear(), at, SCHOOL_COLUMNS, SCHOOL_LOOKUP, scratch)
    if scratch.items or scratch.has_error or len(source_of) != len(cells):
        return None
    if is_second_header(head.row(1), source_of, SCHOOL_LOOKUP):
        return None

    by_key = {c.key: c for c in SCHOOL_COLUMNS}
    keys = [next(k for k, g in source_of.items() if g == f"c{i}") for i in range(len(cells))]
    schema = {k: DTYPES[by_key[k].kind] for k in keys}
    typed = pl.read_csv(body, has_header=False, skip_rows=1, schema=schema, separator=separator)
    if typed.height == 0 or typed.width != len(cells):
        return None
    present = tuple(c for c in SCHOOL_COLUMNS if c.key in source_of)
    frame = _checked(typed, present, first_row + 1)
    return None if frame is None else TypedSheet(headers, present, frame)


@dataclass(frozen=True, slots=True)
class _Rules:
    """How one column of the typed parse is held to the text path's rules."""

    present: pl.Expr  # the cell holds anything (else it is blank)
    taken: pl.Expr  # the cell is taken as it is (row by row)
    all_taken: pl.Expr  # every cell of the column is taken (an aggregate, cheaper where it can be)
    output: pl.Expr  # the typed value


def _rules(column: Column) -> _Rules:
    """The rules of one column. "Taken" implies that the text path (``cells``) takes the cell without cleaning it
    and without a problem, and the output is the text path's own value (``_fast_expr``, ``_typed_expr``). It may be
    stricter than the text path: a text cell with a control character anywhere, even where stripping would remove
    it, is not taken."""
    col = pl.col(column.key)
    kind = column.kind
    required = column.required
    if kind in _NUMERIC:
        # The typed parse leaves blank (and whitespace-only) cells null: the text path's absent cells.
        low, high = {"int": (0, _MAX_EXACT_INT), "year": (1900, 2100), "number": (0, math.inf)}[kind]
        valid = (col >= low) & ((col <= high) if kind != "number" else col.is_finite())
        bounds = (col.min() >= low).fill_null(True) & (
            (col.max() <= high) if kind != "number" else (col.max() < high) & ~col.is_nan().any()
        ).fill_null(True)
        value: pl.Expr = col
        if not required and column.default is not None:
            value = pl.when(col.is_null()).then(pl.lit(column.default)).otherwise(col)
        taken = (valid if required else col.is_null() | valid).fill_null(False)
        return _Rules(
            col.is_not_null(),
            taken,
            bounds & (col.null_count() == 0) if required else bounds,
            value.cast(DTYPES[kind]).alias(column.key),
        )
    # Text, codes and choices arrive as the text path reads them: its expressions give the output.
    parsed = _fast_expr(col, column)
    blank = col.str.len_bytes().fill_null(0) == 0
    present = parsed.is_not_null() if kind == "text" else ~blank
    if kind == "code6":
        valid = col.str.contains(r"^[0-9]{6}$")
    elif kind == "enum":
        valid = col.is_in(column.choices)
    else:
        stripped = col.str.strip_chars()
        blank = stripped.str.len_bytes().fill_null(0) == 0
        valid = ~blank
        if column.max_length:  # the stripped text is no longer than the cell
            valid = valid & (col.str.len_chars() <= column.max_length)
        if column.pattern:
            valid = valid & stripped.str.contains(column.pattern)
        else:  # none in the cell: none in the stripped text
            valid = valid & ~col.str.contains(r"[\x00-\x1f\x7f]")
        if column.key == "school_id":  # the text path would normalise non-ASCII characters; ASCII: 1 byte a character
            valid = valid & (col.str.len_bytes() == col.str.len_chars())
    taken = (valid if required else blank | valid).fill_null(False)
    output = _typed_expr(parsed, present, pl.lit(False), column).alias(column.key)
    return _Rules(present, taken, taken.all(), output)


def _checked(typed: pl.DataFrame, present: Sequence[Column], first_data_row: int) -> pl.DataFrame | None:
    """``source_row`` and the typed columns, wholly blank rows dropped; None if any kept cell is not taken as it is."""
    rules = [_rules(c) for c in present]
    source_row = (pl.int_range(pl.len(), dtype=pl.Int64) + first_data_row).alias("source_row")
    # The checks (one column each) and the output, side by side. A required column taken in every row: no row is
    # blank. Otherwise blank rows (skipped silently, as on the text path; the row numbers stay the user's) may
    # explain the cells that were not taken.
    lazy = typed.lazy()
    taken, frame = pl.collect_all(
        [
            lazy.select(r.all_taken.alias(f"__t{i}") for i, r in enumerate(rules)),
            lazy.select(source_row, *(r.output for r in rules)),
        ]
    )
    if any(c.required for c in present) and all(taken.row(0)):
        return frame
    keep = pl.any_horizontal([r.present for r in rules])
    if not typed.select((~keep | pl.all_horizontal([r.taken for r in rules])).all()).item():
        return None
    frame = frame.filter(typed.select(keep).to_series())
    return frame if frame.height else None
