"""Government guarantee G1–G15: every item at, just beyond and just inside its threshold, and with missing input;
relaxations, the provincial G7 floor, the per-school drill-down and counties missing from one of the two sheets."""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import deepcopy
from dataclasses import replace
from typing import Any

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from conftest import frame, school
from youjun.contract import COUNTY_COLUMNS
from youjun.engine.guarantee import ItemEvaluation, evaluate_guarantee
from youjun.errors import YoujunError
from youjun.io.synth import generate
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet

MET, NOT_MET, INSUFFICIENT = "met", "not_met", "insufficient_data"
DTYPES = {"int": pl.Int64, "number": pl.Float64, "year": pl.Int64}


def county(**overrides: Any) -> dict[str, Any]:
    """A county-sheet row meeting every county-level item comfortably."""
    row: dict[str, Any] = {c.key: None for c in COUNTY_COLUMNS}
    row.update(
        year=2024,
        county_code="340207",
        county_name="示例区",
        basic_balance_year=2018,
        g1_verdict="达标",
        g2_verdict="达标",
        public_funds_quota_primary=720.0,
        public_funds_quota_junior=940.0,
        special_ed_funds_per_student=7000.0,
        teacher_avg_salary=105_000.0,
        civil_servant_avg_salary=100_000.0,
        performance_pay_full="是",
        g10_verdict="达标",
        rotation_eligible_teachers=1000,
        rotated_teachers=150,
        rotated_backbone_teachers=40,
        quality_hs_plan=1000,
        quality_hs_allocated=600,
        g14_verdict="达标",
        eligible_migrant_children=1000,
        migrant_in_public=900,
        migrant_in_purchased=50,
        g15_verdict="达标",
        junior_graduates=980,
        junior_transfer_in=10,
        junior_transfer_out=20,
        grade7_enrolment=1000,
        junior_deaths=0,
        disabled_children=100,
        disabled_enrolled=98,
        q5_verdict="达标",
        q7_verdict="达标",
        q8_verdict="达标",
        q9_lowest_level="Ⅲ",
        q9_max_difference_rate=0.10,
    )
    row.update(overrides)
    return row


def counties(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c.key: DTYPES.get(c.kind, pl.String) for c in COUNTY_COLUMNS})


def good_school(**overrides: Any) -> dict[str, Any]:
    """The conftest primary school (500 pupils, 城区, 公办) meeting every school-level item."""
    values: dict[str, Any] = dict(
        built_year=2020,  # too recent for the G3 and G4 relaxations: the standard limits decide
        migrant_students=0,
        classes_primary=12,
        classes_junior=None,
        max_class_size_primary=42,
        music_rooms=1,
        art_rooms=1,
        zoned_students=500,
        public_funds=400_000.0,
        training_funds=30_000.0,
        certified_teachers=35,
        trained_360h_teachers=35,
        has_charter_ict="是",
        moral_education_rating="良好",
    )
    values.update(overrides)
    return school(**values)


Evaluate = Callable[[pl.DataFrame, pl.DataFrame | None, RuleSet], ItemEvaluation]


def evaluate(
    rules: RuleSet,
    schools: list[dict[str, Any]] | None = None,
    county_rows: list[dict[str, Any]] | None = None,
    evaluator: Evaluate = evaluate_guarantee,
) -> ItemEvaluation:
    school_frame = frame(schools if schools is not None else [good_school()])
    return evaluator(school_frame, counties(county_rows if county_rows is not None else [county()]), rules)


def item(ev: ItemEvaluation, code: str, county_code: str = "340207") -> dict[str, Any]:
    rows = ev.items.filter((pl.col("code") == code) & (pl.col("county_code") == county_code))
    assert rows.height == 1
    return rows.row(0, named=True)


def status(
    rules: RuleSet,
    code: str,
    *,
    schools: list[dict[str, Any]] | None = None,
    section: str = "guarantee",
    evaluator: Evaluate = evaluate_guarantee,
    **county_overrides: Any,
) -> str:
    """The status of item ``code`` alone (the other items are left out of the rule set to keep tests fast)."""
    alone = replace(rules, sections={**rules.sections, section: {code: rules.sections[section][code]}})
    return str(item(evaluate(alone, schools, [county(**county_overrides)], evaluator), code)["status"])


def school_status(rules: RuleSet, code: str, **overrides: Any) -> str:
    """The county status of a school item for one school with ``overrides``."""
    return status(rules, code, schools=[good_school(**overrides)])


def setting(rules: RuleSet, section: str, code: str, **values: Any) -> RuleSet:
    """The rule set with keys of ``[section.code]`` replaced (tables merge one level deep)."""
    sections = deepcopy(dict(rules.sections))
    entry = sections[section][code]
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(entry.get(key), dict):
            entry[key] = {**entry[key], **value}
        else:
            entry[key] = value
    return replace(rules, sections=sections)


