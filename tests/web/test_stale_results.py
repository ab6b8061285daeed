"""Stored results are never silently stale (issue 10): every change that can alter a result recomputes it, each
result carries its stamps, a result behind its data says "结果待更新", a failed recompute never turns the write into
an error, and a later year's rename never rewrites an earlier year."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction
from django.test import Client

from web.conftest import OWN_COUNTY, YEAR
from youjun.engine import ENGINE_VERSION
from youjun.standards import load_rule_set
from youjun.web.accounts.models import Role, User
from youjun.web.assessment import services as assessment
from youjun.web.collection import services as collection
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.collection.selectors import approved_frame
from youjun.web.evaluation import pipeline as services
from youjun.web.evaluation.models import CountyEvaluation, EvaluationState
from youjun.web.organisation.models import Level, OrgUnit, School

PAGE = f"/assessment/county/{OWN_COUNTY}/{YEAR}/"


def _stored(county: OrgUnit) -> CountyEvaluation:
    return CountyEvaluation.objects.get(county=county, year=YEAR)


def _client(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _item(result: dict[str, Any], part: str, code: str) -> dict[str, Any]:
    return next(i for i in result[part]["items"] if i["code"] == code)


@pytest.mark.django_db
def test_results_carry_their_stamps(evaluations: dict[str, CountyEvaluation], own_county: OrgUnit) -> None:
    stored = _stored(own_county)
    state = EvaluationState.objects.get(county=own_county, year=YEAR)
    assert stored.engine_version == ENGINE_VERSION
    assert stored.ruleset_digest == load_rule_set("national-2017").digest and len(stored.ruleset_digest) == 64
    assert stored.generation == state.generation
    assert services.staleness(stored, own_county, YEAR)["stale"] is False


@pytest.mark.django_db
def test_unlocking_an_approved_record_recomputes(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit
) -> None:
    record = SchoolRecord.objects.filter(county=own_county, year=YEAR).order_by("school__school_id").first()
    assert record is not None
    before = {u["school_id"] for u in _stored(own_county).result["resource_allocation"]["units"]}
    assert record.school.school_id in before
    response = _client(users["county"]).post(
        f"/collection/record/{record.pk}/move/", {"action": "unlock", "reason": "数据有误，解锁修改"}
    )
    assert response.status_code == 302
    assert SchoolRecord.objects.get(pk=record.pk).status == RecordStatus.RETURNED
    after = {u["school_id"] for u in _stored(own_county).result["resource_allocation"]["units"]}
    assert record.school.school_id not in after  # the unlocked school left the evaluated data


@pytest.mark.django_db
def test_bulk_approval_recomputes_once_with_every_school(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit, monkeypatch: Any
) -> None:
    records = list(SchoolRecord.objects.filter(county=own_county, year=YEAR).order_by("school__school_id")[:3])
    SchoolRecord.objects.filter(pk__in=[r.pk for r in records]).update(status=RecordStatus.SUBMITTED)
    services.recompute(own_county, YEAR)
    assert len(_stored(own_county).result["resource_allocation"]["units"]) < len(approved_frame(own_county, YEAR)) + 3
    calls: list[int] = []
    real = services.recompute_safely
    monkeypatch.setattr(services, "recompute_safely", lambda c, y: calls.append(y) or real(c, y))
    fresh = [SchoolRecord.objects.get(pk=r.pk) for r in records]
    assert collection.approve_records(users["county"], own_county, YEAR, fresh) == 3
    assert calls == [YEAR]
    ids = {u["school_id"] for u in _stored(own_county).result["resource_allocation"]["units"]}
    assert {r.school.school_id for r in records} <= ids


@pytest.mark.django_db
def test_county_inputs_verdicts_and_findings_each_recompute(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit
) -> None:
    inputs = assessment.inputs_of(own_county, YEAR)
    assessment.save_inputs(
        users["county"], own_county, YEAR, {"special_ed_funds_per_student": 5000}, 1 if not inputs else inputs.version
    )
    assert _item(_stored(own_county).result, "government_guarantee", "G7")["status"] == "not_met"
    assessment.save_inputs(
        users["county"],
        own_county,
        YEAR,
        {"special_ed_funds_per_student": 7000},
        assessment.inputs_of(own_county, YEAR).version,
    )
    assert _item(_stored(own_county).result, "government_guarantee", "G7")["status"] == "met"
    assessment.add_review(users["province"], own_county, YEAR, "G10", "达标")
    assert _item(_stored(own_county).result, "government_guarantee", "G10")["status"] == "met"
    assessment.add_finding(users["province"], own_county, YEAR, "V3", "存在", "督导检查", "设重点班")
    veto = _item(_stored(own_county).result, "vetoes", "V3")
    assert (veto["status"], veto["vetoed"]) == ("not_met", True)


@pytest.mark.django_db
def test_the_recompute_runs_after_the_commit(
    users: dict[str, User],
    evaluations: dict[str, CountyEvaluation],
    own_county: OrgUnit,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(services, "after_commit", transaction.on_commit)
    before = _stored(own_county).generation
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assessment.save_inputs(users["county"], own_county, YEAR, {"special_ed_funds_per_student": 4000}, 1)
    # Stale at once, in the transaction that changed the data; the recompute waits for the commit.
    state = EvaluationState.objects.get(county=own_county, year=YEAR)
    assert state.generation == before + 1 and _stored(own_county).generation == before
    assert services.staleness(_stored(own_county), own_county, YEAR)["reasons"] == [
        "数据已有变化，评估结果尚未按最新数据重新计算"
    ]
    assert len(callbacks) == 1
    callbacks[0]()
    assert _stored(own_county).generation == before + 1
    assert _item(_stored(own_county).result, "government_guarantee", "G7")["status"] == "not_met"


@pytest.mark.django_db
def test_a_failed_recompute_keeps_the_data_and_says_so(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("模拟的计算故障")

    monkeypatch.setattr(services, "assess", broken)
    client = _client(users["county"])
    response = client.post(
        f"{PAGE}inputs/",
        {"special_ed_funds_per_student": "6500", "version": "1", "reason": "补充"},
    )
    assert response.status_code == 302  # the save stands and the page follows: never a 500 after the data was written
    inputs = assessment.inputs_of(own_county, YEAR)
    assert inputs is not None and inputs.values["special_ed_funds_per_student"] == 6500
    state = EvaluationState.objects.get(county=own_county, year=YEAR)
    assert state.failed_at is not None and "模拟的计算故障" in state.error
    page = client.get(PAGE).content.decode()
    assert "结果待更新" in page and "最近一次重新计算失败" in page and "模拟的计算故障" in page
    monkeypatch.undo()
    services.recompute(own_county, YEAR)
    assert "结果待更新" not in client.get(PAGE).content.decode()


@pytest.mark.django_db
def test_a_result_of_another_engine_or_rule_set_is_marked(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit
) -> None:
    CountyEvaluation.objects.filter(pk=_stored(own_county).pk).update(engine_version="2020.1")
    page = _client(users["county"]).get(PAGE).content.decode()
    assert "结果待更新" in page and "计算程序已升级" in page
    CountyEvaluation.objects.filter(pk=_stored(own_county).pk).update(
        engine_version=ENGINE_VERSION, ruleset_digest="0" * 64
    )
    reasons = services.staleness(_stored(own_county), own_county, YEAR)["reasons"]
    assert reasons == ["规则集已修改，评估结果尚未按新规则重新计算"]
    resources = _client(users["county"]).get(f"/evaluation/county/{OWN_COUNTY}/{YEAR}/").content.decode()
    assert "结果待更新" in resources


@pytest.mark.django_db
def test_a_later_rename_never_rewrites_an_earlier_year(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], own_county: OrgUnit
) -> None:
    record = SchoolRecord.objects.filter(county=own_county, year=YEAR).order_by("school__school_id").first()
    assert record is not None
    old_name = record.name
    school = record.school
    # The next year's data name the school differently; the registry follows the latest year.
    School.objects.filter(pk=school.pk).update(name="更名后的学校")
    SchoolRecord.objects.create(school=school, county=own_county, year=YEAR + 1, school_name="更名后的学校")
    services.recompute(own_county, YEAR)
    names = {u["school_id"]: u["school_name"] for u in _stored(own_county).result["resource_allocation"]["units"]}
    assert names[school.school_id] == old_name
    assert approved_frame(own_county, YEAR).filter(school_id=school.school_id)["school_name"].to_list() == [old_name]
    export = _client(users["county"]).get(f"/collection/county/{OWN_COUNTY}/{YEAR}/export.xlsx")
    import fastexcel

    content = b"".join(export.streaming_content) if export.streaming else export.content
    sheet = fastexcel.read_excel(content).load_sheet(0).to_polars()
    assert old_name in sheet["学校名称"].to_list() and "更名后的学校" not in sheet["学校名称"].to_list()


# ---------------------------------------------------------------------------------------------------------------
# Two recomputes at once: the later one reads the later data and its result is the one stored


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="needs concurrent sessions (PostgreSQL)")
def test_concurrent_recomputes_store_the_newest_data(monkeypatch: Any) -> None:
    province = OrgUnit.objects.create(code="980000", name="并发省", level=Level.PROVINCE)
    county = OrgUnit.objects.create(code="980101", name="并发县", level=Level.COUNTY, parent=province)
    clerk = User.objects.create(username="clerk", role=Role.COUNTY, org_unit=county)
    assessment.save_inputs(clerk, county, YEAR, {"special_ed_funds_per_student": 5000}, 1)
    first_read, release = threading.Event(), threading.Event()
    real_frame = services.approved_frame

    def slow_frame(c: OrgUnit, y: int) -> Any:
        frame = real_frame(c, y)
        if threading.current_thread().name == "first":
            first_read.set()
            release.wait(20)  # holds the county-year's lock while the second recompute waits for it
        return frame

    monkeypatch.setattr(services, "approved_frame", slow_frame)
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            services.recompute(county, YEAR)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert first_read.wait(20)
    # Meanwhile the inputs change (their own transaction commits) and a second recompute starts.
    inputs = assessment.inputs_of(county, YEAR)
    monkeypatch.setattr(services, "after_commit", lambda callback: None)
    assessment.save_inputs(clerk, county, YEAR, {"special_ed_funds_per_student": 9000}, inputs.version)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    release.set()
    first.join(30)
    second.join(30)
    assert not errors
    stored = CountyEvaluation.objects.get(county=county, year=YEAR)
    state = EvaluationState.objects.get(county=county, year=YEAR)
    assert stored.generation == state.generation
    assert _item(stored.result, "government_guarantee", "G7")["value"] == 9000
