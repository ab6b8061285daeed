"""The evaluation JSON (data-contract.md §2, ``schema_version: 1``), written fast at national scale.

Per-unit objects are encoded by Polars (vectorised, shortest round-trip floats, no rounding), in the order of the
county lines, and written one by one between the text of their county (``county_tokens``); nothing is assembled in
Python. Keys beyond the contract are additive (see
docs/decisions.md): ``school_name`` on units, ``cv_limit``, ``cv_boundary`` and ``influence`` on stages, and a
``shortfalls`` list per county.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from typing import IO, TYPE_CHECKING, Any

import polars as pl

from youjun.engine.evaluate import COUNTY, ResourceEvaluation
from youjun.engine.status import MET, NOT_MET
from youjun.io.report import shortfalls
from youjun.io.targets import check_target

if TYPE_CHECKING:  # an Assessment comes with its modules imported: a resource evaluation needs none of them
    from youjun.engine.assessment import Assessment
    from youjun.engine.items import ItemEvaluation

SCHEMA_VERSION = 1
STAGE_KEYS = [*COUNTY, "stage"]
RECOGNITION_INPUTS = pl.Struct({"recognition_valid": pl.Int64, "recognition_positive": pl.Int64})


def _struct(prefix: str, codes: list[str]) -> pl.Expr:
    return pl.struct([pl.col(f"{prefix}_{c}").alias(c) for c in codes])


def _unit_json(ev: ResourceEvaluation, counties: pl.DataFrame) -> pl.DataFrame:
    """Every unit's JSON object (``json``) with ``k``, the position of its county in ``counties`` (``k`` and the
    county keys): in county order, and in the order of the units within a county."""
    codes = ev.codes
    fields: list[pl.Expr] = [
        pl.col("school_id"),
        pl.col("school_name"),
        pl.col("stage"),
        pl.col("students"),
        _struct("value", codes).alias("values"),
    ]
    # The school's type and largest class (for monitoring's school-size and class-size rules), after the figures.
    fields += [pl.col(name) for name in ("school_type", "max_class_size") if name in ev.units.columns]
    if "met_" + codes[0] in ev.units.columns:
        fields += [_struct("met", codes).alias("met"), pl.col("passed")]
    encoded = (
        ev.units.lazy()
        .join(counties.lazy(), on=COUNTY, how="inner", maintain_order="left")
        .select("k", pl.struct(fields).struct.json_encode().alias("json"))
        .collect()
    )
    return encoded.sort("k", maintain_order=True)  # moving the encoded text costs less than moving the columns


def _shortfalls_json(ev: ResourceEvaluation) -> pl.LazyFrame:
    """Per county: every unmet indicator of every unit, with what is missing to meet it."""
    gaps = shortfalls(_narrow(ev))
    if gaps.height == 0:
        return pl.LazyFrame(schema={"year": pl.Int64, "county_code": pl.String, "json": pl.String})
    fields = ["school_id", "stage", "indicator", "value", "standard", "ratio", "shortfall", "unit", "boundary"]
    piece = pl.struct(*fields, pl.col("passed").alias("unit_passed")).struct.json_encode()
    return _joined(gaps, COUNTY, piece)


def _narrow(ev: ResourceEvaluation) -> ResourceEvaluation:
    """``ev`` with only the unit columns ``shortfalls`` reads: it filters the units once per indicator, and a
    narrower frame is cheaper to filter (the result is the same)."""
    names = ["year", "county_code", "county_name", "school_id", "school_name", "stage", "students", "passed"]
    for code in ev.codes:
        names += [f"met_{code}", f"value_{code}", f"ratio_{code}", f"shortfall_{code}"]
    if not all(name in ev.units.columns for name in names):
        return ev
    return dataclasses.replace(ev, units=ev.units.select(names))


def _excluded_json(ev: ResourceEvaluation) -> pl.LazyFrame:
    return _joined(ev.excluded, COUNTY, pl.struct("school_id", "school_name", "reason").struct.json_encode())


def _joined(frame: pl.DataFrame | pl.LazyFrame, keys: list[str], piece: pl.Expr) -> pl.LazyFrame:
    """One string per key group: the pieces joined by commas, in frame order (group order does not matter: the
    groups are joined onto the counties)."""
    return frame.lazy().select(*keys, piece.alias("json")).group_by(keys).agg(pl.col("json").str.join(","))


def _influence_json(ev: ResourceEvaluation) -> pl.LazyFrame:
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
    by_stage = _joined(ev.influence.lazy().sort(["year", "county_code", "stage", "indicator"]), STAGE_KEYS, piece)
    return by_stage.with_columns(pl.concat_str(pl.lit("{"), pl.col("json"), pl.lit("}")).alias("json"))


def _stages_json(ev: ResourceEvaluation) -> pl.LazyFrame:
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
    encoded = stages.lazy().join(influence, on=STAGE_KEYS, how="left", maintain_order="left")
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


def _bool(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr).then(pl.lit("true")).otherwise(pl.lit("false"))


def _item_objects(items: pl.DataFrame, schools: pl.DataFrame | None, extra: list[pl.Expr] | None = None) -> pl.Expr:
    """The JSON object of each item row: the item fields, its inputs and (school items) the schools not met."""
    fields = ["code", "name", "kind", "status", "value", "threshold", "detail", "boundary"]
    head = pl.struct(*fields, *(extra or [])).struct.json_encode().str.strip_suffix("}")
    tail = pl.lit("}") if schools is None else pl.concat_str(pl.lit(',"schools":['), pl.col("_schools"), pl.lit("]}"))
    return pl.concat_str(head, pl.lit(',"inputs":'), pl.col("inputs"), tail)


def _failing_schools(ev: ItemEvaluation) -> pl.DataFrame:
    """Per (county, item): the schools that fail, cannot be checked or sit on a boundary, as a JSON list body."""
    keys = [*COUNTY, "code"]
    fields = ["school_id", "school_name", "status", "value", "threshold", "detail", "boundary"]
    failing = ev.schools.filter((pl.col("status") != MET) | pl.col("boundary"))
    if failing.height == 0:
        return pl.DataFrame(schema={**dict.fromkeys(keys, pl.String), "year": pl.Int64, "_schools": pl.String})
    return _joined(failing, keys, pl.struct(fields).struct.json_encode()).rename({"json": "_schools"}).collect()


def _items_section(ev: ItemEvaluation, status: pl.DataFrame, name: str) -> pl.DataFrame:
    """``"name":{"status":…,"passed":…,"met":n,…,"items":[…]}`` per county."""
    items = ev.items.join(_failing_schools(ev), on=[*COUNTY, "code"], how="left", maintain_order="left")
    items = items.with_columns(pl.col("_schools").fill_null(""))
    body = items.select(*COUNTY, "status", _item_objects(items, ev.schools).alias("json"))
    counts = body.group_by(COUNTY).agg(
        (pl.col("status") == MET).sum().alias("met"),
        (pl.col("status") == NOT_MET).sum().alias("not_met"),
        (pl.col("status") == "insufficient_data").sum().alias("insufficient_data"),
        pl.len().alias("total"),
        pl.col("json").str.join(","),
    )
    frame = status.join(counts, on=COUNTY, how="left")
    head = pl.struct(
        pl.col(name).alias("status"),
        (pl.col(name) == MET).alias("passed"),
        "met",
        "not_met",
        "insufficient_data",
        "total",
    ).struct.json_encode()
    piece = pl.concat_str(
        pl.lit(f'"{name}":'),
        head.str.strip_suffix("}"),
        pl.lit(',"items":['),
        pl.col("json").fill_null(""),
        pl.lit("]}"),
    )
    return frame.select(*COUNTY, piece.alias("json"))


def assessment_fragments(a: Assessment) -> pl.DataFrame:
    """Per county: the sections beside ``resource_allocation`` (docs/assessment-json.md), as one JSON text."""
    from youjun.engine.assessment import PARTS

    status = a.verdict.select(*COUNTY, *PARTS)
    sections = (
        _items_section(a.guarantee, status, "government_guarantee"),
        _items_section(a.quality, status, "education_quality"),
        _recognition_section(a),
        _vetoes_section(a, status),
        _verdict_section(a),
    )
    frame = status.select(COUNTY)
    names = []
    for i, part in enumerate(sections):
        frame = frame.join(part.rename({"json": f"_{i}"}), on=COUNTY, how="left")
        names.append(pl.col(f"_{i}"))
    return frame.select(*COUNTY, pl.concat_str(names, separator=",").alias("json"))


def _recognition_section(a: Assessment) -> pl.DataFrame:
    """``"social_recognition": {…}`` per county: S1 with its valid and positive answers and its inputs."""
    s1 = a.recognition.with_columns(pl.col("inputs").str.json_decode(RECOGNITION_INPUTS).alias("_in"))
    return s1.select(
        *COUNTY,
        pl.concat_str(
            pl.lit('"social_recognition":'),
            pl.struct(
                "code",
                "name",
                "status",
                (pl.col("status") == MET).alias("passed"),
                "value",
                "threshold",
                pl.col("_in").struct.field("recognition_valid").alias("valid"),
                pl.col("_in").struct.field("recognition_positive").alias("positive"),
                "detail",
                "boundary",
            )
            .struct.json_encode()
            .str.strip_suffix("}"),
            pl.lit(',"inputs":'),
            pl.col("inputs"),
            pl.lit("}"),
        ).alias("json"),
    )


def _vetoes_section(a: Assessment, status: pl.DataFrame) -> pl.DataFrame:
    """``"vetoes": {…}`` per county: the part's status, how many were found, and every veto item."""
    vetoed = pl.when(pl.col("status") == "insufficient_data").then(None).otherwise(pl.col("status") == NOT_MET)
    veto_items = a.vetoes.items.select(
        *COUNTY, "status", _item_objects(a.vetoes.items, None, [vetoed.alias("vetoed")]).alias("json")
    )
    veto_lists = veto_items.group_by(COUNTY).agg(
        (pl.col("status") == NOT_MET).sum().alias("found"), pl.col("json").str.join(",")
    )
    return status.join(veto_lists, on=COUNTY, how="left").select(
        *COUNTY,
        pl.concat_str(
            pl.lit('"vetoes":'),
            pl.struct(pl.col("vetoes").alias("status"), (pl.col("vetoes") == MET).alias("passed"), "found")
            .struct.json_encode()
            .str.strip_suffix("}"),
            pl.lit(',"items":['),
            pl.col("json").fill_null(""),
            pl.lit("]}"),
        ).alias("json"),
    )


