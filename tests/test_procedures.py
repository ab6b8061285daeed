"""Recognition procedures as data: the shipped files load and name each year's national steps; a new year is a new
file; every mistake of a file is reported at once, in Chinese, with its key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from youjun.errors import YoujunError
from youjun.standards.procedures import (
    PROCEDURES_DIR,
    available_procedures,
    load_procedure,
    parse_procedure,
    procedure_for,
)

LOCAL = ["县级自评申请", "市级复核", "省级评估", "省级申报"]


@pytest.mark.parametrize(
    ("ref", "national"),
    [
        ("recognition-2023", ["质量监测", "社会认可度调查", "指标审核", "实地核查", "认定决定"]),
        ("recognition-2024", ["资格审查", "质量监测", "社会认可度调查", "指标审核", "核查评估", "认定决定"]),
        ("recognition-2025", ["资格审查", "质量监测", "社会认可度调查", "指标审核", "集中汇审", "认定决定"]),
    ],
)
def test_each_year_names_its_own_national_steps(ref: str, national: list[str]) -> None:
    p = load_procedure(ref)
    assert p.kind == "recognition" and p.min_basic_balance_years == 3
    assert [s.name for s in p.steps] == LOCAL + national
    assert p.steps[0].actor == "county" and "snapshot" in p.steps[0].needs
    assert p.steps[-1].kind == "decision" and {o.state for o in p.steps[-1].outcomes} == {
        "recognised",
        "not_recognised",
    }
    assert p.step("prefecture_review") is not None and p.step("prefecture_review").optional  # type: ignore[union-attr]


def test_a_year_without_its_own_file_follows_the_latest_earlier_one() -> None:
    assert procedure_for("recognition", 2026).id == "recognition-2025"  # type: ignore[union-attr]
    assert procedure_for("recognition", 2024).id == "recognition-2024"  # type: ignore[union-attr]
    assert procedure_for("recognition", 2022) is None
    assert procedure_for("recheck", 2030).id == "recheck-2022"  # type: ignore[union-attr]
    assert set(available_procedures()) >= {"recognition-2023", "recognition-2024", "recognition-2025", "recheck-2022"}


def test_a_new_year_is_a_new_file(tmp_path: Path) -> None:
    text = (PROCEDURES_DIR / "recognition-2025.toml").read_text(encoding="utf-8")
    text = text.replace('id = "recognition-2025"', 'id = "recognition-2027"').replace("year = 2025", "year = 2027")
    path = tmp_path / "recognition-2027.toml"
    path.write_text(text, encoding="utf-8")
    p = load_procedure(str(path))
    assert p.year == 2027 and len(p.steps) == 10


def test_every_mistake_of_a_file_is_reported_with_its_key() -> None:
    data = tomllib.loads((PROCEDURES_DIR / "recognition-2024.toml").read_text(encoding="utf-8"))
    data["procedure"]["kind"] = "recognise"
    data["steps"][0]["actor"] = "ministry"  # an application is the county's
    data["steps"][1]["outcomes"][0]["effect"] = "forward"
    data["steps"][2]["needs"] = ["photos"]
    data["steps"][3]["deadlne"] = "2025-06-30"
    data["steps"][-1]["outcomes"][0]["state"] = ""
    data["steps"].append(dict(data["steps"][4]))  # a duplicate, and a last step that goes on
    with pytest.raises(YoujunError) as raised:
        parse_procedure(data, "recognition-2024.toml")
    found = {p.location.field: p.message for p in raised.value.problems}
    assert "取值应为" in found["procedure.kind"]
    assert "只能由县级办理" in found["steps[0].actor"]
    assert "取值应为" in found["steps[1].outcomes[0].effect"]
    assert "未知的材料：photos" in found["steps[2].needs"]
    assert "deadline" in found["steps[3].deadlne"]
    assert "最终状态" in found["steps[9].outcomes[0].state"]
    assert "重复" in found["steps"]
    assert "没有下一环节" in found["steps[10].outcomes"]


def test_an_unknown_procedure_lists_the_known_ones() -> None:
    with pytest.raises(YoujunError, match=r"可用的程序：.*recognition-2024"):
        load_procedure("recognition-1999")
