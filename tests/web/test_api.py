"""The read-only JSON API: bearer tokens, scoping, the stored evaluation JSON, the OpenAPI schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.accounts.models import User
from youjun.web.api.models import ApiToken
from youjun.web.evaluation.models import CountyEvaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(users: dict[str, User]) -> dict[str, str]:
    return {role: ApiToken.issue(user, f"test {role}")[1] for role, user in users.items()}


def get(client: Client, url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(url, headers=headers)


def body(response: Any) -> Any:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(content)


def test_requests_without_a_valid_token_are_401(
    client: Client, tokens: dict[str, str], evaluations: dict[str, CountyEvaluation], users: dict[str, User]
) -> None:
    url = f"/api/counties/{OWN_COUNTY}/evaluations/{YEAR}"
    for headers in ({}, {"Authorization": "Bearer yj_wrong"}, {"Authorization": f"Token {tokens['county']}"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 401, headers
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "令牌" in response.json()["detail"]
    assert client.get(f"/api/evaluations/{YEAR}").status_code == 401
    assert client.get("/api/units/340000").status_code == 401
    users["county"].is_active = False
    users["county"].save()
    assert get(client, url, tokens["county"]).status_code == 401


def test_a_session_login_is_not_enough(
    client: Client, users: dict[str, User], evaluations: dict[str, CountyEvaluation]
) -> None:
    client.force_login(users["county"])
    assert client.get(f"/api/counties/{OWN_COUNTY}/evaluations/{YEAR}").status_code == 401


def test_county_evaluation_is_the_stored_result(
    client: Client, tokens: dict[str, str], evaluations: dict[str, CountyEvaluation]
) -> None:
    for role in ("county", "prefecture", "province", "ministry", "viewer"):
        response = get(client, f"/api/counties/{OWN_COUNTY}/evaluations/{YEAR}", tokens[role])
        assert response.status_code == 200, role
        assert response["Content-Type"] == "application/json"
        assert body(response) == evaluations[OWN_COUNTY].result


def test_token_use_is_recorded(client: Client, tokens: dict[str, str], evaluations: dict[str, Any]) -> None:
    token = ApiToken.objects.get(user__username="county-340207")
    assert token.last_used_at is None
    get(client, f"/api/counties/{OWN_COUNTY}/evaluations/{YEAR}", tokens["county"])
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "url",
    [
        f"/api/counties/{OTHER_COUNTY}/evaluations/{YEAR}",  # other jurisdiction
        f"/api/counties/349999/evaluations/{YEAR}",  # no such county
        f"/api/counties/{OWN_COUNTY}/evaluations/2019",  # no result that year
        f"/api/counties/340000/evaluations/{YEAR}",  # not a county
        f"/api/evaluations/{YEAR}?county={OTHER_COUNTY}",
        "/api/units/110000",
        "/api/units/000000",  # never upward
    ],
)
def test_anything_outside_the_jurisdiction_is_404(
    url: str, client: Client, tokens: dict[str, str], evaluations: dict[str, CountyEvaluation]
) -> None:
    response = get(client, url, tokens["province"])
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到，或不在当前令牌的辖区内"}


def test_school_tokens_see_no_evaluation(
    client: Client, tokens: dict[str, str], evaluations: dict[str, CountyEvaluation]
) -> None:
    assert get(client, f"/api/counties/{OWN_COUNTY}/evaluations/{YEAR}", tokens["school"]).status_code == 404
    assert body(get(client, f"/api/evaluations/{YEAR}", tokens["school"]))["counties"] == []


def test_evaluations_of_a_year_are_those_of_the_jurisdiction(
    client: Client, tokens: dict[str, str], evaluations: dict[str, CountyEvaluation]
) -> None:
    document = body(get(client, f"/api/evaluations/{YEAR}", tokens["province"]))
    assert document["schema_version"] == 1 and document["standard"] == "national-2017"
    assert document["counties"] == [evaluations[OWN_COUNTY].result]
    everything = body(get(client, f"/api/evaluations/{YEAR}", tokens["ministry"]))
    assert [c["county_code"] for c in everything["counties"]] == sorted([OWN_COUNTY, OTHER_COUNTY])
    assert everything["counties"][0] == evaluations[OTHER_COUNTY].result
    one = body(get(client, f"/api/evaluations/{YEAR}?county={OTHER_COUNTY}", tokens["ministry"]))
    assert one["counties"] == [evaluations[OTHER_COUNTY].result]
    assert body(get(client, "/api/evaluations/2019", tokens["ministry"]))["counties"] == []


def test_units_and_their_children(client: Client, tokens: dict[str, str]) -> None:
    province = get(client, "/api/units/340000", tokens["province"]).json()
    assert province["code"] == "340000" and province["name"] == "安徽省" and province["level"] == "province"
    assert province["parent"] is None  # the ministry is above the province's jurisdiction
    assert {"code": "340200", "name": "芜湖市", "level": "prefecture", "level_name": "地市级"} in province["children"]
    county = get(client, f"/api/units/{OWN_COUNTY}", tokens["prefecture"]).json()
    assert county["children"] == [] and county["parent"]["code"] == "340200"
    national = get(client, "/api/units/000000", tokens["ministry"]).json()
    assert national["level"] == "ministry" and len(national["children"]) == 32


def test_openapi_schema_describes_the_endpoints_in_chinese(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "优均数据接口"
    paths = schema["paths"]
    expected = {
        "/api/evaluations/{year}": "辖区内各县某年度的评估结果",
        "/api/counties/{code}/evaluations/{year}": "一个县某年度的评估结果",
        "/api/units/{code}": "一个行政单位及其下级单位",
        "/api/monitoring/{code}": "一个地区的年度监测序列与预警",
    }
    for path, summary in expected.items():
        assert paths[path]["get"]["summary"] == summary
        assert set(paths[path]["get"]["responses"]) >= {"200", "401", "404"}
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())
    assert client.get("/api/docs").status_code == 404  # the docs page would load assets from a CDN


def test_a_user_creates_a_token_sees_it_once_uses_it_and_revokes_it(users: dict[str, User], client: Client) -> None:
    import re

    from youjun.web.api.models import ApiToken, digest

    client.force_login(users["province"])
    page = client.post("/accounts/tokens/", {"name": "省级平台"}).content.decode()
    raw = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)  # type: ignore[union-attr]
    token = ApiToken.objects.get(user=users["province"])
    assert token.key_digest == digest(raw) and raw not in token.key_digest
    assert raw not in client.get("/accounts/tokens/").content.decode()  # shown once
    assert Client().get("/api/units/340000", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    client.post("/accounts/tokens/", {"action": "revoke", "token": token.pk})
    assert Client().get("/api/units/340000", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    other = ApiToken.issue(users["county"], "x")[0]
    client.post("/accounts/tokens/", {"action": "revoke", "token": other.pk})  # not its own: untouched
    assert ApiToken.objects.filter(pk=other.pk).exists()


def test_openapi_schema_describes_responses_in_chinese(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    labels = {r["description"] for p in schema["paths"].values() for o in p.values() for r in o["responses"].values()}
    assert labels and not labels & {"OK", "Unauthorized", "Not Found"}


def test_a_kept_document_is_served_again_but_never_once_stale(
    client: Client, tokens: dict[str, str], evaluations: dict[str, CountyEvaluation]
) -> None:
    from youjun.web.api import documents
    from youjun.web.collection.models import SchoolRecord
    from youjun.web.evaluation.pipeline import recompute

    documents.clear()
    url = f"/api/evaluations/{YEAR}"
    first = get(client, url, tokens["province"])
    assert first.streaming  # read from the database
    content = body(first)
    again = get(client, url, tokens["province"])
    assert not again.streaming and body(again) == content and again["ETag"] == first["ETag"]  # kept
    unchanged = client.get(
        url, headers={"Authorization": f"Bearer {tokens['province']}", "If-None-Match": first["ETag"]}
    )
    assert unchanged.status_code == 304 and not unchanged.content
    other = body(get(client, url, tokens["other_province"]))  # another jurisdiction never gets the kept one
    assert [c["county_code"] for c in other["counties"]] == [OTHER_COUNTY]
    assert [c["county_code"] for c in content["counties"]] == [OWN_COUNTY]

    county = evaluations[OWN_COUNTY].county
    SchoolRecord.objects.filter(county=county, year=YEAR).order_by("pk").first().delete()  # type: ignore[union-attr]
    recompute(county, YEAR)
    after = get(client, url, tokens["province"])
    assert after.streaming and after["ETag"] != first["ETag"]
    fresh = body(after)
    assert fresh["counties"][0] == CountyEvaluation.objects.get(county=county, year=YEAR).result
    assert fresh != content
    stale = client.get(url, headers={"Authorization": f"Bearer {tokens['province']}", "If-None-Match": first["ETag"]})
    assert stale.status_code == 200
