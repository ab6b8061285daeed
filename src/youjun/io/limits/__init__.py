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

The modules, by format: ``presets`` (``InputLimits``, ``WEB_LIMITS``, ``CLI_LIMITS``), ``source`` (the bytes by
offset), ``zip`` (the container), ``ooxml`` (the workbook's parts and shared strings), ``worksheet`` (one sheet's
XML), ``xmlscan`` (streaming XML and text lengths), ``bounds`` (cell references), ``ole`` (``.xls``), ``csv``,
``refusal`` (how a check stops). ``_check_zip``, ``_check_cfb`` and ``_check_csv`` are looked up here when a file is
checked, so a test may replace them on this module.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import IO

from youjun.errors import Location, Problem
from youjun.io.limits.csv import check_csv as _check_csv
from youjun.io.limits.ole import OLE_MAGIC
from youjun.io.limits.ole import check_cfb as _check_cfb
from youjun.io.limits.presets import CLI_LIMITS, EXCEL_CELL_CHARS, GIB, KIB, MIB, WEB_LIMITS, InputLimits
from youjun.io.limits.refusal import Refused, size_text
from youjun.io.limits.source import ByteSource
from youjun.io.limits.zip import check_zip as _check_zip

__all__ = [
    "CLI_LIMITS",
    "EXCEL_CELL_CHARS",
    "GIB",
    "KIB",
    "MIB",
    "WEB_LIMITS",
    "InputLimits",
    "check_archive",
    "check_file_size",
    "check_input",
]


def check_file_size(size: int, suffix: str, limits: InputLimits, *, file: str | None = None) -> Problem | None:
    """A problem if a file of ``size`` bytes with ``suffix`` is over its limit (checked before reading it)."""
    limit = limits.file_bytes(suffix)
    if size <= limit:
        return None
    return Problem(
        "file_too_large",
        f"文件大小 {size_text(size)} 超过 {size_text(limit)} 的上限（请检查是否选错了文件），未导入",
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
        with ByteSource.open(data) as src:
            limit = limits.file_bytes(suffix)
            if src.size > limit:
                problem = check_file_size(src.size, suffix, limits, file=file)
                assert problem is not None
                return [_with_verb(problem, verb)]
            if suffix.lower() == ".csv":
                _check_csv(src, limits)
            else:  # the parser tries the file as OLE first, then as ZIP (whatever its name): so do both checks
                if bytes(src.read(0, 8)) == OLE_MAGIC:
                    _check_cfb(src, limits)
                _check_zip(src, limits, contents=True)
    except Refused as exc:
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
        with ByteSource.open(data) as src:
            _check_zip(src, limits, contents=False)
    except Refused as exc:
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
