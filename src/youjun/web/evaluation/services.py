"""Recompute and store a county's evaluation from its approved records (pages read the stored result)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from youjun.engine import evaluate_resources
from youjun.io.evaluation_json import to_dict
from youjun.standards import load_rule_set
from youjun.web.collection.selectors import approved_frame
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit


def recompute(county: OrgUnit, year: int, standard: str | None = None) -> CountyEvaluation | None:
    """Evaluate the county's approved data for the year; drop the stored result if nothing is approved."""
    standard = standard or settings.YOUJUN_STANDARD
    frame = approved_frame(county, year)
    with transaction.atomic():
        if frame.height == 0:
            CountyEvaluation.objects.filter(county=county, year=year, standard=standard).delete()
            return None
        ev = evaluate_resources(frame, load_rule_set(standard))
        doc = to_dict(ev)["counties"][0]
        ra = doc["resource_allocation"]
        stages = ra["stages"].values()
        evaluation, _ = CountyEvaluation.objects.update_or_create(
            county=county,
            year=year,
            standard=standard,
            defaults={
                "passed": bool(ra["passed"]),
                "units": sum(s["units"] for s in stages),
                "units_passed": sum(s["units_passed"] for s in stages),
                "result": doc,
            },
        )
    return evaluation
