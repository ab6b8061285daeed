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
from dataclasses import dataclass

import numpy as np
import polars as pl

from youjun.engine.precision import at_most, round_half_up
from youjun.standards.model import RuleSet

GROUP = ["year", "county_code", "stage"]
INFLUENCE_SCHEMA = {
    "year": pl.Int64,
    "county_code": pl.String,
    "stage": pl.String,
    "indicator": pl.String,
    "removal_school_id": pl.String,
    "removal_school_name": pl.String,
    "cv_after_removal": pl.Float64,
    "levelling_school_id": pl.String,
    "levelling_school_name": pl.String,
    "cv_after_levelling": pl.Float64,
}


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


def stage_order(rules: RuleSet) -> pl.Expr:
    """Sort key putting stages in the rule set's order (小学 before 初中)."""
    order = {stage: i for i, stage in enumerate(rules.stages)}
    return pl.col("stage").replace_strict(order, default=len(order), return_dtype=pl.Int32)


@dataclass(frozen=True, slots=True)
class Groups:
    """Contiguous (year, county, stage) groups of a unit frame: a dense id per unit and the first row of each."""

    index: np.ndarray
    first: np.ndarray
    head: pl.DataFrame

    @property
    def count(self) -> int:
        return len(self.first)

    def sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.index, values, self.count)


def unit_groups(units: pl.DataFrame) -> Groups:
    """Group ids of units already ordered so that each (year, county, stage) is contiguous."""
    index = units.select(pl.struct(GROUP).rle_id()).to_series().to_numpy().astype(np.int64)
    first = np.flatnonzero(np.r_[True, index[1:] != index[:-1]]) if len(index) else np.zeros(0, np.int64)
    head = units.select(pl.col(*GROUP, "county_name").gather(pl.Series(first, dtype=pl.Int64)))
    if head.select(pl.struct(GROUP).is_duplicated().any()).item():
        raise ValueError("units must be ordered so that each (year, county_code, stage) group is contiguous")
    return Groups(index, first, head)


