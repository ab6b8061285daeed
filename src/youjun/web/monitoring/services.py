"""A province's monitoring: every stored result of its counties, all years → the engine's series and warnings
(``youjun.engine.monitoring``) → one snapshot summarised for the pages, and its warnings as rows.

The snapshot is computed in the background (``refresh_job``, one queued job per province) whenever a page finds it
behind the stored results (its ``stamp``). The warning rules are those of the rule set in force for the province in
its latest year (a province's variant may tune or disable them).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django_tasks import task

from youjun.engine.monitoring import Context, Series, series, warnings
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.monitoring.models import Snapshot, Warning
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme.models import BatchStatus, Nomination, NominationStatus
from youjun.web.rulesets import services as rulesets

log = logging.getLogger("youjun.monitoring")

#: The levels shown, lowest first (the rule set names them; these are the national ones, used when it does not).
LEVELS = ("关注", "预警", "警报")


def province_of(unit: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(code=unit.code[:2] + "0000", level=Level.PROVINCE)


def results_of(province: OrgUnit) -> Any:
    """The stored results the province's monitoring is made from: one per county-year with a resource part."""
    return CountyEvaluation.objects.filter(county__code__startswith=province.prefix, passed__isnull=False)


def _pilots(unit: OrgUnit) -> Any:
    return Nomination.objects.filter(
        county__code__startswith=unit.prefix,
        status=NominationStatus.CONFIRMED,
        batch__status=BatchStatus.PUBLISHED,
    )


#: The snapshot's format: a snapshot of an older format is stale (recomputed) whatever its inputs.
FORMAT = 2


def _stamp(r: Mapping[str, Any], p: Mapping[str, Any]) -> str:
    parts = (f"v{FORMAT}", r.get("n", 0), r.get("last"), r.get("top"), r.get("gen"), p.get("n", 0), p.get("top"))
    return "|".join(map(str, parts))[:200]


def stamp_of(province: OrgUnit) -> str:
    """What the snapshot is made from, in one short string: any recompute, new or deleted result, or change of the
    pilot list changes it."""
    r = results_of(province).aggregate(n=Count("id"), last=Max("computed_at"), top=Max("id"), gen=Sum("generation"))
    p = _pilots(province).aggregate(n=Count("id"), top=Max("id"))
    return _stamp(r, p)


def stamps() -> dict[str, str]:
    """Every province's stamp (by its two-digit prefix) in two grouped queries, for the national page."""
    prefix = Substr("county__code", 1, 2)
    results = (
        CountyEvaluation.objects.filter(passed__isnull=False)
        .annotate(prefix=prefix)
        .values("prefix")
        .annotate(n=Count("id"), last=Max("computed_at"), top=Max("id"), gen=Sum("generation"))
    )
    pilots = {
        row["prefix"]: row
        for row in Nomination.objects.filter(status=NominationStatus.CONFIRMED, batch__status=BatchStatus.PUBLISHED)
        .annotate(prefix=prefix)
        .values("prefix")
        .annotate(n=Count("id"), top=Max("id"))
    }
    return {row["prefix"]: _stamp(row, pilots.get(row["prefix"], {})) for row in results}


def _documents(unit: OrgUnit) -> list[dict[str, Any]]:
    """The stored documents of the province's counties (or of one county), every year."""
    results = CountyEvaluation.objects.filter(county__code__startswith=unit.prefix, passed__isnull=False)
    return list(results.order_by("county__code", "year").values_list("result", flat=True))


