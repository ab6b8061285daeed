"""The limits an input file is held to, and the two presets: the web application's and the command line's."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

KIB: Final = 1024
MIB: Final = 1024 * KIB
GIB: Final = 1024 * MIB

EXCEL_CELL_CHARS: Final = 32_767
"""Excel's own limit for the text of one cell."""


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Upper bounds for one input file (see ``youjun.io.limits`` for where each applies)."""

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
