"""Rule sets per province (issue 11): the ministry assigns a shipped or uploaded rule set to a province from a year;
that province's counties are evaluated under it — on the page, in the API — and every other county under the
national default; results under the old rules say 「结果待更新」 until recomputed."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from docx import Document

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.accounts.models import User
from youjun.web.api.models import ApiToken
from youjun.web.assessment import services as assessment
from youjun.web.audit.models import Transition
from youjun.web.evaluation import pipeline
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit
from youjun.web.rulesets.models import RuleSetAssignment

pytestmark = pytest.mark.django_db
PAGE = "/rulesets/"


def _client(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _api(user: User, url: str) -> Any:
    raw = ApiToken.issue(user, "测试")[1]
    response = Client().get(url, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200, response.status_code
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(content)


def _g7(county: OrgUnit) -> dict[str, Any]:
    result = CountyEvaluation.objects.get(county=county, year=YEAR).result
    return next(i for i in result["government_guarantee"]["items"] if i["code"] == "G7")


def test_a_province_assigned_its_own_rules_is_evaluated_under_them(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit, other_county: OrgUnit
) -> None:
    # 7,000 元 meets the national 6,000 but not the example province's 8,000.
    for who, county in (("county", own_county), ("other_county", other_county)):
        assessment.save_inputs(users[who], county, YEAR, {"special_ed_funds_per_student": 7000}, 1)
    assert _g7(own_county)["status"] == "met"
    ministry = _client(users["ministry"])
    response = ministry.post(
        PAGE, {"province": "340000", "from_year": str(YEAR), "ruleset": "example-province-2017", "reason": "省细则"}
    )
    assert response.status_code == 302
    assignment = RuleSetAssignment.objects.get(province__code="340000")
    assert (assignment.ref, assignment.from_year) == ("example-province-2017", YEAR)
    assert Transition.objects.filter(kind="ruleset", object_id=assignment.pk, actor=users["ministry"]).exists()
    # Until recomputed, the stored result is under the old rules and says so.
    stale = pipeline.staleness(CountyEvaluation.objects.get(county=own_county, year=YEAR), own_county, YEAR)
    assert stale["reasons"] == [
        "本省已改用「示例省县域义务教育优质均衡发展督导评估实施细则（示例）」，评估结果尚未按该规则集重新计算"
    ]
    page = _client(users["county"]).get(f"/assessment/county/{OWN_COUNTY}/{YEAR}/").content.decode()
    assert "结果待更新" in page

    call_command("recompute", province="34", year=YEAR)
    stored = CountyEvaluation.objects.get(county=own_county, year=YEAR)
    assert stored.standard == "example-province-2017"
    assert stored.result["standard_name"] == "示例省县域义务教育优质均衡发展督导评估实施细则（示例）"
    assert (_g7(own_county)["status"], _g7(own_county)["threshold"]) == ("not_met", 8000)
    assert not pipeline.staleness(stored, own_county, YEAR)["stale"]
    # Another province keeps the national rules.
    assert CountyEvaluation.objects.get(county=other_county, year=YEAR).standard == "national-2017"
    assert _g7(other_county)["status"] == "met"

    page = _client(users["county"]).get(f"/assessment/county/{OWN_COUNTY}/{YEAR}/").content.decode()
    assert "示例省县域义务教育优质均衡发展督导评估实施细则（示例）" in page and "结果待更新" not in page
    report = _client(users["county"]).get(f"/assessment/county/{OWN_COUNTY}/{YEAR}/self-evaluation.docx")
    document = Document(io.BytesIO(report.content))
    text = "\n".join(
        [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]
    )
    assert "示例省县域义务教育优质均衡发展督导评估实施细则（示例）" in text
    assert "8,000 元" in text  # G7 judged under the province's 8,000
    body = _api(users["province"], f"/api/counties/{OWN_COUNTY}/evaluations/{YEAR}")
    assert body["standard"] == "example-province-2017"
    listing = _api(users["ministry"], f"/api/evaluations/{YEAR}")
    assert listing["standard"] == "national-2017"  # provinces differ: the envelope names the default
    by_code = {c["county_code"]: c["standard"] for c in listing["counties"]}
    assert by_code[OWN_COUNTY] == "example-province-2017" and by_code[OTHER_COUNTY] == "national-2017"


def test_an_uploaded_rule_set_is_validated_kept_and_used(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit
) -> None:
    text = (
        'id = "anhui-2024"\nextends = "national-2017"\nname = "安徽省细则（测试）"\n'
        "[guarantee.G7]\nmin_funds_per_student = 9000\n"
    )
    upload = SimpleUploadedFile("安徽.toml", text.encode(), content_type="text/plain")
    ministry = _client(users["ministry"])
    assert ministry.post(PAGE, {"province": "340000", "from_year": str(YEAR), "file": upload}).status_code == 302
    assignment = RuleSetAssignment.objects.get(province__code="340000")
    assert assignment.ref.startswith("upload:") and assignment.name == "安徽省细则（测试）"
    assessment.save_inputs(users["county"], own_county, YEAR, {"special_ed_funds_per_student": 8500}, 1)
    stored = CountyEvaluation.objects.get(county=own_county, year=YEAR)
    assert stored.standard == assignment.ref and _g7(own_county)["threshold"] == 9000

    broken = SimpleUploadedFile("坏.toml", b'id = "x"\nextends = "national-2017"\n[precision]\ncompare = "roundd"\n')
    response = ministry.post(PAGE, {"province": "110000", "from_year": str(YEAR), "file": broken}, follow=True)
    assert "precision.compare" in response.content.decode()
    assert not RuleSetAssignment.objects.filter(province__code="110000").exists()


@pytest.mark.parametrize("who", ["province", "county"])
def test_only_the_ministry_assigns_rule_sets(users: dict[str, User], who: str) -> None:
    response = _client(users[who]).post(
        PAGE, {"province": "340000", "from_year": str(YEAR), "ruleset": "national-2017"}
    )
    assert response.status_code == 403
    assert not RuleSetAssignment.objects.exists()


def test_an_assignment_applies_from_its_year_on(users: dict[str, User], own_county: OrgUnit) -> None:
    from youjun.web.rulesets import services

    services.assign(users["ministry"], OrgUnit.objects.get(code="340000"), YEAR + 1, ruleset="example-province-2017")
    assert services.ref_for(own_county, YEAR) == "national-2017"
    assert services.ref_for(own_county, YEAR + 1) == "example-province-2017"
    assert services.ref_for(own_county, YEAR + 5) == "example-province-2017"
