"""The to-do list of every level, the county's chase list, deadline reminders and notices settled when done.

Each test builds the state the way the other apps would (their services where they are the subject's own rules,
rows where only the resulting state matters), reads the list, does the action, and reads again: a to-do must
appear, then vanish; a reminder must be created once, e-mailed only when e-mail is enabled, never twice.
安徽省 / 芜湖市 / 鸠江区 (340207) is the own tree, 北京市 / 东城区 (110101) the other.
"""

from __future__ import annotations

import datetime as dt
import io
import smtplib
from pathlib import Path
from typing import Any

import fastexcel
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.assessment import services as assessment
from youjun.web.assessment.models import Evidence, Review
from youjun.web.collection import services as collection
from youjun.web.collection.models import CollectionYear, RecordStatus, SchoolRecord
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.programme import services as programme
from youjun.web.programme.models import (
    Batch,
    Extension,
    Nomination,
    Notification,
    Plan,
    ProgressReport,
    ProvinceSubmission,
)
from youjun.web.survey import services as survey
from youjun.web.survey.models import Campaign, CampaignStatus, Link, LinkKind, Response
from youjun.web.todo import schedule as schedules
from youjun.web.todo import selectors, services
from youjun.web.todo.models import DigestSent
from youjun.web.todo.selectors import Todo

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def keys(todos: list[Todo]) -> dict[str, Todo]:
    return {t.key: t for t in todos}


def home(user: User) -> str:
    response = login(user).get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def open_batch(ministry: User, days: int = 10, quota_min: int = 3) -> Batch:
    batch = programme.create_batch(
        ministry,
        name="第一批义务教育优质均衡先行创建",
        year=2024,
        deadline=timezone.now() + dt.timedelta(days=days),
        quota_min=quota_min,
        quota_max=5,
        min_years=3,
    )
    programme.move_batch(ministry, batch, "open")
    return batch


def nomination(batch: Batch, code: str, status: str = "draft") -> Nomination:
    county = unit(code)
    return Nomination.objects.create(
        batch=batch,
        county=county,
        province=unit(code[:2] + "0000"),
        status=status,
        form_id="recommendation-2021",
        form_version="1",
    )


def sign_off(batch: Batch, province: User) -> None:
    """The province's sign-off as ``programme.services.submit_set`` leaves it: drafts submitted, the set stored, the
    ministry told."""
    assert province.org_unit is not None
    batch.nominations.filter(province=province.org_unit, status="draft").update(status="submitted")
    ProvinceSubmission.objects.create(batch=batch, province=province.org_unit, signatory="签发人")
    programme.notify(
        programme.users_of(Role.MINISTRY),
        f"submitted-{batch.pk}-{province.org_unit.code}-20240101000000",
        f"{province.org_unit.name}报送了推荐。",
        reverse("programme:batch", args=[batch.number]),
    )


def window(days: float) -> CollectionYear:
    """The own province's collection window of YEAR, closing ``days`` from now."""
    found = CollectionYear.objects.get(year=YEAR, scope__code="340000")
    found.closes_at = timezone.now() + dt.timedelta(days=days)
    found.save()
    return found


# ---------------------------------------------------------------------------------------------------------------
# Countdown and schedule


def test_the_countdown_counts_days_in_the_shanghai_date() -> None:
    today = dt.date(2024, 6, 9)
    late_evening = dt.datetime(2024, 6, 9, 17, 30, tzinfo=dt.UTC)  # 2024-06-10 01:30 in Shanghai
    assert Todo("x", "事项", 1, "/", deadline=late_evening, today=today).countdown == "还剩 1 天"
    same_day = dt.datetime(2024, 6, 9, 23, 0, tzinfo=SHANGHAI)
    assert Todo("x", "事项", 1, "/", deadline=same_day, today=today).countdown == "今天截止"
    missed = Todo("x", "事项", 1, "/", deadline=dt.datetime(2024, 6, 7, 9, 0, tzinfo=SHANGHAI), today=today)
    assert missed.countdown == "已逾期 2 天" and missed.overdue and missed.tone == "bad"
    assert Todo("x", "事项", 1, "/").countdown == ""


