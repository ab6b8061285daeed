"""Annual monitoring on the web: a province's snapshot computed from the stored results of two years, its heat map,
warnings and movers, the county page with each indicator's series, the warnings on the to-do lists, "待更新" until
the snapshot follows a recompute (one queued job however many pages ask), and the jurisdiction of every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.accounts.models import User
from youjun.web.collection.models import SchoolRecord
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.pipeline import recompute
from youjun.web.monitoring import services
from youjun.web.monitoring.models import Snapshot, Warning
from youjun.web.organisation.models import OrgUnit
from youjun.web.todo.selectors.user import todos_for

pytestmark = pytest.mark.django_db
POORER = (
    "teachers_primary",
    "teachers_junior",
    "qualified_teachers_primary",
    "qualified_teachers_junior",
    "backbone_teachers_primary",
    "backbone_teachers_junior",
    "teaching_aux_area",
    "outdoor_sports_area",
    "indoor_sports_area",
    "equipment_value",
    "multimedia_rooms",
)


def two_years(code: str) -> OrgUnit:
    """The county's records of YEAR copied to YEAR − 1 as they are, then one school of YEAR left with a third of its
    teachers, rooms, ground and equipment; both years recomputed: a unit below standards it met the year before."""
    county = OrgUnit.objects.get(code=code)
    records = list(SchoolRecord.objects.filter(county=county, year=YEAR).order_by("school__school_id"))
    for r in records:
        SchoolRecord.objects.create(
            school=r.school,
            county=county,
            year=YEAR - 1,
            school_name=r.school_name,
            values={**r.values, "year": YEAR - 1},
            status=r.status,
        )
    poorer = records[0]
    poorer.values = {
        **poorer.values,
        **{k: poorer.values[k] / 3 for k in POORER if isinstance(poorer.values.get(k), int | float)},
    }
    poorer.save()
    recompute(county, YEAR - 1)
    recompute(county, YEAR)
    return county


@pytest.fixture
def monitored(db: None) -> OrgUnit:
    county = two_years(OWN_COUNTY)
    two_years(OTHER_COUNTY)
    return county


@pytest.fixture
def queue(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


def page(client: Client, user: User, url: str) -> Any:
    client.force_login(user)
    return client.get(url)


def test_a_province_sees_its_heat_map_warnings_and_movers(
    client: Client, users: dict[str, User], monitored: OrgUnit
) -> None:
    response = page(client, users["province"], "/monitoring/unit/340000/")
    assert response.status_code == 200
    html = response.content.decode()
    snapshot = Snapshot.objects.get(province__code="340000")
    assert snapshot.years == [YEAR - 1, YEAR] and snapshot.data["latest"] == YEAR
    row = re.search(rf'<tr data-county="{OWN_COUNTY}">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="cv (heat-[a-z]+)"', row.group(1))
    assert len(cells) == len(snapshot.data["columns"]) == 14
    stored = CountyEvaluation.objects.get(county=monitored, year=YEAR).result["resource_allocation"]["stages"]
    for col, cls in zip(snapshot.data["columns"], cells, strict=True):
        stage = stored.get(col["stage"]) or {}
        passed = (stage.get("cv_passed") or {}).get(col["indicator"])
        if (stage.get("cv") or {}).get(col["indicator"]) is None:
            assert cls == "heat-na"
        elif passed is False:
            assert cls == "heat-over"
        else:
            assert cls in ("heat-near", "heat-ok", "heat-good")
    found = Warning.objects.filter(county=monitored, year=YEAR)
    assert found.filter(rule="unit_first_below").exists()  # richer last year: units below a standard for the first time
    assert "预警事项" in html and found.first().message in html  # type: ignore[union-attr]
    assert OTHER_COUNTY not in html  # another province's county never appears
    assert "改善最多" in html or "退步最多" in html
    filtered = client.get("/monitoring/unit/340000/?level=警报").content.decode()
    alarms = Warning.objects.filter(county=monitored, year=YEAR, level="警报").exists()
    assert (f'data-county="{OWN_COUNTY}"' in filtered) == alarms


def test_the_county_page_shows_each_indicators_series_and_its_warnings(
    client: Client, users: dict[str, User], monitored: OrgUnit
) -> None:
    html = page(client, users["county"], f"/monitoring/county/{OWN_COUNTY}/").content.decode()
    assert f"{YEAR - 1}" in html and f"{YEAR}" in html and "<svg" in html
    stored = CountyEvaluation.objects.get(county=monitored, year=YEAR).result["resource_allocation"]["stages"]
    for w in Warning.objects.filter(county=monitored):
        assert w.message in html
    cv = next(v for s in stored.values() for v in (s.get("cv") or {}).values() if v is not None)
    assert f"{cv:.3f}"[:4] in html
    assert page(client, users["county"], f"/monitoring/county/{OTHER_COUNTY}/").status_code == 404


def test_warnings_go_onto_the_to_do_lists(users: dict[str, User], monitored: OrgUnit) -> None:
    snapshot = services.refresh(OrgUnit.objects.get(code="340000"))
    serious = Warning.objects.filter(snapshot=snapshot, county=monitored, year=YEAR, severity__gte=1)
    county_todos = [t for t in todos_for(users["county"]) if t.key == "monitoring"]
    if serious.exists():
        assert len(county_todos) == 1 and county_todos[0].count == serious.count()
        assert county_todos[0].url == f"/monitoring/county/{OWN_COUNTY}/"
    else:
        assert county_todos == []
    alarms = Warning.objects.filter(snapshot=snapshot, year=YEAR, severity=2)
    province_todos = [t for t in todos_for(users["province"]) if t.key == "monitoring-alarms"]
    assert len(province_todos) == int(alarms.exists())


def test_a_recompute_makes_the_snapshot_pending_until_the_worker_follows(
    client: Client, users: dict[str, User], monitored: OrgUnit, queue: None
) -> None:
    province = OrgUnit.objects.get(code="340000")
    services.refresh(province)
    before = Snapshot.objects.get(province=province).computed_at
    assert 'id="monitoring-stale"' not in page(client, users["province"], "/monitoring/unit/340000/").content.decode()
    record = SchoolRecord.objects.filter(county=monitored, year=YEAR).first()
    assert record is not None
    record.delete()
    recompute(monitored, YEAR)
    jobs = DBTaskResult.objects.filter(task_path="youjun.web.monitoring.services.refresh_job")
    for _ in range(3):  # pages asking again do not pile up jobs
        html = client.get("/monitoring/unit/340000/").content.decode()
        assert 'id="monitoring-stale"' in html and "监测结果待更新" in html
    assert jobs.filter(status="READY").count() == 1
    call_command("worker", "--batch", "--id", "test-monitoring")
    assert Snapshot.objects.get(province=province).computed_at > before
    assert 'id="monitoring-stale"' not in client.get("/monitoring/unit/340000/").content.decode()


def test_who_sees_which_monitoring_page(client: Client, users: dict[str, User], monitored: OrgUnit) -> None:
    expected = {
        ("ministry", "/monitoring/"): 200,
        ("ministry", "/monitoring/unit/340000/"): 200,
        ("province", "/monitoring/"): 302,
        ("province", "/monitoring/unit/110000/"): 404,
        ("prefecture", "/monitoring/unit/340200/"): 200,
        ("prefecture", "/monitoring/unit/340000/"): 404,
        ("county", "/monitoring/unit/340200/"): 404,
        ("school", f"/monitoring/county/{OWN_COUNTY}/"): 403,
        ("other_province", f"/monitoring/county/{OWN_COUNTY}/"): 404,
    }
    for (role, url), status in expected.items():
        assert page(client, users[role], url).status_code == status, (role, url)
    national = page(client, users["ministry"], "/monitoring/").content.decode()
    assert 'data-province="340000"' in national and 'data-province="110000"' in national


def test_the_monitoring_reports_are_downloaded_and_read_back(
    client: Client, users: dict[str, User], monitored: OrgUnit
) -> None:
    import io

    import docx
    import fastexcel

    from web.conftest import prepared_download

    province = OrgUnit.objects.get(code="340000")
    services.refresh(province)
    client.force_login(users["county"])
    response = client.get(f"/monitoring/county/{OWN_COUNTY}/report.docx")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert f"{monitored.national_name}{YEAR}年义务教育优质均衡年度监测报告" in text
    for w in Warning.objects.filter(county=monitored, year=YEAR):
        assert w.message in text
    annex = fastexcel.read_excel(client.get(f"/monitoring/county/{OWN_COUNTY}/report.xlsx").content)
    assert annex.sheet_names == ["指标序列", "预警事项", "地区汇总"]
    assert client.get(f"/monitoring/county/{OTHER_COUNTY}/report.docx").status_code == 404

    provincial = login_client(users["province"])
    report = prepared_download(provincial, "/monitoring/unit/340000/report.docx")
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(report.content)).paragraphs)
    assert f"安徽省{YEAR}年义务教育优质均衡年度监测报告" in body
    assert "预警县（区）" in body or "三、" in body


def login_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_teacher_rotation_of_the_county_inputs_is_watched(users: dict[str, User], monitored: OrgUnit) -> None:
    from youjun.web.assessment.models import CountyInputs

    CountyInputs.objects.update_or_create(
        county=monitored,
        year=YEAR,
        defaults={
            "values": {"rotation_eligible_teachers": 200, "rotated_teachers": 12, "rotated_backbone_teachers": 4}
        },
    )
    services.refresh(OrgUnit.objects.get(code="340000"))
    rotation = Warning.objects.filter(county=monitored, year=YEAR, rule="rotation")
    assert rotation.count() == 1  # 12 ÷ 200 = 6 % < 10 %; backbone 4 ÷ 12 = 33 % ≥ 20 %
    assert "12" in rotation.get().message and "200" in rotation.get().message
    assert not Warning.objects.filter(county__code=OTHER_COUNTY, rule="rotation").exists()


def test_the_api_gives_the_series_roll_ups_and_warnings_within_the_jurisdiction(
    client: Client, users: dict[str, User], monitored: OrgUnit
) -> None:
    from youjun.web.api.models import ApiToken

    def api(role: str, url: str) -> Any:
        token = ApiToken.issue(users[role], f"monitoring {role}")[1]
        return client.get(url, headers={"Authorization": f"Bearer {token}"})

    response = api("province", "/api/monitoring/340000")
    assert response.status_code == 200
    body = response.json()
    snapshot = Snapshot.objects.get(province__code="340000")
    assert body["years"] == [YEAR - 1, YEAR] and body["latest"] == YEAR and body["stale"] is False
    county = next(c for c in body["counties"] if c["code"] == OWN_COUNTY)
    stored = CountyEvaluation.objects.get(county=monitored, year=YEAR).result["resource_allocation"]["stages"]
    for stage, figures in stored.items():
        for code, cv in (figures.get("cv") or {}).items():
            assert county["cv"][f"{stage}-{code}"][str(YEAR)] == cv  # full precision, as stored
    assert county["passed"] == CountyEvaluation.objects.get(county=monitored, year=YEAR).passed
    warnings = Warning.objects.filter(county=monitored, year=YEAR)
    assert len([w for w in body["warnings"] if w["county_code"] == OWN_COUNTY]) == warnings.count() > 0
    levels = {(r["level"], r["region_code"]) for r in body["regions"]}
    assert ("province", "340000") in levels and ("prefecture", OWN_COUNTY[:4] + "00") in levels
    row = next(
        r
        for r in body["regions"]
        if r["level"] == "province" and r["year"] == YEAR and r["stage"] == "primary" and r["indicator"] == "R1"
    )
    assert row["counties"] == len([c for c in snapshot.data["counties"] if "primary-R1" in c["cells"]])
    earlier = api("province", f"/api/monitoring/340000?year={YEAR - 1}").json()["warnings"]
    assert all(w["year"] == YEAR - 1 for w in earlier)
    own = api("county", f"/api/monitoring/{OWN_COUNTY}").json()
    assert [c["code"] for c in own["counties"]] == [OWN_COUNTY] and own["regions"] == []
    prefecture = api("prefecture", f"/api/monitoring/{OWN_COUNTY[:4]}00").json()
    assert {r["region_code"] for r in prefecture["regions"]} == {OWN_COUNTY[:4] + "00"}
    nation = api("ministry", "/api/monitoring/000000").json()
    assert {r["region_code"] for r in nation["regions"]} == {"340000", "110000"}
    assert {r["level"] for r in nation["regions"]} == {"province"}
    assert api("other_county", f"/api/monitoring/{OWN_COUNTY}").status_code == 404
    assert api("other_province", "/api/monitoring/340000").status_code == 404
