"""Bounded work for every input file, checked on its bytes before any parser sees them.

The workbook parser (calamine, inside fastexcel) and the CSV parser trust what a file says about itself, so a small
file can make them take gigabytes or abort the whole process: a shared string of 200 MB, a zip entry whose header
lies about its size, one cell at row 1,048,576 and column XFD (the grid is allocated densely), a
``uniqueCount="100000000000"`` attribute (reserved up front), an ``.xls`` header or ``DIMENSIONS`` record with a huge
count, a sector chain that loops, a CSV of 300,000 columns. ``check_input`` reads the bytes the way those parsers
will and refuses such a file with a Chinese message naming the limit, before the parser is called. It is itself
bounded: it inflates in 1 MiB chunks and stops at the first limit exceeded, scans XML as a byte stream (never a
whole part in memory, never a tree), and never raises anything but returns ``Problem`` objects.

What is checked, by kind (the numbers are ``InputLimits`` fields; ``WEB_LIMITS`` and ``CLI_LIMITS`` are the presets):

* every file: its size (``max_xlsx_bytes`` / ``max_xls_bytes`` / ``max_csv_bytes``, by suffix);
* a ZIP (``.xlsx`` / ``.xlsm``; any file the parser could open as one): every central directory its ZIP reader
  could take (it searches the whole file, so prepended or appended bytes hide nothing), at most ``max_entries``
  entries, only stored or deflated, unencrypted entries, declared sizes (``max_declared_total``) and declared
  ratios, then every entry inflated in chunks while counting: per entry (``max_entry_bytes``), in total
  (``max_uncompressed_total``), ratio (``max_ratio`` for entries over ``ratio_min_bytes``) and never more than the
  entry declares (a header that lies is refused); content that is an ``.ods`` or ``.xlsb`` workbook is refused;
* the parts the parser reads, as it reads them (local element names, any prefix, UTF-16 decoded): the shared
  strings (``uniqueCount`` and the number of strings ≤ ``max_shared_strings``, each ≤ ``max_text_chars``), every
  worksheet (the position of every cell with a value — from its ``r`` reference, or from the row and column
  counters as the parser keeps them when a cell has none — within ``max_rows`` × ``max_columns``; inline text
  ≤ ``max_text_chars``), and the text of all cells once shared strings are expanded (a shared string counts once per
  cell using it) within ``max_text_total``;
* an OLE file (``.xls``): the header counts the parser allocates from, every sector chain it follows (a loop is
  refused), ``CONTINUE`` records per record, the shared strings (number, length), distinct sheet offsets, each
  sheet's declared ``DIMENSIONS`` and the position of every cell record, the total grid of all sheets (the parser
  loads every sheet at once) within ``max_rows × max_columns``, and the expanded text within ``max_text_total``;
* a CSV: at most ``max_rows`` lines of at most ``max_line_bytes`` each; the first record (the width the CSV parser
  allocates for every row) at most ``max_columns`` fields; a file with quotes is also read record by record as
  the standard library's CSV reader does (the reader's own error path), each record within ``max_line_bytes // 8``
  separators.

Worksheets as spreadsheet programs and libraries write them go through a fast path: rows of plain cells are matched
by one regular expression per run of rows, the cell references bounded in the pattern itself (about 100 MB of sheet
XML per second); anything else (rich text, cells without references, comments, prefixes) goes through an exact
tokenizer that follows the parser's own rules (those of calamine 0.36 with quick-xml's ``expand_empty_elements``,
and of the ``zip`` crate for finding the archive). A file the parser could not open anyway (not a ZIP, not OLE, a
broken header) is passed on, so the reader's own message stays the same.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import IO, Final

from youjun.errors import Location, Problem

__all__ = [
    "CLI_LIMITS",
    "GIB",
    "KIB",
    "MIB",
    "WEB_LIMITS",
    "InputLimits",
    "check_archive",
    "check_file_size",
    "check_input",
]

KIB: Final = 1024
MIB: Final = 1024 * KIB
GIB: Final = 1024 * MIB

EXCEL_CELL_CHARS: Final = 32_767
"""Excel's own limit for the text of one cell."""


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Upper bounds for one input file (see the module docstring for where each applies)."""

    max_xlsx_bytes: int
    max_xls_bytes: int
    max_csv_bytes: int
    max_entries: int
    max_declared_total: int
    max_entry_bytes: int
    max_uncompressed_total: int
    max_ratio: float
    max_shared_strings: int
    max_text_total: int
    max_rows: int
    max_columns: int
    max_cells: int
    """Rows × columns of a sheet's grid (up to its last value): the parser allocates every cell of it."""
    max_line_bytes: int
    max_text_chars: int = EXCEL_CELL_CHARS
    ratio_min_bytes: int = MIB
    """Entries smaller than this once inflated are not held to ``max_ratio`` (tiny parts compress very well)."""

    def file_bytes(self, suffix: str) -> int:
        """The size limit of a file with this suffix (``.xls``, ``.csv``, otherwise the ``.xlsx`` one)."""
        suffix = suffix.lower()
        if suffix == ".xls":
            return self.max_xls_bytes
        if suffix == ".csv":
            return self.max_csv_bytes
        return self.max_xlsx_bytes

    def with_file_bytes(self, limit: int) -> InputLimits:
        """The same limits with every file-size limit set to ``limit`` (e.g. a deployment's upload setting)."""
        return replace(self, max_xlsx_bytes=limit, max_xls_bytes=limit, max_csv_bytes=limit)


#: Uploads through the web application. A county has at most a few thousand schools: its workbook of 56 columns
#: is about 2 KB of sheet XML per school once inflated (3,000 schools: 6 MB; 10,000: 20 MB), compressed 8-12 times.
#: So 10,000 rows and 200 columns (the template has 56 school and 44 county columns, extra columns are allowed),
#: 20 MB on disk (the default ``YOUJUN_MAX_UPLOAD_BYTES``), 60 MB inflated (40 MB for one part), a ratio of 100,
#: 2,000 entries (a template has about 20), 200,000 shared strings (a county's names, ids and choices are far
#: fewer), 64 KB per CSV line (a template line is under 1 KB) and 100 MB of expanded text (a county's cells hold a
#: few MB) leave a wide margin for real files and keep one request's parsing within a few hundred MB (the grid of
#: 10,000 × 200 cells is 64 MB in the parser).
WEB_LIMITS: Final = InputLimits(
    max_xlsx_bytes=20 * MIB,
    max_xls_bytes=20 * MIB,
    max_csv_bytes=20 * MIB,
    max_entries=2_000,
    max_declared_total=60 * MIB,
    max_entry_bytes=40 * MIB,
    max_uncompressed_total=60 * MIB,
    max_ratio=100,
    max_shared_strings=200_000,
    max_text_total=100 * MIB,
    max_rows=10_000,
    max_columns=200,
    max_cells=2_000_000,
    max_line_bytes=64 * KIB,
)

#: The command line reads national files on the operator's own machine: about 200,000 schools (Excel itself stops
#: at 1,048,576 rows; 1,100,000 leaves room for a CSV). A national .xlsx is about 400 MB of sheet XML once inflated
#: (2 GB at Excel's row limit), so 1 GB on disk, 4 GB inflated, a ratio of 200, 300 columns, 10 million shared
#: strings and 4 GB of expanded text; an .xls cannot hold more than 65,536 rows, 256 MB is far above any real one.
#: Rows × columns alone would allow a grid of 330 million cells (about 10 GB in the parser) for a file of two
#: cells, so a sheet's grid is held to 100 million cells (Excel's 1,048,576 rows × 95 columns; the national file is
#: 200,000 × 56), about 3 GB in the parser.
CLI_LIMITS: Final = InputLimits(
    max_xlsx_bytes=1 * GIB,
    max_xls_bytes=256 * MIB,
    max_csv_bytes=1 * GIB,
    max_entries=10_000,
    max_declared_total=4 * GIB,
    max_entry_bytes=4 * GIB,
    max_uncompressed_total=4 * GIB,
    max_ratio=200,
    max_shared_strings=10_000_000,
    max_text_total=4 * GIB,
    max_rows=1_100_000,
    max_columns=300,
    max_cells=100_000_000,
    max_line_bytes=1 * MIB,
)

_CHUNK: Final = MIB
_CARRY_MAX: Final = MIB
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# ----------------------------------------------------------------------------------------------------------------------
# Messages


def _size(n: int) -> str:
    if n >= GIB and n % GIB == 0:
        return f"{n // GIB} GB"
    if n >= MIB:
        return f"{n / MIB:.0f} MB" if n % MIB == 0 else f"{n / MIB:.1f} MB"
    return f"{max(n // KIB, 1)} KB"


