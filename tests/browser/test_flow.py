"""The acceptance stories in a real browser, on the demo database (see ``conftest.py``).

A school uploads a workbook with errors and sees them located by row and column, fixes it, explains the soft
warnings and submits; the county approves; the county's evaluation page then shows the result (desktop and phone);
the province and the ministry see their summaries; pages outside a user's jurisdiction are refused. Every page
visited is saved as a screenshot in ``test-artifacts/flow-*.png``.

Only ``test_school_to_county_evaluation`` changes data (鸠江区 2024, the demo county still collecting); the other
tests read data that story does not touch, so the tests pass in any order.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl

from browser.conftest import DESKTOP, PHONE, login, shot
from youjun.contract import SCHOOL_BY_KEY, SCHOOL_COLUMNS
from youjun.io.workbook import write_data_workbook
from youjun.standards import load_rule_set

COUNTY, COUNTY_NAME, YEAR = "340207", "鸠江区", 2024
PROVINCE = "340000"
OTHER_PROVINCE_COUNTY = "110101"  # 北京市东城区: outside every demo account below the ministry
INDICATORS = {
    code: ind.name for code, ind in load_rule_set(os.environ.get("YOUJUN_STANDARD", "national-2017")).indicators.items()
}


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def go(page: Any, url: str) -> Any:
    """Open ``url``; the response (its status is asserted by the callers)."""
    return page.goto(url)


def submit(page: Any, button: Any) -> Any:
    """Click a submit button and wait for the page it leads to; the final response (after redirects)."""
    with page.expect_navigation() as navigation:
        button.click()
    return navigation.value


def messages(page: Any, kind: str) -> list[str]:
    """The Django messages of one kind (``success``, ``warning``, ``error``) shown on the page."""
    return [t.strip() for t in page.locator(f"ul.messages li.{kind}").all_inner_texts()]


def record_values(page: Any) -> dict[str, str]:
    """The values in the record form, by column key, as the page shows them."""
    posted = page.eval_on_selector("#record-form", "f => Object.fromEntries(new FormData(f))")
    return {k: v for k, v in posted.items() if k in SCHOOL_BY_KEY}


def typed(key: str, text: str) -> Any:
    """A form value as the cell a school would type in Excel (numbers as numbers, blank as empty)."""
    text = text.strip()
    if not text:
        return None
    kind = SCHOOL_BY_KEY[key].kind
    if kind in ("int", "year"):
        return int(text)
    if kind == "number":
        return float(text)
    return text


def one_row_workbook(path: Path, row: dict[str, Any]) -> Path:
    """The annual workbook (template layout, sheet 学校) with this one row."""
    ordered = {c.key: [row.get(c.key)] for c in SCHOOL_COLUMNS}
    frame = pl.DataFrame(ordered, strict=False)
    write_data_workbook(path, {"学校": frame})
    return path


def problem_rows(page: Any) -> list[dict[str, str]]:
    """The rows of the located problem table of an upload (by the cells' ``data-label``)."""
    rows = []
    for tr in page.locator("section.c-alert table tbody tr").all():
        cells = tr.locator("td")
        rows.append(
            {cells.nth(i).get_attribute("data-label"): cells.nth(i).inner_text().strip() for i in range(cells.count())}
        )
    return rows


def upload(page: Any, path: Path) -> Any:
    section = page.locator("section#upload")
    section.locator("input[type=file]").set_input_files(str(path))
    return submit(page, section.get_by_role("button", name="上传并导入"))


def record_row(page: Any, school_name: str) -> Any:
    """The county table's row of one school."""
    return page.locator("#records tbody tr").filter(has_text=school_name)


def no_horizontal_scroll(page: Any) -> bool:
    """The page itself does not scroll sideways (wide tables scroll inside their own box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


# ---------------------------------------------------------------------------------------------------------------
# The story: school → county → evaluation


def test_school_to_county_evaluation(server: str, new_page: Any, tmp_path: Path) -> None:
    # 1. The school opens its 2024 record from the collection workspace.
    school = new_page(DESKTOP)
    login(school, server, "demo-school")
    go(school, f"{server}/collection/")
    year_row = school.locator("tbody tr").filter(
        has=school.locator("td:first-child", has_text=re.compile(rf"^{YEAR}$"))
    )
    assert year_row.get_by_text("填报中").is_visible()
    submit(school, year_row.get_by_role("link", name="填报"))
    assert re.search(r"/collection/record/\d+/$", school.url)
    record_url = school.url
    heading = school.locator("h1").inner_text()
    school_name = heading.split(" · ")[0]
    assert heading == f"{school_name} · {YEAR} 年度数据"
    school_id = re.search(r"学校标识码 (\d+)", school.locator(".c-head p.muted").inner_text()).group(1)
    assert school.locator(".c-status").inner_text().strip() == "填报中"

    # The school's values as the page shows them, in a one-row workbook, with three errors.
    current = {k: typed(k, v) for k, v in record_values(school).items()}
    row = current | {
        "year": YEAR,
        "school_id": school_id,
        "school_name": school_name,
        "county_code": COUNTY,
        "county_name": COUNTY_NAME,
    }
    stage = "primary" if (row["students_primary"] or 0) > 0 else "junior"
    pe_too_many = (row[f"teachers_{stage}"] or 0) + 5
    bad = row | {
        "students_primary": "五百",  # text in a number cell
        "teaching_aux_area": -120.0,  # a negative area
        f"pe_teachers_{stage}": pe_too_many,  # more PE teachers than teachers
    }
    bad_file = one_row_workbook(tmp_path / "本校2024年度数据.xlsx", bad)
    response = upload(school, bad_file)
    assert response.status == 400
    assert "上传的文件未能导入，数据没有变化。问题见下表。" in messages(school, "error")
    problems = problem_rows(school)
    expected = {
        ("2", SCHOOL_BY_KEY["students_primary"].header, "五百"),
        ("2", SCHOOL_BY_KEY["teaching_aux_area"].header, "-120"),
        ("2", SCHOOL_BY_KEY[f"pe_teachers_{stage}"].header, str(pe_too_many)),
    }
    located = {(p["行"], p["列"], p["值"]) for p in problems}
    assert expected <= located, problems
    assert all(p["类型"] == "错误" and p["文件"] == bad_file.name and p["工作表"] == "学校" for p in problems)
    assert all(p["问题"] for p in problems)
    assert school.locator(".c-status").inner_text().strip() == "填报中"
    assert school.locator("#f-students_primary").input_value() == str(current["students_primary"])  # unchanged
    shot(school, "flow-01-school-upload-errors")

    # The same errors on a phone: the problem table turns into one labelled block per problem.
    school.set_viewport_size(PHONE)
    go(school, record_url)
    assert upload(school, bad_file).status == 400
    first = school.locator("section.c-alert table tbody tr").first
    assert first.locator("td[data-label=行]").inner_text().strip() == "2"
    assert not school.locator("section.c-alert table thead").is_visible()  # stacked blocks, not a wide table
    assert no_horizontal_scroll(school)
    shot(school, "flow-01b-school-upload-errors-phone")
    school.set_viewport_size(DESKTOP)

    # 2. The fixed workbook: valid values, one value updated, and a class above 66 pupils (a soft warning).
    fixed = row | {
        "multimedia_rooms": (row["multimedia_rooms"] or 0) + 2,
        f"max_class_size_{stage}": 70,
    }
    good_file = one_row_workbook(tmp_path / "本校2024年度数据-已修改.xlsx", fixed)
    go(school, record_url)
    response = upload(school, good_file)
    assert response.status == 200 and school.url == record_url
    imported = messages(school, "success")
    assert len(imported) == 1 and re.fullmatch(r"已导入工作簿，修改了 [1-9]\d* 项数据。", imported[0]), imported
    assert school.locator("#f-multimedia_rooms").input_value() == str(fixed["multimedia_rooms"])
    assert school.locator(f"#f-max_class_size_{stage}").input_value() == "70"
    warnings = school.locator("#warnings")
    assert "超大班额" in warnings.inner_text()
    boxes = warnings.locator("textarea")
    assert boxes.count() >= 1
    shot(school, "flow-02-school-upload-ok-warnings")

    # Explain every warning, then save and submit.
    explained = boxes.count()
    for i in range(explained):
        boxes.nth(i).fill("已核实：该班为合班上课的临时安排，数据无误。")
    submit(school, school.get_by_role("button", name="保存并提交审核"))
    assert "已提交，等待县（区）审核。" in messages(school, "success"), messages(school, "error")
    assert school.locator(".c-status").inner_text().strip() == "已提交待审核"
    assert school.get_by_role("button", name="保存并提交审核").count() == 0  # nothing left to submit
    assert school.locator("#warnings li.done").count() == explained  # every warning shown with its explanation
    assert "填报中 → 已提交待审核" in school.locator("#history").inner_text()
    shot(school, "flow-03-school-submitted")

    # 3. The county: no 2024 evaluation yet (nothing approved), then approves the submitted school.
    county = new_page(DESKTOP)
    login(county, server, "demo-county")
    response = go(county, f"{server}/evaluation/county/{COUNTY}/{YEAR}/")
    assert response.status == 404
    assert "暂无评估结果" in county.locator("h1").inner_text()
    go(county, f"{server}/collection/county/{COUNTY}/{YEAR}/")
    assert COUNTY_NAME in county.locator("h1").inner_text()
    mine = record_row(county, school_name)
    assert mine.get_by_text("已提交待审核").is_visible()
    assert "未说明" not in mine.inner_text()  # the school explained its warnings
    shot(county, "flow-04-county-before-approval")
    mine.get_by_role("checkbox", name=f"选择{school_name}").check()
    submit(county, county.get_by_role("button", name="审核通过所选学校"))
    submit(county, county.get_by_role("button", name="确认审核通过"))
    assert "已审核通过 1 所学校的数据。" in messages(county, "success"), messages(county, "error")
    assert record_row(county, school_name).get_by_text("已审核（锁定）").is_visible()
    shot(county, "flow-05-county-approved")

    # 4. The county's evaluation page now exists, computed from the approved school only (by the worker: while it
    # computes, the page says so and refreshes itself).
    response = go(county, f"{server}/evaluation/county/{COUNTY}/{YEAR}/")
    if county.locator("#computing").count():
        county.get_by_role("region", name="结论").wait_for(timeout=60_000)
        response = go(county, f"{server}/evaluation/county/{COUNTY}/{YEAR}/")
    assert response.status == 200
    assert county.locator("h1").inner_text().endswith(f"{COUNTY_NAME} · {YEAR} 年资源配置评估")
    verdict = county.get_by_role("region", name="结论")
    assert re.search(r"资源配置(未)?达标", verdict.inner_text())
    assert re.search(r"\d+ / \d+ 个学校单元达标", verdict.inner_text())
    cv_table = county.locator("table.cv-table").first
    assert cv_table.is_visible()
    cv_text = cv_table.inner_text()
    for code, name in INDICATORS.items():
        assert code in cv_text and name in cv_text, (code, name)
    units = county.locator("#units-table tbody tr")
    assert units.count() >= 1
    assert all(school_id in text for text in units.all_inner_texts())  # only the approved school
    shot(county, "flow-06-county-evaluation-desktop")

    county.set_viewport_size(PHONE)
    assert go(county, f"{server}/evaluation/county/{COUNTY}/{YEAR}/").status == 200
    assert county.get_by_role("region", name="结论").is_visible()
    assert county.locator("table.cv-table").first.is_visible()
    assert no_horizontal_scroll(county)
    shot(county, "flow-07-county-evaluation-phone")


# ---------------------------------------------------------------------------------------------------------------
# Summaries above the county


def test_province_and_ministry_summaries(server: str, new_page: Any) -> None:
    page = new_page(DESKTOP)
    login(page, server, "demo-province")
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        assert go(page, f"{server}/evaluation/unit/{PROVINCE}/{YEAR}/").status == 200
        assert page.locator("h1").inner_text() == f"安徽省 · {YEAR} 年县域资源配置评估汇总"
        assert page.get_by_role("region", name="汇总").is_visible()
        counties = page.locator("#counties-table tbody tr")
        assert counties.count() >= 3  # the approved demo counties
        assert counties.first.get_by_role("link").is_visible()
        assert no_horizontal_scroll(page)
        shot(page, f"flow-08-province-summary-{name}")

    response = go(page, f"{server}/evaluation/national/{YEAR}/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "无权查看"
    assert "全国汇总仅供教育部账号查看。" in page.locator("main").inner_text()
    shot(page, "flow-09-province-national-refused-phone")

    ministry = new_page(DESKTOP)
    login(ministry, server, "demo-ministry")
    assert go(ministry, f"{server}/evaluation/national/{YEAR}/").status == 200
    assert ministry.locator("h1").inner_text() == f"全国 · {YEAR} 年县域资源配置评估汇总"
    anhui = ministry.locator("table tbody tr").filter(has_text="安徽省")
    assert anhui.get_by_role("link", name="安徽省").is_visible()
    shot(ministry, "flow-10-ministry-national")


def test_province_export_is_prepared_in_the_background_and_downloaded(
    server: str, new_page: Any, tmp_path: Path
) -> None:
    page = new_page(DESKTOP)
    login(page, server, "demo-province")
    assert go(page, f"{server}/evaluation/unit/{PROVINCE}/{YEAR}/").status == 200
    page.get_by_role("link", name="导出 Excel").click()
    assert page.locator("h1").inner_text() == f"导出安徽省{YEAR}年评估汇总"
    page.get_by_role("button", name=re.compile("^生成「")).click()
    page.wait_for_url(re.compile(r"/downloads/\d+/$"))
    page.locator('#prepared[data-status="ready"]').wait_for(timeout=30_000)  # the worker builds it; the page refreshes
    shot(page, "flow-08b-province-export-ready")
    with page.expect_download() as caught:
        page.locator("#download").click()
    target = tmp_path / "province.xlsx"
    caught.value.save_as(str(target))
    assert caught.value.suggested_filename == f"安徽省{YEAR}年县域资源配置评估汇总.xlsx"
    book = fastexcel.read_excel(target)
    assert book.sheet_names == ["县域汇总", "地市汇总", "学校单元明细"]
    units = book.load_sheet("学校单元明细", header_row=1).to_polars()
    assert units.height > 0 and "学校标识码" in units.columns
    page.set_viewport_size(PHONE)
    assert go(page, f"{server}/downloads/").status == 200
    assert no_horizontal_scroll(page)
    shot(page, "flow-08c-my-downloads-phone")


def test_province_summary_shows_the_prefecture_table_once(server: str, new_page: Any) -> None:
    page = new_page(DESKTOP)
    login(page, server, "demo-province")
    assert go(page, f"{server}/evaluation/unit/{PROVINCE}/{YEAR}/").status == 200
    assert page.title() == f"安徽省 {YEAR} 年县域资源配置评估汇总 · 县域义务教育优质均衡"
    assert page.get_by_role("heading", name=re.compile("^各地市")).count() == 1


# ---------------------------------------------------------------------------------------------------------------
# Outside the jurisdiction


def test_pages_outside_the_jurisdiction_are_refused(server: str, new_page: Any) -> None:
    school = new_page(DESKTOP)
    login(school, server, "demo-school")
    response = go(school, f"{server}/evaluation/county/{COUNTY}/{YEAR}/")
    assert response.status == 403
    assert school.locator("h1").inner_text() == "无权查看"
    assert "学校账号用于填报本校数据，不能查看评估结果" in school.locator("main").inner_text()
    assert school.get_by_role("link", name="评估结果").count() == 0  # not offered in the menu either
    shot(school, "flow-11-school-evaluation-refused")

    county = new_page(DESKTOP)
    login(county, server, "demo-county")
    response = go(county, f"{server}/evaluation/county/{OTHER_PROVINCE_COUNTY}/{YEAR}/")
    assert response.status == 404
    assert "东城区" not in county.content()  # its existence is not revealed
    shot(county, "flow-12-county-other-county-404")
