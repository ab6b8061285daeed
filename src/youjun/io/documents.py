"""The county's self-evaluation documents: the report (自评报告, Word) and the assessment annex (Excel).

Both render one county object of the evaluation JSON (data-contract.md §2 and docs/assessment-json.md) under the
rule set it was computed with, and nothing else, so the CLI, the web application and a province's own scripts produce
the same documents from the same data. A section the JSON lacks (the CLI without a ``县级指标`` sheet writes resource
allocation only) is stated as not evaluated, never shown as passed.

Everything the documents say about the rules comes from the rule set (:class:`Terms`): indicator names and units,
stage names, which items are rates, the per-school rule (at least ``min_met`` of the indicators, the others not below
``min_ratio`` of their standard), the difference-coefficient limits per stage, the S1 threshold, the valid-return
minimum and the display decimals. Values are shown as the web pages show them (:mod:`youjun.formatting`):
coefficients with ``display_cv_decimals``, other values with ``display_value_decimals``, rates as percentages, rounded
half-up (四舍五入); the annex keeps full precision in the cells and rounds only in the number format. Charts in the
report are native Word charts (see :mod:`youjun.io.docx_base`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from youjun.engine.assessment import PART_NAMES as ENGINE_PART_NAMES
from youjun.engine.assessment import STATUS_NAMES
from youjun.formatting import DASH, Display, chinese_count, excel_format, number, percent, rule_number
from youjun.io.docx_base import (
    Cell,
    Chart,
    Series,
    add_chart,
    add_heading,
    add_page_break,
    add_paragraph,
    add_table,
    new_document,
    to_bytes,
)
from youjun.io.workbook import Table, write_tables
from youjun.standards import RuleSet, load_rule_set

__all__ = [
    "Terms",
    "assessment_annex_xlsx",
    "format_value",
    "item_value",
    "rate_codes",
    "self_evaluation_docx",
    "status_label",
]

STATUS_LABELS = STATUS_NAMES
PART_NAMES = {**ENGINE_PART_NAMES, "vetoes": "一票否决事项"}
NOT_EVALUATED = "本次评估未包含该部分（缺少县级指标等数据），不能视为达标。"
#: The code of the social-recognition section in the evaluation JSON (its value and threshold are rates).
RECOGNITION_CODE = "S1"


# ----------------------------------------------------------------------------------------------------
# What the documents take from the rule set


def rate_codes(rules: RuleSet) -> frozenset[str]:
    """Items whose value and threshold are rates (fractions shown as percentages): those the rule set marks
    ``unit = "%"`` in its guarantee and quality tables, and S1.

    >>> sorted(rate_codes(load_rule_set("national-2017")))[:4]
    ['G11', 'G12', 'G13', 'G14']
    """
    return frozenset(
        {
            str(code)
            for section in ("guarantee", "quality")
            for code, item in (rules.sections.get(section) or {}).items()
            if isinstance(item, Mapping) and item.get("unit") == "%"
        }
        | {RECOGNITION_CODE}
    )


@dataclass(frozen=True)
class Terms:
    """The rule set in force as the documents speak it.

    >>> terms = Terms.of(load_rule_set("national-2017"))
    >>> terms.school_rule_text()
    '每个评估单元七项指标至少六项达到标准、其余一项不低于标准的 85%'
    >>> terms.cv_limit_text()
    '各项指标校际差异系数小学不高于 0.50、初中不高于 0.45'
    >>> terms.recognition_text(), terms.valid_return_text()
    ('不低于 85%', '不低于 70%')
    """

    rules: RuleSet
    shown: Display
    rates: frozenset[str]

    @classmethod
    def of(cls, rules: RuleSet | None = None) -> Terms:
        """The terms of ``rules`` (the default rule set when None)."""
        rules = rules if rules is not None else load_rule_set()
        return cls(rules=rules, shown=Display.of(rules.precision), rates=rate_codes(rules))

    # Names ---------------------------------------------------------------------------------------------
    def indicator(self, code: str) -> tuple[str, str]:
        """An indicator's name and unit; the code itself when the rule set does not know it."""
        ind = self.rules.indicators.get(code)
        return (ind.name, ind.unit) if ind is not None else (code, "")

    def indicator_label(self, code: str) -> str:
        return f"{code} {self.indicator(code)[0]}"

    def stage(self, key: object) -> str:
        return self.rules.stage_name(str(key))

    def stage_order(self) -> list[str]:
        """The rule set's stages first, then the other named stages (senior), in the rule set's order."""
        return [*self.rules.stages, *(k for k in self.rules.stage_names if k not in self.rules.stages)]

    def codes(self, found: Iterable[str]) -> list[str]:
        """Indicator codes in the rule set's order (a stored JSON object does not keep its key order), then any
        code the rule set does not know."""
        present = set(found)
        known = [c for c in self.rules.indicators if c in present]
        return known + sorted(present - set(known))

    def section_size(self, section: str) -> int:
        return sum(isinstance(v, Mapping) for v in (self.rules.sections.get(section) or {}).values())

    # Figures -------------------------------------------------------------------------------------------
    def value(self, value: object) -> str:
        return format_value(value, decimals=self.shown.value_decimals)

    def rate(self, value: object) -> str:
        return format_value(value, decimals=self.shown.value_decimals, rate=True)

    def cv(self, value: object) -> str:
        return format_value(value, decimals=self.shown.cv_decimals)

    def item(self, code: str, value: object) -> str:
        """An item's value or threshold as shown: a percentage for the rate items of the rule set."""
        return format_value(value, decimals=self.shown.value_decimals, rate=code in self.rates)

    def limit(self, value: float) -> str:
        """A coefficient limit as the rule set writes it (at least the decimals it compares with)."""
        return rule_number(value, self.rules.precision.compare_cv_decimals)

    # Requirements --------------------------------------------------------------------------------------
    def school_rule_text(self) -> str | None:
        """The per-school rule in words (standard-2017.md §3.1); None for a method without one."""
        rule = self.rules.school_rule
        if rule is None:
            return None
        total = len(self.rules.indicators)
        rest = total - rule.min_met
        if rest <= 0:
            text = f"每个评估单元{chinese_count(total)}项指标均达到标准"
        else:
            text = f"每个评估单元{chinese_count(total)}项指标至少{chinese_count(rule.min_met)}项达到标准"
            if rule.min_ratio > 0:
                others = "其余一项" if rest == 1 else "其余指标"
                text += f"、{others}不低于标准的 {rule_number(rule.min_ratio, 0, percent_=True)}"
        if rule.allow_exceptions:
            text += "（未达标的评估单元逐一列出，不影响县域资源配置结论）"
        return text

    def _per_stage(self, limits: Mapping[str, float] | None) -> str:
        limits = limits or {}
        return "、".join(
            f"{self.stage(s)}不高于 {self.limit(limits[s])}" for s in self.stage_order() if limits.get(s) is not None
        )

    def cv_limit_text(self) -> str | None:
        """The difference-coefficient limits per stage in words (and the composite's, for the 2012 method)."""
        parts = []
        if limits := self._per_stage(self.rules.balance.cv_limit):
            parts.append(f"各项指标校际差异系数{limits}")
        if self.rules.balance.composite != "none" and (limits := self._per_stage(self.rules.balance.composite_limit)):
            parts.append(f"综合差异系数{limits}")
        return "，".join(parts) or None

    def _recognition(self, key: str) -> float | None:
        value = (self.rules.sections.get("recognition") or {}).get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def recognition_name(self) -> str:
        return str((self.rules.sections.get("recognition") or {}).get("name") or "社会认可度")

    def recognition_threshold(self) -> float | None:
        return self._recognition("threshold")

    def recognition_text(self) -> str | None:
        """The S1 threshold in words: 不低于 85%."""
        threshold = self.recognition_threshold()
        return None if threshold is None else f"不低于 {rule_number(threshold, 0, percent_=True)}"

    def valid_return_text(self) -> str | None:
        """The survey's minimum valid-return rate in words: 不低于 70%."""
        minimum = self._recognition("valid_return_min")
        return None if minimum is None else f"不低于 {rule_number(minimum, 0, percent_=True)}"

    def standard_name(self) -> str:
        """The rule set's name without its label: 国家标准：县域…办法（教督〔2017〕6号） → 县域…办法（…）."""
        label, colon, rest = self.rules.name.partition("：")
        return rest if colon and rest and len(label) <= 8 else self.rules.name

    def requirements(self) -> list[tuple[str, str]]:
        """The rules the documents state, as (label, text) rows for the annex."""
        rows = [("评估依据", self.rules.name)]
        for label, text in (
            ("逐校规则", self.school_rule_text()),
            ("差异系数限值", self.cv_limit_text()),
            ("社会认可度标准", self.recognition_text()),
            ("有效问卷回收率", self.valid_return_text()),
        ):
            if text:
                rows.append((label, text))
        return rows

    def annex_notes(self) -> tuple[str, ...]:
        return (
            "差异系数按学生数加权计算；各表单元格保留全精度数值，显示按四舍五入"
            f"（差异系数 {self.shown.cv_decimals} 位小数，其他 {self.shown.value_decimals} 位）。",
            "比率以小数保存并以百分比显示（0.95 即 95%）；金额单位为元。",
            "各工作表第一行为表头（本表第一行为标题），可直接筛选、排序或由程序读取。",
        )


