"""The annual collection pages: record form, county review and upload, submission upward, collection years."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from web.conftest import OWN_COUNTY, YEAR
from youjun.contract import SCHOOL_BY_KEY, SCHOOL_COLUMNS
from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.audit.models import Transition
from youjun.web.collection import services
from youjun.web.collection.models import (
    CollectionYear,
    CountySubmission,
    RecordStatus,
    SchoolRecord,
    SubmissionStatus,
    ValueChange,
)
from youjun.web.collection.selectors import records_frame
from youjun.web.collection.views import FIELD_GROUPS, field_groups
from youjun.web.organisation.models import OrgUnit

pytestmark = pytest.mark.django_db

HEADERS = {c.key: c.header for c in SCHOOL_COLUMNS}


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def form_data(record: SchoolRecord, action: str = "save", **overrides: Any) -> dict[str, Any]:
    """The record form as the page would post it (every value field, the version, the button)."""
    data: dict[str, Any] = {}
    for key in services.VALUE_KEYS:
        value = record.values.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        data[key] = "" if value is None else str(value)
    data.update({k: str(v) for k, v in overrides.items()})
    return {**data, "version": str(record.version), "action": action}


def record_url(record: SchoolRecord, suffix: str = "") -> str:
    return reverse("collection:record", args=[record.pk]) + suffix


def county_url(name: str, code: str = OWN_COUNTY, year: int = YEAR, *args: str) -> str:
    return reverse(f"collection:{name}", args=[code, year, *args])


def own_records(county: OrgUnit) -> list[SchoolRecord]:
    return list(SchoolRecord.objects.filter(county=county, year=YEAR).order_by("school__school_id"))


def snapshot(county: OrgUnit) -> dict[int, tuple[dict[str, Any], str, int]]:
    return {r.pk: (r.values, r.status, r.version) for r in own_records(county)}


def county_csv(county: OrgUnit, edit: Any = None, name: str = "鸠江区学校.csv") -> SimpleUploadedFile:
    """The county's current records as a workbook CSV with the Chinese headers (optionally edited)."""
    frame = records_frame(SchoolRecord.objects.filter(county=county, year=YEAR).order_by("school__school_id"))
    frame = frame.with_columns(pl.all().cast(pl.String))
    if edit is not None:
        frame = edit(frame)
    body = io.BytesIO()
    frame.rename(HEADERS).write_csv(body)
    return SimpleUploadedFile(name, body.getvalue(), content_type="text/csv")


def set_status(records: list[SchoolRecord], status: str) -> None:
    SchoolRecord.objects.filter(pk__in=[r.pk for r in records]).update(status=status)


def page(response: Any) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------------------------------
# Workspace and jurisdiction


def test_field_groups_cover_every_value_column_once() -> None:
    groups = field_groups({})
    keys = [f.key for _, fields in groups for f in fields]
    assert sorted(keys) == sorted(services.VALUE_KEYS)
    assert [name for name, _ in groups] == [name for name, _ in FIELD_GROUPS]
    assert all(fields for _, fields in groups)


