"""County outlines for the monitoring maps, from ``data/boundaries.json.gz`` (built by ``tools/build_boundaries.py``;
source, date and licence in ``data/README.md``). Loaded once per process; rings are decoded on demand as arrays of
longitude/latitude in degrees."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

PATH = Path(__file__).parent / "data" / "boundaries.json.gz"


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    with gzip.open(PATH, "rt", encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def source() -> dict[str, Any]:
    """Where the outlines come from: package, file, date, licence, CRS and the simplification tolerance."""
    return dict(_data()["source"])


def _decode(ring: list[int]) -> np.ndarray:
    q = np.asarray(ring, dtype=np.int64).reshape(-1, 2)
    out: np.ndarray = np.cumsum(q, axis=0).astype(float) * float(_data()["quantum"])
    return out


def rings(code: str) -> list[np.ndarray]:
    """The outline of county ``code`` as closed rings (outer and inner alike; draw with the even-odd rule); empty when
    the data has none (e.g. 中沙群岛, the 兵团's 师本级 units)."""
    return [_decode(r) for r in _data()["counties"].get(code, [])]


def line(name: str) -> list[np.ndarray]:
    """A boundary line kept beside the counties (``south_china_sea``: the dashed line of the South China Sea)."""
    return [_decode(r) for r in _data()["lines"].get(name, [])]


def has_outline(code: str) -> bool:
    return code in _data()["counties"]
