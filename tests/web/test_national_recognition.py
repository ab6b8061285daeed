"""The national recognition and its re-checks (issue 16): each shipped procedure file drives the same code through
its own steps; the snapshot frozen at application never moves; every step's needs are checked; findings are
rectified and verified by the level that raised them; the list is published with its document number; experts see
only the cases assigned to them."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path
from typing import Any

import fastexcel
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from docx import Document

from web import recognition_flow as flow
from web.conftest import OWN_COUNTY, YEAR, make_user
from youjun.errors import YoujunError
from youjun.standards import procedures
from youjun.web.accounts.models import Role, User
from youjun.web.audit.models import Transition
from youjun.web.collection.models import SchoolRecord
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import OrgUnit
from youjun.web.organisation.status import status_of
from youjun.web.recognition import selectors, services
from youjun.web.recognition.models import Case, CaseState, FileKind, Finding, FindingStatus, Round

pytestmark = pytest.mark.django_db


@pytest.fixture
def actors(users: dict[str, User], evaluations: Any) -> dict[str, User]:
    """The five actors of the procedures for the own county (its stored result passes resource allocation)."""
    county = OrgUnit.objects.get(code=OWN_COUNTY)
    CountyEvaluation.objects.filter(county=county).update(passed=True)
    flow.eligible(county)
    expert, _ = services.create_expert(users["ministry"], "expert-a", "王专家")
    User.objects.filter(pk=expert.pk).update(must_change_password=False)  # as after the first login
    expert.refresh_from_db()
    return {**users, "expert": expert}


def _round(actors: dict[str, User], year: int = 2024, kind: str = "recognition") -> Round:
    return services.open_round(actors["ministry"], kind, year)


def _case(actors: dict[str, User], r: Round) -> Case:
    case = services.start_case(actors["county"], r, OrgUnit.objects.get(code=OWN_COUNTY))
    services.assign(actors["ministry"], case, actors["expert"].pk)
    return case


def _refused(call: Any, status: int = 400) -> str:
    with pytest.raises(YoujunError) as caught:
        call()
    from youjun.web.shortcuts import status_of as status_code

    assert status_code(caught.value) == status, caught.value.problems[0].message
    return caught.value.problems[0].message


# ----------------------------------------------------------------------------------------------------
# Each procedure file drives the same code through its own steps


@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_each_procedure_file_drives_its_own_steps(actors: dict[str, User], year: int) -> None:
    r = _round(actors, year)
    procedure = procedures.load_procedure(f"recognition-{year}")
    assert r.procedure == procedure.id
    case = _case(actors, r)
    taken, client = [], Client()
    while case.state == CaseState.OPEN:  # each step's page renders for its actor, with its form, then it is taken
        step = services.current_step(case)
        assert step is not None
        client.force_login(actors[step.actor])
        page = client.get(reverse("recognition:case", args=[case.pk])).content.decode()
        assert 'id="outcome-form"' in page and f'id="current-step">{step.name}<' in page
        taken.append(flow.take_step(case, actors))
    client.force_login(actors["county"])
    assert "已认定" in client.get(reverse("recognition:case", args=[case.pk])).content.decode()
    assert taken == [s.key for s in procedure.steps]  # 340207 lies under a prefecture: no step is skipped
    assert case.state == CaseState.RECOGNISED
    names = {s.name for s in procedure.steps}
    assert ("核查评估" in names) == (year == 2024)
    assert ("实地核查" in names) == (year == 2023)
    assert ("集中汇审" in names) == (year == 2025)
    assert ("资格审查" in names) == (year >= 2024)
    # every step's outcome is one record and one audit row
    assert [x.step for x in case.records.all()] == taken
    moves = Transition.objects.filter(kind="recognition_case", object_id=case.pk, action__contains=":")
    assert {m.action.split(":")[0] for m in moves} >= set(taken)


def test_a_county_directly_under_its_province_skips_the_prefecture(actors: dict[str, User]) -> None:
    province_unit = OrgUnit.objects.get(code="340000")
    county = OrgUnit.objects.create(code="349001", name="直管县", level="county", parent=province_unit,
                                    province_name=province_unit.name)  # fmt: skip
    r = _round(actors)
    user = make_user(Role.COUNTY, county.code)
    flow.eligible(county)
    province = make_user(Role.PROVINCE, county.code[:2] + "0000", name="p-direct")
    case = services.start_case(user, r, county)
    CountyEvaluation.objects.filter(county__code=OWN_COUNTY).update(county=county)  # the own result, lent to it
    services.add_file(user, case, FileKind.EVIDENCE, flow.pdf(), "佐证.pdf")
    services.act(user, case, "submitted", "", case.version, {})
    case.refresh_from_db()
    assert case.step == "province_evaluation" and province.role == Role.PROVINCE


# ----------------------------------------------------------------------------------------------------
# The snapshot


def test_the_snapshot_does_not_change_when_the_county_edits_its_data(actors: dict[str, User]) -> None:
    r = _round(actors)
    case = _case(actors, r)
    flow.drive(case, actors, until="prefecture_review")
    snap = case.snapshots.get()
    before = (snap.sha256, snap.data, [(f.kind, f.sha256) for f in snap.files.all()])
    assert {f.kind for f in snap.files.all()} == {FileKind.REPORT, FileKind.FORM_DOCX, FileKind.FORM_XLSX}
    assert len(snap.data["schools"]) == SchoolRecord.objects.filter(county__code=OWN_COUNTY, year=YEAR).count()
    # the county edits a school and the result is recomputed
    record = SchoolRecord.objects.filter(county__code=OWN_COUNTY, year=YEAR).order_by("pk").first()
    assert record is not None
    record.values = {**record.values, "students_primary": (record.values.get("students_primary") or 0) + 500}
    record.save()
    recompute(case.county, YEAR)
    snap.refresh_from_db()
    assert (snap.sha256, snap.data, [(f.kind, f.sha256) for f in snap.files.all()]) == before
    import hashlib
    import json

    canonical = json.dumps(snap.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    assert hashlib.sha256(canonical.encode()).hexdigest() == snap.sha256
    # the stored report kept with the application opens and names the county
    report = snap.files.get(kind=FileKind.REPORT)
    client = Client()
    client.force_login(actors["ministry"])
    body = b"".join(client.get(reverse("recognition:file", args=[report.pk])).streaming_content)
    assert "鸠江区" in "\n".join(p.text for p in Document(io.BytesIO(body)).paragraphs)


def test_a_return_to_the_county_freezes_a_new_snapshot_and_keeps_the_old(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="prefecture_review")
    message = _refused(lambda: services.act(actors["prefecture"], case, "returned", "", case.version, {}))
    assert "理由" in message
    services.act(actors["prefecture"], case, "returned", "申报表缺少签章", case.version, {})
    case.refresh_from_db()
    assert case.step == "application"
    services.act(actors["county"], case, "submitted", "", case.version, {})
    assert case.snapshots.count() == 2 and case.files.filter(kind=FileKind.REPORT).count() == 2


def test_an_application_needs_a_current_passing_result_and_evidence(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    county = actors["county"]
    assert "佐证材料" in _refused(lambda: services.act(county, case, "submitted", "", case.version, {}))
    services.add_file(county, case, FileKind.EVIDENCE, flow.pdf(), "佐证.pdf")
    CountyEvaluation.objects.filter(county=case.county).update(passed=False)
    assert "未达标" in _refused(lambda: services.act(county, case, "submitted", "", case.version, {}))
    CountyEvaluation.objects.filter(county=case.county).update(passed=True, generation=0)
    from youjun.web.evaluation.models import EvaluationState

    EvaluationState.objects.filter(county=case.county, year=YEAR).update(generation=99)
    assert "待更新" in _refused(lambda: services.act(county, case, "submitted", "", case.version, {}))
    assert not case.snapshots.exists() and Case.objects.get(pk=case.pk).step == "application"


# ----------------------------------------------------------------------------------------------------
# The steps' needs, actors and conflicts


def test_only_the_steps_actor_acts_and_a_stale_version_is_a_conflict(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="province_evaluation")
    for role in ("county", "prefecture", "ministry", "expert", "other_province", "viewer"):
        _refused(lambda role=role: services.act(actors[role], case, "passed", "", case.version, {}), 403)
    province = actors["province"]
    assert "意见" in _refused(lambda: services.act(province, case, "passed", "", case.version, {}))
    services.save_record(province, case, case.version, {"opinion": "同意", "on_site": ""})
    _refused(lambda: services.act(province, case, "passed", "", case.version - 1, {}), 409)
    _refused(lambda: services.save_record(province, case, case.version - 1, {"opinion": "x"}), 409)
    _refused(lambda: services.act(province, case, "no-such-outcome", "", case.version, {}))
    services.act(province, case, "passed", "", case.version, {})


def test_eligibility_is_read_from_the_data(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="eligibility")
    flow.eligible(case.county, 2023)  # one year before the round: fewer than three
    checks = services.eligibility(case)
    assert checks[0]["ok"] is False and "满 1 年" in checks[0]["text"]
    assert "资格审查不通过" in _refused(lambda: services.act(actors["ministry"], case, "passed", "", case.version, {}))
    services.act(actors["ministry"], case, "failed", "通过基本均衡认定不满 3 年", case.version, {})
    case.refresh_from_db()
    assert case.state == CaseState.NOT_RECOGNISED
    assert case.records.last().data["checks"][0]["ok"] is False  # type: ignore[union-attr]


def test_survey_below_the_rule_sets_threshold_cannot_pass(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="survey")
    ministry = actors["ministry"]
    assert services.survey_threshold(case) == pytest.approx(85.0)
    services.save_record(ministry, case, case.version, {"source": "import", "rate": 84.99, "valid": 900, "note": ""})
    assert "低于" in _refused(lambda: services.act(ministry, case, "passed", "", case.version, {}))
    services.save_record(ministry, case, case.version, {"source": "import", "rate": 85.0, "valid": 900, "note": ""})
    services.act(ministry, case, "passed", "", case.version, {})


def test_indicator_review_goes_item_by_item(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="indicator_review")
    expert = actors["expert"]
    items = services.indicator_items(case)
    codes = [i["code"] for i in items]
    assert {"R1", "R7"} <= set(codes) and any(c.startswith("G") for c in codes)
    step = services.current_step(case)
    assert step is not None
    post = {f"v_{c}": "met" for c in codes[:-1]} | {f"c_{codes[0]}": "数据核实无误"}
    services.save_record(expert, case, case.version, services.parse_record(case, step, post, {}))
    assert "未给出审核结论" in _refused(lambda: services.act(expert, case, "passed", "", case.version, {}))
    post[f"v_{codes[-1]}"] = "not_met"
    services.save_record(expert, case, case.version, services.parse_record(case, step, post, {}))
    assert "不符合" in _refused(lambda: services.act(expert, case, "passed", "", case.version, {}))
    _refused(lambda: services.parse_record(case, step, {f"v_{codes[0]}": "maybe"}, {}))


def test_quota_and_deadline_from_the_file(actors: dict[str, User], tmp_path: Path, monkeypatch: Any) -> None:
    source = procedures.PROCEDURES_DIR / "recognition-2024.toml"
    text = source.read_text(encoding="utf-8")
    text = text.replace('kind = "province_application"\n', 'kind = "province_application"\nquota = 1\n')
    text = text.replace(
        'key = "application"\nname = "县级自评申请"\n',
        'key = "application"\nname = "县级自评申请"\ndeadline = 2020-01-31\n',
    )
    for other in procedures.PROCEDURES_DIR.glob("*.toml"):
        shutil.copy(other, tmp_path / other.name)
    (tmp_path / "recognition-2024.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(procedures, "PROCEDURES_DIR", tmp_path)
    case = _case(actors, _round(actors))
    services.add_file(actors["county"], case, FileKind.EVIDENCE, flow.pdf(), "佐证.pdf")
    assert "截止" in _refused(lambda: services.act(actors["county"], case, "submitted", "", case.version, {}))
    # the quota: another county of the province already applied in this round
    other = OrgUnit.objects.get(code="340202")
    rival = Case.objects.create(round=case.round, county=other, step="eligibility")
    rival.records.create(step="province_application", outcome="applied", actor=actors["province"])
    Case.objects.filter(pk=case.pk).update(step="province_application", version=case.version + 1)
    case.refresh_from_db()
    assert "名额" in _refused(lambda: services.act(actors["province"], case, "applied", "", case.version, {}))


# ----------------------------------------------------------------------------------------------------
# Findings and rectification


def test_a_finding_is_rectified_by_the_county_and_verified_by_who_raised_it(actors: dict[str, User]) -> None:
    r = _round(actors)
    case = _case(actors, r)
    flow.drive(case, actors, until="verification")
    expert, county, ministry = actors["expert"], actors["county"], actors["ministry"]
    school = services.school_choices(case)[0]["id"]
    post = {"text": "某校音乐专用教室不足", "indicator": "G3", "school_id": school, "responsible": "区教育局",
            "deadline": flow.soon(20)}  # fmt: skip
    _refused(lambda: services.raise_finding(expert, case, {**post, "deadline": timezone.localdate()}))
    _refused(lambda: services.raise_finding(expert, case, {**post, "school_id": "9" * 40}))
    _refused(lambda: services.raise_finding(county, case, post), 403)
    finding = services.raise_finding(expert, case, post)
    flow.take_step(case, actors)  # the inspection passes with the finding open
    assert case.step == "decision"
    assert "整改尚未核验" in _refused(lambda: services.act(ministry, case, "recognised", "", case.version, {}))
    # the county rectifies: evidence, measures, submit
    assert "佐证" in _refused(lambda: services.rectify(county, finding, {"measures": "新建音乐教室"}, 1, True))
    services.add_rectification_file(county, finding, flow.pdf("整改.pdf"), "整改.pdf")
    _refused(lambda: services.rectify(expert, finding, {"measures": "x"}, 1, True), 403)
    services.rectify(county, finding, {"measures": "新建音乐教室 2 间", "responsible": "区教育局"}, 1, True)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.SUBMITTED
    _refused(lambda: services.verify(county, finding, True, "", finding.version), 403)
    services.verify(expert, finding, False, "照片不清晰", finding.version)  # sent back once
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    services.rectify(county, finding, {"measures": "新建音乐教室 2 间，已投入使用"}, finding.version, True)
    finding.refresh_from_db()
    services.verify(expert, finding, True, "整改到位", finding.version)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.VERIFIED and finding.verified_by == expert
    _refused(lambda: services.rectify(county, finding, {"measures": "y"}, finding.version, False), 409)
    services.act(ministry, case, "recognised", "", case.version, {})
    # the rectification report (Word) lists the finding and its verification
    client = Client()
    client.force_login(county)
    body = client.get(reverse("recognition:rectification_report", args=[case.pk])).content
    text = "\n".join(p.text for p in Document(io.BytesIO(body)).paragraphs) + "".join(
        c.text for t in Document(io.BytesIO(body)).tables for row in t.rows for c in row.cells
    )
    assert "某校音乐专用教室不足" in text and "整改到位" in text and "共发现问题 1 项" in text


def test_overdue_findings_reach_the_to_do_lists(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="verification")
    finding = services.raise_finding(actors["expert"], case, {"text": "台账不全", "deadline": flow.soon(5)})
    Finding.objects.filter(pk=finding.pk).update(deadline=timezone.localdate() - dt.timedelta(days=2))
    from youjun.web.todo.selectors import todos_for

    county_todos = {t.key: t for t in todos_for(actors["county"])}
    assert "已逾期 1 项" in county_todos["recognition:rectify"].text
    assert county_todos["recognition:rectify"].overdue
    assert any(t.key == "recognition:overdue" for t in todos_for(actors["province"]))
    assert any(t.key == "recognition:overdue" for t in todos_for(actors["ministry"]))
    assert not any(t.key.startswith("recognition") for t in todos_for(actors["other_province"]))


# ----------------------------------------------------------------------------------------------------
# Recognition, publication, status everywhere, re-checks


def test_recognised_published_and_shown_everywhere(actors: dict[str, User]) -> None:
    r = _round(actors)
    case = _case(actors, r)
    flow.drive(case, actors, until="decision")
    assert [x.text for x in status_of(case.county)] == ["已申请2024年度国家认定"]
    ministry = actors["ministry"]
    assert "全部作出认定决定" in _refused(
        lambda: services.publish(ministry, r, "教督函〔2025〕3号", dt.date(2025, 3, 1))
    )
    flow.take_step(case, actors)
    _refused(lambda: services.publish(actors["province"], r, "x", dt.date(2025, 3, 1)), 403)
    _refused(lambda: services.publish(ministry, r, "", dt.date(2025, 3, 1)))
    services.publish(ministry, r, "教督函〔2025〕3号", dt.date(2025, 3, 1))
    assert [x.text for x in status_of(case.county)] == ["2024年度批次认定为优质均衡县（教督函〔2025〕3号）"]
    public = Client().get(reverse("recognition:public")).content.decode()
    assert "教督函〔2025〕3号" in public and "鸠江区" in public and "安徽省" in public
    excel = Client().get(reverse("recognition:public_xlsx", args=[r.pk])).content
    frame = fastexcel.read_excel(excel).load_sheet(0, header_row=1).to_polars()
    assert frame.row(0, named=True) | {} == {"省份": "安徽省", "地市": "芜湖市", "县（市、区）": "鸠江区",
                                            "行政区划代码": "340207", "认定文件文号": "教督函〔2025〕3号",
                                            "发文日期": "2025-03-01"}  # fmt: skip
    # the county's pages show the standing
    client = Client()
    client.force_login(actors["county"])
    for url in (reverse("recognition:case", args=[case.pk]), reverse("programme:county", args=[OWN_COUNTY]),
                reverse("assessment:county", args=[OWN_COUNTY, YEAR])):  # fmt: skip
        assert "2024年度批次认定为优质均衡县" in client.get(url).content.decode(), url
    # once published, a county still with its province is not applied for in this round any more
    late = Case.objects.create(round=r, county=OrgUnit.objects.get(code="340202"), step="province_application")
    assert "名单已公布" in _refused(lambda: services.act(actors["province"], late, "applied", "", late.version, {}))
    # a recognised county does not apply again
    _refused(lambda: services.start_case(actors["county"], _round(actors, 2025), case.county))


def test_a_recheck_follows_its_own_file_and_records_its_outcome(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors)
    recheck = _round(actors, 2026, "recheck")
    assert recheck.procedure == "recheck-2022"
    _refused(lambda: services.start_case(actors["other_province"], recheck, case.county), 403)
    again = services.start_case(actors["province"], recheck, case.county)
    assert again.step == "self_check"
    assert flow.drive(again, actors, until="recheck_decision") == ["self_check", "province_recheck"]
    assert again.snapshots.count() == 1  # the county's self-check freezes its data as the application did
    province = actors["province"]
    for deadline in (None, timezone.localdate()):
        message = _refused(
            lambda d=deadline: services.act(province, again, "rectify", "场馆面积下降", again.version, {"deadline": d})
        )
        assert "整改期限" in message
    assert "理由" in _refused(
        lambda: services.act(province, again, "rectify", "", again.version, {"deadline": flow.soon(90)})
    )
    services.act(province, again, "rectify", "生均体育场馆面积下降", again.version, {"deadline": flow.soon(90)})
    again.refresh_from_db()
    assert again.state == CaseState.RECTIFY and again.deadline == flow.soon(90)
    texts = [x.text for x in status_of(case.county)]
    assert texts[-1].startswith("2026年度复查：限期整改")
    from youjun.web.todo.selectors import todos_for

    due = [t for t in todos_for(actors["county"]) if t.key.startswith("recognition:recheck:")]
    assert len(due) == 1 and due[0].text == "2026年度复查限期整改" and due[0].remind and due[0].days_left == 90
    # the re-check's page shows the county's latest monitoring warnings (a recognised county stays monitored)
    from youjun.web.monitoring.models import Snapshot as Monitored
    from youjun.web.monitoring.models import Warning

    watch = Monitored.objects.create(province=OrgUnit.objects.get(code="340000"), stamp="t", computed_at=timezone.now())
    for year, message in ((2025, "去年的预警"), (2026, "生均体育运动场馆面积低于标准")):
        Warning.objects.create(snapshot=watch, county=case.county, year=year, rule="r", rule_name="n", level="预警",
                               severity=1, message=message)  # fmt: skip
    client = Client()
    client.force_login(actors["province"])
    page = client.get(reverse("recognition:case", args=[again.pk])).content.decode()
    assert "生均体育运动场馆面积低于标准" in page and "去年的预警" not in page
    # a revoked recognition ends the standing
    Case.objects.filter(pk=again.pk).update(state=CaseState.REVOKED)
    assert services.recognised_case(case.county) is None


# ----------------------------------------------------------------------------------------------------
# Experts and pages


def test_experts_see_only_the_cases_assigned_to_them(actors: dict[str, User], client: Client) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="indicator_review")
    other, _ = services.create_expert(actors["ministry"], "expert-b", "李专家")
    assert User.objects.get(pk=other.pk).must_change_password
    assert selectors.cases_for(actors["expert"]).filter(pk=case.pk).exists()
    assert not selectors.cases_for(other).exists()
    other.must_change_password = False
    other.save()
    client.force_login(other)
    assert client.get(reverse("recognition:case", args=[case.pk])).status_code == 404
    assert client.post(reverse("recognition:case_act", args=[case.pk]), {"outcome": "passed"}).status_code == 404
    assert client.get(reverse("evaluation:county", args=[OWN_COUNTY, YEAR])).status_code in (403, 404)
    expert = actors["expert"]
    expert.must_change_password = False
    expert.save()
    client.force_login(expert)
    page = client.get(reverse("recognition:case", args=[case.pk])).content.decode()
    assert 'id="items"' in page and "指标审核" in page
    index = client.get(reverse("recognition:index")).content.decode()
    assert "鸠江区" in index and "指标审核" in index


def test_pages_for_each_level(actors: dict[str, User], client: Client) -> None:
    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="verification")
    services.raise_finding(actors["expert"], case, {"text": "台账不全", "deadline": flow.soon(5)})
    finding = case.findings.get()
    for role in ("ministry", "province", "prefecture", "county", "viewer"):
        client.force_login(actors[role])
        for url in (
            reverse("recognition:index"),
            reverse("recognition:round", args=[case.round_id]),
            reverse("recognition:case", args=[case.pk]),
            reverse("recognition:finding", args=[finding.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 200, (role, url)
    client.force_login(actors["ministry"])
    round_url = reverse("recognition:round", args=[case.round_id])
    summary = client.get(round_url).content.decode()
    assert 'href="?step=verification"' in summary  # the one case waiting there, as a link to the filter
    assert "鸠江区" in client.get(round_url + "?province=34&step=verification").content.decode()
    assert "鸠江区" not in client.get(round_url + "?province=11").content.decode()
    assert "鸠江区" not in client.get(round_url + "?step=decision").content.decode()
    client.force_login(actors["other_county"])
    assert client.get(reverse("recognition:case", args=[case.pk])).status_code == 404
    assert client.get(reverse("recognition:finding", args=[finding.pk])).status_code == 404


def test_the_web_forms_drive_a_step(actors: dict[str, User], client: Client) -> None:
    """The county's application through its page: upload, submit (stale page refused), then the prefecture."""
    r = _round(actors)
    client.force_login(actors["county"])
    response = client.post(reverse("recognition:start", args=[r.pk]))
    case = Case.objects.get(round=r)
    assert response["Location"] == reverse("recognition:case", args=[case.pk])
    upload = client.post(reverse("recognition:case_file", args=[case.pk]), {"kind": "evidence", "file": flow.pdf()})
    assert upload.status_code == 302 and case.files.filter(kind=FileKind.EVIDENCE).count() == 1
    disguised = SimpleUploadedFile("x.pdf", b"MZ\x90\x00", "application/pdf")  # a program named .pdf
    bomb = client.post(reverse("recognition:case_file", args=[case.pk]), {"kind": "evidence", "file": disguised})
    assert bomb.status_code == 302 and case.files.filter(kind=FileKind.EVIDENCE).count() == 1
    case.refresh_from_db()
    stale = client.post(reverse("recognition:case_act", args=[case.pk]), {"outcome": "submitted", "version": "0"})
    assert stale.status_code == 302 and Case.objects.get(pk=case.pk).step == "application"
    client.post(reverse("recognition:case_act", args=[case.pk]), {"outcome": "submitted", "version": case.version})
    assert Case.objects.get(pk=case.pk).step == "prefecture_review"
    page = client.get(reverse("recognition:case", args=[case.pk])).content.decode()
    assert "申请时冻结的数据与结果" in page and "自评报告.docx" in page
    client.force_login(actors["prefecture"])
    case.refresh_from_db()
    client.post(reverse("recognition:case_record", args=[case.pk]), {"opinion": "同意上报", "version": case.version})
    case.refresh_from_db()
    client.post(reverse("recognition:case_act", args=[case.pk]), {"outcome": "passed", "version": case.version})
    assert Case.objects.get(pk=case.pk).step == "province_evaluation"