def _verdict_section(a: Assessment) -> pl.DataFrame:
    """``"verdict": {…}`` per county: status, conclusion, the parts, eligibility and the ranked reasons."""
    from youjun.engine.assessment import PARTS

    eligibility = a.eligibility.select(
        *COUNTY,
        pl.struct(
            "status",
            pl.col("inputs")
            .str.json_decode(pl.Struct({"basic_balance_year": pl.Int64}))
            .struct.field("basic_balance_year"),
            pl.col("value").cast(pl.Int64).alias("years"),
            pl.col("threshold").cast(pl.Int64).alias("min_years"),
            "detail",
        )
        .struct.json_encode()
        .alias("_eligibility"),
    )
    reasons = _joined(
        a.reasons, COUNTY, pl.struct("rank", "part", "code", "status", "message", "ref").struct.json_encode()
    ).collect()
    decided = a.verdict.join(eligibility, on=COUNTY, how="left").join(
        reasons.rename({"json": "_reasons"}), on=COUNTY, how="left"
    )
    return decided.select(
        *COUNTY,
        pl.concat_str(
            pl.lit('"verdict":'),
            pl.struct(
                "status", (pl.col("status") == MET).alias("passed"), "conclusion", pl.struct(*PARTS).alias("parts")
            )
            .struct.json_encode()
            .str.strip_suffix("}"),
            pl.lit(',"eligibility":'),
            pl.col("_eligibility"),
            pl.lit(',"reasons":['),
            pl.col("_reasons").fill_null(""),
            pl.lit("]}"),
        ).alias("json"),
    )


