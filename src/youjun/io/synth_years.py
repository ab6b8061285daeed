"""Synthetic multi-year data (多年度合成数据): the same counties and schools evolving year by year.

``synth_years(counties, years, seed)`` starts from the single-year data of :func:`youjun.io.synth.generate` for the
first year (that year's frames are exactly ``generate(counties, seed, year=first, province=...)``) and moves every
school forward one year at a time with a seeded process, so demos and benchmarks show real movement:

* **Pupils** are held by grade (一年级…九年级). Each year the grades move up one, a new first grade and a new
  seventh grade enter, and the national intake follows a cohort index by entry year (:attr:`Trends.cohort`): primary
  enrolment peaks in 2023, junior enrolment around 2026, both fall afterwards. Rural schools lose a share of their
  pupils every year (:attr:`Trends.rural_pull`; teaching points more) to the town and urban schools of the same
  county, which grow; senior pupils follow the cohorts of grades 10–12.
* **Teachers** leave each year (retirement and other exits, :attr:`Trends.leave`), are hired where the pupils per
  teacher rise above the school's habit (new hires are mostly qualified), obtain higher degrees and titles, and
  rotate between the schools of a county (交流轮岗: urban and town schools send more, rural schools receive more,
  backbone teachers mostly go to rural schools). The county's backbone teachers drift (:attr:`Trends.backbone_drift`),
  schools short of PE, music and art teachers sometimes get one. The county sheet's rotation figures are the
  rotations the schools made.
* **Buildings and equipment**: occasionally a school opens a new teaching block or sports ground (its floor area or
  sports area jumps up; crowded schools far more often), equipment value grows with inflation and investment, and
  schools short of equipment or multimedia rooms catch up now and then. Shrinking schools stop counting idle floor
  area above 45 ㎡ per pupil.
* **Closures**: a small rural primary school or teaching point may close (at most one per county and year, always
  when fewer than five pupils are left); its pupils and teachers move to the county's largest primary school and its
  ``school_id`` no longer appears. Every other school keeps its ``school_id``, name, type and location.

Class counts follow enrolment and each school's class-size habit; every teacher subgroup stays within the stage's
teachers; every year's school sheet has exactly the columns, dtypes and hard-check validity of the single-year data,
with ``year`` set, so each year (or all years together) evaluates with the engine. Besides the two sheets, each run
gives the pupils of every school by grade (``grades``: one row per school and year, ``grade_1`` … ``grade_9``,
summing to the school's primary and junior pupils) and a births series per county (``births``: births of the year
six years before each entry year ≈ the county's first-grade intake ÷ a stable county ratio, with noise). The
contract has no grade columns, so these two are separate frames (and files), not columns of the workbook.

Everything is vectorised (NumPy + Polars): 2,900 counties (~200,000 schools) over 7 years take a few seconds.
Another first year gives other data: ``synth_years(years=range(2020, 2026))`` is not the tail of a 2019–2025 run.

>>> run = synth_years(counties=2, years=range(2022, 2025), seed=5, province="34")
>>> run.years, [run.schools[y]["year"].unique().to_list() for y in run.years]
((2022, 2023, 2024), [[2022], [2023], [2024]])
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from youjun.contract import (
    COUNTY_COLUMNS,
    OWNERSHIP,
    SCHOOL_COLUMNS,
    SCHOOL_TYPES,
    URBAN_RURAL,
)
from youjun.io.forecast_inputs import HEADERS
from youjun.io.synth import (
    _STANDARD,
    _WEIGHTS,
    PROVINCE_TABLE,
    T_POINT,
    T_PRIMARY,
    T_SPECIAL,
    BoolArray,
    FloatArray,
    IntArray,
    SyntheticData,
    _Counties,
    _county_sheet,
    _fail,
    _pick,
    _schema,
    _up,
    _whole,
    _with_nulls,
    generate,
)

__all__ = [
    "BIRTHS_HEADERS",
    "GRADE_HEADERS",
    "MAX_YEARS",
    "SyntheticYears",
    "Trends",
    "parse_years",
    "synth_years",
    "write_table_csv",
]

MAX_YEARS: Final = 30
_WRITE_OFF: Final = 0.06  # share of equipment value written off each year
"""The longest range of years one run generates."""

#: National first-grade intake by entry year, relative (a stylised cohort shape: the large cohorts entered in
#: 2018–2023, then the intake falls with the births). Primary enrolment (grades 1–6) then peaks in 2023, junior
#: enrolment (grades 7–9) in 2026. Years outside the table take the nearest end.
COHORT_INDEX: Final[tuple[tuple[int, float], ...]] = (
    (2008, 0.88),
    (2009, 0.89),
    (2010, 0.89),
    (2011, 0.90),
    (2012, 0.91),
    (2013, 0.91),
    (2014, 0.92),
    (2015, 0.93),
    (2016, 0.95),
    (2017, 0.97),
    (2018, 1.05),
    (2019, 1.05),
    (2020, 1.04),
    (2021, 1.03),
    (2022, 1.02),
    (2023, 1.01),
    (2024, 0.92),
    (2025, 0.84),
    (2026, 0.77),
    (2027, 0.71),
    (2028, 0.67),
    (2029, 0.64),
    (2030, 0.62),
)


@dataclass(frozen=True, slots=True)
class Trends:
    """The parameters of the yearly process; ``(low, high)`` pairs are uniform ranges drawn once per school or
    county, ``(mean, sd)`` pairs normal draws. The defaults give the movement described in the module's docstring."""

    cohort: tuple[tuple[int, float], ...] = COHORT_INDEX
    """First-grade intake by entry year, relative; grade g of year t entered in t − g + 1."""
    rural_pull: tuple[float, float] = (0.02, 0.06)
    """Share of a rural school's pupils (and of its intake, compounding) moving each year to the county's town and
    urban schools."""
    point_pull: tuple[float, float] = (0.04, 0.09)
    """The same for teaching points."""
    attraction: tuple[float, float] = (1.3, 1.0)
    """Relative pull of urban and town schools on the pupils leaving rural schools (per pupil already there)."""
    leave: tuple[float, float] = (0.04, 0.008)
    """Share of a school's teachers leaving each year (retirement and other exits), per school."""
    qualified_hires: tuple[float, float] = (0.95, 0.90)
    """Share of new primary / junior teachers with more than the required degree."""
    upgrade: float = 0.05
    """Share of the other teachers obtaining the higher degree each year."""
    promotion: float = 0.04
    """Share of the untitled teachers reaching a middle or higher title each year."""
    rotation: tuple[float, float, float] = (0.05, 0.045, 0.025)
    """Share of an urban / town / rural school's teachers rotated to another school of the county each year."""
    backbone_drift: tuple[float, float] = (0.01, 0.025)
    """Yearly net change of a county's backbone teachers (designations minus losses), per county."""
    equipment_growth: tuple[float, float] = (0.02, 0.06)
    """Yearly growth of equipment value (inflation and investment), per county."""
    salary_growth: float = 0.04
    """Yearly growth of civil servants' and teachers' average salary."""
    build: tuple[float, float] = (0.02, 0.25)
    """Yearly chance of a new teaching block: ordinary schools / schools whose floor area is short of or near the
    standard. The same pair, times 0.8, for a new sports ground or gym."""
    catch_up: float = 0.25
    """Yearly chance that a school short of equipment, multimedia rooms or PE / art teachers catches up."""
    close_below: int = 25
    """Small rural primary schools and teaching points with fewer pupils may close (always below 5)."""
    close_chance: float = 0.25
    """Yearly chance for each such school; at most one closes per county and year."""