def compute(province: OrgUnit, county: OrgUnit | None = None) -> tuple[Series, pl.DataFrame, RuleSet]:
    """The series and warnings of every county of the province (or of ``county`` alone) over every stored year."""
    from youjun.io.evaluation_reader import stacked_from_documents

    documents = _documents(county or province)
    if not documents:
        raise YoujunError.single("not_found", f"{(county or province).name}尚无已存储的评估结果。")
    years = sorted({int(d["year"]) for d in documents if "year" in d} or {timezone.localdate().year})
    rules = rulesets.rules_for(province, years[-1])
    frames = series(stacked_from_documents(documents, load_rules=rulesets.load))
    pilots = sorted(set(_pilots(county or province).values_list("county__code", flat=True)))
    statuses = pl.DataFrame(
        {"county_code": pilots, "status": ["pilot"] * len(pilots)},
        schema={"county_code": pl.String, "status": pl.String},
    )
    found = warnings(frames, rules, Context(statuses=statuses, rotation=_rotation(county or province)))
    return frames, found, rules


def _rotation(unit: OrgUnit) -> pl.DataFrame | None:
    """The teacher-rotation figures of the county inputs (every year), for the rotation rule; None without any."""
    from youjun.engine.monitoring import ROTATION_COLUMNS
    from youjun.web.assessment.models import CountyInputs

    keys = ROTATION_COLUMNS[2:]
    rows = [
        (year, code, *(int(values[k]) for k in keys))
        for year, code, values in CountyInputs.objects.filter(county__code__startswith=unit.prefix).values_list(
            "year", "county__code", "values"
        )
        if all(isinstance(values.get(k), int | float) and not isinstance(values.get(k), bool) for k in keys)
    ]
    if not rows:
        return None
    schema = {"year": pl.Int64, "county_code": pl.String, **dict.fromkeys(keys, pl.Int64)}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _levels(rules: RuleSet) -> tuple[str, ...]:
    section = rules.sections.get("monitoring") or {}
    return tuple(section.get("levels") or LEVELS)


def _near_margin(rules: RuleSet) -> float:
    rule = ((rules.sections.get("monitoring") or {}).get("rules") or {}).get("cv_near_limit") or {}
    return float(rule.get("margin", 0.05)) if rule.get("enabled", True) else 0.0


