"""Report frames with Chinese headers, shared by the Excel report and the terminal tables."""

from __future__ import annotations

import polars as pl

from youjun.engine.evaluate import ResourceEvaluation

YES = "达标"
NO = "未达标"


def stage_label(ev: ResourceEvaluation) -> pl.Expr:
    return pl.col("stage").replace_strict(dict(ev.rules.stage_names), default=pl.col("stage"))


def shortfalls(ev: ResourceEvaluation) -> pl.DataFrame:
    """One row per unit and unmet indicator: value, standard, ratio and what is missing, in the indicator's unit."""
    if "met_" + ev.codes[0] not in ev.units.columns:
        return pl.DataFrame()
    parts = []
    for code, ind in ev.rules.indicators.items():
        standard = dict(ind.standard or {})
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
            )
        )
    return pl.concat(parts).sort(["year", "county_code", "passed", "school_id", "stage", "indicator"])
