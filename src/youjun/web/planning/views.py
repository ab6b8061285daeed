"""The planner's pages: a county's scenarios (list, create), one scenario (the engine's verdict beside the reported
data's, its failing units, the edit form, the planner's plan and its application) and scenarios compared side by
side. Higher levels read the scenarios of their counties; only the county writes them."""

from __future__ import annotations

import math
import time
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from youjun.engine.planner import LEVERS, MODES, MOVE_NAMES
from youjun.errors import YoujunError
from youjun.formatting import number
from youjun.io.plan_workbook import from_dict, write_xlsx
from youjun.standards.model import RuleSet
from youjun.web.accounts.models import Role, User
from youjun.web.evaluation.models import EvaluationState
from youjun.web.exports import written_xlsx
from youjun.web.organisation.models import Level
from youjun.web.planning import selectors, services
from youjun.web.planning.models import Scenario
from youjun.web.shortcuts import evaluator_required, message_of, status_of, unit_or_404, user_of, version_of, year_from

#: Bounds of the planner's inputs on the web (beyond them the solver's numbers lose their meaning).
MAX_BUDGET = 1e13
MAX_TEACHERS = 1_000_000
MAX_UNIT_COST = 1e9
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


def _writable(request: HttpRequest, pk: int) -> tuple[User, Scenario]:
    """The user and the scenario a write is asked for: 404 outside the jurisdiction, 403 for anyone but the county."""
    user = user_of(request)
    s = selectors.scenario_for(user, pk)
    services.check_writer(user, s.county)
    return user, s


def _back(scenario: Scenario) -> HttpResponse:
    return redirect("planning:scenario", scenario.pk)


def _attempt(request: HttpRequest, action: Any, done: str = "") -> bool:
    """Run a service call; a refusal other than "forbidden" becomes the page's error message (the user stays on
    the page), a forbidden one the refusal page."""
    try:
        result = action()
    except YoujunError as refused:
        if status_of(refused) == 403:
            raise
        messages.error(request, message_of(refused))
        return False
    if done or isinstance(result, str):
        messages.success(request, done or str(result))
    return True


def _version(post: QueryDict) -> int:
    return version_of(post)


def _float(raw: str, label: str, *, optional: bool = False) -> float | None:
    text = raw.strip().replace(",", "").replace("，", "").translate(_FULL_WIDTH)
    if not text:
        if optional:
            return None
        raise YoujunError.single("planning", f"请填写「{label}」。")
    try:
        value = float(text)
    except ValueError:
        raise YoujunError.single("planning", f"「{label}」应为数字，填写的是「{raw.strip()[:20]}」。") from None
    if not math.isfinite(value):
        raise YoujunError.single("planning", f"「{label}」应为数字，填写的是「{raw.strip()[:20]}」。")
    return value


# ----------------------------------------------------------------------------------------------------
# The list


@evaluator_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """A county: its scenarios and the form to create one. A higher level: the scenarios of its counties."""
    user = user_of(request)
    county = user.org_unit if user.role == Role.COUNTY and user.org_unit else None
    scenarios = list(selectors.scenarios_for(user).select_related("county__parent")[:200])
    years = selectors.approved_years(county) if county else []
    return render(
        request,
        "youjun/planning/index.html",
        {
            "title": "达标规划与情景模拟",
            "county": county,
            "scenarios": scenarios,
            "years": years,
            "suggested": f"{years[0]} 年方案" if years else "",
            "max_scenarios": services.MAX_SCENARIOS,
        },
    )


@evaluator_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    county = user.org_unit
    if user.role != Role.COUNTY or county is None or county.level != Level.COUNTY:
        raise YoujunError.single("forbidden", "情景由县级教育行政部门账号建立。")
    year = year_from(request.POST.get("year"), 0)
    made: list[Scenario] = []
    if _attempt(request, lambda: made.append(services.create(user, county, year, request.POST.get("name", "")))):
        return _back(made[0])
    return redirect("planning:index")


# ----------------------------------------------------------------------------------------------------
# One scenario


def _cv_rows(base: selectors.Outcome, now: selectors.Outcome) -> list[dict[str, Any]]:
    rows = []
    for c in now.cvs:
        b = base.cv_keys.get(c["key"])
        rows.append({**c, "base": b["text"] if b else "—", "base_passed": b["passed"] if b else None})
    return rows