def _counties(ev: ResourceEvaluation | Assessment) -> tuple[pl.LazyFrame, ResourceEvaluation]:
    """One row per county (in county order) with ``prefix`` and ``suffix``: its JSON object around its units.

    ``prefix`` ends where the units begin, ``suffix`` starts where they end; the pieces of a county are separated by
    a space (JSON whitespace). An ``Assessment`` adds its sections after ``resource_allocation``."""
    sections = None if isinstance(ev, ResourceEvaluation) else assessment_fragments(ev)
    frame: pl.LazyFrame
    if not isinstance(ev, ResourceEvaluation):
        # Every county of either sheet (decision 18): one without school rows has an empty, unjudged
        # resource_allocation ("passed": false, no stages) beside the parts it can be judged on.
        universe = ev.verdict.lazy().select(*COUNTY, "county_name", pl.col("resource_allocation").alias("_status"))
        frame = universe.join(
            ev.resources.counties.lazy().drop("county_name"), on=COUNTY, how="left", maintain_order="left"
        ).with_columns(pl.col("passed").fill_null(False))
        ev = ev.resources
    else:
        frame = ev.counties.lazy().with_columns(
            pl.when(pl.col("passed")).then(pl.lit(MET)).otherwise(pl.lit(NOT_MET)).alias("_status")
        )
    parts = {"stages": _stages_json(ev), "excluded": _excluded_json(ev), "shortfalls": _shortfalls_json(ev)}
    for name, part in parts.items():
        frame = frame.join(part.rename({"json": f"_{name}"}), on=COUNTY, how="left", maintain_order="left")
    head = pl.struct("county_code", "county_name", "year").struct.json_encode().str.strip_suffix("}")
    verdict = _bool(pl.col("passed"))
    end = pl.lit("]}}")
    if sections is not None:
        frame = frame.join(sections.lazy().rename({"json": "_sections"}), on=COUNTY, how="left", maintain_order="left")
        end = pl.concat_str(pl.lit("]},"), pl.col("_sections"), pl.lit("}"))
    opening = pl.concat_str(
        head, pl.lit(',"resource_allocation":{"status":"'), pl.col("_status"), pl.lit('","passed":'), verdict
    )
    prefix = [
        pl.concat_str(opening, pl.lit(',"stages":{')).fill_null(""),
        pl.col("_stages").fill_null(""),
        pl.lit('},"units":['),
        pl.lit(""),  # the units
    ]
    suffix = [
        pl.lit(""),  # the units
        pl.lit('],"excluded":['),
        pl.col("_excluded").fill_null(""),
        pl.lit('],"shortfalls":['),
        pl.col("_shortfalls").fill_null(""),
        end.fill_null(""),
    ]
    return frame.select(
        *COUNTY,
        pl.concat_str(prefix, separator=" ").alias("prefix"),
        pl.concat_str(suffix, separator=" ").alias("suffix"),
    ), ev


