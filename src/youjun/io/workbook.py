"""Excel writers: the blank annual workbook, the same workbook filled with data, and report tables.

The annual workbook (学校年度数据表, data-contract.md §1) has the data sheets ``学校`` and ``县级指标``
first, then the instructions sheet ``填表说明``. Row 1 of a data sheet holds exactly ``Column.header`` (the
importer matches it); required columns are marked by the header fill and by "（必填）" in the header
comment, never in the header text.

All writers use xlsxwriter in ``constant_memory`` mode (rows are streamed to disk in order, so 200,000-row
sheets need little memory) and never turn strings into formulas, links or numbers. Files are written to a
temporary name beside the target and renamed on success, so a failed write leaves no half-written workbook.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from xlsxwriter import Workbook  # type: ignore[import-untyped]
from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]

from youjun.contract import (
    COUNTY_SHEET,
    NOTES_SHEET,
    SCHOOL_SHEET,
    SHEETS,
    TEMPLATE_VERSION,
    Column,
    Kind,
)
from youjun.io.targets import check_target

__all__ = [
    "EXCEL_MAX_ROWS",
    "KIND_LABELS",
    "OPTIONS_SHEET",
    "TEMPLATE_ROWS",
    "Table",
    "write_data_workbook",
    "write_tables",
    "write_template",
]

TEMPLATE_ROWS = 20_000
"""Data rows covered by input validation in the blank template (rows 2..20001)."""

EXCEL_MAX_ROWS = 1_048_576
"""Rows per worksheet in the xlsx format, header included."""

OPTIONS_SHEET = "_选项"
"""Hidden sheet with dropdown lists too long for a literal list validation (Excel limit: 255 characters)."""

KIND_LABELS: dict[Kind, str] = {
    "int": "整数",
    "number": "数值",
    "year": "年份",
    "text": "文本",
    "code6": "6位代码",
    "enum": "下拉选项",
}

_KIND_RULES: dict[Kind, str] = {
    "int": "不小于 0 的整数",
    "number": "不小于 0 的数值",
    "year": "1900–2100 之间的四位年份",
    "text": "",
    "code6": "6 位数字，按文本填写，保留开头的 0",
    "enum": "从下拉列表中选择",
}

_TEXT_KINDS: frozenset[Kind] = frozenset({"text", "code6", "enum"})

_WORKBOOK_OPTIONS: dict[str, Any] = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

_LIST_LITERAL_LIMIT = 255  # Excel's limit on the characters of a literal list validation
_WIDTH_SAMPLE_ROWS = 1_000  # rows sampled to estimate column widths
_HEADER_HEIGHT = 48  # points: three lines of wrapped header text
_FROZEN_COLUMNS = 3  # year, id/code, name stay visible while scrolling right

_REQUIRED_FILL = "#F8CBAD"
_OPTIONAL_FILL = "#DDEBF7"
_TABLE_HEADER_FILL = "#D9E1F2"

_NOTES_TABLE_HEADERS = (
    "工作表",
    "列名",
    "英文键",
    "类型",
    "必填",
    "单位",
    "可选值",
    "默认值",
    "说明",
    "用于",
)
_NOTES_TABLE_WIDTHS = (10, 34, 30, 10, 6, 6, 34, 8, 48, 16)

_CellKind = Literal["number", "string"]


# ----------------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class Table:
    """One report sheet for :func:`write_tables`.

    ``headers`` maps a column key to its Chinese header (unmapped columns keep their name); ``formats`` maps a
    column key to an Excel number format such as ``"0.000"`` or ``"0.0%"``. Keys missing from ``frame`` are
    ignored, so one mapping can serve several tables.
    """

    sheet: str
    frame: pl.DataFrame
    headers: Mapping[str, str]
    formats: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None
    notes: Sequence[str] = ()


def write_template(path: str | os.PathLike[str]) -> None:
    """Write the blank annual workbook (学校年度数据表) that counties fill in Excel or WPS."""
    _write_annual_workbook(Path(path), {})


def write_data_workbook(path: str | os.PathLike[str], sheets: Mapping[str, pl.DataFrame]) -> None:
    """Write the annual workbook filled with data.

    ``sheets`` maps a data sheet name (``学校`` / ``县级指标``) to a frame whose columns are the English
    keys of that sheet; missing columns stay blank, extra columns are ignored, a missing sheet gets its
    header only; a non-empty frame without any known column is an error (nothing would be written).
    Nulls, NaN and empty strings become empty cells; booleans become 是/否.
    """
    unknown = [name for name in sheets if name not in SHEETS]
    if unknown:
        raise ValueError(f"未知的工作表：{'、'.join(unknown)}（应为 {SCHOOL_SHEET} 或 {COUNTY_SHEET}）")
    for name, frame in sheets.items():
        _check_row_count(name, frame.height, header_rows=1)
        keys = {column.key for column in SHEETS[name]}
        if frame.height and not keys.intersection(frame.columns):
            raise ValueError(f"工作表“{name}”的数据没有任何可识别的列（列名应为英文键，如 year）")
    _write_annual_workbook(Path(path), sheets)


def write_tables(path: str | os.PathLike[str], tables: Sequence[Table]) -> None:
    """Write report tables, one sheet each: optional title row, bold header, data, optional notes under it.

    The header is frozen and carries an autofilter; column widths are estimated from the header and a
    sample of values (CJK characters count double); booleans are written as 是/否, nulls, NaN and
    infinities as empty cells, and strings always as literal text.
    """
    if not tables:
        raise ValueError("没有要写出的表")
    for table in tables:
        header_rows = 2 if table.title is not None else 1
        notes_rows = len(table.notes) + 1 if table.notes else 0
        _check_row_count(table.sheet, table.frame.height + notes_rows, header_rows=header_rows)

    def build(workbook: Any) -> None:
        styles = _Styles(workbook)
        for table in tables:
            _write_table_sheet(workbook.add_worksheet(table.sheet), table, styles)

    _write_workbook(Path(path), build)


# ----------------------------------------------------------------------------------------------------
# Shared helpers


def _display_width(text: str) -> int:
    """Width of ``text`` in half-width character cells: CJK and other wide characters count double.

    >>> _display_width("学校abc")
    7
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _check_row_count(sheet: str, rows: int, *, header_rows: int) -> None:
    if rows + header_rows > EXCEL_MAX_ROWS:
        limit = EXCEL_MAX_ROWS - header_rows
        raise ValueError(f"工作表“{sheet}”有 {rows} 行，超过 Excel 单个工作表的上限 {limit} 行")


