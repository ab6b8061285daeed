"""A province's year of monitoring in the browser: the heat map of its counties (computed by the worker while the
page waits), the map of its counties in both colourings, a warned county opened from the map with its series and
warnings, and its annual monitoring report downloaded and read back; the same pages on a phone."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import docx

from browser.conftest import DESKTOP, PHONE, login, shot


def _text(path: Path) -> str:
    document = docx.Document(io.BytesIO(path.read_bytes()))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_province_heat_map_warned_county_and_its_report(server: str, new_page: Any, tmp_path: Path) -> None:
    page = new_page(DESKTOP)
    login(page, server, "demo-province")
    page.goto(f"{server}/monitoring/")  # a province is sent to its own page
    page.wait_for_url(re.compile(r"/monitoring/unit/340000/"))
    page.locator("#heat-map").wait_for(timeout=60_000)  # the worker computes the snapshot; the page refreshes
    assert page.locator("h1").inner_text() == "安徽省年度监测与预警"
    rows = page.locator("#heat-map tbody tr")
    assert rows.count() >= 3
    assert rows.first.locator("td.cv").count() == 14
    shot(page, "monitoring-01-province-heat-map")

    # the map: every county of the province drawn (from the packaged outlines), evaluated ones coloured
    areas = page.locator("svg.county-map a[data-area]")
    assert areas.count() == 104
    judged = page.locator("#heat-map tbody tr td:nth-child(3) .badge").count()  # 达标 / 未达标 in the latest year
    assert page.locator("svg.county-map a.m-pass, svg.county-map a.m-fail").count() == judged >= 1
    page.get_by_role("link", name="预警级别").click()
    page.wait_for_url(re.compile(r"map=warning"))
    page.locator("section[aria-label='县域地图']").screenshot(path=str(tmp_path / "map.png"))
    shot(page, "monitoring-01b-province-warning-map")
    warned = page.locator("svg.county-map a.m-alarm, svg.county-map a.m-warn")
    assert warned.count() >= 1  # the demo's earlier years were poorer: some county is warned
    county_name = warned.first.get_attribute("aria-label").split("：")[0]  # type: ignore[union-attr]
    warned.first.dispatch_event("click")  # an SVG link (its centre may lie on a neighbour)
    page.wait_for_url(re.compile(r"/monitoring/county/\d{6}/$"))
    assert page.locator("h1").inner_text().endswith("年度监测与预警") and county_name in page.locator("h1").inner_text()
    assert page.locator("svg.chart").count() >= 1
    messages = page.locator("#county-warnings tbody tr td:last-child").all_inner_texts()
    shot(page, "monitoring-02-county")

    with page.expect_download() as caught:
        page.locator("#county-report").click()
    target = tmp_path / "report.docx"
    caught.value.save_as(str(target))
    assert caught.value.suggested_filename.endswith("年度监测报告.docx")
    text = _text(target)
    assert "年度监测报告" in text and county_name in text and "一、监测概况" in text
    for message in messages[:5]:
        assert message in text

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "monitoring-03-county-phone")
