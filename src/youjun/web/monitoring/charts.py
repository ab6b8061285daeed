"""Server-side SVG for the monitoring pages (no chart library, works offline): a sparkline of a county's CVs within
their limits year by year, and a line chart of a stage's seven CVs over the years against the limit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from youjun.web.evaluation.charts import BAD, GRID, INK, MUTED, nice_step
from youjun.web.evaluation.pages import fmt

#: Line colours of the seven indicators (distinguishable, also in grey print by their markers' labels).
PALETTE = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f")


def sparkline(values: Sequence[float | None], top: float, label: str, width: int = 72, height: int = 20) -> SafeString:
    """A small line of ``values`` (oldest first) on a 0–``top`` scale, its last point marked; ``label`` is read out."""
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not points or top <= 0:
        return mark_safe(
            f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="{escape(label)}"></svg>'
        )
    step = (width - 6) / max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return 3 + i * step, height - 3 - (height - 6) * min(max(v / top, 0.0), 1.0)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
    lx, ly = xy(*points[-1])
    return mark_safe(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<polyline points="{path}" fill="none" stroke="{MUTED}" stroke-width="1.5"/>'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.5" fill="{INK}"/></svg>'
    )


def cv_lines(
    years: Sequence[int],
    lines: Mapping[str, Sequence[float | None]],
    limit: float | None,
    title: str,
    decimals: int = 3,
) -> SafeString:
    """The CVs of a stage's indicators (``lines``: code → one value per year) over ``years``, the limit dashed."""
    width, height, left, right, top_pad, bottom = 440, 230, 44, 64, 26, 28
    values = [v for vs in lines.values() for v in vs if v is not None and math.isfinite(v)]
    top = max([*values, (limit or 0) * 1.2, 0.1]) * 1.08
    step = nice_step(top)
    ymax = math.ceil(top / step - 1e-9) * step
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / max(len(years) - 1, 1) if len(years) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / ymax)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="t-{id(lines)}">',
        f'<title id="t-{id(lines)}">{escape(title)}</title>',
        f'<text x="{left}" y="16" font-size="12" fill="{INK}">{escape(title)}</text>',
    ]
    tick = 0.0
    while tick <= ymax + 1e-9:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end" fill="{MUTED}">'
            f"{fmt(tick, 2)}</text>"
        )
        tick += step
    for i, year in enumerate(years):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 8}" font-size="10" text-anchor="middle" fill="{MUTED}">{year}</text>'
        )
    if limit is not None:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" stroke="{BAD}" '
            f'stroke-dasharray="5 3"/><text x="{left + plot_w + 4}" y="{y(limit) + 4:.1f}" font-size="10" '
            f'fill="{BAD}">限值 {fmt(limit, 2)}</text>'
        )
    for n, (code, vs) in enumerate(lines.items()):
        colour = PALETTE[n % len(PALETTE)]
        pts = [(i, v) for i, v in enumerate(vs) if v is not None and math.isfinite(v)]
        if not pts:
            continue
        parts.append(
            f'<polyline points="{" ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in pts)}" fill="none" '
            f'stroke="{colour}" stroke-width="1.8"/>'
        )
        for i, v in pts:
            over = limit is not None and v > limit
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{BAD if over else colour}">'
                f"<title>{escape(code)} {years[i]} 年：{fmt(v, decimals)}</title></circle>"
            )
        li, lv = pts[-1]
        parts.append(
            f'<text x="{x(li) + 6:.1f}" y="{y(lv) + 3 + (n % 2) * 2:.1f}" font-size="10" fill="{colour}">'
            f"{escape(code)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped or formatted from numbers