def summarise(frames: Series, found: pl.DataFrame, rules: RuleSet) -> dict[str, Any]:
    """What the pages show, as plain JSON: the heat map's columns and rows (the latest year's CV of every county,
    stage and indicator with its limit and the CVs of every year for the sparkline), warnings counted by level, the
    movers and the province's figures per year."""
    ind = frames.indicators
    years = sorted(ind["year"].unique().to_list())
    latest = years[-1] if years else None
    columns = []
    for stage in rules.stages:
        for code in rules.indicators:
            limit = (rules.balance.cv_limit or {}).get(stage)
            columns.append(
                {
                    "key": f"{stage}-{code}",
                    "stage": stage,
                    "indicator": code,
                    "label": f"{rules.stage_name(stage)}{code}",
                    "name": rules.indicators[code].name,
                    "limit": limit,
                }
            )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latest_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for county, year, level, n in found.group_by("county_code", "year", "level").agg(pl.len().alias("n")).iter_rows():
        counts[county][level] += n
        if year == latest:
            latest_counts[county][level] += n
    by_county: dict[str, dict[str, Any]] = {}
    for row in ind.sort("county_code", "stage", "indicator", "year").iter_rows(named=True):
        county = by_county.setdefault(
            row["county_code"],
            {
                "code": row["county_code"],
                "name": row["county_name"],
                "prefecture_code": row["prefecture_code"],
                "cells": {},
                "within": {},  # year → CVs within their limit
                "margin": {},  # year → sum of (limit − CV) over the CVs computed
            },
        )
        key = f"{row['stage']}-{row['indicator']}"
        cell = county["cells"].setdefault(key, {"series": {}, "cv": None, "passed": None, "boundary": False})
        cell["series"][str(row["year"])] = row["cv"]
        if row["year"] == latest:
            cell.update(cv=row["cv"], passed=row["cv_passed"], boundary=bool(row["cv_boundary"]))
        y = str(row["year"])
        if row["cv"] is not None and row["cv_limit"] is not None:
            county["within"][y] = county["within"].get(y, 0) + bool(row["cv_passed"])
            county["margin"][y] = county["margin"].get(y, 0.0) + (row["cv_limit"] - row["cv"])
    verdicts = {(c, y): p for c, y, p in frames.counties.select("county_code", "year", "passed").iter_rows()}
    for code, county in by_county.items():
        county["passed"] = verdicts.get((code, latest))
        county["years"] = [y for y in years if (code, y) in verdicts]
        county["levels"] = dict(latest_counts.get(code, {}))
        county["levels_all"] = dict(counts.get(code, {}))
    rows = sorted(by_county.values(), key=lambda c: c["code"])
    movers: dict[str, list[dict[str, Any]]] = {"improved": [], "worsened": []}
    if len(years) >= 2:
        before, after = str(years[-2]), str(years[-1])
        changes = []
        for c in rows:
            if before in c["within"] and after in c["within"]:
                changes.append(
                    {
                        "code": c["code"],
                        "name": c["name"],
                        "within": c["within"][after] - c["within"][before],
                        "margin": c["margin"].get(after, 0.0) - c["margin"].get(before, 0.0),
                        "before": c["within"][before],
                        "after": c["within"][after],
                    }
                )
        ranked = sorted(changes, key=lambda m: (m["within"], m["margin"]))
        movers["worsened"] = [m for m in ranked if (m["within"], m["margin"]) < (0, 0.0)][:5]
        movers["improved"] = [m for m in reversed(ranked) if (m["within"], m["margin"]) > (0, 0.0)][:5]
    per_year = [
        {
            "year": y,
            "counties": sum(1 for c in rows if (c["code"], y) in verdicts),
            "passed": sum(1 for c in rows if verdicts.get((c["code"], y))),
        }
        for y in years
    ]
    evaluated = [c for c in rows if c.get("passed") is not None and latest in c.get("years", [])]
    shares = []
    for col in columns:
        known = [c["cells"][col["key"]] for c in evaluated if (c["cells"].get(col["key"]) or {}).get("cv") is not None]
        shares.append({"key": col["key"], "ok": sum(1 for cell in known if cell.get("passed")), "known": len(known)})
    levels: dict[str, int] = {}
    for c in rows:
        for level, n in c["levels"].items():
            levels[level] = levels.get(level, 0) + n
    summary = {
        "latest": latest,
        "evaluated": len(evaluated),
        "passed": sum(1 for c in evaluated if c["passed"]),
        "levels": levels,
        "shares": shares,
        "columns": columns,
    }
    return {
        "summary": summary,
        "years": years,
        "latest": latest,
        "rule_set": rules.name,
        "levels": list(_levels(rules)),
        "near_margin": _near_margin(rules),
        "cv_decimals": rules.precision.display_cv_decimals,
        "columns": columns,
        "counties": rows,
        "movers": movers,
        "per_year": per_year,
        # The roll-ups of the province and its prefectures (the engine's region frames), for the API.
        "regions": _records(frames.regions.filter(pl.col("level") != "nation")),
        "region_counties": _records(frames.region_counties.filter(pl.col("level") != "nation")),
    }


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (NaN and infinities as null)."""
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    clean = frame.with_columns(pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in floats)
    return clean.to_dicts()


def refresh(province: OrgUnit) -> Snapshot:
    """Compute and store the province's snapshot and warnings (replacing the previous ones in one transaction)."""
    started = time.perf_counter()
    stamp = stamp_of(province)
    frames, found, rules = compute(province)
    data = summarise(frames, found, rules)
    ids = dict(OrgUnit.objects.filter(code__startswith=province.prefix, level=Level.COUNTY).values_list("code", "pk"))
    seconds = time.perf_counter() - started
    with transaction.atomic():
        snapshot, _ = Snapshot.objects.update_or_create(
            province=province,
            defaults={
                "stamp": stamp,
                "computed_at": timezone.now(),
                "years": data["years"],
                "data": data,
                "summary": data["summary"],
                "seconds": seconds,
            },
        )
        Warning.objects.filter(snapshot=snapshot).delete()
        Warning.objects.bulk_create(
            [
                Warning(
                    snapshot=snapshot,
                    county_id=ids[w["county_code"]],
                    year=w["year"],
                    stage=w["stage"] or "",
                    code=w["code"] or "",
                    school_id=w["school_id"] or "",
                    school_name=(w["school_name"] or "")[:200],
                    rule=w["rule"],
                    rule_name=w["rule_name"],
                    level=w["level"],
                    severity=w["severity"],
                    message=(w["message"] or "")[:500],
                    value=w["value"],
                    limit=w["limit"],
                    previous=list(w["previous"] or []),
                )
                for w in found.iter_rows(named=True)
                if w["county_code"] in ids
            ],
            batch_size=1000,
        )
    return snapshot


