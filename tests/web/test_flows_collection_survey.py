"""Issue 12, the collection and survey parts: each defect with the corrected behaviour.

- S1 is decided only on a sample that meets the rule set's valid-return minimum (engine, stored result, pages),
  and ending a survey asks first (with the warning when below the minimum);
- irreversible actions ask first: reporting upward, accepting a report, bulk approval, closing a collection
  window, minting single-use links — an unconfirmed POST changes nothing, a confirmed one acts;
- the explanation of changes of every review round stays in the record's history and on its page;
- a county upload names the sheet, row and school of a locked school and may skip the locked schools on request;
- one printable document with every school × group, the QR codes carrying the public address;
- field-level messages with a summary; counties named with their prefecture; tables that fit a phone.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from web.test_collection_views import county_csv, own_records, set_status, snapshot
from web.test_survey import filled
from youjun.engine.assessment import assess
from youjun.standards import load_rule_set
from youjun.web.accounts.models import User
from youjun.web.audit.models import Transition
from youjun.web.collection import services as collection
from youjun.web.collection.models import (
    CollectionYear,
    CountySubmission,
    RecordStatus,
    SchoolRecord,
    SubmissionStatus,
    ValueChange,
)
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.survey import services
from youjun.web.survey.models import Campaign, CampaignEvent, CampaignStatus, Link, LinkKind, Response

pytestmark = pytest.mark.django_db
STATIC = Path(__file__).resolve().parents[2] / "src" / "youjun" / "web" / "static" / "youjun"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


def confirmation(response: Any) -> str:
    """The confirmation page of an unconfirmed irreversible POST (200, with the confirm button)."""
    body = text(response)
    assert response.status_code == 200 and 'id="confirmation"' in body and 'id="confirm-button"' in body, body[:500]
    return body


# ---------------------------------------------------------------------------------------------------------------
# 1. S1 below the valid-return minimum


def counties(returns: int | None, sample: int | None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "year": [YEAR],
            "county_code": [OWN_COUNTY],
            "county_name": ["鸠江区"],
            "basic_balance_year": [2015],
            "recognition_valid": [1200],
            "recognition_positive": [1128],  # 94.00 %: a pass, if the sample decides anything
        }
    )
    if returns is not None:
        frame = frame.with_columns(
            pl.lit(returns, pl.Int64).alias("recognition_returns"), pl.lit(sample, pl.Int64).alias("recognition_sample")
        )
    return frame


def test_the_engine_decides_s1_only_on_a_sample_meeting_the_valid_return_minimum() -> None:
    rules = load_rule_set()
    assert rules.sections["recognition"]["valid_return_min"] == 0.7
    below = assess(pl.DataFrame(), counties(386, 1000), rules)
    s1 = below.recognition.row(0, named=True)
    assert s1["status"] == "insufficient_data" and s1["value"] is None
    assert s1["detail"] == "数据不足：有效回收率 38.60%，低于要求的 70%（有效问卷 386 份，计划样本 1,000 份）"
    v7 = below.vetoes.items.filter(pl.col("code") == "V7").row(0, named=True)
    assert v7["status"] == "insufficient_data" and "有效回收率 38.60%" in v7["detail"]  # V7 follows S1's rule
    assert below.verdict["social_recognition"][0] == "insufficient_data"
    reason = below.reasons.filter(pl.col("code") == "S1")["message"][0]
    assert "有效回收率 38.60%，低于要求的 70%" in reason
    # At the minimum exactly (700 of 1,000) the rate decides; so it does when no return counts are given (a
    # workbook's figures) — the rule applies where the survey gives its counts.
    for frame in (counties(700, 1000), counties(None, None)):
        s1 = assess(pl.DataFrame(), frame, rules).recognition.row(0, named=True)
        assert s1["status"] == "met" and s1["value"] == pytest.approx(0.94)
    one_short = assess(pl.DataFrame(), counties(699, 1000), rules).recognition.row(0, named=True)
    assert one_short["status"] == "insufficient_data" and "69.90%" in one_short["detail"]


def plan(parents: int) -> dict[str, int]:
    return {g: 0 for g in services.initial_quotas(None)} | {"parents": parents}


def answered(c: Campaign, n: int, start: int = 0) -> None:
    """``n`` counted questionnaires of parents through the school's open link (one device each)."""
    link = services.open_links(c, None, ["parents"])[0]
    positive, negative = filled(c, "parents", "满意"), filled(c, "parents", "不满意")
    now = timezone.now()
    Response.objects.bulk_create(
        Response(
            campaign=c,
            link=link,
            channel=LinkKind.OPEN,
            group="parents",
            answers=negative if i % 10 == 0 else positive,
            submitted_at=now,
            device=f"device-{i}",
        )
        for i in range(start, start + n)
    )
    services.recount(c)


