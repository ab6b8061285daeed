"""The per-school rule (≥ 6 of 7 met, the rest ≥ 85 %), boundaries, relaxations and shortfalls."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from conftest import frame, school
from youjun.engine import evaluate_resources
from youjun.standards.model import RuleSet


def _unit(rules: RuleSet, **overrides: object) -> dict[str, object]:
    return evaluate_resources(frame([school(**overrides)]), rules).units.row(0, named=True)


def test_value_exactly_at_the_standard_is_met(national: RuleSet) -> None:
    # 21 qualified teachers for 500 pupils is 4.2 per hundred, although 21 / 500 * 100 != 4.2 in binary.
    unit = _unit(national, qualified_teachers_primary=21)
    assert unit["value_R1"] == pytest.approx(4.2)
    assert unit["met_R1"] is True
    assert unit["shortfall_R1"] is None


def test_one_teacher_fewer_than_the_standard_is_not_met_and_short_by_one(national: RuleSet) -> None:
    unit = _unit(national, qualified_teachers_primary=20)
    assert unit["met_R1"] is False
    assert unit["shortfall_R1"] == 1.0


ZERO_TOLERANCE = pytest.mark.parametrize("tolerance", [None, 0.0], ids=["national", "zero-tolerance"])


def _with_tolerance(rules: RuleSet, tolerance: float | None) -> RuleSet:
    return rules if tolerance is None else replace(rules, precision=replace(rules.precision, tolerance=tolerance))


@ZERO_TOLERANCE
def test_six_met_and_the_seventh_at_exactly_85_percent_passes(national: RuleSet, tolerance: float | None) -> None:
    # R6: 850,000 元 for 500 pupils is 1,700 元 per pupil, 17/20 of the 2,000 元 standard — exactly 0.85 in binary
    # too (one correctly rounded division), so only the comparison (不低于: ≥) decides, even without tolerance.
    unit = _unit(_with_tolerance(national, tolerance), equipment_value=850_000.0)
    assert Fraction(850_000, 500) / 2000 == Fraction(17, 20)
    assert unit["ratio_R6"] == 0.85
    assert (unit["met_R6"], unit["n_met"], unit["passed"]) == (False, 6, True)
    assert unit["shortfall_R6"] == 150_000.0


@ZERO_TOLERANCE
def test_six_met_and_the_seventh_just_below_85_percent_fails(national: RuleSet, tolerance: float | None) -> None:
    unit = _unit(_with_tolerance(national, tolerance), equipment_value=849_999.0)  # 1,699.998 元 per pupil
    assert unit["ratio_R6"] < 0.85
    assert (unit["n_met"], unit["passed"]) == (6, False)


def test_an_area_at_85_percent_passes_although_its_ratio_is_computed_above(national: RuleSet) -> None:
    # R4: (2,312.5 − 400) ㎡ ÷ 500 = 3.825 ㎡, 85 % of 4.5 ㎡; 3.825 ÷ 4.5 is 0.8500000000000001 in binary.
    unit = _unit(national, teaching_aux_area=1912.5 + 400, indoor_sports_area=400.0)
    assert unit["value_R4"] == float(Fraction(19125, 5000))
    assert (unit["n_met"], unit["passed"]) == (6, True)
    assert unit["shortfall_R4"] == 337.5  # 4.5 × 500 − 1,912.5
    assert _unit(national, teaching_aux_area=1912.4 + 400, indoor_sports_area=400.0)["passed"] is False


def test_two_indicators_unmet_fails_even_when_both_are_close(national: RuleSet) -> None:
    unit = _unit(national, qualified_teachers_primary=20, multimedia_rooms=11)
    assert unit["n_met"] == 5
    assert unit["min_ratio"] > 0.95
    assert unit["passed"] is False


def test_shortfall_is_in_the_unit_of_the_indicator(national: RuleSet) -> None:
    unit = _unit(national, equipment_value=900_000.0, multimedia_rooms=10, outdoor_sports_area=3000.0)
    assert unit["shortfall_R6"] == pytest.approx(100_000.0)  # 元
    assert unit["shortfall_R7"] == 2.0  # rooms: 11.5 needed → 2 more whole rooms
    assert unit["shortfall_R5"] == pytest.approx(7.5 * 500 - 3400)  # ㎡


def test_r4_subtracts_the_indoor_sports_area(national: RuleSet) -> None:
    unit = _unit(national, teaching_aux_area=3000.0, indoor_sports_area=600.0)
    assert unit["value_R4"] == pytest.approx(2400 / 500)
    assert unit["value_R5"] == pytest.approx((600 + 4000) / 500)


def test_r3_relaxation_counts_itinerant_teachers_only_in_small_rural_schools(national: RuleSet) -> None:
    relax = national.relaxations["R3_itinerant"]
    on = replace(national, relaxations={**national.relaxations, relax.key: replace(relax, enabled=True)})
    small = dict(
        students_primary=80,
        teachers_primary=8,
        qualified_teachers_primary=8,
        backbone_teachers_primary=1,
        pe_teachers_primary=0,
        music_teachers_primary=0,
        art_teachers_primary=0,
        itinerant_pe_art_teachers_primary=1,
    )
    rural = _unit(on, urban_rural="乡村", **small)
    town = _unit(on, urban_rural="镇区", **small)
    off = _unit(national, urban_rural="乡村", **small)
    assert rural["value_R3"] == pytest.approx(1.25)
    assert town["value_R3"] == 0.0
    assert off["value_R3"] == 0.0


def test_r5_relaxation_counts_extra_area_for_dense_city_centre_schools(national: RuleSet) -> None:
    relax = national.relaxations["R5_dense_city"]
    on = replace(national, relaxations={**national.relaxations, relax.key: replace(relax, enabled=True)})
    unit = _unit(on, dense_city_centre="是", extra_sports_area=1000.0)
    other = _unit(on, dense_city_centre="否", extra_sports_area=1000.0)
    assert unit["value_R5"] == pytest.approx((400 + 4000 + 1000) / 500)
    assert other["value_R5"] == pytest.approx((400 + 4000) / 500)


def test_county_fails_when_one_unit_fails_unless_exceptions_are_allowed(national: RuleSet) -> None:
    rows = [school(school_id="a"), school(school_id="b", qualified_teachers_primary=10, multimedia_rooms=5)]
    assert evaluate_resources(frame(rows), national).counties["passed"].item() is False
    assert national.school_rule is not None
    lenient = replace(national, school_rule=replace(national.school_rule, allow_exceptions=True))
    stage = evaluate_resources(frame(rows), lenient).stages.row(0, named=True)
    assert stage["units_passed"] == 1
    # Equal pupils: CV = |x₁ − x₂| ÷ (x₁ + x₂). R1 6.0 and 2.0 per hundred give exactly 0.50 (at the limit),
    # R7 2.8 and 1.0 give 1.8 ÷ 3.8; the other indicators are equal (CV 0).
    assert stage["cv_R1"] == 0.5
    assert stage["cv_R7"] == pytest.approx(1.8 / 3.8)
    assert [stage[f"cv_R{k}"] for k in (2, 3, 4, 5, 6)] == [0.0] * 5
    assert stage["passed"] is True
    assert evaluate_resources(frame(rows), lenient).counties["passed"].item() is True
