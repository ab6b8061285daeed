"""Every threshold of the method at exact decimal inputs (the way users type them), and just beyond it.

Each case is checked under the national rule set and under the same rule set with ``precision.tolerance = 0``.
The inputs land exactly on the threshold in binary as well: a value is one correctly rounded division of exact
numbers (17 ÷ 20, 2,100 ÷ 500, 850,000 ÷ 500 ÷ 2,000), so without tolerance only the comparison word decides, and
reading 不低于 (≥) as "above" (>) or 不超过 (≤) as "below" (<) anywhere fails a case here. Under the national
tolerance the same cases catch a tolerance applied the wrong way. Expected figures are worked out by hand with
``fractions.Fraction``, never with the engine.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import polars as pl
import pytest

import test_guarantee as guarantee
import test_quality as quality
from conftest import frame, school
from test_assessment import full_county
from test_guarantee import INSUFFICIENT, MET, NOT_MET, counties, good_school, setting
from youjun.engine import assess, evaluate_resources
from youjun.engine.assessment import Assessment
from youjun.engine.items import Item
from youjun.engine.precision import round_half_up, round_half_up_scalar
from youjun.engine.recognition import recognition, recognition_rules
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet

NATIONAL = load_rule_set("national-2017")
EXACT = replace(NATIONAL, precision=replace(NATIONAL.precision, tolerance=0.0))
ROUNDED = replace(NATIONAL, precision=replace(NATIONAL.precision, compare="rounded"))
ROUNDED_EXACT = replace(ROUNDED, precision=replace(ROUNDED.precision, tolerance=0.0))


@pytest.fixture(params=[NATIONAL, EXACT], ids=["national", "zero-tolerance"])
def rules(request: pytest.FixtureRequest) -> RuleSet:
    return request.param  # type: ignore[no-any-return]


def exact(value: Fraction) -> float:
    """The double nearest to a hand-computed figure: what one correctly rounded division gives."""
    return float(value)


def junior_school(**overrides: Any) -> dict[str, Any]:
    """A junior school of 500 pupils (the conftest school's figures moved to the junior stage)."""
    values: dict[str, Any] = dict(
        school_type="初中",
        students_primary=0,
        students_junior=500,
        teachers_primary=0,
        teachers_junior=40,
        qualified_teachers_primary=0,
        qualified_teachers_junior=30,
        backbone_teachers_primary=0,
        backbone_teachers_junior=8,
        pe_teachers_primary=0,
        music_teachers_primary=0,
        art_teachers_primary=0,
        pe_teachers_junior=3,
        music_teachers_junior=2,
        art_teachers_junior=2,
        teaching_aux_area=3400.0,
        outdoor_sports_area=5200.0,
        equipment_value=1_500_000.0,
        multimedia_rooms=14,
        titled_teachers_primary=0,
        titled_teachers_junior=20,
    )
    values.update(overrides)
    return school(**values)


# ---------------------------------------------------------------------------------------------------------------
# The four comparison words and the boundary marker, and half-up rounding


CLAUSES = [
    # (op, value, threshold, verdict, shown equal: the marker)
    ("at_least", 1.0, 1.0, True, False),
    ("at_least", 0.996, 1.0, False, True),  # shows as 1.00
    ("at_most", 1.0, 1.0, True, False),
    ("at_most", 1.004, 1.0, False, True),
    ("below", 1.0, 1.0, False, False),
    ("below", 0.996, 1.0, True, True),
    ("above", 1.0, 1.0, False, False),
    ("above", 1.004, 1.0, True, True),
]


@pytest.mark.parametrize(("op", "value", "threshold", "ok", "marked"), CLAUSES)
def test_each_comparison_word_at_and_next_to_the_threshold(
    rules: RuleSet, op: str, value: float, threshold: float, ok: bool, marked: bool
) -> None:
    item = Item("guarantee", "G8", rules.sections["guarantee"]["G8"], rules)
    clause = item.clause(pl.lit(value), threshold, op)
    got = pl.select(ok=clause.ok, text=clause.text, boundary=clause.boundary).row(0, named=True)
    assert (got["ok"], got["boundary"]) == (ok, marked)
    word = {"at_least": "不低于", "at_most": "不超过", "below": "低于", "above": "超过"}[op]
    verdict = "达标" if ok else "未达标"
    marker = f"（⚠临界：全精度值 {value:g}）" if marked else ""
    assert got["text"] == f"1.00（要求{word} 1.00），{verdict}{marker}"  # every value here shows as 1.00


@pytest.mark.parametrize(
    ("value", "decimals", "rounded"),
    [
        (0.505, 2, 0.51),
        (0.125, 2, 0.13),  # exactly half in binary: up, not to even
        (2.675, 2, 2.68),  # stored as 2.67499999…: the tolerance lifts it
        (1.005, 2, 1.01),  # stored as 1.00499999…
        (0.5153, 2, 0.52),
        (0.84995, 4, 0.85),
        (0.84994, 4, 0.8499),
        (-0.505, 2, -0.51),
        (1912.5, 0, 1913.0),
    ],
)
def test_half_up_rounding_of_typed_decimals(value: float, decimals: int, rounded: float) -> None:
    assert pl.select(round_half_up(pl.lit(value), decimals)).item() == rounded
    assert round_half_up_scalar(value, decimals) == rounded


# ---------------------------------------------------------------------------------------------------------------
# R1–R7: a unit's value at its standard is met (不低于), one unit of input less is not


STANDARDS = [
    # (indicator, inputs at the standard, inputs just below it, the standard as a fraction)
    ("R1", dict(qualified_teachers_primary=21), dict(qualified_teachers_primary=20), Fraction(100 * 21, 500)),
    ("R2", dict(backbone_teachers_primary=5), dict(backbone_teachers_primary=4), Fraction(100 * 5, 500)),
    (
        "R3",
        dict(students_primary=1000, pe_teachers_primary=5, music_teachers_primary=2, art_teachers_primary=2),
        dict(students_primary=1000, pe_teachers_primary=4, music_teachers_primary=2, art_teachers_primary=2),
        Fraction(100 * 9, 1000),
    ),
    (
        "R4",
        dict(teaching_aux_area=2650.0, indoor_sports_area=400.0),
        dict(teaching_aux_area=2649.9, indoor_sports_area=400.0),
        Fraction(2250, 500),
    ),
    (
        "R5",
        dict(indoor_sports_area=400.0, outdoor_sports_area=3350.0),
        dict(indoor_sports_area=400.0, outdoor_sports_area=3349.9),
        Fraction(3750, 500),
    ),
    ("R6", dict(equipment_value=1_000_000.0), dict(equipment_value=999_999.9), Fraction(1_000_000, 500)),
    (
        "R7",
        dict(students_primary=1000, multimedia_rooms=23),
        dict(students_primary=1000, multimedia_rooms=22),
        Fraction(100 * 23, 1000),
    ),
]


def _unit(rules: RuleSet, row: dict[str, Any]) -> dict[str, Any]:
    units = evaluate_resources(frame([row]), rules).units
    assert units.height == 1
    return units.row(0, named=True)


@pytest.mark.parametrize(("code", "at", "below", "standard"), STANDARDS, ids=[s[0] for s in STANDARDS])
def test_a_unit_value_exactly_at_its_standard_is_met(
    rules: RuleSet, code: str, at: dict[str, Any], below: dict[str, Any], standard: Fraction
) -> None:
    unit = _unit(rules, school(**at))
    assert unit[f"value_{code}"] == exact(standard) == rules.indicators[code].standard["primary"]  # type: ignore[index]
    assert (unit[f"met_{code}"], unit[f"shortfall_{code}"]) == (True, None)
    short = _unit(rules, school(**below))
    assert short[f"met_{code}"] is False
    assert short[f"shortfall_{code}"] > 0


def test_junior_r1_at_5_3_per_hundred_is_met(rules: RuleSet) -> None:
    at = _unit(rules, junior_school(students_junior=1000, teachers_junior=80, qualified_teachers_junior=53))
    assert (at["stage"], at["value_R1"], at["met_R1"]) == ("junior", exact(Fraction(5300, 1000)), True)
    below = _unit(rules, junior_school(students_junior=1000, teachers_junior=80, qualified_teachers_junior=52))
    assert (below["met_R1"], below["shortfall_R1"]) == (False, 1.0)


# ---------------------------------------------------------------------------------------------------------------
# The per-school rule: at least 6 of 7 met and the rest at least 85 % of the standard


def test_a_per_hundred_indicator_at_exactly_85_percent_passes(rules: RuleSet) -> None:
    # R2: 17 backbone teachers for 2,000 pupils is 0.85 per hundred against the standard 1.0.
    big = dict(
        students_primary=2000,
        teachers_primary=140,
        qualified_teachers_primary=120,
        pe_teachers_primary=12,
        music_teachers_primary=8,
        art_teachers_primary=8,
        teaching_aux_area=12_000.0,
        indoor_sports_area=1600.0,
        outdoor_sports_area=16_000.0,
        equipment_value=6_000_000.0,
        multimedia_rooms=56,
    )
    unit = _unit(rules, school(**big, backbone_teachers_primary=17))
    assert unit["value_R2"] == exact(Fraction(1700, 2000)) == 0.85
    assert (unit["n_met"], unit["passed"], unit["shortfall_R2"]) == (6, True, 3.0)
    assert _unit(rules, school(**big, backbone_teachers_primary=16))["passed"] is False


def test_the_85_percent_floor_is_compared_on_rounded_values_when_the_province_says_so() -> None:
    # 849,997.5 元 ÷ 500 = 1,699.995 元 per pupil: 1,700.00 half-up, 85 % of the standard; unrounded just below.
    row = school(equipment_value=849_997.5)
    assert _unit(NATIONAL, row)["passed"] is False
    assert _unit(ROUNDED, row)["passed"] is True
    assert _unit(ROUNDED, school(equipment_value=849_997.0))["passed"] is False  # 1,699.994 → 1,699.99


def test_a_unit_at_85_percent_after_the_split_passes_within_the_tolerance() -> None:
    """Why the rule set has a tolerance: a nine-year school of 120 + 800 pupils with 1,700,000 元 of equipment gives
    its primary unit 120 ÷ (120 + 1.1 × 800) = 12 % of it, 1,700 元 per pupil — 85 % of 2,000 exactly, but
    1,699.9999999999998 after the binary split."""
    nine = school(
        school_type="九年一贯制学校",
        students_primary=120,
        students_junior=800,
        teachers_primary=10,
        qualified_teachers_primary=6,
        backbone_teachers_primary=2,
        pe_teachers_primary=1,
        music_teachers_primary=1,
        art_teachers_primary=0,
        teachers_junior=60,
        qualified_teachers_junior=50,
        teaching_aux_area=20_000.0,
        indoor_sports_area=2_000.0,
        outdoor_sports_area=20_000.0,
        equipment_value=1_700_000.0,
        multimedia_rooms=40,
    )
    assert Fraction(1_700_000) * Fraction(120, 120 + Fraction(11, 10) * 800) / 120 == 1700
    units = {r["stage"]: r for r in evaluate_resources(frame([nine]), NATIONAL).units.iter_rows(named=True)}
    primary = units["primary"]
    assert primary["value_R6"] == pytest.approx(1700, rel=1e-15) and primary["value_R6"] < 1700
    assert (primary["n_met"], primary["passed"]) == (6, True)
    exact_units = evaluate_resources(frame([nine]), EXACT).units
    assert exact_units.filter(pl.col("stage") == "primary")["passed"].to_list() == [False]


@pytest.mark.parametrize(("students", "counted"), [(49, False), (50, True), (99, True), (100, False)])
def test_the_itinerant_teacher_relaxation_covers_50_to_99_pupils(rules: RuleSet, students: int, counted: bool) -> None:
    relax = rules.relaxations["R3_itinerant"]
    on = replace(rules, relaxations={**rules.relaxations, relax.key: replace(relax, enabled=True)})
    row = school(
        urban_rural="乡村",
        students_primary=students,
        teachers_primary=8,
        qualified_teachers_primary=8,
        backbone_teachers_primary=1,
        pe_teachers_primary=0,
        music_teachers_primary=0,
        art_teachers_primary=0,
        itinerant_pe_art_teachers_primary=1,
    )
    unit = _unit(on, row)
    assert unit["value_R3"] == (exact(Fraction(100, students)) if counted else 0.0)


def test_five_met_fails_even_with_the_other_two_at_85_percent(rules: RuleSet) -> None:
    unit = _unit(rules, school(equipment_value=850_000.0, qualified_teachers_primary=20))
    assert (unit["n_met"], unit["passed"]) == (5, False)


# ---------------------------------------------------------------------------------------------------------------
# Difference coefficients: ≤ 0.50 (primary), ≤ 0.45 (junior)


def _cv_case(rules: RuleSet, rows: list[dict[str, Any]]) -> dict[str, Any]:
    stages = evaluate_resources(frame(rows), rules).stages
    assert stages.height == 1
    return stages.row(0, named=True)


def _equipment_pair(first: float, second: float, junior: bool = False) -> list[dict[str, Any]]:
    """Two schools of 500 pupils with ``first`` and ``second`` 元 of equipment per pupil (R6).

    With equal pupils the weighted CV is |x₁ − x₂| ÷ (x₁ + x₂): 6,000 and 2,000 give exactly 1/2."""
    make = junior_school if junior else school
    return [
        make(school_id="3402070001", equipment_value=float(first * 500)),
        make(school_id="3402070002", equipment_value=float(second * 500)),
    ]


CV_CASES = [
    # (stage, x₁, x₂, passes) — CV = (x₁ − x₂) / (x₁ + x₂)
    ("primary", 6000, 2000, True),  # 0.50 exactly
    ("primary", 6001, 1999, False),  # 0.50025
    ("primary", 5999, 2001, True),  # 0.49975
    ("junior", 7250, 2750, True),  # 0.45 exactly
    ("junior", 7251, 2749, False),  # 0.4502
]


@pytest.mark.parametrize(("stage", "first", "second", "passes"), CV_CASES)
def test_cv_limits_include_the_boundary(rules: RuleSet, stage: str, first: int, second: int, passes: bool) -> None:
    row = _cv_case(rules, _equipment_pair(first, second, junior=stage == "junior"))
    cv = Fraction(first - second, first + second)
    assert row["stage"] == stage
    assert row["cv_R6"] == exact(cv)
    assert row["cv_limit"] == {"primary": 0.5, "junior": 0.45}[stage]
    assert row["cv_passed_R6"] is passes
    # Just above the limit, the CV rounded to two decimals reads as the limit: the two readings disagree.
    assert row["cv_boundary_R6"] is not passes


@pytest.mark.parametrize(
    ("first", "second", "passes"),
    [
        (6001, 1999, True),  # 0.50025 → 0.50
        (15050, 4950, False),  # 0.505 → 0.51 (half-up, although 0.505 is stored below it)
        (14950, 5050, True),  # 0.495 → 0.50, at the limit
        (6000, 2000, True),  # 0.50
    ],
)
@pytest.mark.parametrize("province", [ROUNDED, ROUNDED_EXACT], ids=["rounded", "rounded-zero-tolerance"])
def test_a_province_comparing_rounded_cvs_rounds_half_up_to_two_decimals(
    province: RuleSet, first: int, second: int, passes: bool
) -> None:
    row = _cv_case(province, _equipment_pair(first, second))
    assert row["cv_R6"] == exact(Fraction(first - second, first + second))
    assert row["cv_passed_R6"] is passes


def test_a_rounded_cv_is_flagged_only_where_rounding_turns_the_verdict(rules: RuleSet) -> None:
    rounded = replace(rules, precision=replace(rules.precision, compare="rounded"))
    row = _cv_case(rounded, _equipment_pair(15050, 4950))  # 0.505: fails both ways
    assert (row["cv_passed_R6"], row["cv_boundary_R6"]) == (False, False)
    row = _cv_case(rounded, _equipment_pair(6002, 1998))  # 0.5005: 0.50 rounded, over the limit unrounded
    assert (row["cv_passed_R6"], row["cv_boundary_R6"]) == (True, True)


def test_the_cv_weights_each_school_by_its_pupils(rules: RuleSet) -> None:
    # 100 pupils at 8,000 元 and 400 at 3,000 元: X̄ = 2,000,000 ÷ 500 = 4,000, S² = (100 × 4,000² + 400 × 1,000²)
    # ÷ 500 = 2,000², CV = 2,000 ÷ 4,000 = 0.50 exactly (unweighted it would be 0.4545).
    rows = [
        school(school_id="3402070001", students_primary=100, equipment_value=800_000.0),
        school(school_id="3402070002", students_primary=400, equipment_value=1_200_000.0),
    ]
    row = _cv_case(rules, rows)
    assert (row["county_value_R6"], row["cv_R6"], row["cv_passed_R6"]) == (4000.0, 0.5, True)
    rows[0] = school(school_id="3402070001", students_primary=100, equipment_value=800_100.0)
    assert _cv_case(rules, rows)["cv_passed_R6"] is False  # 8,001 元: just above 0.50


def test_one_failing_unit_fails_the_county_within_every_cv_limit(rules: RuleSet) -> None:
    rows = [school(school_id="3402070001"), school(school_id="3402070002", qualified_teachers_primary=20)]
    rows[1] |= dict(multimedia_rooms=11)  # R1 4.0 and R7 2.2: two indicators unmet, CVs 0.20 and 0.12
    ev = evaluate_resources(frame(rows), rules)
    stage = ev.stages.row(0, named=True)
    assert all(stage[f"cv_passed_R{k}"] for k in range(1, 8))
    assert (stage["units"], stage["units_passed"], stage["passed"]) == (2, 1, False)
    assert ev.counties["passed"].to_list() == [False]


def test_a_county_passes_with_every_cv_at_its_limit(rules: RuleSet) -> None:
    rows = _equipment_pair(6000, 2000) + _equipment_pair(7250, 2750, junior=True)
    rows = [dict(r, school_id=f"34020700{i:02d}") for i, r in enumerate(rows)]
    ev = evaluate_resources(frame(rows), rules)
    stages = {r["stage"]: r for r in ev.stages.iter_rows(named=True)}
    assert stages["primary"]["cv_R6"] == 0.5 and stages["junior"]["cv_R6"] == 0.45
    assert stages["primary"]["units_passed"] == 2 and stages["junior"]["units_passed"] == 2
    assert ev.counties["passed"].to_list() == [True]


# ---------------------------------------------------------------------------------------------------------------
# G and Q items at their thresholds (county sheet)


COUNTY_CASES = [
    # (section, code, inputs at the threshold, inputs just beyond it)
    ("guarantee", "G7", dict(special_ed_funds_per_student=6000.0), dict(special_ed_funds_per_student=5999.99)),
    (
        "guarantee",
        "G8",
        dict(teacher_avg_salary=100_000.0, civil_servant_avg_salary=100_000.0),
        dict(teacher_avg_salary=99_999.0, civil_servant_avg_salary=100_000.0),
    ),
    (
        "guarantee",
        "G11",  # 100 ÷ 1,000 = 10 %, 20 ÷ 100 = 20 %
        dict(rotation_eligible_teachers=1000, rotated_teachers=100, rotated_backbone_teachers=20),
        dict(rotation_eligible_teachers=1000, rotated_teachers=99, rotated_backbone_teachers=20),
    ),
    (
        "guarantee",
        "G11",
        dict(rotation_eligible_teachers=1000, rotated_teachers=100, rotated_backbone_teachers=20),
        dict(rotation_eligible_teachers=1000, rotated_teachers=100, rotated_backbone_teachers=19),
    ),
    ("guarantee", "G14", dict(quality_hs_plan=1000, quality_hs_allocated=500), dict(quality_hs_allocated=499)),
    (
        "guarantee",
        "G15",  # (800 + 50) ÷ 1,000 = 85 %
        dict(eligible_migrant_children=1000, migrant_in_public=800, migrant_in_purchased=50),
        dict(eligible_migrant_children=1000, migrant_in_public=799, migrant_in_purchased=50),
    ),
    (
        "quality",
        "Q1",  # (960 − 20 + 10) ÷ (1,000 − 0) = 95 %
        dict(junior_graduates=960, junior_transfer_in=20, junior_transfer_out=10, grade7_enrolment=1000),
        dict(junior_graduates=959, junior_transfer_in=20, junior_transfer_out=10, grade7_enrolment=1000),
    ),
    (
        "quality",
        "Q1",  # deaths leave the cohort: 931 ÷ (1,000 − 20) = 95 %
        dict(junior_graduates=931, junior_transfer_in=0, junior_transfer_out=0, junior_deaths=20),
        dict(junior_graduates=930, junior_transfer_in=0, junior_transfer_out=0, junior_deaths=20),
    ),
    ("quality", "Q2", dict(disabled_children=100, disabled_enrolled=95), dict(disabled_enrolled=94)),
    (
        "quality",
        "Q2",
        dict(disabled_children=20, disabled_enrolled=19),
        dict(disabled_children=20, disabled_enrolled=18),
    ),
    ("quality", "Q9", dict(q9_max_difference_rate=0.1499), dict(q9_max_difference_rate=0.15)),  # 低于 0.15: strict
    ("quality", "Q9", dict(q9_lowest_level="Ⅲ"), dict(q9_lowest_level="Ⅱ")),
]


def _county_status(rules: RuleSet, section: str, code: str, inputs: dict[str, Any]) -> str:
    module = guarantee if section == "guarantee" else quality
    return module.status(rules, code, **inputs)


@pytest.mark.parametrize(
    ("section", "code", "at", "beyond"), COUNTY_CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(COUNTY_CASES)]
)
def test_county_items_at_their_threshold(
    rules: RuleSet, section: str, code: str, at: dict[str, Any], beyond: dict[str, Any]
) -> None:
    assert _county_status(rules, section, code, at) == MET
    assert _county_status(rules, section, code, {**at, **beyond}) == NOT_MET