def test_the_schedule_is_data_and_its_steps_fire_once_each(tmp_path: Path) -> None:
    steps = schedules.schedule()
    assert steps.before == (7, 3, 1) and steps.after == (1,)
    assert [steps.threshold(d) for d in (8, 7, 5, 3, 2, 1, 0, -1, -6)] == [
        None, "d7", "d7", "d3", "d3", "d1", "d1", "o1", "o1",
    ]  # fmt: skip
    wrong = tmp_path / "reminders.toml"
    wrong.write_text("[reminders]\nbefor = [7]\n", encoding="utf-8")
    with pytest.raises(YoujunError, match=r"未知的设置项 reminders\.befor"):
        schedules.read(wrong)
    wrong.write_text("[reminders]\nbefore = [7, -1]\n", encoding="utf-8")
    with pytest.raises(YoujunError, match="非负整数"):
        schedules.read(wrong)


# ---------------------------------------------------------------------------------------------------------------
# The ministry


def test_the_ministry_sees_the_provinces_that_have_not_nominated_and_what_waits_for_review(
    users: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    ministry, province = users["ministry"], users["province"]
    batch = open_batch(ministry, days=3)
    with django_assert_max_num_queries(8):
        todos = keys(selectors.ministry_todos(ministry))
    waiting = todos[f"unnominated-{batch.pk}"]
    assert waiting.count == 32 and waiting.text == "第一批义务教育优质均衡先行创建：32 个省份尚未报送推荐"
    assert waiting.names[:2] == ("北京市", "天津市") and waiting.more == 32 - len(waiting.names)
    assert waiting.countdown == "还剩 3 天"
    first, second = nomination(batch, "340207"), nomination(batch, "340202")
    sign_off(batch, province)
    with django_assert_max_num_queries(8):
        todos = keys(selectors.ministry_todos(ministry))
    assert todos[f"unnominated-{batch.pk}"].count == 31
    assert "安徽省" not in todos[f"unnominated-{batch.pk}"].names
    review = todos[f"review-{batch.pk}"]
    assert (review.count, review.names, review.detail) == (2, ("安徽省 2 个",), "来自 1 个省份的签发报送")
    page = home(ministry)
    assert "31 个省份尚未报送推荐" in page and "2 个推荐待审核" in page
    notice = Notification.objects.get(user=ministry, key__startswith=f"submitted-{batch.pk}-340000-")
    programme.review(ministry, first, "return", "请补充县政府承诺书")
    assert keys(selectors.ministry_todos(ministry))[f"review-{batch.pk}"].count == 1
    home(ministry)
    notice.refresh_from_db()
    assert notice.done_at is None  # one nomination of the set still waits
    programme.review(ministry, second, "return", "请补充佐证材料")
    page = home(ministry)
    notice.refresh_from_db()
    assert notice.done_at is not None and "个推荐待审核" not in page
    assert (
        services.unread_count(ministry)
        == Notification.objects.filter(user=ministry, read=False, done_at__isnull=True).count()
    )


def test_forwarded_reports_wait_until_read_and_opening_one_marks_it_read(users: dict[str, User]) -> None:
    ministry = users["ministry"]
    batch = open_batch(ministry)
    n = nomination(batch, OWN_COUNTY, "confirmed")
    plan = Plan.objects.create(nomination=n, county=n.county, status="accepted")
    report = ProgressReport.objects.create(plan=plan, county=n.county, period="2024 年上半年", status="forwarded")
    url = reverse("programme:report", args=[report.pk])
    programme.notify([ministry], f"report-{report.pk}-forward-20240701", "安徽省转报了进展报告。", url)
    todo = keys(selectors.ministry_todos(ministry))["forwarded-reports"]
    assert todo.text == "1 份创建进展报告已由省级转报教育部，待阅" and todo.url == selectors.open_url(url)
    second = ProgressReport.objects.create(plan=plan, county=n.county, period="2024 年下半年", status="forwarded")
    programme.notify([ministry], f"report-{second.pk}-forward-20250101", "安徽省转报了进展报告。", url)
    listed = keys(selectors.ministry_todos(ministry))["forwarded-reports"]
    # Each report is named with its county's prefecture and province (a ministry page spans provinces).
    assert [label for label, _ in listed.links] == [
        f"{n.county.national_name}2024 年上半年",
        f"{n.county.national_name}2024 年下半年",
    ]
    assert listed.links[0][0].startswith("安徽省芜湖市")
    second.delete()
    response = login(ministry).get(todo.url)
    assert response.status_code == 302 and response["Location"] == url
    assert "forwarded-reports" not in keys(selectors.ministry_todos(ministry))
    elsewhere = login(ministry).get(reverse("todo:open") + "?next=https://evil.example/")
    assert elsewhere["Location"] == reverse("home")


# ---------------------------------------------------------------------------------------------------------------
# Provinces and prefectures


def test_a_province_sees_how_many_more_to_nominate_before_its_own_extended_deadline(users: dict[str, User]) -> None:
    ministry, province = users["ministry"], users["province"]
    batch = open_batch(ministry, days=2)
    nomination(batch, OWN_COUNTY)
    todo = keys(selectors.todos_for(province))[f"nominate-{batch.pk}"]
    assert todo.text == "第一批义务教育优质均衡先行创建：还需推荐 2 个县（区）" and todo.count == 2
    assert todo.countdown == "还剩 2 天" and todo.remind
    assert todo.url == reverse("programme:province", args=[batch.number, "340000"])
    later = timezone.now() + dt.timedelta(days=9)
    Extension.objects.create(batch=batch, province=unit("340000"), deadline=later, granted_by=ministry)
    todo = keys(selectors.todos_for(province))[f"nominate-{batch.pk}"]
    assert todo.countdown == "还剩 9 天" and "教育部已同意延期至" in todo.detail
    other = keys(selectors.todos_for(users["other_province"]))[f"nominate-{batch.pk}"]
    assert other.countdown == "还剩 2 天" and other.count == 3  # Beijing's deadline and quota are its own
    nomination(batch, "340202")
    nomination(batch, "340209")
    todo = keys(selectors.todos_for(province))[f"nominate-{batch.pk}"]
    assert todo.text.endswith("已推荐 3 个县（区），待签发报送教育部")
    opened = Notification.objects.get(user=province, key=f"batch-open-{batch.pk}")
    sign_off(batch, province)
    page = home(province)
    assert f"nominate-{batch.pk}" not in keys(selectors.todos_for(province)) and "待签发报送" not in page
    opened.refresh_from_db()
    assert opened.done_at is not None  # "start nominating" is done once the set is signed off


def test_returned_nominations_plans_and_reports_reach_the_province_and_vanish_when_answered(
    users: dict[str, User],
) -> None:
    ministry, province = users["ministry"], users["province"]
    batch = open_batch(ministry)
    returned = nomination(batch, "340202", "submitted")
    programme.review(ministry, returned, "return", "请补充县政府承诺书")
    todo = keys(selectors.todos_for(province))["returned-nominations"]
    assert todo.detail == "退回理由：请补充县政府承诺书"
    assert todo.url == reverse("programme:nomination", args=[returned.pk])
    notice = Notification.objects.get(user=province, key__startswith=f"return-{returned.pk}-")
    Nomination.objects.filter(pk=returned.pk).update(status="submitted")  # resubmitted
    home(province)
    notice.refresh_from_db()
    assert notice.done_at is not None and "returned-nominations" not in keys(selectors.todos_for(province))
    pilot = nomination(batch, OWN_COUNTY, "confirmed")
    plan = Plan.objects.create(nomination=pilot, county=pilot.county, status="submitted")
    report = ProgressReport.objects.create(plan=plan, county=pilot.county, period="2024 年", status="submitted")
    todos = keys(selectors.todos_for(province))
    assert todos["plans"].text == "1 个先行创建县报送了创建工作实施方案，待审核"
    assert todos["plans"].links == (("鸠江区", reverse("programme:plan", args=[OWN_COUNTY])),)
    assert todos["reports"].links == (("鸠江区2024 年", reverse("programme:report", args=[report.pk])),)
    assert "plans" not in keys(selectors.todos_for(users["other_province"]))
    programme.move_plan(province, plan, "return", "目标年份偏晚")
    assert "plans" not in keys(selectors.todos_for(province))
    Batch.objects.filter(pk=batch.pk).update(status="published")  # a pilot: a confirmed county of a published batch
    county_todo = keys(selectors.todos_for(users["county"]))["plan"]
    assert county_todo.text == "省级退回了创建工作实施方案，请修改后重新报送" and "目标年份偏晚" in county_todo.detail


def test_supervisors_receive_county_submissions_and_see_who_has_not_submitted(users: dict[str, User]) -> None:
    for key in ("province", "prefecture"):
        todo = keys(selectors.todos_for(users[key]))[f"unsubmitted-{YEAR}"]
        assert todo.names == ("鸠江区",) and todo.text == f"1 个县（区）尚未报送 {YEAR} 年度数据"
    collection.move_submission(users["county"], unit(OWN_COUNTY), YEAR, "submitted")
    for key in ("province", "prefecture"):
        todos = keys(selectors.todos_for(users[key]))
        assert todos[f"receive-{YEAR}"].text == f"1 个县（区）已报送 {YEAR} 年度数据，待审核接收"
        assert f"unsubmitted-{YEAR}" not in todos
    assert f"receive-{YEAR}" not in keys(selectors.todos_for(users["other_province"]))
    collection.move_submission(users["prefecture"], unit(OWN_COUNTY), YEAR, "accepted")
    assert f"receive-{YEAR}" not in keys(selectors.todos_for(users["province"]))


# ---------------------------------------------------------------------------------------------------------------
# Counties and schools


def test_a_county_chases_its_schools_reviews_what_they_submit_and_reports_upward(
    users: dict[str, User], open_record: SchoolRecord
) -> None:
    county, school = users["county"], users["school"]
    window(5)
    unregistered = School.objects.create(
        school_id="3402079999", name="新建小学", county=unit(OWN_COUNTY), school_type="小学",
        ownership="公办", urban_rural="城区", opened_year=YEAR,
    )  # fmt: skip
    todo = keys(selectors.todos_for(county))[f"filing-{YEAR}"]
    assert todo.text == f"{YEAR} 年度还有 2 所学校未完成填报" and todo.count == 2
    assert todo.detail == "未创建填报表 1 所，填报中 1 所" and todo.countdown == "还剩 5 天"
    assert todo.url == reverse("todo:chase", args=[OWN_COUNTY, YEAR])
    page = home(county)
    assert page.index("待办事项") < page.index("学校名册") and "查看催报名单" in page
    unregistered.closed_year = YEAR
    unregistered.save()
    collection.move_record(school, open_record, RecordStatus.SUBMITTED)
    todos = keys(selectors.todos_for(county))
    assert f"filing-{YEAR}" not in todos
    assert todos[f"review-{YEAR}"].text == f"1 所学校已提交 {YEAR} 年度数据，待县（区）审核"
    collection.move_record(county, SchoolRecord.objects.get(pk=open_record.pk), RecordStatus.APPROVED)
    todos = keys(selectors.todos_for(county))
    assert f"review-{YEAR}" not in todos
    assert todos[f"upward-{YEAR}"].text.endswith("所学校的数据已审核，可以报送上级")
    collection.move_submission(county, unit(OWN_COUNTY), YEAR, "submitted")
    assert f"upward-{YEAR}" not in keys(selectors.todos_for(county))
    collection.move_submission(users["province"], unit(OWN_COUNTY), YEAR, "returned", "学校数与名册不符")
    upward = keys(selectors.todos_for(county))[f"upward-{YEAR}"]
    assert upward.text.startswith("上级退回了") and upward.detail == "退回原因：学校数与名册不符"


def test_a_county_sees_missing_evidence_and_its_survey_against_the_plan(users: dict[str, User]) -> None:
    county = users["county"]
    items = assessment.reviewed_of(unit(OWN_COUNTY), YEAR).evidence
    evidence = keys(selectors.todos_for(county))[f"evidence-{YEAR}"]
    assert evidence.count == len(items) > 0 and evidence.names[0].startswith(items[0])
    Evidence.objects.create(
        county=unit(OWN_COUNTY), year=YEAR, item=items[0], original_name="a.pdf", stored_name="todo-test-a",
        content_type="application/pdf", size=1, sha256="0" * 64, uploaded_by=county,
    )  # fmt: skip
    assert keys(selectors.todos_for(county))[f"evidence-{YEAR}"].count == len(items) - 1
    Review.objects.create(county=unit(OWN_COUNTY), year=YEAR, item=items[0], verdict="待补充", reviewer=county)
    assert keys(selectors.todos_for(county))[f"supplement-{YEAR}"].count == 1
    campaign = survey.create_campaign(unit(OWN_COUNTY), YEAR, "社会认可度调查", None, {"parents": 10}, county)
    assert keys(selectors.todos_for(county))[f"survey-{campaign.pk}"].text.endswith("尚未开始")
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.OPEN)
    survey.generate_links(campaign, "parents", 4)
    questions = campaign.questionnaire["groups"]["parents"]["questions"]
    for link in Link.objects.filter(campaign=campaign, kind=LinkKind.SINGLE)[:4]:
        Response.objects.create(
            campaign=campaign, link=link, channel="single", group="parents",
            answers={q["id"]: "满意" for q in questions}, submitted_at=timezone.now(),
        )  # fmt: skip
    todo = keys(selectors.todos_for(county))[f"survey-{campaign.pk}"]
    assert todo.text == "社会认可度调查进行中：已收到 4 份答卷，计划 10 份，还差 6 份" and todo.count == 6
    assert todo.detail.startswith("有效回收率 40") and todo.detail.endswith("，尚未达到")
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED)
    assert f"survey-{campaign.pk}" not in keys(selectors.todos_for(county))


