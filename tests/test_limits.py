"""Bounded work for every input file (youjun.io.limits): each bomb is built here, refused quickly in little memory.

Every bomb is checked in a fresh child process that reports the problems, the time the check took and the peak
memory of the process (``ru_maxrss``, including the interpreter): the check must stay far below the gigabytes the
parser would take, whatever the file says about itself.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest
import xlsxwriter  # type: ignore[import-untyped]

from youjun.contract import COUNTY_SHEET, SCHOOL_SHEET
from youjun.errors import YoujunError
from youjun.io import limits
from youjun.io.limits import CLI_LIMITS, GIB, MIB, WEB_LIMITS, InputLimits, check_archive, check_input
from youjun.io.reader import read_school_data
from youjun.io.synth import generate
from youjun.io.workbook import write_data_workbook

CHINESE = re.compile(r"[\u4e00-\u9fff]")
#: A bound, not a benchmark (bench/upload_bombs.py measures): the unguarded parser took 20–66 s on these files, the
#: guard takes well under a second; the margin absorbs a busy CI machine.
MAX_SECONDS = 15.0
MAX_RSS_MB = 150.0

#: The web preset with the archive gates opened wide, so that the row and column limits themselves are reached.
OPEN_ARCHIVE = replace(
    WEB_LIMITS,
    max_xlsx_bytes=GIB,
    max_entry_bytes=4 * GIB,
    max_declared_total=4 * GIB,
    max_uncompressed_total=4 * GIB,
    max_ratio=100_000,
)


# ---------------------------------------------------------------------------------------------------------------------
# Building workbooks byte by byte

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    f'<sheets><sheet name="{SCHOOL_SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
ONE_SHARED_CELL = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
SST_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def workbook(
    sheet: Iterable[bytes],
    strings: Iterable[bytes] | None = None,
    extra: Iterable[tuple[str, Iterable[bytes]]] = (),
    sheet_target: str = "worksheets/sheet1.xml",
) -> bytes:
    """A minimal .xlsx whose sheet (and shared strings, and extra parts) are streamed in, never held whole."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.replace("worksheets/sheet1.xml", sheet_target))
        parts = [
            ("xl/worksheets/sheet1.xml", sheet),
            *(([("xl/sharedStrings.xml", strings)]) if strings else []),
            *extra,
        ]
        for name, chunks in parts:
            with archive.open(name, "w", force_zip64=True) as out:
                for chunk in chunks:
                    out.write(chunk)
    return buffer.getvalue()


def column(n: int) -> bytes:
    letters = b""
    while n:
        n, r = divmod(n - 1, 26)
        letters = bytes([65 + r]) + letters
    return letters


def rows(count: int, columns: int = 1, shared: bool = False) -> Iterator[bytes]:
    """``count`` rows of plain numeric (or shared-string) cells, a thousand rows per chunk."""
    cells = [column(c + 1) for c in range(columns)]
    kind = b' t="s"' if shared else b""
    for first in range(1, count + 1, 1000):
        yield b"".join(
            b'<row r="%d">' % r + b"".join(b'<c r="%s%d"%s><v>0</v></c>' % (c, r, kind) for c in cells) + b"</row>"
            for r in range(first, min(first + 1000, count + 1))
        )


def sheet_of(body: bytes) -> list[bytes]:
    return [SHEET_HEAD, body, SHEET_TAIL]


def claim_size(data: bytes, part: bytes, size: int) -> bytes:
    """The archive with ``part`` claiming ``size`` uncompressed bytes in its central and local headers (a lie)."""
    out = bytearray(data)
    end = out.rfind(b"PK\x05\x06")
    pos = struct.unpack_from("<L", out, end + 16)[0]
    while out[pos : pos + 4] == b"PK\x01\x02":
        n_name, n_extra, n_comment = struct.unpack_from("<3H", out, pos + 28)
        if bytes(out[pos + 46 : pos + 46 + n_name]) == part:
            struct.pack_into("<L", out, pos + 24, size)
            local = struct.unpack_from("<L", out, pos + 42)[0]
            l_name, l_extra = struct.unpack_from("<2H", out, local + 26)
            struct.pack_into("<L", out, local + 22, size)
            if l_extra >= 20 and struct.unpack_from("<H", out, local + 30 + l_name)[0] == 1:  # ZIP64 sizes
                struct.pack_into("<Q", out, local + 30 + l_name + 4, size)
        pos += 46 + n_name + n_extra + n_comment
    return bytes(out)


