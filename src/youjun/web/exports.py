"""Excel downloads of web pages (``?format=xlsx``): inert strings, a Chinese file name per RFC 6266 / RFC 5987."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

from django.http import HttpResponse

from youjun.io.workbook import Table, write_tables

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the UTF-8 ``filename*`` (RFC 5987) for the Chinese name.

    >>> content_disposition("鸠江区.xlsx", "county.xlsx")
    'attachment; filename="county.xlsx"; filename*=UTF-8\\'\\'%E9%B8%A0%E6%B1%9F%E5%8C%BA.xlsx'
    """
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def xlsx_response(tables: Sequence[Table], filename: str, fallback: str) -> HttpResponse:
    return written_xlsx(lambda path: write_tables(path, tables), filename, fallback)


def written_xlsx(write: Callable[[Path], None], filename: str, fallback: str) -> HttpResponse:
    """A workbook that ``write`` makes at a path (the io writers write files), sent as a download."""
    with tempfile.TemporaryDirectory(prefix="youjun-export-") as tmp:
        path = Path(tmp) / "export.xlsx"
        write(path)
        content = path.read_bytes()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(filename, fallback)
    response["Cache-Control"] = "private, no-store"
    return response
