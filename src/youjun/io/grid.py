"""A small uploaded table as a grid of text cells: a CSV (UTF-8 or the GBK Excel writes on Chinese Windows) or the
first matching sheet of a workbook, every cell as text, columns ``c0, c1, …``. The readers of small uploads (the
forecast's inputs, the quality-monitoring results) check the file against the input limits first, then read the
grid and check every cell themselves."""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from youjun.errors import YoujunError

SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Grid:
    sheet: str | None
    frame: pl.DataFrame  # every cell as text, columns c0, c1, …
    first_row: int  # the user's row number of the frame's first row


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel saves CSV in the system code page (GBK) on Chinese Windows
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def read_grid(data: bytes, suffix: str, sheets: tuple[str, ...], shown: str, code: str) -> Grid:
    """The grid of a CSV, or of the workbook's sheet named one of ``sheets`` (else its first sheet); a file that
    cannot be read is refused with ``code`` and a Chinese message naming ``shown``."""
    if suffix == ".csv":
        text = decode(data)
        try:
            frame = pl.read_csv(text.encode("utf-8"), has_header=False, infer_schema=False, truncate_ragged_lines=True)
        except pl.exceptions.PolarsError:
            raise YoujunError.single(code, "无法读取该 CSV 文件（格式不正确）", file=shown) from None
        return Grid(None, frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)}), 1)
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        names = list(reader.sheet_names)
        wanted = next((n for n in names if SPACE.sub("", n) in sheets), names[0] if names else None)
        if wanted is None:
            raise YoujunError.single(code, "工作簿中没有工作表", file=shown)
        frame = reader.load_sheet(wanted, header_row=None, skip_rows=0, dtypes="string").to_polars()
    except YoujunError:
        raise
    except Exception:
        raise YoujunError.single(
            code, "无法打开：这不是有效的 Excel 工作簿（文件可能已损坏，或是其他格式的文件改了扩展名）", file=shown
        ) from None
    frame = frame.select(pl.col(c).cast(pl.String).alias(f"c{i}") for i, c in enumerate(frame.columns))
    return Grid(wanted, frame, 1)


def table_rows(grid: Grid) -> pl.DataFrame:
    """The grid's non-blank rows with their index (``_at``): the header first."""
    frame = grid.frame
    blank = pl.all_horizontal(pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in frame.columns)
    return frame.with_row_index("_at").filter(~blank) if frame.width else frame.with_row_index("_at")
