"""The assessment page's content, built from the stored evaluation JSON (docs/assessment-json.md) and the
evidence, verdicts and findings recorded in this app. Pages only read; nothing here evaluates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from youjun.web.assessment import services
from youjun.web.assessment.models import EVIDENCE_ITEMS, VETO_ITEMS
from youjun.web.organisation.models import OrgUnit

STATUS_TEXT = {"met": "达标", "not_met": "未达标", "insufficient_data": "数据不足"}
STATUS_CLASS = {"met": "good", "not_met": "bad", "insufficient_data": "warn"}
PART_NAMES = {
    "eligibility": "申请条件",
    "resource_allocation": "资源配置",
    "government_guarantee": "政府保障程度",
    "education_quality": "教育质量",
    "social_recognition": "社会认可度",
    "vetoes": "一票否决",
}
VETO_TEXT = {"met": "未发现", "not_met": "存在（否决）", "insufficient_data": "未核查"}
STAGE_NAMES = {"primary": "小学", "junior": "初中"}


def _number(value: Any, threshold: Any = None) -> str:
    """A value as shown in the tables: rates (fractions ≤ 1 beside a fractional threshold) as percentages."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "—"
    if isinstance(threshold, float) and 0 < threshold <= 1 and 0 <= value <= 1.5:
        return f"{value * 100:,.2f}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _item(part: str, raw: Mapping[str, Any], evidence: Mapping[str, list[Any]], reviews: Mapping[str, list[Any]]):
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
        "value": _number(raw.get("value"), raw.get("threshold")),
        "threshold": _number(raw.get("threshold"), raw.get("threshold")),
        "detail": raw.get("detail", ""),
        "schools": [
            {**s, "status_text": STATUS_TEXT.get(s.get("status", ""), s.get("status", ""))}
            for s in raw.get("schools") or []
        ],
        "has_evidence": code in EVIDENCE_ITEMS,
        "evidence": evidence.get(code, []),
        "reviews": reviews.get(code, []),
    }


def _section(doc: Mapping[str, Any], part: str, evidence: Any, reviews: Any) -> dict[str, Any] | None:
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
        "items": [_item(part, i, evidence, reviews) for i in raw.get("items") or []],
    }


def _resources(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    ra = doc.get("resource_allocation")
    if not isinstance(ra, Mapping):
        return None
    stages = []
    for key, stage in (ra.get("stages") or {}).items():
        cvs = stage.get("cv") or {}
        rows = [
            {
                "code": code,
                "anchor": f"resource_allocation/{key}/{code}",
                "value": _number(stage.get("county_value", {}).get(code)),
                "cv": "—" if cvs.get(code) is None else f"{cvs[code]:.3f}",
                "passed": (stage.get("cv_passed") or {}).get(code),
            }
            for code in sorted(cvs, key=lambda c: int(c[1:]) if c[1:].isdigit() else 0)
        ]
        stages.append(
            {
                "key": key,
                "name": STAGE_NAMES.get(key, key),
                "units": stage.get("units"),
                "units_passed": stage.get("units_passed"),
                "rows": rows,
            }
        )
    failing = [u for u in ra.get("units") or [] if not u.get("passed")]
    return {"passed": bool(ra.get("passed")), "stages": stages, "failing_units": len(failing)}


def _vetoes(doc: Mapping[str, Any], evidence: Any, findings: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    raw = doc.get("vetoes")
    items = list(raw.get("items") or []) if isinstance(raw, Mapping) else []
    by_code = {str(i.get("code")): i for i in items}
    names = services.veto_names()
    out = []
    for code in (*VETO_ITEMS, "V7"):
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
                "detail": item.get("detail", "尚无核查结论" if code != "V7" else "随社会认可度调查结果判定"),
                "evidence": evidence.get(code, []),
                "findings": findings.get(code, []),
                "reviewable": code in VETO_ITEMS,
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


def assessment_page(county: OrgUnit, year: int, doc: Mapping[str, Any] | None) -> dict[str, Any]:
    """Everything the page shows; ``doc`` is the stored county JSON (None when nothing is evaluated yet)."""
    doc = doc or {}
    evidence = services.evidence_of(county, year)
    reviews = services.reviews_of(county, year)
    findings = services.findings_of(county, year)
    sections = [
        s
        for s in (_section(doc, p, evidence, reviews) for p in ("government_guarantee", "education_quality"))
        if s is not None
    ]
    verdict = doc.get("verdict") if isinstance(doc.get("verdict"), Mapping) else None
    recognition = doc.get("social_recognition") if isinstance(doc.get("social_recognition"), Mapping) else None
    resources = _resources(doc)
    vetoes = _vetoes(doc, evidence, findings)
    anchors = {"verdict/eligibility", "resource_allocation", "resource_allocation/units", "social_recognition"}
    anchors |= {"social_recognition/S1", "vetoes", "government_guarantee", "education_quality"}
    anchors |= {i["anchor"] for s in sections for i in s["items"]} | {v["anchor"] for v in vetoes}
    anchors |= {r["anchor"] for s in (resources or {}).get("stages", []) for r in s["rows"]}
    # Evidence items the engine has not reported yet (no stored result) still get their upload boxes.
    listed = {i["code"] for s in sections for i in s["items"]}
    pending = [_item("evidence", {"code": c}, evidence, reviews) for c in EVIDENCE_ITEMS if c not in listed]
    names = services.item_names()
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
            {"name": PART_NAMES.get(k, k), "status_text": STATUS_TEXT.get(v, v), "status_class": STATUS_CLASS.get(v)}
            for k, v in ((verdict or {}).get("parts") or {}).items()
        ],
        "resources": resources,
        "sections": sections,
        "pending_items": pending,
        "recognition": recognition,
        "recognition_class": STATUS_CLASS.get(str((recognition or {}).get("status")), "warn"),
        "recognition_value": _number((recognition or {}).get("value"), (recognition or {}).get("threshold")),
        "vetoes": vetoes,
    }
