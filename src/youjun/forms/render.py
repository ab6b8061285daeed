"""A filled form as Word and Excel files, laid out like the printed form.

Word: the title, the notes, then per section a bordered table of label / value cells (two short fields per row,
long texts across the row), table fields as their own tables, and opinion fields as boxes with room to write and a
signature and date line. Excel: one sheet 「表单」 laid out the same way (values typed: numbers stay numbers,
percentages are fractions with a percent format) and a flat sheet 「字段」 (key, label, value) for machine reading.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from xlsxwriter import Workbook  # type: ignore[import-untyped]

from youjun.forms.definition import Column, Field, FormDefinition, Section
from youjun.forms.fill import _is_number, _parse_date, display, flatten
from youjun.io.docx_base import Cell, add_paragraph, add_table, new_document, to_bytes

__all__ = ["FIELDS_SHEET", "FORM_SHEET", "form_docx", "form_xlsx"]

FORM_SHEET = "表单"
FIELDS_SHEET = "字段"
_LABEL_SHADE = "F2F2F2"
_GRID = (3.6, 4.2, 3.6, 4.2)  # label, value, label, value (cm): 15.6 cm of text width on A4
_SHORT = frozenset({"int", "number", "percent", "year", "date", "choice", "text"})
_SIGNATURE = "负责人（签字）：　　　　　　　　　　　　年　　月　　日"


def _is_short(field: Field) -> bool:
    return field.type in _SHORT and len(field.caption) <= 14


def _field_value(field: Field, values: Mapping[str, Any]) -> str:
    return display(field, values.get(field.key))


# ----------------------------------------------------------------------------------------------------
# Word


def form_docx(defn: FormDefinition, values: Mapping[str, Any]) -> bytes:
    """The filled form as a Word document."""
    doc = new_document(title=defn.title)
    doc.add_heading(defn.title, level=0)
    add_paragraph(doc, f"（第 {defn.version} 版）", size=9, align="center")
    for note in defn.notes:
        add_paragraph(doc, note, size=10.5)
    for section in defn.sections:
        _docx_section(doc, section, values)
    return to_bytes(doc)


def _docx_section(doc: Any, section: Section, values: Mapping[str, Any]) -> None:
    rows: list[list[Any]] = [[Cell(section.title, bold=True, span=4, shade="D9E1F2")]]
    if section.note:
        rows.append([Cell(section.note, span=4)])
    pending: Field | None = None

    def flush_pending() -> None:
        nonlocal pending
        if pending is not None:
            rows.append([Cell(pending.caption, shade=_LABEL_SHADE), Cell(_field_value(pending, values), span=3)])
            pending = None

    for field in section.fields:
        if field.type == "table":
            flush_pending()
            add_table(doc, rows, _GRID, header_rows=1)
            rows = []
            _docx_table_field(doc, field, values)
            continue
        if _is_short(field):
            if pending is None:
                pending = field
                continue
            rows.append(
                [
                    Cell(pending.caption, shade=_LABEL_SHADE),
                    _field_value(pending, values),
                    Cell(field.caption, shade=_LABEL_SHADE),
                    _field_value(field, values),
                ]
            )
            pending = None
            continue
        flush_pending()
        if field.opinion:
            signer = f"{field.signer}（盖章）" if field.signer else ""
            text = _field_value(field, values)
            rows.append(
                [Cell(field.caption, shade=_LABEL_SHADE), Cell(text, span=3, height_lines=4 if not text else 1)]
            )
            rows.append([Cell("", shade=_LABEL_SHADE), Cell(f"{signer}\n{_SIGNATURE}", span=3, align="right")])
        else:
            rows.append([Cell(field.caption, shade=_LABEL_SHADE), Cell(_field_value(field, values), span=3)])
    flush_pending()
    if rows:
        add_table(doc, rows, _GRID, header_rows=0)


def _docx_table_field(doc: Any, field: Field, values: Mapping[str, Any]) -> None:
    data = values.get(field.key)
    rows_in = data if isinstance(data, list) else []
    labelled = bool(field.rows)
    header: list[Any] = [field.row_header or field.label] if labelled else []
    header += [f"{c.label}（{c.unit}）" if c.unit else c.label for c in field.columns]
    count = len(field.rows) if labelled else len(rows_in)
    body: list[list[Any]] = []
    for i in range(count):
        row = rows_in[i] if i < len(rows_in) and isinstance(rows_in[i], Mapping) else {}
        cells: list[Any] = [field.rows[i].label] if labelled else []
        cells += [Cell(display(c, row.get(c.key)), align=_align(c)) for c in field.columns]
        body.append(cells)
    width = sum(_GRID)
    first = 5.6 if labelled else 0.0
    rest = (width - first) / max(1, len(field.columns))
    widths = ([first] if labelled else []) + [rest] * len(field.columns)
    caption = [
        Cell(field.caption + (f"　{field.note}" if field.note else ""), bold=True, span=len(widths), shade="D9E1F2")
    ]
    add_table(doc, [caption, header, *body], widths, header_rows=2)


def _align(column: Column) -> str | None:
    return "right" if column.type in ("int", "number", "percent") else None


# ----------------------------------------------------------------------------------------------------
# Excel


class _Formats:
    def __init__(self, workbook: Any) -> None:
        border = {"border": 1, "valign": "vcenter", "text_wrap": True}
        self.title = workbook.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.note = workbook.add_format({"font_color": "#595959", "text_wrap": True, "valign": "top"})
        self.section = workbook.add_format({**border, "bold": True, "bg_color": "#D9E1F2"})
        self.label = workbook.add_format({**border, "bg_color": "#F2F2F2"})
        self.header = workbook.add_format({**border, "bold": True, "bg_color": "#F2F2F2", "align": "center"})
        self.text = workbook.add_format({**border, "num_format": "@"})
        self.workbook = workbook
        self._numbers: dict[str, Any] = {}

    def number(self, num_format: str) -> Any:
        if num_format not in self._numbers:
            self._numbers[num_format] = self.workbook.add_format(
                {"border": 1, "valign": "vcenter", "num_format": num_format}
            )
        return self._numbers[num_format]


def _num_format(spec: Field | Column) -> str | None:
    if spec.type == "percent":
        return "0." + "0" * (2 if spec.decimals is None else spec.decimals) + "%"
    if spec.type in ("int", "year"):
        return "0" if spec.type == "year" else "#,##0"
    if spec.type == "number":
        decimals = 2 if spec.decimals is None else spec.decimals
        return "#,##0" + ("." + "0" * decimals if decimals else "")
    return None


def _write_value(sheet: Any, row: int, col: int, spec: Field | Column, value: Any, formats: _Formats) -> None:
    """Numbers as numbers (typed), everything else as literal text (never a formula)."""
    num_format = _num_format(spec)
    if num_format is not None and _is_number(value):
        sheet.write_number(row, col, value, formats.number(num_format))
    else:
        shown = display(spec, value)
        if spec.type == "date" and _parse_date(value) is not None:
            shown = str(_parse_date(value))
        sheet.write_string(row, col, shown, formats.text)


def form_xlsx(defn: FormDefinition, values: Mapping[str, Any]) -> bytes:
    """The filled form as an Excel workbook: the laid-out sheet 「表单」 and the flat sheet 「字段」."""
    buffer = io.BytesIO()
    workbook = Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    workbook.set_properties({"title": defn.title, "subject": f"{defn.id} v{defn.version}"})
    formats = _Formats(workbook)
    _form_sheet(workbook.add_worksheet(FORM_SHEET), defn, values, formats)
    _fields_sheet(workbook.add_worksheet(FIELDS_SHEET), defn, values, formats)
    workbook.close()
    return buffer.getvalue()


def _form_sheet(sheet: Any, defn: FormDefinition, values: Mapping[str, Any], formats: _Formats) -> None:
    widest = max([4, *(len(f.columns) + (1 if f.rows else 0) for f in defn.fields if f.type == "table")])
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, widest - 1, 16)
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.merge_range(0, 0, 0, widest - 1, defn.title, formats.title)
    sheet.set_row(0, 30)
    row = 1
    for note in defn.notes:
        sheet.merge_range(row, 0, row, widest - 1, note, formats.note)
        row += 1
    for section in defn.sections:
        row += 1
        sheet.merge_range(row, 0, row, widest - 1, section.title, formats.section)
        row += 1
        for field in section.fields:
            if field.type == "table":
                row = _table_rows(sheet, row, field, values, formats, widest)
                continue
            sheet.write_string(row, 0, field.caption, formats.label)
            if widest > 2:
                sheet.merge_range(row, 1, row, widest - 1, "", formats.text)
            _write_value(sheet, row, 1, field, values.get(field.key), formats)
            if field.type == "longtext":
                sheet.set_row(row, 60 if not field.opinion else 90)
            row += 1
            if field.opinion:
                signer = f"{field.signer}（盖章）　" if field.signer else ""
                sheet.merge_range(row, 1, row, widest - 1, signer + _SIGNATURE, formats.text)
                sheet.write_string(row, 0, "", formats.label)
                row += 1


def _table_rows(sheet: Any, row: int, field: Field, values: Mapping[str, Any], formats: _Formats, widest: int) -> int:
    data = values.get(field.key)
    rows_in = data if isinstance(data, list) else []
    sheet.merge_range(row, 0, row, widest - 1, field.caption, formats.label)
    row += 1
    offset = 1 if field.rows else 0
    if field.rows:
        sheet.write_string(row, 0, field.row_header or field.label, formats.header)
    for j, column in enumerate(field.columns):
        sheet.write_string(
            row, offset + j, f"{column.label}（{column.unit}）" if column.unit else column.label, formats.header
        )
    row += 1
    count = len(field.rows) if field.rows else len(rows_in)
    for i in range(count):
        item = rows_in[i] if i < len(rows_in) and isinstance(rows_in[i], Mapping) else {}
        if field.rows:
            sheet.write_string(row, 0, field.rows[i].label, formats.label)
        for j, column in enumerate(field.columns):
            _write_value(sheet, row, offset + j, column, item.get(column.key), formats)
        row += 1
    return row


def _fields_sheet(sheet: Any, defn: FormDefinition, values: Mapping[str, Any], formats: _Formats) -> None:
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 1, 50)
    sheet.set_column(2, 2, 40)
    for col, header in enumerate(("键", "名称", "值", "类型", "单位")):
        sheet.write_string(0, col, header, formats.header)
    sheet.freeze_panes(1, 0)
    row = 1
    for key, label, spec, value in flatten(defn, values):
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, label)
        if _is_number(value) and spec.type in ("int", "number", "percent", "year"):
            sheet.write_number(row, 2, value)
        elif spec.type == "date" and _parse_date(value) is not None:
            sheet.write_string(row, 2, str(_parse_date(value)))
        elif spec.type == "multichoice" and isinstance(value, list):
            sheet.write_string(row, 2, "；".join(str(v) for v in value))
        elif value is not None and value != "":
            sheet.write_string(row, 2, str(value))
        sheet.write_string(row, 3, spec.type)
        if spec.unit:
            sheet.write_string(row, 4, spec.unit)
        row += 1
    sheet.autofilter(0, 0, max(row - 1, 1), 4)
