"""Annual monitoring and early warning (standard-2017.md §8: monitored → warning → rectification → re-check).

The input is the engine's own output for several years, stacked (``stack``): every frame of an evaluation already
carries its ``year``, so a stack is the frames of the years one under the other. ``series`` turns it into the
figures followed from year to year, for every county and, rolled up by the GB/T 2260 code (province = the first two
digits, prefecture = the first four), for every prefecture, province and the nation:

- ``indicators``: one row per (year, county, stage, indicator R1–R7): the county value (the student-weighted mean
  of the engine), CV, its limit and verdict, the stage's units and units passing the per-school rule, the units
  meeting the indicator and the indicator's total shortfall (teachers, ㎡, 元, rooms);
- ``stages`` and ``counties``: the verdicts of the resource part and, from assessments, of every part;
- ``items``: the status, figure and threshold of every G/Q/S/V item (and eligibility) per county-year;
- ``regions``, ``region_counties``, ``region_items``: counts of counties passing and failing, mean and median CV,
  totals of units, students and shortfalls, per region, year (stage and indicator, or item).

``warnings`` applies the early-warning rules of the rule set's ``[monitoring]`` section (the levels, lowest first,
and every threshold are data; decision 59 defines each rule): a CV within a margin of its limit, a CV rising N years
running, fewer units passing than the year before, a school unit below a standard it met the year before, a
recognised or pilot county failing a part (复查风险), a school over its size cap, a class over its cap, teacher
rotation below its floors. Years compared are consecutive calendar years: a missing year breaks every comparison.
Everything is computed on whole frames (joins, shifts, group-bys); Python loops run over rules, indicators and
stages only.

>>> import polars as pl
>>> from youjun.engine import evaluate_resources
>>> from youjun.engine.items import complete_frame
>>> from youjun.contract import SCHOOL_COLUMNS
>>> from youjun.standards import load_rule_set
>>> rules = load_rule_set()
>>> schools = complete_frame(pl.DataFrame({"year": [2023, 2024], "school_id": "3402070001", "school_name": "示例小学",
...     "county_code": "340207", "county_name": "示例区", "school_type": "小学", "students_primary": [1980, 2050],
...     "students_junior": 0, "max_class_size_primary": [44, 46]}), SCHOOL_COLUMNS)
>>> s = series({y: evaluate_resources(schools.filter(pl.col("year") == y), rules) for y in (2023, 2024)})
>>> s.regions.filter(pl.col("level") == "province", pl.col("indicator") == "R1").select("region_code", "year",
...     "counties").rows()
[('340000', 2023, 1), ('340000', 2024, 1)]
>>> found = warnings(s, rules, Context(schools=schools))
>>> found.select("year", "code", "rule", "level").rows()
[(2024, 'G4', 'school_size', '预警'), (2024, 'G5', 'class_size', '预警')]
>>> print(found["message"][0])
示例小学（小学）义务教育阶段在校生 2,050 人，超过规模上限 2,000 人；上年 1,980 人
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from youjun.engine.assessment import PART_NAMES, PARTS, Assessment
from youjun.engine.evaluate import ResourceEvaluation
from youjun.engine.items import count_text, number_text
from youjun.engine.resources import standard_of
from youjun.engine.split import ALL_STAGES
from youjun.engine.status import INSUFFICIENT, MET, NOT_MET
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet
from youjun.standards.sections import (
    ClassSizeCap,
    CvNearLimit,
    CvRising,
    RecheckRisk,
    RotationShortfall,
    SchoolSizeCap,
    UnitFirstBelow,
    UnitsPassingFalling,
    WarningRule,
    warning_rules,
)

COUNTY = ["year", "county_code"]
STAGE = [*COUNTY, "stage"]
NATION_CODE = "000000"
#: Roll-up levels, widest first: the region's code is the 6-digit GB/T 2260 code (340000, 340200, 000000).
REGION_LEVELS = ("nation", "province", "prefecture")
#: The items of the standard that the school and county rules watch (the standard's stable codes).
WATCHED_ITEMS = {"school_size": "G4", "class_size": "G5", "rotation": "G11"}
#: The item frames of an assessment, by part.
ITEM_PARTS = {
    "eligibility": "eligibility",
    "government_guarantee": "guarantee",
    "education_quality": "quality",
    "social_recognition": "recognition",
    "vetoes": "vetoes",
}
#: The inputs of the context frames.
STATUS_COLUMNS = ("county_code", "status")
ROTATION_COLUMNS = (
    "year",
    "county_code",
    "rotation_eligible_teachers",
    "rotated_teachers",
    "rotated_backbone_teachers",
)
SCHOOL_KEYS = ("year", "county_code", "school_id")

INDICATOR_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "county_name": pl.String(),
    "province_code": pl.String(),
    "prefecture_code": pl.String(),
    "stage": pl.String(),
    "indicator": pl.String(),
    "county_value": pl.Float64(),
    "cv": pl.Float64(),
    "cv_limit": pl.Float64(),
    "cv_passed": pl.Boolean(),
    "cv_boundary": pl.Boolean(),
    "units": pl.Int64(),
    "units_passed": pl.Int64(),
    "units_met": pl.Int64(),
    "shortfall": pl.Float64(),
    "students": pl.Int64(),
    "stage_passed": pl.Boolean(),
}
STAGE_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "county_name": pl.String(),
    "stage": pl.String(),
    "units": pl.Int64(),
    "units_passed": pl.Int64(),
    "students": pl.Int64(),
    "passed": pl.Boolean(),
}
SERIES_ITEM_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "county_name": pl.String(),
    "part": pl.String(),
    "code": pl.String(),
    "name": pl.String(),
    "status": pl.String(),
    "value": pl.Float64(),
    "threshold": pl.Float64(),
    "boundary": pl.Boolean(),
    "detail": pl.String(),
}
#: The unit columns a stack keeps (with ``value_k``, ``met_k``, ``shortfall_k`` and ``standard_k`` per indicator).
UNIT_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "county_name": pl.String(),
    "school_id": pl.String(),
    "school_name": pl.String(),
    "school_type": pl.String(),
    "stage": pl.String(),
    "students": pl.Int64(),
    "max_class_size": pl.Int64(),
    "passed": pl.Boolean(),
}
UNIT_INDICATOR_SCHEMA: dict[str, pl.DataType] = {
    "value": pl.Float64(),
    "met": pl.Boolean(),
    "shortfall": pl.Float64(),
    "standard": pl.Float64(),
}
#: The county frame of a stack (``Stacked.counties``): the resource verdict and, for assessed years, every part's.
COUNTY_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "county_name": pl.String(),
    "units": pl.Int64(),
    "units_passed": pl.Int64(),
    "passed": pl.Boolean(),
    **{part: pl.String() for part in PARTS},
    "status": pl.String(),
}
WARNING_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "county_name": pl.String(),
    "stage": pl.String(),
    "code": pl.String(),
    "school_id": pl.String(),
    "school_name": pl.String(),
    "rule": pl.String(),
    "rule_name": pl.String(),
    "level": pl.String(),
    "severity": pl.Int64(),
    "message": pl.String(),
    "value": pl.Float64(),
    "limit": pl.Float64(),
    "previous": pl.List(pl.Float64()),
}
#: What a rule gives before the rule's own columns are added.
_RAW = [c for c in WARNING_SCHEMA if c not in ("rule", "rule_name", "level", "severity")]
_YEARS_TEXT = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}


# ---------------------------------------------------------------------------------------------------------------
# Stacking the years


@dataclass(frozen=True, slots=True)
class Stacked:
    """The engine's outputs of several years, one under the other (every frame has its ``year``).

    - ``codes``: the indicator codes (R1–R7), the same every year;
    - ``stages``: ``ResourceEvaluation.stages`` of every year (wide: ``county_value_k``, ``cv_k``, ``cv_passed_k``…);
    - ``units``: ``UNIT_SCHEMA`` and per indicator ``value_k``, ``met_k``, ``shortfall_k`` and ``standard_k`` (the
      standard of the unit's stage under the year's rule set);
    - ``counties``: ``ResourceEvaluation.counties`` (``passed`` is the resource part), with the status of every part
      (``PARTS``) and the overall ``status`` for the years given as assessments (null otherwise);
    - ``items``: ``SERIES_ITEM_SCHEMA`` rows of every item of the assessments (empty without assessments).
    """

    codes: tuple[str, ...]
    stages: pl.DataFrame
    units: pl.DataFrame
    counties: pl.DataFrame
    items: pl.DataFrame


def _typed(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The frame's columns of ``schema``, cast, absent ones as nulls, in the schema's order."""
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )


