"""The creation programme: every transition, including the refused ones, with their Chinese messages.

Services are exercised directly (rules), and through the pages where the page decides (jurisdiction, 403 pages,
messages, exports). 安徽省 (340000) is the own province, 北京市 (110000) the other.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import docx
import fastexcel
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from web.conftest import OWN_COUNTY
from youjun import forms
from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.assessment.demo import tiny_pdf
from youjun.web.audit.models import Transition
from youjun.web.organisation.models import BasicBalance, OrgUnit
from youjun.web.programme import recommendation, recommendation_docs, services
from youjun.web.programme.models import (
    Batch,
    Nomination,
    Notification,
)
from youjun.web.shortcuts import message_of, status_of

pytestmark = pytest.mark.django_db
ELIGIBLE = ("340207", "340202", "340209")  # 鸠江区, 镜湖区, 弋江区: basic balance 2015
RECENT = "340210"  # 湾沚区: basic balance 2023, not 3 years before 2024
UNKNOWN = "340212"  # 繁昌区: no basic-balance year anywhere


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


@pytest.fixture(autouse=True)
def evidence_dir(settings: Any, tmp_path: Any) -> None:
    """Uploaded evidence and letters go to a folder of the test."""
    settings.YOUJUN_EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def years(db: None) -> None:
    for code in ELIGIBLE:
        BasicBalance.objects.create(county=unit(code), year=2015)
    BasicBalance.objects.create(county=unit(RECENT), year=2023)


def open_batch(ministry: User, quota_min: int = 2, quota_max: int = 2, days: int = 10) -> Batch:
    batch = services.create_batch(
        ministry,
        name="第一批义务教育优质均衡先行创建",
        year=2024,
        deadline=timezone.now() + dt.timedelta(days=days),
        quota_min=quota_min,
        quota_max=quota_max,
        min_years=3,
    )
    services.move_batch(ministry, batch, "open")
    return batch


@pytest.fixture
def batch(users: dict[str, User], years: None) -> Batch:
    return open_batch(users["ministry"])


@dataclass(frozen=True)
class Refused:
    """A refusal as the user meets it: its HTTP status and its Chinese message."""

    status: int
    message: str


def refused(call: Any, *args: Any, **kwargs: Any) -> Refused:
    with pytest.raises(YoujunError) as caught:
        call(*args, **kwargs)
    return Refused(status_of(caught.value), message_of(caught.value))


def complete(user: User, n: Nomination) -> None:
    """Fill every required field the data left empty and upload the evidence of conditions 1 and 3, as the
    province would."""
    defn = recommendation.definition_of(n.form_id, n.form_version)
    fixed = recommendation.locked(defn, set(n.data_keys))
    sample = {
        "text": "说明",
        "longtext": "佐证说明",
        "int": 1,
        "year": 2026,
        "number": 1.0,
        "percent": 0.9,
        "date": "2025-01-01",
    }
    values: dict[str, Any] = {}
    for f in defn.fields:
        if f.required and n.values.get(f.key) in (None, "", []) and f.type != "table" and f.key not in fixed:
            if f.key == "contact_phone":
                values[f.key] = "0551-62812345"
            elif f.type == "choice":
                values[f.key] = f.choices[0]
            elif f.type == "multichoice":
                values[f.key] = [f.choices[4]]
            else:
                values[f.key] = sample[f.type]
    services.save_form(user, n, values)
    for kind in services.EVIDENCE_KINDS:
        services.add_evidence(user, n, kind, SimpleUploadedFile("佐证.pdf", tiny_pdf()), "佐证.pdf")


def letter(user: User, batch: Batch, code: str = "340000") -> None:
    """The province's stamped letter, which its sign-off is sent under."""
    services.add_letter(user, batch, unit(code), SimpleUploadedFile("推荐函.pdf", tiny_pdf("letter")), "推荐函.pdf")


def nominated_set(users: dict[str, User], batch: Batch, codes: tuple[str, ...] = ELIGIBLE[:2]) -> list[Nomination]:
    out = [services.nominate(users["province"], batch, unit(c)) for c in codes]
    for n in out:
        complete(users["province"], n)
    letter(users["province"], batch)
    return out


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ----------------------------------------------------------------------------------------------------
# Batches


