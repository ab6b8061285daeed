"""Evaluation pages: county, province/prefecture and national results, each exportable with ``?format=xlsx``.

Access rules (decided here, enforced in every view):

* every page requires a login;
* school accounts get **403** on every evaluation page: they enter data, they do not evaluate, and the results
  compare their school with the other schools of the county;
* a county, prefecture or province looked up by its code must lie inside the user's jurisdiction
  (``accounts.scoping.can_see_unit``), otherwise the answer is **404**, the same as for a code that does not
  exist, so nothing outside the jurisdiction is revealed;
* the national page is for users whose jurisdiction is the whole country (ministry accounts, a viewer bound to the
  ministry, a superuser without unit); anyone else gets **403**;
* a visible county or unit without a stored result for the year gets a **404** page that lists the years that
  have results.

Pages only read stored results (``CountyEvaluation.result``), never evaluate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from html import escape
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from youjun.web.accounts.models import Role
from youjun.web.downloads.views import offer
from youjun.web.evaluation import downloads, exports, pages, pipeline, selectors
from youjun.web.evaluation.charts import Bar, cv_chart
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.shortcuts import user_of

View = Callable[..., HttpResponse]
SCHOOL_REFUSED = "学校账号用于填报本校数据，不能查看评估结果。评估结果由县级及以上教育行政部门查看。"


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "youjun/evaluation/message.html", {"title": "无权查看", "message": message}, status=403)


def evaluator_required(view: View) -> View:
    """Login required; school accounts are refused with 403 (they are not evaluators)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if user_of(request).role == Role.SCHOOL:
            return _forbidden(request, SCHOOL_REFUSED)
        return view(request, *args, **kwargs)

    return wrapped