def test_county_figures_at_the_threshold_are_exact(rules: RuleSet) -> None:
    ev = guarantee.evaluate(
        rules, county_rows=[guarantee.county(quality_hs_plan=1000, quality_hs_allocated=500, migrant_in_public=800)]
    )
    assert guarantee.item(ev, "G14")["value"] == exact(Fraction(500, 1000)) == 0.5
    assert guarantee.item(ev, "G15")["value"] == exact(Fraction(850, 1000)) == 0.85
    q = quality.evaluate(rules, county_rows=[guarantee.county(junior_graduates=960, junior_transfer_out=10)])
    assert guarantee.item(q, "Q1")["value"] == exact(Fraction(960 - 10 + 10, 1000))


# ---------------------------------------------------------------------------------------------------------------
# G and Q items at their thresholds (schools)


SCHOOL_CASES = [
    # (section, code, school at the threshold, school just beyond it)
    ("guarantee", "G3", dict(classes_primary=24, music_rooms=2, art_rooms=2), dict(music_rooms=1)),
    ("guarantee", "G3", dict(classes_primary=24, music_rooms=2, art_rooms=2), dict(classes_primary=25)),
    (
        "guarantee",
        "G3",  # built in or before 2016: the rooms at the relaxed floors count
        dict(classes_primary=24, music_rooms=1, art_rooms=1, music_rooms_legacy=1, art_rooms_legacy=1, built_year=2016),
        dict(built_year=2017),
    ),
    (
        "guarantee",
        "G3",  # a rural school whose largest class is below (小于) 30 counts the small-school rooms
        dict(urban_rural="乡村", classes_primary=6, max_class_size_primary=29, music_rooms=0, art_rooms=0)
        | dict(music_rooms_legacy=0, art_rooms_legacy=0, music_rooms_small_rural=1, art_rooms_small_rural=1),
        dict(max_class_size_primary=30),
    ),
    ("guarantee", "G4", dict(students_primary=2000, teachers_primary=140), dict(students_primary=2001)),
    (
        "guarantee",
        "G4",  # built in 2010: the relaxed 2,400
        dict(students_primary=2400, teachers_primary=160, built_year=2010),
        dict(built_year=2011),
    ),
    (
        "guarantee",
        "G4",  # migrants above (超过) half: 1,201 of 2,400; exactly half is not above
        dict(students_primary=2400, teachers_primary=160, built_year=2015, migrant_students=1201),
        dict(migrant_students=1200),
    ),
    ("guarantee", "G5", dict(max_class_size_primary=45), dict(max_class_size_primary=46)),
    ("guarantee", "G9", dict(trained_360h_teachers=35), dict(trained_360h_teachers=34)),
    ("guarantee", "G12", dict(certified_teachers=35), dict(certified_teachers=34)),
    ("guarantee", "G13", dict(zoned_students=500), dict(zoned_students=499)),
    ("quality", "Q4", dict(public_funds=400_000.0, training_funds=20_000.0), dict(training_funds=19_999.99)),
    ("quality", "Q6", dict(moral_education_rating="良好"), dict(moral_education_rating="合格")),
]


