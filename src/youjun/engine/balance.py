"""Inter-school difference coefficient (校际差异系数), standard-2017.md §3.2 and the 2012 composite (§9).

Over the county's in-scope units i of one stage, with students p_i (P = Σp_i), numerator a_i and value
X_i = m·a_i/p_i: X̄ = Σ(p_i/P)·X_i = m·Σa_i/P, S = √(Σ(p_i/P)(X_i − X̄)²) (student-weighted, population form),
CV = S / X̄. Limits: every indicator's CV ≤ 0.50 (primary), ≤ 0.45 (junior). One unit → CV = 0; X̄ = 0 → undefined.

Influence: for each county, stage and indicator, the unit whose removal, or whose levelling (bringing its value
to the mean X̄₋ⱼ of the other units), would most reduce the CV, in closed form for every unit at once: without
unit j the squared deviations are D₋ⱼ = D − p_j·P/(P − p_j)·(X_j − X̄)², so removal gives √(D₋ⱼ/(P − p_j))/X̄₋ⱼ
and levelling (the county mean becomes X̄₋ⱼ, unit j adds no deviation) gives √(D₋ⱼ/P)/X̄₋ⱼ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from youjun.engine.precision import at_most, round_half_up
from youjun.standards.model import RuleSet

GROUP = ["year", "county_code", "stage"]


def difference_coefficient(values: Sequence[float], students: Sequence[float]) -> float:
    """Student-weighted CV of per-student values (the official method, population form).

    The official worked example (five primary schools, books per student):

    >>> students = [45, 37, 89, 76, 55]
    >>> books = [279, 137, 935, 160, 402]
    >>> round(difference_coefficient([b / p for b, p in zip(books, students)], students), 4)
    0.5153
    """
    x = np.asarray(values, dtype=float)
    p = np.asarray(students, dtype=float)
    mean = float(np.sum(p * x) / np.sum(p))
    if mean == 0:
        return float("nan")
    return float(np.sqrt(np.sum(p * (x - mean) ** 2) / np.sum(p)) / mean)


def _cv_parts(code: str, per: float) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(county mean X̄, weighted squared deviations D, whether any numerator is missing) in a group context."""
    p = pl.col("students").cast(pl.Float64)
    mean = per * pl.col(f"a_{code}").sum() / p.sum()
    deviations = (p * (pl.col(f"value_{code}") - mean) ** 2).sum()
    return mean, deviations, pl.col(f"a_{code}").null_count() > 0


def stage_order(rules: RuleSet) -> pl.Expr:
    """Sort key putting stages in the rule set's order (小学 before 初中)."""
    order = {stage: i for i, stage in enumerate(rules.stages)}
    return pl.col("stage").replace_strict(order, default=len(order), return_dtype=pl.Int32)


