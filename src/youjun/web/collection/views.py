"""Pages of the annual collection (学校年度数据采集).

Thin views: every read starts from ``accounts.scoping`` (through ``collection.selectors``), every write goes
through ``collection.services``. An object outside the user's jurisdiction is a 404 (its existence does not leak);
an action the user's role may not take inside the jurisdiction is a 403 with a Chinese page; a ``YoujunError`` of a
service becomes Chinese messages, never a traceback.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from youjun.engine.split import STAGED_FIELDS
from youjun.errors import Location, Problem, YoujunError
from youjun.io.columns import SCHOOL_BY_KEY, SCHOOL_COLUMNS, Column
from youjun.io.workbook import Table
from youjun.standards.model import EVALUATED_STAGES
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.collection import exports, selectors, services
from youjun.web.collection.forms import CollectionYearForm
from youjun.web.collection.models import RecordStatus, SchoolRecord, SubmissionStatus
from youjun.web.exports import xlsx_response
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.uploads import body_limited

ABOVE = (Role.PROVINCE, Role.PREFECTURE, Role.MINISTRY)
EXPLAIN_PREFIX = "explain:"
MAX_TEXT = 2000
#: Slack for the multipart envelope and the other form fields when the body size is checked before parsing.
PAGE_SIZE = 100
#: At most this many problems of an import are kept for the report page and its downloads.
MAX_REPORT_ROWS = 5000
TEACHER_FIELDS = tuple(f for f in STAGED_FIELDS if f.endswith("teachers"))

# The record form: every workbook column except the school's identity, in five groups (SCHOOL_COLUMNS order
# within a group; a column added to the workbook later lands in the last group until it is placed).
FIELD_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("基本信息", frozenset({"school_type", "ownership", "urban_rural", "boarding", "built_year"})),
    (
        "学生与教师",
        frozenset(
            {"students_primary", "students_junior", "students_senior", "migrant_students", "zoned_students"}
            | {f"{kind}_{stage}" for stage in EVALUATED_STAGES for kind in TEACHER_FIELDS}
            | {"certified_teachers", "trained_360h_teachers"}
        ),
    ),
    (
        "校舍与设备",
        frozenset(
            {
                "teaching_aux_area",
                "indoor_sports_area",
                "outdoor_sports_area",
                "extra_sports_area",
                "dense_city_centre",
                "equipment_value",
                "multimedia_rooms",
                "books",
                "computers",
            }
        ),
    ),
    (
        "班额与功能教室",
        frozenset(
            {
                "classes_primary",
                "classes_junior",
                "max_class_size_primary",
                "max_class_size_junior",
                "music_rooms",
                "art_rooms",
                "music_rooms_legacy",
                "art_rooms_legacy",
            }
        ),
    ),
    ("经费与其他", frozenset()),
)
SOURCE_LABELS = {"form": "网页填报", "upload": "上传工作簿", "county-upload": "县级批量导入"}
RECORD_ACTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    # action: (target status, statuses it applies to, message on success)
    "submit": (RecordStatus.SUBMITTED, (RecordStatus.DRAFT, RecordStatus.RETURNED), "已提交，等待县（区）审核。"),
    "approve": (RecordStatus.APPROVED, (RecordStatus.SUBMITTED,), "已审核通过，数据已锁定。"),
    "return": (RecordStatus.RETURNED, (RecordStatus.SUBMITTED,), "已退回学校修改。"),
    "unlock": (RecordStatus.RETURNED, (RecordStatus.APPROVED,), "已解锁并退回学校修改。"),
}
SUBMISSION_ACTIONS = {
    "submit": (SubmissionStatus.SUBMITTED, "已报送上级，等待上级审核。"),
    "accept": (SubmissionStatus.ACCEPTED, "已接收该县（区）报送的数据。"),
    "return": (SubmissionStatus.RETURNED, "已退回该县（区）。"),
}


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "youjun/collection/forbidden.html", {"message": message}, status=403)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _county_or_404(user: User, code: str) -> OrgUnit:
    county = OrgUnit.objects.filter(code=code, level=Level.COUNTY).first()
    if county is None or not can_see_unit(user, county):
        raise Http404("未找到该县（区）")
    return county


def _year_or_404(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise Http404("年度不正确")
    return year


def _record_or_404(user: User, pk: int) -> SchoolRecord:
    return get_object_or_404(selectors.records_for(user).select_related("school", "county", "updated_by"), pk=pk)


def _is_county_of(user: User, county: OrgUnit) -> bool:
    return user.role == Role.COUNTY and user.org_unit_id == county.pk


def _is_above(user: User, county: OrgUnit) -> bool:
    return user.role in ABOVE and user.org_unit_id is not None and user.org_unit_id != county.pk


def _may_edit(user: User, record: SchoolRecord) -> bool:
    """The school itself or its county (services check the same; the view answers 403 before calling them)."""
    if user.role == Role.SCHOOL:
        return user.school_id == record.school_id
    return user.role == Role.COUNTY and user.org_unit_id == record.county_id


def _is_forbidden(exc: YoujunError) -> bool:
    return any(p.code == "forbidden" for p in exc.problems)


def _error_messages(request: HttpRequest, exc: YoujunError, prefix: str = "", limit: int = 8) -> None:
    for p in exc.problems[:limit]:
        messages.error(request, prefix + p.describe())
    if len(exc.problems) > limit:
        messages.error(request, f"另有 {len(exc.problems) - limit} 个问题未列出。")


def _next_or(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


def _text(request: HttpRequest, name: str, limit: int = MAX_TEXT) -> str:
    return request.POST.get(name, "").strip()[:limit]


def _shown(value: Any) -> str:
    """A stored value as typed in the form: whole floats without ``.0``, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _default_year(user: User) -> int:
    now = timezone.now()
    open_years = [w.year for w in selectors.collection_years_for(user) if w.opens_at <= now <= w.closes_at]
    if open_years:
        return max(open_years)
    years = selectors.years_for(user)
    return years[0] if years else now.year


