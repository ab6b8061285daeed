"""An ``.xls`` file: the compound file (CFB) and the BIFF records of its workbook stream, as calamine reads them.

The header counts the parser allocates from, every sector chain it follows (a loop is refused), ``CONTINUE`` records
per record, the shared strings (number, length), distinct sheet offsets, each sheet's declared ``DIMENSIONS`` and the
position of every cell record, the total grid of all sheets (the parser loads every sheet at once) within
``max_rows × max_columns``, and the expanded text within ``max_text_total``.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator
from typing import Final

from youjun.io.limits.presets import EXCEL_CELL_CHARS, InputLimits
from youjun.io.limits.refusal import Refused, size_text
from youjun.io.limits.source import ByteSource

OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


def _xls_damaged(detail: str) -> Refused:
    return Refused("xls_damaged", f"Excel 97-2003 工作簿（.xls）的结构异常（{detail}），可能已损坏或被篡改，为安全起见")


class _Cfb:
    """The compound file as the parser (calamine's ``Cfb``) reads it, with every loop it could enter bounded."""

    def __init__(self, src: ByteSource, limits: InputLimits) -> None:
        self.src = src
        header = bytes(src.read(0, 512))
        self.ok = len(header) == 512 and header[:8] == OLE_MAGIC
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


def check_cfb(src: ByteSource, limits: InputLimits) -> None:
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
            raise Refused(
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
            raise Refused("too_many_shared_strings", f"共享字符串超过 {limits.max_shared_strings:,} 个的上限")
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
            raise Refused(
                "too_many_cells",
                f"工作簿各工作表的数据范围合计超过 {budget:,} 个单元格的上限（解析时所有工作表同时载入；"
                "请删除多余的行列，或确认是否选错了文件）",
                name,
            )
        if expanded > limits.max_text_total:
            raise Refused(
                "text_expansion_too_large",
                f"工作簿的单元格文本（共享字符串按引用次数展开后）超过 {size_text(limits.max_text_total)} 的上限"
                "（同一长文本被大量单元格引用，可能是恶意构造的文件）",
                name,
            )


def _biff_sheet(stream: bytes, pos: int, name: str, lengths: array[int], limits: InputLimits) -> tuple[int, int]:
    """(grid cells, expanded shared text) of one sheet substream, refusing what is over the limits."""
    grid = _Grid(name, limits)
    expanded = 0
    seen_bof, depth = False, 0
    formula_at = (0, 0)
    for record in _records(stream, pos, limits):
        typ, data = record.typ, record.data
        if depth > 0:  # an embedded substream (e.g. a chart): skipped to its end
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
            if not _dimensions_ok(data, name, limits):
                break
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
            grid.at(row, col)
        elif typ == 0x0207:
            grid.at(*formula_at)
        elif typ == 0x00BD:
            if len(data) < 6:
                break
            row, first = struct.unpack_from("<2H", data)
            (last,) = struct.unpack_from("<H", data, len(data) - 2)
            count = (len(data) - 6) // 6
            if last < first or len(data) != 6 + 6 * (last - first + 1):
                break
            if count:
                grid.at(row, first)
                grid.at(row, first + count - 1)
    return grid.cells(), expanded


class _Grid:
    """The bounding box of a sheet's cells (the grid the parser allocates), each cell held to the row and column
    limits."""

    def __init__(self, name: str, limits: InputLimits) -> None:
        self.name, self.limits = name, limits
        self.top = self.left = 1 << 40
        self.bottom = self.right = -1

    def at(self, row: int, col: int) -> None:
        limits, name = self.limits, self.name
        if row + 1 > limits.max_rows:
            raise Refused(
                "too_many_rows",
                f"工作表「{name}」有数据到第 {row + 1:,} 行，超过每个工作表 {limits.max_rows:,} 行的上限",
                name,
            )
        if col + 1 > limits.max_columns:
            raise Refused(
                "too_many_columns",
                f"工作表「{name}」有数据到第 {col + 1:,} 列，超过每个工作表 {limits.max_columns:,} 列的上限",
                name,
            )
        self.top, self.left = min(self.top, row), min(self.left, col)
        self.bottom, self.right = max(self.bottom, row), max(self.right, col)

    def cells(self) -> int:
        return (self.bottom - self.top + 1) * (self.right - self.left + 1) if self.bottom >= 0 else 0


def _dimensions_ok(data: bytes, name: str, limits: InputLimits) -> bool:
    """A ``DIMENSIONS`` record (the range the parser allocates for the sheet) held to the limits: refused when over,
    False when the parser stops at it (a record of the wrong length)."""
    if len(data) == 10:
        rf, rl, cf, cl = struct.unpack_from("<4H", data)
    elif len(data) == 14:
        rf, rl, cf, cl = struct.unpack_from("<2L2H", data)
    else:
        return False
    if cf > 0xFF or cl < cf:
        cf = 0
    end_row, end_col = (rl - 1, cl - 1) if rl >= 1 and cl >= 1 else (rf, cf)
    rows = (end_row - rf + 1) & 0xFFFFFFFF
    cols = (end_col - cf + 1) & 0xFFFFFFFF
    if rows > limits.max_rows or cols > limits.max_columns or rows * cols > limits.max_cells:
        code = (
            "too_many_rows"
            if rows > limits.max_rows
            else "too_many_columns"
            if cols > limits.max_columns
            else "too_many_cells"
        )
        raise Refused(
            code,
            f"工作表「{name}」声明的范围为 {rows:,} 行 × {cols:,} 列，超过每个工作表 {limits.max_rows:,} 行、"
            f"{limits.max_columns:,} 列、{limits.max_cells:,} 个单元格的上限",
            name,
        )
    return True
