"""The assessment app: county inputs, evidence uploads and serving, verdicts, findings, recompute, the page."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.accounts.models import User
from youjun.web.assessment import services
from youjun.web.assessment.demo import tiny_pdf, tiny_png
from youjun.web.assessment.models import CountyInputs, Evidence, InputChange, Review, VetoFinding
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit

pytestmark = pytest.mark.django_db

PAGE = f"/assessment/county/{OWN_COUNTY}/{YEAR}/"
UPLOAD = f"{PAGE}evidence/G1/"
BOUNDARY = "----youjunTestBoundary7MA4YWxkTrZu0gW"


@pytest.fixture(autouse=True)
def evidence_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    settings.YOUJUN_EVIDENCE_DIR = folder
    return folder


def _client(user: User | None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _multipart(filename: str, content: bytes) -> bytes:
    """A multipart body with the file name exactly as given (the test client would strip directories itself)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode("utf-8") + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def _upload(client: Client, filename: str, content: bytes, url: str = UPLOAD) -> Any:
    return client.post(
        url, data=_multipart(filename, content), content_type=f"multipart/form-data; boundary={BOUNDARY}", follow=True
    )


def _ooxml(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{part}document.xml", "<x/>")
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500
VALID = {
    "规划.pdf": tiny_pdf(),
    "照片.png": tiny_png(),
    "photo.JPG": b"\xff\xd8\xff\xe0" + b"\x00" * 64,
    "说明.docx": _ooxml("word/"),
    "统计.xlsx": _ooxml("xl/"),
    "汇报.pptx": _ooxml("ppt/"),
    "旧文档.doc": OLE + "WordDocument".encode("utf-16-le"),
    "旧表格.xls": OLE + "Workbook".encode("utf-16-le"),
}


def _nothing_stored(folder: Path) -> None:
    assert Evidence.objects.count() == 0
    assert not folder.exists() or not any(folder.iterdir())


# ---------------------------------------------------------------------------------------------------------------
# Uploads


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_upload_is_stored_by_a_random_name_with_its_sha256(
    name: str, users: dict[str, User], evidence_dir: Path
) -> None:
    import hashlib

    response = _upload(_client(users["county"]), name, VALID[name])
    assert response.status_code == 200
    assert "已上传" in response.content.decode()
    evidence = Evidence.objects.get()
    assert evidence.original_name == name and evidence.item == "G1"
    assert evidence.sha256 == hashlib.sha256(VALID[name]).hexdigest()
    stored = list(evidence_dir.iterdir())
    assert [p.name for p in stored] == [evidence.stored_name]
    assert re.fullmatch(r"[0-9a-f]{32}", evidence.stored_name)
    assert stored[0].read_bytes() == VALID[name]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("程序.exe", b"MZ\x90\x00", "不支持的文件类型"),
        ("无扩展名", tiny_pdf(), "不支持的文件类型"),
        ("图片.pdf", tiny_png(), "文件内容与扩展名「.pdf」不符"),
        ("文档.png", tiny_pdf(), "文件内容与扩展名「.png」不符"),
        ("伪装.docx", _ooxml("xl/"), "文件内容与扩展名「.docx」不符"),
        ("压缩包.xlsx", b"PK\x03\x04not really a zip", "文件内容与扩展名「.xlsx」不符"),
        ("表格.doc", OLE + "Workbook".encode("utf-16-le"), "文件内容与扩展名「.doc」不符"),
        ("空.pdf", b"", "文件是空的"),
    ],
)
def test_wrong_type_or_mismatched_content_is_refused(
    name: str, content: bytes, message: str, users: dict[str, User], evidence_dir: Path
) -> None:
    response = _upload(_client(users["county"]), name, content)
    assert message in response.content.decode()
    _nothing_stored(evidence_dir)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd.pdf", "不能包含路径"),
        ("..\\..\\boot.pdf", "不能包含路径"),
        ("dir/a.pdf", "不能包含路径"),
        ("C:report.pdf", "不能包含路径"),
        ("a..pdf", "不能包含路径"),
        ("..", "不能包含路径"),
        (".hidden.pdf", "不能以“.”开头"),
        ("bad\x01name.pdf", "控制字符"),
        ("bad\x7fname.pdf", "控制字符"),
        ("bad\x00name.pdf", "控制字符"),
        ("x" * 130 + ".pdf", "文件名过长"),
    ],
)
def test_names_with_path_tricks_are_refused(
    name: str, message: str, users: dict[str, User], evidence_dir: Path
) -> None:
    response = _upload(_client(users["county"]), name, tiny_pdf())
    assert message in response.content.decode()
    _nothing_stored(evidence_dir)