# ---------------------------------------------------------------------------------------------------------------
# Shape


def test_every_county_gets_every_item_in_rule_set_order(national: RuleSet) -> None:
    ev = evaluate(national)
    assert ev.items["code"].to_list() == [f"G{i}" for i in range(1, 16)]
    assert ev.items.columns[:3] == ["year", "county_code", "county_name"]
    assert {"code", "name", "kind", "status", "value", "threshold", "detail", "inputs"} <= set(ev.items.columns)
    assert ev.items.schema["value"] == pl.Float64
    assert ev.items.schema["threshold"] == pl.Float64
    assert item(ev, "G7")["name"] == national.sections["guarantee"]["G7"]["name"]
    assert item(ev, "G1")["kind"] == "evidence"
    assert item(ev, "G3")["kind"] == "school"
    assert item(ev, "G7")["kind"] == "county"


def test_a_county_meeting_every_item_has_every_item_met(national: RuleSet) -> None:
    ev = evaluate(national)
    assert set(ev.items["status"]) == {MET}, ev.items.filter(pl.col("status") != MET)


def test_inputs_are_json_in_full_precision(national: RuleSet) -> None:
    ev = evaluate(national, county_rows=[county(teacher_avg_salary=98_765.4321, civil_servant_avg_salary=100_000.0)])
    g8 = item(ev, "G8")
    assert json.loads(g8["inputs"]) == {
        "teacher_avg_salary": 98_765.4321,
        "civil_servant_avg_salary": 100_000.0,
        "performance_pay_full": "是",
    }
    assert g8["value"] == pytest.approx(0.987654321, abs=1e-15)


def test_detail_explains_the_figure_in_chinese(national: RuleSet) -> None:
    ev = evaluate(national, county_rows=[county(teacher_avg_salary=98_000.0)])
    assert item(ev, "G8")["detail"] == (
        "教师平均工资收入 98,000 元 ÷ 公务员平均工资收入 100,000 元 = 0.98（要求不低于 1.00），未达标；"
        "足额核定绩效工资总量：是"
    )


def test_missing_input_is_named_in_the_detail(national: RuleSet) -> None:
    ev = evaluate(national, county_rows=[county(special_ed_funds_per_student=None)])
    assert item(ev, "G7")["detail"] == "数据不足：缺少「特殊教育学校生均公用经费(元)」"


# ---------------------------------------------------------------------------------------------------------------
# Counties present in only one sheet


def test_county_without_a_county_sheet_row_has_county_items_insufficient(national: RuleSet) -> None:
    other = good_school(school_id="3402080001", county_code="340208", county_name="邻区")
    ev = evaluate(national, [good_school(), other], [county()])
    rows = ev.items.filter(pl.col("county_code") == "340208")
    assert rows.height == 15
    county_items = rows.filter(pl.col("kind") != "school")
    assert set(county_items["status"]) == {INSUFFICIENT}
    assert set(county_items["detail"]) == {"县级指标表中无本县（区）数据"}
    # school items are judged on the school sheet; G6 needs the county quota but no school needs it here
    assert set(rows.filter(pl.col("kind") == "school")["status"]) == {MET}


def test_county_without_schools_has_school_items_insufficient(national: RuleSet) -> None:
    ev = evaluate(national, [good_school()], [county(), county(county_code="340208", county_name="邻区")])
    rows = ev.items.filter(pl.col("county_code") == "340208")
    assert rows.height == 15
    assert rows["county_name"].unique().to_list() == ["邻区"]
    school_items = rows.filter(pl.col("kind") == "school")
    assert set(school_items["status"]) == {INSUFFICIENT}
    assert set(school_items["detail"]) == {"学校表中无本县（区）学校"}
    assert set(rows.filter(pl.col("kind") != "school")["status"]) == {MET}


def test_no_county_sheet_at_all_leaves_county_items_insufficient(national: RuleSet) -> None:
    ev = evaluate_guarantee(frame([good_school()]), None, national)
    assert set(ev.items.filter(pl.col("kind") != "school")["status"]) == {INSUFFICIENT}
    assert ev.items.height == 15


def test_years_are_separate_counties(national: RuleSet) -> None:
    ev = evaluate(national, [good_school(), good_school(year=2023)], [county(), county(year=2023, g1_verdict="不达标")])
    g1 = ev.items.filter(pl.col("code") == "G1").sort("year")
    assert g1["status"].to_list() == [NOT_MET, MET]


# ---------------------------------------------------------------------------------------------------------------
# Evidence items G1, G10


