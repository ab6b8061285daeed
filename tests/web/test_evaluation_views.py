"""Evaluation pages: scoping, content, Excel exports, boundary badge, comparison with last year, static script."""

from __future__ import annotations

import copy
import io
import re
import zipfile
from typing import Any
from urllib.parse import quote

import fastexcel
import polars as pl
import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR, prepared_download
from youjun.web.accounts.models import User
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import OrgUnit

pytestmark = pytest.mark.django_db

COUNTY_URL = f"/evaluation/county/{OWN_COUNTY}/{YEAR}/"
OTHER_URL = f"/evaluation/county/{OTHER_COUNTY}/{YEAR}/"
PROVINCE_URL = f"/evaluation/unit/340000/{YEAR}/"
PREFECTURE_URL = f"/evaluation/unit/340200/{YEAR}/"
NATIONAL_URL = f"/evaluation/national/{YEAR}/"


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


def edit_result(evaluation: CountyEvaluation, change: Any) -> None:
    result = copy.deepcopy(evaluation.result)
    change(result)
    evaluation.result = result
    evaluation.save()


# ----------------------------------------------------------------------------------------------------
# Scoping


@pytest.mark.parametrize("role", ["county", "prefecture", "province", "ministry", "viewer"])
def test_county_page_renders_for_every_level_of_the_own_tree(
    role: str, users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    response = login(client, users[role]).get(COUNTY_URL)
    assert response.status_code == 200
    page = html(response)
    result = evaluations[OWN_COUNTY].result
    verdict = "资源配置达标" if result["resource_allocation"]["passed"] else "资源配置未达标"
    assert verdict in page
    assert "每百名学生拥有高于规定学历教师数" in page
    assert '<svg class="cv-chart"' in page
    first = result["resource_allocation"]["units"][0]
    assert first["school_name"] in page
    assert page.count('data-stage="') == len(result["resource_allocation"]["units"])


@pytest.mark.parametrize("role", ["other_county", "other_prefecture", "other_province", "county"])
def test_county_page_outside_the_jurisdiction_is_404(
    role: str, users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    url = OTHER_URL if role == "county" else COUNTY_URL
    assert login(client, users[role]).get(url).status_code == 404
    assert client.get(url + "?format=xlsx").status_code == 404


def test_unknown_code_and_missing_year_are_404(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    login(client, users["province"])
    assert client.get(f"/evaluation/county/349999/{YEAR}/").status_code == 404
    missing = client.get(f"/evaluation/county/{OWN_COUNTY}/2019/")
    assert missing.status_code == 404
    assert f'href="{COUNTY_URL}"' in html(missing)  # the years with results are offered


def test_school_users_are_refused_with_403(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    login(client, users["school"])
    for url in ("/evaluation/", COUNTY_URL, PROVINCE_URL, NATIONAL_URL, COUNTY_URL + "?format=xlsx"):
        response = client.get(url)
        assert response.status_code == 403, url
    assert "学校账号" in html(client.get(COUNTY_URL))


def test_anonymous_users_are_sent_to_login(client: Client) -> None:
    response = client.get(COUNTY_URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_province_page_lists_only_its_counties(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    for role, url in (("province", PROVINCE_URL), ("prefecture", PREFECTURE_URL), ("ministry", PROVINCE_URL)):
        response = login(client, users[role]).get(url)
        assert response.status_code == 200, role
        page = html(response)
        assert f'href="{COUNTY_URL}"' in page
        assert OTHER_COUNTY not in page
        assert "鸠江区" in page and "东城区" not in page
    province = html(login(client, users["province"]).get(PROVINCE_URL))
    assert "各地市" in province and "芜湖市" in province  # the prefecture summary of a province page
    assert "已评估" in province


def test_unit_pages_outside_the_jurisdiction_are_404(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    assert login(client, users["province"]).get(f"/evaluation/unit/110000/{YEAR}/").status_code == 404
    assert login(client, users["prefecture"]).get(PROVINCE_URL).status_code == 404  # never upward
    assert login(client, users["county"]).get(PREFECTURE_URL).status_code == 404


def test_unit_page_of_a_county_code_redirects_to_the_county_page(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    response = login(client, users["province"]).get(f"/evaluation/unit/{OWN_COUNTY}/{YEAR}/")
    assert response.status_code == 302 and response["Location"] == COUNTY_URL


def test_national_page_is_for_the_ministry_only(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    response = login(client, users["ministry"]).get(NATIONAL_URL)
    assert response.status_code == 200
    page = html(response)
    assert "安徽省" in page and "北京市" in page
    assert 'href="/evaluation/unit/340000/2024/"' in page and 'href="/evaluation/unit/110000/2024/"' in page
    for role in ("province", "prefecture", "county", "viewer"):
        assert login(client, users[role]).get(NATIONAL_URL).status_code == 403, role


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("county", COUNTY_URL),
        ("prefecture", PREFECTURE_URL),
        ("province", PROVINCE_URL),
        ("viewer", PROVINCE_URL),
        ("ministry", NATIONAL_URL),
        ("other_county", OTHER_URL),
    ],
)
def test_index_sends_each_user_to_their_own_page(
    role: str, target: str, users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    response = login(client, users[role]).get("/evaluation/")
    assert response.status_code == 302 and response["Location"] == target


def test_index_without_results_explains(users: dict[str, User], client: Client) -> None:
    response = login(client, users["county"]).get("/evaluation/")
    assert response.status_code == 200 and "暂无评估结果" in html(response)


# ----------------------------------------------------------------------------------------------------
# Content


def test_boundary_badge_appears_only_when_a_cv_is_at_the_boundary(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    login(client, users["county"])
    badge = re.compile(r'<span class="badge warn"[^>]*>临界</span>')
    assert not badge.search(html(client.get(COUNTY_URL)))

    def at_boundary(result: dict[str, Any]) -> None:
        stage = result["resource_allocation"]["stages"]["primary"]
        stage["cv"]["R2"] = 0.501787
        stage["cv_passed"]["R2"] = False
        stage["cv_boundary"] = ["R2"]

    edit_result(evaluations[OWN_COUNTY], at_boundary)
    page = html(client.get(COUNTY_URL))
    row = re.search(r"<tr[^>]*>\s*<td><b>R2</b>.*?</tr>", page, re.S)
    assert row and badge.search(row.group(0)) and "0.502" in row.group(0) and "✗" in row.group(0)
    assert 'stroke-dasharray="5 3"' in page  # the chart marks the boundary bar
    province = html(login(client, users["province"]).get(PROVINCE_URL))
    assert 'title="临界">临</span>' in province


def test_values_are_rounded_half_up(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    def values(result: dict[str, Any]) -> None:
        stage = result["resource_allocation"]["stages"]["primary"]
        stage["county_value"]["R1"] = 2.675  # Python's round gives 2.67 (binary 2.67499…)
        stage["cv"]["R1"] = 0.0625  # banker's rounding would give 0.062

    edit_result(evaluations[OWN_COUNTY], values)
    page = html(login(client, users["county"]).get(COUNTY_URL))
    row = re.search(r"<tr[^>]*>\s*<td><b>R1</b>.*?</tr>", page, re.S)
    assert row and "2.68" in row.group(0) and "0.063" in row.group(0)


def test_comparison_with_last_year_appears_when_it_exists(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    login(client, users["county"])
    assert "与上年比较" not in html(client.get(COUNTY_URL))
    current = evaluations[OWN_COUNTY]
    last = copy.deepcopy(current.result)
    last["year"] = YEAR - 1
    stage = last["resource_allocation"]["stages"]["primary"]
    stage["cv"]["R1"] = stage["cv"]["R1"] + 0.05  # CV fell this year: an improvement
    stage["county_value"]["R6"] = stage["county_value"]["R6"] - 100  # value rose: an improvement
    CountyEvaluation.objects.create(
        county=current.county,
        year=YEAR - 1,
        standard=current.standard,
        passed=current.passed,
        units=current.units,
        units_passed=current.units_passed,
        result=last,
    )
    page = html(client.get(COUNTY_URL))
    assert f"与 {YEAR - 1} 年比较" in page
    compare = page[page.index('id="compare"') : page.index('id="units"')]
    assert '<span class="trend better"><span aria-hidden="true">↓</span> −0.050</span>' in compare
    assert '<span class="trend better"><span aria-hidden="true">↑</span> +100.00</span>' in compare
    assert f'href="/evaluation/county/{OWN_COUNTY}/{YEAR - 1}/"' in page  # the year switch


def test_unit_table_script_is_served_from_static_and_referenced(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    page = html(login(client, users["county"]).get(COUNTY_URL))
    assert '<script src="/static/youjun/evaluation.js" defer></script>' in page
    assert 'href="/static/youjun/evaluation.css"' in page
    assert '<table id="units-table" class="sortable units">' in page
    assert '<form class="filters" data-table="units-table" hidden>' in page
    script = finders.find("youjun/evaluation.js")
    assert script is not None
    with open(script, encoding="utf-8") as fh:
        source = fh.read()
    assert "sortTable" in source and "makeFilter" in source
    assert finders.find("youjun/evaluation.css") is not None
    assert "cdn" not in page.lower()


# ----------------------------------------------------------------------------------------------------
# Excel exports


def xlsx(response: Any) -> fastexcel.ExcelReader:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    return fastexcel.read_excel(response.content)


def data_rows(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """The table rows of a sheet read back (the notes under the table leave this column empty)."""
    return frame.filter(pl.col(column).is_not_null())


def test_county_export(users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client) -> None:
    response = login(client, users["county"]).get(COUNTY_URL + "?format=xlsx")
    reader = xlsx(response)
    assert reader.sheet_names == ["县域汇总", "差异系数", "学校单元", "差距清单", "不纳入评估学校"]
    name = f"{OrgUnit.objects.get(code=OWN_COUNTY).full_name}{YEAR}年资源配置评估.xlsx"
    assert f"filename*=UTF-8''{quote(name)}" in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith('attachment; filename="youjun-county-340207-2024.xlsx"')
    summary = data_rows(reader.load_sheet("县域汇总", header_row=1).to_polars(), "县（区）")
    assert set(summary["县级区划代码"].to_list()) == {OWN_COUNTY}
    units = reader.load_sheet("学校单元").to_polars()
    result = evaluations[OWN_COUNTY].result["resource_allocation"]
    assert units.height == len(result["units"])
    assert set(units["学校标识码"].to_list()) == {u["school_id"] for u in result["units"]}
    cvs = reader.load_sheet("差异系数").to_polars()
    primary = cvs.filter(cvs["学段"] == "小学")
    expected = [result["stages"]["primary"]["cv"][f"R{i}"] for i in range(1, 8)]
    assert primary["差异系数"].to_list() == pytest.approx(expected, rel=1e-14)  # full precision (Excel: 16 digits)


def test_province_and_national_exports(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    reader = xlsx(prepared_download(login(client, users["province"]), PROVINCE_URL + "?format=xlsx"))
    assert reader.sheet_names == ["县域汇总", "地市汇总", "学校单元明细"]
    counties = data_rows(reader.load_sheet("县域汇总", header_row=1).to_polars(), "县（区）")
    assert counties["县级区划代码"].to_list() == [OWN_COUNTY]
    assert "小学R1 差异系数" in counties.columns and "初中R7 差异系数" in counties.columns
    units = data_rows(reader.load_sheet("学校单元明细", header_row=1).to_polars(), "县（区）")
    stored = evaluations[OWN_COUNTY].result["resource_allocation"]["units"]
    assert set(units["县级区划代码"].to_list()) == {OWN_COUNTY} and units.height == len(stored)
    assert set(units["学校标识码"].to_list()) == {u["school_id"] for u in stored}
    response = prepared_download(login(client, users["ministry"]), NATIONAL_URL + "?format=xlsx")
    assert quote("全国2024年县域资源配置评估汇总.xlsx") in response["Content-Disposition"]
    book = xlsx(response)
    assert book.sheet_names == ["各省汇总", "各县汇总"]
    provinces = book.load_sheet(0, header_row=1).to_polars()
    assert provinces.height == 32
    anhui = provinces.filter(provinces["省份"] == "安徽省")
    assert anhui["已评估县数"].to_list() == [1]
    counties = data_rows(book.load_sheet("各县汇总", header_row=1).to_polars(), "县（区）")
    assert sorted(counties["县级区划代码"].to_list()) == sorted(evaluations)
    assert counties.filter(pl.col("县级区划代码") == OWN_COUNTY)["省份"].to_list() == ["安徽省"]
    assert login(client, users["province"]).get(NATIONAL_URL + "?format=xlsx").status_code == 403


def test_formula_like_school_names_are_exported_as_text(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    formula = '=HYPERLINK("x")'

    def rename(result: dict[str, Any]) -> None:
        result["resource_allocation"]["units"][0]["school_name"] = formula

    edit_result(evaluations[OWN_COUNTY], rename)
    response = login(client, users["county"]).get(COUNTY_URL + "?format=xlsx")
    units = xlsx(response).load_sheet("学校单元").to_polars()
    assert formula in units["学校名称"].to_list()
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert "<f>" not in book.read(name).decode()
    page = html(client.get(COUNTY_URL))
    assert "=HYPERLINK(&quot;x&quot;)" in page  # escaped in the page too


def test_undefined_cv_is_shown_as_not_computable(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    def undefined(result: dict[str, Any]) -> None:
        stage = result["resource_allocation"]["stages"]["primary"]
        stage["cv"]["R3"] = None
        stage["cv_passed"]["R3"] = False

    edit_result(evaluations[OWN_COUNTY], undefined)
    page = html(login(client, users["county"]).get(COUNTY_URL))
    primary = page[page.index('id="stage-primary"') :]
    row = re.search(r"<tr[^>]*>\s*<td><b>R3</b>.*?</tr>", primary, re.S)
    assert row and "✗ 无法计算" in row.group(0)
    assert "无法计算</text>" in primary  # the chart says so too


def test_county_without_evaluated_units_renders(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    def empty(result: dict[str, Any]) -> None:
        allocation = result["resource_allocation"]
        allocation.update(passed=False, stages={}, units=[], shortfalls=[])

    edit_result(evaluations[OWN_COUNTY], empty)
    response = login(client, users["county"]).get(COUNTY_URL)
    assert response.status_code == 200 and "没有纳入评估的学校单元" in html(response)
    assert xlsx(client.get(COUNTY_URL + "?format=xlsx")).sheet_names[0] == "县域汇总"


def test_prefecture_export_has_no_prefecture_summary(
    users: dict[str, User], evaluations: dict[str, CountyEvaluation], client: Client
) -> None:
    reader = xlsx(prepared_download(login(client, users["prefecture"]), PREFECTURE_URL + "?format=xlsx"))
    assert reader.sheet_names == ["县域汇总", "学校单元明细"]


def test_verdict_from_partly_approved_data_is_marked_provisional(users: dict[str, User], client: Client) -> None:
    from youjun.web.collection.models import RecordStatus, SchoolRecord
    from youjun.web.organisation.models import OrgUnit

    county = OrgUnit.objects.get(code=OWN_COUNTY)
    recompute(county, YEAR)
    client.force_login(users["province"])
    assert "临时结论" not in client.get(f"/evaluation/county/{OWN_COUNTY}/{YEAR}/").content.decode()
    record = SchoolRecord.objects.filter(county=county, year=YEAR).first()
    assert record is not None
    record.status = RecordStatus.SUBMITTED
    record.save()
    page = client.get(f"/evaluation/county/{OWN_COUNTY}/{YEAR}/").content.decode()
    total = SchoolRecord.objects.filter(county=county, year=YEAR).count()
    assert "临时结论" in page and f"只依据已审核的 {total - 1} 所学校" in page and "另有 1 所" in page
    assert "临时" in client.get(f"/evaluation/unit/340000/{YEAR}/").content.decode()