def stored_s1(county: OrgUnit) -> dict[str, Any]:
    return dict(CountyEvaluation.objects.get(county=county, year=YEAR).result["social_recognition"])


def test_ending_a_survey_below_the_minimum_warns_and_leaves_s1_undecided_everywhere(
    users: dict[str, User], own_county: OrgUnit
) -> None:
    official = logged_in(users["county"])
    c = services.create_campaign(own_county, YEAR, "认可度调查", 300_000, plan(1000), users["county"])
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.OPEN)
    answered(c, 386)
    shortfall = "有效回收率 38.60%，低于要求的 70%"
    page = text(official.get(reverse("survey:campaign", args=[c.pk])))
    assert f"数据不足：{shortfall}" in page and 'data-decision="insufficient_data"' in page
    assert "要求不低于 70%" in page  # the campaign page says what is required

    status = reverse("survey:status", args=[c.pk])
    asked = confirmation(official.post(status, {"action": "close", "reason": "到期"}))
    assert "结束调查（有效回收率不足）" in asked and shortfall in asked and "「数据不足」" in asked
    assert 'class="danger" id="confirm-button"' in asked and 'name="reason" value="到期"' in asked  # posted again
    c.refresh_from_db()
    assert c.status == CampaignStatus.OPEN and not CampaignEvent.objects.filter(campaign=c).exists()
    assert not CountyEvaluation.objects.filter(county=own_county, year=YEAR, result__social_recognition__status="met")

    assert official.post(status, {"action": "close", "reason": "到期", "confirmed": "1"}).status_code == 302
    c.refresh_from_db()
    assert c.status == CampaignStatus.CLOSED
    s1 = stored_s1(own_county)
    assert s1["status"] == "insufficient_data" and s1["value"] is None and s1["passed"] is False
    assert s1["detail"] == f"数据不足：{shortfall}（有效问卷 386 份，计划样本 1,000 份）"
    assert s1["inputs"]["recognition_returns"] == 386 and s1["inputs"]["recognition_sample"] == 1000
    result = CountyEvaluation.objects.get(county=own_county, year=YEAR).result
    v7 = next(v for v in result["vetoes"]["items"] if v["code"] == "V7")
    assert v7["status"] == "insufficient_data"
    assessment = text(official.get(reverse("assessment:county", args=[OWN_COUNTY, YEAR])))
    section = assessment[assessment.index('id="social_recognition"') :]
    section = section[: section.index("</section>")]
    assert "数据不足" in section and shortfall in section and "达标</span>" not in section
    assert f"数据不足：{shortfall}" in text(official.get(reverse("survey:campaign", args=[c.pk])))

    # Collected up to the minimum, the same survey decides S1 (and ending it still asks, without the warning).
    reopen = {"action": "reopen", "reason": "补充家长答卷", "confirmed": "1"}
    assert official.post(status, reopen).status_code == 302
    answered(c, 314, start=386)
    asked = confirmation(official.post(status, {"action": "close"}))
    assert "有效回收率 70.00%" in asked and "低于要求" not in asked and "判定为「达标」" in asked
    assert 'class="primary" id="confirm-button"' in asked
    assert official.post(status, {"action": "close", "confirmed": "1"}).status_code == 302
    s1 = stored_s1(own_county)
    assert s1["status"] == "met" and s1["value"] == pytest.approx(0.9) and "达标" in s1["detail"]


def test_a_stale_close_is_a_conflict_before_any_confirmation(users: dict[str, User], own_county: OrgUnit) -> None:
    c = services.create_campaign(own_county, YEAR, "认可度调查", 300_000, plan(10), users["county"])
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.CLOSED)
    late = logged_in(users["county"]).post(reverse("survey:status", args=[c.pk]), {"action": "close", "seen": 0})
    assert late.status_code == 409 and "状态刚刚已被更改" in text(late) and 'id="confirmation"' not in text(late)


