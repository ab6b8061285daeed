"""The county's chase list (page, printable, Excel, one-click chase) and opening a notice (marks it read)."""

from __future__ import annotations

from typing import Any

import polars as pl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from youjun.errors import YoujunError
from youjun.io.workbook import Table
from youjun.web.accounts.models import Role
from youjun.web.collection.services import open_collection
from youjun.web.exports import xlsx_response
from youjun.web.organisation.models import OrgUnit
from youjun.web.shortcuts import evaluator_required, message_of, status_of, unit_or_404, user_of
from youjun.web.todo import selectors, services

#: The chase list's columns: key → Chinese header (page, print and Excel alike).
HEADERS = {
    "school_id": "学校标识码",
    "name": "学校名称",
    "school_type": "办学类型",
    "urban_rural": "城乡分类",
    "state": "填报状态",
    "reason": "退回原因",
    "updated": "最后修改时间",
    "reporters": "填报员",
    "emails": "电子邮箱",
}


def _context(request: HttpRequest, code: str, year: int) -> dict[str, Any]:
    user = user_of(request)
    county = unit_or_404(user, code)
    rows = selectors.chase_list(county, year)
    for row in rows:
        row["updated"] = f"{timezone.localtime(row['updated_at']):%Y-%m-%d %H:%M}" if row["updated_at"] else ""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    window = open_collection(county, year)
    return {
        "county": county,
        "year": year,
        "rows": rows,
        "counts": sorted(counts.items()),
        "window": window,
        "countdown": selectors.countdown(selectors.days_until(window.closes_at)) if window else "",
        "is_county": user.role == Role.COUNTY and user.org_unit_id == county.pk,
        "can_chase": user.role == Role.COUNTY and user.org_unit_id == county.pk and window is not None,
        "headers": HEADERS,
        "printed_at": timezone.localtime(),
    }


@evaluator_required
@require_GET
def chase(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Schools of the year not yet filed or returned, with their reporters (the county and the levels above)."""
    return render(request, "youjun/todo/chase.html", _context(request, code, year))


@evaluator_required
@require_GET
def chase_print(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The same list for paper: A4, no navigation."""
    return render(request, "youjun/todo/chase_print.html", _context(request, code, year))


@evaluator_required
@require_GET
def chase_xlsx(request: HttpRequest, code: str, year: int) -> HttpResponse:
    context = _context(request, code, year)
    county: OrgUnit = context["county"]
    columns = list(HEADERS)
    frame = pl.DataFrame(
        [{k: str(row[k] or "") for k in columns} for row in context["rows"]],
        schema=dict.fromkeys(columns, pl.String),
        orient="row",
    )
    title = f"{county.full_name} {year} 年度未完成填报的学校（{len(context['rows'])} 所）"
    notes = [f"导出时间：{context['printed_at']:%Y-%m-%d %H:%M}"]
    if context["window"] is not None:
        notes.append(f"采集截止时间：{timezone.localtime(context['window'].closes_at):%Y-%m-%d %H:%M}")
    table = Table(sheet="催报名单", frame=frame, headers=HEADERS, title=title, notes=notes)
    return xlsx_response([table], f"{county.name}{year}年度催报名单.xlsx", f"chase-{county.code}-{year}.xlsx")


@evaluator_required
@require_POST
def chase_send(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """一键催报: the county reminds every school whose form is not yet submitted (once a day per school)."""
    user = user_of(request)
    county = unit_or_404(user, code)
    back = reverse("todo:chase", args=[county.code, year])
    try:
        done = services.chase(user, county, year)
    except YoujunError as refused:
        if status_of(refused) in (403, 404):
            raise
        messages.error(request, message_of(refused))
        return redirect(back)
    if done.schools:
        sent = f"，并发送邮件 {done.emails} 封" if done.emails else ""
        messages.success(request, f"已向 {done.schools} 所学校的填报员发送催报提醒（站内通知{sent}）。")
    elif done.already:
        messages.info(request, "今天已经催报过这些学校，明天可以再次催报。")
    else:
        messages.info(request, "没有需要催报的填报表。")
    if done.without_account:
        messages.warning(request, f"{done.without_account} 所学校没有可用的填报账号，请电话联系或为其开设账号。")
    if done.without_form:
        messages.warning(request, f"{done.without_form} 所学校尚未创建填报表，请先在数据采集页面为其创建。")
    return redirect(back)


@login_required
@require_GET
def open_notice(request: HttpRequest) -> HttpResponse:
    """Open what a notice points at: the user's notices to that address become read, then the page opens. Only
    addresses of this site are followed (anything else goes to the 工作台)."""
    target = request.GET.get("next", "")
    safe = (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    )
    if not safe:
        return redirect("home")
    services.mark_read(user_of(request), target)
    return redirect(target)
