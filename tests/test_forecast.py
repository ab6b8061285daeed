"""School-age population and places forecast (youjun.engine.forecast): the projection, its bounds, the forecast as
the engine's own evaluation of the projected data, the backtest and the refusals."""

from __future__ import annotations

import dataclasses
import math
from itertools import pairwise

import polars as pl
import pytest

from youjun.engine.evaluate import evaluate_resources
from youjun.engine.forecast import (
    GRADES,
    Projection,
    backtest,
    class_caps,
    forecast,
    project_enrolment,
    projected_schools,
)
from youjun.errors import YoujunError
from youjun.io.synth_years import SyntheticYears, synth_years
from youjun.standards import load_rule_set

RULES = load_rule_set("national-2017")
#: One stationary grade profile (grades 1–9); every school of a county follows it, scaled.
PROFILE = [120, 118, 117, 116, 115, 114, 150, 148, 147]


def school_rows(year: int, school: str, county: str, grades: list[int]) -> dict[str, object]:
    return {"year": year, "school_id": school, "county_code": county, **dict(zip(GRADES, grades, strict=True))}


def stationary(years: range) -> pl.DataFrame:
    """County 340101: a nine-year school, a primary school with twice its primary grades, a junior school with its
    junior grades; county 340102: one nine-year school on another profile. The same pupils every year."""
    other = [80, 80, 79, 79, 78, 78, 60, 59, 59]
    rows = []
    for y in years:
        rows += [
            school_rows(y, "a1", "340101", PROFILE),
            school_rows(y, "a2", "340101", [2 * n for n in PROFILE[:6]] + [0, 0, 0]),
            school_rows(y, "a3", "340101", [0] * 6 + PROFILE[6:]),
            school_rows(y, "b1", "340102", other),
        ]
    return pl.DataFrame(rows)


def constant_births(first: int, last: int) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"county_code": code, "county_name": name, "birth_year": y, "births": births}
            for code, name, births in (("340101", "甲县", 400), ("340102", "乙县", 90))
            for y in range(first, last + 1)
        ]
    )


@pytest.fixture(scope="module")
def run() -> SyntheticYears:
    """40 counties (about 2,600 schools) over 2019–2024."""
    return synth_years(counties=40, years=range(2019, 2025), seed=7)


@pytest.fixture(scope="module")
def projection(run: SyntheticYears) -> Projection:
    return project_enrolment(run.grades, run.births, horizon=4)


# ---------------------------------------------------------------------------------------------------------------
# The projection


@pytest.mark.parametrize("with_births", [True, False])
def test_a_stationary_process_is_projected_exactly(with_births: bool) -> None:
    grades = stationary(range(2020, 2024))
    births = constant_births(2010, 2030) if with_births else None
    p = project_enrolment(grades, births, horizon=5)
    assert p.base_year == 2023 and p.years == (2024, 2025, 2026, 2027, 2028)
    base = grades.filter(pl.col("year") == 2023).drop("year").sort("school_id")
    for frame in (p.grades, p.low, p.high):  # constant ratios: no spread either
        for y in p.years:
            assert frame.filter(pl.col("year") == y).drop("year").sort("school_id").equals(base)
    assert set(p.counties["grade_1_source"].drop_nulls()) == {"births" if with_births else "trend"}
    progression = p.ratios.filter(pl.col("kind") == "progression", pl.col("county_code") == "340101")
    assert progression.filter(pl.col("grade") == 2)["ratio"].item() == pytest.approx(354 / 360)
    assert progression["observations"].to_list() == [3] * 8


def test_first_grade_follows_births_falling_ten_percent_a_year() -> None:
    births = pl.DataFrame(
        {
            "county_code": "340101",
            "birth_year": list(range(2014, 2024)),
            "births": [10_000 * 0.9**k for k in range(10)],
        }
    )
    entry_ratio = 0.95
    rows = []
    for y in range(2020, 2024):
        first = round(entry_ratio * 10_000 * 0.9 ** (y - 2020))
        rows.append(school_rows(y, "a1", "340101", [first, *PROFILE[1:]]))
    p = project_enrolment(pl.DataFrame(rows), births, horizon=5)
    ratio = p.ratios.filter(pl.col("kind") == "births")["ratio"].item()
    assert ratio == pytest.approx(entry_ratio, abs=1e-4)
    projected = p.grades.sort("year")["grade_1"].to_list()
    expected = [math.floor(ratio * 10_000 * 0.9 ** (y - 2020) + 0.5) for y in p.years]
    assert projected == expected
    assert all(b / a == pytest.approx(0.9, abs=2e-3) for a, b in pairwise(projected))
    # The cohorts already in school move up with the county's ratios.
    r2 = p.ratios.filter(pl.col("kind") == "progression", pl.col("grade") == 2)["ratio"].item()
    second = p.grades.filter(pl.col("year") == 2024)["grade_2"].item()
    assert second == math.floor(float(rows[-1]["grade_1"]) * r2 + 0.5)  # type: ignore[arg-type]
    assert "出生人口" in p.method and "入学比" in p.method
    assert set(p.counties["grade_1_source"].drop_nulls()) == {"births"}