def test_an_expert_account_sees_nothing_but_its_assigned_cases(users: dict[str, User], evaluations: Any) -> None:
    """Every URL of the permission matrix, for an expert account: nothing at all before an assignment (never a
    page of any county, never a server error); after it, the assigned county's case and nothing of the other."""
    from web import test_permissions as matrix

    matrix.snapshot()  # every app's matrix objects exist
    expert, _ = services.create_expert(users["ministry"], "expert-m", "赵专家")
    User.objects.filter(pk=expert.pk).update(must_change_password=False)
    client = Client()
    client.force_login(expert)

    def answers(side: dict[str, str]) -> dict[str, int]:
        got = {}
        for name, target in sorted(matrix.TARGETS.items()):
            url = reverse(name, kwargs=target(side))
            got[name] = client.get(url).status_code
        return got

    mine = {"recognition:case", "recognition:file", "recognition:finding", "recognition:rectification_report"}
    before = answers(matrix.OWN)
    assert all(status in (302, 401, 403, 404, 405) for status in before.values()), before
    assert all(before[name] == 404 for name in mine)
    case = Case.objects.get(county__code=OWN_COUNTY, round__year=2024, round__kind="recognition")
    services.assign(users["ministry"], case, expert.pk)
    after, other = answers(matrix.OWN), answers(matrix.OTHER)
    assert {name for name, status in after.items() if status == 200} == mine | {"recognition:round"}
    assert {name for name, status in other.items() if status == 200} == {"recognition:round"}  # rounds are national
    assert all(other[name] == 404 for name in mine)
    for name in ("home", "recognition:index", "accounts:password_change"):
        assert client.get(reverse(name)).status_code == 200, name


