"""The context a form is pre-filled from, and helpers that build it.

Field ``source`` paths point into one mapping with these keys (any may be absent; a missing path pre-fills
``None``):

- ``county``: the county as registered — ``code``, ``name``, ``province_code``, ``province_name``,
  ``prefecture_code``, ``prefecture_name``, ``type`` (县 / 市 / 区 / 旗), ``resident_population`` (万人);
- ``evaluation``: the county object of the evaluation JSON (data-contract.md §2, docs/assessment-json.md), as stored
  by the web application or written by ``youjun evaluate --format json``;
- ``inputs``: the county-sheet row (``县级指标``, English keys, e.g. ``basic_balance_year``);
- ``registry``: counts from the school data, as :func:`registry_summary` computes them — ``schools_total``,
  ``schools_primary``, ``schools_junior``, ``schools_nine_year``, ``schools_twelve_year``,
  ``schools_complete_secondary``, ``teaching_points``, ``special_schools``, ``students_primary``,
  ``students_junior``, ``students_total``, ``teachers_primary``, ``teachers_junior``, ``teachers_total``;
- ``summary``: figures derived from ``evaluation`` by :func:`evaluation_summary` — ``units_total``,
  ``units_passed``, ``units_passed_share`` (fraction), ``cv_over_limit`` (count of the 14 coefficients over their
  limit), ``basic_balance_years`` (years since basic-balance recognition);
- ``nomination``: fields the province completes for the recommendation form (``condition_2`` …), set by the
  programme app.

:func:`make_context` assembles it and computes ``summary``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

__all__ = ["evaluation_summary", "make_context", "registry_summary"]

#: school_type value (data-contract.md §1) → registry key.
SCHOOL_TYPE_KEYS = {
    "小学": "schools_primary",
    "初中": "schools_junior",
    "九年一贯制学校": "schools_nine_year",
    "十二年一贯制学校": "schools_twelve_year",
    "完全中学": "schools_complete_secondary",
    "教学点": "teaching_points",
    "特殊教育学校": "special_schools",
}


def evaluation_summary(evaluation: Mapping[str, Any] | None) -> dict[str, Any]:
    """Figures the forms show that the evaluation JSON holds only in parts (units over all stages, …)."""
    if not evaluation:
        return {}
    ra = evaluation.get("resource_allocation") or {}
    stages = (ra.get("stages") or {}).values()
    total = sum(int(s.get("units") or 0) for s in stages)
    passed = sum(int(s.get("units_passed") or 0) for s in stages)
    over = sum(1 for s in stages for ok in (s.get("cv_passed") or {}).values() if ok is False)
    eligibility = (evaluation.get("verdict") or {}).get("eligibility") or {}
    return {
        "units_total": total,
        "units_passed": passed,
        "units_passed_share": passed / total if total else None,
        "cv_over_limit": over,
        "basic_balance_years": eligibility.get("years"),
    }


def registry_summary(schools: pl.DataFrame) -> dict[str, int]:
    """School, student and teacher counts of one county's school sheet (English column keys)."""
    counts = {key: 0 for key in SCHOOL_TYPE_KEYS.values()}
    if schools.height and "school_type" in schools.columns:
        for school_type, n in schools.group_by("school_type").len().iter_rows():
            key = SCHOOL_TYPE_KEYS.get(str(school_type))
            if key is not None:
                counts[key] += int(n)
    sums: dict[str, int] = {}
    for key in ("students_primary", "students_junior", "teachers_primary", "teachers_junior"):
        sums[key] = int(schools.get_column(key).fill_null(0).sum()) if key in schools.columns else 0
    return {
        **counts,
        "schools_total": schools.height,
        **sums,
        "students_total": sums["students_primary"] + sums["students_junior"],
        "teachers_total": sums["teachers_primary"] + sums["teachers_junior"],
    }


def make_context(
    *,
    county: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    registry: Mapping[str, Any] | None = None,
    nomination: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The pre-fill context (see the module docstring), with ``summary`` computed from ``evaluation``."""
    return {
        "county": dict(county or {}),
        "evaluation": evaluation or {},
        "inputs": dict(inputs or {}),
        "registry": dict(registry or {}),
        "summary": evaluation_summary(evaluation),
        "nomination": dict(nomination or {}),
    }