# ---------------------------------------------------------------------------------------------------------------
# 2. Confirmation before the other irreversible actions


def test_minting_single_use_links_asks_first(users: dict[str, User], own_county: OrgUnit) -> None:
    official = logged_in(users["county"])
    c = services.create_campaign(own_county, YEAR, "认可度调查", 300_000, plan(20), users["county"])
    path = reverse("survey:links", args=[c.pk])
    asked = confirmation(official.post(path, {"group": "parents", "count": 12}))
    assert "生成 12 个家长一次性链接" in asked and "不能删除或作废" in asked and "上限 25 个" in asked
    assert not Link.objects.filter(campaign=c, kind=LinkKind.SINGLE).exists()
    assert official.post(path, {"group": "parents", "count": 12, "confirmed": "1"}).status_code == 302
    assert Link.objects.filter(campaign=c, kind=LinkKind.SINGLE, group="parents").count() == 12
    # Over the cap: refused beside the field, never asked to confirm, nothing made even when "confirmed".
    for post in ({"group": "parents", "count": 20}, {"group": "parents", "count": 20, "confirmed": "1"}):
        over = official.post(path, post)
        body = text(over)
        assert over.status_code == 400 and 'id="confirmation"' not in body
        assert 'id="id_count_error"' in body and "还可生成 13 个" in body and 'href="#id_count"' in body
    assert Link.objects.filter(campaign=c, kind=LinkKind.SINGLE).count() == 12


def test_reporting_upward_asks_first_and_names_who_is_told(users: dict[str, User], own_county: OrgUnit) -> None:
    official = logged_in(users["county"])
    path = reverse("collection:submission", args=[OWN_COUNTY, YEAR])
    moves = Transition.objects.filter(kind="submission").count()
    asked = confirmation(official.post(path, {"action": "submit", "next": "/collection/"}))
    schools = SchoolRecord.objects.filter(county=own_county, year=YEAR).count()
    assert f"{schools} 所学校的数据" in asked and "不能再导入、修改、审核或解锁" in asked
    assert "芜湖市、安徽省" in asked and 'name="next" value="/collection/"' in asked
    assert not CountySubmission.objects.filter(county=own_county, status=SubmissionStatus.SUBMITTED).exists()
    assert Transition.objects.filter(kind="submission").count() == moves
    done = official.post(path, {"action": "submit", "confirmed": "1"})
    assert done.status_code == 302
    assert CountySubmission.objects.get(county=own_county, year=YEAR).status == SubmissionStatus.SUBMITTED
    # A report that cannot be made is refused at once, not confirmed first.
    CountySubmission.objects.filter(county=own_county).update(status=SubmissionStatus.OPEN)
    set_status(own_records(own_county)[:1], RecordStatus.SUBMITTED)
    refused = official.post(path, {"action": "submit"}, follow=True)
    assert "还有 1 所学校的数据未审核" in text(refused) and 'id="confirmation"' not in text(refused)


def test_accepting_a_report_asks_first(users: dict[str, User], own_county: OrgUnit) -> None:
    collection.move_submission(users["county"], own_county, YEAR, SubmissionStatus.SUBMITTED)
    province = logged_in(users["province"])
    path = reverse("collection:submission", args=[OWN_COUNTY, YEAR])
    asked = confirmation(province.post(path, {"action": "accept"}))
    assert "接收后不能再退回" in asked and "鸠江区教育行政部门" in asked
    assert CountySubmission.objects.get(county=own_county, year=YEAR).status == SubmissionStatus.SUBMITTED
    assert province.post(path, {"action": "accept", "confirmed": "1"}).status_code == 302
    assert CountySubmission.objects.get(county=own_county, year=YEAR).status == SubmissionStatus.ACCEPTED


