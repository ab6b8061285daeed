"""The annual monitoring report (county and province, Word with native charts) and its Excel annex, parsed back.

The series and warnings are the engine's own (youjun.engine.monitoring) on synthetic data evolving over three years
(twenty counties in two prefectures, two of them recognised or pilot counties so that every level is reached), and
on a flat series of two good schools that gives no warning at all. The documents are opened with python-docx, the
charts read from their ``word/charts/chart*.xml`` parts (cached values), the annex with fastexcel.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest
from docx import Document
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from lxml import etree

from conftest import frame, school
from youjun.engine import assess, evaluate_resources
from youjun.engine.monitoring import Context, Series, series, warnings
from youjun.errors import YoujunError
from youjun.formatting import number
from youjun.io.documents.monitoring import (
    ANNEX_SHEETS,
    MOVERS_SHOWN,
    NO_SCHOOL_WARNINGS,
    NO_WARNINGS,
    annex_frames,
    county_monitoring_docx,
    monitoring_annex_tables,
    movers,
    province_monitoring_docx,
)
from youjun.io.synth_years import synth_years
from youjun.io.workbook import write_tables
from youjun.standards import load_rule_set

RULES = load_rule_set("national-2017")
CODES = list(RULES.indicators)
YEAR = 2024
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS = {"c": C, "a": A}
RECOGNISED, PILOT = "340101", "340203"
PREFECTURES = {"340100": "示例一市", "340200": "示例二市"}


# ---------------------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Monitored:
    frames: Series
    found: pl.DataFrame


@pytest.fixture(scope="module")
def province() -> Monitored:
    """Twenty counties of one province over 2022–2024, assessed every year; one recognised and one pilot county."""
    run = synth_years(counties=20, years=range(2022, 2025), seed=5, province="34")
    frames = series({y: assess(run.schools[y], run.counties[y], RULES) for y in run.years})
    context = Context(
        statuses=pl.DataFrame({"county_code": [RECOGNISED, PILOT], "status": ["recognised", "pilot"]}),
        schools=pl.concat([run.schools[y] for y in run.years]),
        rotation=pl.concat([run.counties[y] for y in run.years]),
    )
    return Monitored(frames, warnings(frames, RULES, context))


GOOD = [school(school_id="3402070001", school_name="示例一小"), school(school_id="3402070002", school_name="示例二小")]


@pytest.fixture(scope="module")
def flat() -> Monitored:
    """Two schools meeting every standard, the same three years running: nothing to warn of."""
    frames = series({y: evaluate_resources(frame([{**s, "year": y} for s in GOOD]), RULES) for y in (2022, 2023, 2024)})
    found = warnings(frames, RULES)
    assert found.height == 0
    return Monitored(frames, found)


def over_limit_county(data: Monitored) -> str:
    """The county with the most CVs over their limits in the report's year."""
    latest = data.frames.indicators.filter(pl.col("year") == YEAR, pl.col("cv_passed").not_())
    return str(latest.group_by("county_code").len().sort(["len", "county_code"], descending=[True, False])[0, 0])


# ---------------------------------------------------------------------------------------------------------------
# Reading a document back


def open_docx(data: bytes) -> Any:
    return Document(io.BytesIO(data))


def body(data: bytes) -> list[Paragraph | DocxTable]:
    return list(open_docx(data).iter_inner_content())


def headings(data: bytes, level: int) -> list[str]:
    return [p.text for p in open_docx(data).paragraphs if p.style.name == f"Heading {level}"]


def cells(table: DocxTable) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def table_after(data: bytes, caption: str) -> list[list[str]]:
    """The first table following the paragraph whose text starts with ``caption``."""
    items = body(data)
    for i, item in enumerate(items):
        if isinstance(item, Paragraph) and item.text.startswith(caption):
            return cells(next(t for t in items[i + 1 :] if isinstance(t, DocxTable)))
    raise AssertionError(f"no table after {caption!r}")


