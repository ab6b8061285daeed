"""The parts of an ``.xlsx`` workbook as the parser reads them: which part is which sheet, the shared strings and
the text of all cells once they are expanded (a shared string counts once per cell using it).

Every part is read as a worksheet (a relationship can point a sheet at any part); the shared strings, the workbook and
its relationships are also read for what they are. Worksheets are in ``worksheet``.
"""

from __future__ import annotations

import re
from array import array
from functools import lru_cache

from youjun.io.limits.presets import EXCEL_CELL_CHARS, MIB, InputLimits
from youjun.io.limits.refusal import Refused, size_text
from youjun.io.limits.worksheet import SheetSink
from youjun.io.limits.xmlscan import TOKEN, PartSink, StringReader, Text, XmlStream, attrs, events


def normal_part(name: str) -> str:
    return name.replace("\\", "/").lstrip("/").lower()


def is_shared_strings(name: str) -> bool:
    return normal_part(name).endswith("sharedstrings.xml")


def is_naming_part(name: str) -> bool:
    n = normal_part(name)
    return n.endswith("workbook.xml") or n.endswith("workbook.xml.rels")


class Workbook:
    """What the parts of one workbook tell about each other: sheet names, shared-string lengths, expanded text."""

    def __init__(self, limits: InputLimits) -> None:
        self.limits = limits
        self.sheet_names: dict[str, str] = {}  # normalised part name -> sheet name
        self._workbook_xml = b""
        self._rels_xml = b""
        self.lengths = array("Q")
        self.max_length = 0
        self.expanded = 0

    def sink_for(self, name: str) -> PartSink:
        """Every part is read as a worksheet (a relationship can point a sheet at any part); the shared strings,
        the workbook and its relationships are also read for what they are."""
        n = normal_part(name)
        sheet = SheetSink(self, name)
        if n.endswith("workbook.xml.rels"):
            return _Collect(self, "rels", then=sheet)
        if n.endswith("workbook.xml"):
            return _Collect(self, "workbook", then=sheet)
        if is_shared_strings(name):
            return _Tee(_SharedStringsSink(self), sheet)
        return sheet

    def merge_lengths(self, lengths: array[int]) -> None:
        """Another shared-strings part: each index keeps the longest string any of them has there."""
        for i, n in enumerate(lengths):
            if i < len(self.lengths):
                if n > self.lengths[i]:
                    self.lengths[i] = n
            else:
                self.lengths.append(n)
            if n > self.max_length:
                self.max_length = n

    def collected(self, kind: str, data: bytes) -> None:
        if kind == "rels":
            self._rels_xml = data
        else:
            self._workbook_xml = data
        if self._rels_xml and self._workbook_xml:
            self._name_sheets()

    def _name_sheets(self) -> None:
        attr = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
        targets = {}
        for tag in re.findall(rb"<(?:\w+:)?Relationship\b([^>]*)>", self._rels_xml):
            attrs = dict(attr.findall(tag))
            if b"Id" in attrs and b"Target" in attrs:
                targets[attrs[b"Id"]] = attrs[b"Target"].decode("utf-8", errors="replace")
        for tag in re.findall(rb"<(?:\w+:)?sheet\b([^>]*)>", self._workbook_xml):
            attrs = dict(attr.findall(tag))
            rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
            name = attrs.get(b"name")
            target = targets.get(rid) if rid is not None else None
            if name is None or target is None:
                continue
            shown = _xml_unescape(name.decode("utf-8", errors="replace"))
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            self.sheet_names[normal_part(_resolve(part))] = shown

    def sheet(self, part: str) -> str | None:
        return self.sheet_names.get(normal_part(part))

    def add_expansion(self, n: int, sheet: str | None) -> None:
        self.expanded += n
        if self.expanded > self.limits.max_text_total:
            raise Refused(
                "text_expansion_too_large",
                f"工作簿的单元格文本（共享字符串按引用次数展开后）超过 {size_text(self.limits.max_text_total)} 的上限"
                "（同一长文本被大量单元格引用，可能是恶意构造的文件）",
                sheet,
            )


def _resolve(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _xml_unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")).replace(
        "&amp;", "&"
    )


class _Tee(PartSink):
    def __init__(self, *sinks: PartSink) -> None:
        self.sinks = sinks

    def feed(self, data: bytes) -> None:
        for sink in self.sinks:
            sink.feed(data)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


