"""Scoped reads of stored results: every queryset starts from the user's jurisdiction (pages: ``evaluation.pages``)."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from youjun.standards import RuleSet
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit, jurisdiction_prefix, scoped
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.rulesets import services as rulesets

# ----------------------------------------------------------------------------------------------------
# Scoped reads


def rule_set(standard: str) -> RuleSet:
    """The rule set a result was computed with (its reference: a shipped id or an uploaded file's digest)."""
    return rulesets.load(standard)


def evaluations_for(user: User) -> QuerySet[CountyEvaluation]:
    """Stored results inside the user's jurisdiction (none for school users): one per county-year, under the rule
    set in force for its province (decision 39)."""
    # A county with county inputs but no approved school record has no resource evaluation to show (passed null).
    queryset = CountyEvaluation.objects.filter(passed__isnull=False)
    return scoped(queryset, user, "county__code")


def visible_unit(user: User, code: str) -> OrgUnit:
    """The organisation unit with ``code`` if the user may see it; otherwise 404 (existence is not revealed)."""
    unit = OrgUnit.objects.select_related("parent__parent").filter(code=code).first()
    if unit is None or not can_see_unit(user, unit):
        raise Http404("未找到该单位")
    return unit


def sees_whole_country(user: User) -> bool:
    """Ministry-level users (ministry role, a viewer bound to the ministry, a superuser without unit)."""
    return user.is_authenticated and user.role != Role.SCHOOL and jurisdiction_prefix(user) == ""


def latest_year(user: User) -> int | None:
    """The latest year with any stored result in the user's jurisdiction."""
    year: int | None = evaluations_for(user).aggregate(latest=Max("year"))["latest"]
    return year


def years_with_results(user: User, prefix: str) -> list[int]:
    """Years with stored results under a code prefix (inside the user's jurisdiction), newest first."""
    query = evaluations_for(user).filter(county__code__startswith=prefix)
    return sorted(set(query.values_list("year", flat=True).distinct()), reverse=True)


def completeness(prefix: str, year: int) -> dict[str, tuple[int, int]]:
    """County code → (approved records, all records) of the year, for the counties under ``prefix``.

    A stored result covers the approved records only; while others are still pending it is provisional (临时结论).
    Counted at read time, so records created, approved or unlocked since the last evaluation are always reflected.
    """
    from youjun.web.collection.models import RecordStatus, SchoolRecord

    rows = (
        SchoolRecord.objects.filter(county__code__startswith=prefix, year=year)
        .order_by()
        .values("county__code")
        .annotate(total=Count("id"), approved=Count("id", filter=Q(status=RecordStatus.APPROVED)))
    )
    return {r["county__code"]: (r["approved"], r["total"]) for r in rows}


def breadcrumbs(user: User, unit: OrgUnit) -> list[OrgUnit]:
    """The unit's ancestors the user may open (province, prefecture), top first."""
    chain: list[OrgUnit] = []
    parent = unit.parent
    while parent is not None and parent.level in (Level.PROVINCE, Level.PREFECTURE):
        if can_see_unit(user, parent):
            chain.append(parent)
        parent = parent.parent
    return chain[::-1]