def test_a_pilot_county_is_asked_for_its_plan(users: dict[str, User]) -> None:
    batch = open_batch(users["ministry"])
    nomination(batch, OWN_COUNTY, "confirmed")
    assert "plan" not in keys(selectors.todos_for(users["county"]))  # not yet published
    Batch.objects.filter(pk=batch.pk).update(status="published")
    assert keys(selectors.todos_for(users["county"]))["plan"].url == reverse("programme:plan", args=[OWN_COUNTY])


def test_a_school_sees_what_to_fill_and_what_was_returned_with_the_reason(
    users: dict[str, User], open_record: SchoolRecord
) -> None:
    school, county = users["school"], users["county"]
    window(3)
    todo = keys(selectors.todos_for(school))[f"record-{open_record.pk}"]
    assert todo.text == f"请填写并提交本校 {YEAR} 年度数据" and todo.countdown == "还剩 3 天"
    assert todo.url == reverse("collection:record", args=[open_record.pk])
    collection.move_record(county, open_record, RecordStatus.SUBMITTED)
    assert selectors.todos_for(school) == []
    collection.move_record(county, SchoolRecord.objects.get(pk=open_record.pk), RecordStatus.RETURNED, "教师数有误")
    todo = keys(selectors.todos_for(school))[f"record-{open_record.pk}"]
    assert todo.text == f"县（区）退回了本校 {YEAR} 年度数据，请修改后重新提交"
    assert todo.detail == "退回原因：教师数有误"
    assert "退回原因：教师数有误" in home(school)
    assert selectors.todos_for(users["viewer"]) == []
    assert "只读账号用于查看数据，没有待办事项。" in home(users["viewer"])