class _Refused(Exception):
    """One limit exceeded: stops the check (only ever raised and caught inside this module)."""

    def __init__(self, code: str, message: str, sheet: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sheet = sheet


BOMB_HINT = "可能是压缩炸弹或错误的文件"


def _refuse(code: str, message: str, sheet: str | None = None) -> _Refused:
    return _Refused(code, message, sheet)


# ----------------------------------------------------------------------------------------------------------------------
# Public entry points


def check_file_size(size: int, suffix: str, limits: InputLimits, *, file: str | None = None) -> Problem | None:
    """A problem if a file of ``size`` bytes with ``suffix`` is over its limit (checked before reading it)."""
    limit = limits.file_bytes(suffix)
    if size <= limit:
        return None
    return Problem(
        "file_too_large",
        f"文件大小 {_size(size)} 超过 {_size(limit)} 的上限（请检查是否选错了文件），未导入",
        "error",
        Location(file=file),
    )


def check_input(
    data: bytes | bytearray | memoryview | str | os.PathLike[str],
    suffix: str,
    limits: InputLimits,
    *,
    file: str | None = None,
    verb: str = "导入",
) -> list[Problem]:
    """Problems that make the file unsafe to parse (empty when it is within every limit).

    ``data`` is the file's bytes or its path; ``suffix`` decides the kind (``.csv`` is CSV; Excel suffixes are
    sniffed: OLE, ZIP, or both for a file that is both). Never raises: an unexpected failure of the check itself is a
    refusal (fail closed). ``file`` is put into each problem's location, ``verb`` ends each message (未导入).
    """
    try:
        with _Source.open(data) as src:
            limit = limits.file_bytes(suffix)
            if src.size > limit:
                problem = check_file_size(src.size, suffix, limits, file=file)
                assert problem is not None
                return [_with_verb(problem, verb)]
            if suffix.lower() == ".csv":
                _check_csv(src, limits)
            else:  # the parser tries the file as OLE first, then as ZIP (whatever its name): so do both checks
                if bytes(src.read(0, 8)) == _OLE_MAGIC:
                    _check_cfb(src, limits)
                _check_zip(src, limits, contents=True)
    except _Refused as exc:
        return [Problem(exc.code, f"{exc.message}，未{verb}", "error", Location(file=file, sheet=exc.sheet))]
    except OSError as exc:
        message = f"无法读取文件（{exc.strerror or exc}），未{verb}"
        return [Problem("file_unreadable", message, "error", Location(file=file))]
    except Exception as exc:  # the check fails closed: a file it cannot check is not parsed
        message = f"无法检查该文件（{type(exc).__name__}），为安全起见未{verb}，请确认文件完好后重试"
        return [Problem("input_check_failed", message, "error", Location(file=file))]
    return []


def check_archive(
    data: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes],
    limits: InputLimits,
    *,
    file: str | None = None,
    verb: str = "上传",
) -> list[Problem]:
    """Archive-level checks of a ZIP-based document (entries, declared and actual sizes, ratios), nothing else.

    For files that are stored, not parsed (evidence): a zip bomb is refused without inflating more than
    ``max_uncompressed_total``. A file object is read from its start and left where it was.
    """
    try:
        with _Source.open(data) as src:
            _check_zip(src, limits, contents=False)
    except _Refused as exc:
        message = exc.message.replace("工作簿", "该文档")  # a document, not necessarily a workbook
        return [Problem(exc.code, f"{message}，未{verb}", "error", Location(file=file))]
    except OSError as exc:
        message = f"无法读取文件（{exc.strerror or exc}），未{verb}"
        return [Problem("file_unreadable", message, "error", Location(file=file))]
    except Exception as exc:  # fail closed, as in check_input
        message = f"无法检查该文件（{type(exc).__name__}），为安全起见未{verb}，请确认文件完好后重试"
        return [Problem("input_check_failed", message, "error", Location(file=file))]
    return []


def _with_verb(problem: Problem, verb: str) -> Problem:
    if verb == "导入":
        return problem
    return replace(problem, message=problem.message.removesuffix("未导入") + f"未{verb}")


# ----------------------------------------------------------------------------------------------------------------------
# Random access to the input


class _Source:
    """The input's bytes, read by offset: a memoryview over bytes in memory, or seek + read on a file."""

    def __init__(self, view: memoryview | None, handle: IO[bytes] | None, size: int, close: bool, start: int) -> None:
        obj = view.obj if view is not None else None
        # bytes.find is much faster than a chunked search: use it when the view is the whole object
        self._bytes: bytes | bytearray | None = (
            obj if isinstance(obj, bytes | bytearray) and view is not None and len(obj) == len(view) else None
        )
        self._view = view
        self._handle = handle
        self.size = size
        self._close = close
        self._start = start

    @classmethod
    def open(cls, data: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]) -> _Source:
        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data).cast("B")
            return cls(view, None, len(view), False, 0)
        if isinstance(data, str | os.PathLike):
            handle: IO[bytes] = Path(data).open("rb")  # noqa: SIM115 - closed by __exit__
            size = os.fstat(handle.fileno()).st_size
            return cls(None, handle, size, True, 0)
        start = data.tell()
        data.seek(0, os.SEEK_END)
        size = data.tell()
        return cls(None, data, size, False, start)

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            if self._close:
                self._handle.close()
            else:
                self._handle.seek(self._start)

    def read(self, offset: int, n: int) -> bytes | memoryview:
        """Up to ``n`` bytes at ``offset`` (fewer at the end of the input)."""
        if offset < 0 or n <= 0 or offset >= self.size:
            return b""
        if self._view is not None:
            return self._view[offset : offset + n]
        assert self._handle is not None
        self._handle.seek(offset)
        return self._handle.read(n)

    def find(self, needle: bytes, start: int, end: int) -> int:
        """The first offset of ``needle`` within [start, end), or -1."""
        end = min(end, self.size)
        if self._bytes is not None:
            return self._bytes.find(needle, start, end)
        overlap = len(needle) - 1
        pos = start
        while pos < end:
            piece = bytes(self.read(pos, min(_CHUNK, end - pos)))
            at = piece.find(needle)
            if at >= 0:
                return pos + at
            if pos + len(piece) >= end or not piece:
                return -1
            pos += max(len(piece) - overlap, 1)
        return -1

    def find_from_end(self, needle: bytes) -> Iterator[int]:
        """The offsets of ``needle`` in the input, last first."""
        end = self.size
        while end > 0:
            if self._bytes is not None:
                at = self._bytes.rfind(needle, 0, end)
            else:
                start = max(end - _CHUNK, 0)
                piece = bytes(self.read(start, end - start + len(needle) - 1))
                found = piece.rfind(needle, 0, end - start + len(needle) - 1)
                at = start + found if found >= 0 and start + found < end else -1
                if at < 0:
                    end = start
                    continue
            if at < 0:
                return
            yield at
            end = at

    def chunks(self, offset: int = 0, end: int | None = None, step: int = _CHUNK) -> Iterator[bytes | memoryview]:
        stop = self.size if end is None else min(end, self.size)
        while offset < stop:
            piece = self.read(offset, min(step, stop - offset))
            if not piece:
                return
            offset += len(piece)
            yield piece


# ----------------------------------------------------------------------------------------------------------------------
# Bounds as regular expressions (a cell reference is within the limits when this matches it)


def _digits_le(n: int) -> bytes:
    """A regular expression for the decimal integers 1..n (no leading zeros)."""
    s = str(n)
    parts = [rb"[1-9][0-9]{0,%d}" % (len(s) - 2)] if len(s) > 1 else []
    for i, ch in enumerate(s):
        d = int(ch)
        low = 1 if i == 0 else 0
        if d > low:
            parts.append(s[:i].encode() + b"[%d-%d]" % (low, d - 1) + (b"[0-9]{%d}" % (len(s) - i - 1)))
    parts.append(s.encode())
    return b"(?:" + b"|".join(parts) + b")"


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _letter_class(lo: int, hi: int) -> bytes:
    """Both cases of the letters lo..hi (0 = A)."""
    a, b = chr(65 + lo), chr(65 + hi)
    return f"[{a}-{b}{a.lower()}-{b.lower()}]".encode()


def _columns_le(n: int) -> bytes:
    """A regular expression for the column letters A..(column n), either case."""
    s = [ord(c) - 65 for c in _letters(n)]  # 0 = A

    def exactly(letters: list[int]) -> bytes:
        return b"".join(_letter_class(k, k) for k in letters)

    parts = [b"[A-Za-z]{1,%d}" % (len(s) - 1)] if len(s) > 1 else []  # fewer letters: always smaller
    for i, k in enumerate(s):  # the same first i letters, a smaller one at i, then any
        if k > 0:
            parts.append(exactly(s[:i]) + _letter_class(0, k - 1) + b"[A-Za-z]{%d}" % (len(s) - i - 1))
    parts.append(exactly(s))
    return b"(?:" + b"|".join(parts) + b")"


def _columns_gt(n: int) -> bytes:
    """A regular expression for the column letters after column n, either case."""
    s = [ord(c) - 65 for c in _letters(n)]
    parts = [b"[A-Za-z]{%d,}" % (len(s) + 1)]  # more letters: always larger
    for i, k in enumerate(s):  # the same first i letters, a larger one at i, then any
        if k < 25:
            parts.append(
                b"".join(_letter_class(j, j) for j in s[:i])
                + _letter_class(k + 1, 25)
                + b"[A-Za-z]{%d}" % (len(s) - i - 1)
            )
    return b"(?:" + b"|".join(parts) + b")"


def _cell_position(ref: bytes) -> tuple[int, int] | None:
    """(row, column), 0-based, of a reference as the workbook parser reads it; None when it would fail."""
    i, col = 0, 0
    while i < len(ref) and (65 <= ref[i] <= 90 or 97 <= ref[i] <= 122):
        col = col * 26 + (ref[i] & 0x1F)
        i += 1
    digits = ref[i:]
    if not digits or not digits.isdigit() or col == 0:
        return None
    row = int(digits)
    return (row - 1, col - 1) if row >= 1 else None


def _row_number(ref: bytes) -> int | None:
    """The 0-based row of a row's ``r`` attribute (letters allowed and ignored, as the parser does)."""
    i = 0
    while i < len(ref) and (65 <= ref[i] <= 90 or 97 <= ref[i] <= 122):
        i += 1
    digits = ref[i:]
    if not digits or not digits.isdigit() or int(digits) < 1:
        return None
    return int(digits) - 1


# ----------------------------------------------------------------------------------------------------------------------
# Text length


_ENTITY = re.compile(r"&(?:#[0-9]{1,10}|#x[0-9A-Fa-f]{1,8}|[A-Za-z][A-Za-z0-9]{0,30});|_x[0-9A-Fa-f]{4}_")


def _chars(raw: bytes) -> int:
    """Characters of raw XML text once references (``&amp;``, ``&#12345;``, ``_x000D_``) are replaced."""
    text = raw.decode("utf-8", errors="replace")
    if "&" in text or "_x" in text:
        text = _ENTITY.sub("x", text)
    return len(text)


