"""A pilot adopts a planner scenario into its implementation plan (创建实施方案), and the plan's targets are compared
with the stored results year by year.

Adoption writes, in one transaction on a plan that is still editable: yearly targets per indicator — from the
reported data's value to the scenario's, in equal steps up to the target year (decision 66) — and one task per school
of the scenario's plan (what to hire, build or buy, with its cost; teachers received by rotation), replacing the
tasks of an earlier adoption and keeping the county's own. The scenario must pass: a plan's final year must meet
the standard.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from youjun.engine.planner import MODES
from youjun.formatting import number, rounded
from youjun.web.accounts.models import User
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit
from youjun.web.planning import selectors as planning
from youjun.web.planning.models import Scenario
from youjun.web.programme import recommendation
from youjun.web.programme.models import Plan, PlanTask
from youjun.web.programme.services.common import _conflict, audit, require_county
from youjun.web.programme.services.pilots import EDITABLE_PLAN, plan_for, plan_of, target_window
from youjun.web.shortcuts import refusal
from youjun.web.workflow import write_if

SOURCE = "planner"
#: Decimals a stored CV target keeps (the plan form accepts at most 4).
CV_DECIMALS = 4
MAX_TASKS = 200
TEACHERS = ("R1", "R2", "R3")
#: What an adoption keeps of the scenario's plan.
PLAN_KEYS = ("mode", "cost", "gap", "solver", "status", "actions", "moves", "cvs", "rotated")


def target_years(plan: Plan) -> list[int]:
    """The plan's yearly target columns: the year after the batch up to the target year (three years by default),
    as the plan form shows them."""
    batch_year = plan.nomination.batch.year
    first, last = target_window(batch_year)
    end = plan.target_year if plan.target_year and first <= plan.target_year <= last else batch_year + 3
    return list(range(first, end + 1))


def _steps(before: float, after: float, years: list[int]) -> dict[str, float]:
    """Equal steps from ``before`` (the reported data) to ``after`` (the scenario), reaching it in the last year."""
    n = len(years)
    return {str(y): before + (after - before) * (k + 1) / n for k, y in enumerate(years)}


def _targets(base: planning.Outcome, now: planning.Outcome, years: list[int]) -> dict[str, dict[str, float]]:
    targets: dict[str, dict[str, float]] = {}
    if base.units and now.units:
        share = _steps(base.units_passed / base.units, now.units_passed / now.units, years)
        targets["units_passed_share"] = {y: rounded(v, 4) for y, v in share.items()}
    for c in now.cvs:
        if c["stage"] not in recommendation.STAGES or c["code"] not in recommendation.INDICATORS or c["cv"] is None:
            continue
        b = base.cv_keys.get(c["key"])
        start = b["cv"] if b and b["cv"] is not None else c["cv"]
        steps = _steps(float(start), float(c["cv"]), years)
        out = {}
        for y, v in steps.items():
            value = rounded(v, CV_DECIMALS)
            if c["limit"] is not None and y == str(years[-1]):
                value = min(value, float(c["limit"]))  # the final year within the limit, as the scenario is
            if 0 < value < 1:
                out[y] = value
        if out:
            targets[f"cv_{c['stage']}_{c['code']}"] = out
    return targets


def _amount(a: dict[str, Any]) -> str:
    decimals = 0 if a["unit"] in ("人", "间", "元") else 1
    return f"{a['name']} {number(a['amount'], decimals, unit=a['unit'])}"


def _tasks(stored: dict[str, Any], items: list[str], names: dict[str, str]) -> list[dict[str, Any]]:
    """Tasks of the scenario's plan: per school, its teachers (B3) and its buildings and equipment (B2) with their
    cost; per receiving school, the teachers it receives by rotation (3.3 when the plan chose that item, else B3)."""
    out: list[dict[str, Any]] = []
    by_school: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for a in stored.get("actions") or []:
        group = "B3" if a["indicator"] in TEACHERS else "B2"
        by_school[(a["school_id"], group)].append(a)
    for (school, group), rows in sorted(by_school.items(), key=lambda kv: (kv[0][1], names.get(kv[0][0], ""))):
        what = "新增" + "、".join(_amount(a) for a in rows)
        out.append(
            {
                "code": group,
                "title": f"{names.get(school, school)}：{what}"[:200],
                "owner": f"县教育局、{names.get(school, school)}"[:100],
                "school_id": school,
                "cost": Decimal(round(sum(a["cost"] for a in rows))),
            }
        )
    received: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in stored.get("moves") or []:
        if not m.get("exchange"):
            received[m["to_school_id"]].append(m)
    rotation = "3.3" if "3.3" in items else "B3"
    for school, rows in sorted(received.items(), key=lambda kv: names.get(kv[0], "")):
        total = sum(int(m["count"]) for m in rows)
        detail = "、".join(f"{m['from_school_name']} {m['name']} {m['count']} 人" for m in rows)
        out.append(
            {
                "code": rotation,
                "title": f"{names.get(school, school)}：接收交流轮岗教师 {total} 人（{detail}）"[:200],
                "owner": "县教育局",
                "school_id": school,
                "cost": Decimal(0),
            }
        )
    return out[:MAX_TASKS]


def _manual_edits(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's own edits (not its creation, copies or the plan's application) as tasks of the county."""
    skip = ("由 ", "复制自", "更名为", "应用规划方案")
    return [
        {"code": "", "title": f"情景调整：{e['text']}"[:200], "owner": "县教育局", "school_id": "", "cost": None}
        for e in scenario.edits
        if not str(e.get("text", "")).startswith(skip)
    ][:MAX_TASKS]


