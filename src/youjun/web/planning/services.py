"""Writes of the planner: create, copy, rename and delete a scenario; edit its schools (a value, an addition, teachers
moved, a school closed or merged into another); compute a plan on it with the engine's planner and apply that plan.

Only the county's own account writes its scenarios. Every write is one conditional UPDATE on the scenario's version
(``version`` posted by the page): a stale page is refused with 409 and changes nothing (decision 66).
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from youjun.engine.planner import LEVERS, MODES, MOVE_NAMES, MOVES, Limits, apply_plan, load_costs
from youjun.engine.planner import plan as make_plan
from youjun.errors import YoujunError
from youjun.formatting import number
from youjun.io.plan_workbook import to_dict
from youjun.web.accounts.models import Role, User
from youjun.web.collection.selectors import SCHEMA
from youjun.web.evaluation.models import EvaluationState
from youjun.web.organisation.models import OrgUnit
from youjun.web.planning.models import Scenario
from youjun.web.planning.selectors import EDITABLE, frame_of, reported_frame, rules_of
from youjun.web.rulesets import services as rulesets

log = logging.getLogger("youjun.planning")
#: Scenarios a county may keep (each holds a copy of its schools).
MAX_SCENARIOS = 30
MAX_NAME = 60
#: The largest value an edit may set (元 of equipment are the largest figures of a school).
MAX_VALUE = 1e12
#: The planner's time limit on the web (a 300-school county is planned in under 10 s, bench/README.md).
TIME_LIMIT = 20.0
#: Fields of a merged school that take the larger of the two values instead of the sum.
LARGEST = ("max_class_size_primary", "max_class_size_junior")
#: The columns of a stored school row that an edit never changes.
IDENTITY = ("year", "school_id", "county_code", "county_name")


def _refuse(message: str, code: str = "planning") -> YoujunError:
    return YoujunError.single(code, message)


def _conflict() -> YoujunError:
    return _refuse("该情景已被修改（可能在另一个窗口），请刷新页面后重试；本次操作未生效。", "planning_conflict")


def check_writer(user: User, county: OrgUnit) -> None:
    """Only the county's own account writes its scenarios; a higher level reads them."""
    if user.role != Role.COUNTY or user.org_unit_id != county.pk:
        raise _refuse("情景由县级教育行政部门账号编制；上级部门可以查看，不能修改。", "forbidden")


def _name(raw: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in raw if ch not in "\t\r\n"):
        raise _refuse("情景名称含有不可见的控制字符，请重新输入。")
    name = " ".join(raw.split())
    if not name:
        raise _refuse("请填写情景名称。")
    if len(name) > MAX_NAME:
        raise _refuse(f"情景名称最多 {MAX_NAME} 字，现有 {len(name)} 字。")
    return name


def _now() -> str:
    """The time of a write as the pages show it (local time, to the minute)."""
    return timezone.localtime().strftime("%Y-%m-%d %H:%M")


def _log(user: User, text: str) -> dict[str, str]:
    return {"at": _now(), "by": user.get_username(), "text": text}


def _generation(county: OrgUnit, year: int) -> int:
    state = EvaluationState.objects.filter(county=county, year=year).only("generation").first()
    return state.generation if state else 0


def create(user: User, county: OrgUnit, year: int, name: str) -> Scenario:
    """A new scenario holding a copy of the county-year's approved school data."""
    check_writer(user, county)
    name = _name(name)
    frame = reported_frame(county, year)
    if frame.height == 0:
        raise _refuse(f"{county.name} {year} 年没有已审核通过的学校数据，无法建立情景。")
    if Scenario.objects.filter(county=county).count() >= MAX_SCENARIOS:
        raise _refuse(f"每个县（区）最多保存 {MAX_SCENARIOS} 个情景，请先删除不再需要的情景。")
    try:
        with transaction.atomic():
            return Scenario.objects.create(
                county=county,
                year=year,
                name=name,
                standard=rulesets.ref_for(county, year),
                base_generation=_generation(county, year),
                schools=frame.to_dicts(),
                edits=[_log(user, f"由 {year} 年已审核数据建立（{frame.height} 所学校）")],
                created_by=user,
            )
    except IntegrityError:
        raise _refuse(f"已有名为「{name}」的情景，请换一个名称。") from None