def test_workspace_for_each_role(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    assert client.get(reverse("collection:workspace")).status_code == 302  # login first
    school = page(logged_in(client, users["school"]).get(reverse("collection:workspace")))
    mine = SchoolRecord.objects.get(school=users["school"].school, year=YEAR)
    assert record_url(mine) in school and "学校年度数据" in school
    county = page(logged_in(client, users["county"]).get(reverse("collection:workspace")))
    assert all(r.school.name in county for r in own_records(own_county))
    assert "报送上级" in county and "上传并导入" in county
    province = page(logged_in(client, users["province"]).get(reverse("collection:workspace")))
    assert "鸠江区" in province and county_url("county") in province and "东城区" not in province
    viewer = logged_in(client, users["viewer"]).get(reverse("collection:workspace"))
    assert viewer.status_code == 200 and "鸠江区" in page(viewer) and 'value="accept"' not in page(viewer)


def test_outsiders_get_404(users: dict[str, User], client: Client, open_record: SchoolRecord) -> None:
    for who in ("other_school", "other_county", "other_province"):
        logged_in(client, users[who])
        assert client.get(record_url(open_record)).status_code == 404
        assert client.post(record_url(open_record), form_data(open_record)).status_code == 404
        assert client.get(county_url("county")).status_code == 404
    # A school sees its own record only, not the county's page nor a neighbour's record.
    logged_in(client, users["school"])
    neighbour = own_records(open_record.county)[1]
    assert client.get(record_url(neighbour)).status_code == 404
    assert client.get(county_url("county")).status_code == 404
    assert client.get("/collection/county/340207/1900/").status_code == 404


def test_viewer_reads_but_cannot_write(users: dict[str, User], client: Client, open_record: SchoolRecord) -> None:
    logged_in(client, users["viewer"])
    response = client.get(record_url(open_record))
    assert response.status_code == 200 and 'value="save"' not in page(response)
    before = SchoolRecord.objects.get(pk=open_record.pk).values
    refused = client.post(record_url(open_record), form_data(open_record, multimedia_rooms=99))
    assert refused.status_code == 403 and "只有本校或本县" in page(refused)
    assert client.post(record_url(open_record, "move/"), {"action": "submit"}).status_code == 403
    assert client.post(county_url("submission"), {"action": "accept"}).status_code == 403
    assert client.post(reverse("collection:years"), {"year": 2030}).status_code == 403
    assert SchoolRecord.objects.get(pk=open_record.pk).values == before
    # The province reads the record too, and may not edit it either.
    logged_in(client, users["province"])
    assert client.get(record_url(open_record)).status_code == 200
    assert client.post(record_url(open_record), form_data(open_record)).status_code == 403


# ---------------------------------------------------------------------------------------------------------------
# The record form


def test_record_form_shows_every_field_labelled(
    users: dict[str, User], client: Client, open_record: SchoolRecord
) -> None:
    html = page(logged_in(client, users["school"]).get(record_url(open_record)))
    for key in services.VALUE_KEYS:
        assert f'name="{key}"' in html and SCHOOL_BY_KEY[key].header in html
    for identity in services.IDENTITY:
        assert f'name="{identity}"' not in html
    for name, _ in FIELD_GROUPS:
        assert f"<legend>{name}</legend>" in html
    assert '<select id="f-school_type" name="school_type"' in html and "九年一贯制学校" in html
    assert f'name="version" value="{open_record.version}"' in html
    assert 'class="req"' in html and 'value="save"' in html


def test_school_edits_its_record(users: dict[str, User], client: Client, open_record: SchoolRecord) -> None:
    logged_in(client, users["school"])
    rooms = open_record.values["multimedia_rooms"] + 3
    response = client.post(
        record_url(open_record), form_data(open_record, multimedia_rooms=f"{rooms:,}", reason="新建教室"), follow=True
    )
    assert response.status_code == 200 and "已保存，修改了 1 项数据" in page(response)
    saved = SchoolRecord.objects.get(pk=open_record.pk)
    assert saved.values["multimedia_rooms"] == rooms and saved.version == open_record.version + 1
    change = ValueChange.objects.get(record=open_record)
    assert (change.field, change.old, change.new) == ("multimedia_rooms", rooms - 3, rooms)
    assert change.actor == users["school"] and change.reason == "新建教室"
    assert "网络多媒体教室数(间)" in page(response) and "新建教室" in page(response)  # audit trail on the page


def test_invalid_value_is_refused_and_input_kept(
    users: dict[str, User], client: Client, open_record: SchoolRecord
) -> None:
    logged_in(client, users["school"])
    response = client.post(
        record_url(open_record), form_data(open_record, students_primary="许多", multimedia_rooms=77)
    )
    assert response.status_code == 400
    html = page(response)
    assert "应填写数字" in html and 'value="许多"' in html and 'value="77"' in html
    assert SchoolRecord.objects.get(pk=open_record.pk).values == open_record.values


def test_stale_version_gives_conflict_and_keeps_input(
    users: dict[str, User], client: Client, open_record: SchoolRecord
) -> None:
    stale = form_data(open_record, multimedia_rooms=41)
    services.save_record(
        users["county"], open_record, dict(open_record.values, multimedia_rooms=40), open_record.version
    )
    current = SchoolRecord.objects.get(pk=open_record.pk)
    response = logged_in(client, users["school"]).post(record_url(open_record), stale)
    assert response.status_code == 409
    html = page(response)
    assert "已被他人修改" in html and 'value="41"' in html  # the message, and the user's input is still there
    assert "他人保存的最新值" in html and f'name="version" value="{current.version}"' in html
    after = SchoolRecord.objects.get(pk=open_record.pk)
    assert after.values["multimedia_rooms"] == 40 and after.version == current.version
    # Saving again on purpose (the form now carries the current version) keeps the user's value.
    again = client.post(record_url(open_record), {**stale, "version": str(current.version)})
    assert again.status_code == 302 and SchoolRecord.objects.get(pk=open_record.pk).values["multimedia_rooms"] == 41


def test_warnings_must_be_explained_before_submit(
    users: dict[str, User], client: Client, open_record: SchoolRecord
) -> None:
    logged_in(client, users["school"])
    oversized = form_data(open_record, "submit", max_class_size_primary=70)
    response = client.post(record_url(open_record), oversized, follow=True)
    html = page(response)
    assert "未能提交" in html and "超大班额" in html and 'name="explain:oversized_class:max_class_size_primary"' in html
    saved = SchoolRecord.objects.get(pk=open_record.pk)
    assert saved.values["max_class_size_primary"] == 70 and saved.status == RecordStatus.DRAFT
    explained = {
        **form_data(saved, "submit"),
        "explain:oversized_class:max_class_size_primary": "六年级一个班因学区调整临时超额，下学期分班",
    }
    client.post(record_url(open_record), explained)
    saved = SchoolRecord.objects.get(pk=open_record.pk)
    assert saved.status == RecordStatus.SUBMITTED
    assert saved.explanations == {
        "oversized_class:max_class_size_primary": "六年级一个班因学区调整临时超额，下学期分班"
    }
    county_view = page(logged_in(client, users["county"]).get(record_url(open_record)))
    assert "下学期分班" in county_view and "审核通过" in county_view


def test_locked_record_is_read_only(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    approved = SchoolRecord.objects.get(school=users["school"].school, year=YEAR)
    assert approved.locked
    html = page(logged_in(client, users["school"]).get(record_url(approved)))
    assert "已审核锁定" in html and 'value="save"' not in html and 'name="multimedia_rooms"' in html
    assert 'id="f-multimedia_rooms" name="multimedia_rooms"' in html and "disabled" in html
    response = client.post(record_url(approved), form_data(approved, multimedia_rooms=1), follow=True)
    assert "已审核锁定" in page(response)
    assert SchoolRecord.objects.get(pk=approved.pk).values == approved.values


def test_school_uploads_its_own_workbook(users: dict[str, User], client: Client, open_record: SchoolRecord) -> None:
    logged_in(client, users["school"])
    school_id = open_record.school.school_id

    def own_row(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("school_id") == school_id).with_columns(pl.lit("33").alias("multimedia_rooms"))

    upload = county_csv(open_record.county, own_row, "本校.csv")
    response = client.post(record_url(open_record, "upload/"), {"file": upload, "version": open_record.version})
    assert response.status_code == 302
    assert SchoolRecord.objects.get(pk=open_record.pk).values["multimedia_rooms"] == 33
    assert ValueChange.objects.filter(record=open_record, reason="上传工作簿").exists()
    # The whole county's file is not this school's workbook: refused with the problem on the page.
    current = SchoolRecord.objects.get(pk=open_record.pk)
    refused = client.post(
        record_url(open_record, "upload/"), {"file": county_csv(open_record.county), "version": current.version}
    )
    assert refused.status_code == 400 and "文件中应只有本校" in page(refused)
    assert SchoolRecord.objects.get(pk=open_record.pk).version == current.version


# ---------------------------------------------------------------------------------------------------------------
# County review


def test_county_approves_and_returns_with_reason(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    first, second = own_records(own_county)[:2]
    set_status([first, second], RecordStatus.SUBMITTED)
    logged_in(client, users["county"])
    client.post(record_url(first, "move/"), {"action": "approve"})
    assert SchoolRecord.objects.get(pk=first.pk).status == RecordStatus.APPROVED
    assert Transition.objects.filter(kind="record", object_id=first.pk, target=RecordStatus.APPROVED).exists()
    no_reason = client.post(record_url(second, "move/"), {"action": "return", "reason": " "}, follow=True)
    assert "必须填写原因" in page(no_reason) and SchoolRecord.objects.get(pk=second.pk).status == RecordStatus.SUBMITTED
    client.post(record_url(second, "move/"), {"action": "return", "reason": "教师数与上年差距大，请核实"})
    returned = SchoolRecord.objects.get(pk=second.pk)
    assert returned.status == RecordStatus.RETURNED and returned.return_reason == "教师数与上年差距大，请核实"
    assert "教师数与上年差距大" in page(client.get(record_url(second)))


def test_unlock_needs_a_reason(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    approved = own_records(own_county)[0]
    logged_in(client, users["county"])
    client.post(record_url(approved, "move/"), {"action": "unlock", "reason": ""})
    assert SchoolRecord.objects.get(pk=approved.pk).status == RecordStatus.APPROVED
    client.post(record_url(approved, "move/"), {"action": "unlock", "reason": "学校发现教室数填错"})
    unlocked = SchoolRecord.objects.get(pk=approved.pk)
    assert unlocked.status == RecordStatus.RETURNED and unlocked.return_reason == "学校发现教室数填错"


def test_school_may_not_approve(users: dict[str, User], client: Client, open_record: SchoolRecord) -> None:
    set_status([open_record], RecordStatus.SUBMITTED)
    response = logged_in(client, users["school"]).post(record_url(open_record, "move/"), {"action": "approve"})
    assert response.status_code == 403 and "角色不能执行" in page(response)
    assert SchoolRecord.objects.get(pk=open_record.pk).status == RecordStatus.SUBMITTED


def test_bulk_approve_skips_records_changed_meanwhile(
    users: dict[str, User], client: Client, own_county: OrgUnit
) -> None:
    first, second, third = own_records(own_county)[:3]
    set_status([first, second, third], RecordStatus.SUBMITTED)
    ticked = [f"{r.pk}:{r.version}" for r in (first, second)] + [f"{third.pk}:{third.version + 5}"]
    post = {"records": ticked, "confirmed": "1"}  # confirmed (tests/web/test_flows_collection_survey.py: unconfirmed)
    response = logged_in(client, users["county"]).post(county_url("bulk_approve"), post, follow=True)
    assert "已审核通过 2 所学校" in page(response) and "未审核" in page(response)
    statuses = {r.pk: r.status for r in own_records(own_county)}
    assert statuses[first.pk] == statuses[second.pk] == RecordStatus.APPROVED
    assert statuses[third.pk] == RecordStatus.SUBMITTED


def test_county_creates_records_of_a_new_year(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    now = timezone.now()
    CollectionYear.objects.create(
        year=YEAR + 1, scope=own_county.parent.parent, opens_at=now, closes_at=now + timedelta(days=9),
        opened_by=users["province"],
    )  # fmt: skip
    logged_in(client, users["county"])
    html = page(client.get(county_url("county", OWN_COUNTY, YEAR + 1)))
    assert "所登记学校还没有" in html
    client.post(county_url("create_records", OWN_COUNTY, YEAR + 1))
    created = SchoolRecord.objects.filter(county=own_county, year=YEAR + 1)
    assert created.count() == len(own_records(own_county)) and {r.status for r in created} == {RecordStatus.DRAFT}
    school_page = page(logged_in(client, users["school"]).get(reverse("collection:workspace")))
    assert str(YEAR + 1) in school_page and "填报" in school_page


# ---------------------------------------------------------------------------------------------------------------
# County upload


def test_county_uploads_a_valid_csv(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    records = own_records(own_county)
    set_status(records, RecordStatus.DRAFT)
    first_id = records[0].school.school_id

    def edit(frame: pl.DataFrame) -> pl.DataFrame:
        rooms = pl.when(pl.col("school_id") == first_id).then(pl.lit("55")).otherwise(pl.col("multimedia_rooms"))
        return frame.with_columns(rooms.alias("multimedia_rooms"))

    response = logged_in(client, users["county"]).post(
        county_url("county_upload"), {"file": county_csv(own_county, edit)}
    )
    assert response.status_code == 302
    after = own_records(own_county)
    assert {r.status for r in after} == {RecordStatus.SUBMITTED}
    assert after[0].values["multimedia_rooms"] == 55
    assert ValueChange.objects.filter(record=after[0], field="multimedia_rooms", source="county-upload").exists()
    html = page(client.get(response.url))
    assert "导入成功" in html and "最近一次导入报告" in html


def test_county_upload_with_errors_changes_nothing(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    records = own_records(own_county)
    set_status(records, RecordStatus.DRAFT)
    before = snapshot(own_county)
    third_id = records[2].school.school_id

    def break_rows(frame: pl.DataFrame) -> pl.DataFrame:
        bad = pl.col("school_id") == third_id
        return frame.with_columns(
            pl.when(bad).then(pl.lit('=HYPERLINK("http://example.com","点我")')).otherwise(pl.col("students_primary"))
            .alias("students_primary"),
            pl.when(bad).then(pl.lit("<b>x</b>")).otherwise(pl.col("ownership")).alias("ownership"),
        )  # fmt: skip

    logged_in(client, users["county"])
    response = client.post(county_url("county_upload"), {"file": county_csv(own_county, break_rows)})
    assert response.status_code == 400
    html = page(response)
    for text in ("鸠江区学校.csv", "小学在校生数", "举办者", "=HYPERLINK(", "&lt;b&gt;x&lt;/b&gt;", "没有任何变化"):
        assert text in html
    assert '<td data-label="行" class="num">4</td>' in html  # the third school: row 4 (row 1 is the header)
    assert "<b>x</b>" not in html and "youjun-upload" not in html  # no server path either
    assert snapshot(own_county) == before

    report = client.get(county_url("upload_report_file", OWN_COUNTY, YEAR, "csv"))
    assert report.status_code == 200
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == "类型,文件,工作表,行,列,值,问题"
    assert len(lines) == 3 and all(",4," in line for line in lines[1:])
    assert "'=HYPERLINK(" in text and "<b>x</b>" in text and "youjun-upload" not in text
    workbook = client.get(county_url("upload_report_file", OWN_COUNTY, YEAR, "xlsx"))
    cells = pl.read_excel(io.BytesIO(b"".join(workbook.streaming_content)), read_options={"header_row": 1})
    assert cells.height == 2 and '=HYPERLINK("http://example.com","点我")' in cells["值"].to_list()
    assert client.get(county_url("upload_report")).status_code == 200


def test_upload_by_other_county_or_prefecture_is_refused(
    users: dict[str, User], client: Client, own_county: OrgUnit
) -> None:
    set_status(own_records(own_county), RecordStatus.DRAFT)
    before = snapshot(own_county)
    for who, status in (("other_county", 404), ("other_province", 404), ("school", 404), ("prefecture", 403)):
        response = logged_in(client, users[who]).post(county_url("county_upload"), {"file": county_csv(own_county)})
        assert response.status_code == status, who
    assert snapshot(own_county) == before


def test_non_workbook_named_xlsx_gets_a_chinese_message(
    users: dict[str, User], client: Client, own_county: OrgUnit
) -> None:
    fake = SimpleUploadedFile("学校数据.xlsx", b"%PDF-1.4 this is not a workbook" * 20)
    response = logged_in(client, users["county"]).post(county_url("county_upload"), {"file": fake})
    assert response.status_code == 400 and "不是有效的 Excel 工作簿" in page(response)


@override_settings(YOUJUN_MAX_UPLOAD_BYTES=2000)
def test_oversized_upload_is_refused(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    set_status(own_records(own_county), RecordStatus.DRAFT)
    before = snapshot(own_county)
    logged_in(client, users["county"])
    response = client.post(county_url("county_upload"), {"file": county_csv(own_county)})  # a few KB: parsed, refused
    assert response.status_code == 413 and "文件过大" in page(response)
    huge = SimpleUploadedFile("学校.csv", b"x" * 200_000)  # refused from the Content-Length, before parsing
    response = client.post(county_url("county_upload"), {"file": huge})
    assert response.status_code == 413 and "文件过大" in page(response)
    assert snapshot(own_county) == before


def test_upload_checks_csrf(users: dict[str, User], own_county: OrgUnit) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["county"])
    before = snapshot(own_county)
    assert strict.post(county_url("county_upload"), {"file": county_csv(own_county)}).status_code == 403
    assert strict.post(county_url("bulk_approve"), {"records": ["1:1"]}).status_code == 403
    assert snapshot(own_county) == before


def test_text_is_escaped(users: dict[str, User], client: Client, open_record: SchoolRecord) -> None:
    open_record.school.name = "<script>alert(1)</script>小学"
    open_record.school.save()
    open_record.school_name = open_record.school.name  # the name of the record's year, shown on its pages
    open_record.return_reason = "<script>alert(2)</script>"
    open_record.status = RecordStatus.RETURNED
    open_record.explanations = {"oversized_class:max_class_size_primary": "<img src=x onerror=alert(3)>"}
    open_record.values = dict(open_record.values, max_class_size_primary=70)
    open_record.save()
    for who, url in (("school", record_url(open_record)), ("county", county_url("county"))):
        html = page(logged_in(client, users[who]).get(url))
        assert "<script>alert(" not in html and "&lt;script&gt;alert(" in html
        assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in page(logged_in(client, users["school"]).get(record_url(open_record)))


# ---------------------------------------------------------------------------------------------------------------
# Collection years and submission upward


def test_province_opens_a_collection_year(users: dict[str, User], client: Client) -> None:
    logged_in(client, users["province"])
    bad = client.post(
        reverse("collection:years"), {"year": 2026, "opens_at": "2026-03-01T08:00", "closes_at": "2026-02-01T08:00"}
    )
    assert bad.status_code == 400 and "截止时间必须晚于开始时间" in page(bad)
    assert not CollectionYear.objects.filter(year=2026).exists()
    ok = client.post(
        reverse("collection:years"),
        {"year": 2026, "opens_at": "2026-03-01T08:00", "closes_at": "2026-05-31T18:00"},
        follow=True,
    )
    assert "已开放 2026 年度数据采集" in page(ok)
    window = CollectionYear.objects.get(year=2026)
    assert window.scope.code == "340000" and window.opened_by == users["province"]
    assert timezone.localtime(window.closes_at).hour == 18
    client.post(
        reverse("collection:years"), {"year": 2026, "opens_at": "2026-03-01T08:00", "closes_at": "2026-06-30T18:00"}
    )
    assert CollectionYear.objects.filter(year=2026).count() == 1
    assert timezone.localtime(CollectionYear.objects.get(year=2026).closes_at).month == 6
    for who in ("county", "school", "prefecture"):
        refused = logged_in(client, users[who]).post(reverse("collection:years"), {"year": 2027})
        assert refused.status_code == 403
    assert "2026" in page(logged_in(client, users["county"]).get(reverse("collection:years")))


def test_county_submits_upward_once_everything_is_approved(
    users: dict[str, User], client: Client, own_county: OrgUnit
) -> None:
    records = own_records(own_county)
    set_status(records[:1], RecordStatus.SUBMITTED)
    logged_in(client, users["county"])
    refused = client.post(county_url("submission"), {"action": "submit"}, follow=True)
    assert "还有 1 所学校的数据未审核" in page(refused)
    assert not CountySubmission.objects.filter(county=own_county, year=YEAR, status=SubmissionStatus.SUBMITTED).exists()
    set_status(records[:1], RecordStatus.APPROVED)
    done = client.post(county_url("submission"), {"action": "submit", "confirmed": "1"}, follow=True)
    assert "已报送上级" in page(done)
    assert CountySubmission.objects.get(county=own_county, year=YEAR).status == SubmissionStatus.SUBMITTED
    # Once submitted the county can no longer change its year.
    unlock = client.post(record_url(records[0], "move/"), {"action": "unlock", "reason": "改数"}, follow=True)
    assert "已报送上级" in page(unlock) and SchoolRecord.objects.get(pk=records[0].pk).status == RecordStatus.APPROVED
    # The county cannot accept its own submission.
    assert client.post(county_url("submission"), {"action": "accept"}).status_code == 403


def test_province_accepts_or_returns_and_other_province_cannot(
    users: dict[str, User], client: Client, own_county: OrgUnit
) -> None:
    services.move_submission(users["county"], own_county, YEAR, SubmissionStatus.SUBMITTED)
    assert (
        logged_in(client, users["other_province"]).post(county_url("submission"), {"action": "accept"}).status_code
        == 404
    )
    overview = page(logged_in(client, users["province"]).get(reverse("collection:workspace")))
    assert "已报送待上级审核" in overview and "接收" in overview
    no_reason = client.post(county_url("submission"), {"action": "return", "reason": ""}, follow=True)
    assert "退回必须填写原因" in page(no_reason)
    assert CountySubmission.objects.get(county=own_county, year=YEAR).status == SubmissionStatus.SUBMITTED
    client.post(county_url("submission"), {"action": "return", "reason": "请补充两所学校的教师数说明"})
    returned = CountySubmission.objects.get(county=own_county, year=YEAR)
    assert returned.status == SubmissionStatus.RETURNED and returned.reason == "请补充两所学校的教师数说明"
    assert "请补充两所学校的教师数说明" in page(logged_in(client, users["county"]).get(county_url("county")))
    client.post(county_url("submission"), {"action": "submit", "confirmed": "1"})
    logged_in(client, users["province"])
    next_page = reverse("collection:workspace") + "?year=2024"
    back = client.post(county_url("submission"), {"action": "accept", "next": next_page, "confirmed": "1"})
    assert back.status_code == 302 and back.url.endswith("?year=2024")
    assert CountySubmission.objects.get(county=own_county, year=YEAR).status == SubmissionStatus.ACCEPTED
    assert Transition.objects.filter(kind="submission", county=own_county).count() == 4


def test_county_export_is_the_annual_workbook(users: dict[str, User], client: Client, own_county: OrgUnit) -> None:
    response = logged_in(client, users["province"]).get(county_url("county_export"))
    assert response.status_code == 200
    frame = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)), sheet_name="学校")
    assert frame.height == len(own_records(own_county)) and "学校标识码" in frame.columns
    assert logged_in(client, users["other_county"]).get(county_url("county_export")).status_code == 404


def test_progress_overview_exports_to_excel(users: dict[str, User], client: Client) -> None:
    import fastexcel

    client.force_login(users["province"])
    response = client.get(f"/collection/?year={YEAR}&format=xlsx")
    assert response.status_code == 200
    sheet = fastexcel.read_excel(response.content).load_sheet("采集进度", header_row=1).to_polars()
    assert sheet["县级区划代码"].to_list() == [OWN_COUNTY]


def test_submitted_record_waits_for_the_county(
    users: dict[str, User], client: Client, open_record: SchoolRecord
) -> None:
    services.move_record(users["school"], open_record, RecordStatus.SUBMITTED, recompute=False)
    client.force_login(users["school"])
    page = client.get(reverse("collection:record", args=[open_record.pk])).content.decode()
    assert 'id="f-multimedia_rooms"' in page and 'name="multimedia_rooms" value' in page
    assert page.count(" disabled") >= 40  # every field shown read-only
    with pytest.raises(YoujunError, match="已提交县"):
        services.save_record(users["school"], open_record, dict(open_record.values), open_record.version)
    # the county can still correct it
    services.save_record(
        users["county"], open_record, dict(open_record.values, multimedia_rooms=99), open_record.version
    )
    assert SchoolRecord.objects.get(pk=open_record.pk).values["multimedia_rooms"] == 99


def test_submit_upward_is_disabled_while_schools_are_pending(
    users: dict[str, User], client: Client, open_record: SchoolRecord
) -> None:
    client.force_login(users["county"])
    page = client.get(county_url("county")).content.decode()
    assert "还有 1 所学校的数据未审核通过" in page and "disabled" in page