@dataclass(frozen=True, slots=True)
class SyntheticYears:
    """The sheets of each year, the pupils by grade and the births per county of one multi-year run."""

    years: tuple[int, ...]
    schools: Mapping[int, pl.DataFrame]
    """Year → the school sheet (学校) of that year: the single-year columns with ``year`` set."""
    counties: Mapping[int, pl.DataFrame]
    """Year → the county sheet (县级指标) of that year."""
    grades: pl.DataFrame
    """Pupils by grade: year, school_id, county_code, grade_1 … grade_9 (one row per school and year)."""
    births: pl.DataFrame
    """Births per county and birth year (first year − 11 … last year − 6, the birth years of every first-grade
    intake and of the primary grades of the first year): county_code, county_name, birth_year, births."""
    closed: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    """Year → the school ids closed (merged into another school) that year."""

    def data(self, year: int) -> SyntheticData:
        """The two sheets of one year, as :func:`youjun.io.synth.generate` returns them."""
        return SyntheticData(schools=self.schools[year], counties=self.counties[year])

    def all_schools(self) -> pl.DataFrame:
        """The school sheets of every year in one frame (``school_id`` is unique within each year)."""
        return pl.concat([self.schools[y] for y in self.years])

    def all_counties(self) -> pl.DataFrame:
        return pl.concat([self.counties[y] for y in self.years])


#: Chinese headers of the grade and births files.
GRADE_HEADERS: Final[dict[str, str]] = HEADERS["grades"]
BIRTHS_HEADERS: Final[dict[str, str]] = HEADERS["births"]

_YEARS_TEXT: Final = re.compile(r"^\s*(\d{4})\s*(?:[-–—~～至到]\s*(\d{4})\s*)?$")


def parse_years(text: str) -> range:
    """``"2019-2025"`` → ``range(2019, 2026)``; a single year ``"2024"`` → ``range(2024, 2025)``.

    >>> parse_years("2019-2025")
    range(2019, 2026)
    """
    found = _YEARS_TEXT.match(text)
    if found is None:
        raise _fail("SYNTH_YEARS", f"年度范围「{text}」无法识别，应写成「2019-2025」或单个年度「2024」")
    first = int(found.group(1))
    last = int(found.group(2) or first)
    years = range(first, last + 1)
    _check_years(years)
    return years


def _check_years(years: range) -> None:
    if len(years) == 0 or years.step != 1:
        raise _fail("SYNTH_YEARS", f"年度范围应为连续递增的年度，如 2019-2025（现为 {years.start}–{years.stop - 1}）")
    if len(years) > MAX_YEARS:
        raise _fail("SYNTH_YEARS", f"一次最多生成 {MAX_YEARS} 个年度（现为 {len(years)} 个）")
    if years.start < 2000 or years.stop - 1 > 2100:
        raise _fail("SYNTH_YEAR", f"统计年度「{years.start}–{years.stop - 1}」超出范围（2000–2100）")


def write_table_csv(df: pl.DataFrame, headers: Mapping[str, str], path: str | os.PathLike[str]) -> None:
    """Write ``df`` as UTF-8 CSV with a BOM and Chinese headers (the grade and births frames)."""
    df.rename({k: v for k, v in headers.items() if k in df.columns}).write_csv(Path(path), include_bom=True)


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def _cohort(trends: Trends, entry_years: IntArray | int) -> FloatArray:
    """The cohort index of each entry year (nearest end outside the table)."""
    table_years = np.array([y for y, _ in trends.cohort], dtype=np.int64)
    values = np.array([v for _, v in trends.cohort], dtype=np.float64)
    index = np.clip(np.asarray(entry_years, dtype=np.int64) - table_years[0], 0, table_years.size - 1)
    return np.asarray(values[index], dtype=np.float64)


def _round(rng: np.random.Generator, x: FloatArray) -> IntArray:
    """Stochastic rounding: ⌊x⌋ or ⌈x⌉ with the fractional part as the chance of ⌈x⌉ (unbiased), never below 0."""
    x = np.maximum(x, 0.0)
    return np.asarray(np.floor(x + rng.random(x.shape)), dtype=np.int64)


def _split(rng: np.random.Generator, totals: IntArray, weights: FloatArray, noise: float) -> IntArray:
    """Whole parts of each row's total, proportional to ``weights`` times lognormal noise (largest remainder)."""
    w = weights * np.exp(noise * rng.standard_normal(weights.shape))
    row = w.sum(axis=1, keepdims=True)
    quota = np.where(row > 0, totals[:, None] * w / np.where(row > 0, row, 1.0), 0.0)
    counts = np.floor(quota).astype(np.int64)
    left = totals - counts.sum(axis=1)
    rank = np.argsort(np.argsort(-(quota - counts), axis=1, kind="stable"), axis=1, kind="stable")
    return np.asarray(counts + (rank < left[:, None]), dtype=np.int64)


