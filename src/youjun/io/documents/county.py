"""Reading one county object of the evaluation JSON (docs/assessment-json.md): its stages in the rule set's order,
its failing units, their unmet indicators with the engine's shortfalls, the status of each part, and where in the
annex a reason's figures are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from youjun.formatting import number, rule_number
from youjun.io.documents.terms import PART_NAMES, Terms


def county_title(county: Mapping[str, Any]) -> str:
    return f"{county.get('county_name') or ''}（{county.get('county_code') or ''}）"


def stages_of(county: Mapping[str, Any], t: Terms) -> dict[str, Mapping[str, Any]]:
    ra = county.get("resource_allocation") or {}
    stages = ra.get("stages") or {}
    order = [k for k in t.stage_order() if k in stages] + sorted(k for k in stages if k not in t.stage_order())
    return {key: stages[key] for key in order}


def stage_codes(stage: Mapping[str, Any], t: Terms) -> list[str]:
    cv = stage.get("cv") or {}
    values = stage.get("county_value") or {}
    return t.codes(cv or values)


def school_names(county: Mapping[str, Any]) -> dict[str, str]:
    ra = county.get("resource_allocation") or {}
    names = {str(u["school_id"]): str(u.get("school_name") or "") for u in ra.get("units") or ()}
    for part in ("government_guarantee", "education_quality"):
        for item in (county.get(part) or {}).get("items") or ():
            for school in item.get("schools") or ():
                names.setdefault(str(school["school_id"]), str(school.get("school_name") or ""))
    return names


def failing_units(county: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ra = county.get("resource_allocation") or {}
    return [u for u in ra.get("units") or () if u.get("passed") is False]


def unmet_codes(unit: Mapping[str, Any], t: Terms | None = None) -> list[str]:
    """The unit's unmet indicators (in the rule set's order when ``t`` is given: a stored JSON object does not keep
    its key order)."""
    codes = [code for code, ok in (unit.get("met") or {}).items() if ok is False]
    return t.codes(codes) if t is not None else codes


Gaps = dict[tuple[str, str], dict[str, Mapping[str, Any]]]


def gaps_of(county: Mapping[str, Any]) -> Gaps:
    """The engine's shortfall entries (``resource_allocation.shortfalls``) by (school, stage), then indicator."""
    gaps: Gaps = {}
    for gap in (county.get("resource_allocation") or {}).get("shortfalls") or ():
        key = (str(gap.get("school_id")), str(gap.get("stage")))
        gaps.setdefault(key, {})[str(gap.get("indicator"))] = gap
    return gaps


def unmet_text(unit: Mapping[str, Any], code: str, gap: Mapping[str, Any] | None, t: Terms) -> str:
    """One unmet indicator of a unit as the documents write it: the value, the standard of the unit's stage and what
    is missing to meet it (the engine's shortfall, for the whole unit, in the indicator's unit; whole teachers and
    rooms without decimals), e.g. ``R4 生均教学及辅助用房面积 2.60 ㎡（标准 4.5 ㎡，需增加 2,871.83 ㎡）``.

    The figures are the engine's: nothing is recomputed here. Without a shortfall entry (a result stored before the
    list existed) the standard is the rule set's and no shortfall is stated."""
    name, unit_name = t.indicator(code)
    value = gap.get("value") if gap is not None else (unit.get("values") or {}).get(code)
    standard = gap.get("standard") if gap is not None else t.standard(code, unit.get("stage"))
    text = f"{code} {name} {t.shown.value(value, unit=unit_name)}（标准 {rule_number(standard, 0, unit=unit_name)}"
    shortfall = gap.get("shortfall") if gap is not None else None
    if shortfall is not None:
        unit_of_gap = str(gap.get("unit") or unit_name) if gap is not None else unit_name
        decimals = 0 if t.integral(code) else t.shown.value_decimals
        text += f"，需增加 {number(shortfall, decimals, unit=unit_of_gap)}"
    text += "）"
    if gap is not None and gap.get("boundary"):
        text += "（⚠临界：显示值与标准相同，全精度未达到）"
    return text


def unmet_texts(unit: Mapping[str, Any], gaps: Gaps, t: Terms) -> list[str]:
    """Every unmet indicator of a unit, in the rule set's order, as :func:`unmet_text` writes it."""
    mine = gaps.get((str(unit.get("school_id")), str(unit.get("stage"))), {})
    return [unmet_text(unit, code, mine.get(code), t) for code in unmet_codes(unit, t)]


def part_status(county: Mapping[str, Any], part: str) -> str | None:
    verdict = county.get("verdict") or {}
    parts = verdict.get("parts") or {}
    if part in parts:
        return str(parts[part])
    section = county.get(part)
    if isinstance(section, Mapping):
        if "status" in section:
            return str(section["status"])
        if "passed" in section:
            return "met" if section["passed"] else "not_met"
    return None


#: The annex sheet holding each part's figures (a reason's ``ref`` is a JSON path, never printed).
_SHEETS = {
    "verdict": "评估结论",
    "resource_allocation": "资源配置",
    "government_guarantee": "政府保障",
    "education_quality": "教育质量",
    "social_recognition": "社会认可度",
    "vetoes": "一票否决",
}


def ref_label(ref: object, t: Terms) -> str | None:
    """Where the annex shows a reason's figures, in words: ``government_guarantee/G3`` → 「政府保障」工作表 G3;
    ``resource_allocation/primary/R2`` → 「资源配置」工作表 小学 R2; the failing units → 「学校单元」「差距清单」.
    None for a path it does not know (the internal path itself is never printed).

    >>> from youjun.standards import load_rule_set
    >>> t = Terms.of(load_rule_set("national-2017"))
    >>> ref_label("government_guarantee/G3", t), ref_label("resource_allocation/primary/R2", t)
    ('「政府保障」工作表 G3', '「资源配置」工作表 小学 R2')
    >>> ref_label("resource_allocation/units", t), ref_label("verdict/eligibility", t), ref_label("x/y", t)
    ('「学校单元」「差距清单」工作表', '「评估结论」工作表 申报资格', None)
    """
    part, _, rest = str(ref or "").partition("/")
    sheet = _SHEETS.get(part)
    if sheet is None:
        return None
    if part == "resource_allocation" and rest == "units":
        return "「学校单元」「差距清单」工作表"
    if part == "verdict":
        rest = PART_NAMES.get(rest, "")
    elif part == "resource_allocation" and "/" in rest:
        stage, _, code = rest.partition("/")
        rest = f"{t.stage(stage)} {code}"
    elif part == "social_recognition":
        rest = ""
    return f"「{sheet}」工作表" + (f" {rest}" if rest else "")