def _picked_year(request: HttpRequest, user: User) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return _default_year(user)
    return year if 2000 <= year <= 2100 else _default_year(user)


def _window_state(window: Any) -> str:
    now = timezone.now()
    if now < window.opens_at:
        return "未开始"
    return "采集中" if now <= window.closes_at else "已截止"


def _too_large_problem(name: str = "") -> Problem:
    limit = settings.YOUJUN_MAX_UPLOAD_BYTES
    shown = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)} KB"
    return Problem(
        "too_large", f"文件过大（上限 {shown}），请检查是否上传了错误的文件。", "error", Location(file=name or None)
    )


def _refuse_too_large(request: HttpRequest, kwargs: Mapping[str, Any]) -> HttpResponse:
    context = {"problems": exports.problem_rows([_too_large_problem()]), "ok": False, "standalone": True}
    return render(request, "youjun/collection/upload_report.html", context, status=413)


#: Workbook uploads: an oversized body is refused before Django reads it.
size_guarded = body_limited(lambda: int(settings.YOUJUN_MAX_UPLOAD_BYTES), _refuse_too_large)


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


def _submission_history(submission: Any) -> list[dict[str, Any]]:
    if submission is None:
        return []
    labels = dict(SubmissionStatus.choices)
    return [
        {
            "at": t.at,
            "actor": t.actor,
            "source": labels.get(t.source, t.source),
            "target": labels.get(t.target, t.target),
            "reason": t.reason,
        }
        for t in selectors.submission_transitions(submission)
    ]


def _overview(request: HttpRequest, user: User, year: int) -> HttpResponse:
    rows, without = selectors.county_overview(user, year)
    wanted = request.GET.get("status", "")
    if wanted in dict(SubmissionStatus.choices):
        rows = [r for r in rows if r.status == wanted]
    if request.GET.get("format") == "xlsx":
        return _overview_xlsx(rows, year)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
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
                "name": r.county.full_name,
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
    form = CollectionYearForm(request.POST or None)
    if request.method == "POST":
        if not may_open:
            return _forbidden(request, "只有教育部或省级教育行政部门可以开放采集年度。")
        if form.is_valid():
            data = form.cleaned_data
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
    context = {"form": form, "windows": windows, "may_open": may_open}
    return render(request, "youjun/collection/years.html", context, status=status)


# ---------------------------------------------------------------------------------------------------------------
# The school record


@dataclass
class _Field:
    column: Column
    value: str
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.column.key

    @property
    def unit(self) -> str:
        unit = self.column.unit
        return "" if not unit or f"({unit})" in self.column.header else unit

    @property
    def inputmode(self) -> str:
        return {"int": "numeric", "year": "numeric", "number": "decimal"}.get(self.column.kind, "text")