# ----------------------------------------------------------------------------------------------------
# Display helpers


def status_label(status: object) -> str:
    return STATUS_LABELS.get(str(status), DASH if status is None else str(status))


def judged_label(entry: Mapping[str, Any]) -> str:
    """The status of an item, a school or S1, with 「⚠临界」 when its figure sits on a boundary (decision 26)."""
    return status_label(entry.get("status")) + ("（⚠临界）" if entry.get("boundary") else "")


def format_value(value: object, *, decimals: int, rate: bool = False) -> str:
    """A JSON value as shown to users (:mod:`youjun.formatting`): a float with ``decimals`` decimals rounded half-up
    and thousands separators, a rate as a percentage, a whole count as is; null → 「—」, a boolean 是/否.

    >>> format_value(2496.7, decimals=2), format_value(0.50178, decimals=3), format_value(0.9125, decimals=2, rate=True)
    ('2,496.70', '0.502', '91.25%')
    >>> format_value(None, decimals=2), format_value(1200, decimals=2), format_value(0.91125, decimals=2, rate=True)
    ('—', '1,200', '91.13%')
    """
    if value is None or isinstance(value, bool):
        return DASH if value is None else ("是" if value else "否")
    if not isinstance(value, int | float):
        return str(value)
    if rate:
        return percent(value, decimals)
    if isinstance(value, int):
        return number(value, 0)
    return number(value, decimals)


