"""Rule sets as data: loading, inheritance and validation messages with file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from youjun.errors import YoujunError
from youjun.standards import available_rule_sets, load_rule_set


def test_shipped_rule_sets_load() -> None:
    assert {"national-2017", "basic-2012", "example-province-2017"} <= set(available_rule_sets())
    for rid in available_rule_sets():
        assert load_rule_set(rid).id == rid


def test_national_rule_set_carries_the_2017_thresholds() -> None:
    rules = load_rule_set("national-2017")
    assert list(rules.indicators) == [f"R{k}" for k in range(1, 8)]
    assert rules.indicators["R1"].standard == {"primary": 4.2, "junior": 5.3}
    assert rules.indicators["R6"].standard == {"primary": 2000.0, "junior": 2500.0}
    assert rules.balance.cv_limit == {"primary": 0.5, "junior": 0.45}
    assert rules.school_rule is not None and (rules.school_rule.min_met, rules.school_rule.min_ratio) == (
        6,
        0.85,
    )
    assert rules.split.weights == {"primary": 1.0, "junior": 1.1, "senior": 1.32}
    assert rules.sections["guarantee"]["G7"]["min_funds_per_student"] == 6000


def test_provincial_variant_inherits_and_overrides_a_few_keys() -> None:
    rules = load_rule_set("example-province-2017")
    assert rules.sources == ("national-2017.toml", "example-province-2017.toml")
    assert rules.scope.include_private is False
    assert rules.sections["guarantee"]["G7"]["min_funds_per_student"] == 8000
    assert rules.sections["guarantee"]["G7"]["kind"] == "county"  # inherited
    assert rules.indicators["R1"].standard == {"primary": 4.2, "junior": 5.3}
    assert rules.precision.compare == "rounded"


def _write(tmp_path: Path, text: str, name: str = "variant.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rule_set_file_by_path_can_extend_a_shipped_one(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'id = "x"\nextends = "national-2017"\nname = "某省"\n[indicators.R6.standard]\nprimary = 2200\n',
    )
    rules = load_rule_set(path)
    assert rules.indicators["R6"].standard == {"primary": 2200.0, "junior": 2500.0}


def test_mistakes_are_all_reported_with_file_and_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'id = "bad"\nextends = "national-2017"\nname = "坏"\n'
        '[indicators.R1]\nstandard = { primary = -1, junior = 5.3 }\nnumerator = ["qualified_teacher"]\n'
        '[school_rule]\nmin_ratio = "85%"\n[balance]\ncv_limitt = 1\n',
    )
    with pytest.raises(YoujunError) as caught:
        load_rule_set(path)
    found = {(p.location.file, p.location.field) for p in caught.value.problems}
    assert ("variant.toml", "indicators.R1.standard.primary") in found
    assert ("variant.toml", "indicators.R1.numerator") in found
    assert ("variant.toml", "school_rule.min_ratio") in found
    assert ("variant.toml", "balance.cv_limitt") in found
    assert all(p.message for p in caught.value.problems)
    typo = next(p for p in caught.value.problems if p.location.field == "balance.cv_limitt")
    assert typo.message.startswith("未知的设置项（是否拼写错误？可用的设置项：cv_limit、")


def test_unknown_rule_set_lists_the_available_ones() -> None:
    with pytest.raises(YoujunError, match="national-2017"):
        load_rule_set("no-such-standard")


def test_inheritance_cycle_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    _write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(YoujunError, match="循环"):
        load_rule_set(tmp_path / "a.toml")


def test_toml_syntax_error_is_a_chinese_message(tmp_path: Path) -> None:
    with pytest.raises(YoujunError, match="格式错误"):
        load_rule_set(_write(tmp_path, "id = \n"))