def test_births_missing_for_later_entry_years_fall_back_to_the_trend() -> None:
    grades = stationary(range(2020, 2024))
    births = constant_births(2010, 2019)  # entry years up to 2025 only
    p = project_enrolment(grades, births, horizon=4)
    sources = p.counties.filter(pl.col("stage") == "primary", pl.col("county_code") == "340101")
    assert sources.sort("year")["grade_1_source"].to_list() == [None, "births", "births", "trend", "trend"]
    assert "其余年度" in p.method


def test_closed_schools_are_not_projected(run: SyntheticYears, projection: Projection) -> None:
    closed = {school for ids in run.closed.values() for school in ids}
    assert closed, "the synthetic run closes some schools"
    projected = set(projection.grades["school_id"])
    assert not closed & projected
    base = set(run.grades.filter(pl.col("year") == 2024)["school_id"])
    assert projected == base
    assert projection.grades.height == len(base) * len(projection.years)


def test_a_school_absent_in_the_base_year_is_not_projected() -> None:
    grades = stationary(range(2020, 2024)).filter(~((pl.col("school_id") == "a2") & (pl.col("year") == 2023)))
    p = project_enrolment(grades, horizon=2)
    assert "a2" not in set(p.grades["school_id"])


def test_bounds_contain_the_central_projection(projection: Projection) -> None:
    keys = ["year", "school_id"]
    joined = projection.grades.join(projection.low, on=keys, suffix="_low").join(
        projection.high, on=keys, suffix="_high"
    )
    assert joined.height == projection.grades.height
    for g in GRADES:
        assert joined.select((pl.col(f"{g}_low") <= pl.col(g)).all()).item()
        assert joined.select((pl.col(g) <= pl.col(f"{g}_high")).all()).item()
    counties = projection.counties
    assert counties.select(
        ((pl.col("low") <= pl.col("students")) & (pl.col("students") <= pl.col("high"))).all()
    ).item()
    # The range widens with the horizon (nationally).
    width = counties.group_by("year").agg((pl.col("high") - pl.col("low")).sum()).sort("year")["high"].to_list()
    assert width == sorted(width) and width[-1] > width[1] > 0


def test_county_totals_are_the_sums_of_their_schools(projection: Projection) -> None:
    sums = (
        projection.grades.group_by("county_code", "year")
        .agg(pl.sum_horizontal(GRADES[:6]).sum().alias("primary"))
        .join(projection.counties.filter(pl.col("stage") == "primary"), on=["county_code", "year"])
    )
    assert sums.select((pl.col("primary") == pl.col("students")).all()).item()


# ---------------------------------------------------------------------------------------------------------------
# Projected schools and the forecast


def test_the_forecast_is_the_engines_evaluation_of_the_projected_data(
    run: SyntheticYears, projection: Projection
) -> None:
    base = run.schools[2024]
    frames = projected_schools(base, projection, rules=RULES)
    fc = forecast(base, projection, RULES)
    assert fc.years == projection.years == tuple(frames)
    codes = list(RULES.indicators)
    stage_cols = ["year", "county_code", "stage", "units", "units_passed", "passed"]
    stage_cols += [f"{k}_{c}" for c in codes for k in ("county_value", "cv", "cv_passed")]
    unit_cols = ["year", "school_id", "stage", "students"]
    unit_cols += [f"{k}_{c}" for c in codes for k in ("value", "met", "shortfall")]
    for year in fc.years:
        ev = evaluate_resources(frames[year], RULES)
        ours = fc.stages.filter(pl.col("year") == year).select(stage_cols).sort("county_code", "stage")
        assert ours.equals(ev.stages.select(stage_cols).sort("county_code", "stage"))  # exact CVs
        units = fc.units.filter(pl.col("year") == year).select(unit_cols).sort("school_id", "stage")
        assert units.equals(ev.units.select(unit_cols).sort("school_id", "stage"))  # exact per-unit values
        long = fc.cvs.filter(pl.col("year") == year, pl.col("indicator") == "R4").sort("county_code", "stage")
        assert long["cv"].equals(ev.stages.sort("county_code", "stage")["cv_R4"], check_names=False)
        shortfall = ev.units.group_by("county_code", "stage").agg(pl.col("shortfall_R4").fill_null(0).sum())
        mine = fc.stages.filter(pl.col("year") == year).select("county_code", "stage", "shortfall_R4")
        assert mine.sort("county_code", "stage").equals(shortfall.sort("county_code", "stage"))
    # The base year is the engine on the data as they are.
    now = evaluate_resources(base, RULES).stages.select(stage_cols).sort("county_code", "stage")
    assert fc.stages.filter(~pl.col("projected")).select(stage_cols).sort("county_code", "stage").equals(now)


