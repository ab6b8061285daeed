"""The assessment page's content, built from the stored evaluation JSON (docs/assessment-json.md) and the
evidence, verdicts and findings recorded in this app. Pages only read; nothing here evaluates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from youjun.engine.assessment import PART_NAMES, PARTS, STATUS_NAMES
from youjun.errors import YoujunError
from youjun.io.documents import Terms
from youjun.standards import RuleSet
from youjun.web.assessment import services
from youjun.web.assessment.models import Reviewed
from youjun.web.organisation.models import OrgUnit

STATUS_TEXT = STATUS_NAMES
STATUS_CLASS = {"met": "good", "not_met": "bad", "insufficient_data": "warn"}
VETO_TEXT = {"met": "未发现", "not_met": "存在（否决）", "insufficient_data": "未核查"}


def _item(
    part: str,
    raw: Mapping[str, Any],
    evidence: Mapping[str, list[Any]],
    reviews: Mapping[str, list[Any]],
    terms: Terms,
    reviewed: Reviewed,
) -> dict[str, Any]:
    code = str(raw.get("code", ""))
    status = str(raw.get("status", "insufficient_data"))
    return {
        "code": code,
        "anchor": f"{part}/{code}",
        "name": raw.get("name", ""),
        "kind": raw.get("kind", ""),
        "status": status,
        "status_text": STATUS_TEXT.get(status, status),
        "status_class": STATUS_CLASS.get(status, "warn"),
        "value": terms.item(code, raw.get("value")),
        "threshold": terms.item(code, raw.get("threshold")),
        "detail": raw.get("detail", ""),
        "boundary": bool(raw.get("boundary")),
        "schools": [
            {**s, "status_text": STATUS_TEXT.get(s.get("status", ""), s.get("status", ""))}
            for s in raw.get("schools") or []
        ],
        "has_evidence": code in reviewed.evidence,
        "evidence": evidence.get(code, []),
        "reviews": reviews.get(code, []),
    }


def _section(
    doc: Mapping[str, Any], part: str, evidence: Any, reviews: Any, terms: Terms, reviewed: Reviewed
) -> dict[str, Any] | None:
    raw = doc.get(part)
    if not isinstance(raw, Mapping):
        return None
    status = str(raw.get("status", "insufficient_data"))
    return {
        "key": part,
        "name": PART_NAMES[part],
        "status": status,
        "status_text": STATUS_TEXT.get(status, status),
        "status_class": STATUS_CLASS.get(status, "warn"),
        "counts": {k: raw.get(k) for k in ("met", "not_met", "insufficient_data", "total")},
        "items": [_item(part, i, evidence, reviews, terms, reviewed) for i in raw.get("items") or []],
    }


def _resources(doc: Mapping[str, Any], terms: Terms) -> dict[str, Any] | None:
    ra = doc.get("resource_allocation")
    if not isinstance(ra, Mapping):
        return None
    stages = []
    found = ra.get("stages") or {}
    # Stages in the method's order: a stored JSON object (jsonb) does not keep its key order.
    for key, stage in ((k, found[k]) for k in terms.stage_order() if k in found):
        cvs = stage.get("cv") or {}
        boundary = set(stage.get("cv_boundary") or ())
        rows = [
            {
                "code": code,
                "anchor": f"resource_allocation/{key}/{code}",
                "value": terms.value(stage.get("county_value", {}).get(code)),
                "cv": terms.cv(cvs.get(code)),
                "passed": (stage.get("cv_passed") or {}).get(code),
                "boundary": code in boundary,
            }
            for code in terms.codes(cvs)
        ]
        stages.append(
            {
                "key": key,
                "name": terms.stage(key),
                "units": stage.get("units"),
                "units_passed": stage.get("units_passed"),
                "rows": rows,
            }
        )
    failing = [u for u in ra.get("units") or [] if not u.get("passed")]
    status = str(ra.get("status") or ("met" if ra.get("passed") else "not_met"))
    return {
        "passed": bool(ra.get("passed")),
        "status": status,
        "status_text": STATUS_TEXT.get(status, status),
        "status_class": STATUS_CLASS.get(status, "warn"),
        "stages": stages,
        "failing_units": len(failing),
    }


def _vetoes(
    doc: Mapping[str, Any], evidence: Any, findings: Mapping[str, list[Any]], terms: Terms, reviewed: Reviewed
) -> list[dict[str, Any]]:
    raw = doc.get("vetoes")
    items = list(raw.get("items") or []) if isinstance(raw, Mapping) else []
    by_code = {str(i.get("code")): i for i in items}
    names = services.veto_names(terms.rules)
    # The rule set's vetoes in its order (V1–V7), then any the stored result has that the rule set does not name.
    codes = [*names, *(c for c in reviewed.findings if c not in names), *(c for c in by_code if c not in names)]
    out = []
    for code in dict.fromkeys(codes):
        item = by_code.get(code, {})
        status = str(item.get("status", "insufficient_data"))
        vetoed = item.get("vetoed")
        out.append(
            {
                "code": code,
                "anchor": f"vetoes/{code}",
                "name": item.get("name") or names.get(code, ""),
                "status_text": "存在（否决）" if vetoed else VETO_TEXT.get(status, status),
                "status_class": "bad" if vetoed else STATUS_CLASS.get(status, "warn"),
                "detail": item.get(
                    "detail", "尚无核查结论" if code in reviewed.findings else "随社会认可度调查结果判定"
                ),
                "evidence": evidence.get(code, []),
                "findings": findings.get(code, []),
                "reviewable": code in reviewed.findings,
            }
        )
    return out


def _reasons(verdict: Mapping[str, Any], anchors: set[str]) -> list[dict[str, Any]]:
    out = []
    for r in verdict.get("reasons") or []:
        ref = str(r.get("ref", ""))
        part = ref.split("/", 1)[0]
        anchor = ref if ref in anchors else (part if part in anchors else "")
        status = str(r.get("status", ""))
        out.append({**r, "anchor": anchor, "status_class": STATUS_CLASS.get(status, "warn")})
    return out


def _result_rules(doc: Mapping[str, Any]) -> RuleSet | None:
    """The rule set a stored result names (``standard``), or None."""
    ref = doc.get("standard")
    if not isinstance(ref, str) or not ref:
        return None
    try:
        return services.rules_by_ref(ref)
    except YoujunError:
        return None


def assessment_page(county: OrgUnit, year: int, doc: Mapping[str, Any] | None) -> dict[str, Any]:
    """Everything the page shows; ``doc`` is the stored county JSON (None when nothing is evaluated yet)."""
    doc = doc or {}
    # Figures and names as the rule set that computed the stored result reads them; what can be recorded now, as
    # the county-year's rule set in force says (the same one unless the province's assignment just changed).
    rules = services.rules_of(county, year)
    terms = Terms.of(_result_rules(doc) or rules)
    reviewed = services.reviewed_of(county, year, rules)
    evidence = services.evidence_of(county, year)
    reviews = services.reviews_of(county, year)
    findings = services.findings_of(county, year)
    sections = [
        s
        for s in (
            _section(doc, p, evidence, reviews, terms, reviewed) for p in ("government_guarantee", "education_quality")
        )
        if s is not None
    ]
    verdict = doc.get("verdict") if isinstance(doc.get("verdict"), Mapping) else None
    parts = (verdict or {}).get("parts") or {}
    recognition = doc.get("social_recognition") if isinstance(doc.get("social_recognition"), Mapping) else None
    resources = _resources(doc, terms)
    vetoes = _vetoes(doc, evidence, findings, terms, reviewed)
    anchors = {"verdict/eligibility", "resource_allocation", "resource_allocation/units", "social_recognition"}
    anchors |= {"social_recognition/S1", "vetoes", "government_guarantee", "education_quality"}
    anchors |= {i["anchor"] for s in sections for i in s["items"]} | {v["anchor"] for v in vetoes}
    anchors |= {r["anchor"] for s in (resources or {}).get("stages", []) for r in s["rows"]}
    # Evidence items the engine has not reported yet (no stored result) still get their upload boxes.
    listed = {i["code"] for s in sections for i in s["items"]}
    pending = [
        _item("evidence", {"code": c}, evidence, reviews, terms, reviewed) for c in reviewed.evidence if c not in listed
    ]
    names = services.item_names(rules)
    for p in pending:
        p["name"] = names.get(p["code"], "")
    return {
        "evaluated": bool(doc),
        "full": verdict is not None,
        "verdict": verdict,
        "verdict_class": STATUS_CLASS.get(str((verdict or {}).get("status")), "warn"),
        "reasons": _reasons(verdict or {}, anchors),
        "eligibility": (verdict or {}).get("eligibility"),
        "parts": [
            {"name": PART_NAMES[k], "status_text": STATUS_TEXT.get(v, v), "status_class": STATUS_CLASS.get(v)}
            for k, v in ((k, parts[k]) for k in PARTS if k in parts)
        ],
        "resources": resources,
        "sections": sections,
        "pending_items": pending,
        "recognition": recognition,
        "recognition_class": STATUS_CLASS.get(str((recognition or {}).get("status")), "warn"),
        "recognition_value": terms.rate((recognition or {}).get("value")),
        "vetoes": vetoes,
    }
