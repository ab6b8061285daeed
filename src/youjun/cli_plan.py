"""``youjun plan``: the least-cost plan that brings one county's resource allocation to the standard
(``youjun.engine.planner``), as a table, JSON or an Excel workbook (per school what to add and its cost, per
indicator the CV before and after)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from youjun.engine.planner import Limits, Plan
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet

LIMIT_HEADERS = {"school_id": "学校标识码", "max_building": "可新建用房面积", "max_ground": "可新增场地面积"}


def read_limits(path: Path, max_teachers: int | None, budget: float | None) -> Limits:
    """Per-school caps from a CSV (学校标识码, 可新建用房面积, 可新增场地面积; blank = no cap), county caps."""
    from youjun.io.limits import CLI_LIMITS, check_input

    refused = check_input(path, ".csv", CLI_LIMITS, file=path.name)
    if refused:
        raise YoujunError(refused)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise YoujunError.single("plan_limits", f"上限文件「{path.name}」无法读取：{exc}") from None
    names = {v: k for k, v in LIMIT_HEADERS.items()} | {k: k for k in LIMIT_HEADERS}
    raw = raw.rename({c: names[c.strip()] for c in raw.columns if c.strip() in names})
    if "school_id" not in raw.columns:
        raise YoujunError.single("plan_limits", f"上限文件「{path.name}」缺少列：学校标识码")
    caps: dict[str, dict[str, float]] = {"max_building": {}, "max_ground": {}}
    for row_number, row in enumerate(raw.iter_rows(named=True), start=2):
        school = (row.get("school_id") or "").strip()
        for key in caps:
            text = (row.get(key) or "").strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                raise YoujunError.single(
                    "plan_limits",
                    f"上限文件「{path.name}」第 {row_number} 行的「{LIMIT_HEADERS[key]}」应为不小于 0 的数",
                )
            caps[key][school] = value
    return Limits(caps["max_building"], caps["max_ground"], max_teachers, budget)


def _amount(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if unit in ("人", "间", "元") else f"{value:,.1f} {unit}"


def render(out: Console, result: Plan, rules: RuleSet) -> None:
    head = "已达标，无需新增" if result.actions.height == 0 else f"总费用 {result.cost:,.0f} 元"
    if result.mode == "budget":
        head = reach_text(result) + f"，费用 {result.cost:,.0f} 元"
    out.print(
        f"[bold]{result.county_name}（{result.county_code}）资源配置达标方案[/]：{head}；"
        f"求解器 {result.solver}，状态 {result.status}，最优性差距 {result.gap:.2%}，用时 {result.seconds:.2f} 秒"
    )
    if result.gap > 0.01:
        out.print(
            f"[yellow]注意：求解在时限内未能证明最优，本方案的费用可能比最优方案高出最多 {result.gap:.0%}；"
            "可用 --time-limit 放宽时限后重试。方案本身已经评估引擎复核达标。[/]"
        )
    stage_names = dict(rules.stage_names)
    by_school = Table(title="各校新增", title_style="bold")
    for col in ("学校", "学段", "新增", "数量", "费用（元）"):
        by_school.add_column(col, justify="right" if col in ("数量", "费用（元）") else "left")
    for r in result.actions.iter_rows(named=True):
        by_school.add_row(
            f"{r['school_name']}（{r['school_id']}）",
            stage_names.get(r["stage"], "全校") if r["stage"] else "全校",
            f"{r['name']}（{r['indicator']}）",
            _amount(r["amount"], r["unit"]),
            f"{r['cost']:,.0f}",
        )
    if result.actions.height:
        out.print(by_school)
    cvs = Table(title="差异系数（规划前 → 规划后）", title_style="bold")
    for col in ("学段", "指标", "规划前", "规划后", "限值"):
        cvs.add_column(col)
    dec = rules.precision.display_cv_decimals
    for r in result.cvs.iter_rows(named=True):

        def show(v: float | None) -> str:
            return "—" if v is None else f"{v:.{dec}f}"

        before_over = r["cv_before"] is not None and r["cv_limit"] is not None and r["cv_before"] > r["cv_limit"]
        cvs.add_row(
            stage_names.get(r["stage"], r["stage"]),
            r["indicator"],
            f"[red]{show(r['cv_before'])}[/]" if before_over else show(r["cv_before"]),
            show(r["cv_after"]),
            show(r["cv_limit"]),
        )
    out.print(cvs)
    if result.moves.height:
        moves = Table(title="交流轮岗", title_style="bold")
        for col in ("调出学校", "调入学校", "学段", "教师", "人数", "方式"):
            moves.add_column(col, justify="right" if col == "人数" else "left")
        for r in result.moves.iter_rows(named=True):
            moves.add_row(
                r["from_school_name"],
                r["to_school_name"],
                stage_names.get(r["stage"], r["stage"]),
                r["name"],
                str(r["count"]),
                "对调" if r["exchange"] else "调动",
            )
        out.print(moves)
    if result.rotation is not None:
        total, backbone = result.rotated
        share = backbone / total if total else 0.0
        out.print(
            f"交流轮岗 {total} 人（骨干教师 {backbone} 人，占 {share:.0%}）；G11 要求不少于符合交流条件教师 "
            f"{result.rotation.eligible} 人的 {result.rotation.rate:.0%}（{result.rotation.min_moves} 人），"
            f"骨干教师不少于 {result.rotation.backbone_share:.0%}。对调的教师不改变两校的指标。"
        )
    failing = result.units.filter(pl.col("passed_before").not_()).height
    if result.passed_after:
        out.print(f"规划前未达标的学校单元 {failing} 个；按方案新增后，评估引擎复核：全部单元和差异系数达标。")
    else:
        out.print(f"规划前未达标的学校单元 {failing} 个；按方案新增后，评估引擎复核：{reach_text(result)}。")


def reach_text(result: Plan) -> str:
    """What a (budget-limited) plan brings to the standard, by the engine's count."""
    units_ok, units, cvs_ok, cvs = result.reached
    within = "在预算内" if result.mode == "budget" else "按方案"
    return f"{within}可使 {units_ok}/{units} 个学校单元、{cvs_ok}/{cvs} 项差异系数达标"


def to_json(result: Plan) -> dict[str, Any]:
    from youjun.io.plan_workbook import to_dict

    return to_dict(result)


def write_json(result: Plan, target: Path | None) -> None:
    text = json.dumps(to_json(result), ensure_ascii=False, indent=2)
    if target is None:
        sys.stdout.write(text + "\n")
    else:
        target.write_text(text + "\n", encoding="utf-8")
