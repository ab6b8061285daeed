"""The collection workspace of each role, the county page, the progress overview and the collection years."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from youjun.errors import YoujunError
from youjun.io.workbook import Table
from youjun.web.accounts.models import Role, User
from youjun.web.collection import selectors, services
from youjun.web.collection.forms import CollectionYearForm, error_summary
from youjun.web.collection.models import CollectionYear, RecordStatus, SchoolRecord, SubmissionStatus
from youjun.web.collection.views.common import (
    ABOVE,
    PAGE_SIZE,
    _county_or_404,
    _forbidden,
    _is_above,
    _is_county_of,
    _is_forbidden,
    _picked_year,
    _report_key,
    _user,
    _window_state,
    _year_or_404,
)
from youjun.web.exports import xlsx_response
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.shortcuts import confirmation_page, confirmed

# ---------------------------------------------------------------------------------------------------------------
# Workspace


@login_required
@require_GET
def workspace(request: HttpRequest) -> HttpResponse:
    """Each role's collection workspace: the school's records, the county's table, the counties above."""
    user = _user(request)
    try:
        if user.role == Role.SCHOOL:
            return _school_workspace(request, user)
        year = _picked_year(request, user)
        unit = user.org_unit
        if unit is not None and unit.level == Level.COUNTY:
            return _county_page(request, unit, year)
        return _overview(request, user, year)
    except PermissionDenied as exc:
        return _forbidden(request, str(exc) or "账号未绑定单位，无法使用数据采集。")


def _school_workspace(request: HttpRequest, user: User) -> HttpResponse:
    records = selectors.records_for(user).select_related("updated_by").order_by("-year")
    windows = [(w, _window_state(w)) for w in selectors.collection_years_for(user)]
    return render(request, "youjun/collection/school.html", {"records": records, "windows": windows})


@dataclass
class _RecordRow:
    record: SchoolRecord
    warnings: int = 0
    unexplained: int = 0


def _county_page(request: HttpRequest, county: OrgUnit, year: int) -> HttpResponse:
    user = _user(request)
    records = list(selectors.county_records(user, county, year))
    warnings = services.warnings_of(records)
    rows = []
    for r in records:
        found = warnings.get(r.pk, [])
        explained = r.explanations or {}
        missing = [w for w in found if not str(explained.get(services.warning_key(w), "")).strip()]
        rows.append(_RecordRow(r, len(found), len(missing)))
    counts = {status: 0 for status, _ in RecordStatus.choices}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    submission = selectors.submission_for(user, county, year)
    window = services.open_collection(county, year)
    is_county = _is_county_of(user, county)
    status = submission.status if submission else SubmissionStatus.OPEN
    county_locked = status in (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED)
    context = {
        "county": county,
        "year": year,
        "years": sorted(set(selectors.years_for(user)) | {year}, reverse=True),
        "rows": rows,
        "counts": [(label, counts.get(status_, 0), status_) for status_, label in RecordStatus.choices],
        "submission": submission,
        "submission_status": status,
        "submission_label": dict(SubmissionStatus.choices)[status],
        "submission_history": _submission_history(submission),
        "window": window,
        "is_county": is_county,
        "can_upload": is_county and window is not None and not county_locked,
        "can_approve": is_county and not county_locked and counts[RecordStatus.SUBMITTED] > 0,
        "can_submit_up": is_county and status in (SubmissionStatus.OPEN, SubmissionStatus.RETURNED),
        "pending": len(records) - counts[RecordStatus.APPROVED],
        "can_decide": _is_above(user, county) and user.can_write and status == SubmissionStatus.SUBMITTED,
        "missing_records": selectors.missing_record_count(county, year) if is_county and window else 0,
        "report": request.session.get(_report_key(county, year)) if is_county else None,
        "here": request.get_full_path(),
        "max_upload_mb": settings.YOUJUN_MAX_UPLOAD_BYTES / (1024 * 1024),
    }
    return render(request, "youjun/collection/county.html", context)


def _submission_history(submission: Any) -> list[Any]:
    return [] if submission is None else list(selectors.submission_transitions(submission))


def _overview(request: HttpRequest, user: User, year: int) -> HttpResponse:
    rows, without = selectors.county_overview(user, year)
    wanted = request.GET.get("status", "")
    if wanted in dict(SubmissionStatus.choices):
        rows = [r for r in rows if r.status == wanted]
    if request.GET.get("format") == "xlsx":
        return _overview_xlsx(selectors.with_units(rows), year)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.with_units(page.object_list)
    windows = [(w, _window_state(w)) for w in selectors.collection_years_for(user)]
    context = {
        "year": year,
        "years": sorted(set(selectors.years_for(user)) | {year}, reverse=True),
        "page": page,
        "without": without,
        "status_filter": wanted,
        "statuses": SubmissionStatus.choices,
        "can_decide": user.role in ABOVE and user.can_write,
        "show_province": user.org_unit is None or user.org_unit.level == Level.MINISTRY,
        "can_open_year": user.role in (Role.PROVINCE, Role.MINISTRY) and user.org_unit is not None,
        "windows": windows[:6],
        "here": request.get_full_path(),
    }
    return render(request, "youjun/collection/overview.html", context)