def all_text(data: bytes) -> list[str]:
    """Every paragraph of the document (body, tables, header and footer) as its text."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = [n for n in archive.namelist() if re.fullmatch(r"word/(document|footer\d*|header\d*)\.xml", n)]
        texts = []
        for name in parts:
            root = etree.fromstring(archive.read(name))
            w = root.nsmap.get("w") or "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
            for p in root.iter(f"{{{w}}}p"):
                texts.append("".join(t.text or "" for t in p.iter(f"{{{w}}}t")))
    return texts


@dataclass(frozen=True)
class ChartData:
    title: str
    categories: list[str]
    series: dict[str, dict[int, float]]
    dashed: dict[str, str]
    kinds: dict[str, str]


def charts(data: bytes) -> dict[str, ChartData]:
    """The native charts by title: categories, each series' cached points (index → value), line dashes."""
    found = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(n for n in archive.namelist() if re.fullmatch(r"word/charts/chart\d+\.xml", n)):
            root = etree.fromstring(archive.read(name))
            title = "".join(root.find("c:chart/c:title", NS).itertext())
            first = root.find(".//c:ser/c:cat", NS)
            categories = [v.text for v in first.iterfind(".//c:pt/c:v", NS)]
            values, dashes, kinds = {}, {}, {}
            for plot in ("barChart", "lineChart"):
                for ser in root.iterfind(f".//c:{plot}/c:ser", NS):
                    label = ser.find("c:tx//c:v", NS).text
                    points = ser.iterfind("c:val//c:pt", NS)
                    values[label] = {int(p.get("idx")): float(p.find("c:v", NS).text) for p in points}
                    dash = ser.find("c:spPr/a:ln/a:prstDash", NS)
                    dashes[label] = dash.get("val") if dash is not None else ""
                    kinds[label] = plot
            found[title] = ChartData(title, categories, values, dashes, kinds)
    return found


# ---------------------------------------------------------------------------------------------------------------
# The county report


def test_county_report_title_and_chapters(province: Monitored) -> None:
    data = county_monitoring_docx(
        province.frames, province.found, RULES, RECOGNISED, YEAR, scope_name="安徽省示例市桃圩县"
    )
    doc = open_docx(data)
    title = "安徽省示例市桃圩县2024年义务教育优质均衡年度监测报告"
    assert doc.paragraphs[0].style.name == "Title" and doc.paragraphs[0].text == title
    assert doc.core_properties.title == title
    assert headings(data, 1) == [
        "一、监测概况",
        "二、资源配置指标的变化",
        "三、预警事项",
        "四、学校层面情况",
        "附：数据说明",
    ]
    # without a name given, the county's name in the frames
    name = province.frames.counties.filter(pl.col("county_code") == RECOGNISED)["county_name"][0]
    plain = county_monitoring_docx(province.frames, province.found, RULES, RECOGNISED, YEAR)
    assert open_docx(plain).paragraphs[0].text == f"{name}2024年义务教育优质均衡年度监测报告"
    overview = "\n".join(all_text(plain))
    assert "2022—2024 年共三个年度" in overview
    assert "2024 年资源配置未达标；申报资格达标，政府保障程度未达标" in overview


def test_county_verdicts_and_units_follow_the_frames(province: Monitored) -> None:
    data = county_monitoring_docx(province.frames, province.found, RULES, RECOGNISED, YEAR)
    verdicts = table_after(data, "各年度评估结论")
    assert verdicts[0] == ["评估内容", "2022 年", "2023 年", "2024 年"]
    counties = province.frames.counties.filter(pl.col("county_code") == RECOGNISED).sort("year")
    shown = {"met": "达标", "not_met": "未达标", "insufficient_data": "数据不足"}
    rows = {row[0]: row[1:] for row in verdicts[1:]}
    assert rows["政府保障程度"] == [shown[s] for s in counties["government_guarantee"]]
    assert rows["综合评估结论"] == [shown[s] for s in counties["status"]]
    units = table_after(data, "各年度评估单元达标情况")
    stages = province.frames.stages.filter(pl.col("county_code") == RECOGNISED)
    assert [(int(r[0]), r[2], r[3]) for r in units[1:]] == [
        (y, number(n, 0), number(ok, 0)) for y, n, ok in stages.select("year", "units", "units_passed").rows()
    ]


