"""The synthetic national dataset (youjun.io.synth): shape, determinism, hard constraints and realism."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from youjun.contract import COUNTY_COLUMNS, SCHOOL_COLUMNS, Column
from youjun.errors import YoujunError
from youjun.io.synth import PROVINCES, SyntheticData, generate, write_csv

STAGES = ("primary", "junior")
SUBGROUPS = ("qualified_teachers", "backbone_teachers", "pe_teachers", "music_teachers", "art_teachers")


def share(mask: pl.Series) -> float:
    """Share of true values in a boolean series."""
    return int(mask.sum()) / mask.len()


def expected_dtype(column: Column) -> pl.DataType:
    if column.kind in ("int", "year"):
        return pl.Int64()
    if column.kind == "number":
        return pl.Float64()
    return pl.String()


@pytest.fixture(scope="module")
def national() -> SyntheticData:
    """2,900 counties, the national scale (about a second to generate)."""
    return generate(counties=2_900, seed=2024)


@pytest.fixture(scope="module")
def small() -> SyntheticData:
    return generate(counties=40, seed=7)


def test_same_arguments_give_identical_frames() -> None:
    a = generate(counties=25, seed=11, year=2023, province="51")
    b = generate(counties=25, seed=11, year=2023, province="51")
    assert a.schools.equals(b.schools)
    assert a.counties.equals(b.counties)


def test_another_seed_gives_other_data() -> None:
    a = generate(counties=25, seed=11)
    b = generate(counties=25, seed=12)
    assert not a.schools.equals(b.schools)


def test_school_sheet_has_the_template_columns_in_order_with_their_dtypes(small: SyntheticData) -> None:
    assert small.schools.columns == [c.key for c in SCHOOL_COLUMNS]
    assert small.schools.schema == pl.Schema({c.key: expected_dtype(c) for c in SCHOOL_COLUMNS})


def test_county_sheet_has_the_template_columns_one_row_per_county(small: SyntheticData) -> None:
    assert small.counties.columns == [c.key for c in COUNTY_COLUMNS]
    assert small.counties.schema == pl.Schema({c.key: expected_dtype(c) for c in COUNTY_COLUMNS})
    assert small.counties.height == 40
    assert small.counties["county_code"].n_unique() == 40
    assert small.counties["county_name"].n_unique() == 40
    assert set(small.schools["county_code"].unique()) == set(small.counties["county_code"])


def test_national_scale_gives_about_200000_schools(national: SyntheticData) -> None:
    assert national.counties.height == 2_900
    assert 180_000 <= national.schools.height <= 220_000
    per_county = national.schools.group_by("county_code").len()["len"]
    assert per_county.is_between(10, 300).all()


def test_counties_follow_the_real_provincial_distribution(national: SyntheticData) -> None:
    per_province = dict(national.counties.group_by(pl.col("county_code").str.slice(0, 2)).len().iter_rows())
    assert set(per_province) == set(PROVINCES)
    assert 14 <= per_province["11"] <= 18  # 北京市 16
    assert 14 <= per_province["31"] <= 18  # 上海市 16
    assert 170 <= per_province["51"] <= 195  # 四川省 183
    assert 155 <= per_province["13"] <= 180  # 河北省 167
    assert 68 <= per_province["54"] <= 80  # 西藏自治区 74
    assert 12 <= per_province["66"] <= 16  # 新疆生产建设兵团 14


def test_required_school_columns_are_filled(national: SyntheticData) -> None:
    required = [c.key for c in SCHOOL_COLUMNS if c.required]
    nulls = national.schools.select(pl.col(required).null_count()).row(0, named=True)
    assert {k: v for k, v in nulls.items() if v} == {}


def test_counts_areas_and_money_are_whole_or_non_negative(national: SyntheticData) -> None:
    schools = national.schools
    ints = [c.key for c in SCHOOL_COLUMNS if c.kind == "int"]
    numbers = [c.key for c in SCHOOL_COLUMNS if c.kind == "number"]
    negative = schools.select(pl.any_horizontal(pl.col(ints + numbers) < 0).sum()).item()
    assert negative == 0
    county_numbers = [c.key for c in COUNTY_COLUMNS if c.kind in ("int", "number")]
    assert national.counties.select(pl.any_horizontal(pl.col(county_numbers) < 0).sum()).item() == 0


def test_teacher_subgroups_never_exceed_the_stage_teachers(national: SyntheticData) -> None:
    checks = [pl.col(f"{group}_{stage}") <= pl.col(f"teachers_{stage}") for stage in STAGES for group in SUBGROUPS]
    bad = national.schools.filter(~pl.all_horizontal(checks))
    assert bad.height == 0


def test_indoor_sports_area_never_exceeds_teaching_area(national: SyntheticData) -> None:
    assert national.schools.filter(pl.col("indoor_sports_area") > pl.col("teaching_aux_area")).height == 0


def test_every_school_has_students_and_stages_match_teachers(national: SyntheticData) -> None:
    s = national.schools
    total = pl.col("students_primary") + pl.col("students_junior") + pl.col("students_senior")
    assert s.filter(total <= 0).height == 0
    for stage in STAGES:
        assert s.filter((pl.col(f"students_{stage}") > 0) != (pl.col(f"teachers_{stage}") > 0)).height == 0


def test_codes_ids_and_enums_are_valid(national: SyntheticData) -> None:
    s = national.schools
    assert s["school_id"].n_unique() == s.height
    assert s.filter(~pl.col("county_code").str.contains(r"^\d{6}$")).height == 0
    assert s.filter(~pl.col("school_id").str.contains(r"^\d{10}$")).height == 0
    assert s.filter(pl.col("school_id").str.slice(0, 6) != pl.col("county_code")).height == 0
    assert s.select(pl.struct("county_code", "school_name").n_unique()).item() == s.height
    for sheet, columns in ((s, SCHOOL_COLUMNS), (national.counties, COUNTY_COLUMNS)):
        for column in columns:
            if column.kind == "enum":
                used = set(sheet[column.key].drop_nulls().unique())
                assert used <= set(column.choices), column.key


def test_per_student_values_stay_plausible(national: SyntheticData) -> None:
    s = national.schools.with_columns(
        students=pl.col("students_primary") + pl.col("students_junior") + pl.col("students_senior")
    )
    weighted = pl.col("students_primary") + 1.1 * pl.col("students_junior") + 1.32 * pl.col("students_senior")
    per_unit = [1.0, 1.1]  # a stage's share of shared resources per student, relative to a primary student
    for w in per_unit:
        area = (pl.col("teaching_aux_area") - pl.col("indoor_sports_area")) * w / weighted
        equipment = pl.col("equipment_value") * w / weighted
        assert s.select(area.max()).item() < 50
        assert s.select(equipment.max()).item() < 100_000


def test_soft_checks_of_the_importer_stay_quiet(national: SyntheticData) -> None:
    """Pupil–teacher ratios of stages with 50+ students within 3–35 (primary) / 3–30 (junior), classes ≤ 66,
    and classes × largest class ≥ students."""
    s = national.schools
    for stage, most in (("primary", 35), ("junior", 30)):
        n, t = pl.col(f"students_{stage}"), pl.col(f"teachers_{stage}")
        ratio = n / t
        assert s.filter((n >= 50) & ((ratio < 3) | (ratio > most))).height == 0, stage
        size, classes = pl.col(f"max_class_size_{stage}"), pl.col(f"classes_{stage}")
        assert s.filter(size > 66).height == 0
        assert s.filter((n > 0) & ((classes == 0) | size.is_null() | (n > classes * size))).height == 0


def test_school_type_mix_is_national(national: SyntheticData) -> None:
    mix = dict(national.schools["school_type"].value_counts(normalize=True).iter_rows())
    expected = {
        "小学": 0.55,
        "初中": 0.18,
        "九年一贯制学校": 0.08,
        "十二年一贯制学校": 0.01,
        "完全中学": 0.03,
        "教学点": 0.13,
        "特殊教育学校": 0.015,
    }
    for school_type, target in expected.items():
        tolerance = 0.02 if target >= 0.05 else 0.006
        assert mix[school_type] == pytest.approx(target, abs=tolerance), school_type
    assert 0.05 <= share(national.schools["ownership"] == "民办") <= 0.11


def test_students_per_stage_match_the_school_type(national: SyntheticData) -> None:
    s = national.schools
    p, j, sr = pl.col("students_primary"), pl.col("students_junior"), pl.col("students_senior")
    t = pl.col("school_type")
    assert s.filter((t == "初中") & ((p > 0) | (j == 0) | (sr > 0))).height == 0
    assert s.filter((t == "完全中学") & ((p > 0) | (j == 0) | (sr == 0))).height == 0
    assert s.filter((t == "十二年一贯制学校") & ((p == 0) | (j == 0) | (sr == 0))).height == 0
    assert s.filter((t == "教学点") & ((j > 0) | (p < 5) | (p > 150))).height == 0
    attached = s.filter((t == "小学") & (j > 0)).height / s.filter(t == "小学").height
    assert 0.005 < attached < 0.06  # 附设初中班


def test_some_teaching_points_have_fewer_than_50_students(national: SyntheticData) -> None:
    points = national.schools.filter(pl.col("school_type") == "教学点")
    assert 0.3 <= share(points["students_primary"] < 50) <= 0.5
    assert share(points["urban_rural"] == "乡村") > 0.8


def test_resources_centre_just_above_the_standard(national: SyntheticData) -> None:
    """Single-stage primary schools of 100+ students: most meet all seven R standards, a few miss some."""
    s = national.schools.filter(
        (pl.col("school_type") == "小学") & (pl.col("students_junior") == 0) & (pl.col("students_primary") >= 100)
    )
    n = pl.col("students_primary")
    met = pl.all_horizontal(
        pl.col("qualified_teachers_primary") / n * 100 >= 4.2,
        pl.col("backbone_teachers_primary") / n * 100 >= 1.0,
        (pl.col("pe_teachers_primary") + pl.col("music_teachers_primary") + pl.col("art_teachers_primary")) / n * 100
        >= 0.9,
        (pl.col("teaching_aux_area") - pl.col("indoor_sports_area")) / n >= 4.5,
        (pl.col("indoor_sports_area") + pl.col("outdoor_sports_area")) / n >= 7.5,
        pl.col("equipment_value") / n >= 2000,
        pl.col("multimedia_rooms") / n * 100 >= 2.3,
    )
    share_met = s.select(met.mean()).item()
    assert 0.85 <= share_met <= 0.98


def test_county_sheet_values_are_realistic(national: SyntheticData) -> None:
    c = national.counties
    recognised = c["basic_balance_year"].drop_nulls()
    assert recognised.is_between(2013, 2021).all()
    retention = c.select(
        (pl.col("junior_graduates") - pl.col("junior_transfer_in") + pl.col("junior_transfer_out"))
        / (pl.col("grade7_enrolment") - pl.col("junior_deaths"))
    ).to_series()
    assert retention.is_between(0.9, 1.0).all()
    assert share(retention.is_between(0.95, 0.99)) >= 0.85
    assert (c["rotated_teachers"] <= c["rotation_eligible_teachers"]).all()
    assert (c["rotated_backbone_teachers"] <= c["rotated_teachers"]).all()
    assert (c["quality_hs_allocated"] <= c["quality_hs_plan"]).all()
    assert (c["migrant_in_public"] + c["migrant_in_purchased"] <= c["eligible_migrant_children"]).all()
    assert (c["disabled_enrolled"] <= c["disabled_children"]).all()
    for verdict in ("g1_verdict", "g10_verdict", "q7_verdict"):
        shares = dict(c[verdict].value_counts(normalize=True).iter_rows())
        assert shares["达标"] > 0.8
        assert shares.get("待补充", 0) > 0


def test_an_earlier_year_has_no_later_recognition_or_building() -> None:
    data = generate(counties=60, seed=3, year=2016)
    assert (data.counties["basic_balance_year"].drop_nulls() <= 2016).all()
    assert data.counties["basic_balance_year"].null_count() > 0
    assert (data.schools["built_year"].drop_nulls() <= 2016).all()
    assert (data.schools["year"] == 2016).all()


def test_province_filter_puts_every_county_in_that_province() -> None:
    data = generate(counties=120, seed=5, province="34")
    assert (data.counties["county_code"].str.slice(0, 2) == "34").all()
    assert (data.schools["county_code"].str.slice(0, 2) == "34").all()
    assert data.counties["county_code"].n_unique() == 120


def test_unknown_province_is_refused_with_a_chinese_message() -> None:
    with pytest.raises(YoujunError, match="未知的省级区划代码"):
        generate(counties=3, seed=1, province="99")
    with pytest.raises(YoujunError):
        generate(counties=0, seed=1)


def test_school_names_follow_the_county_and_type(small: SyntheticData) -> None:
    s = small.schools
    assert s.filter((pl.col("school_type") == "教学点") & ~pl.col("school_name").str.ends_with("教学点")).height == 0
    assert s.filter((pl.col("school_type") == "小学") & ~pl.col("school_name").str.ends_with("小学")).height == 0
    assert (
        s.filter(
            (pl.col("school_type") == "九年一贯制学校") & ~pl.col("school_name").str.ends_with("九年一贯制学校")
        ).height
        == 0
    )


def test_csv_round_trip_keeps_chinese_headers_and_values(small: SyntheticData, tmp_path: Path) -> None:
    path = tmp_path / "学校.csv"
    write_csv(small.schools, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    back = pl.read_csv(path, schema_overrides={c.header: expected_dtype(c) for c in SCHOOL_COLUMNS})
    assert back.columns == [c.header for c in SCHOOL_COLUMNS]
    back = back.rename({c.header: c.key for c in SCHOOL_COLUMNS})
    assert back.equals(small.schools)

    county_path = tmp_path / "县级指标.csv"
    write_csv(small.counties, county_path)
    county_back = pl.read_csv(county_path, schema_overrides={c.header: expected_dtype(c) for c in COUNTY_COLUMNS})
    assert county_back.columns == [c.header for c in COUNTY_COLUMNS]
    assert county_back.rename({c.header: c.key for c in COUNTY_COLUMNS}).equals(small.counties)
