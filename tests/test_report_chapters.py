"""The self-evaluation report read as a county official reads it: the county's own chapters at their place, failing
school units with value, standard and shortfall, and no internal identifier anywhere on paper.

Every test opens the produced .docx (python-docx) or .xlsx (fastexcel) and reads its paragraphs, tables and cells.
"""

from __future__ import annotations

import io
import re
from copy import deepcopy
from datetime import datetime
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest
from docx import Document
from docx.oxml.ns import qn

from test_documents import county_json
from youjun.formatting import number, rule_number
from youjun.io.documents import assessment_annex_xlsx, self_evaluation_docx
from youjun.io.documents.chapters import CHAPTERS, PENDING, clean_text, paragraphs
from youjun.standards import available_rule_sets, load_rule_set

GENERATED = datetime(2025, 3, 1, 9, 30)
NATIONAL = load_rule_set("national-2017")


# ----------------------------------------------------------------------------------------------------
# Reading the document back in body order


def _blocks(data: bytes) -> list[tuple[str, Any]]:
    """The body in order: ("heading", text), ("bold", text), ("p", text) or ("table", rows of cell texts)."""
    doc = Document(io.BytesIO(data))
    out: list[tuple[str, Any]] = []
    for block in doc.element.body.iterchildren():
        if block.tag == qn("w:p"):
            text = "".join(t.text or "" for t in block.iter(qn("w:t")))
            if not text:
                continue
            style = block.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            if style is not None and style.get(qn("w:val")).startswith("Heading"):
                out.append(("heading", text))
            else:
                bold = any(r.find(f"{qn('w:rPr')}/{qn('w:b')}") is not None for r in block.iter(qn("w:r")))
                out.append(("bold" if bold else "p", text))
        elif block.tag == qn("w:tbl"):
            rows = [[_cell_text(tc) for tc in tr.iter(qn("w:tc"))] for tr in block.iter(qn("w:tr"))]
            out.append(("table", rows))
    return out


def _cell_text(tc: Any) -> str:
    """A cell's paragraphs, one line each."""
    return "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p")))


def _section(blocks: list[tuple[str, Any]], title: str) -> list[tuple[str, Any]]:
    """The blocks under the level-1 heading ending with ``title`` (一、基本情况 → "基本情况"), up to the next one."""
    start = next(i for i, (kind, text) in enumerate(blocks) if kind == "heading" and text.endswith("、" + title))
    end = next(
        (
            i
            for i in range(start + 1, len(blocks))
            if blocks[i][0] == "heading" and re.match(r"^[一二三四五六七八九十]+、|^附表", blocks[i][1])
        ),
        len(blocks),
    )
    return blocks[start + 1 : end]


def _texts(blocks: list[tuple[str, Any]]) -> list[str]:
    return [text for kind, text in blocks if kind != "table"]


def _all_text(data: bytes) -> list[str]:
    out: list[str] = []
    for kind, content in _blocks(data):
        if kind == "table":
            out += [cell for row in content for cell in row]
        else:
            out.append(content)
    return out


def _annex_cells(data: bytes) -> dict[str, list[str]]:
    reader = fastexcel.read_excel(data)
    out = {}
    for name in reader.sheet_names:
        frame = reader.load_sheet_by_name(name, header_row=None).to_polars()
        out[name] = [str(v) for row in frame.iter_rows() for v in row if v is not None]
    return out


NARRATIVE = {
    "overview": "鸠江区位于芜湖市北部，总面积 822 平方公里。\n\n全区义务教育学校 45 所。",
    "measures": "（一）强化政府责任\r\n区政府将优质均衡列入民生实事。\x07\n\t（二）加大投入\n三年投入 12.5 亿元。",
    "plans": "2025 年 8 月前新建第二实验小学。",
}


# ----------------------------------------------------------------------------------------------------
# The county's chapters


