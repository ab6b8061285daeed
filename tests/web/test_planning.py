"""The planner on the web: scenarios copied from the approved data, edited, planned, applied, compared and adopted
into the pilot's implementation plan — never touching the reported data; stale pages refused; only the county
writes."""

from __future__ import annotations

import io
from typing import Any

import docx
import fastexcel
import lxml.html
import polars as pl
import pytest
from django.test import Client
from django.urls import reverse

from web.conftest import OWN_COUNTY, YEAR
from web.test_programme_pilots import make_pilot
from youjun.engine import evaluate_resources
from youjun.web.accounts.models import User
from youjun.web.collection.models import SchoolRecord
from youjun.web.planning import selectors
from youjun.web.planning.models import Scenario
from youjun.web.programme.models import Plan, PlanTask

pytestmark = pytest.mark.django_db


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    tree = lxml.html.fromstring(response.content.decode())
    return " ".join(" ".join(tree.xpath("//main")[0].itertext()).split())


def messages_of(response: Any) -> str:
    tree = lxml.html.fromstring(response.content.decode())
    return " ".join(" ".join(li.itertext()) for li in tree.xpath("//ul[contains(@class,'messages')]/li"))


def create(client: Client, name: str = "方案一") -> Scenario:
    response = client.post(reverse("planning:create"), {"year": str(YEAR), "name": name})
    assert response.status_code == 302, response.content.decode()[:500]
    return Scenario.objects.get(county__code=OWN_COUNTY, name=name)


def reported() -> list[tuple[Any, ...]]:
    return sorted(SchoolRecord.objects.filter(county__code=OWN_COUNTY).values_list("pk", "version", "values"))


def smallest_area(s: Scenario) -> str:
    return min(s.schools, key=lambda r: r.get("teaching_aux_area") or 0)["school_id"]


def spoil(client: Client, s: Scenario) -> None:
    """Take most of one school's rooms and ground away, so that the scenario fails."""
    school = max(s.schools, key=lambda r: r.get("students_primary") or 0)["school_id"]
    for field in ("teaching_aux_area", "outdoor_sports_area", "equipment_value"):
        s.refresh_from_db()
        response = client.post(
            reverse("planning:edit", args=[s.pk]),
            {"version": s.version, "kind": "set", "school": school, "field": field, "value": "1"},
        )
        assert response.status_code == 302
    s.refresh_from_db()


def test_a_scenario_is_a_copy_edits_change_it_and_never_the_reported_data(
    users: dict[str, User], evaluations: Any
) -> None:
    client = login(users["county"])
    before = reported()
    s = create(client)
    assert len(s.schools) == SchoolRecord.objects.filter(county__code=OWN_COUNTY, year=YEAR).count()
    rules = selectors.rules_of(s)
    first = selectors.outcome(selectors.frame_of(s), rules)
    base = selectors.outcome(selectors.reported_frame(s.county, YEAR), rules)
    assert (first.passed, first.units_passed, [c["cv"] for c in first.cvs]) == (
        base.passed,
        base.units_passed,
        [c["cv"] for c in base.cvs],
    )
    # The page's baseline read from the stored result is the engine's on the reported data.
    stored = selectors.baseline(s, rules)
    assert (stored.passed, stored.units, stored.units_passed) == (base.passed, base.units, base.units_passed)
    assert [(c["key"], c["text"], c["passed"]) for c in stored.cvs] == [
        (c["key"], c["text"], c["passed"]) for c in base.cvs
    ]
    assert [c["cv"] for c in stored.cvs] == pytest.approx([c["cv"] for c in base.cvs], rel=1e-12)
    school = smallest_area(s)
    old = next(r for r in s.schools if r["school_id"] == school)["teaching_aux_area"]
    response = client.post(
        reverse("planning:edit", args=[s.pk]),
        {"version": s.version, "kind": "add", "school": school, "field": "teaching_aux_area", "value": "1500"},
    )
    assert response.status_code == 302
    s.refresh_from_db()
    assert next(r for r in s.schools if r["school_id"] == school)["teaching_aux_area"] == pytest.approx(old + 1500)
    assert s.version == 2 and "教学及辅助用房" in s.edits[-1]["text"]
    page = client.get(reverse("planning:scenario", args=[s.pk]))
    assert page.status_code == 200 and "评估引擎重算用时" in text(page)
    # The engine's CV on the page is the engine's on the edited copy.
    frame = selectors.frame_of(s)
    cv = evaluate_resources(frame, rules).stages.filter(pl.col("stage") == "primary")["cv_R4"][0]
    assert f"{cv:.3f}" in text(page)
    assert reported() == before  # the reported data untouched


