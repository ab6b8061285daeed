"""The Excel writers: blank template, data workbook and report tables (data-contract.md §1)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import fastexcel
import polars as pl
import pytest

from youjun.contract import (
    COUNTY_COLUMNS,
    COUNTY_SHEET,
    NOTES_SHEET,
    SCHOOL_BY_KEY,
    SCHOOL_COLUMNS,
    SCHOOL_SHEET,
    TEMPLATE_VERSION,
    Column,
)
from youjun.io import workbook
from youjun.io.workbook import (
    KIND_LABELS,
    OPTIONS_SHEET,
    TEMPLATE_ROWS,
    Table,
    write_data_workbook,
    write_tables,
    write_template,
)

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
BUILTIN_FORMATS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 49: "@"}


# ---------------------------------------------------------------------------------------------------------
# Helpers reading the xlsx package directly


def _letter(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _sheet_member(path: Path, sheet: str) -> str:
    """The zip member of a worksheet, resolved through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as z:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{PKG_REL_NS}Relationship")}
    for element in book.iter(f"{NS}sheet"):
        if element.get("name") == sheet:
            target = targets[element.get(f"{REL_NS}id")]
            assert target is not None
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise KeyError(sheet)


def _sheet_xml(path: Path, sheet: str) -> ET.Element:
    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read(_sheet_member(path, sheet)))


