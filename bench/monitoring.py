"""Annual monitoring benchmark: series and warnings over several years of national synthetic data.

Generates each year with the synthetic module (2,900 counties, ~200,000 schools a year, a seed per year), evaluates
each year with the engine, then times only ``series`` (stacking included) and ``warnings`` (every rule of the
national rule set, with county statuses, the school rows and the county sheets' rotation figures as context).
Prints the phases, the rows per second and the warnings per rule; writes ``bench/out/monitoring.json``.
Usage: ``python bench/monitoring.py [--counties 2900 --years 7 --runs 3]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
#: The school columns the size and class rules read (the rest of the school rows is not kept).
SCHOOL_COLUMNS = [
    "year",
    "county_code",
    "county_name",
    "school_id",
    "school_name",
    "school_type",
    "students_primary",
    "students_junior",
    "max_class_size_primary",
    "max_class_size_junior",
]
ROTATION_COLUMNS = [
    "year",
    "county_code",
    "rotation_eligible_teachers",
    "rotated_teachers",
    "rotated_backbone_teachers",
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counties", type=int, default=2900)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--first-year", type=int, default=2018)
    parser.add_argument("--seed", type=int, default=2024, help="the seed of the first year; each year adds one")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of series + warnings (best and median)")
    args = parser.parse_args()

    import polars as pl

    from youjun.engine import evaluate_resources
    from youjun.engine.monitoring import Context, series, stack, warnings
    from youjun.io.synth import generate
    from youjun.standards import load_rule_set

    rules = load_rule_set("national-2017")
    years = list(range(args.first_year, args.first_year + args.years))
    prepared = time.perf_counter()
    evaluations, schools, sheets = {}, [], []
    for i, year in enumerate(years):
        data = generate(args.counties, args.seed + i, year=year)
        evaluations[year] = evaluate_resources(data.schools, rules)
        schools.append(data.schools.select(SCHOOL_COLUMNS))
        sheets.append(data.counties.select(ROTATION_COLUMNS))
        del data
        gc.collect()
    prepared = time.perf_counter() - prepared
    school_rows = pl.concat(schools)
    codes = evaluations[years[0]].counties["county_code"]
    # About one county in five recognised (from the third year), one in seven a pilot county.
    statuses = pl.DataFrame(
        {
            "county_code": pl.concat([codes.gather_every(5), codes.gather_every(7, offset=3)]),
            "status": ["recognised"] * len(codes.gather_every(5)) + ["pilot"] * len(codes.gather_every(7, offset=3)),
            "since": [years[0] + 2] * len(codes.gather_every(5)) + [None] * len(codes.gather_every(7, offset=3)),
        }
    )
    context = Context(statuses=statuses, schools=school_rows, rotation=pl.concat(sheets))
    units_n = sum(ev.units.height for ev in evaluations.values())

    series_times, warning_times = [], []
    found = pl.DataFrame()
    for _ in range(args.runs):
        gc.collect()
        started = time.perf_counter()
        frames = series(stack(evaluations))
        middle = time.perf_counter()
        found = warnings(frames, rules, context)
        series_times.append(middle - started)
        warning_times.append(time.perf_counter() - middle)
        del frames
    totals = [a + b for a, b in zip(series_times, warning_times, strict=True)]
    per_rule = dict(found.group_by("rule").len().sort("rule").iter_rows())
    summary = {
        "counties": args.counties,
        "years": args.years,
        "school_years": school_rows.height,
        "unit_years": units_n,
        "prepare_seconds": round(prepared, 1),
        "seconds": {
            "series": {"best": round(min(series_times), 3), "median": round(statistics.median(series_times), 3)},
            "warnings": {"best": round(min(warning_times), 3), "median": round(statistics.median(warning_times), 3)},
            "total": {"best": round(min(totals), 3), "median": round(statistics.median(totals), 3)},
        },
        "school_years_per_second": round(school_rows.height / min(totals)),
        "warnings": found.height,
        "warnings_per_rule": per_rule,
        "peak_memory_mb": round(peak_mb()),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "polars": pl.__version__,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "monitoring.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"monitoring: {args.counties} counties × {args.years} years, {school_rows.height:,} school-years, "
        f"{units_n:,} unit-years"
    )
    table.add_column("phase")
    table.add_column("best s", justify="right")
    table.add_column("median s", justify="right")
    for phase, times in (("series", series_times), ("warnings", warning_times), ("series + warnings", totals)):
        table.add_row(phase, f"{min(times):.3f}", f"{statistics.median(times):.3f}")
    console = Console()
    console.print(table)
    console.print(f"warnings: {found.height:,} — " + ", ".join(f"{k} {v:,}" for k, v in per_rule.items()))
    console.print(f"peak memory {summary['peak_memory_mb']:,} MB; data prepared in {prepared:.1f} s")


if __name__ == "__main__":
    main()
