"""One worksheet of an ``.xlsx``, read as the parser reads it: the position of every cell with a value within the
limits (the parser allocates the grid up to the last value), the text of every cell, the shared strings it expands.

Worksheets as spreadsheet programs and libraries write them go through a fast path: rows of plain cells are matched
by one regular expression per run of rows, the cell references bounded in the pattern itself (about 100 MB of sheet
XML per second); anything else (rich text, cells without references, comments, prefixes) goes through the exact
tokenizer of ``xmlscan``, which follows the parser's own rules.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from youjun.io.limits.bounds import cell_position, columns_gt, columns_le, digits_le, letters, row_number
from youjun.io.limits.presets import EXCEL_CELL_CHARS
from youjun.io.limits.refusal import Refused
from youjun.io.limits.xmlscan import CARRY_MAX, TOKEN, Event, StringReader, Text, XmlStream, attrs, events

if TYPE_CHECKING:
    from youjun.io.limits.ooxml import Workbook


@lru_cache(maxsize=16)
def _row_numbers(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"<" + re.escape(prefix) + rb'row r="([0-9]{1,10})"')


@lru_cache(maxsize=1024)
def _wider_cells(prefix: bytes, columns: int) -> re.Pattern[bytes]:
    """A cell reference beyond column ``columns`` (group 1: the reference)."""
    return re.compile(rb"<" + re.escape(prefix) + rb'c r="((?:' + columns_gt(columns) + rb")[0-9]{1,10})\"")


@lru_cache(maxsize=16)
def _canonical_rows(prefix: bytes, max_rows: int, max_columns: int, max_chars: int) -> re.Pattern[bytes]:
    """A run of whole rows of plain cells, every reference within the limits (group ``r``: the last row's ``r``).

    Every row has ``r`` first; every cell has ``r`` first, only ``s``, ``t``, ``cm``, ``vm``, ``ph`` besides, and
    holds only ``<v>``, ``<is><t>`` (text of at most ``max_chars`` bytes), ``<f>`` and whitespace; a cell that is not
    empty is on its row's own number, within ``max_rows`` and ``max_columns``."""
    p = re.escape(prefix)
    value = rb'"[^"<]*"'
    cell_attrs = rb"(?: (?:s|t|cm|vm|ph)=" + value + rb")*+"
    text = rb"[^<]{0,%d}+" % max_chars
    t = rb"<" + p + rb't(?: xml:space="preserve")?>' + text + rb"</" + p + rb"t>"
    content = (  # whitespace between the tags of a cell (pretty-printed files) is no value for the parser
        rb"(?:<" + p + rb"v>" + text + rb"</" + p + rb"v>"
        rb"|<" + p + rb"is>\s*+" + t + rb"\s*+</" + p + rb"is>"
        rb"|<" + p + rb"f(?: [A-Za-z]+=" + value + rb")*+(?:/>|>[^<]*+</" + p + rb"f>)"
        rb"|\s++)*+"
    )
    # A cell with a value: in bounds, on its row's own number (the lookahead bounds that number). An empty cell
    # (no value for the parser) and the row holding only such cells may have any number.
    ref = columns_le(max_columns) + rb"(?=" + digits_le(max_rows) + rb'")(?P=r)'
    value_cell = rb"<" + p + rb'c r="' + ref + rb'"' + cell_attrs + rb">" + content + rb"</" + p + rb"c>"
    empty_cell = rb"<" + p + rb'c r="[A-Za-z]{1,8}[0-9]{1,10}"' + cell_attrs + rb"/>"
    row_attrs = rb"(?: (?!r=)[\w:.\-]+=" + value + rb")*+"
    cells = rb"(?:" + value_cell + rb"|" + empty_cell + rb"|\s++)*+"
    row = rb"<" + p + rb'row r="(?P<r>[0-9]{1,10})"' + row_attrs + rb"(?:/>|>" + cells + rb"</" + p + rb"row>)"
    return re.compile(rb"(?:" + row + rb"|\s++)*+")


class SheetSink(XmlStream):
    """One worksheet, read as the parser reads it (``XlsxCellReader``).

    Before ``sheetData`` nothing matters. Then the parser keeps ``row`` (set by a row's ``r``, plus one at each row
    end) and ``col`` (set by a cell's ``r``, plus one at each cell end, zero at each row end); a cell without ``r`` is
    at (row, col). Inside a cell each child (``<v>``, ``<f>``, ``<is>``) is read to its own end, so nothing inside it
    counts as a tag; the cell ends at the next ``</c>``. An empty element is a start and an end. The grid the
    parser allocates spans every cell holding a value, so each such cell must be within the limits."""

    def __init__(self, book: Workbook, part: str) -> None:
        super().__init__("工作表", lambda: book.sheet(part))
        self.book = book
        self.part = part
        self.limits = book.limits
        self.state = "prolog"  # prolog -> cells -> done
        self.prefix = b""
        self.row = 0
        self.col = 0
        self.in_cell = False
        self.position: tuple[int, int] | None = None  # of the current cell, checked once it holds a value
        self.shared = False
        self.text = Text(self.limits.max_text_chars)
        self.child: bytes | None = None  # qualified name of the child being read to its end
        self.depth = 0
        self.string: StringReader | None = None
        self.first_text = False
        # The grid: rows × columns up to the last value. Within ``free_columns`` columns it cannot exceed the limit
        # (rows are bounded anyway); only beyond that are the largest row and column followed.
        self.free_columns = min(self.limits.max_columns, self.limits.max_cells // self.limits.max_rows)
        self.max_row = 0
        self.max_col = 0

    def reading(self) -> bool:
        return self.state == "cells"

    def segment(self, seg: bytes, final: bool) -> None:
        pos = 0
        if self.state == "prolog":
            pos = self._find_sheet_data(seg)
            if pos < 0:
                return
        if self.state == "cells":
            self._cells(seg, pos, final)
        if self.state == "done":
            self.finished = True

    def _find_sheet_data(self, seg: bytes) -> int:
        """After the first ``sheetData`` start tag (the parser's ``XlsxCellReader::new`` stops there)."""
        at = seg.find(b"sheetData")
        while at >= 0:
            lt = seg.rfind(b"<", 0, at)
            head = seg[lt + 1 : at]
            if lt >= 0 and (head == b"" or re.fullmatch(rb"[A-Za-z_][\w.\-]*:", head)):
                m = TOKEN.match(seg, lt)
                if m is not None and m.group(4) == b"sheetData" and not m.group(2):
                    self.prefix = head
                    self.state = "done" if m.group(5).rstrip().endswith(b"/") else "cells"
                    return m.end()
            at = seg.find(b"sheetData", at + 1)
        return -1

    def _cells(self, seg: bytes, pos: int, final: bool) -> None:
        limits = self.limits
        canonical = _canonical_rows(self.prefix, limits.max_rows, limits.max_columns, limits.max_text_chars)
        row_end = b"</" + self.prefix + b"row>"
        end = len(seg)
        while pos < end and self.state == "cells":
            if not self.in_cell:
                m = canonical.match(seg, pos)
                if m is not None and m.end() > pos:
                    self._canonical_run(seg, pos, m.end(), m.group("r"))
                    pos = m.end()
                    continue
            stop = seg.find(row_end, pos)
            if stop < 0:
                if not final and not self.in_cell and end - pos <= CARRY_MAX:
                    self.put_back(seg[pos:])  # most likely a row cut by the chunk: see it again, whole
                    return
                stop = end
            else:
                stop += len(row_end)
            pos = self._exact(seg, pos, stop)

    def _canonical_run(self, seg: bytes, start: int, end: int, last_row: bytes | None) -> None:
        if last_row is not None:  # the last row set the counter; its end added one and reset the column
            self.row = int(last_row)
            self.col = 0
        if self.free_columns < self.limits.max_columns:
            self._grid_of_run(seg, start, end)
        shared = seg.count(b't="s"', start, end)
        if shared and self.book.lengths:
            bound = shared * self.book.max_length
            if self.book.expanded + bound <= self.limits.max_text_total:
                self.book.add_expansion(bound, self.book.sheet(self.part))
            else:
                self.book.add_expansion(self._exact_shared(seg, start, end), self.book.sheet(self.part))

    def _grid_of_run(self, seg: bytes, start: int, end: int) -> None:
        """The largest row of a run of plain rows (a cell is on its row's number) and any cell wider than both
        ``free_columns`` and the widest seen so far (one search, found again only when the width grows)."""
        numbers = _row_numbers(self.prefix).findall(seg, start, end)
        if numbers:
            self.max_row = max(self.max_row, max(map(int, numbers)))
        pos = start
        while True:
            m = _wider_cells(self.prefix, max(self.max_col, self.free_columns)).search(seg, pos, end)
            if m is None:
                break
            pos = m.end()
            close = seg.find(b">", pos, end)
            if close > 0 and seg[close - 1 : close] == b"/":
                continue  # an empty cell: no value, no grid
            position = cell_position(m.group(1))
            if position is not None:
                self.max_col = max(self.max_col, position[1] + 1)
        self._check_grid()

    def _check_grid(self) -> None:
        if self.max_col <= self.free_columns or self.max_row * self.max_col <= self.limits.max_cells:
            return
        sheet = self.book.sheet(self.part)
        raise Refused(
            "too_many_cells",
            f"工作表{_named(sheet)}的数据范围为 {self.max_row:,} 行 × {self.max_col:,} 列，超过每个工作表 "
            f"{self.limits.max_cells:,} 个单元格的上限（请删除多余的行列，或确认是否选错了文件）",
            sheet,
        )

    def _exact_shared(self, seg: bytes, start: int, end: int) -> int:
        """The text the shared-string cells of a run of plain rows really expand to."""
        lengths, total = self.book.lengths, 0
        v_start, c_end = b"<" + self.prefix + b"v>", b"</" + self.prefix + b"c>"
        at = seg.find(b't="s"', start, end)
        while at >= 0:
            close = seg.find(c_end, at, end)
            v = seg.find(v_start, at, close if close >= 0 else end)
            if v >= 0:
                stop = seg.find(b"<", v + 1, end)
                text = seg[v + len(v_start) : stop].strip()
                if text.isdigit() and int(text) < len(lengths):
                    total += lengths[int(text)]
            at = seg.find(b't="s"', at + 5, end)
        return total

    def _exact(self, seg: bytes, pos: int, stop: int) -> int:
        while pos < stop and self.state == "cells":
            m = TOKEN.match(seg, pos, stop)
            if m is None:
                raise Refused("archive_damaged", "工作表的格式错误，为安全起见", self.book.sheet(self.part))
            pos = m.end()
            self._token(m)
        return pos

    def _token(self, m: re.Match[bytes]) -> None:
        cdata, text = m.group(1), m.group(6)
        if cdata is not None or text is not None:
            if self.in_cell:
                self._text_in_cell(cdata if cdata is not None else text)
            return
        if m.group(4) is None:
            return  # a comment, processing instruction or declaration: no event the cell reader acts on
        ev, starts, ends = events(m)
        if self.child is not None or self.string is not None:
            self._in_child(ev, starts, ends)
        elif self.in_cell:
            if starts:
                self._child_start(ev, ends)
            elif ev.local == b"c":
                self._cell_end()
        else:
            if starts:
                if ev.local == b"row":
                    for key, value in attrs(ev.attrs):
                        if key == b"r":  # the first r
                            number = row_number(value)
                            if number is not None:
                                self.row = number
                            break
                elif ev.local == b"c":
                    self._cell_start(ev)
            if ends:
                if ev.local == b"row":
                    self.row += 1
                    self.col = 0
                elif ev.local == b"c" and self.in_cell:
                    self._cell_end()
                elif ev.local == b"sheetData":  # the end of the cells (an empty <sheetData/> too)
                    self.state = "done"

    def _cell_start(self, ev: Event) -> None:
        ref = t = None
        found = 0
        for key, value in attrs(ev.attrs):  # get_attrs!: the last value wins until all three have been seen
            if key in (b"r", b"s", b"t"):
                if key == b"r":
                    ref = value
                elif key == b"t":
                    t = value
                found += 1
                if found == 3:
                    break
        self.position = cell_position(ref) if ref is not None else (self.row, self.col)
        if ref is not None and self.position is not None:
            self.col = self.position[1]
        self.in_cell = True
        self.shared = t == b"s"
        self.text = Text(self.limits.max_text_chars)

    def _cell_end(self) -> None:
        self.in_cell = False
        self.col += 1

    def _child_start(self, ev: Event, ends: bool) -> None:
        """A child of a cell: ``<is>`` is read as a string, anything else to its own end tag."""
        if ev.local == b"is":
            self._commit()
            self.string = StringReader(ev.qname)
        else:
            self.child, self.depth = ev.qname, 1
            self.first_text = ev.local == b"v"
        if ends:
            self._in_child(ev, False, True)

    def _in_child(self, ev: Event, starts: bool, ends: bool) -> None:
        if self.string is not None:
            if starts:
                self.string.start(ev)
            if ends and self.string.finish(ev):
                self.string = None
            return
        if ev.qname == self.child:
            self.depth += (1 if starts else 0) - (1 if ends else 0)
            if self.depth <= 0:
                self.child = None
                self.first_text = False

    def _text_in_cell(self, piece: bytes) -> None:
        if not self.text.add(piece):
            raise self._too_long()
        if self.first_text:  # the value of <v>: the cell holds a value; a shared string's index
            self.first_text = False
            self._commit()
            if self.shared:
                value = piece.strip()
                if value.isdigit() and int(value) < len(self.book.lengths):
                    self.book.add_expansion(self.book.lengths[int(value)], self.book.sheet(self.part))

    def _commit(self) -> None:
        if self.position is not None:
            self._at(self.position[0] + 1, self.position[1] + 1)
            self.position = None

    def _at(self, row: int, col: int) -> None:
        limits, sheet = self.limits, self.book.sheet(self.part)
        self.max_row, self.max_col = max(self.max_row, row), max(self.max_col, col)
        if row > limits.max_rows:
            raise Refused(
                "too_many_rows",
                f"工作表{_named(sheet)}有数据到第 {row:,} 行，超过每个工作表 {limits.max_rows:,} 行的上限"
                "（请删除多余的行，或确认是否选错了文件）",
                sheet,
            )
        if col > limits.max_columns:
            raise Refused(
                "too_many_columns",
                f"工作表{_named(sheet)}有数据到第 {col:,} 列（{letters(col)} 列），超过每个工作表 "
                f"{limits.max_columns:,} 列的上限（请删除多余的列，或确认是否选错了文件）",
                sheet,
            )
        self._check_grid()

    def _too_long(self) -> Refused:
        sheet = self.book.sheet(self.part)
        return Refused(
            "text_too_long",
            f"工作表{_named(sheet)}中有单元格的文本超过 {self.limits.max_text_chars:,} 个字符的上限"
            f"（Excel 单元格最多 {EXCEL_CELL_CHARS:,} 个字符）",
            sheet,
        )


def _named(sheet: str | None) -> str:
    return f"「{sheet}」" if sheet else ""