def copy(user: User, scenario: Scenario, name: str) -> Scenario:
    """A copy of a scenario (its schools, edits and plan) under a new name, to try a variant beside it."""
    check_writer(user, scenario.county)
    name = _name(name)
    if Scenario.objects.filter(county=scenario.county).count() >= MAX_SCENARIOS:
        raise _refuse(f"每个县（区）最多保存 {MAX_SCENARIOS} 个情景，请先删除不再需要的情景。")
    try:
        with transaction.atomic():
            return Scenario.objects.create(
                county=scenario.county,
                year=scenario.year,
                name=name,
                standard=scenario.standard,
                base_generation=scenario.base_generation,
                schools=scenario.schools,
                edits=[*scenario.edits, _log(user, f"复制自情景「{scenario.name}」")],
                plan={},
                created_by=user,
            )
    except IntegrityError:
        raise _refuse(f"已有名为「{name}」的情景，请换一个名称。") from None


def _write(scenario: Scenario, version: int, **values: Any) -> None:
    """One conditional UPDATE on the version the page showed; 409 when someone wrote in between."""
    updated = Scenario.objects.filter(pk=scenario.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **values
    )
    if updated != 1:
        raise _conflict()
    scenario.refresh_from_db()


def rename(user: User, scenario: Scenario, version: int, name: str) -> None:
    check_writer(user, scenario.county)
    name = _name(name)
    if Scenario.objects.filter(county=scenario.county, name=name).exclude(pk=scenario.pk).exists():
        raise _refuse(f"已有名为「{name}」的情景，请换一个名称。")
    try:
        with transaction.atomic():
            _write(scenario, version, name=name, edits=[*scenario.edits, _log(user, f"更名为「{name}」")])
    except IntegrityError:
        raise _refuse(f"已有名为「{name}」的情景，请换一个名称。") from None


def delete(user: User, scenario: Scenario, version: int) -> None:
    check_writer(user, scenario.county)
    if Scenario.objects.filter(pk=scenario.pk, version=version).delete()[0] != 1:
        raise _conflict()


# ----------------------------------------------------------------------------------------------------
# Edits of the schools


@dataclass(frozen=True)
class Edit:
    """One change to a scenario's schools, as the edit form posts it.

    ``kind``: ``set`` (field := value), ``add`` (field += value, may be negative), ``move`` (``count`` teachers of
    ``teacher`` kind in ``stage`` from ``school`` to ``target``), ``close`` (the school leaves the scenario),
    ``merge`` (the school is merged into ``target``: its pupils, teachers and resources are added there)."""

    kind: str
    school: str
    field: str = ""
    value: float = 0.0
    target: str = ""
    teacher: str = ""
    stage: str = ""
    count: int = 0


KINDS = {"set": "修改数值", "add": "增减数值", "move": "教师交流", "close": "停办学校", "merge": "撤并学校"}


def _index(rows: list[dict[str, Any]], school: str, what: str = "学校") -> int:
    for i, row in enumerate(rows):
        if row.get("school_id") == school:
            return i
    raise _refuse(f"情景中没有学校标识码为「{school}」的{what}。")


def _number(value: float, field: str) -> float | int:
    column = EDITABLE[field]
    if not math.isfinite(value) or value < 0:
        raise _refuse(f"「{column.header}」应为不小于 0 的数，得到的是 {number(value, 2)}。")
    if value > MAX_VALUE:
        raise _refuse(f"「{column.header}」不能超过 {MAX_VALUE:,.0f}。")
    if column.kind == "int":
        if abs(value - round(value)) > 1e-9:
            raise _refuse(f"「{column.header}」应为整数，得到的是 {number(value, 2)}。")
        return round(value)
    return float(value)


