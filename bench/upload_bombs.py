"""Upload bombs: what each costs the reader without the input guard (before) and what the guard's check costs (after).

Every measurement runs in a fresh interpreter. After: ``check_input`` on the file's bytes (time of the check, peak
resident memory of the process, interpreter included). Before: ``read_school_data`` with the guard switched off, only
for the bombs where that is safe on a shared machine, under a 3 GB address-space cap and a time limit (a process the
parser aborts is reported as such); the bombs that would take gigabytes are not run unguarded, the reason is printed.
The bombs are the ones built by tests/test_limits.py.

Usage: ``python bench/upload_bombs.py`` (``--json OUT`` also writes the figures).
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import test_limits as bombs  # noqa: E402 - the bombs live with their tests

CAP_BYTES = 3 * 1024**3
BEFORE_TIMEOUT = 120

#: name, preset of the check, whether the unguarded read is safe to run here (else: why not)
CASES: list[tuple[str, str, bool | str]] = [
    ("shared_string_bomb", "web", "one 200 MB shared string: about 3 GB (reported)"),
    ("shared_string_bomb_lying", "web", "the same string behind a lying header"),
    ("long_shared_string", "web", True),
    ("unique_count", "web", True),
    ("expansion_bomb", "web", "1.2 GB of text once expanded: several GB"),
    ("xls_expansion", "web", True),
    ("deflate_bomb_entry", "web", True),
    ("lying_header", "web", True),
    ("million_rows", "web", True),
    ("far_cell", "web", True),
    ("far_corner", "cli", "a 330-million-cell grid: about 10 GB"),
    ("empty_cell_moves_column", "web", True),
    ("prepended_bytes", "web", True),
    ("many_entries", "web", True),
    ("wide_csv", "web", "300,000 columns: 50-66 s and 4.9 GB (reported)"),
    ("long_csv_line", "web", True),
    ("csv_records_joined_by_quotes", "web", True),
    ("xls_fat_count", "web", True),
    ("xls_count_at_62", "web", True),
    ("xls_difat_loop", "web", "loops for ever, growing until memory runs out"),
    ("xls_dimensions", "web", True),
]

HWM = """
def peak_mb():
    try:
        return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

AFTER = (
    HWM
    + """
import json, sys, time
from youjun.io.limits import CLI_LIMITS, WEB_LIMITS, check_input
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
problems = check_input(data, sys.argv[2], {"web": WEB_LIMITS, "cli": CLI_LIMITS}[sys.argv[3]])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "outcome": problems[0].code if problems else "passed"}))
"""
)

BEFORE = (
    HWM
    + """
import json, sys, time
import youjun.io.reader as reader
from youjun.errors import YoujunError
from youjun.io.limits import CLI_LIMITS, WEB_LIMITS
reader.check_input = lambda *args, **kwargs: []  # the guard switched off
reader.check_file_size = lambda *args, **kwargs: None
started = time.perf_counter()
try:
    data = reader.read_school_data([sys.argv[1]], limits={"web": WEB_LIMITS, "cli": CLI_LIMITS}[sys.argv[3]])
    outcome = f"read ({data.schools.height} rows)"
except YoujunError as exc:
    outcome = "reader error: " + exc.errors[0].code
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "outcome": outcome}))
"""
)


def run(script: str, path: Path, suffix: str, preset: str, capped: bool) -> dict[str, Any]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))

    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(path), suffix, preset],
            capture_output=True,
            text=True,
            timeout=BEFORE_TIMEOUT,
            preexec_fn=cap if capped else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {
            "seconds": time.perf_counter() - started,
            "peak_mb": None,
            "outcome": f"still running after {BEFORE_TIMEOUT} s",
        }
    if done.returncode == 0:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    wall = time.perf_counter() - started
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        why = "allocation failure" if "memory allocation" in done.stderr else "killed"
        return {"seconds": wall, "peak_mb": None, "outcome": f"process aborted ({name}, {why})"}
    return {"seconds": wall, "peak_mb": None, "outcome": f"exit {done.returncode}: {done.stderr.strip()[-120:]}"}


def cell(result: dict[str, Any] | None) -> tuple[str, str, str]:
    if result is None:
        return ("", "", "")
    peak = "" if result["peak_mb"] is None else f"{result['peak_mb']:,.0f}"
    return (f"{result['seconds']:.2f}", peak, str(result["outcome"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--only", nargs="*", help="run only these bombs")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="youjun-bombs-") as folder:
        for name, preset, safe in CASES:
            if args.only and name not in args.only:
                continue
            data, suffix = getattr(bombs, name)()
            path = Path(folder) / f"{name}{suffix}"
            path.write_bytes(data)
            del data
            after = run(AFTER, path, suffix, preset, capped=False)
            before = run(BEFORE, path, suffix, preset, capped=True) if safe is True else None
            rows.append(
                {
                    "bomb": name,
                    "file_mb": path.stat().st_size / 1024**2,
                    "preset": preset,
                    "before": before,
                    "not_run": None if safe is True else safe,
                    "after": after,
                }
            )
            path.unlink()
            print(f"  {name}: done", file=sys.stderr)
    header = "| bomb | file | before: s | before: peak MB | before: outcome | after: s | after: peak MB | refused as |"
    print(header)
    print("|" + "---|" * 8)
    for row in rows:
        b_s, b_mb, b_out = cell(row["before"])
        if row["not_run"]:
            b_out = f"not run: {row['not_run']}"
        a_s, a_mb, a_out = cell(row["after"])
        size = f"{row['file_mb']:.2f} MB" if row["file_mb"] >= 0.01 else f"{row['file_mb'] * 1024:.0f} KB"
        print(f"| {row['bomb']} | {size} | {b_s} | {b_mb} | {b_out} | {a_s} | {a_mb} | {a_out} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
