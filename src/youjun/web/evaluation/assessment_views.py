"""The county's full assessment page, its printable view and its documents (self-evaluation report, annex,
application form), from the stored result and the assessment app's evidence, verdicts and findings; the report also
takes the chapters the county wrote (``assessment.services.narrative_texts``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import scoped
from youjun.web.assessment import services, uploads
from youjun.web.assessment.models import FindingSource, Found, Verdict
from youjun.web.assessment.views import UNAVAILABLE, _county_or_404, _message, _page_url, _user, evaluator_required
from youjun.web.evaluation import assessment_pages as pages
from youjun.web.evaluation import county_documents
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.pipeline import staleness
from youjun.web.organisation.models import OrgUnit


def _stored(county: OrgUnit, year: int) -> CountyEvaluation | None:
    return CountyEvaluation.objects.filter(county=county, year=year).order_by("-computed_at").first()


# The assessment page and its printable view


INDEX_LIMIT = 300


@evaluator_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """A county user goes to its own assessment; the levels above pick a county of their jurisdiction."""
    user = _user(request)
    evaluations = scoped(CountyEvaluation.objects.select_related("county__parent"), user, "county__code")
    years = sorted(set(evaluations.values_list("year", flat=True)), reverse=True)
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = years[0] if years else timezone.now().year
    unit = user.org_unit
    if user.role == Role.COUNTY and unit is not None:
        return redirect("assessment:county", code=unit.code, year=year)
    rows = [
        {"county": e.county, "verdict": (e.result.get("verdict") or {}), "passed": e.passed}
        for e in evaluations.filter(year=year).order_by("county__code")[:INDEX_LIMIT]
    ]
    context = {"rows": rows, "year": year, "years": years, "limit": INDEX_LIMIT}
    return render(request, "youjun/assessment/index.html", context)


def _context(request: HttpRequest, county: OrgUnit, year: int) -> dict[str, Any]:
    user = _user(request)
    stored = _stored(county, year)
    page = pages.assessment_page(county, year, stored.result if stored else None)
    return {
        "county": county,
        "year": year,
        "page": page,
        "stored": stored,
        "is_county": services.is_county_user(user, county),
        "is_reviewer": services.is_reviewer(user, county),
        "verdicts": Verdict.values,
        "founds": Found.values,
        "sources": FindingSource.values,
        "allowed": uploads.ALLOWED_TEXT,
        "limit": uploads.limit_text(),
        "evaluation_url": reverse("evaluation:county", args=[county.code, year]) if stored else "",
        "survey_url": _survey_url(county, year),
        "staleness": staleness(stored, county, year),
    }


def _survey_url(county: OrgUnit, year: int) -> str:
    """The county's survey page (social recognition), when the survey app is installed."""
    try:
        return reverse("survey:county", args=[county.code])
    except NoReverseMatch:
        return ""


@evaluator_required
@require_GET
def county(request: HttpRequest, code: str, year: int) -> HttpResponse:
    unit = _county_or_404(_user(request), code, year)
    return render(request, "youjun/assessment/county.html", _context(request, unit, year))


@evaluator_required
@require_GET
def printable(request: HttpRequest, code: str, year: int) -> HttpResponse:
    unit = _county_or_404(_user(request), code, year)
    return render(request, "youjun/assessment/print.html", _context(request, unit, year))


# ---------------------------------------------------------------------------------------------------------------
# County inputs


def _document(
    request: HttpRequest,
    code: str,
    year: int,
    build: Callable[[OrgUnit, int, CountyEvaluation], tuple[bytes, str, str]],
) -> HttpResponse:
    """A download built from the stored result by ``build(county, year, stored)`` (``county_documents``)."""
    unit = _county_or_404(_user(request), code, year)
    stored = _stored(unit, year)
    back = _page_url(unit, year)
    if stored is None:
        return _message(request, "暂无评估结果", "该年度还没有评估结果，不能生成文档。", 404, back)
    try:
        body, filename, content_type = build(unit, year, stored)
    except (ImportError, AttributeError):
        return _message(request, "暂不可用", UNAVAILABLE, 404, back)
    except YoujunError as exc:
        return _message(request, "无法生成文档", exc.problems[0].message, 400, back)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = uploads.attachment_header(filename)
    return response


@evaluator_required
@require_GET
def report_docx(request: HttpRequest, code: str, year: int) -> HttpResponse:
    return _document(request, code, year, county_documents.self_evaluation_report)


@evaluator_required
@require_GET
def annex_xlsx(request: HttpRequest, code: str, year: int) -> HttpResponse:
    return _document(request, code, year, county_documents.assessment_annex)


@evaluator_required
@require_GET
def application(request: HttpRequest, code: str, year: int, fmt: str) -> HttpResponse:
    if fmt not in ("docx", "xlsx"):
        raise Http404("不支持的格式")
    return _document(
        request, code, year, lambda unit, y, stored: county_documents.application_form(unit, y, stored, fmt)
    )