class _Text:
    """The text of one cell or shared string, counted as it arrives (possibly across chunks).

    Raw bytes bound the characters from above; only text longer than ``limit`` bytes is decoded (up to a hard cap
    of 12 bytes per allowed character: a longer text cannot be within the limit however it is escaped)."""

    __slots__ = ("_hard", "_kept", "_limit", "chars", "raw")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._hard = limit * 12 + 4096
        self._kept: list[bytes] | None = []
        self.raw = 0
        self.chars = 0

    def add(self, piece: bytes) -> bool:
        """Add text; False once it is certainly over the limit."""
        self.raw += len(piece)
        if self._kept is not None:
            self._kept.append(piece)
            if self.raw > self._limit:
                if self.raw > self._hard:
                    return False
                self.chars = sum(_chars(p) for p in self._kept)
                self._kept = None
                return self.chars <= self._limit
            self.chars = self.raw
            return True
        if self.raw > self._hard:
            return False
        self.chars += _chars(piece)
        return self.chars <= self._limit


# ----------------------------------------------------------------------------------------------------------------------
# ZIP


_EOCD: Final = b"PK\x05\x06"
_Z64_LOCATOR: Final = b"PK\x06\x07"
_Z64_EOCD: Final = b"PK\x06\x06"
_CENTRAL: Final = b"PK\x01\x02"
_LOCAL: Final = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    method: int
    flags: int
    compressed: int
    declared: int
    header: int  # absolute offset of the local header


def _damaged(detail: str) -> _Refused:
    return _refuse("archive_damaged", f"工作簿的压缩结构异常（{detail}），可能已损坏或被篡改，为安全起见")


_MAX_VIEWS: Final = 16


def _zip_views(src: _Source, limits: InputLimits) -> list[list[_Entry]]:
    """Every central directory a ZIP reader could take from this file, each as its list of entries.

    The workbook parser's ZIP reader (the ``zip`` crate) searches the whole file backwards for an end record, accepts
    one whose comment ends before the end of the file, finds the directory by searching forward for the first
    directory header from the offset the record gives (so bytes may precede the archive), and falls back to an
    earlier end record when a directory does not parse. Which one it ends up with depends on all of that, so every
    candidate it could accept is returned and checked (a normal workbook has exactly one)."""
    views: list[list[_Entry]] = []
    for n, eocd in enumerate(src.find_from_end(_EOCD)):
        if len(views) >= _MAX_VIEWS or n >= 4 * _MAX_VIEWS:
            raise _damaged(f"含有超过 {_MAX_VIEWS} 个压缩目录")
        found = _zip_directory(src, eocd)
        if found is None:
            continue
        start, count, offset = found
        if count > limits.max_entries:
            raise _refuse(
                "archive_too_many_entries",
                f"工作簿中的文件数（{count:,} 个）超过 {limits.max_entries:,} 个的上限（{BOMB_HINT}）",
            )
        entries = _read_directory(src, start, count, offset)
        if entries is not None:
            views.append(entries)
    return views


def _zip_directory(src: _Source, eocd: int) -> tuple[int, int, int] | None:
    """(directory start, number of entries, archive offset) for the end record at ``eocd``, or None when the ZIP
    reader would not accept it (``find_central_directory`` and ``read_central_header`` of the ``zip`` crate)."""
    record = bytes(src.read(eocd, 22))
    if len(record) < 22:
        return None
    disk, cd_disk, disk_entries, total, cd_size, cd_offset, comment = struct.unpack_from("<4H2LH", record, 4)
    if eocd + 22 + comment > src.size:
        return None
    if 0xFFFF in (disk_entries, total) or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        locator = bytes(src.read(eocd - 20, 20)) if eocd >= 20 else b""
        if len(locator) == 20 and locator.startswith(_Z64_LOCATOR):
            return _zip64_directory(src, eocd - 20, locator)
    if disk != cd_disk:
        return None
    if disk_entries == 0 or cd_offset >= eocd:
        return None
    if bytes(src.read(cd_offset, 4)) == _CENTRAL:
        start = cd_offset
    else:
        start = src.find(_CENTRAL, cd_offset, eocd)
        if start < 0:
            return None
    return start, disk_entries, start - cd_offset


def _zip64_directory(src: _Source, at: int, locator: bytes) -> tuple[int, int, int] | None:
    cd_disk, record_offset, disks = struct.unpack_from("<LQL", locator, 4)
    if record_offset >= at or disks > 1:
        return None
    pos = record_offset if bytes(src.read(record_offset, 4)) == _Z64_EOCD else src.find(_Z64_EOCD, record_offset, at)
    while 0 <= pos < at:
        record = bytes(src.read(pos, 56))
        if len(record) == 56:
            size, _, _, disk, disk_cd, disk_entries, total, _, cd_offset = struct.unpack_from("<Q2H2L4Q", record, 4)
            if disk_cd == cd_disk and size + 12 == at - pos and pos >= total * 46 + cd_offset:
                if disk_entries > total or disk != disk_cd:
                    return None
                offset = pos - record_offset
                return cd_offset + offset, total, offset
        pos = src.find(_Z64_EOCD, pos + 1, at)
    return None


def _read_directory(src: _Source, start: int, count: int, offset: int) -> list[_Entry] | None:
    """The ``count`` directory records at ``start``; None where the ZIP reader fails to read them."""
    entries: list[_Entry] = []
    pos = start
    for _ in range(count):
        head = bytes(src.read(pos, 46))
        if len(head) < 46 or not head.startswith(_CENTRAL):
            return None
        flags, method = struct.unpack_from("<2H", head, 8)
        compressed, declared, n_name, n_extra, n_comment = struct.unpack_from("<2L3H", head, 20)
        (header,) = struct.unpack_from("<L", head, 42)
        rest = bytes(src.read(pos + 46, n_name + n_extra + n_comment))
        if len(rest) < n_name + n_extra + n_comment:
            return None
        name = rest[:n_name].decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if 0xFFFFFFFF in (compressed, declared, header):
            declared, compressed, header = _zip64_sizes(rest[n_name : n_name + n_extra], declared, compressed, header)
        entries.append(_Entry(name, method, flags, compressed, declared, header + offset))
        pos += 46 + len(rest)
    return entries


