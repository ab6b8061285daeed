"""The assessment annex (Excel): every indicator, item and school unit of one county, with the rules it was judged
by. The annex keeps full precision in the cells and rounds only in the number format."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from youjun.formatting import excel_format
from youjun.io.documents.county import (
    county_title,
    failing_units,
    gaps_of,
    part_status,
    ref_label,
    school_names,
    stage_codes,
    stages_of,
    unmet_texts,
)
from youjun.io.documents.terms import NOT_EVALUATED, PART_NAMES, Terms, judged_label, status_label, veto_label
from youjun.io.workbook import Table, write_tables
from youjun.standards import RuleSet

_YES_NO = {True: "是", False: "否"}


def _frame(rows: Sequence[Mapping[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=dict(schema), orient="row")


def _conclusion_table(county: Mapping[str, Any], t: Terms) -> Table:
    verdict = county.get("verdict") or {}
    rows: list[dict[str, Any]] = [
        {"item": "县（区）", "value": str(county.get("county_name") or "")},
        {"item": "县级区划代码", "value": str(county.get("county_code") or "")},
        {"item": "评估年度", "value": str(county.get("year") or "")},
        {"item": "评估结论", "value": str(verdict.get("conclusion") or "未作结论（评估数据只包含资源配置部分）")},
    ]
    eligibility = verdict.get("eligibility") or {}
    rows.append(
        {"item": "申报资格", "value": status_label(eligibility.get("status")), "detail": eligibility.get("detail")}
    )
    for part, label in PART_NAMES.items():
        if part != "eligibility":
            rows.append({"item": label, "value": status_label(part_status(county, part))})
    for reason in verdict.get("reasons") or ():
        rows.append(
            {
                "item": f"原因 {reason.get('rank')}",
                "value": status_label(reason.get("status")),
                "detail": reason.get("message"),
                "ref": ref_label(reason.get("ref"), t),
            }
        )
    for part, label in PART_NAMES.items():
        if part != "eligibility" and not county.get(part):
            rows.append({"item": f"{label}（说明）", "value": "未评估", "detail": NOT_EVALUATED})
    rows += [{"item": label, "detail": text} for label, text in t.requirements()]
    rows += [{"item": "说明", "detail": note} for note in t.annex_notes()]
    schema = {"item": pl.String(), "value": pl.String(), "detail": pl.String(), "ref": pl.String()}
    return Table(
        sheet="评估结论",
        frame=_frame(rows, schema),
        headers={"item": "项目", "value": "结论", "detail": "说明", "ref": "详见"},
        title=f"{county_title(county)} {county.get('year')} 年度义务教育优质均衡发展评估结论",
    )


def _resource_table(county: Mapping[str, Any], t: Terms) -> Table:
    rows: list[dict[str, Any]] = []
    for key, stage in stages_of(county, t).items():
        boundary = set(stage.get("cv_boundary") or ())
        for code in stage_codes(stage, t):
            ok = (stage.get("cv_passed") or {}).get(code)
            rows.append(
                {
                    "stage": t.stage(key),
                    "code": code,
                    "name": t.indicator(code)[0],
                    "unit": t.indicator(code)[1],
                    "county_value": (stage.get("county_value") or {}).get(code),
                    "cv": (stage.get("cv") or {}).get(code),
                    "cv_limit": stage.get("cv_limit"),
                    "passed": None if ok is None else ("达标" if ok else "未达标"),
                    "boundary": "是" if code in boundary else "否",
                    "units": stage.get("units"),
                    "units_passed": stage.get("units_passed"),
                }
            )
    schema = {
        "stage": pl.String(),
        "code": pl.String(),
        "name": pl.String(),
        "unit": pl.String(),
        "county_value": pl.Float64(),
        "cv": pl.Float64(),
        "cv_limit": pl.Float64(),
        "passed": pl.String(),
        "boundary": pl.String(),
        "units": pl.Int64(),
        "units_passed": pl.Int64(),
    }
    return Table(
        sheet="资源配置",
        frame=_frame(rows, schema),
        headers={
            "stage": "学段",
            "code": "指标代码",
            "name": "指标",
            "unit": "单位",
            "county_value": "县域值",
            "cv": "差异系数",
            "cv_limit": "差异系数限值",
            "passed": "差异系数是否达标",
            "boundary": "临界（四舍五入前后结论不同）",
            "units": "评估单元数",
            "units_passed": "达标单元数",
        },
        formats={
            "county_value": _value_format(t),
            "cv": excel_format(t.shown.cv_decimals),
            "cv_limit": excel_format(t.rules.precision.compare_cv_decimals),
        },
    )


def _value_format(t: Terms) -> str:
    return excel_format(t.shown.value_decimals, grouping=True)


def _rate_format(t: Terms) -> str:
    return excel_format(t.shown.value_decimals, percent_=True)


def _units_table(county: Mapping[str, Any], t: Terms) -> Table:
    ra = county.get("resource_allocation") or {}
    units = list(ra.get("units") or ())
    codes = t.codes({c for u in units for c in (u.get("values") or {})} or t.rules.indicators)
    schema: dict[str, pl.DataType] = {
        "school_id": pl.String(),
        "school_name": pl.String(),
        "stage": pl.String(),
        "students": pl.Int64(),
    }
    headers = {"school_id": "学校标识码", "school_name": "学校名称", "stage": "学段", "students": "在校生数"}
    formats: dict[str, str] = {}
    for code in codes:
        schema[f"value_{code}"] = pl.Float64()
        headers[f"value_{code}"] = t.indicator_label(code)
        formats[f"value_{code}"] = _value_format(t)
    for code in codes:
        schema[f"met_{code}"] = pl.String()
        headers[f"met_{code}"] = f"{code} 是否达标"
    schema["n_met"] = pl.Int64()
    schema["passed"] = pl.String()
    headers.update(n_met="达标指标数", passed="单元是否达标")
    rows = []
    for unit in units:
        values = unit.get("values") or {}
        met = unit.get("met") or {}
        row: dict[str, Any] = {
            "school_id": unit.get("school_id"),
            "school_name": unit.get("school_name"),
            "stage": t.stage(unit.get("stage")),
            "students": unit.get("students"),
            "n_met": sum(1 for ok in met.values() if ok) if met else None,
            "passed": _YES_NO.get(unit["passed"]) if "passed" in unit else None,
        }
        for code in codes:
            row[f"value_{code}"] = values.get(code)
            row[f"met_{code}"] = _YES_NO.get(met[code]) if code in met and met[code] is not None else None
        rows.append(row)
    return Table(sheet="学校单元", frame=_frame(rows, schema), headers=headers, formats=formats)


def _shortfall_table(county: Mapping[str, Any], t: Terms) -> Table:
    ra = county.get("resource_allocation") or {}
    names = school_names(county)
    rows = [
        {
            **gap,
            "school_name": names.get(str(gap.get("school_id")), ""),
            "stage": t.stage(gap.get("stage")),
            "indicator_name": t.indicator(str(gap.get("indicator")))[0],
            "unit_passed": _YES_NO.get(gap["unit_passed"]) if gap.get("unit_passed") is not None else None,
            "boundary": "⚠临界：显示值与标准相同，全精度未达到" if gap.get("boundary") else "",
        }
        for gap in ra.get("shortfalls") or ()
    ]
    schema = {
        "school_id": pl.String(),
        "school_name": pl.String(),
        "stage": pl.String(),
        "indicator": pl.String(),
        "indicator_name": pl.String(),
        "value": pl.Float64(),
        "standard": pl.Float64(),
        "ratio": pl.Float64(),
        "shortfall": pl.Float64(),
        "unit": pl.String(),
        "unit_passed": pl.String(),
        "boundary": pl.String(),
    }
    return Table(
        sheet="差距清单",
        frame=_frame(rows, schema),
        headers={
            "school_id": "学校标识码",
            "school_name": "学校名称",
            "stage": "学段",
            "indicator": "指标",
            "indicator_name": "指标名称",
            "value": "数值",
            "standard": "标准",
            "ratio": "达标比例",
            "shortfall": "达到标准还需",
            "unit": "单位",
            "unit_passed": "单元是否达标",
            "boundary": "临界",
        },
        formats={
            "value": _value_format(t),
            "standard": _value_format(t),
            "ratio": _rate_format(t),
            "shortfall": _value_format(t),
        },
    )


_ITEM_SCHEMA = {
    "code": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
    "status": pl.String(),
    "value": pl.Float64(),
    "threshold": pl.Float64(),
    "detail": pl.String(),
    "applicable": pl.Int64(),
    "failing": pl.Int64(),
    "unchecked": pl.Int64(),
}
_ITEM_HEADERS = {
    "code": "代码",
    "name": "项目",
    "kind": "类型",
    "status": "结论",
    "value": "数值",
    "threshold": "标准",
    "detail": "说明",
    "applicable": "适用学校数",
    "failing": "不达标学校数",
    "unchecked": "无法核查学校数",
}
_KIND_LABELS = {"school": "逐校核查", "county": "县级数据", "evidence": "佐证材料"}


def _items_table(county: Mapping[str, Any], part: str, sheet: str) -> Table:
    section = county.get(part) or {}
    rows = []
    for item in section.get("items") or ():
        inputs = item.get("inputs") or {}
        rows.append(
            {
                **item,
                "status": judged_label(item),
                "kind": _KIND_LABELS.get(str(item.get("kind")), item.get("kind")),
                "applicable": inputs.get("schools") if item.get("kind") == "school" else None,
                "failing": inputs.get("schools_not_met") if item.get("kind") == "school" else None,
                "unchecked": inputs.get("schools_insufficient_data") if item.get("kind") == "school" else None,
            }
        )
    return Table(sheet=sheet, frame=_frame(rows, _ITEM_SCHEMA), headers=_ITEM_HEADERS)


def _school_items_table(county: Mapping[str, Any], t: Terms) -> Table:
    rows = []
    gaps = gaps_of(county)
    for part in ("government_guarantee", "education_quality"):
        for item in (county.get(part) or {}).get("items") or ():
            for school in item.get("schools") or ():
                rows.append(
                    {
                        "code": item.get("code"),
                        "item": item.get("name"),
                        "school_id": school.get("school_id"),
                        "school_name": school.get("school_name"),
                        "status": judged_label(school),
                        "value": school.get("value"),
                        "threshold": school.get("threshold"),
                        "detail": school.get("detail"),
                    }
                )
    for unit in failing_units(county):
        rows.append(
            {
                "code": "R",
                "item": f"资源配置（{t.stage(unit.get('stage'))}）",
                "school_id": unit.get("school_id"),
                "school_name": unit.get("school_name"),
                "status": "未达标",
                "detail": "未达标指标：" + "；".join(unmet_texts(unit, gaps, t)),
            }
        )
    schema = {
        "code": pl.String(),
        "item": pl.String(),
        "school_id": pl.String(),
        "school_name": pl.String(),
        "status": pl.String(),
        "value": pl.Float64(),
        "threshold": pl.Float64(),
        "detail": pl.String(),
    }
    headers = {
        "code": "代码",
        "item": "项目",
        "school_id": "学校标识码",
        "school_name": "学校名称",
        "status": "结论",
        "value": "数值",
        "threshold": "标准",
        "detail": "说明",
    }
    return Table(sheet="不达标学校", frame=_frame(rows, schema), headers=headers)


def _recognition_table(county: Mapping[str, Any], t: Terms) -> Table:
    s1 = county.get("social_recognition") or {}
    rows = [{**s1, "status": judged_label(s1)}] if s1 else []
    schema = {
        "code": pl.String(),
        "name": pl.String(),
        "status": pl.String(),
        "value": pl.Float64(),
        "threshold": pl.Float64(),
        "valid": pl.Int64(),
        "positive": pl.Int64(),
        "detail": pl.String(),
    }
    frame = _frame(rows, schema)
    return Table(
        sheet="社会认可度",
        frame=frame,
        headers={
            "code": "代码",
            "name": "项目",
            "status": "结论",
            "value": "社会认可度",
            "threshold": "标准",
            "valid": "有效回答数",
            "positive": "认可回答数",
            "detail": "说明",
        },
        formats={"value": _rate_format(t), "threshold": _rate_format(t)},
    )


def _veto_table(county: Mapping[str, Any]) -> Table:
    vetoes = county.get("vetoes") or {}
    rows = [
        {**item, "status": status_label(item.get("status")), "finding": veto_label(item)}
        for item in vetoes.get("items") or ()
    ]
    schema = {
        "code": pl.String(),
        "name": pl.String(),
        "finding": pl.String(),
        "status": pl.String(),
        "detail": pl.String(),
        "evidence": pl.String(),
        "source": pl.String(),
        "reviewer": pl.String(),
        "reviewed_at": pl.String(),
    }
    return Table(
        sheet="一票否决",
        frame=_frame(rows, schema),
        headers={
            "code": "代码",
            "name": "事项",
            "finding": "核查结论",
            "status": "结论",
            "detail": "说明",
            "evidence": "佐证材料",
            "source": "来源",
            "reviewer": "核查人",
            "reviewed_at": "核查时间",
        },
    )


ANNEX_SHEETS = (
    "评估结论",
    "资源配置",
    "学校单元",
    "差距清单",
    "政府保障",
    "教育质量",
    "不达标学校",
    "社会认可度",
    "一票否决",
)


def annex_tables(county: Mapping[str, Any], rules: RuleSet | None = None) -> list[Table]:
    """The annex sheets as tables (for callers that write them elsewhere), in :data:`ANNEX_SHEETS` order, under
    ``rules`` (the default rule set when None)."""
    t = Terms.of(rules)
    return [
        _conclusion_table(county, t),
        _resource_table(county, t),
        _units_table(county, t),
        _shortfall_table(county, t),
        _items_table(county, "government_guarantee", "政府保障"),
        _items_table(county, "education_quality", "教育质量"),
        _school_items_table(county, t),
        _recognition_table(county, t),
        _veto_table(county),
    ]


def assessment_annex_xlsx(county: Mapping[str, Any], rules: RuleSet | None = None) -> bytes:
    """The Excel annex of the self-evaluation: every indicator, item and school unit of one county, with the rules
    of ``rules`` (the default rule set when None) it was judged by."""
    with tempfile.TemporaryDirectory(prefix="youjun-annex-") as folder:
        path = Path(folder) / "annex.xlsx"
        write_tables(path, annex_tables(county, rules))
        return path.read_bytes()
