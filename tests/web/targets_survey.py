"""The survey's URLs in the permission matrix (tests/web/test_permissions.py).

Campaigns and links are created lazily (get-or-create). ``SNAPSHOT`` creates them first too, so the matrix's
"nothing changed" comparison is not disturbed by the fixtures themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.survey import services
from youjun.web.survey.models import Campaign, Link, LinkKind, Response

TITLE = "权限矩阵调查"


def campaign_for(county_code: str) -> Campaign:
    county = OrgUnit.objects.get(code=county_code)
    found = Campaign.objects.filter(county=county, year=YEAR, title=TITLE).first()
    if found is None:
        found = services.create_campaign(county, YEAR, TITLE, 100_000, services.initial_quotas(100_000), None)
        school = School.objects.filter(county=county).order_by("school_id").first()
        services.open_links(found, school, ["parents"])
        services.generate_links(found, "parents", 2)
    return found


def _pk(side: dict[str, str]) -> dict[str, Any]:
    return {"pk": campaign_for(side["county"]).pk}


def _open_token() -> dict[str, Any]:
    campaign = campaign_for(OWN_COUNTY)
    return {"token": Link.objects.filter(campaign=campaign, kind=LinkKind.OPEN).values_list("token", flat=True)[0]}


TARGETS: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "survey:county": lambda s: {"code": s["county"]},
    "survey:campaign": _pk,
    "survey:status": _pk,
    "survey:quotas": _pk,
    "survey:links": _pk,
    "survey:links_export": _pk,
    "survey:school_links": _pk,
    "survey:all_school_links": _pk,
    "survey:qr_sheet": _pk,
    "survey:responses_export": _pk,
}
UNSCOPED = {"survey:index": {}}
PUBLIC_TARGETS: dict[str, Callable[[], dict[str, Any]]] = {"survey:answer": _open_token}


def SNAPSHOT() -> tuple[Any, ...]:
    for code in (OWN_COUNTY, OTHER_COUNTY):
        campaign_for(code)
    return (
        tuple(Campaign.objects.order_by("pk").values_list("pk", "status", "population")),
        tuple(str(q) for q in Campaign.objects.order_by("pk").values_list("quotas", flat=True)),
        Link.objects.count(),
        Response.objects.count(),
    )


#: Statuses per role (see test_permissions.py): ministry, province, prefecture, county, school, viewer.
INSIDE = {
    "survey:county": "200/403 200/403 200/403 200/400 403/403 200/403",
    "survey:campaign": "200/405 200/405 200/405 200/405 403/403 200/405",
    "survey:status": "405/403 405/403 405/403 405/400 403/403 405/403",
    "survey:quotas": "405/403 405/403 405/403 405/400 403/403 405/403",
    "survey:links": "405/403 405/403 405/403 405/400 403/403 405/403",  # no data: the form again, errors beside
    "survey:links_export": "403/403 403/403 403/403 200/200 403/403 403/403",  # the answering links: the county
    "survey:school_links": "405/403 405/403 405/403 405/302 403/403 405/403",
    "survey:all_school_links": "405/403 405/403 405/403 405/302 403/403 405/403",
    "survey:qr_sheet": "200/200 200/200 200/200 200/200 403/403 200/200",
    "survey:responses_export": "200/200 200/200 200/200 200/200 403/403 200/200",
}
#: province, prefecture, county, school, viewer against the other jurisdiction.
OUTSIDE = {
    "survey:county": "404/404 404/404 404/404 403/403 404/404",
    "survey:campaign": "404/405 404/405 404/405 403/403 404/405",
    "survey:status": "405/404 405/404 405/404 403/403 405/404",
    "survey:quotas": "405/404 405/404 405/404 403/403 405/404",
    "survey:links": "405/404 405/404 405/404 403/403 405/404",
    "survey:links_export": "404/404 404/404 404/404 403/403 404/404",
    "survey:school_links": "405/404 405/404 405/404 403/403 405/404",
    "survey:all_school_links": "405/404 405/404 405/404 403/403 405/404",
    "survey:qr_sheet": "404/404 404/404 404/404 403/403 404/404",
    "survey:responses_export": "404/404 404/404 404/404 403/403 404/404",
}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous.
UNSCOPED_STATUS = {
    "survey:index": "200/200 200/200 200/200 302/302 403/403 200/200 302/302 403/403 302/302",
}
