"""A year's results for many counties at once: one query for the records, one engine run per rule set, bulk writes.

The per-county pipeline (``pipeline.recompute``) reads one county-year under its lock, runs the engine and stores
the result. Recomputing a whole year that way costs ~0.2 s per county (≈ 10 min for the country); here the year's
approved records come in one query, the engine runs once for all the counties under the same rule set, and the
results are written in bulk — the same documents, the same stamps.

Consistency with concurrent changes: the input generation of every county-year is read *before* its data; the
results are written in chunks, each under the county-years' locks (PostgreSQL advisory locks; the embedded
database's single writer), and a county-year whose generation moved meanwhile is left to its own queued recompute
rather than overwritten with the older reading. Counties whose county-level inputs exist are read through the same
selector as the pipeline (``assessment.services.counties_frame``), the rest get the empty county row the pipeline
would build.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from youjun.engine import ENGINE_VERSION, assess
from youjun.io.evaluation_json import to_dict
from youjun.web.assessment.models import CountyInputs, Review, VetoFinding
from youjun.web.assessment.services import counties_frame
from youjun.web.bulk import refresh_statistics
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.collection.selectors import SCHEMA
from youjun.web.evaluation import pipeline
from youjun.web.evaluation.models import CountyEvaluation, EvaluationState
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.rulesets import services as rulesets
from youjun.web.survey.models import Campaign

log = logging.getLogger("youjun.evaluation")
CHUNK = 250


@dataclass
class Outcome:
    """What a batch recompute did, with the time of each phase (seconds)."""

    stored: int = 0
    removed: int = 0
    moved_on: list[str] = field(default_factory=list)  # changed while computing: left to their own recompute
    seconds: dict[str, float] = field(default_factory=dict)


def _timed(outcome: Outcome, phase: str, started: float) -> float:
    now = time.perf_counter()
    outcome.seconds[phase] = round(outcome.seconds.get(phase, 0.0) + now - started, 3)
    return now


def _generations(year: int, counties: Iterable[OrgUnit]) -> dict[int, int]:
    ids = [c.pk for c in counties]
    known = dict(EvaluationState.objects.filter(year=year, county_id__in=ids).values_list("county_id", "generation"))
    missing = [EvaluationState(county_id=i, year=year) for i in ids if i not in known]
    EvaluationState.objects.bulk_create(missing, ignore_conflicts=True, batch_size=1000)
    return {i: known.get(i, 0) for i in ids}


def _schools(year: int, county_ids: list[int]) -> pl.DataFrame:
    """Every approved record of the year for these counties as the engine's school frame (one query)."""
    if connection.vendor == "postgresql":
        return _schools_postgresql(year, county_ids)
    rows = (
        SchoolRecord.objects.filter(year=year, status=RecordStatus.APPROVED, county_id__in=county_ids)
        .order_by()
        .values_list("values", "school__school_id", "school_name", "school__name", "county__code", "county__name")
    )
    records = [
        {
            **values,
            "year": year,
            "school_id": sid,
            "school_name": own or current,
            "county_code": code,
            "county_name": name,
        }
        for values, sid, own, current, code, name in rows.iterator(chunk_size=5000)
    ]
    return pl.DataFrame(records, schema=SCHEMA, strict=False)


#: The same rows as JSON lines built by PostgreSQL: the record's values with the identity of its school and county.
SCHOOLS_SQL = """
SELECT (r."values" || jsonb_build_object(
          'year', r.year, 'school_id', s.school_id, 'school_name', COALESCE(NULLIF(r.school_name, ''), s.name),
          'county_code', c.code, 'county_name', c.name))::text
FROM {record} r JOIN {school} s ON s.id = r.school_id JOIN {unit} c ON c.id = r.county_id
WHERE r.year = %s AND r.status = %s AND r.county_id = ANY(%s)
"""


