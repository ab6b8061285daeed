"""Education quality Q1–Q9: every item at, just beyond and just inside its threshold, and with missing input;
the per-school drill-down of Q3, Q4, Q6 and counties missing from one of the two sheets."""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

import test_guarantee as shared
from conftest import frame
from test_guarantee import INSUFFICIENT, MET, NOT_MET, county, good_school, item, setting
from youjun.engine.quality import ItemEvaluation, evaluate_quality
from youjun.errors import YoujunError
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet


def evaluate(
    rules: RuleSet, schools: list[dict[str, Any]] | None = None, county_rows: list[dict[str, Any]] | None = None
) -> ItemEvaluation:
    return shared.evaluate(rules, schools, county_rows, evaluate_quality)


def status(rules: RuleSet, code: str, *, schools: list[dict[str, Any]] | None = None, **county_overrides: Any) -> str:
    return shared.status(
        rules, code, schools=schools, section="quality", evaluator=evaluate_quality, **county_overrides
    )


def school_status(rules: RuleSet, code: str, **overrides: Any) -> str:
    return status(rules, code, schools=[good_school(**overrides)])


# ---------------------------------------------------------------------------------------------------------------
# Shape and counties


def test_every_county_gets_every_quality_item_in_order(national: RuleSet) -> None:
    ev = evaluate(national)
    assert ev.items["code"].to_list() == [f"Q{i}" for i in range(1, 10)]
    assert set(ev.items["status"]) == {MET}, ev.items.filter(pl.col("status") != MET)
    assert item(ev, "Q5")["kind"] == "evidence"
    assert item(ev, "Q4")["kind"] == "school"
    assert item(ev, "Q9")["kind"] == "county"


def test_county_without_a_county_sheet_row_has_county_items_insufficient(national: RuleSet) -> None:
    other = good_school(school_id="3402080001", county_code="340208", county_name="邻区")
    ev = evaluate(national, [good_school(), other], [county()])
    rows = ev.items.filter(pl.col("county_code") == "340208")
    assert rows.height == 9
    assert set(rows.filter(pl.col("kind") != "school")["status"]) == {INSUFFICIENT}
    assert set(rows.filter(pl.col("kind") == "school")["status"]) == {MET}


def test_no_county_sheet_leaves_county_items_insufficient(national: RuleSet) -> None:
    ev = evaluate_quality(frame([good_school()]), None, national)
    assert set(ev.items.filter(pl.col("kind") != "school")["status"]) == {INSUFFICIENT}


def test_county_without_schools_has_school_items_insufficient(national: RuleSet) -> None:
    ev = evaluate(national, [], [county()])
    assert set(ev.items.filter(pl.col("kind") == "school")["status"]) == {INSUFFICIENT}
    assert set(ev.items.filter(pl.col("kind") != "school")["status"]) == {MET}
    assert ev.schools.height == 0


# ---------------------------------------------------------------------------------------------------------------
# Q1 retention, Q2 disabled children


@pytest.mark.parametrize(
    ("graduates", "expected"),
    [(950, MET), (949, NOT_MET), (951, MET), (None, INSUFFICIENT)],
    ids=["at", "below", "above", "missing"],
)
def test_q1_retention_at_least_95_percent(national: RuleSet, graduates: int | None, expected: str) -> None:
    # (graduates − 10 in + 10 out) ÷ (1000 − 0 deaths)
    result = status(
        national,
        "Q1",
        junior_graduates=graduates,
        junior_transfer_in=10,
        junior_transfer_out=10,
        grade7_enrolment=1000,
        junior_deaths=0,
    )
    assert result == expected


def test_q1_transfers_and_deaths_adjust_the_cohort(national: RuleSet) -> None:
    # (931 − 30 + 40) ÷ (1000 − 10) = 941 / 990 = 95.05 %; without the adjustments 93.1 %
    base: dict[str, Any] = dict(
        junior_graduates=931, junior_transfer_in=30, junior_transfer_out=40, grade7_enrolment=1000
    )
    assert status(national, "Q1", **base, junior_deaths=10) == MET
    ev = evaluate(national, county_rows=[county(**base, junior_deaths=10)])
    assert item(ev, "Q1")["value"] == pytest.approx(941 / 990)
    assert json.loads(item(ev, "Q1")["inputs"])["junior_deaths"] == 10


