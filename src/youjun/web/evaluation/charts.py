"""Server-side SVG charts (no JavaScript chart library, no CDN): the seven CVs of a stage against the limit.

The SVG scales with its container (``viewBox``), carries a ``<title>`` and a ``<desc>`` for screen readers and a
tooltip per bar; every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from youjun.web.evaluation.pages import fmt

GOOD, BAD, WARN, MISSING = "#067647", "#b42318", "#b54708", "#9aa5b1"
INK, MUTED, GRID = "#1f2933", "#616e7c", "#d9e2ec"

# Horizontal bars read well from a phone (≈330 px) to a desktop column (≈450 px) without rescaling the text much.
WIDTH = 420
LEFT, RIGHT, TOP, BOTTOM = 116, 14, 30, 26
ROW = 30


@dataclass(frozen=True)
class Bar:
    code: str
    label: str  # short Chinese label under the bar
    name: str  # full indicator name (tooltip)
    value: float | None
    passed: bool | None
    boundary: bool = False


def nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step so that about ``ticks`` steps cover ``top``.

    >>> nice_step(0.6), nice_step(1.3), nice_step(0.12)
    (0.2, 0.5, 0.025)
    """
    raw = top / ticks
    magnitude: float = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover


def cv_chart(bars: Sequence[Bar], limit: float | None, title: str, decimals: int = 3) -> SafeString:
    """A horizontal bar chart of the difference coefficients with a dashed limit line."""
    values = [b.value for b in bars if b.value is not None and math.isfinite(b.value)]
    top = max([*values, (limit or 0) * 1.25, 0.1])
    top = max(top, max(values, default=0) * 1.15)
    step = nice_step(top)
    xmax = math.ceil(top / step - 1e-9) * step
    plot_w = WIDTH - LEFT - RIGHT
    height = TOP + ROW * len(bars) + BOTTOM
    base = TOP + ROW * len(bars)

    def x(v: float) -> float:
        return LEFT + plot_w * min(max(v, 0.0), xmax) / xmax

    limit_text = fmt(limit, 2) if limit is not None else ""
    failing = [b.code for b in bars if b.passed is False]
    desc = f"限值 {limit_text}；" if limit is not None else ""
    desc += "超过限值或无法计算：" + "、".join(failing) if failing else "全部指标不超过限值"
    parts = [
        f'<svg class="cv-chart" viewBox="0 0 {WIDTH} {height}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="inherit" font-size="13">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    tick_decimals = len(f"{step:.6f}".rstrip("0").split(".")[1])
    for k in range(round(xmax / step) + 1):
        tx = x(k * step)
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{TOP - 4}" y2="{base}" stroke="{GRID}"/>'
            f'<text x="{tx:.1f}" y="{base + 17}" text-anchor="middle" font-size="11" fill="{MUTED}">'
            f"{fmt(k * step, tick_decimals)}</text>"
        )
    bar_h = ROW * 0.62
    for i, b in enumerate(bars):
        cy = TOP + ROW * (i + 0.5)
        verdict = "无法计算" if b.value is None else ("达标" if b.passed else "超过限值" if b.passed is False else "")
        tip = f"{b.code} {b.name}：差异系数 {fmt(b.value, decimals)}"
        if limit is not None:
            tip += f"（限值 {limit_text}，{verdict}）" if verdict else f"（限值 {limit_text}）"
        if b.boundary:
            tip += "；临界：全精度与四舍五入后比较结论不同"
        parts.append(
            f"<g><title>{escape(tip)}</title>"
            f'<text x="{LEFT - 8}" y="{cy + 4.5:.1f}" text-anchor="end" fill="{INK}">'
            f'<tspan font-weight="600">{escape(b.code)}</tspan> {escape(b.label)}</text>'
        )
        if b.value is None or not math.isfinite(b.value):
            parts.append(f'<text x="{LEFT + 6}" y="{cy + 4.5:.1f}" fill="{BAD}">无法计算</text></g>')
            continue
        colour = GOOD if b.passed is not False else BAD
        end = x(b.value)
        stroke = f' stroke="{WARN}" stroke-width="2.5" stroke-dasharray="5 3"' if b.boundary else ""
        text = fmt(b.value, decimals)
        inside = end + 46 > WIDTH  # no room after the bar: write the value inside it
        tx, anchor, fill = (end - 5, "end", "#fff") if inside else (end + 5, "start", INK)
        halo = "" if inside else ' stroke="#fff" stroke-width="3" paint-order="stroke"'  # readable over the limit line
        parts.append(
            f'<rect x="{LEFT}" y="{cy - bar_h / 2:.1f}" width="{max(end - LEFT, 0.5):.1f}" height="{bar_h:.1f}" '
            f'rx="2" fill="{colour}"{stroke}/>'
            f'<text x="{tx:.1f}" y="{cy + 4.5:.1f}" text-anchor="{anchor}" fill="{fill}"{halo}>{text}</text></g>'
        )
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP - 4}" y2="{base}" stroke="{MUTED}"/>')
    if limit is not None:
        lx = x(limit)
        parts.append(
            f'<line x1="{lx:.1f}" x2="{lx:.1f}" y1="{TOP - 6}" y2="{base}" stroke="{BAD}" stroke-width="1.5" '
            f'stroke-dasharray="6 4"/>'
            f'<text x="{lx:.1f}" y="{TOP - 11}" text-anchor="middle" font-size="12" fill="{BAD}">'
            f"限值 {limit_text}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped or formatted from numbers