def _schools_postgresql(year: int, county_ids: list[int]) -> pl.DataFrame:
    """``_schools`` on PostgreSQL: the database writes each row as one JSON line and Polars parses them all at once
    (the ORM's way, a Python dict per record, takes ~10× longer at national scale)."""
    sql = SCHOOLS_SQL.format(
        record=SchoolRecord._meta.db_table, school=School._meta.db_table, unit=OrgUnit._meta.db_table
    )
    # COPY hands the lines over as bytes, with no Python object per row. In CSV format with a delimiter and a
    # quote character that JSON text never contains (control characters are escaped in it), no value is quoted:
    # each line is the JSON text itself.
    copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
    buffer = io.BytesIO()
    params = [year, RecordStatus.APPROVED.value, list(county_ids)]
    with connection.cursor() as cursor, cursor.connection.cursor().copy(copy_sql, params) as copy:
        for block in copy:
            buffer.write(block)
    if not buffer.tell():
        return pl.DataFrame(schema=SCHEMA)
    buffer.seek(0)
    # Values are read as text first and cast like the ORM path (strict=False): a stored value of an unexpected
    # type becomes null in both, never an error here.
    raw = pl.read_ndjson(buffer, schema=dict.fromkeys(SCHEMA, pl.String))
    typed = raw.select(pl.col(k).cast(t, strict=False) if t != pl.String else pl.col(k) for k, t in SCHEMA.items())
    # One chunk, like the per-county path's frame: Polars' arithmetic over several chunks can differ in the last
    # bit of a ratio, and the two paths must store the same documents.
    return typed.rechunk()


def _county_rows(year: int, counties: list[OrgUnit], with_inputs: set[int]) -> pl.DataFrame:
    """The county sheet: the stored county-level data where there is any, an empty row for the others."""
    frames = [counties_frame(c, year) for c in counties if c.pk in with_inputs]
    template = counties_frame(counties[0], year).clear() if not frames else frames[0].clear()
    empty = [c for c in counties if c.pk not in with_inputs]
    if empty:
        blank = pl.DataFrame(
            {
                "year": [year] * len(empty),
                "county_code": [c.code for c in empty],
                "county_name": [c.name for c in empty],
            }
        )
        frames.append(pl.concat([template, blank], how="diagonal_relaxed").select(template.columns))
    return pl.concat(frames, how="vertical_relaxed") if frames else template


def _with_county_data(year: int, ids: list[int]) -> set[int]:
    """Counties with any county-level data of the year: inputs, reviewers' verdicts, veto findings, a survey."""
    found: set[int] = set()
    for model in (CountyInputs, Review, VetoFinding, Campaign):
        found |= set(model.objects.filter(year=year, county_id__in=ids).values_list("county_id", flat=True))
    return found


def _lock(county_ids: list[int], year: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(id::integer, %s::integer) FROM unnest(%s::bigint[]) AS id ORDER BY id",
                [int(year), sorted(county_ids)],
            )


def _row(county: OrgUnit, year: int, doc: dict[str, Any], standard: str, digest: str, generation: int) -> Any:
    ra = doc["resource_allocation"]
    stages = ra["stages"].values()
    return CountyEvaluation(
        county=county,
        year=year,
        standard=standard,
        passed=None if ra.get("status") == "insufficient_data" else bool(ra["passed"]),
        units=sum(s["units"] for s in stages),
        units_passed=sum(s["units_passed"] for s in stages),
        result=doc,
        engine_version=ENGINE_VERSION,
        ruleset_digest=digest,
        generation=generation,
    )


COLUMNS = ("county_id", "year", "standard", "passed", "units", "units_passed", "result", "computed_at")
STAMPS = ("engine_version", "ruleset_digest", "generation")