def _school_status(rules: RuleSet, section: str, code: str, values: dict[str, Any]) -> str:
    module = guarantee if section == "guarantee" else quality
    return module.school_status(rules, code, **values)


@pytest.mark.parametrize(
    ("section", "code", "at", "beyond"), SCHOOL_CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(SCHOOL_CASES)]
)
def test_school_items_at_their_threshold(
    rules: RuleSet, section: str, code: str, at: dict[str, Any], beyond: dict[str, Any]
) -> None:
    assert _school_status(rules, section, code, at) == MET
    assert _school_status(rules, section, code, {**at, **beyond}) == NOT_MET


def test_g4_nine_year_school_at_2500(rules: RuleSet) -> None:
    nine = dict(
        school_type="九年一贯制学校", students_primary=1500, students_junior=1000, teachers_junior=60, built_year=2020
    )
    nine |= dict(qualified_teachers_junior=50, max_class_size_junior=45, classes_junior=20)
    assert guarantee.school_status(rules, "G4", **nine) == MET
    assert guarantee.school_status(rules, "G4", **(nine | {"students_junior": 1001})) == NOT_MET


def test_g13_junior_school_at_95_percent(rules: RuleSet) -> None:
    junior = dict(junior_school(), max_class_size_junior=45, classes_junior=12, classes_primary=None)
    junior |= dict(built_year=2020, migrant_students=0, music_rooms=1, art_rooms=1, certified_teachers=40)
    junior |= dict(trained_360h_teachers=40, public_funds=400_000.0, training_funds=30_000.0)
    junior |= dict(has_charter_ict="是", moral_education_rating="良好")

    def g13(zoned: int) -> str:
        return str(guarantee.status(rules, "G13", schools=[dict(junior, zoned_students=zoned)]))

    assert Fraction(475, 500) == Fraction(95, 100)
    assert (g13(475), g13(474)) == (MET, NOT_MET)


