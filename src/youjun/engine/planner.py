"""The planner (规划器): the least-cost additions that bring a county's resource allocation to the standard
(decision 64).

**Levers.** Per school unit (school × stage) whole teachers to hire — qualified (R1), backbone (R2), PE, music and
art (R3) — and per school the shared resources, split between its units exactly as the engine splits them (the
unit's ``share``): ㎡ of teaching and auxiliary rooms (R4), ㎡ of outdoor sports ground (R5), 元 of equipment (R6)
and whole multimedia rooms (R7). Each lever adds to the numerator of its own indicator only (a backbone hire is not
also counted as a qualified one), so a plan never relies on an effect the data would not show. Costs per unit of
each lever come from ``standards/costs.toml`` or the county's own file.

**Constraints.** Every unit meets the per-school rule: a binary per unit and indicator chooses which indicators are
met (a_k ≥ standard·p/per) and the others reach ``min_ratio`` of it, at least ``min_met`` met. Every CV of every
stage is within its limit: with a_i the numerator of unit i and p_i its pupils, the student-weighted CV ≤ L is
Σ aᵢ²/pᵢ ≤ (1 + L²)·(Σ aᵢ)²/P, i.e. ‖(aᵢ/√pᵢ)‖₂ ≤ √((1 + L²)/P)·Σ aᵢ — a second-order cone in the additions
(the ``per`` factor cancels). Optional caps: per school on building and on ground (``max_building``,
``max_ground``, ㎡; 0 = no land), per county on teachers hired (编制) and on the budget.

**Solver.** SCIP through PySCIPOpt: a mixed-integer second-order-cone programme solved to proven optimality or to
the requested gap within the time limit; the gap is reported with every plan. **Check.** The plan is applied to the
schools' data (continuous additions rounded up to 0.1 ㎡ and whole 元) and the engine evaluates it: a plan is
returned only when the engine says the county's resources pass; if rounding broke a bound the solve is repeated with
a wider safety margin.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from youjun.engine.evaluate import ResourceEvaluation, evaluate_resources
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet

COSTS_FILE: Final = Path(__file__).resolve().parents[1] / "standards" / "costs.toml"


@dataclass(frozen=True)
class Lever:
    key: str
    name: str
    indicator: str
    field: str  # the data field it adds to (a staged field takes the unit's stage suffix)
    staged: bool
    integral: bool
    unit: str


#: What the planner may add, in the order plans list them.
LEVERS: Final = (
    Lever("qualified_teacher", "高学历专任教师", "R1", "qualified_teachers", True, True, "人"),
    Lever("backbone_teacher", "骨干教师", "R2", "backbone_teachers", True, True, "人"),
    Lever("pe_teacher", "体育专任教师", "R3", "pe_teachers", True, True, "人"),
    Lever("music_teacher", "音乐专任教师", "R3", "music_teachers", True, True, "人"),
    Lever("art_teacher", "美术专任教师", "R3", "art_teachers", True, True, "人"),
    Lever("teaching_area", "教学及辅助用房", "R4", "teaching_aux_area", False, False, "㎡"),
    Lever("sports_ground", "室外体育运动场地", "R5", "outdoor_sports_area", False, False, "㎡"),
    Lever("equipment", "教学仪器设备", "R6", "equipment_value", False, False, "元"),
    Lever("multimedia_room", "网络多媒体教室", "R7", "multimedia_rooms", False, True, "间"),
)
TEACHER_LEVERS: Final = tuple(lv.key for lv in LEVERS if lv.staged)
#: Teachers that may move between schools (交流轮岗), by lever key → the unit's column of them.
MOVES: Final = {
    "qualified_teacher": "qualified_teachers",
    "backbone_teacher": "backbone_teachers",
    "pe_teacher": "pe_teachers",
    "music_teacher": "music_teachers",
    "art_teacher": "art_teachers",
}
ARTS: Final = ("pe_teacher", "music_teacher", "art_teacher")
MOVE_NAMES: Final = {lv.key: lv.name for lv in LEVERS if lv.key in MOVES}
MODES: Final = {"cost": "最低费用", "rotation": "交流轮岗", "combined": "先轮岗、再补充", "budget": "预算内最大达标"}


@dataclass(frozen=True)
class Rotation:
    """The rotation rule a plan with moves respects (G11 of the rule set): at least ``min_moves`` teachers moved,
    backbone teachers at least ``backbone_share`` of them."""

    min_moves: int
    backbone_share: float
    eligible: int
    rate: float


#: The columns of a plan's actions: what to hire, build or buy, where, how much and at what cost.
ACTION_SCHEMA: Final = {
    "school_id": pl.String,
    "school_name": pl.String,
    "stage": pl.String,
    "lever": pl.String,
    "name": pl.String,
    "indicator": pl.String,
    "amount": pl.Float64,
    "unit": pl.String,
    "cost": pl.Float64,
}
#: Continuous additions are rounded up to these steps before the engine checks the plan.
STEP: Final = {"teaching_area": 0.1, "sports_ground": 0.1, "equipment": 1.0}


def load_costs(path: str | Path | None = None) -> dict[str, float]:
    """The unit costs: the defaults of ``standards/costs.toml``, overridden by ``path`` (same keys)."""
    with COSTS_FILE.open("rb") as fh:
        costs = {k: float(v) for k, v in tomllib.load(fh)["costs"].items()}
    if path is None:
        return costs
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise YoujunError.single("plan_costs", f"单价文件「{source.name}」无法读取：{exc}") from None
    given = data.get("costs", data)
    for key, value in given.items():
        if key == "name":
            continue
        if key not in costs:
            known = "、".join(costs)
            raise YoujunError.single("plan_costs", f"单价文件中的「{key}」不是可用的单价（可用：{known}）")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise YoujunError.single("plan_costs", f"单价「{key}」应为不小于 0 的数（现为 {value!r}）")
        costs[key] = float(value)
    return costs


@dataclass(frozen=True)
class Limits:
    """Optional caps: per school (school_id → ㎡ that may still be built / laid as ground), per county."""

    max_building: Mapping[str, float] = field(default_factory=dict)
    max_ground: Mapping[str, float] = field(default_factory=dict)
    max_teachers: int | None = None  # teachers the county may still hire (编制)
    budget: float | None = None


@dataclass(frozen=True)
class Plan:
    """A checked plan: ``actions`` (school_id, school_name, stage — null for shared resources —, lever, name,
    amount, unit, cost: what to hire, build or buy), ``moves`` (from_school_id, from_school_name, to_school_id,
    to_school_name, stage, kind, name, count: teachers to rotate), ``cvs`` (stage, indicator, cv_before, cv_after,
    cv_limit), ``units`` (school_id, stage, passed_before, passed_after), ``applied`` (the schools' data with the
    plan applied), the total ``cost``, the solver's ``status``, proven ``gap`` and ``seconds``."""

    county_code: str
    county_name: str
    actions: pl.DataFrame
    cvs: pl.DataFrame
    units: pl.DataFrame
    applied: pl.DataFrame
    cost: float
    gap: float
    status: str
    seconds: float
    solver: str
    passed_before: bool
    passed_after: bool
    moves: pl.DataFrame = field(default_factory=pl.DataFrame)
    mode: str = "cost"
    rotation: Rotation | None = None

    @property
    def rotated(self) -> tuple[int, int]:
        """Teachers rotated (moves and exchanges) and backbone teachers among them."""
        if self.moves.height == 0:
            return 0, 0
        backbone = self.moves.filter(pl.col("kind") == "backbone_teacher")["count"].sum()
        return int(self.moves["count"].sum()), int(backbone)

    @property
    def reached(self) -> tuple[int, int, int, int]:
        """Units passing after the plan, units, CVs within their limit after it, CVs (the engine's own figures)."""
        units = self.units.height
        cvs = self.cvs.filter(pl.col("cv_limit").is_not_null() & pl.col("cv_after").is_not_null())
        return (
            int(self.units["passed_after"].fill_null(False).sum()) if units else 0,
            units,
            int(cvs["passed_after"].fill_null(False).sum()) if cvs.height else 0,
            cvs.height,
        )

    @property
    def changes(self) -> pl.DataFrame:
        """Every change to the data the plan makes (hires, buildings, moves), as :func:`apply_plan` takes them."""
        return _changes(self.actions, self.moves)