def _unit_schema(codes: tuple[str, ...]) -> dict[str, pl.DataType]:
    per = {f"{base}_{code}": dtype for code in codes for base, dtype in UNIT_INDICATOR_SCHEMA.items()}
    return {**UNIT_SCHEMA, **per}


def _year_problem(year: int, found: list[int]) -> YoujunError:
    shown = "、".join(str(y) for y in found)
    return YoujunError.single("monitoring_year", f"{year} 年的评估结果中含有其他年度（{shown}）的数据", value=str(year))


def stack(evaluations_by_year: Mapping[int, ResourceEvaluation | Assessment]) -> Stacked:
    """The evaluations (resource evaluations or full assessments) of several years as one ``Stacked``.

    Each year's rule set gives its units' standards; the indicator codes must be the same every year."""
    stages, units, counties, items = [], [], [], []
    codes: tuple[str, ...] | None = None
    for year, evaluation in sorted(evaluations_by_year.items()):
        resources = evaluation.resources if isinstance(evaluation, Assessment) else evaluation
        these = tuple(resources.codes)
        if codes is not None and these != codes:
            raise YoujunError.single(
                "monitoring_codes",
                f"各年度评估的指标不一致：{'、'.join(codes)} 与 {'、'.join(these)}（{year} 年）",
                value=str(year),
            )
        codes = these
        for frame in (resources.stages, resources.units, resources.counties):
            if frame.height and (other := sorted(set(frame["year"].unique().to_list()) - {year})):
                raise _year_problem(year, other)
        rules = resources.rules
        unit_frame = resources.units.with_columns(
            (standard_of(code, rules) if rules.indicators[code].standard else pl.lit(None, pl.Float64)).alias(
                f"standard_{code}"
            )
            for code in these
        )
        units.append(_typed(unit_frame, _unit_schema(these)))
        stages.append(resources.stages)
        county_frame = resources.counties
        if isinstance(evaluation, Assessment):
            verdict = evaluation.verdict.select(*COUNTY, "county_name", *PARTS, "status")
            county_frame = county_frame.join(verdict, on=COUNTY, how="full", coalesce=True, suffix="_verdict")
            county_frame = county_frame.with_columns(
                pl.coalesce("county_name", "county_name_verdict").alias("county_name")
            ).drop("county_name_verdict")
            for part, attribute in ITEM_PARTS.items():
                frame = getattr(evaluation, attribute)
                frame = frame if isinstance(frame, pl.DataFrame) else frame.items
                items.append(_typed(frame.with_columns(pl.lit(part).alias("part")), SERIES_ITEM_SCHEMA))
        counties.append(county_frame)
    if codes is None:
        codes = ()
    county_schema = COUNTY_SCHEMA
    return Stacked(
        codes=codes,
        stages=pl.concat(stages, how="diagonal_relaxed") if stages else pl.DataFrame(schema=STAGE_SCHEMA),
        units=pl.concat(units) if units else pl.DataFrame(schema=_unit_schema(codes)),
        counties=_typed(pl.concat(counties, how="diagonal_relaxed"), county_schema)
        if counties
        else pl.DataFrame(schema=county_schema),
        items=pl.concat(items) if items else pl.DataFrame(schema=SERIES_ITEM_SCHEMA),
    )