def test_q1_empty_cohort_is_insufficient(national: RuleSet) -> None:
    assert status(national, "Q1", grade7_enrolment=5, junior_deaths=5) == INSUFFICIENT


@pytest.mark.parametrize(
    ("enrolled", "children", "expected"),
    [(95, 100, MET), (94, 100, NOT_MET), (96, 100, MET), (None, 100, INSUFFICIENT), (0, 0, INSUFFICIENT)],
    ids=["at", "below", "above", "missing", "no_children"],
)
def test_q2_disabled_children_enrolment_at_least_95_percent(
    national: RuleSet, enrolled: int | None, children: int, expected: str
) -> None:
    assert status(national, "Q2", disabled_enrolled=enrolled, disabled_children=children) == expected


def test_q2_detail_shows_the_rate(national: RuleSet) -> None:
    ev = evaluate(national, county_rows=[county(disabled_enrolled=1_140, disabled_children=1_200)])
    assert item(ev, "Q2")["detail"] == (
        "入学（含随班就读、特教学校、送教上门）1,140 人 ÷ 适龄残疾儿童少年 1,200 人 = 95.00%（要求不低于 95.00%），达标"
    )


# ---------------------------------------------------------------------------------------------------------------
# Q3 charter and ICT, Q4 training funds, Q6 moral education


@pytest.mark.parametrize(
    ("answer", "expected"), [("是", MET), ("否", NOT_MET), (None, INSUFFICIENT)], ids=["yes", "no", "missing"]
)
def test_q3_every_school_has_a_charter_and_ict(national: RuleSet, answer: str | None, expected: str) -> None:
    assert school_status(national, "Q3", has_charter_ict=answer) == expected


@pytest.mark.parametrize(
    ("training", "budget", "expected"),
    [
        (20_000.0, 400_000.0, MET),  # exactly 5 %
        (19_999.99, 400_000.0, NOT_MET),
        (20_000.01, 400_000.0, MET),
        (None, 400_000.0, INSUFFICIENT),
        (20_000.0, None, INSUFFICIENT),
        (0.0, 0.0, INSUFFICIENT),  # no budget: the share cannot be computed
    ],
    ids=["at", "below", "above", "training_missing", "budget_missing", "no_budget"],
)
def test_q4_training_funds_at_least_5_percent_of_public_funds(
    national: RuleSet, training: float | None, budget: float | None, expected: str
) -> None:
    assert school_status(national, "Q4", training_funds=training, public_funds=budget) == expected


@pytest.mark.parametrize(
    ("rating", "expected"),
    [("良好", MET), ("合格", NOT_MET), ("优秀", MET), ("不合格", NOT_MET), (None, INSUFFICIENT)],
    ids=["at", "below", "above", "lowest", "missing"],
)
def test_q6_moral_education_rated_good_or_better(national: RuleSet, rating: str | None, expected: str) -> None:
    assert school_status(national, "Q6", moral_education_rating=rating) == expected


def test_q6_minimum_rating_comes_from_the_rule_set(national: RuleSet) -> None:
    lenient = setting(national, "quality", "Q6", min_rating="合格")
    assert school_status(lenient, "Q6", moral_education_rating="合格") == MET
    wrong = setting(national, "quality", "Q6", min_rating="很好")
    with pytest.raises(YoujunError):
        evaluate(wrong)


