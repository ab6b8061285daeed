"""Downloads of the collection pages: the import problem report (CSV / XLSX), the county's data as the annual
workbook, and the blank template.

Problem reports keep every string inert: in the CSV a value that a spreadsheet would read as a formula
(``=…``, ``+…``, ``-…``, ``@…``, tab, carriage return) is prefixed with a single quote; the XLSX goes through
``youjun.io.workbook.write_tables``, which stores strings as strings.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from youjun.contract import SCHOOL_BY_KEY, SCHOOL_SHEET
from youjun.errors import Problem
from youjun.io.workbook import Table, write_data_workbook, write_tables, write_template

#: Columns of the problem report: key in the stored rows → Chinese header.
REPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("severity", "类型"),
    ("file", "文件"),
    ("sheet", "工作表"),
    ("row", "行"),
    ("column", "列"),
    ("value", "值"),
    ("message", "问题"),
)
SEVERITY = {"error": "错误", "warning": "提醒"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def problem_rows(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Problems as plain rows (JSON-serialisable, for the session and the report files)."""
    rows = []
    for p in problems:
        loc = p.location
        column = loc.column or (SCHOOL_BY_KEY[loc.field].header if loc.field in SCHOOL_BY_KEY else loc.field)
        rows.append(
            {
                "severity": SEVERITY.get(p.severity, p.severity),
                "file": loc.file or "",
                "sheet": loc.sheet or "",
                "row": loc.row,
                "column": column or "",
                "value": "" if loc.value is None else str(loc.value),
                "message": p.message,
            }
        )
    return rows


def inert(value: object) -> str:
    """A cell for the CSV report that no spreadsheet evaluates as a formula.

    >>> inert('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> inert(12), inert(None)
    ('12', '')
    """
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The problem report as CSV (UTF-8 with BOM, so Excel shows the Chinese text)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for _, header in REPORT_COLUMNS])
    for row in rows:
        writer.writerow([inert(row.get(key)) for key, _ in REPORT_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(rows: Sequence[Mapping[str, Any]], title: str) -> bytes:
    """The problem report as an Excel workbook (one sheet; every string stored as literal text)."""
    keys = [key for key, _ in REPORT_COLUMNS]
    frame = pl.DataFrame(
        {k: [None if row.get(k) is None else str(row.get(k)) for row in rows] for k in keys},
        schema={k: pl.String for k in keys},
    )
    table = Table("导入问题", frame, dict(REPORT_COLUMNS), title=title)
    return _written(lambda path: write_tables(path, [table]))


def county_workbook(frame: pl.DataFrame) -> bytes:
    """The county's school records as the annual workbook (re-importable after editing)."""
    return _written(lambda path: write_data_workbook(path, {SCHOOL_SHEET: frame}))


def template_workbook() -> bytes:
    """The blank annual workbook (学校年度数据表)."""
    return _written(write_template)


def _written(write: Any) -> bytes:
    with tempfile.TemporaryDirectory(prefix="youjun-export-") as folder:
        path = Path(folder) / "out.xlsx"
        write(path)
        return path.read_bytes()
