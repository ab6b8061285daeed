"""Reads of the organisation app that the apps above share (the hierarchy's facts, not its users)."""

from __future__ import annotations

from youjun.web.organisation.models import BasicBalance, OrgUnit


def basic_balance(county: OrgUnit) -> BasicBalance | None:
    """The county's basic-balance recognition, if its province has recorded it."""
    return BasicBalance.objects.filter(county=county).first()


def basic_balance_year(county: OrgUnit) -> int | None:
    """The year the county passed the national basic-balance recognition; None when it is not recorded.

    The one source of the year: the programme's condition 2, the recommendation form and the assessment's
    eligibility all read it here.
    """
    return BasicBalance.objects.filter(county=county).values_list("year", flat=True).first()


def basic_balances(prefix: str) -> dict[int, BasicBalance]:
    """The recorded recognitions of the counties whose codes start with ``prefix`` (a province's), by county id."""
    return {b.county_id: b for b in BasicBalance.objects.filter(county__code__startswith=prefix)}
