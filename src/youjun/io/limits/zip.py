"""The ZIP container of an ``.xlsx`` / ``.xlsm`` (or of any file the parser could open as one), checked as the
``zip`` crate reads it, and every entry inflated in chunks while counting.

The crate searches the whole file backwards for an end record, so prepended or appended bytes hide nothing: every
central directory it could take is checked. Entries must be stored or deflated and unencrypted; their number, their
declared sizes and ratios, then their real sizes as they are inflated (per entry, in total, ratio, and never more than
the entry declares: a header that lies is refused). Content that is an ``.ods`` or ``.xlsb`` workbook is refused.
With ``contents``, the workbook's parts are fed to ``ooxml`` as they are inflated.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Final

from youjun.io.limits.ooxml import Workbook, is_naming_part, is_shared_strings, normal_part
from youjun.io.limits.presets import InputLimits
from youjun.io.limits.refusal import BOMB_HINT, Refused, size_text
from youjun.io.limits.source import CHUNK, ByteSource
from youjun.io.limits.xmlscan import PartSink

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


def _damaged(detail: str) -> Refused:
    return Refused("archive_damaged", f"工作簿的压缩结构异常（{detail}），可能已损坏或被篡改，为安全起见")


_MAX_VIEWS: Final = 16


def _zip_views(src: ByteSource, limits: InputLimits) -> list[list[_Entry]]:
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
            raise Refused(
                "archive_too_many_entries",
                f"工作簿中的文件数（{count:,} 个）超过 {limits.max_entries:,} 个的上限（{BOMB_HINT}）",
            )
        entries = _read_directory(src, start, count, offset)
        if entries is not None:
            views.append(entries)
    return views


def _zip_directory(src: ByteSource, eocd: int) -> tuple[int, int, int] | None:
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


def _zip64_directory(src: ByteSource, at: int, locator: bytes) -> tuple[int, int, int] | None:
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


def _read_directory(src: ByteSource, start: int, count: int, offset: int) -> list[_Entry] | None:
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


def check_zip(src: ByteSource, limits: InputLimits, *, contents: bool) -> None:
    """The archive checks of every view; with ``contents``, the workbook parts are scanned as they are inflated."""
    total = 0
    for entries in _zip_views(src, limits):
        declared_total = 0
        for entry in entries:
            if entry.flags & 0x1:
                raise Refused("archive_unsupported", f"工作簿中的「{entry.name}」已加密，无法检查")
            if entry.method not in (0, 8):
                raise Refused(
                    "archive_unsupported", f"工作簿中的「{entry.name}」使用了不支持的压缩方式（{entry.method}）"
                )
            declared_total += entry.declared
            _check_sizes(entry, entry.declared, limits, declared=True)
        if declared_total > limits.max_declared_total:
            raise Refused(
                "archive_declared_too_large",
                f"工作簿声明的解压后大小 {size_text(declared_total)} 超过 {size_text(limits.max_declared_total)} 的上限"
                f"（{BOMB_HINT}）",
            )
        if contents:
            names = {normal_part(e.name) for e in entries}
            if not any(n.endswith("workbook.xml") for n in names) and (
                "content.xml" in names or any(n.endswith("workbook.bin") for n in names)
            ):
                raise Refused(
                    "unsupported_workbook",
                    "文件内容是 .ods 或 .xlsb 格式的工作簿，不是 .xlsx（请在 Excel 或 WPS 中另存为 .xlsx）",
                )
        book = Workbook(limits) if contents else None
        ordered = entries
        if book is not None:  # names first (small parts, so that problems can name the sheet), then shared strings
            ordered = sorted(
                entries, key=lambda e: 0 if is_naming_part(e.name) else 1 if is_shared_strings(e.name) else 2
            )
        for entry in ordered:
            sink = book.sink_for(entry.name) if book is not None else None
            total += _inflate(src, entry, limits, limits.max_uncompressed_total - total, sink)


def _check_sizes(entry: _Entry, size: int, limits: InputLimits, *, declared: bool) -> None:
    what = "声明的解压后大小" if declared else "解压后"
    if size > limits.max_entry_bytes:
        raise Refused(
            "archive_entry_too_large",
            f"工作簿中的「{entry.name}」{what}超过 {size_text(limits.max_entry_bytes)} 的上限（{BOMB_HINT}）",
        )
    if size > limits.ratio_min_bytes and size > limits.max_ratio * max(entry.compressed, 1):
        ratio = size / max(entry.compressed, 1)
        raise Refused(
            "archive_ratio_too_high",
            f"工作簿中的「{entry.name}」压缩比 {ratio:,.0f} 倍，超过 {limits.max_ratio:g} 倍的上限（{BOMB_HINT}）",
        )


def _inflate(src: ByteSource, entry: _Entry, limits: InputLimits, budget: int, sink: PartSink | None) -> int:
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
            raise Refused(
                "archive_too_large",
                f"文件解压后超过 {size_text(limits.max_uncompressed_total)} 的上限（{BOMB_HINT}）",
            )
        if produced > entry.declared:
            raise Refused(
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
                    count(inflater.decompress(data, CHUNK))
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
