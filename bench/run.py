"""National-scale benchmark: 2,900 counties (~200,000 schools).

Times, separately, generating, reading + validating, evaluating and writing the JSON, then the whole
``youjun evaluate FILE --format json --out OUT`` command from process start to exit. Prints rows/s and peak memory.
When pandas is importable, the same runs also time the plain pandas script for the same job
(``bench/pandas_baseline.py SOURCE OUT``, end to end, measured the same way), report the ratio pandas / youjun and
check that its CVs agree with youjun's. pandas is not a dependency of youjun: without it the comparison is skipped.
Usage: ``make bench`` (or ``python bench/run.py --counties 2900 --runs 3``).
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
OUT = HERE / "out"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def timed(label: str, results: dict[str, float], fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn(*args)
    results[label] = time.perf_counter() - started
    return value


def end_to_end(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MB of ``command`` from process start to exit, in a fresh process."""
    os.sync()  # flush earlier writes so they do not land on the timed command
    # A small wrapper process starts the command and reports its wall time and peak memory (a child forked
    # from this large process would inherit this process's resident size in its own figure).
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    result = subprocess.run([sys.executable, "-c", wrapper, *command], check=True, capture_output=True, text=True)
    wall, peak_kib = result.stdout.split()
    return float(wall), int(peak_kib) / 1024


