"""Files into grids of text: which files are taken, how their bytes are read, and which sheets they hold.

Every cell is read as text (fastexcel ``dtypes="string"``, CSV ``infer_schema=False``) so that a bad cell can be
reported with what the user typed. fastexcel renders a whole float cell as ``12`` (not ``12.0``), ``1e-5`` as
``0.00001`` and dates as ``2024-01-02 00:00:00`` (rejected in numeric columns). Excel formula error values such
as ``#DIV/0!`` arrive as empty cells.

* A workbook's school sheet is ``学校`` (or ``school`` / ``schools``); when there is none and exactly one other
  sheet, that one is read as the school sheet with a warning. Its county sheet is ``县级指标`` (or ``county`` /
  ``counties``). A CSV whose name contains ``县级指标`` / ``county`` is the county sheet; any other CSV is a school
  sheet.
* Encodings: UTF-8 (BOM optional), UTF-16 with BOM, else GB18030; separator "," or, if the header line has
  none, tab or ";". Leading blank lines are dropped and the row numbers shifted, so they stay the user's.
* A parser that panics (a Rust panic reaches Python as ``PanicException``, a ``BaseException``) is a damaged file,
  never a traceback.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from youjun.contract import COUNTY_SHEET, SCHOOL_SHEET
from youjun.errors import Location, Problem
from youjun.io.reader.fastcsv import TypedSheet, read_typed
from youjun.io.reader.headers import normalize_header
from youjun.io.reader.problems import Order, Sink

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv",)

SheetKind = Literal["school", "county"]

SHEET_ALIASES: dict[SheetKind, tuple[str, ...]] = {
    "school": (SCHOOL_SHEET, "school", "schools"),
    "county": (COUNTY_SHEET, "county", "counties"),
}
_NOT_DATA_SHEET = "填表说明"


@dataclass(slots=True)
class RawSheet:
    """One sheet as read: every cell as text under positional column names ``c0``, ``c1``, …

    A clean school CSV is read typed instead (``typed``, ``youjun.io.reader.fastcsv``); its text grid is parsed from
    ``body`` only if it is asked for."""

    file: str
    sheet: str | None
    kind: SheetKind
    text: pl.DataFrame | None  # the grid (None until parsed from ``body``)
    file_index: int
    sheet_index: int
    first_row: int = 1
    typed: TypedSheet | None = None
    body: bytes | None = None

    @property
    def grid(self) -> pl.DataFrame:
        """Every cell as text; grid row 0 is user row ``first_row``."""
        if self.text is None:
            assert self.body is not None
            self.text = _text_grid(_parse_csv(self.body))
        return self.text


def file_order(file_index: int) -> Order:
    """The sort key of a problem about a whole file (before any of its sheets)."""
    return (file_index, -1, 0, 0)


def is_panic(exc: BaseException) -> bool:
    # pyo3 turns a Rust panic into PanicException, which derives from BaseException.
    return type(exc).__name__ == "PanicException"


def read_bytes(path: Path, shown: str, file_index: int, sink: Sink) -> bytes | None:
    """The file's bytes, or None with the reason in ``sink`` (missing, a folder, unreadable, empty)."""
    order = file_order(file_index)
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


# ----------------------------------------------------------------------------------------------------
# Excel


def read_excel(data: bytes, shown: str, file_index: int, sink: Sink) -> list[RawSheet]:
    """The school and county sheets of a workbook (the format is sniffed, so a renamed ``.xls`` still opens)."""
    import fastexcel  # only for workbooks: a CSV is read without it

    try:
        reader = fastexcel.read_excel(data)
        names = list(reader.sheet_names)
    except BaseException as exc:
        if not isinstance(exc, Exception) and not is_panic(exc):
            raise
        sink.add(
            Problem(
                "not_a_workbook",
                "无法打开：这不是有效的 Excel 工作簿（文件可能已损坏，或是其他格式的文件改了扩展名）",
                "error",
                Location(file=shown),
            ),
            file_order(file_index),
        )
        return []
    sheets: list[RawSheet] = []
    for index, (name, kind) in enumerate(_choose_sheets(names, shown, file_index, sink)):
        try:
            grid = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
        except BaseException as exc:
            if not isinstance(exc, Exception) and not is_panic(exc):
                raise
            where = Location(file=shown, sheet=name)
            sink.add(
                Problem("unreadable_sheet", "无法读取该工作表，文件可能已损坏", "error", where),
                (file_index, index, 0, 0),
            )
            continue
        grid = grid.select(pl.col(c).cast(pl.String).alias(f"c{i}") for i, c in enumerate(grid.columns))
        sheets.append(RawSheet(shown, name, kind, grid, file_index, index))
    return sheets