def test_bulk_approval_asks_first(users: dict[str, User], own_county: OrgUnit) -> None:
    first, second = own_records(own_county)[:2]
    set_status([first, second], RecordStatus.SUBMITTED)
    ticked = [f"{r.pk}:{r.version}" for r in (first, second)]
    official = logged_in(users["county"])
    path = reverse("collection:bulk_approve", args=[OWN_COUNTY, YEAR])
    asked = confirmation(official.post(path, {"records": ticked}))
    assert "审核通过 2 所学校" in asked and first.name in asked and "数据锁定" in asked
    assert asked.count('name="records"') == 2  # both choices posted again
    assert {r.status for r in own_records(own_county)[:2]} == {RecordStatus.SUBMITTED}
    assert official.post(path, {"records": ticked, "confirmed": "1"}).status_code == 302
    assert {r.status for r in own_records(own_county)[:2]} == {RecordStatus.APPROVED}


def test_closing_a_collection_window_asks_first(users: dict[str, User], own_county: OrgUnit) -> None:
    province = logged_in(users["province"])
    window = CollectionYear.objects.get(year=YEAR, scope__code="340000")
    ends = window.closes_at
    path = reverse("collection:years")
    page = text(province.get(path))
    assert "立即截止" in page
    asked = confirmation(province.post(path, {"action": "close", "year": YEAR}))
    assert f"截止 {YEAR} 年度数据采集（安徽省）" in asked and "个县（区）及其学校立即不能再填报" in asked
    window.refresh_from_db()
    assert window.closes_at == ends and collection.open_collection(own_county, YEAR) is not None
    # Changing the window so that it ends now or earlier asks too.
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    opened = timezone.localtime(window.opens_at).strftime("%Y-%m-%dT%H:%M")
    confirmation(province.post(path, {"year": YEAR, "opens_at": opened, "closes_at": past}))
    window.refresh_from_db()
    assert window.closes_at == ends
    done = province.post(path, {"action": "close", "year": YEAR, "confirmed": "1"}, follow=True)
    assert f"已截止 {YEAR} 年度数据采集" in text(done)
    window.refresh_from_db()
    assert window.closes_at <= timezone.now() and collection.open_collection(own_county, YEAR) is None


# ---------------------------------------------------------------------------------------------------------------
# 3. Each review round keeps its explanation


def test_each_rounds_explanation_stays_in_the_history_and_on_the_page(
    users: dict[str, User], open_record: SchoolRecord
) -> None:
    school, county = logged_in(users["school"]), logged_in(users["county"])
    collection.move_record(users["school"], open_record, RecordStatus.SUBMITTED, recompute=False)
    record = SchoolRecord.objects.get(pk=open_record.pk)
    move = reverse("collection:record_move", args=[record.pk])
    county.post(move, {"action": "return", "reason": "多媒体教室数与上年差距大", "version": record.version})
    record = SchoolRecord.objects.get(pk=record.pk)
    assert record.status == RecordStatus.RETURNED

    # The school re-uploads its workbook with an explanation: the record stays returned (no silent reset) and the
    # county's reason stays on the page; the page asks for the explanation of the resubmission.
    sid = record.school.school_id

    def own_row(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("school_id") == sid).with_columns(pl.lit("31").alias("multimedia_rooms"))

    upload = county_csv(record.county, own_row, "本校.csv")
    reuploaded = school.post(
        reverse("collection:record_upload", args=[record.pk]),
        {"file": upload, "version": record.version, "reason": "新建 3 间多媒体教室"},
    )
    assert reuploaded.status_code == 302
    record = SchoolRecord.objects.get(pk=record.pk)
    assert record.status == RecordStatus.RETURNED and record.values["multimedia_rooms"] == 31
    assert ValueChange.objects.filter(record=record, reason="上传工作簿：新建 3 间多媒体教室").exists()
    page = text(school.get(reverse("collection:record", args=[record.pk])))
    assert "多媒体教室数与上年差距大" in page and 'id="resubmit-note"' in page
    assert 'id="resubmit-note" value="新建 3 间多媒体教室"' in page  # the upload's explanation, ready to resubmit

    # Resubmitting without an explanation is refused; with one it is kept as the reason of the move.
    form = {k: "" if v is None else str(int(v) if isinstance(v, float) and v.is_integer() else v)
            for k, v in record.values.items()}  # fmt: skip
    form |= {"version": str(record.version), "action": "submit", "reason": ""}
    refused = school.post(reverse("collection:record", args=[record.pk]), form, follow=True)
    assert collection.NOTE_REQUIRED in text(refused)
    assert "「reason」" not in text(refused)  # the message never names the form's internal key
    record = SchoolRecord.objects.get(pk=record.pk)
    assert record.status == RecordStatus.RETURNED
    form |= {"version": str(record.version), "reason": "已按要求核实并更正多媒体教室数"}
    school.post(reverse("collection:record", args=[record.pk]), form)
    record = SchoolRecord.objects.get(pk=record.pk)
    assert record.status == RecordStatus.SUBMITTED
    resubmission = Transition.objects.filter(kind="record", object_id=record.pk, target=RecordStatus.SUBMITTED).last()
    assert resubmission is not None and resubmission.reason == "已按要求核实并更正多媒体教室数"
    review = text(county.get(reverse("collection:record", args=[record.pk])))
    assert 'id="review-note"' in review and "已按要求核实并更正多媒体教室数" in review

    # A second round: the previous explanation stays visible beside the new reason, every round in the history.
    county.post(move, {"action": "return", "reason": "请附教室照片说明", "version": record.version})
    page = text(school.get(reverse("collection:record", args=[record.pk])))
    returned = page[page.index('id="returned"') :]
    returned = returned[: returned.index("</div>")]
    assert "请附教室照片说明" in returned and "上一轮的修改说明：</strong>已按要求核实并更正多媒体教室数" in returned
    rounds = page[page.index('id="rounds"') :]
    rounds = rounds[: rounds.index("</ol>")]
    assert rounds.count("<li>") == 2 and "第 1 轮" in rounds and "第 2 轮" in rounds
    assert "多媒体教室数与上年差距大" in rounds and "已按要求核实并更正多媒体教室数" in rounds
    assert "请附教室照片说明" in rounds and "尚未重新提交" in rounds