def test_a_stale_page_and_hostile_edits_are_refused_and_change_nothing(
    users: dict[str, User], evaluations: Any
) -> None:
    client = login(users["county"])
    s = create(client)
    school = s.schools[0]["school_id"]
    cases = [
        ({"version": s.version + 5, "kind": "add", "field": "teaching_aux_area", "value": "1"}, "已被修改"),
        ({"version": s.version, "kind": "set", "field": "teaching_aux_area", "value": "-3"}, "不小于 0"),
        ({"version": s.version, "kind": "set", "field": "teaching_aux_area", "value": "nan"}, "应为数字"),
        ({"version": s.version, "kind": "set", "field": "teaching_aux_area", "value": "1e400"}, "应为数字"),
        ({"version": s.version, "kind": "set", "field": "students_primary", "value": "10.5"}, "应为整数"),
        ({"version": s.version, "kind": "set", "field": "school_name", "value": "1"}, "请选择要修改的数据项"),
        (
            {"version": s.version, "kind": "set", "field": "teaching_aux_area", "value": "1", "school": "x' OR 1=1"},
            "没有学校",
        ),
        (
            {
                "version": s.version,
                "kind": "move",
                "target": school,
                "stage": "primary",
                "teacher": "backbone_teacher",
                "count": "1",
            },
            "不能相同",
        ),
        (
            {
                "version": s.version,
                "kind": "move",
                "target": s.schools[1]["school_id"],
                "stage": "primary",
                "teacher": "backbone_teacher",
                "count": "100000",
            },
            "不能调出",
        ),
        ({"version": s.version, "kind": "explode"}, "未知的修改方式"),
    ]
    for data, expected in cases:
        response = client.post(reverse("planning:edit", args=[s.pk]), {"school": school} | data, follow=True)
        assert response.status_code == 200
        assert expected in messages_of(response), (data, messages_of(response))
    s.refresh_from_db()
    assert s.version == 1 and len(s.edits) == 1


