"""The CSV line check (count and length of lines, counted in C) refuses exactly what a line-by-line reading refuses,
with the same code, message and line number, whatever the chunking: checked against that reading on generated
files."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from youjun.io.limits.csv import check_csv
from youjun.io.limits.presets import WEB_LIMITS as WEB
from youjun.io.limits.refusal import Refused
from youjun.io.limits.source import ByteSource


class Chunked(ByteSource):
    """A source read in chunks of ``step`` bytes (the real chunk is 1 MiB)."""

    step = 7

    def chunks(self, offset: int = 0, end: int | None = None, step: int = 0) -> Iterator[bytes | memoryview]:
        return super().chunks(offset, end, self.step)


def line_by_line(data: bytes, max_rows: int, max_line: int) -> tuple[str, int] | None:
    """The refusal a reading of one line at a time gives: (code, line number), or None."""
    line, length = 1, 0
    for byte in data:
        if byte == 10:
            line += 1
            length = 0
            if line - 1 > max_rows:
                return ("too_many_rows", 0)
        else:
            length += 1
            if length > max_line:
                return ("line_too_long", line)
    return None


def outcome(data: bytes, step: int, max_rows: int, max_line: int) -> tuple[str, int] | None:
    limits = dataclasses.replace(WEB, max_rows=max_rows, max_line_bytes=max_line, max_columns=10_000)
    source = Chunked.open(data)
    Chunked.step = step
    try:
        check_csv(source, limits)
    except Refused as refused:
        if refused.code == "line_too_long":
            number = int(refused.message.split("第 ")[1].split(" 行")[0].replace(",", ""))
            return (refused.code, number)
        return (refused.code, 0)
    return None


lines = st.lists(st.integers(min_value=0, max_value=12), min_size=0, max_size=30)


@settings(max_examples=400, deadline=None)
@given(lines, st.integers(1, 40), st.integers(1, 12), st.integers(1, 10), st.booleans())
def test_the_line_check_equals_a_line_by_line_reading(
    lengths: list[int], step: int, max_rows: int, max_line: int, final_newline: bool
) -> None:
    data = b"\n".join(b"a" * n for n in lengths) + (b"\n" if final_newline and lengths else b"")
    assert outcome(data, step, max_rows, max_line) == line_by_line(data, max_rows, max_line)


def test_a_national_file_of_ordinary_lines_passes_and_one_long_line_is_found_by_number() -> None:
    rows = b"\n".join(b"x" * 300 for _ in range(5_000)) + b"\n"
    assert outcome(rows, 1 << 20, 10_000, 64 * 1024) is None
    long = rows + b"y" * (64 * 1024 + 1) + b"\n" + rows
    assert outcome(long, 1 << 20, 20_000, 64 * 1024) == ("line_too_long", 5_001)
    assert outcome(long, 1 << 20, 4_000, 64 * 1024) == ("too_many_rows", 0)