# ---------------------------------------------------------------------------------------------------------------
# 4. A county upload with a locked school


def test_a_locked_school_is_named_with_its_row_and_may_be_skipped(users: dict[str, User], own_county: OrgUnit) -> None:
    records = own_records(own_county)
    set_status(records, RecordStatus.DRAFT)
    locked = records[2]
    set_status([locked], RecordStatus.APPROVED)
    before = snapshot(own_county)
    official = logged_in(users["county"])
    path = reverse("collection:county_upload", args=[OWN_COUNTY, YEAR])

    def edit(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.lit("44").alias("multimedia_rooms"))

    refused = official.post(path, {"file": county_csv(own_county, edit)})
    body = text(refused)
    sid, name = locked.school.school_id, locked.name
    assert refused.status_code == 400
    assert f"第 4 行 学校「{name}」（代码 {sid}）已锁定，不能覆盖（其 {YEAR} 年度数据已审核通过）" in body
    assert '<td data-label="行" class="num">4</td>' in body and "跳过已锁定的学校" in body
    assert 'id="skip-locked"' in body and 'name="skip_locked" value="1" checked' in body
    assert snapshot(own_county) == before  # all or nothing

    done = official.post(path, {"file": county_csv(own_county, edit), "skip_locked": "1"}, follow=True)
    page = text(done)
    assert "导入成功" in page and f"已跳过已锁定的学校 1 所：{name}（{sid}）" in page
    after = {r.pk: r for r in own_records(own_county)}
    assert after[locked.pk].status == RecordStatus.APPROVED and after[locked.pk].values == locked.values
    assert after[locked.pk].version == locked.version
    others = [r for pk, r in after.items() if pk != locked.pk]
    assert {r.status for r in others} == {RecordStatus.SUBMITTED} and {
        r.values["multimedia_rooms"] for r in others
    } == {44}
    report = text(official.get(reverse("collection:upload_report", args=[OWN_COUNTY, YEAR])))
    assert f"第 4 行 学校「{name}」（代码 {sid}）已锁定，已按选择跳过，未导入" in report


