"""The resource-allocation evaluation of every county in a school frame (standard-2017.md §1–3).

scope → split into units → R1–R7 per unit → per-school rule and shortfall → difference coefficients per county,
stage and indicator → influence → county verdict. Counties are identified by (year, county_code).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from youjun.engine.balance import balance_by_stage, influence, unit_groups
from youjun.engine.resources import indicator_values, school_unit_passes
from youjun.engine.scope import scope_schools
from youjun.engine.split import split_shared_resources
from youjun.standards.model import RuleSet

COUNTY = ["year", "county_code"]


@dataclass(frozen=True, slots=True)
class ResourceEvaluation:
    """Every figure of the resource-allocation part, traceable to its inputs.

    - ``units``: one row per (school, stage) with students, share, numerators ``a_k``, ``value_k``, ``ratio_k``,
      ``met_k``, ``shortfall_k``, ``n_met``, ``min_ratio``, ``passed``;
    - ``excluded``: schools out of scope with the reason;
    - ``stages``: one row per county and stage with ``county_value_k``, ``cv_k``, ``cv_passed_k``,
      ``cv_boundary_k``, limits, unit counts and ``passed``;
    - ``influence``: per county, stage and indicator, the most influential units;
    - ``counties``: one row per county with ``passed``.
    """

    rules: RuleSet
    units: pl.DataFrame
    excluded: pl.DataFrame
    stages: pl.DataFrame
    influence: pl.DataFrame
    counties: pl.DataFrame

    @property
    def codes(self) -> list[str]:
        return list(self.rules.indicators)


def _ordered(schools: pl.DataFrame) -> pl.DataFrame:
    """Schools ordered by year, county and school id; most files already are, and are then left as they are."""
    keys = ["year", "county_code", "school_id"]
    at_or_after = pl.lit(True)
    for name in reversed(keys):  # lexicographic: this row ≥ the previous row
        previous = pl.col(name).shift(1)
        at_or_after = (pl.col(name) > previous) | ((pl.col(name) == previous) & at_or_after)
    if schools.select(at_or_after.fill_null(True).all()).item():
        return schools
    return schools.sort(keys)


def evaluate_resources(schools: pl.DataFrame, rules: RuleSet) -> ResourceEvaluation:
    """Evaluate resource allocation for every (year, county) in ``schools`` (one row per school and year)."""
    in_scope, excluded = scope_schools(_ordered(schools), rules.scope)
    # Units come out stage by stage, each stage ordered by county and school: groups are contiguous.
    units = split_shared_resources(in_scope, rules.split, rules.stages)
    units = school_unit_passes(indicator_values(units, rules), rules)
    groups = unit_groups(units)
    stages = balance_by_stage(units, rules, groups)
    most = influence(units, rules, groups)

    every = schools.group_by(COUNTY, maintain_order=True).agg(pl.col("county_name").first()).sort(COUNTY)
    verdicts = stages.group_by(COUNTY).agg(
        pl.col("units").sum(),
        pl.col("units_passed").sum(),
        pl.col("passed").all(),
    )
    counties = (
        every.join(verdicts, on=COUNTY, how="left")
        .with_columns(
            pl.col("units").fill_null(0),
            pl.col("units_passed").fill_null(0),
            # A county with no evaluated unit has nothing that could pass: not a pass.
            pl.col("passed").fill_null(False),
        )
        .sort(COUNTY)
    )
    return ResourceEvaluation(rules, units, excluded, stages, most, counties)
