"""The pilot county's half of the programme (issue 12): the plan, the progress reports, the experiences, the trend.

The pilot is set up directly (a published batch of 2026 with 鸠江区 confirmed), so these tests do not depend on the
nomination workflow. Each test names the defect it guards against.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import lxml.html
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from web.conftest import OWN_COUNTY
from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.audit.models import Transition
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme import selectors, services
from youjun.web.programme.catalogue import CatalogueError, catalogue, parse
from youjun.web.programme.models import (
    Batch,
    Experience,
    Nomination,
    Notification,
    Plan,
    PlanStatus,
    PlanTask,
    ProgressReport,
    ReportStatus,
)
from youjun.web.programme.services.pilots import place_name
from youjun.web.shortcuts import message_of, status_of

pytestmark = pytest.mark.django_db
BATCH_YEAR = 2026


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def make_pilot(code: str = OWN_COUNTY, year: int = BATCH_YEAR) -> Nomination:
    batch, _ = Batch.objects.get_or_create(
        number=1,
        defaults={
            "name": "第一批义务教育优质均衡先行创建",
            "year": year,
            "deadline": timezone.now(),
            "status": "published",
            "published_on": dt.date(year, 11, 30),
        },
    )
    county = unit(code)
    return Nomination.objects.create(
        batch=batch,
        county=county,
        province=unit(code[:2] + "0000"),
        status="confirmed",
        form_id="recommendation-2021",
        form_version="1",
    )


@pytest.fixture
def pilot(users: dict[str, User]) -> Nomination:
    return make_pilot()


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(response: Any) -> Any:
    return lxml.html.fromstring(response.content.decode())


def visible(response: Any) -> str:
    """The text a user reads in the page's main part (tags, scripts and attributes left out)."""
    tree = page(response)
    for node in tree.xpath("//script|//style"):
        node.drop_tree()
    return " ".join(" ".join(" ".join(m.itertext()) for m in tree.xpath("//main")).split())


def plan_url() -> str:
    return reverse("programme:plan", args=[OWN_COUNTY])


def saved_plan(users: dict[str, User], **changes: Any) -> Plan:
    """A complete draft plan, saved through the page as the county does."""
    form = {
        "target_year": "2029",
        "summary": "推进城乡学校共同体建设",
        "items": ["2.1", "4.5"],
        "t-units_passed_share-2027": "95",
        "t-cv_primary_R1-2029": "0.42",
        "new-code-0": "2.1",
        "new-title-0": "建立年度监测制度",
        "new-owner-0": "督导室",
        "new-milestone-0": "2027-06-30",
    } | changes
    response = login(users["county"]).post(plan_url(), form)
    assert response.status_code == 302, visible(response)
    return Plan.objects.get(county__code=OWN_COUNTY)