def test_county_tables_show_every_cv_as_displayed_and_mark_those_over_the_limit(province: Monitored) -> None:
    code = over_limit_county(province)
    data = county_monitoring_docx(province.frames, province.found, RULES, code, YEAR)
    indicators = province.frames.indicators.filter(pl.col("county_code") == code)
    marked = 0
    for stage, label in (("primary", "小学"), ("junior", "初中")):
        table = table_after(data, f"{label}资源配置指标县域值与校际差异系数")
        assert table[0] == ["指标", "项目", "2022 年", "2023 年", "2024 年", "限值"]
        value_rows, cv_rows = table[1::2], table[2::2]
        assert [r[0].split(" ")[0] for r in value_rows] == CODES
        for code_, values, cvs in zip(CODES, value_rows, cv_rows, strict=True):
            mine = indicators.filter(pl.col("stage") == stage, pl.col("indicator") == code_).sort("year")
            assert values[2:5] == [number(v, 2) for v in mine["county_value"]]
            assert [c.split("\n")[0] for c in cvs[2:5]] == [number(v, 3) for v in mine["cv"]]
            for cell, passed in zip(cvs[2:5], mine["cv_passed"], strict=True):
                assert ("超限" in cell) == (passed is False)
                marked += passed is False
            assert cvs[5] == f"≤ {RULES.balance.cv_limit[stage]:.2f}"
    assert marked >= 1
    text = "\n".join(all_text(data))
    over = indicators.filter(pl.col("year") == YEAR, pl.col("cv_passed").not_())
    for row in over.iter_rows(named=True):
        assert f"{row['indicator']}（{number(row['cv'], 3)}）" in text


def test_county_charts_are_native_lines_with_the_cvs_at_full_precision(province: Monitored) -> None:
    code = over_limit_county(province)
    data = county_monitoring_docx(province.frames, province.found, RULES, code, YEAR)
    found = charts(data)
    assert len(found) == 2
    indicators = province.frames.indicators.filter(pl.col("county_code") == code)
    for stage, label in (("primary", "小学"), ("junior", "初中")):
        chart = found[f"{label}各项指标校际差异系数变化"]
        assert chart.categories == ["2022年", "2023年", "2024年"]
        assert list(chart.series) == [*CODES, "限值"]
        assert set(chart.kinds.values()) == {"lineChart"}
        for code_ in CODES:
            mine = indicators.filter(pl.col("stage") == stage, pl.col("indicator") == code_).sort("year")
            assert chart.series[code_] == dict(enumerate(mine["cv"].to_list()))  # full precision, exactly
            assert chart.dashed[code_] == "solid"
        assert chart.series["限值"] == dict.fromkeys(range(3), RULES.balance.cv_limit[stage])
        assert chart.dashed["限值"] == "dash"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("word/document.xml").decode().count("<c:chart ") == 2


def test_county_warnings_are_listed_by_level_highest_first(province: Monitored) -> None:
    data = county_monitoring_docx(province.frames, province.found, RULES, RECOGNISED, YEAR)
    mine = province.found.filter(pl.col("county_code") == RECOGNISED, pl.col("year") == YEAR)
    levels = [lv for lv in ("警报", "预警", "关注") if lv in mine["level"].to_list()]
    assert levels == ["警报", "预警", "关注"]  # the data reach every level
    subheadings = [h for h in headings(data, 2) if h.split("（")[-1].endswith("项）")]
    assert [h.split("）", 1)[1].split("（")[0] for h in subheadings] == levels
    items = body(data)
    for level in levels:
        position = next(i for i, p in enumerate(items) if isinstance(p, Paragraph) and f"）{level}（" in p.text)
        table = cells(next(t for t in items[position:] if isinstance(t, DocxTable)))
        expected = mine.filter(pl.col("level") == level)
        assert [(r[1], r[2]) for r in table[1:]] == expected.select("rule_name", "message").rows()
    text = "\n".join(all_text(data))
    assert NO_WARNINGS not in text
    assert all(message in text for message in mine["message"])
    history = table_after(data, "各年度预警事项数")
    counts = province.found.filter(pl.col("county_code") == RECOGNISED).group_by("year").len().sort("year")
    assert [int(r[-1]) for r in history[1:]] == counts["len"].to_list()