def test_the_sheet_is_named_and_other_refusals_stay_all_or_nothing(users: dict[str, User], own_county: OrgUnit) -> None:
    records = own_records(own_county)
    set_status(records, RecordStatus.DRAFT)
    set_status(records[:1], RecordStatus.APPROVED)
    official = logged_in(users["county"])
    workbook = official.get(reverse("collection:county_export", args=[OWN_COUNTY, YEAR]))
    xlsx = SimpleUploadedFile("鸠江区.xlsx", b"".join(workbook.streaming_content))
    path = reverse("collection:county_upload", args=[OWN_COUNTY, YEAR])
    body = text(official.post(path, {"file": xlsx}))
    assert re.search(r"工作表「学校」第 \d+ 行 学校「[^」]+」（代码 [^）]+）已锁定，不能覆盖", body)
    before = snapshot(own_county)
    other = own_records(own_county)[1].school.school_id

    def elsewhere(frame: pl.DataFrame) -> pl.DataFrame:
        code = pl.when(pl.col("school_id") == other).then(pl.lit(OTHER_COUNTY)).otherwise(pl.col("county_code"))
        return frame.with_columns(code.alias("county_code"))

    skipped = official.post(path, {"file": county_csv(own_county, elsewhere), "skip_locked": "1"})
    assert skipped.status_code == 400 and "不是本县（区）" in text(skipped)
    assert snapshot(own_county) == before


# ---------------------------------------------------------------------------------------------------------------
# 5. All QR sheets of a county in one document


@override_settings(YOUJUN_PUBLIC_URL="https://youjun.jyt.example.gov.cn")
def test_the_county_qr_document_has_every_school_and_group_with_the_public_address(
    users: dict[str, User], own_county: OrgUnit
) -> None:
    official = logged_in(users["county"])
    c = services.create_campaign(own_county, YEAR, "认可度调查", 300_000, services.initial_quotas(300_000), None)
    services.open_links(c, School.objects.filter(county=own_county).order_by("school_id")[0], ["parents"])
    page = text(official.get(reverse("survey:campaign", args=[c.pk])))
    schools = services.survey_schools(c)
    assert f"为全县 {len(schools) - 1} 所尚无二维码的学校生成二维码" in page
    made = official.post(reverse("survey:all_school_links", args=[c.pk]))
    assert made.status_code == 302 and made["Location"] == reverse("survey:qr_sheet", args=[c.pk])
    groups = len(c.questionnaire["groups"])
    assert Link.objects.filter(campaign=c, kind=LinkKind.OPEN).count() == len(schools) * groups
    assert official.post(reverse("survey:all_school_links", args=[c.pk])).status_code == 302  # links kept
    assert Link.objects.filter(campaign=c, kind=LinkKind.OPEN).count() == len(schools) * groups

    document = text(official.get(made["Location"]))
    assert document.count('<article class="qr-sheet"') == len(schools) * groups
    assert f"{len(schools)} 所学校，共 {len(schools) * groups} 页" in document and 'id="qr-missing"' not in document
    assert set(re.findall(r'data-school="([^"]+)"', document)) == {s.school_id for s in schools}
    assert "127.0.0.1" not in document and "testserver" not in document
    for link in Link.objects.filter(campaign=c, kind=LinkKind.OPEN, school=schools[0]):
        public = f"https://youjun.jyt.example.gov.cn/survey/a/{link.token}/"
        title = f"{c.questionnaire['groups'][link.group]['name']}问卷二维码"
        svg = segno.make(public, error="m").svg_inline(omitsize=True, title=title)
        assert svg in document and f'<a href="{public}">' in document  # the QR code encodes the public address
    css = (STATIC / "survey.css").read_text(encoding="utf-8")
    assert re.search(r"@media print[^@]*\.qr-sheet \{[^}]*break-after:page", css)  # one printed page each
    county_page = text(official.get(reverse("survey:county", args=[OWN_COUNTY])))
    assert f'href="{reverse("survey:qr_sheet", args=[c.pk])}" data-qr-document' in county_page
    links = official.get(reverse("survey:links_export", args=[c.pk]))
    assert links.status_code == 200  # the link list carries the same public base (tested in test_survey)


# ---------------------------------------------------------------------------------------------------------------
# 6. Field-level messages with a summary