def county_tokens(ev: ResourceEvaluation | Assessment) -> pl.DataFrame:
    """The evaluation's counties as pieces of text (column ``t``) that form the county lines when each is followed
    by a comma: the units of a county one by one, its first unit with the text before it, its last with the text
    after it, and a county's first piece starting on a new line (the comma before it ends the county before).

    The ~100 MB of unit text is written as Polars encoded it, in the order of the lines, without being copied to
    join it per county."""
    lazy, ev = _counties(ev)
    counties = lazy.with_row_index("k").collect()
    units = _unit_json(ev, counties.select("k", *COUNTY))
    k, t = units["k"], units["json"]
    first, last = (k != k.shift(1)).fill_null(True).arg_true(), (k != k.shift(-1)).fill_null(True).arg_true()
    newline = pl.when(pl.col("k") > 0).then(pl.lit("\n")).otherwise(pl.lit(""))
    ends = units.select(pl.col("k", "json").gather(last)).join(counties, on="k", how="left", maintain_order="left")
    t = t.scatter(last, ends.select(pl.concat_str("json", "suffix")).to_series())
    starts = pl.DataFrame({"k": k.gather(first), "json": t.gather(first)})
    starts = starts.join(counties, on="k", how="left", maintain_order="left")
    t = t.scatter(first, starts.select(pl.concat_str(newline, "prefix", "json")).to_series())
    tokens = pl.DataFrame({"k": k, "t": t})
    # A county without units: its text before and after them, with nothing between.
    empty = counties.join(tokens.select("k").unique(), on="k", how="anti")
    if empty.height:
        filler = empty.select("k", pl.concat_str(newline, "prefix", "suffix").alias("t"))
        tokens = pl.concat([tokens, filler]).sort("k", maintain_order=True)
    return tokens.select("t")


def write_json(ev: ResourceEvaluation | Assessment, target: str | os.PathLike[str] | IO[str] | IO[bytes]) -> None:
    """Write the evaluation JSON to a path or an open stream: one county object per line, values unrounded.

    The county lines go from Polars to the file without becoming Python strings (national scale: ~100 MB).
    """
    tokens = county_tokens(ev)
    options: dict[str, Any] = {"include_header": False, "quote_style": "never"}

    def body(sink: IO[bytes]) -> None:  # every piece followed by a comma; the last ends the last county's line
        tokens.head(-1).write_csv(sink, line_terminator=",", **options)
        tokens.tail(1).write_csv(sink, **options)

    rules = ev.rules
    head = f'{{"schema_version":{SCHEMA_VERSION},"standard":{json.dumps(rules.id)},"counties":[\n'.encode()
    tail = b"]}\n"
    if isinstance(target, (str, os.PathLike)):
        check_target(target)
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


def to_dict(ev: ResourceEvaluation | Assessment) -> dict[str, Any]:
    """The evaluation JSON as Python objects (for library users and tests)."""
    buffer = io.BytesIO()
    write_json(ev, buffer)
    result: dict[str, Any] = json.loads(buffer.getvalue())
    return result
