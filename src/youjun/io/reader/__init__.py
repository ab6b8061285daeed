"""Read and validate the annual school workbook (学校年度数据表), data-contract.md §1.

``read_school_data`` reads one or more ``.xlsx`` / ``.xlsm`` / ``.xls`` workbooks or ``.csv`` files (one
file per sheet), checks every cell and every row, and returns typed polars frames. An import succeeds whole
or raises one ``YoujunError`` carrying every hard error found (plus the warnings); bad input never surfaces
as a traceback.

Everything is vectorised: each column is parsed by one polars expression over all rows, and only the cells
it rejects get the costlier cleaning (strip, NFKC, separators); row checks are one table of polars
expressions (``RowCheck``) evaluated over all rows of all files at once; ``Problem`` objects are built only
for failing cells. A clean school CSV skips the text altogether (``fastcsv``): its numbers are parsed by the CSV
parser, held to the same rules, and the sheet is read as text only when it is not clean or a row check reports one of
its rows (a problem shows the cell as the user typed it).

The steps, each in its own module:

* here: each file's kind, the same file given twice, and the input limits (``youjun.io.limits``), checked before
  any parser sees the file;
* ``sources``: a file into grids of text (encodings, CSV separator, which sheets of a workbook; a parser panic is
  a damaged file);
* ``fastcsv``: a clean school CSV read typed instead, or declined (then it is read as text);
* ``headers``: the header row is matched to the template's columns (``normalize_header``);
* ``cells``: every cell parsed into a typed value, or a cell problem;
* ``sheet``: one sheet from its grid to a typed frame with provenance;
* ``checks``: the row checks, declared in ``checks.toml`` (``declared``, ``expressions``) with thresholds from
  ``plausibility.toml`` (``plausibility``), and in code where a check looks at other rows (``rowchecks`` runs
  them);
* ``problems``: every problem in the order of the files, listing capped at ``MAX_LISTED_PROBLEMS``; the rest
  are counted in one summary problem so that a wholly wrong file cannot exhaust memory.

``MAX_LISTED_PROBLEMS``, ``check_input`` and ``check_file_size`` are looked up here when a file is read, so a
test or a benchmark may replace them on this module.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from youjun.contract import COUNTY_COLUMNS, COUNTY_SHEET, SCHOOL_COLUMNS, SCHOOL_SHEET
from youjun.errors import Location, Problem, YoujunError
from youjun.io.limits import CLI_LIMITS, InputLimits, check_file_size, check_input
from youjun.io.reader.checks import (
    COUNTY_PART_WHOLE,
    SCHOOL_PART_WHOLE,
    county_checks,
    cross_sheet_checks,
    prepare_schools,
    rows_without_county_flagged,
    school_checks,
)
from youjun.io.reader.declared import CHECKS_FILE, CheckRules, load_checks
from youjun.io.reader.headers import normalize_header
from youjun.io.reader.plausibility import PLAUSIBILITY_FILE, Plausibility, load_plausibility
from youjun.io.reader.problems import MAX_LISTED_PROBLEMS, Sink, Source
from youjun.io.reader.rowchecks import RowCheck, check_flags, run_checks
from youjun.io.reader.sheet import PROVENANCE_COLUMNS, as_text, concat, validate_sheet
from youjun.io.reader.sources import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    RawSheet,
    SheetKind,
    file_order,
    read_bytes,
    read_csv,
    read_excel,
)

__all__ = [
    "CHECKS_FILE",
    "COUNTY_PART_WHOLE",
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "MAX_LISTED_PROBLEMS",
    "PLAUSIBILITY_FILE",
    "PROVENANCE_COLUMNS",
    "SCHOOL_PART_WHOLE",
    "CheckRules",
    "Plausibility",
    "RowCheck",
    "SchoolData",
    "county_checks",
    "load_checks",
    "load_plausibility",
    "normalize_header",
    "read_school_data",
    "school_checks",
]


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


#: Problems about finding the school sheet: beside the point when only the county sheet is read.
_SCHOOL_SHEET_PROBLEMS = frozenset({"missing_school_sheet", "school_sheet_guessed", "no_school_data"})


def read_school_data(
    paths: Sequence[str | os.PathLike[str]],
    *,
    plausibility: Plausibility | None = None,
    county_only: bool = False,
    limits: InputLimits | None = None,
    checks: CheckRules | None = None,
) -> SchoolData:
    """Read, check and concatenate school (and county) data from workbooks or CSV files.

    Raises ``YoujunError`` with every hard error (and the warnings) if any hard error exists; otherwise
    returns the typed frames and the warnings. ``county_only`` reads just the county sheet (``县级指标``) with its
    checks, ignoring any school sheet; ``schools`` is then empty, and a file without a county sheet is an error.
    Every file is first held to ``limits`` (default ``CLI_LIMITS``; the web passes ``WEB_LIMITS``): its size before
    it is read, then its bytes before any parser sees them (``youjun.io.limits``); a refused file is not parsed.
    The row checks are ``checks`` (default: the packaged ``checks.toml``) with the thresholds ``plausibility``
    (default: the packaged ``plausibility.toml``).
    """
    guard = limits if limits is not None else CLI_LIMITS
    thresholds = plausibility if plausibility is not None else load_plausibility()
    rules = checks if checks is not None else load_checks()
    sink = Sink(MAX_LISTED_PROBLEMS)
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not given:
        raise YoujunError.single("no_input", "没有指定数据文件")

    raws: list[RawSheet] = []
    seen: dict[Path, str] = {}
    for file_index, item in enumerate(given):
        raws += _read_file(os.fspath(item), file_index, guard, seen, sink)
    if county_only:
        raws = [r for r in raws if r.kind == "county"]
        sink.drop(_SCHOOL_SHEET_PROBLEMS)
        if not raws and not sink.has_error:
            message = f"没有找到县级指标：请提供含「{COUNTY_SHEET}」工作表的工作簿或文件名含“县级指标”的 CSV 文件"
            sink.add(Problem("no_county_data", message))
    sources, parts, typed = _validate_sheets(raws, sink)
    if county_only and not parts["county"] and not sink.has_error:
        sink.add(Problem("no_county_data", f"「{COUNTY_SHEET}」表没有数据行"))
    if not county_only and not any(r.kind == "school" for r in raws) and not sink.has_error:
        message = f"没有找到学校数据：请提供含「{SCHOOL_SHEET}」工作表的工作簿或学校 CSV 文件"
        sink.add(Problem("no_school_data", message))

    params = thresholds.values()
    schools = concat(parts["school"], SCHOOL_COLUMNS)
    counties = concat(parts["county"], COUNTY_COLUMNS) if parts["county"] else None
    if schools.height:
        schools = prepare_schools(schools)
        row_checks = school_checks(thresholds, rules)
        flags = check_flags(schools, row_checks)
        if typed and (any(flags.sum().row(0)) or rows_without_county_flagged(schools, counties)):
            # A problem shows the cell as typed: the sheets read typed (fastcsv) are read again as text.
            for at, raw in typed:
                validated = _validate_sheet(as_text(raw), sources, at[1], sink)
                parts["school"][at[0]] = validated if validated is not None else parts["school"][at[0]].clear()
            schools = prepare_schools(concat(parts["school"], SCHOOL_COLUMNS))
            flags = check_flags(schools, row_checks)
        run_checks(schools, row_checks, sources, SCHOOL_COLUMNS, params, sink, flags)
    if counties is not None:
        run_checks(counties, county_checks(thresholds, rules), sources, COUNTY_COLUMNS, params, sink)
        if not county_only:
            cross_sheet_checks(schools, counties, sources, params, sink)

    errors, warnings = sink.result()
    if errors:
        raise YoujunError([*errors, *warnings])
    output = [*(c.key for c in SCHOOL_COLUMNS), *PROVENANCE_COLUMNS]
    return SchoolData(
        schools=schools.select(output),
        counties=None if counties is None else counties.select(*(c.key for c in COUNTY_COLUMNS), *PROVENANCE_COLUMNS),
        warnings=tuple(warnings),
    )


def _read_file(shown: str, file_index: int, guard: InputLimits, seen: dict[Path, str], sink: Sink) -> list[RawSheet]:
    """The sheets of one file, after its kind, its identity (the same file twice) and its limits are checked."""
    path = Path(shown)
    suffix = path.suffix.lower()
    order = file_order(file_index)
    where = Location(file=shown)
    if suffix not in EXCEL_SUFFIXES + CSV_SUFFIXES:
        supported = "、".join(EXCEL_SUFFIXES + CSV_SUFFIXES)
        message = f"不支持的文件类型「{path.suffix or '（无扩展名）'}」，请使用 {supported} 文件"
        sink.add(Problem("unsupported_format", message, "error", where), order)
        return []
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        resolved = path
    if resolved in seen:
        sink.add(Problem("duplicate_file", f"同一文件被重复指定（与「{seen[resolved]}」相同）", "error", where), order)
        return []
    seen[resolved] = shown
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None  # read_bytes reports it
    oversized = check_file_size(size, suffix, guard, file=shown) if size is not None else None
    if oversized is not None:  # refused before it is read into memory
        sink.add(oversized, order)
        return []
    data = read_bytes(path, shown, file_index, sink)
    if data is None:
        return []
    refused = check_input(data, suffix, guard, file=shown)
    if refused:  # a file over the limits is never parsed
        for problem in refused:
            sink.add(problem, order)
        return []
    if suffix in EXCEL_SUFFIXES:
        return read_excel(data, shown, file_index, sink)
    return read_csv(path, data, shown, file_index, sink)


#: (index in the school parts, index in the sources) of a sheet read typed, and the sheet.
Typed = list[tuple[tuple[int, int], RawSheet]]


def _validate_sheets(
    raws: Sequence[RawSheet], sink: Sink
) -> tuple[list[Source], dict[SheetKind, list[pl.DataFrame]], Typed]:
    """Every sheet validated: the sources (indexed by ``__src``), the typed frames by kind and the sheets that were
    read typed (``fastcsv``: their cells' text is not kept)."""
    sources: list[Source] = []
    parts: dict[SheetKind, list[pl.DataFrame]] = {"school": [], "county": []}
    typed: Typed = []
    for raw in raws:
        try:
            validated = validate_sheet(raw, len(sources), sink)
        except pl.exceptions.PolarsError as exc:  # not expected; even so, a message and no traceback
            _unreadable(raw, exc, sink)
            continue
        if validated is not None:
            if raw.typed is not None:
                typed.append(((len(parts[raw.kind]), len(sources)), raw))
            sources.append(validated[0])
            parts[raw.kind].append(validated[1])
    return sources, parts, typed


def _validate_sheet(raw: RawSheet, sources: list[Source], at: int, sink: Sink) -> pl.DataFrame | None:
    """A sheet read typed, validated again from its text as source ``at`` (no problems are expected: the fast path
    only takes a sheet the text path reads without any)."""
    try:
        validated = validate_sheet(raw, at, sink)
    except pl.exceptions.PolarsError as exc:
        _unreadable(raw, exc, sink)
        return None
    if validated is None:
        return None
    sources[at] = validated[0]
    return validated[1]


def _unreadable(raw: RawSheet, exc: Exception, sink: Sink) -> None:
    where = Location(file=raw.file, sheet=raw.sheet)
    message = f"无法处理该表的数据（{type(exc).__name__}），请检查文件内容或反馈给维护人员"
    sink.add(Problem("unreadable_sheet", message, "error", where), (raw.file_index, raw.sheet_index, 0, 0))
