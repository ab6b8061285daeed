"""The rectification report (整改情况报告, Word) of a recognition case: every finding of the problem list with its
responsible unit, deadline, measures, evidence and the verification by the level that raised it, from plain
mappings (the web application's ``recognition`` builds them), so a script can produce the same document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from youjun.io.docx_base import add_heading, add_paragraph, add_table, new_document, to_bytes


def rectification_docx(head: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]) -> bytes:
    """``head``: county, round, procedure, today; ``findings``: step, raised_by, indicator, school, text,
    responsible, deadline, measures, status, evidence (names), verification, verified_at, overdue."""
    title = f"{head['county']}县域义务教育优质均衡发展问题整改情况报告"
    doc = new_document(title=title)
    add_paragraph(doc, title, bold=True, size=18, align="center")
    add_paragraph(doc, f"（{head['round']}，截至 {head['today']}）", align="center")
    done = sum(1 for f in findings if f["status"] == "verified")
    overdue = sum(1 for f in findings if f.get("overdue"))
    add_heading(doc, "一、总体情况", 1)
    add_paragraph(
        doc,
        f"在{head['round']}中，共发现问题 {len(findings)} 项，其中整改已核验 {done} 项、整改待核验 "
        f"{sum(1 for f in findings if f['status'] == 'submitted')} 项、待整改 "
        f"{sum(1 for f in findings if f['status'] == 'open')} 项"
        + (f"；已逾期 {overdue} 项。" if overdue else "；无逾期事项。"),
        indent=True,
    )
    add_heading(doc, "二、问题清单与整改情况", 1)
    rows: list[list[Any]] = [["序号", "问题", "责任单位", "整改期限", "整改措施", "状态"]]
    for n, f in enumerate(findings, 1):
        where = "、".join(x for x in (f.get("indicator", ""), f.get("school", "")) if x)
        problem = f"{f['text']}（{f['step']}，{f['raised_by']}提出{('；' + where) if where else ''}）"
        status = f["status_label"] + ("（已逾期）" if f.get("overdue") else "")
        rows.append([str(n), problem, f["responsible"] or "—", f["deadline"], f["measures"] or "—", status])
    add_table(doc, rows, [1.1, 5.2, 2.4, 2.2, 4.2, 1.9])
    for n, f in enumerate(findings, 1):
        add_heading(doc, f"问题 {n}：{f['text'][:40]}", 2)
        add_paragraph(doc, f"整改措施：{f['measures'] or '尚未填写'}", indent=True)
        evidence = "、".join(f.get("evidence") or []) or "无"
        add_paragraph(doc, f"整改佐证材料：{evidence}", indent=True)
        if f["status"] == "verified":
            add_paragraph(doc, f"核验意见（{f['verified_at']}）：{f['verification'] or '整改到位'}", indent=True)
        elif f.get("verification"):
            add_paragraph(doc, f"核验意见：{f['verification']}", indent=True)
    return to_bytes(doc)