# ---------------------------------------------------------------------------------------------------------------
# The chase list


def test_the_chase_list_page_print_and_excel_list_the_schools_with_their_reporters(
    users: dict[str, User], open_record: SchoolRecord
) -> None:
    users["school"].email = "school@example.cn"
    users["school"].save()
    client = login(users["county"])
    args = [OWN_COUNTY, YEAR]
    page = client.get(reverse("todo:chase", args=args)).content.decode()
    assert "共 <strong>1</strong> 所学校尚未完成填报" in page and open_record.name in page
    assert "school@example.cn" in page and "一键催报" in page
    printed = client.get(reverse("todo:chase_print", args=args)).content.decode()
    assert open_record.name in printed and 'class="bar"' not in printed and "<nav" not in printed
    response = client.get(reverse("todo:chase_xlsx", args=args))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = fastexcel.read_excel(io.BytesIO(response.content).getvalue()).load_sheet(0, header_row=1).to_polars()
    assert sheet.columns[:5] == ["学校标识码", "学校名称", "办学类型", "城乡分类", "填报状态"]
    assert sheet["学校名称"].drop_nulls().to_list() == [open_record.name]
    assert sheet["电子邮箱"].to_list()[0] == "school@example.cn"
    outside = reverse("todo:chase", args=[OTHER_COUNTY, YEAR])
    assert client.get(outside).status_code == 404
    assert login(users["school"]).get(reverse("todo:chase", args=args)).status_code == 403
    assert login(users["province"]).get(reverse("todo:chase", args=args)).status_code == 200


