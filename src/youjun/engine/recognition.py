"""Social recognition (社会认可度) S1, standard-2017.md §6: the recognition rate of a county's survey.

The national computation is not published, so every choice is in the rule set's ``[recognition]`` table:

- ``scale``: the answer options; an answer outside the scale (or missing) is *invalid* and counts nowhere.
- ``excluded``: options left out of the denominator (national: 不了解).
- ``positive``: options that count as recognition (national: 满意, 比较满意, 基本满意).
- ``aggregation = "share"``: rate = positive ÷ valid answers, valid = in the scale and not excluded.
- ``group_weights`` (optional, group → weight): the rate is then the weighted mean of the group rates, over the
  groups that have valid answers (their weights renormalised), so a group nobody answered for does not drag the
  rate to zero.
- Sample: ``sample_per_mille`` of the resident population, at least ``sample_min`` below
  ``sample_min_population`` people; parents at least ``parents_min_share`` of the sample; valid returns at least
  ``valid_return_min`` of the sample.

Inputs are one row per answer (``group``, ``question``, ``answer``; ``response`` identifies the questionnaire for
the valid-return count). Everything is computed with Polars group-bys, no per-row Python.

S1 is decided only on a sample that meets ``valid_return_min``: when the county frame carries the survey's valid
returns and planned sample (``RETURN_INPUTS``, given by the web application's survey; the workbook has no such
columns, so figures typed in a workbook are not checked), a county below the minimum gets S1 (and V7) undecided,
with the reason (``valid_return_shortfall``), whatever its rate.

>>> import polars as pl
>>> from youjun.standards import load_rule_set
>>> rules = recognition_rules(load_rule_set().sections["recognition"])
>>> answers = pl.DataFrame({"group": ["parents"] * 4, "question": ["q1"] * 4,
...     "answer": ["满意", "基本满意", "不满意", "不了解"]})
>>> r = recognition(answers, rules)
>>> r.valid, r.positive, r.excluded, round(r.rate or 0, 4), r.passed
(3, 2, 1, 0.6667, False)
>>> required_sample(350_000, rules), required_sample(1_000_000, rules)
(600, 1500)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

PARENTS = "parents"
#: Tolerance of the threshold comparison: a weighted mean of exact shares can land a few ulps below 0.85.
TOLERANCE = 1e-12
#: Tolerance of the valid-return comparison (counts against a share of a count).
RETURN_TOLERANCE = 1e-9
RETURNS = "recognition_returns"
SAMPLE = "recognition_sample"
#: County-frame inputs beside the answer counts: questionnaires with a valid answer, and the planned sample.
RETURN_INPUTS: dict[str, pl.DataType] = {RETURNS: pl.Int64(), SAMPLE: pl.Int64()}


@dataclass(frozen=True, slots=True)
class RecognitionRules:
    """The ``[recognition]`` table of a rule set, typed and checked."""

    name: str
    threshold: float
    scale: tuple[str, ...]
    positive: tuple[str, ...]
    excluded: tuple[str, ...]
    aggregation: str
    sample_per_mille: float
    sample_min: int
    sample_min_population: int
    parents_min_share: float
    valid_return_min: float
    group_weights: Mapping[str, float] = field(default_factory=dict)


def recognition_rules(section: Mapping[str, Any]) -> RecognitionRules:
    """Read the rule set's ``[recognition]`` table, the only source of its values (the loader has checked every
    key); raises ``ValueError`` naming the key when a table given directly lacks one or breaks a rule."""

    def setting(key: str) -> Any:
        if key not in section:
            raise ValueError(f"recognition.{key}: 缺少该设置项")
        return section[key]

    scale = tuple(str(s) for s in setting("scale"))
    positive = tuple(str(s) for s in setting("positive"))
    excluded = tuple(str(s) for s in setting("excluded"))
    if not scale:
        raise ValueError("recognition.scale: 答案选项不能为空")
    if unknown := [a for a in (*positive, *excluded) if a not in scale]:
        raise ValueError(f"recognition.positive/excluded: 不在答案选项中：{'、'.join(unknown)}")
    if set(positive) & set(excluded):
        raise ValueError("recognition.positive 与 recognition.excluded 不能重叠")
    aggregation = str(setting("aggregation"))
    if aggregation != "share":
        raise ValueError(f"recognition.aggregation: 不支持的计算方法 {aggregation!r}（应为 share）")
    # Optional: without group weights the rate is the plain share of all valid answers.
    weights = {str(k): float(v) for k, v in dict(section.get("group_weights") or {}).items()}
    if any(w < 0 for w in weights.values()) or (weights and sum(weights.values()) <= 0):
        raise ValueError("recognition.group_weights: 权重应为非负数且总和大于 0")
    return RecognitionRules(
        name=str(setting("name")),
        threshold=float(setting("threshold")),
        scale=scale,
        positive=positive,
        excluded=excluded,
        aggregation=aggregation,
        sample_per_mille=float(setting("sample_per_mille")),
        sample_min=int(setting("sample_min")),
        sample_min_population=int(setting("sample_min_population")),
        parents_min_share=float(setting("parents_min_share")),
        valid_return_min=float(setting("valid_return_min")),
        group_weights=weights,
    )


@dataclass(frozen=True)
class Recognition:
    """The recognition rate and its breakdowns.

    ``by_group`` and ``by_question`` have columns ``answers`` (all rows), ``valid``, ``positive``, ``excluded``,
    ``invalid`` and ``rate`` (null where nothing is valid); ``by_group`` is keyed by ``group``, ``by_question`` by
    ``group`` and ``question``; ``answer_counts`` is ``group``, ``question``, ``answer``, ``n``.
    """

    valid: int
    positive: int
    excluded: int
    invalid: int
    rate: float | None
    weighted: bool
    threshold: float
    by_group: pl.DataFrame
    by_question: pl.DataFrame
    answer_counts: pl.DataFrame

    @property
    def passed(self) -> bool | None:
        """Rate ≥ threshold; ``None`` when there is no valid answer (insufficient data, never a silent pass)."""
        return None if self.rate is None else self.rate >= self.threshold - TOLERANCE


def _classified(answers: pl.DataFrame, rules: RecognitionRules) -> pl.DataFrame:
    answer = pl.col("answer").cast(pl.String)
    in_scale = answer.is_in(list(rules.scale)).fill_null(False)
    excluded = answer.is_in(list(rules.excluded)).fill_null(False)
    positive = answer.is_in(list(rules.positive)).fill_null(False)
    return answers.select(
        pl.col("group").cast(pl.String),
        pl.col("question").cast(pl.String),
        (in_scale & ~excluded).alias("is_valid"),
        (in_scale & ~excluded & positive).alias("is_positive"),
        (in_scale & excluded).alias("is_excluded"),
        (~in_scale).alias("is_invalid"),
    )


def _counts(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    counted = frame.group_by(list(keys)).agg(
        pl.len().alias("answers"),
        pl.col("is_valid").sum().cast(pl.Int64).alias("valid"),
        pl.col("is_positive").sum().cast(pl.Int64).alias("positive"),
        pl.col("is_excluded").sum().cast(pl.Int64).alias("excluded"),
        pl.col("is_invalid").sum().cast(pl.Int64).alias("invalid"),
    )
    rate = pl.when(pl.col("valid") > 0).then(pl.col("positive") / pl.col("valid")).otherwise(None)
    return counted.with_columns(rate.alias("rate")).sort(list(keys))


def recognition(answers: pl.DataFrame, rules: RecognitionRules) -> Recognition:
    """Count and rate the answers (one row per answer: ``group``, ``question``, ``answer``)."""
    classified = _classified(answers, rules)
    by_group = _counts(classified, ["group"])
    by_question = _counts(classified, ["group", "question"])
    answer_counts = (
        answers.select(pl.col("group").cast(pl.String), pl.col("question").cast(pl.String), pl.col("answer"))
        .group_by(["group", "question", "answer"])
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .sort(["group", "question", "answer"])
    )
    totals = by_group.select(pl.col("valid", "positive", "excluded", "invalid").sum()).row(0, named=True)
    valid, positive = int(totals["valid"] or 0), int(totals["positive"] or 0)
    weighted = bool(rules.group_weights)
    rate = _weighted_rate(by_group, rules.group_weights) if weighted else (positive / valid if valid else None)
    return Recognition(
        valid=valid,
        positive=positive,
        excluded=int(totals["excluded"] or 0),
        invalid=int(totals["invalid"] or 0),
        rate=rate,
        weighted=weighted,
        threshold=rules.threshold,
        by_group=by_group,
        by_question=by_question,
        answer_counts=answer_counts,
    )


def _weighted_rate(by_group: pl.DataFrame, weights: Mapping[str, float]) -> float | None:
    """Weighted mean of the group rates over the groups with valid answers and a positive weight."""
    table = pl.DataFrame(
        {"group": list(weights), "weight": list(weights.values())}, schema_overrides={"weight": pl.Float64}
    )
    joined = by_group.join(table, on="group", how="inner").filter((pl.col("valid") > 0) & (pl.col("weight") > 0))
    if joined.height == 0:
        return None
    total = float(joined["weight"].sum())
    return float((joined["rate"] * joined["weight"]).sum()) / total


def required_sample(population: int | None, rules: RecognitionRules) -> int:
    """The county's minimum sample: ``sample_min`` below ``sample_min_population`` people (or unknown population),
    otherwise ``sample_per_mille`` ‰ of the resident population, rounded up (and never below ``sample_min``)."""
    if population is None or population < rules.sample_min_population:
        return rules.sample_min
    return max(rules.sample_min, math.ceil(population * rules.sample_per_mille / 1000 - 1e-9))


def parents_required(total: int, rules: RecognitionRules) -> int:
    """The least number of parents in a sample of ``total`` (``parents_min_share``, rounded up)."""
    return math.ceil(total * rules.parents_min_share - 1e-9)


def default_quotas(population: int | None, rules: RecognitionRules, shares: Mapping[str, float]) -> dict[str, int]:
    """Split the required sample: parents get their minimum share, the other groups the rest in proportion to
    ``shares`` (largest remainders), so the quotas always sum to the required sample exactly."""
    total = required_sample(population, rules)
    parents = parents_required(total, rules)
    others = {g: s for g, s in shares.items() if g != PARENTS and s > 0}
    rest = total - parents
    weight = sum(others.values())
    if not others or weight <= 0:
        return {PARENTS: total}
    exact = {g: rest * s / weight for g, s in others.items()}
    quotas = {g: math.floor(v) for g, v in exact.items()}
    left = rest - sum(quotas.values())
    for g in sorted(exact, key=lambda g: (quotas[g] - exact[g], g))[:left]:
        quotas[g] += 1
    return {PARENTS: parents, **quotas}


def quota_issues(
    quotas: Mapping[str, int], population: int | None, rules: RecognitionRules
) -> list[tuple[str | None, str]]:
    """Why the quotas do not make a valid sample: (the group the sentence is about, or None for the whole sample;
    a Chinese sentence). Empty when they do."""
    problems: list[tuple[str | None, str]] = [(g, "样本数不能为负数") for g, q in quotas.items() if q < 0]
    total = sum(quotas.values())
    need = required_sample(population, rules)
    if total < need:
        problems.append((None, f"样本总数 {total:,} 少于按常住人口要求的 {need:,}"))
    parents = quotas.get(PARENTS, 0)
    least = parents_required(total, rules)
    if parents < least:
        share = share_text(rules.parents_min_share)
        problems.append((PARENTS, f"家长样本 {parents:,} 少于样本总数的 {share}（至少 {least:,}）"))
    return problems


def quota_problems(quotas: Mapping[str, int], population: int | None, rules: RecognitionRules) -> list[str]:
    """Why the quotas do not make a valid sample (Chinese sentences; empty when they do)."""
    problems = [m for g, m in quota_issues(quotas, population, rules) if g is None or m != "样本数不能为负数"]
    if any(q < 0 for q in quotas.values()):
        problems.insert(0, "各类调查对象的样本数不能为负数")
    return problems


def valid_returns(answers: pl.DataFrame, rules: RecognitionRules) -> int:
    """Questionnaires (``response``) with at least one valid answer: all 不了解 or nothing in the scale is not a
    valid return."""
    if answers.height == 0:
        return 0
    classified = answers.select(
        pl.col("response"),
        (pl.col("answer").cast(pl.String).is_in(list(rules.scale)) & ~pl.col("answer").is_in(list(rules.excluded)))
        .fill_null(False)
        .alias("is_valid"),
    )
    return int(classified.filter(pl.col("is_valid"))["response"].n_unique())


def valid_return_ok(returns: int, sample: int, rules: RecognitionRules) -> bool:
    """Valid returns ÷ sample ≥ ``valid_return_min`` (a sample of 0 has nothing to check against)."""
    return sample > 0 and returns >= rules.valid_return_min * sample - RETURN_TOLERANCE


def share_text(value: float) -> str:
    """A share of the rule set as written (0.7 → 70%, 0.875 → 87.5%), never rounded to a display precision.

    >>> share_text(0.7), share_text(0.875), share_text(0.85)
    ('70%', '87.5%', '85%')
    """
    return f"{round(value * 100, 6):g}%"


def with_return_inputs(counties: pl.DataFrame | None) -> pl.DataFrame | None:
    """The county frame with the ``RETURN_INPUTS`` columns (null where the frame has none: not checked)."""
    if counties is None:
        return None
    absent = [pl.lit(None, dtype).alias(key) for key, dtype in RETURN_INPUTS.items() if key not in counties.columns]
    return counties.with_columns(absent).with_columns(pl.col(key).cast(dtype) for key, dtype in RETURN_INPUTS.items())


def valid_return_shortfall(
    valid_return_min: float, rate_text: Callable[[pl.Expr], pl.Expr], count_text: Callable[[pl.Expr], pl.Expr]
) -> tuple[pl.Expr, pl.Expr]:
    """Per county row: whether the survey's valid returns fall short of ``valid_return_min`` of the planned sample
    (the rule of ``valid_return_ok``; false where the returns or the sample are not given), and the reason in
    Chinese: "数据不足：有效回收率 38.60%，低于要求的 70%（有效问卷 386 份，计划样本 1,000 份）".

    ``rate_text`` writes a share as the rule set displays percentages, ``count_text`` a count."""
    returns, sample = pl.col(RETURNS), pl.col(SAMPLE)
    given = returns.is_not_null() & sample.is_not_null()
    enough = (sample > 0) & (returns.cast(pl.Float64) >= valid_return_min * sample.cast(pl.Float64) - RETURN_TOLERANCE)
    short = (given & ~enough).fill_null(False)
    rate = pl.when(sample > 0).then(returns.cast(pl.Float64) / sample.cast(pl.Float64))
    reason = pl.format(
        "数据不足：有效回收率 {}，低于要求的 {}（有效问卷 {} 份，计划样本 {} 份）",
        rate_text(rate),
        pl.lit(share_text(valid_return_min)),
        count_text(returns),
        count_text(sample),
    )
    return short, reason
