"""Reading and checking the annual school workbook (data-contract.md §1): youjun.io.reader."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter  # type: ignore[import-untyped]

from youjun.contract import COUNTY_COLUMNS, SCHOOL_BY_KEY, SCHOOL_COLUMNS
from youjun.errors import Problem, YoujunError
from youjun.io.reader import (
    PLAUSIBILITY_FILE,
    Plausibility,
    SchoolData,
    load_plausibility,
    normalize_header,
    read_school_data,
)

CHINESE = re.compile(r"[\u4e00-\u9fff]")

# A plausible primary school: passes every hard and soft check.
VALID: dict[str, Any] = {
    "year": 2024,
    "school_id": "3402070001",
    "school_name": "鸠江区第一小学",
    "county_code": "340207",
    "county_name": "鸠江区",
    "school_type": "小学",
    "ownership": "公办",
    "urban_rural": "城区",
    "students_primary": 800,
    "students_junior": 0,
    "teachers_primary": 45,
    "teachers_junior": 0,
    "qualified_teachers_primary": 44,
    "qualified_teachers_junior": 0,
    "backbone_teachers_primary": 10,
    "backbone_teachers_junior": 0,
    "pe_teachers_primary": 3,
    "pe_teachers_junior": 0,
    "music_teachers_primary": 2,
    "music_teachers_junior": 0,
    "art_teachers_primary": 2,
    "art_teachers_junior": 0,
    "teaching_aux_area": 5000.5,
    "indoor_sports_area": 500,
    "outdoor_sports_area": 8000,
    "equipment_value": 2_000_000,
    "multimedia_rooms": 20,
}
REQUIRED = [c.key for c in SCHOOL_COLUMNS if c.required]
HEADER = {c.key: c.header for c in SCHOOL_COLUMNS}


def school(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def write_csv(
    path: Path,
    rows: Sequence[Mapping[str, Any]],
    *,
    headers: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    """Rows of key → value; the header line uses ``headers[key]`` (default: the Chinese header)."""
    names = {key: (headers or HEADER).get(key, key) for row in rows for key in row}
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names.values())
        for row in rows:
            writer.writerow(["" if row.get(key) is None else row[key] for key in names])
    return path


def write_xlsx(path: Path, sheets: Mapping[str, Sequence[Sequence[Any]]], hidden: Sequence[str] = ()) -> Path:
    """Sheets as lists of rows (the first row is the header); numbers stay numeric cells."""
    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
        if name in hidden:
            sheet.hide()
    workbook.close()
    return path


def school_grid(rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    keys = list(dict.fromkeys(key for row in rows for key in row))
    return [[HEADER[k] for k in keys], *[[row.get(k) for k in keys] for row in rows]]


def failure(paths: Sequence[Path | str]) -> YoujunError:
    with pytest.raises(YoujunError) as caught:
        read_school_data(paths)
    return caught.value


def find(problems: Sequence[Problem], code: str, row: int | None = None) -> Problem:
    hits = [p for p in problems if p.code == code and (row is None or p.location.row == row)]
    assert hits, f"no {code} at row {row}: {[p.describe() for p in problems]}"
    return hits[0]


# ---------------------------------------------------------------------------------------------------------------
# Valid input


def test_valid_csv_gives_typed_frame_with_defaults_and_provenance(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "学校.csv", [school(), school(school_id="3402070002", built_year=2001)])
    data = read_school_data([path])
    assert isinstance(data, SchoolData)
    frame = data.schools
    assert frame.columns == [*(c.key for c in SCHOOL_COLUMNS), "source_file", "source_row"]
    assert frame.schema["year"] == pl.Int64
    assert frame.schema["students_primary"] == pl.Int64
    assert frame.schema["teaching_aux_area"] == pl.Float64
    assert frame.schema["county_code"] == pl.String
    assert frame.schema["source_row"] == pl.Int64
    assert frame["teaching_aux_area"].to_list() == [5000.5, 5000.5]
    assert frame["boarding"].to_list() == ["否", "否"]  # default of an absent optional column
    assert frame["students_senior"].to_list() == [0, 0]
    assert frame["built_year"].to_list() == [None, 2001]  # optional without default stays null
    assert frame["source_file"].to_list() == [str(path), str(path)]
    assert frame["source_row"].to_list() == [2, 3]
    assert data.counties is None
    assert data.warnings == ()


def test_chinese_headers_and_english_keys_are_both_accepted_in_any_order(tmp_path: Path) -> None:
    keys = list(VALID)
    mixed = {k: (k if i % 2 else HEADER[k]) for i, k in enumerate(keys)}
    shuffled = {k: VALID[k] for k in reversed(keys)}
    english = read_school_data([write_csv(tmp_path / "a.csv", [VALID], headers={k: k for k in keys})])
    other = read_school_data([write_csv(tmp_path / "b.csv", [shuffled], headers=mixed)])
    assert english.schools.drop("source_file").equals(other.schools.drop("source_file"))


def test_headers_are_normalised_before_matching(tmp_path: Path) -> None:
    headers = {k: HEADER[k] for k in VALID}
    headers["year"] = "\u3000统计年度*"
    headers["school_id"] = "学校标识码（必填）"
    headers["teaching_aux_area"] = "教学及辅助用房面积（㎡）"  # full-width brackets
    headers["indoor_sports_area"] = "室内体育用房面积"  # without the unit
    headers["students_primary"] = "STUDENTS_PRIMARY"
    headers["school_name"] = "学校\xa0名称 "
    data = read_school_data([write_csv(tmp_path / "a.csv", [VALID], headers=headers)])
    assert data.warnings == ()
    assert data.schools["students_primary"].to_list() == [800]
    assert normalize_header(" 教学及辅助用房面积（㎡）* ") == normalize_header("教学及辅助用房面积(㎡)")


def test_unknown_column_is_a_warning_and_the_rest_loads(tmp_path: Path) -> None:
    data = read_school_data([write_csv(tmp_path / "a.csv", [school(备注="新建校区")], headers={**HEADER})])
    warning = find(data.warnings, "unknown_column")
    assert warning.severity == "warning"
    assert warning.location.column == "备注"
    assert "备注" in warning.message
    assert data.schools.height == 1


def test_missing_required_column_is_an_error_naming_header_and_key(tmp_path: Path) -> None:
    row = {k: v for k, v in VALID.items() if k != "teaching_aux_area"}
    error = failure([write_csv(tmp_path / "a.csv", [row])])
    problem = find(error.problems, "missing_column")
    assert problem.severity == "error"
    assert "教学及辅助用房面积(㎡)" in problem.message and "teaching_aux_area" in problem.message
    assert problem.location.field == "teaching_aux_area"
    assert len([p for p in error.problems if p.code == "missing_column"]) == 1


def test_a_column_given_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    write_csv(path, [VALID])
    text = path.read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",year", text[1] + ",2024"]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    problem = find(failure([path]).problems, "duplicate_column")
    assert problem.location.column == "year" and "统计年度" in problem.message


# ---------------------------------------------------------------------------------------------------------------
# Hard checks on cells and rows


def test_every_bad_cell_and_row_is_reported_in_one_error(tmp_path: Path) -> None:
    rows = [
        school(school_id="A01", students_primary="八百"),  # row 2: text in a numeric cell
        school(school_id="A02", teachers_primary="45.5"),  # row 3: fraction in a count
        school(school_id="A03", outdoor_sports_area=-10),  # row 4: negative area
        school(school_id="A04", ownership="国有"),  # row 5: unknown enum value
        school(school_id="A05", county_code="34020"),  # row 6: county code of 5 digits
        school(school_id="A06", pe_teachers_primary=50),  # row 7: PE teachers > teachers
        school(school_id="A07", indoor_sports_area=6000),  # row 8: indoor > teaching area
        school(school_id="A08", students_primary=0, teachers_primary=0, qualified_teachers_primary=0,
               backbone_teachers_primary=0, pe_teachers_primary=0, music_teachers_primary=0,
               art_teachers_primary=0),  # row 9: no students at all
        school(school_id="A01"),  # row 10: duplicate of row 2
        school(school_id="A10", school_name=None),  # row 11: required value missing
    ]  # fmt: skip
    path = write_csv(tmp_path / "schools.csv", rows)
    error = failure([path])
    expected = {
        ("not_a_number", 2, "小学在校生数", "八百"),
        ("not_an_integer", 3, "小学专任教师数", "45.5"),
        ("negative", 4, "室外体育运动场地面积(㎡)", "-10"),
        ("invalid_choice", 5, "举办者", "国有"),
        ("invalid_code6", 6, "县级区划代码", "34020"),
        ("exceeds_full_time_teachers", 7, "小学体育专任教师数", "50"),
        ("indoor_exceeds_teaching_area", 8, "室内体育用房面积(㎡)", "6000"),
        ("no_students", 9, "小学在校生数", "0"),
        ("duplicate_school_id", 10, "学校标识码", "A01"),
        ("missing_value", 11, "学校名称", None),
    }
    found = {(p.code, p.location.row, p.location.column, p.location.value) for p in error.errors}
    assert expected <= found
    assert len(error.errors) == len(expected)
    for problem in error.errors:
        assert problem.location.file == str(path)
        assert CHINESE.search(problem.message), problem.message
    assert "国有" not in find(error.problems, "invalid_choice").message  # lists the allowed values instead
    assert "公办、民办" in find(error.problems, "invalid_choice").message
    assert "第 2 行" in find(error.problems, "duplicate_school_id").message
    rows_in_order = [p.location.row or 0 for p in error.errors]
    assert rows_in_order == sorted(rows_in_order)


def test_all_bad_cells_of_one_row_are_reported(tmp_path: Path) -> None:
    row = school(year="二〇二四", students_junior=-1, multimedia_rooms="1.5", boarding="可能")
    error = failure([write_csv(tmp_path / "a.csv", [row])])
    assert {p.code for p in error.errors} == {"invalid_year", "negative", "not_an_integer", "invalid_choice"}
    assert {p.location.field for p in error.errors} == {"year", "students_junior", "multimedia_rooms", "boarding"}


def test_duplicate_school_id_across_two_files_points_to_the_first(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [school(school_id="S1"), school(school_id="S2")])
    second = write_csv(tmp_path / "b.csv", [school(school_id="S3"), school(school_id="S2")])
    problem = find(failure([first, second]).problems, "duplicate_school_id")
    assert problem.location.file == str(second) and problem.location.row == 3
    assert str(first) in problem.message and "第 3 行" in problem.message


def test_same_school_in_two_years_is_not_a_duplicate(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [school(year=2023), school(year=2024)])
    assert read_school_data([path]).schools.height == 2


def test_duplicate_county_rows_are_an_error(tmp_path: Path) -> None:
    county: list[list[Any]] = [["year", "county_code", "county_name"], [2024, "340207", "鸠江区"]]
    county.append([2024, "340207", "鸠江区"])
    path = write_xlsx(tmp_path / "a.xlsx", {"学校": school_grid([VALID]), "县级指标": county})
    problem = find(failure([path]).problems, "duplicate_county")
    assert problem.location.sheet == "县级指标" and problem.location.row == 3


# ---------------------------------------------------------------------------------------------------------------
# Cell values


def test_numbers_with_separators_spaces_and_full_width_digits_parse(tmp_path: Path) -> None:
    row = school(
        students_primary="1,234",
        equipment_value="2，000，000",
        teachers_primary=" 60 ",
        pe_teachers_primary="１２",
        music_teachers_primary="\u30002\xa0",
        multimedia_rooms="20.0",
        outdoor_sports_area="8 000.5",
        county_code="３４０２０７",
        ownership=" 公办 ",
    )
    frame = read_school_data([write_csv(tmp_path / "a.csv", [row])]).schools
    assert frame["students_primary"].to_list() == [1234]
    assert frame["equipment_value"].to_list() == [2_000_000.0]
    assert frame["teachers_primary"].to_list() == [60]
    assert frame["pe_teachers_primary"].to_list() == [12]
    assert frame["music_teachers_primary"].to_list() == [2]
    assert frame["multimedia_rooms"].to_list() == [20]
    assert frame["outdoor_sports_area"].to_list() == [8000.5]
    assert frame["county_code"].to_list() == ["340207"]
    assert frame["ownership"].to_list() == ["公办"]


def test_a_comma_that_is_not_a_thousands_separator_is_rejected(tmp_path: Path) -> None:
    error = failure([write_csv(tmp_path / "a.csv", [school(outdoor_sports_area="8000,5")])])
    assert find(error.problems, "not_a_number").location.value == "8000,5"


def test_county_code_written_as_a_float_is_accepted(tmp_path: Path) -> None:
    frame = read_school_data([write_csv(tmp_path / "a.csv", [school(county_code="340207.0")])]).schools
    assert frame["county_code"].to_list() == ["340207"]


def test_blank_cells_of_optional_columns_get_defaults(tmp_path: Path) -> None:
    row = school(boarding="", students_senior=" ", books="")
    frame = read_school_data([write_csv(tmp_path / "a.csv", [row])]).schools
    assert frame["boarding"].to_list() == ["否"]
    assert frame["students_senior"].to_list() == [0]
    assert frame["books"].to_list() == [None]


def test_blank_rows_are_skipped_and_row_numbers_kept(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [school(school_id="S1"), {}, school(school_id="S2", students_primary="x")])
    problem = find(failure([path]).problems, "not_a_number")
    assert problem.location.row == 4


# ---------------------------------------------------------------------------------------------------------------
# Encodings and broken files


def test_gb18030_csv_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [VALID], encoding="gb18030")
    frame = read_school_data([path]).schools
    assert frame["county_name"].to_list() == ["鸠江区"]
    assert frame["school_type"].to_list() == ["小学"]


def test_utf8_csv_with_bom_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [VALID], encoding="utf-8-sig")
    assert read_school_data([path]).schools["year"].to_list() == [2024]


def test_tab_separated_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("\t".join(HEADER[k] for k in VALID) + "\n" + "\t".join(str(v) for v in VALID.values()) + "\n")
    assert read_school_data([path]).schools["students_primary"].to_list() == [800]


def _bad_file(tmp_path: Path, kind: str) -> Path | str:
    path = tmp_path / "学校.csv"
    if kind == "zero_bytes":
        path.write_bytes(b"")
    elif kind == "blank":
        path.write_text("\n\n  \n", encoding="utf-8")
    elif kind == "header_only":
        path.write_text(",".join(HEADER[k] for k in VALID) + "\n", encoding="utf-8")
    elif kind == "renamed_text":
        path = tmp_path / "学校.xlsx"
        path.write_text("这不是工作簿", encoding="utf-8")
    elif kind == "missing":
        return str(tmp_path / "没有这个文件.xlsx")
    elif kind == "directory":
        return tmp_path
    elif kind == "unsupported":
        path = tmp_path / "学校.txt"
        path.write_text("x", encoding="utf-8")
    elif kind == "ragged":
        write_csv(path, [VALID])
        path.write_text(path.read_text(encoding="utf-8") + "1,2\n" + ",".join(["1"] * 40) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("zero_bytes", "empty_file"),
        ("blank", "empty_file"),
        ("header_only", "no_data"),
        ("renamed_text", "not_a_workbook"),
        ("missing", "file_not_found"),
        ("directory", "unsupported_format"),
        ("unsupported", "unsupported_format"),
        ("ragged", "bad_csv"),
    ],
)
def test_a_bad_file_is_a_chinese_error_not_a_traceback(tmp_path: Path, kind: str, code: str) -> None:
    error = failure([_bad_file(tmp_path, kind)])
    assert [p.code for p in error.errors] == [code]
    assert CHINESE.search(error.errors[0].message)
    assert error.errors[0].location.file is not None


def test_ragged_csv_names_the_line(tmp_path: Path) -> None:
    error = failure([_bad_file(tmp_path, "ragged")])
    assert "第 4 行" in error.errors[0].message


def test_a_directory_with_a_workbook_suffix_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "数据.xlsx"
    folder.mkdir()
    assert [p.code for p in failure([folder]).errors] == ["not_a_file"]


def test_no_paths_is_an_error() -> None:
    assert [p.code for p in failure([]).errors] == ["no_input"]


def test_errors_of_several_files_are_all_collected(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [VALID])
    error = failure([tmp_path / "missing.csv", good, _bad_file(tmp_path, "renamed_text")])
    assert [p.code for p in error.errors] == ["file_not_found", "not_a_workbook"]


# ---------------------------------------------------------------------------------------------------------------
# Workbooks


def test_xlsx_with_numeric_cells_and_extra_sheets(tmp_path: Path) -> None:
    grid = school_grid([school(county_code=340207, teaching_aux_area=5000.5), school(school_id="3402070002")])
    county: list[list[Any]] = [
        [c.header for c in COUNTY_COLUMNS[:5]],
        [2024, "340207", "鸠江区", 2015, "达标"],
    ]
    path = write_xlsx(
        tmp_path / "data.xlsx",
        {"填表说明": [["说明"]], "学校": grid, "县级指标": county, "_选项": [["小学"]]},
        hidden=["_选项"],
    )
    data = read_school_data([path])
    assert data.schools["county_code"].to_list() == ["340207", "340207"]
    assert data.schools["students_primary"].to_list() == [800, 800]
    assert data.schools["teaching_aux_area"].to_list() == [5000.5, 5000.5]
    assert data.schools["source_row"].to_list() == [2, 3]
    assert data.counties is not None
    assert data.counties.columns == [*(c.key for c in COUNTY_COLUMNS), "source_file", "source_row"]
    assert data.counties["basic_balance_year"].to_list() == [2015]
    assert data.counties["g1_verdict"].to_list() == ["达标"]
    assert data.counties.schema["rotated_teachers"] == pl.Int64


def test_xlsx_errors_carry_sheet_and_excel_row(tmp_path: Path) -> None:
    grid = school_grid([school(), school(school_id="X", indoor_sports_area=9000.0)])
    problem = find(failure([write_xlsx(tmp_path / "a.xlsx", {"学校": grid})]).problems, "indoor_exceeds_teaching_area")
    assert (problem.location.sheet, problem.location.row) == ("学校", 3)
    assert problem.location.value == "9000"


def test_a_blank_county_sheet_is_the_same_as_none(tmp_path: Path) -> None:
    county = [[c.header for c in COUNTY_COLUMNS]]
    data = read_school_data([write_xlsx(tmp_path / "a.xlsx", {"学校": school_grid([VALID]), "县级指标": county})])
    assert data.counties is None


def test_single_sheet_without_the_school_name_is_used_with_a_warning(tmp_path: Path) -> None:
    data = read_school_data([write_xlsx(tmp_path / "a.xlsx", {"Sheet1": school_grid([VALID])})])
    assert data.schools.height == 1
    assert find(data.warnings, "school_sheet_guessed").location.sheet == "Sheet1"


def test_workbook_without_school_sheet_is_an_error(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", {"Sheet1": school_grid([VALID]), "Sheet2": [["x"]]})
    problem = find(failure([path]).problems, "missing_school_sheet")
    assert "Sheet1" in problem.message and "学校" in problem.message


def test_county_csv_is_recognised_by_its_name(tmp_path: Path) -> None:
    schools = write_csv(tmp_path / "学校.csv", [VALID])
    counties = tmp_path / "2024_县级指标.csv"
    counties.write_text("统计年度,县级区划代码,县级区划名称,Q9 质量监测各科最低学业水平等级\n2024,340207,鸠江区,Ⅱ\n")
    data = read_school_data([schools, counties])
    assert data.counties is not None
    assert data.counties["q9_lowest_level"].to_list() == ["Ⅱ"]
    assert data.counties["source_row"].to_list() == [2]


def test_second_header_row_of_english_keys_is_skipped(tmp_path: Path) -> None:
    keys = list(VALID)
    grid = [[HEADER[k] for k in keys], keys, [VALID[k] for k in keys]]
    data = read_school_data([write_xlsx(tmp_path / "a.xlsx", {"学校": grid})])
    assert data.schools["source_row"].to_list() == [3]


# ---------------------------------------------------------------------------------------------------------------
# Soft checks


def test_soft_check_warnings_are_returned_on_success(tmp_path: Path) -> None:
    rows = [
        school(school_id="W1", teaching_aux_area=60_000, indoor_sports_area=500),  # 75 ㎡ per student
        school(school_id="W2", equipment_value=90_000_000),  # 112,500 元 per student
        school(school_id="W3", max_class_size_primary=70, classes_primary=18),  # 超大班额
        school(school_id="W4", built_year=2030),
        school(school_id="W5", teachers_junior=3),  # junior teachers, no junior students
        school(school_id="W6", teachers_primary=10, qualified_teachers_primary=10,
               backbone_teachers_primary=5),  # 80 students per teacher
        school(school_id="W7", county_name="芜湖县"),  # same code, other name
    ]  # fmt: skip
    data = read_school_data([write_csv(tmp_path / "a.csv", rows)])
    found = {(p.code, p.location.row) for p in data.warnings}
    assert {
        ("area_per_student_high", 2),
        ("equipment_per_student_high", 3),
        ("oversized_class", 4),
        ("built_after_year", 5),
        ("teachers_without_students", 6),
        ("student_teacher_ratio_implausible", 7),
        ("county_name_inconsistent", 8),
    } <= found
    assert all(p.severity == "warning" and CHINESE.search(p.message) for p in data.warnings)
    assert "66" in find(data.warnings, "oversized_class").message


def test_large_change_from_the_year_before_is_a_warning(tmp_path: Path) -> None:
    rows = [school(year=2023, students_primary=800), school(year=2024, students_primary=500)]
    data = read_school_data([write_csv(tmp_path / "a.csv", rows)])
    warning = find(data.warnings, "students_change_large")
    assert warning.location.row == 3 and "800" in warning.message and "500" in warning.message


def test_warnings_travel_with_the_errors(tmp_path: Path) -> None:
    rows = [school(max_class_size_primary=80), school(school_id="B", students_primary="x")]
    error = failure([write_csv(tmp_path / "a.csv", rows)])
    assert [p.code for p in error.errors] == ["not_a_number"]
    assert "oversized_class" in {p.code for p in error.problems if p.severity == "warning"}
    assert error.problems[0].severity == "error"


def test_plausibility_thresholds_come_from_the_toml(tmp_path: Path) -> None:
    limits = load_plausibility()
    assert PLAUSIBILITY_FILE.name == "plausibility.toml" and PLAUSIBILITY_FILE.is_file()
    assert limits.max_area_per_student == 50 and limits.max_class_size == 66
    strict = Plausibility(**{**{f: getattr(limits, f) for f in limits.__slots__}, "max_class_size": 40})
    path = write_csv(tmp_path / "a.csv", [school(max_class_size_primary=45)])
    assert read_school_data([path]).warnings == ()
    assert find(read_school_data([path], plausibility=strict).warnings, "oversized_class")


def test_broken_plausibility_config_is_a_youjun_error(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text("[class_size]\nmax = -1\n", encoding="utf-8")
    with pytest.raises(YoujunError) as caught:
        load_plausibility(config)
    assert all(p.code == "bad_plausibility_config" for p in caught.value.problems)
    assert len(caught.value.problems) == 10


# ---------------------------------------------------------------------------------------------------------------
# Scale


def test_200000_rows_read_and_validate_whole(tmp_path: Path) -> None:
    """National scale is read in one piece (speed is measured by bench/, not here)."""
    n = 200_000
    row = {c.header: str(VALID.get(c.key, "")) for c in SCHOOL_COLUMNS}
    row |= {HEADER["built_year"]: "2005", HEADER["classes_primary"]: "18", HEADER["max_class_size_primary"]: "45"}
    frame = (
        pl.DataFrame([row])
        .select(pl.all().repeat_by(n).explode())
        .with_columns(pl.format("S{}", pl.int_range(n)).alias(HEADER["school_id"]))
    )
    path = tmp_path / "national.csv"
    frame.write_csv(path)
    data = read_school_data([path])
    assert data.schools.height == n and data.warnings == ()
    assert data.schools["source_row"][-1] == n + 1


def test_required_columns_of_the_fixture_are_complete() -> None:
    assert set(REQUIRED) <= set(VALID)
    assert SCHOOL_BY_KEY["teaching_aux_area"].header == HEADER["teaching_aux_area"]


def test_listing_is_capped_with_a_counted_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("youjun.io.reader.MAX_LISTED_PROBLEMS", 5)
    rows = [school(school_id=f"S{i}", students_primary="x", teachers_primary="y") for i in range(10)]
    error = failure([write_csv(tmp_path / "a.csv", rows)])
    assert len(error.errors) == 6
    summary = error.errors[-1]
    assert summary.code == "too_many_problems" and "15" in summary.message


def test_survey_counts_in_the_county_sheet_are_checked(tmp_path: Path) -> None:
    from youjun.io.synth import generate
    from youjun.io.synth import write_csv as write_frame

    data = generate(1, seed=1, year=2024, province="34")
    bad = data.counties.with_columns(  # type: ignore[union-attr]
        pl.lit(2000).alias("recognition_positive"),
        pl.lit(1000).alias("recognition_valid"),
        pl.lit(1.5).alias("recognition_rate"),
    )
    write_frame(data.schools, tmp_path / "学校.csv")
    write_frame(bad, tmp_path / "县级指标.csv")
    with pytest.raises(YoujunError) as caught:
        read_school_data([tmp_path / "学校.csv", tmp_path / "县级指标.csv"])
    found = {(p.location.column, p.message) for p in caught.value.problems if p.location}
    assert found == {
        (
            "社会认可度调查认可回答数",
            "「社会认可度调查认可回答数」（2000）不得大于「社会认可度调查有效回答数」（1000）：认可回答是有效回答的一部分",
        ),
        ("社会认可度(按群体加权)", "「社会认可度(按群体加权)」（1.5）应为 0–1 之间的小数，如 0.875（即 87.5%）"),
    }
    write_frame(data.counties, tmp_path / "县级指标.csv")  # type: ignore[arg-type]
    assert read_school_data([tmp_path / "学校.csv", tmp_path / "县级指标.csv"]).counties is not None


def test_county_only_reads_the_county_sheet_alone(tmp_path: Path) -> None:
    from youjun.io.synth import generate
    from youjun.io.workbook import write_data_workbook

    data = generate(2, seed=3, year=2024, province="34")
    both = tmp_path / "both.xlsx"
    write_data_workbook(both, {"学校": data.schools.head(0), "县级指标": data.counties})  # type: ignore[dict-item]
    read = read_school_data([both], county_only=True)
    assert read.schools.height == 0 and read.counties is not None and read.counties.height == 2
    with pytest.raises(YoujunError) as caught:  # the full read still wants schools
        read_school_data([both])
    assert "学校" in caught.value.problems[0].message
    schools_only = tmp_path / "schools.xlsx"
    write_data_workbook(schools_only, {"学校": data.schools})
    with pytest.raises(YoujunError) as caught:
        read_school_data([schools_only], county_only=True)
    assert [p.message for p in caught.value.problems] == ["「县级指标」表没有数据行"]