def _fail(message: str, code: str = "plan_infeasible") -> YoujunError:
    return YoujunError.single(code, message)


def _county(schools: pl.DataFrame, county: str | None) -> pl.DataFrame:
    codes = schools["county_code"].unique().to_list()
    if county is None:
        if len(codes) != 1:
            raise _fail(f"数据中有 {len(codes)} 个县（区），请用 --county 指定一个", "plan_county")
        county = codes[0]
    frame = schools.filter(pl.col("county_code") == county)
    if frame.height == 0:
        raise _fail(f"数据中没有县级区划代码为 {county} 的县（区）", "plan_county")
    years = frame["year"].unique().to_list() if "year" in frame.columns else [None]
    if len(years) > 1:
        latest = max(y for y in years if y is not None)
        frame = frame.filter(pl.col("year") == latest)
    return frame


@dataclass
class _Problem:
    units: pl.DataFrame
    schools: list[str]
    school_of: np.ndarray  # unit → school index
    stages: list[Any]


def _prepare(evaluation: ResourceEvaluation) -> _Problem:
    units = evaluation.units.sort("stage", "school_id")
    schools = sorted(set(units["school_id"].to_list()))
    index = {s: i for i, s in enumerate(schools)}
    school_of = np.array([index[s] for s in units["school_id"].to_list()], dtype=np.int64)
    stages = [s for s in evaluation.rules.stages if s in set(units["stage"].to_list())]
    return _Problem(units, schools, school_of, stages)


