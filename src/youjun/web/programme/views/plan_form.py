"""A pilot county's implementation plan as a form: the targets a plan sets (yearly target columns, the rule
set's CV limits), the task table, the stored plan shown and the posted plan parsed and checked field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import HttpRequest, QueryDict

from youjun.formatting import number, parse_percent, percent, percent_input, rule_number
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme import recommendation
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import Plan, PlanTask, TaskStatus
from youjun.web.programme.services import adoption
from youjun.web.programme.services.pilots import (
    cv_problem,
    milestone_problem,
    plan_period,
    target_window,
    target_year_problem,
)
from youjun.web.programme.views.common import MAX_TEXT
from youjun.web.programme.views.pilots import Errors, _error
from youjun.web.rulesets.services import rules_for

NEW_ROWS = 3
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")


# ----------------------------------------------------------------------------------------------------
# Plans: the targets a plan sets


@dataclass(frozen=True)
class Target:
    key: str
    name: str
    note: str = ""
    percent: bool = False
    stage_name: str = ""
    limit: float | None = None

    @property
    def label(self) -> str:
        return self.name + self.note


def _targets_of(county: OrgUnit, year: int) -> list[Target]:
    """The indicators a plan sets yearly targets for, with the rule set's CV limits of ``year``."""
    rules = rules_for(county, year)
    out = [Target("units_passed_share", "学校（学段）达标比例", "（%）", percent=True)]
    for stage, name in recommendation.STAGES.items():
        limit = (rules.balance.cv_limit or {}).get(stage)
        stage_name = rules.stage_name(stage) if stage in rules.stage_names else name
        for code in recommendation.INDICATORS:
            indicator = rules.indicators.get(code)
            short = indicator.label if indicator else ""
            note = f"（标准不高于 {rule_number(limit, 2)}）" if limit is not None else ""
            out.append(
                Target(f"cv_{stage}_{code}", f"{stage_name} {code} {short}差异系数", note, False, stage_name, limit)
            )
    return out


def _columns(batch_year: int, target_year: int | None) -> list[int]:
    """The plan's yearly target columns: the year after the batch up to the target year (three years by default)."""
    first, last = target_window(batch_year)
    end = target_year if target_year is not None and first <= target_year <= last else batch_year + 3
    return list(range(first, end + 1))


