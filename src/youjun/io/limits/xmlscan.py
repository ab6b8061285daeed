"""Streaming XML as the workbook parser reads it: parts cut into segments that never split a tag, its tokenizer and
events, and the length of text counted as it arrives (never a whole part in memory, never a tree).

The rules are those of calamine 0.36 reading with quick-xml's ``expand_empty_elements``: an empty element is a start
and an end; a string ends at the first end tag with its own qualified name that is not inside a ``<t>``; UTF-16 parts
are re-encoded as UTF-8 (every other encoding the parser accepts writes tags in ASCII).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import Final

from youjun.io.limits.presets import EXCEL_CELL_CHARS, MIB
from youjun.io.limits.refusal import Refused, size_text

CARRY_MAX: Final = MIB
"""The longest unfinished piece carried from one segment to the next (beyond a cell's text)."""


class PartSink:
    """Receives one part's inflated bytes, chunk by chunk."""

    def feed(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


_ENTITY = re.compile(r"&(?:#[0-9]{1,10}|#x[0-9A-Fa-f]{1,8}|[A-Za-z][A-Za-z0-9]{0,30});|_x[0-9A-Fa-f]{4}_")


def _chars(raw: bytes) -> int:
    """Characters of raw XML text once references (``&amp;``, ``&#12345;``, ``_x000D_``) are replaced."""
    text = raw.decode("utf-8", errors="replace")
    if "&" in text or "_x" in text:
        text = _ENTITY.sub("x", text)
    return len(text)


class Text:
    """The text of one cell or shared string, counted as it arrives (possibly across chunks).

    Raw bytes bound the characters from above; only text longer than ``limit`` bytes is decoded (up to a hard cap
    of 12 bytes per allowed character: a longer text cannot be within the limit however it is escaped)."""

    __slots__ = ("_hard", "_kept", "_limit", "chars", "raw")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._hard = limit * 12 + 4096
        self._kept: list[bytes] | None = []
        self.raw = 0
        self.chars = 0

    def add(self, piece: bytes) -> bool:
        """Add text; False once it is certainly over the limit."""
        self.raw += len(piece)
        if self._kept is not None:
            self._kept.append(piece)
            if self.raw > self._limit:
                if self.raw > self._hard:
                    return False
                self.chars = sum(_chars(p) for p in self._kept)
                self._kept = None
                return self.chars <= self._limit
            self.chars = self.raw
            return True
        if self.raw > self._hard:
            return False
        self.chars += _chars(piece)
        return self.chars <= self._limit


class _Decoder:
    """Turns a part's bytes into ASCII-compatible bytes: UTF-16 (BOM or ``<\\0``) is re-encoded as UTF-8.

    Tags can only be written in ASCII in every other encoding the parser accepts, so those bytes are scanned as
    they are."""

    def __init__(self) -> None:
        self._decided = False
        self._decoder: codecs.IncrementalDecoder | None = None
        self._head = b""

    def feed(self, data: bytes, final: bool = False) -> bytes:
        if not self._decided:
            self._head += data
            if len(self._head) < 4 and not final:
                return b""
            data, self._head = self._head, b""
            self._decided = True
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                self._decoder = codecs.getincrementaldecoder("utf-16")("replace")
            elif data.startswith(b"<\x00"):
                self._decoder = codecs.getincrementaldecoder("utf-16-le")("replace")
            elif data.startswith(b"\x00<"):
                self._decoder = codecs.getincrementaldecoder("utf-16-be")("replace")
        if self._decoder is None:
            return data
        return self._decoder.decode(data, final).encode("utf-8")


class XmlStream(PartSink):
    """Cuts a part into segments that end just before a ``<`` (never inside a tag, comment or CDATA section).

    Every part is read so (the parser accepts any bytes before the first tag, and a relationship may point a sheet
    at any part); outside the region a subclass reads (``reading``), text is dropped rather than carried, so that a
    picture costs nothing."""

    def __init__(self, what: str, sheet: Callable[[], str | None]) -> None:
        self._decoder = _Decoder()
        self._carry = b""
        self._what = what
        self._sheet = sheet
        self.finished = False

    def reading(self) -> bool:
        return True

    def feed(self, data: bytes) -> None:
        if not self.finished:
            self._push(self._decoder.feed(data), final=False)

    def close(self) -> None:
        if not self.finished:
            self._push(self._decoder.feed(b"", final=True), final=True)

    def _push(self, data: bytes, final: bool) -> None:
        buf = self._carry + data if self._carry else data
        if final:
            self._carry = b""
            self.segment(buf, True)
            return
        cut = _safe_cut(buf)
        if cut <= 0:
            if not self.reading():
                self._carry = buf[buf.rfind(b"<") :] if b"<" in buf else b""
                return
            self._carry = buf
            if len(buf) > CARRY_MAX + 16 * EXCEL_CELL_CHARS:
                raise Refused(
                    "text_too_long",
                    f"{self._what}中有一段超过 {size_text(len(buf))} 的连续内容（文本过长或文件已损坏）",
                    self._sheet(),
                )
            return
        self._carry = buf[cut:]
        self.segment(buf[:cut], False)

    def segment(self, seg: bytes, final: bool) -> None:
        raise NotImplementedError

    def put_back(self, rest: bytes) -> None:
        """Hand the end of a segment back, to be seen again with the next one (an unfinished row)."""
        self._carry = rest + self._carry


def _safe_cut(buf: bytes) -> int:
    """The last ``<`` of ``buf`` that is outside any comment or CDATA section (or the start of the section it is
    in): the bytes before it hold only whole tags and whole sections."""
    cut = buf.rfind(b"<")
    if cut <= 0 or b"<!" not in buf:
        return cut
    for opener, closer in ((b"<![CDATA[", b"]]>"), (b"<!--", b"-->")):
        at = buf.rfind(opener, 0, cut + 1)
        while at >= 0:
            close = buf.find(closer, at + len(opener))
            if close < 0 or close + len(closer) > cut:
                cut = at  # the cut is inside this section (or the section is unfinished): cut before it
                at = buf.rfind(opener, 0, at)
            else:
                break
    return cut


# The exact tokenizer: CDATA, comments, processing instructions and declarations, tags (attribute values may hold
# ">"), and text.
TOKEN = re.compile(
    rb"<!\[CDATA\[(.*?)\]\]>"
    rb"|<!--.*?-->"
    rb"|<[?!][^>]*>"
    rb"|<(/?)((?:[A-Za-z_][\w.\-]*:)?)([A-Za-z_][\w.\-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
    rb"|([^<]+)",
    re.DOTALL,
)
_ATTR = re.compile(rb"([^\s=/>\"']+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def attrs(raw: bytes) -> list[tuple[bytes, bytes]]:
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3)) for m in _ATTR.finditer(raw)]


