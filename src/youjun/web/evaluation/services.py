"""Recompute and store a county's evaluation from its approved records (pages read the stored result).

The stored result is the county object of the evaluation JSON: ``resource_allocation`` from the approved school
records and the sections of docs/assessment-json.md from the county inputs, the reviewers' latest verdicts and
findings and the survey (``assessment.services.counties_frame``).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction

from youjun.engine import assess
from youjun.io.evaluation_json import to_dict
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet
from youjun.web.collection.selectors import approved_frame
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit


def _county_document(county: OrgUnit, year: int, schools: pl.DataFrame, rules: RuleSet) -> dict[str, Any]:
    """The county's JSON object of the full assessment (docs/assessment-json.md)."""
    from youjun.web.assessment.services import counties_frame  # the assessment app builds on this one

    return dict(to_dict(assess(schools, counties_frame(county, year), rules))["counties"][0])


def _has_county_data(county: OrgUnit, year: int) -> bool:
    from youjun.web.assessment.services import county_values  # the assessment app builds on this one

    identity = {"year", "county_code", "county_name"}
    return any(v is not None for k, v in county_values(county, year).items() if k not in identity)


def recompute(county: OrgUnit, year: int, standard: str | None = None) -> CountyEvaluation | None:
    """Evaluate the county's approved data and county inputs for the year; drop the stored result if there are
    neither. With county inputs but no approved school record the result judges what it can (decision 18) and
    its resource part is unjudged (``passed`` null)."""
    standard = standard or settings.YOUJUN_STANDARD
    frame = approved_frame(county, year)
    with transaction.atomic():
        if frame.height == 0 and not _has_county_data(county, year):
            CountyEvaluation.objects.filter(county=county, year=year, standard=standard).delete()
            return None
        doc = _county_document(county, year, frame, load_rule_set(standard))
        ra = doc["resource_allocation"]
        stages = ra["stages"].values()
        evaluation, _ = CountyEvaluation.objects.update_or_create(
            county=county,
            year=year,
            standard=standard,
            defaults={
                "passed": None if ra.get("status") == "insufficient_data" else bool(ra["passed"]),
                "units": sum(s["units"] for s in stages),
                "units_passed": sum(s["units_passed"] for s in stages),
                "result": doc,
            },
        )
    return evaluation