def _stored_share(value: Any) -> float | None:
    """A stored share target as a fraction; plans saved before percentages were parsed stored 95 for 95 %."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / 100 if number > 1 else number


def _cv_text(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return ""


def _parse_cv(raw: str) -> float:
    text = raw.strip().translate(_FULL_WIDTH)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"「{raw.strip()}」不是数字，差异系数请填写小数，如 0.45") from None
    if not number.is_finite():
        raise ValueError(f"「{raw.strip()}」不是数字，差异系数请填写小数，如 0.45")
    if -int(number.as_tuple().exponent) > 4:
        raise ValueError(f"差异系数最多保留 4 位小数，填写的是 {raw.strip()}")
    return float(number)


# ----------------------------------------------------------------------------------------------------
# Plans: the form


@dataclass
class TaskRow:
    """One row of the task table: a stored task (key = its id), a basic task of a plan not yet saved (key = its
    code), or a blank row for a new task (key = new-<n>)."""

    key: str
    code: str
    title: str
    owner: str = ""
    milestone: str = ""
    evidence: str = ""
    status: str = TaskStatus.PLANNED
    new: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    cost: str = ""  # an adopted plan's task: its cost in 元, as shown

    @property
    def status_label(self) -> str:
        return TaskStatus(self.status).label if self.status in TaskStatus.values else ""

    @property
    def index(self) -> str:
        """The number of a new row in its field names (``new-title-<n>``)."""
        return self.key.removeprefix("new-")


@dataclass
class PlanForm:
    """What the page shows in the plan form: stored values, or the posted ones with their errors."""

    target_year: str = ""
    summary: str = ""
    items: list[str] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    rows: list[TaskRow] = field(default_factory=list)
    errors: Errors = field(default_factory=list)
    field_errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


def _basic_title(code: str, title: str, source: str = "") -> str:
    """A basic task is named as the catalogue names it (the notice's words), whatever the stored copy says; a task
    an adopted plan filed under a basic task (``source``) keeps its own title."""
    if source:
        return title
    basic = {i.code: i.name for i in catalogue().basic}
    return basic.get(code, title)


def _ordered_tasks(p: Plan) -> list[PlanTask]:
    """A plan's tasks in the notice's order: the basic tasks, the tackling items' tasks, then the county's own."""
    order = {item.code: n for n, item in enumerate((*catalogue().basic, *catalogue().items))}
    return sorted(p.tasks.all(), key=lambda t: (order.get(t.code, len(order)), t.pk))


def _stored_rows(p: Plan | None) -> list[TaskRow]:
    if p is None:
        return [TaskRow(i.code, i.code, i.name, owner="县教育局") for i in catalogue().basic]
    return [
        TaskRow(
            str(t.pk),
            t.code,
            _basic_title(t.code, t.title, t.source),
            t.owner,
            t.milestone.isoformat() if t.milestone else "",
            t.evidence,
            t.status,
            cost="" if t.cost is None else number(t.cost, 0),
        )
        for t in _ordered_tasks(p)
    ]


def _stored_form(p: Plan | None, targets: list[Target], years: list[int]) -> PlanForm:
    form = PlanForm(rows=_stored_rows(p))
    if p is None:
        return form
    form.target_year = str(p.target_year or "")
    form.summary, form.items = p.summary, list(p.items)
    for t in targets:
        for y in years:
            value = (p.targets.get(t.key) or {}).get(str(y))
            if value is not None:
                shown = percent_input(_stored_share(value)) if t.percent else _cv_text(value)
                form.cells[f"t-{t.key}-{y}"] = shown
    return form


def _posted_form(request: HttpRequest, county: OrgUnit, batch_year: int, p: Plan | None) -> PlanForm:
    """The posted plan, parsed and checked field by field; ``values`` holds what ``services.save_plan`` takes."""
    post = request.POST
    form = PlanForm()
    errors = form.errors

    def fail(id_: str, label: str, message: str) -> None:
        form.field_errors[id_] = _error(errors, id_, label, message)

    # The target year decides the columns, the final-year CV limit and the plan period.
    form.target_year = post.get("target_year", "").strip()
    target_year: int | None = None
    if form.target_year:
        try:
            target_year = int(form.target_year.translate(_FULL_WIDTH))
        except ValueError:
            fail("f-target_year", "申请国家认定目标年份", "请填写四位数年份，如 2028。")
        else:
            problem = target_year_problem(batch_year, target_year)
            if problem:
                fail("f-target_year", "申请国家认定目标年份", problem)
    valid_year = target_year if "f-target_year" not in form.field_errors else None
    form.summary = post.get("summary", "").strip()
    if len(form.summary) > MAX_TEXT:
        fail("f-summary", "主要举措", f"最多 {MAX_TEXT} 字，现有 {len(form.summary)} 字。")
    known = {i.code for i in catalogue().items}
    form.items = [c for c in post.getlist("items") if c]
    unknown = [c for c in form.items if c not in known]
    if unknown:
        fail("f-tackling", "攻坚清单", "未知的攻坚清单项：" + "、".join(unknown))

    targets = _posted_targets(post, form, fail, county, batch_year, valid_year)
    tasks = _posted_tasks(post, form, fail, p, batch_year, valid_year)
    form.values = {
        "target_year": target_year,
        "targets": targets,
        "items": form.items,
        "summary": form.summary,
        "tasks": tasks,
    }
    return form


def _posted_targets(
    post: QueryDict,
    form: PlanForm,
    fail: Callable[[str, str, str], None],
    county: OrgUnit,
    batch_year: int,
    valid_year: int | None,
) -> dict[str, dict[str, float]]:
    """Yearly targets: shares in percent (parse_percent), coefficients as decimals in (0, 1)."""
    first, last = target_window(batch_year)
    years = list(range(first, last + 1)) if "f-target_year" in form.field_errors else _columns(batch_year, valid_year)
    targets: dict[str, dict[str, float]] = {}
    for t in _targets_of(county, valid_year or first):
        for y in years:
            name = f"t-{t.key}-{y}"
            raw = post.get(name, "").strip()
            if not raw:
                continue
            form.cells[name] = raw
            label = f"{t.name} {y} 年"
            try:
                if t.percent:
                    value, as_fraction = parse_percent(raw)
                    if as_fraction:
                        form.notes.append(f"{label}：「{raw}」已按 {percent_input(value)}% 理解。")
                else:
                    value = _parse_cv(raw)
            except ValueError as wrong:
                fail(name, label, str(wrong))
                continue
            if not t.percent:
                final = valid_year if y == valid_year else None
                problem = cv_problem(value, t.limit, final, t.stage_name)
                if problem:
                    fail(name, label, problem)
                    continue
            targets.setdefault(t.key, {})[str(y)] = value
    return targets


def _posted_tasks(
    post: QueryDict,
    form: PlanForm,
    fail: Callable[[str, str, str], None],
    p: Plan | None,
    batch_year: int,
    valid_year: int | None,
) -> list[dict[str, Any]]:
    """Tasks: the stored ones (or the basic tasks of a plan not saved yet), then the new rows."""
    errors = form.errors
    period = plan_period(batch_year, valid_year)
    tasks: list[dict[str, Any]] = []
    allowed_codes = {"", *form.items, *(i.code for i in catalogue().basic)}
    for row in _stored_rows(p):
        row.owner = post.get(f"owner-{row.key}", row.owner).strip()[:100]
        row.evidence = post.get(f"evidence-{row.key}", row.evidence).strip()
        if post.get(f"status-{row.key}") in TaskStatus.values:
            row.status = post.get(f"status-{row.key}", row.status)
        row.milestone = post.get(f"milestone-{row.key}", row.milestone).strip()
        day = _task_checks(row, period, fail)
        form.rows.append(row)
        ident: dict[str, Any] = {"pk": int(row.key)} if row.key.isdigit() else {"basic": row.key}
        tasks.append(
            ident | {"owner": row.owner, "milestone": day, "evidence": row.evidence[:MAX_TEXT], "status": row.status}
        )
    for n in range(NEW_ROWS):
        row = TaskRow(
            f"new-{n}",
            post.get(f"new-code-{n}", "").strip()[:8],
            post.get(f"new-title-{n}", "").strip(),
            post.get(f"new-owner-{n}", "").strip()[:100],
            post.get(f"new-milestone-{n}", "").strip(),
            post.get(f"new-evidence-{n}", "").strip(),
            new=True,
        )
        form.rows.append(row)
        if not (row.title or row.owner or row.milestone or row.evidence):
            continue
        where = f"新增任务第 {n + 1} 行"
        if not row.title:
            row.errors["title"] = "请填写任务名称（或清空本行）。"
            _error(errors, f"new-title-{n}", where, row.errors["title"])
        elif len(row.title) > 200:
            row.errors["title"] = f"任务名称最多 200 字，现有 {len(row.title)} 字。"
            _error(errors, f"new-title-{n}", where, row.errors["title"])
        if row.code not in allowed_codes:
            row.errors["code"] = "所选编号不是基本任务，也不在本方案勾选的攻坚清单项中。"
            _error(errors, f"new-code-{n}", where, row.errors["code"])
        day = _task_checks(row, period, fail)
        tasks.append(
            {
                "code": row.code,
                "title": row.title[:200],
                "owner": row.owner,
                "milestone": day,
                "evidence": row.evidence[:MAX_TEXT],
            }
        )
    return tasks


def _task_checks(row: TaskRow, period: tuple[dt.date, dt.date], fail: Any) -> dt.date | None:
    """The milestone of a task row: a date inside the plan period; the evidence within the text limit."""
    where = f"{row.code} {row.title}".strip() if not row.new else f"新增任务「{row.title or '未命名'}」"
    key = row.key
    day: dt.date | None = None
    if row.milestone:
        try:
            day = dt.date.fromisoformat(row.milestone)
        except ValueError:
            row.errors["milestone"] = "节点时间应为日期，如 2027-06-30。"
        else:
            problem = milestone_problem(day, period)
            if problem:
                row.errors["milestone"] = problem
        if "milestone" in row.errors:
            fail(f"milestone-{key}", f"{where} · 节点时间", row.errors["milestone"])
    if len(row.evidence) > MAX_TEXT:
        row.errors["evidence"] = f"最多 {MAX_TEXT} 字，现有 {len(row.evidence)} 字。"
        fail(f"evidence-{key}", f"{where} · 佐证材料", row.errors["evidence"])
    return day


# ----------------------------------------------------------------------------------------------------
# Plans: targets against the stored results


def progress_rows(county: OrgUnit, p: Plan, year: int | None = None) -> list[dict[str, Any]]:
    """The plan's targets year by year beside the stored results (``adoption.progress``), labelled and formatted
    for the pages; ``year`` keeps only the cells up to that year (a progress report's period)."""
    labels = {t.key: t.label for t in _targets_of(county, p.target_year or p.nomination.batch.year + 1)}
    rows = []
    for row in adoption.progress(p):
        cells = [c for c in row["cells"] if year is None or c["year"] <= year]
        if not cells:
            continue

        def shown(value: float | None, share: bool = row["share"]) -> str:
            return percent(value, 1) if share else number(value, 4)

        rows.append(
            {
                "label": labels.get(row["key"], row["key"]),
                "cells": [{**c, "target_text": shown(c["target"]), "actual_text": shown(c["actual"])} for c in cells],
            }
        )
    return rows
