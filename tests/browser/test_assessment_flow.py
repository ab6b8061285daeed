"""The full assessment in a real browser: the county opens its assessment, follows a reason to the data behind it,
prints it, and downloads the self-evaluation report and the Excel annex, which are parsed back here; the province
reads the same page on a phone. Screenshots: ``test-artifacts/assessment-*.png``.

The demo's 2023 data are approved (2024 is still collecting), so the 2023 assessment has a verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docx  # type: ignore[import-untyped]
import fastexcel

from browser.conftest import DESKTOP, PHONE, login, shot

COUNTY, YEAR = "340207", 2023
CONCLUSIONS = ("达到优质均衡发展标准", "未达到优质均衡发展标准", "数据不足，暂不能作出结论")


def _download(page: Any, link_text: str, target: Path) -> Path:
    with page.expect_download() as caught:
        page.get_by_role("link", name=link_text).click()
    caught.value.save_as(str(target))
    return target


def test_county_follows_reasons_prints_and_downloads(server: str, new_page: Any, tmp_path: Path) -> None:
    page = new_page(DESKTOP)
    login(page, server, "demo-county")
    response = page.goto(f"{server}/assessment/county/{COUNTY}/{YEAR}/")
    assert response.status == 200
    body = page.inner_text("main")
    assert any(c in body for c in CONCLUSIONS)
    first = page.locator("#reasons ol.reasons a").first
    anchor = first.get_attribute("href")
    assert anchor and anchor.startswith("#")
    first.click()
    assert page.evaluate("location.hash") == anchor
    assert page.locator(f'[id="{anchor[1:]}"]').count() == 1  # the reason leads to the data behind it
    shot(page, "assessment-county")

    printable = new_page(DESKTOP)
    login(printable, server, "demo-county")
    assert printable.goto(f"{server}/assessment/county/{COUNTY}/{YEAR}/print/").status == 200
    assert printable.locator("nav.main").count() == 0  # the printable view has no navigation
    printable.emulate_media(media="print")
    shot(printable, "assessment-print")

    report = docx.Document(str(_download(page, "自评报告（Word）", tmp_path / "report.docx")))
    text = "\n".join(p.text for p in report.paragraphs)
    assert "自评报告" in text and "鸠江区" in text
    assert any(c in text for c in CONCLUSIONS)
    assert len(report.tables) >= 4
    annex = fastexcel.read_excel(_download(page, "Excel 附件", tmp_path / "annex.xlsx"))
    assert {"评估结论", "资源配置", "政府保障", "教育质量"} <= set(annex.sheet_names)
    assert annex.load_sheet_by_name("资源配置").to_polars().height >= 7


def test_province_reads_the_assessment_on_a_phone(server: str, new_page: Any) -> None:
    page = new_page(PHONE)
    login(page, server, "demo-province")
    assert page.goto(f"{server}/assessment/county/{COUNTY}/{YEAR}/").status == 200
    assert any(c in page.inner_text("main") for c in CONCLUSIONS)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    shot(page, "assessment-phone")