def _sheet_text(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(_sheet_member(path, sheet)).decode("utf-8")


def _cell_formats(path: Path) -> list[str]:
    """Number format code of every cell style (index = the ``s`` attribute of a cell or column)."""
    with zipfile.ZipFile(path) as z:
        styles = ET.fromstring(z.read("xl/styles.xml"))
    custom = {int(e.get("numFmtId", "0")): e.get("formatCode", "") for e in styles.iter(f"{NS}numFmt")}
    xfs = styles.find(f"{NS}cellXfs")
    assert xfs is not None
    codes = []
    for xf in xfs:
        num_fmt_id = int(xf.get("numFmtId", "0"))
        codes.append(custom.get(num_fmt_id, BUILTIN_FORMATS.get(num_fmt_id, str(num_fmt_id))))
    return codes


def _validations(path: Path, sheet: str) -> dict[str, ET.Element]:
    """Data validations of a sheet by their ``sqref``."""
    root = _sheet_xml(path, sheet)
    return {dv.get("sqref", ""): dv for dv in root.iter(f"{NS}dataValidation")}


def _column_style(path: Path, sheet: str, index: int) -> str:
    root = _sheet_xml(path, sheet)
    formats = _cell_formats(path)
    for col in root.iter(f"{NS}col"):
        if int(col.get("min", "0")) <= index + 1 <= int(col.get("max", "0")):
            return formats[int(col.get("style", "0"))]
    return "General"


def _column_width(path: Path, sheet: str, index: int) -> float:
    for col in _sheet_xml(path, sheet).iter(f"{NS}col"):
        if int(col.get("min", "0")) <= index + 1 <= int(col.get("max", "0")):
            return float(col.get("width", "0"))
    raise KeyError(index)


def _comments(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/comments"))


def _read(path: Path, sheet: str, header_row: int | None = 0) -> pl.DataFrame:
    return fastexcel.read_excel(path).load_sheet(sheet, header_row=header_row, dtypes="string").to_polars()


def _all_cells(path: Path, sheet: str) -> set[str]:
    frame = _read(path, sheet, header_row=None)
    return {v for column in frame.iter_columns() for v in column.drop_nulls().to_list()}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "学校年度数据表.xlsx"
    write_template(path)
    return path


# ---------------------------------------------------------------------------------------------------------
# Blank template


def test_template_has_both_data_sheets_first_with_exact_headers_in_column_order(template: Path) -> None:
    reader = fastexcel.read_excel(template)
    assert reader.sheet_names == [SCHOOL_SHEET, COUNTY_SHEET, NOTES_SHEET]
    assert _read(template, SCHOOL_SHEET).columns == [c.header for c in SCHOOL_COLUMNS]
    assert _read(template, COUNTY_SHEET).columns == [c.header for c in COUNTY_COLUMNS]
    assert _read(template, SCHOOL_SHEET).height == 0


def test_template_freezes_the_header_row(template: Path) -> None:
    for sheet in (SCHOOL_SHEET, COUNTY_SHEET):
        pane = _sheet_xml(template, sheet).find(f".//{NS}pane")
        assert pane is not None
        assert pane.get("ySplit") == "1"
        assert pane.get("state") == "frozen"


def test_template_marks_required_columns_by_fill_and_comment_not_header_text(template: Path) -> None:
    root = _sheet_xml(template, SCHOOL_SHEET)
    header_styles = {c.get("r"): c.get("s") for c in root.iter(f"{NS}c")}
    year, built_year = SCHOOL_BY_KEY["year"], SCHOOL_BY_KEY["built_year"]
    assert year.required and not built_year.required
    year_cell = f"{_letter(SCHOOL_COLUMNS.index(year))}1"
    built_cell = f"{_letter(SCHOOL_COLUMNS.index(built_year))}1"
    assert header_styles[year_cell] != header_styles[built_cell]
    comments = _comments(template)
    assert "统计年度（必填）" in comments
    assert "建成年份（选填）" in comments
    assert all("必填" not in c.header for c in SCHOOL_COLUMNS)


def test_template_header_comments_describe_every_column(template: Path) -> None:
    comments = _comments(template)
    for column in (*SCHOOL_COLUMNS, *COUNTY_COLUMNS):
        assert f"英文键：{column.key}" in comments
    assert f"类型：{KIND_LABELS['enum']}" in comments
    assert "可选值：小学、初中、九年一贯制学校" in comments
    assert "单位：㎡" in comments
    assert "默认值：否" in comments
    assert "用于：评估范围、G4" in comments
    assert "说明：以元为单位" in comments


def test_template_offers_dropdown_lists_for_enum_columns(template: Path) -> None:
    validations = _validations(template, SCHOOL_SHEET)
    column = SCHOOL_BY_KEY["school_type"]
    letter = _letter(SCHOOL_COLUMNS.index(column))
    dv = validations[f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"]
    assert dv.get("type") == "list"
    assert dv.get("showErrorMessage") == "1"
    assert "办学类型" in (dv.get("error") or "")
    formula = dv.findtext(f"{NS}formula1") or ""
    assert all(choice in formula for choice in column.choices)

    county = _validations(template, COUNTY_SHEET)
    verdict = next(i for i, c in enumerate(COUNTY_COLUMNS) if c.key == "g1_verdict")
    letter = _letter(verdict)
    assert county[f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"].get("type") == "list"


@pytest.mark.parametrize(
    ("key", "kind", "operator", "formulas"),
    [
        ("students_primary", "whole", "greaterThanOrEqual", ["0"]),
        ("teaching_aux_area", "decimal", "greaterThanOrEqual", ["0"]),
        ("year", "whole", None, ["1900", "2100"]),
        ("county_code", "textLength", "equal", ["6"]),
    ],
)
def test_template_validates_counts_areas_years_and_codes(
    template: Path, key: str, kind: str, operator: str | None, formulas: list[str]
) -> None:
    letter = _letter(SCHOOL_COLUMNS.index(SCHOOL_BY_KEY[key]))
    dv = _validations(template, SCHOOL_SHEET)[f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"]
    assert dv.get("type") == kind
    assert dv.get("operator") == operator  # "between" is the default and is left out
    assert [dv.findtext(f"{NS}formula{i + 1}") for i in range(len(formulas))] == formulas
    assert dv.get("error")


def test_template_formats_text_and_code_columns_as_text(template: Path) -> None:
    for key in ("school_id", "county_code", "school_type"):
        assert _column_style(template, SCHOOL_SHEET, SCHOOL_COLUMNS.index(SCHOOL_BY_KEY[key])) == "@"
    assert _column_style(template, SCHOOL_SHEET, SCHOOL_COLUMNS.index(SCHOOL_BY_KEY["students_primary"])) == ("General")


def test_notes_sheet_gives_version_instructions_and_every_column(template: Path) -> None:
    cells = _all_cells(template, NOTES_SHEET)
    assert f"模板版本：{TEMPLATE_VERSION}" in cells
    assert {"工作表", "列名", "英文键", "类型", "必填", "单位", "可选值", "默认值", "说明", "用于"} <= cells
    for column in (*SCHOOL_COLUMNS, *COUNTY_COLUMNS):
        assert column.key in cells
        assert column.header in cells
    text = "\n".join(cells)
    for phrase in ("CSV", "UTF-8", "英文键", "元", "㎡", "必填"):
        assert phrase in text


def test_long_choice_lists_come_from_a_hidden_options_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    choices = tuple(f"很长的选项名称第{i}号" for i in range(40))
    columns = (
        Column("year", "统计年度", "year", True),
        Column("long_enum", "长选项列", "enum", choices=choices),
    )
    monkeypatch.setattr(workbook, "SHEETS", {SCHOOL_SHEET: columns})
    path = tmp_path / "long.xlsx"
    write_template(path)

    with zipfile.ZipFile(path) as z:
        book = ET.fromstring(z.read("xl/workbook.xml"))
    states = {s.get("name"): s.get("state") for s in book.iter(f"{NS}sheet")}
    assert states[OPTIONS_SHEET] == "hidden"
    dv = _validations(path, SCHOOL_SHEET)[f"B2:B{TEMPLATE_ROWS + 1}"]
    assert dv.findtext(f"{NS}formula1") == f"'{OPTIONS_SHEET}'!$A$2:$A${len(choices) + 1}"
    options = _read(path, OPTIONS_SHEET)
    assert options["long_enum"].to_list() == list(choices)


# ---------------------------------------------------------------------------------------------------------
# Data workbook


def _schools() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "year": [2024, 2024, 2024],
            "school_id": ["3402070001", "3402070002", "0000000003"],
            "school_name": ["示例小学", "示例初中", None],
            "county_code": ["012345", "012345", "012345"],
            "school_type": ["小学", "初中", "九年一贯制学校"],
            "boarding": [True, False, None],
            "students_primary": [845, 0, None],
            "teaching_aux_area": [3000.5, float("nan"), 1234.25],
            "equipment_value": [1_250_000.0, 0.0, None],
            "not_a_column": ["x", "y", "z"],
        },
        schema_overrides={"students_primary": pl.Int64},
    )


def test_data_workbook_round_trips_values_and_leaves_nulls_empty(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: _schools()})

    back = _read(path, SCHOOL_SHEET)
    assert back.columns == [c.header for c in SCHOOL_COLUMNS]
    assert back.height == 3
    by_key = {c.key: back.get_column(c.header).to_list() for c in SCHOOL_COLUMNS}
    assert [int(v) for v in by_key["year"]] == [2024, 2024, 2024]
    assert by_key["school_id"] == ["3402070001", "3402070002", "0000000003"]
    assert by_key["school_name"] == ["示例小学", "示例初中", None]
    assert by_key["county_code"] == ["012345"] * 3
    assert by_key["school_type"] == ["小学", "初中", "九年一贯制学校"]
    assert by_key["boarding"] == ["是", "否", None]
    assert by_key["students_primary"][2] is None
    assert [float(v) for v in by_key["students_primary"][:2]] == [845.0, 0.0]
    area = by_key["teaching_aux_area"]
    assert float(area[0]) == 3000.5 and area[1] is None and float(area[2]) == 1234.25
    assert by_key["equipment_value"][2] is None
    assert float(by_key["equipment_value"][0]) == 1_250_000.0
    assert by_key["books"] == [None, None, None]  # missing column left blank
    assert "not_a_column" not in back.columns

    # the county sheet keeps its header and the notes sheet is there
    assert _read(path, COUNTY_SHEET).columns == [c.header for c in COUNTY_COLUMNS]
    assert f"模板版本：{TEMPLATE_VERSION}" in _all_cells(path, NOTES_SHEET)


def test_data_workbook_keeps_header_comments_and_validations(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: _schools()})
    assert "英文键：school_type" in _comments(path)
    letter = _letter(SCHOOL_COLUMNS.index(SCHOOL_BY_KEY["school_type"]))
    assert _validations(path, SCHOOL_SHEET)[f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"].get("type") == "list"


def test_data_workbook_writes_strings_literally(tmp_path: Path) -> None:
    tricky = [
        '=HYPERLINK("http://x","y")',
        "+1+2",
        "http://example.com",
        "<r>a & b</r>",
        "_x0041_",
        "  前后空格  ",
        "1,234",
    ]
    frame = pl.DataFrame({"school_name": tricky, "students_primary": ["1,234"] * len(tricky)})
    path = tmp_path / "tricky.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: frame})

    back = _read(path, SCHOOL_SHEET)
    assert back.get_column("学校名称").to_list() == tricky
    assert back.get_column("小学在校生数").to_list() == ["1,234"] * len(tricky)  # text stays text
    root = _sheet_xml(path, SCHOOL_SHEET)
    assert root.find(f".//{NS}f") is None
    assert root.find(f".//{NS}hyperlink") is None


def test_data_workbook_extends_validation_to_every_data_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "TEMPLATE_ROWS", 10)
    path = tmp_path / "rows.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: pl.DataFrame({"year": [2024] * 30})})
    assert "A2:A31" in _validations(path, SCHOOL_SHEET)
    assert any("第 2–31 行" in cell for cell in _all_cells(path, NOTES_SHEET))


def test_data_workbook_rejects_unknown_sheets(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    with pytest.raises(ValueError, match="未知的工作表"):
        write_data_workbook(path, {"schools": pl.DataFrame({"year": [2024]})})
    assert not path.exists()


def test_data_workbook_rejects_frames_without_any_known_column(tmp_path: Path) -> None:
    frame = pl.DataFrame({"统计年度": [2024], "学校标识码": ["1"]})
    with pytest.raises(ValueError, match="没有任何可识别的列"):
        write_data_workbook(tmp_path / "headers.xlsx", {SCHOOL_SHEET: frame})


def test_data_workbook_streams_thousands_of_full_rows(tmp_path: Path) -> None:
    rows = 5_000
    data: dict[str, pl.Series] = {}
    for column in SCHOOL_COLUMNS:
        if column.kind in ("int", "year"):
            data[column.key] = pl.int_range(0, rows, eager=True) % 2000
        elif column.kind == "number":
            data[column.key] = pl.int_range(0, rows, eager=True) * 1.5
        elif column.kind == "enum":
            data[column.key] = pl.Series([column.choices[0]] * rows)
        else:
            data[column.key] = pl.Series([f"{column.key}-{i}" for i in range(rows)])
    frame = pl.DataFrame(data)
    path = tmp_path / "big.xlsx"

    write_data_workbook(path, {SCHOOL_SHEET: frame})

    back = _read(path, SCHOOL_SHEET)
    assert back.shape == (rows, len(SCHOOL_COLUMNS))
    last = dict(zip([c.key for c in SCHOOL_COLUMNS], back.row(rows - 1), strict=True))
    assert last["school_id"] == f"school_id-{rows - 1}"
    assert float(last["teaching_aux_area"]) == (rows - 1) * 1.5


# ---------------------------------------------------------------------------------------------------------
# Report tables


def _report() -> Table:
    return Table(
        sheet="资源配置",
        frame=pl.DataFrame(
            {
                "county_name": ["示例区", "另一个很长名称的县"],
                "cv": [0.29791, None],
                "rate": [0.875, float("nan")],
                "units": [38, 12],
                "passed": [True, False],
            }
        ),
        headers={"county_name": "县名称", "cv": "差异系数", "rate": "达标率", "unused": "不存在"},
        formats={"cv": "0.000", "rate": "0.0%", "units": "0"},
        title="县域义务教育资源配置评估表",
        notes=("注：差异系数保留三位小数。", "数据来源：学校年度数据表。"),
    )


def test_write_tables_writes_title_header_values_and_notes(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_tables(path, [_report(), Table("空表", pl.DataFrame({"a": []}), {})])

    assert fastexcel.read_excel(path).sheet_names == ["资源配置", "空表"]
    grid = _read(path, "资源配置", header_row=None).rows()
    assert grid[0][0] == "县域义务教育资源配置评估表"
    assert list(grid[1]) == ["县名称", "差异系数", "达标率", "units", "passed"]
    assert grid[2][0] == "示例区" and math.isclose(float(grid[2][1] or ""), 0.29791)
    assert grid[2][3] == "38" and grid[2][4] == "是"
    assert grid[3][1] is None and grid[3][2] is None  # null and NaN stay empty
    assert grid[3][4] == "否"
    assert grid[5][0] == "注：差异系数保留三位小数。"
    assert grid[6][0] == "数据来源：学校年度数据表。"


def test_write_tables_applies_number_formats_freeze_and_autofilter(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_tables(path, [_report()])

    root = _sheet_xml(path, "资源配置")
    formats = _cell_formats(path)
    cell_format = {c.get("r"): formats[int(c.get("s", "0"))] for c in root.iter(f"{NS}c")}
    assert cell_format["B3"] == "0.000"
    assert cell_format["C3"] == "0.0%"
    assert cell_format["D3"] == "0"
    assert cell_format["A3"] == "General"
    pane = root.find(f".//{NS}pane")
    assert pane is not None and pane.get("ySplit") == "2" and pane.get("state") == "frozen"
    auto_filter = root.find(f"{NS}autoFilter")
    assert auto_filter is not None and auto_filter.get("ref") == "A2:E4"


def test_write_tables_never_turns_strings_into_formulas(tmp_path: Path) -> None:
    injected = '=HYPERLINK("http://x","y")'
    path = tmp_path / "inject.xlsx"
    frame = pl.DataFrame({"name": [injected, "@SUM(1+1)", "<r>x</r>"], "n": [1, 2, 3]})
    write_tables(path, [Table("表", frame, {"name": "=名称"})])

    text = _sheet_text(path, "表")
    assert "<f>" not in text and "<f " not in text
    back = _read(path, "表")
    assert back.columns == ["=名称", "n"]
    assert back.get_column("=名称").to_list() == [injected, "@SUM(1+1)", "<r>x</r>"]


def test_write_tables_sizes_columns_counting_cjk_characters_double(tmp_path: Path) -> None:
    path = tmp_path / "widths.xlsx"
    frame = pl.DataFrame({"cjk": ["县" * 20], "ascii": ["x" * 20], "short": ["a"]})
    write_tables(path, [Table("宽度", frame, {})])
    cjk, ascii_, short = (_column_width(path, "宽度", i) for i in range(3))
    assert cjk > ascii_ * 1.5
    assert short < ascii_


def test_write_tables_writes_booleans_as_yes_no_and_large_frames(tmp_path: Path) -> None:
    rows = 20_000
    frame = pl.DataFrame({"id": pl.int_range(0, rows, eager=True), "ok": pl.int_range(0, rows, eager=True) % 2 == 0})
    path = tmp_path / "large.xlsx"
    write_tables(path, [Table("大表", frame, {"id": "编号", "ok": "是否达标"})])
    back = _read(path, "大表")
    assert back.height == rows
    assert back.get_column("是否达标").head(2).to_list() == ["是", "否"]


def test_failed_write_leaves_no_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    frame = pl.DataFrame({"nested": [[1, 2], [3]]})
    with pytest.raises(TypeError, match="nested"):
        write_tables(path, [Table("表", frame, {})])
    assert list(tmp_path.iterdir()) == []


def test_write_tables_requires_at_least_one_table(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="没有要写出的表"):
        write_tables(tmp_path / "none.xlsx", [])
