"""Numbers as users read them: one scalar formatter for pages, documents, annexes, the terminal, the survey and
exports (the engine's vectorised twin, :func:`youjun.engine.items.number_text`, formats whole columns and gives the
same text, character for character).

- Half-up rounding (四舍五入), never banker's rounding: :func:`youjun.engine.precision.round_half_up_scalar` with a
  slack of a few ulps, so 0.505 (stored as 0.50499…) shows as 0.51 while 100,000,000.00 stays itself.
- Thousands separators, an ASCII minus, no "-0.00".
- Rates are fractions shown as percentages (0.9125 → 91.25%).
- Decimals come from the rule set's ``[precision]`` (``display_value_decimals`` for values and rates,
  ``display_cv_decimals`` for coefficients): :class:`Display` binds them.
- Units follow the figure after a space (2,496.70 ㎡, 1,200 人); a missing or undefined value is "—".

>>> number(0.505, 2), number(2.675, 2), number(-0.975, 2), number(1234567.891, 2), number(None, 2)
('0.51', '2.68', '-0.98', '1,234,567.89', '—')
>>> percent(0.9125, 2), percent(0.91125, 2), percent(None, 2)
('91.25%', '91.13%', '—')
>>> number(2496.7, 2, unit="㎡"), count(1200, "人"), number(6000.0, 2, unit="元", trim=True), count(3, "间")
('2,496.70 ㎡', '1,200 人', '6,000 元', '3 间')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import SupportsFloat

from youjun.engine.items import DISPLAY_ROUNDING_SLACK
from youjun.engine.precision import round_half_up_scalar
from youjun.standards.model import Precision

__all__ = [
    "DASH",
    "Display",
    "chinese_count",
    "count",
    "excel_format",
    "number",
    "parse_percent",
    "percent",
    "percent_input",
    "rounded",
    "rule_number",
]

DASH = "—"
#: Rule-set numbers are shown exactly up to this many decimals (a limit of 0.455 is never shown as 0.46).
RULE_MAX_DECIMALS = 6


def _finite(value: object) -> float | None:
    """The value as a float, or None when it is missing, not a number, NaN or infinite."""
    if value is None:
        return None
    try:
        number_ = float(value)  # type: ignore[arg-type]  # any value: what float() refuses is caught below
    except (TypeError, ValueError, OverflowError):
        return None
    return number_ if math.isfinite(number_) else None


def rounded(value: float, decimals: int) -> float:
    """``value`` rounded half away from zero at ``decimals`` as displayed (the display's slack, not the
    comparisons' tolerance: a relative 1e-9 would turn 5,000,000.00 into 5,000,000.01).

    >>> rounded(0.505, 2), rounded(0.125, 2), rounded(-0.975, 2), rounded(5_000_000.0, 2), rounded(999.5, 0)
    (0.51, 0.13, -0.98, 5000000.0, 1000.0)
    """
    return round_half_up_scalar(value, decimals, DISPLAY_ROUNDING_SLACK)


def _digits(value: float, decimals: int, *, grouping: bool, trim: bool) -> str | None:
    """The rounded value written out with the integer arithmetic of the engine's ``number_text``: the magnitude
    counted in steps of 10^-decimals, rounded half-up (exact for every float); None beyond the float range."""
    scale = 10**decimals
    steps = abs(value) * scale
    if not math.isfinite(steps):
        return None
    magnitude = int(round_half_up_scalar(steps, 0, DISPLAY_ROUNDING_SLACK))
    whole, fraction = divmod(magnitude, scale)
    text = f"{whole:,}" if grouping else str(whole)
    if decimals > 0 and not (trim and fraction == 0):
        text += "." + str(fraction).zfill(decimals)
    return "-" + text if value < 0 and magnitude > 0 else text


def number(
    value: SupportsFloat | None,
    decimals: int,
    *,
    unit: str | None = None,
    grouping: bool = True,
    trim: bool = False,
    missing: str = DASH,
) -> str:
    """A figure rounded half-up to ``decimals``, with thousands separators (``grouping``) and its ``unit``;
    ``trim`` drops an all-zero decimal part (money: 6,000 元); ``missing`` for None, NaN and infinity.

    >>> number(0.50178, 3), number(-0.0001, 3), number(98000.0, 2, trim=True), number(float("nan"), 2)
    ('0.502', '0.000', '98,000', '—')
    >>> number(12345.6, 1, grouping=False), number(None, 2, missing="未填写"), number(7, 2)
    ('12345.6', '未填写', '7.00')
    """
    figure = _finite(value)
    if figure is None:
        return missing
    text = _digits(figure, decimals, grouping=grouping, trim=trim)
    if text is None:
        return missing
    return f"{text} {unit}" if unit else text


def percent(
    value: SupportsFloat | None, decimals: int, *, grouping: bool = True, trim: bool = False, missing: str = DASH
) -> str:
    """A rate (a fraction) as a percentage with ``decimals`` decimals, rounded half-up.

    >>> percent(0.71111, 1), percent(0.8125, 0), percent(1.0, 2), percent(0.85, 2, trim=True), percent(0.005, 0)
    ('71.1%', '81%', '100.00%', '85%', '1%')
    """
    figure = _finite(value)
    if figure is None:
        return missing
    text = _digits(figure * 100, decimals, grouping=grouping, trim=trim)
    return missing if text is None else text + "%"


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．％，", "0123456789.%,")


def parse_percent(text: str, *, max_decimals: int = 4) -> tuple[float, bool]:
    """A rate typed into a percent field → ``(fraction, read_as_fraction)``; ValueError with a Chinese message.

    Rates are entered in percent (87 or 87.5, with or without "%", full-width digits too) and stored as fractions.
    A number strictly between 0 and 1 without a "%" sign is read as a fraction already (0.87 → 87%), and the flag says
    so, so that the form can tell the user how it was understood (decision 44). The fraction is exact in decimal:
    "87.35" gives 0.8735, never 0.8734999….

    >>> parse_percent("87"), parse_percent("87.5%"), parse_percent("0.87"), parse_percent("１００"), parse_percent("0")
    ((0.87, False), (0.875, False), (0.87, True), (1.0, False), (0.0, False))
    """
    from decimal import Decimal, InvalidOperation

    raw = text.strip().translate(_FULL_WIDTH).replace(",", "")
    has_sign = raw.endswith("%")
    raw = raw.removesuffix("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"「{text.strip()}」不是数字，请以百分数填写，如 87 表示 87%") from None
    if not value.is_finite():
        raise ValueError(f"「{text.strip()}」不是数字，请以百分数填写，如 87 表示 87%")
    as_fraction = not has_sign and 0 < value < 1
    percent_value = value * 100 if as_fraction else value
    if not 0 <= percent_value <= 100:
        raise ValueError(f"百分数应在 0 到 100 之间，填写的是 {text.strip()}")
    if -percent_value.as_tuple().exponent > max_decimals:  # type: ignore[operator]
        raise ValueError(f"百分数最多保留 {max_decimals} 位小数，填写的是 {text.strip()}")
    return float(percent_value / 100), as_fraction


def percent_input(value: SupportsFloat | None) -> str:
    """A stored fraction as the text of a percent field: exact, without trailing zeros (0.875 → "87.5", 1 → "100").

    >>> percent_input(0.87), percent_input(0.8699999999999999), percent_input(1.0), percent_input(None)
    ('87', '87', '100', '')
    """
    figure = _finite(value)
    if figure is None:
        return ""
    text = f"{rounded(figure * 100, RULE_MAX_DECIMALS):.{RULE_MAX_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def count(value: SupportsFloat | None, unit: str | None = None, *, missing: str = DASH) -> str:
    """A whole count (schools, students, answers, rooms) with thousands separators and its unit.

    >>> count(1095), count(2001, "人"), count(None)
    ('1,095', '2,001 人', '—')
    """
    return number(value, 0, unit=unit, missing=missing)


def rule_number(value: SupportsFloat | None, decimals: int, *, percent_: bool = False, unit: str | None = None) -> str:
    """A number of the rule set (a limit, a threshold, a ratio) with at least ``decimals`` decimals and as many more
    as it has (up to six): the rule as written, never rounded into another rule.

    >>> rule_number(0.5, 2), rule_number(0.45, 2), rule_number(0.455, 2), rule_number(6000, 0, unit="元")
    ('0.50', '0.45', '0.455', '6,000 元')
    >>> rule_number(0.85, 0, percent_=True), rule_number(0.875, 0, percent_=True), rule_number(None, 2)
    ('85%', '87.5%', '—')
    """
    figure = _finite(value)
    if figure is None:
        return DASH
    shown = figure * 100 if percent_ else figure
    places = next(
        (
            d
            for d in range(decimals, RULE_MAX_DECIMALS + 1)
            if abs(rounded(shown, d) - shown) <= 1e-9 * max(1.0, abs(shown))
        ),
        max(decimals, RULE_MAX_DECIMALS),
    )
    if percent_:
        return percent(figure, places)
    return number(figure, places, unit=unit)


@dataclass(frozen=True, slots=True)
class Display:
    """The rule set's display precision bound to the formatters.

    >>> shown = Display(value_decimals=2, cv_decimals=3)
    >>> shown.value(2496.7), shown.value(4.2, unit="人"), shown.cv(0.50178), shown.rate(0.9125), shown.rate(None)
    ('2,496.70', '4.20 人', '0.502', '91.25%', '—')
    """

    value_decimals: int
    cv_decimals: int

    @classmethod
    def of(cls, precision: Precision) -> Display:
        """The display decimals of a rule set's ``[precision]`` table."""
        return cls(value_decimals=precision.display_value_decimals, cv_decimals=precision.display_cv_decimals)

    def value(self, value: SupportsFloat | None, *, unit: str | None = None, missing: str = DASH) -> str:
        return number(value, self.value_decimals, unit=unit, missing=missing)

    def cv(self, value: SupportsFloat | None, *, missing: str = DASH) -> str:
        return number(value, self.cv_decimals, missing=missing)

    def rate(self, value: SupportsFloat | None, *, missing: str = DASH) -> str:
        return percent(value, self.value_decimals, missing=missing)


def excel_format(decimals: int, *, grouping: bool = False, percent_: bool = False, signed: bool = False) -> str:
    """The Excel number format showing ``decimals`` decimals (Excel itself rounds half-up when displaying).

    >>> excel_format(2, grouping=True), excel_format(3), excel_format(1, percent_=True), excel_format(0)
    ('#,##0.00', '0.000', '0.0%', '0')
    >>> excel_format(3, signed=True), excel_format(2, grouping=True, signed=True)
    ('+0.000;-0.000;0.000', '+#,##0.00;-#,##0.00;0.00')
    """
    tail = ("." + "0" * decimals if decimals > 0 else "") + ("%" if percent_ else "")
    body = ("#,##0" if grouping else "0") + tail
    return f"+{body};-{body};0{tail}" if signed else body


_DIGITS = "零一二三四五六七八九"


def chinese_count(n: int) -> str:
    """A small count in Chinese numerals, as the method's sentences write them (七项指标至少六项); digits from 100.

    >>> chinese_count(6), chinese_count(7), chinese_count(10), chinese_count(15), chinese_count(24), chinese_count(0)
    ('六', '七', '十', '十五', '二十四', '零')
    >>> chinese_count(120), chinese_count(-1)
    ('120', '-1')
    """
    if not 0 <= n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