@pytest.mark.parametrize("code", ["G1", "G10"])
@pytest.mark.parametrize(
    ("verdict", "expected"),
    [("达标", MET), ("不达标", NOT_MET), ("待补充", INSUFFICIENT), (None, INSUFFICIENT)],
)
def test_evidence_item_follows_the_reviewer_verdict(
    national: RuleSet, code: str, verdict: str | None, expected: str
) -> None:
    overrides: dict[str, Any] = {f"{code.lower()}_verdict": verdict}
    assert status(national, code, **overrides) == expected


# ---------------------------------------------------------------------------------------------------------------
# G2


@pytest.mark.parametrize(
    ("quota", "expected"),
    [(720.0, MET), (719.99, NOT_MET), (720.01, MET), (None, INSUFFICIENT)],
    ids=["at_floor", "below", "above", "missing"],
)
def test_g2_checks_the_public_funds_floor_when_set(national: RuleSet, quota: float | None, expected: str) -> None:
    rules = setting(national, "guarantee", "G2", min_public_funds_quota={"primary": 720})
    assert status(rules, "G2", public_funds_quota_primary=quota) == expected


def test_g2_without_a_floor_only_reads_the_verdict(national: RuleSet) -> None:
    assert status(national, "G2", public_funds_quota_primary=None, public_funds_quota_junior=1.0) == MET
    assert status(national, "G2", g2_verdict="不达标") == NOT_MET
    assert status(national, "G2", g2_verdict="待补充") == INSUFFICIENT


def test_g2_verdict_not_met_fails_even_with_the_floor_unknown(national: RuleSet) -> None:
    rules = setting(national, "guarantee", "G2", min_public_funds_quota={"primary": 720})
    assert status(rules, "G2", g2_verdict="不达标", public_funds_quota_primary=None) == NOT_MET


# ---------------------------------------------------------------------------------------------------------------
# G3 music and art rooms


@pytest.mark.parametrize(
    ("classes", "music", "art", "expected"),
    [
        (24, 2, 2, MET),  # exactly ⌈24/12⌉ = 2 rooms each
        (24, 1, 2, NOT_MET),
        (24, 2, 1, NOT_MET),
        (24, 3, 3, MET),
        (25, 2, 2, NOT_MET),  # 25 classes need ⌈25/12⌉ = 3
        (24, None, 2, INSUFFICIENT),
        (None, 2, 2, INSUFFICIENT),
        (0, 2, 2, INSUFFICIENT),  # a stage with pupils and no class is not usable
    ],
    ids=["at", "music_short", "art_short", "above", "thirteenth_class", "rooms_missing", "classes_missing", "zero"],
)
def test_g3_music_and_art_rooms_per_twelve_classes(
    national: RuleSet, classes: int | None, music: int | None, art: int | None, expected: str
) -> None:
    assert school_status(national, "G3", classes_primary=classes, music_rooms=music, art_rooms=art) == expected


def test_g3_counts_classes_of_both_stages(national: RuleSet) -> None:
    nine = dict(school_type="九年一贯制学校", students_junior=300, teachers_junior=25, certified_teachers=60)
    nine |= dict(trained_360h_teachers=60, max_class_size_junior=48, zoned_students=800)
    assert (
        school_status(national, "G3", **nine, classes_primary=12, classes_junior=12, music_rooms=2, art_rooms=2) == MET
    )
    assert (
        school_status(national, "G3", **nine, classes_primary=12, classes_junior=13, music_rooms=2, art_rooms=2)
        == NOT_MET
    )
    # the junior classes are needed once the school has junior pupils
    assert school_status(national, "G3", **nine, classes_primary=12, music_rooms=2, art_rooms=2) == INSUFFICIENT


def _g3_relaxed(national: RuleSet, enabled: bool) -> RuleSet:
    return setting(national, "guarantee", "G3", relaxation={"enabled": enabled})


def test_g3_relaxation_off_ignores_legacy_rooms(national: RuleSet) -> None:
    legacy = dict(classes_primary=24, music_rooms=1, art_rooms=1, music_rooms_legacy=1, art_rooms_legacy=1)
    assert school_status(_g3_relaxed(national, False), "G3", built_year=2016, **legacy) == NOT_MET


def test_g3_relaxation_on_counts_legacy_rooms_of_schools_built_by_2016(national: RuleSet) -> None:
    rules = _g3_relaxed(national, True)
    legacy = dict(classes_primary=24, music_rooms=1, art_rooms=1, music_rooms_legacy=1, art_rooms_legacy=1)
    assert school_status(rules, "G3", built_year=2016, **legacy) == MET
    assert school_status(rules, "G3", built_year=2017, **legacy) == NOT_MET
    assert school_status(rules, "G3", built_year=None, **legacy) == INSUFFICIENT
    assert school_status(rules, "G3", built_year=2016, **{**legacy, "art_rooms_legacy": 0}) == NOT_MET
    # a school meeting the full standard needs no building year
    assert school_status(rules, "G3", built_year=None, classes_primary=24, music_rooms=2, art_rooms=2) == MET


