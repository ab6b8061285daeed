"""The view models of the result pages (county, province/prefecture, national) and their exports, built from the
stored results that ``evaluation.selectors`` reads."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Substr

from youjun import formatting
from youjun.engine.precision import round_half_up_scalar
from youjun.standards import RuleSet
from youjun.web.accounts.models import User
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.selectors import (
    breadcrumbs,
    completeness,
    evaluations_for,
    rule_set,
    years_with_results,
)
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.rulesets import services as rulesets

DASH = "—"
MINUS = "−"  # U+2212, the typographic minus sign

# ----------------------------------------------------------------------------------------------------
# Formatting


def fmt(value: float | None, decimals: int, *, grouping: bool = True) -> str:
    """``youjun.formatting.number``: rounded half-up (四舍五入), ``—`` when missing.

    >>> fmt(0.5153, 2), fmt(2.675, 2), fmt(2496.7, 2), fmt(None, 3), fmt(-0.0001, 3)
    ('0.52', '2.68', '2,496.70', '—', '0.000')
    """
    return formatting.number(value, decimals, grouping=grouping)


def fmt_pct(value: float | None, decimals: int = 1) -> str:
    """``youjun.formatting.percent``: a ratio as a percentage, half-up.

    >>> fmt_pct(0.71111), fmt_pct(0.8125, 0), fmt_pct(None), fmt_pct(0.91125, 2)
    ('71.1%', '81%', '—', '91.13%')
    """
    return formatting.percent(value, decimals, grouping=False)


@dataclass(frozen=True)
class Delta:
    """A change from last year: text with sign, arrow, and whether it is an improvement."""

    text: str
    arrow: str
    trend: str  # "better" | "worse" | "same"


def delta(current: float | None, previous: float | None, decimals: int, *, lower_is_better: bool) -> Delta | None:
    """The displayed change ``current − previous`` (rounded half-up) with an arrow.

    >>> delta(0.30, 0.35, 3, lower_is_better=True)
    Delta(text='−0.050', arrow='↓', trend='better')
    >>> delta(5.0, 5.0004, 2, lower_is_better=False)
    Delta(text='0.00', arrow='→', trend='same')
    """
    if current is None or previous is None or not (math.isfinite(current) and math.isfinite(previous)):
        return None
    change = round_half_up_scalar(current - previous, decimals)
    if change == 0:
        return Delta(fmt(0.0, decimals), "→", "same")
    up = change > 0
    sign = "+" if up else MINUS
    return Delta(sign + fmt(abs(change), decimals), "↑" if up else "↓", "worse" if up == lower_is_better else "better")


# ----------------------------------------------------------------------------------------------------
# County page


@dataclass
class IndicatorRow:
    code: str
    name: str
    label: str
    unit: str
    value: float | None
    value_text: str
    cv: float | None
    cv_text: str
    passed: bool | None
    boundary: bool
    prev_value: float | None = None
    prev_cv: float | None = None
    prev_value_text: str = DASH
    prev_cv_text: str = DASH
    value_delta: Delta | None = None
    cv_delta: Delta | None = None
    removal_school: str = ""
    removal_after: float | None = None
    removal_cv: str = DASH
    levelling_school: str = ""
    levelling_after: float | None = None
    levelling_cv: str = DASH


@dataclass
class StageView:
    key: str
    name: str
    units: int
    units_passed: int
    students: int
    passed: bool
    cv_limit: float | None
    limit_text: str
    rows: list[IndicatorRow]
    boundary: list[str]
    failed_cvs: list[str]
    has_influence: bool
    previous: Mapping[str, Any] | None = None
    chart: str = ""


@dataclass
class UnitCell:
    text: str
    value: float | None
    met: bool | None

    @property
    def key(self) -> str:
        """The sort key of the cell (full precision, locale-independent)."""
        return "" if self.value is None else repr(float(self.value))


@dataclass
class UnitRow:
    school_id: str
    school_name: str
    stage: str
    stage_name: str
    students: int
    cells: list[UnitCell]
    n_met: int
    passed: bool | None


@dataclass
class ShortfallRow:
    school_id: str
    school_name: str
    stage_name: str
    code: str
    indicator: str
    value: float | None
    value_text: str
    standard: float | None
    standard_text: str
    ratio: float | None
    ratio_text: str
    shortfall: float | None
    shortfall_text: str
    unit: str
    unit_passed: bool | None
    boundary: bool = False


@dataclass
class CountyPage:
    county: OrgUnit
    year: int
    standard: str
    rules: RuleSet
    computed_at: datetime
    passed: bool
    units: int
    units_passed: int
    stages: list[StageView]
    unit_rows: list[UnitRow]
    shortfalls: list[ShortfallRow]
    excluded: list[dict[str, str]]
    previous_year: int | None
    previous_passed: bool | None
    years: list[int]
    crumbs: list[OrgUnit] = field(default_factory=list)
    records_approved: int = 0
    records_total: int = 0
    evaluation: CountyEvaluation | None = None

    @property
    def provisional(self) -> bool:
        """Some records of the year are not approved yet: the verdict covers only the approved schools."""
        return self.records_approved < self.records_total

    @property
    def records_pending(self) -> int:
        return self.records_total - self.records_approved

    @property
    def codes(self) -> list[str]:
        return list(self.rules.indicators)

    @property
    def indicators(self) -> list[Any]:
        return list(self.rules.indicators.values())

    @property
    def stage_choices(self) -> list[tuple[str, str]]:
        return [(s.key, s.name) for s in self.stages]

    @property
    def has_influence(self) -> bool:
        return any(s.has_influence for s in self.stages)


def _stages_of(result: Mapping[str, Any]) -> dict[str, Any]:
    stages: dict[str, Any] = (result.get("resource_allocation") or {}).get("stages") or {}
    return stages


def county_page(user: User, county: OrgUnit, year: int) -> CountyPage | None:
    """Everything the county page and its export show, from the stored result (``None`` when there is none)."""
    evaluation = (
        evaluations_for(user)
        .filter(county=county, year=year)
        .only(
            "year",
            "standard",
            "passed",
            "units",
            "units_passed",
            "result",
            "computed_at",
            "engine_version",
            "ruleset_digest",
            "generation",
        )
        .first()
    )
    if evaluation is None:
        return None
    rules = rule_set(evaluation.standard)
    stages_key = KeyTransform("stages", KeyTransform("resource_allocation", "result"))
    previous = (
        evaluations_for(user)
        .filter(county=county, year=year - 1)
        .annotate(stages=stages_key)
        .values("passed", "stages")
        .first()
    )
    complete = completeness(county.code, year).get(county.code, (0, 0))
    result: dict[str, Any] = evaluation.result or {}
    allocation: dict[str, Any] = result.get("resource_allocation") or {}
    names = {u.get("school_id"): u.get("school_name") or "" for u in allocation.get("units") or []}
    for item in allocation.get("excluded") or []:
        names.setdefault(item.get("school_id"), item.get("school_name") or "")
    previous_stages = _as_dict(previous["stages"]) if previous else {}
    stages = [
        _stage_view(key, stage, rules, names, previous_stages.get(key))
        for key, stage in _ordered(_stages_of(result), rules)
    ]
    return CountyPage(
        county=county,
        year=year,
        standard=evaluation.standard,
        rules=rules,
        computed_at=evaluation.computed_at,
        passed=bool(allocation.get("passed", evaluation.passed)),
        units=evaluation.units,
        units_passed=evaluation.units_passed,
        stages=stages,
        unit_rows=_unit_rows(allocation.get("units") or [], rules),
        shortfalls=_shortfall_rows(allocation.get("shortfalls") or [], rules, names),
        excluded=[
            {
                "school_id": str(e.get("school_id") or ""),
                "school_name": str(e.get("school_name") or names.get(e.get("school_id"), "")),
                "reason": str(e.get("reason") or ""),
            }
            for e in allocation.get("excluded") or []
        ],
        previous_year=year - 1 if previous else None,
        previous_passed=bool(previous["passed"]) if previous else None,
        years=years_with_results(user, county.code),
        crumbs=breadcrumbs(user, county),
        records_approved=complete[0],
        records_total=complete[1],
        evaluation=evaluation,
    )


def _as_dict(value: Any) -> dict[str, Any]:
    """A JSON key read through ``values()``: decoded by the JSON field, or still text on some backends."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _ordered(stages: Mapping[str, Any], rules: RuleSet) -> list[tuple[str, Any]]:
    order: dict[str, int] = {s: i for i, s in enumerate(rules.stages)}
    return sorted(stages.items(), key=lambda kv: order.get(kv[0], len(order)))


