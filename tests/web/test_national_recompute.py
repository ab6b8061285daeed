"""The batch recompute of a year (``youjun-web recompute --year``) stores exactly what the per-county pipeline
stores, for counties with and without county-level data; ``--stale`` touches only stale results; a county-year
whose data changes while the batch computes keeps its newer state instead of the batch's older reading."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.assessment.models import CountyInputs
from youjun.web.evaluation import national, pipeline
from youjun.web.evaluation.models import CountyEvaluation, EvaluationState
from youjun.web.organisation.models import OrgUnit

pytestmark = pytest.mark.django_db
STAMPS = ("passed", "units", "units_passed", "standard", "engine_version", "ruleset_digest", "generation")


def _stored() -> dict[str, tuple[Any, ...]]:
    return {
        e.county.code: (e.result, *(getattr(e, s) for s in STAMPS))
        for e in CountyEvaluation.objects.filter(year=YEAR).select_related("county")
    }


@pytest.fixture
def counties() -> list[OrgUnit]:
    own, other = OrgUnit.objects.get(code=OWN_COUNTY), OrgUnit.objects.get(code=OTHER_COUNTY)
    CountyInputs.objects.create(
        county=own, year=YEAR, values={"basic_balance_year": 2014, "funds_per_student_primary": 9000.0}
    )
    pipeline.mark_changed(own, YEAR)
    return [own, other]


def test_the_batch_stores_what_the_pipeline_stores(counties: list[OrgUnit]) -> None:
    for county in counties:
        pipeline.recompute(county, YEAR)
    one_by_one = _stored()
    assert set(one_by_one) == {OWN_COUNTY, OTHER_COUNTY}
    CountyEvaluation.objects.all().delete()

    outcome = national.recompute_year(YEAR, counties)
    assert outcome.stored == 2 and outcome.moved_on == []
    assert _stored() == one_by_one
    assert one_by_one[OWN_COUNTY][0]["county_code"] == OWN_COUNTY  # the county data reached the document


def test_the_command_recomputes_a_province_and_stale_only_what_is_stale(counties: list[OrgUnit]) -> None:
    out = io.StringIO()
    call_command("recompute", year=YEAR, stdout=out, stderr=io.StringIO())
    assert "已重新计算 2 个县（区）" in out.getvalue()
    before = {e.county_id: e.computed_at for e in CountyEvaluation.objects.all()}

    out = io.StringIO()
    call_command("recompute", year=YEAR, stale=True, stdout=out)
    assert "2 个县（区）的结果已是最新" in out.getvalue()
    pipeline.mark_changed(counties[1], YEAR)  # the other county's data changed
    out = io.StringIO()
    call_command("recompute", year=YEAR, stale=True, stdout=out, stderr=io.StringIO())
    assert "已重新计算 1 个县（区）" in out.getvalue() and "无需更新 1 个" in out.getvalue()
    after = {e.county_id: e.computed_at for e in CountyEvaluation.objects.all()}
    assert after[counties[0].pk] == before[counties[0].pk] and after[counties[1].pk] > before[counties[1].pk]
    assert not pipeline.staleness(CountyEvaluation.objects.get(county=counties[1]), counties[1], YEAR)["stale"]


def test_a_change_during_the_batch_is_not_overwritten_by_its_older_reading(
    counties: list[OrgUnit], monkeypatch: pytest.MonkeyPatch
) -> None:
    own = counties[0]
    pipeline.recompute(own, YEAR)
    real = national._schools

    def change_meanwhile(year: int, ids: list[int]) -> Any:
        frame = real(year, ids)
        pipeline.mark_changed(own, YEAR)  # an approval lands while the batch computes
        return frame

    monkeypatch.setattr(national, "_schools", change_meanwhile)
    outcome = national.recompute_year(YEAR, counties)
    assert outcome.moved_on == [OWN_COUNTY] and outcome.stored == 1
    stored = CountyEvaluation.objects.get(county=own, year=YEAR)
    assert stored.generation < EvaluationState.objects.get(county=own, year=YEAR).generation
    assert pipeline.staleness(stored, own, YEAR)["stale"]  # left to its own queued recompute, never silently old


def test_a_county_without_any_data_loses_its_result(counties: list[OrgUnit]) -> None:
    other = counties[1]
    pipeline.recompute(other, YEAR)
    from youjun.web.collection.models import SchoolRecord

    SchoolRecord.objects.filter(county=other, year=YEAR).delete()
    outcome = national.recompute_year(YEAR, counties)
    assert outcome.removed == 1 and not CountyEvaluation.objects.filter(county=other, year=YEAR).exists()