def test_the_chapters_stand_where_a_real_report_has_them() -> None:
    blocks = _blocks(self_evaluation_docx(county_json(), NATIONAL, narrative=NARRATIVE, generated_at=GENERATED))
    headings = [text for kind, text in blocks if kind == "heading" and "、" in text and not text.startswith("（")]
    assert headings == [
        "一、基本情况",
        "二、主要做法",
        "三、资源配置",
        "四、政府保障程度",
        "五、教育质量",
        "六、社会认可度",
        "七、一票否决事项",
        "八、评估结论",
        "九、存在的问题",
        "十、整改措施与计划",
    ]
    # 基本情况 opens with the county's own words, then the figures
    basic = _texts(_section(blocks, "基本情况"))
    assert basic[:2] == ["鸠江区位于芜湖市北部，总面积 822 平方公里。", "全区义务教育学校 45 所。"]
    assert basic[2].startswith("申报资格：")
    # 主要做法: one paragraph per line, numbered short lines bold, pasted control characters and tabs gone
    measures = _section(blocks, "主要做法")
    assert measures == [
        ("bold", "（一）强化政府责任"),
        ("p", "区政府将优质均衡列入民生实事。"),
        ("bold", "（二）加大投入"),
        ("p", "三年投入 12.5 亿元。"),
    ]
    # the conclusion comes before the problems and the plans, which the county has (partly) not written
    assert _texts(_section(blocks, "评估结论"))[0] == "评估结论：未达到优质均衡发展标准。"
    assert _texts(_section(blocks, "存在的问题")) == [PENDING]
    assert _texts(_section(blocks, "整改措施与计划")) == ["2025 年 8 月前新建第二实验小学。"]


def test_a_report_without_narrative_says_each_chapter_is_for_the_county_to_write() -> None:
    blocks = _blocks(self_evaluation_docx(county_json(), NATIONAL, generated_at=GENERATED))
    for chapter in CHAPTERS:
        section = _texts(_section(blocks, chapter.title))
        assert section[0] == PENDING, chapter.key
    assert sum(text == PENDING for text in _texts(blocks)) == len(CHAPTERS)


