"""The full assessment: S1 and eligibility at their thresholds, vetoes, the verdict and its ranked reasons, and the
new sections of the evaluation JSON (docs/assessment-json.md)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from conftest import frame
from test_guarantee import counties, county, good_school
from youjun.engine import assess
from youjun.engine.assessment import CONCLUSIONS, PARTS, Assessment
from youjun.io.evaluation_json import to_dict, write_json
from youjun.io.synth import generate
from youjun.standards.model import RuleSet

MET, NOT_MET, INSUFFICIENT = "met", "not_met", "insufficient_data"
CLEAR = {f"v{i}_finding": "不存在" for i in range(1, 7)}


def full_county(**overrides: Any) -> dict[str, Any]:
    """A county row meeting every county-level item, with a survey at 90 % and every veto checked and clear."""
    return county(**{"recognition_valid": 1000, "recognition_positive": 900, **CLEAR, **overrides})


def two_schools() -> pl.DataFrame:
    """Two identical good schools: every unit passes, every CV is 0, every school item is met."""
    return frame([good_school(), good_school(school_id="3402070002", school_name="示例二小")])


def run(rules: RuleSet, schools: pl.DataFrame | None = None, **overrides: Any) -> Assessment:
    return assess(two_schools() if schools is None else schools, counties([full_county(**overrides)]), rules)


def verdict(a: Assessment) -> dict[str, Any]:
    assert a.verdict.height == 1
    return a.verdict.row(0, named=True)


def reasons(a: Assessment) -> list[dict[str, Any]]:
    return a.reasons.to_dicts()


def s1(a: Assessment) -> dict[str, Any]:
    return a.recognition.row(0, named=True)


def test_a_county_meeting_everything_reaches_the_standard(national: RuleSet) -> None:
    a = run(national)
    v = verdict(a)
    assert {p: v[p] for p in PARTS} == dict.fromkeys(PARTS, MET)
    assert (v["status"], v["conclusion"]) == (MET, "达到优质均衡发展标准")
    assert reasons(a) == []


@pytest.mark.parametrize(
    ("valid", "positive", "expected"),
    [(1000, 850, MET), (1000, 849, NOT_MET), (100_000, 84_999, NOT_MET), (600, 600, MET), (20, 17, MET)],
)
def test_recognition_at_and_just_below_85_percent(national: RuleSet, valid: int, positive: int, expected: str) -> None:
    a = run(national, recognition_valid=valid, recognition_positive=positive)
    assert s1(a)["status"] == expected
    assert s1(a)["value"] == positive / valid
    v7 = a.vetoes.items.filter(pl.col("code") == "V7").row(0, named=True)
    assert v7["status"] == expected  # V7 follows S1: vetoed exactly when S1 is not met
    assert verdict(a)["status"] == expected


def test_recognition_threshold_comes_from_the_rule_set(national: RuleSet) -> None:
    from dataclasses import replace

    stricter = replace(national, sections={**national.sections, "recognition": {**national.sections["recognition"]}})
    stricter.sections["recognition"]["threshold"] = 0.9
    assert s1(run(stricter, recognition_valid=1000, recognition_positive=899))["status"] == NOT_MET
    assert s1(run(stricter, recognition_valid=1000, recognition_positive=900))["status"] == MET


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"recognition_valid": None, "recognition_positive": None}, "数据不足：缺少「社会认可度调查有效回答数」"),
        ({"recognition_positive": None}, "数据不足：缺少「社会认可度调查认可回答数」"),
        ({"recognition_valid": 0, "recognition_positive": 0}, "无法计算"),
        ({"recognition_valid": 100, "recognition_positive": 101}, "认可回答数大于有效回答数，无法计算"),
    ],
)
def test_recognition_without_usable_counts_is_insufficient(
    national: RuleSet, overrides: dict[str, Any], detail: str
) -> None:
    a = run(national, **overrides)
    assert s1(a)["status"] == INSUFFICIENT
    assert detail in s1(a)["detail"]
    assert verdict(a)["status"] == INSUFFICIENT  # never a silent pass


def test_a_weighted_survey_rate_takes_precedence_over_the_counts(national: RuleSet) -> None:
    a = run(national, recognition_valid=None, recognition_positive=None, recognition_rate=0.8499)
    assert (s1(a)["status"], s1(a)["value"]) == (NOT_MET, 0.8499)
    assert "按群体加权的社会认可度 84.99%" in s1(a)["detail"]
    assert s1(run(national, recognition_valid=1000, recognition_positive=10, recognition_rate=0.86))["status"] == MET


@pytest.mark.parametrize(
    ("recognised", "expected"), [(2021, MET), (2022, NOT_MET), (2024, NOT_MET), (None, INSUFFICIENT)]
)
def test_eligibility_needs_three_calendar_years_since_basic_balance(
    national: RuleSet, recognised: int | None, expected: str
) -> None:
    a = run(national, basic_balance_year=recognised)
    assert verdict(a)["eligibility"] == expected
    if expected == NOT_MET:
        first = reasons(a)[0]
        assert (first["part"], first["ref"]) == ("eligibility", "verdict/eligibility")
        assert first["message"].startswith("申报资格：")


@pytest.mark.parametrize("code", ["V1", "V2", "V3", "V4", "V5", "V6"])
def test_any_veto_found_fails_the_county_and_ranks_first(national: RuleSet, code: str) -> None:
    # A county also failing a guarantee item and the survey: the veto still comes first.
    a = run(national, **{f"{code.lower()}_finding": "存在", "g1_verdict": "不达标"})
    v = verdict(a)
    assert (v["vetoes"], v["status"]) == (NOT_MET, NOT_MET)
    first = reasons(a)[0]
    assert (first["rank"], first["part"], first["code"], first["ref"]) == (1, "vetoes", code, f"vetoes/{code}")
    assert "核查结论：存在" in first["message"]
    assert [r["code"] for r in reasons(a)] == [code, "G1"]


def test_an_unchecked_veto_leaves_the_verdict_open(national: RuleSet) -> None:
    a = run(national, v3_finding=None)
    assert (verdict(a)["vetoes"], verdict(a)["status"]) == (INSUFFICIENT, INSUFFICIENT)
    assert verdict(a)["conclusion"] == CONCLUSIONS[INSUFFICIENT]
    assert [(r["code"], r["status"]) for r in reasons(a)] == [("V3", INSUFFICIENT)]


def test_what_fails_ranks_before_what_is_unknown(national: RuleSet) -> None:
    a = run(national, g2_verdict="待补充", q7_verdict="不达标", recognition_valid=1000, recognition_positive=800)
    ranked = [(r["rank"], r["part"], r["code"], r["status"]) for r in reasons(a)]
    assert ranked == [
        (1, "vetoes", "V7", NOT_MET),
        (2, "education_quality", "Q7", NOT_MET),
        (3, "social_recognition", "S1", NOT_MET),
        (4, "government_guarantee", "G2", INSUFFICIENT),
    ]


def test_resource_reasons_name_the_units_and_the_coefficients(national: RuleSet) -> None:
    poor = good_school(school_id="3402070003", school_name="示例三小", multimedia_rooms=0, equipment_value=10_000.0)
    schools = frame([good_school(), good_school(school_id="3402070002", school_name="示例二小"), poor])
    a = run(national, schools)
    assert verdict(a)["resource_allocation"] == NOT_MET
    found = {r["ref"]: r for r in reasons(a) if r["part"] == "resource_allocation"}
    assert found["resource_allocation/units"]["message"] == "资源配置：3 个学校单元中 1 个未达到校际均衡指标要求"
    assert "resource_allocation/primary/R7" in found
    assert re.fullmatch(
        r"资源配置：小学 R7 多媒体教室差异系数 \d\.\d{3}，超过 0\.50",
        found["resource_allocation/primary/R7"]["message"],
    )


def test_a_county_sheet_without_schools_cannot_be_judged_on_resources(national: RuleSet) -> None:
    a = assess(frame([]), counties([full_county()]), national)
    assert verdict(a)["resource_allocation"] == INSUFFICIENT
    assert verdict(a)["status"] == INSUFFICIENT
    first = reasons(a)[0]  # every school item is unknown too; the resource part comes first among them
    assert (first["ref"], first["message"]) == (
        "resource_allocation/units",
        "资源配置：学校表中无本县（区）学校，无法评估",
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([MET, NOT_MET, INSUFFICIENT]), min_size=6, max_size=6))
def test_verdict_is_the_strictest_part(national: RuleSet, parts: list[str]) -> None:
    """Drive each part to a status through its inputs; the verdict is not_met > insufficient > met."""
    survey = {MET: (1000, 900), NOT_MET: (1000, 800), INSUFFICIENT: (None, None)}
    overrides: dict[str, Any] = {
        "basic_balance_year": {MET: 2015, NOT_MET: 2023, INSUFFICIENT: None}[parts[0]],
        "g10_verdict": {MET: "达标", NOT_MET: "不达标", INSUFFICIENT: "待补充"}[parts[2]],
        "q8_verdict": {MET: "达标", NOT_MET: "不达标", INSUFFICIENT: None}[parts[3]],
        "v2_finding": {MET: "不存在", NOT_MET: "存在", INSUFFICIENT: None}[parts[5]],
    }
    overrides["recognition_valid"], overrides["recognition_positive"] = survey[parts[4]]
    schools = {
        MET: two_schools(),
        NOT_MET: frame([good_school(), good_school(school_id="3402070002", multimedia_rooms=0)]),
        INSUFFICIENT: frame([]),
    }[parts[1]]
    v = verdict(run(national, schools, **overrides))
    expected_parts = list(parts)
    if parts[4] == NOT_MET:  # V7 follows S1
        expected_parts[5] = NOT_MET
    elif parts[4] == INSUFFICIENT and parts[5] == MET:
        expected_parts[5] = INSUFFICIENT
    if parts[1] == INSUFFICIENT:  # no school: the school items cannot be judged either
        expected_parts[2] = NOT_MET if parts[2] == NOT_MET else INSUFFICIENT
        expected_parts[3] = NOT_MET if parts[3] == NOT_MET else INSUFFICIENT
    assert [v[p] for p in PARTS] == expected_parts
    strictest = NOT_MET if NOT_MET in expected_parts else INSUFFICIENT if INSUFFICIENT in expected_parts else MET
    assert v["status"] == strictest


def test_a_part_without_any_item_is_never_a_silent_pass(national: RuleSet) -> None:
    from dataclasses import replace

    empty = replace(national, sections={**national.sections, "quality": {}})
    v = verdict(run(empty))
    assert (v["education_quality"], v["status"]) == (INSUFFICIENT, INSUFFICIENT)
    assert v["government_guarantee"] == MET


@pytest.mark.parametrize(
    ("failing", "unknown"),
    [("g1_verdict", "q5_verdict"), ("q5_verdict", "g1_verdict"), ("v1_finding", "g2_verdict")],
)
def test_a_failing_part_outranks_an_unknown_one(national: RuleSet, failing: str, unknown: str) -> None:
    fail = "存在" if failing.endswith("finding") else "不达标"
    v = verdict(run(national, **{failing: fail, unknown: "待补充"}))
    assert (v["status"], v["conclusion"]) == (NOT_MET, "未达到优质均衡发展标准")


# ---------------------------------------------------------------------------------------------------------------
# JSON


def test_json_sections_follow_the_documented_shape(national: RuleSet) -> None:
    doc = to_dict(run(national, g1_verdict="不达标", v5_finding=None))
    c = doc["counties"][0]
    assert list(c)[3:] == [
        "resource_allocation",
        "government_guarantee",
        "education_quality",
        "social_recognition",
        "vetoes",
        "verdict",
    ]
    g = c["government_guarantee"]
    assert (g["status"], g["passed"], g["met"], g["not_met"], g["insufficient_data"], g["total"]) == (
        NOT_MET,
        False,
        14,
        1,
        0,
        15,
    )
    assert [i["code"] for i in g["items"]] == [f"G{i}" for i in range(1, 16)]
    g3 = g["items"][2]
    assert set(g3) == {
        "code",
        "name",
        "kind",
        "status",
        "value",
        "threshold",
        "detail",
        "boundary",
        "inputs",
        "schools",
    }
    assert g3["schools"] == [] and g3["inputs"]["schools"] == 2
    assert c["education_quality"]["total"] == 9 and c["education_quality"]["passed"] is True
    s = c["social_recognition"]
    assert (s["code"], s["status"], s["valid"], s["positive"], s["value"], s["threshold"]) == (
        "S1",
        MET,
        1000,
        900,
        0.9,
        0.85,
    )
    v = c["vetoes"]
    assert (v["status"], v["found"], len(v["items"])) == (INSUFFICIENT, 0, 7)
    assert {i["code"]: i["vetoed"] for i in v["items"]}["V5"] is None
    assert {i["code"]: i["vetoed"] for i in v["items"]}["V1"] is False
    verdict_ = c["verdict"]
    assert verdict_["conclusion"] == "未达到优质均衡发展标准"
    assert verdict_["parts"]["government_guarantee"] == NOT_MET
    assert verdict_["eligibility"] == {
        "status": MET,
        "basic_balance_year": 2018,
        "years": 6,
        "min_years": 3,
        "detail": "2018 年通过国家基本均衡认定，距评估年度 6 年（要求不少于 3 年），达标",
    }
    assert [(r["rank"], r["code"], r["ref"]) for r in verdict_["reasons"]] == [
        (1, "G1", "government_guarantee/G1"),
        (2, "V5", "vetoes/V5"),
    ]


def test_failing_schools_are_listed_under_their_item(national: RuleSet) -> None:
    schools = frame(
        [good_school(), good_school(school_id="3402070002", school_name="大班额小学", max_class_size_primary=46)]
    )
    c = to_dict(run(national, schools))["counties"][0]
    g5 = next(i for i in c["government_guarantee"]["items"] if i["code"] == "G5")
    assert g5["status"] == NOT_MET
    assert [(s["school_id"], s["school_name"], s["status"]) for s in g5["schools"]] == [
        ("3402070002", "大班额小学", NOT_MET)
    ]


def test_json_is_consistent_with_the_frames_at_province_scale(national: RuleSet) -> None:
    data = generate(6, seed=21, year=2024, province="34")
    a = assess(data.schools, data.counties, national)
    buffer = io.BytesIO()
    write_json(a, buffer)
    doc = json.loads(buffer.getvalue())
    assert len(doc["counties"]) == a.verdict.height == 6
    for c in doc["counties"]:
        row = a.verdict.filter(pl.col("county_code") == c["county_code"]).row(0, named=True)
        assert c["verdict"]["status"] == row["status"]
        ranks = [r["rank"] for r in c["verdict"]["reasons"]]
        assert ranks == list(range(1, len(ranks) + 1))
        for section in ("government_guarantee", "education_quality"):
            s = c[section]
            assert s["met"] + s["not_met"] + s["insufficient_data"] == s["total"]
        failing = {(r["part"], r["code"]) for r in c["verdict"]["reasons"] if r["part"] == "government_guarantee"}
        assert failing == {
            ("government_guarantee", i["code"]) for i in c["government_guarantee"]["items"] if i["status"] != MET
        }


def test_without_a_county_sheet_the_json_keeps_only_resource_allocation(national: RuleSet) -> None:
    from youjun.engine import evaluate_resources

    doc = to_dict(evaluate_resources(two_schools(), national))
    assert list(doc["counties"][0])[3:] == ["resource_allocation"]
