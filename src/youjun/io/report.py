"""Report frames with Chinese headers, shared by the Excel report and the terminal tables."""

from __future__ import annotations

import polars as pl

from youjun.engine.evaluate import ResourceEvaluation
from youjun.engine.precision import round_half_up

YES = "达标"
NO = "未达标"


def stage_label(ev: ResourceEvaluation) -> pl.Expr:
    return pl.col("stage").replace_strict(dict(ev.rules.stage_names), default=pl.col("stage"))


def shortfalls(ev: ResourceEvaluation) -> pl.DataFrame:
    """One row per unit and unmet indicator: value, standard, ratio and what is missing, in the indicator's unit."""
    if "met_" + ev.codes[0] not in ev.units.columns:
        return pl.DataFrame()
    parts = []
    precision = ev.rules.precision
    digits, tolerance = precision.display_value_decimals, precision.tolerance
    rule = ev.rules.school_rule
    for code, ind in ev.rules.indicators.items():
        standard = dict(ind.standard or {})
        standard_of = pl.col("stage").replace_strict(standard, default=None, return_dtype=pl.Float64)
        # Shown equal, not met: the value rounded as displayed reaches the standard (or the ratio shown reaches
        # the per-school rule's minimum) although the full-precision figure does not (decision 26).
        value, ratio = pl.col(f"value_{code}"), pl.col(f"ratio_{code}")
        shown_equal = round_half_up(value, digits, tolerance) >= standard_of * (1 - tolerance)
        if rule is not None:
            minimum = rule.min_ratio
            shown_equal = shown_equal | (
                (round_half_up(ratio, digits + 2, tolerance) >= minimum * (1 - tolerance)) & (ratio < minimum)
            )
        parts.append(
            ev.units.filter(pl.col(f"shortfall_{code}").is_not_null()).select(
                "year",
                "county_code",
                "county_name",
                "school_id",
                "school_name",
                "stage",
                "students",
                "passed",
                pl.lit(code).alias("indicator"),
                pl.lit(ind.name).alias("indicator_name"),
                pl.col(f"value_{code}").alias("value"),
                pl.col("stage").replace_strict(standard, default=None, return_dtype=pl.Float64).alias("standard"),
                pl.col(f"ratio_{code}").alias("ratio"),
                pl.col(f"shortfall_{code}").alias("shortfall"),
                pl.lit(ind.unit).alias("unit"),
                shown_equal.fill_null(False).alias("boundary"),
            )
        )
    return pl.concat(parts).sort(["year", "county_code", "passed", "school_id", "stage", "indicator"])