def _zip64_sizes(extra: bytes, declared: int, compressed: int, header: int) -> tuple[int, int, int]:
    """The 64-bit sizes and offset of the ZIP64 extra field, for the fields whose 32-bit value is the marker."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<2H", extra, pos)
        if tag == 0x0001:
            body = extra[pos + 4 : pos + 4 + size]
            values = list(struct.unpack_from(f"<{len(body) // 8}Q", body))
            if declared == 0xFFFFFFFF and values:
                declared = values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
            if header == 0xFFFFFFFF and values:
                header = values.pop(0)
            break
        pos += 4 + size
    return declared, compressed, header


def _check_zip(src: _Source, limits: InputLimits, *, contents: bool) -> None:
    """The archive checks of every view; with ``contents``, the workbook parts are scanned as they are inflated."""
    total = 0
    for entries in _zip_views(src, limits):
        declared_total = 0
        for entry in entries:
            if entry.flags & 0x1:
                raise _refuse("archive_unsupported", f"工作簿中的「{entry.name}」已加密，无法检查")
            if entry.method not in (0, 8):
                raise _refuse(
                    "archive_unsupported", f"工作簿中的「{entry.name}」使用了不支持的压缩方式（{entry.method}）"
                )
            declared_total += entry.declared
            _check_sizes(entry, entry.declared, limits, declared=True)
        if declared_total > limits.max_declared_total:
            raise _refuse(
                "archive_declared_too_large",
                f"工作簿声明的解压后大小 {_size(declared_total)} 超过 {_size(limits.max_declared_total)} 的上限"
                f"（{BOMB_HINT}）",
            )
        if contents:
            names = {_normal(e.name) for e in entries}
            if not any(n.endswith("workbook.xml") for n in names) and (
                "content.xml" in names or any(n.endswith("workbook.bin") for n in names)
            ):
                raise _refuse(
                    "unsupported_workbook",
                    "文件内容是 .ods 或 .xlsb 格式的工作簿，不是 .xlsx（请在 Excel 或 WPS 中另存为 .xlsx）",
                )
        book = _Workbook(limits) if contents else None
        ordered = entries
        if book is not None:  # names first (small parts, so that problems can name the sheet), then shared strings
            ordered = sorted(
                entries, key=lambda e: 0 if _is_naming_part(e.name) else 1 if _is_shared_strings(e.name) else 2
            )
        for entry in ordered:
            sink = book.sink_for(entry.name) if book is not None else None
            total += _inflate(src, entry, limits, limits.max_uncompressed_total - total, sink)


def _check_sizes(entry: _Entry, size: int, limits: InputLimits, *, declared: bool) -> None:
    what = "声明的解压后大小" if declared else "解压后"
    if size > limits.max_entry_bytes:
        raise _refuse(
            "archive_entry_too_large",
            f"工作簿中的「{entry.name}」{what}超过 {_size(limits.max_entry_bytes)} 的上限（{BOMB_HINT}）",
        )
    if size > limits.ratio_min_bytes and size > limits.max_ratio * max(entry.compressed, 1):
        ratio = size / max(entry.compressed, 1)
        raise _refuse(
            "archive_ratio_too_high",
            f"工作簿中的「{entry.name}」压缩比 {ratio:,.0f} 倍，超过 {limits.max_ratio:g} 倍的上限（{BOMB_HINT}）",
        )


def _inflate(src: _Source, entry: _Entry, limits: InputLimits, budget: int, sink: _Sink | None) -> int:
    """Inflate one entry in chunks, counting (and feeding ``sink``); returns its real size."""
    local = bytes(src.read(entry.header, 30))
    if len(local) != 30 or not local.startswith(_LOCAL):
        raise _damaged(f"「{entry.name}」的本地文件头缺失")
    n_name, n_extra = struct.unpack_from("<2H", local, 26)
    start = entry.header + 30 + n_name + n_extra
    if start + entry.compressed > src.size:
        raise _damaged(f"「{entry.name}」的数据超出文件")
    produced = 0

    def count(out: bytes | memoryview) -> None:
        nonlocal produced
        produced += len(out)
        if produced > budget:
            raise _refuse(
                "archive_too_large",
                f"文件解压后超过 {_size(limits.max_uncompressed_total)} 的上限（{BOMB_HINT}）",
            )
        if produced > entry.declared:
            raise _refuse(
                "archive_size_mismatch",
                f"工作簿中的「{entry.name}」解压后的实际大小超过其声明的 {entry.declared:,} 字节"
                "（压缩包的文件头与内容不符，可能被篡改）",
            )
        _check_sizes(entry, produced, limits, declared=False)
        if sink is not None and out:
            sink.feed(bytes(out))

    if entry.method == 0:
        for piece in src.chunks(start, start + entry.compressed):
            count(piece)
    else:
        inflater = zlib.decompressobj(-15)
        try:
            for piece in src.chunks(start, start + entry.compressed):
                data: bytes | memoryview = piece
                while data and not inflater.eof:
                    count(inflater.decompress(data, _CHUNK))
                    data = inflater.unconsumed_tail
                if inflater.eof:
                    break
            if not inflater.eof:
                count(inflater.flush())
        except zlib.error:
            pass  # a broken stream: the parser fails on it too; what was inflated has been counted and checked
    if sink is not None:
        sink.close()
    return produced


# ----------------------------------------------------------------------------------------------------------------------
# Workbook parts


def _normal(name: str) -> str:
    return name.replace("\\", "/").lstrip("/").lower()


def _is_shared_strings(name: str) -> bool:
    return _normal(name).endswith("sharedstrings.xml")


def _is_naming_part(name: str) -> bool:
    n = _normal(name)
    return n.endswith("workbook.xml") or n.endswith("workbook.xml.rels")


class _Sink:
    """Receives one part's inflated bytes, chunk by chunk."""

    def feed(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _Workbook:
    """What the parts of one workbook tell about each other: sheet names, shared-string lengths, expanded text."""

    def __init__(self, limits: InputLimits) -> None:
        self.limits = limits
        self.sheet_names: dict[str, str] = {}  # normalised part name -> sheet name
        self._workbook_xml = b""
        self._rels_xml = b""
        self.lengths = array("Q")
        self.max_length = 0
        self.expanded = 0

    def sink_for(self, name: str) -> _Sink:
        """Every part is read as a worksheet (a relationship can point a sheet at any part); the shared strings,
        the workbook and its relationships are also read for what they are."""
        n = _normal(name)
        sheet = _SheetSink(self, name)
        if n.endswith("workbook.xml.rels"):
            return _Collect(self, "rels", then=sheet)
        if n.endswith("workbook.xml"):
            return _Collect(self, "workbook", then=sheet)
        if _is_shared_strings(name):
            return _Tee(_SharedStringsSink(self), sheet)
        return sheet

    def merge_lengths(self, lengths: array[int]) -> None:
        """Another shared-strings part: each index keeps the longest string any of them has there."""
        for i, n in enumerate(lengths):
            if i < len(self.lengths):
                if n > self.lengths[i]:
                    self.lengths[i] = n
            else:
                self.lengths.append(n)
            if n > self.max_length:
                self.max_length = n

    def collected(self, kind: str, data: bytes) -> None:
        if kind == "rels":
            self._rels_xml = data
        else:
            self._workbook_xml = data
        if self._rels_xml and self._workbook_xml:
            self._name_sheets()

    def _name_sheets(self) -> None:
        attr = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
        targets = {}
        for tag in re.findall(rb"<(?:\w+:)?Relationship\b([^>]*)>", self._rels_xml):
            attrs = dict(attr.findall(tag))
            if b"Id" in attrs and b"Target" in attrs:
                targets[attrs[b"Id"]] = attrs[b"Target"].decode("utf-8", errors="replace")
        for tag in re.findall(rb"<(?:\w+:)?sheet\b([^>]*)>", self._workbook_xml):
            attrs = dict(attr.findall(tag))
            rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
            name = attrs.get(b"name")
            target = targets.get(rid) if rid is not None else None
            if name is None or target is None:
                continue
            shown = _xml_unescape(name.decode("utf-8", errors="replace"))
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            self.sheet_names[_normal(_resolve(part))] = shown

    def sheet(self, part: str) -> str | None:
        return self.sheet_names.get(_normal(part))

    def add_expansion(self, n: int, sheet: str | None) -> None:
        self.expanded += n
        if self.expanded > self.limits.max_text_total:
            raise _refuse(
                "text_expansion_too_large",
                f"工作簿的单元格文本（共享字符串按引用次数展开后）超过 {_size(self.limits.max_text_total)} 的上限"
                "（同一长文本被大量单元格引用，可能是恶意构造的文件）",
                sheet,
            )


def _resolve(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _xml_unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")).replace(
        "&amp;", "&"
    )


class _Tee(_Sink):
    def __init__(self, *sinks: _Sink) -> None:
        self.sinks = sinks

    def feed(self, data: bytes) -> None:
        for sink in self.sinks:
            sink.feed(data)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


class _Collect(_Sink):
    """Keeps a small part (the workbook and its relationships, for sheet names); passes it on to ``then``."""

    def __init__(self, book: _Workbook, kind: str, then: _Sink | None = None) -> None:
        self.book, self.kind, self.then = book, kind, then
        self.parts: list[bytes] = []
        self.size = 0

    def feed(self, data: bytes) -> None:
        if self.size <= MIB:
            self.parts.append(data)
        self.size += len(data)
        if self.then is not None:
            self.then.feed(data)

    def close(self) -> None:
        if self.size <= MIB:
            self.book.collected(self.kind, b"".join(self.parts))
        if self.then is not None:
            self.then.close()


class _Decoder:
    """Turns a part's bytes into ASCII-compatible bytes: UTF-16 (BOM or ``<\\0``) is re-encoded as UTF-8.

    Tags can only be written in ASCII in every other encoding the parser accepts, so those bytes are scanned as
    they are."""

    def __init__(self) -> None:
        self._decided = False
        self._decoder: codecs.IncrementalDecoder | None = None
        self._head = b""

    def feed(self, data: bytes, final: bool = False) -> bytes:
        if not self._decided:
            self._head += data
            if len(self._head) < 4 and not final:
                return b""
            data, self._head = self._head, b""
            self._decided = True
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                self._decoder = codecs.getincrementaldecoder("utf-16")("replace")
            elif data.startswith(b"<\x00"):
                self._decoder = codecs.getincrementaldecoder("utf-16-le")("replace")
            elif data.startswith(b"\x00<"):
                self._decoder = codecs.getincrementaldecoder("utf-16-be")("replace")
        if self._decoder is None:
            return data
        return self._decoder.decode(data, final).encode("utf-8")


class _XmlStream(_Sink):
    """Cuts a part into segments that end just before a ``<`` (never inside a tag, comment or CDATA section).

    Every part is read so (the parser accepts any bytes before the first tag, and a relationship may point a sheet
    at any part); outside the region a subclass reads (``reading``), text is dropped rather than carried, so that a
    picture costs nothing."""

    def __init__(self, what: str, sheet: Callable[[], str | None]) -> None:
        self._decoder = _Decoder()
        self._carry = b""
        self._what = what
        self._sheet = sheet
        self.finished = False

    def reading(self) -> bool:
        return True

    def feed(self, data: bytes) -> None:
        if not self.finished:
            self._push(self._decoder.feed(data), final=False)

    def close(self) -> None:
        if not self.finished:
            self._push(self._decoder.feed(b"", final=True), final=True)

    def _push(self, data: bytes, final: bool) -> None:
        buf = self._carry + data if self._carry else data
        if final:
            self._carry = b""
            self.segment(buf, True)
            return
        cut = _safe_cut(buf)
        if cut <= 0:
            if not self.reading():
                self._carry = buf[buf.rfind(b"<") :] if b"<" in buf else b""
                return
            self._carry = buf
            if len(buf) > _CARRY_MAX + 16 * EXCEL_CELL_CHARS:
                raise _refuse(
                    "text_too_long",
                    f"{self._what}中有一段超过 {_size(len(buf))} 的连续内容（文本过长或文件已损坏）",
                    self._sheet(),
                )
            return
        self._carry = buf[cut:]
        self.segment(buf[:cut], False)

    def segment(self, seg: bytes, final: bool) -> None:
        raise NotImplementedError

    def put_back(self, rest: bytes) -> None:
        """Hand the end of a segment back, to be seen again with the next one (an unfinished row)."""
        self._carry = rest + self._carry


def _safe_cut(buf: bytes) -> int:
    """The last ``<`` of ``buf`` that is outside any comment or CDATA section (or the start of the section it is
    in): the bytes before it hold only whole tags and whole sections."""
    cut = buf.rfind(b"<")
    if cut <= 0 or b"<!" not in buf:
        return cut
    for opener, closer in ((b"<![CDATA[", b"]]>"), (b"<!--", b"-->")):
        at = buf.rfind(opener, 0, cut + 1)
        while at >= 0:
            close = buf.find(closer, at + len(opener))
            if close < 0 or close + len(closer) > cut:
                cut = at  # the cut is inside this section (or the section is unfinished): cut before it
                at = buf.rfind(opener, 0, at)
            else:
                break
    return cut


# The exact tokenizer: CDATA, comments, processing instructions and declarations, tags (attribute values may hold
# ">"), and text.
_TOKEN = re.compile(
    rb"<!\[CDATA\[(.*?)\]\]>"
    rb"|<!--.*?-->"
    rb"|<[?!][^>]*>"
    rb"|<(/?)((?:[A-Za-z_][\w.\-]*:)?)([A-Za-z_][\w.\-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
    rb"|([^<]+)",
    re.DOTALL,
)
_ATTR = re.compile(rb"([^\s=/>\"']+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _attrs(raw: bytes) -> list[tuple[bytes, bytes]]:
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3)) for m in _ATTR.finditer(raw)]


