"""The planner's plan as an Excel workbook: per school what to add and its cost, the moves of a rotation, per
indicator the CV before and after (used by ``youjun plan --format xlsx`` and the web planner's download)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import polars as pl

from youjun.engine.planner import ACTION_SCHEMA, Plan, Rotation
from youjun.io.workbook import Table as Sheet
from youjun.io.workbook import write_tables
from youjun.standards.model import RuleSet


def write_xlsx(result: Plan, rules: RuleSet, target: Path) -> None:
    stage_names = dict(rules.stage_names)
    stage = pl.col("stage").replace_strict(stage_names, default="全校", return_dtype=pl.String)
    actions = result.actions.with_columns(stage.alias("stage"))
    per_school = (
        result.actions.group_by("school_id", "school_name")
        .agg(pl.col("cost").sum().alias("cost"))
        .sort("cost", descending=True)
    )
    note = (
        f"总费用 {result.cost:,.0f} 元；求解器 {result.solver}，状态 {result.status}，最优性差距 {result.gap:.4%}。"
        + (
            "方案已由评估引擎复核：按方案新增后，全部学校单元和各项差异系数达标。"
            if result.passed_after
            else "方案已由评估引擎复核：按方案新增后，{}/{} 个学校单元、{}/{} 项差异系数达标。".format(*result.reached)
        )
        + "单价见规划器单价文件。"
    )
    sheets = [
        Sheet(
            sheet="各校新增",
            frame=actions,
            headers={
                "school_id": "学校标识码",
                "school_name": "学校名称",
                "stage": "学段",
                "lever": "类别",
                "name": "新增内容",
                "indicator": "指标",
                "amount": "数量",
                "unit": "单位",
                "cost": "费用（元）",
            },
            formats={"amount": "#,##0.0", "cost": "#,##0"},
            title=f"{result.county_name}资源配置达标方案",
            notes=(note,),
        ),
        Sheet(
            sheet="各校费用",
            frame=per_school,
            headers={"school_id": "学校标识码", "school_name": "学校名称", "cost": "费用（元）"},
            formats={"cost": "#,##0"},
        ),
        Sheet(
            sheet="差异系数",
            frame=result.cvs.with_columns(
                pl.col("stage").replace_strict(stage_names, default=pl.col("stage"), return_dtype=pl.String)
            ),
            headers={
                "stage": "学段",
                "indicator": "指标",
                "cv_before": "规划前",
                "cv_after": "规划后",
                "cv_limit": "限值",
                "passed_after": "规划后是否在限值内",
            },
            formats={"cv_before": "0.000", "cv_after": "0.000", "cv_limit": "0.00"},
        ),
    ]
    if result.moves.height:
        sheets.insert(
            2,
            Sheet(
                sheet="交流轮岗",
                frame=result.moves.with_columns(
                    pl.col("stage").replace_strict(stage_names, default=pl.col("stage"), return_dtype=pl.String),
                    pl.when(pl.col("exchange")).then(pl.lit("对调")).otherwise(pl.lit("调动")).alias("exchange"),
                ),
                headers={
                    "from_school_id": "调出学校标识码",
                    "from_school_name": "调出学校",
                    "to_school_id": "调入学校标识码",
                    "to_school_name": "调入学校",
                    "stage": "学段",
                    "kind": "类别",
                    "name": "教师",
                    "count": "人数",
                    "exchange": "方式",
                },
            ),
        )
    write_tables(target, sheets)


def to_dict(result: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data (``youjun plan --format json``, the web planner's stored plan)."""
    rotation = result.rotation
    return {
        "county_code": result.county_code,
        "county_name": result.county_name,
        "cost": result.cost,
        "solver": result.solver,
        "status": result.status,
        "gap": result.gap,
        "seconds": result.seconds,
        "passed_before": result.passed_before,
        "passed_after": result.passed_after,
        "mode": result.mode,
        "reached": dict(zip(("units_passed", "units", "cvs_within", "cvs"), result.reached, strict=True)),
        "actions": result.actions.to_dicts(),
        "moves": result.moves.to_dicts(),
        "rotated": dict(zip(("teachers", "backbone"), result.rotated, strict=True)),
        "rotation": None if rotation is None else dataclasses.asdict(rotation),
        "cvs": result.cvs.to_dicts(),
        "units": result.units.to_dicts(),
        "changes": result.changes.to_dicts(),
    }


def from_dict(data: dict[str, Any], applied: pl.DataFrame) -> Plan:
    """A plan stored by :func:`to_dict` again (for its workbook); ``applied`` is the schools' data it produced."""
    rotation = data.get("rotation")
    return Plan(
        county_code=data["county_code"],
        county_name=data["county_name"],
        actions=pl.DataFrame(data["actions"], schema=ACTION_SCHEMA),
        cvs=pl.DataFrame(data["cvs"]),
        units=pl.DataFrame(data["units"]),
        applied=applied,
        cost=float(data["cost"]),
        gap=float(data["gap"]),
        status=str(data["status"]),
        seconds=float(data["seconds"]),
        solver=str(data["solver"]),
        passed_before=bool(data["passed_before"]),
        passed_after=bool(data["passed_after"]),
        moves=pl.DataFrame(data["moves"]) if data["moves"] else pl.DataFrame(),
        mode=str(data.get("mode", "cost")),
        rotation=Rotation(**rotation) if rotation else None,
    )
