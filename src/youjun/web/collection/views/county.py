"""The county's actions: the county workbook upload and its report, bulk approval, the year's records, the export,
the template and the report upward."""

import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from youjun.errors import Problem, YoujunError
from youjun.web.collection import exports, imports, selectors, services
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.collection.views.common import (
    MAX_REPORT_ROWS,
    SUBMISSION_ACTIONS,
    _county_or_404,
    _county_page_url,
    _error_messages,
    _forbidden,
    _is_above,
    _is_county_of,
    _is_forbidden,
    _next_or,
    _report_key,
    _text,
    _too_large_problem,
    _user,
    _year_or_404,
    size_guarded,
)
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.shortcuts import confirmation_page, confirmed

# ---------------------------------------------------------------------------------------------------------------
# County actions


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
    skip_locked = request.POST.get("skip_locked") == "1"
    try:
        if upload.size is None or upload.size > settings.YOUJUN_MAX_UPLOAD_BYTES:
            raise YoujunError([_too_large_problem(shown)])
        result = imports.import_county_workbook(
            user, unit, year, name, upload.chunks(), upload.size, skip_locked=skip_locked
        )
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        locked = [p for p in exc.problems if p.code == "locked"]
        summary = "导入未成功，数据没有任何变化。"
        if locked:
            summary += f"文件中有 {len(locked)} 所学校已锁定；可勾选「跳过已锁定的学校」重新上传，导入其余学校。"
        report = _store_report(request, unit, year, shown, False, summary, exc.problems, may_skip=bool(locked))
        context = {"county": unit, "year": year, **report, "standalone": False, "max_upload_mb": _max_mb()}
        status = 413 if any(p.code == "too_large" for p in exc.problems) else 400
        return render(request, "youjun/collection/upload_report.html", context, status=status)
    summary = (
        f"导入成功：新登记学校 {result.created_schools} 所，新建 {result.created_records} 条、"
        f"更新 {result.updated_records} 条学校数据，均为「已提交待审核」。"
    )
    if result.resubmitted:
        summary += f"其中 {result.resubmitted} 所学校此前被退回修改，已按导入的数据重新提交。"
    if result.skipped:
        names = "、".join(f"{s.name}（{s.school_id}）" for s in result.skipped[:20])
        more = f"等 {len(result.skipped)} 所" if len(result.skipped) > 20 else ""
        summary += f"已跳过已锁定的学校 {len(result.skipped)} 所：{names}{more}，其数据未改变。"
    _store_report(request, unit, year, shown, True, summary, result.warnings)
    messages.success(request, summary)
    reminders = len(result.warnings) - len(result.skipped)
    if reminders:
        messages.warning(request, f"有 {reminders} 条数据提醒，请在导入报告中查看并核实。")
    return redirect(_county_page_url(unit, year))


def _max_mb() -> float:
    return float(settings.YOUJUN_MAX_UPLOAD_BYTES) / (1024 * 1024)


def _store_report(
    request: HttpRequest,
    county: OrgUnit,
    year: int,
    name: str,
    ok: bool,
    summary: str,
    problems: list[Problem],
    *,
    may_skip: bool = False,
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
        "may_skip": may_skip,
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
    context = {"county": unit, "year": year, **report, "standalone": False, "max_upload_mb": _max_mb()}
    return render(request, "youjun/collection/upload_report.html", context)


@login_required
@require_GET
def upload_report_file(request: HttpRequest, code: str, year: int, fmt: str) -> FileResponse:
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
def county_export(request: HttpRequest, code: str, year: int) -> FileResponse:
    """The county's records of the year as the annual workbook (edit in Excel/WPS and import again)."""
    user = _user(request)
    unit = _county_or_404(user, code)
    frame = selectors.records_frame(selectors.county_records(user, unit, _year_or_404(year)))
    body = exports.county_workbook(frame)
    return FileResponse(io.BytesIO(body), as_attachment=True, filename=f"{unit.name}-{year}-学校年度数据.xlsx")


@login_required
@require_GET
def template(request: HttpRequest) -> FileResponse:
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
    if not chosen:
        messages.error(request, "所选学校的数据在您打开页面后已变化或不在待审核状态，没有可审核的学校。")
        return redirect(_county_page_url(unit, year))
    if not confirmed(request):
        names = "、".join(r.name for r in chosen[:10]) + (f"等 {len(chosen)} 所" if len(chosen) > 10 else "")
        consequences = [
            f"审核通过 {len(chosen)} 所学校的 {year} 年度数据：{names}。",
            "审核通过后数据锁定，学校不能再修改；如需更改，须由县（区）逐校解锁并填写原因。",
            f"{unit.name} {year} 年度评估结果随即按审核通过的数据重新计算。",
        ]
        if skipped:
            consequences.append(f"另有 {skipped} 所所选学校的数据已变化或不在待审核状态，不会审核。")
        return confirmation_page(
            request,
            title=f"审核通过 {len(chosen)} 所学校",
            action="审核通过",
            consequences=consequences,
            back=_county_page_url(unit, year),
        )
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
    reason = _text(request, "reason")
    if action in ("submit", "accept") and not confirmed(request):
        try:
            services.check_submission(user, unit, year, target, reason)  # refused before asking to confirm
        except YoujunError as exc:
            if _is_forbidden(exc):
                return _forbidden(request, exc.problems[0].message)
            _error_messages(request, exc, f"{unit.name}：")
            return _next_or(request, _county_page_url(unit, year))
        return _submission_confirmation(request, unit, year, action)
    try:
        services.move_submission(user, unit, year, target, reason)
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        _error_messages(request, exc, f"{unit.name}：")
    else:
        messages.success(request, f"{unit.name} {year} 年度：{done}")
    return _next_or(request, _county_page_url(unit, year))


def _submission_confirmation(request: HttpRequest, county: OrgUnit, year: int, action: str) -> HttpResponse:
    """What reporting upward (or accepting the report) means, before it is done."""
    schools = SchoolRecord.objects.filter(county=county, year=year).count()
    above = [u.name for u in _units_above(county)]
    back = request.POST.get("next", "") or _county_page_url(county, year)
    if action == "submit":
        return confirmation_page(
            request,
            title=f"报送 {county.name} {year} 年度数据",
            action="报送上级",
            consequences=[
                f"{county.name} {year} 年度 {schools} 所学校的数据（均已审核通过）报送上级教育行政部门审核。",
                "报送后本县（区）不能再导入、修改、审核或解锁本年度任何学校的数据，除非上级退回。",
            ],
            notified=[f"上级教育行政部门（{'、'.join(above)}）" if above else "上级教育行政部门"],
            back=back,
        )
    return confirmation_page(
        request,
        title=f"接收 {county.name} {year} 年度数据",
        action="接收",
        consequences=[
            f"接收 {county.name} 报送的 {year} 年度 {schools} 所学校的数据。",
            "接收后不能再退回该县（区）本年度的报送，其数据保持锁定。",
        ],
        notified=[f"{county.name}教育行政部门"],
        back=back,
    )


def _units_above(county: OrgUnit) -> list[OrgUnit]:
    """The prefecture (unless a mere heading such as 市辖区) and the province of the county."""
    units, unit = [], county.parent
    while unit is not None and unit.level != Level.MINISTRY:
        if unit.name not in selectors.PLACEHOLDER_PREFECTURES:
            units.append(unit)
        unit = unit.parent
    return units