def test_one_click_chase_notifies_each_reporter_once_a_day_and_e_mails_when_enabled(
    users: dict[str, User], open_record: SchoolRecord, settings: Any
) -> None:
    settings.YOUJUN_EMAIL_ENABLED = True
    settings.YOUJUN_PUBLIC_URL = "https://youjun.example"
    school = users["school"]
    school.email = "school@example.cn"
    school.save()
    url = reverse("todo:chase_send", args=[OWN_COUNTY, YEAR])
    response = login(users["county"]).post(url, follow=True)
    assert "已向 1 所学校的填报员发送催报提醒" in response.content.decode()
    notice = Notification.objects.get(user=school, key__startswith="chase:")
    assert notice.url == reverse("collection:record", args=[open_record.pk]) and "鸠江区教育局催报" in notice.text
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["school@example.cn"]
    assert f"https://youjun.example{notice.url}" in mail.outbox[0].body
    again = login(users["county"]).post(url, follow=True)
    assert "今天已经催报过" in again.content.decode() and len(mail.outbox) == 1
    assert Notification.objects.filter(user=school, key__startswith="chase:").count() == 1
    assert login(users["province"]).post(url).status_code == 403
    collection.move_record(school, open_record, RecordStatus.SUBMITTED)
    home(school)
    notice.refresh_from_db()
    assert notice.done_at is not None  # the record was submitted: the chase is done