def test_g6_applies_below_100_pupils_and_funds_at_100_times_the_quota(rules: RuleSet) -> None:
    village = dict(urban_rural="乡村", teachers_primary=8, certified_teachers=8, trained_360h_teachers=8)

    def g6(students: int, funds: float) -> dict[str, Any]:
        ev = guarantee.evaluate(rules, [good_school(**village, students_primary=students, public_funds=funds)])
        return guarantee.item(ev, "G6")

    # The county quota is 720 元 per pupil: 100 × 720 = 72,000 元.
    assert g6(99, 72_000.0)["status"] == MET
    assert g6(99, 71_999.99)["status"] == NOT_MET
    assert (g6(100, 1.0)["status"], g6(100, 1.0)["detail"]) == (MET, "无适用学校")  # 不足 100: strict


def test_teacher_rates_at_a_provincial_95_percent(rules: RuleSet) -> None:
    province = setting(rules, "guarantee", "G9", min_rate=0.95)
    at = dict(teachers_primary=20, trained_360h_teachers=19, certified_teachers=20, zoned_students=500)
    assert guarantee.school_status(province, "G9", **at) == MET
    assert guarantee.school_status(province, "G9", **(at | {"trained_360h_teachers": 18})) == NOT_MET


def test_the_county_teacher_rate_is_judged_at_its_threshold(rules: RuleSet) -> None:
    # Two schools of 20 teachers: 19 + 19 trained is 95 % for the county (and each school).
    province = setting(rules, "guarantee", "G9", min_rate=0.95)
    schools = [
        good_school(school_id="3402070001", teachers_primary=20, trained_360h_teachers=19),
        good_school(school_id="3402070002", teachers_primary=20, trained_360h_teachers=19),
    ]
    row = guarantee.item(guarantee.evaluate(province, schools), "G9")
    assert (row["status"], row["value"]) == (MET, exact(Fraction(38, 40)))