def test_oversized_files_are_refused_while_reading_and_before(
    settings: Any, users: dict[str, User], evidence_dir: Path
) -> None:
    settings.YOUJUN_EVIDENCE_MAX_BYTES = 1024
    client = _client(users["county"])
    response = _upload(client, "大文件.pdf", tiny_pdf() + b"\x00" * 2048)
    assert "文件过大（上限 1 KB）" in response.content.decode()
    _nothing_stored(evidence_dir)
    body = _multipart("巨大.pdf", tiny_pdf() + b"\x00" * 200_000)  # over the limit plus the form's slack: unread
    response = client.post(UPLOAD, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 413
    assert "文件过大" in response.content.decode()
    _nothing_stored(evidence_dir)


@pytest.mark.parametrize(
    ("key", "status"), [("province", 403), ("prefecture", 403), ("viewer", 403), ("school", 403), ("other_county", 404)]
)
def test_only_the_county_uploads_evidence_of_its_items(
    key: str, status: int, users: dict[str, User], evidence_dir: Path
) -> None:
    response = _upload(_client(users[key]), "规划.pdf", tiny_pdf())
    assert response.status_code == status  # a wrong role inside the jurisdiction 403, outside it 404
    _nothing_stored(evidence_dir)


def test_a_reviewer_may_attach_files_to_a_veto(users: dict[str, User]) -> None:
    response = _upload(_client(users["province"]), "核查记录.pdf", tiny_pdf(), url=f"{PAGE}evidence/V2/")
    assert response.status_code == 200
    assert Evidence.objects.get().item == "V2"


# ---------------------------------------------------------------------------------------------------------------
# Serving


@pytest.fixture
def stored(users: dict[str, User], own_county: OrgUnit) -> Evidence:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return services.add_evidence(
        users["county"], own_county, YEAR, "G1", SimpleUploadedFile("x", tiny_pdf()), "布局规划 2024.pdf"
    )


@pytest.mark.parametrize("key", ["county", "prefecture", "province", "ministry", "viewer"])
def test_evidence_is_served_to_the_county_and_above_as_an_attachment(
    key: str, users: dict[str, User], stored: Evidence
) -> None:
    response = _client(users[key]).get(f"/assessment/evidence/{stored.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == tiny_pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%B8%83%E5%B1%80%E8%A7%84%E5%88%92%202024.pdf" in disposition
    assert stored.stored_name not in disposition


@pytest.mark.parametrize(
    ("key", "status"),
    [("other_county", 404), ("other_province", 404), ("other_prefecture", 404), ("school", 403), ("other_school", 403)],
)
def test_evidence_is_refused_outside_the_jurisdiction_and_to_schools(
    key: str, status: int, users: dict[str, User], stored: Evidence
) -> None:
    response = _client(users[key]).get(f"/assessment/evidence/{stored.pk}/")
    assert response.status_code == status  # school accounts are refused by role, others by jurisdiction
    assert b"%PDF" not in response.content


def test_anonymous_users_are_sent_to_the_login_page(stored: Evidence) -> None:
    response = _client(None).get(f"/assessment/evidence/{stored.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_county_deletes_evidence_until_the_item_is_reviewed_as_met(
    users: dict[str, User], stored: Evidence, evidence_dir: Path, own_county: OrgUnit
) -> None:
    services.add_review(users["province"], own_county, YEAR, "G1", "达标")
    response = _client(users["county"]).post(f"/assessment/evidence/{stored.pk}/delete/", follow=True)
    assert "不能再删除" in response.content.decode()
    assert (evidence_dir / stored.stored_name).exists()
    services.add_review(users["province"], own_county, YEAR, "G1", "待补充", "请补充近三年的规划文件")
    _client(users["province"]).post(f"/assessment/evidence/{stored.pk}/delete/")
    assert Evidence.objects.get().deleted_at is None  # a reviewer does not delete the county's files
    _client(users["county"]).post(f"/assessment/evidence/{stored.pk}/delete/")
    gone = Evidence.objects.get()
    assert gone.deleted_at is not None and gone.deleted_by == users["county"]
    assert not (evidence_dir / stored.stored_name).exists()
    assert _client(users["county"]).get(f"/assessment/evidence/{stored.pk}/").status_code == 404


# ---------------------------------------------------------------------------------------------------------------
# Verdicts and findings


@pytest.mark.parametrize(
    ("key", "status"), [("county", 403), ("viewer", 403), ("school", 403), ("other_province", 404)]
)
def test_verdicts_only_by_reviewers_above_the_county(key: str, status: int, users: dict[str, User]) -> None:
    response = _client(users[key]).post(f"{PAGE}review/G1/", {"verdict": "达标"})
    assert response.status_code == status
    assert Review.objects.count() == 0


def test_latest_verdict_feeds_the_county_column_with_history(users: dict[str, User], own_county: OrgUnit) -> None:
    client = _client(users["prefecture"])
    refused = client.post(f"{PAGE}review/G14/", {"verdict": "不达标", "comment": ""}, follow=True)
    assert "请填写审核意见" in refused.content.decode()
    assert Review.objects.count() == 0
    client.post(f"{PAGE}review/G14/", {"verdict": "不达标", "comment": "名额未向农村初中倾斜"})
    _client(users["province"]).post(f"{PAGE}review/G14/", {"verdict": "达标"})
    assert services.county_values(own_county, YEAR)["g14_verdict"] == "达标"
    assert list(Review.objects.filter(item="G14").values_list("verdict", flat=True)) == ["达标", "不达标"]
    page = _client(users["county"]).get(PAGE).content.decode()
    assert "名额未向农村初中倾斜" in page


def test_findings_by_reviewers_feed_the_veto_columns(users: dict[str, User], own_county: OrgUnit) -> None:
    url = f"{PAGE}finding/V3/"
    assert _client(users["county"]).post(url, {"found": "存在", "source": "信访举报"}).status_code == 403
    response = _client(users["province"]).post(url, {"found": "存在", "source": "信访举报"}, follow=True)
    assert "请填写核查情况" in response.content.decode()
    assert VetoFinding.objects.count() == 0
    _client(users["province"]).post(url, {"found": "存在", "source": "信访举报", "evidence": "某校设重点班两个"})
    finding = VetoFinding.objects.get()
    assert (finding.found, finding.source, finding.reviewer) == ("存在", "信访举报", users["province"])
    assert services.county_values(own_county, YEAR)["v3_finding"] == "存在"


# ---------------------------------------------------------------------------------------------------------------
# County inputs


def _inputs_form(client: Client, version: int, **values: str) -> Any:
    return client.post(f"{PAGE}inputs/", {"version": str(version), **values})


def test_county_inputs_are_validated_like_the_workbook(users: dict[str, User]) -> None:
    client = _client(users["county"])
    response = _inputs_form(client, 1, teacher_avg_salary="十二万", rotated_teachers="-3", performance_pay_full="可能")
    assert response.status_code == 400
    text = response.content.decode()
    assert "「交流轮岗教师数」不能为负数" in text
    assert "只能填写：是、否" in text
    assert CountyInputs.objects.count() == 0 or not CountyInputs.objects.get().values


def test_county_inputs_are_saved_audited_and_versioned(users: dict[str, User], own_county: OrgUnit) -> None:
    client = _client(users["county"])
    response = _inputs_form(client, 1, rotated_teachers="40", teacher_avg_salary="1,250,00.5")
    assert response.status_code == 400  # the reader's number rules, not Python's float()
    response = _inputs_form(client, 1, rotated_teachers="40", teacher_avg_salary="125,000", reason="首次填报")
    assert response.status_code == 302
    inputs = CountyInputs.objects.get()
    assert inputs.values["rotated_teachers"] == 40 and inputs.values["teacher_avg_salary"] == 125000.0
    assert inputs.version == 2
    change = InputChange.objects.get(field="teacher_avg_salary")
    assert (change.old, change.new, change.reason, change.actor) == (None, 125000.0, "首次填报", users["county"])
    # Someone else saved version 2 → 3 in between: the stale form is refused, nothing is lost or overwritten.
    _inputs_form(client, 2, rotated_teachers="41")
    stale = _inputs_form(client, 2, rotated_teachers="42")
    assert stale.status_code == 409
    assert "已被他人修改" in stale.content.decode()
    assert CountyInputs.objects.get().values["rotated_teachers"] == 41
    assert services.county_values(own_county, YEAR)["rotated_teachers"] == 41


def test_the_basic_balance_year_is_the_recorded_one_never_the_countys_own(
    users: dict[str, User], own_county: OrgUnit
) -> None:
    from youjun.web.organisation.models import BasicBalance

    assert services.county_values(own_county, YEAR)["basic_balance_year"] is None
    BasicBalance.objects.create(county=own_county, year=2014, document="教督函〔2014〕")
    client = _client(users["county"])
    assert _inputs_form(client, 1, basic_balance_year="2019", teacher_avg_salary="99,000").status_code == 302
    assert "basic_balance_year" not in CountyInputs.objects.get().values  # not a county input: ignored
    assert services.county_values(own_county, YEAR)["basic_balance_year"] == 2014
    stored = CountyEvaluation.objects.get(county=own_county, year=YEAR).result
    assert stored["verdict"]["eligibility"]["basic_balance_year"] == 2014


def _county_sheet(tmp: Path, rows: list[dict[str, Any]]) -> bytes:
    """A workbook with a 学校 sheet (ignored) and a 县级指标 sheet of ``rows`` under the template's headers."""
    import polars as pl

    from youjun.contract import COUNTY_COLUMNS
    from youjun.io.workbook import write_data_workbook

    frame = pl.DataFrame(rows, schema={c.key: pl.String for c in COUNTY_COLUMNS})
    path = tmp / "县级指标.xlsx"
    write_data_workbook(path, {"学校": pl.DataFrame({"school_id": ["x"]}), "县级指标": frame})
    return path.read_bytes()


def _import(client: Client, content: bytes, name: str = "鸠江区县级指标.xlsx", version: int = 1) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, content)
    return client.post(f"{PAGE}inputs/import/", {"file": upload, "version": version}, follow=True)


def test_county_inputs_import_from_the_county_sheet_of_a_workbook(
    users: dict[str, User], own_county: OrgUnit, tmp_path: Path
) -> None:
    row = {"year": str(YEAR), "county_code": OWN_COUNTY, "county_name": "鸠江区", "basic_balance_year": "2014"}
    row |= {"teacher_avg_salary": "98,000", "g1_verdict": "达标", "v1_finding": "存在", "recognition_valid": "900"}
    client = _client(users["county"])
    response = _import(client, _county_sheet(tmp_path, [row]))
    assert "已从文件导入" in response.content.decode()
    values = CountyInputs.objects.get(county=own_county).values
    assert values["teacher_avg_salary"] == 98000.0
    # Verdicts, findings, survey figures and the recorded basic-balance year never come from the county's file.
    assert not {"g1_verdict", "v1_finding", "recognition_valid", "basic_balance_year"} & set(values)
    change = InputChange.objects.get(field="teacher_avg_salary")
    assert change.reason == "从文件「鸠江区县级指标.xlsx」导入" and change.actor == users["county"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"county_code": OTHER_COUNTY, "county_name": "东城区"}], f"属于县级区划代码 {OTHER_COUNTY}，不是本县（区）"),
        ([{"year": str(YEAR - 1)}], f"没有本县（区）{YEAR} 年度的数据行"),
        ([{"rotated_teachers": "-3"}], "「交流轮岗教师数」不能为负数"),
    ],
)
def test_county_inputs_import_refuses_and_changes_nothing(
    users: dict[str, User], tmp_path: Path, rows: list[dict[str, Any]], message: str
) -> None:
    base = {"year": str(YEAR), "county_code": OWN_COUNTY, "county_name": "鸠江区"}
    response = _import(_client(users["county"]), _county_sheet(tmp_path, [base | r for r in rows]))
    text = response.content.decode()
    assert message in text and "县级指标没有任何改动" in text
    assert not InputChange.objects.exists()