def confirm(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    """Post an action, check the confirmation page comes first and changes nothing, then confirm it."""
    before = (Transition.objects.count(), Notification.objects.count())
    asked = client.post(url, data or {})
    assert asked.status_code == 200 and page(asked).xpath("//*[@id='confirmation']"), visible(asked)
    assert (Transition.objects.count(), Notification.objects.count()) == before
    return client.post(url, (data or {}) | {"confirmed": "1"})


def accepted_plan(users: dict[str, User]) -> Plan:
    p = saved_plan(users)
    services.move_plan(users["county"], p, "submit")
    services.move_plan(users["province"], p, "accept")
    p.refresh_from_db()
    return p


def report_form(p: Plan, **changes: Any) -> dict[str, Any]:
    task = p.tasks.get(code="2.1")
    return {
        "period": "2027 年上半年",
        "summary": "进展顺利",
        f"status-{task.pk}": "active",
        f"note-{task.pk}": "已印发监测方案",
        "exp-title-2.1": "县域均衡年度监测",
        "exp-text-2.1": "每年发布监测报告",
    } | changes


# ----------------------------------------------------------------------------------------------------
# 1. The tackling list worded as the notice, from one data file


SPEC_1_1 = "建立合理布局农村学校的有效模式"
SPEC_2_4 = "健全扩大学校办学自主权、激发学校办学活力的机制"
SPEC_5_2 = "加强心理健康教育，健全学生心理健康问题定期筛查评估、早期识别与干预的机制"


def test_the_catalogue_holds_the_notice_words() -> None:
    c = catalogue()
    assert [b.code for b in c.basic] == ["B1", "B2", "B3", "B4"]
    assert [b.name for b in c.basic] == [
        "树立更加科学的教育理念",
        "实现更加全面的标准化建设",
        "建设更高素质的教师队伍",
        "提供更高质量的教育服务",
    ]
    assert [g.label for g in c.groups] == [
        "1. 科学规划建设学校",
        "2. 健全均衡发展工作机制",
        "3. 推进师资均衡配置",
        "4. 强化教育教学管理",
        "5. 加强学生教育关爱",
    ]
    assert [len(g.items) for g in c.groups] == [4, 4, 3, 7, 2] and len(c.items) == 20
    by_code = c.by_code()
    assert by_code["1.1"].name == SPEC_1_1 and by_code["2.4"].name == SPEC_2_4 and by_code["5.2"].name == SPEC_5_2
    assert by_code["1.1"].label == "1.1 " + SPEC_1_1 and by_code["2.4"].group_label == "2. 健全均衡发展工作机制"
    # The uncertain phrase is marked as the spec marks it, beside the item, not inside its wording.
    assert by_code["2.1"].name == "建立并实施义务教育年度均衡发展情况监测制度"
    assert by_code["2.1"].note == '"均衡发展"两字为推断：所存文本此处为"年度妥当情况"'
    assert [i.code for i in c.items if i.note] == ["2.1"]
    assert c.basic_title == "基本任务" and c.tackling_title == "攻坚清单" and "教基厅函〔2021〕43号" in c.source
    assert [g.label for g, _ in c.grouped(["5.2", "1.1"])] == ["1. 科学规划建设学校", "5. 加强学生教育关爱"]


def test_a_malformed_catalogue_is_refused_with_the_entry() -> None:
    good = (
        '[[basic]]\ncode = "B1"\nname = "甲"\n'
        '[[group]]\ncode = "1"\nname = "乙"\nitems = [{code = "1.1", name = "丙"}]\n'
    )
    assert parse(good).items[0].label == "1.1 丙"
    twice = 'items = [{code="1.1",name="丙"},{code="1.1",name="丁"}]'
    with pytest.raises(CatalogueError, match=r"编号 1\.1 重复"):
        parse(good.replace('items = [{code = "1.1", name = "丙"}]', twice))
    with pytest.raises(CatalogueError, match=r"2\.1 不属于第 1 组"):
        parse(good.replace('code = "1.1"', 'code = "2.1"'))
    with pytest.raises(CatalogueError, match="未知的键 wording"):
        parse(good.replace('name = "丙"', 'name = "丙", wording = "x"'))


def test_every_page_shows_the_catalogue_wording(users: dict[str, User], pilot: Nomination) -> None:
    c = catalogue()
    old = ("探索乡村学校合理布局的有效模式", "扩大学校办学自主权，激发办学活力", "<td>更加科学的教育理念</td>")
    plan_page = login(users["county"]).get(plan_url()).content.decode()
    for g in c.groups:
        assert escape(g.label) in plan_page
        for i in g.items:
            assert escape(i.label) in plan_page
    for b in c.basic:
        assert f"<td>{b.code}</td><td>{escape(b.name)}</td>" in plan_page
    assert escape(c.by_code()["2.1"].note) in plan_page
    assert not any(o in plan_page for o in old)
    # A stored task that carries older wording is shown in the notice's words.
    p = accepted_plan(users)
    PlanTask.objects.filter(plan=p, code="B1").update(title="更加科学的教育理念")
    assert "<td>B1</td><td>树立更加科学的教育理念</td>" in login(users["province"]).get(plan_url()).content.decode()
    # The progress report: the chosen items under their group headings, in the form and on the saved report.
    client = login(users["county"])
    new = client.get(reverse("programme:report_new", args=[OWN_COUNTY])).content.decode()
    headings = [h.text_content() for h in lxml.html.fromstring(new).xpath("//*[@id='report-experiences']//h3")]
    assert headings == ["2. 健全均衡发展工作机制", "4. 强化教育教学管理"]
    assert escape(c.by_code()["4.5"].label) in new and escape(c.by_code()["2.1"].label) in new
    created = client.post(reverse("programme:report_new", args=[OWN_COUNTY]), report_form(p))
    report = ProgressReport.objects.get()
    assert created.url == reverse("programme:report", args=[report.pk])
    services.move_report(users["county"], report, "submit")
    services.move_report(users["province"], report, "forward")
    shown = login(users["ministry"]).get(created.url)
    tree = page(shown)
    assert [h.text_content() for h in tree.xpath("//*[@id='report-experiences']//h3")] == ["2. 健全均衡发展工作机制"]
    assert escape(c.by_code()["2.1"].label) in shown.content.decode()
    # The experience library: every group as an option group, every item as an option, the heading of the entry.
    services.publish_experience(users["ministry"], report.experiences.get())
    library = Client().get(reverse("programme:experiences"))
    tree = page(library)
    assert [g.get("label") for g in tree.xpath("//optgroup")] == [g.label for g in c.groups]
    assert [o.text_content() for o in tree.xpath("//optgroup/option")] == [i.label for i in c.items]
    assert [h.text_content() for h in tree.xpath("//h2[@class='group-heading']")] == ["2. 健全均衡发展工作机制"]
    assert c.by_code()["2.1"].label in visible(library)


# ----------------------------------------------------------------------------------------------------
# 2. Nothing created by a GET


def _counts() -> tuple[int, ...]:
    return (
        Plan.objects.count(),
        PlanTask.objects.count(),
        ProgressReport.objects.count(),
        Experience.objects.count(),
        Transition.objects.count(),
        Notification.objects.count(),
    )


def test_opening_the_plan_creates_nothing_the_first_save_does(users: dict[str, User], pilot: Nomination) -> None:
    before = _counts()
    client = login(users["county"])
    opened = client.get(plan_url())
    assert opened.status_code == 200 and page(opened).xpath("//*[@id='plan-status']")[0].text_content() == "尚未保存"
    assert page(opened).xpath("//*[@id='plan-unsaved']") and not page(opened).xpath("//*[@id='plan-submit']")
    assert client.get(reverse("programme:county", args=[OWN_COUNTY])).status_code == 200
    assert _counts() == before and not Transition.objects.filter(action="开始编制实施方案").exists()
    # Others still find no plan: nobody sees 编制中 for a county that only looked.
    assert login(users["province"]).get(plan_url()).status_code == 404
    assert selectors.pilot_rows(selectors.pilots(users["ministry"]))[0].plan is None
    # The first save creates the plan with B1–B4 and logs the start, once.
    p = saved_plan(users)
    assert p.status == PlanStatus.DRAFT and p.target_year == 2029
    assert sorted(p.tasks.values_list("code", flat=True)) == ["2.1", "B1", "B2", "B3", "B4"]
    started = Transition.objects.filter(action="开始编制实施方案")
    assert started.count() == 1 and started.get().actor == users["county"]
    saved_plan(users, summary="第二次保存")
    assert Transition.objects.filter(action="开始编制实施方案").count() == 1


def test_no_page_of_the_pilot_writes_on_get(users: dict[str, User], pilot: Nomination) -> None:
    p = accepted_plan(users)
    login(users["county"]).post(reverse("programme:report_new", args=[OWN_COUNTY]), report_form(p))
    report = ProgressReport.objects.get()
    before = _counts()
    urls = [
        plan_url(),
        reverse("programme:county", args=[OWN_COUNTY]),
        reverse("programme:report_new", args=[OWN_COUNTY]),
        reverse("programme:report", args=[report.pk]),
        reverse("programme:experiences"),
    ]
    for role in ("county", "province", "prefecture", "viewer", "ministry"):
        client = login(users[role])
        for url in urls:
            assert client.get(url).status_code in (200, 403, 404)
    assert _counts() == before


# ----------------------------------------------------------------------------------------------------
# 3. Drafts editable until submitted, and after a return


def test_the_plan_is_edited_until_submitted_and_again_after_a_return(users: dict[str, User], pilot: Nomination) -> None:
    p = saved_plan(users)
    county, province = login(users["county"]), login(users["province"])
    draft = page(county.get(plan_url()))
    assert draft.xpath("//input[@name='target_year']")[0].get("value") == "2029"
    assert draft.xpath("//input[@name='t-units_passed_share-2027']")[0].get("value") == "95"
    assert draft.xpath("//input[@name='t-cv_primary_R1-2029']")[0].get("value") == "0.42"
    confirm(county, reverse("programme:plan_action", args=[OWN_COUNTY, "submit"]))
    p.refresh_from_db()
    assert p.status == PlanStatus.SUBMITTED
    refused = county.post(plan_url(), {"target_year": "2030"}, follow=True)
    assert "实施方案当前为「已报省级审核」，不能修改。" in visible(refused)
    wrong = county.post(plan_url(), {"target_year": "1999"}, follow=True)  # no field errors on a read-only page
    assert "不能修改" in visible(wrong) and not page(wrong).xpath("//*[@id='error-summary']")
    p.refresh_from_db()
    assert p.target_year == 2029
    submitted = page(county.get(plan_url()))
    assert not submitted.xpath("//*[@id='plan-form']") and not submitted.xpath("//*[@id='plan-submit']")
    confirm(province, reverse("programme:plan_action", args=[OWN_COUNTY, "return"]), {"reason": "目标年份偏晚"})
    returned = page(county.get(plan_url()))
    assert "省级退回意见：目标年份偏晚" in returned.text_content()
    assert returned.xpath("//input[@name='target_year']")[0].get("value") == "2029"
    saved_plan(users, target_year="2028", **{"t-cv_primary_R1-2029": ""})
    p.refresh_from_db()
    assert p.target_year == 2028 and p.status == PlanStatus.RETURNED


def test_a_saved_progress_report_is_edited_until_submitted(users: dict[str, User], pilot: Nomination) -> None:
    p = accepted_plan(users)
    county, province = login(users["county"]), login(users["province"])
    response = county.post(reverse("programme:report_new", args=[OWN_COUNTY]), report_form(p))
    report = ProgressReport.objects.get()
    url = reverse("programme:report", args=[report.pk])
    assert response.url == url
    form = page(county.get(url))
    assert form.xpath("//form[@id='report-form']")[0].get("action") == reverse(
        "programme:report_action", args=[report.pk, "save"]
    )
    assert form.xpath("//input[@name='period']")[0].get("value") == "2027 年上半年"
    assert form.xpath("//textarea[@name='exp-text-2.1']")[0].text_content() == "每年发布监测报告"
    task = p.tasks.get(code="2.1")
    assert form.xpath(f"//input[@name='note-{task.pk}']")[0].get("value") == "已印发监测方案"
    save = reverse("programme:report_action", args=[report.pk, "save"])
    changed = report_form(
        p, period="2027 年全年", **{"exp-text-2.1": "", "exp-title-2.1": "", "exp-text-4.5": "作业公示"}
    )
    assert county.post(save, changed).status_code == 302
    report.refresh_from_db()
    assert report.period == "2027 年全年" and [e.item for e in report.experiences.all()] == ["4.5"]
    assert report.experiences.get().title == catalogue().by_code()["4.5"].name
    # Nobody else may save it.
    assert province.post(save, changed).status_code == 403
    confirm(county, reverse("programme:report_action", args=[report.pk, "submit"]))
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert not page(county.get(url)).xpath("//*[@id='report-form']")
    refused = county.post(save, report_form(p, period="改"), follow=True)
    assert "进展报告当前为「已报省」，不能修改。" in visible(refused)
    confirm(province, reverse("programme:report_action", args=[report.pk, "return"]), {"reason": "请补充佐证"})
    again = page(county.get(url))
    assert again.xpath("//input[@name='period']")[0].get("value") == "2027 年全年"
    assert "省级退回意见：请补充佐证" in again.text_content()
    assert county.post(save, report_form(p, period="2027 年全年（修改）")).status_code == 302
    report.refresh_from_db()
    assert report.period == "2027 年全年（修改）" and report.status == ReportStatus.RETURNED


# ----------------------------------------------------------------------------------------------------
# 4. Validation with Chinese messages beside the fields and a summary linking to them


def _field_error(response: Any, field_id: str) -> str:
    """The message shown beside the field (in its wrapper marked invalid) and linked from the summary."""
    tree = page(response)
    links = [a.get("href") for a in tree.xpath("//*[@id='error-summary']//a")]
    assert f"#{field_id}" in links, links
    field = tree.xpath(f"//*[@id='{field_id}']")[0]
    wrapper = field.getparent()
    assert "invalid" in (wrapper.get("class") or "").split(), lxml.html.tostring(wrapper)
    return " ".join(e.text_content() for e in wrapper.xpath(".//*[contains(@class, 'field-error')]"))


def test_the_target_year_lies_in_the_programme_window(users: dict[str, User], pilot: Nomination) -> None:
    client = login(users["county"])
    early = client.post(plan_url(), {"target_year": "2020"})
    assert early.status_code == 400 and Plan.objects.count() == 0
    assert _field_error(early, "f-target_year") == (
        "申请国家认定目标年份应在 2027–2031 年之间（批次年度 2026 年之后，最迟 5 年内；通知要求 3–5 年内建成），"
        "填写的是 2020。"
    )
    assert "申请国家认定目标年份应在 2027–2031 年之间" in _field_error(
        client.post(plan_url(), {"target_year": "2032"}), "f-target_year"
    )
    assert "请填写四位数年份" in _field_error(client.post(plan_url(), {"target_year": "明年"}), "f-target_year")
    assert client.post(plan_url(), {"target_year": "2031"}).status_code == 302
    assert Plan.objects.get().target_year == 2031
    # The service refuses it as well (a caller without the page).
    with pytest.raises(YoujunError) as error:
        services.save_plan(
            users["county"], Plan.objects.get(), target_year=2020, targets={}, items=[], summary="", tasks=[]
        )
    assert "申请国家认定目标年份应在 2027–2031 年之间" in message_of(error.value) and status_of(error.value) == 400


def test_targets_are_checked_cv_within_0_and_1_and_the_limit_percent_as_percent(
    users: dict[str, User], pilot: Nomination
) -> None:
    client = login(users["county"])
    over = client.post(plan_url(), {"target_year": "2029", "t-cv_primary_R1-2027": "1.5"})
    assert over.status_code == 400
    assert _field_error(over, "t-cv_primary_R1-2027") == "差异系数目标应大于 0、小于 1，填写的是 1.5。"
    zero = client.post(plan_url(), {"target_year": "2029", "t-cv_junior_R3-2028": "0"})
    assert _field_error(zero, "t-cv_junior_R3-2028") == "差异系数目标应大于 0、小于 1，填写的是 0。"
    text = client.post(plan_url(), {"t-cv_junior_R3-2028": "较低"})
    assert _field_error(text, "t-cv_junior_R3-2028") == "「较低」不是数字，差异系数请填写小数，如 0.45"
    # In the recognition year the coefficient must meet the rule set's limit (初中 0.45); earlier years may not yet.
    final = client.post(plan_url(), {"target_year": "2029", "t-cv_junior_R1-2028": "0.5", "t-cv_junior_R1-2029": "0.5"})
    assert _field_error(final, "t-cv_junior_R1-2029") == (
        "2029 年为申请国家认定目标年份，初中差异系数目标应不高于 0.45（评估标准），填写的是 0.5。"
    )
    assert len(page(final).xpath("//*[@id='error-summary']//li")) == 1
    high = client.post(plan_url(), {"t-units_passed_share-2027": "120"})
    assert _field_error(high, "t-units_passed_share-2027") == "百分数应在 0 到 100 之间，填写的是 120"
    assert Plan.objects.count() == 0  # nothing saved while anything is wrong
    ok = client.post(
        plan_url(),
        {"target_year": "2029", "t-units_passed_share-2027": "0.87", "t-units_passed_share-2028": "92.5%",
         "t-cv_junior_R1-2028": "0.5", "t-cv_junior_R1-2029": "0.44"},
        follow=True,
    )  # fmt: skip
    assert "学校（学段）达标比例 2027 年：「0.87」已按 87% 理解。" in visible(ok)
    targets = Plan.objects.get().targets
    assert targets["units_passed_share"] == {"2027": 0.87, "2028": 0.925}
    assert targets["cv_junior_R1"] == {"2028": 0.5, "2029": 0.44}
    assert page(ok).xpath("//input[@name='t-units_passed_share-2028']")[0].get("value") == "92.5"


def test_milestones_lie_inside_the_plan_period(users: dict[str, User], pilot: Nomination) -> None:
    client = login(users["county"])
    late = client.post(
        plan_url(), {"target_year": "2028", "new-title-0": "建立年度监测制度", "new-milestone-0": "2029-03-01"}
    )
    assert late.status_code == 400
    assert _field_error(late, "milestone-new-0") == (
        "节点时间应在实施方案期限内（2026-01-01 至 2028-12-31），填写的是 2029-03-01。"
    )
    # The row keeps what was typed, so nothing has to be entered twice.
    assert page(late).xpath("//input[@name='new-title-0']")[0].get("value") == "建立年度监测制度"
    early = client.post(plan_url(), {"new-title-0": "x", "new-milestone-0": "2025-12-31"})
    assert "节点时间应在实施方案期限内（2026-01-01 至 2031-12-31）" in _field_error(early, "milestone-new-0")
    nameless = client.post(plan_url(), {"new-owner-0": "督导室"})
    assert _field_error(nameless, "new-title-0") == "请填写任务名称（或清空本行）。"
    saved_plan(users)
    b1 = PlanTask.objects.get(code="B1")
    wrong = client.post(plan_url(), {"target_year": "2029", f"milestone-{b1.pk}": "2031-01-01"})
    assert "节点时间应在实施方案期限内（2026-01-01 至 2029-12-31）" in _field_error(wrong, f"milestone-{b1.pk}")
    b1.refresh_from_db()
    assert b1.milestone is None


# ----------------------------------------------------------------------------------------------------
# 5. A confirmation page before every irreversible action; the reason for a return required


def test_each_irreversible_action_asks_first(users: dict[str, User], pilot: Nomination) -> None:
    county, province, ministry = login(users["county"]), login(users["province"]), login(users["ministry"])
    submit = reverse("programme:plan_action", args=[OWN_COUNTY, "submit"])
    # An incomplete plan is refused at once, without asking.
    empty = {"t-units_passed_share-2027": "", "t-cv_primary_R1-2029": "", "new-title-0": "", "new-code-0": ""}
    p = saved_plan(users, target_year="", items=[], **empty | {"new-owner-0": "", "new-milestone-0": ""})
    incomplete = county.post(submit, follow=True)
    assert "实施方案尚不能报送：请填写申请国家认定目标年份" in visible(incomplete)
    assert not page(incomplete).xpath("//*[@id='confirmation']")
    saved_plan(users)
    # The wrong role is refused before any confirmation page.
    assert province.post(submit).status_code == 403
    asked = county.post(submit)
    assert "请确认：报送实施方案" in visible(asked) and "安徽省省级教育行政部门" in visible(asked)
    p.refresh_from_db()
    assert p.status == PlanStatus.DRAFT
    confirm(county, submit)
    p.refresh_from_db()
    assert p.status == PlanStatus.SUBMITTED
    assert Notification.objects.filter(
        user=users["province"], text="芜湖市鸠江区报送了创建工作实施方案，请审核。"
    ).exists()
    # A return needs its reason: shown beside the field, nothing changes.
    back = reverse("programme:plan_action", args=[OWN_COUNTY, "return"])
    missing = province.post(back, {"reason": "  "})
    assert missing.status_code == 400 and _field_error(missing, "f-reason") == "退回时必须填写理由。"
    p.refresh_from_db()
    assert p.status == PlanStatus.SUBMITTED
    confirm(province, reverse("programme:plan_action", args=[OWN_COUNTY, "accept"]))
    p.refresh_from_db()
    assert p.status == PlanStatus.ACCEPTED
    # Progress report: submit, return (reason), submit again, forward; then publishing an experience.
    county.post(reverse("programme:report_new", args=[OWN_COUNTY]), report_form(p))
    report = ProgressReport.objects.get()
    action = lambda name: reverse("programme:report_action", args=[report.pk, name])  # noqa: E731
    confirm(county, action("submit"))
    assert province.post(action("return")).status_code == 400
    confirm(province, action("return"), {"reason": "请补充佐证"})
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED and report.reason == "请补充佐证"
    confirm(county, action("submit"))
    forwarded = confirm(province, action("forward"))
    assert forwarded.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.FORWARDED
    experience = report.experiences.get()
    publish = reverse("programme:experience_publish", args=[experience.pk])
    assert county.post(publish).status_code == 403
    asked = ministry.post(publish, {"publish": "1"})
    assert "请确认：发布典型经验" in visible(asked) and "芜湖市鸠江区县级教育行政部门" in visible(asked)
    experience.refresh_from_db()
    assert not experience.published
    confirm(ministry, publish, {"publish": "1"})
    experience.refresh_from_db()
    assert experience.published
    # Withdrawing a publication can be undone and needs no confirmation.
    ministry.post(publish, {"publish": "0"})
    experience.refresh_from_db()
    assert not experience.published


# ----------------------------------------------------------------------------------------------------
# 6. The pilot's own trend shows the stored years


def _stored(year: int, template: CountyEvaluation) -> CountyEvaluation:
    return CountyEvaluation.objects.create(
        county=template.county,
        year=year,
        standard=template.standard,
        passed=template.passed,
        units=template.units,
        units_passed=template.units_passed,
        result={**template.result, "year": year},
    )


def test_the_trend_shows_the_stored_years_before_and_since_the_batch(
    users: dict[str, User], pilot: Nomination, evaluations: Any
) -> None:
    latest = evaluations[OWN_COUNTY]  # 2024, computed from the county's approved records
    _stored(2023, latest)
    rows = selectors.trend(unit(OWN_COUNTY), BATCH_YEAR - 1)
    assert [(r["year"], r["baseline"]) for r in rows] == [(2023, True), (2024, True)]
    assert rows[1]["units"] == latest.units and rows[1]["units_passed"] == latest.units_passed
    county_page = login(users["county"]).get(reverse("programme:county", args=[OWN_COUNTY]))
    trend = page(county_page).xpath("//*[@id='trend']")[0]
    assert "暂无已存储的评估结果" not in trend.text_content()
    years = [r.xpath("./td")[0].text_content() for r in trend.xpath(".//tbody/tr")]
    assert years == ["2023 创建前", "2024 创建前"]
    assert f"{latest.units_passed}/{latest.units}" in trend.text_content()
    # A later year counts as since the creation; the plan's pages show the same trend.
    _stored(2027, latest)
    p = accepted_plan(users)
    new = page(login(users["county"]).get(reverse("programme:report_new", args=[OWN_COUNTY])))
    years = [r.xpath("./td")[0].text_content() for r in new.xpath("//*[@id='trend']//tbody/tr")]
    assert years == ["2023 创建前", "2024 创建前", "2027"]
    assert p.status == PlanStatus.ACCEPTED


def test_a_year_stored_under_two_rule_sets_is_shown_once(users: dict[str, User], evaluations: Any) -> None:
    latest = evaluations[OWN_COUNTY]
    CountyEvaluation.objects.create(
        county=latest.county, year=latest.year, standard="example-province-2017", passed=False, units=1,
        units_passed=0, result={**latest.result, "standard": "example-province-2017"},
    )  # fmt: skip
    rows = selectors.trend(unit(OWN_COUNTY), 2020)
    assert [r["year"] for r in rows] == [latest.year] and rows[0]["baseline"] is False


# ----------------------------------------------------------------------------------------------------
# 7. Names with their prefecture, no internal ids on screen


def test_counties_are_named_with_their_prefecture() -> None:
    assert place_name(unit("340207")) == "芜湖市鸠江区"
    assert place_name(unit("110101")) == "北京市东城区"  # a municipality's districts: with the municipality
    assert place_name(unit("441901")) == "东莞市"  # a city without counties: not 东莞市东莞市
    assert place_name(unit("429004")) == "湖北省仙桃市"  # under the province directly
    assert place_name(unit("660101")) == "第一师（师本级）"
    assert place_name(unit("340000")) == "安徽省"


def test_pages_name_the_county_with_its_prefecture_and_show_no_ids(users: dict[str, User], pilot: Nomination) -> None:
    for user in users.values():  # the history names people by their display name (test accounts have a code)
        User.objects.filter(pk=user.pk).update(display_name=f"{user.get_role_display()}经办人")
    p = accepted_plan(users)
    county = login(users["county"])
    county.post(reverse("programme:report_new", args=[OWN_COUNTY]), report_form(p))
    report = ProgressReport.objects.get()
    services.move_report(users["county"], report, "submit")
    services.move_report(users["province"], report, "forward")
    services.publish_experience(users["ministry"], report.experiences.get())
    pages = {
        "county": county.get(reverse("programme:county", args=[OWN_COUNTY])),
        "plan": county.get(plan_url()),
        "report": county.get(reverse("programme:report", args=[report.pk])),
        "library": Client().get(reverse("programme:experiences")),
    }
    for name, response in pages.items():
        text = visible(response)
        assert "芜湖市鸠江区" in text, name
        assert "安徽省鸠江区" not in text and OWN_COUNTY not in text, name
    assert page(pages["plan"]).xpath("//h1")[0].text_content().startswith("芜湖市鸠江区 · 创建工作实施方案")
    ids = {str(t.pk) for t in p.tasks.all()} | {str(report.pk), str(p.pk)}
    cells = [td.text_content().strip() for td in page(pages["report"]).xpath("//td")]
    assert not ids & set(cells)


# ----------------------------------------------------------------------------------------------------
# 8. Finished stages show their result and history, no live buttons


def _live(response: Any) -> list[str]:
    """The programme actions a page offers (forms posting into the plan or the report, and their buttons)."""
    tree = page(response)
    found = [f.get("id") or f.get("action") or "" for f in tree.xpath("//main//form[@method='post']")]
    found += [b.get("formaction") for b in tree.xpath("//main//button[@formaction]")]
    return [x for x in found if x]


def test_finished_stages_show_no_live_buttons(users: dict[str, User], pilot: Nomination) -> None:
    p = accepted_plan(users)
    county, province = login(users["county"]), login(users["province"])
    for client in (county, province, login(users["ministry"])):
        shown = client.get(plan_url())
        tree = page(shown)
        assert not tree.xpath("//main//input[@name='target_year']") and not tree.xpath("//*[@id='plan-save']")
        assert not tree.xpath("//*[@id='plan-submit']") and not tree.xpath("//*[@id='plan-review']")
        assert "省级已审核通过" in tree.xpath("//*[@id='plan-result']")[0].text_content()
        assert [
            h.xpath("./td")[1].text_content() for h in tree.xpath("//section[contains(@class,'history')]//tbody/tr")
        ] == [
            "开始编制实施方案",
            "报送实施方案",
            "审核通过实施方案",
        ]
        rows = [[td.text_content() for td in tr.xpath("./td")] for tr in tree.xpath("//table[@class='tasks']//tr")]
        assert ["2.1", "建立年度监测制度", "—", "督导室", "2027-06-30", "—", "未开始"] in rows
        assert "2029 年" in visible(shown)
    county.post(reverse("programme:report_new", args=[OWN_COUNTY]), report_form(p))
    report = ProgressReport.objects.get()
    url = reverse("programme:report", args=[report.pk])
    services.move_report(users["county"], report, "submit")
    assert _live(county.get(url)) == []
    assert len(_live(province.get(url))) == 3  # the review form, forward, return
    services.move_report(users["province"], report, "forward")
    for client in (county, province):
        assert _live(client.get(url)) == []
        assert "已报教育部" in page(client.get(url)).xpath("//*[@id='report-result']")[0].text_content()
