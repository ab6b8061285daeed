"""Enrolment forecast benchmark: the backtest of the projection method and the national projection + forecast.

Generates 2019–2025 of the national synthetic data (``synth_years``: 2,900 counties, ~200,000 schools a year, seed
2024), then

* backtests the projection (``youjun.engine.forecast.backtest``) fitted on the years up to 2021 (one year ahead:
  2022, three years ahead: 2024) and up to 2022 (2023, 2025): the mean absolute percentage error of enrolment by
  stage at school level (schools with ≥ 50 pupils in the stage) and county level, the mean signed error and the
  share of actual values inside the projected range; the same without births (grade 1 from its trend) and without
  the school adjustment, for comparison (decision 60);
* times the projection of 2026–2030 from 2025 and the forecast (the projected school frames and one engine run per
  year, with the base year) for the whole country.

Prints the tables and writes ``bench/out/forecast.json``. Usage: ``python bench/forecast.py [--counties 2900
--runs 3 --no-compare]``.
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
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
FITS = (2021, 2022)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counties", type=int, default=2900)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--horizon", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of projection + forecast (best and median)")
    parser.add_argument("--no-compare", action="store_true", help="skip the variants without births / adjustment")
    args = parser.parse_args()

    import polars as pl
    from rich.console import Console
    from rich.table import Table

    from youjun.engine.forecast import backtest, forecast, project_enrolment
    from youjun.io.synth_years import synth_years
    from youjun.standards import load_rule_set

    console = Console()
    rules = load_rule_set("national-2017")
    started = time.perf_counter()
    run = synth_years(counties=args.counties, years=range(2019, 2026), seed=args.seed)
    generated = time.perf_counter() - started
    grades, births = run.grades, run.births
    base_year = run.years[-1]
    schools = run.schools[base_year]
    console.print(
        f"synth_years: {args.counties} counties, {run.years[0]}–{base_year}, {grades.height:,} school-years "
        f"in {generated:.1f} s"
    )

    variants: dict[str, dict[str, Any]] = {"method": {"births": births, "school_adjustment": True}}
    if not args.no_compare:
        variants["without births"] = {"births": None, "school_adjustment": True}
        variants["without school adjustment"] = {"births": births, "school_adjustment": False}
    backtests: dict[str, pl.DataFrame] = {}
    backtest_seconds: dict[str, float] = {}
    for name, options in variants.items():
        t = time.perf_counter()
        backtests[name] = pl.concat(
            backtest(grades, options["births"], fit_until=fit, school_adjustment=options["school_adjustment"])
            for fit in FITS
        )
        backtest_seconds[name] = time.perf_counter() - t

    main_rows = backtests["method"]
    table = Table(title="backtest: MAPE of enrolment (%), bias (%), share of actual values within [low, high]")
    for column in ("fitted to", "target", "ahead", "level", "stage", "units", "MAPE %", "bias %", "in range"):
        table.add_column(column, justify="left" if column in ("level", "stage") else "right")
    for row in main_rows.sort("fit_until", "years_ahead").iter_rows(named=True):
        table.add_row(
            str(row["fit_until"]),
            str(row["year"]),
            str(row["years_ahead"]),
            row["level"],
            row["stage"],
            f"{row['units']:,}",
            f"{row['mape']:.2f}",
            f"{row['bias']:+.2f}",
            f"{row['coverage']:.0%}",
        )
    console.print(table)
    if len(variants) > 1:
        compare = Table(title="MAPE % by variant (mean of the two fits)")
        compare.add_column("ahead", justify="right")
        compare.add_column("level")
        compare.add_column("stage")
        for name in variants:
            compare.add_column(name, justify="right")
        means = {
            name: frame.group_by("years_ahead", "level", "stage").agg(pl.col("mape").mean())
            for name, frame in backtests.items()
        }
        keys = means["method"].sort("years_ahead", "level", "stage").select("years_ahead", "level", "stage")
        for ahead, level, stage in keys.iter_rows():
            values = [
                means[name]
                .filter(pl.col("years_ahead") == ahead, pl.col("level") == level, pl.col("stage") == stage)["mape"]
                .item()
                for name in variants
            ]
            compare.add_row(str(ahead), level, stage, *(f"{v:.2f}" for v in values))
        console.print(compare)

    # The national projection and forecast, timed.
    project_times, forecast_times = [], []
    result = None
    projection = None
    for _ in range(args.runs):
        result = projection = None
        gc.collect()
        t = time.perf_counter()
        projection = project_enrolment(grades, births, horizon=args.horizon)
        middle = time.perf_counter()
        result = forecast(schools, projection, rules)
        project_times.append(middle - t)
        forecast_times.append(time.perf_counter() - middle)
    assert projection is not None and result is not None
    totals = [a + b for a, b in zip(project_times, forecast_times, strict=True)]
    timing = Table(title=f"national projection {base_year + 1}–{base_year + args.horizon} and forecast")
    timing.add_column("phase")
    timing.add_column("best s", justify="right")
    timing.add_column("median s", justify="right")
    for phase, times in (("projection", project_times), ("forecast", forecast_times), ("total", totals)):
        timing.add_row(phase, f"{min(times):.2f}", f"{statistics.median(times):.2f}")
    console.print(timing)

    national = (
        result.stages.group_by("year", "stage")
        .agg(
            pl.col("students").sum(),
            pl.col("places_lack").sum(),
            pl.col("classrooms_lack").sum(),
            pl.col("classrooms_spare").sum(),
            pl.col("shortfall_R4").sum().round(0),
            pl.col("passed").mean().round(4).alias("stages_passing"),
        )
        .sort("year", "stage")
    )
    counties_passing = result.counties.group_by("year").agg(pl.col("passed").mean().round(4)).sort("year")
    figures = Table(title="national forecast (sums over counties)")
    headers = (
        "year",
        "stage",
        "pupils",
        "places lacking",
        "classrooms lacking",
        "classrooms spare",
        "R4 ㎡ short",
        "stages passing",
    )
    for header in headers:
        figures.add_column(header, justify="left" if header == "stage" else "right")
    for row in national.iter_rows(named=True):
        figures.add_row(
            str(row["year"]),
            row["stage"],
            f"{row['students']:,}",
            f"{row['places_lack']:,}",
            f"{row['classrooms_lack']:,}",
            f"{row['classrooms_spare']:,}",
            f"{row['shortfall_R4']:,.0f}",
            f"{row['stages_passing']:.1%}",
        )
    console.print(figures)
    console.print(f"school units falling below a standard they meet in {base_year}: {result.below.height:,}")

    def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
        return [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            for row in frame.iter_rows(named=True)
        ]

    summary = {
        "counties": args.counties,
        "years": [run.years[0], base_year],
        "school_years": grades.height,
        "generate_seconds": round(generated, 1),
        "backtest": records(main_rows),
        "backtest_variants": {name: records(frame) for name, frame in backtests.items() if name != "method"},
        "backtest_seconds": {name: round(v, 2) for name, v in backtest_seconds.items()},
        "national": {
            "base_year": base_year,
            "horizon": args.horizon,
            "schools": schools.height,
            "unit_years": result.units.height,
            "seconds": {
                "projection": {
                    "best": round(min(project_times), 2),
                    "median": round(statistics.median(project_times), 2),
                },
                "forecast": {
                    "best": round(min(forecast_times), 2),
                    "median": round(statistics.median(forecast_times), 2),
                },
                "total": {"best": round(min(totals), 2), "median": round(statistics.median(totals), 2)},
            },
            "stages": records(national),
            "counties_passing": records(counties_passing),
            "units_falling_below": result.below.height,
            "method": result.method,
        },
        "peak_memory_mb": round(peak_mb()),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "polars": pl.__version__,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "forecast.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"peak memory {summary['peak_memory_mb']:,} MB; written bench/out/forecast.json")


if __name__ == "__main__":
    main()
