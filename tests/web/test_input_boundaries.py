"""Input validated at the boundary (issue 10): odd ids, long names, unknown enums and out-of-range years end in a
Chinese message or a 404 — never a 500, never stored — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client

from web.conftest import OWN_COUNTY, YEAR
from youjun.contract import SCHOOL_COLUMNS
from youjun.web.accounts.models import User
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.collection.selectors import records_frame
from youjun.web.organisation.models import OrgUnit, School

pytestmark = pytest.mark.django_db
HEADERS = {c.key: c.header for c in SCHOOL_COLUMNS}


def _client(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _upload(client: Client, county: OrgUnit, change: dict[str, str]) -> Any:
    """The county's records as a CSV with the first school's cells replaced."""
    SchoolRecord.objects.filter(county=county, year=YEAR).update(status=RecordStatus.DRAFT)
    frame = records_frame(SchoolRecord.objects.filter(county=county, year=YEAR).order_by("school__school_id"))
    frame = frame.with_columns(pl.all().cast(pl.String))
    first = pl.int_range(pl.len()) == 0
    frame = frame.with_columns(pl.when(first).then(pl.lit(v)).otherwise(pl.col(k)).alias(k) for k, v in change.items())
    body = io.BytesIO()
    frame.rename(HEADERS).write_csv(body)
    upload = SimpleUploadedFile("学校.csv", body.getvalue(), content_type="text/csv")
    return client.post(f"/collection/county/{OWN_COUNTY}/{YEAR}/upload/", {"file": upload})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"school_id": "3402/070099"}, "「学校标识码」只能包含数字、英文字母、连字符（-）和下划线（_）"),
        ({"school_id": "3" * 33}, "「学校标识码」不能超过 32 个字符"),
        ({"school_name": "很" * 129}, "「学校名称」不能超过 128 个字符"),
        ({"school_name": "第一\n小学"}, "「学校名称」含有换行、制表符等控制字符"),
        ({"ownership": "公办学校公办学校公办"}, "「举办者」只能填写：公办、民办"),
        ({"year": "2147483648"}, "「统计年度」应为 1900–2100 之间的四位年份"),
    ],
)
def test_odd_cells_in_a_county_upload_are_refused_in_chinese(
    users: dict[str, User], own_county: OrgUnit, change: dict[str, str], message: str
) -> None:
    before = set(School.objects.values_list("school_id", flat=True))
    response = _upload(_client(users["county"]), own_county, change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert set(School.objects.values_list("school_id", flat=True)) == before


@pytest.mark.parametrize(
    "url",
    [
        f"/collection/county/{OWN_COUNTY}/2147483648/",
        f"/assessment/county/{OWN_COUNTY}/99999/",
        f"/evaluation/county/{OWN_COUNTY}/1999/",
        "/collection/record/99999999999999999999999/",
        "/programme/nomination/9223372036854775808/",
        "/programme/batch/0/",
    ],
)
def test_out_of_range_numbers_in_urls_are_404(users: dict[str, User], url: str) -> None:
    assert _client(users["county"]).get(url).status_code == 404


def test_registry_refuses_odd_ids_names_enums_and_years(users: dict[str, User], own_county: OrgUnit) -> None:
    client = _client(users["county"])
    page = f"/registry/county/{OWN_COUNTY}/schools/"
    good = {"school_id": "3402079999", "name": "新建小学", "school_type": "小学", "ownership": "公办"}
    good |= {"urban_rural": "城区", "year": str(YEAR)}
    cases = [
        ({"school_id": "34/02"}, "只能包含数字、英文字母"),
        ({"school_id": "9" * 40}, "不能超过 32 个字符"),
        ({"name": "校" * 200}, "不能超过 128 个字符"),
        ({"ownership": "公办学校公办学校公办"}, "举办者只能是：公办、民办"),
        ({"urban_rural": "郊区"}, "城乡分类只能是：城区、镇区、乡村"),
    ]
    for change, message in cases:
        response = client.post(page, {**good, **change}, follow=True)
        assert response.status_code == 200, change
        assert message in response.content.decode(), change
    assert not School.objects.filter(name__in=["新建小学", "校" * 200]).exists()
    school = School.objects.filter(county=own_county).first()
    assert school is not None
    response = client.post(f"{page}{school.pk}/close/", {"year": "2147483648"}, follow=True)
    assert response.status_code == 200 and "撤销年度应为 2000–2100 之间的年份" in response.content.decode()
    assert School.objects.get(pk=school.pk).closed_year is None


def test_a_legacy_id_with_a_slash_does_not_break_the_registry(users: dict[str, User], own_county: OrgUnit) -> None:
    """Rows stored before ids were checked: the registry page and its actions use the row's key, not the id."""
    School.objects.create(
        school_id="3402/07/legacy", name="旧数据学校", county=own_county, school_type="小学", ownership="公办",
        urban_rural="城区",
    )  # fmt: skip
    response = _client(users["county"]).get(f"/registry/county/{OWN_COUNTY}/schools/")
    assert response.status_code == 200 and "旧数据学校" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"), [("school_type", "大学"), ("ownership", "公私合营"), ("urban_rural", "郊区")]
)
def test_the_database_refuses_unknown_enumerations(own_county: OrgUnit, field: str, value: str) -> None:
    values = {"school_type": "小学", "ownership": "公办", "urban_rural": "城区", field: value}
    with pytest.raises(IntegrityError), transaction.atomic():
        School.objects.create(school_id="3402078888", name="测试", county=own_county, **values)


def test_the_database_refuses_unknown_states(own_county: OrgUnit) -> None:
    record = SchoolRecord.objects.filter(county=own_county).first()
    assert record is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolRecord.objects.filter(pk=record.pk).update(status="hacked")


def test_a_value_the_database_refuses_is_a_400_not_a_500(
    users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: were a boundary check missing, the database's refusal reaches the user as a 400 page."""
    from django.db import DataError

    from youjun.web.collection import registry_views as views

    def overflow(*args: Any, **kwargs: Any) -> Any:
        raise DataError('value "2147483648" is out of range for type integer')

    monkeypatch.setattr(views.services, "register_school", overflow)
    response = _client(users["county"]).post(
        f"/registry/county/{OWN_COUNTY}/schools/",
        {
            "school_id": "3402079999",
            "name": "新学校",
            "school_type": "小学",
            "ownership": "公办",
            "urban_rural": "城区",
        },
    )
    assert response.status_code == 400
    assert "超出允许的范围" in response.content.decode()