def test_quality_results_are_imported_whole_or_not_at_all(actors: dict[str, User], client: Client) -> None:
    r = _round(actors)
    case = _case(actors, r)
    flow.drive(case, actors, until="quality_monitoring")
    other = Case.objects.create(round=r, county=OrgUnit.objects.get(code="340202"), step="quality_monitoring")
    client.force_login(actors["ministry"])
    url = reverse("recognition:round_quality", args=[r.pk])

    def send(body: bytes, name: str = "质量监测.csv") -> list[str]:
        response = client.post(url, {"file": SimpleUploadedFile(name, body)}, follow=True)
        return [str(m) for m in response.context["messages"]]

    good = "县级区划代码,监测项目,结果,说明\n340207,四年级数学,良好,\n340207,八年级语文,中等,\n"
    good += "340202,四年级数学,优秀,抽样\n"
    bad = good + "34020,四年级科学,良好,\n340207,四年级数学,重复,\n"
    said = send(bad.encode("gb18030"))
    assert any("第 5 行" in m and "县级区划代码" in m and "6 位数字" in m for m in said), said
    assert any("第 6 行" in m and "重复（与第 2 行）" in m for m in said), said
    assert "没有任何改动" in said[-1]
    assert not (Case.objects.get(pk=case.pk).work or {}).get("quality_monitoring")
    stranger = good + "110101,四年级数学,良好,\n"
    assert any("110101" in m and "未导入任何结果" in m for m in send(stranger.encode())), "a county not waiting"
    assert any("不是有效的 Excel" in m for m in send(b"PK\x03\x04 not a workbook", "结果.xlsx"))
    said = send(good.encode("utf-8-sig"))
    assert said == ["已导入 2 个县（区）的质量监测结果，共 3 项。"], said
    case.refresh_from_db()
    other.refresh_from_db()
    assert [row["item"] for row in case.work["quality_monitoring"]["rows"]] == ["四年级数学", "八年级语文"]
    assert other.work["quality_monitoring"]["rows"] == [{"item": "四年级数学", "result": "优秀", "note": "抽样"}]
    services.act(actors["ministry"], case, "passed", "", case.version, {})
    # the template lists the county still waiting, with the columns to fill
    book = fastexcel.read_excel(client.get(reverse("recognition:quality_template", args=[r.pk])).content)
    frame = book.load_sheet(0, header_row=1).to_polars()
    assert frame["县级区划代码"].to_list() == ["340202"] and "监测项目" in frame.columns
    client.force_login(actors["province"])
    assert client.post(url, {"file": SimpleUploadedFile("q.csv", good.encode())}).status_code == 403