def field_groups(values: Mapping[str, str], errors: Mapping[str, list[str]] | None = None) -> list[tuple[str, list]]:
    """The record's fields in their groups, with the values to show and the errors beside them."""
    errors = errors or {}
    placed = set().union(*(keys for _, keys in FIELD_GROUPS))
    groups: list[tuple[str, list]] = []
    for name, keys in FIELD_GROUPS:
        members = [
            c
            for c in SCHOOL_COLUMNS
            if c.key in services.VALUE_KEYS and (c.key in keys or (not keys and c.key not in placed))
        ]
        groups.append((name, [_Field(c, values.get(c.key, ""), errors.get(c.key, [])) for c in members]))
    return groups


@dataclass
class _Warning:
    key: str
    text: str
    explanation: str


def _render_record(
    request: HttpRequest,
    record: SchoolRecord,
    *,
    posted: Mapping[str, str] | None = None,
    explanations: Mapping[str, str] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    general_errors: list[str] | None = None,
    conflict: list[tuple[str, str, str]] | None = None,
    upload_problems: list[dict[str, Any]] | None = None,
    reason: str = "",
    version: int | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    may_edit = _may_edit(user, record)
    window = services.open_collection(record.county, record.year)
    waiting = record.status == RecordStatus.SUBMITTED and user.role == Role.SCHOOL  # with the county for review
    editable = may_edit and not record.locked and not waiting and window is not None
    values = dict(posted) if posted is not None else {k: _shown(record.values.get(k)) for k in services.VALUE_KEYS}
    given = explanations if explanations is not None else (record.explanations or {})
    found = services.record_warnings(record)
    warnings = [
        _Warning(services.warning_key(w), w.describe(), str(given.get(services.warning_key(w), ""))) for w in found
    ]
    is_county = _is_county_of(user, record.county)
    changes = [
        {
            "at": c.at,
            "actor": c.actor,
            "field": SCHOOL_BY_KEY[c.field].header if c.field in SCHOOL_BY_KEY else "全部字段（首次填报）",
            "old": _shown(c.old),
            "new": f"{len(c.new)} 项数据"
            if c.field == services.ALL_FIELDS and isinstance(c.new, dict)
            else _shown(c.new),
            "reason": c.reason,
            "source": SOURCE_LABELS.get(c.source, c.source),
        }
        for c in selectors.record_changes(record)
    ]
    labels = dict(RecordStatus.choices)
    transitions = [
        {
            "at": t.at,
            "actor": t.actor,
            "source": labels.get(t.source, t.source),
            "target": labels.get(t.target, t.target),
            "reason": t.reason,
        }
        for t in selectors.record_transitions(record)
    ]
    context = {
        "record": record,
        "groups": field_groups(values, errors),
        "version": record.version if version is None else version,
        "editable": editable,
        "may_edit": may_edit,
        "window": window,
        "warnings": warnings,
        "unexplained": sum(1 for w in warnings if not w.explanation.strip()),
        "general_errors": general_errors or [],
        "conflict": conflict,
        "upload_problems": upload_problems,
        "reason": reason,
        "can_submit": may_edit and record.status in (RecordStatus.DRAFT, RecordStatus.RETURNED),
        "can_review": is_county and record.status == RecordStatus.SUBMITTED,
        "can_unlock": is_county and record.status == RecordStatus.APPROVED,
        "changes": changes,
        "transitions": transitions,
        "max_upload_mb": settings.YOUJUN_MAX_UPLOAD_BYTES / (1024 * 1024),
    }
    return render(request, "youjun/collection/record.html", context, status=status)


def _posted_explanations(request: HttpRequest, record: SchoolRecord) -> dict[str, str]:
    """The record's explanations with those typed in the form applied (an emptied box removes its explanation)."""
    result = dict(record.explanations or {})
    for name in request.POST:
        if name.startswith(EXPLAIN_PREFIX):
            key = name.removeprefix(EXPLAIN_PREFIX)[:200]
            text = _text(request, name)
            if text:
                result[key] = text
            else:
                result.pop(key, None)
    return result


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """The school's annual data form: GET shows it, POST saves it (and, with ``action=submit``, submits it)."""
    user = _user(request)
    rec = _record_or_404(user, pk)
    if request.method == "GET":
        return _render_record(request, rec)
    if not _may_edit(user, rec):
        return _forbidden(request, "只有本校或本县（区）可以修改该校数据。")
    version = _posted_version(request)
    if version is None:
        messages.error(request, "表单已失效，请刷新页面后重新填写。")
        return redirect("collection:record", pk=rec.pk)
    raw = {k: request.POST.get(k, "").strip()[:200] for k in services.VALUE_KEYS}
    explanations = _posted_explanations(request, rec)
    reason = _text(request, "reason", 500)
    try:
        result = services.save_record(user, rec, raw, version, reason=reason, explanations=explanations)
    except YoujunError as exc:
        return _save_failed(request, rec, exc, raw, explanations, reason, version)
    saved = result.record
    messages.success(
        request, f"已保存，修改了 {result.changed} 项数据。" if result.changed else "已保存，数据没有变化。"
    )
    if request.POST.get("action") == "submit":
        try:
            services.move_record(user, saved, RecordStatus.SUBMITTED)
        except YoujunError as exc:
            _error_messages(request, exc, "未能提交：")
        else:
            messages.success(request, RECORD_ACTIONS["submit"][2])
    else:
        _ask_for_explanations(request, saved)
    return redirect("collection:record", pk=saved.pk)


def _ask_for_explanations(request: HttpRequest, record: SchoolRecord) -> None:
    missing = services.unexplained_warnings(record)
    if missing:
        messages.warning(request, f"有 {len(missing)} 条数据提醒需要说明：请在下方逐条填写说明并保存，然后提交。")


def _save_failed(
    request: HttpRequest,
    rec: SchoolRecord,
    exc: YoujunError,
    raw: dict[str, str],
    explanations: dict[str, str],
    reason: str,
    version: int,
) -> HttpResponse:
    if _is_forbidden(exc):
        return _forbidden(request, exc.problems[0].message)
    codes = {p.code for p in exc.problems}
    if "conflict" in codes:
        latest = _record_or_404(_user(request), rec.pk)
        theirs = {k: _shown(latest.values.get(k)) for k in services.VALUE_KEYS}
        diff = [(SCHOOL_BY_KEY[k].header, raw[k], theirs[k]) for k in services.VALUE_KEYS if raw[k] != theirs[k]]
        messages.error(request, exc.problems[0].message)
        return _render_record(
            request,
            latest,
            posted=raw,
            explanations=explanations,
            conflict=diff,
            reason=reason,
            version=latest.version,
            status=409,
        )
    if codes & {"locked", "window_closed"}:
        _error_messages(request, exc)
        return redirect("collection:record", pk=rec.pk)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    for p in exc.problems:
        if p.severity != "error":
            continue
        if p.location.field in services.VALUE_KEYS:
            errors.setdefault(p.location.field, []).append(p.message)  # type: ignore[arg-type]
        else:
            general.append(p.describe())
    messages.error(
        request, f"未保存：有 {sum(map(len, errors.values())) + len(general)} 处需要修改，请查看标红的字段。"
    )
    return _render_record(
        request,
        rec,
        posted=raw,
        explanations=explanations,
        errors=errors,
        general_errors=general,
        reason=reason,
        version=version,
        status=400,
    )


@login_required
@require_POST
def record_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit (school or county), approve, return or unlock (county, the last two with a reason)."""
    user = _user(request)
    rec = _record_or_404(user, pk)
    action = request.POST.get("action", "")
    if action not in RECORD_ACTIONS:
        messages.error(request, "未知的操作。")
        return redirect("collection:record", pk=rec.pk)
    if not _may_edit(user, rec):
        return _forbidden(request, "只有本校或本县（区）可以办理该校数据。")
    target, sources, done = RECORD_ACTIONS[action]
    version = _posted_version(request)
    if (version is not None and version != rec.version) or rec.status not in sources:
        messages.error(request, "该校数据在您打开页面后已发生变化，请查看最新状态后再操作。")
        return _next_or(request, reverse("collection:record", args=[rec.pk]))
    try:
        services.move_record(user, rec, target, _text(request, "reason"))
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        _error_messages(request, exc)
    else:
        messages.success(request, f"{rec.name}：{done}")
    return _next_or(request, reverse("collection:record", args=[rec.pk]))


@size_guarded
@login_required
@require_POST
def record_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """The school (or its county) uploads the school's own one-row workbook for this record."""
    user = _user(request)
    rec = _record_or_404(user, pk)
    if not _may_edit(user, rec):
        return _forbidden(request, "只有本校或本县（区）可以上传该校数据。")
    upload = request.FILES.get("file")
    version = _posted_version(request)
    if upload is None or version is None:
        messages.error(request, "请选择要上传的文件。")
        return redirect("collection:record", pk=rec.pk)
    name = upload.name or "upload"
    try:
        if upload.size > settings.YOUJUN_MAX_UPLOAD_BYTES:
            raise YoujunError([_too_large_problem(services._safe_name(name))])
        result = services.import_school_workbook(user, rec, name, upload.chunks(), upload.size, version)
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        if any(p.code in ("conflict", "locked", "window_closed") for p in exc.problems):
            _error_messages(request, exc)
            return redirect("collection:record", pk=rec.pk)
        messages.error(request, "上传的文件未能导入，数据没有变化。问题见下表。")
        rows = exports.problem_rows(exc.problems)
        return _render_record(request, rec, upload_problems=rows, status=400)
    messages.success(request, f"已导入工作簿，修改了 {result.changed} 项数据。")
    _ask_for_explanations(request, result.record)
    return redirect("collection:record", pk=rec.pk)


# ---------------------------------------------------------------------------------------------------------------
# County actions


def _report_key(county: OrgUnit, year: int) -> str:
    return f"youjun.collection.upload.{county.code}.{year}"


def _county_page_url(county: OrgUnit, year: int) -> str:
    return reverse("collection:county", args=[county.code, year])


@size_guarded
@login_required
@require_POST
def county_upload(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The county imports its whole workbook for the year: all rows or nothing; errors shown as a table."""
    user = _user(request)
    unit = _county_or_404(user, code)
    year = _year_or_404(year)
    if not _is_county_of(user, unit):
        return _forbidden(request, "只有本县（区）教育行政部门可以导入本县数据。")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的文件。")
        return redirect(_county_page_url(unit, year))
    name = upload.name or "upload"
    shown = services._safe_name(name)
    try:
        if upload.size > settings.YOUJUN_MAX_UPLOAD_BYTES:
            raise YoujunError([_too_large_problem(shown)])
        result = services.import_county_workbook(user, unit, year, name, upload.chunks(), upload.size)
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        report = _store_report(request, unit, year, shown, False, "导入未成功，数据没有任何变化。", exc.problems)
        context = {"county": unit, "year": year, **report, "standalone": False}
        status = 413 if any(p.code == "too_large" for p in exc.problems) else 400
        return render(request, "youjun/collection/upload_report.html", context, status=status)
    summary = (
        f"导入成功：新登记学校 {result.created_schools} 所，新建 {result.created_records} 条、"
        f"更新 {result.updated_records} 条学校数据，均为「已提交待审核」。"
    )
    _store_report(request, unit, year, shown, True, summary, result.warnings)
    messages.success(request, summary)
    if result.warnings:
        messages.warning(request, f"有 {len(result.warnings)} 条数据提醒，请在导入报告中查看并核实。")
    return redirect(_county_page_url(unit, year))


def _store_report(
    request: HttpRequest, county: OrgUnit, year: int, name: str, ok: bool, summary: str, problems: list[Problem]
) -> dict[str, Any]:
    rows = exports.problem_rows(problems[:MAX_REPORT_ROWS])
    if len(problems) > MAX_REPORT_ROWS:
        more = len(problems) - MAX_REPORT_ROWS
        rows += exports.problem_rows([Problem("too_many_problems", f"另有 {more} 个问题未列出，请先修正以上问题。")])
    report = {
        "ok": ok,
        "file": name,
        "summary": summary,
        "at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "problems": rows,
    }
    request.session[_report_key(county, year)] = report
    return report


def _stored_report(request: HttpRequest, code: str, year: int) -> tuple[OrgUnit, dict[str, Any] | None]:
    user = _user(request)
    unit = _county_or_404(user, code)
    return unit, request.session.get(_report_key(unit, _year_or_404(year)))


@login_required
@require_GET
def upload_report(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The last import report of this county and year (kept in the user's session)."""
    unit, report = _stored_report(request, code, year)
    if report is None:
        messages.info(request, "没有导入报告。")
        return redirect(_county_page_url(unit, year))
    context = {"county": unit, "year": year, **report, "standalone": False}
    return render(request, "youjun/collection/upload_report.html", context)


@login_required
@require_GET
def upload_report_file(request: HttpRequest, code: str, year: int, fmt: str) -> HttpResponse:
    """The last import report as CSV or XLSX (Chinese headers, strings inert)."""
    unit, report = _stored_report(request, code, year)
    if report is None or fmt not in ("csv", "xlsx"):
        raise Http404("没有导入报告")
    filename = f"{unit.name}-{year}-导入报告.{fmt}"
    if fmt == "csv":
        body = exports.report_csv(report["problems"])
        content_type = "text/csv; charset=utf-8"
    else:
        body = exports.report_xlsx(report["problems"], f"{unit.name} {year} 年度导入报告（{report['file']}）")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return FileResponse(io.BytesIO(body), as_attachment=True, filename=filename, content_type=content_type)


@login_required
@require_GET
def county_export(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The county's records of the year as the annual workbook (edit in Excel/WPS and import again)."""
    user = _user(request)
    unit = _county_or_404(user, code)
    frame = selectors.records_frame(selectors.county_records(user, unit, _year_or_404(year)))
    body = exports.county_workbook(frame)
    return FileResponse(io.BytesIO(body), as_attachment=True, filename=f"{unit.name}-{year}-学校年度数据.xlsx")


@login_required
@require_GET
def template(request: HttpRequest) -> HttpResponse:
    """The blank annual workbook."""
    return FileResponse(
        io.BytesIO(exports.template_workbook()), as_attachment=True, filename="学校年度数据表-模板.xlsx"
    )


@login_required
@require_POST
def bulk_approve(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The county approves the ticked submitted records (those changed since the page was shown are skipped)."""
    user = _user(request)
    unit = _county_or_404(user, code)
    year = _year_or_404(year)
    if not _is_county_of(user, unit):
        return _forbidden(request, "只有本县（区）教育行政部门可以审核本县数据。")
    wanted: dict[int, int] = {}
    for item in request.POST.getlist("records"):
        pk, _, version = item.partition(":")
        if pk.isdigit() and version.isdigit():
            wanted[int(pk)] = int(version)
    if not wanted:
        messages.error(request, "请先勾选要审核通过的学校。")
        return redirect(_county_page_url(unit, year))
    candidates = selectors.county_records(user, unit, year).filter(pk__in=list(wanted), status=RecordStatus.SUBMITTED)
    chosen = [r for r in candidates if wanted.get(r.pk) == r.version]
    skipped = len(wanted) - len(chosen)
    try:
        approved = services.approve_records(user, unit, year, chosen)
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        _error_messages(request, exc, "批量审核未完成（没有任何记录被改变）：")
    else:
        messages.success(request, f"已审核通过 {approved} 所学校的数据。")
        if skipped:
            messages.warning(request, f"另有 {skipped} 所学校的数据在您打开页面后已变化或不在待审核状态，未审核。")
    return redirect(_county_page_url(unit, year))


@login_required
@require_POST
def create_records(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The county creates this year's empty records of its registered schools, so that schools can fill them."""
    user = _user(request)
    unit = _county_or_404(user, code)
    year = _year_or_404(year)
    if not _is_county_of(user, unit):
        return _forbidden(request, "只有本县（区）教育行政部门可以创建本县学校的填报表。")
    try:
        created = services.create_year_records(user, unit, year)
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        _error_messages(request, exc)
    else:
        messages.success(request, f"已为 {created} 所学校创建 {year} 年度填报表。")
    return redirect(_county_page_url(unit, year))


@login_required
@require_POST
def submission(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The county submits its approved year upward; a unit above accepts it or returns it with a reason."""
    user = _user(request)
    unit = _county_or_404(user, code)
    year = _year_or_404(year)
    action = request.POST.get("action", "")
    if action not in SUBMISSION_ACTIONS:
        messages.error(request, "未知的操作。")
        return _next_or(request, _county_page_url(unit, year))
    if action == "submit" and not _is_county_of(user, unit):
        return _forbidden(request, "只有本县（区）教育行政部门可以报送本县数据。")
    if action != "submit" and not (_is_above(user, unit) and user.can_write):
        return _forbidden(request, "只有上级教育行政部门可以接收或退回。")
    target, done = SUBMISSION_ACTIONS[action]
    try:
        services.move_submission(user, unit, year, target, _text(request, "reason"))
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        _error_messages(request, exc, f"{unit.name}：")
    else:
        messages.success(request, f"{unit.name} {year} 年度：{done}")
    return _next_or(request, _county_page_url(unit, year))
