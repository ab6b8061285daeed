"""The self-evaluation report (docx) and the assessment annex (xlsx), parsed back.

The county objects follow docs/assessment-json.md exactly: hand-built ones (every section, chosen statuses) and the
real engine's output on a synthetic county.
"""

from __future__ import annotations

import io
import re
import zipfile
from copy import deepcopy
from datetime import datetime
from typing import Any

import fastexcel
import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from youjun.io.documents import (
    ANNEX_SHEETS,
    assessment_annex_xlsx,
    format_value,
    rate_codes,
    self_evaluation_docx,
)
from youjun.standards import load_rule_set

CODES = list(load_rule_set("national-2017").indicators)
C_NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
GENERATED = datetime(2025, 3, 1, 9, 30)


# ----------------------------------------------------------------------------------------------------
# Fixtures built by hand from docs/assessment-json.md


def _unit(i: int, stage: str, *, passed: bool = True) -> dict[str, Any]:
    base = {"R1": 5.2, "R2": 1.3, "R3": 1.1, "R4": 6.0, "R5": 11.0, "R6": 3100.0, "R7": 2.6}
    values = {code: v * (1 + (i % 7) / 37) for code, v in base.items()}
    met = dict.fromkeys(CODES, True)
    if not passed:
        values["R2"], values["R6"] = 0.4 + i / 1000, 1200.0 + i
        met["R2"] = met["R6"] = False
    return {
        "school_id": f"3402070{i:03d}",
        "school_name": f"示例第{i}学校",
        "stage": stage,
        "students": 300 + 7 * i,
        "values": values,
        "met": met,
        "passed": passed,
    }


def _stage(units: list[dict[str, Any]], limit: float, cvs: list[float]) -> dict[str, Any]:
    return {
        "units": len(units),
        "units_passed": sum(u["passed"] for u in units),
        "students": sum(u["students"] for u in units),
        "county_value": {c: 1.0 + 10 * k + 0.123456 for k, c in enumerate(CODES)},
        "cv": dict(zip(CODES, cvs, strict=True)),
        "cv_limit": limit,
        "cv_passed": {c: v <= limit for c, v in zip(CODES, cvs, strict=True)},
        "cv_boundary": ["R2"] if any(abs(v - limit) < 0.005 for v in cvs) else [],
        "passed": all(u["passed"] for u in units) and all(v <= limit for v in cvs),
        "influence": {},
    }


def _items(prefix: str, count: int, failing: dict[str, str], schools: list[dict[str, Any]]) -> dict[str, Any]:
    items = []
    for n in range(1, count + 1):
        code = f"{prefix}{n}"
        status = failing.get(code, "met")
        item: dict[str, Any] = {
            "code": code,
            "name": f"{code} 示例项目名称",
            "kind": "county",
            "status": status,
            "value": 0.9 + n / 1000,
            "threshold": 0.85,
            "detail": f"{code} 说明文字",
            "inputs": {},
        }
        if code in ("G3", "Q6"):
            item.update(kind="school", value=None, threshold=None, schools=schools)
            item["inputs"] = {"schools": 40, "schools_not_met": len(schools), "schools_insufficient_data": 0}
        items.append(item)
    statuses = [i["status"] for i in items]
    worst = "not_met" if "not_met" in statuses else ("insufficient_data" if "insufficient_data" in statuses else "met")
    return {
        "status": worst,
        "passed": worst == "met",
        "met": statuses.count("met"),
        "not_met": statuses.count("not_met"),
        "insufficient_data": statuses.count("insufficient_data"),
        "total": count,
        "items": items,
    }