def test_a_missing_input_or_a_zero_denominator_stays_insufficient(rules: RuleSet) -> None:
    assert guarantee.status(rules, "G7", special_ed_funds_per_student=None) == INSUFFICIENT
    assert guarantee.status(rules, "G8", civil_servant_avg_salary=0.0) == INSUFFICIENT  # never a division by zero
    assert guarantee.status(rules, "G14", quality_hs_plan=0, quality_hs_allocated=0) == INSUFFICIENT
    assert quality.status(rules, "Q2", disabled_children=0, disabled_enrolled=0) == INSUFFICIENT


# ---------------------------------------------------------------------------------------------------------------
# S1 (85 % of the valid answers) and eligibility: these run the whole assessment, so they come last


def _assessed(rules: RuleSet, **inputs: Any) -> Assessment:
    """The assessment of one good school's county with county ``inputs`` (G and Q items left out: not read here)."""
    lean = replace(rules, sections={**rules.sections, "guarantee": {}, "quality": {}})
    return assess(frame([good_school()]), counties([full_county(**inputs)]), lean)


@pytest.mark.parametrize(
    ("valid", "positive", "expected", "marked"),
    [
        (20, 17, MET, False),
        (1000, 850, MET, False),
        (20, 16, NOT_MET, False),
        (1000, 849, NOT_MET, False),
        (20_000, 16_999, NOT_MET, True),  # 84.995 % shows as 85.00 %: marked
    ],
)
def test_recognition_at_exactly_85_percent(
    rules: RuleSet, valid: int, positive: int, expected: str, marked: bool
) -> None:
    a = _assessed(rules, recognition_valid=valid, recognition_positive=positive)
    s1 = a.recognition.row(0, named=True)
    assert s1["value"] == exact(Fraction(positive, valid))
    assert (s1["status"], s1["boundary"]) == (expected, marked)
    assert a.vetoes.items.filter(pl.col("code") == "V7")["status"].to_list() == [expected]


