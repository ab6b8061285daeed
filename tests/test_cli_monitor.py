"""``youjun monitor``: several years' files → the series and warnings the engine gives for the same years, as a
table, JSON (full precision) or the annex workbook; fewer than two years or a year not in the data is refused in
Chinese with exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from typer.testing import CliRunner

from youjun.cli import app
from youjun.engine.assessment import assess
from youjun.engine.monitoring import ROTATION_COLUMNS, Context, series, warnings
from youjun.errors import YoujunError
from youjun.io.reader import read_school_data
from youjun.io.synth_years import synth_years
from youjun.standards import load_rule_set

YEARS = range(2021, 2025)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("monitor")
    result = CliRunner().invoke(
        app, ["synth", "--counties", "5", "--seed", "7", "--years", "2021-2024", "--out", str(folder / "d.csv")]
    )
    assert result.exit_code == 0, result.output
    return sorted(folder.glob("d-20*.csv"))


def test_json_holds_the_engines_series_and_warnings(files: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["monitor", *map(str, files), "--format", "json", "--out", str(target)])
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["years"] == list(YEARS)

    rules = load_rule_set("national-2017")
    data = read_school_data(files)
    assert data.counties is not None
    live = {
        y: assess(data.schools.filter(pl.col("year") == y), data.counties.filter(pl.col("year") == y), rules)
        for y in YEARS
    }
    frames = series(live)
    rotation = data.counties.select(ROTATION_COLUMNS)
    expected = warnings(frames, rules, Context(schools=data.schools, rotation=rotation))
    assert expected.height > 0
    assert [(w["county_code"], w["year"], w["rule"], w["message"]) for w in document["warnings"]] == [
        (w["county_code"], w["year"], w["rule"], w["message"]) for w in expected.iter_rows(named=True)
    ]
    cvs = {(r["year"], r["county_code"], r["stage"], r["indicator"]): r["cv"] for r in document["indicators"]}
    for r in frames.indicators.iter_rows(named=True):
        assert cvs[(r["year"], r["county_code"], r["stage"], r["indicator"])] == r["cv"]  # full precision
    synthetic = synth_years(counties=5, years=YEARS, seed=7)
    assert {r["county_code"] for r in document["counties"]} == set(synthetic.schools[2024]["county_code"].to_list())


def test_table_and_workbook(files: list[Path], tmp_path: Path) -> None:
    shown = CliRunner().invoke(app, ["monitor", *map(str, files), "--years", "2022-2024", "--limit", "5"])
    assert shown.exit_code == 0, shown.output
    assert "2024 年度监测预警（2022–2024 年）" in shown.output and "共 5 个县（区）、3 个年度" in shown.output
    target = tmp_path / "m.xlsx"
    written = CliRunner().invoke(app, ["monitor", *map(str, files), "--format", "xlsx", "--out", str(target)])
    assert written.exit_code == 0, written.output
    book = fastexcel.read_excel(target)
    assert book.sheet_names == ["指标序列", "预警事项", "地区汇总"]


def test_refusals_reach_the_user_as_messages(files: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from youjun.cli import main

    cases = {
        tuple(str(f) for f in files if f.name.startswith("d-2021")): "至少需要两个年度",
        (*map(str, files), "--years", "2019-2024"): "数据中没有 2019、2020 年度",
        (*map(str, files), "--years", "二〇二四"): "无法识别",
    }
    for args, message in cases.items():
        sys.argv = ["youjun", "monitor", *args]
        with pytest.raises(SystemExit) as stopped:
            main()
        assert stopped.value.code == 1
        captured = capsys.readouterr()
        assert message in captured.err + captured.out and "Traceback" not in captured.err


def test_the_forecast_and_the_county_report(files: list[Path], tmp_path: Path) -> None:
    import io

    import docx

    from youjun.engine.forecast import forecast, project_enrolment

    folder = files[0].parent
    grades, births = folder / "d-分年级在校生.csv", folder / "d-出生人口.csv"
    target, report = tmp_path / "m.json", tmp_path / "r.docx"
    county = synth_years(counties=5, years=YEARS, seed=7).schools[2024]["county_code"][0]
    args = ["monitor", *map(str, files), "--grades", str(grades), "--births", str(births), "--horizon", "3"]
    args += ["--format", "json", "--out", str(target), "--county", county, "--report", str(report)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    synthetic = synth_years(counties=5, years=YEARS, seed=7)
    expected = forecast(
        synthetic.schools[2024], project_enrolment(synthetic.grades, synthetic.births, horizon=3), load_rule_set()
    )
    assert [
        (r["year"], r["county_code"], r["stage"], r["indicator"], r["cv"]) for r in document["forecast"]["cvs"]
    ] == [
        (r["year"], r["county_code"], r["stage"], r["indicator"], r["cv"]) for r in expected.cvs.iter_rows(named=True)
    ]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.read_bytes())).paragraphs)
    assert "年度监测报告" in text and "五、趋势预测" in text
    bad = tmp_path / "bad.csv"
    bad.write_text("统计年度,学校标识码,县级区划代码,一年级\n2024,x,130101,-3\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["monitor", *map(str, files), "--grades", str(bad)])
    assert refused.exit_code != 0
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"a," * 600_000 + b"\n")  # one line over the line-length limit: refused before parsing
    from youjun.cli_monitor import read_grades

    with pytest.raises(YoujunError) as caught:
        read_grades(huge)
    assert caught.value.problems[0].code == "line_too_long"