def balance_by_stage(units: pl.DataFrame, rules: RuleSet, groups: Groups | None = None) -> pl.DataFrame:
    """One row per county, year and stage: unit counts, county values, CVs, their verdicts and the composite."""
    precision = rules.precision
    codes = list(rules.indicators)
    groups = groups or unit_groups(units)
    g = groups.index
    p = units["students"].to_numpy().astype(float)
    total = groups.sum(p)
    size = np.bincount(g, minlength=groups.count)
    columns: dict[str, pl.Series] = {
        "units": pl.Series(size, dtype=pl.UInt32),
        "students": pl.Series(total.astype(np.int64)),
        "units_passed": pl.Series(
            groups.sum(units["passed"].fill_null(False).to_numpy().astype(float)), dtype=pl.UInt32
        )
        if "passed" in units.columns
        else pl.Series([None] * groups.count, dtype=pl.UInt32),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        for code, ind in rules.indicators.items():
            a = units[f"a_{code}"].to_numpy().astype(float)
            x = units[f"value_{code}"].to_numpy().astype(float)
            if units[f"a_{code}"].null_count():  # a missing numerator leaves the CV of its group undefined
                missing = groups.sum(np.isnan(a).astype(float)) > 0
                a, x = np.nan_to_num(a), np.nan_to_num(x)
            else:
                missing = np.zeros(groups.count, dtype=bool)
            mean = ind.per * groups.sum(a) / total
            deviations = groups.sum(p * (x - mean[g]) ** 2)  # two-pass: about the group mean
            cv = np.sqrt(deviations / total) / mean
            cv = np.where(size == 1, rules.balance.single_unit_cv, cv)
            cv = np.where(missing | (mean == 0), np.nan, cv)
            columns[f"county_value_{code}"] = pl.Series(np.where(missing, np.nan, mean)).fill_nan(None)
            columns[f"cv_{code}"] = pl.Series(cv).fill_nan(None)
    stages = groups.head.with_columns(**columns)

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
    stages = stages.with_columns((cv_ok & units_ok).alias("passed"))
    return stages.sort(["year", "county_code", stage_order(rules)])


def _first_of_groups(group: np.ndarray, starts: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Index of the lowest score in each contiguous group (NaN last; ties: the first in input order)."""
    filled = np.where(np.isnan(score), np.inf, score)
    lowest = np.minimum.reduceat(filled, starts)
    hits = np.flatnonzero(filled == lowest[group])
    return hits[np.flatnonzero(np.r_[True, group[hits][1:] != group[hits][:-1]])]


def influence(units: pl.DataFrame, rules: RuleSet, groups: Groups | None = None) -> pl.DataFrame:
    """For each county, stage and indicator: the unit whose removal, and the one whose levelling to the mean of
    the other units, would most reduce the CV, with the CV that would result.

    The closed form ranks every unit at once; the CV reported for the chosen unit is then recomputed exactly
    (two-pass sums), because the closed form loses digits when one unit carries almost all the dispersion.
    Units must be grouped by (year, county, stage), as ``evaluate_resources`` leaves them; rows come out by
    indicator, then in the order of the groups.
    """
    if units.height == 0:
        return pl.DataFrame(schema=INFLUENCE_SCHEMA)
    groups = groups or unit_groups(units)
    group, first, n_groups = groups.index, groups.first, groups.count
    p = units["students"].to_numpy().astype(float)
    total = groups.sum(p)
    rest = total[group] - p
    several = np.bincount(group, minlength=n_groups) >= 2  # with one unit there is nothing to compare
    codes: list[str] = []
    picks: dict[str, list[np.ndarray]] = {"removal": [], "levelling": []}
    cvs: dict[str, list[np.ndarray]] = {"removal": [], "levelling": []}
    with np.errstate(divide="ignore", invalid="ignore"):
        for code, ind in rules.indicators.items():
            a = units[f"a_{code}"].to_numpy().astype(float)
            x = units[f"value_{code}"].to_numpy().astype(float)
            a_sum = np.bincount(group, a, n_groups)
            mean = ind.per * a_sum / total
            dev2 = (x - mean[group]) ** 2
            deviations = np.bincount(group, p * dev2, n_groups)
            mean_rest = ind.per * (a_sum[group] - a) / rest
            others = np.maximum(deviations[group] - p * total[group] / rest * dev2, 0.0)
            defined = (rest > 0) & (mean_rest > 0)
            scores = {
                "removal": np.where(defined, np.sqrt(others / rest) / mean_rest, np.nan),
                "levelling": np.where(defined, np.sqrt(others / total[group]) / mean_rest, np.nan),
            }
            codes.append(code)
            for role, score in scores.items():
                chosen = _first_of_groups(group, first, score)
                target = mean_rest[chosen][group]  # the chosen unit's "mean of the others", per row
                contribution = p * (x - target) ** 2
                contribution[chosen] = 0.0  # the chosen unit is removed, or sits exactly at the new mean
                exact = np.bincount(group, contribution, n_groups)
                weight = total - p[chosen] if role == "removal" else total
                cv = np.sqrt(exact / weight) / mean_rest[chosen]
                ok = ~np.isnan(score[chosen])
                picks[role].append(np.where(ok, chosen, -1)[several])
                cvs[role].append(np.where(ok, cv, np.nan)[several])
    head = groups.head.select(GROUP).filter(pl.Series(several))
    out = pl.concat([head] * len(codes)).with_columns(
        pl.Series("indicator", np.repeat(codes, head.height), dtype=pl.String)
    )
    labels = units.select("school_id", "school_name")
    for role in ("removal", "levelling"):
        index = pl.Series(np.concatenate(picks[role]))
        found = labels.select(pl.all().gather(index.clip(lower_bound=0)))
        out = out.with_columns(
            pl.when(index >= 0).then(found["school_id"]).alias(f"{role}_school_id"),
            pl.when(index >= 0).then(found["school_name"]).alias(f"{role}_school_name"),
            pl.Series(f"cv_after_{role}", np.concatenate(cvs[role])).fill_nan(None),
        )
    return out.select(*INFLUENCE_SCHEMA)
