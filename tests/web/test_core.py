"""Core of the web application: hierarchy, scoping, login throttling, the collection services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from web.conftest import OTHER_COUNTY, OWN_COUNTY, PASSWORD, YEAR
from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.accounts.scoping import can_see_unit, scoped, visible_units
from youjun.web.audit.models import Transition
from youjun.web.collection import services
from youjun.web.collection.models import RecordStatus, SchoolRecord, ValueChange
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import Level, OrgUnit

pytestmark = pytest.mark.django_db


def test_hierarchy_has_every_province_and_county_level_unit() -> None:
    assert OrgUnit.objects.filter(level=Level.PROVINCE).count() == 32
    assert OrgUnit.objects.filter(level=Level.COUNTY).count() > 2800
    county = OrgUnit.objects.get(code=OWN_COUNTY)
    assert county.parent.code == "340200" and county.parent.parent.code == "340000"
    assert county.prefix == OWN_COUNTY and county.parent.prefix == "3402" and county.parent.parent.prefix == "34"


def test_each_level_sees_its_subtree_only(users: dict[str, User]) -> None:
    own, other = OrgUnit.objects.get(code=OWN_COUNTY), OrgUnit.objects.get(code=OTHER_COUNTY)
    province = OrgUnit.objects.get(code="340000")
    assert can_see_unit(users["ministry"], other)
    assert can_see_unit(users["province"], own) and not can_see_unit(users["province"], other)
    assert can_see_unit(users["county"], own) and not can_see_unit(users["county"], province)
    assert not can_see_unit(users["school"], own)
    assert (
        visible_units(users["prefecture"]).filter(code__startswith="3402").count()
        == visible_units(users["prefecture"]).count()
    )
    records = SchoolRecord.objects.all()
    assert set(scoped(records, users["county"], "county__code").values_list("county__code", flat=True)) == {OWN_COUNTY}
    assert list(scoped(records, users["school"], "county__code", "school")) == [
        SchoolRecord.objects.get(school=users["school"].school, year=YEAR)
    ]
    assert scoped(records, users["school"], "county__code").count() == 0


def test_login_is_throttled_after_repeated_failures(users: dict[str, User], client: Client) -> None:
    for _ in range(5):
        assert client.post("/accounts/login/", {"username": "county-340207", "password": "wrong"}).status_code == 401
    refused = client.post("/accounts/login/", {"username": "county-340207", "password": PASSWORD})
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.content.decode()


def test_school_saves_submits_and_county_approves_with_audit(
    users: dict[str, User], open_record: SchoolRecord, django_capture_on_commit_callbacks: Any
) -> None:
    values = dict(open_record.values)
    values["multimedia_rooms"] = (values["multimedia_rooms"] or 0) + 3
    result = services.save_record(users["school"], open_record, values, open_record.version)
    assert result.changed == 1
    change = ValueChange.objects.get(record=open_record)
    assert change.field == "multimedia_rooms" and change.actor == users["school"]
    services.move_record(users["school"], open_record, RecordStatus.SUBMITTED)
    with pytest.raises(YoujunError, match="角色"):
        services.move_record(users["school"], open_record, RecordStatus.APPROVED)
    with django_capture_on_commit_callbacks(execute=True):
        services.move_record(users["county"], open_record, RecordStatus.APPROVED)
    assert Transition.objects.filter(object_id=open_record.pk).count() == 2
    assert CountyEvaluation.objects.filter(county__code=OWN_COUNTY, year=YEAR).exists()


def test_second_writer_gets_a_conflict_and_nothing_is_lost(users: dict[str, User], open_record: SchoolRecord) -> None:
    base = open_record.version
    first = dict(open_record.values, multimedia_rooms=40)
    second = dict(open_record.values, multimedia_rooms=41)
    services.save_record(users["school"], open_record, first, base)
    with pytest.raises(YoujunError, match="已被他人修改"):
        services.save_record(users["county"], SchoolRecord.objects.get(pk=open_record.pk), second, base)
    assert SchoolRecord.objects.get(pk=open_record.pk).values["multimedia_rooms"] == 40


def test_other_county_cannot_touch_the_record(users: dict[str, User], open_record: SchoolRecord) -> None:
    with pytest.raises(YoujunError, match="只有本校或本县"):
        services.save_record(users["other_county"], open_record, dict(open_record.values), open_record.version)
    with pytest.raises(YoujunError):
        services.move_record(users["other_county"], open_record, RecordStatus.SUBMITTED)