def test_county_school_chapter_lists_the_school_warnings(province: Monitored) -> None:
    schools = province.found.filter(pl.col("year") == YEAR, pl.col("school_id").is_not_null())
    code = str(schools.group_by("county_code").len().sort(["len", "county_code"], descending=[True, False])[0, 0])
    data = county_monitoring_docx(province.frames, province.found, RULES, code, YEAR)
    table = table_after(data, "2024 年学校层面预警事项")
    mine = schools.filter(pl.col("county_code") == code)
    assert [(r[0], r[2]) for r in table[1:]] == mine.select("school_name", "rule_name").rows()
    assert NO_SCHOOL_WARNINGS not in "\n".join(all_text(data))


def test_a_flat_series_says_plainly_that_nothing_was_found(flat: Monitored) -> None:
    data = county_monitoring_docx(flat.frames, flat.found, RULES, "340207", YEAR)
    text = all_text(data)
    assert NO_WARNINGS in text and NO_SCHOOL_WARNINGS in text
    assert not any(h.endswith("项）") for h in headings(data, 2))
    assert "2024 年发现预警事项" not in "\n".join(text)
    assert headings(data, 1)[:4] == ["一、监测概况", "二、资源配置指标的变化", "三、预警事项", "四、学校层面情况"]
    # resource evaluations only: no overall conclusion is claimed
    assert any("不能作出是否达到优质均衡发展标准的结论" in p for p in text)


def test_a_method_without_warning_rules_or_indicator_limits_still_reports() -> None:
    basic = load_rule_set("basic-2012")
    frames = series({y: evaluate_resources(frame([{**s, "year": y} for s in GOOD]), basic) for y in (2023, 2024)})
    found = warnings(frames, basic)
    data = county_monitoring_docx(frames, found, basic, "340207", YEAR)
    text = all_text(data)
    assert NO_WARNINGS in text and "五、预警规则：本规则集未设监测预警规则，报告不列预警事项。" in text
    assert any("共两个年度" in p and "和监测预警规则" not in p for p in text)
    chart = charts(data)["小学各项指标校际差异系数变化"]
    assert list(chart.series) == list(basic.indicators)  # no limit per indicator: no limit line
    units = table_after(data, "各年度评估单元达标情况")
    assert {r[3] for r in units[1:]} == {"—"}  # no per-school rule: no unit passes or fails it
    assert province_monitoring_docx(frames, found, basic, "340000", YEAR)


def test_a_forecast_is_drawn_as_a_dashed_continuation(province: Monitored) -> None:
    last = province.frames.indicators.filter(pl.col("year") == YEAR, pl.col("county_code") == RECOGNISED)
    forecast = pl.concat(
        [
            last.select("county_code", "stage", "indicator", (pl.col("cv") * (1 + 0.2 * k)).alias("cv")).with_columns(
                year=pl.lit(YEAR + k)
            )
            for k in (1, 2)
        ]
    )
    other = forecast.with_columns(pl.lit("340102").alias("county_code"))
    data = county_monitoring_docx(
        province.frames, province.found, RULES, RECOGNISED, YEAR, forecast=pl.concat([other, forecast.reverse()])
    )
    assert headings(data, 1)[4] == "五、趋势预测"
    chart = charts(data)["小学各项指标校际差异系数预测"]
    assert chart.categories == ["2022年", "2023年", "2024年", "2025年", "2026年"]
    history = province.frames.indicators.filter(pl.col("county_code") == RECOGNISED, pl.col("stage") == "primary")
    for code in CODES:
        actual = history.filter(pl.col("indicator") == code).sort("year")["cv"].to_list()
        ahead = forecast.filter(pl.col("stage") == "primary", pl.col("indicator") == code).sort("year")["cv"]
        assert chart.series[code] == dict(enumerate(actual)) and chart.dashed[code] == "solid"
        assert chart.series[f"{code}预测"] == {2: actual[-1], 3: ahead[0], 4: ahead[1]}
        assert chart.dashed[f"{code}预测"] == "dash"
    table = table_after(data, "小学校际差异系数预测值")
    assert table[0] == ["指标", "2024 年实际", "2025 年预测", "2026 年预测"]
    r5 = forecast.filter(pl.col("stage") == "primary", pl.col("indicator") == "R5").sort("year")["cv"]
    assert [c.split("\n")[0] for c in table[1 + CODES.index("R5")][2:]] == [number(v, 3) for v in r5]