def test_only_the_ministry_opens_a_batch_and_later_batches_reuse_the_settings(users: dict[str, User]) -> None:
    error = refused(
        services.create_batch,
        users["province"],
        name="x",
        year=2024,
        deadline=timezone.now(),
        quota_min=3,
        quota_max=5,
        min_years=3,
    )
    assert error.status == 403 and error.message == "只有教育部账号可以办理此事项。"
    assert services.batch_defaults()["quota_min"] == 3 and services.batch_defaults()["quota_max"] == 5
    first = open_batch(users["ministry"], quota_min=2, quota_max=4)
    assert first.number == 1 and first.status == "open"
    again = services.batch_defaults()
    assert (again["quota_min"], again["quota_max"], again["min_years"]) == (2, 4, 3)
    assert again["name"].startswith("第2批")
    assert (
        refused(services.move_batch, users["ministry"], first, "open").message
        == "批次当前状态为「推荐中」，不能开始推荐。"
    )
    assert (
        refused(services.move_batch, users["ministry"], first, "publish").message
        == "还没有确认的先行创建县，不能公布名单。"
    )
    assert [e.action for e in services.history("batch", first)] == ["创建批次", "开始推荐"]


def test_the_batch_form_creates_a_draft_batch(users: dict[str, User]) -> None:
    client = login(users["ministry"])
    assert client.get(reverse("programme:batch_new")).status_code == 200
    response = client.post(
        reverse("programme:batch_new"),
        {
            "name": "第一批",
            "year": 2024,
            "deadline": "2030-12-10T17:00",
            "quota_min": 3,
            "quota_max": 5,
            "min_years": 3,
        },
    )
    batch = Batch.objects.get()
    assert response.status_code == 302 and batch.status == "draft" and batch.quota_max == 5
    bad = client.post(
        reverse("programme:batch_new"),
        {
            "name": "第二批",
            "year": 2024,
            "deadline": "2030-12-10T17:00",
            "quota_min": 5,
            "quota_max": 3,
            "min_years": 3,
        },
    )
    assert "推荐名额下限应不小于 1，且不大于上限。" in bad.content.decode()
    page = login(users["province"]).get(reverse("programme:batch_new"))
    assert page.status_code == 403 and "只有教育部账号可以办理此事项。" in page.content.decode()


# ----------------------------------------------------------------------------------------------------
# Nominations


def test_a_nomination_is_prefilled_from_the_data(users: dict[str, User], batch: Batch, evaluations: Any) -> None:
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    assert (n.form_id, n.form_version) == ("recommendation-2021", str(forms.load_form("recommendation-2021").version))
    _defn, v = recommendation_docs.values_of(n)
    assert v["county_name"] == "鸠江区" and v["county_code"] == OWN_COUNTY and v["province"] == "安徽省"
    assert v["prefecture"] == "芜湖市"
    assert v["basic_balance_year"] == 2015 and v["basic_balance_years"] == 9 and v["condition_2"] == "符合"
    # The hierarchy's facts and the basic-balance year are computed when shown, never stored with the nomination.
    assert not {"county_name", "basic_balance_year", "basic_balance_years", "condition_2"} & set(n.values)
    result = evaluations[OWN_COUNTY].result
    stages = result["resource_allocation"]["stages"]
    assert v["units_total"] == sum(s["units"] for s in stages.values())
    assert v["cvs"][0]["primary_cv"] == stages["primary"]["cv"]["R1"]
    assert v["students_primary"] > 0 and "schools_primary" in v
    assert "condition_1_evidence" not in v  # the province completes it
    assert {"cvs", "units_total", "students_primary"} <= set(n.data_keys)
    page = login(users["province"]).get(reverse("programme:nomination", args=[n.pk])).content.decode()
    assert 'name="f-condition_1_evidence"' in page and 'name="f-county_name"' not in page
    assert "（来自数据）" in page and "R1 每百名学生拥有高于规定学历教师数" in page


def test_ineligible_and_unknown_counties(users: dict[str, User], batch: Batch) -> None:
    error = refused(services.nominate, users["province"], batch, unit(RECENT))
    assert error.message == (
        "湾沚区不符合遴选条件：2023 年通过国家基本均衡认定，距批次年度仅 1 年，不满 3 年，不符合遴选条件二。"
    )
    unknown = services.nominate(users["province"], batch, unit(UNKNOWN))
    eligible = services.nominate(users["province"], batch, unit(ELIGIBLE[0]))
    complete(users["province"], unknown)
    complete(users["province"], eligible)
    letter(users["province"], batch)
    error = refused(services.submit_set, users["province"], batch, unit("340000"), "张三")
    assert (
        "芜湖市繁昌区：尚未登记该县（区）通过国家基本均衡认定的年份，不能报送（请省级在「基本均衡认定年份」中登记）。"
        in error.message
    )
    assert Nomination.objects.filter(status="submitted").count() == 0


