"""The input's bytes, read by offset, whether they are in memory or in a file: no check holds a whole file twice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from youjun.io.limits.presets import MIB

CHUNK: Final = MIB
"""Bytes read (and inflated) at a time."""


class ByteSource:
    """The input's bytes, read by offset: a memoryview over bytes in memory, or seek + read on a file."""

    def __init__(self, view: memoryview | None, handle: IO[bytes] | None, size: int, close: bool, start: int) -> None:
        obj = view.obj if view is not None else None
        # bytes.find is much faster than a chunked search: use it when the view is the whole object
        self._bytes: bytes | bytearray | None = (
            obj if isinstance(obj, bytes | bytearray) and view is not None and len(obj) == len(view) else None
        )
        self._view = view
        self._handle = handle
        self.size = size
        self._close = close
        self._start = start

    @classmethod
    def open(cls, data: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]) -> ByteSource:
        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data).cast("B")
            return cls(view, None, len(view), False, 0)
        if isinstance(data, str | os.PathLike):
            handle: IO[bytes] = Path(data).open("rb")  # noqa: SIM115 - closed by __exit__
            size = os.fstat(handle.fileno()).st_size
            return cls(None, handle, size, True, 0)
        start = data.tell()
        data.seek(0, os.SEEK_END)
        size = data.tell()
        return cls(None, data, size, False, start)

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            if self._close:
                self._handle.close()
            else:
                self._handle.seek(self._start)

    def read(self, offset: int, n: int) -> bytes | memoryview:
        """Up to ``n`` bytes at ``offset`` (fewer at the end of the input)."""
        if offset < 0 or n <= 0 or offset >= self.size:
            return b""
        if self._view is not None:
            return self._view[offset : offset + n]
        assert self._handle is not None
        self._handle.seek(offset)
        return self._handle.read(n)

    def find(self, needle: bytes, start: int, end: int) -> int:
        """The first offset of ``needle`` within [start, end), or -1."""
        end = min(end, self.size)
        if self._bytes is not None:
            return self._bytes.find(needle, start, end)
        overlap = len(needle) - 1
        pos = start
        while pos < end:
            piece = bytes(self.read(pos, min(CHUNK, end - pos)))
            at = piece.find(needle)
            if at >= 0:
                return pos + at
            if pos + len(piece) >= end or not piece:
                return -1
            pos += max(len(piece) - overlap, 1)
        return -1

    def find_from_end(self, needle: bytes) -> Iterator[int]:
        """The offsets of ``needle`` in the input, last first."""
        end = self.size
        while end > 0:
            if self._bytes is not None:
                at = self._bytes.rfind(needle, 0, end)
            else:
                start = max(end - CHUNK, 0)
                piece = bytes(self.read(start, end - start + len(needle) - 1))
                found = piece.rfind(needle, 0, end - start + len(needle) - 1)
                at = start + found if found >= 0 and start + found < end else -1
                if at < 0:
                    end = start
                    continue
            if at < 0:
                return
            yield at
            end = at

    def chunks(self, offset: int = 0, end: int | None = None, step: int = CHUNK) -> Iterator[bytes | memoryview]:
        stop = self.size if end is None else min(end, self.size)
        while offset < stop:
            piece = self.read(offset, min(step, stop - offset))
            if not piece:
                return
            offset += len(piece)
            yield piece