def _insert(rows: list[CountyEvaluation]) -> None:
    """Store new results: with COPY on PostgreSQL (the JSON documents are ~50 KB each; quoting them as query
    parameters costs minutes at national scale), through the ORM elsewhere."""
    if connection.vendor != "postgresql":
        CountyEvaluation.objects.bulk_create(rows, batch_size=500)
        return
    now = timezone.now()
    columns = ", ".join(f'"{c}"' for c in (*COLUMNS, *STAMPS))
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {CountyEvaluation._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for r in rows:
            result = json.dumps(r.result, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            fields = (r.county_id, r.year, r.standard, r.passed, r.units, r.units_passed, result, now)
            copy.write_row((*fields, r.engine_version, r.ruleset_digest, r.generation))


def recompute_year(
    year: int, counties: list[OrgUnit], progress: Callable[[str, int, int], None] | None = None
) -> Outcome:
    """Recompute and store the results of ``counties`` for ``year`` (see the module docstring)."""
    outcome = Outcome()
    started = time.perf_counter()
    generations = _generations(year, counties)
    ids = [c.pk for c in counties]
    with_records = set(
        SchoolRecord.objects.filter(year=year, status=RecordStatus.APPROVED, county_id__in=ids)
        .order_by()
        .values_list("county_id", flat=True)
        .distinct()
    )
    with_inputs = _with_county_data(year, ids)
    groups: dict[str, list[OrgUnit]] = defaultdict(list)
    refs = rulesets.refs_for(counties, year)
    for county in counties:
        groups[refs[county.pk]].append(county)
    started = _timed(outcome, "prepare", started)

    docs: dict[int, tuple[dict[str, Any], str, str]] = {}
    for standard, members in groups.items():
        rules = rulesets.load(standard)
        judged = [
            c for c in members if c.pk in with_records or (c.pk in with_inputs and pipeline.has_county_data(c, year))
        ]
        if not judged:
            continue
        schools = _schools(year, [c.pk for c in judged])
        started = _timed(outcome, "load", started)
        county_sheet = _county_rows(year, judged, with_inputs)
        started = _timed(outcome, "load_counties", started)
        document = to_dict(assess(schools, county_sheet, rules))
        started = _timed(outcome, "engine", started)
        by_code = {c.code: c for c in judged}
        for doc in document["counties"]:
            judged_county = by_code.get(doc["county_code"])
            if judged_county is not None:
                docs[judged_county.pk] = (
                    dict(doc) | {"standard": standard, "standard_name": rules.name},
                    standard,
                    rules.digest,
                )
        if progress:
            progress("computed", len(docs), len(counties))

    for start in range(0, len(counties), CHUNK):
        chunk = counties[start : start + CHUNK]
        with transaction.atomic():
            _lock([c.pk for c in chunk], year)
            now = dict(
                EvaluationState.objects.filter(year=year, county_id__in=[c.pk for c in chunk]).values_list(
                    "county_id", "generation"
                )
            )
            current = [c for c in chunk if now.get(c.pk, 0) == generations[c.pk]]
            outcome.moved_on += [c.code for c in chunk if c not in current]
            current_ids = [c.pk for c in current]
            gone = [c.pk for c in current if c.pk not in docs]
            outcome.removed += CountyEvaluation.objects.filter(year=year, county_id__in=gone).delete()[0]
            CountyEvaluation.objects.filter(year=year, county_id__in=[c.pk for c in current if c.pk in docs]).delete()
            rows = [
                _row(c, year, docs[c.pk][0], docs[c.pk][1], docs[c.pk][2], generations[c.pk])
                for c in current
                if c.pk in docs
            ]
            _insert(rows)
            EvaluationState.objects.filter(year=year, county_id__in=current_ids).update(
                failed_at=None, error="", locked_at=timezone.now()
            )
            outcome.stored += len(rows)
        if progress:
            progress("stored", min(start + CHUNK, len(counties)), len(counties))
    if outcome.stored > 100:  # a bulk write: the planner learns the table's new size
        refresh_statistics(CountyEvaluation)
    _timed(outcome, "write", started)
    return outcome


def stale_counties(year: int, counties: list[OrgUnit]) -> list[OrgUnit]:
    """The counties whose stored result of the year is behind its data, the engine or its rule set, or missing
    after a failure — ``pipeline.staleness`` for many counties in three queries."""
    ids = [c.pk for c in counties]
    states = {
        s.county_id: s
        for s in EvaluationState.objects.filter(year=year, county_id__in=ids).only(
            "county_id", "generation", "failed_at"
        )
    }
    stored = {
        e.county_id: e
        for e in CountyEvaluation.objects.filter(year=year, county_id__in=ids).only(
            "county_id", "generation", "engine_version", "standard", "ruleset_digest"
        )
    }
    stale = []
    refs = rulesets.refs_for(counties, year)
    for county in counties:
        state, result = states.get(county.pk), stored.get(county.pk)
        if state is not None and state.failed_at is not None:
            stale.append(county)
        elif result is None:
            if state is None or state.generation > 0:
                stale.append(county)
        else:
            standard = refs[county.pk]
            if (
                (state is not None and state.generation > result.generation)
                or result.engine_version != ENGINE_VERSION
                or result.standard != standard
                or result.ruleset_digest != rulesets.load(standard).digest
            ):
                stale.append(county)
    return stale