# ---------------------------------------------------------------------------------------------------------------
# Reminders


def test_reminders_are_created_once_per_step_and_e_mailed_only_when_enabled(
    users: dict[str, User], settings: Any
) -> None:
    province = users["province"]
    province.email = "province@example.cn"
    province.save()
    batch = open_batch(users["ministry"], days=3)
    dry = services.send_reminders(dry_run=True)
    reminded = {r.user.pk for r in dry.created if r.key.startswith(f"remind:nominate-{batch.pk}:")}
    assert reminded == {province.pk, users["other_province"].pk}
    assert not Notification.objects.filter(key__startswith="remind:").exists()
    run = services.send_reminders()
    notice = Notification.objects.get(user=province, key__startswith=f"remind:nominate-{batch.pk}:")
    assert notice.key.endswith(":d3") and "还需推荐 3 个县（区）" in notice.text and "还剩 3 天" in notice.text
    assert run.emails == 0 and mail.outbox == []  # e-mail is not enabled
    assert services.send_reminders().created == []  # the same day again: nothing new
    settings.YOUJUN_EMAIL_ENABLED = True
    settings.YOUJUN_PUBLIC_URL = "https://youjun.example"
    Batch.objects.filter(pk=batch.pk).update(deadline=timezone.now() + dt.timedelta(hours=20))
    run = services.send_reminders()
    assert {r.user.pk for r in run.created} == {province.pk, users["other_province"].pk}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["province@example.cn"]
    message = mail.outbox[0]
    assert message.subject == "【优均】待办提醒：第一批义务教育优质均衡先行创建：还需推荐 3 个县（区）"
    assert f"https://youjun.example{reverse('programme:province', args=[batch.number, '340000'])}" in message.body
    assert services.send_reminders().created == [] and len(mail.outbox) == 1
    assert not Notification.objects.filter(user=users["ministry"], key__startswith="remind:").exists()


