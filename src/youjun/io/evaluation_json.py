"""The evaluation JSON (data-contract.md §2, ``schema_version: 1``), written fast at national scale.

Per-unit objects are encoded by Polars (vectorised, shortest round-trip floats, no rounding) and joined per county;
only the ~3,000 county envelopes are assembled in Python. Keys beyond the contract are additive (see
docs/decisions.md): ``school_name`` and ``shortfall`` on units, ``cv_limit``, ``cv_boundary`` and ``influence`` on
stages.
"""

from __future__ import annotations

import io
import json
import os
from typing import IO, Any

import polars as pl

from youjun.engine.evaluate import COUNTY, ResourceEvaluation

SCHEMA_VERSION = 1
STAGE_KEYS = [*COUNTY, "stage"]


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
    if "met_" + codes[0] not in ev.units.columns:
        return _joined(ev.units, COUNTY, pl.struct(fields).struct.json_encode())
    fields += [_struct("met", codes).alias("met"), pl.col("passed")]
    plain = pl.struct(fields).struct.json_encode()
    # Units with a gap also carry "shortfall" (null for the indicators that are met).
    with_gap = pl.concat_str(
        plain.str.strip_suffix("}"),
        pl.lit(',"shortfall":'),
        _struct("shortfall", codes).struct.json_encode(),
        pl.lit("}"),
    )
    has_gap = ~pl.all_horizontal([pl.col(f"met_{c}") for c in codes])
    return _joined(ev.units, COUNTY, pl.when(has_gap).then(with_gap).otherwise(plain))


def _excluded_json(ev: ResourceEvaluation) -> pl.DataFrame:
    return _joined(ev.excluded, COUNTY, pl.struct("school_id", "school_name", "reason").struct.json_encode())


def _joined(frame: pl.DataFrame, keys: list[str], piece: pl.Expr) -> pl.DataFrame:
    """One string per key group: the pieces joined by commas, in frame order (group order does not matter: the
    groups are joined onto the counties)."""
    return frame.select(*keys, piece.alias("json")).group_by(keys).agg(pl.col("json").str.join(","))


def _influence_json(ev: ResourceEvaluation) -> pl.DataFrame:
    """Per (year, county, stage): ``{"R1": {"removal": {...}, "levelling": {...}}, ...}``."""
    role = {
        r: pl.struct(pl.col(f"{r}_school_id").alias("school_id"), pl.col(f"cv_after_{r}").alias("cv_after")).alias(r)
        for r in ("removal", "levelling")
    }
    piece = pl.concat_str(
        pl.lit('"'),
        pl.col("indicator"),
        pl.lit('":'),
        pl.struct(role["removal"], role["levelling"]).struct.json_encode(),
    )
    by_stage = _joined(ev.influence.sort(["year", "county_code", "stage", "indicator"]), STAGE_KEYS, piece)
    return by_stage.with_columns(pl.concat_str(pl.lit("{"), pl.col("json"), pl.lit("}")).alias("json"))


def _stages_json(ev: ResourceEvaluation) -> pl.DataFrame:
    """Per county: ``"primary": {...}, "junior": {...}`` with every stage figure, in the rule set's stage order."""
    codes = ev.codes
    stages = ev.stages
    fields: list[pl.Expr] = [
        pl.col("units"),
        pl.col("units_passed"),
        pl.col("students"),
        _struct("county_value", codes).alias("county_value"),
        _struct("cv", codes).alias("cv"),
    ]
    if "cv_passed_" + codes[0] in stages.columns:
        boundary = pl.concat_list([pl.when(pl.col(f"cv_boundary_{c}")).then(pl.lit(c)) for c in codes])
        fields += [
            pl.col("cv_limit"),
            _struct("cv_passed", codes).alias("cv_passed"),
            boundary.list.drop_nulls().alias("cv_boundary"),
        ]
    if "composite" in stages.columns:
        fields += [pl.col("composite"), pl.col("composite_limit")]
    fields.append(pl.col("passed"))
    influence = _influence_json(ev).rename({"json": "influence"})
    encoded = stages.join(influence, on=STAGE_KEYS, how="left", maintain_order="left")
    body = pl.struct(fields).struct.json_encode().str.strip_suffix("}")
    piece = pl.concat_str(
        pl.lit('"'),
        pl.col("stage"),
        pl.lit('":'),
        body,
        pl.lit(',"influence":'),
        pl.col("influence").fill_null("{}"),
        pl.lit("}"),
    )
    return _joined(encoded, COUNTY, piece)


def county_json(ev: ResourceEvaluation) -> pl.Series:
    """One JSON object per county (year, county) of the evaluation, in county order."""
    parts = {
        "stages": _stages_json(ev),
        "units": _unit_json(ev),
        "excluded": _excluded_json(ev),
    }
    frame = ev.counties
    for name, part in parts.items():
        frame = frame.join(part.rename({"json": f"_{name}"}), on=COUNTY, how="left", maintain_order="left")
    head = pl.struct("county_code", "county_name", "year").struct.json_encode().str.strip_suffix("}")
    return frame.select(
        pl.concat_str(
            head,
            pl.lit(',"resource_allocation":{"passed":'),
            pl.when(pl.col("passed")).then(pl.lit("true")).otherwise(pl.lit("false")),
            pl.lit(',"stages":{'),
            pl.col("_stages").fill_null(""),
            pl.lit('},"units":['),
            pl.col("_units").fill_null(""),
            pl.lit('],"excluded":['),
            pl.col("_excluded").fill_null(""),
            pl.lit("]}}"),
        )
    ).to_series()


def write_json(ev: ResourceEvaluation, target: str | os.PathLike[str] | IO[str] | IO[bytes]) -> None:
    """Write the evaluation JSON to a path or an open stream: one county object per line, values unrounded.

    The county lines go from Polars to the file without becoming Python strings (national scale: ~100 MB).
    """
    lines = county_json(ev).to_frame()

    def body(sink: IO[bytes]) -> None:  # counties separated by ",\n"; no copy of the ~100 MB of text
        lines.head(-1).write_csv(sink, include_header=False, quote_style="never", line_terminator=",\n")
        lines.tail(1).write_csv(sink, include_header=False, quote_style="never")

    head = f'{{"schema_version":{SCHEMA_VERSION},"standard":{json.dumps(ev.rules.id)},"counties":[\n'.encode()
    tail = b"]}\n"
    if isinstance(target, (str, os.PathLike)):
        partial = f"{os.fspath(target)}.partial"
        with open(partial, "wb") as fh:
            fh.write(head)
            body(fh)
            fh.write(tail)
        os.replace(partial, target)  # a reader never sees a half-written file
        return
    buffer = io.BytesIO()
    buffer.write(head)
    body(buffer)
    buffer.write(tail)
    if isinstance(target, io.TextIOBase):
        target.write(buffer.getvalue().decode())
    else:
        target.write(buffer.getvalue())  # type: ignore[arg-type]


def to_dict(ev: ResourceEvaluation) -> dict[str, Any]:
    """The evaluation JSON as Python objects (for library users and tests)."""
    buffer = io.BytesIO()
    write_json(ev, buffer)
    result: dict[str, Any] = json.loads(buffer.getvalue())
    return result