def test_g3_relaxed_drill_down_shows_the_counted_rooms(national: RuleSet) -> None:
    rules = _g3_relaxed(national, True)
    legacy = dict(classes_primary=24, music_rooms=1, art_rooms=1, music_rooms_legacy=1, art_rooms_legacy=2)
    row = (
        evaluate(rules, [good_school(built_year=2010, **legacy)])
        .schools.filter(pl.col("code") == "G3")
        .row(0, named=True)
    )
    assert (row["status"], row["value"], row["threshold"]) == (MET, 2.0, 2.0)
    assert "2016 年及以前建成" in row["detail"]


# ---------------------------------------------------------------------------------------------------------------
# G4 school size


@pytest.mark.parametrize(
    ("school_type", "students", "expected"),
    [
        ("小学", 2000, MET),
        ("小学", 2001, NOT_MET),
        ("小学", 1999, MET),
        ("九年一贯制学校", 2500, MET),
        ("九年一贯制学校", 2501, NOT_MET),
        ("十二年一贯制学校", 2499, MET),
        ("完全中学", 2001, NOT_MET),  # its compulsory part is a junior school: the single-stage limit
    ],
)
def test_g4_compulsory_students_within_the_limit_of_the_school_type(
    national: RuleSet, school_type: str, students: int, expected: str
) -> None:
    assert school_status(national, "G4", school_type=school_type, students_primary=students) == expected


def test_g4_senior_students_do_not_count(national: RuleSet) -> None:
    assert school_status(national, "G4", school_type="完全中学", students_primary=2000, students_senior=1500) == MET


def test_g4_missing_students_is_insufficient(national: RuleSet) -> None:
    assert school_status(national, "G4", students_primary=None) == INSUFFICIENT


def _g4_relaxed(national: RuleSet, enabled: bool) -> RuleSet:
    return setting(national, "guarantee", "G4", relaxation={"enabled": enabled})


def test_g4_relaxation_off_keeps_the_standard_limit(national: RuleSet) -> None:
    assert school_status(_g4_relaxed(national, False), "G4", students_primary=2400, built_year=2005) == NOT_MET


@pytest.mark.parametrize(
    ("students", "built", "migrants", "expected"),
    [
        (2400, 2010, None, MET),  # built by 2010: relaxed limit 2400, inclusive
        (2401, 2010, None, NOT_MET),
        (2400, 2011, 1200, NOT_MET),  # exactly 50 % migrants is not "超过50%"
        (2400, 2011, 1201, MET),
        (2400, None, None, INSUFFICIENT),  # within the relaxed limit: the outcome depends on the missing year
        (2401, None, None, NOT_MET),  # above even the relaxed limit
        (2000, None, None, MET),  # within the standard limit
    ],
)
def test_g4_relaxation_on_for_old_buildings_or_many_migrant_children(
    national: RuleSet, students: int, built: int | None, migrants: int | None, expected: str
) -> None:
    rules = _g4_relaxed(national, True)
    assert (
        school_status(rules, "G4", students_primary=students, built_year=built, migrant_students=migrants) == expected
    )


def test_g4_relaxation_on_for_a_nine_year_school_is_3000(national: RuleSet) -> None:
    rules = _g4_relaxed(national, True)
    nine = dict(school_type="九年一贯制学校", students_primary=2000, students_junior=1000, built_year=2000)
    assert school_status(rules, "G4", **nine) == MET
    assert school_status(rules, "G4", **{**nine, "students_junior": 1001}) == NOT_MET


# ---------------------------------------------------------------------------------------------------------------
# G5 class size


@pytest.mark.parametrize(
    ("size", "expected"),
    [(45, MET), (46, NOT_MET), (44, MET), (None, INSUFFICIENT)],
    ids=["at", "above", "below", "na"],
)
def test_g5_primary_largest_class_at_most_45(national: RuleSet, size: int | None, expected: str) -> None:
    assert school_status(national, "G5", max_class_size_primary=size) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [(50, MET), (51, NOT_MET), (49, MET), (None, INSUFFICIENT)],
    ids=["at", "above", "below", "na"],
)
def test_g5_junior_largest_class_at_most_50(national: RuleSet, size: int | None, expected: str) -> None:
    junior = dict(school_type="初中", students_primary=0, students_junior=500, teachers_primary=0, teachers_junior=35)
    assert school_status(national, "G5", **junior, max_class_size_primary=None, max_class_size_junior=size) == expected