def _choose_sheets(names: list[str], shown: str, file_index: int, sink: Sink) -> list[tuple[str, SheetKind]]:
    """(sheet name, kind) to read: the school sheet (named, or the only candidate), then the county sheet."""

    def find(kind: SheetKind) -> str | None:
        wanted = {normalize_header(n) for n in SHEET_ALIASES[kind]}
        return next((n for n in names if normalize_header(n) in wanted), None)

    school, county = find("school"), find("county")
    if school is None:
        candidates = [
            n for n in names if n != county and not n.startswith("_") and normalize_header(n) != _NOT_DATA_SHEET
        ]
        if len(candidates) == 1:
            school = candidates[0]
            message = f"工作簿中没有名为「{SCHOOL_SHEET}」的工作表，已按学校数据读取唯一的工作表「{school}」"
            where = Location(file=shown, sheet=school)
            sink.add(Problem("school_sheet_guessed", message, "warning", where), file_order(file_index))
        else:
            found = "、".join(f"「{n}」" for n in names) or "（无）"
            message = f"工作簿中没有名为「{SCHOOL_SHEET}」的工作表（现有工作表：{found}），请使用模板填报"
            sink.add(Problem("missing_school_sheet", message, "error", Location(file=shown)), file_order(file_index))
    chosen: list[tuple[str, SheetKind]] = []
    if school is not None:
        chosen.append((school, "school"))
    if county is not None:
        chosen.append((county, "county"))
    return chosen


# ----------------------------------------------------------------------------------------------------
# CSV


def csv_kind(path: Path) -> SheetKind:
    stem = unicodedata.normalize("NFKC", path.stem).lower()
    return "county" if (COUNTY_SHEET in stem or "county" in stem or "counties" in stem) else "school"


def separator(body: bytes) -> str:
    """Comma, unless the header line has none but has tabs (Excel "Unicode text") or ";" (some locales)."""
    head = body[:65536]
    first_line = head.split(b"\n", 1)[0]
    if b"," in first_line:
        return ","
    best = max(("\t", ";"), key=lambda s: first_line.count(s.encode()))
    return best if best.encode() in first_line else ","


def _parse_csv(body: bytes) -> pl.DataFrame:
    return pl.read_csv(body, has_header=False, infer_schema=False, separator=separator(body), raise_if_empty=False)


def read_csv(path: Path, data: bytes, shown: str, file_index: int, sink: Sink) -> list[RawSheet]:
    """One CSV file = one sheet. UTF-8 (BOM optional) or UTF-16 with BOM; GB18030 when it is not UTF-8."""
    order = file_order(file_index)
    where = Location(file=shown)

    def fail(code: str, message: str) -> list[RawSheet]:
        sink.add(Problem(code, message, "error", where), order)
        return []

    body = data  # polars skips a UTF-8 BOM itself
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            body = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return fail("bad_encoding", "无法识别文件编码，请在 Excel 中另存为「CSV UTF-8」格式")
    body, start, skipped = _drop_leading_blank_lines(body)
    if not body[start : start + 65536].strip() and not body[start:].strip():
        return fail("empty_file", "文件没有任何内容（没有表头和数据）")
    kind = csv_kind(path)
    if kind == "school":
        typed = read_typed(body, separator(body), skipped + 1)
        if typed is not None:  # clean: no grid of text unless a row check needs the cells as typed
            return [RawSheet(shown, None, kind, None, file_index, 0, skipped + 1, typed, body)]
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
    return [RawSheet(shown, None, kind, _text_grid(grid), file_index, 0, first_row=skipped + 1)]


def _text_grid(grid: pl.DataFrame) -> pl.DataFrame:
    return grid.rename({c: f"c{i}" for i, c in enumerate(grid.columns)})


def _drop_leading_blank_lines(body: bytes) -> tuple[bytes, int, int]:
    """Leading blank lines would confuse the field count: (body without them and its BOM, where the text starts,
    how many lines were dropped, to shift the row numbers)."""
    bom = b"\xef\xbb\xbf"
    start = len(bom) if body.startswith(bom) else 0  # look at the first bytes only: no copy of a large file
    if body[start : start + 1] not in (b"\r", b"\n"):
        return body, start, 0
    rest = body[start:]
    stripped = rest.lstrip(b"\r\n")
    return stripped, 0, rest[: len(rest) - len(stripped)].count(b"\n")


def _csv_failure(body: bytes, skipped: int) -> str:
    """Explain why polars could not parse a CSV (only on the failure path, so a Python scan is fine)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8", errors="replace")), delimiter=separator(body))
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
