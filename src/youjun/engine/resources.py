"""Resource allocation R1–R7 per school unit, the per-school rule and the shortfall (standard-2017.md §3, §3.1).

value_k = per_k · a_k / p for a unit with p students and numerator a_k (per = 100 for "每百名学生", else 1).
A unit passes when at least ``min_met`` (6) of the 7 are met (value ≥ standard) and no ratio value/standard is
below ``min_ratio`` (0.85). The shortfall of an unmet indicator is what is missing to meet it:
standard·p/per − a, in teachers, ㎡, 元 or rooms (whole teachers and rooms round up).
"""

from __future__ import annotations

import polars as pl

from youjun.engine.precision import at_least, compared
from youjun.standards.model import Condition, RuleSet


def _condition(cond: Condition) -> pl.Expr:
    parts: list[pl.Expr] = [pl.lit(True)]
    if cond.urban_rural is not None:
        parts.append(pl.col("urban_rural").is_in(cond.urban_rural))
    if cond.school_types is not None:
        parts.append(pl.col("school_type").is_in(cond.school_types))
    if cond.min_students is not None:
        parts.append(pl.col("students") >= cond.min_students)
    if cond.max_students is not None:
        parts.append(pl.col("students") <= cond.max_students)
    parts.extend(pl.col(flag) == "是" for flag in cond.flags)
    return pl.all_horizontal(parts)


def numerator(code: str, rules: RuleSet) -> pl.Expr:
    """a_k of indicator ``code`` for each unit, with the enabled relaxations of that indicator added."""
    ind = rules.indicators[code]
    total = pl.sum_horizontal([pl.col(t.field).cast(pl.Float64) * t.sign for t in ind.numerator], ignore_nulls=False)
    for relax in rules.relaxations.values():
        if relax.enabled and relax.indicator == code:
            extra = pl.sum_horizontal([pl.col(f).cast(pl.Float64).fill_null(0) for f in relax.add])
            matches = pl.any_horizontal([_condition(c) for c in relax.when])
            total = total + pl.when(matches).then(extra).otherwise(0.0)
    return total


def standard_of(code: str, rules: RuleSet) -> pl.Expr:
    """The unit's standard for indicator ``code`` (by its stage)."""
    standard = rules.indicators[code].standard or {}
    expr = pl.lit(None, pl.Float64)
    for stage, value in standard.items():
        expr = pl.when(pl.col("stage") == stage).then(pl.lit(value, pl.Float64)).otherwise(expr)
    return expr


def indicator_values(units: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Add ``a_{k}`` (numerator) and ``value_{k}`` for every indicator of the rule set."""
    units = units.with_columns(numerator(code, rules).alias(f"a_{code}") for code in rules.indicators)
    return units.with_columns(
        (ind.per * pl.col(f"a_{code}") / pl.col("students")).alias(f"value_{code}")
        for code, ind in rules.indicators.items()
    )


def school_unit_passes(units: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Add ``ratio_{k}``, ``met_{k}``, ``shortfall_{k}``, ``n_met``, ``min_ratio`` and ``passed`` per unit.

    >>> from youjun.standards import load_rule_set
    >>> rules = load_rule_set()
    >>> units = pl.DataFrame({"stage": ["primary"], "students": [500], "qualified_teachers": [21],
    ...     "backbone_teachers": [5], "pe_teachers": [3], "music_teachers": [1], "art_teachers": [1],
    ...     "teaching_aux_area": [2250.0], "indoor_sports_area": [0.0], "outdoor_sports_area": [3750.0],
    ...     "equipment_value": [1e6], "multimedia_rooms": [11]})
    >>> out = school_unit_passes(indicator_values(units, rules), rules)
    >>> out.select("met_R1", "met_R7", "shortfall_R7", "n_met", "passed").row(0)
    (True, False, 1.0, 6, True)
    """
    precision = rules.precision
    rule = rules.school_rule
    codes = list(rules.indicators)
    if rule is None or not all(rules.indicators[c].standard for c in codes):
        return units.with_columns(pl.lit(None, pl.Boolean).alias("passed"))
    exprs: list[pl.Expr] = []
    for code in codes:
        ind = rules.indicators[code]
        standard = standard_of(code, rules)
        value = pl.col(f"value_{code}")
        met = at_least(value, standard, precision, precision.compare_value_decimals)
        missing = standard * pl.col("students") / ind.per - pl.col(f"a_{code}")
        if ind.integral:
            missing = (missing * (1 - precision.tolerance)).ceil()
        exprs += [
            (value / standard).alias(f"ratio_{code}"),
            met.alias(f"met_{code}"),
            pl.when(met).then(None).otherwise(missing.clip(lower_bound=0)).alias(f"shortfall_{code}"),
        ]
    units = units.with_columns(exprs)
    decimals = precision.compare_value_decimals
    compared_ratios = [compared(pl.col(f"value_{c}"), precision, decimals) / standard_of(c, rules) for c in codes]
    ratio_floor = pl.min_horizontal(compared_ratios) >= rule.min_ratio * (1 - precision.tolerance)
    return units.with_columns(
        pl.sum_horizontal([pl.col(f"met_{c}").cast(pl.Int32) for c in codes]).alias("n_met"),
        pl.min_horizontal([pl.col(f"ratio_{c}") for c in codes]).alias("min_ratio"),
    ).with_columns(((pl.col("n_met") >= rule.min_met) & ratio_floor).alias("passed"))