@pytest.mark.parametrize(
    "forecast",
    [
        pl.DataFrame({"year": [2025], "stage": ["primary"], "indicator": ["R1"], "projected": [0.3]}),
        pl.DataFrame(
            {"year": [2025], "county_code": ["340102"], "stage": ["primary"], "indicator": ["R1"], "cv": [0.3]}
        ),
        pl.DataFrame({"year": [2023], "stage": ["primary"], "indicator": ["R1"], "cv": [0.3]}),
    ],
    ids=["other-columns", "another-county", "no-later-year"],
)
def test_a_forecast_without_usable_rows_leaves_the_chapter_out(province: Monitored, forecast: pl.DataFrame) -> None:
    data = county_monitoring_docx(province.frames, province.found, RULES, RECOGNISED, YEAR, forecast=forecast)
    assert "五、趋势预测" not in headings(data, 1)
    assert len(charts(data)) == 2


def test_a_year_without_results_is_refused(province: Monitored) -> None:
    with pytest.raises(YoujunError, match="没有 2030 年的评估结果"):
        county_monitoring_docx(province.frames, province.found, RULES, "349999", 2030)
    with pytest.raises(YoujunError, match="没有 2021 年的评估结果"):
        province_monitoring_docx(province.frames, province.found, RULES, "340000", 2021)


def test_an_earlier_year_reads_only_the_years_up_to_it(province: Monitored) -> None:
    data = county_monitoring_docx(province.frames, province.found, RULES, RECOGNISED, 2023)
    assert open_docx(data).paragraphs[0].text.endswith("2023年义务教育优质均衡年度监测报告")
    assert charts(data)["小学各项指标校际差异系数变化"].categories == ["2022年", "2023年"]
    text = "\n".join(all_text(data))
    later = province.found.filter(pl.col("county_code") == RECOGNISED, pl.col("year") == YEAR)
    earlier = province.found.filter(pl.col("county_code") == RECOGNISED, pl.col("year") == 2023)
    assert all(m in text for m in earlier["message"])
    assert not any(m in text for m in set(later["message"]) - set(earlier["message"]))


# ---------------------------------------------------------------------------------------------------------------
# The province report


def test_province_report_title_chapters_and_bar_chart(province: Monitored) -> None:
    data = province_monitoring_docx(province.frames, province.found, RULES, "340000", YEAR, scope_name="安徽省")
    assert open_docx(data).paragraphs[0].text == "安徽省2024年义务教育优质均衡年度监测报告"
    assert headings(data, 1) == [
        "一、监测概况",
        "二、资源配置指标超限情况",
        "三、预警县（区）",
        "四、进步与退步",
        "五、各市（州）汇总",
        "附：数据说明",
    ]
    totals = province.frames.region_counties.filter(pl.col("level") == "province").sort("year")
    chart = charts(data)["各年度资源配置达标县（区）数"]
    assert chart.categories == ["2022年", "2023年", "2024年"] and set(chart.kinds.values()) == {"barChart"}
    assert chart.series["资源配置达标"] == dict(enumerate(float(v) for v in totals["resources_passed"]))
    assert chart.series["参评县（区）"] == dict(enumerate(float(v) for v in totals["counties"]))
    overview = table_after(data, "各年度县（区）评估与预警情况")
    assert [(int(r[0]), int(r[1]), int(r[2])) for r in overview[1:]] == totals.select(
        "year", "counties", "resources_passed"
    ).rows()
    # without a name: the province's code
    plain = province_monitoring_docx(province.frames, province.found, RULES, "34", YEAR)
    assert open_docx(plain).paragraphs[0].text == "省级区划 340000 2024年义务教育优质均衡年度监测报告"