def _stage_view(
    key: str,
    stage: Mapping[str, Any],
    rules: RuleSet,
    names: Mapping[str | None, str],
    previous: Mapping[str, Any] | None,
) -> StageView:
    cv_dec = rules.precision.display_cv_decimals
    val_dec = rules.precision.display_value_decimals
    values = stage.get("county_value") or {}
    cvs = stage.get("cv") or {}
    cv_passed = stage.get("cv_passed") or {}
    boundary = list(stage.get("cv_boundary") or [])
    influence = stage.get("influence") or {}
    prev_values = (previous or {}).get("county_value") or {}
    prev_cvs = (previous or {}).get("cv") or {}
    rows = []
    for code, ind in rules.indicators.items():
        cv = cvs.get(code)
        passed = cv_passed.get(code) if cv_passed else None
        if cv is None and passed is not None:
            passed = False  # an undefined CV is a data problem, never a pass
        row = IndicatorRow(
            code=code,
            name=ind.name,
            label=ind.label,
            unit=ind.unit,
            value=values.get(code),
            value_text=fmt(values.get(code), val_dec),
            cv=cv,
            cv_text=fmt(cv, cv_dec),
            passed=passed,
            boundary=code in boundary,
        )
        if previous is not None:
            row.prev_value, row.prev_cv = prev_values.get(code), prev_cvs.get(code)
            row.prev_value_text = fmt(prev_values.get(code), val_dec)
            row.prev_cv_text = fmt(prev_cvs.get(code), cv_dec)
            row.value_delta = delta(values.get(code), prev_values.get(code), val_dec, lower_is_better=False)
            row.cv_delta = delta(cv, prev_cvs.get(code), cv_dec, lower_is_better=True)
        item = influence.get(code) or {}
        removal, levelling = item.get("removal") or {}, item.get("levelling") or {}
        if removal:
            row.removal_school = names.get(removal.get("school_id"), "") or str(removal.get("school_id") or "")
            row.removal_after = removal.get("cv_after")
            row.removal_cv = fmt(row.removal_after, cv_dec)
        if levelling:
            row.levelling_school = names.get(levelling.get("school_id"), "") or str(levelling.get("school_id") or "")
            row.levelling_after = levelling.get("cv_after")
            row.levelling_cv = fmt(row.levelling_after, cv_dec)
        rows.append(row)
    limit = stage.get("cv_limit")
    return StageView(
        key=key,
        name=rules.stage_name(key),
        units=int(stage.get("units") or 0),
        units_passed=int(stage.get("units_passed") or 0),
        students=int(stage.get("students") or 0),
        passed=bool(stage.get("passed")),
        cv_limit=limit,
        limit_text=fmt(limit, 2) if limit is not None else DASH,
        rows=rows,
        boundary=boundary,
        failed_cvs=[r.code for r in rows if r.passed is False],
        has_influence=bool(influence),
        previous=previous,
    )