def test_the_ministry_runs_the_national_survey_in_the_survey_module(actors: dict[str, User], client: Client) -> None:
    """At the survey step the ministry organises the county's survey in the product's survey module: a campaign
    the ministry alone manages (not the county it assesses), kept apart from the county's own survey."""
    from youjun.web.survey.models import Campaign
    from youjun.web.survey.services import county_recognition, is_national

    case = _case(actors, _round(actors))
    flow.drive(case, actors, until="survey")
    step = services.current_step(case)
    assert step is not None
    assert "请先发起调查" in _refused(lambda: services.parse_record(case, step, {"source": "survey"}, {}))
    client.force_login(actors["county"])
    assert client.post(reverse("recognition:case_survey", args=[case.pk]), {"population": "300000"}).status_code == 403
    client.force_login(actors["ministry"])
    response = client.post(reverse("recognition:case_survey", args=[case.pk]), {"population": "300000"})
    campaign = Campaign.objects.get(county=case.county, year=2024)
    assert response["Location"] == reverse("survey:campaign", args=[campaign.pk])
    assert is_national(campaign) and campaign.population == 300000 and "国家认定" in campaign.title
    again = client.post(reverse("recognition:case_survey", args=[case.pk]), {"population": "1"})
    assert again["Location"] == response["Location"] and Campaign.objects.filter(county=case.county).count() == 1
    page = client.get(reverse("recognition:case", args=[case.pk])).content.decode()
    assert 'id="national-survey"' in page
    # the ministry manages it; the county sees it but cannot open, close or print its links
    links, group = reverse("survey:links", args=[campaign.pk]), next(iter(campaign.quotas))
    asked = client.post(links, {"group": group, "count": "5"})
    assert asked.status_code == 200 and "请确认" in asked.content.decode()  # the confirmation, as the county gets it
    client.force_login(actors["county"])
    assert client.post(reverse("survey:status", args=[campaign.pk]), {"action": "open"}).status_code == 403
    assert client.get(reverse("survey:links_export", args=[campaign.pk])).status_code == 403
    assert client.post(links, {"group": group, "count": "5"}).status_code == 403
    # the county's own assessment never reads the national survey
    Campaign.objects.filter(pk=campaign.pk).update(status="open")
    assert county_recognition(case.county, 2024) is None
    assert county_recognition(case.county, 2024, national=True) is not None
    assert services.survey_figures(case) is not None and services.survey_figures(case)["source"] == "national"
    # its figures are taken as the survey counts them (never typed over), and only once it has ended
    record = services.parse_record(case, step, {"source": "survey", "rate": "99"}, {})
    assert record["source"] == "survey" and record["rate"] is None and record["final"] is False
    services.save_record(actors["ministry"], case, case.version, record)
    _refused(lambda: services.act(actors["ministry"], case, "passed", "", case.version, {}))