def test_quota_is_enforced_on_nomination_and_submission(users: dict[str, User], batch: Batch) -> None:
    nominated_set(users, batch)
    error = refused(services.nominate, users["province"], batch, unit(ELIGIBLE[2]))
    assert error.message == "超出推荐名额：每省最多推荐 2 个县（区），安徽省已推荐 2 个。"
    batch.quota_max = 1  # the ministry tightened the quota after the nominations were made
    batch.save()
    error = refused(services.submit_set, users["province"], batch, unit("340000"), "张三")
    assert error.message == "超出推荐名额：每省最多推荐 1 个县（区），当前 2 个。"
    assert not Nomination.objects.filter(status="submitted").exists()
    assert (
        refused(services.nominate, users["province"], batch, unit(ELIGIBLE[0])).message
        == "鸠江区已在本批次推荐名单中。"
    )


def test_the_deadline_and_the_extension(users: dict[str, User], batch: Batch) -> None:
    late = batch.deadline + dt.timedelta(hours=1)
    error = refused(services.nominate, users["province"], batch, unit(ELIGIBLE[0]), now=late)
    assert error.message.startswith("已超过推荐截止时间（") and error.message.endswith("如确需延期，请联系教育部。")
    assert refused(services.grant_extension, users["province"], batch, unit("340000"), late, "").status == 403
    assert (
        "应晚于"
        in refused(services.grant_extension, users["ministry"], batch, unit("340000"), batch.deadline, "").message
    )
    services.grant_extension(users["ministry"], batch, unit("340000"), late + dt.timedelta(days=1), "材料补充")
    services.nominate(users["province"], batch, unit(ELIGIBLE[0]), now=late)
    # Beijing got no extension.
    other = services.province_of(unit("110101"))
    assert services.effective_deadline(batch, other) == batch.deadline
    assert Notification.objects.filter(user=users["province"], text__contains="推荐延期至").exists()


def test_wrong_role_and_other_province_are_refused(users: dict[str, User], batch: Batch) -> None:
    error = refused(services.nominate, users["province"], batch, unit("110101"))
    assert error.status == 403 and error.message == "只有北京市省级教育行政部门账号可以办理此事项。"
    assert refused(services.nominate, users["county"], batch, unit(OWN_COUNTY)).status == 403
    client = login(users["province"])
    url = reverse("programme:nominate", args=[batch.number, "340000"])
    response = client.post(url, {"county": "110101"}, follow=True)
    assert "只能推荐安徽省的县（区），请从列表中选择。" in response.content.decode()
    assert (
        client.post(reverse("programme:nominate", args=[batch.number, "110000"]), {"county": "110101"}).status_code
        == 404
    )
    county = login(users["county"]).post(url, {"county": OWN_COUNTY})
    assert county.status_code == 404  # a county cannot reach the province's page
    viewer = login(users["viewer"]).post(url, {"county": OWN_COUNTY})
    assert viewer.status_code == 403 and "只有安徽省省级教育行政部门账号可以办理此事项。" in viewer.content.decode()
    assert Nomination.objects.count() == 0


def test_the_page_flow_reports_refusals_as_messages(users: dict[str, User], batch: Batch) -> None:
    client = login(users["province"])
    url = reverse("programme:nominate", args=[batch.number, "340000"])
    response = client.post(url, {"county": OWN_COUNTY})
    n = Nomination.objects.get()
    assert response.url == reverse("programme:nomination", args=[n.pk])
    page = client.post(url, {"county": RECENT}, follow=True).content.decode()
    assert "湾沚区不符合遴选条件" in page
    save = client.post(
        reverse("programme:nomination", args=[n.pk]),
        {"f-condition_1_evidence": "成立领导小组", "f-target_year": "2026"},
    )
    n.refresh_from_db()
    assert (
        save.status_code == 302
        and n.values["condition_1_evidence"] == "成立领导小组"
        and n.values["target_year"] == 2026
    )
    assert n.values["students_primary"] > 0  # the data fields are kept
    submit = client.post(
        reverse("programme:submit_set", args=[batch.number, "340000"]), {"signatory": "张三"}, follow=True
    )
    assert "推荐数量不足：每省应推荐 2–2 个县（区），当前 1 个。" in submit.content.decode()


# ----------------------------------------------------------------------------------------------------
# Review and publication