class _Collect(PartSink):
    """Keeps a small part (the workbook and its relationships, for sheet names); passes it on to ``then``."""

    def __init__(self, book: Workbook, kind: str, then: PartSink | None = None) -> None:
        self.book, self.kind, self.then = book, kind, then
        self.parts: list[bytes] = []
        self.size = 0

    def feed(self, data: bytes) -> None:
        if self.size <= MIB:
            self.parts.append(data)
        self.size += len(data)
        if self.then is not None:
            self.then.feed(data)

    def close(self) -> None:
        if self.size <= MIB:
            self.book.collected(self.kind, b"".join(self.parts))
        if self.then is not None:
            self.then.close()


class _SharedStringsSink(XmlStream):
    """The shared strings as the parser reads them (``read_shared_strings``): after the ``<sst>`` start element, each
    ``<si>`` start pushes one string (an empty ``<si/>`` too), until the ``</sst>`` end element."""

    def __init__(self, book: Workbook) -> None:
        super().__init__("共享字符串表", lambda: None)
        self.book = book
        self.limits = book.limits
        self._items = _shared_items(book.limits.max_text_chars)
        self._state = "prolog"  # prolog -> items -> done
        self.lengths = array("Q")
        self._item: StringReader | None = None
        self._text = Text(self.limits.max_text_chars)

    def reading(self) -> bool:
        return self._state == "items"

    def segment(self, seg: bytes, final: bool) -> None:
        pos, n = 0, len(seg)
        items = self._items
        while pos < n and self._state != "done":
            if self._state == "items" and self._item is None:
                m = items.match(seg, pos)
                if m is not None and m.end() > pos:
                    if m.group(1) is not None:
                        self._push_length(m.end(1) - m.start(1))
                    pos = m.end()
                    continue
            m = TOKEN.match(seg, pos)
            if m is None:  # a lone "<" that starts no tag
                raise Refused("archive_damaged", "共享字符串表的格式错误，为安全起见")
            pos = m.end()
            self._token(m)
        if self._state == "done":
            self.finished = True

    def _token(self, m: re.Match[bytes]) -> None:
        cdata, text = m.group(1), m.group(6)
        if cdata is not None or text is not None:
            if self._item is not None and not self._text.add(cdata if cdata is not None else text):
                raise self._too_long()
            return
        if m.group(4) is None:
            return  # a comment, processing instruction or declaration
        ev, starts, ends = events(m)
        if starts:
            if self._item is not None:
                self._item.start(ev)
            elif self._state == "prolog" and ev.local == b"sst":
                self._state = "items"
                for key, value in attrs(ev.attrs):
                    if key == b"uniqueCount":  # the parser reserves this many strings up front
                        if value.isdigit() and int(value) > self.limits.max_shared_strings:
                            raise Refused(
                                "too_many_shared_strings",
                                f"共享字符串表声明了 {int(value):,} 个字符串，超过 "
                                f"{self.limits.max_shared_strings:,} 个的上限",
                            )
                        break
            elif self._state == "items" and ev.local == b"si":
                self._item = StringReader(ev.qname)
                self._text = Text(self.limits.max_text_chars)
        if ends:
            if self._item is not None:
                if self._item.finish(ev):
                    self._item = None
                    self._push_length(self._text.raw)
            elif self._state == "items" and ev.local == b"sst":
                self._state = "done"

    def _push_length(self, raw: int) -> None:
        if len(self.lengths) >= self.limits.max_shared_strings:
            raise Refused("too_many_shared_strings", f"共享字符串超过 {self.limits.max_shared_strings:,} 个的上限")
        self.lengths.append(raw)

    def _too_long(self) -> Refused:
        return Refused(
            "text_too_long",
            f"共享字符串表中有超过 {self.limits.max_text_chars:,} 个字符的文本（Excel 单元格最多 "
            f"{EXCEL_CELL_CHARS:,} 个字符）",
        )

    def close(self) -> None:
        super().close()
        self._item = None  # an unfinished string: the parser fails at the end of the part
        self.book.merge_lengths(self.lengths)


@lru_cache(maxsize=16)
def _shared_items(max_chars: int) -> re.Pattern[bytes]:
    """A plain shared string, ``<si><t>text</t></si>``, or whitespace (group 1: the text)."""
    text = rb"[^<]{0,%d}+" % max_chars
    return re.compile(rb"\s++|<si><t(?: xml:space=\"preserve\")?>(" + text + rb")</t></si>")