def _unit_rows(units: Iterable[Mapping[str, Any]], rules: RuleSet) -> list[UnitRow]:
    codes = list(rules.indicators)
    val_dec = rules.precision.display_value_decimals
    order: dict[str, int] = {s: i for i, s in enumerate(rules.stages)}
    rows = []
    for u in units:
        values = u.get("values") or {}
        met = u.get("met") or {}
        cells = [UnitCell(fmt(values.get(c), val_dec), values.get(c), met.get(c)) for c in codes]
        stage = str(u.get("stage") or "")
        rows.append(
            UnitRow(
                school_id=str(u.get("school_id") or ""),
                school_name=str(u.get("school_name") or ""),
                stage=stage,
                stage_name=rules.stage_name(stage),
                students=int(u.get("students") or 0),
                cells=cells,
                n_met=sum(1 for c in codes if met.get(c)),
                passed=u.get("passed"),
            )
        )
    rows.sort(key=lambda r: (order.get(r.stage, len(order)), r.school_id))
    return rows


def _shortfall_rows(
    items: Iterable[Mapping[str, Any]], rules: RuleSet, names: Mapping[str | None, str]
) -> list[ShortfallRow]:
    val_dec = rules.precision.display_value_decimals
    rows = []
    for s in items:
        code = str(s.get("indicator") or "")
        ind = rules.indicators.get(code)
        whole = bool(ind and ind.integral)
        rows.append(
            ShortfallRow(
                school_id=str(s.get("school_id") or ""),
                school_name=names.get(s.get("school_id"), ""),
                stage_name=rules.stage_name(str(s.get("stage") or "")),
                code=code,
                indicator=ind.name if ind else code,
                value=s.get("value"),
                value_text=fmt(s.get("value"), val_dec),
                standard=s.get("standard"),
                standard_text=fmt(s.get("standard"), val_dec),
                ratio=s.get("ratio"),
                ratio_text=fmt_pct(s.get("ratio")),
                shortfall=s.get("shortfall"),
                shortfall_text=fmt(s.get("shortfall"), 0 if whole else val_dec),
                unit=str(s.get("unit") or (ind.unit if ind else "")),
                unit_passed=s.get("unit_passed"),
                boundary=bool(s.get("boundary")),
            )
        )
    return rows


