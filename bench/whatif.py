"""What-if benchmark: the server time of a scenario's recompute on the planner's page — the stored rows made into
the engine's frame, the engine run and the page's summary (``planning.selectors.outcome``) — and of one edit (the
rows changed as the edit form asks), for synthetic counties of 20, 100, 300 and 461 schools.

Prints a table and writes ``bench/out/whatif.json``. Usage: ``python bench/whatif.py [--runs 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import django
import polars as pl

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
CASES = ((8, 13, 20), (8, 13, 100), (8, 13, 300), (8, 13, None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "youjun.web.settings")
    django.setup()
    from youjun.io.synth import generate
    from youjun.standards import DEFAULT_RULE_SET, load_rule_set
    from youjun.web.planning import selectors, services
    from youjun.web.planning.models import Scenario

    rules = load_rule_set()
    rows = []
    for counties, seed, keep in CASES:
        schools = generate(counties, seed).schools.with_columns(
            pl.lit("340207").alias("county_code"), pl.lit("示例区").alias("county_name")
        )
        if keep is not None:
            schools = schools.sort("school_id").head(keep)
        scenario = Scenario(schools=schools.to_dicts(), standard=DEFAULT_RULE_SET)
        school = scenario.schools[0]["school_id"]
        change = services.Edit("add", school, "teaching_aux_area", 100.0)
        names = dict(rules.stage_names)
        recompute, edit = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            selectors.outcome(selectors.frame_of(scenario), rules)
            recompute.append(time.perf_counter() - started)
            started = time.perf_counter()
            services._applied(list(scenario.schools), change, names)
            edit.append(time.perf_counter() - started)
        rows.append(
            {
                "schools": schools.height,
                "recompute_ms": 1000 * statistics.median(recompute),
                "recompute_max_ms": 1000 * max(recompute[1:] or recompute),
                "edit_ms": 1000 * statistics.median(edit),
            }
        )
        print(
            f"{schools.height:>5} schools  recompute median {rows[-1]['recompute_ms']:6.1f} ms "
            f"(max {rows[-1]['recompute_max_ms']:6.1f})  edit {rows[-1]['edit_ms']:6.1f} ms"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "whatif.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
