"""The school registry page of a county (the registry itself: ``collection.registry``)."""

from __future__ import annotations

import polars as pl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from youjun.errors import YoujunError
from youjun.io.workbook import Table
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.collection import registry as services
from youjun.web.exports import xlsx_response
from youjun.web.organisation.models import Level, OrgUnit, School
from youjun.web.shortcuts import user_of


def _county(request: HttpRequest, code: str) -> OrgUnit:
    county = OrgUnit.objects.filter(code=code, level=Level.COUNTY).first()
    if county is None or not can_see_unit(user_of(request), county):
        raise Http404("没有找到该县（区）")
    return county


def _year(text: str | None, default: int) -> int:
    """A year from a query string; anything else (or out of range) gives the default."""
    try:
        year = int(text or default)
    except ValueError:
        return default
    return year if 1900 <= year <= 2100 else default


@login_required
@require_http_methods(["GET", "POST"])
def registry(request: HttpRequest, code: str) -> HttpResponse:
    county = _county(request, code)
    user = user_of(request)
    year = _year(request.GET.get("year"), timezone.localdate().year)
    can_edit = user.role == Role.COUNTY and user.org_unit_id == county.pk
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("只有本县（区）教育行政部门可以变更学校名册。")
    if request.method == "POST":
        try:
            services.register_school(
                user, county, request.POST.get("school_id", ""), request.POST.get("name", ""),
                request.POST.get("school_type", ""), request.POST.get("ownership", "公办"),
                request.POST.get("urban_rural", "城区"), _year(request.POST.get("year"), year),
            )  # fmt: skip
            messages.success(request, "已登记新学校。")
            return redirect(f"{request.path}?year={year}")
        except (YoujunError, ValueError) as exc:
            messages.error(request, str(exc))
    schools = list(School.objects.filter(county=county).select_related("merged_into").order_by("school_id"))
    if request.GET.get("format") == "xlsx":
        return _registry_xlsx(county, year, schools)
    context = {
        "county": county,
        "year": year,
        "active": [s for s in schools if s.active_in(year)],
        "inactive": [s for s in schools if not s.active_in(year)],
        "can_edit": can_edit,
        "types": services.REGISTRY_TYPES,
    }
    return render(request, "youjun/organisation/registry.html", context)


def _registry_xlsx(county: OrgUnit, year: int, schools: list[School]) -> HttpResponse:
    rows = [
        {
            "school_id": s.school_id,
            "name": s.name,
            "school_type": s.school_type,
            "ownership": s.ownership,
            "urban_rural": s.urban_rural,
            "opened_year": s.opened_year,
            "closed_year": s.closed_year,
            "merged_into": s.merged_into.name if s.merged_into else None,
            "active": "在册" if s.active_in(year) else "不在册",
        }
        for s in schools
    ]
    headers = {
        "school_id": "学校标识码",
        "name": "学校名称",
        "school_type": "办学类型",
        "ownership": "举办者",
        "urban_rural": "城乡分类",
        "opened_year": "设立年度",
        "closed_year": "撤销年度",
        "merged_into": "并入学校",
        "active": f"{year} 年状态",
    }
    schema = {k: pl.Int64 if k.endswith("_year") else pl.String for k in headers}
    table = Table(
        sheet="学校名册",
        frame=pl.DataFrame(rows, schema=schema),
        headers=headers,
        title=f"{county.full_name}学校名册（{year} 年）",
    )
    return xlsx_response([table], f"{county.name}学校名册-{year}.xlsx", f"registry-{county.code}-{year}.xlsx")


@login_required
@require_POST
def close(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    county = _county(request, code)
    if not (user_of(request).role == Role.COUNTY and user_of(request).org_unit_id == county.pk):
        raise PermissionDenied("只有本县（区）教育行政部门可以变更学校名册。")
    school = get_object_or_404(School, county=county, pk=pk)
    into_id = request.POST.get("merged_into", "").strip()
    merged_into = School.objects.filter(county=county, school_id=into_id).first() if into_id else None
    try:
        year = int(request.POST.get("year", ""))
        services.close_school(user_of(request), school, year, merged_into)
        messages.success(
            request,
            f"已登记 {school.name} 自 {year} 年起撤销" + (f"并入 {merged_into.name}。" if merged_into else "。"),
        )
    except (YoujunError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, YoujunError) else "请填写正确的年度。")
    return redirect("organisation:registry", code=county.code)