def balance_by_stage(units: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """One row per county, year and stage: unit counts, county values, CVs, their verdicts and the composite."""
    precision = rules.precision
    codes = list(rules.indicators)
    aggs: list[pl.Expr] = [
        pl.col("county_name").first(),
        pl.len().alias("units"),
        pl.col("students").sum().alias("students"),
    ]
    if "passed" in units.columns:
        aggs.append(pl.col("passed").sum().alias("units_passed"))
    for code in codes:
        mean, deviations, missing = _cv_parts(code, rules.indicators[code].per)
        cv = (deviations / pl.col("students").sum()).sqrt() / mean
        aggs += [
            pl.when(missing).then(None).otherwise(mean).alias(f"county_value_{code}"),
            pl.when(missing | (mean == 0))
            .then(None)
            .when(pl.len() == 1)
            .then(rules.balance.single_unit_cv)
            .otherwise(cv)
            .alias(f"cv_{code}"),
        ]
    stages = units.group_by(GROUP, maintain_order=True).agg(aggs).sort(["year", "county_code", stage_order(rules)])
    if "units_passed" not in stages.columns:
        stages = stages.with_columns(pl.lit(None, pl.UInt32).alias("units_passed"))

    limit = rules.balance.cv_limit
    decimals = precision.compare_cv_decimals
    tolerance = precision.tolerance
    if limit is not None:
        limit_expr = pl.col("stage").replace_strict(dict(limit), default=None, return_dtype=pl.Float64)
        checks: list[pl.Expr] = []
        for code in codes:
            cv = pl.col(f"cv_{code}")
            full = (cv <= limit_expr * (1 + tolerance)).fill_null(False)
            rounded = (round_half_up(cv, decimals, tolerance) <= limit_expr * (1 + tolerance)).fill_null(False)
            checks += [
                (rounded if precision.compare == "rounded" else full).alias(f"cv_passed_{code}"),
                # The two readings of the same CV disagree (e.g. 0.501787): the report must show it.
                (full != rounded).alias(f"cv_boundary_{code}"),
            ]
        stages = stages.with_columns(limit_expr.alias("cv_limit"), *checks)
        cv_ok = pl.all_horizontal([pl.col(f"cv_passed_{c}") for c in codes])
    else:
        stages = stages.with_columns(pl.lit(None, pl.Float64).alias("cv_limit"))
        cv_ok = pl.lit(True)

    if rules.balance.composite == "mean" and rules.balance.composite_limit is not None:
        composite_limit = pl.col("stage").replace_strict(
            dict(rules.balance.composite_limit), default=None, return_dtype=pl.Float64
        )
        composite = pl.mean_horizontal([pl.col(f"cv_{c}") for c in codes], ignore_nulls=False)
        stages = stages.with_columns(composite.alias("composite"), composite_limit.alias("composite_limit"))
        cv_ok = cv_ok & at_most(pl.col("composite"), pl.col("composite_limit"), precision, decimals).fill_null(False)
    rule = rules.school_rule
    units_ok = pl.lit(True) if rule is None or rule.allow_exceptions else pl.col("units_passed") == pl.col("units")
    return stages.with_columns((cv_ok & units_ok).alias("passed"))


def influence(units: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """For each county, stage and indicator: the unit whose removal, and the one whose levelling to the mean of
    the other units, would most reduce the CV, with the CV that would result.

    The closed form ranks every unit at once; the CV reported for the chosen unit is then recomputed exactly
    (two-pass sums), because the closed form loses digits when one unit carries almost all the dispersion.
    """
    units = units.filter(pl.len().over(GROUP) >= 2)  # with one unit there is nothing to compare
    p = pl.col("students").cast(pl.Float64)
    total = p.sum().over(GROUP)
    rest = total - p
    scores: list[pl.Expr] = []
    for code, ind in rules.indicators.items():
        a = pl.col(f"a_{code}")
        mean = ind.per * a.sum().over(GROUP) / total
        mean_rest = ind.per * (a.sum().over(GROUP) - a) / rest
        deviations = (p * (pl.col(f"value_{code}") - mean) ** 2).sum().over(GROUP)
        others = (deviations - p * total / rest * (pl.col(f"value_{code}") - mean) ** 2).clip(lower_bound=0)
        defined = (rest > 0) & (mean_rest > 0)
        scores += [
            pl.when(defined).then((others / rest).sqrt() / mean_rest).alias(f"_rm_{code}"),
            pl.when(defined).then((others / total).sqrt() / mean_rest).alias(f"_lv_{code}"),
            mean_rest.alias(f"_mr_{code}"),
        ]
    scored = units.with_columns(scores)

    picks: list[pl.Expr] = []
    for code in rules.indicators:
        for kind in ("rm", "lv"):
            order = pl.col("school_id").sort_by([f"_{kind}_{code}", "school_id"], nulls_last=True)
            picks += [
                order.first().alias(f"_{kind}_id_{code}"),
                pl.col(f"_mr_{code}")
                .sort_by([f"_{kind}_{code}", "school_id"], nulls_last=True)
                .first()
                .alias(f"_{kind}_mean_{code}"),
                pl.col(f"_{kind}_{code}").is_not_null().any().alias(f"_{kind}_ok_{code}"),
            ]
    chosen = scored.group_by(GROUP).agg(picks)

    exact: list[pl.Expr] = [p.sum().alias("_P")]
    for code in rules.indicators:
        value = pl.col(f"value_{code}")
        for kind in ("rm", "lv"):
            keep = pl.col("school_id") != pl.col(f"_{kind}_id_{code}")
            exact.append(
                (p * (value - pl.col(f"_{kind}_mean_{code}")) ** 2).filter(keep).sum().alias(f"_{kind}_d_{code}")
            )
        exact.append(p.filter(pl.col("school_id") != pl.col(f"_rm_id_{code}")).sum().alias(f"_rm_p_{code}"))
    sums = units.join(chosen, on=GROUP).group_by(GROUP).agg(exact).join(chosen, on=GROUP)

    names = units.select("school_id", "school_name", *GROUP).unique(["school_id", *GROUP])
    rows = []
    for code in rules.indicators:
        row = sums.select(
            *GROUP,
            pl.lit(code).alias("indicator"),
            pl.when(pl.col(f"_rm_ok_{code}")).then(pl.col(f"_rm_id_{code}")).alias("removal_school_id"),
            pl.when(pl.col(f"_rm_ok_{code}"))
            .then((pl.col(f"_rm_d_{code}") / pl.col(f"_rm_p_{code}")).sqrt() / pl.col(f"_rm_mean_{code}"))
            .alias("cv_after_removal"),
            pl.when(pl.col(f"_lv_ok_{code}")).then(pl.col(f"_lv_id_{code}")).alias("levelling_school_id"),
            pl.when(pl.col(f"_lv_ok_{code}"))
            .then((pl.col(f"_lv_d_{code}") / pl.col("_P")).sqrt() / pl.col(f"_lv_mean_{code}"))
            .alias("cv_after_levelling"),
        )
        rows.append(row)
    result = pl.concat(rows)
    for role in ("removal", "levelling"):
        result = result.join(
            names.rename({"school_id": f"{role}_school_id", "school_name": f"{role}_school_name"}),
            on=[*GROUP, f"{role}_school_id"],
            how="left",
        )
    return result.select(
        *GROUP,
        "indicator",
        "removal_school_id",
        "removal_school_name",
        "cv_after_removal",
        "levelling_school_id",
        "levelling_school_name",
        "cv_after_levelling",
    ).sort(["year", "county_code", stage_order(rules), "indicator"])