def test_g5_a_school_with_both_stages_needs_both(national: RuleSet) -> None:
    nine = dict(school_type="九年一贯制学校", students_junior=300, teachers_junior=25)
    assert school_status(national, "G5", **nine, max_class_size_primary=45, max_class_size_junior=50) == MET
    assert school_status(national, "G5", **nine, max_class_size_primary=45, max_class_size_junior=None) == INSUFFICIENT
    # one stage failing decides, whatever the other would say
    assert school_status(national, "G5", **nine, max_class_size_primary=46, max_class_size_junior=None) == NOT_MET


def test_g5_drill_down_reports_the_stage_furthest_over(national: RuleSet) -> None:
    nine = dict(school_type="九年一贯制学校", students_junior=300, teachers_junior=25)
    ev = evaluate(national, [good_school(**nine, max_class_size_primary=46, max_class_size_junior=53)])
    row = ev.schools.filter(pl.col("code") == "G5").row(0, named=True)
    assert (row["value"], row["threshold"]) == (53.0, 50.0)
    assert (
        row["detail"]
        == "小学最大班额 46 人（要求不超过 45 人），未达标；初中最大班额 53 人（要求不超过 50 人），未达标"
    )


# ---------------------------------------------------------------------------------------------------------------
# G6 public funds of small village schools and teaching points

VILLAGE = dict(urban_rural="乡村", students_primary=99, teachers_primary=8, certified_teachers=8)
VILLAGE |= dict(trained_360h_teachers=8, classes_primary=6, zoned_students=None)


@pytest.mark.parametrize(
    ("funds", "expected"),
    [(72_000.0, MET), (71_999.99, NOT_MET), (72_000.01, MET), (None, INSUFFICIENT)],
    ids=["at", "below", "above", "missing"],
)
def test_g6_small_village_school_funded_as_100_pupils(national: RuleSet, funds: float | None, expected: str) -> None:
    # 99 pupils, quota 720 元: funded as 100 pupils → 72,000 元
    assert school_status(national, "G6", **VILLAGE, public_funds=funds) == expected


def test_g6_missing_county_quota_is_insufficient(national: RuleSet) -> None:
    ev = evaluate(national, [good_school(**VILLAGE, public_funds=80_000.0)], [county(public_funds_quota_primary=None)])
    assert item(ev, "G6")["status"] == INSUFFICIENT
    ev = evaluate(national, [good_school(**VILLAGE, public_funds=80_000.0)], [county(county_code="340299")])
    assert item(ev, "G6")["status"] == INSUFFICIENT


@pytest.mark.parametrize(
    "overrides",
    [
        {"students_primary": 100},  # 不足100: 100 pupils is not fewer than 100
        {"urban_rural": "镇区"},  # not a village school
        {"ownership": "民办"},
        {"school_type": "九年一贯制学校"},
    ],
    ids=["hundred_pupils", "town", "private", "nine_year"],
)
def test_g6_does_not_apply_to_other_schools(national: RuleSet, overrides: dict[str, Any]) -> None:
    ev = evaluate(national, [good_school(**{**VILLAGE, **overrides}, public_funds=1.0)])
    assert item(ev, "G6")["status"] == MET
    assert item(ev, "G6")["detail"] == "无适用学校"
    assert ev.schools.filter(pl.col("code") == "G6").height == 0


def test_g6_applies_to_teaching_points_of_any_size(national: RuleSet) -> None:
    point = dict(VILLAGE, school_type="教学点", urban_rural="镇区", students_primary=30, public_funds=21_600.0)
    ev = evaluate(national, [good_school(**point)])
    assert item(ev, "G6")["status"] == NOT_MET  # 30 pupils' worth; 100 × 720 = 72,000 needed
    row = ev.schools.filter(pl.col("code") == "G6").row(0, named=True)
    assert row["detail"] == (
        "在校生 30 人，按 100 人核定：100 × 生均公用经费基准定额 720 元 = 72,000 元；"
        "公用经费预算总额 21,600 元（要求不低于 72,000 元），未达标"
    )
    # the same teaching point is outside the resource scope, hence outside G3
    assert ev.schools.filter(pl.col("code") == "G3").height == 0


# ---------------------------------------------------------------------------------------------------------------
# G7 special-education funds


@pytest.mark.parametrize(
    ("funds", "expected"),
    [(6000.0, MET), (5999.99, NOT_MET), (6000.01, MET), (None, INSUFFICIENT)],
    ids=["at", "below", "above", "missing"],
)
def test_g7_special_education_funds_at_least_6000(national: RuleSet, funds: float | None, expected: str) -> None:
    assert status(national, "G7", special_ed_funds_per_student=funds) == expected


def test_g7_example_province_requires_8000() -> None:
    province = load_rule_set("example-province-2017")
    assert status(province, "G7", special_ed_funds_per_student=7999.0) == NOT_MET
    assert status(province, "G7", special_ed_funds_per_student=8000.0) == MET
    g7 = item(evaluate(province, county_rows=[county(special_ed_funds_per_student=8000.0)]), "G7")
    assert g7["threshold"] == 8000.0
    assert g7["name"] == "特殊教育学校生均公用经费不低于8000元"