def _school_name(row: Mapping[str, Any]) -> str:
    return str(row.get("school_name") or row.get("school_id"))


def _applied(
    rows: list[dict[str, Any]], edit: Edit, stage_names: Mapping[str, str]
) -> tuple[list[dict[str, Any]], str]:
    """The rows after ``edit`` and the edit in words; refuses (in Chinese) what cannot be done."""
    rows = [dict(r) for r in rows]
    i = _index(rows, edit.school)
    name = _school_name(rows[i])
    if edit.kind in ("set", "add"):
        if edit.field not in EDITABLE:
            raise _refuse("请选择要修改的数据项。")
        column = EDITABLE[edit.field]
        old = rows[i].get(edit.field)
        new = edit.value if edit.kind == "set" else float(old or 0) + edit.value
        rows[i][edit.field] = _number(new, edit.field)
        unit = f" {column.unit}" if column.unit else ""
        shown_old = "未填写" if old is None else number(old, 0 if column.kind == "int" else 2, trim=True)
        shown = number(rows[i][edit.field], 0 if column.kind == "int" else 2, trim=True)
        return rows, f"{name}：{column.header} {shown_old} → {shown}{unit}"
    if edit.kind == "move":
        if edit.teacher not in MOVES:
            raise _refuse("请选择交流的教师类别。")
        if edit.stage not in stage_names:
            raise _refuse("请选择学段。")
        if edit.count < 1:
            raise _refuse("交流人数应为正整数。")
        j = _index(rows, edit.target, "调入学校")
        if j == i:
            raise _refuse("调出学校和调入学校不能相同。")
        kind_field = f"{MOVES[edit.teacher]}_{edit.stage}"
        have = int(rows[i].get(kind_field) or 0)
        if edit.count > have:
            raise _refuse(
                f"{name}{stage_names[edit.stage]}只有{MOVE_NAMES[edit.teacher]} {have} 人，不能调出 {edit.count} 人。"
            )
        # As the planner counts a move (decision 64): the giver loses the kind, its teachers and (conservatively) a
        # qualified teacher; the receiver gains the kind and a teacher.
        changes = [
            {"school_id": edit.school, "stage": edit.stage, "lever": edit.teacher, "amount": -edit.count},
            {"school_id": edit.school, "stage": edit.stage, "lever": "teachers", "amount": -edit.count},
            {"school_id": edit.target, "stage": edit.stage, "lever": edit.teacher, "amount": edit.count},
            {"school_id": edit.target, "stage": edit.stage, "lever": "teachers", "amount": edit.count},
        ]
        if edit.teacher != "qualified_teacher":
            changes.append(
                {"school_id": edit.school, "stage": edit.stage, "lever": "qualified_teacher", "amount": -edit.count}
            )
        rows = _changed(rows, changes)
        target = _school_name(rows[j])
        return rows, f"教师交流：{name} → {target}，{stage_names[edit.stage]}{MOVE_NAMES[edit.teacher]} {edit.count} 人"
    if edit.kind == "close":
        if len(rows) == 1:
            raise _refuse("情景中只剩这一所学校，不能停办。")
        del rows[i]
        return rows, f"停办学校：{name}（其学生不计入本县其他学校）"
    if edit.kind == "merge":
        j = _index(rows, edit.target, "并入学校")
        if j == i:
            raise _refuse("被撤并学校和并入学校不能相同。")
        into = rows[j]
        for key in EDITABLE:
            a, b = rows[i].get(key), into.get(key)
            if a is None:
                continue
            into[key] = max(a, b or 0) if key in LARGEST else (b or 0) + a
        target = _school_name(into)
        del rows[i]
        return rows, f"撤并学校：{name} 并入 {target}（学生、教师和办学条件并入）"
    raise _refuse("未知的修改方式。")


