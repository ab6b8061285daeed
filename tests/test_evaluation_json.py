"""The evaluation JSON follows data-contract.md §2: shape, full precision, nulls, every unit listed."""

from __future__ import annotations

import io
import json
import math

import pytest

from conftest import frame, school
from youjun.engine import evaluate_resources
from youjun.io.evaluation_json import to_dict, write_json
from youjun.standards.model import RuleSet


@pytest.fixture
def county_rows() -> list[dict[str, object]]:
    return [
        school(school_id="a"),
        school(
            school_id="b",
            school_type="九年一贯制学校",
            students_junior=300,
            teachers_junior=25,
            qualified_teachers_junior=20,
            backbone_teachers_junior=4,
            pe_teachers_junior=2,
            music_teachers_junior=1,
            art_teachers_junior=1,
        ),
        school(school_id="c", qualified_teachers_primary=10, multimedia_rooms=5),
        school(school_id="d", school_type="教学点", students_primary=30),
        school(school_id="e", county_code="340208", county_name="另一区"),
    ]


def test_json_has_the_contract_shape(county_rows: list[dict[str, object]], national: RuleSet) -> None:
    doc = to_dict(evaluate_resources(frame(county_rows), national))
    assert doc["schema_version"] == 1
    assert doc["standard"] == "national-2017"
    assert [c["county_code"] for c in doc["counties"]] == ["340207", "340208"]
    county = doc["counties"][0]
    assert {"county_code", "county_name", "year", "resource_allocation"} <= set(county)
    ra = county["resource_allocation"]
    assert ra["passed"] is False
    assert list(ra["stages"]) == ["primary", "junior"]
    primary = ra["stages"]["primary"]
    primary_units = [u for u in ra["units"] if u["stage"] == "primary"]
    assert primary["units"] == len(primary_units) == 3
    assert primary["units_passed"] == sum(u["passed"] for u in primary_units)
    for key in ("county_value", "cv", "cv_passed"):
        assert list(primary[key]) == [f"R{k}" for k in range(1, 8)]
    assert {u["school_id"] for u in ra["units"]} == {"a", "b", "c"}
    assert len(ra["units"]) == 4  # school b gives a primary and a junior unit
    unit = next(u for u in ra["units"] if u["school_id"] == "c")
    assert {"school_id", "stage", "students", "values", "met", "passed"} <= set(unit)
    assert unit["passed"] is False
    gaps = {(g["school_id"], g["stage"], g["indicator"]): g for g in ra["shortfalls"]}
    assert gaps["c", "primary", "R1"]["shortfall"] == 11.0
    assert gaps["c", "primary", "R1"]["unit"] == "人" and gaps["c", "primary", "R1"]["unit_passed"] is False
    assert ("c", "primary", "R2") not in gaps
    assert not any(school == "a" for school, _, _ in gaps)
    assert ra["excluded"] == [{"school_id": "d", "school_name": "示例小学", "reason": "教学点在校生不足50人"}]


def test_json_values_are_full_precision(county_rows: list[dict[str, object]], national: RuleSet) -> None:
    ev = evaluate_resources(frame(county_rows), national)
    doc = to_dict(ev)
    stage = ev.stages.filter(ev.stages["county_code"] == "340207").sort("stage", descending=True).row(0, named=True)
    assert doc["counties"][0]["resource_allocation"]["stages"]["primary"]["cv"]["R1"] == stage["cv_R1"]
    unit = ev.units.row(0, named=True)
    first = doc["counties"][0]["resource_allocation"]["units"][0]
    assert first["values"]["R4"] == unit["value_R4"]


def test_stage_without_units_is_absent_and_undefined_cv_is_null(national: RuleSet) -> None:
    rows = [school(school_id=f"s{i}", backbone_teachers_primary=0) for i in range(2)]
    doc = to_dict(evaluate_resources(frame(rows), national))
    stages = doc["counties"][0]["resource_allocation"]["stages"]
    assert list(stages) == ["primary"]
    assert stages["primary"]["cv"]["R2"] is None
    assert stages["primary"]["cv_passed"]["R2"] is False


def test_written_json_parses_and_equals_the_dict(county_rows: list[dict[str, object]], national: RuleSet) -> None:
    ev = evaluate_resources(frame(county_rows), national)
    buffer = io.StringIO()
    write_json(ev, buffer)
    parsed = json.loads(buffer.getvalue())
    assert parsed == to_dict(ev)
    assert not any(isinstance(v, float) and math.isnan(v) for v in _leaves(parsed))


def test_chinese_text_is_written_as_utf8_not_escaped(county_rows: list[dict[str, object]], national: RuleSet) -> None:
    buffer = io.StringIO()
    write_json(evaluate_resources(frame(county_rows), national), buffer)
    assert "示例区" in buffer.getvalue()
    assert "教学点在校生不足50人" in buffer.getvalue()


def _leaves(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return [node]