def test_messages_sit_beside_their_fields_with_a_summary(users: dict[str, User], own_county: OrgUnit) -> None:
    official = logged_in(users["county"])
    c = services.create_campaign(own_county, YEAR, "认可度调查", 100_000, services.initial_quotas(100_000), None)
    quotas = {"population": 100_000} | {f"quota_{g}": n for g, n in plan(299).items()} | {"quota_students": 301}
    body = text(official.post(reverse("survey:quotas", args=[c.pk]), quotas))
    assert 'id="error-summary"' in body and 'href="#id_quota_parents"' in body
    beside = re.search(r'id="id_quota_parents"[^>]*aria-invalid="true"[^>]*>', body) or re.search(
        r'aria-invalid="true"[^>]*id="id_quota_parents"', body
    )
    assert beside and '<span class="field-error" id="id_quota_parents_error">家长样本 299' in body
    bad = {"population": "很多"} | {f"quota_{g}": n for g, n in plan(600).items()}
    body = text(official.post(reverse("survey:quotas", args=[c.pk]), bad))
    assert 'id="id_population_error">请填写整数（人）。' in body and 'href="#id_population"' in body

    links = official.post(reverse("survey:links", args=[c.pk]), {"group": "parents", "count": 0})
    body = text(links)
    assert links.status_code == 400 and 'id="id_count_error">至少生成 1 个。' in body and 'href="#id_count"' in body

    province = logged_in(users["province"])
    window = {"year": 2031, "opens_at": "2031-03-01T08:00", "closes_at": "2031-02-01T08:00"}
    body = text(province.post(reverse("collection:years"), window))
    assert 'id="error-summary"' in body and 'href="#id_closes_at"' in body
    assert '<p class="field-error" id="id_closes_at_error">截止时间必须晚于开始时间。</p>' in body
    assert not CollectionYear.objects.filter(year=2031).exists()


# ---------------------------------------------------------------------------------------------------------------
# 7. Counties with their prefecture; tables on a phone


def test_pages_listing_several_counties_name_the_prefecture(users: dict[str, User]) -> None:
    for code in (OWN_COUNTY, OTHER_COUNTY):
        county = OrgUnit.objects.get(code=code)
        services.create_campaign(county, YEAR, "认可度调查", 300_000, services.initial_quotas(300_000), None)
    ministry = text(logged_in(users["ministry"]).get(reverse("survey:index")))
    assert "<td>安徽省芜湖市鸠江区</td>" in ministry and "<td>北京市东城区</td>" in ministry  # no 市辖区
    overview = logged_in(users["province"]).get(f"/collection/?year={YEAR}&format=xlsx")
    import fastexcel

    sheet = fastexcel.read_excel(overview.content).load_sheet("采集进度", header_row=1).to_polars()
    assert sheet["县（区）"].to_list() == ["安徽省芜湖市鸠江区"]


class _Tables(HTMLParser):
    """Every <table>, with whether an element around it scrolls sideways (class ``scroll``)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.tables: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "input", "img", "meta", "link", "hr", "wbr", "col", "source"):
            return
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            self.tables.append(any(self.stack))
        self.stack.append("scroll" in classes)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "input", "img", "meta", "link", "hr", "wbr", "col", "source") and self.stack:
            self.stack.pop()


def test_wide_tables_scroll_on_a_phone_and_keep_their_key_columns(users: dict[str, User], own_county: OrgUnit) -> None:
    c = services.create_campaign(own_county, YEAR, "认可度调查", 300_000, services.initial_quotas(300_000), None)
    answered(c, 3)
    official = logged_in(users["county"])
    province = logged_in(users["province"])
    pages = [
        official.get(reverse("survey:campaign", args=[c.pk])),
        official.get(reverse("survey:county", args=[OWN_COUNTY])),
        province.get(reverse("survey:index")),
        official.get(reverse("collection:county", args=[OWN_COUNTY, YEAR])),
        official.get(reverse("collection:record", args=[own_records(own_county)[0].pk])),
        province.get(reverse("collection:workspace")),
        province.get(reverse("collection:years")),
    ]
    for response in pages:
        parser = _Tables()
        parser.feed(text(response))
        assert parser.tables and all(parser.tables), response.wsgi_request.path
    css = (STATIC / "collection.css").read_text(encoding="utf-8")
    assert re.search(r"@media \(max-width: 480px\) \{\s*table\.c-table \.c-opt \{ display:none; \}", css)
    county = text(pages[3])
    assert '<td class="wrap c-key">' in county and '<th class="c-opt">学校标识码</th>' in county