def _changed(rows: list[dict[str, Any]], changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the planner's field changes (school_id, stage, lever, amount) applied, as the planner applies
    them; refuses a change that would leave a negative figure."""
    frame = pl.DataFrame(rows, schema=SCHEMA, strict=False)
    out = apply_plan(frame, pl.DataFrame(changes, schema=_CHANGES, strict=False))
    negative = [
        c for c in out.columns if c in EDITABLE and out.schema[c].is_numeric() and bool((out[c].fill_null(0) < 0).any())
    ]
    if negative:
        raise _refuse(f"修改后「{EDITABLE[negative[0]].header}」将小于 0，未应用。")
    return out.to_dicts()


_CHANGES = {"school_id": pl.String, "stage": pl.String, "lever": pl.String, "amount": pl.Float64}


def edit(user: User, scenario: Scenario, version: int, change: Edit) -> str:
    """Apply one edit to the scenario's schools (conditional on ``version``); returns the edit in words."""
    check_writer(user, scenario.county)
    rules = rules_of(scenario)
    rows, text = _applied(list(scenario.schools), change, dict(rules.stage_names))
    _write(scenario, version, schools=rows, edits=[*scenario.edits, _log(user, text)])
    return text


# ----------------------------------------------------------------------------------------------------
# Plans


@dataclass(frozen=True)
class Options:
    mode: str = "cost"
    budget: float | None = None
    max_teachers: int | None = None
    costs: Mapping[str, float] | None = None


def default_costs() -> dict[str, float]:
    return load_costs()


def compute_plan(user: User, scenario: Scenario, version: int, options: Options) -> dict[str, Any]:
    """The planner's plan for the scenario's schools as they are at ``version``; stored on the scenario (stamped
    with that version) and returned. An impossible plan is refused in Chinese (which constraint blocks)."""
    check_writer(user, scenario.county)
    if options.mode not in MODES:
        raise _refuse(f"规划方式「{options.mode}」无法识别。")
    if scenario.version != version:
        raise _conflict()
    rules = rules_of(scenario)
    costs = {**default_costs(), **(options.costs or {})}
    limits = Limits(max_teachers=options.max_teachers, budget=options.budget)
    try:
        result = make_plan(
            frame_of(scenario), rules, costs=costs, limits=limits, time_limit=TIME_LIMIT, mode=options.mode
        )
    except YoujunError:
        raise
    except Exception:  # the solver's own failure (numerics, memory) is reported, never a server error
        log.exception("planner failed on scenario %s", scenario.pk)
        raise _refuse("求解器未能完成计算（已记录日志），请检查情景中是否有异常大的数值，或稍后重试。") from None
    stored = to_dict(result) | {
        "version": version,
        "options": {
            "mode": options.mode,
            "budget": options.budget,
            "max_teachers": options.max_teachers,
            "costs": costs,
        },
        "computed_at": _now(),
        "by": user.get_username(),
    }
    updated = Scenario.objects.filter(pk=scenario.pk, version=version).update(plan=stored, updated_at=timezone.now())
    if updated != 1:
        raise _conflict()
    scenario.refresh_from_db()
    return stored


def apply(user: User, scenario: Scenario, version: int) -> str:
    """Apply the stored plan to the scenario's schools: only to the version it was computed on, and only once."""
    check_writer(user, scenario.county)
    stored = scenario.plan
    if not stored or "changes" not in stored:
        raise _refuse("该情景还没有规划方案，请先生成方案。")
    if stored.get("applied_version"):
        raise _refuse("该方案已应用到本情景。")
    if stored.get("version") != version or scenario.version != version:
        raise _refuse("方案生成后情景数据已修改，请重新生成方案后再应用。", "planning_conflict")
    changes = stored["changes"]
    rows = _changed(list(scenario.schools), changes) if changes else list(scenario.schools)
    text = f"应用规划方案（{MODES.get(stored['mode'], stored['mode'])}，费用 {number(stored['cost'], 0)} 元）"
    applied = stored | {"applied_version": version + 1}
    _write(scenario, version, schools=rows, plan=applied, edits=[*scenario.edits, _log(user, text)])
    return text


def lever_names() -> dict[str, str]:
    return {lv.key: lv.name for lv in LEVERS}