def test_county_inputs_import_refuses_other_files_and_users(users: dict[str, User], tmp_path: Path) -> None:
    assert "请上传 Excel" in _import(_client(users["county"]), b"%PDF-1.4", name="指标.pdf").content.decode()
    assert _import(_client(users["province"]), b"").status_code == 403
    assert not InputChange.objects.exists()


@pytest.mark.parametrize("key", ["province", "viewer", "other_county"])
def test_county_inputs_are_read_only_above_and_hidden_outside(key: str, users: dict[str, User]) -> None:
    client = _client(users[key])
    get = client.get(f"{PAGE}inputs/")
    posted = _inputs_form(client, 1, teacher_avg_salary="99,000")
    if key == "other_county":
        assert get.status_code == 404 and posted.status_code == 404
    else:
        assert get.status_code == 200 and "只读" in get.content.decode()
        assert posted.status_code == 403
    assert CountyInputs.objects.count() == 0


def test_reviewer_columns_are_not_in_the_county_form(users: dict[str, User]) -> None:
    text = _client(users["county"]).get(f"{PAGE}inputs/").content.decode()
    assert 'name="teacher_avg_salary"' in text
    for key in ("basic_balance_year", "g1_verdict", "q8_verdict", "v1_finding", "recognition_valid", "county_code"):
        assert f'name="{key}"' not in text


