"""Social recognition S1 (engine/recognition.py): counts, rate, boundaries, weights, sample and quotas.

Every threshold and option comes from the rule set, so a provincial variant changes the tests' expectations too.
"""

from __future__ import annotations

import dataclasses
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from youjun.engine.recognition import (
    PARENTS,
    default_quotas,
    parents_required,
    quota_problems,
    recognition,
    recognition_rules,
    required_sample,
    valid_return_ok,
    valid_returns,
)
from youjun.standards import load_rule_set

RULES = recognition_rules(load_rule_set("national-2017").sections["recognition"])
POS, NEG, OUT = (
    RULES.positive[0],
    next(a for a in RULES.scale if a not in RULES.positive + RULES.excluded),
    RULES.excluded[0],
)
SCHEMA = {"group": pl.String, "question": pl.String, "answer": pl.String}
GROUPS = ["students", "parents", "teachers", "principals", "npc", "cppcc", "residents"]


def frame(counts: dict[str, int], group: str = PARENTS, question: str = "q1") -> pl.DataFrame:
    answers = [a for a, n in counts.items() for _ in range(n)]
    return pl.DataFrame({"group": [group] * len(answers), "question": [question] * len(answers), "answer": answers})


def at_share(share_num: int, share_den: int, excluded: int = 0) -> pl.DataFrame:
    return frame({POS: share_num, NEG: share_den - share_num, OUT: excluded})


def test_rule_set_values_are_the_documented_defaults() -> None:
    assert RULES.threshold == 0.85
    assert set(RULES.positive) == {"满意", "比较满意", "基本满意"} and RULES.excluded == ("不了解",)


def test_exactly_at_the_threshold_passes() -> None:
    den = 100
    num = round(RULES.threshold * den)
    r = recognition(at_share(num, den, excluded=7), RULES)
    assert (r.valid, r.positive, r.excluded) == (den, num, 7)
    assert r.rate == RULES.threshold and r.passed is True


def test_just_below_the_threshold_fails() -> None:
    den = 10_000
    num = round(RULES.threshold * den) - 1
    r = recognition(at_share(num, den), RULES)
    assert r.rate is not None and r.rate < RULES.threshold and r.passed is False


def test_excluded_answers_leave_the_denominator() -> None:
    with_unknown = recognition(at_share(85, 100, excluded=400), RULES)
    without = recognition(at_share(85, 100), RULES)
    assert with_unknown.rate == without.rate == 0.85


def test_answers_outside_the_scale_are_invalid_and_count_nowhere() -> None:
    answers = pl.concat(
        [
            at_share(9, 10),
            frame({"随便": 3}),
            pl.DataFrame(
                {"group": [PARENTS], "question": ["q1"], "answer": [None]}, schema_overrides={"answer": pl.String}
            ),
        ]
    )
    r = recognition(answers, RULES)
    assert (r.valid, r.positive, r.invalid) == (10, 9, 4)


def test_no_valid_answer_is_insufficient_data_not_a_pass() -> None:
    r = recognition(frame({OUT: 5}), RULES)
    assert r.rate is None and r.passed is None
    empty = recognition(pl.DataFrame(schema={"group": pl.String, "question": pl.String, "answer": pl.String}), RULES)
    assert empty.valid == 0 and empty.passed is None


def test_breakdown_per_group_and_question_adds_up() -> None:
    answers = pl.concat([frame({POS: 3, NEG: 1}, "parents", "q1"), frame({POS: 2, OUT: 2}, "students", "q2")])
    r = recognition(answers, RULES)
    parents = r.by_group.filter(pl.col("group") == "parents").row(0, named=True)
    assert (parents["valid"], parents["positive"], parents["rate"]) == (4, 3, 0.75)
    students_q2 = r.by_question.filter(pl.col("question") == "q2").row(0, named=True)
    assert (students_q2["valid"], students_q2["excluded"], students_q2["rate"]) == (2, 2, 1.0)


def test_group_weights_give_the_weighted_mean_of_group_rates() -> None:
    weighted = dataclasses.replace(RULES, group_weights={"parents": 3.0, "students": 1.0, "teachers": 1.0})
    answers = pl.concat([at_share(80, 100).with_columns(pl.lit("parents").alias("group")), frame({POS: 1}, "students")])
    r = recognition(answers, weighted)
    # teachers gave no answer: their weight drops out, the others are renormalised
    assert r.weighted and r.rate == pytest.approx((3 * 0.8 + 1 * 1.0) / 4)
    assert recognition(answers, RULES).rate == pytest.approx(81 / 101)