def _per_county(ci: IntArray, x: npt.NDArray[Any], n: int) -> FloatArray:
    """Sum of ``x`` per county."""
    return np.asarray(np.bincount(ci, weights=np.asarray(x, dtype=np.float64), minlength=n), dtype=np.float64)


def _scatter(
    rng: np.random.Generator, ci: IntArray, first: IntArray, last: IntArray, counts: IntArray, weights: FloatArray
) -> IntArray:
    """Send ``counts[s]`` movers from each school ``s`` to schools of the same county chosen with probability
    proportional to ``weights`` (rows are ordered by county; ``first`` / ``last`` are each county's row range).
    A mover whose county has no weight stays. Returns the movers each school receives."""
    n = counts.size
    senders = np.repeat(np.arange(n, dtype=np.int64), counts)
    if senders.size == 0:
        return np.zeros(n, dtype=np.int64)
    cumulative = np.cumsum(weights)
    before = np.where(first > 0, cumulative[np.maximum(first - 1, 0)], 0.0)
    total = cumulative[last] - before
    c = ci[senders]
    target = before[c] + rng.random(senders.size) * total[c]
    dest = np.clip(np.searchsorted(cumulative, target, side="right"), first[c], last[c])
    dest = np.where(total[c] > 0, dest, senders)
    return np.asarray(np.bincount(dest, minlength=n), dtype=np.int64)


@dataclass(slots=True)
class _Staff:
    """The teachers of one stage: general (not PE, music or art), PE, music, art; qualified, backbone and titled
    teachers are subsets of all four."""

    general: IntArray
    pe: IntArray
    music: IntArray
    art: IntArray
    qualified: IntArray
    backbone: IntArray
    titled: IntArray

    @property
    def total(self) -> IntArray:
        return self.general + self.pe + self.music + self.art

    def groups(self) -> tuple[IntArray, ...]:
        return (self.general, self.pe, self.music, self.art, self.qualified, self.backbone, self.titled)


def _base_staff(schools: pl.DataFrame, stage: str) -> _Staff:
    def col(name: str) -> IntArray:
        return schools[f"{name}_{stage}"].to_numpy().astype(np.int64)

    pe, music, art = col("pe_teachers"), col("music_teachers"), col("art_teachers")
    return _Staff(
        general=col("teachers") - pe - music - art,
        pe=pe,
        music=music,
        art=art,
        qualified=col("qualified_teachers"),
        backbone=col("backbone_teachers"),
        titled=col("titled_teachers"),
    )


# ---------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------


def synth_years(
    counties: int,
    years: Iterable[int],
    seed: int,
    province: str | None = None,
    trends: Trends | None = None,
) -> SyntheticYears:
    """Deterministic synthetic data of ``counties`` counties for consecutive ``years`` (e.g. ``range(2019, 2026)``).

    The first year is ``generate(counties, seed, year=first, province=province)``; each later year follows from the
    one before (see the module's docstring). Same arguments, same frames.
    """
    ordered = sorted(set(years))
    if not ordered:
        raise _fail("SYNTH_YEARS", "至少需要一个统计年度")
    span = range(ordered[0], ordered[-1] + 1)
    if len(ordered) != len(span):
        raise _fail("SYNTH_YEARS", "统计年度应连续，如 2019-2025")
    _check_years(span)
    return _Run(counties, span, seed, province, trends or Trends()).result()