def test_review_and_publication(users: dict[str, User], batch: Batch) -> None:
    first, second = nominated_set(users, batch)
    province, ministry = users["province"], users["ministry"]
    assert services.submit_set(province, batch, unit("340000"), "张三") == 2
    assert refused(services.save_form, province, first, {}).message == "推荐当前为「已报送」，不能修改。"
    assert refused(services.review, province, first, "confirm").status == 403
    error = refused(services.review, ministry, first, "confirm")
    assert error.message == "确认前请先核定遴选条件一和条件三均为「符合」。"
    services.set_verdicts(ministry, first, "met", "met")
    services.review(ministry, first, "confirm")
    assert refused(services.review, ministry, second, "return", "  ").message == "退回或不通过时必须填写理由。"
    services.review(ministry, second, "return", "条件三佐证不足")
    assert Notification.objects.filter(user=province, text="教育部退回修改芜湖市镜湖区的推荐：条件三佐证不足").exists()
    assert refused(services.move_batch, ministry, batch, "publish").message == (
        "尚有 1 个推荐未审核完毕（已报送或已退回修改），不能公布名单。"
    )
    services.save_form(province, second, {"condition_3_evidence": "补充满意度调查报告"})
    services.resubmit(province, second)
    services.review(ministry, second, "reject", "满意度调查样本不足")
    second.refresh_from_db()
    assert second.status == "rejected" and second.reason == "满意度调查样本不足"
    services.move_batch(ministry, batch, "publish", dt.date(2024, 12, 20))
    batch.refresh_from_db()
    assert batch.status == "published" and batch.published_on == dt.date(2024, 12, 20)
    assert refused(services.review, ministry, second, "confirm").message.startswith("推荐当前为「不予确认」")
    trail = [(e.action, e.source, e.target, e.reason) for e in services.history("nomination", second)]
    assert trail == [
        ("推荐", "", "draft", ""),
        ("签发报送", "draft", "submitted", "签发人：张三"),
        ("退回修改", "submitted", "returned", "条件三佐证不足"),
        ("修改后重新报送", "returned", "submitted", ""),
        ("不予确认", "submitted", "rejected", "满意度调查样本不足"),
    ]
    assert all(e.actor is not None for e in Transition.objects.all())
    # The public list (no login) shows the confirmed county only; the export opens in Excel.
    anonymous = Client()
    page = anonymous.get(reverse("programme:public")).content.decode()
    assert "芜湖市鸠江区" in page and "镜湖区" not in page and "2024年12月20日公布" in page
    export = anonymous.get(reverse("programme:public_export"))
    frame = fastexcel.read_excel(export.content).load_sheet(0, header_row=1).to_polars()
    assert frame.columns == ["批次", "公布日期", "省份", "县（市、区）", "行政区划代码"]
    assert frame.row(0) == ("第一批义务教育优质均衡先行创建", "2024-12-20", "安徽省", "芜湖市鸠江区", "340207")
    # The page of a nomination shows its history.
    nomination_page = login(ministry).get(reverse("programme:nomination", args=[second.pk])).content.decode()
    assert "满意度调查样本不足" in nomination_page and "办理记录" in nomination_page


def test_the_recommendation_form_exports_to_word_and_excel(
    users: dict[str, User], batch: Batch, evaluations: Any
) -> None:
    n = services.nominate(users["province"], batch, unit(OWN_COUNTY))
    complete(users["province"], n)
    client = login(users["province"])
    word = client.get(reverse("programme:nomination_export", args=[n.pk, "docx"]))
    assert word["Content-Type"].endswith("wordprocessingml.document")
    document = docx.Document(io.BytesIO(word.content))
    text = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "鸠江区" in text and "340207" in text and "佐证说明" in text
    excel = client.get(reverse("programme:nomination_export", args=[n.pk, "xlsx"]))
    reader = fastexcel.read_excel(excel.content)
    cells = [
        str(x)
        for sheet in reader.sheet_names
        for row in reader.load_sheet(sheet, header_row=None).to_polars().rows()
        for x in row
    ]
    assert "鸠江区" in cells and "340207" in cells
    assert client.get(reverse("programme:nomination_export", args=[n.pk, "pdf"])).status_code == 404
    assert (
        login(users["other_province"]).get(reverse("programme:nomination_export", args=[n.pk, "docx"])).status_code
        == 404
    )


# ----------------------------------------------------------------------------------------------------
# Plans, progress, experiences


def published_pilot(users: dict[str, User], batch: Batch) -> Nomination:
    first, second = nominated_set(users, batch)
    services.submit_set(users["province"], batch, unit("340000"), "张三")
    for n in (first, second):
        services.set_verdicts(users["ministry"], n, "met", "met")
        services.review(users["ministry"], n, "confirm")
    services.move_batch(users["ministry"], batch, "publish")
    first.refresh_from_db()
    return first