class _Event:
    """One tag token as the parser's events: an empty element (``<x/>``) is a start and an end (the parser reads
    with ``expand_empty_elements``)."""

    __slots__ = ("attrs", "empty", "end", "local", "qname")

    def __init__(self, m: re.Match[bytes]) -> None:
        closing, prefix, local, attrs = m.group(2, 3, 4, 5)
        self.end = bool(closing)
        self.local = local
        self.qname = prefix + local
        self.attrs = attrs
        self.empty = not self.end and attrs.rstrip().endswith(b"/")


class _StringReader:
    """``read_string_with_bufs``: a string (a shared string's ``<si>`` or a cell's ``<is>``) ends at the first end
    tag with the same qualified name that is not inside a ``<t>``; a ``<t>`` ends only at its own end tag (so a
    ``</si>`` inside an unfinished ``<t>`` does not end the string). All text inside counts (an upper bound)."""

    __slots__ = ("closing", "t_name")

    def __init__(self, closing: bytes) -> None:
        self.closing = closing
        self.t_name: bytes | None = None

    def start(self, ev: _Event) -> None:
        if self.t_name is None and ev.local == b"t":
            self.t_name = ev.qname

    def finish(self, ev: _Event) -> bool:
        """Handle an end event; True when it ends the string."""
        if self.t_name is not None:
            if ev.qname == self.t_name:
                self.t_name = None
            return False
        return ev.qname == self.closing


def _events(m: re.Match[bytes]) -> tuple[_Event, bool, bool]:
    """(event, has a start, has an end) of a tag token."""
    ev = _Event(m)
    return ev, not ev.end, ev.end or ev.empty


class _SharedStringsSink(_XmlStream):
    """The shared strings as the parser reads them (``read_shared_strings``): after the ``<sst>`` start element, each
    ``<si>`` start pushes one string (an empty ``<si/>`` too), until the ``</sst>`` end element."""

    def __init__(self, book: _Workbook) -> None:
        super().__init__("共享字符串表", lambda: None)
        self.book = book
        self.limits = book.limits
        self._items = _shared_items(book.limits.max_text_chars)
        self._state = "prolog"  # prolog -> items -> done
        self.lengths = array("Q")
        self._item: _StringReader | None = None
        self._text = _Text(self.limits.max_text_chars)

    def reading(self) -> bool:
        return self._state == "items"

    def segment(self, seg: bytes, final: bool) -> None:
        pos, n = 0, len(seg)
        items = self._items
        while pos < n and self._state != "done":
            if self._state == "items" and self._item is None:
                m = items.match(seg, pos)
                if m is not None and m.end() > pos:
                    if m.group(1) is not None:
                        self._push_length(m.end(1) - m.start(1))
                    pos = m.end()
                    continue
            m = _TOKEN.match(seg, pos)
            if m is None:  # a lone "<" that starts no tag
                raise _refuse("archive_damaged", "共享字符串表的格式错误，为安全起见")
            pos = m.end()
            self._token(m)
        if self._state == "done":
            self.finished = True

    def _token(self, m: re.Match[bytes]) -> None:
        cdata, text = m.group(1), m.group(6)
        if cdata is not None or text is not None:
            if self._item is not None and not self._text.add(cdata if cdata is not None else text):
                raise self._too_long()
            return
        if m.group(4) is None:
            return  # a comment, processing instruction or declaration
        ev, starts, ends = _events(m)
        if starts:
            if self._item is not None:
                self._item.start(ev)
            elif self._state == "prolog" and ev.local == b"sst":
                self._state = "items"
                for key, value in _attrs(ev.attrs):
                    if key == b"uniqueCount":  # the parser reserves this many strings up front
                        if value.isdigit() and int(value) > self.limits.max_shared_strings:
                            raise _refuse(
                                "too_many_shared_strings",
                                f"共享字符串表声明了 {int(value):,} 个字符串，超过 "
                                f"{self.limits.max_shared_strings:,} 个的上限",
                            )
                        break
            elif self._state == "items" and ev.local == b"si":
                self._item = _StringReader(ev.qname)
                self._text = _Text(self.limits.max_text_chars)
        if ends:
            if self._item is not None:
                if self._item.finish(ev):
                    self._item = None
                    self._push_length(self._text.raw)
            elif self._state == "items" and ev.local == b"sst":
                self._state = "done"

    def _push_length(self, raw: int) -> None:
        if len(self.lengths) >= self.limits.max_shared_strings:
            raise _refuse("too_many_shared_strings", f"共享字符串超过 {self.limits.max_shared_strings:,} 个的上限")
        self.lengths.append(raw)

    def _too_long(self) -> _Refused:
        return _refuse(
            "text_too_long",
            f"共享字符串表中有超过 {self.limits.max_text_chars:,} 个字符的文本（Excel 单元格最多 "
            f"{EXCEL_CELL_CHARS:,} 个字符）",
        )

    def close(self) -> None:
        super().close()
        self._item = None  # an unfinished string: the parser fails at the end of the part
        self.book.merge_lengths(self.lengths)


@lru_cache(maxsize=16)
def _shared_items(max_chars: int) -> re.Pattern[bytes]:
    """A plain shared string, ``<si><t>text</t></si>``, or whitespace (group 1: the text)."""
    text = rb"[^<]{0,%d}+" % max_chars
    return re.compile(rb"\s++|<si><t(?: xml:space=\"preserve\")?>(" + text + rb")</t></si>")


@lru_cache(maxsize=16)
def _row_numbers(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"<" + re.escape(prefix) + rb'row r="([0-9]{1,10})"')


@lru_cache(maxsize=1024)
def _wider_cells(prefix: bytes, columns: int) -> re.Pattern[bytes]:
    """A cell reference beyond column ``columns`` (group 1: the reference)."""
    return re.compile(rb"<" + re.escape(prefix) + rb'c r="((?:' + _columns_gt(columns) + rb")[0-9]{1,10})\"")


@lru_cache(maxsize=16)
def _canonical_rows(prefix: bytes, max_rows: int, max_columns: int, max_chars: int) -> re.Pattern[bytes]:
    """A run of whole rows of plain cells, every reference within the limits (group ``r``: the last row's ``r``).

    Every row has ``r`` first; every cell has ``r`` first, only ``s``, ``t``, ``cm``, ``vm``, ``ph`` besides, and
    holds only ``<v>``, ``<is><t>`` (text of at most ``max_chars`` bytes), ``<f>`` and whitespace; a cell that is not
    empty is on its row's own number, within ``max_rows`` and ``max_columns``."""
    p = re.escape(prefix)
    value = rb'"[^"<]*"'
    cell_attrs = rb"(?: (?:s|t|cm|vm|ph)=" + value + rb")*+"
    text = rb"[^<]{0,%d}+" % max_chars
    t = rb"<" + p + rb't(?: xml:space="preserve")?>' + text + rb"</" + p + rb"t>"
    content = (  # whitespace between the tags of a cell (pretty-printed files) is no value for the parser
        rb"(?:<" + p + rb"v>" + text + rb"</" + p + rb"v>"
        rb"|<" + p + rb"is>\s*+" + t + rb"\s*+</" + p + rb"is>"
        rb"|<" + p + rb"f(?: [A-Za-z]+=" + value + rb")*+(?:/>|>[^<]*+</" + p + rb"f>)"
        rb"|\s++)*+"
    )
    # A cell with a value: in bounds, on its row's own number (the lookahead bounds that number). An empty cell
    # (no value for the parser) and the row holding only such cells may have any number.
    ref = _columns_le(max_columns) + rb"(?=" + _digits_le(max_rows) + rb'")(?P=r)'
    value_cell = rb"<" + p + rb'c r="' + ref + rb'"' + cell_attrs + rb">" + content + rb"</" + p + rb"c>"
    empty_cell = rb"<" + p + rb'c r="[A-Za-z]{1,8}[0-9]{1,10}"' + cell_attrs + rb"/>"
    row_attrs = rb"(?: (?!r=)[\w:.\-]+=" + value + rb")*+"
    cells = rb"(?:" + value_cell + rb"|" + empty_cell + rb"|\s++)*+"
    row = rb"<" + p + rb'row r="(?P<r>[0-9]{1,10})"' + row_attrs + rb"(?:/>|>" + cells + rb"</" + p + rb"row>)"
    return re.compile(rb"(?:" + row + rb"|\s++)*+")