# ---------------------------------------------------------------------------------------------------------------
# The series and their roll-ups


@dataclass(frozen=True, slots=True)
class Series:
    """The figures of every county year by year, and their roll-ups (see the module's description).

    County frames: ``indicators`` (``INDICATOR_SCHEMA``), ``stages`` (``STAGE_SCHEMA``), ``counties`` (the
    resource verdict ``passed`` and, for assessed years, each part's status and ``status``), ``items``
    (``SERIES_ITEM_SCHEMA``), ``units`` (as stacked). Region frames (``level`` nation / province / prefecture,
    ``region_code``): ``regions`` per year, stage and indicator; ``region_counties`` per year; ``region_items`` per
    year, part and item code.
    """

    indicators: pl.DataFrame
    stages: pl.DataFrame
    counties: pl.DataFrame
    items: pl.DataFrame
    units: pl.DataFrame
    regions: pl.DataFrame
    region_counties: pl.DataFrame
    region_items: pl.DataFrame


def _with_codes(frame: pl.DataFrame) -> pl.DataFrame:
    """Province and prefecture codes of each county (GB/T 2260: 340207 → 340000, 340200)."""
    code = pl.col("county_code")
    return frame.with_columns(
        (code.str.slice(0, 2) + "0000").alias("province_code"),
        (code.str.slice(0, 4) + "00").alias("prefecture_code"),
    )


def _stage_rank() -> pl.Expr:
    order = {stage: i for i, stage in enumerate(ALL_STAGES)}
    return pl.col("stage").replace_strict(order, default=len(order), return_dtype=pl.Int32)


def _by_region(frame: pl.DataFrame) -> pl.DataFrame:
    """The county rows three times: under the nation, their province and their prefecture."""
    codes = {
        "nation": pl.lit(NATION_CODE),
        "province": pl.col("province_code"),
        "prefecture": pl.col("prefecture_code"),
    }
    return pl.concat(
        [frame.with_columns(pl.lit(level).alias("level"), codes[level].alias("region_code")) for level in REGION_LEVELS]
    )


def _region_order(keys: list[str]) -> list[pl.Expr]:
    level = pl.col("level").replace_strict({v: i for i, v in enumerate(REGION_LEVELS)}, return_dtype=pl.Int32)
    return [level, pl.col("region_code"), *(pl.col(k) for k in keys)]


def _unit_sums(units: pl.DataFrame, codes: tuple[str, ...]) -> pl.DataFrame:
    """Per (year, county, stage): the units meeting each indicator and its total shortfall.

    The engine leaves each group's units contiguous, and a stack keeps them so: the sums are then NumPy bincounts
    over run ids (a hash group-by of every unit-year is most of the series' time); other frames are grouped."""
    index = units.select(pl.struct(STAGE).rle_id()).to_series().to_numpy() if units.height else np.zeros(0, np.int64)
    first = np.flatnonzero(np.r_[True, index[1:] != index[:-1]]) if len(index) else np.zeros(0, np.int64)
    head = units.select(pl.col(STAGE).gather(pl.Series(first, dtype=pl.Int64)))
    if head.select(pl.struct(STAGE).is_duplicated().any()).item():
        return units.group_by(STAGE).agg(
            *(pl.col(f"met_{c}").sum().cast(pl.Int64).alias(f"units_met_{c}") for c in codes),
            *(pl.col(f"shortfall_{c}").fill_null(0.0).sum().alias(f"shortfall_{c}") for c in codes),
        )
    n = len(first)
    sums: dict[str, pl.Series] = {}
    for c in codes:
        met = units[f"met_{c}"].fill_null(False).cast(pl.Float64).to_numpy()
        shortfall = units[f"shortfall_{c}"].fill_null(0.0).cast(pl.Float64).to_numpy()
        sums[f"units_met_{c}"] = pl.Series(np.bincount(index, met, n).round().astype(np.int64))
        sums[f"shortfall_{c}"] = pl.Series(np.bincount(index, shortfall, n))
    return head.with_columns(**sums)