def adopt_scenario(user: User, scenario_pk: int, version: int) -> Plan:
    """Write the scenario's outcome and plan into the county's implementation plan (see the module docstring)."""
    scenario = planning.scenario_for(user, scenario_pk)
    county = scenario.county
    require_county(user, county)
    if scenario.version != version:
        raise _conflict("该情景已被修改（可能在另一个窗口），请刷新页面后重试；本次操作未生效。")
    rules = planning.rules_of(scenario)
    now = planning.outcome(planning.frame_of(scenario), rules)
    if not now.passed:
        over = [f"{c['stage_name']}{c['code']}" for c in now.cvs if c["passed"] is False]
        detail = f"单元达标 {now.units_passed}/{now.units}" + (f"，差异系数超限：{'、'.join(over)}" if over else "")
        raise refusal(
            f"情景「{scenario.name}」的资源配置尚未达标（{detail}），不能作为实施方案的目标；请先生成并应用达标方案。"
        )
    base = planning.baseline(scenario, rules)
    with transaction.atomic():
        plan = plan_for(user, county)
        plan = Plan.objects.select_for_update().select_related("nomination__batch").get(pk=plan.pk)
        if plan.status not in EDITABLE_PLAN:
            raise refusal(f"实施方案当前为「{plan.get_status_display()}」，不能修改；退回修改后才能纳入情景。")
        years = target_years(plan)
        targets = plan.targets | _targets(base, now, years)
        stored = scenario.plan if scenario.plan and "actions" in scenario.plan else {}
        names = {r["school_id"]: str(r.get("school_name") or r["school_id"]) for r in scenario.schools}
        tasks = _tasks(stored, list(plan.items), names) + _manual_edits(scenario)
        cost = float(stored.get("cost", 0.0)) if stored else 0.0
        adopted = {
            "scenario": scenario.pk,
            "name": scenario.name,
            "year": scenario.year,
            "version": scenario.version,
            "at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "by": user.get_username(),
            "cost": cost,
            "mode": stored.get("mode", ""),
            "mode_name": MODES.get(stored.get("mode", ""), ""),
            "gap": stored.get("gap"),
            "solver": stored.get("solver", ""),
            "years": years,
            "tasks": len(tasks),
            # The plan as adopted (the scenario may change afterwards): the report's chapter 达标规划方案.
            "plan": {k: stored[k] for k in PLAN_KEYS if k in stored},
        }
        write_if(
            Plan,
            plan.pk,
            what="该实施方案",
            where={"status__in": EDITABLE_PLAN},
            values={"targets": targets, "adopted": adopted, "target_year": plan.target_year or years[-1]},
            conflict=_conflict,
        )
        PlanTask.objects.filter(plan=plan, source=SOURCE).delete()
        PlanTask.objects.bulk_create(PlanTask(plan=plan, source=SOURCE, **t) for t in tasks)
        audit(
            "plan",
            plan,
            f"纳入情景「{scenario.name}」（{len(tasks)} 项任务，费用 {number(cost, 0)} 元）",
            user,
            plan.status,
            plan.status,
        )
    plan.refresh_from_db()
    return plan


# ----------------------------------------------------------------------------------------------------
# Targets against the stored results


def _actual(result: dict[str, Any], key: str) -> float | None:
    ra = result.get("resource_allocation") or {}
    stages = ra.get("stages") or {}
    if key == "units_passed_share":
        units = sum(int(s.get("units") or 0) for s in stages.values())
        passed = sum(int(s.get("units_passed") or 0) for s in stages.values())
        return passed / units if units else None
    _, stage, code = key.split("_", 2)
    value = ((stages.get(stage) or {}).get("cv") or {}).get(code)
    return None if value is None else float(value)


def progress(plan: Plan) -> list[dict[str, Any]]:
    """Each target of the plan, year by year: the target, the stored result of that year and whether it is met
    (a CV at most its target, the share of units at least its target); years without a stored result say so."""
    latest: dict[int, CountyEvaluation] = {}
    for e in CountyEvaluation.objects.filter(county=plan.county).order_by("year", "computed_at", "pk"):
        latest[e.year] = e
    rows = []
    for key in sorted(plan.targets, key=lambda k: (k != "units_passed_share", k)):
        by_year = plan.targets.get(key) or {}
        share = key == "units_passed_share"
        if not share and not key.startswith("cv_"):
            continue
        cells = []
        for year in sorted(by_year, key=int):
            try:
                target = float(by_year[year])
            except (TypeError, ValueError):
                continue
            target = target / 100 if share and target > 1 else target
            found = latest.get(int(year))
            actual = _actual(found.result, key) if found else None
            met = None if actual is None else (actual >= target - 1e-12 if share else actual <= target + 1e-12)
            cells.append({"year": int(year), "target": target, "actual": actual, "met": met})
        if cells:
            rows.append({"key": key, "share": share, "cells": cells})
    return rows


def report_plan(county: OrgUnit, year: int) -> dict[str, Any] | None:
    """The plan the pilot adopted, for its self-evaluation report of ``year`` (a report of a year before the data
    the plan was made from has none)."""
    p = plan_of(county)
    if p is None or not p.adopted or not p.adopted.get("plan") or int(p.adopted.get("year", 0)) > year:
        return None
    return dict(p.adopted["plan"]) | {"name": p.adopted.get("name", ""), "year": p.adopted.get("year")}