def test_a_weighted_recognition_rate_of_exactly_85_percent_is_met(rules: RuleSet) -> None:
    for rate, expected in ((0.85, MET), (0.8499, NOT_MET)):
        a = _assessed(rules, recognition_valid=None, recognition_positive=None, recognition_rate=rate)
        assert a.recognition["status"].to_list() == [expected]


def test_recognition_rounded_half_up_meets_at_84_995_percent() -> None:
    # 16,999 ÷ 20,000 = 84.995 %: 85.00 % half-up (four decimals of the rate), below 85 % unrounded.
    for positive, expected in ((16_999, MET), (16_998, NOT_MET)):
        a = _assessed(ROUNDED, recognition_valid=20_000, recognition_positive=positive)
        assert a.recognition["status"].to_list() == [expected]


@pytest.mark.parametrize(("positive", "valid", "passed"), [(17, 20, True), (850, 1000, True), (16, 20, False)])
def test_the_survey_rate_at_exactly_85_percent_passes(positive: int, valid: int, passed: bool) -> None:
    rules = recognition_rules(NATIONAL.sections["recognition"])
    answers = ["满意"] * positive + ["不满意"] * (valid - positive) + ["不了解"] * 3
    n = len(answers)
    r = recognition(pl.DataFrame({"group": ["parents"] * n, "question": ["q1"] * n, "answer": answers}), rules)
    assert (r.valid, r.positive, r.rate, r.passed) == (valid, positive, exact(Fraction(positive, valid)), passed)


@pytest.mark.parametrize(("recognised", "expected"), [(2021, MET), (2022, NOT_MET)])
def test_eligibility_needs_exactly_three_years(rules: RuleSet, recognised: int, expected: str) -> None:
    a = _assessed(rules, basic_balance_year=recognised)
    assert a.eligibility["status"].to_list() == [expected]
    assert a.verdict["eligibility"].to_list() == [expected]
