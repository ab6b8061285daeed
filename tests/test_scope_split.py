"""Scope (who is evaluated) and the split of multi-stage schools into units."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import frame, school
from youjun.engine import evaluate_resources
from youjun.engine.split import split_shared_resources, stage_share
from youjun.standards.model import RuleSet


@pytest.mark.parametrize(("students", "kept"), [(49, False), (50, True)])
def test_teaching_point_with_fewer_than_50_students_is_excluded(students: int, kept: bool, national: RuleSet) -> None:
    ev = evaluate_resources(frame([school(school_type="教学点", students_primary=students)]), national)
    assert (ev.units.height == 1) is kept
    if not kept:
        assert ev.excluded["reason"].item() == "教学点在校生不足50人"


def test_special_education_school_is_excluded(national: RuleSet) -> None:
    ev = evaluate_resources(frame([school(), school(school_id="t", school_type="特殊教育学校")]), national)
    assert ev.units["school_id"].to_list() == ["3402070001"]
    assert ev.excluded["reason"].item() == "特殊教育学校不纳入资源配置评估"


def test_private_schools_are_included_nationally_and_excluded_by_the_example_province(
    national: RuleSet,
) -> None:
    from youjun.standards import load_rule_set

    rows = [school(), school(school_id="p", ownership="民办")]
    assert evaluate_resources(frame(rows), national).units.height == 2
    province = evaluate_resources(frame(rows), load_rule_set("example-province-2017"))
    assert province.units["school_id"].to_list() == ["3402070001"]
    assert "民办" in province.excluded["reason"].item()


def test_nine_year_school_with_no_junior_students_is_one_unit(national: RuleSet) -> None:
    ev = evaluate_resources(frame([school(school_type="九年一贯制学校", students_junior=0)]), national)
    assert ev.units.select("stage", "share").rows() == [("primary", 1.0)]
    assert ev.units["teaching_aux_area"].item() == 3000.0


def test_complete_secondary_school_gives_its_senior_share_away(national: RuleSet) -> None:
    row = school(
        school_type="完全中学",
        students_primary=0,
        students_junior=600,
        students_senior=500,
        teachers_junior=50,
        qualified_teachers_junior=45,
        backbone_teachers_junior=8,
        pe_teachers_junior=3,
        music_teachers_junior=2,
        art_teachers_junior=2,
    )
    units = split_shared_resources(frame([row]), national.split, national.stages)
    assert units["stage"].to_list() == ["junior"]
    # junior : senior = 1.1 : 1.32 = 1 : 1.2
    assert units["share"].item() == pytest.approx(600 / (600 + 500 * 1.2))


def test_student_share_split_ignores_the_weights(national: RuleSet) -> None:
    plain = replace(national.split, method="student_share")
    df = pl.DataFrame({"students_primary": [166], "students_junior": [210], "students_senior": [0]})
    assert df.select(stage_share("primary", plain)).item() == pytest.approx(166 / 376)


@settings(max_examples=100, deadline=None)
@given(
    primary=st.integers(0, 3000),
    junior=st.integers(0, 3000),
    senior=st.integers(0, 3000),
    area=st.floats(0, 1e6),
    money=st.floats(0, 1e9),
)
def test_split_conserves_every_shared_resource(
    primary: int, junior: int, senior: int, area: float, money: float, national: RuleSet
) -> None:
    if primary + junior == 0:
        return
    row = school(
        school_type="十二年一贯制学校",
        students_primary=primary,
        students_junior=junior,
        students_senior=senior,
        teaching_aux_area=area,
        equipment_value=money,
        multimedia_rooms=37,
    )
    df = frame([row])
    units = split_shared_resources(df, national.split, national.stages)
    senior_share = df.select(stage_share("senior", national.split)).item()
    for field, total in (("teaching_aux_area", area), ("equipment_value", money), ("multimedia_rooms", 37)):
        assert units[field].sum() + total * senior_share == pytest.approx(total, rel=1e-12, abs=1e-9)
    assert units["share"].sum() + senior_share == pytest.approx(1.0)
    assert set(units["stage"]) == {s for s, n in (("primary", primary), ("junior", junior)) if n > 0}