# ----------------------------------------------------------------------------------------------------
# Province and prefecture page


@dataclass
class CvCell:
    text: str
    value: float | None
    passed: bool | None
    boundary: bool

    @property
    def key(self) -> str:
        return "" if self.value is None else repr(float(self.value))


@dataclass
class CountyRow:
    code: str
    name: str
    prefecture_code: str
    prefecture: str
    passed: bool
    units: int
    units_passed: int
    cells: list[CvCell]
    provisional: bool = False

    @property
    def failed_cvs(self) -> int:
        return sum(1 for c in self.cells if c.passed is False)


@dataclass
class GroupSummary:
    code: str
    name: str
    counties: int
    evaluated: int = 0
    passed: int = 0

    @property
    def failed(self) -> int:
        return self.evaluated - self.passed

    @property
    def share_text(self) -> str:
        return fmt_pct(self.passed / self.evaluated) if self.evaluated else DASH


@dataclass
class UnitPage:
    unit: OrgUnit
    year: int
    rules: RuleSet
    columns: list[tuple[str, str, str]]  # (stage, code, header) of the CV cells
    rows: list[CountyRow]
    counties_total: int
    prefectures: list[GroupSummary]
    years: list[int]
    crumbs: list[OrgUnit] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return len(self.rows)

    @property
    def stage_groups(self) -> list[tuple[str, int]]:
        """(stage name, number of CV columns) in column order, for the grouped table header."""
        groups: list[tuple[str, int]] = []
        for stage, _, _ in self.columns:
            name = self.rules.stage_name(stage)
            if groups and groups[-1][0] == name:
                groups[-1] = (name, groups[-1][1] + 1)
            else:
                groups.append((name, 1))
        return groups

    @property
    def passed(self) -> int:
        return sum(1 for r in self.rows if r.passed)

    @property
    def failed(self) -> int:
        return self.evaluated - self.passed

    @property
    def units(self) -> int:
        return sum(r.units for r in self.rows)

    @property
    def units_passed(self) -> int:
        return sum(r.units_passed for r in self.rows)

    @property
    def share_text(self) -> str:
        return fmt_pct(self.passed / self.evaluated) if self.evaluated else DASH


def _provisional(counts: tuple[int, int] | None) -> bool:
    return counts is not None and counts[0] < counts[1]


