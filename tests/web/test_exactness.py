"""Issue 9 on the web: a county with county inputs but no approved school record, and boundary cases, on the county
assessment page, in the Word report and in the Excel annex."""

from __future__ import annotations

import io
from typing import Any

import fastexcel
import pytest
from django.test import Client
from django.utils import timezone
from docx import Document

from web.conftest import OWN_COUNTY, YEAR, make_user
from youjun.web.accounts.models import Role, User
from youjun.web.assessment import services
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import BasicBalance, OrgUnit
from youjun.web.programme.services.basic_balance import set_basic_balance

pytestmark = pytest.mark.django_db

EMPTY_COUNTY = "340202"  # 镜湖区: in the own province, no school records in the test data


def _client(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _save(user: User, county: OrgUnit, **values: Any) -> None:
    inputs = services.inputs_of(county, YEAR)
    services.save_inputs(user, county, YEAR, values, inputs.version if inputs else 1)


def _annex_text(content: bytes) -> str:
    reader = fastexcel.read_excel(content)
    texts = []
    for name in reader.sheet_names:
        sheet = reader.load_sheet_by_name(name, header_row=None, dtypes="string").to_polars()
        texts += [str(v) for row in sheet.iter_rows() for v in row if v is not None]
    return "\n".join(texts)


def _docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_county_inputs_without_school_data_give_an_assessment_with_resources_unjudged(users: dict[str, User]) -> None:
    county = OrgUnit.objects.get(code=EMPTY_COUNTY)
    clerk = make_user(Role.COUNTY, EMPTY_COUNTY)
    BasicBalance.objects.create(county=county, year=2015)
    _save(clerk, county, special_ed_funds_per_student=7000, teacher_avg_salary=120000)
    stored = CountyEvaluation.objects.get(county=county, year=YEAR)
    assert stored.passed is None and stored.units == 0
    parts = stored.result["verdict"]["parts"]
    assert parts["resource_allocation"] == "insufficient_data" and parts["eligibility"] == "met"
    g7 = next(i for i in stored.result["government_guarantee"]["items"] if i["code"] == "G7")
    assert g7["status"] == "met"

    client = _client(users["province"])
    page = client.get(f"/assessment/county/{EMPTY_COUNTY}/{YEAR}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "尚无本县（区）经审核的学校数据，资源配置暂无法评估" in html
    assert "7,000 元（要求不低于 6,000 元），达标" in html
    report = client.get(f"/assessment/county/{EMPTY_COUNTY}/{YEAR}/self-evaluation.docx")
    assert report.status_code == 200
    assert "资源配置结论：数据不足" in _docx_text(report.content)
    annex = client.get(f"/assessment/county/{EMPTY_COUNTY}/{YEAR}/annex.xlsx")
    assert annex.status_code == 200
    assert "特殊教育学校生均公用经费 7,000 元（要求不低于 6,000 元），达标" in _annex_text(annex.content)
    # the resource pages, which rank counties by their resources, leave it out until school data are approved
    resources = client.get(f"/evaluation/county/{EMPTY_COUNTY}/{YEAR}/")
    assert resources.status_code == 404 and "暂无评估结果" in resources.content.decode()
    province = client.get(f"/evaluation/unit/340000/{YEAR}/").content.decode()
    assert "镜湖区" not in province


def test_clearing_every_input_of_a_county_without_schools_drops_its_result(users: dict[str, User]) -> None:
    county = OrgUnit.objects.get(code=EMPTY_COUNTY)
    clerk = make_user(Role.COUNTY, EMPTY_COUNTY)
    _save(clerk, county, special_ed_funds_per_student=7000)
    assert CountyEvaluation.objects.filter(county=county, year=YEAR).exists()
    _save(clerk, county)
    assert not CountyEvaluation.objects.filter(county=county, year=YEAR).exists()


def test_a_boundary_value_is_marked_on_the_page_in_word_and_in_the_annex(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation]
) -> None:
    county = OrgUnit.objects.get(code=OWN_COUNTY)
    _save(users["county"], county, special_ed_funds_per_student=5999.995)
    client = _client(users["county"])
    html = client.get(f"/assessment/county/{OWN_COUNTY}/{YEAR}/").content.decode()
    expected = "特殊教育学校生均公用经费 6,000 元（要求不低于 6,000 元），未达标（⚠临界：全精度值 5999.995）"
    assert expected in html
    assert 'title="显示值与标准相同，但全精度结论不同">⚠临界</span>' in html
    word = _docx_text(client.get(f"/assessment/county/{OWN_COUNTY}/{YEAR}/self-evaluation.docx").content)
    assert expected in word and "未达标（⚠临界）" in word
    annex = _annex_text(client.get(f"/assessment/county/{OWN_COUNTY}/{YEAR}/annex.xlsx").content)
    assert expected in annex and "未达标（⚠临界）" in annex


def test_an_impossible_recognition_year_or_rotation_is_refused_on_the_form(users: dict[str, User]) -> None:
    county = OrgUnit.objects.get(code=OWN_COUNTY)
    from youjun.errors import YoujunError

    future = timezone.localdate().year + 1
    with pytest.raises(YoujunError) as caught:
        set_basic_balance(users["province"], county, future, "")
    assert any("认定年份应在" in p.message for p in caught.value.problems)
    with pytest.raises(YoujunError) as caught:
        _save(users["county"], county, rotated_teachers=10, rotated_backbone_teachers=11)
    assert any(p.location.field == "rotated_backbone_teachers" for p in caught.value.problems)
    assert services.inputs_of(county, YEAR) is None or not services.inputs_of(county, YEAR).values
