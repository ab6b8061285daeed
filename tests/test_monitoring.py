"""Annual monitoring (youjun.engine.monitoring): the series of the engine's figures over the years, their roll-ups,
and the early-warning rules of ``[monitoring]`` (decision 59).

Hidden-rule style: for constructed series, exactly the expected warnings at the expected levels, and none on a flat
series; a provincial variant that changes a rule changes the result; the series of real engine runs repeat the
engine's figures exactly and the roll-ups equal counts made independently here.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import frame, school
from test_guarantee import counties, county, good_school
from youjun.engine import assess, evaluate_resources
from youjun.engine.evaluate import ResourceEvaluation
from youjun.engine.monitoring import (
    INDICATOR_SCHEMA,
    WARNING_SCHEMA,
    Context,
    Series,
    series,
    stack,
    warnings,
)
from youjun.errors import Problem, YoujunError
from youjun.io.synth import generate
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet
from youjun.standards.sections import WARNING_RULES, warning_rules

RULES = load_rule_set("national-2017")
CODES = list(RULES.indicators)
COUNTY = "340207"
#: The conftest school evaluated once: an empty unit frame with the engine's columns.
EMPTY_UNITS = evaluate_resources(frame([school()]), RULES).units.clear()
HEADER = 'id = "test-province"\nextends = "national-2017"\nname = "测试省细则"\n'


def variant(tmp_path: Path, body: str) -> RuleSet:
    path = tmp_path / "province.toml"
    path.write_text(HEADER + body, encoding="utf-8")
    return load_rule_set(path)


def refused(tmp_path: Path, body: str) -> dict[str, Problem]:
    """The problems of a refused variant by dotted key, each attributed to a file of the chain."""
    path = tmp_path / "province.toml"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(YoujunError) as caught:
        load_rule_set(path)
    files = {"province.toml", "national-2017.toml"}
    assert all(p.code == "ruleset_invalid" and p.location.file in files for p in caught.value.problems)
    return {p.location.field or "": p for p in caught.value.problems}


# ---------------------------------------------------------------------------------------------------------------
# Constructed series: stage rows in the engine's own shape


def stage_rows(
    year: int,
    cvs: Mapping[str, Mapping[str, float | None]],
    *,
    county_code: str = COUNTY,
    units: int = 10,
    passed: int = 10,
) -> pl.DataFrame:
    """One engine stage row per stage of ``cvs`` (stage → code → CV; codes not given have CV 0.20)."""
    rows = []
    for stage, chosen in cvs.items():
        limit = RULES.balance.cv_limit[stage] if RULES.balance.cv_limit else math.nan
        row: dict[str, Any] = {
            "year": year,
            "county_code": county_code,
            "stage": stage,
            "county_name": "示例区",
            "units": units,
            "students": units * 500,
            "units_passed": passed,
        }
        for code in CODES:
            cv = chosen.get(code, 0.20)
            row[f"county_value_{code}"] = 5.0
            row[f"cv_{code}"] = cv
        row["cv_limit"] = limit
        for code in CODES:
            cv = row[f"cv_{code}"]
            row[f"cv_passed_{code}"] = cv is not None and cv <= limit * (1 + 1e-9)
            row[f"cv_boundary_{code}"] = False
        row["passed"] = passed == units and all(row[f"cv_passed_{c}"] for c in CODES)
        rows.append(row)
    schema = {"year": pl.Int64, "units": pl.UInt32, "units_passed": pl.UInt32, "students": pl.Int64}
    return pl.DataFrame(rows, schema_overrides=schema)


def fake_evaluation(stages: pl.DataFrame, units: pl.DataFrame = EMPTY_UNITS) -> ResourceEvaluation:
    """A resource evaluation whose stage rows are given (its units empty unless given)."""
    county_rows = stages.group_by("year", "county_code").agg(
        pl.col("county_name").first(),
        pl.col("units").sum(),
        pl.col("units_passed").sum(),
        pl.col("passed").all(),
    )
    return ResourceEvaluation(RULES, units, pl.DataFrame(), stages, pl.DataFrame(), county_rows)


def cv_series(values: Mapping[int, float | None], stage: str = "primary", code: str = "R3") -> Series:
    """One county whose ``stage`` ``code`` CV takes ``values`` by year (the other stage and codes flat at 0.20)."""
    other = "junior" if stage == "primary" else "primary"
    return series(
        {year: fake_evaluation(stage_rows(year, {stage: {code: cv}, other: {}})) for year, cv in values.items()}
    )


def found(result: pl.DataFrame) -> list[tuple[Any, ...]]:
    """The warnings as (year, stage, code, school, rule, level) tuples."""
    return result.select("year", "stage", "code", "school_id", "rule", "level").rows()


# ---------------------------------------------------------------------------------------------------------------
# The difference-coefficient rules


def test_a_cv_rising_toward_its_limit_is_rising_and_near() -> None:
    result = warnings(cv_series({2022: 0.44, 2023: 0.47, 2024: 0.49}), RULES)
    # 0.47 (2023) and 0.49 (2024) are both within 0.05 of 0.50; 2024 closes the second rise running.
    assert found(result) == [
        (2023, "primary", "R3", None, "cv_near_limit", "关注"),
        (2024, "primary", "R3", None, "cv_rising", "预警"),
        (2024, "primary", "R3", None, "cv_near_limit", "关注"),
    ]
    rising = result.filter(pl.col("rule") == "cv_rising").row(0, named=True)
    assert rising["message"] == "小学 R3 差异系数连续两年上升：0.440 → 0.470 → 0.490（限值 0.50）"
    assert (rising["value"], rising["limit"], rising["previous"]) == (0.49, 0.5, [0.44, 0.47])
    assert rising["severity"] == 1 and rising["rule_name"] == "差异系数连续上升"
    near = result.filter(pl.col("rule") == "cv_near_limit", pl.col("year") == 2024).row(0, named=True)
    assert near["message"] == "小学 R3 差异系数 0.490，距限值 0.50 不足 0.05"
    assert (near["value"], near["limit"], near["previous"], near["county_name"]) == (0.49, 0.5, [], "示例区")
    assert result.schema == pl.Schema(WARNING_SCHEMA)


def test_a_junior_cv_is_read_against_the_junior_limit() -> None:
    result = warnings(cv_series({2022: 0.30, 2023: 0.35, 2024: 0.41}, stage="junior", code="R5"), RULES)
    assert found(result) == [
        (2024, "junior", "R5", None, "cv_rising", "预警"),
        (2024, "junior", "R5", None, "cv_near_limit", "关注"),
    ]
    assert result["message"][0] == "初中 R5 差异系数连续两年上升：0.300 → 0.350 → 0.410（限值 0.45）"


def test_a_longer_run_names_its_length_and_every_value() -> None:
    result = warnings(cv_series({2020: 0.10, 2021: 0.12, 2022: 0.15, 2023: 0.19}), RULES)
    assert found(result) == [
        (2022, "primary", "R3", None, "cv_rising", "预警"),
        (2023, "primary", "R3", None, "cv_rising", "预警"),
    ]
    last = result.row(1, named=True)
    assert last["message"] == "小学 R3 差异系数连续三年上升：0.100 → 0.120 → 0.150 → 0.190（限值 0.50）"
    assert last["previous"] == [0.10, 0.12, 0.15]


def test_a_cv_over_its_limit_is_not_near_it_and_a_fall_breaks_the_run() -> None:
    assert found(warnings(cv_series({2022: 0.30, 2023: 0.52}), RULES)) == []
    assert found(warnings(cv_series({2021: 0.20, 2022: 0.30, 2023: 0.25, 2024: 0.28}), RULES)) == []


def test_a_missing_year_breaks_every_comparison() -> None:
    # Rising every year reported, but 2022 is missing: 2023 starts a new run, 2024 has only one rise.
    assert found(warnings(cv_series({2020: 0.10, 2021: 0.20, 2023: 0.30, 2024: 0.40}), RULES)) == []


def test_an_undefined_cv_warns_of_nothing() -> None:
    assert found(warnings(cv_series({2022: 0.30, 2023: None, 2024: 0.49}), RULES)) == [
        (2024, "primary", "R3", None, "cv_near_limit", "关注")
    ]


# ---------------------------------------------------------------------------------------------------------------
# The per-school rules, on real engine runs


def years_of(schools_by_year: Mapping[int, list[dict[str, Any]]], rules: RuleSet = RULES) -> Series:
    return series(
        {y: evaluate_resources(frame([{**s, "year": y} for s in rows]), rules) for y, rows in schools_by_year.items()}
    )


GOOD = [school(school_id="3402070001", school_name="示例一小"), school(school_id="3402070002", school_name="示例二小")]
WEAK = [GOOD[0], school(school_id="3402070002", school_name="示例二小", backbone_teachers_primary=4)]


def test_a_school_failing_after_passing_warns_for_that_school_and_the_county() -> None:
    result = warnings(years_of({2023: GOOD, 2024: WEAK}), RULES)
    assert found(result) == [
        (2024, "primary", None, None, "units_passing_falling", "预警"),
        (2024, "primary", "R2", "3402070002", "unit_first_below", "关注"),
    ]
    falling, below = result.rows(named=True)
    assert falling["message"] == "小学达到校际均衡指标要求的学校单元比例下降：100.00%（2/2）→ 50.00%（1/2）"
    assert (falling["value"], falling["previous"]) == (0.5, [1.0])
    assert below["message"] == "示例二小（小学）R2 骨干教师 0.80，低于标准 1；上年 1.60，达标"
    assert (below["value"], below["limit"], below["previous"]) == (0.8, 1.0, [1.6])
    assert below["school_name"] == "示例二小" and below["county_name"] == "示例区"


def test_a_school_still_failing_is_not_below_for_the_first_time() -> None:
    result = warnings(years_of({2022: GOOD, 2023: WEAK, 2024: WEAK}), RULES)
    assert [r[0] for r in found(result)] == [2023, 2023]


def test_the_count_measure_ignores_a_closed_school() -> None:
    closed = {2023: [*GOOD, school(school_id="3402070003")], 2024: GOOD}
    assert found(warnings(years_of(closed), RULES)) == []  # share 3/3 → 2/2
    fewer = {2023: [*GOOD, school(school_id="3402070003")], 2024: WEAK}
    share = warnings(years_of(fewer), RULES).filter(pl.col("rule") == "units_passing_falling")
    assert share["message"].to_list() == ["小学达到校际均衡指标要求的学校单元比例下降：100.00%（3/3）→ 50.00%（1/2）"]


def test_a_flat_series_gives_no_warning() -> None:
    flat = years_of({2021: GOOD, 2022: GOOD, 2023: GOOD, 2024: GOOD})
    statuses = pl.DataFrame({"county_code": [COUNTY], "status": ["recognised"]})
    rotation = pl.DataFrame(
        {
            "year": [2021, 2022, 2023, 2024],
            "county_code": COUNTY,
            "rotation_eligible_teachers": 1000,
            "rotated_teachers": 150,
            "rotated_backbone_teachers": 40,
        }
    )
    schools = frame([{**s, "year": y, "max_class_size_primary": 42} for y in (2021, 2022, 2023, 2024) for s in GOOD])
    context = Context(statuses=statuses, schools=schools, rotation=rotation)
    assert warnings(flat, RULES, context).height == 0
    assert warnings(flat, RULES).height == 0


# ---------------------------------------------------------------------------------------------------------------
# School size, class size, rotation, 复查风险


def sized(students: int, **overrides: Any) -> dict[str, Any]:
    """A primary school of ``students`` meeting every standard (the conftest school scaled)."""
    k = students / 500
    counts = ("teachers", "qualified_teachers", "backbone_teachers", "pe_teachers", "music_teachers", "art_teachers")
    row = school(students_primary=students, **{f"{c}_primary": math.ceil(school()[f"{c}_primary"] * k) for c in counts})
    for key in ("teaching_aux_area", "indoor_sports_area", "outdoor_sports_area", "equipment_value"):
        row[key] = school()[key] * k
    row["multimedia_rooms"] = math.ceil(14 * k)
    row.update(overrides)
    return row


def test_a_school_crossing_2000_pupils_is_over_its_cap() -> None:
    flat = years_of({2023: GOOD, 2024: GOOD})
    rows = [
        sized(1990, year=2023, school_id="3402070009", school_name="示例九小"),
        sized(2010, year=2024, school_id="3402070009", school_name="示例九小"),
        # a nine-year school under its own cap of 2,500 both years
        sized(2400, year=2023, school_id="3402070010", school_name="示例十校", school_type="九年一贯制学校"),
        sized(2400, year=2024, school_id="3402070010", school_name="示例十校", school_type="九年一贯制学校"),
    ]
    result = warnings(flat, RULES, Context(schools=frame(rows)))
    assert found(result) == [(2024, None, "G4", "3402070009", "school_size", "预警")]
    row = result.row(0, named=True)
    assert row["message"] == "示例九小（小学）义务教育阶段在校生 2,010 人，超过规模上限 2,000 人；上年 1,990 人"
    assert (row["value"], row["limit"], row["previous"]) == (2010.0, 2000.0, [1990.0])


def test_without_a_school_frame_the_evaluated_units_give_the_school_size() -> None:
    big = {2023: [sized(1990, school_id="3402070009", school_name="示例九小")]}
    big[2024] = [sized(2010, school_id="3402070009", school_name="示例九小")]
    result = warnings(years_of(big), RULES)
    assert found(result) == [(2024, None, "G4", "3402070009", "school_size", "预警")]


def test_classes_over_45_and_50_are_large_classes() -> None:
    flat = years_of({2024: GOOD})
    rows = [
        school(year=2024, school_id="a", school_name="甲", max_class_size_primary=45),
        school(year=2024, school_id="b", school_name="乙", max_class_size_primary=46),
        school(
            year=2024,
            school_id="c",
            school_name="丙",
            school_type="九年一贯制学校",
            students_junior=300,
            max_class_size_primary=40,
            max_class_size_junior=51,
        ),
        school(year=2024, school_id="d", school_name="丁", students_junior=300, max_class_size_junior=50),
        # no junior pupils: a junior class size (a typing slip) is not read
        school(year=2024, school_id="e", school_name="戊", max_class_size_junior=60),
    ]
    result = warnings(flat, RULES, Context(schools=frame(rows)))
    assert found(result) == [
        (2024, "primary", "G5", "b", "class_size", "预警"),
        (2024, "junior", "G5", "c", "class_size", "预警"),
    ]
    assert result["message"].to_list() == [
        "乙（小学）最大班额 46 人，超过 45 人",
        "丙（初中）最大班额 51 人，超过 50 人",
    ]


def rotation_frame(*rows: tuple[int, int, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "year": 2024,
                "county_code": f"34020{i}",
                "rotation_eligible_teachers": eligible,
                "rotated_teachers": rotated,
                "rotated_backbone_teachers": backbone,
            }
            for i, (eligible, rotated, backbone) in enumerate(rows)
        ]
    )


def test_rotation_below_10_or_backbone_below_20_percent() -> None:
    flat = years_of({2024: GOOD})
    frame_ = rotation_frame((1000, 100, 20), (1000, 99, 30), (1000, 200, 39), (0, 0, 0), (1000, 0, 0))
    result = warnings(flat, RULES, Context(rotation=frame_))
    assert result.select("county_code", "code", "rule", "level").rows() == [
        ("340201", "G11", "rotation", "关注"),
        ("340202", "G11", "rotation", "关注"),
        ("340204", "G11", "rotation", "关注"),
    ]
    assert result["message"].to_list() == [
        "交流轮岗教师 99 人 ÷ 符合交流条件教师 1,000 人 = 9.90%，低于 10.00%",
        "其中骨干教师 39 人 ÷ 交流轮岗教师 200 人 = 19.50%，低于 20.00%",
        "交流轮岗教师 0 人 ÷ 符合交流条件教师 1,000 人 = 0.00%，低于 10.00%",
    ]
    assert result["limit"].to_list() == [0.1, 0.2, 0.1]


def test_a_recognised_or_pilot_county_failing_is_a_recheck_risk() -> None:
    passing = stage_rows(2022, {"primary": {}, "junior": {}})
    fails = {y: fake_evaluation(stage_rows(y, {"primary": {"R5": 0.55}, "junior": {}})) for y in (2023, 2024)}
    frames = series({2022: fake_evaluation(passing), **fails})
    statuses = pl.DataFrame({"county_code": [COUNTY, COUNTY], "status": ["pilot", "recognised"], "since": [None, 2024]})
    result = warnings(frames, RULES, Context(statuses=statuses)).filter(pl.col("rule") == "recheck_risk")
    # 2023: a pilot county; 2024: recognised too, and the rule's first status named.
    assert result.select("year", "level").rows() == [(2023, "警报"), (2024, "警报")]
    assert result["message"].to_list() == [
        "先行创建的县（区）2023 年未达标：资源配置，有复查风险",
        "已通过认定的县（区）2024 年未达标：资源配置，有复查风险",
    ]
    others = pl.DataFrame({"county_code": [COUNTY], "status": ["applying"]})
    assert warnings(frames, RULES, Context(statuses=others)).filter(pl.col("rule") == "recheck_risk").height == 0


def test_the_recheck_risk_names_every_failing_part_of_an_assessment() -> None:
    sheet = {2023: county(year=2023), 2024: county(year=2024, teacher_avg_salary=90_000.0, q8_verdict="不达标")}
    years = {y: assess(frame([good_school(year=y)]), counties([row]), RULES) for y, row in sheet.items()}
    frames = series(years)
    statuses = pl.DataFrame({"county_code": [COUNTY], "status": ["recognised"]})
    result = warnings(frames, RULES, Context(statuses=statuses))
    assert found(result) == [(2024, None, None, None, "recheck_risk", "警报")]
    assert result["message"][0] == "已通过认定的县（区）2024 年未达标：政府保障程度、教育质量，有复查风险"
    items = frames.items.filter(pl.col("year") == 2024, pl.col("status") == "not_met")
    assert items.select("part", "code").rows() == [("government_guarantee", "G8"), ("education_quality", "Q8")]
    # 2023: no social-recognition figures, so the verdict is undecided, and no part fails: no risk.
    assert frames.counties.select("year", "government_guarantee", "education_quality", "status").rows() == [
        (2023, "met", "met", "insufficient_data"),
        (2024, "not_met", "not_met", "not_met"),
    ]


def test_context_frames_without_their_columns_are_refused() -> None:
    flat = years_of({2024: GOOD})
    with pytest.raises(YoujunError, match="县（区）认定状态表缺少列：status"):
        warnings(flat, RULES, Context(statuses=pl.DataFrame({"county_code": [COUNTY]})))


# ---------------------------------------------------------------------------------------------------------------
# Rules and levels are data


RISING = {2022: 0.44, 2023: 0.47, 2024: 0.49}


def test_a_province_can_change_a_margin_or_switch_a_rule_off(tmp_path: Path) -> None:
    narrow = variant(tmp_path, "[monitoring.rules.cv_near_limit]\nmargin = 0.02\n")
    assert found(warnings(cv_series(RISING), narrow)) == [
        (2024, "primary", "R3", None, "cv_rising", "预警"),
        (2024, "primary", "R3", None, "cv_near_limit", "关注"),
    ]
    off = variant(tmp_path, "[monitoring.rules.cv_rising]\nenabled = false\n")
    assert [r[4] for r in found(warnings(cv_series(RISING), off))] == ["cv_near_limit", "cv_near_limit"]
    one_year = variant(tmp_path, '[monitoring.rules.cv_rising]\nyears = 1\nlevel = "警报"\n')
    assert [(r[0], r[4], r[5]) for r in found(warnings(cv_series(RISING), one_year))] == [
        (2023, "cv_rising", "警报"),
        (2023, "cv_near_limit", "关注"),
        (2024, "cv_rising", "警报"),
        (2024, "cv_near_limit", "关注"),
    ]
    assert (
        warnings(cv_series(RISING), one_year)["message"][0]
        == "小学 R3 差异系数连续一年上升：0.440 → 0.470（限值 0.50）"
    )
    steep = variant(tmp_path, "[monitoring.rules.cv_rising]\nmin_increase = 0.025\n")
    assert [r[4] for r in found(warnings(cv_series(RISING), steep))] == ["cv_near_limit", "cv_near_limit"]


def test_the_example_province_watches_from_further_below_the_limit() -> None:
    example = load_rule_set("example-province-2017")
    near = warnings(cv_series(RISING), example).filter(pl.col("rule") == "cv_near_limit")
    assert near["year"].to_list() == [2022, 2023, 2024]  # 0.44 is 0.06 from 0.50: within 0.08
    assert near["message"][0] == "小学 R3 差异系数 0.440，距限值 0.50 不足 0.08"


def test_a_province_can_add_a_rule_of_a_known_kind_and_its_own_levels(tmp_path: Path) -> None:
    body = (
        '[monitoring]\nlevels = ["提示", "关注", "预警", "警报"]\n'
        '[monitoring.rules.cv_close]\nkind = "cv_near_limit"\nname = "差异系数逼近限值"\n'
        'level = "预警"\nmargin = 0.02\n'
    )
    rules = variant(tmp_path, body)
    result = warnings(cv_series(RISING), rules)
    assert result.filter(pl.col("year") == 2024).select("rule", "level", "severity").rows() == [
        ("cv_rising", "预警", 2),
        ("cv_close", "预警", 2),
        ("cv_near_limit", "关注", 1),
    ]
    assert list(warning_rules(rules.sections["monitoring"], rules.stages).rules)[-1] == "cv_close"


def test_a_rule_set_without_monitoring_warns_of_nothing() -> None:
    bare = replace(RULES, sections={k: v for k, v in RULES.sections.items() if k != "monitoring"})
    assert warnings(cv_series(RISING), bare).height == 0
    assert "monitoring" not in load_rule_set("basic-2012").sections


def test_mistakes_in_the_monitoring_section_are_refused_with_their_key(tmp_path: Path) -> None:
    body = (
        '[monitoring.rules.cv_near_limit]\nmargn = 0.03\nlevel = "提醒"\n'
        "[monitoring.rules.cv_rising]\nyears = 0\n"
        '[monitoring.rules.school_size]\nmax_students = { single_stage = 2000, multi_stage = "2500" }\n'
        '[monitoring.rules.recheck_risk]\nparts = ["resources"]\n'
        '[monitoring.rules.extra]\nkind = "cv_falling"\n'
        '[monitoring.rules.Big]\nkind = "unit_first_below"\nname = "x"\nlevel = "关注"\n'
    )
    problems = refused(tmp_path, body)
    assert {p.location.file for p in problems.values()} == {"province.toml"}
    assert set(problems) == {
        "monitoring.rules.cv_near_limit.margn",
        "monitoring.rules.cv_near_limit.level",
        "monitoring.rules.cv_rising.years",
        "monitoring.rules.school_size.max_students.multi_stage",
        "monitoring.rules.recheck_risk.parts[0]",
        "monitoring.rules.extra.kind",
        "monitoring.rules.Big",
    }
    assert "margin" in problems["monitoring.rules.cv_near_limit.margn"].message
    assert problems["monitoring.rules.cv_near_limit.level"].message == "应为 levels 中的一级（关注、预警、警报）"
    assert problems["monitoring.rules.extra.kind"].message.startswith("预警规则类型应为：cv_near_limit")


def test_levels_must_be_unique_and_cover_the_rules(tmp_path: Path) -> None:
    problems = refused(tmp_path, '[monitoring]\nlevels = ["关注", "关注"]\n')
    assert set(problems) == {"monitoring.levels"}
    problems = refused(tmp_path, '[monitoring]\nlevels = ["关注", "预警"]\n')
    assert set(problems) == {"monitoring.rules.recheck_risk.level"}  # 警报 is no longer a level
    assert problems["monitoring.rules.recheck_risk.level"].location.value == "'警报'"


def test_the_national_rules_cover_every_kind_and_come_from_the_file() -> None:
    parsed = warning_rules(RULES.sections["monitoring"], RULES.stages)
    assert parsed.levels == ("关注", "预警", "警报")
    assert {rule.kind for rule in parsed.rules.values()} == set(WARNING_RULES)
    size = RULES.sections["monitoring"]["rules"]["school_size"]
    assert size["max_students"] == RULES.sections["guarantee"]["G4"]["max_students"]  # the G4 caps
    assert RULES.sections["monitoring"]["rules"]["class_size"]["max_class_size"] == {"primary": 45, "junior": 50}


# ---------------------------------------------------------------------------------------------------------------
# Properties


def reference_rising(values: Mapping[int, float | None], years: int) -> set[int]:
    """The years closing ``years`` or more consecutive calendar-year rises (the rule, read plainly)."""
    out = set()
    for year in values:
        run = 0
        while (
            values.get(year - run) is not None
            and values.get(year - run - 1) is not None
            and values[year - run] > values[year - run - 1]  # type: ignore[operator]
        ):
            run += 1
        if run >= years:
            out.add(year)
    return out


cvs = st.one_of(st.none(), st.sampled_from([0.10, 0.15, 0.20, 0.25, 0.30, 0.35]))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(2015, 2024), cvs, min_size=1, max_size=8), st.integers(1, 3))
def test_the_rising_rule_matches_its_plain_reading(values: dict[int, float | None], years: int) -> None:
    rules = replace(RULES, sections={**RULES.sections, "monitoring": dict(RULES.sections["monitoring"])})
    section = rules.sections["monitoring"]
    section["rules"] = {"cv_rising": {**section["rules"]["cv_rising"], "years": years}}
    result = warnings(cv_series(values), rules)
    assert set(result["year"].to_list()) == reference_rising(values, years)
    assert set(result["rule"].to_list()) <= {"cv_rising"}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(0.0, 0.44), min_size=14, max_size=14),
    st.sets(st.integers(2015, 2024), min_size=1, max_size=6),
)
def test_any_flat_series_within_the_margin_gives_no_warning(cv: list[float], years: set[int]) -> None:
    given_cvs = {"primary": dict(zip(CODES, cv[:7], strict=True)), "junior": dict(zip(CODES, cv[7:], strict=True))}
    given_cvs["junior"] = {k: min(v, 0.39) for k, v in given_cvs["junior"].items()}  # junior limit 0.45
    frames = series({y: fake_evaluation(stage_rows(y, given_cvs)) for y in years})
    assert warnings(frames, RULES).height == 0


# ---------------------------------------------------------------------------------------------------------------
# The series of real engine runs


@pytest.fixture(scope="module")
def synthetic() -> dict[int, ResourceEvaluation]:
    """Twenty counties of one province over three years, a seed per year."""
    return {
        y: evaluate_resources(generate(20, seed=40 + y, year=y, province="34").schools, RULES)
        for y in (2022, 2023, 2024)
    }


def test_series_repeat_the_engine_figures_exactly(synthetic: dict[int, ResourceEvaluation]) -> None:
    frames = series(stack(synthetic))
    assert frames.indicators.schema == pl.Schema(INDICATOR_SCHEMA)
    indexed = {
        (r["year"], r["county_code"], r["stage"], r["indicator"]): r for r in frames.indicators.iter_rows(named=True)
    }
    expected = sum(ev.stages.height for ev in synthetic.values()) * len(CODES)
    assert len(indexed) == frames.indicators.height == expected
    for year, ev in synthetic.items():
        units = ev.units
        for stage_row in ev.stages.iter_rows(named=True):
            for code in CODES:
                row = indexed[(year, stage_row["county_code"], stage_row["stage"], code)]
                assert row["county_value"] == stage_row[f"county_value_{code}"]
                assert row["cv"] == stage_row[f"cv_{code}"]
                assert row["cv_limit"] == stage_row["cv_limit"]
                assert row["cv_passed"] == stage_row[f"cv_passed_{code}"]
                assert (row["units"], row["units_passed"]) == (stage_row["units"], stage_row["units_passed"])
                mine = units.filter(
                    pl.col("county_code") == stage_row["county_code"], pl.col("stage") == stage_row["stage"]
                )
                assert row["units_met"] == mine[f"met_{code}"].sum()
                assert row["shortfall"] == pytest.approx(mine[f"shortfall_{code}"].fill_null(0).sum(), rel=1e-12)
    assert (
        frames.counties.select("year", "county_code", "passed").rows()
        == pl.concat([ev.counties.select("year", "county_code", "passed") for ev in synthetic.values()]).rows()
    )


def test_units_in_any_order_give_the_same_series(synthetic: dict[int, ResourceEvaluation]) -> None:
    stacked = stack(synthetic)
    shuffled = replace(stacked, units=stacked.units.sample(fraction=1.0, shuffle=True, seed=3))
    mine, theirs = series(stacked).indicators, series(shuffled).indicators
    assert mine.drop("shortfall").equals(theirs.drop("shortfall"))
    assert ((mine["shortfall"] - theirs["shortfall"]).abs() <= 1e-9 * mine["shortfall"].abs().max()).all()


def test_roll_ups_equal_counts_made_independently(synthetic: dict[int, ResourceEvaluation]) -> None:
    frames = series(synthetic)
    groups: dict[tuple[str, str, int, str, str], list[dict[str, Any]]] = defaultdict(list)
    for year, ev in synthetic.items():
        for row in ev.stages.iter_rows(named=True):
            code6 = row["county_code"]
            regions = {"nation": "000000", "province": code6[:2] + "0000", "prefecture": code6[:4] + "00"}
            for level, region in regions.items():
                for code in CODES:
                    groups[(level, region, year, row["stage"], code)].append({**row, "code": code})
    assert frames.regions.height == len(groups)
    assert frames.regions.filter(pl.col("level") == "prefecture")["region_code"].n_unique() >= 2
    for row in frames.regions.iter_rows(named=True):
        rows = groups[(row["level"], row["region_code"], row["year"], row["stage"], row["indicator"])]
        code = row["indicator"]
        passed = sum(1 for r in rows if r[f"cv_passed_{code}"])
        defined = [r[f"cv_{code}"] for r in rows if r[f"cv_{code}"] is not None]
        assert (row["counties"], row["passed"], row["failed"]) == (len(rows), passed, len(rows) - passed)
        assert row["undefined"] == len(rows) - len(defined)
        assert row["cv_mean"] == pytest.approx(statistics.fmean(defined), rel=1e-12)
        assert row["cv_median"] == pytest.approx(statistics.median(defined), rel=1e-12)
        assert row["units"] == sum(r["units"] for r in rows)
        assert row["units_passed"] == sum(r["units_passed"] for r in rows)
        assert row["students"] == sum(r["students"] for r in rows)
        weighted = sum(r[f"county_value_{code}"] * r["students"] for r in rows) / row["students"]
        assert row["value"] == pytest.approx(weighted, rel=1e-12)
    counties_by_region: dict[tuple[str, str, int], list[bool]] = defaultdict(list)
    for year, ev in synthetic.items():
        for c in ev.counties.iter_rows(named=True):
            for level, region in (
                ("nation", "000000"),
                ("province", "340000"),
                ("prefecture", c["county_code"][:4] + "00"),
            ):
                counties_by_region[(level, region, year)].append(c["passed"])
    rolled = {(r["level"], r["region_code"], r["year"]): r for r in frames.region_counties.iter_rows(named=True)}
    assert set(rolled) == set(counties_by_region)
    for key, passes in counties_by_region.items():
        assert (rolled[key]["counties"], rolled[key]["resources_passed"]) == (len(passes), sum(passes))
        assert rolled[key]["assessed"] == 0


def test_item_roll_ups_count_every_status() -> None:
    data = {y: generate(6, seed=90 + y, year=y, province="34") for y in (2023, 2024)}
    frames = series({y: assess(d.schools, d.counties, RULES) for y, d in data.items()})
    nation = frames.region_items.filter(pl.col("level") == "nation")
    expected = frames.items.group_by("year", "part", "code").agg(
        pl.len().alias("n"), (pl.col("status") == "not_met").sum().alias("bad")
    )
    joined = nation.join(expected, on=["year", "part", "code"])
    assert joined.height == nation.height == expected.height
    assert (joined["counties"] == joined["n"]).all() and (joined["not_met"] == joined["bad"]).all()
    assert (nation["met"] + nation["not_met"] + nation["insufficient_data"] == nation["counties"]).all()
    verdicts = frames.region_counties.filter(pl.col("level") == "nation")
    assert verdicts["assessed"].to_list() == [6, 6]


def test_a_year_with_another_years_rows_is_refused(synthetic: dict[int, ResourceEvaluation]) -> None:
    with pytest.raises(YoujunError, match="2025 年的评估结果中含有其他年度（2024）的数据"):
        stack({2025: synthetic[2024]})


def test_warning_rules_are_left_out_of_the_rule_sets_digest(tmp_path: Path) -> None:
    """Tuning a warning rule leaves stored results current; changing a limit does not."""
    from youjun.standards import load_rule_set

    head = 'id = "province"\nname = "某省规则"\nextends = "national-2017"\n\n'
    variants = {
        "plain": "",
        "tuned": "[monitoring.rules.cv_near_limit]\nmargin = 0.08\n",
        "stricter": "[balance.cv_limit]\nprimary = 0.45\n",
    }
    digests = {}
    for name, body in variants.items():
        (tmp_path / name).mkdir()
        path = tmp_path / name / "province.toml"
        path.write_text(head + body, encoding="utf-8")
        digests[name] = load_rule_set(path).digest
    assert load_rule_set(tmp_path / "tuned" / "province.toml").sections["monitoring"]["rules"]["cv_near_limit"][
        "margin"
    ] == pytest.approx(0.08)
    assert digests["tuned"] == digests["plain"] != digests["stricter"]