def _solve(
    problem: _Problem,
    rules: RuleSet,
    costs: Mapping[str, float],
    limits: Limits,
    margin: float,
    time_limit: float,
    gap: float,
    mode: str = "cost",
    rotation: Rotation | None = None,
    cutoff: float | None = None,
    keep: Iterable[tuple[str, str]] | None = None,
    switch: bool = True,
    start: Mapping[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], str, float, float]:
    """Build and solve the MISOCP; returns lever → amounts (per unit for teachers, per school otherwise) and, with
    teacher moves, ``out:<kind>`` / ``in:<kind>`` → teachers each unit gives and receives."""
    from pyscipopt import Model, quicksum, sqrt

    u = problem.units
    n, m = u.height, len(problem.schools)
    pupils = u["students"].cast(pl.Float64).to_numpy()
    share = u["share"].cast(pl.Float64).fill_null(1.0).to_numpy()
    stage = u["stage"].to_list()
    school_ids = u["school_id"].to_list()
    model = Model("youjun-plan")
    model.hideOutput()
    model.setParam("limits/time", float(time_limit))
    model.setParam("limits/gap", float(gap))
    model.setParam("numerics/feastol", 1e-7)
    rule = rules.school_rule
    assert rule is not None
    tolerance = rules.precision.tolerance

    need: dict[str, np.ndarray] = {}
    a0: dict[str, np.ndarray] = {}
    for code, ind in rules.indicators.items():
        standard = np.array([(ind.standard or {}).get(s, np.nan) for s in stage], dtype=float)
        need[code] = standard * pupils / ind.per
        a0[code] = u[f"a_{code}"].cast(pl.Float64).fill_null(0.0).to_numpy()

    # Bounds keep the cone compact: at most what would lift every unit to three times the standard or to the
    # county's highest value, whichever is more.
    def top(code: str) -> np.ndarray:
        rate = float(np.nanmax(np.where(pupils > 0, a0[code] / pupils, 0.0)))
        bound: np.ndarray = np.maximum(3 * need[code], rate * pupils * 1.5) + 1.0
        return bound

    x: dict[str, list[Any]] = {}
    hiring = mode != "rotation"
    for lever in LEVERS:
        vtype = "I" if lever.integral else "C"
        if lever.staged:
            ub = np.ceil(top(lever.indicator)) if hiring else np.zeros(n)
            x[lever.key] = [model.addVar(f"{lever.key}_{i}", vtype=vtype, lb=0, ub=float(ub[i])) for i in range(n)]
        else:
            per_school = np.zeros(m)
            np.maximum.at(per_school, problem.school_of, top(lever.indicator) / np.maximum(share, 1e-9))
            caps = (
                limits.max_building
                if lever.key == "teaching_area"
                else (limits.max_ground if lever.key == "sports_ground" else {})
            )
            x[lever.key] = [
                model.addVar(
                    f"{lever.key}_{j}",
                    vtype=vtype,
                    lb=0,
                    ub=float(min(math.ceil(per_school[j]), caps.get(sid, math.inf))) if hiring else 0.0,
                )
                for j, sid in enumerate(problem.schools)
            ]

    moving = mode in ("rotation", "combined")
    outs: dict[str, list[Any]] = {}
    ins: dict[str, list[Any]] = {}
    if moving:
        qualified = u["qualified_teachers"].cast(pl.Float64).fill_null(0.0).to_numpy()
        for kind, column in MOVES.items():
            have = u[column].cast(pl.Float64).fill_null(0.0).to_numpy() if column in u.columns else np.zeros(n)
            outs[kind] = [model.addVar(f"out_{kind}_{i}", vtype="I", lb=0, ub=float(max(have[i], 0))) for i in range(n)]
            ins[kind] = [model.addVar(f"in_{kind}_{i}", vtype="I", lb=0, ub=float(qualified.sum())) for i in range(n)]
            for g in problem.stages:  # teachers move between units of the same stage
                idx = [i for i in range(n) if stage[i] == g]
                model.addCons(quicksum(outs[kind][i] for i in idx) == quicksum(ins[kind][i] for i in idx))
        for i in range(n):  # every teacher given is counted as a qualified one lost (conservative for the giver)
            model.addCons(quicksum(outs[k][i] for k in MOVES) <= qualified[i])

    def added(code: str, i: int) -> Any:
        terms = []
        for lever in LEVERS:
            if lever.indicator != code:
                continue
            if lever.staged:
                terms.append(x[lever.key][i])
            else:
                terms.append(share[i] * x[lever.key][problem.school_of[i]])
        if moving:
            if code == "R1":
                terms.append(ins["qualified_teacher"][i] - quicksum(outs[k][i] for k in MOVES))
            elif code == "R2":
                terms.append(ins["backbone_teacher"][i] - outs["backbone_teacher"][i])
            elif code == "R3":
                terms += [ins[k][i] - outs[k][i] for k in ARTS]
        return quicksum(terms)

    if moving:
        for i in range(n):  # no school falls below a standard it met because it gave teachers away
            for code in ("R1", "R2", "R3"):
                if math.isfinite(need[code][i]):
                    floor = min(a0[code][i], need[code][i] * (1 - tolerance))
                    model.addCons(a0[code][i] + added(code, i) >= floor)
        moved = quicksum(v for vs in outs.values() for v in vs)
        # The rotation quota is filled afterwards by exchanges (对调) of like teachers, which change no figure.
        del rotation

    # The per-school rule; in budget mode it holds only for the units the plan brings in (``ok``), the others may
    # stay as they are (additions never make a unit's rule worse).
    best_effort = mode == "budget"
    ok: list[Any] = []
    for i in range(n):
        on: Any = 1
        if best_effort:
            on = model.addVar(f"ok_{i}", vtype="B")
            ok.append(on)
        met = []
        for code in rules.indicators:
            if not math.isfinite(need[code][i]):
                continue
            z = model.addVar(f"met_{code}_{i}", vtype="B")
            met.append(z)
            if best_effort:
                model.addCons(z <= on)
            # As the engine compares (its relative tolerance in favour of the school): whole teachers and rooms that
            # meet a standard exactly count as meeting it; rounding the continuous additions up only adds.
            low = rule.min_ratio * need[code][i] * (1 - tolerance)
            full = need[code][i] * (1 - tolerance)
            floor = low * on + (full - low) * z
            if best_effort and a0[code][i] < 0:  # a negative numerator (R4 less the indoor ㎡) may stay as it is
                floor = floor + float(a0[code][i]) * (1 - on)
            model.addCons(a0[code][i] + added(code, i) >= floor)
        model.addCons(quicksum(met) >= min(rule.min_met, len(met)) * on)

    # The CVs.
    limits_cv = rules.balance.cv_limit or {}
    cv_on: list[Any] = []
    cv_keys: list[str] = []
    keep_cvs = set(keep or ())

    def reach(code: str, i: int) -> float:
        """The most the levers can add to unit ``i``'s numerator of ``code`` (their upper bounds)."""
        most = 0.0
        for lever in LEVERS:
            if lever.indicator != code:
                continue
            if lever.staged:
                most += float(x[lever.key][i].getUbOriginal())
            else:
                most += float(share[i]) * float(x[lever.key][problem.school_of[i]].getUbOriginal())
        return most

    for g in problem.stages:
        limit = limits_cv.get(g)
        idx = [i for i in range(n) if stage[i] == g]
        if limit is None or len(idx) < 2:
            continue
        total = float(pupils[idx].sum())
        c = math.sqrt((1 + (limit * (1 - margin)) ** 2) / total)
        for code in rules.indicators:
            ys = []
            for i in idx:
                y = model.addVar(f"y_{code}_{i}", lb=None, ub=None)  # a numerator may be negative (R4 − indoor ㎡)
                model.addCons(y * math.sqrt(pupils[i]) == a0[code][i] + added(code, i))
                ys.append(y)
            mass = quicksum(a0[code][i] + added(code, i) for i in idx)
            if best_effort and (g, code) not in keep_cvs and not switch:
                continue  # left free: this solve brings units in, not this CV
            if best_effort and (g, code) not in keep_cvs:
                # A CV over its limit before is brought in only when ``w`` says so: the cone is relaxed by a bound
                # of its left side (every unit at its largest possible value) otherwise.
                w = model.addVar(f"w_{g}_{code}", vtype="B")
                cv_on.append(w)
                cv_keys.append(f"w:{g}:{code}")
                big = math.sqrt(sum((a0[code][i] + reach(code, i)) ** 2 / max(pupils[i], 1e-9) for i in idx))
                model.addCons(sqrt(quicksum(y * y for y in ys)) <= c * mass + big * (1 - w))
            else:
                model.addCons(sqrt(quicksum(y * y for y in ys)) <= c * mass)

    spend = quicksum(costs[lv.key] * v for lv in LEVERS for v in x[lv.key])
    if limits.budget is not None:
        model.addCons(spend <= limits.budget)
    if limits.max_teachers is not None:
        model.addCons(quicksum(v for key in TEACHER_LEVERS for v in x[key]) <= limits.max_teachers)
    if best_effort:  # most units and CVs brought in; among those plans the cheapest (spend < one unit or CV)
        assert limits.budget is not None
        model.setObjective(-quicksum(ok) - quicksum(cv_on) + spend / (2.0 * (limits.budget + 1.0)), "minimize")
    elif mode == "rotation":
        model.setObjective(moved, "minimize")
    elif mode == "combined":  # rotate first: a move costs 1 元, a hire its cost
        model.setObjective(spend + moved, "minimize")
        if cutoff is not None:  # the hiring-only plan's cost: a worse combination is pruned
            model.setObjlimit(cutoff)
    else:
        model.setObjective(spend, "minimize")
    if start:  # a known plan (the units-first one) as a partial solution SCIP completes: the search starts from it
        sol = model.createPartialSol()
        for key, vs in x.items():
            for v, value in zip(vs, start[key], strict=True):
                model.setSolVal(sol, v, float(value))
        for v, value in zip(ok, start.get("ok", []), strict=False):
            model.setSolVal(sol, v, float(value))
        model.addSol(sol)
        with _quiet_stderr():  # SCIP's solution completion prints a harmless tolerance note past hideOutput
            model.optimize()
    else:
        model.optimize()
    status = str(model.getStatus())
    if model.getNSols() == 0:
        return {}, status, math.inf, math.inf
    best = model.getBestSol()
    values = {key: np.array([model.getSolVal(best, v) for v in vs]) for key, vs in x.items()}
    if best_effort:
        values["ok"] = np.round([model.getSolVal(best, v) for v in ok])
        for key, w in zip(cv_keys, cv_on, strict=True):
            values[key] = np.round([model.getSolVal(best, w)])
    for kind in outs:
        values[f"out:{kind}"] = np.round([model.getSolVal(best, v) for v in outs[kind]])
        values[f"in:{kind}"] = np.round([model.getSolVal(best, v) for v in ins[kind]])
    del school_ids
    return values, status, float(model.getGap()), float(model.getObjVal())


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The process's standard error (file descriptor 2) sent to the null device while the block runs."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _rounded(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for lever in LEVERS:
        v = np.clip(values[lever.key], 0.0, None)
        if lever.integral:
            out[lever.key] = np.round(v)
        else:
            step = STEP[lever.key]
            out[lever.key] = np.ceil(v / step - 1e-6) * step
    return out


