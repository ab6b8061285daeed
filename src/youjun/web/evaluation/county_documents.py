"""The county's documents built from a stored result: the self-evaluation report (Word) and the application form
(申报表, Word or Excel). The assessment pages offer them for download; the recognition keeps the ones built at a
county's application with the application."""

from __future__ import annotations

from typing import Any

from youjun.web.assessment import services
from youjun.web.evaluation import report_parts
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def self_evaluation_report(unit: OrgUnit, year: int, stored: CountyEvaluation) -> tuple[bytes, str, str]:
    """The report under the rule set the result was computed with, with the county's chapters and adopted plan."""
    from youjun.io import documents

    doc = stored.result
    rules = services.rules_by_ref(stored.standard)
    narrative = services.narrative_texts(unit, year)
    plan = report_parts.adopted_plan(unit, year)
    body = documents.self_evaluation_docx(doc, rules, narrative=narrative, plan=plan)
    return body, f"{doc.get('county_name', unit.code)}{year}年自评报告.docx", DOCX


def assessment_annex(unit: OrgUnit, year: int, stored: CountyEvaluation) -> tuple[bytes, str, str]:
    from youjun.io import documents

    doc = stored.result
    body = documents.assessment_annex_xlsx(doc, services.rules_by_ref(stored.standard))
    return body, f"{doc.get('county_name', unit.code)}{year}年评估附件.xlsx", XLSX


def application_form(unit: OrgUnit, year: int, stored: CountyEvaluation, fmt: str) -> tuple[bytes, str, str]:
    """The 2019 application form pre-filled from the county, its result, its inputs and its schools."""
    import youjun.forms as forms

    doc = stored.result
    definition = forms.load_form("application-2019")
    values = forms.prefill(definition, _form_context(unit, year, doc))
    writer = forms.form_docx if fmt == "docx" else forms.form_xlsx
    name = f"{doc.get('county_name', unit.code)}{year}年申报表.{fmt}"
    return writer(definition, values), name, DOCX if fmt == "docx" else XLSX


def _form_context(unit: OrgUnit, year: int, doc: dict[str, Any]) -> dict[str, Any]:
    """The pre-fill context of the application form: the county, its evaluation, inputs and school counts."""
    from youjun.forms import make_context, registry_summary
    from youjun.web.collection.selectors import approved_frame

    code = unit.code
    names = dict(OrgUnit.objects.filter(code__in=[code[:2] + "0000", code[:4] + "00"]).values_list("code", "name"))
    county_info = {
        "code": unit.code,
        "name": unit.name,
        "province_code": code[:2] + "0000",
        "province_name": names.get(code[:2] + "0000", unit.province_name),
        "prefecture_code": code[:4] + "00",
        "prefecture_name": names.get(code[:4] + "00", ""),
    }
    return make_context(
        county=county_info,
        evaluation=doc,
        inputs=services.county_values(unit, year),
        registry=registry_summary(approved_frame(unit, year)),
    )
