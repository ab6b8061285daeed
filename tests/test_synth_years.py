"""Synthetic multi-year data (youjun.io.synth_years): determinism, stable schools, trends, validity, the CLI."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from youjun.cli import app
from youjun.contract import COUNTY_COLUMNS, SCHOOL_COLUMNS
from youjun.engine.assessment import assess
from youjun.errors import YoujunError
from youjun.io.reader import read_school_data
from youjun.io.synth import generate, write_csv
from youjun.io.synth_years import BIRTHS_HEADERS, GRADE_HEADERS, SyntheticYears, parse_years, synth_years
from youjun.standards import load_rule_set

STAGES = ("primary", "junior")
SUBGROUPS = ("qualified_teachers", "backbone_teachers", "pe_teachers", "music_teachers", "art_teachers")
GRADES = [f"grade_{g}" for g in range(1, 10)]
COMPULSORY = pl.col("students_primary") + pl.col("students_junior")


@pytest.fixture(scope="module")
def run() -> SyntheticYears:
    """60 counties (about 4,000 schools) over 2019–2025."""
    return synth_years(counties=60, years=range(2019, 2026), seed=3)


def totals(run: SyntheticYears, expr: pl.Expr, where: pl.Expr | None = None) -> list[int]:
    frames = [run.schools[y] if where is None else run.schools[y].filter(where) for y in run.years]
    return [int(f.select(expr.sum()).item()) for f in frames]


def test_same_arguments_give_identical_frames() -> None:
    a = synth_years(counties=6, years=range(2020, 2024), seed=11, province="51")
    b = synth_years(counties=6, years=range(2020, 2024), seed=11, province="51")
    assert a.years == b.years == (2020, 2021, 2022, 2023)
    for y in a.years:
        assert a.schools[y].equals(b.schools[y])
        assert a.counties[y].equals(b.counties[y])
    assert a.grades.equals(b.grades)
    assert a.births.equals(b.births)
    other = synth_years(counties=6, years=range(2020, 2024), seed=12, province="51")
    assert not other.schools[2023].equals(a.schools[2023])


def test_the_first_year_is_the_single_year_data() -> None:
    years = synth_years(counties=5, years=range(2021, 2024), seed=9, province="34")
    single = generate(5, 9, year=2021, province="34")
    assert years.schools[2021].equals(single.schools)
    assert years.counties[2021].equals(single.counties)


def test_every_year_has_the_single_year_columns_with_its_year(run: SyntheticYears) -> None:
    single = generate(2, seed=1)
    for y in run.years:
        assert run.schools[y].schema == single.schools.schema
        assert run.counties[y].schema == single.counties.schema
        assert run.schools[y]["year"].unique().to_list() == [y]
        assert run.counties[y]["year"].unique().to_list() == [y]
        assert run.counties[y].height == 60


def test_schools_keep_their_ids_and_only_closed_ones_disappear(run: SyntheticYears) -> None:
    fixed = ["school_id", "school_name", "county_code", "school_type", "urban_rural", "ownership", "built_year"]
    built = pl.col("built_year").fill_null(0)
    first = run.schools[2019].select(fixed).with_columns(built)
    for before, after in pairwise(run.years):
        ids_before = set(run.schools[before]["school_id"])
        ids_after = set(run.schools[after]["school_id"])
        assert run.schools[after]["school_id"].n_unique() == run.schools[after].height
        assert ids_after <= ids_before
        assert ids_before - ids_after == set(run.closed[after])
        assert run.schools[after].select(fixed).with_columns(built).join(first, on=fixed, how="anti").height == 0
    closed = [i for y in run.years[1:] for i in run.closed[y]]
    assert 0 < len(closed) < 0.05 * run.schools[2019].height
    gone = run.schools[2019].filter(pl.col("school_id").is_in(closed))
    assert set(gone["urban_rural"]) == {"乡村"}
    assert set(gone["school_type"]) <= {"小学", "教学点"}


def test_rural_enrolment_falls_and_town_and_urban_enrolment_rises(run: SyntheticYears) -> None:
    for area, falls in (("乡村", True), ("镇区", False), ("城区", False)):
        series = totals(run, COMPULSORY, pl.col("urban_rural") == area)
        assert (series[-1] < series[0]) == falls, area
        if falls:
            assert all(b < a for a, b in pairwise(series)), series
            yearly = [b / a - 1 for a, b in pairwise(series)]
            assert all(-0.08 < change < -0.01 for change in yearly), yearly


def test_national_primary_enrolment_peaks_in_2023_and_junior_keeps_rising(run: SyntheticYears) -> None:
    primary = dict(zip(run.years, totals(run, pl.col("students_primary")), strict=True))
    assert max(primary, key=primary.__getitem__) == 2023
    junior = totals(run, pl.col("students_junior"))
    assert all(b > a for a, b in pairwise(junior)), junior


def test_a_junior_peak_around_2026() -> None:
    late = synth_years(counties=20, years=range(2022, 2031), seed=5)
    junior = dict(zip(late.years, totals(late, pl.col("students_junior")), strict=True))
    assert max(junior, key=junior.__getitem__) in (2025, 2026, 2027)


def test_teachers_buildings_and_equipment_move(run: SyntheticYears) -> None:
    first, last = run.schools[2019], run.schools[2025]
    both = first.join(last, on="school_id", suffix="_last")
    assert both.filter(pl.col("teachers_primary") != pl.col("teachers_primary_last")).height > 0.3 * both.height
    assert totals(run, pl.col("backbone_teachers_primary"))[-1] != totals(run, pl.col("backbone_teachers_primary"))[0]
    equipment = totals(run, pl.col("equipment_value"))
    assert all(b > a for a, b in pairwise(equipment))
    assert equipment[-1] > 1.15 * equipment[0]
    jumps = 0
    for before, after in pairwise(run.years):
        pair = run.schools[before].join(run.schools[after], on="school_id", suffix="_next")
        jumps += pair.filter(pl.col("teaching_aux_area_next") > 1.1 * pl.col("teaching_aux_area")).height
        jumps += pair.filter(pl.col("outdoor_sports_area_next") > 1.1 * pl.col("outdoor_sports_area")).height
    assert jumps > 0.02 * first.height
    for y in run.years[1:]:
        c = run.counties[y]
        assert (c["rotated_teachers"] > 0).all()
        assert (c["rotated_teachers"] <= c["rotation_eligible_teachers"]).all()
        assert (c["rotated_backbone_teachers"] <= c["rotated_teachers"]).all()


def test_every_year_keeps_the_hard_constraints(run: SyntheticYears) -> None:
    required = [c.key for c in SCHOOL_COLUMNS if c.required]
    counts = [c.key for c in SCHOOL_COLUMNS if c.kind in ("int", "number")]
    for y in run.years:
        s = run.schools[y]
        assert sum(s.select(pl.col(required).null_count()).row(0)) == 0
        assert s.select(pl.any_horizontal(pl.col(counts) < 0).sum()).item() == 0
        within = [pl.col(f"{g}_{stage}") <= pl.col(f"teachers_{stage}") for stage in STAGES for g in SUBGROUPS]
        assert s.filter(~pl.all_horizontal(within)).height == 0
        assert s.filter(pl.col("indoor_sports_area") > pl.col("teaching_aux_area")).height == 0
        assert s.filter(COMPULSORY + pl.col("students_senior") <= 0).height == 0
        for stage in STAGES:
            n, classes, size = (
                pl.col(f"students_{stage}"),
                pl.col(f"classes_{stage}"),
                pl.col(f"max_class_size_{stage}"),
            )
            assert s.filter((n > 0) != (pl.col(f"teachers_{stage}") > 0)).height == 0
            assert s.filter((n > 0) & ((classes == 0) | (classes > n) | (n > classes * size))).height == 0
            assert s.filter((n == 0) & ((classes > 0) | size.is_not_null())).height == 0
        assert s.filter(pl.col("training_funds") > pl.col("public_funds")).height == 0
        assert s.filter(pl.col("migrant_students") > COMPULSORY).height == 0


def test_every_year_reads_and_evaluates_without_errors_or_warnings(tmp_path: Path) -> None:
    small = synth_years(counties=8, years=range(2019, 2026), seed=21, province="34")
    files = []
    for y in small.years:
        write_csv(small.schools[y], tmp_path / f"学校-{y}.csv")
        write_csv(small.counties[y], tmp_path / f"县级指标-{y}.csv")
        files += [tmp_path / f"学校-{y}.csv", tmp_path / f"县级指标-{y}.csv"]
    data = read_school_data(files)  # all years at once: the year-on-year checks run too
    assert [p.code for p in data.warnings] == []
    assert data.counties is not None
    result = assess(data.schools, data.counties, load_rule_set("national-2017"))
    per_year = result.verdict.group_by("year").len().sort("year")
    assert per_year["year"].to_list() == list(small.years)
    assert (per_year["len"] == 8).all()
    assert result.resources.units.height > 0


def test_grades_sum_to_the_stage_totals(run: SyntheticYears) -> None:
    assert run.grades.columns == ["year", "school_id", "county_code", *GRADES]
    for y in run.years:
        grades = run.grades.filter(pl.col("year") == y)
        joined = run.schools[y].join(grades, on="school_id", how="full", coalesce=True)
        assert joined.height == run.schools[y].height == grades.height
        primary = pl.sum_horizontal(GRADES[:6])
        junior = pl.sum_horizontal(GRADES[6:])
        assert joined.filter(primary != pl.col("students_primary")).height == 0
        assert joined.filter(junior != pl.col("students_junior")).height == 0


def test_births_are_the_first_grade_intake_over_a_stable_ratio(run: SyntheticYears) -> None:
    births = run.births
    assert births.columns == ["county_code", "county_name", "birth_year", "births"]
    assert births["birth_year"].unique().sort().to_list() == list(range(2008, 2020))
    intake = run.grades.group_by("county_code", "year").agg(pl.col("grade_1").sum())
    ratio = (
        intake.with_columns(birth_year=pl.col("year") - 6)
        .join(births, on=["county_code", "birth_year"])
        .with_columns(ratio=pl.col("grade_1") / pl.col("births"))
    )
    assert ratio.height == 60 * 7
    assert ratio["ratio"].is_between(0.8, 1.25).all()
    spread = ratio.group_by("county_code").agg((pl.col("ratio").std() / pl.col("ratio").mean()).alias("cv"))
    assert (spread["cv"] < 0.06).all()


def test_year_ranges_are_parsed_and_bad_ones_refused() -> None:
    assert parse_years("2019-2025") == range(2019, 2026)
    assert parse_years(" 2024 ") == range(2024, 2025)
    assert parse_years("2019–2021") == range(2019, 2022)
    for bad in ("2025-2019", "19-25", "2019-2060", "abc", "1990-1995"):
        with pytest.raises(YoujunError):
            parse_years(bad)
    with pytest.raises(YoujunError, match="连续"):
        synth_years(counties=2, years=[2019, 2021], seed=1)


def test_cli_writes_one_file_per_year_and_the_grades_and_births(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "数据.csv"
    args = ["synth", "--counties", "3", "--seed", "4", "--province", "34", "--years", "2019-2021", "--out", target]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    expected = {f"数据-{y}.csv" for y in (2019, 2020, 2021)} | {f"数据-{y}-县级指标.csv" for y in (2019, 2020, 2021)}
    assert names == expected | {"数据-分年级在校生.csv", "数据-出生人口.csv"}
    run = synth_years(counties=3, years=range(2019, 2022), seed=4, province="34")
    for y in (2019, 2020, 2021):
        schools = pl.read_csv(tmp_path / f"数据-{y}.csv", infer_schema=False)
        assert schools.columns == [c.header for c in SCHOOL_COLUMNS]
        assert schools["统计年度"].unique().to_list() == [str(y)]
        assert schools["学校标识码"].to_list() == run.schools[y]["school_id"].to_list()
        counties = pl.read_csv(tmp_path / f"数据-{y}-县级指标.csv", infer_schema=False)
        assert counties.columns == [c.header for c in COUNTY_COLUMNS]
    grades = pl.read_csv(tmp_path / "数据-分年级在校生.csv")
    assert grades.columns == list(GRADE_HEADERS.values())
    assert grades.height == run.grades.height
    births = pl.read_csv(tmp_path / "数据-出生人口.csv")
    assert births.columns == list(BIRTHS_HEADERS.values())

    again = tmp_path / "again"
    again.mkdir()
    runner.invoke(app, [str(a) for a in args[:-1]] + [str(again / "数据.csv")])
    for name in names:
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes(), name

    files = sorted(str(p) for p in tmp_path.glob("数据-20*.csv"))
    evaluated = runner.invoke(app, ["evaluate", *files, "--format", "json"])
    assert evaluated.exit_code == 0, evaluated.output
    doc = json.loads(evaluated.output)
    assert sorted({c["year"] for c in doc["counties"]}) == [2019, 2020, 2021]
    assert len(doc["counties"]) == 9


def test_cli_writes_a_workbook_per_year(tmp_path: Path) -> None:
    import fastexcel

    result = CliRunner().invoke(
        app, ["synth", "--counties", "2", "--years", "2023-2024", "--out", str(tmp_path / "d.xlsx")]
    )
    assert result.exit_code == 0, result.output
    for y in (2023, 2024):
        assert {"学校", "县级指标"} <= set(fastexcel.read_excel(tmp_path / f"d-{y}.xlsx").sheet_names)
    assert (tmp_path / "d-分年级在校生.csv").exists() and (tmp_path / "d-出生人口.csv").exists()


def test_cli_refuses_year_together_with_years(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["synth", "--year", "2024", "--years", "2019-2021", "--out", str(tmp_path / "x.csv")]
    )
    assert isinstance(result.exception, YoujunError)
    assert not list(tmp_path.iterdir())
