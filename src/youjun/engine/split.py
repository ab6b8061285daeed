"""Split multi-stage schools into (school, stage) units (standard-2017.md §2).

Students and teachers are taken per stage as reported. Shared physical resources are apportioned by weighted
students: share of stage g = w_g·n_g / Σ_h w_h·n_h with weights primary : junior : senior = 1 : 1.1 : 1.32.
"""

from __future__ import annotations

import polars as pl

from youjun.standards.model import Split

ALL_STAGES = ("primary", "junior", "senior")
#: Per-stage fields (``{base}_primary`` / ``{base}_junior`` in the workbook), named by base on a unit.
STAGED_FIELDS = (
    "teachers",
    "qualified_teachers",
    "backbone_teachers",
    "pe_teachers",
    "music_teachers",
    "art_teachers",
    "itinerant_pe_art_teachers",
    "titled_teachers",
    "classes",
    "max_class_size",
)
UNIT_KEYS = [
    "year",
    "county_code",
    "county_name",
    "school_id",
    "school_name",
    "school_type",
    "ownership",
    "urban_rural",
]


def stage_share(stage: str, split: Split) -> pl.Expr:
    """Share of a school's shared resources that belongs to ``stage``.

    >>> from youjun.standards import load_rule_set
    >>> df = pl.DataFrame({"students_primary": [166], "students_junior": [210], "students_senior": [0]})
    >>> round(df.select(stage_share("primary", load_rule_set().split)).item() * 23226, 2)
    9711.63
    >>> round(df.select(stage_share("junior", load_rule_set().split)).item() * 23226, 2)
    13514.37
    """
    weights = split.weights if split.method == "weighted_students" else dict.fromkeys(ALL_STAGES, 1.0)
    total = pl.sum_horizontal(pl.col(f"students_{s}").fill_null(0).cast(pl.Float64) * weights[s] for s in ALL_STAGES)
    return pl.col(f"students_{stage}").cast(pl.Float64) * weights[stage] / total


def split_shared_resources(schools: pl.DataFrame, split: Split, stages: tuple[str, ...]) -> pl.DataFrame:
    """One row per (school, stage) with students of the stage, its staged fields and its share of shared ones."""
    if "students_senior" not in schools.columns:
        schools = schools.with_columns(pl.lit(0, pl.Int64).alias("students_senior"))
    keys = [c for c in UNIT_KEYS if c in schools.columns]
    flags = [c for c in ("dense_city_centre", "boarding", "built_year", "migrant_students") if c in schools.columns]
    shared = [f for f in split.shared if f in schools.columns]
    frames = []
    for stage in stages:
        share = stage_share(stage, split)
        staged_fields = [f"{base}_{stage}" for base in STAGED_FIELDS if f"{base}_{stage}" in schools.columns]
        staged = [pl.col(field).alias(field.removesuffix(f"_{stage}")) for field in staged_fields]
        # Only the columns a unit takes are filtered (the same rows and values: a cheaper copy).
        needed = dict.fromkeys([*keys, *(f"students_{s}" for s in ALL_STAGES), *staged_fields, *shared, *flags])
        frames.append(
            schools.select(list(needed))
            .filter(pl.col(f"students_{stage}") > 0)
            .select(
                *keys,
                pl.lit(stage).alias("stage"),
                pl.col(f"students_{stage}").alias("students"),
                share.alias("share"),
                *staged,
                *[(pl.col(f).cast(pl.Float64) * share).alias(f) for f in shared],
                *flags,
            )
        )
    return pl.concat(frames, how="diagonal_relaxed") if frames else schools.clear()
