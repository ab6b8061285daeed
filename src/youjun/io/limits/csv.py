"""A CSV file: at most ``max_rows`` lines of at most ``max_line_bytes`` each, and a first record (the width the CSV
parser allocates for every row) of at most ``max_columns`` fields. A file with quotes is also read record by record as
the standard library's CSV reader does (the reader's own error path), each record within ``max_line_bytes // 8``
separators.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator

from youjun.io.limits.presets import InputLimits
from youjun.io.limits.refusal import Refused, size_text
from youjun.io.limits.source import ByteSource


def _csv_chunks(src: ByteSource) -> Iterator[bytes]:
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


def check_csv(src: ByteSource, limits: InputLimits) -> None:
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
        newlines = chunk.count(b"\n")  # counted in C; the lines themselves only when one may be too long
        if newlines == 0:
            length += len(chunk)
            if length > max_line:
                raise _line_too_long(line, limits)
            continue
        first_end = chunk.find(b"\n")
        last_start = chunk.rfind(b"\n") + 1
        if length + first_end > max_line:
            raise _line_too_long(line, limits)
        # Lines wholly inside the chunk (split in C, and only when one of them could be too long). The first error in
        # the file's order wins: a too-long line numbered at most max_rows + 1 comes before the row limit.
        long_line = 0
        if last_start - first_end - 2 > max_line:
            pieces = chunk[first_end + 1 : last_start - 1].split(b"\n")
            if max(map(len, pieces)) > max_line:
                long_line = line + 1 + next(i for i, p in enumerate(pieces) if len(p) > max_line)
        if long_line and long_line <= limits.max_rows + 1:
            raise _line_too_long(long_line, limits)
        line += newlines
        if line - 1 > limits.max_rows:
            raise Refused(
                "too_many_rows",
                f"CSV 文件超过 {limits.max_rows:,} 行的上限（请删除多余的行，或确认是否选错了文件）",
            )
        if long_line:
            raise _line_too_long(long_line, limits)
        length = len(chunk) - last_start
        if length > max_line:
            raise _line_too_long(line, limits)
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
        raise Refused(
            "too_many_columns",
            f"CSV 文件的表头有 {width:,} 列，超过 {limits.max_columns:,} 列的上限（请确认是否选错了文件）",
        )


def _line_too_long(line: int, limits: InputLimits) -> Refused:
    return Refused(
        "line_too_long",
        f"CSV 文件第 {line:,} 行超过 {size_text(limits.max_line_bytes)} 的上限（单元格内容过长，或不是逐行的表格文件）",
    )


def _csv_records(src: ByteSource, sep: bytes, limits: InputLimits) -> int:
    """Read the file record by record as the standard library's CSV reader does (a quote starts a field that may
    hold separators and line ends; the reader's own error path reads it so); return the first record's width.
    A record is cut off once its lines hold more than ``max_line_bytes // 8`` separators, so that no record can
    take more memory than that in the error path."""
    budget = max(limits.max_line_bytes // 8, limits.max_columns)
    pending = 0

    def too_large() -> Refused:
        return Refused(
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