# ---------------------------------------------------------------------------------------------------------------
# Recompute and the page


def _stored_result(county: OrgUnit) -> dict[str, Any]:
    return CountyEvaluation.objects.get(county=county, year=YEAR).result


def _item(result: dict[str, Any], part: str, code: str) -> dict[str, Any]:
    return next(i for i in result[part]["items"] if i["code"] == code)


def test_a_verdict_change_flips_the_item_and_the_verdict(
    users: dict[str, User], own_county: OrgUnit, evaluations: object
) -> None:
    result = _stored_result(own_county)
    assert _item(result, "government_guarantee", "G1")["status"] == "insufficient_data"
    client = _client(users["province"])
    client.post(f"{PAGE}review/G1/", {"verdict": "不达标", "comment": "布局不合理"})
    result = _stored_result(own_county)
    assert _item(result, "government_guarantee", "G1")["status"] == "not_met"
    assert result["verdict"]["status"] == "not_met"
    assert any(r["ref"] == "government_guarantee/G1" for r in result["verdict"]["reasons"])
    client.post(f"{PAGE}review/G1/", {"verdict": "达标"})
    result = _stored_result(own_county)
    assert _item(result, "government_guarantee", "G1")["status"] == "met"
    assert not any(r["ref"] == "government_guarantee/G1" for r in result["verdict"]["reasons"])


