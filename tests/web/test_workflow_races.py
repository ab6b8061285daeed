"""Real races on real connections: two officials act on the same object at the same moment (threads, each with its
own database connection, committed transactions). Exactly one wins, the other is told so, and the audit holds one
transition per race — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.audit.models import Transition
from youjun.web.collection import services
from youjun.web.collection.models import CountySubmission, RecordStatus, SchoolRecord, SubmissionStatus
from youjun.web.organisation.models import Level, OrgUnit, School

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The in-memory SQLite test database shares one cache between connections, whose table locks fail at once
    # instead of waiting; the embedded deployment's file database serialises writers (IMMEDIATE transactions).
    pytest.mark.skipif(connection.vendor == "sqlite", reason="races need a database with real concurrent sessions"),
]

RACES = 30
YEAR = 2024


def _units() -> dict[str, OrgUnit]:
    """A province, prefecture and county of their own (transactional tests start from an empty database)."""
    province = OrgUnit.objects.create(code="990000", name="测试省", level=Level.PROVINCE)
    prefecture = OrgUnit.objects.create(
        code="990100", name="测试市", level=Level.PREFECTURE, parent=province, province_name="测试省"
    )
    county = OrgUnit.objects.create(
        code="990101", name="测试县", level=Level.COUNTY, parent=prefecture, province_name="测试省"
    )
    return {"province": province, "county": county}


def _user(name: str, role: str, unit: OrgUnit) -> User:
    return User.objects.create(username=name, role=role, org_unit=unit)


def _race(*actions: Callable[[], Any]) -> list[str]:
    """Run the actions at the same moment in threads with their own connections; their outcomes in order."""
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes: list[str] = [""] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            action()
            outcomes[i] = "ok"
        except YoujunError as exc:
            outcomes[i] = exc.problems[0].code
        except Exception as exc:  # reported, so that the assertion shows it
            outcomes[i] = f"error: {type(exc).__name__}: {exc}"
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_approve_and_return_at_once_never_both_happen() -> None:
    units = _units()
    county = units["county"]
    school = School.objects.create(
        school_id="9901010001", name="测试小学", county=county, school_type="小学", ownership="公办", urban_rural="城区"
    )
    record = SchoolRecord.objects.create(school=school, county=county, year=YEAR, values={"students_primary": 10})
    clerks = [_user(f"county-{i}", Role.COUNTY, county) for i in range(2)]
    wins = {RecordStatus.APPROVED: 0, RecordStatus.RETURNED: 0}
    for race in range(RACES):
        SchoolRecord.objects.filter(pk=record.pk).update(status=RecordStatus.SUBMITTED)
        before = Transition.objects.filter(kind="record", object_id=record.pk).count()

        # Both officials have the page open: each read the record as submitted before either acts.
        seen_by = [SchoolRecord.objects.get(pk=record.pk) for _ in clerks]

        def approve(seen: SchoolRecord = seen_by[0]) -> None:
            services.move_record(clerks[0], seen, RecordStatus.APPROVED)

        def give_back(seen: SchoolRecord = seen_by[1]) -> None:
            services.move_record(clerks[1], seen, RecordStatus.RETURNED, "请核实")

        outcomes = _race(approve, give_back) if race % 2 else _race(give_back, approve)
        assert sorted(outcomes) == ["conflict", "ok"], outcomes
        moves = list(Transition.objects.filter(kind="record", object_id=record.pk).order_by("pk"))[before:]
        assert len(moves) == 1  # one move logged per race, never two
        final = SchoolRecord.objects.get(pk=record.pk)
        assert final.status == moves[0].target  # the state is the one the winner was told
        wins[RecordStatus(final.status)] += 1
    assert sum(wins.values()) == RACES


def test_accept_and_return_of_a_county_submission_at_once_never_both_happen() -> None:
    units = _units()
    county, province = units["county"], units["province"]
    reviewers = [_user(f"province-{i}", Role.PROVINCE, province) for i in range(2)]
    submission = CountySubmission.objects.create(county=county, year=YEAR, status=SubmissionStatus.SUBMITTED)
    for _ in range(RACES):
        CountySubmission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.SUBMITTED)
        before = Transition.objects.filter(kind="submission", object_id=submission.pk).count()
        outcomes = _race(
            lambda: services.move_submission(reviewers[0], county, YEAR, SubmissionStatus.ACCEPTED),
            lambda: services.move_submission(reviewers[1], county, YEAR, SubmissionStatus.RETURNED, "材料不全"),
        )
        assert sorted(outcomes) in (["bad_transition", "ok"], ["conflict", "ok"]), outcomes
        moves = list(Transition.objects.filter(kind="submission", object_id=submission.pk).order_by("pk"))[before:]
        assert len(moves) == 1
        assert CountySubmission.objects.get(pk=submission.pk).status == moves[0].target


def test_a_record_cannot_change_while_its_county_reports_upward() -> None:
    """The county submits its year while a clerk unlocks a record: either the report goes up with every record
    approved, or the unlock wins and the report is refused — never a submitted county with a returned school."""
    units = _units()
    county = units["county"]
    school = School.objects.create(
        school_id="9901010002", name="测试二小", county=county, school_type="小学", ownership="公办", urban_rural="乡村"
    )
    record = SchoolRecord.objects.create(school=school, county=county, year=YEAR, values={"students_primary": 10})
    clerks = [_user(f"clerk-{i}", Role.COUNTY, county) for i in range(2)]
    for _ in range(10):
        SchoolRecord.objects.filter(pk=record.pk).update(status=RecordStatus.APPROVED)
        CountySubmission.objects.update_or_create(county=county, year=YEAR, defaults={"status": SubmissionStatus.OPEN})
        seen = SchoolRecord.objects.get(pk=record.pk)
        outcomes = _race(
            lambda: services.move_submission(clerks[0], county, YEAR, SubmissionStatus.SUBMITTED),
            lambda seen=seen: services.move_record(clerks[1], seen, RecordStatus.RETURNED, "解锁修改"),
        )
        submitted = CountySubmission.objects.get(county=county, year=YEAR).status == SubmissionStatus.SUBMITTED
        returned = SchoolRecord.objects.get(pk=record.pk).status == RecordStatus.RETURNED
        assert submitted != returned, outcomes  # exactly one of the two happened


def test_two_edits_of_one_scenario_version_never_both_apply() -> None:
    from youjun.web.planning import services as planning
    from youjun.web.planning.models import Scenario
    from youjun.web.rulesets import services as rulesets

    county = _units()["county"]
    official = _user("planner", Role.COUNTY, county)
    rows = [{"year": YEAR, "school_id": f"99010100{i}", "school_name": f"测试{i}小学", "county_code": county.code,
             "teaching_aux_area": 100.0} for i in range(2)]  # fmt: skip
    for _ in range(RACES):
        s = Scenario.objects.create(county=county, year=YEAR, name=f"情景{Scenario.objects.count()}",
                                    standard=rulesets.ref_for(county, YEAR), schools=rows)  # fmt: skip

        def add(value: float, pk: int = s.pk) -> None:
            mine = Scenario.objects.get(pk=pk)
            planning.edit(official, mine, 1, planning.Edit("add", rows[0]["school_id"], "teaching_aux_area", value))

        outcomes = _race(lambda: add(10.0), lambda: add(20.0))
        assert sorted(outcomes) == ["ok", "planning_conflict"], outcomes
        s.refresh_from_db()
        assert s.version == 2 and len(s.edits) == 1
        assert s.schools[0]["teaching_aux_area"] in (110.0, 120.0)


def test_two_reviewers_taking_a_recognition_outcome_at_once_never_both_win() -> None:
    """The prefecture's review passed by one reviewer and returned by the other at the same moment: one outcome,
    one step record and one audit row per race."""
    from youjun.web.recognition import services as recognition
    from youjun.web.recognition.models import Case, Round

    units = _units()
    county = units["county"]
    prefecture = OrgUnit.objects.get(code="990100")
    reviewers = [_user(f"prefecture-{i}", Role.PREFECTURE, prefecture) for i in range(2)]
    r = Round.objects.create(kind="recognition", year=2024, procedure="recognition-2024", name="2024 年度认定")
    case = Case.objects.create(
        round=r, county=county, step="prefecture_review", work={"prefecture_review": {"opinion": "同意"}}
    )
    for race in range(RACES):
        Case.objects.filter(pk=case.pk).update(step="prefecture_review", state="open")
        before = Transition.objects.filter(kind="recognition_case", object_id=case.pk).count()
        seen = [Case.objects.select_related("round", "county__parent").get(pk=case.pk) for _ in reviewers]
        outcomes = _race(
            lambda seen=seen: recognition.act(reviewers[0], seen[0], "passed", "", seen[0].version, {}),
            lambda seen=seen: recognition.act(reviewers[1], seen[1], "returned", "材料不全", seen[1].version, {}),
        )
        assert sorted(outcomes) == ["conflict", "ok"], outcomes
        moves = list(Transition.objects.filter(kind="recognition_case", object_id=case.pk).order_by("pk"))[before:]
        assert len(moves) == 1
        final = Case.objects.get(pk=case.pk)
        assert final.step == ("province_evaluation" if moves[0].action.endswith("passed") else "application")
        assert final.records.count() == race + 1