def unit_page(user: User, unit: OrgUnit, year: int) -> UnitPage:
    """Every county under a province or prefecture with a stored result for the year (stages only)."""
    rules = rulesets.rules_for(unit, year)
    cv_dec = rules.precision.display_cv_decimals
    stages_key = KeyTransform("stages", KeyTransform("resource_allocation", "result"))
    records = (
        evaluations_for(user)
        .filter(county__code__startswith=unit.prefix, year=year)
        .annotate(stages=stages_key)
        .order_by("county__code")
        .values(
            "county__code",
            "county__name",
            "county__parent__code",
            "county__parent__name",
            "passed",
            "units",
            "units_passed",
            "stages",
        )
    )
    columns: list[tuple[str, str, str]] = [
        (s, c, f"{rules.stage_name(s)}{c}") for s in rules.stages for c in rules.indicators
    ]
    complete = completeness(unit.prefix, year)
    rows = []
    for r in records:
        stages = _as_dict(r["stages"])
        cells = []
        for s, c, _ in columns:
            stage = stages.get(s)
            if stage is None:
                cells.append(CvCell(DASH, None, None, False))
                continue
            cv = (stage.get("cv") or {}).get(c)
            passed = (stage.get("cv_passed") or {}).get(c)
            if cv is None and passed is not None:
                passed = False
            cells.append(CvCell(fmt(cv, cv_dec), cv, passed, c in (stage.get("cv_boundary") or [])))
        rows.append(
            CountyRow(
                code=r["county__code"],
                name=r["county__name"],
                prefecture_code=r["county__parent__code"] or "",
                prefecture=r["county__parent__name"] or "",
                passed=bool(r["passed"]),
                units=int(r["units"]),
                units_passed=int(r["units_passed"]),
                cells=cells,
                provisional=_provisional(complete.get(r["county__code"])),
            )
        )
    counties = OrgUnit.objects.filter(level=Level.COUNTY, code__startswith=unit.prefix)
    prefectures: list[GroupSummary] = []
    if unit.level == Level.PROVINCE:
        totals = dict(counties.values("parent__code").annotate(n=Count("id")).values_list("parent__code", "n"))
        groups = {
            p.code: GroupSummary(p.code, p.name, totals.get(p.code, 0))
            for p in OrgUnit.objects.filter(parent=unit, level=Level.PREFECTURE).only("code", "name")
        }
        for row in rows:
            group = groups.get(row.prefecture_code)
            if group is not None:
                group.evaluated += 1
                group.passed += row.passed
        prefectures = [g for g in groups.values() if g.counties]
    return UnitPage(
        unit=unit,
        year=year,
        rules=rules,
        columns=columns,
        rows=rows,
        counties_total=counties.count(),
        prefectures=prefectures,
        years=years_with_results(user, unit.prefix),
        crumbs=breadcrumbs(user, unit),
    )


# ----------------------------------------------------------------------------------------------------
# National page


@dataclass
class NationalPage:
    year: int
    provinces: list[GroupSummary]
    years: list[int]

    @property
    def counties(self) -> int:
        return sum(p.counties for p in self.provinces)

    @property
    def evaluated(self) -> int:
        return sum(p.evaluated for p in self.provinces)

    @property
    def passed(self) -> int:
        return sum(p.passed for p in self.provinces)

    @property
    def failed(self) -> int:
        return self.evaluated - self.passed

    @property
    def share_text(self) -> str:
        return fmt_pct(self.passed / self.evaluated) if self.evaluated else DASH


def national_page(user: User, year: int) -> NationalPage:
    """Per province: county-level units, counties evaluated for the year, passing, share (two aggregate queries)."""
    counts = (
        evaluations_for(user)
        .filter(year=year)
        .annotate(province=Substr("county__code", 1, 2))
        .values("province")
        .annotate(evaluated=Count("id"), passed=Count("id", filter=Q(passed=True)))
        .values_list("province", "evaluated", "passed")
    )
    by_province = {p: (e, n) for p, e, n in counts}
    totals = dict(
        OrgUnit.objects.filter(level=Level.COUNTY)
        .annotate(province=Substr("code", 1, 2))
        .values("province")
        .annotate(n=Count("id"))
        .values_list("province", "n")
    )
    provinces = []
    for p in OrgUnit.objects.filter(level=Level.PROVINCE).only("code", "name", "prefix").order_by("code"):
        evaluated, passed = by_province.get(p.prefix, (0, 0))
        provinces.append(GroupSummary(p.code, p.name, totals.get(p.prefix, 0), evaluated, passed))
    return NationalPage(year=year, provinces=provinces, years=years_with_results(user, ""))
