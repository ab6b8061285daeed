"""Data-defined forms: loading (and its errors), pre-filling, validation, Word and Excel round trips."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest
from docx import Document

from test_documents import county_json
from youjun.errors import YoujunError
from youjun.forms import (
    FIELDS_SHEET,
    FORM_SHEET,
    FormDefinition,
    available_forms,
    display,
    flatten,
    form_docx,
    form_xlsx,
    load_form,
    load_form_file,
    make_context,
    prefill,
    registry_summary,
    validate,
)

SHIPPED = ("application-2019", "recommendation-2021")

MINIMAL = """
id = "demo"
version = {version}
title = "示例表"

[[sections]]
key = "main"
title = "一、基本情况"

[[sections.fields]]
key = "name"
label = "名称"
type = "text"
required = true
source = "county.name"
"""


def _context() -> dict[str, Any]:
    return make_context(
        county={
            "code": "340207",
            "name": "鸠江区",
            "province_name": "安徽省",
            "type": "区",
            "resident_population": 60.5,
        },
        evaluation=county_json(),
        inputs={"basic_balance_year": 2015},
        registry={"schools_primary": 30, "students_primary": 21000, "teachers_total": 1800},
        nomination={"target_year": 2027, "tackling_items": ["2.1"]},
    )


def _filled(defn: FormDefinition) -> dict[str, Any]:
    """Every field with a valid value of its type: pre-filled values kept, the rest invented."""
    values = prefill(defn, _context())
    for field in defn.fields:
        if field.type == "table":
            values[field.key] = [
                {c.key: (row.get(c.key) if row.get(c.key) is not None else 0.25) for c in field.columns}
                for row in values[field.key]
            ]
            continue
        if values[field.key] not in (None, "", []):
            continue
        values[field.key] = {
            "text": f"{field.label}内容",
            "longtext": f"{field.label}：第一行\n第二行=SUM(A1)",
            "int": 7,
            "number": 1234.5,
            "percent": 0.875,
            "year": 2026,
            "date": "2025-03-31",
            "choice": field.choices[0] if field.choices else None,
            "multichoice": list(field.choices[:2]),
        }[field.type]
    return values


# ----------------------------------------------------------------------------------------------------
# Loading


def test_shipped_definitions_load() -> None:
    forms = {f.id: f for f in available_forms()}
    assert set(SHIPPED) <= set(forms)
    application = forms["application-2019"]
    assert application.title == "全国县域义务教育优质均衡发展申报表"
    recommendation = load_form("recommendation-2021", 1)
    assert recommendation.version == 1
    keys = {f.key for f in recommendation.fields}
    for key in (
        "province",
        "county_code",
        "county_type",
        "basic_balance_year",
        "resident_population",
        "teaching_points",
        "students_junior",
        "teachers_total",
        "units_passed_share",
        "cvs",
        "guarantee_met",
        "quality_met",
        "recognition_rate",
        "condition_1",
        "condition_2_evidence",
        "condition_3",
        "tackling_items",
        "target_year",
        "main_measures",
        "county_commitment",
        "prefecture_opinion",
        "province_opinion",
        "contact_name",
    ):
        assert key in keys, key
    tackling = recommendation.field("tackling_items")
    assert len(tackling.choices) == 20
    cvs = recommendation.field("cvs")
    assert [r.key for r in cvs.rows] == ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]
    assert recommendation.field("province_opinion").opinion


def test_latest_version_by_default_and_unknown_ids(tmp_path: Path) -> None:
    (tmp_path / "demo.v1.toml").write_text(MINIMAL.format(version=1), encoding="utf-8")
    (tmp_path / "demo.v2.toml").write_text(MINIMAL.format(version=2), encoding="utf-8")
    assert load_form("demo", directory=tmp_path).version == 2
    assert load_form("demo", 1, directory=tmp_path).version == 1
    with pytest.raises(YoujunError, match="找不到表单「nope」。可用的表单：demo"):
        load_form("nope", directory=tmp_path)
    with pytest.raises(YoujunError, match="表单「demo」没有第 3 版。现有版本：1、2"):
        load_form("demo", 3, directory=tmp_path)


def test_malformed_definition_names_file_and_key(tmp_path: Path) -> None:
    text = (
        MINIMAL.format(version=1)
        + """
[[sections.fields]]
key = "kind"
label = "类型"
type = "choise"

[[sections.fields]]
key = "level"
label = "等级"
type = "choice"

