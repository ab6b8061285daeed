"""Bombs posted through the real upload views: a Chinese refusal (400, or the page of the import), never a 500,
nothing stored; and a normal county workbook still imports through the web. The bombs are built in
tests/test_limits.py."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

import test_limits as bombs
from web.conftest import OWN_COUNTY, YEAR
from youjun.contract import SCHOOL_SHEET
from youjun.errors import YoujunError
from youjun.io.synth import generate
from youjun.io.workbook import write_data_workbook
from youjun.web.accounts.models import User
from youjun.web.assessment import services as assessment
from youjun.web.assessment.models import Evidence, InputChange
from youjun.web.collection import services as collection
from youjun.web.collection.models import CountySubmission, RecordStatus, SchoolRecord, ValueChange
from youjun.web.organisation.models import OrgUnit, School

pytestmark = pytest.mark.django_db

#: (bomb, file name, words the refusal must contain)
UPLOADS = {
    "shared_string_bomb_lying": ("学校.xlsx", "实际大小超过其声明"),
    "deflate_bomb_entry": ("学校.xlsx", "40 MB 的上限"),
    "expansion_bomb": ("学校.xlsx", "展开后"),
    "unique_count": ("学校.xlsx", "200,000 个的上限"),
    "million_rows_web": ("学校.xlsx", "的上限"),
    "far_cell": ("学校.xlsx", "10,000 行的上限"),
    "empty_cell_moves_column": ("学校.xlsx", "200 列的上限"),
    "many_entries": ("学校.xlsx", "2,000 个的上限"),
    "wide_csv": ("学校.csv", "64 KB 的上限"),
    "long_csv_line": ("学校.csv", "64 KB 的上限"),
    "xls_fat_count": ("学校.xls", "结构异常"),
    "xls_expansion": ("学校.xls", "展开后"),
}


def bomb(name: str) -> bytes:
    data, _suffix = getattr(bombs, name.removesuffix("_web"))()
    return bytes(data)


def page(response: Any) -> str:
    return str(response.content.decode())


def records_of(county: OrgUnit) -> dict[int, tuple[Any, str, int]]:
    return {r.pk: (r.values, r.status, r.version) for r in SchoolRecord.objects.filter(county=county)}


def stored_state(county: OrgUnit) -> tuple[Any, ...]:
    return (
        records_of(county),
        School.objects.count(),
        ValueChange.objects.count(),
        list(CountySubmission.objects.filter(county=county).values_list("status", flat=True)),
    )


@pytest.fixture
def county_client(users: dict[str, User], client: Client) -> Client:
    client.force_login(users["county"])
    return client


@pytest.fixture(autouse=True)
def evidence_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    settings.YOUJUN_EVIDENCE_DIR = folder
    return folder


# ---------------------------------------------------------------------------------------------------------------------
# The county's workbook upload


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_the_county_upload_refuses_each_bomb_and_stores_nothing(
    name: str, county_client: Client, own_county: OrgUnit
) -> None:
    SchoolRecord.objects.filter(county=own_county, year=YEAR).update(status=RecordStatus.DRAFT)
    before = stored_state(own_county)
    file_name, words = UPLOADS[name]
    upload = SimpleUploadedFile(file_name, bomb(name))
    response = county_client.post(reverse("collection:county_upload", args=[OWN_COUNTY, YEAR]), {"file": upload})
    assert response.status_code == 400, page(response)[:500]
    html = page(response)
    assert words in html and "未导入" in html and "没有任何变化" in html
    assert "youjun-upload" not in html  # no server path
    assert stored_state(own_county) == before


def test_a_school_uploading_a_bomb_as_its_own_workbook_gets_the_message(
    users: dict[str, User], client: Client, open_record: SchoolRecord
) -> None:
    client.force_login(users["school"])
    before = records_of(open_record.county)
    upload = SimpleUploadedFile("本校.xlsx", bomb("far_cell"))
    url = reverse("collection:record", args=[open_record.pk]) + "upload/"
    response = client.post(url, {"file": upload, "version": open_record.version})
    assert response.status_code == 400 and "10,000 行的上限" in page(response)
    assert records_of(open_record.county) == before


def test_a_normal_county_workbook_still_imports_through_the_web(
    county_client: Client, own_county: OrgUnit, tmp_path: Path
) -> None:
    """A synthetic county written as the annual workbook: imported whole, within the limits."""
    schools = generate(1, seed=41, year=YEAR, province="34").schools.with_columns(
        pl.lit(OWN_COUNTY).alias("county_code"),
        pl.lit(own_county.name).alias("county_name"),
        ("T" + pl.col("school_id")).alias("school_id"),  # new schools, registered nowhere yet
    )
    path = tmp_path / "鸠江区.xlsx"
    write_data_workbook(path, {SCHOOL_SHEET: schools})
    upload = SimpleUploadedFile("鸠江区.xlsx", path.read_bytes())
    response = county_client.post(reverse("collection:county_upload", args=[OWN_COUNTY, YEAR]), {"file": upload})
    assert response.status_code == 302, page(response)[:800]
    imported = SchoolRecord.objects.filter(county=own_county, year=YEAR, school__school_id__startswith="T")
    assert imported.count() == schools.height and {r.status for r in imported} == {RecordStatus.SUBMITTED}


# ---------------------------------------------------------------------------------------------------------------------
# County inputs (form and file)


def test_the_county_inputs_import_refuses_a_bomb(county_client: Client) -> None:
    for name, file_name in (("deflate_bomb_entry", "县级指标.xlsx"), ("long_csv_line", "县级指标.csv")):
        url = f"/assessment/county/{OWN_COUNTY}/{YEAR}/inputs/import/"
        upload = SimpleUploadedFile(file_name, bomb(name))
        response = county_client.post(url, {"file": upload, "version": 1}, follow=True)
        assert response.status_code == 200
        html = page(response)
        assert "未导入" in html and "县级指标没有任何改动" in html, name
    assert not InputChange.objects.exists()


def test_forms_refuse_a_value_of_tens_of_kilobytes(open_record: SchoolRecord, own_county: OrgUnit) -> None:
    values = {**open_record.values, "students_primary": "1" * 70_000}
    with pytest.raises(YoujunError) as caught:
        collection.validate_row(values)
    assert [p.code for p in caught.value.errors] == ["line_too_long"]
    assert "填写的内容过长" in caught.value.errors[0].message
    with pytest.raises(YoujunError) as caught:
        assessment.validate_inputs(own_county, YEAR, {"teacher_avg_salary": "9" * 70_000})
    assert "填写的内容过长" in caught.value.errors[0].message


def test_the_upload_limit_setting_is_the_readers_file_limit(settings: Any) -> None:
    """``YOUJUN_MAX_UPLOAD_BYTES`` is the file limit the reader applies: a 21 MB file passes the size check when the
    setting allows 40 MB (and is then refused for what it holds, here one line of 21 MB)."""
    settings.YOUJUN_MAX_UPLOAD_BYTES = 40 * 1024 * 1024
    data = b"a,b\n" + b"x" * (21 * 1024 * 1024) + b"\n"
    with pytest.raises(YoujunError) as caught:
        collection.validate_upload("学校.csv", [data], len(data))
    assert [p.code for p in caught.value.errors] == ["line_too_long"]
    assert caught.value.errors[0].location.file == "学校.csv"


# ---------------------------------------------------------------------------------------------------------------------
# Evidence: stored, never parsed, still no zip bombs


BOUNDARY = "----youjunLimitsBoundary7MA4YWxkTrZu0gW"


def _evidence(client: Client, filename: str, content: bytes) -> Any:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()
    url = f"/assessment/county/{OWN_COUNTY}/{YEAR}/evidence/G1/"
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}", follow=True)


def _document(part: str, zeros_mb: int = 0) -> bytes:
    """An OOXML document; with ``zeros_mb``, a picture part of that many MB of zeros (streamed in)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{part}document.xml", "<x/>")
        if zeros_mb:
            with archive.open(f"{part}media/image1.png", "w", force_zip64=True) as out:
                for block in bombs.zeros(zeros_mb):
                    out.write(block)
    return buffer.getvalue()


@pytest.mark.parametrize(("filename", "part"), [("汇报.docx", "word/"), ("统计.xlsx", "xl/"), ("演示.pptx", "ppt/")])
def test_an_evidence_zip_bomb_is_refused_without_storing_it(
    filename: str, part: str, county_client: Client, evidence_dir: Path
) -> None:
    ratio_bomb = _document(part, zeros_mb=300)
    lying = bombs.claim_size(ratio_bomb, f"{part}media/image1.png".encode(), 1024)
    for content, words in ((ratio_bomb, "的上限"), (lying, "实际大小超过其声明")):
        response = _evidence(county_client, filename, content)
        html = page(response)
        assert response.status_code in (200, 400) and words in html and "未上传" in html
        assert "工作簿中的" not in html  # worded for a document
    assert Evidence.objects.count() == 0
    assert not evidence_dir.exists() or not any(evidence_dir.iterdir())


def test_a_normal_evidence_document_is_still_stored(county_client: Client) -> None:
    response = _evidence(county_client, "说明.docx", _document("word/"))
    assert response.status_code == 200 and "已上传" in page(response)
    assert Evidence.objects.count() == 1