def _write_workbook(path: Path, build: Callable[[Any], None]) -> None:
    """Build a workbook under a temporary name beside ``path`` and move it into place only when complete."""
    check_target(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp.xlsx")
    workbook = Workbook(os.fspath(tmp), _WORKBOOK_OPTIONS)
    try:
        build(workbook)
    except BaseException:
        # close() also removes the row-data temporary files of constant_memory mode
        with contextlib.suppress(Exception):
            workbook.close()
        tmp.unlink(missing_ok=True)
        raise
    try:
        workbook.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _Styles:
    """Cell formats shared by the sheets of one workbook."""

    def __init__(self, workbook: Any) -> None:
        header = {"bold": True, "text_wrap": True, "valign": "vcenter", "align": "center", "border": 1}
        self.workbook = workbook
        self.required_header = workbook.add_format({**header, "bg_color": _REQUIRED_FILL, "font_color": "#9C0006"})
        self.optional_header = workbook.add_format({**header, "bg_color": _OPTIONAL_FILL})
        self.table_header = workbook.add_format({**header, "bg_color": _TABLE_HEADER_FILL})
        self.text = workbook.add_format({"num_format": "@"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.bold = workbook.add_format({"bold": True})
        self.note = workbook.add_format({"font_color": "#595959"})
        self._numbers: dict[str, Any] = {}

    def number(self, num_format: str) -> Any:
        if num_format not in self._numbers:
            self._numbers[num_format] = self.workbook.add_format({"num_format": num_format})
        return self._numbers[num_format]


def _literal_text(expr: pl.Expr) -> pl.Expr:
    """Strings as they must reach xlsxwriter: empty → null, and no accidental raw rich-text XML.

    In constant_memory mode xlsxwriter copies a string of the form ``<r>…</r>`` into the sheet XML
    unescaped (it takes it for its own rich-string markup), which corrupts the file. Such strings are
    wrapped in a plain rich-text run whose text is escaped here, so they read back unchanged.
    """
    escaped = (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )
    rich = pl.concat_str([pl.lit('<r><t xml:space="preserve">'), escaped, pl.lit("</t></r>")])
    return (
        pl.when(expr.str.len_bytes() == 0)
        .then(pl.lit(None, dtype=pl.String))
        .when(expr.str.starts_with("<r>") & expr.str.ends_with("</r>"))
        .then(rich)
        .otherwise(expr)
    )


def _cell_expr(name: str, dtype: pl.DataType, *, as_text: bool = False) -> tuple[pl.Expr, _CellKind]:
    """The expression giving a column's cell values and whether they are written as numbers or strings.

    Numbers stay numbers (NaN and infinities become null) unless ``as_text``; booleans become 是/否; strings,
    categoricals and temporal values become strings.
    """
    expr = pl.col(name)
    if dtype == pl.Boolean:
        text = pl.when(expr).then(pl.lit("是")).when(expr.not_()).then(pl.lit("否"))
        return text.otherwise(pl.lit(None, dtype=pl.String)), "string"
    if dtype == pl.Null:
        return expr, "number"
    if dtype.is_numeric():
        if as_text:
            return _literal_text(expr.cast(pl.String)), "string"
        if dtype.is_integer():
            return expr, "number"
        as_float = expr.cast(pl.Float64)
        return pl.when(as_float.is_finite()).then(as_float), "number"
    if isinstance(dtype, pl.Datetime):
        return expr.dt.to_string("%Y-%m-%d %H:%M:%S"), "string"
    if isinstance(dtype, pl.Duration):
        return expr.dt.to_string("polars"), "string"
    if dtype in (pl.String, pl.Categorical, pl.Date, pl.Time) or isinstance(dtype, pl.Enum):
        return _literal_text(expr.cast(pl.String)), "string"
    raise TypeError(f"列“{name}”的数据类型 {dtype} 不能写入 Excel")


def _prepare(frame: pl.DataFrame, columns: Sequence[tuple[str, bool]]) -> tuple[pl.DataFrame, list[_CellKind]]:
    """Select ``(name, as_text)`` columns of ``frame`` converted to cell values, with their cell kinds."""
    exprs: list[pl.Expr] = []
    kinds: list[_CellKind] = []
    for name, as_text in columns:
        expr, kind = _cell_expr(name, frame.schema[name], as_text=as_text)
        exprs.append(expr.alias(name))
        kinds.append(kind)
    return frame.select(exprs), kinds


def _write_rows(
    worksheet: Any, frame: pl.DataFrame, targets: Sequence[int], kinds: Sequence[_CellKind], first_row: int
) -> int:
    """Stream ``frame`` row by row into ``worksheet`` (column ``i`` of the frame goes to ``targets[i]``).

    Returns the number of rows written. Nulls are skipped, so they stay empty cells.
    """
    write_number = worksheet.write_number
    write_string = worksheet.write_string
    plan = [(col, write_number if kind == "number" else write_string) for col, kind in zip(targets, kinds, strict=True)]
    row = first_row
    for values in frame.iter_rows():
        for (col, write), value in zip(plan, values, strict=True):
            if value is not None:
                write(row, col, value)
        row += 1
    return row - first_row


# ----------------------------------------------------------------------------------------------------
# The annual workbook


def _write_annual_workbook(path: Path, sheets: Mapping[str, pl.DataFrame]) -> None:
    validation_rows = max([TEMPLATE_ROWS, *(frame.height for frame in sheets.values())])
    validation_rows = min(validation_rows, EXCEL_MAX_ROWS - 1)

    def build(workbook: Any) -> None:
        workbook.set_properties(
            {
                "title": "县域义务教育优质均衡 学校年度数据表",
                "subject": "学校年度数据表",
                "comments": f"模板版本：{TEMPLATE_VERSION}",
            }
        )
        workbook.set_custom_property("template_version", TEMPLATE_VERSION)
        styles = _Styles(workbook)
        long_lists: list[Column] = [
            column
            for columns in SHEETS.values()
            for column in columns
            if column.kind == "enum" and not _fits_literal_list(column.choices)
        ]
        list_sources = {column.key: _options_range(i, len(column.choices)) for i, column in enumerate(long_lists)}
        for name, columns in SHEETS.items():
            worksheet = workbook.add_worksheet(name)
            _write_data_sheet(worksheet, columns, sheets.get(name), styles, validation_rows, list_sources)
        _write_notes_sheet(workbook.add_worksheet(NOTES_SHEET), styles, validation_rows)
        if long_lists:
            _write_options_sheet(workbook.add_worksheet(OPTIONS_SHEET), long_lists, styles)

    _write_workbook(path, build)


def _fits_literal_list(choices: Sequence[str]) -> bool:
    return len(",".join(choices)) <= _LIST_LITERAL_LIMIT and not any("," in c or '"' in c for c in choices)


def _options_range(index: int, count: int) -> str:
    letter = xl_col_to_name(index)
    return f"='{OPTIONS_SHEET}'!${letter}$2:${letter}${count + 1}"


def _comment_text(column: Column) -> str:
    lines = [
        f"{column.header}（{'必填' if column.required else '选填'}）",
        f"英文键：{column.key}",
        f"类型：{KIND_LABELS[column.kind]}" + (f"（{_KIND_RULES[column.kind]}）" if _KIND_RULES[column.kind] else ""),
    ]
    if column.unit:
        lines.append(f"单位：{column.unit}")
    if column.choices:
        lines.append(f"可选值：{'、'.join(column.choices)}")
    if column.default is not None:
        lines.append(f"默认值：{column.default}（留空时按此值）")
    if column.note:
        lines.append(f"说明：{column.note}")
    if column.used_by:
        lines.append(f"用于：{column.used_by}")
    return "\n".join(lines)


def _comment_options(text: str) -> dict[str, Any]:
    width = 300
    per_line = (width - 16) // 6  # half-width cells per visual line at 9 pt
    lines = sum(max(1, math.ceil(_display_width(line) / per_line)) for line in text.split("\n"))
    return {"width": width, "height": 16 * lines + 14, "font_size": 9}


def _header_width(column: Column) -> float:
    width = min(max(math.ceil(_display_width(column.header) / 2) + 2, 10), 20)
    if column.kind == "text":
        width = max(width, 16)
    if column.key == "school_name":
        width = max(width, 28)
    return width


def _validation(column: Column, list_sources: Mapping[str, str]) -> dict[str, Any] | None:
    """The data validation of one column, with a Chinese error message."""
    header = column.header
    error: dict[str, Any] = {"error_title": "输入有误"}
    match column.kind:
        case "int":
            rule: dict[str, Any] = {"validate": "integer", "criteria": ">=", "value": 0}
            message = f"“{header}”应填写不小于 0 的整数。"
        case "number":
            rule = {"validate": "decimal", "criteria": ">=", "value": 0}
            message = f"“{header}”应填写不小于 0 的数值，不带单位。"
        case "year":
            rule = {"validate": "integer", "criteria": "between", "minimum": 1900, "maximum": 2100}
            message = f"“{header}”应填写 1900–2100 之间的四位年份。"
        case "code6":
            rule = {"validate": "length", "criteria": "==", "value": 6}
            message = f"“{header}”应为 6 位数字代码。"
        case "enum":
            source: Any = list_sources.get(column.key, list(column.choices))
            rule = {"validate": "list", "source": source}
            message = f"“{header}”请从下拉列表中选择：{'、'.join(column.choices)}。"
        case _:
            return None
    if len(message) > 255:
        message = f"“{header}”的取值不符合要求，请查看列名批注。"
    return {**rule, **error, "error_message": message}


def _write_data_sheet(
    worksheet: Any,
    columns: Sequence[Column],
    frame: pl.DataFrame | None,
    styles: _Styles,
    validation_rows: int,
    list_sources: Mapping[str, str],
) -> None:
    present = [(i, c) for i, c in enumerate(columns) if frame is not None and c.key in frame.columns]
    data = pl.DataFrame()
    kinds: list[_CellKind] = []
    if frame is not None and present:
        data, kinds = _prepare(frame, [(c.key, c.kind in _TEXT_KINDS) for _, c in present])
    sample = data.head(_WIDTH_SAMPLE_ROWS)

    # Column layout first: in constant_memory mode cells take the column format when their row is flushed.
    for i, column in enumerate(columns):
        width = _header_width(column)
        if column.key in sample.columns and sample.schema[column.key] == pl.String:
            values = sample.get_column(column.key).drop_nulls().to_list()
            width = max([width, *(min(_display_width(v) + 2, 50) for v in values)])
        worksheet.set_column(i, i, width, styles.text if column.kind in _TEXT_KINDS else None)
    worksheet.set_row(0, _HEADER_HEIGHT)
    worksheet.freeze_panes(1, _FROZEN_COLUMNS)

    for i, column in enumerate(columns):
        style = styles.required_header if column.required else styles.optional_header
        worksheet.write_string(0, i, column.header, style)
        text = _comment_text(column)
        worksheet.write_comment(0, i, text, _comment_options(text))
        rule = _validation(column, list_sources)
        if rule is not None:
            worksheet.data_validation(1, i, validation_rows, i, rule)

    if kinds:
        written = _write_rows(worksheet, data, [i for i, _ in present], kinds, first_row=1)
        if written:
            worksheet.autofilter(0, 0, written, len(columns) - 1)


def _notes_lines(validation_rows: int) -> list[str]:
    return [
        "1. 本工作簿有“学校”和“县级指标”两张数据表。请勿修改工作表名称和第一行的列名；列的顺序可以调整。",
        "2. “学校”表每所学校（或独立校区）每个统计年度填一行；“县级指标”表每个县（市、区）每个统计年度填一行。",
        "3. 数值只填数字，不带单位、空格或文字；人数、间数等计数填不小于 0 的整数。",
        "4. 面积以平方米（㎡）为单位；教学仪器设备资产值和各项经费以元为单位（统计报表中以万元计的请乘以 10000）。",
        "5. 表头橙色底的列为必填列，蓝色底的列为选填列。选填列留空表示无此数据；有默认值的列留空时按默认值处理。",
        "6. 有下拉箭头的列请从下拉列表中选择；县级区划代码为 6 位数字，按文本填写，保留开头的 0。",
        "7. 将鼠标移到列名上可查看批注：英文键、类型、单位、是否必填、默认值、可选值、说明和用途。",
        f"8. 第 2–{validation_rows + 1} 行已设置输入校验（整数、数值范围、年份、代码长度、下拉选项）。",
        "9. 也可以用 CSV 文件提交：每张数据表保存为一个 CSV 文件（UTF-8 编码），第一行为与本表相同的列名。",
        "10. 列名既可以用本表的中文列名，也可以用英文键（如 school_id），两者等效。",
        "11. 下表列出两张数据表的全部列。",
    ]


def _write_notes_sheet(worksheet: Any, styles: _Styles, validation_rows: int) -> None:
    for i, width in enumerate(_NOTES_TABLE_WIDTHS):
        worksheet.set_column(i, i, width, styles.wrap if _NOTES_TABLE_HEADERS[i] == "说明" else None)
    worksheet.write_string(0, 0, "县域义务教育优质均衡 学校年度数据表 填表说明", styles.title)
    worksheet.write_string(1, 0, f"模板版本：{TEMPLATE_VERSION}", styles.bold)
    row = 3
    for line in _notes_lines(validation_rows):
        worksheet.write_string(row, 0, line)
        row += 1
    row += 1
    header_row = row
    for i, header in enumerate(_NOTES_TABLE_HEADERS):
        worksheet.write_string(header_row, i, header, styles.table_header)
    for sheet, columns in SHEETS.items():
        for column in columns:
            row += 1
            default = "" if column.default is None else str(column.default)
            cells = (
                sheet,
                column.header,
                column.key,
                KIND_LABELS[column.kind],
                "是" if column.required else "否",
                column.unit,
                "、".join(column.choices),
                default,
                column.note,
                column.used_by,
            )
            for col, value in enumerate(cells):
                if value:
                    worksheet.write_string(row, col, value)
    worksheet.autofilter(header_row, 0, row, len(_NOTES_TABLE_HEADERS) - 1)


def _write_options_sheet(worksheet: Any, columns: Sequence[Column], styles: _Styles) -> None:
    for i, column in enumerate(columns):
        worksheet.set_column(i, i, max(_display_width(c) for c in (column.key, *column.choices)) + 2)
    for i, column in enumerate(columns):
        worksheet.write_string(0, i, column.key, styles.bold)
    for row in range(max(len(c.choices) for c in columns)):
        for i, column in enumerate(columns):
            if row < len(column.choices):
                worksheet.write_string(row + 1, i, column.choices[row])
    worksheet.hide()


# ----------------------------------------------------------------------------------------------------
# Report tables

_DECIMALS = re.compile(r"\.([0#]+)")


def _number_text(value: float, num_format: str | None) -> str:
    """Roughly how a number shows in Excel under ``num_format`` (only used to estimate column widths).

    >>> _number_text(1234567.891, "#,##0.00"), _number_text(0.91125, "0.00%"), _number_text(0.5, "0.000")
    ('1,234,567.89', '91.13%', '0.500')
    """
    from youjun import formatting

    if num_format is None or num_format.lower() == "general":
        return f"{value:.10g}" if isinstance(value, float) else str(value)
    match = _DECIMALS.search(num_format)
    decimals = len(match.group(1)) if match else 0
    grouping = "," in num_format
    if "%" in num_format:
        return formatting.percent(value, decimals, grouping=grouping)
    return formatting.number(value, decimals, grouping=grouping)


def _table_width(header: str, values: Sequence[Any], num_format: str | None) -> float:
    widest = _display_width(header) * 1.1 + 4  # bold text and the autofilter button
    for value in values:
        if value is None:
            continue
        text = value if isinstance(value, str) else _number_text(value, num_format)
        widest = max(widest, _display_width(text) + 2)
    return min(max(widest, 6), 60)


def _write_table_sheet(worksheet: Any, table: Table, styles: _Styles) -> None:
    frame = table.frame
    names = frame.columns
    data, kinds = _prepare(frame, [(name, False) for name in names])
    sample = data.head(_WIDTH_SAMPLE_ROWS)
    headers = [table.headers.get(name, name) for name in names]

    for i, name in enumerate(names):
        num_format = table.formats.get(name)
        width = _table_width(headers[i], sample.get_column(name).to_list(), num_format)
        worksheet.set_column(i, i, width, styles.number(num_format) if num_format else None)

    row = 0
    if table.title is not None:
        worksheet.write_string(row, 0, table.title, styles.title)
        row += 1
    header_row = row
    for i, header in enumerate(headers):
        worksheet.write_string(header_row, i, header, styles.table_header)
    written = 0
    if names:
        worksheet.freeze_panes(header_row + 1, 0)
        written = _write_rows(worksheet, data, range(len(names)), kinds, first_row=header_row + 1)
        worksheet.autofilter(header_row, 0, header_row + written, len(names) - 1)
    row = header_row + written + 2
    for line in table.notes:
        worksheet.write_string(row, 0, line, styles.note)
        row += 1
