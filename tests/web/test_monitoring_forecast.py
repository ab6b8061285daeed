"""The county's enrolment forecast on the web: its pupils by grade and births uploaded as CSV or Excel (checked whole,
every rejection naming sheet, row and column, nothing changed on error; merged by year; audited), the forecast on
the county monitoring page equal to the engine's evaluation of the projected data, the template, and who may do
what."""

from __future__ import annotations

import io
import re
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from django.test import Client

from web.conftest import OWN_COUNTY, YEAR
from web.test_monitoring_web import two_years
from web.test_upload_limits import UPLOADS, bomb
from youjun.engine.evaluate import evaluate_resources
from youjun.engine.forecast import projected_schools
from youjun.io.forecast_inputs import HEADERS
from youjun.web.accounts.models import User
from youjun.web.audit.models import Transition
from youjun.web.collection.models import SchoolRecord
from youjun.web.collection.selectors import approved_frame
from youjun.web.monitoring import forecasting
from youjun.web.monitoring.models import ForecastInputs
from youjun.web.organisation.models import OrgUnit
from youjun.web.rulesets import services as rulesets

pytestmark = pytest.mark.django_db
UPLOAD = f"/monitoring/county/{OWN_COUNTY}/forecast/upload/"
PAGE = f"/monitoring/county/{OWN_COUNTY}/"


def _split(total: int, parts: int, tilt: float) -> list[int]:
    """``total`` pupils over ``parts`` grades, the younger ones larger by ``tilt`` per grade (whole pupils)."""
    weights = [1 + tilt * (parts - 1 - i) for i in range(parts)]
    shares = [total * w / sum(weights) for w in weights]
    out = [int(s) for s in shares]
    out[0] += total - sum(out)
    return out


def grade_rows(county: OrgUnit) -> list[dict[str, Any]]:
    """Pupils by grade of every stored record of the county, summing to its primary and junior pupils."""
    rows = []
    for r in SchoolRecord.objects.filter(county=county).order_by("year", "school__school_id"):
        primary = int(r.values.get("students_primary") or 0)
        junior = int(r.values.get("students_junior") or 0)
        grades = _split(primary, 6, 0.04 if r.year == YEAR else 0.02) + _split(junior, 3, 0.03)
        rows.append(
            {
                "year": r.year,
                "school_id": r.school.school_id,
                "county_code": county.code,
                **{f"grade_{g}": n for g, n in enumerate(grades, start=1)},
            }
        )
    return rows