def test_province_counts_of_counties_over_the_limit(province: Monitored) -> None:
    data = province_monitoring_docx(province.frames, province.found, RULES, "340000", YEAR)
    indicators = province.frames.indicators
    for stage, label in (("primary", "小学"), ("junior", "初中")):
        table = table_after(data, f"{label}差异系数超限县（区）数")
        assert table[0] == ["指标", "2022 年", "2023 年", "2024 年"]
        for code, row in zip(CODES, table[1:], strict=True):
            mine = indicators.filter(pl.col("stage") == stage, pl.col("indicator") == code)
            years = [mine.filter(pl.col("year") == y) for y in (2022, 2023, 2024)]
            expected = [f"{y.filter(pl.col('cv_passed').not_()).height}（{y.height}）" for y in years]
            assert row[1:] == expected


def test_province_lists_the_counties_with_alarms_and_warnings(province: Monitored) -> None:
    data = province_monitoring_docx(province.frames, province.found, RULES, "340000", YEAR)
    table = table_after(data, "2024 年预警县（区）")
    assert table[0] == ["县（区）", "区划代码", "警报", "预警", "关注", "主要预警事项"]
    latest = province.found.filter(pl.col("year") == YEAR)
    warned = latest.filter(pl.col("level").is_in(["警报", "预警"]))
    assert {r[1] for r in table[1:]} == set(warned["county_code"])

    def counts(code: str) -> list[int]:
        mine = latest.filter(pl.col("county_code") == code)
        return [mine.filter(pl.col("level") == level).height for level in ("警报", "预警", "关注")]

    order = sorted(set(warned["county_code"]), key=lambda c: ([-n for n in counts(c)], c))
    assert [r[1] for r in table[1:]] == order
    assert set(order[:2]) == {RECOGNISED, PILOT}  # the two counties with an alarm (复查风险) come first
    for row in table[1:]:
        assert [int(v) for v in row[2:5]] == counts(row[1])
    recognised = next(r for r in table if r[1] == RECOGNISED)
    alarm = latest.filter(pl.col("county_code") == RECOGNISED, pl.col("level") == "警报")["message"][0]
    assert recognised[5].startswith(f"【复查风险】{alarm}")


def plain_movers(indicators: pl.DataFrame, before: int, after: int) -> list[tuple[str, int, float]]:
    """The movers' definition read plainly, row by row: (county, change, margin change), most improved first."""
    rows: dict[tuple[str, str, str], dict[int, dict[str, Any]]] = {}
    for r in indicators.filter(pl.col("year").is_in([before, after])).iter_rows(named=True):
        rows.setdefault((r["county_code"], r["stage"], r["indicator"]), {})[r["year"]] = r
    change: dict[str, int] = {}
    margin: dict[str, float] = {}
    for (county, _, _), by_year in rows.items():
        if set(by_year) != {before, after}:
            continue
        a, b = by_year[before], by_year[after]
        change[county] = change.get(county, 0) + bool(b["cv_passed"]) - bool(a["cv_passed"])
        if a["cv"] is not None and b["cv"] is not None:
            margin[county] = margin.get(county, 0.0) + (b["cv_limit"] - b["cv"]) - (a["cv_limit"] - a["cv"])
    result = [(c, change[c], margin.get(c, 0.0)) for c in change]
    return sorted(result, key=lambda r: (-r[1], -r[2], r[0]))