def series(stacked: Stacked | Mapping[int, ResourceEvaluation | Assessment]) -> Series:
    """Every county's figures year by year and their roll-ups to prefecture, province and nation."""
    if not isinstance(stacked, Stacked):
        stacked = stack(stacked)
    codes = stacked.codes
    units = stacked.units
    wide = stacked.stages
    wide = wide.join(_unit_sums(units, codes), on=STAGE, how="left")

    def column(name: str, dtype: pl.DataType) -> pl.Expr:
        return (pl.col(name) if name in wide.columns else pl.lit(None)).cast(dtype)

    pieces = [
        wide.select(
            *STAGE,
            "county_name",
            pl.lit(code).alias("indicator"),
            column(f"county_value_{code}", pl.Float64()).alias("county_value"),
            column(f"cv_{code}", pl.Float64()).alias("cv"),
            column("cv_limit", pl.Float64()).alias("cv_limit"),
            column(f"cv_passed_{code}", pl.Boolean()).alias("cv_passed"),
            column(f"cv_boundary_{code}", pl.Boolean()).alias("cv_boundary"),
            column("units", pl.Int64()).alias("units"),
            column("units_passed", pl.Int64()).alias("units_passed"),
            column(f"units_met_{code}", pl.Int64()).fill_null(0).alias("units_met"),
            column(f"shortfall_{code}", pl.Float64()).fill_null(0.0).alias("shortfall"),
            column("students", pl.Int64()).alias("students"),
            column("passed", pl.Boolean()).alias("stage_passed"),
        )
        for code in codes
    ]
    order = {code: i for i, code in enumerate(codes)}
    indicators = (
        _typed(_with_codes(pl.concat(pieces)), INDICATOR_SCHEMA) if pieces else pl.DataFrame(schema=INDICATOR_SCHEMA)
    )
    indicators = indicators.sort(
        "year", "county_code", _stage_rank(), pl.col("indicator").replace_strict(order, return_dtype=pl.Int32)
    )
    stages = _typed(wide, STAGE_SCHEMA).sort("year", "county_code", _stage_rank())
    counties = _with_codes(stacked.counties).sort(COUNTY)
    items = stacked.items

    weight = pl.when(pl.col("county_value").is_not_null()).then(pl.col("students"))
    regions = (
        _by_region(indicators)
        .group_by("level", "region_code", "year", "stage", "indicator")
        .agg(
            pl.len().cast(pl.Int64).alias("counties"),
            pl.col("cv_passed").sum().cast(pl.Int64).alias("passed"),
            (~pl.col("cv_passed")).sum().cast(pl.Int64).alias("failed"),
            pl.col("cv").is_null().sum().cast(pl.Int64).alias("undefined"),
            pl.col("cv").mean().alias("cv_mean"),
            pl.col("cv").median().alias("cv_median"),
            # The region's student-weighted value over the counties whose value is defined (null if none is).
            pl.when(weight.sum() > 0).then((pl.col("county_value") * weight).sum() / weight.sum()).alias("value"),
            pl.col("units").sum().alias("units"),
            pl.col("units_passed").sum().alias("units_passed"),
            pl.col("units_met").sum().alias("units_met"),
            pl.col("shortfall").sum().alias("shortfall"),
            pl.col("students").sum().alias("students"),
        )
        .sort(*_region_order(["year"]), _stage_rank(), pl.col("indicator").replace_strict(order, return_dtype=pl.Int32))
    )
    status = pl.col("status")
    region_counties = (
        _by_region(counties)
        .group_by("level", "region_code", "year")
        .agg(
            pl.len().cast(pl.Int64).alias("counties"),
            pl.col("passed").sum().cast(pl.Int64).alias("resources_passed"),
            (~pl.col("passed")).sum().cast(pl.Int64).alias("resources_failed"),
            status.is_not_null().sum().cast(pl.Int64).alias("assessed"),
            (status == MET).sum().cast(pl.Int64).alias(MET),
            (status == NOT_MET).sum().cast(pl.Int64).alias(NOT_MET),
            (status == INSUFFICIENT).sum().cast(pl.Int64).alias(INSUFFICIENT),
        )
        .sort(_region_order(["year"]))
    )
    region_items = (
        _by_region(_with_codes(items))
        .group_by("level", "region_code", "year", "part", "code")
        .agg(
            pl.len().cast(pl.Int64).alias("counties"),
            (status == MET).sum().cast(pl.Int64).alias(MET),
            (status == NOT_MET).sum().cast(pl.Int64).alias(NOT_MET),
            (status == INSUFFICIENT).sum().cast(pl.Int64).alias(INSUFFICIENT),
        )
        .sort(_region_order(["year", "part", "code"]))
    )
    return Series(indicators, stages, counties, items, units, regions, region_counties, region_items)


# ---------------------------------------------------------------------------------------------------------------
# Warnings