def test_projected_frames_replace_pupils_and_classes_only(run: SyntheticYears, projection: Projection) -> None:
    base = run.schools[2024]
    frames = projected_schools(base, projection, rules=RULES)
    year = projection.years[-1]
    frame = frames[year]
    assert frame.columns == base.columns and frame.schema == base.schema
    assert frame["school_id"].equals(base["school_id"]) and set(frame["year"]) == {year}
    grades = projection.grades.filter(pl.col("year") == year)
    pupils = frame.join(grades, on="school_id").select(
        (pl.col("students_primary") == pl.sum_horizontal(GRADES[:6])).all(),
        (pl.col("students_junior") == pl.sum_horizontal(GRADES[6:])).all(),
    )
    assert pupils.row(0) == (True, True)
    classes = frame.select(
        (pl.col("classes_primary") == (pl.col("students_primary") + 44) // 45).all(),
        (pl.col("classes_junior") == (pl.col("students_junior") + 49) // 50).all(),
        (pl.col("max_class_size_primary").fill_null(0) <= 45).all(),
    )
    assert classes.row(0) == (True, True, True)
    held = ["teachers_primary", "qualified_teachers_junior", "teaching_aux_area", "equipment_value", "students_senior"]
    assert frame.select(held).equals(base.select(held))
    assert (frame["zoned_students"].fill_null(0) <= frame["students_primary"] + frame["students_junior"]).all()


def test_class_caps_come_from_the_rule_set(run: SyntheticYears, projection: Projection) -> None:
    assert class_caps(RULES) == {"primary": 45, "junior": 50} == class_caps(None)
    sections = {**RULES.sections, "monitoring": {"rules": {"class_size": {"max_class_size": {"primary": 40}}}}}
    strict = dataclasses.replace(RULES, sections=sections)
    assert class_caps(strict) == {"primary": 40, "junior": 50}
    without = dataclasses.replace(RULES, sections={k: v for k, v in RULES.sections.items() if k != "monitoring"})
    assert class_caps(without) == {"primary": 45, "junior": 50}
    frame = projected_schools(run.schools[2024], projection, rules=strict)[projection.years[0]]
    assert frame.select((pl.col("classes_primary") == (pl.col("students_primary") + 39) // 40).all()).item()


def test_places_classrooms_and_schools_falling_below(run: SyntheticYears, projection: Projection) -> None:
    base = run.schools[2024]
    fc = forecast(base, projection, RULES)
    rows = fc.stages
    assert rows.select(
        (pl.col("places_lack") >= 0).all(),
        (pl.col("capacity") - pl.col("pupils") == pl.col("places_spare") - pl.col("places_lack")).all(),
        (
            pl.col("classes_today") - pl.col("classes_needed") == pl.col("classrooms_spare") - pl.col("classrooms_lack")
        ).all(),
    ).row(0) == (True, True, True)
    # Today's classes are the base year's, every year.
    today = rows.group_by("county_code", "stage").agg(pl.col("classes_today").n_unique())
    assert (today["classes_today"] == 1).all()
    below = fc.below
    assert below.height > 0
    assert below.select(
        (pl.col("first_year_below") > fc.base_year).all(),
        (pl.col("value") < pl.col("standard")).all(),
        (pl.col("value_base") >= pl.col("standard") * (1 - 1e-9)).all(),
    ).row(0) == (True, True, True)
    one = below.row(0, named=True)
    units = fc.units.filter(pl.col("school_id") == one["school_id"], pl.col("stage") == one["stage"]).sort("year")
    met = units.select("year", f"met_{one['indicator']}").rows()
    assert met[0] == (fc.base_year, True)
    assert min(y for y, ok in met if not ok) == one["first_year_below"]
    assert "办学条件" in fc.method and "45" in fc.method


# ---------------------------------------------------------------------------------------------------------------
# Backtest


def test_backtest_reports_finite_errors_well_below_no_change(run: SyntheticYears) -> None:
    bt = backtest(run.grades, run.births, fit_until=2021)
    assert bt.height == 8
    assert sorted(set(bt["years_ahead"])) == [1, 3] and set(bt["year"]) == {2022, 2024}
    assert set(bt["level"]) == {"school", "county"} and set(bt["stage"]) == {"primary", "junior"}
    assert all(math.isfinite(v) for v in bt["mape"]) and (bt["units"] > 0).all()

    def mape(level: str, stage: str, ahead: int, frame: pl.DataFrame = bt) -> float:
        return float(
            frame.filter(pl.col("level") == level, pl.col("stage") == stage, pl.col("years_ahead") == ahead)[
                "mape"
            ].item()
        )

    # Measured on this run: 0.30 % (primary) and 0.87 % (junior) one year ahead; ignoring the grade ratios gives
    # 13 % for junior enrolment of counties, holding enrolment at the base year 1.1 % and 1.8 %.
    assert mape("county", "primary", 1) < 0.6
    assert mape("county", "junior", 1) < 1.3
    assert mape("school", "primary", 1) < 2.5 and mape("school", "junior", 1) < 3.5
    assert mape("county", "primary", 3) < 1.5 and mape("school", "primary", 3) < 6
    stage = run.grades.select(
        "year", "county_code", pl.sum_horizontal(GRADES[:6]).alias("p"), pl.sum_horizontal(GRADES[6:]).alias("j")
    )
    county = stage.group_by("year", "county_code").agg(pl.col("p", "j").sum())
    pairs = county.filter(pl.col("year") == 2021).join(county.filter(pl.col("year") == 2022), on="county_code")
    for stage_name, col in (("primary", "p"), ("junior", "j")):
        unchanged = pairs.select(((pl.col(col) - pl.col(f"{col}_right")).abs() / pl.col(f"{col}_right")).mean()).item()
        assert mape("county", stage_name, 1) < unchanged * 100 / 2
    # The school adjustment earns its place: three years ahead, schools are projected better with it.
    plain = backtest(run.grades, run.births, fit_until=2021, school_adjustment=False)
    assert mape("school", "primary", 3) < mape("school", "primary", 3, plain) * 0.8


def test_backtest_without_births_uses_the_trend(run: SyntheticYears) -> None:
    bt = backtest(run.grades, None, fit_until=2022, years_ahead=(1,))
    assert bt["years_ahead"].unique().to_list() == [1] and bt.height == 4
    assert (bt["coverage"].is_between(0, 1)).all()


# ---------------------------------------------------------------------------------------------------------------
# Refusals


def test_one_year_of_history_is_refused_in_chinese() -> None:
    grades = stationary(range(2023, 2024))
    with pytest.raises(YoujunError) as caught:
        project_enrolment(grades)
    assert caught.value.problems[0].code == "FORECAST_NO_HISTORY"
    assert "至少需要两个相邻年度" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda g: g.drop("grade_5"), "FORECAST_GRADES_COLUMNS", "缺少列"),
        (lambda g: g.with_columns(pl.lit(-1).alias("grade_2")), "FORECAST_GRADES_NEGATIVE", "负数"),
        (lambda g: pl.concat([g, g.head(1)]), "FORECAST_GRADES_DUPLICATE", "同一学校同一年度"),
        (lambda g: g.filter(pl.col("year") != 2021), "FORECAST_NO_HISTORY", "相邻年度"),
    ],
)
def test_unusable_grades_are_refused(change: object, code: str, words: str) -> None:
    grades = change(stationary(range(2020, 2023)))  # type: ignore[operator]
    with pytest.raises(YoujunError) as caught:
        project_enrolment(grades)
    assert caught.value.problems[0].code == code and words in str(caught.value)


def test_other_refusals() -> None:
    grades = stationary(range(2020, 2024))
    with pytest.raises(YoujunError, match="预测年数"):
        project_enrolment(grades, horizon=0)
    with pytest.raises(YoujunError, match="预测基年 2030"):
        project_enrolment(grades, base_year=2030)
    with pytest.raises(YoujunError, match="回测缺少实际数据的年度：2025"):
        backtest(grades, None, fit_until=2022, years_ahead=(1, 3))
    p = project_enrolment(grades, horizon=1)
    schools = pl.DataFrame(
        {"year": 2022, "school_id": ["a1"], "county_code": "340101", "students_primary": [1], "students_junior": [0]}
    )
    with pytest.raises(YoujunError, match="应为预测基年 2023 年"):
        projected_schools(schools, p)
