"""Education quality (教育质量) Q1–Q9, standard-2017.md §5: every item must be met.

Thresholds and scopes come from the rule set (``[quality.Qn]``); the shared machinery (statuses in three-valued
logic, scopes, county union, texts) is in ``youjun.engine.items``.

- Q1: three-year junior retention (初中三年巩固率) = (graduates − transferred in + transferred out) ÷ (grade-7
  enrolment three years earlier − deaths) ≥ 95 %; a denominator ≤ 0 cannot be computed (insufficient data).
- Q2: enrolled school-age disabled children ÷ school-age disabled children ≥ 95 %; a county reporting 0 disabled
  children cannot be computed either (a division by zero is never a pass).
- Q3 (school): every school has a charter and ICT in management and teaching (``has_charter_ict`` = 是).
- Q4 (school): teacher-training funds ÷ public-funds budget ≥ 5 %, per school.
- Q5, Q7, Q8 (evidence): the reviewer's verdict (``q5_verdict`` …).
- Q6 (school): moral education and campus culture rated ``min_rating`` (良好) or better on the rule set's scale
  (``ratings``, lowest first: 不合格 < 合格 < 良好 < 优秀); a rating not on the scale cannot be judged.
- Q9: the lowest academic level of the monitored subjects ≥ Ⅲ (``levels``, lowest first: Ⅰ < Ⅱ < Ⅲ < Ⅳ) and the
  largest inter-school difference rate < 0.15 (低于: strict; a rate at 0.15, or within the comparison tolerance
  of it, fails). The difference rate is a coefficient like the CV: shown with ``display_cv_decimals`` and, when the
  rule set compares rounded values, rounded to ``compare_cv_decimals``. ``value`` is the difference rate; the level
  is in ``detail`` and ``inputs``.

School items (Q3, Q4, Q6) cover the schools of the resource evaluation (``scope = "resources"``: no
special-education schools, no teaching points under 50 students); their county ``value`` is null and the counts of
applicable, failing and unchecked schools are in ``detail`` and ``inputs``.

>>> import polars as pl
>>> from youjun.standards import load_rule_set
>>> counties = pl.DataFrame({"year": [2024], "county_code": ["340207"], "county_name": ["示例区"],
...     "junior_graduates": [930], "junior_transfer_in": [20], "junior_transfer_out": [40],
...     "grade7_enrolment": [1000], "junior_deaths": [0]})
>>> ev = evaluate_quality(pl.DataFrame(), counties, load_rule_set())
>>> q1 = ev.items.filter(pl.col("code") == "Q1").row(0, named=True)
>>> q1["status"], q1["value"], q1["threshold"]
('met', 0.95, 0.95)
>>> print(q1["detail"].split("= ")[0])
（初中毕业生 930 人 − 转入 20 人 + 转出 40 人）÷（三年前初一入学 1,000 人 − 死亡 0 人）
>>> print(q1["detail"].split("= ")[1])
95.00%（要求不低于 95.00%），达标
"""

from __future__ import annotations

import polars as pl

from youjun.engine.items import (
    MISSING_TEXT,
    CountyCheck,
    Evaluator,
    Item,
    ItemEvaluation,
    SchoolCheck,
    count_text,
    evaluate_items,
    evidence,
    need,
    number_text,
    rank,
    ratio,
    verdict_text,
    yes_ok,
)
from youjun.engine.precision import at_least
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet

__all__ = ["EVALUATORS", "ItemEvaluation", "evaluate_quality"]


def _ordinal(item: Item, scale_key: str, minimum_key: str) -> tuple[list[str], int]:
    """The rule set's ordered scale (lowest first) and the position of its minimum."""
    scale = [str(v) for v in item.get(scale_key)]
    minimum = str(item.get(minimum_key))
    if minimum not in scale:
        raise YoujunError.single(
            "ruleset_invalid",
            f"{minimum_key} 应为 {scale_key} 中的一项",
            field=f"{item.section}.{item.code}.{minimum_key}",
            value=minimum,
        )
    return scale, scale.index(minimum)


def retention(item: Item) -> CountyCheck:
    """Q1: (graduates − transfer in + transfer out) ÷ (grade-7 enrolment − deaths) ≥ 95 %."""
    minimum = item.number("min_rate")
    graduates, transfer_in, transfer_out, enrolled, deaths = (
        pl.col(k)
        for k in ("junior_graduates", "junior_transfer_in", "junior_transfer_out", "grade7_enrolment", "junior_deaths")
    )
    value = ratio(graduates - transfer_in + transfer_out, enrolled - deaths)
    clause = item.clause(
        value,
        minimum,
        shown=pl.format(
            "（初中毕业生 {} − 转入 {} + 转出 {}）÷（三年前初一入学 {} − 死亡 {}）= {}",
            count_text(graduates),
            count_text(transfer_in),
            count_text(transfer_out),
            count_text(enrolled),
            count_text(deaths),
            item.rate_text(value),
        ),
    )
    keys = ["junior_graduates", "junior_transfer_in", "junior_transfer_out", "grade7_enrolment", "junior_deaths"]
    return CountyCheck(
        ok=clause.ok,
        value=value,
        threshold=pl.lit(minimum),
        detail=clause.text,
        inputs={k: pl.col(k) for k in keys},
        missing=[need(k) for k in keys],
        boundary=clause.boundary,
    )