def county_json(n_schools: int = 12, failing_every: int = 5) -> dict[str, Any]:
    """A full county object: resource allocation with failing units, G3 not met, Q2 insufficient, S1 met, no veto."""
    primary = [_unit(i, "primary", passed=i % failing_every != 0) for i in range(1, n_schools + 1)]
    junior = [_unit(i, "junior") for i in range(n_schools + 1, n_schools + 1 + max(2, n_schools // 3))]
    units = primary + junior
    failing_schools = [
        {
            "school_id": primary[0]["school_id"],
            "school_name": primary[0]["school_name"],
            "status": "not_met",
            "value": 1.0,
            "threshold": 2.0,
            "detail": "音乐教室 1 间，应不少于 2 间",
        }
    ]
    shortfalls = [
        {
            "school_id": u["school_id"],
            "stage": u["stage"],
            "indicator": code,
            "value": u["values"][code],
            "standard": 1.0 if code == "R2" else 2000.0,
            "ratio": u["values"][code] / (1.0 if code == "R2" else 2000.0),
            "shortfall": 3.0,
            "unit": "人" if code == "R2" else "元",
            "unit_passed": False,
        }
        for u in units
        if not u["passed"]
        for code in ("R2", "R6")
    ]
    vetoes = [
        {
            "code": f"V{n}",
            "name": f"否决事项{n}",
            "status": "met",
            "vetoed": False,
            "detail": "核查结论：不存在",
            "inputs": {f"v{n}_finding": "不存在"},
        }
        for n in range(1, 8)
    ]
    vetoes[0].update(evidence="招生简章", source="县教育局", reviewer="张三", reviewed_at="2025-01-10")
    return {
        "county_code": "340207",
        "county_name": "鸠江区",
        "year": 2024,
        "resource_allocation": {
            "passed": False,
            "stages": {
                "primary": _stage(primary, 0.5, [0.2979, 0.501787, 0.4020, 0.2884, 0.3755, 0.3128, 0.3942]),
                "junior": _stage(junior, 0.45, [0.25, 0.31, 0.2, 0.15, 0.41, 0.44, 0.12]),
            },
            "units": units,
            "excluded": [{"school_id": "3402070999", "school_name": "某村教学点", "reason": "教学点在校生不足50人"}],
            "shortfalls": shortfalls,
        },
        "government_guarantee": _items("G", 15, {"G3": "not_met", "G8": "insufficient_data"}, failing_schools),
        "education_quality": _items("Q", 9, {"Q2": "insufficient_data"}, []),
        "social_recognition": {
            "code": "S1",
            "name": "社会认可度达到85%以上",
            "status": "met",
            "passed": True,
            "value": 0.9125,
            "threshold": 0.85,
            "valid": 1200,
            "positive": 1095,
            "detail": "认可 1,095 ÷ 有效回答 1,200 = 91.25%（不低于 85.00%）",
            "inputs": {"recognition_valid": 1200, "recognition_positive": 1095, "recognition_rate": None},
        },
        "vetoes": {"status": "met", "passed": True, "found": 0, "items": vetoes},
        "verdict": {
            "status": "not_met",
            "passed": False,
            "conclusion": "未达到优质均衡发展标准",
            "parts": {
                "eligibility": "met",
                "resource_allocation": "not_met",
                "government_guarantee": "not_met",
                "education_quality": "insufficient_data",
                "social_recognition": "met",
                "vetoes": "met",
            },
            "eligibility": {
                "status": "met",
                "basic_balance_year": 2015,
                "years": 9,
                "min_years": 3,
                "detail": "2015 年通过国家基本均衡认定，距评估年度 9 年（不少于 3 年）",
            },
            "reasons": [
                {
                    "rank": 1,
                    "part": "resource_allocation",
                    "code": "units",
                    "status": "not_met",
                    "message": "资源配置：2 个评估单元未达标",
                    "ref": "resource_allocation/units",
                },
                {
                    "rank": 2,
                    "part": "government_guarantee",
                    "code": "G3",
                    "status": "not_met",
                    "message": "G3 音乐、美术专用教室：1 所学校不达标",
                    "ref": "government_guarantee/G3",
                },
            ],
        },
    }


# ----------------------------------------------------------------------------------------------------
# Helpers reading the outputs back


def _open_docx(data: bytes) -> Any:
    return Document(io.BytesIO(data))


def _all_cell_texts(doc: Any) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables]


def _charts(data: bytes) -> dict[str, etree._Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: etree.fromstring(archive.read(name))
            for name in sorted(archive.namelist())
            if re.fullmatch(r"word/charts/chart\d+\.xml", name)
        }


def _series(chart: etree._Element) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for ser in chart.iterfind(".//c:ser", C_NS):
        name = ser.findtext("c:tx/c:strRef/c:strCache/c:pt/c:v", namespaces=C_NS)
        out[str(name)] = [float(v.text) for v in ser.iterfind("c:val/c:numRef/c:numCache/c:pt/c:v", C_NS)]
    return out


def _categories(chart: etree._Element) -> list[str]:
    ser = chart.find(".//c:ser", C_NS)
    assert ser is not None
    return [str(v.text) for v in ser.iterfind("c:cat/c:strRef/c:strCache/c:pt/c:v", C_NS)]


def _read_annex(data: bytes) -> dict[str, Any]:
    reader = fastexcel.read_excel(data)
    return {name: reader for name in reader.sheet_names}


def _sheet(data: bytes, name: str, header_row: int = 0) -> Any:
    return fastexcel.read_excel(data).load_sheet_by_name(name, header_row=header_row).to_polars()


# ----------------------------------------------------------------------------------------------------
# The report


def test_report_headings_and_cover() -> None:
    data = self_evaluation_docx(county_json(), generated_at=GENERATED)
    doc = _open_docx(data)
    texts = [p.text for p in doc.paragraphs]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:12] == [
        "一、基本情况",
        "二、主要做法",
        "三、资源配置",
        "（一）小学",
        "（二）初中",
        "四、政府保障程度",
        "五、教育质量",
        "六、社会认可度",
        "七、一票否决事项",
        "八、评估结论",
        "九、存在的问题",
        "十、整改措施与计划",
    ]
    assert headings[-1] == "附表　未达标及数据不足的学校"
    assert "鸠江区" in texts and "自评报告" in texts
    assert "生成日期：2025年03月01日" in texts
    assert "评估结论：未达到优质均衡发展标准。" in texts
    assert any("2015 年通过国家基本均衡认定" in t for t in texts)
    assert doc.core_properties.title == "鸠江区义务教育优质均衡发展自评报告"


def test_report_resource_tables_show_every_cv_as_displayed() -> None:
    county = county_json()
    doc = _open_docx(self_evaluation_docx(county, generated_at=GENERATED))
    tables = _all_cell_texts(doc)
    cv_tables = [t for t in tables if t[0] == ["指标", "县域值", "差异系数", "限值", "结论"]]
    assert len(cv_tables) == 2
    for table, stage in zip(cv_tables, ("primary", "junior"), strict=True):
        block = county["resource_allocation"]["stages"][stage]
        assert [row[0].split(" ")[0] for row in table[1:]] == CODES
        assert [row[2] for row in table[1:]] == [f"{block['cv'][c]:.3f}" for c in CODES]
        assert [row[1] for row in table[1:]] == [format_value(block["county_value"][c], decimals=2) for c in CODES]
        assert {row[3] for row in table[1:]} == {f"≤ {block['cv_limit']:.3f}"}
    primary = cv_tables[0]
    # 0.501787 fails at full precision and is shown as a boundary case
    assert primary[2][2] == "0.502" and primary[2][4] == "未达标（⚠临界）"
    assert primary[1][4] == "达标"


def test_report_charts_are_native_with_cached_cvs() -> None:
    county = county_json()
    data = self_evaluation_docx(county, generated_at=GENERATED)
    charts = _charts(data)
    assert list(charts) == ["word/charts/chart1.xml", "word/charts/chart2.xml"]
    for chart, stage in zip(charts.values(), ("primary", "junior"), strict=True):
        block = county["resource_allocation"]["stages"][stage]
        assert chart.find(".//c:barChart/c:grouping", C_NS).get("val") == "clustered"
        assert _categories(chart) == CODES
        series = _series(chart)
        assert series["差异系数"] == [block["cv"][c] for c in CODES]
        assert series["限值"] == [block["cv_limit"]] * 7
        title = "".join(chart.find("c:chart/c:title", C_NS).itertext())
        assert title.endswith("各项指标校际差异系数与限值")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rels = archive.read("word/_rels/document.xml.rels").decode()
        types = archive.read("[Content_Types].xml").decode()
        body = archive.read("word/document.xml").decode()
        embedded = [n for n in archive.namelist() if n.startswith("word/embeddings/")]
    assert rels.count("relationships/chart") == 2
    assert "drawingml.chart+xml" in types
    assert body.count("<c:chart ") == 2
    # the chart data workbook opens and holds the same values
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        book = fastexcel.read_excel(archive.read(embedded[0])).load_sheet(0).to_polars()
    assert book["差异系数"].to_list() == [county["resource_allocation"]["stages"]["primary"]["cv"][c] for c in CODES]


def test_report_east_asian_fonts_page_and_footer() -> None:
    data = self_evaluation_docx(county_json(), generated_at=GENERATED)
    doc = _open_docx(data)
    styles = doc.styles.element
    defaults = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert defaults.get(qn("w:eastAsia")) == "宋体"
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    for name in ("Heading 1", "Heading 2", "Title"):
        fonts = doc.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == "黑体"
    # no theme font can override the explicit names
    assert not any(
        fonts.get(qn(attr)) for fonts in styles.iter(qn("w:rFonts")) for attr in ("w:eastAsiaTheme", "w:asciiTheme")
    )
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    footer = section.footer.paragraphs[0]._p.xml
    assert 'w:instr=" PAGE "' in footer and "第 " in section.footer.paragraphs[0].text


def test_report_items_vetoes_and_appendix() -> None:
    county = county_json()
    doc = _open_docx(self_evaluation_docx(county, generated_at=GENERATED))
    tables = _all_cell_texts(doc)
    items = [t for t in tables if t[0] == ["代码", "项目", "结论", "数值", "标准", "说明"]]
    assert [len(t) - 1 for t in items] == [15, 9]
    g = {row[0]: row for row in items[0][1:]}
    assert g["G3"][2] == "未达标" and g["G8"][2] == "数据不足" and g["G1"][2] == "达标"
    assert g["G9"][3] == "90.90%" and g["G9"][4] == "85.00%"  # rates as percentages
    assert g["G7"][3] == "0.91"  # G7 is money, not a rate
    vetoes = next(t for t in tables if t[0] == ["代码", "事项", "核查结论", "说明"])
    assert [row[0] for row in vetoes[1:]] == [f"V{n}" for n in range(1, 8)]
    assert {row[2] for row in vetoes[1:]} == {"不存在"}
    recognition = next(t for t in tables if t[0] == ["项目", "内容"])
    assert ["社会认可度", "91.25%"] in recognition and ["有效回答数", "1,200"] in recognition
    appendix = tables[-1]
    assert appendix[0] == ["学校标识码", "学校名称", "项目", "结论", "说明"]
    failing_units = [u for u in county["resource_allocation"]["units"] if not u["passed"]]
    assert len(appendix) - 1 == len(failing_units) + 1  # the units plus the G3 school
    assert ["3402070001", "示例第1学校", "G3", "未达标", "音乐教室 1 间，应不少于 2 间"] in appendix


def test_report_without_later_sections_says_not_evaluated() -> None:
    county = county_json()
    for key in ("government_guarantee", "education_quality", "social_recognition", "vetoes", "verdict"):
        del county[key]
    doc = _open_docx(self_evaluation_docx(county, generated_at=GENERATED))
    texts = [p.text for p in doc.paragraphs]
    assert sum("本次评估未包含该部分" in t for t in texts) == 4
    assert any("不能作出是否达到优质均衡发展标准的结论" in t for t in texts)
    assert len(_charts(self_evaluation_docx(county))) == 2


def test_report_text_with_control_characters_and_markup_is_kept_safe() -> None:
    county = county_json()
    county["county_name"] = "鸠江<区>&\x07"
    county["resource_allocation"]["units"][4]["school_name"] = '=HYPERLINK("x")\x0b学校'
    doc = _open_docx(self_evaluation_docx(county, generated_at=GENERATED))
    assert "鸠江<区>&" in [p.text for p in doc.paragraphs]
    assert any('=HYPERLINK("x")学校' in row[0] for t in _all_cell_texts(doc) for row in t)


# ----------------------------------------------------------------------------------------------------
# The annex


def test_annex_has_every_sheet_with_frozen_headers() -> None:
    data = assessment_annex_xlsx(county_json())
    assert fastexcel.read_excel(data).sheet_names == list(ANNEX_SHEETS)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(ANNEX_SHEETS)
        for name in sheets:
            assert 'state="frozen"' in archive.read(name).decode()


def test_annex_resource_and_unit_values_equal_the_json() -> None:
    county = county_json()
    data = assessment_annex_xlsx(county)
    resources = _sheet(data, "资源配置")
    stages = county["resource_allocation"]["stages"]
    expected_cv = [stages[s]["cv"][c] for s in ("primary", "junior") for c in CODES]
    assert resources["差异系数"].to_list() == pytest.approx(expected_cv, rel=1e-15)
    assert resources["指标代码"].to_list() == CODES * 2
    assert resources["学段"].to_list() == ["小学"] * 7 + ["初中"] * 7
    assert resources["差异系数是否达标"].to_list()[:2] == ["达标", "未达标"]
    assert resources["临界（四舍五入前后结论不同）"].to_list()[1] == "是"
    units = _sheet(data, "学校单元")
    source = county["resource_allocation"]["units"]
    assert units["学校标识码"].to_list() == [u["school_id"] for u in source]
    for code in CODES:
        column = next(c for c in units.columns if c.startswith(f"{code} ") and not c.endswith("是否达标"))
        assert units[column].to_list() == pytest.approx([u["values"][code] for u in source], rel=1e-15)
    assert units["单元是否达标"].to_list() == ["是" if u["passed"] else "否" for u in source]
    assert units["在校生数"].to_list() == [u["students"] for u in source]


def test_annex_items_schools_recognition_vetoes_and_conclusion() -> None:
    county = county_json()
    data = assessment_annex_xlsx(county)
    guarantee = _sheet(data, "政府保障")
    assert guarantee["代码"].to_list() == [f"G{n}" for n in range(1, 16)]
    expected = [i["value"] for i in county["government_guarantee"]["items"]]
    assert [v is None for v in guarantee["数值"].to_list()] == [v is None for v in expected]
    assert guarantee["数值"].drop_nulls().to_list() == [v for v in expected if v is not None]
    assert guarantee["结论"].to_list()[2] == "未达标"
    assert guarantee["不达标学校数"].to_list()[2] == 1
    quality = _sheet(data, "教育质量")
    assert quality["结论"].to_list()[1] == "数据不足"
    schools = _sheet(data, "不达标学校")
    assert schools["代码"].to_list()[0] == "G3"
    failing = [u for u in county["resource_allocation"]["units"] if not u["passed"]]
    assert schools.height == 1 + len(failing)
    gaps = _sheet(data, "差距清单")
    assert gaps.height == len(county["resource_allocation"]["shortfalls"])
    assert gaps["数值"].to_list() == pytest.approx([g["value"] for g in county["resource_allocation"]["shortfalls"]])
    assert gaps["学校名称"].to_list()[0] == failing[0]["school_name"]
    s1 = _sheet(data, "社会认可度")
    assert s1["社会认可度"].to_list() == [0.9125] and s1["有效回答数"].to_list() == [1200]
    vetoes = _sheet(data, "一票否决")
    assert vetoes["代码"].to_list() == [f"V{n}" for n in range(1, 8)]
    assert vetoes["核查人"].to_list()[0] == "张三"
    conclusion = _sheet(data, "评估结论", header_row=1)
    rows = dict(zip(conclusion["项目"].to_list(), conclusion["结论"].to_list(), strict=True))
    assert rows["评估结论"] == "未达到优质均衡发展标准"
    assert rows["县级区划代码"] == "340207" and rows["资源配置"] == "未达标" and rows["原因 2"] == "未达标"


def test_annex_formula_like_text_stays_text() -> None:
    county = county_json()
    county["resource_allocation"]["units"][0]["school_name"] = "=1+2"
    county["resource_allocation"]["units"][1]["school_name"] = "@SUM(A1)"
    data = assessment_annex_xlsx(county)
    units = _sheet(data, "学校单元")
    assert units["学校名称"].to_list()[:2] == ["=1+2", "@SUM(A1)"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in "".join(archive.read(n).decode() for n in archive.namelist() if "worksheets/" in n)


def test_annex_without_later_sections() -> None:
    county = deepcopy(county_json())
    for key in ("government_guarantee", "education_quality", "social_recognition", "vetoes", "verdict"):
        del county[key]
    data = assessment_annex_xlsx(county)
    assert _sheet(data, "政府保障").height == 0
    assert _sheet(data, "学校单元").height == len(county["resource_allocation"]["units"])


# ----------------------------------------------------------------------------------------------------
# The real engine on a synthetic county


@pytest.fixture(scope="module")
def engine_county() -> dict[str, Any]:
    import polars as pl

    from youjun.engine.assessment import assess
    from youjun.io.evaluation_json import to_dict
    from youjun.io.synth import generate
    from youjun.standards import load_rule_set

    data = generate(counties=6, seed=11, province="34")
    code = data.schools.group_by("county_code").len().sort(["len", "county_code"])["county_code"][-1]
    schools = data.schools.filter(pl.col("county_code") == code)
    counties = data.counties.filter(pl.col("county_code") == code)
    county: dict[str, Any] = to_dict(assess(schools, counties, load_rule_set()))["counties"][0]
    return county


def test_engine_county_report(engine_county: dict[str, Any]) -> None:
    county = engine_county
    assert {"government_guarantee", "education_quality", "social_recognition", "vetoes", "verdict"} <= set(county)
    data = self_evaluation_docx(county, generated_at=GENERATED)
    stages = county["resource_allocation"]["stages"]
    charts = list(_charts(data).values())
    assert len(charts) == len(stages)
    for chart, block in zip(charts, stages.values(), strict=True):
        assert _series(chart)["差异系数"] == [block["cv"][c] for c in CODES]
    doc = _open_docx(data)
    tables = _all_cell_texts(doc)
    items = [t for t in tables if t[0] == ["代码", "项目", "结论", "数值", "标准", "说明"]]
    for table, part in zip(items, ("government_guarantee", "education_quality"), strict=True):
        source = county[part]["items"]
        assert [row[0] for row in table[1:]] == [i["code"] for i in source]
        assert [row[5] for row in table[1:]] == [i["detail"] for i in source]
        assert [row[2] for row in table[1:]] == [
            {"met": "达标", "not_met": "未达标"}.get(i["status"], "数据不足") for i in source
        ]
    texts = [p.text for p in doc.paragraphs]
    assert f"评估结论：{county['verdict']['conclusion']}。" in texts
    for reason in county["verdict"]["reasons"]:
        assert any(reason["message"] in t for t in texts)


def test_engine_county_annex(engine_county: dict[str, Any]) -> None:
    county = engine_county
    data = assessment_annex_xlsx(county)
    units = _sheet(data, "学校单元")
    source = county["resource_allocation"]["units"]
    assert units.height == len(source)
    assert units["R6 生均教学仪器设备值"].to_list() == pytest.approx([u["values"]["R6"] for u in source], rel=1e-15)
    guarantee = _sheet(data, "政府保障")
    assert guarantee["说明"].to_list() == [i["detail"] for i in county["government_guarantee"]["items"]]
    schools = _sheet(data, "不达标学校")
    expected = sum(
        len(i.get("schools") or ()) for p in ("government_guarantee", "education_quality") for i in county[p]["items"]
    )
    expected += sum(1 for u in source if u["passed"] is False)
    assert schools.height == expected
    gaps = _sheet(data, "差距清单")
    assert gaps.height == len(county["resource_allocation"]["shortfalls"])


# ----------------------------------------------------------------------------------------------------
# The rules the documents state are those of the rule set in force


PROVINCE = """id = "test-province"
extends = "national-2017"
name = "测试省县域义务教育优质均衡发展督导评估实施细则"

[indicators.R6]
name = "生均教学仪器设备值（含信息化设备）"

[school_rule]
min_met = 5
min_ratio = 0.9

[balance]
cv_limit = { primary = 0.45, junior = 0.4 }

[recognition]
threshold = 0.9
valid_return_min = 0.75
"""


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("rules") / "province.toml"
    path.write_text(PROVINCE, encoding="utf-8")
    return load_rule_set(str(path))


@pytest.fixture(scope="module")
def synthetic() -> Any:
    import polars as pl

    from youjun.io.synth import generate

    data = generate(counties=6, seed=11, province="34")
    code = data.schools.group_by("county_code").len().sort(["len", "county_code"])["county_code"][-1]
    mine = pl.col("county_code") == code
    return data.schools.filter(mine), data.counties.filter(mine)


def _engine(synthetic: Any, rules: Any) -> dict[str, Any]:
    from youjun.engine.assessment import assess
    from youjun.io.evaluation_json import to_dict

    county: dict[str, Any] = to_dict(assess(*synthetic, rules))["counties"][0]
    return county


def _resource_sentence(doc: Any) -> str:
    return next(p.text for p in doc.paragraphs if p.text.startswith("资源配置结论："))


def test_the_report_states_the_rules_of_the_rule_set_it_was_computed_with(province: Any, synthetic: Any) -> None:
    national = load_rule_set("national-2017")
    ours = _open_docx(self_evaluation_docx(_engine(synthetic, national), national, generated_at=GENERATED))
    theirs = _open_docx(self_evaluation_docx(_engine(synthetic, province), province, generated_at=GENERATED))
    assert "每个评估单元七项指标至少六项达到标准、其余一项不低于标准的 85%" in _resource_sentence(ours)
    assert "校际差异系数小学不高于 0.50、初中不高于 0.45" in _resource_sentence(ours)
    sentence = _resource_sentence(theirs)
    assert "每个评估单元七项指标至少五项达到标准、其余指标不低于标准的 90%" in sentence
    assert "校际差异系数小学不高于 0.45、初中不高于 0.40" in sentence
    assert "85%" not in sentence and "0.50" not in sentence
    texts = [p.text for p in theirs.paragraphs]
    assert "评估依据：测试省县域义务教育优质均衡发展督导评估实施细则" in texts
    tables = _all_cell_texts(theirs)
    cv_tables = [t for t in tables if t[0] == ["指标", "县域值", "差异系数", "限值", "结论"]]
    assert {row[3] for row in cv_tables[0][1:]} == {"≤ 0.450"}
    assert any(row[0] == "R6 生均教学仪器设备值（含信息化设备）（元）" for row in cv_tables[0])
    recognition = dict(row for row in next(t for t in tables if t[0] == ["项目", "内容"]) if len(row) == 2)
    assert recognition["标准"] == "90.00%" and recognition["有效问卷回收率要求"] == "不低于 75%"
    national_recognition = dict(row for row in next(t for t in _all_cell_texts(ours) if t[0] == ["项目", "内容"]))
    assert national_recognition["标准"] == "85.00%" and national_recognition["有效问卷回收率要求"] == "不低于 70%"


def test_the_annex_states_the_rules_and_names_of_the_rule_set(province: Any, synthetic: Any) -> None:
    data = assessment_annex_xlsx(_engine(synthetic, province), province)
    conclusion = _sheet(data, "评估结论", header_row=1)
    rows = dict(zip(conclusion["项目"].to_list(), conclusion["说明"].to_list(), strict=True))
    assert rows["评估依据"] == "测试省县域义务教育优质均衡发展督导评估实施细则"
    assert rows["逐校规则"] == "每个评估单元七项指标至少五项达到标准、其余指标不低于标准的 90%"
    assert rows["差异系数限值"] == "各项指标校际差异系数小学不高于 0.45、初中不高于 0.40"
    assert rows["社会认可度标准"] == "不低于 90%" and rows["有效问卷回收率"] == "不低于 75%"
    resources = _sheet(data, "资源配置")
    assert "生均教学仪器设备值（含信息化设备）" in resources["指标"].to_list()
    assert set(resources["差异系数限值"].to_list()) == {0.45, 0.4}
    units = _sheet(data, "学校单元")
    assert "R6 生均教学仪器设备值（含信息化设备）" in units.columns


def test_a_method_without_a_per_school_rule_states_only_its_limits() -> None:
    basic = load_rule_set("basic-2012")
    county = county_json()
    doc = _open_docx(self_evaluation_docx(county, basic, generated_at=GENERATED))
    sentence = _resource_sentence(doc)
    assert "综合差异系数小学不高于 0.65、初中不高于 0.55" in sentence and "每个评估单元" not in sentence


def test_rate_items_and_decimals_follow_the_rule_set(tmp_path: Any) -> None:
    path = tmp_path / "province.toml"
    path.write_text(
        'id = "p"\nextends = "national-2017"\nname = "测试省"\n'
        "[precision]\ndisplay_cv_decimals = 4\ndisplay_value_decimals = 1\n",
        encoding="utf-8",
    )
    rules = load_rule_set(str(path))
    assert {"G9", "G12", "Q1", "S1"} <= rate_codes(rules) and "G7" not in rate_codes(rules)
    doc = _open_docx(self_evaluation_docx(county_json(), rules, generated_at=GENERATED))
    tables = _all_cell_texts(doc)
    items = next(t for t in tables if t[0] == ["代码", "项目", "结论", "数值", "标准", "说明"])
    g = {row[0]: row for row in items[1:]}
    assert g["G9"][3] == "90.9%" and g["G9"][4] == "85.0%" and g["G7"][3] == "0.9"
    cv_table = next(t for t in tables if t[0] == ["指标", "县域值", "差异系数", "限值", "结论"])
    assert cv_table[2][2] == "0.5018" and cv_table[1][1] == "1.1" and cv_table[1][3] == "≤ 0.5000"
    recognition = dict(row for row in next(t for t in tables if t[0] == ["项目", "内容"]))
    assert recognition["社会认可度"] == "91.3%"  # 0.9125 half-up at one decimal
    annex = _sheet(assessment_annex_xlsx(county_json(), rules), "评估结论", header_row=1)
    assert any("差异系数 4 位小数，其他 1 位" in str(d) for d in annex["说明"].to_list())


def test_the_cli_report_follows_the_standard_it_is_given(province: Any, synthetic: Any, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from youjun.cli import app
    from youjun.contract import COUNTY_SHEET, SCHOOL_SHEET
    from youjun.io.workbook import write_data_workbook

    schools, counties = synthetic
    workbook = tmp_path / "data.xlsx"
    write_data_workbook(workbook, {SCHOOL_SHEET: schools, COUNTY_SHEET: counties})
    rules_file = tmp_path / "province.toml"
    rules_file.write_text(PROVINCE, encoding="utf-8")
    code = counties["county_code"][0]
    for kind, target in (("report", tmp_path / "r.docx"), ("annex", tmp_path / "a.xlsx")):
        args = ["report", str(workbook), "-c", code, "-k", kind, "-s", str(rules_file), "-o", str(target)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    assert "不低于标准的 90%" in _resource_sentence(_open_docx((tmp_path / "r.docx").read_bytes()))
    conclusion = _sheet((tmp_path / "a.xlsx").read_bytes(), "评估结论", header_row=1)
    assert "不低于 90%" in conclusion["说明"].to_list()


# ----------------------------------------------------------------------------------------------------
# The web app's reviewed items come from the rule set as the documents' names do


def test_reviewed_items_are_derived_from_the_rule_set_in_force() -> None:
    from django.test import override_settings

    from youjun.errors import YoujunError
    from youjun.web.assessment import services
    from youjun.web.assessment.models import EVIDENCE_ITEMS, VETO_ITEMS

    with override_settings(YOUJUN_STANDARD="national-2017"):
        # kind = "evidence" or a verdict column (G14, G15 are county items a reviewer also judges); Q3 is judged
        # from school data only, so no verdict is asked for it
        assert tuple(EVIDENCE_ITEMS) == ("G1", "G2", "G10", "G14", "G15", "Q5", "Q7", "Q8")
        assert tuple(VETO_ITEMS) == ("V1", "V2", "V3", "V4", "V5", "V6") and "V7" not in VETO_ITEMS
        reviewed = services.reviewed_of(None, None)
        assert reviewed.evidence == tuple(EVIDENCE_ITEMS) and reviewed.findings == tuple(VETO_ITEMS)
        assert reviewed.verdict_columns["G14"] == "g14_verdict" and reviewed.finding_columns["V6"] == "v6_finding"
        services._check_item("G14", reviewed.evidence)
        with pytest.raises(YoujunError) as refused:
            services._check_item("V7", reviewed.findings, services._veto_message(services.rules_in_force()))
        message = refused.value.problems[0].message
        assert "V1、V2、V3、V4、V5、V6" in message and "V7 随评估结果自动判定" in message
    with override_settings(YOUJUN_STANDARD="basic-2012"):  # the 2012 method has no evidence items nor vetoes
        assert len(EVIDENCE_ITEMS) == 0 and "G1" not in EVIDENCE_ITEMS and not list(VETO_ITEMS)
        with pytest.raises(YoujunError):
            services._check_item("G1", services.reviewed_of(None, None).evidence)
