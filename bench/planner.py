"""Planner benchmark: synthetic counties of 20, 100 and 300 schools (the first schools, by id, of 8 synthetic
counties taken as one county) and larger ones (all schools of 3, 8 and 9 synthetic counties), each planned to least
cost by the solver (time, proven gap, cost) and by the greedy baseline that fixes the worst indicator first (its
extra cost). Every plan is checked by the engine.

Prints a table and writes ``bench/out/planner.json``. Usage: ``python bench/planner.py [--runs 3 --gap 0.01]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import polars as pl

from youjun.engine.evaluate import evaluate_resources
from youjun.engine.planner import greedy, plan
from youjun.io.synth import generate
from youjun.standards import load_rule_set

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
#: (synthetic counties, seed, schools kept — None: all)
CASES = ((8, 13, 20), (8, 13, 100), (8, 13, 300), (3, 12, None), (8, 13, None), (9, 15, None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gap", type=float, default=0.01, help="relative gap at which the solver stops")
    args = parser.parse_args()
    rules = load_rule_set()
    rows = []
    for counties, seed, keep in CASES:
        schools = generate(counties, seed).schools.with_columns(
            pl.lit("340207").alias("county_code"), pl.lit("示例区").alias("county_name")
        )
        if keep is not None:
            schools = schools.sort("school_id").head(keep)
        units = evaluate_resources(schools, rules).units
        times, result = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            result = plan(schools, rules, time_limit=60, gap=args.gap)
            times.append(time.perf_counter() - started)
        assert result is not None
        assert bool(evaluate_resources(result.applied, rules).counties["passed"].all())
        started = time.perf_counter()
        baseline = greedy(schools, rules)
        greedy_s = time.perf_counter() - started
        row = {
            "schools": schools.height,
            "units": units.height,
            "multi_stage": schools.filter((pl.col("students_primary") > 0) & (pl.col("students_junior") > 0)).height,
            "best_s": min(times),
            "median_s": statistics.median(times),
            "gap": result.gap,
            "status": result.status,
            "cost": result.cost,
            "greedy_cost": baseline,
            "greedy_extra": baseline / result.cost - 1 if result.cost else 0.0,
            "greedy_s": greedy_s,
            "actions": result.actions.height,
        }
        rows.append(row)
        print(
            f"{row['schools']:>4} schools ({row['units']} units, {row['multi_stage']} multi-stage): "
            f"{row['best_s']:.2f} s best / {row['median_s']:.2f} s median, gap {row['gap']:.4%}, {row['status']}, "
            f"cost {row['cost']:,.0f} 元; greedy {row['greedy_cost']:,.0f} 元 (+{row['greedy_extra']:.1%})"
        )
    rows += rotation(rules, args.runs)
    rows += budget(rules)
    OUT.mkdir(exist_ok=True)
    (OUT / "planner.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")


def rotation(rules: object, runs: int) -> list[dict[str, object]]:
    """Teacher rotation on the 100- and 300-school counties once their buildings, grounds, equipment and rooms are
    brought to the standard (the cost plan's non-teacher additions applied) and every third school has lost backbone
    and PE teachers: the rotation plan (fewest moves, no hiring); and the combined plan (moves first, then hires)
    on the same data."""
    from youjun.engine.planner import apply_plan

    out: list[dict[str, object]] = []
    for keep in (100, 300):
        schools = (
            generate(8, 13)
            .schools.with_columns(pl.lit("340207").alias("county_code"), pl.lit("示例区").alias("county_name"))
            .sort("school_id")
            .head(keep)
        )
        full = plan(schools, rules, time_limit=60, gap=0.01)  # type: ignore[arg-type]
        built = full.actions.filter(~pl.col("lever").str.ends_with("_teacher"))
        ready = apply_plan(schools, built.select("school_id", "stage", "lever", "amount"))
        # every third school loses 60 % of its backbone and half its PE teachers (they left for the towns): the
        # county has enough of both, in the wrong schools
        third = pl.int_range(pl.len()) % 3 == 0
        ready = ready.with_columns(
            pl.when(third).then((pl.col(c) * f).floor().cast(pl.Int64)).otherwise(pl.col(c)).alias(c)
            for c, f in (("backbone_teachers_primary", 0.4), ("pe_teachers_primary", 0.5))
        )
        for mode, data in (("rotation", ready), ("combined", ready)):
            times, result = [], None
            for _ in range(runs):
                started = time.perf_counter()
                result = plan(data, rules, mode=mode, time_limit=60, gap=0.01)  # type: ignore[arg-type]
                times.append(time.perf_counter() - started)
            assert result is not None and bool(evaluate_resources(result.applied, rules).counties["passed"].all())  # type: ignore[arg-type]
            moved = result.moves.filter(~pl.col("exchange"))["count"].sum()
            total, backbone = result.rotated
            row = {
                "schools": keep,
                "mode": mode,
                "best_s": min(times),
                "median_s": statistics.median(times),
                "gap": result.gap,
                "status": result.status,
                "moves": int(moved),
                "rotated": total,
                "backbone": backbone,
                "cost": result.cost,
            }
            out.append(row)
            print(
                f"{keep:>4} schools, {mode}: {row['best_s']:.2f} s best / {row['median_s']:.2f} s median, gap "
                f"{row['gap']:.4%}, {row['status']}; {row['moves']} moves, {total} rotated ({backbone} backbone), "
                f"hires {row['cost']:,.0f} 元 (hiring alone: {full.cost:,.0f} 元 with buildings)"
            )
    return out


def budget(rules: object) -> list[dict[str, object]]:
    """The budget-limited variant on the 100- and 300-school counties at 25 %, 50 %, 90 % and 110 % of the
    least-cost plan: units and CVs that pass (the engine's count), spent, time, status and proven gap."""
    from youjun.engine.planner import Limits
    from youjun.standards.model import RuleSet

    assert isinstance(rules, RuleSet)
    schools = generate(8, 13).schools.with_columns(
        pl.lit("340207").alias("county_code"), pl.lit("示例区").alias("county_name")
    )
    out: list[dict[str, object]] = []
    for keep in (100, 300):
        county = schools.sort("school_id").head(keep)
        full = plan(county, rules)
        for share in (0.25, 0.5, 0.9, 1.1):
            started = time.perf_counter()
            result = plan(county, rules, mode="budget", limits=Limits(budget=full.cost * share))
            seconds = time.perf_counter() - started
            units_ok, units, cvs_ok, cvs = result.reached
            row = {"case": "budget", "schools": keep, "share": share, "s": seconds, "status": result.status,
                   "gap": result.gap, "cost": result.cost, "units_ok": units_ok, "units": units, "cvs_ok": cvs_ok,
                   "cvs": cvs}  # fmt: skip
            out.append(row)
            print(
                f"{keep:>4} schools, budget {share:.0%} of {full.cost:,.0f} 元: {seconds:.1f} s, {result.status}, gap "
                f"{result.gap:.2%}; {units_ok}/{units} units, {cvs_ok}/{cvs} CVs, spent {result.cost:,.0f} 元"
            )
    return out


if __name__ == "__main__":
    main()