def disabled_enrolment(item: Item) -> CountyCheck:
    """Q2: enrolled school-age disabled children ÷ school-age disabled children ≥ 95 %."""
    minimum = item.number("min_rate")
    enrolled, children = pl.col("disabled_enrolled"), pl.col("disabled_children")
    value = ratio(enrolled, children)
    clause = item.clause(
        value,
        minimum,
        shown=pl.format(
            "入学（含随班就读、特教学校、送教上门）{} ÷ 适龄残疾儿童少年 {} = {}",
            count_text(enrolled),
            count_text(children),
            item.rate_text(value),
        ),
    )
    return CountyCheck(
        ok=clause.ok,
        value=value,
        threshold=pl.lit(minimum),
        detail=clause.text,
        inputs={"disabled_enrolled": enrolled, "disabled_children": children},
        missing=[need("disabled_enrolled"), need("disabled_children")],
        boundary=clause.boundary,
    )


def charter_and_ict(item: Item) -> SchoolCheck:
    """Q3: the school has a charter and ICT in management and teaching (是)."""
    answer = pl.col("has_charter_ict")
    ok = yes_ok(answer)
    return SchoolCheck(
        applies=pl.lit(True),
        ok=ok,
        detail=pl.format(
            "学校章程及管理教学信息化：{}（要求为「是」）{}", answer.fill_null(MISSING_TEXT), verdict_text(ok)
        ),
        missing=[need("has_charter_ict")],
    )


def training_funds(item: Item) -> SchoolCheck:
    """Q4: teacher-training funds ÷ the annual public-funds budget ≥ 5 %."""
    minimum = item.number("min_share")
    training, budget = pl.col("training_funds"), pl.col("public_funds")
    value = ratio(training, budget)
    clause = item.clause(
        value,
        minimum,
        shown=pl.format(
            "教师培训经费 {} ÷ 公用经费预算总额 {} = {}",
            item.money_text(training),
            item.money_text(budget),
            item.rate_text(value),
        ),
    )
    return SchoolCheck(
        applies=pl.lit(True),
        ok=clause.ok,
        value=value,
        threshold=pl.lit(minimum),
        detail=clause.text,
        missing=[need("training_funds"), need("public_funds")],
        boundary=clause.boundary,
    )


def moral_education(item: Item) -> SchoolCheck:
    """Q6: moral education and campus culture rated ``min_rating`` (良好) or better."""
    scale, minimum = _ordinal(item, "ratings", "min_rating")
    rating = pl.col("moral_education_rating")
    ok = rank(rating, scale) >= minimum
    return SchoolCheck(
        applies=pl.lit(True),
        ok=ok,
        detail=pl.format(
            "德育及校园文化建设评价：{}（要求{}及以上）{}",
            rating.fill_null(MISSING_TEXT),
            pl.lit(scale[minimum]),
            verdict_text(ok),
        ),
        missing=[need("moral_education_rating")],
    )


def monitoring(item: Item) -> CountyCheck:
    """Q9: the lowest level of the monitored subjects ≥ Ⅲ and the largest difference rate < 0.15 (strict)."""
    levels, minimum = _ordinal(item, "levels", "min_level")
    limit = item.number("max_difference_rate")
    level, rate = pl.col("q9_lowest_level"), pl.col("q9_max_difference_rate")
    level_ok = rank(level, levels) >= minimum
    # A difference rate is a coefficient like the CV: shown and, when asked, rounded with the CV decimals.
    precision = item.rules.precision
    decimals = precision.display_cv_decimals
    difference = item.clause(
        rate,
        limit,
        "below",
        unit="",
        shown=pl.format("最大校际差异率 {}", number_text(rate, decimals).fill_null(MISSING_TEXT)),
        threshold_shown=f"{limit:.{decimals}f}",
        ok=~at_least(rate, limit, precision, precision.compare_cv_decimals),
        decimals=decimals,
    )
    detail = pl.format(
        "各科最低学业水平 {}（要求{}级及以上）{}；{}",
        level.fill_null(MISSING_TEXT),
        pl.lit(levels[minimum]),
        verdict_text(level_ok),
        difference.text,
    )
    return CountyCheck(
        ok=level_ok & difference.ok,
        value=rate,
        threshold=pl.lit(limit),
        detail=detail,
        inputs={"q9_lowest_level": level, "q9_max_difference_rate": rate},
        missing=[need("q9_lowest_level"), need("q9_max_difference_rate")],
        boundary=difference.boundary,
    )


EVALUATORS: dict[str, Evaluator] = {
    "Q1": retention,
    "Q2": disabled_enrolment,
    "Q3": charter_and_ict,
    "Q4": training_funds,
    "Q5": evidence,
    "Q6": moral_education,
    "Q7": evidence,
    "Q8": evidence,
    "Q9": monitoring,
}


def evaluate_quality(schools: pl.DataFrame, counties: pl.DataFrame | None, rules: RuleSet) -> ItemEvaluation:
    """Q1–Q9 for every (year, county) of the school frame or the county sheet (``县级指标``)."""
    return evaluate_items(schools, counties, rules, "quality", EVALUATORS)
