"""A pilot county's implementation plan and progress reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import recommendation, selectors, services
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import (
    Experience,
    ProgressReport,
    ReportStatus,
    TaskStatus,
)
from youjun.web.programme.views.common import (
    MAX_TEXT,
    _act,
    _int,
    _text,
    _unit,
    _user,
    member_required,
)
from youjun.web.shortcuts import message_of, refusal, status_of

# ----------------------------------------------------------------------------------------------------
# Plans


def _years(plan: Any) -> list[int]:
    start = plan.nomination.batch.year + 1
    end = max(plan.target_year or start + 2, start)
    return list(range(start, min(end, start + 5) + 1))


def _target_labels() -> list[tuple[str, str]]:
    labels = [("units_passed_share", "学校（学段）达标比例（%）")]
    for stage, name in recommendation.STAGES.items():
        labels += [(f"cv_{stage}_{c}", f"{name}{c}差异系数") for c in recommendation.INDICATORS]
    return labels


@member_required
def plan(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    user = _user(request)
    p = services.plan_for(user, unit) if user.role == Role.COUNTY else _existing_plan(unit)
    if request.method == "POST":
        services.require_county(user, unit)
        return _act(request, lambda: _save_plan(request, p), "实施方案已保存。", reverse("programme:plan", args=[code]))
    years = _years(p)
    targets = [
        {"key": k, "label": label, "cells": [(y, (p.targets.get(k) or {}).get(str(y), "")) for y in years]}
        for k, label in _target_labels()
    ]
    chosen = set(p.items)
    context = {
        "p": p,
        "county": unit,
        "years": years,
        "targets": targets,
        "groups": [{"g": g, "items": [(i, i.code in chosen) for i in g.items]} for g in catalogue().groups],
        "basic": catalogue().basic,
        "tasks": list(p.tasks.all()),
        "task_codes": [("", "自定任务"), *[(i.code, i.label) for i in catalogue().items if i.code in chosen]],
        "statuses": TaskStatus.choices,
        "blank": range(3),
        "can_edit": user.role == Role.COUNTY and user.org_unit_id == unit.pk and p.status in ("draft", "returned"),
        "is_province": user.role == Role.PROVINCE
        and unit.code.startswith(user.org_unit.prefix if user.org_unit else "-"),
        "problems": services.plan_problems(p),
        "history": services.history("plan", p),
    }
    return render(request, "youjun/programme/plan.html", context)


def _existing_plan(unit: OrgUnit) -> Any:
    pilot = services.pilot_of(unit)
    p = getattr(pilot, "plan", None) if pilot else None
    if p is None:
        raise refusal(f"{unit.name}尚未编制创建工作实施方案。", 404)
    return p


def _save_plan(request: HttpRequest, p: Any) -> None:
    post = request.POST
    targets: dict[str, dict[str, float]] = {}
    for key, _label in _target_labels():
        for y in range(p.nomination.batch.year + 1, p.nomination.batch.year + 20):
            raw = post.get(f"t-{key}-{y}", "").strip()
            if raw:
                try:
                    targets.setdefault(key, {})[str(y)] = float(raw)
                except ValueError:
                    raise refusal(f"指标目标应为数字：{raw}") from None
    tasks = []
    for t in p.tasks.all():
        tasks.append(
            {
                "pk": t.pk,
                "owner": post.get(f"owner-{t.pk}", t.owner)[:100],
                "milestone": _date(post.get(f"milestone-{t.pk}", "")),
                "evidence": post.get(f"evidence-{t.pk}", "")[:MAX_TEXT],
                "status": post.get(f"status-{t.pk}", t.status)
                if post.get(f"status-{t.pk}") in TaskStatus.values
                else t.status,
            }
        )
    for i in range(3):
        title = post.get(f"new-title-{i}", "").strip()[:200]
        if title:
            tasks.append(
                {
                    "code": post.get(f"new-code-{i}", "")[:8],
                    "title": title,
                    "owner": post.get(f"new-owner-{i}", "")[:100],
                    "milestone": _date(post.get(f"new-milestone-{i}", "")),
                    "evidence": post.get(f"new-evidence-{i}", "")[:MAX_TEXT],
                }
            )
    services.save_plan(
        _user(request),
        p,
        target_year=_int(post.get("target_year")),
        targets=targets,
        items=post.getlist("items"),
        summary=post.get("summary", "")[:MAX_TEXT],
        tasks=tasks,
    )


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@member_required
@require_POST
def plan_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    p = _existing_plan(unit)
    labels = {"submit": "实施方案已报省级审核。", "accept": "实施方案已审核通过。", "return": "实施方案已退回修改。"}
    back = reverse("programme:plan", args=[code])
    return _act(
        request,
        lambda: services.move_plan(_user(request), p, action, _text(request, "reason")),
        labels.get(action, ""),
        back,
    )


# ----------------------------------------------------------------------------------------------------
# Progress reports


@member_required
def report_new(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    user = _user(request)
    services.require_county(user, unit)
    p = _existing_plan(unit)
    items = catalogue().by_code()
    tasks = list(p.tasks.all())
    if request.method == "POST":
        post = request.POST
        task_status = {
            str(t.pk): {
                "status": post.get(f"status-{t.pk}", t.status)
                if post.get(f"status-{t.pk}") in TaskStatus.values
                else t.status,
                "note": post.get(f"note-{t.pk}", "")[:1000],
            }
            for t in tasks
        }
        exp = [
            {
                "item": code_,
                "title": post.get(f"exp-title-{code_}", "").strip()[:200],
                "text": post.get(f"exp-text-{code_}", "").strip()[:MAX_TEXT],
            }
            for code_ in p.items
            if post.get(f"exp-text-{code_}", "").strip()
        ]
        for e in exp:
            e["title"] = e["title"] or items[e["item"]].name if e["item"] in items else e["title"]
        try:
            created = services.create_report(
                user, p, _text(request, "period"), _text(request, "summary"), task_status, exp
            )
        except YoujunError as refused:
            if status_of(refused) in (403, 404):
                raise
            messages.error(request, message_of(refused))
        else:
            messages.success(request, "进展报告已保存，确认无误后请报送省级。")
            return redirect("programme:report", pk=created.pk)
    context = {
        "p": p,
        "county": unit,
        "tasks": tasks,
        "statuses": TaskStatus.choices,
        "items": [items[c] for c in p.items if c in items],
        "trend": selectors.trend(unit, p.nomination.batch.year - 1),
    }
    return render(request, "youjun/programme/report_new.html", context)


def _report(request: HttpRequest, pk: int) -> ProgressReport:
    r = get_object_or_404(ProgressReport.objects.select_related("county", "plan__nomination__batch"), pk=pk)
    user = _user(request)
    if not can_see_unit(user, r.county):
        raise Http404("不存在或不在管辖范围内")
    if services.is_ministry(user) and r.status not in (ReportStatus.FORWARDED,):
        raise refusal("该进展报告尚未由省级转报教育部。", 404)
    return r


@member_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    r = _report(request, pk)
    user = _user(request)
    tasks = {str(t.pk): t for t in r.plan.tasks.all()}
    items = catalogue().by_code()
    context = {
        "r": r,
        "tasks": [
            (tasks.get(k), v, TaskStatus(v["status"]).label if v.get("status") in TaskStatus.values else "")
            for k, v in r.task_status.items()
        ],
        "experiences": [(e, items.get(e.item)) for e in r.experiences.all()],
        "trend": selectors.trend(r.county, r.plan.nomination.batch.year - 1),
        "is_county": user.role == Role.COUNTY and user.org_unit_id == r.county_id,
        "is_province": user.role == Role.PROVINCE
        and r.county.code.startswith(user.org_unit.prefix if user.org_unit else "-"),
        "ministry": services.is_ministry(user),
        "history": services.history("report", r),
    }
    return render(request, "youjun/programme/report.html", context)


@member_required
@require_POST
def report_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    r = _report(request, pk)
    labels = {"submit": "进展报告已报送省级。", "forward": "进展报告已转报教育部。", "return": "进展报告已退回。"}
    return _act(
        request,
        lambda: services.move_report(_user(request), r, action, _text(request, "reason")),
        labels.get(action, ""),
        reverse("programme:report", args=[pk]),
    )


@member_required
@require_POST
def experience_publish(request: HttpRequest, pk: int) -> HttpResponse:
    e = get_object_or_404(Experience.objects.select_related("report", "county"), pk=pk)
    if not can_see_unit(_user(request), e.county):
        raise Http404("不存在或不在管辖范围内")
    services.require_ministry(_user(request))
    publish = request.POST.get("publish", "1") == "1"
    return _act(
        request,
        lambda: services.publish_experience(_user(request), e, publish),
        "已发布为典型经验。" if publish else "已撤销典型经验。",
        reverse("programme:report", args=[e.report_id]),
    )
