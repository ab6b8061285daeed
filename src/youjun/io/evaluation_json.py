"""The evaluation JSON (data-contract.md §2, ``schema_version: 1``), written fast at national scale.

Per-unit objects are encoded by Polars (vectorised, shortest round-trip floats, no rounding) and joined per county;
only the ~3,000 county envelopes are assembled in Python. Keys beyond the contract are additive (see
docs/decisions.md): ``school_name`` and ``shortfall`` on units, ``cv_limit``, ``cv_boundary`` and ``influence`` on
stages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO, Any

import polars as pl

from youjun.engine.evaluate import COUNTY, ResourceEvaluation

SCHEMA_VERSION = 1


def _struct(prefix: str, codes: list[str]) -> pl.Expr:
    return pl.struct([pl.col(f"{prefix}_{c}").alias(c) for c in codes])


def _unit_json(ev: ResourceEvaluation) -> pl.DataFrame:
    codes = ev.codes
    fields: list[pl.Expr] = [
        pl.col("school_id"),
        pl.col("school_name"),
        pl.col("stage"),
        pl.col("students"),
        _struct("value", codes).alias("values"),
    ]
    if "met_" + codes[0] in ev.units.columns:
        fields += [
            _struct("met", codes).alias("met"),
            pl.col("passed"),
            _struct("shortfall", codes).alias("shortfall"),
        ]
    encoded = ev.units.select(*COUNTY, pl.struct(fields).struct.json_encode().alias("json"))
    return encoded.group_by(COUNTY, maintain_order=True).agg(pl.col("json").str.join(","))


def _excluded_json(ev: ResourceEvaluation) -> pl.DataFrame:
    encoded = ev.excluded.select(
        *COUNTY, pl.struct("school_id", "school_name", "reason").struct.json_encode().alias("json")
    )
    return encoded.group_by(COUNTY, maintain_order=True).agg(pl.col("json").str.join(","))


def _stage_objects(ev: ResourceEvaluation) -> dict[tuple[int, str], dict[str, Any]]:
    codes = ev.codes
    influence: dict[tuple[int, str, str], dict[str, Any]] = {}
    for row in ev.influence.iter_rows(named=True):
        influence.setdefault((row["year"], row["county_code"], row["stage"]), {})[row["indicator"]] = {
            "removal": {"school_id": row["removal_school_id"], "cv_after": row["cv_after_removal"]},
            "levelling": {"school_id": row["levelling_school_id"], "cv_after": row["cv_after_levelling"]},
        }
    out: dict[tuple[int, str], dict[str, Any]] = {}
    has_limits = "cv_passed_" + codes[0] in ev.stages.columns
    for row in ev.stages.iter_rows(named=True):
        stage: dict[str, Any] = {
            "units": row["units"],
            "units_passed": row["units_passed"],
            "students": row["students"],
            "county_value": {c: row[f"county_value_{c}"] for c in codes},
            "cv": {c: row[f"cv_{c}"] for c in codes},
        }
        if has_limits:
            stage["cv_limit"] = row["cv_limit"]
            stage["cv_passed"] = {c: row[f"cv_passed_{c}"] for c in codes}
            stage["cv_boundary"] = [c for c in codes if row[f"cv_boundary_{c}"]]
        if "composite" in row:
            stage["composite"] = row["composite"]
            stage["composite_limit"] = row["composite_limit"]
        stage["passed"] = row["passed"]
        stage["influence"] = influence.get((row["year"], row["county_code"], row["stage"]), {})
        out.setdefault((row["year"], row["county_code"]), {})[row["stage"]] = stage
    order: dict[str, int] = {stage: i for i, stage in enumerate(ev.rules.stages)}
    return {key: dict(sorted(value.items(), key=lambda kv: order[kv[0]])) for key, value in out.items()}


def iter_json(ev: ResourceEvaluation) -> Iterator[str]:
    """The evaluation JSON as text chunks (concatenate them, or write them one by one)."""
    units = {(r[0], r[1]): r[2] for r in _unit_json(ev).iter_rows()}
    excluded = {(r[0], r[1]): r[2] for r in _excluded_json(ev).iter_rows()}
    stages = _stage_objects(ev)
    dumps = json.dumps
    yield f'{{"schema_version":{SCHEMA_VERSION},"standard":{dumps(ev.rules.id)},"counties":['
    for i, row in enumerate(ev.counties.iter_rows(named=True)):
        key = (row["year"], row["county_code"])
        head = {"county_code": row["county_code"], "county_name": row["county_name"], "year": row["year"]}
        resource = {"passed": row["passed"], "stages": stages.get(key, {})}
        yield (
            ("," if i else "")
            + dumps(head, ensure_ascii=False)[:-1]
            + ',"resource_allocation":'
            + dumps(resource, ensure_ascii=False)[:-1]
            + ',"units":['
            + units.get(key, "")
            + '],"excluded":['
            + excluded.get(key, "")
            + "]}}"
        )
    yield "]}\n"


def write_json(ev: ResourceEvaluation, target: str | os.PathLike[str] | IO[str]) -> None:
    """Write the evaluation JSON to a path or an open text stream."""
    if isinstance(target, (str, os.PathLike)):
        partial = f"{os.fspath(target)}.partial"
        with open(partial, "w", encoding="utf-8") as fh:
            fh.writelines(iter_json(ev))
        os.replace(partial, target)  # a reader never sees a half-written file
    else:
        target.writelines(iter_json(ev))


def to_dict(ev: ResourceEvaluation) -> dict[str, Any]:
    """The evaluation JSON as Python objects (for library users and tests)."""
    result: dict[str, Any] = json.loads("".join(iter_json(ev)))
    return result