def test_the_page_links_every_reason_to_an_anchor_on_the_page(
    users: dict[str, User], own_county: OrgUnit, evaluations: object
) -> None:
    services.add_review(users["province"], own_county, YEAR, "Q8", "不达标", "课业负担过重")
    services.add_finding(users["province"], own_county, YEAR, "V2", "存在", "媒体报道", "违规择校")
    result = _stored_result(own_county)
    text = _client(users["prefecture"]).get(PAGE).content.decode()
    assert result["verdict"]["conclusion"] in text
    reasons = re.search(r'<ol class="reasons">(.*?)</ol>', text, re.S)
    assert reasons is not None
    links = re.findall(r'href="#([^"]+)"', reasons.group(1))
    assert len(links) == len(result["verdict"]["reasons"]) > 0
    ids = set(re.findall(r'id="([^"]+)"', text))
    assert set(links) <= ids
    assert "vetoes/V2" in links and "education_quality/Q8" in links


def test_the_page_and_print_view_serve_the_county_and_above_only(users: dict[str, User], evaluations: object) -> None:
    for key in ("county", "prefecture", "province", "ministry", "viewer"):
        for url in (PAGE, f"{PAGE}print/"):
            assert _client(users[key]).get(url).status_code == 200, (key, url)
    assert _client(users["school"]).get(PAGE).status_code == 403
    assert _client(users["other_county"]).get(PAGE).status_code == 404
    printed = _client(users["province"]).get(f"{PAGE}print/").content.decode()
    assert "<nav" not in printed and "<form" not in printed and "@page" not in printed  # CSS holds the A4 rule
    assert "assessment.css" in printed


def test_forms_are_shown_only_to_those_who_may_use_them(users: dict[str, User], evaluations: object) -> None:
    county = _client(users["county"]).get(PAGE).content.decode()
    province = _client(users["province"]).get(PAGE).content.decode()
    viewer = _client(users["viewer"]).get(PAGE).content.decode()
    assert 'name="file"' in county and 'name="verdict"' not in county and 'name="found"' not in county
    assert 'name="verdict"' in province and 'name="found"' in province
    assert 'name="file"' not in viewer and 'name="verdict"' not in viewer


