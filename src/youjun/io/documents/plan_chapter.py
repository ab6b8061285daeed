"""The self-evaluation report's chapter of the planner's plan (达标规划方案): what the county adopted into its
implementation plan — per school what to hire, build or buy and its cost, the teachers rotated, each CV before and
after — from a stored plan (:func:`youjun.io.plan_workbook.to_dict`, with the scenario's ``name`` and data ``year``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from youjun.formatting import DASH, number
from youjun.io.documents.terms import Terms
from youjun.io.docx_base import add_paragraph, add_table

#: The planner's modes as the chapter names them (the engine's names, kept here so ``io`` needs no solver import).
MODE_NAMES = {"cost": "最低费用", "rotation": "交流轮岗", "combined": "先轮岗、再补充", "budget": "预算内最大达标"}
#: At most this many rows of a table (a county's plan rarely has more; the workbook has them all).
MAX_ROWS = 200


def add_plan_chapter(doc: Any, plan: Mapping[str, Any], t: Terms) -> None:
    actions = list(plan.get("actions") or [])
    moves = [m for m in plan.get("moves") or [] if not m.get("exchange")]
    mode = MODE_NAMES.get(str(plan.get("mode", "")), str(plan.get("mode", "")))
    source = f"情景「{plan['name']}」（{plan['year']} 年数据）" if plan.get("name") else "规划方案"
    cost = number(plan.get("cost"), 0, trim=True)
    gap = number(100 * float(plan.get("gap") or 0.0), 2)
    add_paragraph(
        doc,
        f"本县实施方案采用{source}的达标规划（{mode}）：共需投入 {cost} 元，新增 {len(actions)} 项、交流轮岗 "
        f"{sum(int(m['count']) for m in moves)} 人次。方案由精确求解器（{plan.get('solver', DASH)}）求得，最优性差距 "
        f"{gap}%，并经评估引擎复核：按方案实施后，各学校（学段）单元达到逐校标准，各项差异系数不超过限值。",
        indent=True,
    )
    if actions:
        rows: list[list[Any]] = [["学校", "学段", "新增内容", "数量", "费用（元）"]]
        for a in actions[:MAX_ROWS]:
            decimals = 0 if a["unit"] in ("人", "间", "元") else 1
            rows.append(
                [
                    a["school_name"],
                    t.stage(a["stage"]) if a.get("stage") else "全校",
                    f"{a['name']}（{a['indicator']}）",
                    number(a["amount"], decimals, unit=a["unit"]),
                    number(a["cost"], 0),
                ]
            )
        add_table(doc, rows, [4.2, 1.6, 4.4, 2.6, 2.6])
        if len(actions) > MAX_ROWS:
            add_paragraph(doc, f"共 {len(actions)} 项，列出前 {MAX_ROWS} 项，全部见方案的 Excel 文件。", size=9)
    if moves:
        add_paragraph(doc, "教师交流轮岗：", indent=True)
        rows = [["调出学校", "调入学校", "学段", "教师", "人数"]]
        for m in moves[:MAX_ROWS]:
            rows.append([m["from_school_name"], m["to_school_name"], t.stage(m["stage"]), m["name"], m["count"]])
        add_table(doc, rows, [4.2, 4.2, 1.6, 3.0, 1.4])
    cvs = list(plan.get("cvs") or [])
    if cvs:
        add_paragraph(doc, "差异系数（规划前 → 规划后）：", indent=True)
        rows = [["学段", "指标", "规划前", "规划后", "限值"]]
        for c in cvs:
            rows.append(
                [
                    t.stage(c["stage"]),
                    c["indicator"],
                    t.cv(c.get("cv_before")),
                    t.cv(c.get("cv_after")),
                    DASH if c.get("cv_limit") is None else t.limit(float(c["cv_limit"])),
                ]
            )
        add_table(doc, rows, [2.0, 2.4, 3.0, 3.0, 2.4])