def test_group_weights_come_from_the_rule_set_table() -> None:
    section = dict(load_rule_set("national-2017").sections["recognition"]) | {"group_weights": {"parents": 2}}
    assert recognition_rules(section).group_weights == {"parents": 2.0}
    with pytest.raises(ValueError, match="group_weights"):
        recognition_rules(section | {"group_weights": {"parents": -1}})
    with pytest.raises(ValueError, match="不在答案选项"):
        recognition_rules(section | {"positive": ["非常好"]})


answer_lists = st.lists(
    st.tuples(st.sampled_from(GROUPS), st.sampled_from(["q1", "q2", "q3"]), st.sampled_from([*RULES.scale, "乱填"])),
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(answer_lists)
def test_counts_partition_the_answers_and_the_rate_is_a_share(rows: list[tuple[str, str, str]]) -> None:
    answers = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    r = recognition(answers, RULES)
    assert r.valid + r.excluded + r.invalid == len(rows)
    assert 0 <= r.positive <= r.valid
    if r.valid:
        assert r.rate == r.positive / r.valid and 0.0 <= r.rate <= 1.0
        assert r.passed == (r.positive >= RULES.threshold * r.valid - 1e-9)
    assert r.by_group["valid"].sum() == r.by_question["valid"].sum() == r.valid
    assert r.answer_counts["n"].sum() == len(rows)


@settings(max_examples=60, deadline=None)
@given(answer_lists, st.integers(min_value=0, max_value=50))
def test_adding_excluded_answers_never_changes_the_rate(rows: list[tuple[str, str, str]], extra: int) -> None:
    answers = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    more = pl.concat([answers, frame({OUT: extra})]) if extra else answers
    assert recognition(answers, RULES).rate == recognition(more, RULES).rate


@pytest.mark.parametrize(
    ("population", "expected"),
    [
        (None, RULES.sample_min),
        (0, RULES.sample_min),
        (RULES.sample_min_population - 1, RULES.sample_min),
        (
            RULES.sample_min_population,
            max(RULES.sample_min, math.ceil(RULES.sample_min_population * RULES.sample_per_mille / 1000)),
        ),
        (1_000_001, math.ceil(1_000_001 * RULES.sample_per_mille / 1000)),
    ],
)
def test_required_sample_by_population_tier(population: int | None, expected: int) -> None:
    assert required_sample(population, RULES) == expected


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=5_000_000))
def test_default_quotas_are_a_valid_sample(population: int) -> None:
    shares = {g: 1.0 for g in GROUPS}
    quotas = default_quotas(population, RULES, shares)
    assert sum(quotas.values()) == required_sample(population, RULES)
    assert quotas[PARENTS] == parents_required(sum(quotas.values()), RULES)
    assert quota_problems(quotas, population, RULES) == []


def test_quota_problems_name_the_sample_and_the_parents_share() -> None:
    assert "少于按常住人口要求的 600" in quota_problems({PARENTS: 300, "students": 200}, 100_000, RULES)[0]
    problems = quota_problems({PARENTS: 299, "students": 301}, 100_000, RULES)
    assert len(problems) == 1 and "家长样本 299" in problems[0]
    assert quota_problems({PARENTS: 300, "students": 300}, 100_000, RULES) == []


def test_valid_returns_and_their_minimum_share() -> None:
    answers = pl.DataFrame(
        {
            "response": [1, 1, 2, 3, 3],
            "group": [PARENTS] * 5,
            "question": ["q1", "q2", "q1", "q1", "q2"],
            "answer": [POS, OUT, OUT, NEG, "乱填"],
        }
    )
    assert valid_returns(answers, RULES) == 2  # response 2 answered only 不了解
    sample = 100
    at_min = math.ceil(RULES.valid_return_min * sample)
    assert valid_return_ok(at_min, sample, RULES) and not valid_return_ok(at_min - 1, sample, RULES)
    assert not valid_return_ok(0, 0, RULES)