def _wants_xlsx(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


def _no_result(
    request: HttpRequest, unit_name: str, year: int, years: list[int], url_name: str, code: str
) -> HttpResponse:
    links = [(y, reverse(url_name, args=[code, y]) if code else reverse(url_name, args=[y])) for y in years]
    context = {
        "title": f"{unit_name} {year} 年暂无评估结果",
        "message": "该年度还没有已审核的数据，或评估结果尚未生成。",
        "links": links,
    }
    return render(request, "youjun/evaluation/message.html", context, status=404)


def page_for(unit: OrgUnit | None, year: int) -> str:
    """The evaluation page of an organisation unit (national page for the ministry)."""
    if unit is None or unit.level == Level.MINISTRY:
        return reverse("evaluation:national", args=[year])
    if unit.level == Level.COUNTY:
        return reverse("evaluation:county", args=[unit.code, year])
    return reverse("evaluation:unit", args=[unit.code, year])


# ----------------------------------------------------------------------------------------------------
# Large tables are rendered here rather than in the template language: a county of 300 schools has ~5,000 cells and
# the template engine would spend most of the page's time on them. Every text is escaped.

OK_MARK = '<span class="ok">达标</span>'
FAIL_MARK = '<span class="error">未达标</span>'
BOUNDARY_MARK = '<span class="badge warn" title="临界">临</span>'
PROVISIONAL_MARK = ' <span class="badge warn" title="尚有学校数据未审核，结论为临时结论">临时</span>'


def _verdict_html(passed: bool | None) -> str:
    return OK_MARK if passed else FAIL_MARK if passed is False else "—"


def unit_rows_html(page: pages.CountyPage) -> SafeString:
    rows = []
    for u in page.unit_rows:
        cells = "".join(
            f'<td class="num unmet" data-v="{c.key}" title="未达标">{escape(c.text)}</td>'
            if c.met is False
            else f'<td class="num" data-v="{c.key}">{escape(c.text)}</td>'
            for c in u.cells
        )
        passed = "1" if u.passed else "0" if u.passed is False else ""
        rows.append(
            f'<tr data-stage="{escape(u.stage)}" data-passed="{passed}"><td>{escape(u.school_name)}'
            f'<small class="id">{escape(u.school_id)}</small></td><td>{escape(u.stage_name)}</td>'
            f'<td class="num">{u.students}</td>{cells}<td class="num">{u.n_met}</td>'
            f"<td>{_verdict_html(u.passed)}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # every text above is escaped


def shortfall_rows_html(page: pages.CountyPage) -> SafeString:
    rows = [
        f'<tr><td>{escape(g.school_name)}<small class="id">{escape(g.school_id)}</small></td>'
        f"<td>{escape(g.stage_name)}</td><td><b>{escape(g.code)}</b> {escape(g.indicator)}</td>"
        f'<td class="num">{escape(g.value_text)}{BOUNDARY_MARK if g.boundary else ""}</td>'
        f'<td class="num">{escape(g.standard_text)}</td>'
        f'<td class="num">{escape(g.ratio_text)}</td><td class="num">{escape(g.shortfall_text)} {escape(g.unit)}</td>'
        f"<td>{_verdict_html(g.unit_passed)}</td></tr>"
        for g in page.shortfalls
    ]
    return mark_safe("\n".join(rows))  # every text above is escaped


def county_rows_html(page: pages.UnitPage) -> SafeString:
    with_prefecture = bool(page.prefectures)
    rows = []
    for r in page.rows:
        url = reverse("evaluation:county", args=[r.code, page.year])
        cells = "".join(
            f'<td class="num{" fail" if c.passed is False else ""}" data-v="{c.key}">{escape(c.text)}'
            f"{BOUNDARY_MARK if c.boundary else ''}</td>"
            for c in r.cells
        )
        prefecture = f"<td>{escape(r.prefecture)}</td>" if with_prefecture else ""
        rows.append(
            f'<tr data-passed="{"1" if r.passed else "0"}"><td>{escape(r.code)}</td>'
            f'<td><a href="{escape(url)}">{escape(r.name)}</a></td>{prefecture}<td>{_verdict_html(r.passed)}'
            f"{PROVISIONAL_MARK if r.provisional else ''}</td>"
            f'<td class="num" data-v="{r.units_passed}">{r.units_passed}/{r.units}</td>{cells}</tr>'
        )
    return mark_safe("\n".join(rows))  # every text above is escaped


@evaluator_required
def index(request: HttpRequest) -> HttpResponse:
    """Send each user to the page of their own unit for the latest year with results."""
    user = user_of(request)
    year = selectors.latest_year(user)
    if year is None:
        return render(
            request,
            "youjun/evaluation/message.html",
            {"title": "暂无评估结果", "message": "辖区内还没有生成评估结果：县级审核通过学校数据后将自动计算。"},
        )
    unit = None if selectors.sees_whole_country(user) else user.org_unit
    return redirect(page_for(unit, year))


@evaluator_required
def county(request: HttpRequest, code: str, year: int) -> HttpResponse:
    user = user_of(request)
    unit = selectors.visible_unit(user, code)
    if unit.level != Level.COUNTY:
        return redirect(page_for(unit, year))
    page = pages.county_page(user, unit, year)
    if page is None:
        years = selectors.years_with_results(user, unit.code)
        if pipeline.computing(unit, year):  # the first result is being computed: say so and wait for it
            context = {
                "title": f"{unit.full_name} {year} 年评估结果正在生成",
                "message": "数据已审核，评估结果正在后台计算，本页每 5 秒自动刷新。",
                "refresh": 5,
                "links": [(y, reverse("evaluation:county", args=[unit.code, y])) for y in years],
            }
            return render(request, "youjun/evaluation/message.html", context)
        return _no_result(request, unit.full_name, year, years, "evaluation:county", unit.code)
    if _wants_xlsx(request):
        return exports.county_xlsx(page)
    cv_decimals = page.rules.precision.display_cv_decimals
    for stage in page.stages:
        bars = [Bar(r.code, r.label, r.name, r.cv, r.passed, r.boundary) for r in stage.rows]
        title = f"{page.county.name}{page.year}年{stage.name}各指标差异系数与限值"
        stage.chart = cv_chart(bars, stage.cv_limit, title, cv_decimals)
    context = {
        "page": page,
        "unit_rows": unit_rows_html(page),
        "shortfall_rows": shortfall_rows_html(page),
        "export_url": f"{request.path}?format=xlsx",
        "year_links": [(y, reverse("evaluation:county", args=[unit.code, y])) for y in page.years],
        "staleness": pipeline.staleness(page.evaluation, unit, year),
    }
    return render(request, "youjun/evaluation/county.html", context)


@evaluator_required
def unit(request: HttpRequest, code: str, year: int) -> HttpResponse:
    user = user_of(request)
    org = selectors.visible_unit(user, code)
    if org.level not in (Level.PROVINCE, Level.PREFECTURE):
        return redirect(page_for(org, year))
    page = pages.unit_page(user, org, year)
    if not page.rows:
        return _no_result(request, org.full_name, year, page.years, "evaluation:unit", org.code)
    if _wants_xlsx(request):
        title, fallback = exports.unit_names(page)
        return offer(
            request,
            downloads.UNIT_KIND,
            {"code": org.code, "year": year},
            title=title,
            fallback=fallback,
            content_type=exports.XLSX,
            heading=f"导出{org.full_name}{year}年评估汇总",
            description=f"Excel 文件含各县汇总{'、地市汇总' if page.prefectures else ''}和各县全部学校单元的明细"
            f"（已评估 {page.evaluated} 个县级单位）。",
            back=request.path,
        )
    context = {
        "page": page,
        "county_rows": county_rows_html(page),
        "export_url": f"{request.path}?format=xlsx",
        "lead": 5 if page.prefectures else 4,  # columns before the CVs in the county table
        "national_url": reverse("evaluation:national", args=[year]) if selectors.sees_whole_country(user) else "",
        "year_links": [(y, reverse("evaluation:unit", args=[org.code, y])) for y in page.years],
        "limits": [(page.rules.stage_name(s), pages.fmt(v, 2)) for s, v in (page.rules.balance.cv_limit or {}).items()],
    }
    return render(request, "youjun/evaluation/unit.html", context)


@evaluator_required
def national(request: HttpRequest, year: int) -> HttpResponse:
    user = user_of(request)
    if not selectors.sees_whole_country(user):
        return _forbidden(request, "全国汇总仅供教育部账号查看。")
    page = pages.national_page(user, year)
    if not page.evaluated:
        return _no_result(request, "全国", year, page.years, "evaluation:national", "")
    if _wants_xlsx(request):
        title, fallback = exports.national_names(page)
        return offer(
            request,
            downloads.NATIONAL_KIND,
            {"year": year},
            title=title,
            fallback=fallback,
            content_type=exports.XLSX,
            heading=f"导出全国{year}年评估汇总",
            description=f"Excel 文件含各省汇总和全国各县汇总（已评估 {page.evaluated} 个县级单位）。",
            back=request.path,
        )
    context = {
        "page": page,
        "export_url": f"{request.path}?format=xlsx",
        "year_links": [(y, reverse("evaluation:national", args=[y])) for y in page.years],
    }
    return render(request, "youjun/evaluation/national.html", context)
