"""Exact on every item (issue 9): the national relaxations by default, counties without schools in every output,
boundary cases made visible, one message style, impossible inputs refused, one rule for items without schools."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from docx import Document
from typer.testing import CliRunner

from conftest import frame
from test_assessment import full_county
from test_guarantee import counties, county, good_school
from youjun.cli import app
from youjun.contract import COUNTY_SHEET, SCHOOL_SHEET, TEMPLATE_VERSION
from youjun.engine import assess
from youjun.engine.guarantee import evaluate_guarantee
from youjun.errors import YoujunError
from youjun.io.documents import assessment_annex_xlsx, self_evaluation_docx
from youjun.io.evaluation_json import to_dict
from youjun.io.reader import read_school_data
from youjun.io.workbook import write_data_workbook
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet

MET, NOT_MET, INSUFFICIENT = "met", "not_met", "insufficient_data"


def g(rules: RuleSet, code: str, **school: Any) -> dict[str, Any]:
    """The drill-down row of one school for a G item under ``rules``."""
    ev = evaluate_guarantee(frame([good_school(**school)]), counties([county()]), rules)
    return ev.schools.filter(pl.col("code") == code).row(0, named=True)


def province_file(tmp_path: Path, body: str) -> RuleSet:
    path = tmp_path / "province.toml"
    path.write_text(f'id = "test-province"\nextends = "national-2017"\nname = "测试省细则"\n{body}', encoding="utf-8")
    return load_rule_set(str(path))


# ---------------------------------------------------------------------------------------------------------------
# 1. The national relaxations apply by default; a province can turn each off


@pytest.mark.parametrize(
    ("school", "expected"),
    [
        (dict(students_primary=2400, built_year=2010), MET),  # built by 2010: 2,400
        (dict(students_primary=2401, built_year=2010), NOT_MET),
        (dict(students_primary=2400, built_year=2015, migrant_students=1201), MET),  # migrants > 50 %
        (dict(students_primary=2400, built_year=2015, migrant_students=1200), NOT_MET),  # exactly 50 % is not above
        (dict(school_type="九年一贯制学校", students_primary=2000, students_junior=1000, built_year=2008), MET),
        (dict(school_type="九年一贯制学校", students_primary=2000, students_junior=1001, built_year=2008), NOT_MET),
    ],
)
def test_national_rule_set_applies_the_g4_relaxation(national: RuleSet, school: dict[str, Any], expected: str) -> None:
    school = (
        {"teachers_junior": 60, "qualified_teachers_junior": 50, **school} if school.get("students_junior") else school
    )
    assert g(national, "G4", **school)["status"] == expected


def test_a_province_can_turn_the_g4_relaxation_off(national: RuleSet, tmp_path: Path) -> None:
    strict = province_file(tmp_path, "[guarantee.G4.relaxation]\nenabled = false\n")
    assert g(national, "G4", students_primary=2400, built_year=2010)["status"] == MET
    row = g(strict, "G4", students_primary=2400, built_year=2010)
    assert row["status"] == NOT_MET
    assert row["detail"] == "小学义务教育阶段在校生 2,400 人（要求不超过 2,000 人），未达标"


def test_the_relaxed_limit_is_named_where_it_applies(national: RuleSet) -> None:
    row = g(national, "G4", students_primary=2300, built_year=2009)
    assert row["detail"] == (
        "小学义务教育阶段在校生 2,300 人（要求不超过 2,400 人，放宽：2010 年及以前建成或随迁子女占比超过 50.00%），达标"
    )


LEGACY = dict(classes_primary=24, music_rooms=1, art_rooms=1, music_rooms_legacy=1, art_rooms_legacy=1)


def test_national_rule_set_counts_legacy_rooms_of_schools_built_by_2016(national: RuleSet, tmp_path: Path) -> None:
    assert g(national, "G3", built_year=2015, **LEGACY)["status"] == MET
    assert g(national, "G3", built_year=2017, **LEGACY)["status"] == NOT_MET
    strict = province_file(tmp_path, "[guarantee.G3.relaxation]\nenabled = false\n")
    assert g(strict, "G3", built_year=2015, **LEGACY)["status"] == NOT_MET


SMALL = dict(
    urban_rural="乡村",
    classes_primary=6,
    max_class_size_primary=28,
    music_rooms=0,
    art_rooms=0,
    music_rooms_legacy=0,
    art_rooms_legacy=0,
    music_rooms_small_rural=1,
    art_rooms_small_rural=1,
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, MET),  # a rural school whose largest class is under 30 counts its 54 ㎡ rooms
        ({"max_class_size_primary": 29}, MET),
        ({"max_class_size_primary": 30}, NOT_MET),  # 小于 30: strict
        ({"urban_rural": "镇区"}, NOT_MET),
        ({"art_rooms_small_rural": 0}, NOT_MET),
        ({"music_rooms_small_rural": None}, INSUFFICIENT),  # a version-1 workbook: the count is unknown
        ({"max_class_size_primary": None}, INSUFFICIENT),
    ],
)
def test_g3_small_rural_relaxation(national: RuleSet, change: dict[str, Any], expected: str) -> None:
    row = g(national, "G3", **{**SMALL, **change})
    assert row["status"] == expected
    if expected == MET:
        assert "放宽：乡村小规模学校最大班额小于 30 人" in row["detail"]


def test_a_province_can_turn_the_small_rural_relaxation_off(tmp_path: Path) -> None:
    strict = province_file(tmp_path, "[guarantee.G3.small_rural]\nenabled = false\n")
    assert g(strict, "G3", **SMALL)["status"] == NOT_MET


def test_the_template_is_version_2_with_the_small_rural_columns(tmp_path: Path) -> None:
    from youjun.io.workbook import write_template

    assert TEMPLATE_VERSION == 2
    path = tmp_path / "模板.xlsx"
    write_template(path)
    headers = pl.read_excel(path, sheet_name=SCHOOL_SHEET).columns
    assert "音乐专用教室数(达到乡村小规模学校放宽面积)" in headers
    assert "美术专用教室数(达到乡村小规模学校放宽面积)" in headers


def test_a_version_1_workbook_still_reads(tmp_path: Path) -> None:
    """A workbook without the version-2 columns imports; the new counts are blank."""
    rows = frame([good_school()]).drop("music_rooms_small_rural", "art_rooms_small_rural")
    path = tmp_path / "v1.csv"
    rows.write_csv(path)
    data = read_school_data([path])
    assert data.schools["music_rooms_small_rural"].to_list() == [None]


# ---------------------------------------------------------------------------------------------------------------
# 2. Every county of the county sheet appears in every output


def _with_empty_county(tmp_path: Path) -> Path:
    schools = frame([good_school()])
    sheet = counties([full_county(), full_county(county_code="340299", county_name="无校县")])
    path = tmp_path / "数据.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: schools, COUNTY_SHEET: sheet})
    return path


def test_a_county_without_schools_is_in_the_json_with_what_can_be_judged(national: RuleSet) -> None:
    sheet = counties([full_county(), full_county(county_code="340299", county_name="无校县")])
    doc = to_dict(assess(frame([good_school()]), sheet, national))
    by_code = {c["county_code"]: c for c in doc["counties"]}
    assert set(by_code) == {"340207", "340299"}
    empty = by_code["340299"]
    ra = empty["resource_allocation"]
    assert (ra["status"], ra["passed"], ra["stages"], ra["units"]) == (INSUFFICIENT, False, {}, [])
    assert empty["verdict"]["parts"]["resource_allocation"] == INSUFFICIENT
    assert empty["verdict"]["parts"]["social_recognition"] == MET  # judged on the county sheet
    assert empty["verdict"]["parts"]["eligibility"] == MET
    g7 = next(i for i in empty["government_guarantee"]["items"] if i["code"] == "G7")
    assert g7["status"] == MET
    g3 = next(i for i in empty["government_guarantee"]["items"] if i["code"] == "G3")
    assert (g3["status"], g3["detail"]) == (INSUFFICIENT, "学校表中无本县（区）学校")
    assert by_code["340207"]["resource_allocation"]["status"] == MET


def test_cli_json_table_and_every_document_for_a_county_without_schools(tmp_path: Path) -> None:
    path = _with_empty_county(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [c["county_code"] for c in doc["counties"]] == ["340207", "340299"]
    table = runner.invoke(app, ["evaluate", str(path)])
    assert "/ 2 个县（区）达到优质均衡发展标准" in table.stdout  # the county without schools is in the table
    for kind, suffix in (("report", ".docx"), ("annex", ".xlsx"), ("application", ".docx")):
        out = tmp_path / f"out-{kind}{suffix}"
        result = runner.invoke(app, ["report", str(path), "--county", "340299", "--kind", kind, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "数据不足，暂不能作出结论" in result.stdout
        assert out.stat().st_size > 1000
    text = "\n".join(p.text for p in Document(str(tmp_path / "out-report.docx")).paragraphs)
    assert "资源配置结论：数据不足" in text and "资源配置结论：未达标" not in text


def test_check_warns_about_counties_missing_from_either_sheet(tmp_path: Path) -> None:
    schools = frame([good_school(), good_school(school_id="3402080001", county_code="340208", county_name="另一区")])
    sheet = counties([full_county(), full_county(county_code="340299", county_name="无校县")])
    path = tmp_path / "数据.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: schools, COUNTY_SHEET: sheet})
    data = read_school_data([path])
    codes = {(w.code, w.location.sheet, w.location.value) for w in data.warnings}
    assert ("county_without_schools", COUNTY_SHEET, "340299") in codes
    assert ("county_row_missing", SCHOOL_SHEET, "340208") in codes
    messages = [w.message for w in data.warnings]
    assert any("无校县（340299）2024 年度在「学校」表中没有学校" in m for m in messages)
    assert any("另一区（340208）2024 年度的 1 所学校在「县级指标」表中没有对应的县级数据" in m for m in messages)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0 and "2 条提醒" in result.stdout and "3 个县（区）年度" in result.stdout


# ---------------------------------------------------------------------------------------------------------------
# 3-4. Boundaries visible; one message style


BOUNDARY_CASES = [
    # (county inputs, item, expected detail)
    (
        dict(teacher_avg_salary=99_999.99, civil_servant_avg_salary=100_000.0),
        "G8",
        "教师平均工资收入 99,999.99 元 ÷ 公务员平均工资收入 100,000 元 = 1.00（要求不低于 1.00），未达标"
        "（⚠临界：全精度值 0.9999999）；足额核定绩效工资总量：是",
    ),
    (
        dict(quality_hs_plan=20_001, quality_hs_allocated=10_000),
        "G14",
        "分配到初中学校的名额 10,000 人 ÷ 优质高中招生计划 20,001 人 = 50.00%（要求不低于 50.00%），未达标"
        "（⚠临界：全精度值 49.99750012%）；审核结论：达标",
    ),
    (
        dict(special_ed_funds_per_student=5999.995),
        "G7",
        "特殊教育学校生均公用经费 6,000 元（要求不低于 6,000 元），未达标（⚠临界：全精度值 5999.995）",
    ),
]


@pytest.mark.parametrize(("inputs", "code", "detail"), BOUNDARY_CASES)
def test_a_value_shown_equal_to_its_threshold_but_not_met_is_marked(
    national: RuleSet, inputs: dict[str, Any], code: str, detail: str
) -> None:
    a = assess(frame([good_school()]), counties([full_county(**inputs)]), national)
    item = a.guarantee.items.filter(pl.col("code") == code).row(0, named=True)
    assert (item["status"], item["boundary"], item["detail"]) == (NOT_MET, True, detail)


def test_recognition_shown_as_85_percent_but_below_is_marked(national: RuleSet) -> None:
    a = assess(
        frame([good_school()]), counties([full_county(recognition_valid=25_000, recognition_positive=21_249)]), national
    )
    s1 = a.recognition.row(0, named=True)
    assert s1["status"] == NOT_MET and s1["boundary"] is True
    assert s1["detail"] == (
        "认可回答 21,249 个 ÷ 有效回答 25,000 个 = 85.00%（要求不低于 85.00%），未达标（⚠临界：全精度值 84.996%）"
    )


@pytest.mark.parametrize(
    ("inputs", "code"),
    [
        (dict(teacher_avg_salary=100_000.0, civil_servant_avg_salary=100_000.0), "G8"),  # exactly met
        (dict(quality_hs_plan=20_000, quality_hs_allocated=10_000), "G14"),
        (dict(special_ed_funds_per_student=5990.0), "G7"),  # plainly below: no boundary
    ],
)
def test_no_marker_where_the_display_reads_the_same_as_the_verdict(
    national: RuleSet, inputs: dict[str, Any], code: str
) -> None:
    a = assess(frame([good_school()]), counties([full_county(**inputs)]), national)
    item = a.guarantee.items.filter(pl.col("code") == code).row(0, named=True)
    assert item["boundary"] is False and "⚠临界" not in item["detail"]


def test_strict_threshold_shown_equal_but_met_is_marked(national: RuleSet) -> None:
    """Q9 低于 0.15: 0.1499 shows as 0.150 and is met; the reader of 0.150 would say it is not below."""
    a = assess(
        frame([good_school()]), counties([full_county(q9_lowest_level="Ⅲ", q9_max_difference_rate=0.1499)]), national
    )
    q9 = a.quality.items.filter(pl.col("code") == "Q9").row(0, named=True)
    assert (q9["status"], q9["boundary"]) == (MET, True)
    assert q9["detail"].endswith("最大校际差异率 0.150（要求低于 0.150），达标（⚠临界：全精度值 0.1499）")


def test_a_province_comparing_rounded_values_shows_the_boundary_too(tmp_path: Path) -> None:
    rounded = province_file(tmp_path, '[precision]\ncompare = "rounded"\n')
    a = assess(
        frame([good_school()]), counties([full_county(recognition_valid=25_000, recognition_positive=21_249)]), rounded
    )
    s1 = a.recognition.row(0, named=True)
    assert (s1["status"], s1["boundary"]) == (MET, True)  # met when rounded; the marker says the full value is not


def test_school_boundaries_reach_the_county_item_and_the_json(national: RuleSet) -> None:
    shown_equal = good_school(school_id="3402070009", public_funds=1_000_000.0, training_funds=49_999.99)
    a = assess(frame([good_school(), shown_equal]), counties([full_county()]), national)
    q4 = a.quality.items.filter(pl.col("code") == "Q4").row(0, named=True)
    assert (q4["status"], q4["boundary"]) == (NOT_MET, True)
    doc = to_dict(a)["counties"][0]
    item = next(i for i in doc["education_quality"]["items"] if i["code"] == "Q4")
    assert item["boundary"] is True
    assert [(s["school_id"], s["boundary"]) for s in item["schools"]] == [("3402070009", True)]
    assert "（⚠临界：全精度值 4.999999%）" in item["schools"][0]["detail"]


def test_unit_indicator_shown_equal_to_its_standard_is_marked_in_the_shortfalls(national: RuleSet) -> None:
    # 20.999 qualified teachers per 500 pupils is impossible; 4.199 per hundred needs a larger school: 2099 of 49,990
    school = good_school(
        students_primary=1999, teachers_primary=120, qualified_teachers_primary=83, backbone_teachers_primary=30
    )
    a = assess(frame([school]), counties([full_county()]), national)
    doc = to_dict(a)["counties"][0]
    gaps = {s["indicator"]: s for s in doc["resource_allocation"]["shortfalls"]}
    assert gaps["R1"]["value"] == pytest.approx(83 / 1999 * 100)  # 4.1521 shows as 4.15: a plain gap
    assert gaps["R1"]["boundary"] is False
    school = good_school(
        students_primary=2381, teachers_primary=150, qualified_teachers_primary=100, backbone_teachers_primary=30
    )
    doc = to_dict(assess(frame([school]), counties([full_county()]), national))["counties"][0]
    gap = next(s for s in doc["resource_allocation"]["shortfalls"] if s["indicator"] == "R1")
    assert 4.195 <= gap["value"] < 4.2 and gap["boundary"] is True  # 4.1999 shows as 4.20 = the standard


@pytest.mark.parametrize(
    ("school", "code", "detail"),
    [
        (
            dict(students_primary=2001, built_year=2020),
            "G4",
            "小学义务教育阶段在校生 2,001 人（要求不超过 2,000 人），未达标",
        ),
        (dict(max_class_size_primary=46), "G5", "小学最大班额 46 人（要求不超过 45 人），未达标"),
        (
            dict(classes_primary=13, music_rooms=1, art_rooms=2),
            "G3",
            "班级 13 个；音乐专用教室 1 间（要求不少于 2 间），未达标；美术专用教室 2 间（要求不少于 2 间），达标",
        ),
        (
            dict(certified_teachers=34),
            "G12",
            "持教师资格证专任教师 34 人 ÷ 专任教师 35 人 = 97.14%（要求不低于 100.00%），未达标",
        ),
    ],
)
def test_every_item_writes_value_requirement_verdict(
    national: RuleSet, school: dict[str, Any], code: str, detail: str
) -> None:
    assert g(national, code, **school)["detail"] == detail


def test_every_county_item_detail_has_the_requirement_in_brackets(national: RuleSet) -> None:
    a = assess(frame([good_school()]), counties([full_county()]), national)
    numeric = {"G7", "G8", "G11", "G14", "G15", "Q1", "Q2", "Q9"}
    items = pl.concat([a.guarantee.items, a.quality.items]).filter(pl.col("code").is_in(numeric))
    assert items.height == len(numeric)
    for row in items.iter_rows(named=True):
        assert "（要求" in row["detail"] and ("，达标" in row["detail"] or "，未达标" in row["detail"]), row


# ---------------------------------------------------------------------------------------------------------------
# 5. Impossible inputs are hard errors, all of them at once, located


def test_impossible_county_inputs_are_all_refused_with_their_cells(tmp_path: Path) -> None:
    bad = full_county(
        basic_balance_year=2025,
        rotated_backbone_teachers=125,
        rotated_teachers=100,
        rotation_eligible_teachers=90,
        quality_hs_allocated=600,
        quality_hs_plan=500,
        disabled_enrolled=101,
        disabled_children=100,
        migrant_in_public=900,
        migrant_in_purchased=200,
        eligible_migrant_children=1000,
    )
    path = tmp_path / "数据.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: frame([good_school()]), COUNTY_SHEET: counties([bad])})
    with pytest.raises(YoujunError) as caught:
        read_school_data([path])
    errors = [p for p in caught.value.problems if p.severity == "error"]
    found = {(p.code, p.location.field) for p in errors}
    assert found == {
        ("recognised_after_year", "basic_balance_year"),
        ("part_exceeds_whole", "rotated_backbone_teachers"),
        ("part_exceeds_whole", "rotated_teachers"),
        ("part_exceeds_whole", "quality_hs_allocated"),
        ("part_exceeds_whole", "disabled_enrolled"),
        ("part_exceeds_whole", "migrant_in_public"),
    }
    assert all(p.location.sheet == COUNTY_SHEET and p.location.row == 2 for p in errors)
    message = next(p.message for p in errors if p.location.field == "rotated_backbone_teachers")
    assert (
        message
        == "「交流轮岗骨干教师数」（125）不得大于「交流轮岗教师数」（100）：交流轮岗骨干教师是交流轮岗教师的一部分"
    )
    message = next(p.message for p in errors if p.code == "recognised_after_year")
    assert "（2025）晚于统计年度（2024）" in message


def test_impossible_school_counts_are_refused(tmp_path: Path) -> None:
    bad = good_school(zoned_students=501, certified_teachers=36, max_class_size_primary=600, training_funds=500_000.0)
    path = tmp_path / "学校.csv"
    frame([bad]).write_csv(path)
    with pytest.raises(YoujunError) as caught:
        read_school_data([path])
    fields = {p.location.field for p in caught.value.problems if p.code == "part_exceeds_whole"}
    assert fields == {"zoned_students", "certified_teachers", "max_class_size_primary", "training_funds"}


# ---------------------------------------------------------------------------------------------------------------
# 6. One rule for items that apply to no school


def test_items_without_an_applicable_school_are_met_alike(national: RuleSet) -> None:
    """A county whose only school is a teaching point of 30 pupils: no school is in the resource scope."""
    point = good_school(school_type="教学点", students_primary=30, teachers_primary=3, certified_teachers=3)
    point |= dict(trained_360h_teachers=3, public_funds=80_000.0, zoned_students=30)
    a = assess(frame([point]), counties([full_county()]), national)
    items = {r["code"]: r for r in pl.concat([a.guarantee.items, a.quality.items]).iter_rows(named=True)}
    for code in ("G3", "G4", "G5", "G9", "G12", "G13", "Q3", "Q4", "Q6"):
        assert (items[code]["status"], items[code]["detail"], items[code]["value"]) == (MET, "无适用学校", None), code
    assert items["G6"]["detail"].startswith("适用学校 1 所")  # G6 covers teaching points of any size


def test_documents_and_annex_show_the_boundary(national: RuleSet) -> None:
    import fastexcel

    a = assess(frame([good_school()]), counties([full_county(special_ed_funds_per_student=5999.995)]), national)
    county_doc = to_dict(a)["counties"][0]
    docx = Document(io.BytesIO(self_evaluation_docx(county_doc)))
    cells = [c.text for t in docx.tables for r in t.rows for c in r.cells]
    assert "未达标（⚠临界）" in cells
    assert any("⚠临界：全精度值 5999.995" in c for c in cells)
    reader = fastexcel.read_excel(assessment_annex_xlsx(county_doc))
    names = reader.sheet_names
    sheet = next(n for n in names if "保障" in n)
    table = reader.load_sheet_by_name(sheet, header_row=None).to_polars()
    text = "\n".join(str(v) for row in table.iter_rows() for v in row if v is not None)
    assert "未达标（⚠临界）" in text and "⚠临界：全精度值 5999.995" in text
