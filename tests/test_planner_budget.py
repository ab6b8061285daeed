"""The budget-limited planner: within a budget, the most units and CVs brought to the standard (then the least
spent), never making a passing CV fail; its claims are the engine's own figures."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from test_planner import _small_county, one_county
from youjun.cli import app
from youjun.engine.evaluate import evaluate_resources
from youjun.engine.planner import Limits, plan
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet


def _counts(schools: pl.DataFrame, rules: RuleSet) -> tuple[int, set[tuple[str, str]]]:
    ev = evaluate_resources(schools, rules)
    within = {
        (r["stage"], code)
        for r in ev.stages.iter_rows(named=True)
        for code in rules.indicators
        if r[f"cv_passed_{code}"] is True
    }
    return int(ev.units["passed"].sum()), within


def test_on_the_small_county_the_budget_buys_the_cheapest_unit(national: RuleSet) -> None:
    """甲 needs one room (80,000 元), 丙 two rooms and a teacher (280,000 元); all four cost 360,000 元 (the exhaustive
    test of test_planner). With 300,000 元 one of them can be fixed: 甲, the cheaper."""
    schools = _small_county()
    result = plan(schools, national, mode="budget", limits=Limits(budget=300_000))
    assert result.reached[:2] == (3, 4) and result.cost == pytest.approx(80_000)
    assert set(result.actions["school_name"].to_list()) == {"甲小学"}
    assert not result.passed_after
    assert _counts(result.applied, national)[0] == 3
    enough = plan(schools, national, mode="budget", limits=Limits(budget=360_000))
    assert enough.passed_after and enough.cost == pytest.approx(360_000) and enough.reached[:2] == (4, 4)


def test_a_budget_of_nothing_changes_nothing(national: RuleSet) -> None:
    schools = one_county(1, 11)
    result = plan(schools, national, mode="budget", limits=Limits(budget=0))
    assert result.actions.height == 0 and result.cost == 0
    assert result.reached[0] == _counts(schools, national)[0]


def test_within_a_budget_more_passes_and_no_passing_cv_fails(national: RuleSet) -> None:
    schools = one_county(3, 12).sort("school_id").head(100)
    full = plan(schools, national)
    units_before, within_before = _counts(schools, national)
    for share in (0.2, 0.6):
        budget = full.cost * share
        result = plan(schools, national, mode="budget", limits=Limits(budget=budget), time_limit=60)
        assert result.cost <= budget
        units, within = _counts(result.applied, national)
        assert within_before <= within  # a CV within its limit stays within it
        assert units >= units_before and (units, len(within)) == (result.reached[0], result.reached[2])
        assert result.gap <= 0.01
    big = plan(schools, national, mode="budget", limits=Limits(budget=full.cost * 1.5))
    assert big.passed_after and big.cost == pytest.approx(full.cost, rel=0.01)


def test_the_budget_mode_needs_a_budget(national: RuleSet) -> None:
    with pytest.raises(YoujunError, match="需要给出预算上限"):
        plan(_small_county(), national, mode="budget")


def test_the_command_line_says_what_the_budget_reaches(tmp_path: Path) -> None:
    source = tmp_path / "data.csv"
    made = CliRunner().invoke(app, ["synth", "--counties", "1", "--seed", "5", "--out", str(source)])
    assert made.exit_code == 0, made.output
    out = CliRunner().invoke(app, ["plan", str(source), "--mode", "budget", "--budget", "100000"])
    assert out.exit_code == 0, out.output
    assert "在预算内可使" in out.output and "个学校单元" in out.output
