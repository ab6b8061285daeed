"""Comparisons as the standard reads them (standard-2017.md §3.3).

Full precision by default; a rule set may compare values rounded half-up (四舍五入, never banker's rounding).
A tiny relative tolerance (rule set ``precision.tolerance``) absorbs binary floating point only: 21 teachers for
500 students is exactly 4.2 per hundred even though ``21 / 500 * 100`` is not exactly ``4.2`` in binary.
"""

from __future__ import annotations

import math

import polars as pl

from youjun.standards.model import Precision


def round_half_up(value: pl.Expr, decimals: int, tolerance: float = 1e-9) -> pl.Expr:
    """Round half away from zero at ``decimals`` (四舍五入); 2.675 → 2.68 even though 2.675 is stored below it.

    >>> pl.select(round_half_up(pl.lit(0.505), 2)).item(), pl.select(round_half_up(pl.lit(0.125), 2)).item()
    (0.51, 0.13)
    """
    scale = 10.0**decimals
    magnitude = (value.abs() * scale * (1 + tolerance) + 0.5).floor() / scale
    return pl.when(value < 0).then(-magnitude).otherwise(magnitude)


def round_half_up_scalar(value: float, decimals: int, tolerance: float = 1e-9) -> float:
    """Scalar twin of :func:`round_half_up` for display code.

    >>> round_half_up_scalar(0.5153, 2), round_half_up_scalar(2.675, 2)
    (0.52, 2.68)
    """
    scale = 10.0**decimals
    magnitude = math.floor(abs(value) * scale * (1 + tolerance) + 0.5) / scale
    return -magnitude if value < 0 else magnitude


def compared(value: pl.Expr, precision: Precision, decimals: int) -> pl.Expr:
    """The value a comparison uses: as computed, or rounded half-up when the rule set compares rounded values."""
    if precision.compare == "rounded":
        return round_half_up(value, decimals, precision.tolerance)
    return value


def at_least(value: pl.Expr, threshold: pl.Expr | float, precision: Precision, decimals: int) -> pl.Expr:
    """``value ≥ threshold`` (不低于/以上), unrounded or after half-up rounding as the rule set says."""
    return compared(value, precision, decimals) >= threshold * (1 - precision.tolerance)


def at_most(value: pl.Expr, limit: pl.Expr | float, precision: Precision, decimals: int) -> pl.Expr:
    """``value ≤ limit`` (不超过/以下), unrounded or after half-up rounding as the rule set says."""
    return compared(value, precision, decimals) <= limit * (1 + precision.tolerance)