def apply_plan(schools: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """The schools' data with a plan's ``actions`` added (columns school_id, stage — null for a shared resource —,
    lever, amount); an integer column stays integer."""
    if actions.height == 0:
        return schools
    fields = {lv.key: lv.field for lv in LEVERS} | {"teachers": "teachers"}
    staged = {lv.key for lv in LEVERS if lv.staged} | {"teachers"}
    column = pl.col("lever").replace_strict(fields, return_dtype=pl.String)
    deltas = (
        actions.with_columns(
            pl.when(pl.col("lever").is_in(list(staged)))
            .then(column + "_" + pl.col("stage"))
            .otherwise(column)
            .alias("_column")
        )
        .group_by("school_id", "_column")
        .agg(pl.col("amount").sum())
    )
    wide = deltas.pivot(on="_column", index="school_id", values="amount")
    targets = [c for c in wide.columns if c != "school_id"]
    wide = wide.rename({c: f"__add_{c}" for c in targets})
    out = schools.with_columns(pl.lit(0.0).alias(c) for c in targets if c not in schools.columns)
    out = out.join(wide, on="school_id", how="left", maintain_order="left")
    exprs = []
    for c in targets:
        dtype = out.schema[c]
        new = pl.col(c).cast(pl.Float64).fill_null(0.0) + pl.col(f"__add_{c}").fill_null(0.0)
        keep = pl.col(f"__add_{c}").is_null() & pl.col(c).is_null()
        new = pl.when(keep).then(None).otherwise(new)
        exprs.append((new.round(0).cast(dtype) if dtype.is_integer() else new.cast(dtype)).alias(c))
    return out.with_columns(exprs).drop([f"__add_{c}" for c in targets])


def _actions(problem: _Problem, values: Mapping[str, np.ndarray], costs: Mapping[str, float]) -> pl.DataFrame:
    u = problem.units
    names = dict(zip(u["school_id"].to_list(), u["school_name"].to_list(), strict=False))
    rows = []
    for lever in LEVERS:
        amounts = values[lever.key]
        for i, amount in enumerate(amounts):
            if amount <= 0:
                continue
            sid = u["school_id"][i] if lever.staged else problem.schools[i]
            rows.append(
                {
                    "school_id": sid,
                    "school_name": names.get(sid, ""),
                    "stage": u["stage"][i] if lever.staged else None,
                    "lever": lever.key,
                    "name": lever.name,
                    "indicator": lever.indicator,
                    "amount": float(amount),
                    "unit": lever.unit,
                    "cost": float(amount) * costs[lever.key],
                }
            )
    return pl.DataFrame(rows, schema=ACTION_SCHEMA).sort("school_id", "lever")


def _cv_table(before: ResourceEvaluation, after: ResourceEvaluation, rules: RuleSet) -> pl.DataFrame:
    rows = []
    b = {r["stage"]: r for r in before.stages.iter_rows(named=True)}
    for r in after.stages.iter_rows(named=True):
        for code in rules.indicators:
            rows.append(
                {
                    "stage": r["stage"],
                    "indicator": code,
                    "cv_before": b.get(r["stage"], {}).get(f"cv_{code}"),
                    "cv_after": r[f"cv_{code}"],
                    "cv_limit": r["cv_limit"],
                    "passed_after": r[f"cv_passed_{code}"],
                }
            )
    return pl.DataFrame(rows)


def plan(
    schools: pl.DataFrame,
    rules: RuleSet,
    *,
    county: str | None = None,
    costs: Mapping[str, float] | None = None,
    limits: Limits | None = None,
    time_limit: float = 60.0,
    gap: float = 5e-3,
    mode: str = "cost",
    eligible: int | None = None,
) -> Plan:
    """The plan for one county's latest year (see the module's docstring): ``mode`` ``cost`` (least cost of
    additions), ``rotation`` (fewest teacher moves, no hiring or building) or ``combined`` (moves first, then the
    least cost of what remains). Moves respect the rule set's G11 rotation rule over ``eligible`` teachers (the
    county's 符合交流条件教师数; default: all its full-time teachers). Raises :class:`~youjun.errors.YoujunError`
    (in Chinese) when no plan exists, naming the constraint that blocks."""
    if mode not in MODES:
        raise _fail(f"规划方式「{mode}」无法识别（可用：{'、'.join(MODES)}）", "plan_mode")
    if rules.school_rule is None or not rules.balance.cv_limit:
        raise _fail(f"规则集「{rules.name}」没有校际均衡的逐校标准和差异系数限值，规划器无从计算", "plan_rules")
    costs = dict(costs or load_costs())
    limits = limits or Limits()
    frame = _county(schools, county)
    before = evaluate_resources(frame, rules)
    if before.units.height == 0:
        raise _fail("该县（区）没有纳入评估的学校单元", "plan_county")
    problem = _prepare(before)
    rotation = _rotation(rules, problem, eligible) if mode in ("rotation", "combined") else None
    keep = _passing_cvs(before, rules) if mode == "budget" else None
    if mode == "budget" and limits.budget is None:
        raise _fail("「预算内最大达标」需要给出预算上限（--budget）", "plan_budget")
    started = time.perf_counter()
    if mode == "budget":
        assert limits.budget is not None
        try:  # when the budget covers the least-cost plan, that plan is the answer: everything passes, cheapest
            full = plan(schools, rules, county=county, costs=costs, limits=replace(limits, budget=None),
                        time_limit=time_limit, gap=gap)  # fmt: skip
        except YoujunError:
            full = None
        if full is not None and full.cost <= limits.budget:
            return replace(full, mode="budget", seconds=time.perf_counter() - started)
        # Units first with the CVs over their limit left free (fast), then with each of them switched in; the engine's
        # count of what passes chooses between the two.
        first = _attempts(problem, frame, rules, costs, limits, time_limit / 2, gap, mode, None, keep, False)
        chosen = first
        if _all_cvs(before, rules) - (keep or set()):
            second = _attempts(
                problem, frame, rules, costs, limits, time_limit / 2, gap, mode, None, keep, True, first[0]
            )
            if _score(second[6], second[3]) > _score(first[6], first[3]):
                chosen = second
            # The proof is the second solve's: its bound on what can pass against what the chosen plan passes.
            bound = len(keep or ()) - (second[7] - second[2] * abs(second[7]))  # kept CVs are not in the objective
            score = _score(chosen[6], chosen[3])[0]
            gap_now = max(0.0, (bound - score) / max(score, 1)) if second[1] != "optimal" else 0.0
            chosen = (*chosen[:1], second[1], gap_now, *chosen[3:])
        _values, status, proven, actions, moves, applied, after, _objective = chosen
    else:
        _values, status, proven, actions, moves, applied, after, _objective = _attempts(
            problem, frame, rules, costs, limits, time_limit, gap, mode, rotation, keep, True
        )
    if rotation is not None:
        moves = _exchanges(problem, moves, rotation)
    units = before.units.select("school_id", "stage", pl.col("passed").alias("passed_before")).join(
        after.units.select("school_id", "stage", pl.col("passed").alias("passed_after")),
        on=["school_id", "stage"],
        how="left",
    )
    return Plan(
        county_code=str(frame["county_code"][0]),
        county_name=str(frame["county_name"][0]) if "county_name" in frame.columns else "",
        actions=actions,
        moves=moves,
        mode=mode,
        rotation=rotation,
        cvs=_cv_table(before, after, rules),
        units=units,
        applied=applied,
        cost=float(actions["cost"].sum()),
        gap=proven if math.isfinite(proven) else 0.0,
        status=status,
        seconds=time.perf_counter() - started,
        solver=_solver_name(),
        passed_before=bool(before.counties["passed"].all()),
        passed_after=bool(after.counties["passed"].all()),
    )


def _score(after: ResourceEvaluation, actions: pl.DataFrame) -> tuple[int, float]:
    """A budget-limited plan's worth: units and CVs passing (the engine's figures), then the less spent."""
    units = int(after.units["passed"].sum())
    return units + len(_passing_cvs(after, after.rules)), -float(actions["cost"].sum())


def _all_cvs(evaluation: ResourceEvaluation, rules: RuleSet) -> set[tuple[str, str]]:
    return {
        (r["stage"], code)
        for r in evaluation.stages.iter_rows(named=True)
        for code in rules.indicators
        if r.get("cv_limit") is not None and r.get(f"cv_{code}") is not None
    }


def _attempts(
    problem: _Problem,
    frame: pl.DataFrame,
    rules: RuleSet,
    costs: Mapping[str, float],
    limits: Limits,
    time_limit: float,
    gap: float,
    mode: str,
    rotation: Rotation | None,
    keep: set[tuple[str, str]] | None,
    switch: bool,
    start: Mapping[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], str, float, pl.DataFrame, pl.DataFrame, pl.DataFrame, ResourceEvaluation, float]:
    """Solve, round, apply and check with the engine; solve again with more room (or, budget-limited, a little
    less to spend) until the engine confirms the plan."""
    margin = 1e-6
    moves = _moves(problem, {})
    working = limits
    for _attempt in range(6):
        fallback: tuple[dict[str, np.ndarray], str, float, float] | None = None
        cutoff = None
        if mode == "combined":  # hiring alone first: it bounds the combination and stands in if the search stalls
            fallback = _solve(problem, rules, costs, limits, margin, time_limit, gap)
            cutoff = fallback[3] * (1 + 1e-9) + 1.0 if fallback[0] else None
        values, status, proven, objective = _solve(
            problem, rules, costs, working, margin, time_limit, gap, mode, rotation, cutoff, keep, switch, start
        )
        if fallback is not None and fallback[0] and (not values or objective > fallback[3]):
            values, status, proven, objective = fallback
        if not values:
            raise _blocked(problem, rules, costs, limits, status, time_limit, mode)
        rounded = _rounded(values)
        actions = _actions(problem, rounded, costs)
        moves = _moves(problem, values)
        applied = apply_plan(frame, _changes(actions, moves))
        after = evaluate_resources(applied, rules)
        if mode == "budget":
            assert limits.budget is not None and working.budget is not None
            spent = float(actions["cost"].sum())
            if spent > limits.budget:  # rounding up to whole 元 and 0.1 ㎡ went over: a little less to spend
                working = replace(working, budget=max(working.budget - (spent - limits.budget) - 1.0, 0.0))
                continue
            if _claims_hold(problem, values, after, keep or set()):
                break
        elif bool(after.counties["passed"].all()):
            break
        margin *= 30  # rounding to whole 元 and 0.1 ㎡ crossed a bound: solve again with more room
    else:
        raise _fail("规划结果经评估引擎复核未能达标（数值误差），请检查数据中是否有异常大的数值", "plan_check")
    return values, status, proven, actions, moves, applied, after, objective


def _passing_cvs(evaluation: ResourceEvaluation, rules: RuleSet) -> set[tuple[str, str]]:
    """The (stage, indicator) CVs within their limit: a budget-limited plan keeps them so."""
    return {
        (r["stage"], code)
        for r in evaluation.stages.iter_rows(named=True)
        for code in rules.indicators
        if r.get(f"cv_passed_{code}") is True
    }


def _claims_hold(
    problem: _Problem, values: Mapping[str, np.ndarray], after: ResourceEvaluation, keep: set[tuple[str, str]]
) -> bool:
    """Whether the engine confirms what a budget-limited solve claims: every unit it brings in passes, every CV it
    brings in or keeps is within its limit."""
    passed = {(r["school_id"], r["stage"]) for r in after.units.filter(pl.col("passed")).iter_rows(named=True)}
    u = problem.units
    for i, on in enumerate(values.get("ok", [])):
        if on > 0.5 and (u["school_id"][i], u["stage"][i]) not in passed:
            return False
    within = _passing_cvs(after, after.rules)
    claimed = {tuple(k.split(":")[1:]) for k, v in values.items() if k.startswith("w:") and v[0] > 0.5}
    return keep <= within and claimed <= within


def _rotation(rules: RuleSet, problem: _Problem, eligible: int | None) -> Rotation:
    g11 = (rules.sections.get("guarantee") or {}).get("G11") or {}
    rate = float(g11.get("min_rotation_rate", 0.0))
    share = float(g11.get("min_backbone_share", 0.0))
    if eligible is None:
        eligible = int(problem.units["teachers"].cast(pl.Float64).fill_null(0.0).sum())
    return Rotation(math.ceil(rate * eligible * (1 - 1e-12)), share, eligible, rate)


def _move(
    ids: list[Any], names: list[Any], i: int, j: int, stage: str, kind: str, count: int, *, exchange: bool
) -> dict[str, Any]:
    """One row of a plan's moves: ``count`` teachers of ``kind`` from unit ``i`` to unit ``j``."""
    return {
        "from_school_id": ids[i],
        "from_school_name": names[i],
        "to_school_id": ids[j],
        "to_school_name": names[j],
        "stage": stage,
        "kind": kind,
        "name": MOVE_NAMES[kind],
        "count": count,
        "exchange": exchange,
    }


def _moves(problem: _Problem, values: Mapping[str, np.ndarray]) -> pl.DataFrame:
    """Who gives teachers to whom: per stage and kind, the givers' teachers matched to the receivers in order."""
    u = problem.units
    ids, names, stages = u["school_id"].to_list(), u["school_name"].to_list(), u["stage"].to_list()
    rows = []
    for kind in MOVES:
        out, got = values.get(f"out:{kind}"), values.get(f"in:{kind}")
        if out is None or got is None:
            continue
        for g in problem.stages:
            givers = [[i, int(out[i])] for i in range(len(ids)) if stages[i] == g and out[i] > 0]
            takers = [[i, int(got[i])] for i in range(len(ids)) if stages[i] == g and got[i] > 0]
            a = b = 0
            while a < len(givers) and b < len(takers):
                count = min(givers[a][1], takers[b][1])
                i, j = givers[a][0], takers[b][0]
                rows.append(_move(ids, names, i, j, g, kind, count, exchange=False))
                givers[a][1] -= count
                takers[b][1] -= count
                a += givers[a][1] == 0
                b += takers[b][1] == 0
    schema = {
        "from_school_id": pl.String,
        "from_school_name": pl.String,
        "to_school_id": pl.String,
        "to_school_name": pl.String,
        "stage": pl.String,
        "kind": pl.String,
        "name": pl.String,
        "count": pl.Int64,
        "exchange": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def _exchanges(problem: _Problem, moves: pl.DataFrame, rotation: Rotation) -> pl.DataFrame:
    """Exchanges (对调) of like teachers between pairs of schools of a stage that fill the rotation quota the gap-
    closing moves leave: backbone teachers first (up to their share), then qualified ones. An exchange changes no
    figure of either school; each teacher exchanged counts as one rotated."""
    u = problem.units
    ids, names, stages = u["school_id"].to_list(), u["school_name"].to_list(), u["stage"].to_list()
    net = int(moves["count"].sum()) if moves.height else 0
    net_backbone = int(moves.filter(pl.col("kind") == "backbone_teacher")["count"].sum()) if moves.height else 0
    total = max(rotation.min_moves, net)
    total += (total - net) % 2  # exchanges come in pairs
    want_backbone = max(0, math.ceil(rotation.backbone_share * total * (1 - 1e-12)) - net_backbone)
    want_backbone += want_backbone % 2
    want_other = max(0, total - net - want_backbone)
    want_other += want_other % 2
    given = (
        moves.group_by("from_school_id", "stage", "kind")
        .agg(pl.col("count").sum())
        .rows_by_key(["from_school_id", "stage", "kind"], unique=True)
        if moves.height
        else {}
    )
    rows: list[dict[str, Any]] = []
    for kind, wanted in (("backbone_teacher", want_backbone), ("qualified_teacher", want_other)):
        column = MOVES[kind]
        have = u[column].cast(pl.Int64).fill_null(0).to_list()
        free = [max(0, have[i] - int((given.get((ids[i], stages[i], kind)) or [0])[0])) for i in range(len(ids))]
        left = wanted // 2  # pairs of teachers
        for g in problem.stages:
            order = sorted((i for i in range(len(ids)) if stages[i] == g and free[i] > 0), key=lambda i: -free[i])
            for a, b in zip(order[0::2], order[1::2], strict=False):
                if left <= 0:
                    break
                count = min(free[a], free[b], left, max(1, min(free[a], free[b]) // 4))
                for i, j in ((a, b), (b, a)):
                    rows.append(_move(ids, names, i, j, g, kind, count, exchange=True))
                left -= count
    extra = pl.DataFrame(rows, schema=moves.schema) if rows else moves.clear()
    return pl.concat([moves, extra]) if moves.height else extra


def _changes(actions: pl.DataFrame, moves: pl.DataFrame) -> pl.DataFrame:
    """The field changes of hires, buildings and moves: a hire adds to its kind and to the unit's teachers; a move
    takes the teacher (and, conservatively, a qualified teacher) from the giver and adds the kind to the receiver."""
    rows = [
        {"school_id": r["school_id"], "stage": r["stage"], "lever": r["lever"], "amount": r["amount"]}
        for r in actions.iter_rows(named=True)
    ]
    rows += [
        {"school_id": r["school_id"], "stage": r["stage"], "lever": "teachers", "amount": r["amount"]}
        for r in actions.iter_rows(named=True)
        if r["lever"] in MOVES
    ]
    for r in moves.iter_rows(named=True) if moves.height else []:
        if r["exchange"]:  # an exchange of like teachers changes no figure
            continue
        c = float(r["count"])
        giver, taker, g = r["from_school_id"], r["to_school_id"], r["stage"]
        rows.append({"school_id": giver, "stage": g, "lever": r["kind"], "amount": -c})
        if r["kind"] != "qualified_teacher":
            rows.append({"school_id": giver, "stage": g, "lever": "qualified_teacher", "amount": -c})
        rows.append({"school_id": giver, "stage": g, "lever": "teachers", "amount": -c})
        rows.append({"school_id": taker, "stage": g, "lever": r["kind"], "amount": c})
        rows.append({"school_id": taker, "stage": g, "lever": "teachers", "amount": c})
    return _as_actions(rows)


def _rotation_blocked(problem: _Problem, rules: RuleSet) -> YoujunError:
    """Why moves alone cannot pass: the indicators teachers do not carry, or the teachers are too few."""
    u = problem.units
    failing = [
        code
        for code in ("R4", "R5", "R6", "R7")
        if f"met_{code}" in u.columns
        and u.filter(pl.col(f"ratio_{code}") < (rules.school_rule.min_ratio if rules.school_rule else 0.85)).height
    ]
    if failing:
        listed = "、".join(failing)
        return _fail(
            f"仅靠教师交流轮岗无法达标：{listed} 有学校单元低于标准的 85%，需新增校舍、场地、设备或教室"
            "（可改用“先轮岗、再补充”方式）",
            "plan_infeasible",
        )
    return _fail(
        "仅靠教师交流轮岗无法达标：全县教师总量不足以使各校达到标准且不使任何学校因调出教师而低于标准"
        "（可改用“先轮岗、再补充”方式）",
        "plan_infeasible",
    )


def _solver_name() -> str:
    from pyscipopt import Model

    return f"SCIP {Model().version()}（PySCIPOpt）"


def _blocked(
    problem: _Problem,
    rules: RuleSet,
    costs: Mapping[str, float],
    limits: Limits,
    status: str,
    time_limit: float,
    mode: str = "cost",
) -> YoujunError:
    """Why there is no plan: the caps that make it infeasible (each relaxed in turn), or the time limit."""
    if status not in ("infeasible", "inforunbd"):
        return _fail(f"在 {time_limit:g} 秒内未找到可行方案（求解状态：{status}），请放宽时间限制后重试", "plan_time")
    if mode == "rotation":
        return _rotation_blocked(problem, rules)
    names = dict(zip(problem.units["school_id"].to_list(), problem.units["school_name"].to_list(), strict=False))
    relaxations = [
        ("budget", Limits(limits.max_building, limits.max_ground, limits.max_teachers, None), "预算上限"),
        ("teachers", Limits(limits.max_building, limits.max_ground, None, limits.budget), "教师编制上限"),
        ("ground", Limits(limits.max_building, {}, limits.max_teachers, limits.budget), "学校运动场地面积上限"),
        ("building", Limits({}, limits.max_ground, limits.max_teachers, limits.budget), "学校建设面积上限"),
    ]
    blocking = []
    for key, relaxed, label in relaxations:
        active = {
            "budget": limits.budget is not None,
            "teachers": limits.max_teachers is not None,
            "ground": bool(limits.max_ground),
            "building": bool(limits.max_building),
        }[key]
        if not active:
            continue
        values, _status, _gap, objective = _solve(problem, rules, costs, relaxed, 1e-7, time_limit, 1e-2)
        if values:
            if key == "budget":
                blocking.append(f"预算上限（{limits.budget:,.0f} 元）不足：达标至少需要约 {objective:,.0f} 元")
            elif key == "teachers":
                blocking.append(f"教师编制上限（{limits.max_teachers} 人）不足")
            else:
                capped = limits.max_ground if key == "ground" else limits.max_building
                listed = "、".join(f"{names.get(s, s)}（{v:g} ㎡）" for s, v in list(capped.items())[:5])
                blocking.append(f"{label}使指标无法达标：{listed}")
    if not blocking:
        blocking.append("各项上限共同作用下无法达标（单独放宽任何一项仍不可行）")
    return _fail("无法制定达标方案：" + "；".join(blocking), "plan_infeasible")


def greedy(
    schools: pl.DataFrame, rules: RuleSet, *, county: str | None = None, costs: Mapping[str, float] | None = None
) -> float:
    """The baseline a county would compute by hand — fix the worst indicator first: bring every unit to every
    standard (its shortfalls, whole teachers and rooms), then, while a CV is over its limit, lift the unit with the
    lowest value of that indicator to the next one up (in steps of at least 5 % of the standard). Returns its cost."""
    costs = dict(costs or load_costs())
    frame = _county(schools, county)
    cheapest = {
        code: min((lv for lv in LEVERS if lv.indicator == code), key=lambda lv: costs[lv.key])
        for code in rules.indicators
    }
    rows: list[dict[str, Any]] = []

    def add(evaluation: ResourceEvaluation, i: int, code: str, amount_a: float) -> None:
        lever = cheapest[code]
        unit = evaluation.units.row(i, named=True)
        amount = amount_a if lever.staged else amount_a / max(float(unit["share"] or 1.0), 1e-9)
        if lever.integral:
            amount = math.ceil(amount - 1e-9)
        rows.append(
            {
                "school_id": unit["school_id"],
                "stage": unit["stage"] if lever.staged else None,
                "lever": lever.key,
                "amount": float(amount),
            }
        )

    current = evaluate_resources(frame, rules)
    for i, unit in enumerate(current.units.iter_rows(named=True)):
        for code in rules.indicators:
            short = unit.get(f"shortfall_{code}")
            if short:
                add(current, i, code, float(short))
    total_rows = list(rows)
    applied = apply_plan(frame, _as_actions(total_rows))
    for _round in range(2000):
        current = evaluate_resources(applied, rules)
        over = [
            (r["stage"], code)
            for r in current.stages.iter_rows(named=True)
            for code in rules.indicators
            if r[f"cv_passed_{code}"] is False
        ]
        if not over:
            break
        rows = []
        for stage_, code in over:
            sub = current.units.with_row_index("_i").filter(pl.col("stage") == stage_).sort(f"value_{code}")
            low, nxt = sub.row(0, named=True), sub.row(min(1, sub.height - 1), named=True)
            ind = rules.indicators[code]
            standard = (ind.standard or {}).get(stage_, 0.0)
            target = max(float(nxt[f"value_{code}"]), float(low[f"value_{code}"]) + 0.05 * standard)
            add(
                current, int(low["_i"]), code, (target - float(low[f"value_{code}"])) * float(low["students"]) / ind.per
            )
        total_rows += rows
        applied = apply_plan(applied, _as_actions(rows))
    actions = _as_actions(total_rows)
    return float(sum(costs[k] * a for k, a in zip(actions["lever"], actions["amount"], strict=True)))


def _as_actions(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {"school_id": pl.String, "stage": pl.String, "lever": pl.String, "amount": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
