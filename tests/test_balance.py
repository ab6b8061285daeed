"""Properties and edge cases of the student-weighted difference coefficient and the influence search."""

from __future__ import annotations

import math
from dataclasses import replace

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import frame, school
from youjun.engine import difference_coefficient, evaluate_resources
from youjun.engine.balance import balance_by_stage, influence
from youjun.engine.resources import indicator_values
from youjun.standards.model import RuleSet

unit_lists = st.lists(
    st.tuples(st.integers(1, 3000), st.floats(0.01, 5000, allow_nan=False, allow_infinity=False)),
    min_size=2,
    max_size=40,
)


def _units(pairs: list[tuple[int, float]], scale: float = 1.0) -> pl.DataFrame:
    """Primary units with students p and a backbone-teacher numerator a (R2, per 100 students)."""
    return pl.DataFrame(
        {
            "year": [2024] * len(pairs),
            "county_code": ["340207"] * len(pairs),
            "county_name": ["示例区"] * len(pairs),
            "school_id": [f"s{i:03d}" for i in range(len(pairs))],
            "school_name": [f"学校{i}" for i in range(len(pairs))],
            "stage": ["primary"] * len(pairs),
            "students": [p for p, _ in pairs],
            **{f: [a * scale for _, a in pairs] for f in ("backbone_teachers",)},
        }
    )


def _r2_only(rules: RuleSet) -> RuleSet:
    return replace(rules, indicators={"R2": rules.indicators["R2"]}, school_rule=None)


@settings(max_examples=80, deadline=None)
@given(pairs=unit_lists, scale=st.floats(0.001, 1000))
def test_cv_is_invariant_to_scaling_every_numerator(
    pairs: list[tuple[int, float]], scale: float, national: RuleSet
) -> None:
    rules = _r2_only(national)
    base = balance_by_stage(indicator_values(_units(pairs), rules), rules)["cv_R2"].item()
    scaled = balance_by_stage(indicator_values(_units(pairs, scale), rules), rules)["cv_R2"].item()
    assert scaled == pytest.approx(base, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(students=st.lists(st.integers(1, 3000), min_size=1, max_size=30), value=st.floats(0.01, 100))
def test_cv_is_zero_when_every_unit_has_the_same_value(students: list[int], value: float, national: RuleSet) -> None:
    rules = _r2_only(national)
    pairs = [(p, value * p / 100) for p in students]
    cv = balance_by_stage(indicator_values(_units(pairs), rules), rules)["cv_R2"].item()
    assert cv == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(pairs=unit_lists)
def test_county_mean_is_total_numerator_over_total_students(pairs: list[tuple[int, float]], national: RuleSet) -> None:
    rules = _r2_only(national)
    stage = balance_by_stage(indicator_values(_units(pairs), rules), rules).row(0, named=True)
    assert stage["county_value_R2"] == pytest.approx(100 * sum(a for _, a in pairs) / sum(p for p, _ in pairs))


@settings(max_examples=80, deadline=None)
@given(pairs=unit_lists)
def test_cv_equals_the_reference_weighted_formula(pairs: list[tuple[int, float]], national: RuleSet) -> None:
    rules = _r2_only(national)
    cv = balance_by_stage(indicator_values(_units(pairs), rules), rules)["cv_R2"].item()
    expected = difference_coefficient([100 * a / p for p, a in pairs], [p for p, _ in pairs])
    assert cv == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(1, 3000), st.floats(0.5, 5000)), min_size=3, max_size=25))
def test_influence_matches_recomputing_without_each_unit(pairs: list[tuple[int, float]], national: RuleSet) -> None:
    rules = _r2_only(national)
    units = indicator_values(_units(pairs), rules)
    best = influence(units, rules).row(0, named=True)
    values = [100 * a / p for p, a in pairs]
    students = [p for p, _ in pairs]
    removed = [
        difference_coefficient(values[:i] + values[i + 1 :], students[:i] + students[i + 1 :])
        for i in range(len(pairs))
    ]
    total = sum(students)
    rest_mean = [(sum(100 * a for _, a in pairs) - 100 * a) / (total - p) for p, a in pairs]
    levelled = [
        difference_coefficient([*values[:i], rest_mean[i], *values[i + 1 :]], students) for i in range(len(pairs))
    ]
    assert best["cv_after_removal"] == pytest.approx(min(removed), rel=1e-6, abs=1e-7)
    assert best["cv_after_levelling"] == pytest.approx(min(levelled), rel=1e-6, abs=1e-7)
    assert removed[int(best["removal_school_id"][1:])] == pytest.approx(min(removed), rel=1e-6, abs=1e-7)