class _SheetSink(_XmlStream):
    """One worksheet, read as the parser reads it (``XlsxCellReader``).

    Before ``sheetData`` nothing matters. Then the parser keeps ``row`` (set by a row's ``r``, plus one at each row
    end) and ``col`` (set by a cell's ``r``, plus one at each cell end, zero at each row end); a cell without ``r`` is
    at (row, col). Inside a cell each child (``<v>``, ``<f>``, ``<is>``) is read to its own end, so nothing inside it
    counts as a tag; the cell ends at the next ``</c>``. An empty element is a start and an end. The grid the
    parser allocates spans every cell holding a value, so each such cell must be within the limits."""

    def __init__(self, book: _Workbook, part: str) -> None:
        super().__init__("工作表", lambda: book.sheet(part))
        self.book = book
        self.part = part
        self.limits = book.limits
        self.state = "prolog"  # prolog -> cells -> done
        self.prefix = b""
        self.row = 0
        self.col = 0
        self.in_cell = False
        self.position: tuple[int, int] | None = None  # of the current cell, checked once it holds a value
        self.shared = False
        self.text = _Text(self.limits.max_text_chars)
        self.child: bytes | None = None  # qualified name of the child being read to its end
        self.depth = 0
        self.string: _StringReader | None = None
        self.first_text = False
        # The grid: rows × columns up to the last value. Within ``free_columns`` columns it cannot exceed the limit
        # (rows are bounded anyway); only beyond that are the largest row and column followed.
        self.free_columns = min(self.limits.max_columns, self.limits.max_cells // self.limits.max_rows)
        self.max_row = 0
        self.max_col = 0

    def reading(self) -> bool:
        return self.state == "cells"

    def segment(self, seg: bytes, final: bool) -> None:
        pos = 0
        if self.state == "prolog":
            pos = self._find_sheet_data(seg)
            if pos < 0:
                return
        if self.state == "cells":
            self._cells(seg, pos, final)
        if self.state == "done":
            self.finished = True

    def _find_sheet_data(self, seg: bytes) -> int:
        """After the first ``sheetData`` start tag (the parser's ``XlsxCellReader::new`` stops there)."""
        at = seg.find(b"sheetData")
        while at >= 0:
            lt = seg.rfind(b"<", 0, at)
            head = seg[lt + 1 : at]
            if lt >= 0 and (head == b"" or re.fullmatch(rb"[A-Za-z_][\w.\-]*:", head)):
                m = _TOKEN.match(seg, lt)
                if m is not None and m.group(4) == b"sheetData" and not m.group(2):
                    self.prefix = head
                    self.state = "done" if m.group(5).rstrip().endswith(b"/") else "cells"
                    return m.end()
            at = seg.find(b"sheetData", at + 1)
        return -1

    def _cells(self, seg: bytes, pos: int, final: bool) -> None:
        limits = self.limits
        canonical = _canonical_rows(self.prefix, limits.max_rows, limits.max_columns, limits.max_text_chars)
        row_end = b"</" + self.prefix + b"row>"
        end = len(seg)
        while pos < end and self.state == "cells":
            if not self.in_cell:
                m = canonical.match(seg, pos)
                if m is not None and m.end() > pos:
                    self._canonical_run(seg, pos, m.end(), m.group("r"))
                    pos = m.end()
                    continue
            stop = seg.find(row_end, pos)
            if stop < 0:
                if not final and not self.in_cell and end - pos <= _CARRY_MAX:
                    self.put_back(seg[pos:])  # most likely a row cut by the chunk: see it again, whole
                    return
                stop = end
            else:
                stop += len(row_end)
            pos = self._exact(seg, pos, stop)

    def _canonical_run(self, seg: bytes, start: int, end: int, last_row: bytes | None) -> None:
        if last_row is not None:  # the last row set the counter; its end added one and reset the column
            self.row = int(last_row)
            self.col = 0
        if self.free_columns < self.limits.max_columns:
            self._grid_of_run(seg, start, end)
        shared = seg.count(b't="s"', start, end)
        if shared and self.book.lengths:
            bound = shared * self.book.max_length
            if self.book.expanded + bound <= self.limits.max_text_total:
                self.book.add_expansion(bound, self.book.sheet(self.part))
            else:
                self.book.add_expansion(self._exact_shared(seg, start, end), self.book.sheet(self.part))

    def _grid_of_run(self, seg: bytes, start: int, end: int) -> None:
        """The largest row of a run of plain rows (a cell is on its row's number) and any cell wider than both
        ``free_columns`` and the widest seen so far (one search, found again only when the width grows)."""
        numbers = _row_numbers(self.prefix).findall(seg, start, end)
        if numbers:
            self.max_row = max(self.max_row, max(map(int, numbers)))
        pos = start
        while True:
            m = _wider_cells(self.prefix, max(self.max_col, self.free_columns)).search(seg, pos, end)
            if m is None:
                break
            pos = m.end()
            close = seg.find(b">", pos, end)
            if close > 0 and seg[close - 1 : close] == b"/":
                continue  # an empty cell: no value, no grid
            position = _cell_position(m.group(1))
            if position is not None:
                self.max_col = max(self.max_col, position[1] + 1)
        self._check_grid()

    def _check_grid(self) -> None:
        if self.max_col <= self.free_columns or self.max_row * self.max_col <= self.limits.max_cells:
            return
        sheet = self.book.sheet(self.part)
        raise _refuse(
            "too_many_cells",
            f"工作表{_named(sheet)}的数据范围为 {self.max_row:,} 行 × {self.max_col:,} 列，超过每个工作表 "
            f"{self.limits.max_cells:,} 个单元格的上限（请删除多余的行列，或确认是否选错了文件）",
            sheet,
        )

    def _exact_shared(self, seg: bytes, start: int, end: int) -> int:
        """The text the shared-string cells of a run of plain rows really expand to."""
        lengths, total = self.book.lengths, 0
        v_start, c_end = b"<" + self.prefix + b"v>", b"</" + self.prefix + b"c>"
        at = seg.find(b't="s"', start, end)
        while at >= 0:
            close = seg.find(c_end, at, end)
            v = seg.find(v_start, at, close if close >= 0 else end)
            if v >= 0:
                stop = seg.find(b"<", v + 1, end)
                text = seg[v + len(v_start) : stop].strip()
                if text.isdigit() and int(text) < len(lengths):
                    total += lengths[int(text)]
            at = seg.find(b't="s"', at + 5, end)
        return total

    def _exact(self, seg: bytes, pos: int, stop: int) -> int:
        while pos < stop and self.state == "cells":
            m = _TOKEN.match(seg, pos, stop)
            if m is None:
                raise _refuse("archive_damaged", "工作表的格式错误，为安全起见", self.book.sheet(self.part))
            pos = m.end()
            self._token(m)
        return pos

    def _token(self, m: re.Match[bytes]) -> None:
        cdata, text = m.group(1), m.group(6)
        if cdata is not None or text is not None:
            if self.in_cell:
                self._text_in_cell(cdata if cdata is not None else text)
            return
        if m.group(4) is None:
            return  # a comment, processing instruction or declaration: no event the cell reader acts on
        ev, starts, ends = _events(m)
        if self.child is not None or self.string is not None:
            self._in_child(ev, starts, ends)
        elif self.in_cell:
            if starts:
                self._child_start(ev, ends)
            elif ev.local == b"c":
                self._cell_end()
        else:
            if starts:
                if ev.local == b"row":
                    for key, value in _attrs(ev.attrs):
                        if key == b"r":  # the first r
                            number = _row_number(value)
                            if number is not None:
                                self.row = number
                            break
                elif ev.local == b"c":
                    self._cell_start(ev)
            if ends:
                if ev.local == b"row":
                    self.row += 1
                    self.col = 0
                elif ev.local == b"c" and self.in_cell:
                    self._cell_end()
                elif ev.local == b"sheetData":  # the end of the cells (an empty <sheetData/> too)
                    self.state = "done"

    def _cell_start(self, ev: _Event) -> None:
        ref = t = None
        found = 0
        for key, value in _attrs(ev.attrs):  # get_attrs!: the last value wins until all three have been seen
            if key in (b"r", b"s", b"t"):
                if key == b"r":
                    ref = value
                elif key == b"t":
                    t = value
                found += 1
                if found == 3:
                    break
        self.position = _cell_position(ref) if ref is not None else (self.row, self.col)
        if ref is not None and self.position is not None:
            self.col = self.position[1]
        self.in_cell = True
        self.shared = t == b"s"
        self.text = _Text(self.limits.max_text_chars)

    def _cell_end(self) -> None:
        self.in_cell = False
        self.col += 1

    def _child_start(self, ev: _Event, ends: bool) -> None:
        """A child of a cell: ``<is>`` is read as a string, anything else to its own end tag."""
        if ev.local == b"is":
            self._commit()
            self.string = _StringReader(ev.qname)
        else:
            self.child, self.depth = ev.qname, 1
            self.first_text = ev.local == b"v"
        if ends:
            self._in_child(ev, False, True)

    def _in_child(self, ev: _Event, starts: bool, ends: bool) -> None:
        if self.string is not None:
            if starts:
                self.string.start(ev)
            if ends and self.string.finish(ev):
                self.string = None
            return
        if ev.qname == self.child:
            self.depth += (1 if starts else 0) - (1 if ends else 0)
            if self.depth <= 0:
                self.child = None
                self.first_text = False

    def _text_in_cell(self, piece: bytes) -> None:
        if not self.text.add(piece):
            raise self._too_long()
        if self.first_text:  # the value of <v>: the cell holds a value; a shared string's index
            self.first_text = False
            self._commit()
            if self.shared:
                value = piece.strip()
                if value.isdigit() and int(value) < len(self.book.lengths):
                    self.book.add_expansion(self.book.lengths[int(value)], self.book.sheet(self.part))

    def _commit(self) -> None:
        if self.position is not None:
            self._at(self.position[0] + 1, self.position[1] + 1)
            self.position = None

    def _at(self, row: int, col: int) -> None:
        limits, sheet = self.limits, self.book.sheet(self.part)
        self.max_row, self.max_col = max(self.max_row, row), max(self.max_col, col)
        if row > limits.max_rows:
            raise _refuse(
                "too_many_rows",
                f"工作表{_named(sheet)}有数据到第 {row:,} 行，超过每个工作表 {limits.max_rows:,} 行的上限"
                "（请删除多余的行，或确认是否选错了文件）",
                sheet,
            )
        if col > limits.max_columns:
            raise _refuse(
                "too_many_columns",
                f"工作表{_named(sheet)}有数据到第 {col:,} 列（{_letters(col)} 列），超过每个工作表 "
                f"{limits.max_columns:,} 列的上限（请删除多余的列，或确认是否选错了文件）",
                sheet,
            )
        self._check_grid()

    def _too_long(self) -> _Refused:
        sheet = self.book.sheet(self.part)
        return _refuse(
            "text_too_long",
            f"工作表{_named(sheet)}中有单元格的文本超过 {self.limits.max_text_chars:,} 个字符的上限"
            f"（Excel 单元格最多 {EXCEL_CELL_CHARS:,} 个字符）",
            sheet,
        )


def _named(sheet: str | None) -> str:
    return f"「{sheet}」" if sheet else ""


# ----------------------------------------------------------------------------------------------------------------------
# CSV


def _csv_chunks(src: _Source) -> Iterator[bytes]:
    """The file as ASCII-compatible bytes: UTF-16 (with its BOM) is re-encoded as UTF-8, anything else is kept
    (UTF-8 and GB18030 never use the bytes of separators, quotes or line ends inside a character)."""
    head = bytes(src.read(0, 2))
    if head in (b"\xff\xfe", b"\xfe\xff"):
        decoder = codecs.getincrementaldecoder("utf-16")("replace")
        for piece in src.chunks():
            yield decoder.decode(bytes(piece)).encode("utf-8")
        yield decoder.decode(b"", True).encode("utf-8")
        return
    for piece in src.chunks():
        yield bytes(piece)


def _separator(first_line: bytes) -> bytes:
    """As the reader chooses it: comma, unless the first line has none but has tabs or semicolons."""
    if b"," in first_line:
        return b","
    best = max((b"\t", b";"), key=first_line.count)
    return best if best in first_line else b","


def _check_csv(src: _Source, limits: InputLimits) -> None:
    """Lines (count, length) in one pass; then the width of the first record, which the CSV parser gives every row."""
    line, length, quotes = 1, 0, False
    head: list[bytes] = []
    head_size, head_cap = 0, 3 + 2 * limits.max_rows + limits.max_line_bytes + 2  # BOM, blank lines, first line
    max_line = limits.max_line_bytes
    for chunk in _csv_chunks(src):
        if head_size < head_cap:
            head.append(chunk[: head_cap - head_size])
            head_size += len(head[-1])
        quotes = quotes or b'"' in chunk
        pos, n = 0, len(chunk)
        while pos < n:
            nl = chunk.find(b"\n", pos, pos + max_line - length + 1)
            if nl < 0:
                length += n - pos
                if length > max_line:
                    raise _line_too_long(line, limits)
                break
            line += 1
            if line - 1 > limits.max_rows:
                raise _refuse(
                    "too_many_rows",
                    f"CSV 文件超过 {limits.max_rows:,} 行的上限（请删除多余的行，或确认是否选错了文件）",
                )
            length, pos = 0, nl + 1
    body = b"".join(head)
    start = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    if body[start : start + 1] in (b"\r", b"\n"):  # as the reader does: leading blank lines (and the BOM) dropped
        body = body[start:].lstrip(b"\r\n")
    if not body.strip():
        return
    first = body.split(b"\n", 1)[0]
    sep = _separator(body[:65_536].split(b"\n", 1)[0])
    width = first.count(sep) + 1
    if quotes:
        width = max(width, _csv_records(src, sep, limits))
    if width > limits.max_columns:
        raise _refuse(
            "too_many_columns",
            f"CSV 文件的表头有 {width:,} 列，超过 {limits.max_columns:,} 列的上限（请确认是否选错了文件）",
        )


def _line_too_long(line: int, limits: InputLimits) -> _Refused:
    return _refuse(
        "line_too_long",
        f"CSV 文件第 {line:,} 行超过 {_size(limits.max_line_bytes)} 的上限（单元格内容过长，或不是逐行的表格文件）",
    )


def _csv_records(src: _Source, sep: bytes, limits: InputLimits) -> int:
    """Read the file record by record as the standard library's CSV reader does (a quote starts a field that may
    hold separators and line ends; the reader's own error path reads it so); return the first record's width.
    A record is cut off once its lines hold more than ``max_line_bytes // 8`` separators, so that no record can
    take more memory than that in the error path."""
    budget = max(limits.max_line_bytes // 8, limits.max_columns)
    pending = 0

    def too_large() -> _Refused:
        return _refuse(
            "line_too_long",
            f"CSV 文件中有一条记录超过 {budget:,} 个分隔符的上限（可能引号不成对，或不是逐行的表格文件）",
        )

    def lines() -> Iterator[str]:
        nonlocal pending
        carry = b""
        for chunk in _csv_chunks(src):
            parts = (carry + chunk).split(b"\n")
            carry = parts.pop()
            for part in parts:
                pending += part.count(sep)
                if pending > budget:
                    raise too_large()
                yield (part + b"\n").decode("latin-1")
        if carry:
            pending += carry.count(sep)
            if pending > budget:
                raise too_large()
            yield carry.decode("latin-1")

    width: int | None = None
    try:
        for record in csv.reader(lines(), delimiter=sep.decode("latin-1")):
            pending = 0
            if width is None and record:  # leading blank lines are dropped by the reader before the header
                width = len(record)
    except csv.Error:
        pass  # the reader's own error path stops at the same place
    return width or 0


# ----------------------------------------------------------------------------------------------------------------------
# OLE (.xls)


def _u32(data: bytes) -> array[int]:
    """Little-endian 32-bit unsigned integers (a trailing partial one is dropped, as the parser does)."""
    out = array("I")
    out.frombytes(data[: len(data) // 4 * 4])
    if sys.byteorder == "big":
        out.byteswap()
    return out


_END_OF_CHAIN: Final = 0xFFFFFFFE
_RESERVED: Final = 0xFFFFFFFA
_DIF_SECT: Final = 0xFFFFFFFC


def _xls_damaged(detail: str) -> _Refused:
    return _refuse("xls_damaged", f"Excel 97-2003 工作簿（.xls）的结构异常（{detail}），可能已损坏或被篡改，为安全起见")


class _Cfb:
    """The compound file as the parser (calamine's ``Cfb``) reads it, with every loop it could enter bounded."""

    def __init__(self, src: _Source, limits: InputLimits) -> None:
        self.src = src
        header = bytes(src.read(0, 512))
        self.ok = len(header) == 512 and header[:8] == _OLE_MAGIC
        if not self.ok:
            return
        shift, mini_shift = struct.unpack_from("<2H", header, 30)
        if shift not in (9, 12) or mini_shift != 6 or src.size < (1 << shift):
            self.ok = False  # the parser refuses the header itself
            return
        self.size = 1 << shift
        self.version = struct.unpack_from("<H", header, 26)[0]
        self.maxid = src.size // self.size
        fat_len, self.dir_start = struct.unpack_from("<2L", header, 44)
        self.mini_fat_start, self.mini_fat_len, difat_start = struct.unpack_from("<3L", header, 60)
        (difat_len,) = struct.unpack_from("<L", header, 62)  # the parser reads this field at offset 62
        if fat_len > self.maxid + 1:
            raise _xls_damaged(f"FAT 扇区数 {fat_len:,} 超过文件可容纳的数量")
        if difat_len > max(self.maxid + 1, 1 << 22):
            raise _xls_damaged("DIFAT 长度字段异常")
        difat = _u32(header[76:512])
        sector, steps = difat_start, 0
        while sector < _RESERVED:
            steps += 1
            if steps > self.maxid // 127 + 2:
                raise _xls_damaged("DIFAT 扇区链循环")
            data = self.sector(sector)
            if data is None:
                self.ok = False
                return
            difat.extend(_u32(data))
            if not difat:
                self.ok = False
                return
            sector = difat.pop()
        self.fats = array("I")
        for sid in difat:
            if sid < _DIF_SECT:
                data = self.sector(sid)
                if data is None:
                    self.ok = False
                    return
                self.fats.extend(_u32(data))
        dirs = self.chain(self.dir_start, self.fats, None)
        if dirs is None:
            self.ok = False
            return
        self.dirs: list[tuple[str, int, int]] = []
        for at in range(0, len(dirs) - 127, 128):
            name = dirs[at : at + 64].decode("utf-16-le", errors="replace").split("\0", 1)[0]
            (start,) = struct.unpack_from("<L", dirs, at + 116)
            length = struct.unpack_from("<L" if self.size == 512 else "<Q", dirs, at + 120)[0]
            self.dirs.append((name, start, length))
        if not self.dirs or (self.version != 3 and self.dirs[0][1] == _END_OF_CHAIN):
            self.ok = False
            return
        self.mini_fats = array("I")
        self.ministream = b""
        if self.mini_fat_len > 0:
            ministream = self.chain(self.dirs[0][1], self.fats, self.dirs[0][2])
            minifat = self.chain(self.mini_fat_start, self.fats, self.mini_fat_len * self.size)
            if ministream is None or minifat is None:
                self.ok = False
                return
            self.ministream = ministream
            self.mini_fats = _u32(minifat)

    def sector(self, sid: int) -> bytes | None:
        """Sector ``sid`` (after the header), short at the end of the file; None where the parser fails."""
        if sid > self.maxid:
            return None
        return bytes(self.src.read((sid + 1) * self.size, self.size))

    def chain(self, sid: int, fats: array[int], length: int | None) -> bytes | None:
        """A sector chain as ``Sectors::get_chain`` reads it; a loop the parser would follow forever is refused."""
        out = bytearray()
        steps = 0
        while sid != _END_OF_CHAIN:
            steps += 1
            if steps > self.maxid + 2:
                raise _xls_damaged("扇区链循环")
            data = self.sector(sid)
            if data is None:
                return None
            if length is not None:
                data = data[: length - len(out)]
            out += data
            if length is not None and len(out) >= length:
                break
            if sid >= len(fats):
                return None  # the parser panics (caught: the file is reported as unreadable)
            sid = fats[sid]
        return bytes(out)

    def mini_chain(self, sid: int, length: int) -> bytes | None:
        out = bytearray()
        steps = 0
        while sid != _END_OF_CHAIN:
            steps += 1
            if steps > len(self.ministream) // 64 + 2:
                raise _xls_damaged("短扇区链循环")
            start = sid * 64
            if start + 64 > len(self.ministream):
                raise _xls_damaged("短扇区超出短流")
            out += self.ministream[start : start + 64][: length - len(out)]
            if len(out) >= length:
                break
            if sid >= len(self.mini_fats):
                return None
            sid = self.mini_fats[sid]
        return bytes(out)

    def stream(self, name: str) -> bytes | None:
        entry = next((d for d in self.dirs if d[0] == name), None)
        if entry is None:
            return None
        _, start, length = entry
        if length < 4096:
            return self.mini_chain(start, length)
        return self.chain(start, self.fats, length)


def _check_cfb(src: _Source, limits: InputLimits) -> None:
    cfb = _Cfb(src, limits)
    if not cfb.ok:
        return
    for name in ("Workbook", "Book", "WORKBOOK", "BOOK"):  # the parser's order; it falls through on failure
        stream = cfb.stream(name)
        if stream is not None:
            _check_biff(stream, limits)
            return


class _Record:
    __slots__ = ("conts", "data", "typ")

    def __init__(self, typ: int, data: bytes, conts: list[bytes]) -> None:
        self.typ, self.data, self.conts = typ, data, conts


def _records(stream: bytes, pos: int, limits: InputLimits) -> Iterator[_Record]:
    """``RecordIter``: records with their ``CONTINUE`` records attached; stops where the parser fails."""
    n = len(stream)
    cap = 16 + n // 4096  # the parser takes CONTINUE records one by one from the front of a list: quadratic
    while pos + 4 <= n:
        typ, length = struct.unpack_from("<2H", stream, pos)
        if pos + 4 + length > n:
            return
        data = stream[pos + 4 : pos + 4 + length]
        pos += 4 + length
        conts: list[bytes] = []
        while pos + 4 < n and struct.unpack_from("<H", stream, pos)[0] == 0x003C:
            (clen,) = struct.unpack_from("<H", stream, pos + 2)
            if pos + 4 + clen > n:
                return
            conts.append(stream[pos + 4 : pos + 4 + clen])
            pos += 4 + clen
            if len(conts) > cap:
                raise _xls_damaged(f"一条记录带有超过 {cap:,} 条续记录")
        yield _Record(typ, data, conts)


def _sst_lengths(record: _Record, limits: InputLimits) -> array[int] | None:
    """UTF-8 bytes (3 per UTF-16 unit, an upper bound) of every string of the SST record, read as the parser reads
    it across ``CONTINUE`` records; None where the parser fails."""
    data, conts, at = record.data[8:], record.conts, 0
    lengths = array("Q")
    if len(record.data) < 8:
        return None

    def take_cont() -> bool:
        nonlocal data, at
        if at >= len(conts):
            return False
        data, at = conts[at], at + 1
        return True

    def skip(n: int) -> bool:
        nonlocal data
        while n > 0:
            if not data and not take_cont():
                return False
            step = min(n, len(data))
            data = data[step:]
            n -= step
        return True

    while data or take_cont():
        if not data:
            lengths.append(0)
            continue
        if len(data) < 3:
            return None
        cch, flags = struct.unpack_from("<HB", data)
        data = data[3:]
        runs = ext = 0
        if flags & 0x8:
            if len(data) < 2:
                return None
            (runs,) = struct.unpack_from("<H", data)
            data = data[2:]
        if flags & 0x4:
            if len(data) < 4:
                return None
            (ext,) = struct.unpack_from("<l", data)
            data = data[4:]
            if ext < 0:
                return None
        if cch > limits.max_text_chars:
            raise _refuse(
                "text_too_long",
                f"工作簿的共享字符串中有超过 {limits.max_text_chars:,} 个字符的文本（Excel 单元格最多 "
                f"{EXCEL_CELL_CHARS:,} 个字符）",
            )
        high = bool(flags & 0x1)
        left = cch
        while left > 0:
            width = 2 if high else 1
            got = min(len(data) // width, left)
            data = data[got * width :]
            left -= got
            if left > 0:
                if not take_cont() or not data:
                    return None
                high = bool(data[0] & 0x1)
                data = data[1:]
        if not skip(runs * 4) or not skip(ext):
            return None
        lengths.append(3 * cch)
        if len(lengths) > limits.max_shared_strings:
            raise _refuse("too_many_shared_strings", f"共享字符串超过 {limits.max_shared_strings:,} 个的上限")
    return lengths


_XLS_CELLS: Final = frozenset({0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006})


def _check_biff(stream: bytes, limits: InputLimits) -> None:
    sheets: list[tuple[int, str]] = []
    lengths: array[int] = array("Q")
    for record in _records(stream, 0, limits):
        if record.typ == 0x0085:
            if len(record.data) < 8:
                return
            (pos,) = struct.unpack_from("<L", record.data)
            if record.data[4] & 0x3F > 2 or record.data[5] not in (0, 1, 2, 6):
                return  # the parser stops at an unknown sheet state or type
            cch = record.data[6]
            raw = record.data[8 : 8 + 2 * cch] if record.data[7] & 1 else record.data[8 : 8 + cch]
            name = raw.decode("utf-16-le" if record.data[7] & 1 else "latin-1", errors="replace")
            sheets.append((pos, name))
        elif record.typ == 0x00FC:
            parsed = _sst_lengths(record, limits)
            if parsed is None:
                return
            lengths = parsed
        elif record.typ == 0x000A:
            break
    seen: set[int] = set()
    grid = expanded = 0
    budget = limits.max_cells
    for pos, name in sheets:
        if pos in seen:
            raise _xls_damaged("多个工作表指向同一位置")
        seen.add(pos)
        if pos > len(stream):
            return  # the parser panics on the slice (reported as unreadable)
        cells, text = _biff_sheet(stream, pos, name, lengths, limits)
        grid += cells
        expanded += text
        if grid > budget:
            raise _refuse(
                "too_many_cells",
                f"工作簿各工作表的数据范围合计超过 {budget:,} 个单元格的上限（解析时所有工作表同时载入；"
                "请删除多余的行列，或确认是否选错了文件）",
                name,
            )
        if expanded > limits.max_text_total:
            raise _refuse(
                "text_expansion_too_large",
                f"工作簿的单元格文本（共享字符串按引用次数展开后）超过 {_size(limits.max_text_total)} 的上限"
                "（同一长文本被大量单元格引用，可能是恶意构造的文件）",
                name,
            )


def _biff_sheet(stream: bytes, pos: int, name: str, lengths: array[int], limits: InputLimits) -> tuple[int, int]:
    """(grid cells, expanded shared text) of one sheet substream, refusing what is over the limits."""
    top = left = 1 << 40
    bottom = right = -1
    expanded = 0
    seen_bof, depth = False, 0
    formula_at = (0, 0)

    def at(row: int, col: int) -> None:
        nonlocal top, left, bottom, right
        if row + 1 > limits.max_rows:
            raise _refuse(
                "too_many_rows",
                f"工作表「{name}」有数据到第 {row + 1:,} 行，超过每个工作表 {limits.max_rows:,} 行的上限",
                name,
            )
        if col + 1 > limits.max_columns:
            raise _refuse(
                "too_many_columns",
                f"工作表「{name}」有数据到第 {col + 1:,} 列，超过每个工作表 {limits.max_columns:,} 列的上限",
                name,
            )
        top, left = min(top, row), min(left, col)
        bottom, right = max(bottom, row), max(right, col)

    for record in _records(stream, pos, limits):
        typ, data = record.typ, record.data
        if depth > 0:
            if typ == 0x0809:
                depth += 1
            elif typ == 0x000A:
                depth -= 1
            continue
        if typ == 0x0809:
            if seen_bof:
                depth += 1
            seen_bof = True
        elif typ == 0x000A:
            break
        elif typ == 0x0200:
            if len(data) == 10:
                rf, rl, cf, cl = struct.unpack_from("<4H", data)
            elif len(data) == 14:
                rf, rl, cf, cl = struct.unpack_from("<2L2H", data)
            else:
                break
            if cf > 0xFF or cl < cf:
                cf = 0
            end_row, end_col = (rl - 1, cl - 1) if rl >= 1 and cl >= 1 else (rf, cf)
            rows = (end_row - rf + 1) & 0xFFFFFFFF
            cols = (end_col - cf + 1) & 0xFFFFFFFF
            if rows > limits.max_rows or cols > limits.max_columns or rows * cols > limits.max_cells:
                raise _refuse(
                    "too_many_rows"
                    if rows > limits.max_rows
                    else "too_many_columns"
                    if cols > limits.max_columns
                    else "too_many_cells",
                    f"工作表「{name}」声明的范围为 {rows:,} 行 × {cols:,} 列，超过每个工作表 {limits.max_rows:,} 行、"
                    f"{limits.max_columns:,} 列、{limits.max_cells:,} 个单元格的上限",
                    name,
                )
        elif typ in _XLS_CELLS:
            if len(data) < 4:
                break
            row, col = struct.unpack_from("<2H", data)
            if typ == 0x0006:
                formula_at = (row, col)
            if typ == 0x00FD:
                if len(data) < 10:
                    break
                (index,) = struct.unpack_from("<L", data, 6)
                if index >= len(lengths):
                    continue  # the parser skips a reference to no string
                expanded += lengths[index]
            at(row, col)
        elif typ == 0x0207:
            at(*formula_at)
        elif typ == 0x00BD:
            if len(data) < 6:
                break
            row, first = struct.unpack_from("<2H", data)
            (last,) = struct.unpack_from("<H", data, len(data) - 2)
            count = (len(data) - 6) // 6
            if last < first or len(data) != 6 + 6 * (last - first + 1):
                break
            if count:
                at(row, first)
                at(row, first + count - 1)
    cells = (bottom - top + 1) * (right - left + 1) if bottom >= 0 else 0
    return cells, expanded
