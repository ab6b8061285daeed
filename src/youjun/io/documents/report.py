"""The county self-evaluation report (自评报告, Word), from one county object of the evaluation JSON under the rule
set it was computed with, and the county's own chapters (:mod:`.chapters`). Charts are native Word charts (see
:mod:`youjun.io.docx_base`).

The parts follow a real 自评报告: the county's account of itself opens 基本情况 (before the figures), 主要做法 comes
before the results it led to, the results part by part, the conclusion (评估结论), and then what is still wrong and
how it will be put right (存在的问题, 整改措施与计划), which answer the conclusion's list of reasons. Parts are
numbered in order (一、二、…), so a province's rule set or a new chapter never leaves a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import count
from typing import Any

from youjun.formatting import DASH, chinese_count, number
from youjun.io.documents.chapters import CHAPTERS, PENDING, Chapter, paragraphs
from youjun.io.documents.county import failing_units, gaps_of, part_status, stage_codes, stages_of, unmet_texts
from youjun.io.documents.plan_chapter import add_plan_chapter
from youjun.io.documents.terms import NOT_EVALUATED, PART_NAMES, Terms, judged_label, status_label, veto_label
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
from youjun.standards import RuleSet


def self_evaluation_docx(
    county: Mapping[str, Any],
    rules: RuleSet | None = None,
    *,
    narrative: Mapping[str, str] | None = None,
    standard_name: str | None = None,
    generated_at: datetime | None = None,
    plan: Mapping[str, Any] | None = None,
) -> bytes:
    """The county self-evaluation report (自评报告) as a .docx file, from one county object of the evaluation JSON
    computed under ``rules`` (the default rule set when None) and the county's chapters (``narrative``: chapter
    key → text; a chapter without text says 「（由县级填写）」); the cover names the rule set unless
    ``standard_name`` is given. ``plan``: the planner's plan the county adopted into its implementation plan
    (:mod:`.plan_chapter`), printed as the chapter 达标规划方案 after 整改措施与计划."""
    t = Terms.of(rules)
    texts = narrative or {}
    generated_at = generated_at or datetime.now()
    name = str(county.get("county_name") or "")
    year = county.get("year")
    doc = new_document(title=f"{name}义务教育优质均衡发展自评报告")
    _cover(doc, county, standard_name or t.standard_name(), generated_at)
    numbers = count(1)

    def heading(title: str) -> None:
        add_heading(doc, f"{chinese_count(next(numbers))}、{title}", 1)

    opening = _placed("basic")
    heading(opening[0].title if opening else "基本情况")
    for chapter in opening:
        _chapter_text(doc, texts.get(chapter.key))
    _basic_section(doc, county, t)
    for chapter in _placed("before_results"):
        heading(chapter.title)
        _chapter_text(doc, texts.get(chapter.key))
    heading("资源配置")
    _resource_section(doc, county, t)
    heading("政府保障程度")
    _items_section(doc, county, t, "government_guarantee", "guarantee")
    heading("教育质量")
    _items_section(doc, county, t, "education_quality", "quality")
    heading("社会认可度")
    _recognition_section(doc, county, t)
    heading("一票否决事项")
    _veto_section(doc, county)
    heading("评估结论")
    _verdict_section(doc, county)
    for chapter in _placed("after_verdict"):
        heading(chapter.title)
        _chapter_text(doc, texts.get(chapter.key))
    if plan:
        heading("达标规划方案")
        add_plan_chapter(doc, plan, t)
    _appendix(doc, county, t)
    add_paragraph(
        doc,
        f"本报告由优均系统根据 {year} 年度评估数据生成，生成时间 {generated_at:%Y-%m-%d %H:%M}。",
        size=9,
        align="right",
    )
    return to_bytes(doc)


def _placed(place: str) -> list[Chapter]:
    return [c for c in CHAPTERS if c.place == place]


def _chapter_text(doc: Any, text: str | None) -> None:
    """The county's text, a paragraph per line (a line opening with （一） or 一、 is a bold sub-heading);
    「（由县级填写）」 when it wrote nothing."""
    found = paragraphs(text or "")
    if not found:
        add_paragraph(doc, PENDING, indent=True)
    for paragraph in found:
        add_paragraph(doc, paragraph, indent=True, bold=_is_subheading(paragraph))


_SUBHEADING_MARKS = tuple(f"（{chinese_count(n)}）" for n in range(1, 21)) + tuple(
    f"{chinese_count(n)}、" for n in range(1, 21)
)


def _is_subheading(paragraph: str) -> bool:
    """A short line numbered （一） or 一、 as Chinese reports number their sub-headings."""
    return paragraph.startswith(_SUBHEADING_MARKS) and len(paragraph) <= 40 and not paragraph.endswith("。")


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
    verdict = county.get("verdict") or {}
    eligibility = verdict.get("eligibility") or {}
    if eligibility:
        add_paragraph(
            doc, f"申报资格：{status_label(eligibility.get('status'))}。{eligibility.get('detail') or ''}", indent=True
        )
    else:
        add_paragraph(doc, "申报资格：评估数据中没有通过国家基本均衡认定的年份，暂不能判断。", indent=True)
    stages = stages_of(county, t)
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


#: What 「需增加」 means, said once under the first table of failing units.
SHORTFALL_NOTE = "「需增加」为该校该学段达到标准还需增加的教师数、面积、设备值或教室数（按其在校生数计算）。"


def _resource_rule(t: Terms) -> str:
    """The resource-allocation requirement of the rule set in one sentence (empty when it states none)."""
    parts = [text for text in (t.school_rule_text(), t.cv_limit_text()) if text]
    if not parts:
        return ""
    return f"按评估标准，{'，且'.join(parts)}。差异系数按学生数加权计算。"


def _resource_section(doc: Any, county: Mapping[str, Any], t: Terms) -> None:
    ra = county.get("resource_allocation")
    if not ra:
        add_paragraph(doc, NOT_EVALUATED, indent=True)
        return
    if ra.get("status") == "insufficient_data":
        add_paragraph(doc, "资源配置结论：数据不足。学校表中没有本县（区）的学校数据，资源配置无法评估。", indent=True)
        return
    passed = "达标" if ra.get("passed") else "未达标"
    add_paragraph(doc, f"资源配置结论：{passed}。{_resource_rule(t)}", indent=True)
    gaps, explained = gaps_of(county), False
    for index, (key, stage) in enumerate(stages_of(county, t).items()):
        label = t.stage(key)
        add_heading(doc, f"（{chinese_count(index + 1)}）{label}", 2)
        limit = stage.get("cv_limit")
        boundary = set(stage.get("cv_boundary") or ())
        rows: list[list[Any]] = [["指标", "县域值", "差异系数", "限值", "结论"]]
        codes = stage_codes(stage, t)
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
        failing = [u for u in failing_units(county) if u.get("stage") == key]
        if failing:
            add_paragraph(doc, f"{label}未达标评估单元", style="图表标题")
            rows = [["学校", "在校生数", "未达标指标：数值（标准，达到标准需增加）"]]
            for unit in failing:
                rows.append(
                    [
                        str(unit.get("school_name") or unit.get("school_id")),
                        Cell(t.value(unit.get("students")), align="right"),
                        "\n".join(unmet_texts(unit, gaps, t)),
                    ]
                )
            add_table(doc, rows, [4.6, 1.8, 9.4])
            if not explained:
                add_paragraph(doc, SHORTFALL_NOTE, indent=True)
                explained = True


def _items_section(doc: Any, county: Mapping[str, Any], t: Terms, part: str, section_key: str) -> None:
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


def _veto_section(doc: Any, county: Mapping[str, Any]) -> None:
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
                Cell(veto_label(item), align="center"),
                str(item.get("detail") or ""),
            ]
        )
    add_table(doc, rows, [1.2, 5.6, 2.4, 6.6])


def _verdict_section(doc: Any, county: Mapping[str, Any]) -> None:
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
        status = part_status(county, part)
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
    gaps = gaps_of(county)
    for unit in failing_units(county):
        stage = t.stage(unit.get("stage"))
        rows.append(
            [
                str(unit.get("school_id") or ""),
                str(unit.get("school_name") or ""),
                f"资源配置（{stage}）",
                "未达标",
                "未达标指标：\n" + "\n".join(unmet_texts(unit, gaps, t)),
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
    add_table(doc, [["学校标识码", "学校名称", "项目", "结论", "说明"], *rows], [2.4, 3.4, 2.2, 1.6, 6.2])