def _plan_view(scenario: Scenario, rules: RuleSet) -> dict[str, Any] | None:
    stored = scenario.plan
    if not stored or "actions" not in stored:
        return None
    stage_names = dict(rules.stage_names)
    dec = rules.precision.display_cv_decimals
    actions = [
        {
            **a,
            "stage_name": stage_names.get(a["stage"], "全校") if a["stage"] else "全校",
            "amount_text": number(a["amount"], 0 if a["unit"] in ("人", "间", "元") else 1, unit=a["unit"]),
            "cost_text": number(a["cost"], 0),
        }
        for a in stored["actions"]
    ]
    moves = [
        {**m, "stage_name": stage_names.get(m["stage"], m["stage"]), "how": "对调" if m.get("exchange") else "调动"}
        for m in stored.get("moves") or []
    ]
    cvs = [
        {
            **c,
            "stage_name": stage_names.get(c["stage"], c["stage"]),
            "before": number(c["cv_before"], dec),
            "after": number(c["cv_after"], dec),
            "limit_text": number(c["cv_limit"], 2),
            "over_before": c["cv_before"] is not None and c["cv_limit"] is not None and c["cv_before"] > c["cv_limit"],
        }
        for c in stored["cvs"]
    ]
    rotated = stored.get("rotated") or {}
    return {
        "stored": stored,
        "mode_name": MODES.get(stored["mode"], stored["mode"]),
        "cost": number(stored["cost"], 0),
        "gap": number(100 * stored["gap"], 2),
        "seconds": number(stored["seconds"], 2),
        "actions": actions,
        "moves": moves,
        "cvs": cvs,
        "rotated": rotated,
        "current": stored.get("version") == scenario.version and not stored.get("applied_version"),
        "applied": bool(stored.get("applied_version")),
        "stale": stored.get("version") != scenario.version and not stored.get("applied_version"),
        "failing_before": sum(1 for u in stored["units"] if not u["passed_before"]),
        "reached": stored.get("reached") if not stored.get("passed_after", True) else None,
    }


