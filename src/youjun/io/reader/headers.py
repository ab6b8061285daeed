"""The header row: how a header is matched to a column, and which grid column holds which key.

The header row is the first non-blank row; a header matches a column by its Chinese header or its English key,
after ``normalize_header`` (so ``教学及辅助用房面积（㎡）*`` and ``teaching_aux_area`` both match). An area or
money header also matches without its unit. An unknown header is a warning (its column is not imported, with the
closest known header as a hint); two headers of the same column are an error; a required column that is absent is
an error. A second header row under the first (e.g. English keys under the Chinese headers) is skipped.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from youjun.contract import COUNTY_COLUMNS, SCHOOL_COLUMNS, Column
from youjun.errors import Location, Problem
from youjun.io.reader.problems import Sink

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


def label(key: str, columns: Sequence[Column] = SCHOOL_COLUMNS) -> str:
    """The template header of a column key."""
    return next(c.header for c in columns if c.key == key)


def header_lookup(columns: Sequence[Column]) -> dict[str, str]:
    """Normalised header or key → column key."""
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


SCHOOL_LOOKUP = header_lookup(SCHOOL_COLUMNS)
COUNTY_LOOKUP = header_lookup(COUNTY_COLUMNS)


def first_nonblank_row(grid: pl.DataFrame) -> int | None:
    """The grid row of the header (the first row with any text), or None for a blank sheet."""

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


@dataclass(frozen=True, slots=True)
class HeaderRow:
    """Where the header row is, for the problems about it."""

    file: str
    sheet: str | None
    row: int  # the row number the user sees
    order: tuple[int, int]  # (file index, sheet index) of the sheet's problems


def match_headers(
    cells: Sequence[str | None],
    body: pl.DataFrame,
    at: HeaderRow,
    columns: Sequence[Column],
    lookup: Mapping[str, str],
    sink: Sink,
) -> tuple[dict[str, str], dict[str, str]]:
    """(key → header text as found, key → grid column) of the header ``cells``; problems go to ``sink``.

    ``body`` (the rows under the header) tells whether a column without a header holds data."""
    headers: dict[str, str] = {}
    source_of: dict[str, str] = {}
    for index, cell in enumerate(cells):
        grid_col = f"c{index}"
        text = (cell or "").strip()
        loc = Location(file=at.file, sheet=at.sheet, row=at.row, column=text or None)
        order = (*at.order, at.row, index)
        if not text:
            if body.height and body[grid_col].str.strip_chars().str.len_bytes().fill_null(0).gt(0).any():
                message = f"第 {index + 1} 列有数据但没有列名，该列数据不会导入"
                sink.add(Problem("unknown_column", message, "warning", loc), order)
            continue
        key = lookup.get(normalize_header(text))
        if key is None:
            known = {normalize_header(c.header): c.header for c in columns}
            hint = difflib.get_close_matches(normalize_header(text), list(known), n=1, cutoff=0.6)
            guess = f"，是否应为「{known[hint[0]]}」？" if hint else ""
            sink.add(Problem("unknown_column", f"未识别的列「{text}」，该列数据不会导入{guess}", "warning", loc), order)
            continue
        if key in headers:
            message = f"列「{text}」与列「{headers[key]}」重复（都对应「{label(key, columns)}」），请删除其中一列"
            where = Location(file=at.file, sheet=at.sheet, row=at.row, column=text, field=key)
            sink.add(Problem("duplicate_column", message, "error", where), order)
            continue
        headers[key] = text
        source_of[key] = grid_col
    for position, c in enumerate(columns):
        if c.required and c.key not in headers:
            where = Location(file=at.file, sheet=at.sheet, row=at.row, field=c.key)
            message = f"缺少必填列「{c.header}」（英文列名 {c.key}）"
            sink.add(Problem("missing_column", message, "error", where), (*at.order, at.row, len(cells) + position))
    return headers, source_of


def is_second_header(cells: Sequence[str | None], source_of: Mapping[str, str], lookup: Mapping[str, str]) -> bool:
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