def test_publication_makes_pilots_that_the_dashboards_show(
    users: dict[str, User], batch: Batch, evaluations: Any
) -> None:
    """Plans, progress reports and experiences: tests/web/test_programme_pilots.py."""
    pilot = published_pilot(users, batch)
    county, province, ministry = users["county"], users["province"], users["ministry"]
    notice = Notification.objects.get(user=county, key=f"pilot-{pilot.pk}")
    assert notice.text == "芜湖市鸠江区已列入第一批义务教育优质均衡先行创建县名单，请编制创建工作实施方案。"
    assert services.pilot_of(unit(OWN_COUNTY)) == pilot
    national = login(ministry).get(reverse("programme:index")).content.decode()
    assert "安徽省" in national and "安徽省芜湖市鸠江区" in national
    own = login(province).get(reverse("programme:province_dashboard", args=["340000"])).content.decode()
    assert "芜湖市鸠江区" in own
    assert (
        login(users["other_province"]).get(reverse("programme:province_dashboard", args=["340000"])).status_code == 404
    )


def test_notifications_and_deadline_reminders(users: dict[str, User], years: None) -> None:
    batch = open_batch(users["ministry"], days=3)
    province = users["province"]
    assert Notification.objects.filter(user=province, text__contains="开始推荐").count() == 1
    client = login(province)
    page = client.get(reverse("programme:notifications")).content.decode()
    assert "推荐将于" in page and "本省尚未签发报送，请及时报送" in page  # computed for the page
    assert not Notification.objects.filter(key=f"deadline-{batch.pk}").exists()  # reading writes nothing
    services.remind_deadlines(province)
    services.remind_deadlines(province)
    assert Notification.objects.filter(user=province, key=f"deadline-{batch.pk}").count() == 1  # idempotent
    home = client.get(reverse("home")).content.decode()
    assert 'title="未读通知">2<' in home
    client.post(reverse("programme:notifications"))
    assert not Notification.objects.filter(user=province, read=False).exists()
    assert login(users["school"]).get(reverse("programme:index")).status_code == 403


def test_withdrawing_frees_a_place_and_only_returned_nominations_are_resubmitted(
    users: dict[str, User], batch: Batch
) -> None:
    first, _second = nominated_set(users, batch)
    province = users["province"]
    assert refused(services.resubmit, province, first).message == "只有被退回的推荐可以重新报送。"
    client = login(province)
    url = reverse("programme:nomination_action", args=[first.pk, "withdraw"])
    asked = client.post(url)
    assert asked.status_code == 200 and "释放 1 个推荐名额" in asked.content.decode()
    first.refresh_from_db()
    assert first.status == "draft"  # nothing happens before the confirmation
    response = client.post(url, {"confirmed": "1"}, follow=True)
    assert "已撤回推荐。" in response.content.decode()
    first.refresh_from_db()
    assert first.status == "withdrawn" and services.quota_used(batch, unit("340000")) == 1
    third = services.nominate(province, batch, unit(ELIGIBLE[2]))
    assert third.status == "draft"
    assert refused(services.withdraw, province, first).message == "推荐当前为「已撤回」，不能撤回。"
    # A prefecture account sees the nomination (its jurisdiction) but may not review it: the 403 page says why.
    denied = login(users["prefecture"]).post(reverse("programme:nomination_action", args=[third.pk, "confirm"]))
    assert denied.status_code == 403 and "只有教育部账号可以办理此事项。" in denied.content.decode()
    assert [e.action for e in services.history("nomination", first)] == ["推荐", "撤回推荐"]


def test_the_basic_balance_year_is_the_provinces_record_not_the_county_inputs(
    users: dict[str, User], batch: Batch
) -> None:
    from youjun.web.assessment.models import CountyInputs

    CountyInputs.objects.create(county=unit(UNKNOWN), year=2024, values={"basic_balance_year": 2016})
    BasicBalance.objects.create(county=unit(UNKNOWN), year=2023)  # the one record: the inputs' copy is ignored
    error = refused(services.nominate, users["province"], batch, unit(UNKNOWN))
    assert error.message.startswith("繁昌区不符合遴选条件：2023 年通过国家基本均衡认定")
    assert services.eligibility(2016, batch) == (True, "2016 年通过国家基本均衡认定，距批次年度 8 年（不少于 3 年）")