@evaluator_required
@require_GET
def scenario(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    s = selectors.scenario_for(user, pk)
    rules = selectors.rules_of(s)
    started = time.perf_counter()
    frame = selectors.frame_of(s)
    now = selectors.outcome(frame, rules)
    server_ms = (time.perf_counter() - started) * 1000
    base = selectors.baseline(s, rules)
    state = EvaluationState.objects.filter(county=s.county, year=s.year).only("generation").first()
    moved_on = state is not None and state.generation != s.base_generation
    schools = sorted(
        ((r["school_id"], r.get("school_name") or r["school_id"]) for r in s.schools), key=lambda t: t[1] or ""
    )
    writer = user.role == Role.COUNTY and user.org_unit_id == s.county_id
    costs = services.default_costs()
    chosen = (s.plan.get("options") or {}) if s.plan else {}
    return render(
        request,
        "youjun/planning/scenario.html",
        {
            "title": f"情景：{s.name}",
            "s": s,
            "rule_name": rules.name,
            "now": now,
            "base": base,
            "server_ms": number(server_ms, 0),
            "engine_ms": number(now.milliseconds, 0),
            "cv_rows": _cv_rows(base, now),
            "moved_on": moved_on,
            "schools": schools,
            "fields": [(k, c.header, c.unit) for k, c in selectors.EDITABLE.items()],
            "kinds": services.KINDS,
            "teachers": MOVE_NAMES,
            "stages": [(k, rules.stage_name(k)) for k in rules.stages],
            "writer": writer,
            "plan": _plan_view(s, rules),
            "modes": MODES,
            "levers": [
                {"key": lv.key, "name": lv.name, "unit": lv.unit, "cost": (chosen.get("costs") or costs)[lv.key]}
                for lv in LEVERS
            ],
            "chosen": chosen,
            "edits": list(reversed(s.edits))[:50],
            "siblings": selectors.scenarios_for(user).filter(county=s.county).exclude(pk=s.pk)[:20],
        },
    )


def _edit_of(post: QueryDict) -> services.Edit:
    kind = post.get("kind", "")
    value = 0.0
    if kind in ("set", "add"):
        value = _float(post.get("value", ""), "数值") or 0.0
    count = 0
    if kind == "move":
        amount = _float(post.get("count", ""), "交流人数") or 0.0
        if amount != int(amount):
            raise YoujunError.single("planning", "交流人数应为正整数。")
        count = int(amount)
    return services.Edit(
        kind=kind,
        school=post.get("school", ""),
        field=post.get("field", ""),
        value=value,
        target=post.get("target", ""),
        teacher=post.get("teacher", ""),
        stage=post.get("stage", ""),
        count=count,
    )


@evaluator_required
@require_POST
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, s = _writable(request, pk)
    _attempt(request, lambda: services.edit(user, s, _version(request.POST), _edit_of(request.POST)))
    return _back(s)


def _options(post: QueryDict) -> services.Options:
    mode = post.get("mode", "cost")
    budget = _float(post.get("budget", ""), "预算上限", optional=True)
    teachers = _float(post.get("max_teachers", ""), "可新增教师编制", optional=True)
    if budget is not None and not 0 <= budget <= MAX_BUDGET:
        raise YoujunError.single("planning", f"预算上限应在 0 到 {MAX_BUDGET:,.0f} 元之间。")
    if teachers is not None and (not 0 <= teachers <= MAX_TEACHERS or teachers != int(teachers)):
        raise YoujunError.single("planning", f"可新增教师编制应为 0 到 {MAX_TEACHERS:,} 之间的整数。")
    costs = {}
    for lv in LEVERS:
        value = _float(post.get(f"cost-{lv.key}", ""), f"{lv.name}单价", optional=True)
        if value is None:
            continue
        if not 0 <= value <= MAX_UNIT_COST:
            raise YoujunError.single("planning", f"「{lv.name}单价」应在 0 到 {MAX_UNIT_COST:,.0f} 元之间。")
        costs[lv.key] = value
    return services.Options(mode, budget, None if teachers is None else int(teachers), costs)


@evaluator_required
@require_POST
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    user, s = _writable(request, pk)

    def run() -> str:
        stored = services.compute_plan(user, s, _version(request.POST), _options(request.POST))
        if not stored["actions"] and not stored["moves"] and stored["passed_after"]:
            return "本情景已达标，无需新增。"
        if not stored["passed_after"]:
            r = stored["reached"]
            return (
                f"已生成方案：费用 {number(stored['cost'], 0)} 元，在预算内可使 "
                f"{r['units_passed']}/{r['units']} 个学校单元、{r['cvs_within']}/{r['cvs']} 项差异系数达标。"
            )
        return f"已生成方案：费用 {number(stored['cost'], 0)} 元，最优性差距 {number(100 * stored['gap'], 2)}%。"

    _attempt(request, run)
    return redirect(reverse("planning:scenario", args=[s.pk]) + "#plan")


@evaluator_required
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    user, s = _writable(request, pk)
    _attempt(request, lambda: services.apply(user, s, _version(request.POST)))
    return _back(s)


@evaluator_required
@require_POST
def manage(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy, rename or delete a scenario (``action``)."""
    user, s = _writable(request, pk)
    action = request.POST.get("action", "")
    name = request.POST.get("name", "")
    if action == "copy":
        made: list[Scenario] = []
        if _attempt(request, lambda: made.append(services.copy(user, s, name)), f"已复制为「{name.strip()}」。"):
            return _back(made[0])
    elif action == "rename":
        _attempt(request, lambda: services.rename(user, s, _version(request.POST), name), "已更名。")
    elif action == "delete":
        if _attempt(request, lambda: services.delete(user, s, _version(request.POST)), f"已删除情景「{s.name}」。"):
            return redirect("planning:index")
    else:
        messages.error(request, "未知的操作。")
    return _back(s)


@evaluator_required
@require_GET
def plan_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    s = selectors.scenario_for(user, pk)
    if not s.plan or "actions" not in s.plan:
        raise YoujunError.single("not_found", "该情景还没有规划方案。")
    rules = selectors.rules_of(s)
    result = from_dict(s.plan, selectors.frame_of(s))
    filename = f"{s.county.name}达标方案（{s.name}）.xlsx"
    return written_xlsx(lambda path: write_xlsx(result, rules, path), filename, "plan.xlsx")


# ----------------------------------------------------------------------------------------------------
# Comparison


MAX_COMPARED = 4


@evaluator_required
@require_GET
def compare(request: HttpRequest, code: str) -> HttpResponse:
    """The county's reported data and up to four of its scenarios side by side (``?s=<id>&s=<id>``)."""
    user = user_of(request)
    county = unit_or_404(user, code)
    wanted = []
    for raw in request.GET.getlist("s")[: MAX_COMPARED * 2]:
        if raw.isdigit() and int(raw) not in wanted:
            wanted.append(int(raw))
    found = {x.pk: x for x in selectors.scenarios_for(user).filter(county=county, pk__in=wanted[:MAX_COMPARED])}
    chosen = [found[p] for p in wanted if p in found]
    all_scenarios = list(selectors.scenarios_for(user).filter(county=county)[:50])
    columns: list[dict[str, Any]] = []
    if chosen:
        year = chosen[0].year
        rules = selectors.rules_of(chosen[0])
        base = selectors.outcome(selectors.reported_frame(county, year), rules)
        columns.append({"name": f"{year} 年上报数据", "outcome": base, "cost": None, "scenario": None})
        for x in chosen:
            out = selectors.outcome(selectors.frame_of(x), selectors.rules_of(x))
            cost = number(x.plan["cost"], 0) if x.plan and "cost" in x.plan else None
            columns.append({"name": x.name, "outcome": out, "cost": cost, "scenario": x})
    rows = []
    if columns:
        for c in columns[0]["outcome"].cvs if columns[0]["outcome"].cvs else columns[1]["outcome"].cvs:
            rows.append(
                {
                    "label": f"{c['stage_name']} {c['code']} {c['name']}",
                    "limit": number(c["limit"], 2),
                    "cells": [col["outcome"].cv_keys.get(c["key"]) for col in columns],
                }
            )
    return render(
        request,
        "youjun/planning/compare.html",
        {
            "title": f"{county.name}情景对比",
            "county": county,
            "columns": columns,
            "rows": rows,
            "all": all_scenarios,
            "chosen": [x.pk for x in chosen],
            "max": MAX_COMPARED,
        },
    )