class Event:
    """One tag token as the parser's events: an empty element (``<x/>``) is a start and an end (the parser reads
    with ``expand_empty_elements``)."""

    __slots__ = ("attrs", "empty", "end", "local", "qname")

    def __init__(self, m: re.Match[bytes]) -> None:
        closing, prefix, local, attrs = m.group(2, 3, 4, 5)
        self.end = bool(closing)
        self.local = local
        self.qname = prefix + local
        self.attrs = attrs
        self.empty = not self.end and attrs.rstrip().endswith(b"/")


class StringReader:
    """``read_string_with_bufs``: a string (a shared string's ``<si>`` or a cell's ``<is>``) ends at the first end
    tag with the same qualified name that is not inside a ``<t>``; a ``<t>`` ends only at its own end tag (so a
    ``</si>`` inside an unfinished ``<t>`` does not end the string). All text inside counts (an upper bound)."""

    __slots__ = ("closing", "t_name")

    def __init__(self, closing: bytes) -> None:
        self.closing = closing
        self.t_name: bytes | None = None

    def start(self, ev: Event) -> None:
        if self.t_name is None and ev.local == b"t":
            self.t_name = ev.qname

    def finish(self, ev: Event) -> bool:
        """Handle an end event; True when it ends the string."""
        if self.t_name is not None:
            if ev.qname == self.t_name:
                self.t_name = None
            return False
        return ev.qname == self.closing


def events(m: re.Match[bytes]) -> tuple[Event, bool, bool]:
    """(event, has a start, has an end) of a tag token."""
    ev = Event(m)
    return ev, not ev.end, ev.end or ev.empty