def current(province: OrgUnit) -> tuple[Snapshot | None, bool]:
    """The province's snapshot and whether it is behind the stored results (then a refresh is scheduled)."""
    stamp = stamp_of(province)
    snapshot = Snapshot.objects.filter(province=province).first()
    if (snapshot is None or snapshot.stamp != stamp) and results_of(province).exists():
        schedule(province)  # in the background; at once when jobs run in the request (then it is current now)
        snapshot = Snapshot.objects.filter(province=province).first()
    return snapshot, snapshot is None or snapshot.stamp != stamp


def _jobs(province: OrgUnit) -> Any:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    path = f"{refresh_job.func.__module__}.{refresh_job.func.__qualname__}"
    return DBTaskResult.objects.filter(
        task_path=path,
        args_kwargs__args__0=province.pk,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    )


def waiting(province: OrgUnit) -> bool:
    if refresh_job.get_backend().__class__.__name__ != "DatabaseBackend":
        return False
    return bool(_jobs(province).exists())


def schedule(province: OrgUnit) -> None:
    """One queued refresh per province (coalesced); in the request when jobs run at once (tests)."""
    try:
        if waiting(province):
            return
        refresh_job.enqueue(province.pk)
    except Exception:
        log.exception("could not schedule the monitoring of %s", province.code)


@task()
def refresh_job(province_id: int) -> str:
    province = OrgUnit.objects.filter(pk=province_id, level=Level.PROVINCE).first()
    if province is None:
        return "单位已不存在"
    snapshot = Snapshot.objects.filter(province=province).first()
    if snapshot is not None and snapshot.stamp == stamp_of(province):
        return "监测结果已是最新"
    if not results_of(province).exists():
        Snapshot.objects.filter(province=province).delete()
        return "尚无评估结果"
    refresh(province)
    return f"已更新{province.name}的年度监测"


def warnings_of(units: Q, year: int | None = None) -> Any:
    """Warnings of the counties matching ``units`` (a Q on ``county``), the latest year of each snapshot unless
    ``year`` is given."""
    query = Warning.objects.filter(units).select_related("county")
    return query.filter(year=year) if year is not None else query


#: Warnings from this level up (0 = the lowest, 关注) go onto the to-do lists: a county sees its own, a province
#: and a prefecture the counties with the highest level (警报).
TODO_COUNTY_SEVERITY = 1


def latest_warnings(prefix: str, min_severity: int) -> list[Warning]:
    """The warnings of the latest year of each province's snapshot, for the counties under ``prefix``, from
    ``min_severity`` up (highest first)."""
    snapshots = Snapshot.objects.filter(province__code__startswith=prefix[:2]) if prefix else Snapshot.objects.all()
    found: list[Warning] = []
    for snapshot in snapshots.only("id", "data"):
        latest = (snapshot.data or {}).get("latest")
        if latest is None:
            continue
        found += list(
            Warning.objects.filter(
                snapshot=snapshot, year=latest, severity__gte=min_severity, county__code__startswith=prefix
            )
            .select_related("county")
            .order_by("-severity", "county__code", "id")
        )
    return found