def csv_bytes(rows: list[dict[str, Any]], kind: str = "grades") -> bytes:
    headers = HEADERS[kind]  # type: ignore[index]
    keys = list(rows[0])
    lines = [",".join(headers[k] for k in keys)] + [",".join(str(r[k]) for k in keys) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def xlsx_bytes(rows: list[dict[str, Any]], kind: str, sheet: str) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    ws = book.add_worksheet(sheet)
    headers = HEADERS[kind]  # type: ignore[index]
    keys = list(rows[0])
    for j, k in enumerate(keys):
        ws.write(0, j, headers[k])
    for i, r in enumerate(rows, start=1):
        for j, k in enumerate(keys):
            ws.write(i, j, r[k])
    book.close()
    return buffer.getvalue()


def upload(client: Client, kind: str, name: str, content: bytes) -> str:
    response = client.post(UPLOAD, {"kind": kind, "file": _file(name, content)}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def _file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


@pytest.fixture
def county(db: None) -> OrgUnit:
    return two_years(OWN_COUNTY)


def test_the_county_uploads_its_grades_and_sees_the_engines_forecast(
    client: Client, users: dict[str, User], county: OrgUnit
) -> None:
    client.force_login(users["county"])
    before = client.get(PAGE).content.decode()
    assert "学龄人口与学位预测" in before and "上传本县各校的" in before and 'name="kind"' in before
    rows = grade_rows(county)
    html = upload(client, "grades", "分年级.csv", csv_bytes(rows))
    assert f"已导入分年级在校生数 {len(rows)} 行" in html
    stored = ForecastInputs.objects.get(county=county)
    assert sorted(set(stored.grades["year"])) == [YEAR - 1, YEAR] and len(stored.grades["school_id"]) == len(rows)
    assert Transition.objects.filter(kind="forecast_inputs", county=county, actor=users["county"]).count() == 1

    # the page's figures are the engine's on the projected data
    fc = forecasting.county_forecast(county)
    assert fc is not None and fc.result is not None and fc.projection is not None
    assert fc.result.years == tuple(range(YEAR + 1, YEAR + 6))
    rules = rulesets.load(rulesets.ref_for(county, YEAR))
    frames = projected_schools(approved_frame(county, YEAR), fc.projection, rules=rules)
    last = YEAR + 5
    evaluated = evaluate_resources(frames[last], rules).stages
    for stage in evaluated["stage"].to_list():
        engine = evaluated.filter(pl.col("stage") == stage).row(0, named=True)
        shown = fc.result.stages.filter(pl.col("year") == last, pl.col("stage") == stage).row(0, named=True)
        for code in rules.indicators:
            assert shown[f"cv_{code}"] == engine[f"cv_{code}"]
        assert shown["units_passed"] == engine["units_passed"]
    page = client.get(PAGE).content.decode()
    table = re.search(r'<table class="forecast" data-stage="primary">(.*?)</table>', page, re.S)
    assert table is not None
    cells = re.findall(r"<tr[^>]*><td>(\d{4})", table.group(1))
    assert cells == [str(y) for y in range(YEAR, YEAR + 6)]
    base_pupils = sum(r[f"grade_{g}"] for r in rows if r["year"] == YEAR for g in range(1, 7))
    assert re.search(rf"<td>{YEAR} <small>实际</small></td><td class=\"num\">{base_pupils}</td>", table.group(1))
    assert "预测方法与不确定性" in page and "一年级按近年趋势推算" in page
    # the county's monitoring report and annex carry the forecast
    import docx

    report = docx.Document(io.BytesIO(client.get(f"{PAGE}report.docx").content))
    assert any("趋势预测" in p.text for p in report.paragraphs)
    annex = pl.read_excel(io.BytesIO(client.get(f"{PAGE}report.xlsx").content), sheet_id=0)
    assert "预测差异系数" in annex and annex["预测差异系数"].height > 0

    # births, as Excel: the first grade now follows them
    births = [
        {"county_code": county.code, "birth_year": y, "births": 900 - 20 * (y - YEAR + 12)}
        for y in range(YEAR - 12, YEAR)
    ]
    html = upload(client, "births", "出生.xlsx", xlsx_bytes(births, "births", "出生人口"))
    assert "已导入出生人口 12 行" in html
    assert "一年级按近年趋势推算" not in client.get(PAGE).content.decode()


def test_a_bad_file_is_refused_whole_with_its_place_and_nothing_changes(
    client: Client, users: dict[str, User], county: OrgUnit
) -> None:
    client.force_login(users["county"])
    rows = grade_rows(county)
    upload(client, "grades", "ok.csv", csv_bytes(rows))
    version = ForecastInputs.objects.get(county=county).version
    bad = [dict(r) for r in rows]
    bad[1]["grade_3"] = -4
    bad[2]["grade_9"] = "十"
    html = upload(client, "grades", "坏.xlsx", xlsx_bytes(bad, "grades", "分年级在校生数"))
    assert "分年级在校生数，第 3 行，三年级：应为不小于 0 的整数" in html
    assert "第 4 行，九年级：应为不小于 0 的整数" in html and "上传未完成" in html
    stranger = [dict(rows[0], school_id="9999999999")]
    assert "不是本县（区）已采集数据的学校" in upload(client, "grades", "x.csv", csv_bytes(stranger))
    twice = [rows[0], rows[0]]
    assert "同一学校同一年度重复（与第 2 行）" in upload(client, "grades", "d.csv", csv_bytes(twice))
    elsewhere = [dict(rows[0], county_code="110101")]
    assert "不是本县（340207）的代码" in upload(client, "grades", "e.csv", csv_bytes(elsewhere))
    assert "缺少列" in upload(client, "grades", "h.csv", "学校,人数\nx,1\n".encode())
    assert "不是有效的 Excel 工作簿" in upload(client, "grades", "fake.xlsx", b"PK\x03\x04 not really")
    assert ForecastInputs.objects.get(county=county).version == version


def test_an_upload_replaces_its_years_and_keeps_the_others(
    client: Client, users: dict[str, User], county: OrgUnit
) -> None:
    client.force_login(users["county"])
    rows = grade_rows(county)
    upload(client, "grades", "all.csv", csv_bytes(rows))
    latest = [dict(r, grade_1=r["grade_1"] + 1) for r in rows if r["year"] == YEAR]
    html = upload(client, "grades", "latest.csv", csv_bytes(latest))
    assert f"替换了 {YEAR} 年的原有数据" in html
    stored = ForecastInputs.objects.get(county=county).grades
    frame = pl.DataFrame(stored)
    assert frame.height == len(rows)
    old = {r["school_id"]: r["grade_1"] for r in rows if r["year"] == YEAR}
    for r in frame.filter(pl.col("year") == YEAR).iter_rows(named=True):
        assert r["grade_1"] == old[r["school_id"]] + 1
    assert frame.filter(pl.col("year") == YEAR - 1)["grade_1"].to_list() == [
        r["grade_1"] for r in rows if r["year"] == YEAR - 1
    ]


def test_who_may_upload_and_see_the_forecast(client: Client, users: dict[str, User], county: OrgUnit) -> None:
    rows = grade_rows(county)
    content = csv_bytes(rows)
    for role, status in (("province", 403), ("prefecture", 403), ("viewer", 403), ("other_county", 404)):
        if role not in users:
            continue
        client.force_login(users[role])
        response = client.post(UPLOAD, {"kind": "grades", "file": _file("g.csv", content)})
        assert response.status_code == status, role
    assert not ForecastInputs.objects.filter(county=county).exists()
    client.force_login(users["county"])
    upload(client, "grades", "g.csv", content)
    client.force_login(users["province"])
    page = client.get(PAGE).content.decode()
    assert 'data-stage="primary"' in page and 'name="kind"' not in page  # the province reads, does not upload
    client.force_login(users["other_county"])
    assert client.get(f"/monitoring/county/{OWN_COUNTY}/forecast/template.xlsx").status_code == 404


def test_the_template_lists_the_countys_schools(client: Client, users: dict[str, User], county: OrgUnit) -> None:
    client.force_login(users["county"])
    response = client.get(f"/monitoring/county/{OWN_COUNTY}/forecast/template.xlsx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = pl.read_excel(io.BytesIO(response.content), sheet_name="分年级在校生数")
    ids = set(SchoolRecord.objects.filter(county=county, year=YEAR).values_list("school__school_id", flat=True))
    assert sheet.columns[:4] == ["统计年度", "学校标识码", "县级区划代码", "一年级"]
    assert (
        set(sheet.filter(pl.col("统计年度").cast(pl.String) == str(YEAR))["学校标识码"].cast(pl.String).to_list())
        == ids
    )
    births = pl.read_excel(io.BytesIO(response.content), sheet_name="出生人口")
    assert births.columns == ["县级区划代码", "出生年份", "出生人口数"] and births.height == 12


def test_the_filled_template_uploads_as_it_is(client: Client, users: dict[str, User], county: OrgUnit) -> None:
    """The county fills the downloaded template (its three sheets kept) and uploads the same workbook twice."""
    client.force_login(users["county"])
    content = client.get(f"/monitoring/county/{OWN_COUNTY}/forecast/template.xlsx").content
    sheets = pl.read_excel(io.BytesIO(content), sheet_id=0, infer_schema_length=0)
    assert list(sheets) == ["分年级在校生数", "出生人口", "填写说明"]
    wanted = {(int(r["year"]), r["school_id"]): r for r in grade_rows(county)}
    grades = sheets["分年级在校生数"]
    filled = [
        [
            wanted.get((int(y), str(sid)), {}).get(f"grade_{g}", 0)
            for y, sid in zip(grades["统计年度"], grades["学校标识码"], strict=True)
        ]
        for g in range(1, 10)
    ]
    grades = grades.with_columns(pl.Series(HEADERS["grades"][f"grade_{g}"], filled[g - 1]) for g in range(1, 10))
    births = sheets["出生人口"].with_columns(
        pl.Series("出生人口数", [800 + i for i in range(sheets["出生人口"].height)])
    )
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as book:
        for name, frame in (("分年级在校生数", grades), ("出生人口", births), ("填写说明", sheets["填写说明"])):
            frame.write_excel(workbook=book, worksheet=name, autofit=False)
    assert "已导入分年级在校生数" in upload(client, "grades", "模板.xlsx", buffer.getvalue())
    assert "已导入出生人口 12 行" in upload(client, "births", "模板.xlsx", buffer.getvalue())
    fc = forecasting.county_forecast(county)
    assert fc is not None and fc.result is not None and fc.births


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_each_bomb_is_refused_as_a_forecast_input_and_nothing_is_stored(
    client: Client, users: dict[str, User], county: OrgUnit, name: str
) -> None:
    client.force_login(users["county"])
    file_name, words = UPLOADS[name]
    response = client.post(UPLOAD, {"kind": "grades", "file": _file(file_name, bomb(name))}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert words in html and "上传未完成" in html
    assert not ForecastInputs.objects.filter(county=county).exists()