def item_value(code: str, value: object, rules: RuleSet) -> str:
    """An item's value or threshold as shown under ``rules``: a percentage for its rate items."""
    return Terms.of(rules).item(code, value)


def _county_title(county: Mapping[str, Any]) -> str:
    return f"{county.get('county_name') or ''}（{county.get('county_code') or ''}）"


def _stages(county: Mapping[str, Any], t: Terms) -> dict[str, Mapping[str, Any]]:
    ra = county.get("resource_allocation") or {}
    stages = ra.get("stages") or {}
    order = [k for k in t.stage_order() if k in stages] + sorted(k for k in stages if k not in t.stage_order())
    return {key: stages[key] for key in order}


def _codes(stage: Mapping[str, Any], t: Terms) -> list[str]:
    cv = stage.get("cv") or {}
    values = stage.get("county_value") or {}
    return t.codes(cv or values)


def _school_names(county: Mapping[str, Any]) -> dict[str, str]:
    ra = county.get("resource_allocation") or {}
    names = {str(u["school_id"]): str(u.get("school_name") or "") for u in ra.get("units") or ()}
    for part in ("government_guarantee", "education_quality"):
        for item in (county.get(part) or {}).get("items") or ():
            for school in item.get("schools") or ():
                names.setdefault(str(school["school_id"]), str(school.get("school_name") or ""))
    return names