def test_movers_follow_their_definition(province: Monitored) -> None:
    indicators = province.frames.indicators
    computed = movers(indicators, 2023, 2024)
    expected = plain_movers(indicators, 2023, 2024)
    assert computed["county_code"].to_list() == [c for c, _, _ in expected]
    assert computed["change"].to_list() == [n for _, n, _ in expected]
    assert computed["margin_change"].to_list() == pytest.approx([m for _, _, m in expected], abs=1e-12)
    data = province_monitoring_docx(province.frames, province.found, RULES, "340000", YEAR)
    text = "\n".join(all_text(data))
    assert "进步与退步的确定方法" in text and "「限值 − 差异系数」之和的变化" in text
    best = table_after(data, "（一）进步最大的县（区）")
    improved = [c for c, n, m in expected if (n, m) > (0, 0)][:MOVERS_SHOWN]
    assert [r[1] for r in best[1:]] == improved
    worst = table_after(data, "（二）退步最大的县（区）")
    worsened = [c for c, n, m in sorted(expected, key=lambda r: (r[1], r[2], r[0])) if (n, m) < (0, 0)][:MOVERS_SHOWN]
    assert [r[1] for r in worst[1:]] == worsened


def test_movers_rank_by_the_count_within_the_limits_then_by_the_margin() -> None:
    def rows(county: str, before: list[float], after: list[float]) -> list[dict[str, Any]]:
        return [
            {"year": y, "county_code": county, "county_name": county, "stage": "primary", "indicator": code,
             "cv": cv, "cv_limit": 0.5, "cv_passed": cv <= 0.5}
            for y, cvs in ((2023, before), (2024, after))
            for code, cv in zip(("R1", "R2"), cvs, strict=True)
        ]  # fmt: skip

    frame_ = pl.DataFrame(
        [
            *rows("a", [0.55, 0.30], [0.45, 0.30]),  # one more within: +1
            *rows("b", [0.40, 0.30], [0.35, 0.30]),  # same count, margin +0.05
            *rows("c", [0.40, 0.30], [0.40, 0.30]),  # no change
            *rows("d", [0.40, 0.30], [0.45, 0.30]),  # same count, margin −0.05
            *rows("e", [0.40, 0.30], [0.05, 0.55]),  # one fewer within, though the margin rises (+0.10)
        ]
    )
    result = movers(frame_, 2023, 2024)
    assert result.select("county_code", "within_before", "within_after", "change").rows() == [
        ("a", 1, 2, 1),
        ("b", 2, 2, 0),
        ("c", 2, 2, 0),
        ("d", 2, 2, 0),
        ("e", 2, 1, -1),
    ]
    assert result["margin_change"].to_list() == pytest.approx([0.10, 0.05, 0.0, -0.05, 0.10])
    assert result.filter(pl.col("county_code") == "c")["margin_change"][0] == 0.0


def test_province_prefecture_summary(province: Monitored) -> None:
    data = province_monitoring_docx(province.frames, province.found, RULES, "340000", YEAR, names=PREFECTURES)
    table = table_after(data, "2024 年各市（州）汇总")
    assert [r[0] for r in table[1:]] == ["示例一市", "示例二市", "合计"]
    counties = province.frames.counties.filter(pl.col("year") == YEAR)
    indicators = province.frames.indicators.filter(pl.col("year") == YEAR)
    for row, prefix in zip(table[1:], ("3401", "3402", "34"), strict=True):
        mine = counties.filter(pl.col("county_code").str.starts_with(prefix))
        over = indicators.filter(pl.col("county_code").str.starts_with(prefix), pl.col("cv_passed").not_())
        assert (int(row[1]), int(row[2]), int(row[4])) == (mine.height, int(mine["passed"].sum()), over.height)


# ---------------------------------------------------------------------------------------------------------------
# Both: the language of the documents


#: A code of the standard (R1, G4, Q9, S1, V7): the only Latin letters a paragraph may hold.
CODE = re.compile(r"[RGQSVK]\d{1,2}")


