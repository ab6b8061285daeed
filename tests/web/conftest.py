"""Shared fixtures of the web tests: the national hierarchy (loaded once), users per role, a county with schools.

Two jurisdictions are prepared: 鸠江区 (340207, 芜湖市, 安徽省) as "own" and 东城区 (110101, 北京市) as "other".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from django.utils import timezone

from youjun.io.synth import generate
from youjun.web.accounts.models import Role, User
from youjun.web.collection.loading import load_frame, onto_real_counties
from youjun.web.collection.models import CollectionYear, RecordStatus, SchoolRecord
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import MINISTRY_CODE, OrgUnit
from youjun.web.organisation.services import load_divisions

PASSWORD = "test-password-2024"
YEAR = 2024
OWN_COUNTY, OTHER_COUNTY = "340207", "110101"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The hierarchy, two small counties of synthetic schools (approved) and an open collection year."""
    with django_db_blocker.unblock():
        load_divisions()
        own, other = OrgUnit.objects.get(code=OWN_COUNTY), OrgUnit.objects.get(code=OTHER_COUNTY)
        synthetic = generate(2, seed=11, year=YEAR, province="34").schools
        first, second = synthetic["county_code"].unique(maintain_order=True).to_list()[:2]
        small = pl.concat([synthetic.filter(pl.col("county_code") == c).head(12) for c in (first, second)])
        frame = onto_real_counties(small, [own, other])
        load_frame(frame, RecordStatus.APPROVED)
        ministry = OrgUnit.objects.get(code=MINISTRY_CODE)
        opener = User.objects.create(username="setup", role=Role.MINISTRY, org_unit=ministry)
        now = timezone.now()
        window = {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=30)}
        for scope in ("340000", "110000"):
            CollectionYear.objects.create(year=YEAR, scope=OrgUnit.objects.get(code=scope), opened_by=opener, **window)
    yield


def make_user(role: str, unit_code: str | None = None, school_id: str | None = None, name: str = "") -> User:
    unit = OrgUnit.objects.get(code=unit_code) if unit_code else None
    school = SchoolRecord.objects.filter(school__school_id=school_id).first().school if school_id else None  # type: ignore[union-attr]
    username = name or f"{role}-{unit_code or school_id}"
    user = User.objects.create(username=username, role=role, org_unit=unit, school=school)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture(autouse=True)
def recompute_at_once(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Each test runs in one transaction that never commits, so "after the commit" would be never: recomputes run
    where they are scheduled instead, and jobs run when they are enqueued (tests of the deferral itself use
    ``django_capture_on_commit_callbacks``; tests of the worker set the database backend again)."""
    from youjun.web.evaluation import pipeline as services

    monkeypatch.setattr(services, "after_commit", lambda callback: callback())
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def prepared_files_apart(settings: Any, tmp_path: Any) -> None:
    """Files prepared in the background go to the test's own folder."""
    settings.YOUJUN_PREPARED_DIR = tmp_path / "prepared"


def prepared_download(client: Any, url: str) -> Any:
    """Ask for a file prepared in the background the way an official does: the offer page, its button, the progress
    page (the test backend builds at once), then the download; the download's response (content read)."""
    offer = client.get(url)
    assert offer.status_code == 200 and 'id="prepare"' in offer.content.decode(), url
    started = client.post(url)
    assert started.status_code == 302 and started["Location"].startswith("/downloads/"), started
    page = client.get(started["Location"])
    assert page.status_code == 200 and 'data-status="ready"' in page.content.decode(), page.content.decode()[-2000:]
    response = client.get(started["Location"] + "download/")
    assert response.status_code == 200
    from django.http import HttpResponse

    plain = HttpResponse(b"".join(response.streaming_content))
    for header, value in response.items():
        plain[header] = value
    return plain


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; the tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def own_county() -> OrgUnit:
    return OrgUnit.objects.get(code=OWN_COUNTY)


@pytest.fixture
def other_county() -> OrgUnit:
    return OrgUnit.objects.get(code=OTHER_COUNTY)


@pytest.fixture
def users(db: None) -> dict[str, User]:
    """One user per role in the own jurisdiction, plus the same roles in the other one (key prefix ``other_``)."""
    own_school = SchoolRecord.objects.filter(county__code=OWN_COUNTY).order_by("school__school_id").first()
    other_school = SchoolRecord.objects.filter(county__code=OTHER_COUNTY).order_by("school__school_id").first()
    assert own_school and other_school
    return {
        "ministry": make_user(Role.MINISTRY, MINISTRY_CODE),
        "province": make_user(Role.PROVINCE, "340000"),
        "prefecture": make_user(Role.PREFECTURE, "340200"),
        "county": make_user(Role.COUNTY, OWN_COUNTY),
        "school": make_user(Role.SCHOOL, school_id=own_school.school.school_id),
        "viewer": make_user(Role.VIEWER, "340000", name="viewer-340000"),
        "other_province": make_user(Role.PROVINCE, "110000"),
        "other_prefecture": make_user(Role.PREFECTURE, "110100"),
        "other_county": make_user(Role.COUNTY, OTHER_COUNTY),
        "other_school": make_user(Role.SCHOOL, school_id=other_school.school.school_id),
    }


@pytest.fixture
def evaluations(db: None) -> dict[str, CountyEvaluation]:
    """Stored evaluation results of both counties for the year."""
    stored = {}
    for code in (OWN_COUNTY, OTHER_COUNTY):
        evaluation = recompute(OrgUnit.objects.get(code=code), YEAR)
        assert evaluation is not None
        stored[code] = evaluation
    return stored


@pytest.fixture
def open_record(own_county: OrgUnit) -> SchoolRecord:
    """The own school's record of the current year, back in draft (as during collection)."""
    record = SchoolRecord.objects.filter(county=own_county, year=YEAR).order_by("school__school_id").first()
    assert record is not None
    record.status = RecordStatus.DRAFT
    record.save()
    return record