def _failing_units(county: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ra = county.get("resource_allocation") or {}
    return [u for u in ra.get("units") or () if u.get("passed") is False]


def _unmet_codes(unit: Mapping[str, Any]) -> list[str]:
    return [code for code, ok in (unit.get("met") or {}).items() if ok is False]


def _part_status(county: Mapping[str, Any], part: str) -> str | None:
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


# ----------------------------------------------------------------------------------------------------
# The self-evaluation report (Word)


def self_evaluation_docx(
    county: Mapping[str, Any],
    rules: RuleSet | None = None,
    *,
    standard_name: str | None = None,
    generated_at: datetime | None = None,
) -> bytes:
    """The county self-evaluation report (自评报告) as a .docx file, from one county object of the evaluation JSON
    computed under ``rules`` (the default rule set when None); the cover names the rule set unless
    ``standard_name`` is given."""
    t = Terms.of(rules)
    generated_at = generated_at or datetime.now()
    name = str(county.get("county_name") or "")
    year = county.get("year")
    doc = new_document(title=f"{name}义务教育优质均衡发展自评报告")
    _cover(doc, county, standard_name or t.standard_name(), generated_at)
    _basic_section(doc, county, t)
    _resource_section(doc, county, t)
    _items_section(doc, county, t, "government_guarantee", "三、政府保障程度", "guarantee")
    _items_section(doc, county, t, "education_quality", "四、教育质量", "quality")
    _recognition_section(doc, county, t)
    _veto_section(doc, county)
    _verdict_section(doc, county)
    _appendix(doc, county, t)
    add_paragraph(
        doc,
        f"本报告由优均系统根据 {year} 年度评估数据生成，生成时间 {generated_at:%Y-%m-%d %H:%M}。",
        size=9,
        align="right",
    )
    return to_bytes(doc)


def _cover(doc: Any, county: Mapping[str, Any], standard_name: str, generated_at: datetime) -> None:
    for _ in range(5):
        add_paragraph(doc)
    add_paragraph(doc, str(county.get("county_name") or ""), bold=True, size=26, align="center")
    add_paragraph(doc, "义务教育优质均衡发展", bold=True, size=26, align="center")
    add_paragraph(doc, "自评报告", bold=True, size=26, align="center")
    add_paragraph(doc)
    add_paragraph(doc, f"（{county.get('year')} 年度）", size=16, align="center")
    for _ in range(6):
        add_paragraph(doc)
    add_paragraph(doc, f"县级区划代码：{county.get('county_code') or ''}", size=14, align="center")
    add_paragraph(doc, f"评估依据：{standard_name}", size=12, align="center")
    add_paragraph(doc, f"生成日期：{generated_at:%Y年%m月%d日}", size=14, align="center")
    add_page_break(doc)


def _basic_section(doc: Any, county: Mapping[str, Any], t: Terms) -> None:
    add_heading(doc, "一、基本情况", 1)
    verdict = county.get("verdict") or {}
    eligibility = verdict.get("eligibility") or {}
    if eligibility:
        add_paragraph(
            doc, f"申报资格：{status_label(eligibility.get('status'))}。{eligibility.get('detail') or ''}", indent=True
        )
    else:
        add_paragraph(doc, "申报资格：评估数据中没有通过国家基本均衡认定的年份，暂不能判断。", indent=True)
    stages = _stages(county, t)
    ra = county.get("resource_allocation") or {}
    excluded = ra.get("excluded") or []
    units = sum(int(s.get("units") or 0) for s in stages.values())
    schools = len({u["school_id"] for u in ra.get("units") or ()})
    add_paragraph(
        doc,
        f"{county.get('county_name') or ''}纳入资源配置评估的学校 {schools} 所，拆分为评估单元 {units} 个"
        f"（九年一贯制等学校按学段拆分）；不纳入评估的学校 {len(excluded)} 所。",
        indent=True,
    )
    rows: list[list[Any]] = [["学段", "评估单元数", "达标单元数", "达标比例", "在校生数"]]
    for key, stage in stages.items():
        n, ok = int(stage.get("units") or 0), int(stage.get("units_passed") or 0)
        rows.append(
            [
                t.stage(key),
                Cell(number(n, 0), align="right"),
                Cell(number(ok, 0), align="right"),
                Cell(t.rate(ok / n if n else None), align="right"),
                Cell(t.value(stage.get("students")), align="right"),
            ]
        )
    add_table(doc, rows, [3.0, 3.0, 3.0, 3.0, 3.6])
    if excluded:
        rows = [["学校标识码", "学校名称", "不纳入原因"]]
        rows += [
            [str(e.get("school_id") or ""), str(e.get("school_name") or ""), str(e.get("reason") or "")]
            for e in excluded
        ]
        add_paragraph(doc, "不纳入资源配置评估的学校", style="图表标题")
        add_table(doc, rows, [3.6, 6.0, 6.0])


def _resource_rule(t: Terms) -> str:
    """The resource-allocation requirement of the rule set in one sentence (empty when it states none)."""
    parts = [text for text in (t.school_rule_text(), t.cv_limit_text()) if text]
    if not parts:
        return ""
    return f"按评估标准，{'，且'.join(parts)}。差异系数按学生数加权计算。"


def _resource_section(doc: Any, county: Mapping[str, Any], t: Terms) -> None:
    add_heading(doc, "二、资源配置", 1)
    ra = county.get("resource_allocation")
    if not ra:
        add_paragraph(doc, NOT_EVALUATED, indent=True)
        return
    if ra.get("status") == "insufficient_data":
        add_paragraph(doc, "资源配置结论：数据不足。学校表中没有本县（区）的学校数据，资源配置无法评估。", indent=True)
        return
    passed = "达标" if ra.get("passed") else "未达标"
    add_paragraph(doc, f"资源配置结论：{passed}。{_resource_rule(t)}", indent=True)
    for index, (key, stage) in enumerate(_stages(county, t).items()):
        label = t.stage(key)
        add_heading(doc, f"（{chinese_count(index + 1)}）{label}", 2)
        limit = stage.get("cv_limit")
        boundary = set(stage.get("cv_boundary") or ())
        rows: list[list[Any]] = [["指标", "县域值", "差异系数", "限值", "结论"]]
        codes = _codes(stage, t)
        for code in codes:
            ok = (stage.get("cv_passed") or {}).get(code)
            result = DASH if ok is None else ("达标" if ok else "未达标")
            if code in boundary:
                result += "（⚠临界）"
            rows.append(
                [
                    t.indicator_label(code) + f"（{t.indicator(code)[1]}）",
                    Cell(t.value((stage.get("county_value") or {}).get(code)), align="right"),
                    Cell(t.cv((stage.get("cv") or {}).get(code)), align="right"),
                    Cell(f"≤ {t.cv(limit)}" if limit is not None else DASH, align="center"),
                    Cell(result, align="center"),
                ]
            )
        add_paragraph(doc, f"{label}资源配置指标县域值与校际差异系数", style="图表标题")
        add_table(doc, rows, [7.2, 2.4, 2.2, 1.8, 2.2])
        n, ok_units = int(stage.get("units") or 0), int(stage.get("units_passed") or 0)
        add_paragraph(
            doc,
            f"{label}评估单元 {n} 个，达标 {ok_units} 个，未达标 {n - ok_units} 个。"
            + ("差异系数标「⚠临界」的，四舍五入前后结论不同，请核实数据。" if boundary else ""),
            indent=True,
        )
        cvs = [(stage.get("cv") or {}).get(code) for code in codes]
        add_chart(
            doc,
            Chart(
                title=f"{label}各项指标校际差异系数与限值",
                categories=codes,
                series=[
                    Series("差异系数", [None if v is None else float(v) for v in cvs]),
                    Series("限值", [None if limit is None else float(limit)] * len(codes), kind="line", color="C00000"),
                ],
                axis_title="差异系数",
            ),
        )
        failing = [u for u in _failing_units(county) if u.get("stage") == key]
        if failing:
            add_paragraph(doc, f"{label}未达标评估单元", style="图表标题")
            rows = [["学校", "在校生数", "未达标指标（数值）"]]
            for unit in failing:
                unmet = "；".join(f"{c} {t.value((unit.get('values') or {}).get(c))}" for c in _unmet_codes(unit))
                rows.append(
                    [
                        str(unit.get("school_name") or unit.get("school_id")),
                        Cell(t.value(unit.get("students")), align="right"),
                        unmet,
                    ]
                )
            add_table(doc, rows, [6.0, 2.2, 7.6])


def _items_section(doc: Any, county: Mapping[str, Any], t: Terms, part: str, heading: str, section_key: str) -> None:
    add_heading(doc, heading, 1)
    section = county.get(part)
    if not section:
        add_paragraph(doc, NOT_EVALUATED, indent=True)
        return
    add_paragraph(
        doc,
        f"结论：{status_label(section.get('status'))}。共 {section.get('total', t.section_size(section_key))} 项，"
        f"达标 {section.get('met', 0)} 项，"
        f"未达标 {section.get('not_met', 0)} 项，数据不足 {section.get('insufficient_data', 0)} 项。",
        indent=True,
    )
    rows: list[list[Any]] = [["代码", "项目", "结论", "数值", "标准", "说明"]]
    for item in section.get("items") or ():
        code = str(item.get("code") or "")
        rows.append(
            [
                Cell(code, align="center"),
                str(item.get("name") or ""),
                Cell(judged_label(item), align="center"),
                Cell(t.item(code, item.get("value")), align="right"),
                Cell(t.item(code, item.get("threshold")), align="right"),
                str(item.get("detail") or ""),
            ]
        )
    add_table(doc, rows, [1.2, 5.4, 1.6, 1.9, 1.9, 3.8])


def _recognition_section(doc: Any, county: Mapping[str, Any], t: Terms) -> None:
    add_heading(doc, "五、社会认可度", 1)
    s1 = county.get("social_recognition")
    if not s1:
        add_paragraph(doc, NOT_EVALUATED, indent=True)
        return
    threshold = s1.get("threshold", t.recognition_threshold())
    rows: list[list[Any]] = [
        ["项目", "内容"],
        ["要求", str(s1.get("name") or t.recognition_name())],
        ["有效回答数", t.value(s1.get("valid"))],
        ["认可回答数", t.value(s1.get("positive"))],
        ["社会认可度", t.rate(s1.get("value"))],
        ["标准", t.rate(threshold)],
        ["结论", judged_label(s1)],
        ["说明", str(s1.get("detail") or "")],
    ]
    if returns := t.valid_return_text():
        rows.insert(2, ["有效问卷回收率要求", returns])
    add_table(doc, rows, [4.0, 11.8])


def _veto_label(item: Mapping[str, Any]) -> str:
    if item.get("status") == "insufficient_data":
        return "数据不足"
    return "存在（否决）" if item.get("vetoed") else "不存在"


def _veto_section(doc: Any, county: Mapping[str, Any]) -> None:
    add_heading(doc, "六、一票否决事项", 1)
    vetoes = county.get("vetoes")
    if not vetoes:
        add_paragraph(doc, NOT_EVALUATED, indent=True)
        return
    add_paragraph(
        doc,
        f"结论：{status_label(vetoes.get('status'))}。发现一票否决事项 {vetoes.get('found', 0)} 项。",
        indent=True,
    )
    rows: list[list[Any]] = [["代码", "事项", "核查结论", "说明"]]
    for item in vetoes.get("items") or ():
        rows.append(
            [
                Cell(str(item.get("code") or ""), align="center"),
                str(item.get("name") or ""),
                Cell(_veto_label(item), align="center"),
                str(item.get("detail") or ""),
            ]
        )
    add_table(doc, rows, [1.2, 5.6, 2.4, 6.6])


def _verdict_section(doc: Any, county: Mapping[str, Any]) -> None:
    add_heading(doc, "七、评估结论", 1)
    verdict = county.get("verdict")
    if not verdict:
        ra = county.get("resource_allocation") or {}
        add_paragraph(
            doc,
            f"资源配置{'达标' if ra.get('passed') else '未达标'}。评估数据只包含资源配置部分，"
            "不能作出是否达到优质均衡发展标准的结论。",
            indent=True,
        )
        return
    add_paragraph(
        doc, f"评估结论：{verdict.get('conclusion') or status_label(verdict.get('status'))}。", bold=True, indent=True
    )
    rows: list[list[Any]] = [["评估内容", "结论"]]
    for part, label in PART_NAMES.items():
        status = _part_status(county, part)
        rows.append([label, Cell(status_label(status), align="center")])
    add_table(doc, rows, [8.0, 7.8])
    reasons = verdict.get("reasons") or []
    if reasons:
        add_paragraph(doc, "未达到标准或数据不足的事项（按重要程度排序）：", indent=True)
        for reason in reasons:
            add_paragraph(
                doc,
                f"{reason.get('rank')}. {reason.get('message') or ''}（{status_label(reason.get('status'))}）",
                indent=True,
            )
    else:
        add_paragraph(doc, "各部分均达到标准，无一票否决事项。", indent=True)


def _appendix_rows(county: Mapping[str, Any], t: Terms) -> list[list[str]]:
    """Every school that fails or cannot be checked, item by item: R units first, then G and Q items."""
    rows: list[list[str]] = []
    for unit in _failing_units(county):
        stage = t.stage(unit.get("stage"))
        codes = "、".join(_unmet_codes(unit))
        rows.append(
            [
                str(unit.get("school_id") or ""),
                str(unit.get("school_name") or ""),
                f"资源配置（{stage}）",
                "未达标",
                f"未达标指标：{codes}",
            ]
        )
    for part in ("government_guarantee", "education_quality"):
        for item in (county.get(part) or {}).get("items") or ():
            for school in item.get("schools") or ():
                rows.append(
                    [
                        str(school.get("school_id") or ""),
                        str(school.get("school_name") or ""),
                        str(item.get("code") or ""),
                        judged_label(school),
                        str(school.get("detail") or ""),
                    ]
                )
    return rows


def _appendix(doc: Any, county: Mapping[str, Any], t: Terms) -> None:
    add_page_break(doc)
    add_heading(doc, "附表　未达标及数据不足的学校", 1)
    rows = _appendix_rows(county, t)
    if not rows:
        add_paragraph(doc, "无。所有学校均达到各项可逐校核查的要求。", indent=True)
        return
    add_table(doc, [["学校标识码", "学校名称", "项目", "结论", "说明"], *rows], [2.6, 4.4, 2.4, 1.6, 4.8])


# ----------------------------------------------------------------------------------------------------
# The assessment annex (Excel)

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
            rows.append({"item": label, "value": status_label(_part_status(county, part))})
    for reason in verdict.get("reasons") or ():
        rows.append(
            {
                "item": f"原因 {reason.get('rank')}",
                "value": status_label(reason.get("status")),
                "detail": reason.get("message"),
                "ref": reason.get("ref"),
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
        headers={"item": "项目", "value": "结论", "detail": "说明", "ref": "数据位置"},
        title=f"{_county_title(county)} {county.get('year')} 年度义务教育优质均衡发展评估结论",
    )


def _resource_table(county: Mapping[str, Any], t: Terms) -> Table:
    rows: list[dict[str, Any]] = []
    for key, stage in _stages(county, t).items():
        boundary = set(stage.get("cv_boundary") or ())
        for code in _codes(stage, t):
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
    names = _school_names(county)
    rows = [
        {
            **gap,
            "school_name": names.get(str(gap.get("school_id")), ""),
            "stage": t.stage(gap.get("stage")),
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
    for unit in _failing_units(county):
        rows.append(
            {
                "code": "R",
                "item": f"资源配置（{t.stage(unit.get('stage'))}）",
                "school_id": unit.get("school_id"),
                "school_name": unit.get("school_name"),
                "status": "未达标",
                "detail": "未达标指标：" + "、".join(_unmet_codes(unit)),
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
        {**item, "status": status_label(item.get("status")), "finding": _veto_label(item)}
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
