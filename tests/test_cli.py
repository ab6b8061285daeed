"""The ``youjun`` command as a user runs it: exit codes, Chinese reports, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from conftest import frame, school
from youjun.contract import SCHOOL_BY_KEY, SCHOOL_COLUMNS
from youjun.io.synth import generate, write_csv


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "youjun.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def province_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "province.csv"
    write_csv(generate(4, seed=7, province="34").schools, path)
    return path


def _csv(tmp_path: Path, rows: list[dict[str, object]], name: str = "schools.csv") -> Path:
    path = tmp_path / name
    frame(rows).rename({c.key: c.header for c in SCHOOL_COLUMNS}).write_csv(path)
    return path


def test_template_writes_the_blank_workbook(tmp_path: Path) -> None:
    target = tmp_path / "模板.xlsx"
    result = run("template", target)
    assert result.returncode == 0
    sheets = fastexcel.read_excel(target).sheet_names
    assert {"学校", "县级指标", "填表说明"} <= set(sheets)


def test_check_accepts_a_valid_file(province_csv: Path) -> None:
    result = run("check", province_csv)
    assert result.returncode == 0
    assert "校验通过" in result.stdout


def test_evaluate_json_to_stdout_follows_the_contract(province_csv: Path) -> None:
    result = run("evaluate", province_csv, "--format", "json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and len(doc["counties"]) == 4
    assert all("resource_allocation" in c for c in doc["counties"])


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the terminal tables, as lists of stripped cells."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")] for line in text.splitlines() if "│" in line]


def summary_rows(text: str) -> dict[str, list[str]]:
    """The rows of the county summary (年度, 代码, 县（区）, 评估单元, 达标单元, 差异系数超限, 结论) by county code."""
    return {row[1]: row for row in table_rows(text) if len(row) == 7 and row[0].isdigit()}


def test_evaluate_table_names_counties_and_verdicts(province_csv: Path) -> None:
    result = run("evaluate", province_csv)
    assert result.returncode == 0
    assert "县域资源配置评估汇总" in result.stdout
    doc = json.loads(run("evaluate", province_csv, "-f", "json").stdout)
    rows = summary_rows(result.stdout)
    assert sorted(rows) == sorted(c["county_code"] for c in doc["counties"])
    for county in doc["counties"]:
        ra = county["resource_allocation"]
        stages = ra["stages"].values()
        over = sum(not ok for stage in stages for ok in stage["cv_passed"].values())
        assert rows[county["county_code"]] == [
            str(county["year"]),
            county["county_code"],
            county["county_name"],
            str(sum(s["units"] for s in stages)),
            str(sum(s["units_passed"] for s in stages)),
            str(over),
            "达标" if ra["passed"] else "未达标",
        ]
    passed = sum(c["resource_allocation"]["passed"] for c in doc["counties"])
    assert f"{passed} / {len(doc['counties'])} 个县（区）资源配置达标。" in result.stdout


def test_evaluate_table_shows_each_verdict_in_its_row(tmp_path: Path) -> None:
    """Two counties of two 500-pupil schools: identical schools pass; a school with 1 teacher and 1 room fails.

    The failing county: R1 6.0 and 0.2 per hundred give CV 5.8 ÷ 6.2, R7 2.8 and 0.2 give 2.6 ÷ 3.0, both over 0.50.
    """
    rows = [
        school(school_id="3402070001"),
        school(school_id="3402070002"),
        school(school_id="3402080001", county_code="340208", county_name="另一区"),
        school(
            school_id="3402080002",
            county_code="340208",
            county_name="另一区",
            qualified_teachers_primary=1,
            multimedia_rooms=1,
        ),
    ]
    result = run("evaluate", _csv(tmp_path, rows))
    assert result.returncode == 0, result.stderr
    assert summary_rows(result.stdout) == {
        "340207": ["2024", "340207", "示例区", "2", "2", "0", "达标"],
        "340208": ["2024", "340208", "另一区", "2", "1", "2", "未达标"],
    }
    assert "1 / 2 个县（区）资源配置达标。" in result.stdout
    assert "示例区（340207，2024 年）资源配置：达标" in result.stdout
    assert "另一区（340208，2024 年）资源配置：未达标" in result.stdout


def test_evaluate_xlsx_report_opens_with_every_sheet(province_csv: Path, tmp_path: Path) -> None:
    target = tmp_path / "报告.xlsx"
    result = run("evaluate", province_csv, "--format", "xlsx", "--out", target)
    assert result.returncode == 0
    reader = fastexcel.read_excel(target)
    assert reader.sheet_names == ["县域汇总", "学校单元", "差距清单", "影响最大学校", "不纳入评估学校", "评估规则"]
    units = reader.load_sheet("学校单元").to_polars()
    assert units.height == len(
        json.loads(run("evaluate", province_csv, "-f", "json").stdout)["counties"][0]["resource_allocation"]["units"]
    ) + sum(
        len(c["resource_allocation"]["units"])
        for c in json.loads(run("evaluate", province_csv, "-f", "json").stdout)["counties"][1:]
    )


def test_evaluate_exits_zero_when_the_county_fails(tmp_path: Path) -> None:
    path = _csv(tmp_path, [school(), school(school_id="b", qualified_teachers_primary=1, multimedia_rooms=1)])
    result = run("evaluate", path, "-f", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["counties"][0]["resource_allocation"]["passed"] is False


def test_evaluate_with_the_2012_standard_reports_the_composite(province_csv: Path) -> None:
    result = run("evaluate", province_csv, "--standard", "basic-2012", "-f", "json")
    assert result.returncode == 0
    stage = json.loads(result.stdout)["counties"][0]["resource_allocation"]["stages"]["primary"]
    assert set(stage["cv"]) == {f"K{k}" for k in range(1, 9)}
    assert stage["composite"] == pytest.approx(sum(stage["cv"].values()) / 8)


def _malformed(tmp_path: Path) -> Path:
    rows = [
        school(school_id="a"),
        school(school_id="a"),  # duplicate id
        school(school_id="c", teaching_aux_area=-5.0),  # negative area
        school(school_id="d", pe_teachers_primary=99),  # more PE teachers than teachers
    ]
    df = frame(rows).rename({c.key: c.header for c in SCHOOL_COLUMNS})
    df = df.with_columns(pl.col(SCHOOL_BY_KEY["students_primary"].header).cast(pl.String))
    df = df.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("五百"))
        .otherwise(pl.col(SCHOOL_BY_KEY["students_primary"].header))
        .alias(SCHOOL_BY_KEY["students_primary"].header)
    ).drop(SCHOOL_BY_KEY["multimedia_rooms"].header)
    path = tmp_path / "bad.csv"
    df.write_csv(path)
    return path


def test_malformed_workbook_gives_a_complete_chinese_report_and_exit_1(tmp_path: Path) -> None:
    result = run("check", _malformed(tmp_path))
    assert result.returncode == 1
    text = result.stdout
    assert "网络多媒体教室数(间)" in text  # missing required column
    assert "校验未通过" in text
    evaluated = run("evaluate", _malformed(tmp_path))
    assert evaluated.returncode == 1
    assert "未进行处理" in evaluated.stderr


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("fake.xlsx", b"this is not a workbook at all"),
        ("blank.xlsx", b""),
        ("header-only.csv", ",".join(c.header for c in SCHOOL_COLUMNS).encode()),
    ],
)
def test_unusable_files_are_refused_in_chinese(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for command in ("check", "evaluate"):
        result = run(command, path)
        assert result.returncode == 1
        assert any("\u4e00" <= ch <= "\u9fff" for ch in result.stdout + result.stderr)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    result = run("evaluate", tmp_path / "nope.xlsx")
    assert result.returncode == 1
    assert "不存在" in result.stderr


def test_unknown_standard_lists_the_available_ones(province_csv: Path) -> None:
    result = run("evaluate", province_csv, "--standard", "nowhere-2030")
    assert result.returncode == 1
    assert "national-2017" in result.stderr


def test_usage_mistakes_are_explained_in_chinese() -> None:
    result = run("evaluate", "--no-such-option")
    assert result.returncode == 2
    assert "命令用法有误" in result.stderr


def test_standards_lists_the_shipped_rule_sets() -> None:
    result = run("standards")
    assert result.returncode == 0
    assert "example-province-2017" in result.stdout and "national-2017" in result.stdout


def test_synth_writes_a_deterministic_csv(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("synth", "--counties", "2", "--seed", "3", "--out", first).returncode == 0
    assert run("synth", "--counties", "2", "--seed", "3", "--out", second).returncode == 0
    assert first.read_bytes() == second.read_bytes()


@pytest.fixture(scope="module")
def with_county_sheet(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("full")
    data = generate(2, seed=9, province="34")
    write_csv(data.schools, folder / "学校.csv")
    write_csv(data.counties, folder / "县级指标.csv")  # type: ignore[arg-type]
    return [folder / "学校.csv", folder / "县级指标.csv"]


def test_evaluate_with_the_county_sheet_adds_every_section(with_county_sheet: list[Path]) -> None:
    result = run("evaluate", *with_county_sheet, "--format", "json")
    assert result.returncode == 0
    for county in json.loads(result.stdout)["counties"]:
        assert list(county)[3:] == [
            "resource_allocation",
            "government_guarantee",
            "education_quality",
            "social_recognition",
            "vetoes",
            "verdict",
        ]
        assert county["verdict"]["conclusion"] in (
            "达到优质均衡发展标准",
            "未达到优质均衡发展标准",
            "数据不足，暂不能作出结论",
        )
    table = run("evaluate", *with_county_sheet, "--limit", "2")
    assert "县域义务教育优质均衡发展综合评估" in table.stdout and "个县（区）达到优质均衡发展标准" in table.stdout


@pytest.mark.parametrize(("kind", "suffix"), [("report", ".docx"), ("annex", ".xlsx"), ("application", ".docx")])
def test_report_writes_each_document_for_one_county(
    with_county_sheet: list[Path], tmp_path: Path, kind: str, suffix: str
) -> None:
    code = pl.read_csv(with_county_sheet[1], schema_overrides={"县级区划代码": pl.String})["县级区划代码"][0]
    target = tmp_path / f"out{suffix}"
    result = run("report", *with_county_sheet, "--county", code, "--kind", kind, "--out", target)
    assert result.returncode == 0, result.stderr
    assert "已生成" in result.stdout
    if suffix == ".xlsx":
        assert "评估结论" in fastexcel.read_excel(target).sheet_names
    else:
        import docx  # type: ignore[import-untyped]

        text = "\n".join(p.text for p in docx.Document(str(target)).paragraphs)
        assert ("自评报告" if kind == "report" else "申报表") in text


def test_report_refuses_an_unknown_county_or_missing_county_sheet(with_county_sheet: list[Path]) -> None:
    unknown = run("report", *with_county_sheet, "--county", "999999")
    assert unknown.returncode == 1 and "数据中没有该县（区）" in unknown.stderr + unknown.stdout
    no_sheet = run("report", with_county_sheet[0], "--county", "340101")
    assert no_sheet.returncode == 1 and "县级指标" in no_sheet.stderr + no_sheet.stdout
