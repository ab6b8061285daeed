"""What the documents take from the rule set, and how they write a value or a status.

Everything the documents say about the rules comes from the rule set (:class:`Terms`): indicator names and units,
stage names, which items are rates, the per-school rule (at least ``min_met`` of the indicators, the others not below
``min_ratio`` of their standard), the difference-coefficient limits per stage, the S1 threshold, the valid-return
minimum and the display decimals. Values are shown as the web pages show them (:mod:`youjun.formatting`):
coefficients with ``display_cv_decimals``, other values with ``display_value_decimals``, rates as percentages, rounded
half-up (四舍五入).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from youjun.engine.assessment import PART_NAMES as ENGINE_PART_NAMES
from youjun.engine.assessment import STATUS_NAMES
from youjun.formatting import DASH, Display, chinese_count, number, percent, rule_number
from youjun.standards import RuleSet, load_rule_set

STATUS_LABELS = STATUS_NAMES
PART_NAMES = {**ENGINE_PART_NAMES, "vetoes": "一票否决事项"}
NOT_EVALUATED = "本次评估未包含该部分（缺少县级指标等数据），不能视为达标。"
#: The code of the social-recognition section in the evaluation JSON (its value and threshold are rates).
RECOGNITION_CODE = "S1"


def rate_codes(rules: RuleSet) -> frozenset[str]:
    """Items whose value and threshold are rates (fractions shown as percentages): those the rule set marks
    ``unit = "%"`` in its guarantee and quality tables, and S1.

    >>> sorted(rate_codes(load_rule_set("national-2017")))[:4]
    ['G11', 'G12', 'G13', 'G14']
    """
    return frozenset(
        {
            str(code)
            for section in ("guarantee", "quality")
            for code, item in (rules.sections.get(section) or {}).items()
            if isinstance(item, Mapping) and item.get("unit") == "%"
        }
        | {RECOGNITION_CODE}
    )


@dataclass(frozen=True)
class Terms:
    """The rule set in force as the documents speak it.

    >>> terms = Terms.of(load_rule_set("national-2017"))
    >>> terms.school_rule_text()
    '每个评估单元七项指标至少六项达到标准、其余一项不低于标准的 85%'
    >>> terms.cv_limit_text()
    '各项指标校际差异系数小学不高于 0.50、初中不高于 0.45'
    >>> terms.recognition_text(), terms.valid_return_text()
    ('不低于 85%', '不低于 70%')
    """

    rules: RuleSet
    shown: Display
    rates: frozenset[str]

    @classmethod
    def of(cls, rules: RuleSet | None = None) -> Terms:
        """The terms of ``rules`` (the default rule set when None)."""
        rules = rules if rules is not None else load_rule_set()
        return cls(rules=rules, shown=Display.of(rules.precision), rates=rate_codes(rules))

    # Names ---------------------------------------------------------------------------------------------
    def indicator(self, code: str) -> tuple[str, str]:
        """An indicator's name and unit; the code itself when the rule set does not know it."""
        ind = self.rules.indicators.get(code)
        return (ind.name, ind.unit) if ind is not None else (code, "")

    def indicator_label(self, code: str) -> str:
        return f"{code} {self.indicator(code)[0]}"

    def standard(self, code: str, stage: object) -> float | None:
        """An indicator's standard for a stage in the rule set (None when it sets none)."""
        ind = self.rules.indicators.get(code)
        value = (ind.standard or {}).get(str(stage)) if ind is not None else None
        return None if value is None else float(value)

    def integral(self, code: str) -> bool:
        """Whether the indicator counts whole things (teachers, rooms): its shortfall is a whole number."""
        ind = self.rules.indicators.get(code)
        return bool(ind is not None and ind.integral)

    def stage(self, key: object) -> str:
        return self.rules.stage_name(str(key))

    def stage_order(self) -> list[str]:
        """The rule set's stages first, then the other named stages (senior), in the rule set's order."""
        return [*self.rules.stages, *(k for k in self.rules.stage_names if k not in self.rules.stages)]

    def codes(self, found: Iterable[str]) -> list[str]:
        """Indicator codes in the rule set's order (a stored JSON object does not keep its key order), then any
        code the rule set does not know."""
        present = set(found)
        known = [c for c in self.rules.indicators if c in present]
        return known + sorted(present - set(known))

    def section_size(self, section: str) -> int:
        return sum(isinstance(v, Mapping) for v in (self.rules.sections.get(section) or {}).values())

    # Figures -------------------------------------------------------------------------------------------
    def value(self, value: object) -> str:
        return format_value(value, decimals=self.shown.value_decimals)

    def rate(self, value: object) -> str:
        return format_value(value, decimals=self.shown.value_decimals, rate=True)

    def cv(self, value: object) -> str:
        return format_value(value, decimals=self.shown.cv_decimals)

    def item(self, code: str, value: object) -> str:
        """An item's value or threshold as shown: a percentage for the rate items of the rule set."""
        return format_value(value, decimals=self.shown.value_decimals, rate=code in self.rates)

    def limit(self, value: float) -> str:
        """A coefficient limit as the rule set writes it (at least the decimals it compares with)."""
        return rule_number(value, self.rules.precision.compare_cv_decimals)

    # Requirements --------------------------------------------------------------------------------------
    def school_rule_text(self) -> str | None:
        """The per-school rule in words (standard-2017.md §3.1); None for a method without one."""
        rule = self.rules.school_rule
        if rule is None:
            return None
        total = len(self.rules.indicators)
        rest = total - rule.min_met
        if rest <= 0:
            text = f"每个评估单元{chinese_count(total)}项指标均达到标准"
        else:
            text = f"每个评估单元{chinese_count(total)}项指标至少{chinese_count(rule.min_met)}项达到标准"
            if rule.min_ratio > 0:
                others = "其余一项" if rest == 1 else "其余指标"
                text += f"、{others}不低于标准的 {rule_number(rule.min_ratio, 0, percent_=True)}"
        if rule.allow_exceptions:
            text += "（未达标的评估单元逐一列出，不影响县域资源配置结论）"
        return text

    def _per_stage(self, limits: Mapping[str, float] | None) -> str:
        limits = limits or {}
        return "、".join(
            f"{self.stage(s)}不高于 {self.limit(limits[s])}" for s in self.stage_order() if limits.get(s) is not None
        )

    def cv_limit_text(self) -> str | None:
        """The difference-coefficient limits per stage in words (and the composite's, for the 2012 method)."""
        parts = []
        if limits := self._per_stage(self.rules.balance.cv_limit):
            parts.append(f"各项指标校际差异系数{limits}")
        if self.rules.balance.composite != "none" and (limits := self._per_stage(self.rules.balance.composite_limit)):
            parts.append(f"综合差异系数{limits}")
        return "，".join(parts) or None

    def _recognition(self, key: str) -> float | None:
        value = (self.rules.sections.get("recognition") or {}).get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def recognition_name(self) -> str:
        return str((self.rules.sections.get("recognition") or {}).get("name") or "社会认可度")

    def recognition_threshold(self) -> float | None:
        return self._recognition("threshold")

    def recognition_text(self) -> str | None:
        """The S1 threshold in words: 不低于 85%."""
        threshold = self.recognition_threshold()
        return None if threshold is None else f"不低于 {rule_number(threshold, 0, percent_=True)}"

    def valid_return_text(self) -> str | None:
        """The survey's minimum valid-return rate in words: 不低于 70%."""
        minimum = self._recognition("valid_return_min")
        return None if minimum is None else f"不低于 {rule_number(minimum, 0, percent_=True)}"

    def standard_name(self) -> str:
        """The rule set's name without its label: 国家标准：县域…办法（教督〔2017〕6号） → 县域…办法（…）."""
        label, colon, rest = self.rules.name.partition("：")
        return rest if colon and rest and len(label) <= 8 else self.rules.name

    def requirements(self) -> list[tuple[str, str]]:
        """The rules the documents state, as (label, text) rows for the annex."""
        rows = [("评估依据", self.rules.name)]
        for label, text in (
            ("逐校规则", self.school_rule_text()),
            ("差异系数限值", self.cv_limit_text()),
            ("社会认可度标准", self.recognition_text()),
            ("有效问卷回收率", self.valid_return_text()),
        ):
            if text:
                rows.append((label, text))
        return rows

    def annex_notes(self) -> tuple[str, ...]:
        return (
            "差异系数按学生数加权计算；各表单元格保留全精度数值，显示按四舍五入"
            f"（差异系数 {self.shown.cv_decimals} 位小数，其他 {self.shown.value_decimals} 位）。",
            "比率以小数保存并以百分比显示（0.95 即 95%）；金额单位为元。",
            "各工作表第一行为表头（本表第一行为标题），可直接筛选、排序或由程序读取。",
        )


