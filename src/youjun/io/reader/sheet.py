"""One sheet from its grid of text to a typed frame: header row, cells, absent columns, provenance.

The header row is the first non-blank row; row numbers are the ones the user sees (Excel row number, CSV record
number counting the header as 1). Wholly blank rows are skipped silently, and so is a second header row. A blank
or header-only ``县级指标`` sheet is treated as absent (the template always has one); a blank ``学校`` sheet is an
error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from youjun.contract import COUNTY_COLUMNS, COUNTY_SHEET, SCHOOL_COLUMNS, SCHOOL_SHEET, Column
from youjun.errors import Location, Problem
from youjun.io.reader.cells import DTYPES, collect_cell_problems, parse_cells
from youjun.io.reader.headers import (
    COUNTY_LOOKUP,
    SCHOOL_LOOKUP,
    HeaderRow,
    first_nonblank_row,
    is_second_header,
    match_headers,
)
from youjun.io.reader.problems import Sink, Source
from youjun.io.reader.sources import RawSheet, SheetKind

PROVENANCE_COLUMNS = ("source_file", "source_row")

COLUMNS: dict[SheetKind, tuple[Column, ...]] = {"school": SCHOOL_COLUMNS, "county": COUNTY_COLUMNS}
_LOOKUPS: dict[SheetKind, dict[str, str]] = {"school": SCHOOL_LOOKUP, "county": COUNTY_LOOKUP}
_SHEET_LABEL: dict[SheetKind, str] = {"school": SCHOOL_SHEET, "county": COUNTY_SHEET}


def validate_sheet(raw: RawSheet, source_index: int, sink: Sink) -> tuple[Source, pl.DataFrame] | None:
    """Check headers and cells of one sheet; return its source and typed frame (None if it has no data).

    The frame has every column key (typed; an absent column holds its default or null), ``source_file``,
    ``source_row``, ``__src`` (``source_index``) and ``__raw_{key}`` (the text as typed; null for absent columns).
    A sheet read typed (``raw.typed``, ``fastcsv``) has no header or cell problems and no ``__raw_{key}``.
    """
    columns, lookup = COLUMNS[raw.kind], _LOOKUPS[raw.kind]
    if raw.typed is not None:  # a clean CSV, read typed: no header or cell problems (``fastcsv``)
        typed = raw.typed
        source = Source(raw.file, raw.sheet, raw.file_index, raw.sheet_index, typed.headers)
        return source, _finish(typed.frame, typed.present, columns, raw.file, source_index, typed_only=True)
    file_order = (raw.file_index, raw.sheet_index)
    where = Location(file=raw.file, sheet=raw.sheet)
    header_at = first_nonblank_row(raw.grid)
    if header_at is None:
        if raw.kind == "county":  # the county sheet is optional: a blank one is the same as none
            return None
        message = f"{_SHEET_LABEL[raw.kind]}数据为空：没有表头和数据行"
        sink.add(Problem("no_data", message, "error", where), (*file_order, 0, 0))
        return None
    header_row = raw.first_row + header_at
    # One rechunk up front: the multithreaded CSV reader yields many chunks, and every eager polars operation on
    # a chunked frame would otherwise rechunk it again.
    grid = raw.grid.slice(header_at + 1).rechunk()
    at = HeaderRow(raw.file, raw.sheet, header_row, file_order)
    headers, source_of = match_headers(raw.grid.row(header_at), grid, at, columns, lookup, sink)
    source = Source(raw.file, raw.sheet, raw.file_index, raw.sheet_index, headers)
    present = [c for c in columns if c.key in source_of]
    if not present:  # nothing recognised: the missing_column errors say why
        return None
    first_data_row = header_row + 1
    if grid.height and is_second_header(grid.row(0), source_of, lookup):
        grid, first_data_row = grid.slice(1), first_data_row + 1

    frame = grid.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_data_row).alias("source_row"),
        *[pl.col(source_of[c.key]).alias(f"__raw_{c.key}") for c in present],
    )
    frame, bad = parse_cells(frame, present)
    if frame.height == 0:
        if raw.kind == "county":  # a template's county sheet left with its header only
            return None
        message = f"{_SHEET_LABEL[raw.kind]}只有表头，没有数据行"
        sink.add(Problem("no_data", message, "error", where), (*file_order, header_row, 0))
        return None
    collect_cell_problems(bad, present, source, {c.key: i for i, c in enumerate(columns)}, sink)
    return source, _finish(frame, present, columns, raw.file, source_index)


def _finish(
    frame: pl.DataFrame,
    present: Sequence[Column],
    columns: Sequence[Column],
    file: str,
    source_index: int,
    typed_only: bool = False,
) -> pl.DataFrame:
    """The sheet's frame in the common shape: absent columns (their default), provenance and the text of the cells
    (null for absent columns). A sheet read ``typed_only`` has no text columns: ``concat`` adds them when it meets a
    sheet with text, and a row check that needs the text has the sheet read again as text."""
    names = {c.key for c in present}
    missing = [c for c in columns if c.key not in names]
    return frame.with_columns(
        *[pl.lit(c.default, DTYPES[c.kind]).alias(c.key) for c in missing],
        *([] if typed_only else [pl.lit(None, pl.String).alias(f"__raw_{c.key}") for c in missing]),
        pl.lit(file, pl.String).alias("source_file"),
        pl.lit(source_index, pl.Int32).alias("__src"),
    ).select(
        *[c.key for c in columns],
        *PROVENANCE_COLUMNS,
        "__src",
        *([] if typed_only else [f"__raw_{c.key}" for c in columns]),
    )


def as_text(raw: RawSheet) -> RawSheet:
    """The sheet to be read from its grid of text (a sheet read typed, ``fastcsv``, read again as the user typed it)."""
    return dataclasses.replace(raw, typed=None)


def concat(frames: Iterable[pl.DataFrame], columns: Sequence[Column]) -> pl.DataFrame:
    """The sheets of one kind as one frame (an empty one with the same schema when there are none).

    Sheets read typed only (without ``__raw_{key}``, ``fastcsv``) get null text columns when other sheets have text;
    when all of them were read typed, the frame has no text columns."""
    frames = list(frames)
    text = [f"__raw_{c.key}" for c in columns]
    if any(text[0] in f.columns for f in frames):
        frames = [
            f if text[0] in f.columns else f.with_columns(pl.lit(None, pl.String).alias(t) for t in text)
            for f in frames
        ]
    if frames:
        return pl.concat(frames, how="vertical").rechunk()
    schema: dict[str, Any] = {c.key: DTYPES[c.kind] for c in columns}
    schema |= {"source_file": pl.String, "source_row": pl.Int64, "__src": pl.Int32}
    schema |= {f"__raw_{c.key}": pl.String for c in columns}
    return pl.DataFrame(schema=schema)