class _Run:
    """One multi-year run: the base year's frames, the per-school state and the yearly step."""

    def __init__(self, counties: int, years: range, seed: int, province: str | None, trends: Trends) -> None:
        self.years = years
        self.seed = seed
        self.trends = trends
        base = self.base = generate(counties, seed, year=years.start, province=province)
        s = base.schools
        self.n = n = s.height
        codes = base.counties["county_code"]
        self.nc = nc = codes.len()
        ci = s["county_code"].replace_strict(codes, pl.Series(np.arange(nc, dtype=np.int64))).to_numpy()
        self.ci = ci = ci.astype(np.int64)
        self.first_row = np.searchsorted(ci, np.arange(nc), side="left").astype(np.int64)
        self.last_row = (np.searchsorted(ci, np.arange(nc), side="right") - 1).astype(np.int64)
        self.kind = s["school_type"].replace_strict(list(SCHOOL_TYPES), list(range(len(SCHOOL_TYPES)))).to_numpy()
        self.ur = s["urban_rural"].replace_strict(list(URBAN_RURAL), [0, 1, 2]).to_numpy()
        self.private = (s["ownership"] == OWNERSHIP[1]).to_numpy()
        self.special = self.kind == T_SPECIAL
        self.rural = self.ur == 2

        rng = np.random.default_rng([seed, 14, 0])
        t = trends
        b = years.start
        sp0, sj0, ss0 = (s[f"students_{k}"].to_numpy().astype(np.int64) for k in ("primary", "junior", "senior"))
        self.has_p, self.has_j = sp0 > 0, sj0 > 0
        primary_w = _cohort(t, b - np.arange(6))[None, :] * np.ones((n, 1))
        junior_w = _cohort(t, b - 6 - np.arange(3))[None, :] * np.ones((n, 1))
        self.grades = np.concatenate([_split(rng, sp0, primary_w, 0.08), _split(rng, sj0, junior_w, 0.08)], axis=1)
        self.intake1 = sp0 * _cohort(t, b)[()] / primary_w[0].sum()
        self.intake7 = sj0 * _cohort(t, b - 6)[()] / junior_w[0].sum()
        self.senior0 = ss0.astype(np.float64)
        self.senior = ss0
        pull = np.where(self.kind == T_POINT, rng.uniform(*t.point_pull, n), rng.uniform(*t.rural_pull, n))
        self.pull = np.where(self.rural & ~self.special, pull, 0.0)
        attraction = np.array([t.attraction[0], t.attraction[1], 0.0])[self.ur]
        self.attraction = np.where(self.special, 0.0, attraction)

        # Teachers: the stage's pupils per teacher and class size as the school's habit.
        self.staff = [_base_staff(s, "primary"), _base_staff(s, "junior")]
        self.ratio: list[FloatArray] = []
        self.class_size: list[FloatArray] = []
        self.class_limit: list[FloatArray] = []
        self.hire_mix: list[FloatArray] = []
        for stage, (students, key) in enumerate(((sp0, "primary"), (sj0, "junior"))):
            staff = self.staff[stage]
            teachers = staff.total
            default_ratio = np.where(self.special, 4.0, (16.0, 12.0)[stage])
            self.ratio.append(
                np.where((students > 0) & (teachers > 0), students / np.maximum(teachers, 1), default_ratio)
            )
            classes = s[f"classes_{key}"].to_numpy().astype(np.float64)
            default_size = np.where(self.kind == T_POINT, 15.0, np.where(self.special, 8.0, (36.0, 42.0)[stage]))
            self.class_size.append(np.where(classes > 0, students / np.maximum(classes, 1.0), default_size))
            largest = s[f"max_class_size_{key}"].fill_null(0).to_numpy().astype(np.float64)
            self.class_limit.append(np.where(largest <= (45.0, 50.0)[stage], (45.0, 50.0)[stage], 60.0))
            mix = np.stack([staff.pe, staff.music, staff.art], axis=1) / np.maximum(teachers, 1)[:, None]
            mix = np.where(teachers[:, None] > 0, mix, np.array([0.07, 0.04, 0.04]))
            mix = np.minimum(mix, 0.3)
            self.hire_mix.append(np.concatenate([mix, 1.0 - mix.sum(axis=1, keepdims=True)], axis=1))
        self.leave = np.clip(rng.normal(t.leave[0], t.leave[1], n), 0.02, 0.07)
        rotation = np.array(t.rotation)[self.ur]
        self.rotation = np.where(self.special | (self.kind == T_POINT), 0.0, rotation)
        self.backbone_drift = np.clip(rng.normal(*t.backbone_drift, nc), -0.04, 0.06)
        self.equipment_growth = rng.uniform(*t.equipment_growth, nc)

        # Receiver of a closing school: the county's largest public primary stage (not a special school).
        score = np.where(self.special, -1.0, sp0 * np.where(self.private, 0.001, 1.0))
        order = np.lexsort((-score, ci))
        self.receiver = order[self.first_row]
        is_receiver = np.zeros(n, dtype=np.bool_)
        is_receiver[self.receiver] = True
        self.closable = (
            self.rural
            & np.isin(self.kind, [T_PRIMARY, T_POINT])
            & (sj0 == 0)
            & (ss0 == 0)
            & ~is_receiver
            & ~self.special
        )
        self.open = np.ones(n, dtype=np.bool_)

        # Facilities, funds and the other columns, as the base year left them.
        def num(key: str) -> FloatArray:
            return s[key].fill_null(0).to_numpy().astype(np.float64)

        self.aux, self.indoor, self.outdoor = (
            num("teaching_aux_area"),
            num("indoor_sports_area"),
            num("outdoor_sports_area"),
        )
        self.equipment = num("equipment_value")
        self.multimedia = num("multimedia_rooms").astype(np.int64)
        self.music_rooms = num("music_rooms").astype(np.int64)
        self.art_rooms = num("art_rooms").astype(np.int64)
        self.books = num("books")
        self.computers = num("computers")
        compulsory0 = np.maximum(sp0 + sj0, 1).astype(np.float64)
        self.migrant_share = num("migrant_students") / compulsory0
        self.zoned_share = num("zoned_students") / compulsory0
        teachers0 = (self.staff[0].total + self.staff[1].total).astype(np.float64)
        self.uncertified = np.maximum(teachers0 - num("certified_teachers"), 0).astype(np.int64)
        self.untrained = np.maximum(teachers0 - num("trained_360h_teachers"), 0).astype(np.int64)
        itinerant = [num(f"itinerant_pe_art_teachers_{k}").astype(np.int64) for k in ("primary", "junior")]
        self.itinerant = [
            np.where(itinerant[0] > 0, itinerant[0], rng.poisson(0.5, n)),
            np.where(itinerant[1] > 0, itinerant[1], rng.poisson(0.3, n)),
        ]
        cs = base.counties
        new_quota = b >= 2023
        self.quota_level = cs["public_funds_quota_primary"].to_numpy() / (720.0 if new_quota else 650.0)
        quota_p0, quota_j0 = self._quotas(b)
        raw0 = sp0 * quota_p0[ci] + sj0 * quota_j0[ci] + ss0 * 1.2 * quota_j0[ci]
        funds0 = num("public_funds")
        self.funds_factor = np.where(raw0 > 0, np.clip(funds0 / np.maximum(raw0, 1.0), 1.0, 1.3), 1.15)
        self.small_factor = rng.uniform(1.0, 1.15, n)
        self.guaranteed = rng.random(n) < 0.97
        self.training_share = np.clip(num("training_funds") / np.maximum(funds0, 1.0), 0.0, 0.5)

        # County sheet: what persists from year to year.
        self.cty = _Counties(
            code=cs["county_code"],
            name=cs["county_name"],
            short=cs["county_name"],
            province=cs["county_code"]
            .str.slice(0, 2)
            .replace_strict([c for c, _, _ in PROVINCE_TABLE], list(range(len(PROVINCE_TABLE))))
            .to_numpy()
            .astype(np.int64),
            urban_class=np.zeros(nc, dtype=np.int64),
        )
        recognised = cs["basic_balance_year"].to_numpy().astype(np.float64)  # NaN: not (yet) recognised
        later = b + 1 + _pick(rng, nc, (0.4, 0.35, 0.25))
        later_ok = (later <= 2021) & (rng.random(nc) < 0.6)
        self.recognised = np.where(np.isnan(recognised), np.where(later_ok, later, 9999), recognised).astype(np.int64)
        self.civil0 = cs["civil_servant_avg_salary"].to_numpy()
        self.salary_ratio = cs["teacher_avg_salary"].to_numpy() / np.maximum(self.civil0, 1.0)
        self.special_funds0 = cs["special_ed_funds_per_student"].to_numpy()
        staff0 = _per_county(ci, teachers0, nc)
        self.eligible_share = cs["rotation_eligible_teachers"].to_numpy() / np.maximum(staff0, 1.0)
        self.birth_ratio = np.clip(rng.normal(0.97, 0.05, nc), 0.85, 1.1)

    def _quotas(self, year: int) -> tuple[FloatArray, FloatArray]:
        new_quota = year >= 2023
        level = self.quota_level
        return level * (720.0 if new_quota else 650.0), level * (940.0 if new_quota else 850.0)

    # -----------------------------------------------------------------------------------------------------------

    def result(self) -> SyntheticYears:
        b = self.years.start
        schools = {b: self.base.schools}
        counties = {b: self.base.counties}
        grades = [self._grade_frame(b)]
        intake: dict[int, FloatArray] = {}
        # Primary cohorts already in school in the first year: their size then stands for their intake.
        for g in range(6):
            intake[b - g] = _per_county(self.ci, self.grades[:, g], self.nc)
        closed: dict[int, tuple[str, ...]] = {}
        previous = self.base.counties
        for year in self.years[1:]:
            rng = np.random.default_rng([self.seed, 14, year])
            closing = self._pupils(rng, year)
            closed[year] = tuple(self.base.schools["school_id"].filter(pl.Series(closing)).to_list())
            moved = self._teachers(rng, closing)
            self._facilities(rng)
            schools[year] = self._school_frame(rng, year)
            counties[year] = previous = self._county_frame(year, moved, previous)
            grades.append(self._grade_frame(year))
            intake[year] = _per_county(self.ci, self.grades[:, 0] * self.open, self.nc)
        return SyntheticYears(
            years=tuple(self.years),
            schools=schools,
            counties=counties,
            grades=pl.concat(grades),
            births=self._births(intake),
            closed=closed,
        )

    # ----------------------------------------------------------------------------------------------------------- pupils

    def _pupils(self, rng: np.random.Generator, year: int) -> BoolArray:
        """Move every grade up one, admit the new first and seventh grades, move rural pupils to town and city
        schools, close small rural schools. Returns the schools closing this year."""
        t, n, ci, b = self.trends, self.n, self.ci, self.years.start
        old = self.grades
        new = np.zeros_like(old)
        up = old.astype(np.float64) * (1.0 + 0.02 * rng.standard_normal(old.shape))
        new[:, 1:6] = _round(rng, up[:, 0:5])
        new[:, 7:9] = _round(rng, up[:, 6:8])
        keep = (1.0 - self.pull) ** (year - b)
        natural1 = self.intake1 * _cohort(t, year)[()] / _cohort(t, b)[()]
        natural7 = self.intake7 * _cohort(t, year - 6)[()] / _cohort(t, b - 6)[()]
        noise = np.exp(0.06 * rng.standard_normal((n, 2)) - 0.0018)
        new[:, 0] = _round(rng, natural1 * keep * noise[:, 0])
        new[:, 6] = _round(rng, natural7 * keep * noise[:, 1])
        new *= self.open[:, None]

        # Rural pupils leaving: a share of each grade moving up, and the intake the school no longer gets.
        leaving = np.zeros_like(new)
        moving = np.r_[1:6, 7:9]
        leaving[:, moving] = rng.binomial(new[:, moving], self.pull[:, None])
        new -= leaving
        pool = leaving.astype(np.float64)
        pool[:, 0] += natural1 * (1.0 - keep) * self.open
        pool[:, 6] += natural7 * (1.0 - keep) * self.open
        stage_ok = np.concatenate([np.repeat(self.has_p[:, None], 6, 1), np.repeat(self.has_j[:, None], 3, 1)], 1)
        weights = (new + 1.0) * (self.attraction * self.open)[:, None] * stage_ok
        for g in range(9):
            pooled = _per_county(ci, pool[:, g], self.nc)
            weight = _per_county(ci, weights[:, g], self.nc)
            share = weights[:, g] / np.where(weight > 0, weight, 1.0)[ci]
            new[:, g] += _round(rng, pooled[ci] * share)

        # Senior pupils follow the cohorts of grades 10–12 (rural schools losing some too).
        senior_index = _cohort(t, year - 9 - np.arange(3)).sum() / _cohort(t, b - 9 - np.arange(3)).sum()
        senior = self.senior0 * senior_index * (1.0 - self.pull / 2.0) ** (year - b)
        senior = senior * np.exp(0.03 * rng.standard_normal(n))
        self.senior = np.where(self.senior0 > 0, np.maximum(_round(rng, senior), 1), 0) * self.open

        # Closures: always below 5 pupils, otherwise by chance below `close_below`, one per county and year.
        pupils = new.sum(axis=1) + self.senior
        candidate = self.closable & self.open
        must = candidate & (pupils < 5)
        maybe = candidate & ~must & (pupils < t.close_below) & (rng.random(n) < t.close_chance)
        order = np.lexsort((rng.random(n), ci))
        chosen_rows = order[maybe[order]]
        _, first = np.unique(ci[chosen_rows], return_index=True)
        closing: BoolArray = np.array(must, dtype=np.bool_)
        closing[chosen_rows[first]] = True
        dest = self.receiver[ci]
        np.add.at(new, dest[closing], new[closing])
        new[closing] = 0
        self.grades = new
        self.open = self.open & ~closing
        return closing

    def stage_pupils(self) -> tuple[IntArray, IntArray]:
        return self.grades[:, :6].sum(axis=1), self.grades[:, 6:].sum(axis=1)

    # --------------------------------------------------------------------------------------------------------- teachers

    def _teachers(self, rng: np.random.Generator, closing: BoolArray) -> tuple[FloatArray, FloatArray]:
        """Leavers, rotation, merged schools, hires, degrees, titles and backbone designations of both stages.
        Returns the teachers and backbone teachers each county rotated."""
        t, n, ci = self.trends, self.n, self.ci
        rotated = np.zeros(self.nc)
        rotated_backbone = np.zeros(self.nc)
        for stage, students in enumerate(self.stage_pupils()):
            st = self.staff[stage]
            backbone_before = st.backbone.astype(np.float64)
            stay = 1.0 - self.leave
            st.general, st.pe, st.music, st.art, st.qualified = (
                rng.binomial(x, stay) for x in (st.general, st.pe, st.music, st.art, st.qualified)
            )
            st.backbone = rng.binomial(st.backbone, np.maximum(stay - 0.01, 0.0))
            st.titled = rng.binomial(st.titled, np.maximum(1.0 - 1.3 * self.leave, 0.0))

            # Rotation: qualified general teachers move within the county; backbone ones mostly to rural schools.
            total = st.total
            active = self.open & ~closing & (students > 0)
            movable = np.maximum(np.minimum.reduce([st.general, st.qualified, total - 1]), 0)
            out = np.where(active, np.minimum(rng.binomial(total, self.rotation), movable), 0)
            backbone_share = np.minimum(1.5 * st.backbone / np.maximum(total, 1), 1.0)
            out_b = np.minimum(rng.binomial(out, backbone_share), st.backbone)
            st.general = st.general - out
            st.qualified = st.qualified - out
            st.backbone = st.backbone - out_b
            # Receivers in proportion to what they send (rotation goes both ways), tilted towards rural schools.
            can_receive = (active & ~self.special) * np.maximum(total, 1) * np.maximum(self.rotation, 0.01)
            into = _scatter(
                rng, ci, self.first_row, self.last_row, out - out_b, can_receive * np.where(self.rural, 1.2, 1.0)
            )
            into_b = _scatter(
                rng, ci, self.first_row, self.last_row, out_b, can_receive * np.where(self.rural, 1.5, 1.0)
            )
            st.general = st.general + into + into_b
            st.qualified = st.qualified + into + into_b
            st.backbone = st.backbone + into_b
            rotated += _per_county(ci, out, self.nc)
            rotated_backbone += _per_county(ci, out_b, self.nc)

            # A closing school's teachers join the school its pupils go to.
            dest = self.receiver[ci][closing]
            for group in st.groups():
                np.add.at(group, dest, group[closing])
                group[closing] = 0

            # Hires where pupils per teacher rose above the school's habit; mostly qualified.
            target = np.where(
                students > 0, np.maximum(np.ceil(students / (self.ratio[stage] * rng.uniform(0.97, 1.03, n))), 1), 0
            )
            hires = np.maximum(target.astype(np.int64) - st.total, 0)
            split = rng.multinomial(hires, self.hire_mix[stage])
            st.pe, st.music, st.art = st.pe + split[:, 0], st.music + split[:, 1], st.art + split[:, 2]
            st.general = st.general + split[:, 3]
            st.qualified = st.qualified + rng.binomial(hires, t.qualified_hires[stage])
            # A school short of PE, music and art teachers (R3) sometimes gets one.
            pe_art = st.pe + st.music + st.art
            short = (students >= 50) & (pe_art * 100.0 / np.maximum(students, 1) < _STANDARD[stage, 2])
            extra = short & (rng.random(n) < t.catch_up)
            which = _pick(rng, n, (0.45, 0.28, 0.27))
            st.pe = st.pe + (extra & (which == 0))
            st.music = st.music + (extra & (which == 1))
            st.art = st.art + (extra & (which == 2))
            st.qualified = st.qualified + extra

            # Degrees, titles, backbone designations (the county's drift), then every subset within the teachers.
            total = st.total
            st.qualified = st.qualified + rng.binomial(np.maximum(total - st.qualified, 0), t.upgrade)
            st.titled = st.titled + rng.binomial(np.maximum(total - st.titled, 0), t.promotion)
            # The county designates its losses plus its drift, spread over its schools by their teachers; a school
            # below the R2 standard sometimes gets the designations it lacks.
            lost = _per_county(ci, backbone_before * (self.leave + 0.01), self.nc)
            designated = np.maximum(lost + _per_county(ci, backbone_before, self.nc) * self.backbone_drift, 0.0)
            per_teacher = designated / np.maximum(_per_county(ci, total, self.nc), 1.0)
            st.backbone = st.backbone + rng.poisson(per_teacher[ci] * total)
            lacking = np.ceil(students * _STANDARD[stage, 1] / 100.0 - 1e-9).astype(np.int64) - st.backbone
            catch_up = (students >= 50) & (lacking > 0) & (rng.random(n) < t.catch_up)
            st.backbone = st.backbone + np.where(catch_up, np.minimum(lacking, 3), 0)
            # Surplus teachers of a shrunken school (fewer than 4 pupils per teacher, 3.3 in special schools) are
            # redeployed elsewhere.
            fewest = np.where(self.special, 3.3, 4.0)
            surplus = np.maximum(st.total - np.ceil(students / fewest).astype(np.int64), 0)
            surplus = np.where(students >= 40, np.minimum(surplus, st.general), 0)
            st.general = st.general - surplus
            present = (students > 0) & self.open
            for name in ("general", "pe", "music", "art"):
                setattr(st, name, np.where(present, getattr(st, name), 0).astype(np.int64))
            total = st.total
            for name in ("qualified", "backbone", "titled"):
                setattr(st, name, np.clip(getattr(st, name), 0, total).astype(np.int64))
        return rotated, rotated_backbone

    # ------------------------------------------------------------------------------------------------------- facilities

    def _weighted(self) -> tuple[FloatArray, FloatArray, IntArray]:
        sp, sj = self.stage_pupils()
        weighted = sp * _WEIGHTS[0] + sj * _WEIGHTS[1] + self.senior * _WEIGHTS[2]
        per_weighted = np.maximum(
            np.where(sp > 0, 1.0, 0.0)[:, None] * (_STANDARD[0, 3:] / _WEIGHTS[0])[None, :],
            np.where(sj > 0, 1.0, 0.0)[:, None] * (_STANDARD[1, 3:] / _WEIGHTS[1])[None, :],
        )
        return weighted, per_weighted, sp + sj + self.senior

    def _facilities(self, rng: np.random.Generator) -> None:
        """New teaching blocks and sports grounds, equipment growth and catch-up, multimedia and specialist rooms."""
        t, n = self.trends, self.n
        weighted, per_weighted, pupils = self._weighted()
        need = np.maximum(weighted[:, None] * per_weighted, 1e-9)
        net = self.aux - self.indoor
        crowded = net / need[:, 0] < 1.1
        block = rng.random(n) < np.where(crowded, t.build[1], t.build[0])
        added = np.maximum(net * rng.uniform(0.12, 0.35, n), need[:, 0] * rng.uniform(1.25, 1.6, n) - net)
        self.aux = self.aux + np.where(block, _up(added, 0.01), 0.0)

        sports = self.indoor + self.outdoor
        cramped = sports / need[:, 1] < 1.1
        event = rng.random(n) < 0.8 * np.where(cramped, t.build[1], t.build[0])
        gym = event & (pupils >= 300) & (rng.random(n) < 0.3)
        gym_area = _up(rng.uniform(400.0, 1500.0, n), 0.01)
        self.indoor = self.indoor + np.where(gym, gym_area, 0.0)
        self.aux = self.aux + np.where(gym, gym_area, 0.0)  # a gym is part of the teaching and auxiliary area
        ground = np.maximum.reduce(
            [
                self.outdoor * rng.uniform(0.15, 0.5, n),
                need[:, 1] * rng.uniform(1.2, 1.5, n) - sports,
                np.full(n, 200.0),
            ]
        )
        self.outdoor = self.outdoor + np.where(event & ~gym, _up(ground, 0.01), 0.0)
        # Idle floor area of shrinking schools is no longer counted above 45 ㎡ per pupil.
        cap = np.floor(45.0 * pupils)
        self.aux = np.where(self.aux > cap, np.maximum.reduce([cap, self.indoor, np.full(n, 60.0)]), self.aux)

        # Equipment: a share is written off each year and the county buys new equipment for its pupils, so the
        # county's value grows at its rate and schools drift towards the county's value per pupil.
        ci, nc = self.ci, self.nc
        kept = self.equipment * (1.0 - _WRITE_OFF)
        budget = _per_county(ci, self.equipment, nc) * (self.equipment_growth + _WRITE_OFF)
        per_pupil = budget / np.maximum(_per_county(ci, weighted, nc), 1.0)
        equipment = kept + weighted * per_pupil[ci] * np.exp(0.1 * rng.standard_normal(n) - 0.005)
        behind = equipment / need[:, 2] < 1.05
        top_up = behind & (rng.random(n) < t.catch_up)
        equipment = np.where(top_up, np.maximum(equipment, need[:, 2] * rng.uniform(1.15, 1.5, n)), equipment)
        self.equipment = _up(np.minimum(equipment, 90_000.0 * np.maximum(pupils, 1)), 100.0)

        rooms_behind = self.multimedia * 100.0 / need[:, 3] < 1.05
        catch_up = rooms_behind & (rng.random(n) < t.catch_up)
        wanted = np.ceil(need[:, 3] * rng.uniform(1.1, 1.4, n) / 100.0).astype(np.int64)
        one_more = ~rooms_behind & (rng.random(n) < 0.04)
        self.multimedia = np.where(catch_up, np.maximum(self.multimedia, wanted), self.multimedia + one_more)

    # ---------------------------------------------------------------------------------------------------------- frames

    def _classes(self, rng: np.random.Generator, stage: int, students: IntArray) -> tuple[IntArray, FloatArray]:
        n = students.astype(np.float64)
        has = students > 0
        size = self.class_size[stage] * np.exp(0.03 * rng.standard_normal(self.n))
        limit = self.class_limit[stage]
        classes = np.maximum(_whole(n / np.maximum(size, 1.0)), 1)
        classes = np.maximum(np.minimum(classes, np.maximum(students, 1)), np.ceil(n / limit)).astype(np.int64)
        classes = np.where(has, classes, 0)
        largest = np.minimum(np.ceil(n / np.maximum(classes, 1) * rng.uniform(1.0, 1.12, self.n)), limit)
        return classes, np.where(has, np.minimum(largest, n), np.nan)

    def _school_frame(self, rng: np.random.Generator, year: int) -> pl.DataFrame:
        n, ci = self.n, self.ci
        sp, sj = self.stage_pupils()
        ss = self.senior
        compulsory = sp + sj
        pupils = compulsory + ss
        classes_p, largest_p = self._classes(rng, 0, sp)
        classes_j, largest_j = self._classes(rng, 1, sj)
        needed = -(-(classes_p + classes_j) // 12)
        not_point = self.kind != T_POINT
        self.music_rooms = self.music_rooms + (not_point & (self.music_rooms < needed) & (rng.random(n) < 0.3))
        self.art_rooms = self.art_rooms + (not_point & (self.art_rooms < needed) & (rng.random(n) < 0.3))

        quota_p, quota_j = self._quotas(year)
        raw = sp * quota_p[ci] + sj * quota_j[ci] + ss * 1.2 * quota_j[ci]
        floor = np.where(self.guaranteed & (compulsory < 100), 100.0 * quota_p[ci] * self.small_factor, 0.0)
        funds = _up(np.maximum(raw * self.funds_factor, floor), 100.0)
        training = _up(funds * self.training_share, 10.0)

        staff_p, staff_j = self.staff
        teachers = staff_p.total + staff_j.total
        self.uncertified = rng.binomial(self.uncertified, 0.85)
        self.untrained = rng.binomial(self.untrained, 0.8)
        self.books = _whole(self.books * rng.uniform(0.97, 0.99, n) + pupils * rng.uniform(0.5, 2.0, n)).astype(
            np.float64
        )
        self.computers = _whole(self.computers * 0.93 + pupils * rng.uniform(0.01, 0.025, n)).astype(np.float64)
        itinerant = [
            np.where(self.rural & (stage > 0) & (stage < 100), self.itinerant[k], 0) for k, stage in enumerate((sp, sj))
        ]
        i64 = pl.Int64()
        ints = {
            "students_primary": sp,
            "students_junior": sj,
            "students_senior": ss,
            "multimedia_rooms": self.multimedia,
            "classes_primary": classes_p,
            "classes_junior": classes_j,
            "music_rooms": self.music_rooms,
            "art_rooms": self.art_rooms,
            "migrant_students": np.minimum(_whole(compulsory * self.migrant_share), compulsory),
            "certified_teachers": np.maximum(teachers - self.uncertified, 0),
            "trained_360h_teachers": np.maximum(teachers - self.untrained, 0),
            "books": self.books,
            "computers": self.computers,
            "itinerant_pe_art_teachers_primary": itinerant[0],
            "itinerant_pe_art_teachers_junior": itinerant[1],
        }
        for key, st in (("primary", staff_p), ("junior", staff_j)):
            ints |= {
                f"teachers_{key}": st.total,
                f"qualified_teachers_{key}": st.qualified,
                f"backbone_teachers_{key}": st.backbone,
                f"pe_teachers_{key}": st.pe,
                f"music_teachers_{key}": st.music,
                f"art_teachers_{key}": st.art,
                f"titled_teachers_{key}": st.titled,
            }
        floats = {
            "teaching_aux_area": self.aux,
            "indoor_sports_area": self.indoor,
            "outdoor_sports_area": self.outdoor,
            "equipment_value": self.equipment,
            "public_funds": funds,
            "training_funds": training,
        }
        private = self.private
        zoned = np.minimum(_whole(compulsory * self.zoned_share), compulsory)
        columns = [
            pl.lit(year, dtype=i64).alias("year"),
            *(pl.Series(k, np.asarray(v).astype(np.int64)) for k, v in ints.items()),
            *(pl.Series(k, np.round(v, 2)) for k, v in floats.items()),
            _with_nulls("max_class_size_primary", largest_p, sp == 0, i64),
            _with_nulls("max_class_size_junior", largest_j, sj == 0, i64),
            _with_nulls("zoned_students", zoned, private, i64),
        ]
        frame = self.base.schools.with_columns(columns).filter(pl.Series(self.open))
        return frame.select([c.key for c in SCHOOL_COLUMNS]).cast(_schema(SCHOOL_COLUMNS))

    def _grade_frame(self, year: int) -> pl.DataFrame:
        keep = pl.Series(self.open)
        frame = pl.DataFrame(
            {
                "year": np.full(self.n, year, dtype=np.int64),
                "school_id": self.base.schools["school_id"],
                "county_code": self.base.schools["county_code"],
                **{f"grade_{g + 1}": self.grades[:, g].astype(np.int64) for g in range(9)},
            }
        )
        return frame.filter(keep)

    def _county_frame(self, year: int, moved: tuple[FloatArray, FloatArray], previous: pl.DataFrame) -> pl.DataFrame:
        """The county sheet of a later year: fresh draws from the year's schools, with what persists carried over."""
        rng = np.random.default_rng([self.seed, 14, year, 1])
        nc, b = self.nc, self.years.start
        keep = self.open
        ci = self.ci[keep]
        sp, sj = self.stage_pupils()
        teachers = self.staff[0].total + self.staff[1].total
        compulsory = sp + sj
        migrant = np.minimum(_whole(compulsory * self.migrant_share), compulsory)
        quota_p, quota_j = self._quotas(year)
        fresh = _county_sheet(
            rng,
            self.cty,
            year,
            ci,
            sj=sj[keep],
            compulsory=compulsory[keep],
            teachers=teachers[keep],
            migrant=migrant[keep],
            quota_p=quota_p,
            quota_j=quota_j,
        )
        staff = _per_county(ci, teachers[keep], nc)
        rotated, rotated_backbone = (_whole(x) for x in moved)
        eligible = np.maximum(_whole(staff * self.eligible_share), rotated)
        civil = (
            _whole(
                self.civil0
                * (1.0 + self.trends.salary_growth) ** (year - b)
                * np.exp(0.01 * rng.standard_normal(nc))
                / 100.0
            )
            * 100.0
        )
        teacher_salary = _up(civil * self.salary_ratio * np.exp(0.005 * rng.standard_normal(nc)), 100.0)
        persistent = [
            c.key
            for c in COUNTY_COLUMNS
            if c.key.endswith(("_verdict", "_finding")) or c.key in ("performance_pay_full", "q9_lowest_level")
        ]
        stay = pl.Series(rng.random(nc) < 0.85)
        frame = fresh.with_columns(
            _with_nulls("basic_balance_year", self.recognised, self.recognised > year, pl.Int64()),
            pl.Series("civil_servant_avg_salary", civil.astype(np.float64)),
            pl.Series("teacher_avg_salary", teacher_salary),
            pl.Series("special_ed_funds_per_student", _up(self.special_funds0 * 1.03 ** (year - b), 10.0)),
            pl.Series("rotation_eligible_teachers", eligible),
            pl.Series("rotated_teachers", rotated),
            pl.Series("rotated_backbone_teachers", np.minimum(rotated_backbone, rotated)),
            *(pl.when(stay).then(previous[key]).otherwise(fresh[key]).alias(key) for key in persistent),
        )
        return frame.select([c.key for c in COUNTY_COLUMNS]).cast(_schema(COUNTY_COLUMNS))

    def _births(self, intake: dict[int, FloatArray]) -> pl.DataFrame:
        """Births of each birth year (entry year − 6): the county's first-grade intake ÷ its ratio, with noise."""
        rng = np.random.default_rng([self.seed, 14, 2])
        entries = sorted(intake)
        nc = self.nc
        values = np.stack([intake[e] for e in entries], axis=1) / self.birth_ratio[:, None]
        births = _whole(values * np.exp(0.02 * rng.standard_normal(values.shape)))
        cs = self.base.counties
        return pl.DataFrame(
            {
                "county_code": cs["county_code"].gather(np.repeat(np.arange(nc), len(entries))),
                "county_name": cs["county_name"].gather(np.repeat(np.arange(nc), len(entries))),
                "birth_year": np.tile(np.array(entries, dtype=np.int64) - 6, nc),
                "births": births.reshape(-1).astype(np.int64),
            }
        )