def cv_agreement(youjun_cvs: dict[tuple[int, str, str, str], float | None], path: Path) -> dict[str, float | int]:
    """Max |CV difference| between youjun and the pandas baseline's JSON over every county × stage × indicator,
    and how many CVs are missing on one side or undefined on one side only."""
    with path.open(encoding="utf-8") as f:
        document = json.load(f)
    theirs: dict[tuple[int, str, str, str], float | None] = {}
    for county in document["counties"]:
        for stage, body in county["resource_allocation"]["stages"].items():
            for code, cv in body["cv"].items():
                theirs[(county["year"], county["county_code"], stage, code)] = cv
    del document
    worst, undefined_differs = 0.0, 0
    for key, mine in youjun_cvs.items():
        other = theirs.get(key)
        if mine is None or other is None:
            undefined_differs += (mine is None) != (other is None)
        else:
            worst = max(worst, abs(mine - other))
    return {
        "compared": len(youjun_cvs),
        "max_abs_cv_difference": worst,
        "only_one_side": len(youjun_cvs.keys() ^ theirs.keys()),
        "undefined_on_one_side": undefined_differs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counties", type=int, default=2900)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--runs", type=int, default=5, help="end-to-end command runs (best and median reported)")
    parser.add_argument("--xlsx-schools", type=int, default=300, help="schools in the county workbook timed as .xlsx")
    args = parser.parse_args()

    from youjun.engine import assess, evaluate_resources
    from youjun.io.evaluation_json import write_json
    from youjun.io.reader import read_school_data
    from youjun.io.synth import generate, write_csv
    from youjun.io.workbook import write_data_workbook
    from youjun.standards import load_rule_set

    DATA.mkdir(exist_ok=True)
    OUT.mkdir(exist_ok=True)
    t: dict[str, float] = {}
    source = DATA / f"national-{args.counties}-{args.seed}.csv"
    data = timed("synth", t, generate, args.counties, args.seed)
    if not source.exists():
        write_csv(data.schools, source)
    schools_n = data.schools.height

    rules = load_rule_set("national-2017")
    loaded = timed("read", t, read_school_data, [source])
    ev = timed("evaluate", t, evaluate_resources, loaded.schools, rules)
    json_path = OUT / "national.json"
    timed("write_json", t, write_json, ev, json_path)
    # The full assessment (G/Q/S/V and the verdict) with the synthetic county sheet, and its JSON.
    full = timed("assess", t, assess, data.schools, data.counties, rules)
    timed("write_json_full", t, write_json, full, OUT / "national-full.json")
    del full
    in_process_peak = peak_mb()

    county = data.schools.filter(data.schools["county_code"] == data.schools["county_code"][0])
    extra = data.schools.filter(data.schools["county_code"] != county["county_code"][0]).head(
        max(args.xlsx_schools - county.height, 0)
    )
    workbook = OUT / "county.xlsx"
    write_data_workbook(workbook, {"学校": county.vstack(extra).head(args.xlsx_schools)})
    timed("read_xlsx_county", t, read_school_data, [workbook])

    units_n, counties_n = ev.units.height, ev.counties.height
    codes = ev.codes
    youjun_cvs = {
        (row["year"], row["county_code"], row["stage"], code): row[f"cv_{code}"]
        for row in ev.stages.iter_rows(named=True)
        for code in codes
    }
    del data, loaded, ev, county, extra  # the command runs in its own process: give it a quiet machine
    gc.collect()
    exe = shutil.which("youjun", path=str(Path(sys.executable).parent)) or "youjun"
    command = [exe, "evaluate", str(source), "--format", "json", "--out", str(OUT / "cli.json")]
    # The pandas baseline runs in the same interpreter as this script; pandas is not a youjun dependency.
    with_pandas = importlib.util.find_spec("pandas") is not None
    baseline = [sys.executable, str(HERE / "pandas_baseline.py"), str(source), str(OUT / "pandas.json")]
    walls, peaks, pandas_walls, pandas_peaks = [], [], [], []
    for _ in range(args.runs):  # interleaved, so that load from other jobs falls on both alike
        wall, peak = end_to_end(command)
        walls.append(wall)
        peaks.append(peak)
        if with_pandas:
            wall, peak = end_to_end(baseline)
            pandas_walls.append(wall)
            pandas_peaks.append(peak)
    cli_peak = max(peaks)

    summary = {
        "counties": counties_n,
        "schools": schools_n,
        "units": units_n,
        "json_mb": round(json_path.stat().st_size / 1e6, 1),
        "json_full_mb": round((OUT / "national-full.json").stat().st_size / 1e6, 1),
        "seconds": {k: round(v, 3) for k, v in t.items()},
        "rows_per_second": {
            "read": round(schools_n / t["read"]),
            "evaluate": round(schools_n / t["evaluate"]),
            "write_json": round(schools_n / t["write_json"]),
        },
        "cli_end_to_end_seconds": {"best": round(min(walls), 3), "median": round(statistics.median(walls), 3)},
        "peak_memory_mb": {"in_process": round(in_process_peak), "cli": round(cli_peak)},
        "pandas_baseline": None,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    if with_pandas:
        best, median = min(pandas_walls), statistics.median(pandas_walls)
        agreement = cv_agreement(youjun_cvs, OUT / "pandas.json")
        summary["pandas_baseline"] = {
            "script": "bench/pandas_baseline.py",
            "pandas": importlib.metadata.version("pandas"),
            "end_to_end_seconds": {"best": round(best, 3), "median": round(median, 3)},
            "peak_memory_mb": round(max(pandas_peaks)),
            # pandas time / youjun time, best vs best and median vs median.
            "ratio": {
                "best": round(best / min(walls), 2),
                "median": round(median / statistics.median(walls), 2),
            },
            "cv_agreement": agreement,
        }
    else:
        summary["pandas_baseline"] = {"skipped": "pandas is not installed"}
    (OUT / "latest.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"youjun benchmark: {counties_n} counties, {schools_n:,} schools, {units_n:,} units")
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    table.add_column("schools/s", justify="right")
    for phase in ("synth", "read", "evaluate", "write_json", "assess", "write_json_full"):
        rate = f"{schools_n / t[phase]:,.0f}"
        table.add_row(phase, f"{t[phase]:.3f}", rate)
    table.add_row(f"read .xlsx ({args.xlsx_schools} schools)", f"{t['read_xlsx_county']:.3f}", "")
    table.add_row(
        f"CLI evaluate → JSON, end to end (best / median of {args.runs})",
        f"{min(walls):.3f} / {statistics.median(walls):.3f}",
        "",
    )
    if with_pandas:
        table.add_row(
            f"pandas baseline, end to end (best / median of {args.runs})",
            f"{min(pandas_walls):.3f} / {statistics.median(pandas_walls):.3f}",
            "",
        )
        ratio = summary["pandas_baseline"]["ratio"]
        table.add_row("ratio pandas / youjun (best / median)", f"{ratio['best']:.2f} / {ratio['median']:.2f}", "")
    Console().print(table)
    print(f"JSON {summary['json_mb']} MB; peak memory: in-process {in_process_peak:.0f} MB, CLI {cli_peak:.0f} MB")
    if with_pandas:
        agreement = summary["pandas_baseline"]["cv_agreement"]
        worst = agreement["max_abs_cv_difference"]
        print(
            f"pandas baseline: peak memory {summary['pandas_baseline']['peak_memory_mb']} MB; "
            f"max |CV difference| vs youjun over {agreement['compared']:,} county × stage × indicator CVs: {worst:.3g}"
            f" (undefined on one side only: {agreement['undefined_on_one_side']}, "
            f"on one side only: {agreement['only_one_side']})"
        )
        if not math.isfinite(worst) or worst > 1e-9 or agreement["undefined_on_one_side"] or agreement["only_one_side"]:
            print("warning: the pandas baseline's CVs do not agree with youjun's", file=sys.stderr)
    else:
        print("pandas is not installed: the pandas baseline comparison was skipped (pip install 'pandas>=2.2,<3').")


if __name__ == "__main__":
    main()
