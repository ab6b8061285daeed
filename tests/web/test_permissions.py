"""Permission matrix, generated from the URL configuration: every URL × every role × own / other jurisdiction.

- A target outside the user's jurisdiction answers 403 or 404 (anonymous users: the login page; the API: 401)
  for GET and POST, and nothing in the database changes.
- Inside the jurisdiction no request ends in a server error.
- Every URL of the project must appear in ``TARGETS`` or ``UNSCOPED``: a new URL cannot be forgotten.

Each app's tests may add to the matrix from a module ``tests/web/targets_<app>.py`` defining any of ``TARGETS``,
``UNSCOPED``, ``PUBLIC`` (names, URLs anyone may open; with ``PUBLIC_TARGETS`` for those taking arguments, checked
for "no server error" only) and ``SNAPSHOT`` (a function returning what its app's requests could change).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.accounts.models import PasswordReset, Role, User
from youjun.web.api.models import ApiToken
from youjun.web.collection.models import (
    CollectionYear,
    CountySubmission,
    SchoolRecord,
    Transition,
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
    "accounts:user_reset": lambda s: {"pk": _school_account(s)},
}
#: URLs that name no jurisdiction: each user gets their own (or a public page). Only "no server error" is checked,
#: plus that anonymous users are sent to the login page (API: 401).
UNSCOPED = {
    "home": {},
    "accounts:login": {},
    "accounts:logout": {},
    "accounts:tokens": {},
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
#: Public URLs taking arguments (an anonymous respondent's survey link, a published list): no server error for anyone.
PUBLIC_TARGETS: dict[str, Callable[[], dict[str, Any]]] = {}
SNAPSHOTS: list[Callable[[], tuple[Any, ...]]] = []
for _module in sorted(Path(__file__).parent.glob("targets_*.py")):
    _extra = importlib.import_module(f"web.{_module.stem}")
    TARGETS |= getattr(_extra, "TARGETS", {})
    UNSCOPED |= getattr(_extra, "UNSCOPED", {})
    PUBLIC |= getattr(_extra, "PUBLIC", set())
    PUBLIC_TARGETS |= getattr(_extra, "PUBLIC_TARGETS", {})
    if hasattr(_extra, "SNAPSHOT"):
        SNAPSHOTS.append(_extra.SNAPSHOT)
ROLES = ["ministry", "province", "prefecture", "county", "school", "viewer"]


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


def test_every_url_is_in_the_matrix() -> None:
    names = set(url_names())
    forgotten = names - set(TARGETS) - set(UNSCOPED) - set(PUBLIC_TARGETS)
    assert not forgotten, f"add these URLs to the permission matrix: {sorted(forgotten)}"
    listed = set(TARGETS) | set(UNSCOPED) | set(PUBLIC_TARGETS)
    assert not listed - names, "the matrix names URLs that no longer exist"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_access_outside_the_jurisdiction(name: str, users: dict[str, User], evaluations: object) -> None:
    api = name.startswith("api:")
    tokens = {key: ApiToken.issue(user, "matrix")[1] for key, user in users.items()} if api else {}
    # Users of the own tree against the other tree, and users of the other tree against the own tree.
    cases = [(key, OTHER) for key in ROLES if key != "ministry"]
    cases += [(key, OWN) for key in users if key.startswith("other_")]
    before = snapshot()
    for key, side in cases:
        url = reverse(name, kwargs=TARGETS[name](side))
        client = Client()
        if not api:
            client.force_login(users[key])
        for method in ("GET", "POST"):
            status = _request(client, method, url, api, tokens.get(key))
            assert status in (403, 404, 405), f"{key} {method} {url} → {status}"
    anonymous = Client()
    for method in ("GET", "POST"):
        url = reverse(name, kwargs=TARGETS[name](OWN))
        status = _request(anonymous, method, url, api, None)
        if api:
            assert status in (401, 405), f"anonymous {method} {url} → {status}"
        else:
            assert status in (302, 403, 405), f"anonymous {method} {url} → {status}"
    assert snapshot() == before, f"{name}: a refused request changed data"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_server_error_inside_the_jurisdiction(name: str, users: dict[str, User], evaluations: object) -> None:
    api = name.startswith("api:")
    for key in ROLES:
        token = ApiToken.issue(users[key], "matrix")[1] if api else None
        client = Client(raise_request_exception=False)
        if not api:
            client.force_login(users[key])
        url = reverse(name, kwargs=TARGETS[name](OWN))
        for method in ("GET", "POST"):
            status = _request(client, method, url, api, token)
            assert status < 500, f"{key} {method} {url} → {status}"


@pytest.mark.parametrize("name", sorted(UNSCOPED))
def test_unscoped_pages_serve_every_role_without_error(name: str, users: dict[str, User], evaluations: object) -> None:
    url = reverse(name, kwargs=UNSCOPED[name])
    api = name.startswith("api:")
    for key in [*ROLES, "other_county", "other_school"]:
        client = Client(raise_request_exception=False)
        token = ApiToken.issue(users[key], "matrix")[1] if api else None
        if not api:
            client.force_login(users[key])
        assert _request(client, "GET", url, api, token) < 500, f"{key} GET {url}"
    anonymous = Client(raise_request_exception=False).get(url).status_code
    if name in PUBLIC:
        assert anonymous == 200
    elif api:
        assert anonymous in (401, 404), f"anonymous GET {url} → {anonymous}"  # the bare API root has no page
    else:
        assert anonymous in (302, 405), f"anonymous GET {url} → {anonymous}"


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