def test_the_cli_report_has_every_chapter_pending(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from youjun.cli import app
    from youjun.contract import COUNTY_SHEET, SCHOOL_SHEET
    from youjun.io.synth import generate
    from youjun.io.workbook import write_data_workbook

    data = generate(counties=2, seed=5, province="34")
    code = data.counties["county_code"][0]
    mine = pl.col("county_code") == code
    workbook = tmp_path / "data.xlsx"
    write_data_workbook(workbook, {SCHOOL_SHEET: data.schools.filter(mine), COUNTY_SHEET: data.counties.filter(mine)})
    target = tmp_path / "report.docx"
    result = CliRunner().invoke(app, ["report", str(workbook), "-c", code, "-o", str(target)])
    assert result.exit_code == 0, result.output
    blocks = _blocks(target.read_bytes())
    for chapter in CHAPTERS:
        assert _texts(_section(blocks, chapter.title))[0] == PENDING


def test_chapter_text_is_cleaned_and_split_into_paragraphs() -> None:
    assert clean_text("a\r\nb\rc\x0bd\x00e\tf  \n\n") == "a\nb\nc\nde f"
    assert paragraphs("\u3000\u3000首行缩进的段落。\n   \n第二段") == ["首行缩进的段落。", "第二段"]
    assert paragraphs("") == [] and paragraphs(" \n\t\n") == []


# ----------------------------------------------------------------------------------------------------
# Failing school units: value, standard, shortfall


def _gap(school_id: str, stage: str, code: str, value: float, standard: float, shortfall: float, unit: str) -> Any:
    return {
        "school_id": school_id,
        "stage": stage,
        "indicator": code,
        "value": value,
        "standard": standard,
        "ratio": value / standard,
        "shortfall": shortfall,
        "unit": unit,
        "boundary": False,
        "unit_passed": False,
    }


def _one_failing_unit() -> dict[str, Any]:
    """The hand-built county with its first failing unit missing R1 (whole teachers) and R4 (㎡), half-up cases."""
    county = deepcopy(county_json())
    ra = county["resource_allocation"]
    unit = next(u for u in ra["units"] if not u["passed"])
    unit["met"] = {c: c not in ("R1", "R4") for c in unit["met"]}
    unit["values"] |= {"R1": 3.405, "R4": 4.125}
    sid = unit["school_id"]
    ra["shortfalls"] = [g for g in ra["shortfalls"] if g["school_id"] != sid] + [
        _gap(sid, "primary", "R4", 4.125, 4.5, 190.125, "㎡"),
        _gap(sid, "primary", "R1", 3.405, 4.2, 6.0, "人"),
    ]
    return county


def _failing_table(blocks: list[tuple[str, Any]], stage: str = "小学") -> list[list[str]]:
    index = next(i for i, (kind, text) in enumerate(blocks) if kind == "p" and text == f"{stage}未达标评估单元")
    kind, rows = blocks[index + 1]
    assert kind == "table"
    return list(rows)


def test_a_failing_unit_row_shows_value_standard_and_shortfall_half_up() -> None:
    county = _one_failing_unit()
    unit = next(u for u in county["resource_allocation"]["units"] if not u["passed"])
    blocks = _blocks(self_evaluation_docx(county, NATIONAL, generated_at=GENERATED))
    table = _failing_table(blocks)
    assert table[0] == ["学校", "在校生数", "未达标指标：数值（标准，达到标准需增加）"]
    row = next(r for r in table[1:] if r[0] == unit["school_name"])
    # in the rule set's order, one line each; 4.125 → 4.13 and 190.125 → 190.13 (half-up, not half-even)
    assert row[2].split("\n") == [
        "R1 每百名学生拥有高于规定学历教师数 3.41 人（标准 4.2 人，需增加 6 人）",
        "R4 生均教学及辅助用房面积 4.13 ㎡（标准 4.5 ㎡，需增加 190.13 ㎡）",
    ]
    assert any("「需增加」为该校该学段达到标准还需增加" in t for t in _texts(blocks))
    appendix = next(content for kind, content in reversed(blocks) if kind == "table")
    listed = next(r for r in appendix if r[0] == unit["school_id"])
    assert listed[2] == "资源配置（小学）" and listed[4].split("\n")[1:] == row[2].split("\n")


def test_every_failing_unit_of_the_engine_shows_the_engines_shortfalls() -> None:
    from youjun.engine.assessment import assess
    from youjun.io.evaluation_json import to_dict
    from youjun.io.synth import generate

    data = generate(counties=6, seed=11, province="34")
    code = data.schools.group_by("county_code").len().sort(["len", "county_code"])["county_code"][-1]
    mine = pl.col("county_code") == code
    county = to_dict(assess(data.schools.filter(mine), data.counties.filter(mine), NATIONAL))["counties"][0]
    ra = county["resource_allocation"]
    failing = [u for u in ra["units"] if u["passed"] is False]
    assert failing, "the synthetic county has failing units"
    blocks = _blocks(self_evaluation_docx(county, NATIONAL, generated_at=GENERATED))
    gaps = {(g["school_id"], g["stage"], g["indicator"]): g for g in ra["shortfalls"]}
    for stage, label in (("primary", "小学"), ("junior", "初中")):
        units = [u for u in failing if u["stage"] == stage]
        if not units:
            continue
        rows = _failing_table(blocks, label)[1:]
        assert [r[0] for r in rows] == [u["school_name"] for u in units]
        for unit, row in zip(units, rows, strict=True):
            lines = row[2].split("\n")
            unmet = [c for c in NATIONAL.indicators if unit["met"].get(c) is False]
            assert len(lines) == len(unmet)
            for code_, line in zip(unmet, lines, strict=True):
                gap = gaps[(unit["school_id"], stage, code_)]
                ind = NATIONAL.indicators[code_]
                shortfall = number(gap["shortfall"], 0 if ind.integral else 2, unit=gap["unit"])
                assert line == (
                    f"{code_} {ind.name} {number(gap['value'], 2, unit=ind.unit)}"
                    f"（标准 {rule_number(gap['standard'], 0, unit=ind.unit)}，需增加 {shortfall}）"
                )
    # the annex writes the same lines for the same units
    schools = fastexcel.read_excel(assessment_annex_xlsx(county, NATIONAL)).load_sheet_by_name("不达标学校")
    details = [d for d in schools.to_polars()["说明"].to_list() if d.startswith("未达标指标：")]
    assert len(details) == len(failing)
    assert any("需增加" in d and "（标准 " in d for d in details)


def test_a_boundary_gap_is_marked_and_a_missing_shortfall_is_not_invented() -> None:
    county = _one_failing_unit()
    ra = county["resource_allocation"]
    unit = next(u for u in ra["units"] if not u["passed"])
    r4 = next(g for g in ra["shortfalls"] if g["school_id"] == unit["school_id"] and g["indicator"] == "R4")
    r4["boundary"] = True
    ra["shortfalls"] = [g for g in ra["shortfalls"] if g["indicator"] != "R1" or g["school_id"] != unit["school_id"]]
    row = next(
        r
        for r in _failing_table(_blocks(self_evaluation_docx(county, NATIONAL, generated_at=GENERATED)))
        if r[0] == unit["school_name"]
    )
    r1, r4_line = row[2].split("\n")
    # without the engine's entry: the rule set's standard, and no shortfall made up
    assert r1 == "R1 每百名学生拥有高于规定学历教师数 3.41 人（标准 4.2 人）"
    assert r4_line.endswith("需增加 190.13 ㎡）（⚠临界：显示值与标准相同，全精度未达到）")


def test_the_annex_lists_shortfalls_with_names_and_failing_units_with_their_gaps() -> None:
    county = _one_failing_unit()
    data = assessment_annex_xlsx(county, NATIONAL)
    gaps = fastexcel.read_excel(data).load_sheet_by_name("差距清单").to_polars()
    assert "指标名称" in gaps.columns
    row = gaps.filter(pl.col("指标") == "R4").row(0, named=True)
    assert row["指标名称"] == "生均教学及辅助用房面积" and row["达到标准还需"] == 190.125 and row["标准"] == 4.5
    schools = fastexcel.read_excel(data).load_sheet_by_name("不达标学校").to_polars()
    unit = next(u for u in county["resource_allocation"]["units"] if not u["passed"])
    detail = schools.filter(pl.col("学校标识码") == unit["school_id"])["说明"][0]
    assert detail == (
        "未达标指标：R1 每百名学生拥有高于规定学历教师数 3.41 人（标准 4.2 人，需增加 6 人）；"
        "R4 生均教学及辅助用房面积 4.13 ㎡（标准 4.5 ㎡，需增加 190.13 ㎡）"
    )


# ----------------------------------------------------------------------------------------------------
# No internal identifiers on paper

#: A rule-set id, a JSON path or key (resource_allocation/units, g1_verdict), an upload reference.
_INTERNAL = re.compile(r"[a-z]+[_/][a-z0-9_/]+|upload:|\b[a-z]+-\d{4}\b")


@pytest.fixture(scope="module")
def engine_county() -> dict[str, Any]:
    from youjun.engine.assessment import assess
    from youjun.io.evaluation_json import to_dict
    from youjun.io.synth import generate

    data = generate(counties=6, seed=11, province="34")
    code = data.schools.group_by("county_code").len().sort(["len", "county_code"])["county_code"][-1]
    mine = pl.col("county_code") == code
    county: dict[str, Any] = to_dict(assess(data.schools.filter(mine), data.counties.filter(mine), NATIONAL))[
        "counties"
    ][0]
    county |= {"standard": "national-2017", "standard_name": NATIONAL.name}  # as the web application stores it
    return county


def test_no_rule_set_id_or_json_path_in_the_report(engine_county: dict[str, Any]) -> None:
    texts = _all_text(self_evaluation_docx(engine_county, NATIONAL, narrative=NARRATIVE, generated_at=GENERATED))
    assert engine_county["verdict"]["reasons"], "the county has reasons, each with a JSON path"
    leaks = [t for t in texts if _INTERNAL.search(t) or any(rid in t for rid in available_rule_sets())]
    assert leaks == []
    assert "评估依据：县域义务教育优质均衡发展督导评估办法（教督〔2017〕6号）" in texts


def test_no_rule_set_id_or_json_path_in_the_annex(engine_county: dict[str, Any]) -> None:
    cells = _annex_cells(assessment_annex_xlsx(engine_county, NATIONAL))
    leaks = {
        sheet: [c for c in found if _INTERNAL.search(c) or any(rid in c for rid in available_rule_sets())]
        for sheet, found in cells.items()
    }
    assert {sheet: found for sheet, found in leaks.items() if found} == {}
    conclusion = fastexcel.read_excel(assessment_annex_xlsx(engine_county, NATIONAL))
    sheet = conclusion.load_sheet_by_name("评估结论", header_row=1).to_polars()
    where = dict(zip(sheet["说明"].to_list(), sheet["详见"].to_list(), strict=True))
    reasons = engine_county["verdict"]["reasons"]
    for reason in reasons:
        part, _, rest = reason["ref"].partition("/")
        if part == "government_guarantee":
            assert where[reason["message"]] == f"「政府保障」工作表 {rest}"
        elif part == "education_quality":
            assert where[reason["message"]] == f"「教育质量」工作表 {rest}"
        elif reason["ref"] == "resource_allocation/units":
            assert where[reason["message"]] == "「学校单元」「差距清单」工作表"
    assert sheet.filter(pl.col("项目") == "评估依据")["说明"][0] == NATIONAL.name
