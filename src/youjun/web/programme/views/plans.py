"""A pilot county's implementation plan: the page (the county edits, everyone else reads), its save, and its
moves (submit, accept, return) behind their confirmation page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from youjun.errors import YoujunError
from youjun.formatting import number
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import services
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import Nomination, Plan, TaskStatus
from youjun.web.programme.services.adoption import adopt_scenario as adopt
from youjun.web.programme.services.pilots import (
    EDITABLE_PLAN,
    REASON_REQUIRED,
    Move,
    check_plan_move,
    place_name,
    plan_of,
    plan_period,
    target_window,
    target_year_problem,
)
from youjun.web.programme.views.common import _text, _unit, _user, member_required
from youjun.web.programme.views.pilots import Errors, _error, _existing_plan, _is_own_county, _is_province_of, _refused
from youjun.web.programme.views.plan_form import (
    _FULL_WIDTH,
    NEW_ROWS,
    PlanForm,
    TaskRow,
    _columns,
    _posted_form,
    _stored_form,
    _stored_rows,
    _targets_of,
    progress_rows,
)
from youjun.web.shortcuts import confirmation_page, confirmed, message_of, refusal, status_of


def _pilot(unit: OrgUnit) -> Nomination:
    nomination = services.pilot_of(unit)
    if nomination is None:
        raise refusal(f"{place_name(unit)}不是已公布的先行创建县，无需编制实施方案。", 404)
    return nomination


def _plan_page(
    request: HttpRequest,
    unit: OrgUnit,
    nomination: Nomination,
    p: Plan | None,
    form: PlanForm | None = None,
    review_errors: Errors | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    batch_year = nomination.batch.year
    can_edit = _is_own_county(user, unit) and (p is None or p.status in EDITABLE_PLAN)
    posted_year: int | None = None
    if form is not None and "f-target_year" not in form.field_errors and form.target_year:
        posted_year = int(form.target_year.translate(_FULL_WIDTH))
    target_year = posted_year if form is not None else (p.target_year if p else None)
    if target_year is not None and target_year_problem(batch_year, target_year):
        target_year = None
    years = _columns(batch_year, target_year)
    if form is not None and "f-target_year" in form.field_errors:
        years = list(range(target_window(batch_year)[0], target_window(batch_year)[1] + 1))
    targets = _targets_of(unit, target_year or years[0])
    shown = form if form is not None else _stored_form(p, targets, years)
    if not shown.rows:
        shown.rows = _stored_rows(p)
    if can_edit and not any(r.new for r in shown.rows):
        shown.rows += [TaskRow(f"new-{n}", "", "", new=True) for n in range(NEW_ROWS)]
    chosen = set(shown.items)
    target_rows: list[dict[str, Any]] = [
        {
            "key": t.key,
            "label": t.label,
            "percent": t.percent,
            "cells": [
                {
                    "year": y,
                    "name": f"t-{t.key}-{y}",
                    "value": shown.cells.get(f"t-{t.key}-{y}", ""),
                    "error": shown.field_errors.get(f"t-{t.key}-{y}", ""),
                }
                for y in years
            ],
        }
        for t in targets
    ]
    first, last = target_window(batch_year)
    period = plan_period(batch_year, target_year)
    errors = [*(shown.errors if form is not None else []), *(review_errors or [])]
    context = {
        "p": p,
        "county": unit,
        "county_name": place_name(unit),
        "batch": nomination.batch,
        "window": (first, last),
        "period": period,
        "years": years,
        "targets": target_rows,
        "target_rows_filled": [r for r in target_rows if any(c["value"] for c in r["cells"])],
        "form": shown,
        "catalogue": catalogue(),
        "groups": [{"g": g, "items": [(i, i.code in chosen) for i in g.items]} for g in catalogue().groups],
        "chosen_groups": catalogue().grouped(shown.items),
        "task_codes": [
            ("", "自定任务"),
            *[(i.code, i.label) for i in catalogue().basic],
            *[(i.code, i.label) for i in catalogue().items if i.code in chosen],
        ],
        "statuses": TaskStatus.choices,
        "can_edit": can_edit,
        "can_submit": can_edit and p is not None,
        "is_county": _is_own_county(user, unit),
        "is_province": _is_province_of(user, unit),
        "problems": services.plan_problems(p) if p is not None else [],
        "history": services.history("plan", p) if p is not None else [],
        "errors": errors,
        "fe": {e["id"].removeprefix("f-"): e["message"] for e in errors if e["id"].startswith("f-")},
        "reason": _text(request, "reason") if review_errors else "",
        "progress": progress_rows(unit, p) if p is not None and p.targets else [],
        "adopted_cost": number(p.adopted.get("cost"), 0) if p is not None and p.adopted else "",
    }
    return render(request, "youjun/programme/plan.html", context, status=status)


@member_required
def plan(request: HttpRequest, code: str) -> HttpResponse:
    """The plan: the county edits it until it is submitted (and after a return); everyone else reads it."""
    unit = _unit(request, code, Level.COUNTY)
    user = _user(request)
    nomination = _pilot(unit)
    p = plan_of(unit)
    if p is None and not _is_own_county(user, unit):
        raise refusal(f"{place_name(unit)}尚未编制创建工作实施方案。", 404)
    if request.method != "POST":
        return _plan_page(request, unit, nomination, p)
    services.require_county(user, unit)
    back = reverse("programme:plan", args=[code])
    if p is not None and p.status not in EDITABLE_PLAN:  # refused as the service would, before any field check
        messages.error(request, f"实施方案当前为「{p.get_status_display()}」，不能修改。")
        return redirect(back)
    form = _posted_form(request, unit, nomination.batch.year, p)
    if form.errors:
        return _plan_page(request, unit, nomination, p, form=form, status=400)
    try:
        services.save_plan(user, p if p is not None else unit, **form.values)
    except YoujunError as refused:
        return _refused(request, refused, back)
    messages.success(request, "实施方案已保存。")
    for note in form.notes:
        messages.info(request, note)
    return redirect(back)


def _plan_confirmation(request: HttpRequest, p: Plan, action: str, move: Move) -> HttpResponse:
    name = place_name(p.county)
    back = reverse("programme:plan", args=[p.county.code])
    if action == "submit":
        return confirmation_page(
            request,
            title="报送实施方案",
            action="报送省级审核",
            consequences=[
                f"{name}创建工作实施方案将报送{move.notified}审核；",
                "报送后本县不能再修改，除非省级退回修改；",
                "审核结果将通知本县。",
            ],
            notified=[move.notified],
            back=back,
        )
    if action == "accept":
        return confirmation_page(
            request,
            title="审核通过实施方案",
            action="审核通过",
            consequences=[
                f"{name}创建工作实施方案将定稿为「省级已审核通过」，此后不能修改或退回；",
                "该县可以开始报送进展报告。",
            ],
            notified=[move.notified],
            back=back,
        )
    return confirmation_page(
        request,
        title="退回实施方案",
        action="退回修改",
        consequences=[
            f"{name}创建工作实施方案将退回该县修改，退回理由：{_text(request, 'reason')}；",
            "该县修改后须重新报送。",
        ],
        notified=[move.notified],
        back=back,
        danger=True,
    )


@member_required
@require_POST
def plan_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    p = _existing_plan(unit)
    user = _user(request)
    reason = _text(request, "reason")
    back = reverse("programme:plan", args=[code])
    try:
        move = check_plan_move(user, p, action, reason)
    except YoujunError as refused:
        if refused.problems and refused.problems[0].code == REASON_REQUIRED:
            errors: Errors = []
            _error(errors, "f-reason", "审核意见", message_of(refused))
            return _plan_page(request, unit, _pilot(unit), p, review_errors=errors, status=400)
        return _refused(request, refused, back)
    if not confirmed(request):
        return _plan_confirmation(request, p, action, move)
    labels = {"submit": "实施方案已报省级审核。", "accept": "实施方案已审核通过。", "return": "实施方案已退回修改。"}
    try:
        services.move_plan(user, p, action, reason)
    except YoujunError as refused:
        return _refused(request, refused, back)
    messages.success(request, labels[action])
    return redirect(back)


@member_required
@require_POST
def adopt_scenario(request: HttpRequest, pk: int) -> HttpResponse:
    """The county adopts a planner scenario into its implementation plan (targets per year, tasks per school)."""
    user = _user(request)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        p = adopt(user, pk, version)
    except YoujunError as refused:
        if status_of(refused) in (403, 404):
            raise
        messages.error(request, message_of(refused))
        return redirect("planning:scenario", pk)
    messages.success(request, f"已纳入实施方案：{p.adopted['tasks']} 项任务，费用 {number(p.adopted['cost'], 0)} 元。")
    return redirect("programme:plan", p.county.code)