def test_single_unit_has_cv_zero_and_no_influence(national: RuleSet) -> None:
    ev = evaluate_resources(frame([school()]), national)
    stage = ev.stages.row(0, named=True)
    assert all(stage[f"cv_R{k}"] == 0.0 for k in range(1, 8))
    assert ev.influence.height == 0


def test_zero_county_mean_gives_undefined_cv_and_no_pass(national: RuleSet) -> None:
    rows = [school(school_id=f"s{i}", backbone_teachers_primary=0) for i in range(3)]
    ev = evaluate_resources(frame(rows), national)
    stage = ev.stages.row(0, named=True)
    assert stage["cv_R2"] is None
    assert stage["cv_passed_R2"] is False
    assert stage["passed"] is False


def _two_units_with_r2_cv(cv: float) -> pl.DataFrame:
    """Two equal schools whose R2 values are 1 ± cv, so the weighted CV is exactly ``cv``."""
    rows = [
        school(school_id="a", backbone_teachers_primary=0),
        school(school_id="b", backbone_teachers_primary=0),
    ]
    df = frame(rows).with_columns(pl.col("backbone_teachers_primary").cast(pl.Float64))
    return df.with_columns(pl.Series("backbone_teachers_primary", [5 * (1 + cv), 5 * (1 - cv)]))


def test_published_boundary_cv_0_501787_fails_unrounded_and_is_flagged(national: RuleSet) -> None:
    stage = evaluate_resources(_two_units_with_r2_cv(0.501787), national).stages.row(0, named=True)
    assert stage["cv_R2"] == pytest.approx(0.501787)
    assert stage["cv_passed_R2"] is False
    assert stage["cv_boundary_R2"] is True


def test_published_boundary_cv_passes_when_the_province_compares_rounded_values(national: RuleSet) -> None:
    rounded = replace(national, precision=replace(national.precision, compare="rounded"))
    stage = evaluate_resources(_two_units_with_r2_cv(0.501787), rounded).stages.row(0, named=True)
    assert stage["cv_passed_R2"] is True
    assert stage["cv_boundary_R2"] is True


@pytest.mark.parametrize(("cv", "passes"), [(0.50, True), (0.5000001, False), (0.4999999, True)])
def test_cv_limit_includes_the_boundary(cv: float, passes: bool, national: RuleSet) -> None:
    stage = evaluate_resources(_two_units_with_r2_cv(cv), national).stages.row(0, named=True)
    assert stage["cv_passed_R2"] is passes


def test_2012_composite_is_the_mean_of_the_eight_unrounded_cvs(basic: RuleSet) -> None:
    rows = [
        school(school_id="a", books=9000, computers=40),
        school(school_id="b", books=20000, computers=70, students_primary=800, teaching_aux_area=4000.0),
        school(school_id="c", books=12000, computers=30, students_primary=300),
    ]
    stage = evaluate_resources(frame(rows), basic).stages.row(0, named=True)
    cvs = [stage[f"cv_K{k}"] for k in range(1, 9)]
    assert stage["composite"] == pytest.approx(sum(cvs) / 8)
    assert stage["passed"] is (stage["composite"] <= 0.65)
    assert not math.isnan(stage["composite"])


def test_2012_missing_optional_input_leaves_the_cv_undefined(basic: RuleSet) -> None:
    rows = [school(school_id="a"), school(school_id="b", books=None)]
    stage = evaluate_resources(frame(rows), basic).stages.row(0, named=True)
    assert stage["cv_K5"] is None
    assert stage["composite"] is None
    assert stage["passed"] is False