def test_plan_apply_pass_compare_and_adopt_into_the_implementation_plan(
    users: dict[str, User], evaluations: Any
) -> None:
    make_pilot()
    client = login(users["county"])
    s = create(client)
    spoil(client, s)
    rules = selectors.rules_of(s)
    assert not selectors.outcome(selectors.frame_of(s), rules).passed
    response = client.post(reverse("planning:plan", args=[s.pk]), {"version": s.version, "mode": "cost"}, follow=True)
    assert "已生成方案" in messages_of(response), messages_of(response)
    s.refresh_from_db()
    assert s.plan["version"] == s.version and s.plan["cost"] > 0
    # The plan's Excel opens, and lists what the page lists.
    download = client.get(reverse("planning:plan_xlsx", args=[s.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    book = fastexcel.read_excel(download.content)
    assert "各校新增" in book.sheet_names
    assert book.load_sheet("各校新增", header_row=None).height >= 2 + len(s.plan["actions"])
    response = client.post(reverse("planning:apply", args=[s.pk]), {"version": s.version}, follow=True)
    assert "应用规划方案" in messages_of(response)
    s.refresh_from_db()
    after = selectors.outcome(selectors.frame_of(s), rules)
    assert after.passed and after.units_passed == after.units
    tree = lxml.html.fromstring(response.content.decode())
    assert "达标" in " ".join(tree.xpath("//*[@id='verdict']")[0].itertext())
    # Applying twice, or after another edit, is refused.
    again = client.post(reverse("planning:apply", args=[s.pk]), {"version": s.version}, follow=True)
    assert "已应用" in messages_of(again)
    # Side by side with the reported data.
    compare = client.get(reverse("planning:compare", args=[OWN_COUNTY]), {"s": [s.pk]})
    assert compare.status_code == 200 and s.name in text(compare) and f"{YEAR} 年上报数据" in text(compare)
    # Adopted into the implementation plan: yearly targets reaching the scenario's CVs, tasks per school with cost.
    response = client.post(reverse("programme:adopt_scenario", args=[s.pk]), {"version": s.version}, follow=True)
    assert "已纳入实施方案" in messages_of(response), messages_of(response)
    p = Plan.objects.get(county__code=OWN_COUNTY)
    final = str(p.adopted["years"][-1])
    for c in after.cvs:
        if c["cv"] is not None:
            assert p.targets[f"cv_{c['stage']}_{c['code']}"][final] == pytest.approx(c["cv"], abs=5e-5)
    assert p.targets["units_passed_share"][final] == pytest.approx(1.0)
    tasks = PlanTask.objects.filter(plan=p, source="planner")
    assert tasks.count() >= 1
    assert float(sum(t.cost or 0 for t in tasks)) == pytest.approx(s.plan["cost"], abs=len(tasks))
    assert f"{round(s.plan['cost']):,}" in text(response)
    # The self-evaluation report carries the adopted plan as its chapter 达标规划方案.
    report = client.get(reverse("assessment:report_docx", args=[OWN_COUNTY, YEAR]))
    assert report.status_code == 200
    document = docx.Document(io.BytesIO(report.content))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "达标规划方案" in body and f"{round(s.plan['cost']):,}" in body
    cells = {c.text for table in document.tables for row in table.rows for c in row.cells}
    assert {a["school_name"] for a in s.plan["actions"]} <= cells
    # A second adoption replaces the planner's tasks, keeps the county's own (B1–B4).
    client.post(reverse("programme:adopt_scenario", args=[s.pk]), {"version": s.version})
    assert PlanTask.objects.filter(plan=p, source="planner").count() == tasks.count()
    assert PlanTask.objects.filter(plan=p, code__in=["B1", "B2", "B3", "B4"], source="").count() == 4


def test_a_failing_scenario_is_not_adopted(users: dict[str, User], evaluations: Any) -> None:
    make_pilot()
    client = login(users["county"])
    s = create(client)
    spoil(client, s)
    response = client.post(reverse("programme:adopt_scenario", args=[s.pk]), {"version": s.version}, follow=True)
    assert "尚未达标" in messages_of(response)
    assert not Plan.objects.filter(county__code=OWN_COUNTY, adopted__has_key="scenario").exists()


def test_higher_levels_read_the_scenarios_and_cannot_write(users: dict[str, User], evaluations: Any) -> None:
    s = create(login(users["county"]))
    for role in ("province", "prefecture", "ministry"):
        client = login(users[role])
        assert client.get(reverse("planning:scenario", args=[s.pk])).status_code == 200
        data = {"version": s.version, "kind": "add", "school": s.schools[0]["school_id"], "field": "teaching_aux_area",
                "value": "5"}  # fmt: skip
        assert client.post(reverse("planning:edit", args=[s.pk]), data).status_code == 403
        assert client.post(reverse("planning:plan", args=[s.pk]), {"version": s.version}).status_code == 403
    assert login(users["other_county"]).get(reverse("planning:scenario", args=[s.pk])).status_code == 404
    s.refresh_from_db()
    assert s.version == 1


def test_a_budget_too_small_answers_in_chinese(users: dict[str, User], evaluations: Any) -> None:
    client = login(users["county"])
    s = create(client)
    spoil(client, s)
    response = client.post(
        reverse("planning:plan", args=[s.pk]), {"version": s.version, "mode": "cost", "budget": "10"}, follow=True
    )
    assert response.status_code == 200 and "预算" in messages_of(response), messages_of(response)
    for data, expected in (
        ({"budget": "-1"}, "预算上限应在"),
        ({"budget": "1e300"}, "预算上限应在"),
        ({"max_teachers": "2.5"}, "整数"),
        ({"cost-teaching_area": "inf"}, "应为数字"),
        ({"cost-teaching_area": "1e30"}, "单价」应在"),
        ({"mode": "bogus"}, "无法识别"),
    ):
        answer = client.post(reverse("planning:plan", args=[s.pk]), {"version": s.version} | data, follow=True)
        assert expected in messages_of(answer), (data, messages_of(answer))
    s.refresh_from_db()
    assert not s.plan


def test_a_solver_failure_is_a_message_not_a_server_error(
    users: dict[str, User], evaluations: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from youjun.web.planning import services

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("SCIP: numerical trouble")

    monkeypatch.setattr(services, "make_plan", broken)
    client = login(users["county"])
    s = create(client)
    response = client.post(reverse("planning:plan", args=[s.pk]), {"version": s.version}, follow=True)
    assert response.status_code == 200 and "求解器未能完成计算" in messages_of(response)
    s.refresh_from_db()
    assert not s.plan


def test_the_budget_mode_says_what_the_budget_reaches(users: dict[str, User], evaluations: Any) -> None:
    client = login(users["county"])
    s = create(client)
    spoil(client, s)
    response = client.post(
        reverse("planning:plan", args=[s.pk]), {"version": s.version, "mode": "budget", "budget": "10"}, follow=True
    )
    assert "已生成方案" in messages_of(response), messages_of(response)
    s.refresh_from_db()
    assert s.plan["mode"] == "budget" and s.plan["cost"] <= 10 and not s.plan["passed_after"]
    tree = lxml.html.fromstring(response.content.decode())
    reached = " ".join(tree.xpath("//*[@id='plan-reached']")[0].itertext())
    after = selectors.outcome(selectors.frame_of(s), selectors.rules_of(s))
    assert f"{after.units_passed}/{after.units} 个学校单元" in reached


def test_scenario_names_are_checked_for_length_characters_and_uniqueness(
    users: dict[str, User], evaluations: Any
) -> None:
    client = login(users["county"])
    create(client, "方案一")
    for name, expected in (
        ("", "请填写情景名称"),
        ("长" * 61, "最多 60 字"),
        ("方案\u202e二", "控制字符"),
        ("方案\x00二", "控制字符"),
        ("方案一", "已有名为"),
    ):
        response = client.post(reverse("planning:create"), {"year": str(YEAR), "name": name}, follow=True)
        assert expected in messages_of(response), (name, messages_of(response))
    assert Scenario.objects.filter(county__code=OWN_COUNTY).count() == 1
