"""What the collection's pages share: permissions, parsing of posted values, messages, size guards."""

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from youjun.engine.split import STAGED_FIELDS
from youjun.errors import Location, Problem, YoujunError
from youjun.standards.model import EVALUATED_STAGES
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.collection import exports, selectors
from youjun.web.collection.models import RecordStatus, SchoolRecord, SubmissionStatus
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.shortcuts import user_of
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
    return user_of(request)


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
        # A form field's key is internal: the page names the field beside its box, the message says what is wrong.
        shown = dataclasses.replace(p, location=dataclasses.replace(p.location, field=None))
        messages.error(request, prefix + shown.describe())
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


def _report_key(county: OrgUnit, year: int) -> str:
    return f"youjun.collection.upload.{county.code}.{year}"


def _county_page_url(county: OrgUnit, year: int) -> str:
    return reverse("collection:county", args=[county.code, year])
