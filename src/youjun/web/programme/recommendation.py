"""The recommendation form (推荐表): the pre-filling context for the data-defined definition ``recommendation-2021``
(``youjun.forms``), and which of its fields the data fix.

The form's fields, labels, types and sources live in the definition file; this module only supplies the context
the ``source`` paths point into (county, stored evaluation, county inputs, registry counts, and the facts the
programme computes under ``nomination``). A nomination stores the id and version it was filled under.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from youjun import forms
from youjun.web.collection.models import SchoolRecord
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit

FORM_ID = "recommendation-2021"
STAGES = {"primary": "小学", "junior": "初中"}
INDICATORS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7")
REGISTRY_COLUMNS = ("school_type", "students_primary", "students_junior", "teachers_primary", "teachers_junior")


def definition(version: int | None = None) -> forms.FormDefinition:
    return forms.load_form(FORM_ID, version)


def definition_of(form_id: str, version: str) -> forms.FormDefinition:
    """The definition a nomination was filled under (the latest when that version is no longer shipped)."""
    try:
        return forms.load_form(form_id, int(version))
    except Exception:  # an unknown or removed version: show the values under the current definition
        return definition()


def county_type(name: str) -> str:
    for suffix in ("旗", "区", "市", "县"):
        if name.endswith(suffix):
            return suffix
    return ""


def latest_evaluation(county: OrgUnit, year: int | None = None) -> CountyEvaluation | None:
    qs = CountyEvaluation.objects.filter(county=county)
    if year is not None:
        qs = qs.filter(year__lte=year)
    return qs.order_by("-year").first()


def county_inputs(county: OrgUnit) -> dict[str, Any]:
    """The assessment app's latest county inputs, read defensively (that app is built alongside this one)."""
    try:
        from youjun.web.assessment.models import CountyInputs

        row = CountyInputs.objects.filter(county=county).order_by("-year").first()
    except Exception:  # table missing (not migrated): no inputs
        return {}
    return dict(row.values) if row is not None and isinstance(row.values, dict) else {}


def basic_balance_year(county: OrgUnit, evaluation: dict[str, Any] | None, inputs: dict[str, Any]) -> int | None:
    """The year of national basic-balance recognition: stored assessment verdict, then county inputs, then the
    programme's own record (``BasicBalance``). None when no source has it."""
    from youjun.web.programme.models import BasicBalance

    record = BasicBalance.objects.filter(county=county).first()
    candidates = [
        (((evaluation or {}).get("verdict") or {}).get("eligibility") or {}).get("basic_balance_year"),
        inputs.get("basic_balance_year"),
        record.year if record else None,
    ]
    for value in candidates:
        try:
            if value is not None and str(value).strip():
                return int(value)
        except (TypeError, ValueError):
            continue
    return None


def registry_counts(county: OrgUnit, year: int | None) -> dict[str, Any]:
    """School, student and teacher counts from the county's collected records of the year (latest if None)."""
    records = SchoolRecord.objects.filter(county=county)
    if year is None or not records.filter(year=year).exists():
        year = records.order_by("-year").values_list("year", flat=True).first()
    if year is None:
        return {}
    rows = [{k: v.get(k) for k in REGISTRY_COLUMNS} for v in records.filter(year=year).values_list("values", flat=True)]
    schema = {"school_type": pl.String, **{k: pl.Int64 for k in REGISTRY_COLUMNS[1:]}}
    frame = pl.DataFrame(rows, schema=schema, strict=False)
    return {"year": year, **forms.registry_summary(frame)}


def standing(result: dict[str, Any] | None) -> dict[str, Any]:
    """Current standing against the 2017 method from a stored county result (dashboards and trend)."""
    if not result:
        return {}
    summary = forms.evaluation_summary(result)
    ra = result.get("resource_allocation") or {}
    verdict = result.get("verdict") or {}
    return {
        "year": result.get("year"),
        "units": summary.get("units_total"),
        "units_passed": summary.get("units_passed"),
        "units_passed_share": summary.get("units_passed_share"),
        "cv_over_limit": summary.get("cv_over_limit"),
        "resource_passed": ra.get("passed"),
        "guarantee_met": (result.get("government_guarantee") or {}).get("met"),
        "quality_met": (result.get("education_quality") or {}).get("met"),
        "recognition": (result.get("social_recognition") or {}).get("value"),
        "verdict": verdict.get("status"),
        "conclusion": verdict.get("conclusion"),
    }


def context(county: OrgUnit, batch_year: int, min_years: int) -> dict[str, Any]:
    """Everything the definition's ``source`` paths may point at, for one county and batch.

    ``nomination`` carries only what the programme computes (years since basic balance, condition 2): a field
    whose source resolves to a value here is fixed by the data; everything else the province completes.
    """
    stored = latest_evaluation(county, batch_year)
    result = stored.result if stored else None
    inputs = county_inputs(county)
    year = basic_balance_year(county, result, inputs)
    province = OrgUnit.objects.filter(code=county.code[:2] + "0000").first()
    prefecture = OrgUnit.objects.filter(code=county.code[:4] + "00").first()
    computed: dict[str, Any] = {}
    if year is not None:
        computed["basic_balance_years"] = batch_year - year
        computed["condition_2"] = "符合" if batch_year - year >= min_years else "不符合"
    return forms.make_context(
        county={
            "code": county.code,
            "name": county.name,
            "type": county_type(county.name),
            "province_code": province.code if province else "",
            "province_name": province.name if province else county.province_name,
            "prefecture_code": prefecture.code if prefecture else "",
            "prefecture_name": prefecture.name if prefecture else "",
        },
        evaluation=result,
        inputs={**inputs, "basic_balance_year": year},
        registry=registry_counts(county, stored.year if stored else None),
        nomination=computed,
    )


def data_values(defn: forms.FormDefinition, ctx: dict[str, Any]) -> dict[str, Any]:
    """The values the data supply, only where a source resolved to something."""
    return {k: v for k, v in forms.prefill(defn, ctx).items() if not _empty(v)}


def _empty(value: Any) -> bool:
    if isinstance(value, list):
        return all(all(c is None for c in row.values()) if isinstance(row, dict) else row is None for row in value)
    return value is None or (isinstance(value, str) and not value.strip())


def locked(defn: forms.FormDefinition, fixed: set[str]) -> set[str]:
    """Fields the province does not edit: not editable in the definition, or supplied by the data."""
    return {f.key for f in defn.fields if not f.editable or f.key in fixed}


def problems(defn: forms.FormDefinition, values: dict[str, Any]) -> list[str]:
    return [p.message for p in forms.validate(defn, values)]


def docx(defn: forms.FormDefinition, values: dict[str, Any]) -> bytes:
    return forms.form_docx(defn, values)


def xlsx(defn: forms.FormDefinition, values: dict[str, Any]) -> bytes:
    return forms.form_xlsx(defn, values)


def display(spec: Any, value: Any) -> str:
    return forms.display(spec, value)