def zeros(megabytes: int) -> Iterator[bytes]:
    block = bytes(MIB)
    for _ in range(megabytes):
        yield block


# Bombs (each returns the file's bytes and its suffix)


def shared_string_bomb() -> tuple[bytes, str]:
    """One shared string of 200 MB (200 KB on disk), honestly declared."""
    strings = [SST_HEAD, b"<si><t>", *zeros(200), b"</t></si></sst>"]
    return workbook(sheet_of(ONE_SHARED_CELL), strings), ".xlsx"


def shared_string_bomb_lying() -> tuple[bytes, str]:
    """The same, its header claiming 1,000 bytes: only inflating in chunks while counting finds it out."""
    return claim_size(shared_string_bomb()[0], b"xl/sharedStrings.xml", 1000), ".xlsx"


def long_shared_string() -> tuple[bytes, str]:
    """A 100,000-character shared string that does not compress (within every size limit)."""
    text = bytes(65 + (i * 7919 + i // 26) % 26 for i in range(100_000))
    return workbook(sheet_of(ONE_SHARED_CELL), [SST_HEAD, b"<si><t>", text, b"</t></si></sst>"]), ".xlsx"


def unique_count() -> tuple[bytes, str]:
    """``uniqueCount="100000000000"``: the parser reserves that many strings and the process aborts."""
    strings = [b'<sst uniqueCount="100000000000">', b"<si><t>x</t></si></sst>"]
    return workbook(sheet_of(ONE_SHARED_CELL), strings), ".xlsx"


def expansion_bomb() -> tuple[bytes, str]:
    """A 30,000-character shared string used by 40,000 cells: 1.2 GB of text, 150 KB on disk."""
    text = bytes(65 + (i * 31 + i // 7) % 26 for i in range(30_000))
    strings = [SST_HEAD, b"<si><t>", text, b"</t></si></sst>"]
    return workbook([SHEET_HEAD, *rows(2_000, 20, shared=True), SHEET_TAIL], strings), ".xlsx"


def deflate_bomb_entry() -> tuple[bytes, str]:
    """A part of 256 MB of zeros (about 250 KB compressed), honestly declared."""
    return workbook(sheet_of(b""), extra=[("xl/media/image1.png", zeros(256))]), ".xlsx"


def lying_header() -> tuple[bytes, str]:
    """The same part claiming 1,024 bytes."""
    return claim_size(deflate_bomb_entry()[0], b"xl/media/image1.png", 1024), ".xlsx"


def million_rows() -> tuple[bytes, str]:
    """1,048,000 rows, generated as an XML stream (about 8 MB on disk, 45 MB of XML)."""
    return workbook([SHEET_HEAD, *rows(1_048_000), SHEET_TAIL]), ".xlsx"


def far_cell() -> tuple[bytes, str]:
    """One value at A1 and one at XFD1048576: the parser allocates the grid between them (17 billion cells)."""
    far = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return workbook(sheet_of(far)), ".xlsx"


def far_corner() -> tuple[bytes, str]:
    """Values at A1 and KN1100000: within the command line's rows and columns, but a grid of 330 million cells."""
    corner = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1100000"><c r="KN1100000"><v>1</v></c></row>'
    return workbook(sheet_of(corner)), ".xlsx"


def empty_cell_moves_column() -> tuple[bytes, str]:
    """``<c r="XFD1"/>`` moves the parser's column counter: the next cell without a reference is at 16,385."""
    return workbook(sheet_of(b'<row r="1"><c r="XFD1"/><c><v>1</v></c></row>')), ".xlsx"


def junk_before_the_sheet() -> tuple[bytes, str]:
    """Bytes before the first tag: the parser skips them and reads the cells behind."""
    cells = b'<worksheet><sheetData><row r="20000"><c r="A20000"><v>1</v></c></row>'
    return workbook([b"not xml at all", cells, SHEET_TAIL]), ".xlsx"


def cells_in_the_shared_strings_part() -> tuple[bytes, str]:
    """The sheet's relationship points at the shared-strings part, which also holds cells far down."""
    hidden = (
        SST_HEAD
        + b"<si><t>x</t></si></sst>"
        + b'<sheetData><row r="50000"><c r="A50000"><v>1</v></c></row></sheetData>'
    )
    return workbook(sheet_of(b""), [hidden], sheet_target="sharedStrings.xml"), ".xlsx"


def prepended_bytes() -> tuple[bytes, str]:
    """12,000 rows behind 1 MB of other bytes: the ZIP reader finds the archive anyway, so must the check."""
    return b"\x00" * MIB + workbook([SHEET_HEAD, *rows(12_000), SHEET_TAIL]), ".xlsx"


def many_entries() -> tuple[bytes, str]:
    """65,000 empty entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(65_000):
            archive.writestr(f"x/{i}", b"")
    return buffer.getvalue(), ".xlsx"


def wide_csv() -> tuple[bytes, str]:
    """300,000 named columns (the header line alone is 2 MB)."""
    return (",".join(f"c{i}" for i in range(300_000)) + "\n" + ",".join("1" * 300_000) + "\n").encode(), ".csv"


def wide_csv_short_header() -> tuple[bytes, str]:
    """300,000 columns in a 300 KB header line (within the line limit of the command line)."""
    return b"," * 299_999 + b"\n1\n", ".csv"


def long_csv_line() -> tuple[bytes, str]:
    """A 10 MB line."""
    return b"a,b\n" + b"x" * (10 * MIB) + b",1\n", ".csv"


def csv_records_joined_by_quotes() -> tuple[bytes, str]:
    """Lines of 5,000 separators joined into one record by quoted line ends (the reader's error path reads it)."""
    return b'a,b\n1,"x\n' + (b'",' + b"," * 5_000 + b'"x\n') * 400 + b'"\n', ".csv"


# Legacy .xls: a compound file holding a BIFF8 workbook stream


def record(kind: int, body: bytes = b"") -> bytes:
    return struct.pack("<2H", kind, len(body)) + body


def biff(
    cells: Iterable[bytes] = (), dims: tuple[int, int, int, int] = (0, 1, 0, 1), strings: list[bytes] | None = None
) -> bytes:
    """Globals (BOF, one BoundSheet8, optional SST, EOF) and one worksheet (BOF, DIMENSIONS, cells, EOF)."""
    bof = struct.pack("<2H", 0x0600, 0x0005) + bytes(12)
    sheet = (
        record(0x0809, struct.pack("<2H", 0x0600, 0x0010) + bytes(12))
        + record(0x0200, struct.pack("<2L3H", *dims, 0))
        + b"".join(cells)
        + record(0x000A)
    )
    sst = b""
    if strings is not None:
        body = struct.pack("<2L", len(strings), len(strings)) + b"".join(
            struct.pack("<HB", len(s), 0) + s for s in strings
        )
        sst = record(0x00FC, body)
    name = b"Sheet1"
    globals_length = 4 + len(bof) + 4 + 8 + len(name) + len(sst) + 4
    bound = record(0x0085, struct.pack("<L4B", globals_length, 0, 0, len(name), 0) + name)
    return record(0x0809, bof) + bound + sst + record(0x000A) + sheet


def number(row: int, col: int, value: float = 1.0) -> bytes:
    return record(0x0203, struct.pack("<3Hd", row, col, 0, value))


def label_sst(row: int, col: int, index: int) -> bytes:
    return record(0x00FD, struct.pack("<3HL", row, col, 0, index))


def compound(stream: bytes, **header: int) -> bytes:
    """A compound file (512-byte sectors) with one "Workbook" stream, padded so that it needs no mini stream.

    ``header`` overrides 32-bit header fields by offset name: ``fat_len`` (44), ``at_62`` (62, read by the parser
    as a count), ``difat_start`` (68)."""
    stream += bytes(max(0, 4096 - len(stream)))
    stream += bytes(-len(stream) % 512)
    n = len(stream) // 512
    k = 1  # FAT sectors
    while k * 128 < k + 1 + n:
        k += 1
    fat = [0xFFFFFFFD] * k + [0xFFFFFFFE] + [k + 2 + i if i < n - 1 else 0xFFFFFFFE for i in range(n)]
    fat += [0xFFFFFFFF] * (k * 128 - len(fat))

    def entry(label: str, kind: int, start: int, size: int) -> bytes:
        raw = label.encode("utf-16-le") + b"\x00\x00"
        siblings = struct.pack("<3L", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        head = raw.ljust(64, b"\x00") + struct.pack("<H2B", len(raw), kind, 1) + siblings + bytes(36)
        return head + struct.pack("<2L", start, size) + bytes(4)

    directory = (entry("Root Entry", 5, 0xFFFFFFFE, 0) + entry("Workbook", 2, k + 1, len(stream))).ljust(512, b"\x00")
    difat = list(range(k)) + [0xFFFFFFFF] * (109 - k)
    head = bytearray(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<5H", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<4L", 0, k, k, 0)
        + struct.pack("<5L", 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
        + struct.pack("<109L", *difat)
    )
    for field, offset in (("fat_len", 44), ("at_62", 62), ("difat_start", 68)):
        if field in header:
            struct.pack_into("<L", head, offset, header[field])
    return bytes(head) + struct.pack(f"<{len(fat)}L", *fat) + directory + stream


def xls_fat_count() -> tuple[bytes, str]:
    """A header announcing 4 billion FAT sectors: the parser reserves 16 GB and the process aborts."""
    return compound(biff([number(0, 0)]), fat_len=0xFFFFFFF0), ".xls"


def xls_count_at_62() -> tuple[bytes, str]:
    """The header field the parser reads as the DIFAT count, huge: another 16 GB reservation."""
    return compound(biff([number(0, 0)]), at_62=0xFFFFFFF0), ".xls"


def xls_difat_loop() -> tuple[bytes, str]:
    """A DIFAT chain whose sector points to itself: the parser would loop for ever, growing its list."""
    data = bytearray(compound(biff([number(0, 0)])))
    loop = len(data) // 512  # a sector after the stream, holding 127 free entries and a link to itself
    data += struct.pack("<127L", *([0xFFFFFFFF] * 127)) + struct.pack("<L", loop - 1)
    struct.pack_into("<L", data, 68, loop - 1)
    return bytes(data), ".xls"


def xls_dimensions() -> tuple[bytes, str]:
    """A DIMENSIONS record of 4 billion rows: the parser reserves the cells up front."""
    return compound(biff([number(0, 0)], dims=(0, 0xFFFFFFF0, 0, 255))), ".xls"


def xls_far_cell() -> tuple[bytes, str]:
    return compound(biff([number(0, 0), number(60_000, 250)], dims=(0, 2, 0, 1))), ".xls"


def xls_expansion() -> tuple[bytes, str]:
    """A 30,000-character shared string used by 10,000 cells (the parser copies it into every cell)."""
    cells = [label_sst(r, c, 0) for r in range(200) for c in range(50)]
    return compound(biff(cells, dims=(0, 200, 0, 50), strings=[b"Z" * 30_000])), ".xls"


BOMBS: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    # name: (builder, preset, accepted problem codes)
    "shared_string_bomb": (shared_string_bomb, "web", ("archive_entry_too_large", "archive_ratio_too_high")),
    "shared_string_bomb_lying": (shared_string_bomb_lying, "web", ("archive_size_mismatch",)),
    "long_shared_string": (long_shared_string, "web", ("text_too_long",)),
    "unique_count": (unique_count, "web", ("too_many_shared_strings",)),
    "expansion_bomb": (expansion_bomb, "web", ("text_expansion_too_large",)),
    "deflate_bomb_entry": (deflate_bomb_entry, "web", ("archive_entry_too_large", "archive_ratio_too_high")),
    "lying_header": (lying_header, "web", ("archive_size_mismatch",)),
    "million_rows_web": (million_rows, "web", ("archive_entry_too_large", "too_many_rows")),
    "million_rows_open_archive": (million_rows, "open", ("too_many_rows",)),
    "far_cell": (far_cell, "cli", ("too_many_columns",)),
    "far_corner": (far_corner, "cli", ("too_many_cells",)),
    "empty_cell_moves_column": (empty_cell_moves_column, "cli", ("too_many_columns",)),
    "prepended_bytes": (prepended_bytes, "web", ("too_many_rows",)),
    "junk_before_the_sheet": (junk_before_the_sheet, "web", ("too_many_rows",)),
    "cells_in_the_shared_strings_part": (cells_in_the_shared_strings_part, "web", ("too_many_rows",)),
    "many_entries": (many_entries, "web", ("archive_too_many_entries",)),
    "wide_csv": (wide_csv, "web", ("line_too_long",)),
    "wide_csv_short_header": (wide_csv_short_header, "cli", ("too_many_columns",)),
    "long_csv_line": (long_csv_line, "web", ("line_too_long",)),
    "csv_records_joined_by_quotes": (csv_records_joined_by_quotes, "web", ("line_too_long",)),
    "xls_fat_count": (xls_fat_count, "cli", ("xls_damaged",)),
    "xls_count_at_62": (xls_count_at_62, "cli", ("xls_damaged",)),
    "xls_difat_loop": (xls_difat_loop, "cli", ("xls_damaged",)),
    "xls_dimensions": (xls_dimensions, "cli", ("too_many_rows",)),
    "xls_far_cell": (xls_far_cell, "web", ("too_many_rows",)),
    "xls_expansion": (xls_expansion, "web", ("text_expansion_too_large",)),
}


def checked_in_child(path: Path, suffix: str, preset: str) -> dict[str, Any]:
    """Run ``check_input`` on the file in a fresh interpreter: its problems, seconds, the process's peak resident
    memory (interpreter and the file's bytes included) and the peak of Python allocations during the check."""
    script = """
import json, resource, sys, time, tracemalloc
from dataclasses import replace
from youjun.io.limits import CLI_LIMITS, GIB, WEB_LIMITS, check_input
presets = {
    "web": WEB_LIMITS,
    "cli": CLI_LIMITS,
    "open": replace(WEB_LIMITS, max_xlsx_bytes=GIB, max_entry_bytes=4 * GIB, max_declared_total=4 * GIB,
                    max_uncompressed_total=4 * GIB, max_ratio=100_000),
}
data = open(sys.argv[1], "rb").read()
tracemalloc.start()
started = time.perf_counter()
problems = check_input(data, sys.argv[2], presets[sys.argv[3]], file="上传.x")
seconds = time.perf_counter() - started
traced = tracemalloc.get_traced_memory()[1] / 2**20
try:  # this process's own high-water mark (ru_maxrss would include the parent's, kept across exec)
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"problems": [[p.code, p.message, p.location.sheet] for p in problems],
                  "seconds": seconds, "peak_mb": peak, "traced_mb": traced}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), suffix, preset],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_each_bomb_is_refused_quickly_in_little_memory(name: str, tmp_path: Path) -> None:
    build, preset, codes = BOMBS[name]
    data, suffix = build()
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(data)
    result = checked_in_child(path, suffix, preset)
    assert result["problems"], f"{name} was not refused"
    code, message, _sheet = result["problems"][0]
    assert code in codes, (code, message)
    assert CHINESE.search(message) and message.endswith("未导入")
    assert re.search(r"[0-9]", message), message  # the message names the limit or the figure found
    assert result["seconds"] < MAX_SECONDS, result
    assert result["peak_mb"] < MAX_RSS_MB, result
    assert result["traced_mb"] < 64, result


def test_the_messages_name_the_limit(tmp_path: Path) -> None:
    problems = check_input(deflate_bomb_entry()[0], ".xlsx", WEB_LIMITS)
    assert "40 MB 的上限" in problems[0].message and "可能是压缩炸弹" in problems[0].message
    problems = check_input(lying_header()[0], ".xlsx", WEB_LIMITS)
    assert "声明的 1,024 字节" in problems[0].message
    problems = check_input(far_cell()[0], ".xlsx", WEB_LIMITS)
    assert problems[0].location.sheet == SCHOOL_SHEET and "10,000 行的上限" in problems[0].message
    problems = check_input(empty_cell_moves_column()[0], ".xlsx", WEB_LIMITS, file="学校.xlsx")
    assert problems[0].location.file == "学校.xlsx" and "200 列的上限" in problems[0].message
    problems = check_input(wide_csv_short_header()[0], ".csv", CLI_LIMITS)
    assert "300,000 列" in problems[0].message and "300 列的上限" in problems[0].message
    assert check_input(b"x" * (WEB_LIMITS.max_csv_bytes + 1), ".csv", WEB_LIMITS)[0].code == "file_too_large"


def test_a_million_rows_are_within_the_command_line_limits(tmp_path: Path) -> None:
    """National files are read by the command line: 1,048,000 rows pass its limits, and the scan stays bounded."""
    path = tmp_path / "national.xlsx"
    path.write_bytes(million_rows()[0])
    result = checked_in_child(path, ".xlsx", "cli")
    assert result["problems"] == []
    assert result["seconds"] < MAX_SECONDS and result["peak_mb"] < MAX_RSS_MB


# ---------------------------------------------------------------------------------------------------------------------
# Real files pass


def test_a_county_workbook_and_its_csv_pass_the_web_limits(tmp_path: Path) -> None:
    data = generate(3, seed=5, province="34")
    path = tmp_path / "县.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: data.schools, COUNTY_SHEET: data.counties})
    assert check_input(path, ".xlsx", WEB_LIMITS) == []
    assert check_input(path.read_bytes(), ".xlsx", WEB_LIMITS) == []
    buffer = io.BytesIO()
    quoted = pl.concat_str(pl.col("school_name"), pl.lit('，"分校", 二部')).alias("school_name")
    data.schools.with_columns(quoted).write_csv(buffer)  # names with quotes and commas: the record-by-record pass
    text = buffer.getvalue().decode()
    for encoding in ("utf-8", "utf-8-sig", "gb18030", "utf-16"):
        assert check_input(text.encode(encoding), ".csv", WEB_LIMITS) == [], encoding
    assert check_input(b"\r\n\r\n\xef\xbb\xbfa;b;c\r\n1;2;3\r\n", ".csv", WEB_LIMITS) == []


def test_a_workbook_with_shared_strings_rich_text_and_formulas_passes(tmp_path: Path) -> None:
    path = tmp_path / "rich.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(SCHOOL_SHEET)
    bold = book.add_format({"bold": True})
    for r in range(300):
        sheet.write_row(r, 0, [f"学校{r}", r, r * 1.5, "小学" if r % 2 else "初中", "x" * 200])
        sheet.write_formula(r, 5, f"=B{r + 1}*2")
    sheet.write_rich_string(300, 0, bold, "加粗", "普通")
    sheet.write_comment(0, 0, "说明")
    sheet.write(199, 199, "最后一列")  # column 200: at the limit
    book.close()
    assert check_input(path, ".xlsx", WEB_LIMITS) == []


def test_the_handmade_xls_is_a_real_workbook_within_the_limits() -> None:
    cells = [number(0, 0, 5.0), label_sst(1, 1, 0), number(2, 3, 7.0)]
    data = compound(biff(cells, dims=(0, 3, 0, 4), strings=[b"hello"]))
    assert check_input(data, ".xls", WEB_LIMITS) == []
    grid = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string").to_polars()
    assert grid.rows() == [("5", None, None, None), (None, "hello", None, None), (None, None, None, "7")]


def test_files_no_parser_can_open_are_left_to_the_reader(tmp_path: Path) -> None:
    """Not a ZIP or OLE file at all: no check applies; the reader's own message stays."""
    assert check_input("这不是工作簿".encode(), ".xlsx", WEB_LIMITS) == []
    assert check_input(b"PK\x03\x04not really a zip", ".xlsx", WEB_LIMITS) == []
    text = tmp_path / "学校.xlsx"
    text.write_text("这不是工作簿", encoding="utf-8")
    with pytest.raises(YoujunError) as caught:
        read_school_data([text], limits=WEB_LIMITS)
    assert [p.code for p in caught.value.errors] == ["not_a_workbook"]


def test_an_ods_or_xlsb_behind_an_xlsx_name_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert [p.code for p in check_input(buffer.getvalue(), ".xlsx", WEB_LIMITS)] == ["unsupported_workbook"]


# ---------------------------------------------------------------------------------------------------------------------
# The check itself: never raises, fails closed


def test_the_check_never_raises_and_fails_closed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = check_input(tmp_path / "没有.xlsx", ".xlsx", WEB_LIMITS)
    assert [p.code for p in missing] == ["file_unreadable"]

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(limits, "_check_zip", broken)
    problems = check_input(far_cell()[0], ".xlsx", WEB_LIMITS)
    assert [p.code for p in problems] == ["input_check_failed"] and "为安全起见未导入" in problems[0].message


def test_presets_are_consistent() -> None:
    for field in InputLimits.__dataclass_fields__:
        assert getattr(WEB_LIMITS, field) <= getattr(CLI_LIMITS, field), field
    assert WEB_LIMITS.max_text_chars == 32_767 and WEB_LIMITS.max_rows == 10_000 and WEB_LIMITS.max_columns == 200
    assert WEB_LIMITS.max_cells == WEB_LIMITS.max_rows * WEB_LIMITS.max_columns
    assert WEB_LIMITS.file_bytes(".XLS") == WEB_LIMITS.max_xls_bytes
    assert WEB_LIMITS.with_file_bytes(5).file_bytes(".csv") == 5


def test_archive_check_for_stored_documents(tmp_path: Path) -> None:
    """Evidence documents are only held to the archive limits, read from a file object left where it was."""
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>" * 1000)
    stream = io.BytesIO(document.getvalue())
    stream.seek(7)
    assert check_archive(stream, WEB_LIMITS) == [] and stream.tell() == 7
    bomb = io.BytesIO(lying_header()[0])
    problems = check_archive(bomb, WEB_LIMITS)
    assert [p.code for p in problems] == ["archive_size_mismatch"] and problems[0].message.endswith("未上传")
    assert "工作簿" not in problems[0].message


# ---------------------------------------------------------------------------------------------------------------------
# Through the reader


def test_the_reader_refuses_a_bomb_before_parsing_with_a_located_problem(tmp_path: Path) -> None:
    path = tmp_path / "学校.xlsx"
    path.write_bytes(empty_cell_moves_column()[0])
    with pytest.raises(YoujunError) as caught:
        read_school_data([path])
    problem = caught.value.errors[0]
    assert problem.code == "too_many_columns"
    assert (problem.location.file, problem.location.sheet) == (str(path), SCHOOL_SHEET)


def test_the_reader_applies_the_limits_it_is_given(tmp_path: Path) -> None:
    """12,000 rows: within the command line's limits (the default), over the web's."""
    row = {"year": "2024", "school_id": "", "school_name": "学校", "county_code": "340207", "county_name": "鸠江区"}
    path = tmp_path / "学校.csv"
    pl.DataFrame([row | {"school_id": f"S{i}"} for i in range(12_000)]).write_csv(path)
    with pytest.raises(YoujunError) as caught:
        read_school_data([path])
    assert "too_many_rows" not in {p.code for p in caught.value.errors}  # parsed: the usual missing columns
    with pytest.raises(YoujunError) as caught:
        read_school_data([path], limits=WEB_LIMITS)
    assert [p.code for p in caught.value.errors] == ["too_many_rows"]


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A 2 GB (sparse) file: refused from its size, without reading it into memory."""
    path = tmp_path / "全国.csv"
    with path.open("wb") as out:
        out.truncate(2 * GIB)
    script = f"""
from youjun.errors import YoujunError
from youjun.io.reader import read_school_data
try:
    read_school_data([{str(path)!r}])
except YoujunError as exc:
    status = open("/proc/self/status").read()
    print(exc.errors[0].code, int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    code, peak = done.stdout.split()
    assert code == "file_too_large" and int(peak) < 500  # the interpreter and polars, not the file


def test_the_parser_reads_what_the_check_refuses() -> None:
    """The tricks the check follows are the parser's own: on small, safe copies it really reads those cells."""
    for build in (junk_before_the_sheet, cells_in_the_shared_strings_part):
        grid = fastexcel.read_excel(build()[0]).load_sheet(0, header_row=None, dtypes="string").to_polars()
        assert grid.height >= 1 and "1" in grid.row(grid.height - 1), build.__name__
    moved = fastexcel.read_excel(empty_cell_moves_column()[0]).load_sheet(0, header_row=None, dtypes="string")
    assert moved.to_polars().shape == (1, 1)  # the one value: at column 16,385, after the empty XFD1


def test_two_shared_string_parts_keep_the_longest_string_at_each_index() -> None:
    text = b"L" * 30_000
    extra = [("XL/SharedStrings.xml", [SST_HEAD, b"<si><t>", text, b"</t></si></sst>"])]
    data = workbook(
        [SHEET_HEAD, *rows(2_000, 20, shared=True), SHEET_TAIL], [SST_HEAD, b"<si><t>a</t></si></sst>"], extra
    )
    assert [p.code for p in check_input(data, ".xlsx", WEB_LIMITS)] == ["text_expansion_too_large"]


def test_zip_views_follow_the_zip_reader() -> None:
    """The archive is found after prepended bytes and despite bytes after its end record, as the ZIP reader finds it."""
    base = workbook([SHEET_HEAD, *rows(12_000), SHEET_TAIL])
    for data in (b"JUNK" * 1000 + base, base + b"\x00" * 70_000):
        assert [p.code for p in check_input(data, ".xlsx", WEB_LIMITS)] == ["too_many_rows"]