# ---------------------------------------------------------------------------------------------------------------
# G8 salaries


@pytest.mark.parametrize(
    ("teacher", "civil", "full", "expected"),
    [
        (100_000.0, 100_000.0, "是", MET),
        (99_999.0, 100_000.0, "是", NOT_MET),
        (100_001.0, 100_000.0, "是", MET),
        (None, 100_000.0, "是", INSUFFICIENT),
        (100_000.0, 0.0, "是", INSUFFICIENT),  # division by zero is never a pass
        (100_000.0, 100_000.0, "否", NOT_MET),
        (100_000.0, 100_000.0, None, INSUFFICIENT),
        (99_999.0, 100_000.0, None, NOT_MET),  # failing the ratio decides
    ],
    ids=["at", "below", "above", "missing", "zero", "pay_not_full", "pay_unknown", "ratio_fails"],
)
def test_g8_teacher_salary_and_performance_pay(
    national: RuleSet, teacher: float | None, civil: float, full: str | None, expected: str
) -> None:
    result = status(
        national, "G8", teacher_avg_salary=teacher, civil_servant_avg_salary=civil, performance_pay_full=full
    )
    assert result == expected


# ---------------------------------------------------------------------------------------------------------------
# G9 training, G12 certificates


@pytest.mark.parametrize(("code", "key"), [("G9", "trained_360h_teachers"), ("G12", "certified_teachers")])
@pytest.mark.parametrize(
    ("count", "expected"), [(35, MET), (34, NOT_MET), (None, INSUFFICIENT)], ids=["all", "one_short", "missing"]
)
def test_teacher_rate_must_reach_100_percent(
    national: RuleSet, code: str, key: str, count: int | None, expected: str
) -> None:
    assert school_status(national, code, **{key: count}) == expected


@pytest.mark.parametrize(("code", "key"), [("G9", "trained_360h_teachers"), ("G12", "certified_teachers")])
@pytest.mark.parametrize(("count", "expected"), [(19, MET), (18, NOT_MET), (20, MET)], ids=["at", "below", "above"])
def test_teacher_rate_boundary_with_a_provincial_95_percent(
    national: RuleSet, code: str, key: str, count: int, expected: str
) -> None:
    rules = setting(national, "guarantee", code, min_rate=0.95)
    assert school_status(rules, code, teachers_primary=20, **{key: count}) == expected


@pytest.mark.parametrize("code", ["G9", "G12"])
def test_teacher_rate_of_a_school_without_teachers_is_insufficient(national: RuleSet, code: str) -> None:
    assert school_status(national, code, teachers_primary=0, certified_teachers=0, trained_360h_teachers=0) == (
        INSUFFICIENT
    )


def test_g9_county_rate_and_drill_down_list_the_failing_school(national: RuleSet) -> None:
    schools = [
        good_school(school_id="a", school_name="甲小学", teachers_primary=40, trained_360h_teachers=40),
        good_school(school_id="b", school_name="乙小学", teachers_primary=60, trained_360h_teachers=57),
    ]
    ev = evaluate(national, schools)
    g9 = item(ev, "G9")
    assert g9["status"] == NOT_MET
    assert g9["value"] == pytest.approx(97 / 100)
    assert g9["threshold"] == 1.0
    assert g9["detail"] == (
        "全县近5年培训满360学时专任教师 97 人 ÷ 专任教师 100 人 = 97.00%（要求不低于 100.00%），未达标；"
        "适用学校 2 所，未达标学校 1 所"
    )
    assert json.loads(g9["inputs"]) == {
        "schools": 2,
        "schools_not_met": 1,
        "schools_insufficient_data": 0,
        "numerator": 97,
        "denominator": 100,
    }
    drill = ev.schools.filter(pl.col("code") == "G9").sort("school_id")
    assert drill["school_id"].to_list() == ["a", "b"]
    assert drill["status"].to_list() == [MET, NOT_MET]
    assert drill.filter(pl.col("status") == NOT_MET)["school_name"].to_list() == ["乙小学"]
    assert drill["value"].to_list() == pytest.approx([1.0, 0.95])


