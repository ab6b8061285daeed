"""The dated school registry: new, closed and merged schools; past years stay as they were."""

from __future__ import annotations

import pytest
from django.test import Client

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.collection import registry as services
from youjun.web.collection.models import SchoolRecord
from youjun.web.collection.services import ensure_records
from youjun.web.organisation.models import OrgUnit, School

pytestmark = pytest.mark.django_db


def test_new_school_is_in_the_registry_from_its_year_on(users: dict[str, User], own_county: OrgUnit) -> None:
    school = services.register_school(
        users["county"], own_county, "3402079901", "新建实验小学", "小学", "公办", "城区", YEAR
    )
    assert school.active_in(YEAR) and not school.active_in(YEAR - 1)
    assert ensure_records(own_county, YEAR) == 1
    assert SchoolRecord.objects.filter(school=school, year=YEAR).exists()
    assert not SchoolRecord.objects.filter(school=school, year=YEAR - 1).exists()


def test_closed_and_merged_school_keeps_its_past_records(users: dict[str, User], own_county: OrgUnit) -> None:
    first, second = School.objects.filter(county=own_county).order_by("school_id")[:2]
    before = SchoolRecord.objects.get(school=first, year=YEAR).values
    services.close_school(users["county"], first, YEAR + 1, merged_into=second)
    first.refresh_from_db()
    assert first.active_in(YEAR) and not first.active_in(YEAR + 1) and first.merged_into == second
    assert SchoolRecord.objects.get(school=first, year=YEAR).values == before
    assert ensure_records(own_county, YEAR + 1) == School.objects.filter(county=own_county).count() - 1


@pytest.mark.parametrize("who", ["other_county", "province", "school", "viewer"])
def test_only_the_own_county_changes_the_registry(users: dict[str, User], own_county: OrgUnit, who: str) -> None:
    with pytest.raises(YoujunError, match="只有本县"):
        services.register_school(users[who], own_county, "3402079902", "某小学", "小学", "公办", "城区", YEAR)
    school = School.objects.filter(county=own_county).first()
    assert school is not None
    with pytest.raises(YoujunError):
        services.close_school(users[who], school, YEAR + 1)


def test_merging_into_another_county_or_itself_is_refused(users: dict[str, User], own_county: OrgUnit) -> None:
    school = School.objects.filter(county=own_county).first()
    elsewhere = School.objects.filter(county__code=OTHER_COUNTY).first()
    assert school is not None and elsewhere is not None
    for target in (elsewhere, school):
        with pytest.raises(YoujunError, match="只能并入本县"):
            services.close_school(users["county"], school, YEAR + 1, merged_into=target)


def test_registry_page_is_scoped(users: dict[str, User], client: Client) -> None:
    client.force_login(users["county"])
    page = client.get(f"/registry/county/{OWN_COUNTY}/schools/?year={YEAR}")
    assert page.status_code == 200 and "在册学校" in page.content.decode()
    assert client.get(f"/registry/county/{OTHER_COUNTY}/schools/").status_code == 404
    assert client.get(f"/registry/county/{OWN_COUNTY}/schools/?year=abc").status_code == 200
    client.force_login(users["province"])
    assert client.get(f"/registry/county/{OWN_COUNTY}/schools/").status_code == 200
    assert client.post(f"/registry/county/{OWN_COUNTY}/schools/", {"school_id": "x", "name": "y"}).status_code == 403
    assert not School.objects.filter(school_id="x").exists()


def test_registering_through_the_page_escapes_names(users: dict[str, User], client: Client) -> None:
    client.force_login(users["county"])
    form = {"school_id": "3402079903", "name": "<script>alert(1)</script>小学", "school_type": "小学",
            "ownership": "公办", "urban_rural": "乡村", "year": str(YEAR)}  # fmt: skip
    client.post(f"/registry/county/{OWN_COUNTY}/schools/?year={YEAR}", form)
    page = client.get(f"/registry/county/{OWN_COUNTY}/schools/?year={YEAR}").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;小学" in page and "<script>alert(1)" not in page


def test_registry_exports_to_excel_with_inert_names(users: dict[str, User], client: Client) -> None:
    import fastexcel

    school = School.objects.filter(county__code=OWN_COUNTY).first()
    assert school is not None
    school.name = '=HYPERLINK("http://x","y")'
    school.save()
    client.force_login(users["province"])
    response = client.get(f"/registry/county/{OWN_COUNTY}/schools/?year={YEAR}&format=xlsx")
    assert response.status_code == 200 and "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = fastexcel.read_excel(response.content).load_sheet("学校名册", header_row=1).to_polars()
    assert school.school_id in sheet["学校标识码"].to_list()
    assert '=HYPERLINK("http://x","y")' in sheet["学校名称"].to_list()
    client.force_login(users["other_county"])
    assert client.get(f"/registry/county/{OWN_COUNTY}/schools/?format=xlsx").status_code == 404