def test_a_submission_that_loses_its_race_leaves_no_file_behind(actors: dict[str, User], monkeypatch: Any) -> None:
    """The snapshot's documents are written before the move; a move that loses (another tab submitted meanwhile)
    rolls back its rows and removes its files."""
    from youjun.web.assessment import uploads

    case = _case(actors, _round(actors))
    services.add_file(actors["county"], case, FileKind.EVIDENCE, flow.pdf(), "佐证.pdf")
    folder = uploads.evidence_dir()
    before = sorted(p.name for p in folder.iterdir())

    def lost(*args: Any, **kwargs: Any) -> str:
        raise kwargs["conflict"]("操作未执行：该申请的状态已被他人改变。")

    monkeypatch.setattr(services, "advance", lost)
    _refused(lambda: services.act(actors["county"], case, "submitted", "", case.version, {}), 409)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not case.snapshots.exists() and case.files.count() == 1


def test_assigning_an_expert_twice_is_audited_once(actors: dict[str, User]) -> None:
    case = _case(actors, _round(actors))  # assigned once here
    services.assign(actors["ministry"], case, actors["expert"].pk)
    moves = Transition.objects.filter(kind="recognition_case", object_id=case.pk, action="assign")
    assert moves.count() == 1 and case.assignments.count() == 1
    assert Transition.objects.filter(kind="expert_account", object_id=actors["expert"].pk, action="open").count() == 1