def test_g12_county_fails_when_one_school_fails_even_if_the_aggregate_reaches_it(national: RuleSet) -> None:
    # over-reported certificates in one school (data error) must not hide another school's shortfall
    schools = [
        good_school(school_id="a", teachers_primary=40, certified_teachers=42),
        good_school(school_id="b", teachers_primary=60, certified_teachers=58),
    ]
    g12 = item(evaluate(national, schools), "G12")
    assert g12["value"] == pytest.approx(1.0)
    assert g12["status"] == NOT_MET


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 200), st.integers(0, 200)).map(lambda t: (t[0], min(t[1], t[0]))),
        min_size=1,
        max_size=12,
    )
)
def test_g9_county_rate_is_the_aggregate_of_the_school_figures(pairs: list[tuple[int, int]]) -> None:
    rules = load_rule_set("national-2017")
    schools = [
        good_school(school_id=f"s{i:03d}", teachers_primary=teachers, trained_360h_teachers=trained)
        for i, (teachers, trained) in enumerate(pairs)
    ]
    ev = evaluate(rules, schools)
    g9 = item(ev, "G9")
    assert g9["value"] == pytest.approx(sum(t for _, t in pairs) / sum(n for n, _ in pairs))
    drill = ev.schools.filter(pl.col("code") == "G9")
    assert drill.height == len(pairs)
    failing = sum(trained < teachers for teachers, trained in pairs)
    assert drill.filter(pl.col("status") == NOT_MET).height == failing
    assert g9["status"] == (NOT_MET if failing else MET)


# ---------------------------------------------------------------------------------------------------------------
# G11 rotation


@pytest.mark.parametrize(
    ("eligible", "rotated", "backbone", "expected"),
    [
        (1000, 100, 20, MET),  # exactly 10 % and 20 %
        (1000, 99, 20, NOT_MET),
        (1000, 101, 21, MET),
        (1000, 100, 19, NOT_MET),
        (1000, 100, 21, MET),
        (None, 100, 20, INSUFFICIENT),
        (1000, 100, None, INSUFFICIENT),
        (0, 0, 0, INSUFFICIENT),
        (1000, 0, 0, NOT_MET),  # no rotation at all: 0 % fails, whatever the backbone share
    ],
)
def test_g11_rotation_rate_and_backbone_share(
    national: RuleSet, eligible: int | None, rotated: int, backbone: int | None, expected: str
) -> None:
    result = status(
        national,
        "G11",
        rotation_eligible_teachers=eligible,
        rotated_teachers=rotated,
        rotated_backbone_teachers=backbone,
    )
    assert result == expected


# ---------------------------------------------------------------------------------------------------------------
# G13 zoned admission

JUNIOR = dict(school_type="初中", students_primary=0, students_junior=1000, teachers_primary=0, teachers_junior=70)
JUNIOR |= dict(certified_teachers=70, trained_360h_teachers=70, classes_primary=None, classes_junior=20)
JUNIOR |= dict(max_class_size_primary=None, max_class_size_junior=50, music_rooms=2, art_rooms=2)


@pytest.mark.parametrize(
    ("zoned", "expected"), [(500, MET), (499, NOT_MET), (None, INSUFFICIENT)], ids=["all", "one_short", "missing"]
)
def test_g13_primary_school_zoned_100_percent(national: RuleSet, zoned: int | None, expected: str) -> None:
    assert school_status(national, "G13", zoned_students=zoned) == expected


@pytest.mark.parametrize(
    ("zoned", "expected"),
    [(950, MET), (949, NOT_MET), (951, MET), (None, INSUFFICIENT)],
    ids=["at", "below", "above", "missing"],
)
def test_g13_junior_school_zoned_95_percent(national: RuleSet, zoned: int | None, expected: str) -> None:
    assert school_status(national, "G13", **JUNIOR, zoned_students=zoned) == expected


def test_g13_school_with_both_stages_uses_the_student_weighted_rate(national: RuleSet) -> None:
    nine = dict(school_type="九年一贯制学校", students_primary=300, students_junior=100, teachers_junior=10)
    # 300 × 100 % + 100 × 95 % = 395 of 400 pupils
    assert school_status(national, "G13", **nine, zoned_students=395) == MET
    assert school_status(national, "G13", **nine, zoned_students=394) == NOT_MET
    strictest = setting(national, "guarantee", "G13", mixed_stages="strictest")
    assert school_status(strictest, "G13", **nine, zoned_students=395) == NOT_MET
    assert school_status(strictest, "G13", **nine, zoned_students=400) == MET


@pytest.mark.parametrize(
    "overrides",
    [{"boarding": "是"}, {"urban_rural": "乡村"}, {"ownership": "民办"}],
    ids=["boarding", "rural", "private"],
)
def test_g13_covers_only_urban_and_town_public_day_schools(national: RuleSet, overrides: dict[str, Any]) -> None:
    ev = evaluate(national, [good_school(**overrides, zoned_students=0)])
    assert item(ev, "G13")["status"] == MET
    assert ev.schools.filter(pl.col("code") == "G13").height == 0


def test_g13_town_school_is_covered(national: RuleSet) -> None:
    assert school_status(national, "G13", urban_rural="镇区", zoned_students=450) == NOT_MET


