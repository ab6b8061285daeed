"""A pilot county's progress reports: the new report, the report page (the county edits a draft or a
returned report), its moves (submit, forward, return) behind their confirmation page, and the ministry's
publishing of a report's experience as a typical one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from youjun.errors import YoujunError
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.organisation.models import Level
from youjun.web.programme import selectors, services
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import Experience, PlanStatus, ProgressReport, ReportStatus, TaskStatus
from youjun.web.programme.services.pilots import (
    EDITABLE_REPORT,
    REASON_REQUIRED,
    Move,
    check_publish,
    check_report_move,
    place_name,
    save_report,
)
from youjun.web.programme.views.common import _text, _unit, _user, member_required
from youjun.web.programme.views.pilots import Errors, _error, _existing_plan, _is_own_county, _is_province_of, _refused
from youjun.web.programme.views.plan_form import _basic_title, progress_rows
from youjun.web.programme.views.report_form import (
    ReportForm,
    _experiences_of,
    _form_context,
    _posted_report,
    _report_form_of,
)
from youjun.web.shortcuts import confirmation_page, confirmed, message_of, refusal, status_of


@member_required
def report_new(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    user = _user(request)
    services.require_county(user, unit)
    p = _existing_plan(unit)
    form, status = ReportForm(), 200
    if request.method == "POST" and p.status != PlanStatus.ACCEPTED:
        messages.error(request, "实施方案经省级审核通过后才能报送进展。")
    elif request.method == "POST":
        form = _posted_report(request, p)
        if not form.errors:
            try:
                created = services.create_report(user, p, form.period, form.summary, form.tasks, _experiences_of(form))
            except YoujunError as refused:
                if status_of(refused) in (403, 404):
                    raise
                messages.error(request, message_of(refused))
            else:
                messages.success(request, "进展报告已保存，可继续修改；确认无误后请报送省级。")
                return redirect("programme:report", pk=created.pk)
        status = 400
    context = {
        "p": p,
        "county": unit,
        "county_name": place_name(unit),
        "trend": selectors.trend(unit, p.nomination.batch.year - 1),
        "progress": progress_rows(unit, p),
        "batch": p.nomination.batch,
        "drafts": ProgressReport.objects.filter(plan=p, status__in=EDITABLE_REPORT),
        "can_report": p.status == PlanStatus.ACCEPTED,
        "errors": form.errors,
        "fe": {e["id"].removeprefix("f-"): e["message"] for e in form.errors if e["id"].startswith("f-")},
        **_form_context(p, form),
    }
    return render(request, "youjun/programme/report_new.html", context, status=status)


def _report(request: HttpRequest, pk: int) -> ProgressReport:
    r = get_object_or_404(ProgressReport.objects.select_related("county__parent", "plan__nomination__batch"), pk=pk)
    user = _user(request)
    if not can_see_unit(user, r.county):
        raise Http404("不存在或不在管辖范围内")
    if services.is_ministry(user) and r.status not in (ReportStatus.FORWARDED,):
        raise refusal("该进展报告尚未由省级转报教育部。", 404)
    return r


def _report_page(
    request: HttpRequest,
    r: ProgressReport,
    form: ReportForm | None = None,
    review_errors: Errors | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    tasks = {str(t.pk): t for t in r.plan.tasks.all()}
    items = catalogue().by_code()
    is_county = _is_own_county(user, r.county)
    can_edit = is_county and r.status in EDITABLE_REPORT
    experiences = list(r.experiences.all())
    errors = [*(form.errors if form else []), *(review_errors or [])]
    shown_tasks = []
    for k, v in r.task_status.items():
        t = tasks.get(k)
        label = TaskStatus(v["status"]).label if v.get("status") in TaskStatus.values else ""
        shown_tasks.append((t, _basic_title(t.code, t.title, t.source) if t else "", v, label))
    context: dict[str, Any] = {
        "r": r,
        "county_name": place_name(r.county),
        "tasks": shown_tasks,
        "experience_groups": [
            (g, [(e, i) for i in chosen for e in experiences if e.item == i.code])
            for g, chosen in catalogue().grouped([e.item for e in experiences])
        ],
        "orphans": [e for e in experiences if e.item not in items],
        "trend": selectors.trend(r.county, r.plan.nomination.batch.year - 1),
        "progress": progress_rows(r.county, r.plan),
        "batch": r.plan.nomination.batch,
        "is_county": is_county,
        "can_edit": can_edit,
        "is_province": _is_province_of(user, r.county),
        "ministry": services.is_ministry(user),
        "history": services.history("report", r),
        "errors": errors,
        "fe": {e["id"].removeprefix("f-"): e["message"] for e in errors if e["id"].startswith("f-")},
        "reason": _text(request, "reason") if review_errors else "",
    }
    if can_edit:
        context |= _form_context(r.plan, form if form is not None else _report_form_of(r))
    return render(request, "youjun/programme/report.html", context, status=status)


@member_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """A progress report: the county edits it (same form as a new one) until it is submitted, and after a return."""
    return _report_page(request, _report(request, pk))


def _report_confirmation(request: HttpRequest, r: ProgressReport, action: str, move: Move) -> HttpResponse:
    name = place_name(r.county)
    back = reverse("programme:report", args=[r.pk])
    if action == "submit":
        return confirmation_page(
            request,
            title="报送进展报告",
            action="报送省级",
            consequences=[
                f"{name}{r.period}进展报告将报送{move.notified}；",
                "报送后本县不能再修改，除非省级退回修改。",
            ],
            notified=[move.notified],
            back=back,
        )
    if action == "forward":
        return confirmation_page(
            request,
            title="转报教育部",
            action="报送上级（转报教育部）",
            consequences=[
                f"{name}{r.period}进展报告将转报教育部，此后不能退回该县修改；",
                "教育部可将其中的经验做法发布为典型经验。",
            ],
            notified=[move.notified],
            back=back,
        )
    return confirmation_page(
        request,
        title="退回进展报告",
        action="退回修改",
        consequences=[
            f"{name}{r.period}进展报告将退回该县修改，退回理由：{_text(request, 'reason')}；",
            "该县修改后须重新报送。",
        ],
        notified=[move.notified],
        back=back,
        danger=True,
    )


@member_required
@require_POST
def report_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """``save`` keeps the county's changes to a draft (or returned) report; the other actions are its moves."""
    r = _report(request, pk)
    user = _user(request)
    back = reverse("programme:report", args=[pk])
    if action == "save":
        services.require_county(user, r.county)
        if r.status not in EDITABLE_REPORT:  # refused as the service would, before any field check
            messages.error(request, f"进展报告当前为「{r.get_status_display()}」，不能修改。")
            return redirect(back)
        form = _posted_report(request, r.plan)
        if form.errors:
            return _report_page(request, r, form=form, status=400)
        try:
            save_report(user, r, form.period, form.summary, form.tasks, _experiences_of(form))
        except YoujunError as refused:
            return _refused(request, refused, back)
        messages.success(request, "进展报告已保存。")
        return redirect(back)
    reason = _text(request, "reason")
    try:
        move = check_report_move(user, r, action, reason)
    except YoujunError as refused:
        if refused.problems and refused.problems[0].code == REASON_REQUIRED:
            errors: Errors = []
            _error(errors, "f-reason", "意见", message_of(refused))
            return _report_page(request, r, review_errors=errors, status=400)
        return _refused(request, refused, back)
    if not confirmed(request):
        return _report_confirmation(request, r, action, move)
    labels = {"submit": "进展报告已报送省级。", "forward": "进展报告已转报教育部。", "return": "进展报告已退回。"}
    try:
        services.move_report(user, r, action, reason)
    except YoujunError as refused:
        return _refused(request, refused, back)
    messages.success(request, labels[action])
    return redirect(back)


@member_required
@require_POST
def experience_publish(request: HttpRequest, pk: int) -> HttpResponse:
    e = get_object_or_404(Experience.objects.select_related("report", "county__parent"), pk=pk)
    user = _user(request)
    if not can_see_unit(user, e.county):
        raise Http404("不存在或不在管辖范围内")
    services.require_ministry(user)
    publish = request.POST.get("publish", "1") == "1"
    back = reverse("programme:report", args=[e.report_id])
    try:
        check_publish(user, e, publish)
    except YoujunError as refused:
        return _refused(request, refused, back)
    if publish and not confirmed(request):
        return confirmation_page(
            request,
            title="发布典型经验",
            action="发布为典型经验",
            consequences=[
                f"{place_name(e.county)}「{e.title}」将在公开的典型经验库中发布，任何人无需登录即可查看；",
                "该县将收到通知；已被查看或转载的内容无法收回。",
            ],
            notified=[f"{place_name(e.county)}县级教育行政部门"],
            back=back,
        )
    try:
        services.publish_experience(user, e, publish)
    except YoujunError as refused:
        return _refused(request, refused, back)
    messages.success(request, "已发布为典型经验。" if publish else "已撤销典型经验。")
    return redirect(back)