# ----------------------------------------------------------------------------------------------------
# Display helpers


def status_label(status: object) -> str:
    return STATUS_LABELS.get(str(status), DASH if status is None else str(status))


def judged_label(entry: Mapping[str, Any]) -> str:
    """The status of an item, a school or S1, with 「⚠临界」 when its figure sits on a boundary (decision 26)."""
    return status_label(entry.get("status")) + ("（⚠临界）" if entry.get("boundary") else "")


def format_value(value: object, *, decimals: int, rate: bool = False) -> str:
    """A JSON value as shown to users (:mod:`youjun.formatting`): a float with ``decimals`` decimals rounded half-up
    and thousands separators, a rate as a percentage, a whole count as is; null → 「—」, a boolean 是/否.

    >>> format_value(2496.7, decimals=2), format_value(0.50178, decimals=3), format_value(0.9125, decimals=2, rate=True)
    ('2,496.70', '0.502', '91.25%')
    >>> format_value(None, decimals=2), format_value(1200, decimals=2), format_value(0.91125, decimals=2, rate=True)
    ('—', '1,200', '91.13%')
    """
    if value is None or isinstance(value, bool):
        return DASH if value is None else ("是" if value else "否")
    if not isinstance(value, int | float):
        return str(value)
    if rate:
        return percent(value, decimals)
    if isinstance(value, int):
        return number(value, 0)
    return number(value, decimals)


def item_value(code: str, value: object, rules: RuleSet) -> str:
    """An item's value or threshold as shown under ``rules``: a percentage for its rate items."""
    return Terms.of(rules).item(code, value)


def veto_label(item: Mapping[str, Any]) -> str:
    """A veto's finding as the documents write it: 存在（否决）, 不存在, or 数据不足."""
    if item.get("status") == "insufficient_data":
        return "数据不足"
    return "存在（否决）" if item.get("vetoed") else "不存在"