def _overview_xlsx(rows: Sequence[Any], year: int) -> HttpResponse:
    labels = dict(SubmissionStatus.choices)
    frame = pl.DataFrame(
        [
            {
                "code": r.county.code,
                "name": selectors.county_label(r.county),
                "total": r.total,
                "draft": r.draft,
                "submitted": r.submitted,
                "returned": r.returned,
                "approved": r.approved,
                "status": labels.get(r.status, r.status),
            }
            for r in rows
        ],
        schema={
            "code": pl.String,
            "name": pl.String,
            "total": pl.Int64,
            "draft": pl.Int64,
            "submitted": pl.Int64,
            "returned": pl.Int64,
            "approved": pl.Int64,
            "status": pl.String,
        },
    )
    headers = {
        "code": "县级区划代码",
        "name": "县（区）",
        "total": "学校数",
        "draft": "填报中",
        "submitted": "待审核",
        "returned": "已退回",
        "approved": "已审核",
        "status": "报送状态",
    }
    table = Table(sheet="采集进度", frame=frame, headers=headers, title=f"{year} 年度数据采集进度")
    return xlsx_response([table], f"{year}年度数据采集进度.xlsx", f"collection-{year}.xlsx")


@login_required
@require_GET
def county(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """One county's records of one year (county users, and the units above it, read-only for those)."""
    user = _user(request)
    return _county_page(request, _county_or_404(user, code), _year_or_404(year))


# ---------------------------------------------------------------------------------------------------------------
# Collection years


@login_required
@require_http_methods(["GET", "POST"])
def years(request: HttpRequest) -> HttpResponse:
    """Collection windows that concern the user; the ministry and provinces open a year or change its window."""
    user = _user(request)
    may_open = user.role in (Role.PROVINCE, Role.MINISTRY) and user.org_unit is not None
    closing = request.method == "POST" and request.POST.get("action") == "close"
    form = CollectionYearForm(None if closing else (request.POST or None))
    if request.method == "POST":
        if not may_open:
            return _forbidden(request, "只有教育部或省级教育行政部门可以开放采集年度。")
        if closing:
            return _close_year(request, user)
        if form.is_valid():
            data = form.cleaned_data
            window = services.closes_open_window(user, data["year"], data["closes_at"])
            if window is not None and not confirmed(request):
                return _close_confirmation(request, window)
            try:
                window, created = services.open_collection_year(user, data["year"], data["opens_at"], data["closes_at"])
            except YoujunError as exc:
                if _is_forbidden(exc):
                    return _forbidden(request, exc.problems[0].message)
                for p in exc.problems:
                    form.add_error(p.location.field if p.location.field in form.fields else None, p.message)
            else:
                verb = "已开放" if created else "已更新"
                messages.success(request, f"{verb} {window.year} 年度数据采集（{window.scope.name}）。")
                return redirect("collection:years")
    try:
        windows = [(w, _window_state(w)) for w in selectors.collection_years_for(user)]
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "windows": windows,
        "may_open": may_open,
        "errors": error_summary(form, "year-form", "采集年度") if form.is_bound else [],
    }
    return render(request, "youjun/collection/years.html", context, status=status)


def _close_year(request: HttpRequest, user: User) -> HttpResponse:
    """「立即截止」: the user's open window of the posted year ends now, once confirmed."""
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        messages.error(request, "请选择要截止的采集年度。")
        return redirect("collection:years")
    now = timezone.now()
    window = services.closes_open_window(user, year, now, now)
    if window is None:
        messages.error(request, f"本单位的 {year} 年度数据采集当前未在进行中，无需截止。")
        return redirect("collection:years")
    if not confirmed(request):
        return _close_confirmation(request, window)
    try:
        services.close_collection_year(user, year)
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        messages.error(request, exc.problems[0].message)
    else:
        messages.success(request, f"已截止 {year} 年度数据采集（{window.scope.name}）。")
    return redirect("collection:years")


def _close_confirmation(request: HttpRequest, window: CollectionYear) -> HttpResponse:
    counties = services.counties_in(window.scope)
    where = "全国" if window.scope.level == Level.MINISTRY else window.scope.name
    return confirmation_page(
        request,
        title=f"截止 {window.year} 年度数据采集（{where}）",
        action="截止采集",
        consequences=[
            f"{where} {counties:,} 个县（区）及其学校立即不能再填报、导入或修改 {window.year} 年度数据。",
            "已提交的数据仍可审核、报送；如需重新开放，须再次设置更晚的截止时间。",
        ],
        notified=[f"{where}各县（区）教育行政部门和学校（在数据采集页看到「已截止」）"],
        back=reverse("collection:years"),
        danger=True,
    )
