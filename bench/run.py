"""National-scale benchmark: 2,900 counties (~200,000 schools).

Times, separately, generating, reading + validating, evaluating and writing the JSON, then the whole
``youjun evaluate FILE --format json --out OUT`` command from process start to exit. Prints rows/s and peak memory.
Usage: ``make bench`` (or ``python bench/run.py --counties 2900 --runs 3``).
"""

from __future__ import annotations

import argparse
import gc
import json
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
    del data, loaded, ev, county, extra  # the command runs in its own process: give it a quiet machine
    gc.collect()
    exe = shutil.which("youjun", path=str(Path(sys.executable).parent)) or "youjun"
    walls, peaks = [], []
    for _ in range(args.runs):
        os.sync()  # flush the writes of the phases above so they do not land on the timed command
        # A small wrapper process starts the command and reports its wall time and peak memory (a child forked
        # from this large process would inherit this process's resident size in its own figure).
        wrapper = (
            "import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        command = [exe, "evaluate", str(source), "--format", "json", "--out", str(OUT / "cli.json")]
        result = subprocess.run([sys.executable, "-c", wrapper, *command], check=True, capture_output=True, text=True)
        wall, peak_kib = result.stdout.split()
        walls.append(float(wall))
        peaks.append(int(peak_kib) / 1024)
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
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
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
    Console().print(table)
    print(f"JSON {summary['json_mb']} MB; peak memory: in-process {in_process_peak:.0f} MB, CLI {cli_peak:.0f} MB")


if __name__ == "__main__":
    main()