@dataclass(frozen=True, slots=True)
class Context:
    """What the rules read beside the series; a rule whose frame is not given is not applied.

    - ``statuses``: ``county_code``, ``status`` (a key of the 复查风险 rule's ``statuses``: ``recognised``,
      ``pilot``) and optionally ``since`` (the first year the status holds; null or absent: every year);
    - ``schools``: school rows of the years as the engine takes them (``year``, ``county_code``, ``school_id``,
      ``school_name``, ``school_type``, ``students_<stage>``, ``max_class_size_<stage>``); without it the size and
      class rules read the evaluated school units of the series;
    - ``rotation``: per county-year ``rotation_eligible_teachers``, ``rotated_teachers``,
      ``rotated_backbone_teachers`` (the county sheet's columns).
    """

    statuses: pl.DataFrame | None = None
    schools: pl.DataFrame | None = None
    rotation: pl.DataFrame | None = None


@dataclass(slots=True)
class _Env:
    series: Series
    rules: RuleSet
    context: Context
    _schools: pl.DataFrame | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """The indicators of the rule set whose per-unit verdicts the series carries."""
        return tuple(c for c in self.rules.indicators if f"met_{c}" in self.series.units.columns)

    def schools(self) -> pl.DataFrame:
        """The school-year frame of the size and class rules, built once."""
        if self._schools is None:
            self._schools = _school_frame(self)
        return self._schools

    @property
    def tolerance(self) -> float:
        return self.rules.precision.tolerance

    def stage_name(self, column: str = "stage") -> pl.Expr:
        return pl.col(column).replace_strict(dict(self.rules.stage_names), default=pl.col(column))

    def cv_text(self, value: pl.Expr) -> pl.Expr:
        return number_text(value, self.rules.precision.display_cv_decimals)

    def value_text(self, value: pl.Expr) -> pl.Expr:
        return number_text(value, self.rules.precision.display_value_decimals)


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> pl.DataFrame:
    if absent := [c for c in columns if c not in frame.columns]:
        raise YoujunError.single("monitoring_context", f"{what}缺少列：{'、'.join(absent)}", field=absent[0])
    return frame