# ---------------------------------------------------------------------------------------------------------------
# G14 quota allocation, G15 migrant children


@pytest.mark.parametrize(
    ("allocated", "plan", "verdict", "expected"),
    [
        (500, 1000, "达标", MET),
        (499, 1000, "达标", NOT_MET),
        (501, 1000, "达标", MET),
        (None, 1000, "达标", INSUFFICIENT),
        (500, 0, "达标", INSUFFICIENT),
        (600, 1000, "待补充", INSUFFICIENT),
        (600, 1000, "不达标", NOT_MET),
        (499, 1000, None, NOT_MET),
    ],
)
def test_g14_quota_allocation_and_rural_tilt(
    national: RuleSet, allocated: int | None, plan: int, verdict: str | None, expected: str
) -> None:
    assert (
        status(national, "G14", quality_hs_allocated=allocated, quality_hs_plan=plan, g14_verdict=verdict) == expected
    )


@pytest.mark.parametrize(
    ("public", "purchased", "verdict", "expected"),
    [
        (800, 50, "达标", MET),  # (800 + 50) ÷ 1000 = 85 %
        (799, 50, "达标", NOT_MET),
        (801, 50, "达标", MET),
        (850, None, "达标", INSUFFICIENT),
        (900, 50, "不达标", NOT_MET),
        (900, 50, None, INSUFFICIENT),
    ],
)
def test_g15_migrant_children_in_public_or_purchased_places(
    national: RuleSet, public: int, purchased: int | None, verdict: str | None, expected: str
) -> None:
    result = status(
        national,
        "G15",
        eligible_migrant_children=1000,
        migrant_in_public=public,
        migrant_in_purchased=purchased,
        g15_verdict=verdict,
    )
    assert result == expected


# ---------------------------------------------------------------------------------------------------------------
# Precision, scope, rule-set errors, scale


def test_rounded_province_compares_rates_as_percentages_with_two_decimals(national: RuleSet) -> None:
    province = load_rule_set("example-province-2017")
    # 99.999 % rounds to 100.00 %; 99.99 % does not
    assert school_status(province, "G12", teachers_primary=100_000, certified_teachers=99_999) == MET
    assert school_status(national, "G12", teachers_primary=100_000, certified_teachers=99_999) == NOT_MET
    assert school_status(province, "G12", teachers_primary=10_000, certified_teachers=9_999) == NOT_MET


def test_special_education_schools_are_outside_the_school_items(national: RuleSet) -> None:
    special = good_school(school_id="t", school_type="特殊教育学校", max_class_size_primary=80, music_rooms=0)
    ev = evaluate(national, [good_school(), special])
    assert "t" not in ev.schools["school_id"].to_list()
    assert set(ev.items["status"]) == {MET}


def test_private_schools_follow_the_rule_set_scope(national: RuleSet) -> None:
    private = good_school(school_id="p", ownership="民办", max_class_size_primary=60)
    assert status(national, "G5", schools=[good_school(), private]) == NOT_MET
    province = load_rule_set("example-province-2017")
    assert status(province, "G5", schools=[good_school(), private]) == MET


def test_a_bad_scope_setting_is_a_rule_set_error(national: RuleSet) -> None:
    rules = setting(national, "guarantee", "G5", scope="everything")
    with pytest.raises(YoujunError) as caught:
        evaluate(rules)
    assert caught.value.problems[0].location.field == "guarantee.G5.scope"


def test_a_provincial_evidence_item_reads_its_own_verdict_column(national: RuleSet) -> None:
    sections = deepcopy(dict(national.sections))
    sections["guarantee"]["G16"] = {"name": "省定条目", "kind": "evidence", "verdict": "g16_verdict"}
    rules = replace(national, sections=sections)
    ev = evaluate(rules)
    assert item(ev, "G16")["status"] == INSUFFICIENT
    sheet = counties([county()]).with_columns(pl.lit("达标").alias("g16_verdict"))
    ev = evaluate_guarantee(frame([good_school()]), sheet, rules)
    assert item(ev, "G16")["status"] == MET
    assert ev.items["code"].to_list()[-1] == "G16"


def test_synthetic_national_sample_evaluates_every_school(national: RuleSet) -> None:
    data = generate(counties=4, seed=3)
    ev = evaluate_guarantee(data.schools, data.counties, national)
    assert ev.items.height == 4 * 15
    assert set(ev.items["status"]) <= {MET, NOT_MET, INSUFFICIENT}
    assert ev.items["detail"].null_count() == 0
    assert ev.schools["detail"].null_count() == 0
    for row in ev.items.iter_rows(named=True):
        json.loads(row["inputs"])
    # drill-down rows are unique per county, item and school
    assert not ev.schools.select(pl.struct("year", "county_code", "code", "school_id").is_duplicated().any()).item()