def test_schools_and_counties_are_reminded_of_the_window_and_overdue_work_once(
    users: dict[str, User], open_record: SchoolRecord
) -> None:
    window(0.5)
    services.send_reminders()
    school_notice = Notification.objects.get(user=users["school"], key__startswith=f"remind:record-{open_record.pk}:")
    assert school_notice.key.endswith(":d1") and "请填写并提交本校" in school_notice.text
    county_notice = Notification.objects.get(user=users["county"], key__startswith=f"remind:filing-{YEAR}:")
    assert "还有 1 所学校未完成填报" in county_notice.text
    assert not Notification.objects.filter(user=users["other_county"], key__startswith="remind:").exists()
    window(-2)
    services.send_reminders()
    late = Notification.objects.get(user=users["county"], key__startswith=f"remind:filing-{YEAR}:", key__endswith=":o1")
    assert late.text.startswith("已逾期：") and "已逾期 2 天" in late.text
    assert services.send_reminders().created == []
    window(10)  # the province extends the window; the school submits
    collection.move_record(users["school"], open_record, RecordStatus.SUBMITTED)
    run = services.send_reminders()
    assert run.settled >= 3
    assert not Notification.objects.filter(key__startswith="remind:", done_at__isnull=True).exists()


def test_the_command_runs_and_its_dry_run_writes_nothing(users: dict[str, User], open_record: SchoolRecord) -> None:
    window(2)
    out = io.StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    assert (
        "演练：将新建站内通知 2 条" in out.getvalue()
        and not Notification.objects.filter(key__startswith="remind:").exists()
    )
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    assert "新建站内通知 2 条" in out.getvalue()
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    assert "新建站内通知 0 条" in out.getvalue()


def test_the_daily_digest_goes_once_a_day_to_users_with_an_address(
    users: dict[str, User], open_record: SchoolRecord, settings: Any
) -> None:
    county = users["county"]
    county.email = "county@example.cn"
    county.save()
    assert services.send_digests() == 0  # e-mail not enabled
    settings.YOUJUN_EMAIL_ENABLED = True
    assert services.send_digests() == 1
    message = mail.outbox[0]
    assert message.to == ["county@example.cn"] and "待办事项" in message.subject
    assert f"{YEAR} 年度还有 1 所学校未完成填报" in message.body
    assert services.send_digests() == 0 and DigestSent.objects.filter(user=county).count() == 1


def test_the_home_page_shows_open_notices_and_settles_done_ones(users: dict[str, User]) -> None:
    province = users["province"]
    programme.notify([province], "extension-1-202401010000", "教育部同意延期。", "/programme/")
    page = home(province)
    assert "未读通知（1 条）" in page and "教育部同意延期。" in page
    Notification.objects.filter(user=province).update(done_at=timezone.now())
    assert "未读通知（" not in home(province) and services.unread_count(province) == 0
    assert list(services.done_notifications(province)) == list(Notification.objects.filter(user=province))


def test_the_lower_levels_lists_take_the_same_queries_for_one_unit_as_for_many(
    users: dict[str, User], open_record: SchoolRecord
) -> None:
    own, other = unit(OWN_COUNTY), unit(OTHER_COUNTY)
    SchoolRecord.objects.filter(county=other, year=YEAR).update(status=RecordStatus.DRAFT)
    with CaptureQueriesContext(connection) as one:
        alone = selectors.county_todos([own], full=False)
    with CaptureQueriesContext(connection) as two:
        both = selectors.county_todos([own, other], full=False)
    assert len(one) == len(two) and alone[own.pk] == both[own.pk]
    assert both[other.pk][0].text == f"{YEAR} 年度还有 12 所学校未完成填报"
    with CaptureQueriesContext(connection) as every:
        schools = selectors.school_todos()
    assert len(every) <= 3 and len(schools) == 1 + 12


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses every message."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPRecipientsRefused({})


def test_a_failing_mail_server_leaves_the_notices_and_is_counted(users: dict[str, User], settings: Any) -> None:
    settings.YOUJUN_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "web.test_todo.RefusingBackend"
    users["province"].email = "province@example.cn"
    users["province"].save()
    open_batch(users["ministry"], days=1)
    run = services.send_reminders()
    assert run.failed == 1 and run.emails == 0
    assert Notification.objects.filter(user=users["province"], key__startswith="remind:").count() == 1