def _raw(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """A rule's rows in the common shape (``_RAW``): the given expressions, the frame's own columns, else nulls."""
    exprs = []
    for name in _RAW:
        if name in columns:
            exprs.append(columns[name].alias(name))
        elif name in frame.columns:
            exprs.append(pl.col(name))
        else:
            exprs.append(pl.lit(None).alias(name))
    return frame.rechunk().select(exprs).select(pl.col(n).cast(WARNING_SCHEMA[n]) for n in _RAW)


def _no_previous() -> pl.Expr:
    return pl.lit(None, pl.Float64).repeat_by(0).cast(pl.List(pl.Float64))


def _lagged(frame: pl.DataFrame, keys: list[str], columns: list[str], lags: int) -> pl.DataFrame:
    """``{column}_lag{k}`` for k = 1…lags: the value k years before, null unless that year is present (consecutive
    calendar years; a missing year breaks the chain). Sorted by ``keys`` and year; rows k apart are compared."""
    frame = frame.sort([*keys, "year"]).with_columns(pl.struct(keys).rle_id().alias("_group"))
    group, year = pl.col("_group"), pl.col("year")
    exprs = []
    for k in range(1, lags + 1):
        present = (group == group.shift(k)) & (year - year.shift(k) == k)
        exprs += [pl.when(present).then(pl.col(c).shift(k)).alias(f"{c}_lag{k}") for c in columns]
    # One chunk: Polars 2.1 can panic formatting a shifted column of a filtered many-chunk frame.
    return frame.with_columns(exprs).drop("_group").rechunk()


def _cv_near_limit(rule: CvNearLimit, env: _Env) -> pl.DataFrame:
    frame = env.series.indicators
    cv, limit = pl.col("cv"), pl.col("cv_limit")
    near = pl.col("cv_passed") & ((limit - cv) <= rule.margin + limit * env.tolerance)
    hits = frame.filter(near.fill_null(False))
    message = pl.format(
        "{} {} 差异系数 {}，距限值 {} 不足 {}",
        env.stage_name(),
        pl.col("indicator"),
        env.cv_text(cv),
        number_text(limit, 2),
        pl.lit(f"{rule.margin:g}"),
    )
    return _raw(hits, code=pl.col("indicator"), message=message, value=cv, limit=limit, previous=_no_previous())


def _cv_rising(rule: CvRising, env: _Env) -> pl.DataFrame:
    frame = env.series.indicators.select(*STAGE, "county_name", "indicator", "cv", "cv_limit")
    years = frame["year"].n_unique()
    lags = years - 1
    if lags < rule.years:
        return _raw(frame.clear())
    keys = ["county_code", "stage", "indicator"]
    frame = _lagged(frame, keys, ["cv"], lags)
    lag = ["cv", *(f"cv_lag{k}" for k in range(1, lags + 1))]  # lag[0] is this year
    steps = [((pl.col(lag[j]) - pl.col(lag[j + 1])) > rule.min_increase).fill_null(False) for j in range(lags)]
    run = pl.lit(0, pl.Int64)
    running = pl.lit(True)
    for step in steps:  # the number of consecutive rises ending this year
        running = running & step
        run = run + running.cast(pl.Int64)
    hits = frame.with_columns(run.alias("_run")).filter(pl.col("_run") >= rule.years)
    oldest_first = list(reversed(lag))
    texts = hits.select(env.cv_text(pl.col(c)).alias(c) for c in oldest_first)
    hits = hits.with_columns(
        pl.concat_list(texts.to_series(i) for i in range(texts.width))
        .list.slice(lags - pl.col("_run"), pl.col("_run") + 1)
        .list.join(" → ")
        .alias("_values"),
        pl.concat_list(pl.col(c) for c in oldest_first[:-1])
        .list.slice(lags - pl.col("_run"), pl.col("_run"))
        .alias("_previous"),
    )
    run_text = pl.col("_run").replace_strict(
        _YEARS_TEXT, default=pl.col("_run").cast(pl.String), return_dtype=pl.String
    )
    message = pl.format(
        "{} {} 差异系数连续{}年上升：{}（限值 {}）",
        env.stage_name(),
        pl.col("indicator"),
        run_text,
        pl.col("_values"),
        number_text(pl.col("cv_limit"), 2),
    )
    return _raw(
        hits,
        code=pl.col("indicator"),
        message=message,
        value=pl.col("cv"),
        limit=pl.col("cv_limit"),
        previous=pl.col("_previous"),
    )


def _units_passing_falling(rule: UnitsPassingFalling, env: _Env) -> pl.DataFrame:
    frame = _lagged(env.series.stages, ["county_code", "stage"], ["units", "units_passed"], 1)
    units, passed = pl.col("units"), pl.col("units_passed")
    before, passed_before = pl.col("units_lag1"), pl.col("units_passed_lag1")
    share, share_before = passed / units, passed_before / before
    if rule.measure == "share":
        falling = (units > 0) & (before > 0) & (passed * before < passed_before * units)  # exact: cross-multiplied
        value, previous = share, share_before
        shown = pl.format(
            "{}达到校际均衡指标要求的学校单元比例下降：{}%（{}/{}）→ {}%（{}/{}）",
            env.stage_name(),
            number_text(share_before * 100, 2),
            passed_before,
            before,
            number_text(share * 100, 2),
            passed,
            units,
        )
    else:
        falling = passed < passed_before
        value, previous = passed.cast(pl.Float64), passed_before.cast(pl.Float64)
        shown = pl.format(
            "{}达到校际均衡指标要求的学校单元减少：{} 个 → {} 个（共 {} 个）",
            env.stage_name(),
            passed_before,
            passed,
            units,
        )
    hits = frame.filter(falling.fill_null(False))
    return _raw(hits, message=shown, value=value, previous=pl.concat_list(previous.cast(pl.Float64)))


def _unit_first_below(rule: UnitFirstBelow, env: _Env) -> pl.DataFrame:
    units, codes = env.series.units, env.codes
    keys = ["year", "county_code", "school_id", "stage"]
    if not codes:
        return _raw(units.clear())
    # Only a unit missing an indicator now can be below it for the first time: those, against their last year.
    now = units.filter(pl.any_horizontal(~pl.col(f"met_{c}").fill_null(True) for c in codes))
    before = (
        units.filter(pl.col("school_id").is_in(now["school_id"].unique().implode()))
        .select(*keys, *(pl.col(f"{base}_{c}").alias(f"{base}_{c}_before") for c in codes for base in ("value", "met")))
        .with_columns(pl.col("year") + 1)
    )
    both = now.join(before, on=keys, how="inner")
    pieces = []
    for code in codes:
        indicator = env.rules.indicators.get(code)
        label = indicator.label if indicator else code
        hits = both.filter(pl.col(f"met_{code}_before").fill_null(False) & ~pl.col(f"met_{code}").fill_null(True))
        value, standard, previous = pl.col(f"value_{code}"), pl.col(f"standard_{code}"), pl.col(f"value_{code}_before")
        message = pl.format(
            "{}（{}）{} {} {}，低于标准 {}；上年 {}，达标",
            pl.col("school_name"),
            env.stage_name(),
            pl.lit(code),
            pl.lit(label),
            env.value_text(value),
            number_text(standard, env.rules.precision.display_value_decimals, trim=True),
            env.value_text(previous),
        )
        pieces.append(
            _raw(
                hits, code=pl.lit(code), message=message, value=value, limit=standard, previous=pl.concat_list(previous)
            )
        )
    return pl.concat(pieces) if pieces else _raw(units.clear())


def _recheck_risk(rule: RecheckRisk, env: _Env) -> pl.DataFrame | None:
    statuses = env.context.statuses
    if statuses is None:
        return None
    statuses = _require(statuses, STATUS_COLUMNS, "县（区）认定状态表")
    order = {status: i for i, status in enumerate(rule.statuses)}
    since = pl.col("since") if "since" in statuses.columns else pl.lit(None, pl.Int64)
    statuses = statuses.select(
        pl.col("county_code").cast(pl.String),
        pl.col("status").cast(pl.String).alias("_status"),
        since.cast(pl.Int64).alias("_since"),
    ).filter(pl.col("_status").is_in(list(rule.statuses)))
    counties = env.series.counties
    failing: list[pl.Expr] = []
    for part in rule.parts:
        if part == "resource_allocation":
            # The resource verdict of the engine where no assessment gives the part's status.
            status = pl.col(part) if part in counties.columns else pl.lit(None, pl.String)
            fails = pl.coalesce(status == NOT_MET, ~pl.col("passed"))
        elif part in counties.columns:
            fails = pl.col(part) == NOT_MET
        else:
            continue
        failing.append(pl.when(fails.fill_null(False)).then(pl.lit(PART_NAMES[part])))
    if not failing:
        return None
    joined = counties.join(statuses, on="county_code", how="inner").filter(
        pl.col("_since").is_null() | (pl.col("_since") <= pl.col("year"))
    )
    joined = (
        joined.with_columns(pl.col("_status").replace_strict(order, return_dtype=pl.Int32).alias("_order"))
        .sort("year", "county_code", "_order")
        .unique(COUNTY, keep="first", maintain_order=True)
        .with_columns(pl.concat_list(failing).list.drop_nulls().alias("_parts"))
        .filter(pl.col("_parts").list.len() > 0)
    )
    message = pl.format(
        "{}的县（区）{} 年未达标：{}，有复查风险",
        pl.col("_status").replace_strict(dict(rule.statuses), return_dtype=pl.String),
        pl.col("year"),
        pl.col("_parts").list.join("、"),
    )
    return _raw(joined, message=message, previous=_no_previous())


def _school_frame(env: _Env) -> pl.DataFrame:
    """One row per school-year: ``students_<stage>`` and ``max_class_size_<stage>`` of the rule set's stages."""
    stages = env.rules.stages
    wanted = [f"{base}_{s}" for s in stages for base in ("students", "max_class_size")]
    schools = env.context.schools
    if schools is not None:
        schools = _require(schools, SCHOOL_KEYS, "学校表")
        columns = ["county_name", "school_name", "school_type", *wanted]
        frame = schools.select(
            pl.col("year").cast(pl.Int64),
            pl.col("county_code").cast(pl.String),
            pl.col("school_id").cast(pl.String),
            *((pl.col(c) if c in schools.columns else pl.lit(None)).alias(c) for c in columns),
        )
        return frame.with_columns(pl.col(c).cast(pl.Int64) for c in wanted)
    units = env.series.units
    stage = pl.col("stage")
    return units.group_by(SCHOOL_KEYS).agg(
        pl.col("county_name", "school_name", "school_type").first(),
        *(pl.col("students").filter(stage == s).sum().alias(f"students_{s}") for s in stages),
        *(pl.col("max_class_size").filter(stage == s).first().alias(f"max_class_size_{s}") for s in stages),
    )


def _previous_year(hits: pl.DataFrame, schools: pl.DataFrame, column: str) -> pl.DataFrame:
    """``_before``: the school's ``column`` the year before (null when that year has no row for it)."""
    mine = schools.filter(pl.col("school_id").is_in(hits["school_id"].unique().implode()))
    before = mine.select(*SCHOOL_KEYS, pl.col(column).alias("_before")).with_columns(pl.col("year") + 1)
    return hits.join(before, on=list(SCHOOL_KEYS), how="left")


def _before_text(unit: str) -> pl.Expr:
    return (
        pl.when(pl.col("_before").is_not_null())
        .then("；上年 " + count_text(pl.col("_before"), unit))
        .otherwise(pl.lit(""))
    )


def _school_size(rule: SchoolSizeCap, env: _Env) -> pl.DataFrame:
    schools = env.schools()
    students = pl.sum_horizontal([pl.col(f"students_{s}").fill_null(0) for s in env.rules.stages])
    multi = pl.col("school_type").is_in(rule.multi_stage_types).fill_null(False)
    cap = pl.when(multi).then(rule.max_students.multi_stage).otherwise(rule.max_students.single_stage)
    frame = schools.with_columns(students.alias("_students"), cap.alias("_cap"))
    hits = _previous_year(frame.filter(pl.col("_students") > pl.col("_cap")), frame, "_students")
    message = pl.format(
        "{}（{}）义务教育阶段在校生 {}，超过规模上限 {}{}",
        pl.col("school_name"),
        pl.col("school_type"),
        count_text(pl.col("_students")),
        count_text(pl.col("_cap")),
        _before_text("人"),
    )
    previous = pl.when(pl.col("_before").is_not_null()).then(pl.concat_list(pl.col("_before").cast(pl.Float64)))
    return _raw(
        hits,
        code=pl.lit(WATCHED_ITEMS["school_size"]),
        message=message,
        value=pl.col("_students"),
        limit=pl.col("_cap"),
        previous=previous.otherwise(_no_previous()),
    )


def _class_size(rule: ClassSizeCap, env: _Env) -> pl.DataFrame:
    schools = env.schools()
    pieces = []
    for stage, cap in rule.max_class_size.items():
        size = f"max_class_size_{stage}"
        over = (pl.col(f"students_{stage}") > 0) & (pl.col(size) > cap)
        hits = _previous_year(schools.filter(over.fill_null(False)), schools, size)
        message = pl.format(
            "{}（{}）最大班额 {}，超过 {}{}",
            pl.col("school_name"),
            pl.lit(env.rules.stage_name(stage)),
            count_text(pl.col(size)),
            pl.lit(f"{cap} 人"),
            _before_text("人"),
        )
        previous = pl.when(pl.col("_before").is_not_null()).then(pl.concat_list(pl.col("_before").cast(pl.Float64)))
        pieces.append(
            _raw(
                hits,
                stage=pl.lit(stage),
                code=pl.lit(WATCHED_ITEMS["class_size"]),
                message=message,
                value=pl.col(size),
                limit=pl.lit(cap),
                previous=previous.otherwise(_no_previous()),
            )
        )
    return pl.concat(pieces) if pieces else _raw(schools.clear())


def _rotation(rule: RotationShortfall, env: _Env) -> pl.DataFrame | None:
    rotation = env.context.rotation
    if rotation is None:
        return None
    frame = _require(rotation, ROTATION_COLUMNS, "教师交流轮岗数据")
    eligible, rotated, backbone = (
        pl.col("rotation_eligible_teachers"),
        pl.col("rotated_teachers"),
        pl.col("rotated_backbone_teachers"),
    )
    rate = pl.when(eligible > 0).then(rotated / eligible)
    share = pl.when(rotated > 0).then(backbone / rotated)
    tolerance = env.tolerance
    checks = [
        (
            rate,
            rule.min_rotation_rate,
            pl.format("交流轮岗教师 {} ÷ 符合交流条件教师 {}", count_text(rotated), count_text(eligible)),
        ),
        (
            share,
            rule.min_backbone_share,
            pl.format("其中骨干教师 {} ÷ 交流轮岗教师 {}", count_text(backbone), count_text(rotated)),
        ),
    ]
    pieces = []
    for value, floor, shown in checks:
        below = value < floor * (1 - tolerance)  # 低于: strictly below, within the tolerance counts as at it
        hits = frame.filter(below.fill_null(False))
        message = pl.format("{} = {}%，低于 {}%", shown, number_text(value * 100, 2), pl.lit(f"{floor * 100:.2f}"))
        pieces.append(
            _raw(
                hits.with_columns(pl.col("year").cast(pl.Int64), pl.col("county_code").cast(pl.String)),
                code=pl.lit(WATCHED_ITEMS["rotation"]),
                message=message,
                value=value,
                limit=pl.lit(floor),
                previous=_no_previous(),
            )
        )
    return pl.concat(pieces)


def _apply(rule: WarningRule, env: _Env) -> pl.DataFrame | None:
    """The rows of one rule (None: its context frame is not given)."""
    if isinstance(rule, CvNearLimit):
        return _cv_near_limit(rule, env)
    if isinstance(rule, CvRising):
        return _cv_rising(rule, env)
    if isinstance(rule, UnitsPassingFalling):
        return _units_passing_falling(rule, env)
    if isinstance(rule, UnitFirstBelow):
        return _unit_first_below(rule, env)
    if isinstance(rule, RecheckRisk):
        return _recheck_risk(rule, env)
    if isinstance(rule, SchoolSizeCap):
        return _school_size(rule, env)
    if isinstance(rule, ClassSizeCap):
        return _class_size(rule, env)
    if isinstance(rule, RotationShortfall):
        return _rotation(rule, env)
    raise TypeError(f"no evaluator for warning rules of kind {rule.kind!r}")


def warnings(series_frames: Series, rules: RuleSet, context: Context | None = None) -> pl.DataFrame:
    """Every warning of the rule set's ``[monitoring]`` rules over the series (``WARNING_SCHEMA``).

    One row per warning: county, year, stage, indicator or item code, school (for the school rules), the rule and
    its level (``severity`` = the level's place in ``levels``, 0 lowest), a Chinese message with the figures, and
    the figures: ``value``, ``limit``, ``previous`` (the earlier years compared, oldest first). Ordered by year,
    county, severity (highest first), the rules' order in the rule set, stage, code and school."""
    settings = warning_rules(rules.sections.get("monitoring"), rules.stages)
    env = _Env(series_frames, rules, context or Context())
    pieces = []
    for position, (code, rule) in enumerate(settings.rules.items()):
        if not rule.enabled:
            continue
        found = _apply(rule, env)
        if found is None or not found.height:
            continue
        pieces.append(
            found.with_columns(
                pl.lit(code).alias("rule"),
                pl.lit(rule.name).alias("rule_name"),
                pl.lit(rule.level).alias("level"),
                pl.lit(settings.severity(rule.level), pl.Int64).alias("severity"),
                pl.lit(position).alias("_position"),
            )
        )
    if not pieces:
        return pl.DataFrame(schema=WARNING_SCHEMA)
    found = pl.concat(pieces)
    names = series_frames.counties.select(*COUNTY, pl.col("county_name").alias("_name")).unique(COUNTY)
    found = found.join(names, on=COUNTY, how="left").with_columns(
        pl.coalesce("county_name", "_name").alias("county_name")
    )
    return found.sort(
        pl.col("year"),
        pl.col("county_code"),
        pl.col("severity"),
        pl.col("_position"),
        _stage_rank(),
        pl.col("code"),
        pl.col("school_id"),
        descending=[False, False, True, False, False, False, False],
        nulls_last=True,
        maintain_order=True,
    ).select(list(WARNING_SCHEMA))


__all__ = [
    "INDICATOR_SCHEMA",
    "REGION_LEVELS",
    "SERIES_ITEM_SCHEMA",
    "STAGE_SCHEMA",
    "UNIT_SCHEMA",
    "WARNING_SCHEMA",
    "Context",
    "Series",
    "Stacked",
    "series",
    "stack",
    "warnings",
]