def test_downloads_are_documents_or_a_chinese_unavailable_page(users: dict[str, User], evaluations: object) -> None:
    client = _client(users["province"])
    for url, magic in (
        (f"{PAGE}self-evaluation.docx", b"PK"),
        (f"{PAGE}annex.xlsx", b"PK"),
        (f"{PAGE}application.docx", b"PK"),
        (f"{PAGE}application.xlsx", b"PK"),
    ):
        response = client.get(url)
        if response.status_code == 200:
            assert response.content.startswith(magic), url
            assert response["Content-Disposition"].startswith("attachment;")
        else:
            assert response.status_code == 404 and "暂不可用" in response.content.decode(), url
    assert _client(users["school"]).get(f"{PAGE}annex.xlsx").status_code == 403
    assert _client(users["other_province"]).get(f"{PAGE}annex.xlsx").status_code == 404


def test_other_county_is_untouched(users: dict[str, User], other_county: OrgUnit) -> None:
    _client(users["county"]).post(f"/assessment/county/{OTHER_COUNTY}/{YEAR}/review/G1/", {"verdict": "达标"})
    assert Review.objects.count() == 0


def test_index_sends_the_county_to_its_page_and_lists_counties_above(
    users: dict[str, User], evaluations: object
) -> None:
    response = _client(users["county"]).get("/assessment/")
    assert response.status_code == 302 and response["Location"] == PAGE
    listed = _client(users["province"]).get("/assessment/").content.decode()
    assert PAGE in listed and f"/assessment/county/{OTHER_COUNTY}/" not in listed
    assert _client(users["school"]).get("/assessment/").status_code == 403


def test_demo_fills_inputs_evidence_verdicts_and_findings(
    users: dict[str, User], own_county: OrgUnit, evaluations: object, evidence_dir: Path
) -> None:
    from youjun.web.assessment import demo

    User.objects.filter(pk=users["county"].pk).update(username="demo-county")
    User.objects.filter(pk=users["province"].pk).update(username="demo-province")
    lines = demo.setup()
    assert any(PAGE in line for line in lines)
    assert CountyInputs.objects.get(county=own_county, year=YEAR).values["teacher_avg_salary"] is not None
    assert Evidence.objects.filter(county=own_county, year=YEAR).count() == 2
    assert len(list(evidence_dir.iterdir())) == 4  # two files for each of the two years
    values = services.county_values(own_county, YEAR)
    assert values["q8_verdict"] == "不达标" and values["v1_finding"] == "不存在"
    result = _stored_result(own_county)
    assert result["verdict"]["status"] == "not_met"
    assert any(r["ref"] == "education_quality/Q8" for r in result["verdict"]["reasons"])
    assert demo.setup() == lines  # idempotent
    assert Evidence.objects.filter(county=own_county).count() == 4


def test_the_survey_feeds_social_recognition(
    users: dict[str, User], own_county: OrgUnit, evaluations: object, monkeypatch: Any
) -> None:
    from youjun.web.survey import services as survey

    figures = {"recognition_valid": 1000, "recognition_positive": 700, "recognition_rate": None, "final": True}
    monkeypatch.setattr(survey, "county_recognition", lambda county, year: figures)
    services.add_finding(users["province"], own_county, YEAR, "V1", "不存在", "督导检查")
    result = _stored_result(own_county)
    assert result["social_recognition"]["status"] == "not_met"
    v7 = next(i for i in result["vetoes"]["items"] if i["code"] == "V7")
    assert v7["vetoed"] is True
    text = _client(users["province"]).get(PAGE).content.decode()
    assert 'href="#vetoes/V7"' in text and 'id="vetoes/V7"' in text


def test_an_open_survey_does_not_decide_social_recognition(
    users: dict[str, User], own_county: OrgUnit, evaluations: object, monkeypatch: Any
) -> None:
    from youjun.web.survey import services as survey

    figures = {"recognition_valid": 1000, "recognition_positive": 990, "recognition_rate": None, "final": False}
    monkeypatch.setattr(survey, "county_recognition", lambda county, year: figures)
    services.add_finding(users["province"], own_county, YEAR, "V1", "不存在", "督导检查")
    s1 = _stored_result(own_county)["social_recognition"]
    assert s1["status"] == "insufficient_data" and s1["valid"] is None  # counts still moving: no pass yet
    figures["final"] = True
    services.add_finding(users["province"], own_county, YEAR, "V2", "不存在", "督导检查")
    assert _stored_result(own_county)["social_recognition"]["status"] == "met"