def test_school_items_drill_down_to_the_failing_school(national: RuleSet) -> None:
    schools = [
        good_school(school_id="a", school_name="甲小学"),
        good_school(school_id="b", school_name="乙小学", training_funds=10_000.0, moral_education_rating="合格"),
        good_school(school_id="c", school_name="丙小学", has_charter_ict=None),
    ]
    ev = evaluate(national, schools)
    q4 = item(ev, "Q4")
    assert (q4["status"], q4["detail"]) == (NOT_MET, "适用学校 3 所，未达标学校 1 所")
    assert q4["value"] is None
    failing = ev.schools.filter(pl.col("status") == NOT_MET).sort("code")
    assert failing.select("code", "school_id", "school_name").rows() == [("Q4", "b", "乙小学"), ("Q6", "b", "乙小学")]
    q4_b = failing.row(0, named=True)
    assert q4_b["value"] == pytest.approx(0.025)
    assert q4_b["threshold"] == 0.05
    assert q4_b["detail"] == "教师培训经费 10,000 元 ÷ 公用经费预算总额 400,000 元 = 2.50%（要求不低于 5.00%），未达标"
    q3 = item(ev, "Q3")
    assert (q3["status"], q3["detail"]) == (INSUFFICIENT, "适用学校 3 所，数据不足学校 1 所")
    c = ev.schools.filter((pl.col("code") == "Q3") & (pl.col("school_id") == "c")).row(0, named=True)
    assert c["detail"] == "数据不足：缺少「学校章程及管理教学信息化」"


def test_school_items_skip_small_teaching_points_and_special_schools(national: RuleSet) -> None:
    point = good_school(school_id="tp", school_type="教学点", students_primary=49, has_charter_ict="否")
    special = good_school(school_id="sp", school_type="特殊教育学校", moral_education_rating="不合格")
    ev = evaluate(national, [good_school(), point, special])
    assert set(ev.schools["school_id"]) == {"3402070001"}
    assert set(ev.items["status"]) == {MET}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["优秀", "良好", "合格", "不合格", None]), min_size=1, max_size=10))
def test_q6_county_status_follows_the_schools(ratings: list[str | None]) -> None:
    rules = load_rule_set("national-2017")
    schools = [good_school(school_id=f"s{i:03d}", moral_education_rating=r) for i, r in enumerate(ratings)]
    q6 = item(evaluate(rules, schools), "Q6")
    if any(r in ("合格", "不合格") for r in ratings):
        assert q6["status"] == NOT_MET
    elif None in ratings:
        assert q6["status"] == INSUFFICIENT
    else:
        assert q6["status"] == MET
    assert json.loads(q6["inputs"])["schools"] == len(ratings)


# ---------------------------------------------------------------------------------------------------------------
# Evidence items Q5, Q7, Q8


@pytest.mark.parametrize("code", ["Q5", "Q7", "Q8"])
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
# Q9 national monitoring


@pytest.mark.parametrize(
    ("level", "rate", "expected"),
    [
        ("Ⅲ", 0.149, MET),  # level exactly Ⅲ
        ("Ⅲ", 0.15, NOT_MET),  # 低于0.15 is strict: 0.15 itself fails
        ("Ⅲ", 0.1499, MET),
        ("Ⅲ", 0.151, NOT_MET),
        ("Ⅱ", 0.10, NOT_MET),
        ("Ⅳ", 0.10, MET),
        (None, 0.10, INSUFFICIENT),
        ("Ⅲ", None, INSUFFICIENT),
        (None, 0.20, NOT_MET),  # the difference rate alone decides
    ],
)
def test_q9_level_at_least_iii_and_difference_rate_below_015(
    national: RuleSet, level: str | None, rate: float | None, expected: str
) -> None:
    assert status(national, "Q9", q9_lowest_level=level, q9_max_difference_rate=rate) == expected


def test_q9_reports_the_difference_rate_and_the_level(national: RuleSet) -> None:
    ev = evaluate(national, county_rows=[county(q9_lowest_level="Ⅳ", q9_max_difference_rate=0.1234)])
    q9 = item(ev, "Q9")
    assert (q9["value"], q9["threshold"]) == (0.1234, 0.15)
    assert q9["detail"] == "各科最低学业水平 Ⅳ（要求Ⅲ级及以上），达标；最大校际差异率 0.123（要求低于 0.150），达标"
    assert json.loads(q9["inputs"]) == {"q9_lowest_level": "Ⅳ", "q9_max_difference_rate": 0.1234}


def test_q9_rounded_province_rounds_the_difference_rate_like_a_cv() -> None:
    province = load_rule_set("example-province-2017")  # compares rounded values, 2 decimals for coefficients
    assert status(province, "Q9", q9_max_difference_rate=0.1449) == MET
    assert status(province, "Q9", q9_max_difference_rate=0.1450) == NOT_MET  # rounds to 0.15, not below it
