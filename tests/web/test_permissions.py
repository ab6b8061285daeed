"""Permission matrix, generated from the URL configuration: every URL × every role × own / other jurisdiction.

- Every URL × role × method answers the status its table says (``INSIDE`` for the own jurisdiction, ``OUTSIDE``
  for the other one, ``UNSCOPED_STATUS`` for URLs naming no jurisdiction): the rightful user gets the page (200) or
  is sent on after the action (302), a wrong role 403, a user outside the jurisdiction 404 (a role that may never
  use the URL, such as a school account on the evaluators' pages, gets 403 there too), a method the URL does not
  take 405; anonymous users are sent to the login page (API: 401). Outside the jurisdiction nothing in the
  database changes; inside, each request is rolled back afterwards, so every role meets the same data.
- Every URL of the project must appear in ``TARGETS`` or ``UNSCOPED``: a new URL cannot be forgotten.

Each app's tests may add to the matrix from a module ``tests/web/targets_<app>.py`` defining any of ``TARGETS``,
``UNSCOPED``, ``PUBLIC`` (names, URLs anyone may open; with ``PUBLIC_TARGETS`` for those taking arguments, checked
for "no server error" only), ``SNAPSHOT`` (a function returning what its app's requests could change) and the
status tables ``INSIDE``, ``OUTSIDE`` and ``UNSCOPED_STATUS`` of its URLs.

A status table row is "GET/POST" per role, in the order of its header comment; the requests carry no form data
(an action that needs a choice answers 302 back to its page with a message, or 400).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.accounts.models import PasswordReset, Role, User
from youjun.web.api.models import ApiToken
from youjun.web.audit.models import Transition
from youjun.web.collection.models import (
    CollectionYear,
    CountySubmission,
    SchoolRecord,
    ValueChange,
)
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit, School

pytestmark = pytest.mark.django_db

OWN = {"county": OWN_COUNTY, "prefecture": "340200", "province": "340000"}
OTHER = {"county": OTHER_COUNTY, "prefecture": "110100", "province": "110000"}
Side = dict[str, str]


def _record(side: Side) -> int:
    return (
        SchoolRecord.objects.filter(county__code=side["county"], year=YEAR)
        .order_by("pk")
        .values_list("pk", flat=True)[0]
    )


def _school_account(side: Side) -> int:
    return User.objects.filter(role=Role.SCHOOL, school__county__code=side["county"]).values_list("pk", flat=True)[0]


def _school(side: Side) -> int:
    return School.objects.filter(county__code=side["county"]).order_by("school_id").values_list("pk", flat=True)[0]


#: URL name → the keyword arguments that point it at a side's jurisdiction.
TARGETS: dict[str, Callable[[Side], dict[str, Any]]] = {
    "collection:record": lambda s: {"pk": _record(s)},
    "collection:record_move": lambda s: {"pk": _record(s)},
    "collection:record_upload": lambda s: {"pk": _record(s)},
    "collection:county": lambda s: {"code": s["county"], "year": YEAR},
    "collection:county_export": lambda s: {"code": s["county"], "year": YEAR},
    "collection:create_records": lambda s: {"code": s["county"], "year": YEAR},
    "collection:bulk_approve": lambda s: {"code": s["county"], "year": YEAR},
    "collection:submission": lambda s: {"code": s["county"], "year": YEAR},
    "collection:county_upload": lambda s: {"code": s["county"], "year": YEAR},
    "collection:upload_report": lambda s: {"code": s["county"], "year": YEAR},
    "collection:upload_report_file": lambda s: {"code": s["county"], "year": YEAR, "fmt": "csv"},
    "evaluation:county": lambda s: {"code": s["county"], "year": YEAR},
    "evaluation:unit": lambda s: {"code": s["province"], "year": YEAR},
    "organisation:registry": lambda s: {"code": s["county"]},
    "organisation:close": lambda s: {"code": s["county"], "pk": _school(s)},
    "api:county_evaluation": lambda s: {"code": s["county"], "year": YEAR},
    "api:unit_detail": lambda s: {"code": s["province"]},
    "api:monitoring": lambda s: {"code": s["province"]},
    "accounts:user_reset": lambda s: {"pk": _school_account(s)},
}
#: URLs that name no jurisdiction: each user gets their own (or a public page).
UNSCOPED = {
    "home": {},
    "accounts:login": {},
    "accounts:logout": {},
    "tokens": {},
    "accounts:password_change": {},
    "accounts:users": {},
    "collection:workspace": {},
    "collection:years": {},
    "collection:template": {},
    "evaluation:index": {},
    "evaluation:national": {"year": YEAR},
    "api:list_evaluations": {"year": YEAR},
    "api:openapi-json": {},
    "api:api-root": {},
}
PUBLIC = {"accounts:login", "api:openapi-json"}

#: Inside the own jurisdiction: ministry, province, prefecture, county, school, viewer ("GET/POST" each).
INSIDE: dict[str, str] = {
    "accounts:user_reset": "200/400 200/400 200/400 200/400 403/403 403/403",
    "api:county_evaluation": "200/405 200/405 200/405 200/405 404/405 200/405",
    "api:unit_detail": "200/405 200/405 404/405 404/405 404/405 200/405",  # the province: above a prefecture
    "api:monitoring": "200/405 200/405 404/405 404/405 404/405 200/405",
    "collection:bulk_approve": "405/403 405/403 405/403 405/302 405/404 405/403",
    "collection:county": "200/405 200/405 200/405 200/405 404/405 200/405",
    "collection:county_export": "200/405 200/405 200/405 200/405 404/405 200/405",
    "collection:county_upload": "405/403 405/403 405/403 405/302 405/404 405/403",
    "collection:create_records": "405/403 405/403 405/403 405/302 405/404 405/403",
    "collection:record": "200/403 200/403 200/403 200/302 200/302 200/403",
    "collection:record_move": "405/302 405/302 405/302 405/302 405/302 405/302",  # no action: back with a message
    "collection:record_upload": "405/403 405/403 405/403 405/302 405/302 405/403",
    "collection:submission": "405/302 405/302 405/302 405/302 405/404 405/302",  # no action: back with a message
    "collection:upload_report": "302/405 302/405 302/405 302/405 404/405 302/405",
    "collection:upload_report_file": "404/405 404/405 404/405 404/405 404/405 404/405",  # no upload report yet
    "evaluation:county": "200/200 200/200 200/200 200/200 403/403 200/200",
    "evaluation:unit": "200/200 200/200 404/404 404/404 403/403 200/200",
    "organisation:close": "405/403 405/403 405/403 405/302 405/404 405/403",
    "organisation:registry": "200/403 200/403 200/403 200/200 404/404 200/403",
}
#: Against the other jurisdiction: province, prefecture, county, school, viewer (the same roles of the other tree
#: against the own one answer the same).
OUTSIDE: dict[str, str] = {
    "accounts:user_reset": "404/404 404/404 404/404 403/403 403/403",
    "api:county_evaluation": "404/405 404/405 404/405 404/405 404/405",
    "api:unit_detail": "404/405 404/405 404/405 404/405 404/405",
    "api:monitoring": "404/405 404/405 404/405 404/405 404/405",
    "collection:bulk_approve": "405/404 405/404 405/404 405/404 405/404",
    "collection:county": "404/405 404/405 404/405 404/405 404/405",
    "collection:county_export": "404/405 404/405 404/405 404/405 404/405",
    "collection:county_upload": "405/404 405/404 405/404 405/404 405/404",
    "collection:create_records": "405/404 405/404 405/404 405/404 405/404",
    "collection:record": "404/404 404/404 404/404 404/404 404/404",
    "collection:record_move": "405/404 405/404 405/404 405/404 405/404",
    "collection:record_upload": "405/404 405/404 405/404 405/404 405/404",
    "collection:submission": "405/404 405/404 405/404 405/404 405/404",
    "collection:upload_report": "404/405 404/405 404/405 404/405 404/405",
    "collection:upload_report_file": "404/405 404/405 404/405 404/405 404/405",
    "evaluation:county": "404/404 404/404 404/404 403/403 404/404",
    "evaluation:unit": "404/404 404/404 404/404 403/403 404/404",
    "organisation:close": "405/404 405/404 405/404 405/404 405/404",
    "organisation:registry": "404/404 404/404 404/404 404/404 404/404",
}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous ("GET/POST" each).
UNSCOPED_STATUS: dict[str, str] = {
    "home": "200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200 302/302",
    "accounts:login": "200/400 200/400 200/400 200/400 200/400 200/400 200/400 200/400 200/400",
    "accounts:logout": "405/302 405/302 405/302 405/302 405/302 405/302 405/302 405/302 405/302",
    "tokens": "200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200 302/302",
    "accounts:password_change": "200/400 200/400 200/400 200/400 200/400 200/400 200/400 200/400 302/302",
    "accounts:users": "200/200 200/200 200/200 200/200 403/403 403/403 200/200 403/403 302/302",
    "collection:workspace": "200/405 200/405 200/405 200/405 200/405 200/405 200/405 200/405 302/302",
    "collection:years": "200/400 200/400 200/403 200/403 200/403 200/403 200/403 200/403 302/302",
    "collection:template": "200/405 200/405 200/405 200/405 200/405 200/405 200/405 200/405 302/302",
    "evaluation:index": "302/302 302/302 302/302 302/302 403/403 302/302 302/302 403/403 302/302",
    "evaluation:national": "200/200 403/403 403/403 403/403 403/403 403/403 403/403 403/403 302/302",
    "api:list_evaluations": "200/405 200/405 200/405 200/405 200/405 200/405 200/405 200/405 401/405",
    "api:openapi-json": "200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200",
    "api:api-root": "404/404 404/404 404/404 404/404 404/404 404/404 404/404 404/404 404/404",  # no page
}
#: Public URLs taking arguments (an anonymous respondent's survey link, a published list): no server error for anyone.
PUBLIC_TARGETS: dict[str, Callable[[], dict[str, Any]]] = {}
SNAPSHOTS: list[Callable[[], tuple[Any, ...]]] = []
for _module in sorted(Path(__file__).parent.glob("targets_*.py")):
    _extra = importlib.import_module(f"web.{_module.stem}")
    TARGETS |= getattr(_extra, "TARGETS", {})
    UNSCOPED |= getattr(_extra, "UNSCOPED", {})
    PUBLIC |= getattr(_extra, "PUBLIC", set())
    PUBLIC_TARGETS |= getattr(_extra, "PUBLIC_TARGETS", {})
    INSIDE |= getattr(_extra, "INSIDE", {})
    OUTSIDE |= getattr(_extra, "OUTSIDE", {})
    UNSCOPED_STATUS |= getattr(_extra, "UNSCOPED_STATUS", {})
    if hasattr(_extra, "SNAPSHOT"):
        SNAPSHOTS.append(_extra.SNAPSHOT)
ROLES = ["ministry", "province", "prefecture", "county", "school", "viewer"]
OUTSIDE_ROLES = ["province", "prefecture", "county", "school", "viewer"]
UNSCOPED_USERS = [*ROLES, "other_county", "other_school", None]  # None: anonymous


def statuses(row: str) -> list[str]:
    """A status-table row as its "GET/POST" cells."""
    return row.split()


def url_names() -> Iterator[str]:
    def walk(patterns: list[Any], namespace: str | None) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = (
                    p.namespace
                    if p.namespace and not namespace
                    else (f"{namespace}:{p.namespace}" if p.namespace else namespace)
                )
                yield from walk(p.url_patterns, inner)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}:{p.name}" if namespace else p.name

    yield from walk(get_resolver().url_patterns, None)


def snapshot() -> tuple[Any, ...]:
    """Everything a request could change: counts, versions and states."""
    return (
        SchoolRecord.objects.count(),
        SchoolRecord.objects.aggregate(v=Sum("version"))["v"],
        tuple(SchoolRecord.objects.order_by("pk").values_list("status", flat=True)),
        ValueChange.objects.count(),
        Transition.objects.count(),
        School.objects.count(),
        tuple(School.objects.order_by("pk").values_list("closed_year", flat=True)),
        CollectionYear.objects.count(),
        tuple(CountySubmission.objects.order_by("pk").values_list("status", flat=True)),
        CountyEvaluation.objects.count(),
        OrgUnit.objects.count(),
        User.objects.filter(must_change_password=True).count(),
        PasswordReset.objects.count(),
        *(part() for part in SNAPSHOTS),
    )


def _request(client: Client, method: str, url: str, api: bool, token: str | None) -> int:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if api and token else {}
    call = client.get if method == "GET" else client.post
    return call(url, **headers).status_code


def _isolated(client: Client, method: str, url: str, api: bool, token: str | None) -> int:
    """One request whose writes are rolled back afterwards, so the next role meets the same data."""
    with transaction.atomic():
        status = _request(client, method, url, api, token)
        transaction.set_rollback(True)
    return status


def test_every_url_is_in_the_matrix() -> None:
    names = set(url_names())
    forgotten = names - set(TARGETS) - set(UNSCOPED) - set(PUBLIC_TARGETS)
    assert not forgotten, f"add these URLs to the permission matrix: {sorted(forgotten)}"
    listed = set(TARGETS) | set(UNSCOPED) | set(PUBLIC_TARGETS)
    assert not listed - names, "the matrix names URLs that no longer exist"


def test_every_url_of_the_matrix_has_its_expected_statuses() -> None:
    assert set(INSIDE) == set(TARGETS), "INSIDE must give the statuses of exactly the TARGETS"
    assert set(OUTSIDE) == set(TARGETS), "OUTSIDE must give the statuses of exactly the TARGETS"
    assert set(UNSCOPED_STATUS) == set(UNSCOPED), "UNSCOPED_STATUS must give the statuses of exactly UNSCOPED"
    widths = [(INSIDE, len(ROLES)), (OUTSIDE, len(OUTSIDE_ROLES)), (UNSCOPED_STATUS, len(UNSCOPED_USERS))]
    for table, width in widths:
        for name, row in table.items():
            cells = statuses(row)
            assert len(cells) == width and all(len(c) == 7 and c[3] == "/" for c in cells), name


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_access_outside_the_jurisdiction(name: str, users: dict[str, User], evaluations: object) -> None:
    api = name.startswith("api:")
    tokens = {key: ApiToken.issue(user, "matrix")[1] for key, user in users.items()} if api else {}
    # Users of the own tree against the other tree, and users of the other tree against the own tree.
    cases = [(key, OTHER) for key in ROLES if key != "ministry"]
    cases += [(key, OWN) for key in users if key.startswith("other_")]
    before = snapshot()
    expected = dict(zip(OUTSIDE_ROLES, statuses(OUTSIDE[name]), strict=True))
    answered, wanted = [], []
    for key, side in cases:
        url = reverse(name, kwargs=TARGETS[name](side))
        client = Client()
        if not api:
            client.force_login(users[key])
        got = "/".join(str(_request(client, method, url, api, tokens.get(key))) for method in ("GET", "POST"))
        answered.append(f"{key} {got}")
        wanted.append(f"{key} {expected[key.removeprefix('other_')]}")
    assert answered == wanted, f"{name}: statuses outside the jurisdiction"
    anonymous = Client()
    url = reverse(name, kwargs=TARGETS[name](OWN))
    got = [_request(anonymous, method, url, api, None) for method in ("GET", "POST")]
    assert got == ([401, 405] if api else [302, 302]), f"anonymous {url} → {got}"
    assert snapshot() == before, f"{name}: a refused request changed data"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_each_role_gets_its_status_inside_the_jurisdiction(
    name: str, users: dict[str, User], evaluations: object
) -> None:
    api = name.startswith("api:")
    snapshot()  # the apps' target objects exist before the first request
    url = reverse(name, kwargs=TARGETS[name](OWN))
    answered = []
    for key in ROLES:
        token = ApiToken.issue(users[key], "matrix")[1] if api else None
        client = Client(raise_request_exception=False)
        if not api:
            client.force_login(users[key])
        answered.append("/".join(str(_isolated(client, method, url, api, token)) for method in ("GET", "POST")))
    assert dict(zip(ROLES, answered, strict=True)) == dict(zip(ROLES, statuses(INSIDE[name]), strict=True)), url


@pytest.mark.parametrize("name", sorted(UNSCOPED))
def test_unscoped_pages_answer_each_role_as_expected(name: str, users: dict[str, User], evaluations: object) -> None:
    snapshot()  # the apps' objects (a batch, a campaign) exist, as in the other tests of the matrix
    url = reverse(name, kwargs=UNSCOPED[name])
    api = name.startswith("api:")
    answered = []
    for key in UNSCOPED_USERS:
        client = Client(raise_request_exception=False)
        token = ApiToken.issue(users[key], "matrix")[1] if api and key else None
        if key and not api:
            client.force_login(users[key])
        answered.append("/".join(str(_isolated(client, method, url, api, token)) for method in ("GET", "POST")))
    labels = [key or "anonymous" for key in UNSCOPED_USERS]
    expected = statuses(UNSCOPED_STATUS[name])
    assert dict(zip(labels, answered, strict=True)) == dict(zip(labels, expected, strict=True)), url
    if name in PUBLIC:
        assert answered[-1].startswith("200/"), f"{url} is public"


@pytest.mark.parametrize("name", sorted(PUBLIC_TARGETS))
def test_public_pages_serve_everyone_without_error(name: str, users: dict[str, User], evaluations: object) -> None:
    url = reverse(name, kwargs=PUBLIC_TARGETS[name]())
    for key in [None, *ROLES]:
        client = Client(raise_request_exception=False)
        if key:
            client.force_login(users[key])
        assert client.get(url).status_code < 500, f"{key or 'anonymous'} GET {url}"


def test_a_user_sees_only_the_counties_of_its_jurisdiction_through_the_api(
    users: dict[str, User], evaluations: object
) -> None:
    token = ApiToken.issue(users["province"], "matrix")[1]
    response = Client().get(f"/api/evaluations/{YEAR}", HTTP_AUTHORIZATION=f"Bearer {token}")
    body = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)
    assert {c["county_code"] for c in body["counties"]} == {OWN_COUNTY}
    assert users["province"].role == Role.PROVINCE
