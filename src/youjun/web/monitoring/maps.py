"""The monitoring pages' map: a province's (or a prefecture's) counties drawn server-side as SVG from the packaged
outlines (no tiles, no script, works offline), each county a link coloured by its status.

Projection: equirectangular with the x axis scaled by cos(mid-latitude) of the view, which keeps shapes true at
province scale. Coordinates are rounded to half pixels and repeated points dropped, so a province of 30,000 stored
points draws with a fraction of them. The geometry of a view is cached per process; only the classes vary by
request. 三沙 (the counties of prefecture 4603) is drawn in a 南海诸岛 inset beside the rest of 海南 with the dashed
line of the South China Sea, its islands marked so they stay visible and clickable at that scale."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from youjun.web.organisation import boundaries

#: Counties drawn in the South China Sea inset rather than on the main map.
INSET_PREFIX = "4603"
WIDTH = 720.0
MAX_HEIGHT = 640.0
INSET_WIDTH = 170.0
SCALE = 2  # user units per pixel: integer coordinates at half a pixel


@dataclass(frozen=True)
class Area:
    """One county on the map: its status class (``m-…``), tooltip and link; ``dim`` when outside the filter."""

    code: str
    name: str
    cls: str
    label: str
    url: str
    dim: bool = False


@dataclass(frozen=True)
class _Shape:
    path: str
    cx: float
    cy: float


@dataclass(frozen=True)
class _Layout:
    width: int
    height: int
    shapes: dict[str, _Shape]
    inset: tuple[int, int, int, int] | None  # x, y, w, h of the inset frame
    inset_line: str
    markers: dict[str, list[tuple[int, int]]]


def _bbox(arrays: Sequence[np.ndarray]) -> tuple[float, float, float, float]:
    allp = np.vstack(arrays)
    return float(allp[:, 0].min()), float(allp[:, 1].min()), float(allp[:, 0].max()), float(allp[:, 1].max())


def _projector(bbox: tuple[float, float, float, float], width: float, max_height: float, x0: float, y0: float):  # type: ignore[no-untyped-def]
    lon0, lat0, lon1, lat1 = bbox
    k = math.cos(math.radians((lat0 + lat1) / 2))
    span_x = max((lon1 - lon0) * k, 1e-6)
    span_y = max(lat1 - lat0, 1e-6)
    scale = min(width / span_x, max_height / span_y)

    def project(points: np.ndarray) -> np.ndarray:
        x = x0 + (points[:, 0] - lon0) * k * scale
        y = y0 + (lat1 - points[:, 1]) * scale
        return np.rint(np.column_stack([x, y]) * SCALE).astype(np.int64)

    return project, span_x * scale, span_y * scale


def _path(rings: Sequence[np.ndarray]) -> tuple[str, float, float]:
    """Relative path data of projected rings, and the area-weighted centre of the largest ring (in pixels)."""
    parts: list[str] = []
    best, cx, cy = -1.0, 0.0, 0.0
    for q in rings:
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = np.any(np.diff(q, axis=0) != 0, axis=1)
        q = q[keep]
        if len(q) < 3:
            continue
        d = np.diff(q, axis=0)
        parts.append(f"M{q[0, 0]} {q[0, 1]}l" + " ".join(f"{a} {b}" for a, b in d.tolist()) + "z")
        x, y = q[:, 0].astype(float), q[:, 1].astype(float)
        cross = x * np.roll(y, -1) - np.roll(x, -1) * y
        area = abs(float(cross.sum())) / 2
        if area > best:
            best = area
            if area > 0:
                total = 3 * float(cross.sum())  # 6 × the signed area
                cx = float(((x + np.roll(x, -1)) * cross).sum()) / total
                cy = float(((y + np.roll(y, -1)) * cross).sum()) / total
            else:
                cx, cy = float(x.mean()), float(y.mean())
    return "".join(parts), cx / SCALE, cy / SCALE


@lru_cache(maxsize=64)
def _layout(codes: tuple[str, ...]) -> _Layout:
    outlines = {c: boundaries.rings(c) for c in codes}
    main = [c for c in codes if outlines[c] and not c.startswith(INSET_PREFIX)]
    inset = [c for c in codes if outlines[c] and c.startswith(INSET_PREFIX)]
    if not main:  # a view of 三沙 alone draws it as the main map
        main, inset = inset, []
    shapes: dict[str, _Shape] = {}
    markers: dict[str, list[tuple[int, int]]] = {}
    width = height = 0.0
    frame = None
    inset_line = ""
    if main:
        project, width, height = _projector(_bbox([r for c in main for r in outlines[c]]), WIDTH, MAX_HEIGHT, 4, 4)
        for c in main:
            path, cx, cy = _path([project(r) for r in outlines[c]])
            shapes[c] = _Shape(path, cx, cy)
        width += 8
        height += 8
    if inset:
        sea = boundaries.line("south_china_sea")
        ix, iy = width + 12, 4.0
        extent = _bbox([r for c in inset for r in outlines[c]] + sea)
        project, w, h = _projector(extent, INSET_WIDTH, 260, ix + 6, iy + 22)
        frame = (int(ix), int(iy), int(w + 12), int(h + 28))
        for c in inset:
            projected = [project(r) for r in outlines[c]]
            path, cx, cy = _path(projected)
            shapes[c] = _Shape(path, cx, cy)
            # one marker per cluster of islets (centres on an 8-pixel grid), so that they stay visible and clickable
            centres = {(int(p[:, 0].mean()) // (8 * SCALE), int(p[:, 1].mean()) // (8 * SCALE)) for p in projected}
            markers[c] = sorted((gx * 8 + 4, gy * 8 + 4) for gx, gy in centres)
        inset_line = "".join(
            f"M{q[0, 0]} {q[0, 1]}l" + " ".join(f"{a} {b}" for a, b in np.diff(q, axis=0).tolist())
            for q in (project(r) for r in sea)
        )
        width = ix + w + 16
        height = max(height, h + 36)
    return _Layout(math.ceil(width), math.ceil(height), shapes, frame, inset_line, markers)


def county_map(areas: Sequence[Area], title: str, labels: bool = False) -> SafeString:
    """The SVG of ``areas`` (fill by their class, the even-odd rule for holes), with names written on the map when
    ``labels`` (a prefecture's handful of counties); areas without an outline are left out (list them beside)."""
    layout = _layout(tuple(sorted(a.code for a in areas)))
    if not layout.shapes:
        return mark_safe("")
    w, h = layout.width, layout.height
    out = [
        f'<svg class="county-map" viewBox="0 0 {w * SCALE} {h * SCALE}" width="{w}" height="{h}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    if layout.inset:
        x, y, iw, ih = layout.inset
        out.append(
            f'<g class="inset"><rect x="{x * SCALE}" y="{y * SCALE}" width="{iw * SCALE}" height="{ih * SCALE}"/>'
            f'<text x="{(x + 6) * SCALE}" y="{(y + 15) * SCALE}">南海诸岛</text>'
            f'<path class="sea-line" d="{layout.inset_line}"/></g>'
        )
    for a in sorted(areas, key=lambda a: a.dim, reverse=True):  # dimmed first, highlighted on top
        shape = layout.shapes.get(a.code)
        if shape is None:
            continue
        cls = a.cls + (" dim" if a.dim else "")
        label = escape(a.label)
        dots = layout.markers.get(a.code, [])
        marks = "".join(f'<circle cx="{mx * SCALE}" cy="{my * SCALE}" r="{2.5 * SCALE:g}"/>' for mx, my in dots)
        body = f'<path d="{shape.path}"/>{marks}<title>{label}</title>'
        if a.url:
            out.append(f'<a href="{escape(a.url)}" class="{cls}" data-area="{a.code}" aria-label="{label}">{body}</a>')
        else:
            out.append(f'<g class="{cls}" data-area="{a.code}">{body}</g>')
    if labels:
        for a in areas:
            shape = layout.shapes.get(a.code)
            if shape is not None and not a.dim:
                out.append(
                    f'<text class="name" x="{round(shape.cx * SCALE)}" y="{round(shape.cy * SCALE)}">'
                    f"{escape(a.name)}</text>"
                )
    out.append("</svg>")
    return mark_safe("".join(out))
