"""Reads of the planner's pages: the scenarios a user may see, a scenario's schools as the engine's frame, and the
engine's verdict on them (resources part: each unit against the per-school rule, each CV against its limit)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import QuerySet
from django.http import Http404

from youjun.contract import SCHOOL_COLUMNS
from youjun.engine import evaluate_resources
from youjun.formatting import number
from youjun.standards.model import RuleSet
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import jurisdiction_prefix
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.collection.selectors import SCHEMA, approved_frame
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit
from youjun.web.planning.models import Scenario
from youjun.web.rulesets import services as rulesets

#: Fields a scenario edit may change: the school's numbers (pupils, teachers, ㎡, 元, rooms …).
EDITABLE = {c.key: c for c in SCHOOL_COLUMNS if c.kind in ("int", "number")}


def scenarios_for(user: User) -> QuerySet[Scenario]:
    """Scenarios of the counties inside the user's jurisdiction (school accounts: none)."""
    if not user.is_authenticated or user.role == Role.SCHOOL:
        return Scenario.objects.none()
    return Scenario.objects.filter(county__code__startswith=jurisdiction_prefix(user)).select_related("county")


def scenario_for(user: User, pk: int) -> Scenario:
    """The scenario with this id inside the user's jurisdiction; 404 otherwise (existence does not leak)."""
    found = scenarios_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404("不存在或不在管辖范围内")
    return found


def approved_years(county: OrgUnit) -> list[int]:
    """Years of the county with approved school records, latest first (what a scenario may be copied from)."""
    years = SchoolRecord.objects.filter(county=county, status=RecordStatus.APPROVED).values_list("year", flat=True)
    return sorted(set(years), reverse=True)


def frame_of(scenario: Scenario) -> pl.DataFrame:
    """The scenario's schools as the engine's school frame."""
    return pl.DataFrame(scenario.schools, schema=SCHEMA, strict=False)


def reported_frame(county: OrgUnit, year: int) -> pl.DataFrame:
    """The county-year's approved (reported) data: the baseline every scenario is compared with."""
    return approved_frame(county, year)


def rules_of(scenario: Scenario) -> RuleSet:
    return rulesets.load(scenario.standard)


@dataclass
class Outcome:
    """The engine's verdict on one set of schools: resources passed, units passed, each CV and each failing unit."""

    passed: bool
    units: int
    units_passed: int
    cvs: list[dict[str, Any]]
    failing: list[dict[str, Any]]
    schools: int
    milliseconds: float

    @property
    def cv_keys(self) -> dict[str, dict[str, Any]]:
        """The CVs by ``stage:code``."""
        return {c["key"]: c for c in self.cvs}


def _cv_row(
    rules: RuleSet, stage: str, code: str, cv: float | None, limit: float | None, passed: Any
) -> dict[str, Any]:
    return {
        "key": f"{stage}:{code}",
        "stage": stage,
        "stage_name": rules.stage_name(stage),
        "code": code,
        "name": rules.indicators[code].label,
        "cv": cv,
        "text": number(cv, rules.precision.display_cv_decimals),
        "limit": limit,
        "passed": passed,
    }


def baseline(scenario: Scenario, rules: RuleSet) -> Outcome:
    """The reported data's outcome beside a scenario: the stored result when it was computed under the scenario's
    rule set from the very data the scenario copied (same generation), else the engine on the approved data."""
    started = time.perf_counter()
    stored = (
        CountyEvaluation.objects.filter(county=scenario.county, year=scenario.year, standard=scenario.standard)
        .only("result", "generation", "ruleset_digest")
        .first()
    )
    if stored is None or stored.generation != scenario.base_generation or stored.ruleset_digest != rules.digest:
        return outcome(reported_frame(scenario.county, scenario.year), rules)
    ra = stored.result.get("resource_allocation") or {}
    stages = ra.get("stages") or {}
    cvs = []
    for stage in rules.stages:
        row = stages.get(stage)
        if not row:
            continue
        for code in rules.indicators:
            cv = (row.get("cv") or {}).get(code)
            cvs.append(_cv_row(rules, stage, code, cv, row.get("cv_limit"), (row.get("cv_passed") or {}).get(code)))
    return Outcome(
        passed=bool(ra.get("passed")),
        units=sum(int(r.get("units") or 0) for r in stages.values()),
        units_passed=sum(int(r.get("units_passed") or 0) for r in stages.values()),
        cvs=cvs,
        failing=[],
        schools=len(scenario.schools),
        milliseconds=(time.perf_counter() - started) * 1000,
    )


def outcome(frame: pl.DataFrame, rules: RuleSet) -> Outcome:
    """Run the engine on ``frame`` (one county-year) and summarise it for the pages; times the engine run."""
    started = time.perf_counter()
    if frame.height == 0:
        return Outcome(False, 0, 0, [], [], 0, 0.0)
    result = evaluate_resources(frame, rules)
    county = result.counties.row(0, named=True)
    cvs = []
    order = {stage: i for i, stage in enumerate(rules.stages)}
    stages = sorted(result.stages.iter_rows(named=True), key=lambda r: order.get(r["stage"], len(order)))
    for row in stages:
        stage = row["stage"]
        for code in rules.indicators:
            cvs.append(
                _cv_row(rules, stage, code, row.get(f"cv_{code}"), row.get("cv_limit"), row.get(f"cv_passed_{code}"))
            )
    failing = []
    units = result.units.filter(pl.col("passed").not_()).sort("school_id")
    for row in sorted(units.iter_rows(named=True), key=lambda r: order.get(r["stage"], len(order))):
        short = []
        for code, ind in rules.indicators.items():
            if row.get(f"met_{code}") is False:
                ratio = row.get(f"ratio_{code}")
                short.append({"code": code, "name": ind.label, "ratio": ratio})
        failing.append(
            {
                "school_id": row["school_id"],
                "school_name": row.get("school_name") or row["school_id"],
                "stage": row["stage"],
                "stage_name": rules.stage_name(row["stage"]),
                "n_met": row.get("n_met"),
                "short": short,
            }
        )
    elapsed = (time.perf_counter() - started) * 1000
    return Outcome(
        passed=bool(county["passed"]),
        units=int(county["units"]),
        units_passed=int(county["units_passed"]),
        cvs=cvs,
        failing=failing,
        schools=frame.height,
        milliseconds=elapsed,
    )