@pytest.mark.parametrize("kind", ["county", "province", "flat"])
def test_every_paragraph_and_chart_label_is_chinese_first(province: Monitored, flat: Monitored, kind: str) -> None:
    if kind == "county":
        last = province.frames.indicators.filter(pl.col("year") == YEAR, pl.col("county_code") == RECOGNISED)
        forecast = last.select("stage", "indicator", "cv").with_columns(year=pl.lit(YEAR + 1))
        data = county_monitoring_docx(province.frames, province.found, RULES, RECOGNISED, YEAR, forecast=forecast)
    elif kind == "province":
        data = province_monitoring_docx(province.frames, province.found, RULES, "340000", YEAR)
    else:
        data = county_monitoring_docx(flat.frames, flat.found, RULES, "340207", YEAR)
    texts = [t for t in all_text(data) if t.strip()]
    for chart in charts(data).values():
        texts += [chart.title, *chart.categories, *chart.series]
    assert len(texts) > 40
    for text in texts:
        words = re.findall(r"[A-Za-z][A-Za-z0-9]*", text)
        assert all(CODE.fullmatch(w) for w in words), (text, words)
        assert re.search(r"[\u4e00-\u9fff]", text) or re.fullmatch(r"[\d\s.,/%:+\-—≤（）()年]+|[RGQSVK]\d+.*", text), (
            text
        )


# ---------------------------------------------------------------------------------------------------------------
# The annex


def read_annex(path: Path) -> dict[str, pl.DataFrame]:
    reader = fastexcel.read_excel(path)
    return {name: reader.load_sheet(name).to_polars() for name in reader.sheet_names}


@pytest.mark.parametrize("scope", ["340000", RECOGNISED, "340200", "000000"])
def test_the_annex_holds_every_row_of_its_scope(province: Monitored, tmp_path: Path, scope: str) -> None:
    path = tmp_path / "annex.xlsx"
    write_tables(path, monitoring_annex_tables(province.frames, province.found, RULES, scope, YEAR))
    sheets = read_annex(path)
    assert list(sheets) == list(ANNEX_SHEETS)
    frames = annex_frames(province.frames, province.found, scope, YEAR)
    assert [s.height for s in sheets.values()] == [frames[k].height for k in ("indicators", "warnings", "regions")]
    assert all(not re.search(r"[A-Za-z]", column) for sheet in sheets.values() for column in sheet.columns)
    if scope == RECOGNISED:
        assert frames["indicators"].height == 3 * 2 * len(CODES)
        assert set(sheets["地区汇总"]["层级"]) == {"全国", "省", "市（州）"}
        assert sheets["预警事项"]["预警内容"].to_list() == frames["warnings"]["message"].to_list()
    if scope == "000000":
        assert frames["indicators"].height == province.frames.indicators.height
        assert frames["regions"].height == province.frames.regions.height


def test_the_annex_keeps_full_precision_and_chinese_verdicts(province: Monitored, tmp_path: Path) -> None:
    path = tmp_path / "annex.xlsx"
    write_tables(path, monitoring_annex_tables(province.frames, province.found, RULES, "340000", YEAR))
    sheet = read_annex(path)["指标序列"]
    expected = province.frames.indicators
    shown, cvs = sheet["差异系数"].to_list(), expected["cv"].to_list()
    assert [v is None for v in shown] == [v is None for v in cvs]
    assert [v for v in shown if v is not None] == pytest.approx([v for v in cvs if v is not None], rel=1e-15)
    assert sheet["县级区划代码"].to_list() == expected["county_code"].to_list()
    verdicts = ["达标" if ok else "超限" for ok in expected["cv_passed"]]
    assert sheet["差异系数结论"].to_list() == verdicts
    assert set(sheet["学段"]) == {"小学", "初中"}


def test_annex_text_stays_inert(province: Monitored, tmp_path: Path) -> None:
    found = province.found.with_columns(pl.lit('=HYPERLINK("http://example.com")').alias("message"))
    path = tmp_path / "annex.xlsx"
    write_tables(path, monitoring_annex_tables(province.frames, found, RULES, RECOGNISED, YEAR))
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in sheet
    assert set(read_annex(path)["预警事项"]["预警内容"]) == {'=HYPERLINK("http://example.com")'}