[[sections.fields]]
key = "name"
label = "重复"
colour = "red"
"""
    )
    path = tmp_path / "demo.v1.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YoujunError) as caught:
        load_form_file(path)
    described = [p.describe() for p in caught.value.problems]
    assert all(p.location.file == "demo.v1.toml" for p in caught.value.problems)
    assert any("字段「sections[0].fields[1].type」" in d and "取值应为" in d for d in described), described
    assert any("sections[0].fields[2].choices" in d and "必须列出可选值" in d for d in described)
    assert any("sections[0].fields[3].key" in d and "重复" in d for d in described)
    assert any("sections[0].fields[3].colour" in d and "未知的设置项" in d for d in described)


def test_definition_syntax_and_file_name_mismatch(tmp_path: Path) -> None:
    broken = tmp_path / "demo.v1.toml"
    broken.write_text('id = "demo"\nversion = ', encoding="utf-8")
    with pytest.raises(YoujunError, match=r"文件「demo\.v1\.toml」.*TOML"):
        load_form_file(broken)
    other = tmp_path / "other.v1.toml"
    other.write_text(MINIMAL.format(version=1), encoding="utf-8")
    with pytest.raises(YoujunError, match=r"字段「id」.*应与文件名一致"):
        load_form_file(other)
    missing = tmp_path / "x.v1.toml"
    missing.write_text('id = "x"\nversion = "1"\n', encoding="utf-8")
    with pytest.raises(YoujunError) as caught:
        load_form_file(missing)
    fields = {p.location.field for p in caught.value.problems}
    assert {"version", "title", "sections"} <= fields


# ----------------------------------------------------------------------------------------------------
# Pre-filling and validation


def test_prefill_from_context() -> None:
    county = county_json()
    values = prefill(load_form("application-2019"), _context())
    assert values["county_name"] == "鸠江区" and values["county_type"] == "区"
    assert values["basic_balance_year"] == 2015
    assert values["units_total"] == len(county["resource_allocation"]["units"])
    assert values["units_passed_share"] == pytest.approx(14 / 16)
    assert values["guarantee_met"] == 13 and values["quality_met"] == 8
    assert values["recognition_rate"] == 0.9125
    assert values["resources_conclusion"] == "未达标"  # false mapped through source_map
    assert values["conclusion"] == "未达到优质均衡发展标准"
    assert values["basic_balance_years"] == 9
    assert values["schools_junior"] is None  # missing source → None
    assert values["county_government_opinion"] is None  # no source
    primary = county["resource_allocation"]["stages"]["primary"]
    assert [row["primary_cv"] for row in values["cvs"]] == [primary["cv"][c] for c in primary["cv"]]
    assert values["cvs"][3]["junior_value"] == county["resource_allocation"]["stages"]["junior"]["county_value"]["R4"]
    recommendation = prefill(load_form("recommendation-2021"), _context())
    assert recommendation["target_year"] == 2027
    assert recommendation["tackling_items"] == ["2.1"]


def test_prefill_without_evaluation_gives_nones() -> None:
    values = prefill(load_form("recommendation-2021"), make_context(county={"name": "东城区"}))
    assert values["county_name"] == "东城区"
    assert values["units_passed_share"] is None and values["guarantee_met"] is None
    assert all(set(row.values()) == {None} for row in values["cvs"]) and len(values["cvs"]) == 7


@pytest.mark.parametrize("form_id", SHIPPED)
def test_filled_form_validates(form_id: str) -> None:
    defn = load_form(form_id)
    assert validate(defn, _filled(defn)) == []


def test_validation_messages_name_the_label() -> None:
    defn = load_form("recommendation-2021")
    values = _filled(defn)
    values.update(
        county_name="",
        basic_balance_year=1850,
        county_type="州",
        units_passed_share=1.2,
        guarantee_met=16,
        resident_population="很多",
        tackling_items=["9.9 不存在的事项"],
        filled_on="2025-02-30",
        stray=1,
    )
    values["cvs"][1]["primary_cv"] = "高"
    problems = {p.location.field: p.message for p in validate(defn, values)}
    assert problems["county_name"] == "「县（市、区）名称」为必填项"
    assert problems["basic_balance_year"] == "「通过国家基本均衡认定年份」应为 1900–2100 之间的四位年份"
    assert problems["county_type"].startswith("「县域类型」应从以下选项中选择：县、市、区、旗")
    assert "应为 0%–100% 之间的比例" in problems["units_passed_share"]
    assert problems["guarantee_met"] == "「政府保障程度达标项数（共15项）」应不大于 15"
    assert problems["resident_population"] == "「常住人口」应为数值"
    assert "含有不在选项中的值：9.9 不存在的事项" in problems["tackling_items"]
    assert problems["filled_on"] == "「填表日期」应为日期（如 2025-03-31）"
    assert (
        problems["cvs.2.primary_cv"]
        == "「校际差异系数」R2 每百名学生拥有县级及以上骨干教师数（人）「小学差异系数」应为数值"
    )
    assert problems["stray"].endswith("中没有字段「stray」")
    assert all(p.severity == "error" for p in validate(defn, values))


def test_display_rules() -> None:
    defn = load_form("application-2019")
    assert display(defn.field("units_passed_share"), 0.875) == "87.50%"
    assert display(defn.field("resident_population"), 1234.565) == "1,234.57"  # half-up
    assert display(defn.field("students_primary"), 21000) == "21,000"
    assert display(defn.field("basic_balance_year"), 2015) == "2015"
    assert display(defn.field("filled_on"), date(2025, 3, 1)) == "2025年3月1日"
    assert display(defn.field("filled_on"), None) == ""
    cv = defn.field("cvs").columns[1]
    assert display(cv, 0.501787) == "0.502"


def test_registry_summary_counts_schools_students_teachers() -> None:
    schools = pl.DataFrame(
        {
            "school_type": ["小学", "小学", "初中", "九年一贯制学校", "教学点", "特殊教育学校"],
            "students_primary": [500, 300, 0, 400, 30, 20],
            "students_junior": [0, 0, 600, 300, 0, None],
            "teachers_primary": [30, 20, 0, 25, 3, 5],
            "teachers_junior": [0, 0, 50, 25, 0, 0],
        }
    )
    counts = registry_summary(schools)
    assert counts["schools_primary"] == 2 and counts["schools_junior"] == 1 and counts["schools_nine_year"] == 1
    assert counts["teaching_points"] == 1 and counts["special_schools"] == 1 and counts["schools_total"] == 6
    assert counts["students_primary"] == 1250 and counts["students_junior"] == 900 and counts["students_total"] == 2150
    assert counts["teachers_total"] == 158


# ----------------------------------------------------------------------------------------------------
# Word and Excel


def _docx_texts(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("form_id", SHIPPED)
def test_docx_round_trip_of_every_value(form_id: str) -> None:
    defn = load_form(form_id)
    values = _filled(defn)
    data = form_docx(defn, values)
    text = _docx_texts(data)
    assert defn.title in text
    for key, label, spec, value in flatten(defn, values):
        shown = display(spec, value)
        assert shown and shown in text, (key, shown)
        if "／" not in label:
            assert label in text, label
    doc = Document(io.BytesIO(data))
    assert (
        doc.styles["Normal"].element.rPr.rFonts.get(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
        )
        == "宋体"
    )
    for field in defn.fields:
        if field.opinion:
            assert f"{field.signer}（盖章）" in text
    assert "年　　月　　日" in text


@pytest.mark.parametrize("form_id", SHIPPED)
def test_xlsx_round_trip_of_every_value(form_id: str) -> None:
    defn = load_form(form_id)
    values = _filled(defn)
    data = form_xlsx(defn, values)
    reader = fastexcel.read_excel(data)
    assert reader.sheet_names == [FORM_SHEET, FIELDS_SHEET]
    flat = reader.load_sheet_by_name(FIELDS_SHEET, dtypes={"值": "string"}).to_polars()
    numbers = reader.load_sheet_by_name(FIELDS_SHEET, dtypes={"值": "float"}).to_polars()
    expected = flatten(defn, values)
    assert flat["键"].to_list() == [key for key, *_ in expected]
    for (key, _, spec, value), text, number in zip(
        expected, flat["值"].to_list(), numbers["值"].to_list(), strict=True
    ):
        if spec.type in ("int", "number", "percent", "year"):
            assert number == pytest.approx(value, rel=1e-15), key
        elif spec.type == "multichoice":
            assert text.split("；") == value
        else:
            assert text == str(value), key
    layout = reader.load_sheet_by_name(FORM_SHEET, header_row=None, dtypes="string").to_polars()
    cells = {str(v) for column in layout.columns for v in layout[column].to_list() if v is not None}
    assert defn.title in cells
    for field in defn.fields:
        assert field.caption in cells
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = "".join(archive.read(n).decode() for n in archive.namelist() if "worksheets/sheet" in n)
    assert "<f>" not in sheets  # "=SUM(A1)" in a long text stays text


def test_empty_form_renders_blank() -> None:
    defn = load_form("recommendation-2021")
    blank = prefill(defn, make_context())
    text = _docx_texts(form_docx(defn, blank))
    assert "省级教育行政部门推荐意见" in text
    flat = fastexcel.read_excel(form_xlsx(defn, blank)).load_sheet_by_name(FIELDS_SHEET, dtypes="string").to_polars()
    assert flat.height == len(flatten(defn, blank))
    assert flat["值"].null_count() == flat.height
