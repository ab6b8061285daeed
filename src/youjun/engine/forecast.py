"""School-age population and places forecast (学龄人口与学位预测): enrolment by school and grade for the next years,
the resource evaluation of the projected years, and a backtest of the method.

**Projection** (:func:`project_enrolment`, a cohort-progression / grade-progression-ratio method, decision 60):

* *County ratios.* For every county, grade g = 1…8 and pair of consecutive history years (t, t + 1), the pooled
  ratio r = Σ grade g+1 in t + 1 ÷ Σ grade g in t over all the county's schools (a school that closed in t + 1 has
  sent its pupils to another school of the county, so the county's totals carry them); grade 6 → 7 is the county's
  transition from primary to junior school. The central ratio is the mean over the year pairs, the low and high
  ratios their minimum and maximum. A county without a ratio (no pupils in grade g) takes the national one.
* *First grade.* With births: grade 1 of year y = births of y − 6 × the county's entry ratio (grade 1 ÷ births six
  years before, mean of the history years; low / high: their minimum / maximum). Without births — or for an entry
  year whose births are not given — the county's grade 1 follows its trend: last year's grade 1 × the mean yearly
  change of grade 1 over the history pairs (low / high: the smallest / largest yearly change).
* *Schools.* The county's projected grades are shared among its schools: a cohort keeps its share of the county's
  cohort as it moves up (grade 2 of a school next year ∝ its grade 1 this year), the entry grades 1 and 7 keep the
  school's share of the county's intake, and every share moves each year by the school's own adjustment
  a = (A + K) ÷ (E + K), A the pupils the school actually had after each history progression of its stage and E those
  the county's ratios predicted (the school's relative retention, shrunk towards 1 with K = ``SHRINK_PUPILS``
  pupils). Schools absent in the base year (closed, merged) are not projected.
* *Bounds.* The county's ``low`` and ``high`` repeat the projection with the low and high ratios of every step
  (progression, entry or trend), so they widen with the horizon. A school's bounds take its share of the county's
  low / high projection times (a_low ÷ a)^k and (a_high ÷ a)^k after k years, where a_low and a_high are the least
  and greatest of its single-pair adjustments (A_p + K/n) ÷ (E_p + K/n) over its n history pairs (a, their mediant,
  lies between them). Both always contain the central projection; they are the range the history's own ratios
  span, not a probability interval — the backtest reports how often the actual enrolment fell inside.

Pupils are rounded half-up to whole pupils per school and grade after the projection (the recursion itself runs
unrounded). Everything is vectorised: NumPy arrays per school and county and Polars group-bys and joins; the only
Python loops run over the projected years.

**Forecast** (:func:`projected_schools`, :func:`forecast`): the base year's school frame with the projected pupils,
the classes needed at the standard class sizes, everything else held at the base year's resources, evaluated with
:func:`youjun.engine.evaluate.evaluate_resources` year by year: projected CVs and verdicts, school units falling
below a standard (first year below), the county's lack or spare of places and classrooms and the engine's own
shortfalls (teachers, ㎡, 元, rooms). **Backtest** (:func:`backtest`): fit on the years up to one year, compare with
the actual enrolment of later years (mean absolute percentage error by stage, school and county level).

>>> import polars as pl
>>> grades = pl.DataFrame({"year": [2023, 2024], "school_id": "s1", "county_code": "340207",
...     **{f"grade_{g}": [100, 100] for g in range(1, 10)}})
>>> p = project_enrolment(grades, horizon=2)
>>> p.years, p.grades.filter(pl.col("year") == 2026).row(0)[3:]
((2025, 2026), (100, 100, 100, 100, 100, 100, 100, 100, 100))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from youjun.engine.evaluate import evaluate_resources
from youjun.engine.resources import standard_of
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GRADES: Final = tuple(f"grade_{g}" for g in range(1, 10))
#: Grade indices (0 = grade 1) of each stage.
STAGE_GRADES: Final = {"primary": (0, 1, 2, 3, 4, 5), "junior": (6, 7, 8)}
#: The entry grades (grade 1, grade 7): their intake is not the same school's grade below.
ENTRY: Final = (0, 6)
#: Progressions within a school's stage: grade index g → g + 1 (1→2 … 5→6, 7→8, 8→9).
WITHIN: Final = (0, 1, 2, 3, 4, 6, 7)
#: Class caps when the rule set has no ``[monitoring.rules.class_size]`` (standard-2017 G5: 45 and 50 pupils).
DEFAULT_CAPS: Final = {"primary": 45, "junior": 50}
#: Shrinkage of a school's adjustment towards 1, in pupils (chosen with the backtest, decision 60).
SHRINK_PUPILS: Final = 30.0
MAX_HORIZON: Final = 30
#: Grade 1 of year y entered from the births of year y − BIRTH_LAG.
BIRTH_LAG: Final = 6
#: Schools of fewer pupils in a stage are left out of the school-level backtest.
BACKTEST_MIN_PUPILS: Final = 50
STAGE_NAMES: Final = {"primary": "小学", "junior": "初中"}
SCENARIOS: Final = ("central", "low", "high")


def _fail(code: str, message: str, **where: Any) -> YoujunError:
    return YoujunError.single(f"FORECAST_{code}", message, **where)


# ---------------------------------------------------------------------------------------------------------------
# Projection
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Projection:
    """Projected pupils by school and grade for the years after the base year.

    - ``grades``, ``low``, ``high``: year, school_id, county_code, grade_1 … grade_9 (whole pupils) for every
      projected year and every school of the base year: the central projection and its bounds;
    - ``counties``: one row per county, year (the base year too, as it was) and stage: ``students`` (the sum of
      ``grades`` over the county's schools), the county's ``low`` and ``high`` (its low / high ratios, before the
      schools' own spread) and ``grade_1_source`` (``births`` or ``trend``; null for the base year);
    - ``ratios``: the county's parameters: county_code, ``grade`` (the grade entered, 1…9), ``kind``
      (``progression``, ``births`` — grade 1 ÷ births six years before — or ``trend`` — the yearly change of
      grade 1), ``ratio``, ``ratio_low``, ``ratio_high``, ``observations`` (0: the national value was used);
    - ``method``: how it was made, in Chinese, for pages and reports; ``school_adjustment``: whether the schools'
      own factors moved their shares.
    """

    base_year: int
    years: tuple[int, ...]
    grades: pl.DataFrame
    low: pl.DataFrame
    high: pl.DataFrame
    counties: pl.DataFrame
    ratios: pl.DataFrame
    method: str
    school_adjustment: bool = True


def _checked_grades(grades: pl.DataFrame) -> pl.DataFrame:
    wanted = ["year", "school_id", "county_code", *GRADES]
    missing = [c for c in wanted if c not in grades.columns]
    if missing:
        raise _fail("GRADES_COLUMNS", f"分年级在校生数缺少列：{'、'.join(missing)}", field=missing[0])
    try:
        frame = grades.select(
            pl.col("year").cast(pl.Int64),
            pl.col("school_id").cast(pl.String),
            pl.col("county_code").cast(pl.String),
            *(pl.col(g).cast(pl.Int64) for g in GRADES),
        )
    except pl.exceptions.PolarsError as exc:
        raise _fail("GRADES_TYPES", "分年级在校生数的年度和各年级人数应为整数") from exc
    if frame.height == 0:
        raise _fail("NO_HISTORY", "没有分年级在校生数，无法预测")
    bad = frame.select(
        nulls=pl.any_horizontal(pl.all().is_null()).sum(),
        negative=pl.any_horizontal(pl.col(g) < 0 for g in GRADES).sum(),
    ).row(0, named=True)
    if bad["nulls"]:
        raise _fail("GRADES_NULL", f"分年级在校生数有 {bad['nulls']} 行存在空值（年度、学校、县或年级人数）")
    if bad["negative"]:
        raise _fail("GRADES_NEGATIVE", f"分年级在校生数有 {bad['negative']} 行年级人数为负数")
    duplicated = frame.select(pl.struct("year", "school_id").is_duplicated().sum()).item()
    if duplicated:
        raise _fail("GRADES_DUPLICATE", f"分年级在校生数中同一学校同一年度出现多行（共 {duplicated} 行）")
    return frame


def _checked_births(births: pl.DataFrame) -> pl.DataFrame:
    wanted = ["county_code", "birth_year", "births"]
    missing = [c for c in wanted if c not in births.columns]
    if missing:
        raise _fail("BIRTHS_COLUMNS", f"出生人口数缺少列：{'、'.join(missing)}", field=missing[0])
    try:
        frame = births.select(
            pl.col("county_code").cast(pl.String),
            pl.col("birth_year").cast(pl.Int64),
            pl.col("births").cast(pl.Float64),
        )
    except pl.exceptions.PolarsError as exc:
        raise _fail("BIRTHS_TYPES", "出生人口数的出生年份和人数应为数字") from exc
    frame = frame.drop_nulls()
    if frame.select((pl.col("births") < 0).any()).item():
        raise _fail("BIRTHS_NEGATIVE", "出生人口数不能为负数")
    if frame.select(pl.struct("county_code", "birth_year").is_duplicated().any()).item():
        raise _fail("BIRTHS_DUPLICATE", "出生人口数中同一县同一出生年份出现多行")
    return frame


def _mean_min_max(values: FloatArray, national: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """Mean, minimum and maximum over the last axis ignoring NaN; all-NaN rows take ``national`` (mean, min, max
    of the nation on the same axis). Also the count of observations."""
    seen = (~np.isnan(values)).sum(axis=-1)
    filled = np.where(np.isnan(values), 0.0, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=-1) / seen
    low = np.where(seen > 0, np.min(np.where(np.isnan(values), np.inf, values), axis=-1), np.nan)
    high = np.where(seen > 0, np.max(np.where(np.isnan(values), -np.inf, values), axis=-1), np.nan)
    n_mean, n_low, n_high = _national_summary(national)
    mean = np.clip(mean, low, high)  # the mean of equal ratios may differ from them in the last bit
    return (
        np.where(seen > 0, mean, n_mean),
        np.where(seen > 0, low, n_low),
        np.where(seen > 0, high, n_high),
        seen.astype(np.int64),
    )


def _national_summary(national: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean, min and max over the last axis of the national ratios (NaN ignored; none at all: 1, no change)."""
    ok = ~np.isnan(national)
    seen = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, national, 0.0).sum(axis=-1) / seen
    low = np.min(np.where(ok, national, np.inf), axis=-1)
    high = np.max(np.where(ok, national, -np.inf), axis=-1)
    mean = np.clip(mean, low, high)
    return (
        np.where(seen > 0, mean, 1.0),
        np.where(seen > 0, low, 1.0),
        np.where(seen > 0, high, 1.0),
    )


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _round_half_up(x: FloatArray) -> IntArray:
    """Whole pupils, half up (a relative 1e-12 absorbs binary representation: 0.1 × 1005 is 100.5)."""
    out = x * (1 + 1e-12)
    out += 0.5
    np.floor(out, out=out)
    np.maximum(out, 0.0, out=out)
    return out.astype(np.int64)


def _per_county(ci: IntArray, values: FloatArray, nc: int) -> FloatArray:
    """Column sums of ``values`` (rows: schools ordered by county, every county present) per county."""
    starts = np.flatnonzero(np.r_[True, ci[1:] != ci[:-1]])
    return np.asarray(np.add.reduceat(values, starts, axis=0), dtype=np.float64)


def project_enrolment(
    grades: pl.DataFrame,
    births: pl.DataFrame | None = None,
    *,
    horizon: int = 5,
    base_year: int | None = None,
    school_adjustment: bool = True,
) -> Projection:
    """Project pupils by school and grade for ``horizon`` years after ``base_year`` (default: the latest year of
    ``grades``) from the history up to the base year; see the module's docstring for the method.

    ``grades``: year, school_id, county_code, grade_1 … grade_9 (one row per school and year; at least two
    consecutive years up to the base year). ``births`` (optional): county_code, birth_year, births.
    ``school_adjustment=False`` shares the county's cohorts by the base year's shares only (no school trend).
    Raises :class:`~youjun.errors.YoujunError` (Chinese message) when the data cannot support a projection.
    """
    if not 1 <= horizon <= MAX_HORIZON:
        raise _fail("HORIZON", f"预测年数应为 1–{MAX_HORIZON} 年（现为 {horizon}）", value=str(horizon))
    frame = _checked_grades(grades)
    years_all = sorted(frame["year"].unique().to_list())
    base = years_all[-1] if base_year is None else int(base_year)
    if base not in years_all:
        raise _fail("BASE_YEAR", f"分年级在校生数中没有预测基年 {base} 年的数据", value=str(base))
    history = [y for y in years_all if y <= base]
    pairs = [y for y in history if y + 1 in history]  # the first year of each consecutive pair
    if not pairs:
        raise _fail(
            "NO_HISTORY",
            f"至少需要两个相邻年度的分年级在校生数才能计算年级递进比（现只有 {'、'.join(map(str, history))} 年）",
        )
    frame = frame.filter(pl.col("year") <= base)
    first_year = history[0]
    n_years = base - first_year + 1

    base_rows = frame.filter(pl.col("year") == base).sort("county_code", "school_id")
    codes = base_rows["county_code"].unique(maintain_order=True)
    nc = codes.len()
    county_index = pl.DataFrame({"county_code": codes, "_c": np.arange(nc, dtype=np.int64)})
    ci = base_rows.join(county_index, on="county_code", how="left", maintain_order="left")["_c"].to_numpy()
    x_base = base_rows.select(GRADES).to_numpy().astype(np.float64)

    # County totals per history year: T[c, year − first, grade] (NaN: the county has no school that year).
    totals = (
        frame.group_by("county_code", "year")
        .agg(pl.col(GRADES).sum())
        .join(county_index, on="county_code", how="inner")
    )
    t_cube = np.full((nc, n_years, 9), np.nan)
    t_cube[totals["_c"].to_numpy(), totals["year"].to_numpy() - first_year] = totals.select(GRADES).to_numpy()
    pair_index = np.array(pairs, dtype=np.int64) - first_year
    num = t_cube[:, pair_index + 1, 1:]  # (nc, P, 8): grade g+1 in t+1
    den = t_cube[:, pair_index, :-1]  # grade g in t
    progression = _ratio(num, den)  # (nc, P, 8)
    national = _ratio(np.nansum(num, axis=0), np.nansum(den, axis=0))  # (P, 8)
    r_mean, r_low, r_high, r_seen = _mean_min_max(np.moveaxis(progression, 1, 2), national.T)

    # First grade: the yearly change of the county's grade 1 (trend) and, with births, the entry ratio.
    growth = _ratio(t_cube[:, pair_index + 1, 0], t_cube[:, pair_index, 0])  # (nc, P)
    national_growth = _ratio(np.nansum(t_cube[:, pair_index + 1, 0], 0), np.nansum(t_cube[:, pair_index, 0], 0))
    g_mean, g_low, g_high, g_seen = _mean_min_max(growth, national_growth)
    last_future = base + horizon
    births_cube = np.full((nc, last_future - first_year + 1), np.nan)  # births by entry year (birth year + 6)
    e_mean = e_low = e_high = np.full(nc, np.nan)
    e_seen = np.zeros(nc, dtype=np.int64)
    if births is not None:
        b = _checked_births(births).with_columns(entry=pl.col("birth_year") + BIRTH_LAG)
        b = b.filter(pl.col("entry").is_between(first_year, last_future)).join(county_index, on="county_code")
        births_cube[b["_c"].to_numpy(), b["entry"].to_numpy() - first_year] = b["births"].to_numpy()
        entry_obs = _ratio(t_cube[:, :, 0], births_cube[:, :n_years])  # (nc, history years)
        national_entry = _ratio(
            np.nansum(np.where(np.isnan(entry_obs), np.nan, t_cube[:, :, 0]), 0),
            np.nansum(np.where(np.isnan(entry_obs), np.nan, births_cube[:, :n_years]), 0),
        )
        e_mean, e_low, e_high, e_seen = _mean_min_max(entry_obs, national_entry)
        if np.isnan(national_entry).all():  # no history year has its births: no entry ratio at all
            births_cube[:] = np.nan
    future_births = births_cube[:, n_years:]  # (nc, horizon): NaN where not given

    # School adjustment: pupils after each within-stage progression of the history vs the county's ratios.
    ones = np.ones((x_base.shape[0], 9))
    adjust, adjust_low, adjust_high = ones, ones, ones
    if school_adjustment:
        adjust, adjust_low, adjust_high = _school_adjustment(frame, base_rows, ci, progression, pair_index, first_year)

    scenarios = {
        "central": (r_mean, g_mean, e_mean),
        "low": (r_low, g_low, e_low),
        "high": (r_high, g_high, e_high),
    }
    years = tuple(range(base + 1, base + horizon + 1))
    states = {s: _per_county(ci, x_base, nc) for s in SCENARIOS}
    shares = _shares(x_base, ci, nc)
    from_births = ~np.isnan(future_births)
    schools: dict[str, list[IntArray]] = {s: [] for s in SCENARIOS}
    county_sums: dict[str, list[FloatArray]] = {s: [] for s in SCENARIOS}
    for k in range(horizon):
        # Shares: cohorts move up one grade, entry grades keep their intake share; the school adjustment moves both.
        moved = np.empty_like(shares)
        moved[:, 1:] = shares[:, :-1]
        moved[:, list(ENTRY)] = shares[:, list(ENTRY)]
        shares = _shares(moved * adjust, ci, nc)
        spread = {
            "central": None,
            "low": (adjust_low / adjust) ** (k + 1),
            "high": (adjust_high / adjust) ** (k + 1),
        }
        for s, (ratio, grow, entry) in scenarios.items():
            state = states[s]
            new = np.empty_like(state)
            new[:, 1:] = state[:, :-1] * ratio
            new[:, 0] = np.where(from_births[:, k], entry * np.nan_to_num(future_births[:, k]), state[:, 0] * grow)
            states[s] = new
            shared = new[ci] * shares
            factor = spread[s]
            whole = _round_half_up(shared)
            schools[s].append(whole if factor is None else _round_half_up(shared * factor))
            county_sums[s].append(_per_county(ci, _stage_totals(whole), nc))

    school_keys = base_rows.select("school_id", "county_code")
    frames = {s: _grade_frames(school_keys, years, schools[s]) for s in SCENARIOS}
    counties = _county_summary(codes, base, _per_county(ci, _stage_totals(x_base), nc), years, county_sums, from_births)
    ratios = _ratio_frame(
        codes,
        (r_mean, r_low, r_high, r_seen),
        (g_mean, g_low, g_high, g_seen),
        (e_mean, e_low, e_high, e_seen),
        births is not None,
    )
    used_births = int(from_births.sum())
    method = _method_text(
        history[0], base, horizon, births is not None, used_births, from_births.size, school_adjustment, len(pairs)
    )
    return Projection(
        base_year=base,
        years=years,
        grades=frames["central"],
        low=frames["low"],
        high=frames["high"],
        counties=counties,
        ratios=ratios,
        method=method,
        school_adjustment=school_adjustment,
    )


def _shares(values: FloatArray, ci: IntArray, nc: int) -> FloatArray:
    """Each school's share of its county's column totals (0 where the county's total is 0)."""
    totals = _per_county(ci, values, nc)[ci]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, values / np.where(totals > 0, totals, 1.0), 0.0)


def _school_adjustment(
    frame: pl.DataFrame,
    base_rows: pl.DataFrame,
    ci: IntArray,
    progression: FloatArray,
    pair_index: IntArray,
    first_year: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per base-year school and grade (its stage's factor): a = (A + K) / (E + K) over the history progressions of
    the stage (A: the pupils the school had after them, E: those its county's ratios of the same years predicted),
    and the low and high factors, the least and greatest (A_p + K/n) / (E_p + K/n) of its n single year pairs (a
    lies between them: it is their mediant)."""
    n = base_rows.height
    n_years = int(pair_index.max()) + 2
    index = base_rows.select("school_id", "county_code", pl.int_range(pl.len(), dtype=pl.Int64).alias("_s"))
    rows = frame.join(index, on=["school_id", "county_code"], how="inner")
    cube = np.full((n, n_years, 9), np.nan)  # the base-year schools' history: [school, year − first, grade]
    years = rows["year"].to_numpy() - first_year
    keep = years < n_years
    cube[rows["_s"].to_numpy()[keep], years[keep]] = rows.select(GRADES).to_numpy()[keep]
    present = ~np.isnan(cube[:, :, 0])
    both = present[:, pair_index] & present[:, pair_index + 1]  # (n, P): the school is there in both years
    cube = np.nan_to_num(cube)
    out: list[FloatArray] = [np.ones((n, 9)) for _ in range(3)]
    k = SHRINK_PUPILS
    pairs = both.sum(axis=1)
    share = np.where(pairs > 0, k / np.maximum(pairs, 1), 0.0)[:, None]

    for members in STAGE_GRADES.values():
        actual = np.zeros(both.shape)
        expected = np.zeros(both.shape)
        for g in (g for g in WITHIN if g in members):
            r = progression[:, :, g][ci]  # (n, P): the county's ratio of grade g → g + 1 in each pair
            usable = both & ~np.isnan(r)
            actual += np.where(usable, cube[:, pair_index + 1, g + 1], 0.0)
            expected += np.where(usable, cube[:, pair_index, g] * np.nan_to_num(r), 0.0)
        single = (actual + share) / (expected + share)
        stage = list(members)
        pooled = (actual.sum(axis=1) + k) / (expected.sum(axis=1) + k)
        low = np.where(pairs > 0, np.where(both, single, np.inf).min(axis=1), 1.0)
        high = np.where(pairs > 0, np.where(both, single, -np.inf).max(axis=1), 1.0)
        out[0][:, stage] = pooled[:, None]
        out[1][:, stage] = np.minimum(low, pooled)[:, None]  # the mediant lies between them, up to the last bit
        out[2][:, stage] = np.maximum(high, pooled)[:, None]
    return out[0], out[1], out[2]


def _grade_frames(keys: pl.DataFrame, years: Sequence[int], values: Sequence[IntArray]) -> pl.DataFrame:
    parts = [
        pl.DataFrame({"year": np.full(keys.height, y, dtype=np.int64)})
        .hstack(keys)
        .hstack(pl.DataFrame(v, schema={g: pl.Int64 for g in GRADES}, orient="row"))
        for y, v in zip(years, values, strict=True)
    ]
    return pl.concat(parts)


def _stage_sums(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "year",
        "school_id",
        "county_code",
        pl.sum_horizontal(GRADES[g] for g in STAGE_GRADES["primary"]).alias("primary"),
        pl.sum_horizontal(GRADES[g] for g in STAGE_GRADES["junior"]).alias("junior"),
    )


def _stage_totals(values: FloatArray | IntArray) -> FloatArray:
    """Rows of nine grades → rows of (primary, junior) pupils."""
    return np.stack([values[:, list(g)].sum(axis=1) for g in STAGE_GRADES.values()], axis=1).astype(np.float64)


def _county_summary(
    codes: pl.Series,
    base: int,
    now: FloatArray,
    years: Sequence[int],
    sums: Mapping[str, Sequence[FloatArray]],
    from_births: npt.NDArray[np.bool_],
) -> pl.DataFrame:
    """County × year × stage: the base year's pupils, then the projected ones with the county's bounds."""
    nc = codes.len()
    stages = list(STAGE_GRADES)
    parts = [
        pl.DataFrame(
            {
                "county_code": codes.gather(np.repeat(np.arange(nc), 2)),
                "year": np.full(2 * nc, base, dtype=np.int64),
                "stage": np.tile(stages, nc),
                "students": now.reshape(-1).astype(np.int64),
                "low": now.reshape(-1).astype(np.int64),
                "high": now.reshape(-1).astype(np.int64),
                "grade_1_source": pl.Series([None] * (2 * nc), dtype=pl.String),
            }
        )
    ]
    for k, year in enumerate(years):
        parts.append(
            pl.DataFrame(
                {
                    "county_code": codes.gather(np.repeat(np.arange(nc), 2)),
                    "year": np.full(2 * nc, year, dtype=np.int64),
                    "stage": np.tile(stages, nc),
                    "students": sums["central"][k].reshape(-1).astype(np.int64),
                    "low": sums["low"][k].reshape(-1).astype(np.int64),
                    "high": sums["high"][k].reshape(-1).astype(np.int64),
                    "grade_1_source": np.repeat(np.where(from_births[:, k], "births", "trend"), 2),
                }
            )
        )
    order = pl.col("stage").replace_strict({"primary": 0, "junior": 1}, return_dtype=pl.Int32)
    return pl.concat(parts).sort("county_code", "year", order)


def _ratio_frame(
    codes: pl.Series,
    progression: tuple[FloatArray, FloatArray, FloatArray, IntArray],
    trend: tuple[FloatArray, FloatArray, FloatArray, IntArray],
    entry: tuple[FloatArray, FloatArray, FloatArray, IntArray],
    with_births: bool,
) -> pl.DataFrame:
    nc = codes.len()
    mean, low, high, seen = progression
    parts = [
        pl.DataFrame(
            {
                "county_code": codes.gather(np.repeat(np.arange(nc), 8)),
                "grade": np.tile(np.arange(2, 10, dtype=np.int64), nc),
                "kind": "progression",
                "ratio": mean.reshape(-1),
                "ratio_low": low.reshape(-1),
                "ratio_high": high.reshape(-1),
                "observations": seen.reshape(-1),
            }
        )
    ]
    kinds = [("trend", trend)] + ([("births", entry)] if with_births else [])
    for kind, (m, lo, hi, n) in kinds:
        parts.append(
            pl.DataFrame(
                {
                    "county_code": codes,
                    "grade": np.ones(nc, dtype=np.int64),
                    "kind": kind,
                    "ratio": m,
                    "ratio_low": lo,
                    "ratio_high": hi,
                    "observations": n,
                }
            )
        )
    return pl.concat(parts).sort("county_code", "grade", "kind")


def _method_text(
    first: int,
    base: int,
    horizon: int,
    with_births: bool,
    used_births: int,
    cells: int,
    school_adjustment: bool,
    n_pairs: int,
) -> str:
    if not with_births:
        entry = "未提供出生人口数，一年级人数按本县一年级人数历年平均年变化率外推"
    elif used_births == cells:
        entry = "一年级人数按六年前出生人口数 × 本县入学比（历年一年级人数 ÷ 六年前出生人口数的平均值）推算"
    elif used_births == 0:
        entry = "所给出生人口数不含预测年度所需的出生年份，一年级人数按本县一年级人数历年平均年变化率外推"
    else:
        entry = (
            "一年级人数有六年前出生人口数的年度按出生人口数 × 本县入学比（历年一年级人数 ÷ 六年前出生人口数的"
            "平均值）推算，其余年度按本县一年级人数历年平均年变化率外推"
        )
    schools = (
        "各校按其在全县各年级中的占比分配全县人数，占比每年按本校历年相对全县的递进差异（向 1 收缩）调整"
        if school_adjustment
        else "各校按基年在全县各年级中的占比分配全县人数"
    )
    bounds = "预测区间的下限、上限按历年各项比值的最小值、最大值逐年推算" + (
        "，学校的区间另计入本校历年单年递进差异的最小值、最大值" if school_adjustment else ""
    )
    return (
        f"按年级递进比（队列递进）法，以 {first}–{base} 年分年级在校生数预测 {base + 1}–{base + horizon} 年在校生："
        f"各县相邻两年“次年高一年级人数 ÷ 当年本年级人数”的全县合计比值（共 {n_pairs} 组相邻年度；六年级升入"
        f"初一同样按全县计算）取平均值逐年推算；{entry}；{schools}。{bounds}。基年已不在册（撤并、停办）的"
        "学校不作预测。"
    )


# ---------------------------------------------------------------------------------------------------------------
# Projected school frames and the forecast
# ---------------------------------------------------------------------------------------------------------------


def class_caps(rules: RuleSet | None) -> dict[str, int]:
    """The standard class sizes per stage: the rule set's ``[monitoring.rules.class_size] max_class_size`` when it
    has one, otherwise 45 (primary) and 50 (junior)."""
    caps = dict(DEFAULT_CAPS)
    if rules is None:
        return caps
    try:
        table = rules.sections["monitoring"]["rules"]["class_size"]["max_class_size"]
    except (KeyError, TypeError):
        return caps
    if isinstance(table, Mapping):
        for stage in caps:
            value = table.get(stage)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                caps[stage] = int(value)
    return caps


def _checked_base(schools_base: pl.DataFrame, projection: Projection) -> pl.DataFrame:
    needed = ["school_id", "county_code", "students_primary", "students_junior"]
    missing = [c for c in needed if c not in schools_base.columns]
    if missing:
        raise _fail("SCHOOLS_COLUMNS", f"学校数据缺少列：{'、'.join(missing)}", field=missing[0])
    if "year" in schools_base.columns:
        years = schools_base["year"].unique().drop_nulls().sort().to_list()
        if years != [projection.base_year]:
            shown = "、".join(map(str, years)) or "无"
            raise _fail(
                "SCHOOLS_YEAR", f"学校数据的统计年度（{shown}）应为预测基年 {projection.base_year} 年（只含一个年度）"
            )
    if schools_base.select(pl.col("school_id").is_duplicated().any()).item():
        raise _fail("SCHOOLS_DUPLICATE", "学校数据中同一学校标识码出现多行")
    return schools_base


def projected_schools(
    schools_base: pl.DataFrame, projection: Projection, *, rules: RuleSet | None = None
) -> dict[int, pl.DataFrame]:
    """Year → the base year's school frame with the projected pupils (central projection) of that year.

    For every school of the projection: ``students_primary`` = grades 1–6, ``students_junior`` = grades 7–9; the
    classes needed at the standard class sizes (:func:`class_caps`) ``classes_<stage>`` = ⌈pupils ÷ cap⌉ and the
    largest class ``max_class_size_<stage>`` = ⌈pupils ÷ classes⌉ (the pupils spread evenly); migrant and zoned
    pupils keep their share of the compulsory pupils. Everything else — teachers, buildings, grounds, equipment,
    rooms, senior pupils — stays as in the base year, and so does every column of a school the projection does
    not cover. Columns and dtypes are those of ``schools_base``; ``year`` is the projected year.
    """
    base = _checked_base(schools_base, projection)
    caps = class_caps(rules)
    dtypes = base.schema
    pupils = _stage_sums(projection.grades).rename({"primary": "_p", "junior": "_j"})
    columns = base.columns
    out: dict[int, pl.DataFrame] = {}
    old_compulsory = pl.col("students_primary").cast(pl.Float64) + pl.col("students_junior").cast(pl.Float64)
    for year in projection.years:
        joined = base.join(
            pupils.filter(pl.col("year") == year).drop("year"),
            on=["school_id", "county_code"],
            how="left",
            maintain_order="left",
        )
        covered = pl.col("_p").is_not_null()
        compulsory = (pl.col("_p") + pl.col("_j")).cast(pl.Float64)
        exprs: list[pl.Expr] = []
        for stage, new in (("primary", "_p"), ("junior", "_j")):
            cap = caps[stage]
            classes = pl.when(pl.col(new) > 0).then((pl.col(new) + cap - 1) // cap).otherwise(0)
            if f"classes_{stage}" in columns:
                exprs.append(
                    pl.when(covered).then(classes).otherwise(pl.col(f"classes_{stage}")).alias(f"classes_{stage}")
                )
            if f"max_class_size_{stage}" in columns:
                largest = pl.when(pl.col(new) > 0).then((pl.col(new) + classes - 1) // classes.clip(lower_bound=1))
                exprs.append(
                    pl.when(covered)
                    .then(largest)
                    .otherwise(pl.col(f"max_class_size_{stage}"))
                    .alias(f"max_class_size_{stage}")
                )
        for name in ("migrant_students", "zoned_students"):
            if name in columns:
                scaled = (pl.col(name).cast(pl.Float64) * compulsory / old_compulsory + 0.5).floor()
                scaled = pl.min_horizontal(scaled, compulsory)
                keep = ~covered | (old_compulsory <= 0) | pl.col(name).is_null()
                exprs.append(pl.when(keep).then(pl.col(name)).otherwise(scaled).alias(name))
        frame = joined.with_columns(exprs).with_columns(
            pl.when(covered).then(pl.col("_p")).otherwise(pl.col("students_primary")).alias("students_primary"),
            pl.when(covered).then(pl.col("_j")).otherwise(pl.col("students_junior")).alias("students_junior"),
            *([pl.lit(year).alias("year")] if "year" in columns else []),
        )
        out[year] = frame.select(columns).cast(dtypes)
    return out


@dataclass(frozen=True, slots=True)
class Forecast:
    """The resource evaluation of the projected years, per county (decision 60).

    - ``stages``: one row per county, year (the base year as evaluated, ``projected`` false, then each projected
      year) and stage: the engine's ``students``, ``units``, ``units_passed``, ``passed``, ``cv_limit`` and per
      indicator ``county_value_k``, ``cv_k``, ``cv_passed_k``; the engine's shortfalls summed over the units
      (``shortfall_k``: R1–R3 teachers, R4 teaching and auxiliary ㎡, R5 sports ㎡, R6 元, R7 rooms) with
      ``units_below_k``; and the places: ``pupils`` (every school but the excluded types), ``classes_today``,
      ``capacity`` (classes today × cap), ``places_lack`` / ``places_spare`` (Σ over schools of pupils above /
      below their capacity), ``classes_needed`` (Σ ⌈pupils ÷ cap⌉), ``classrooms_lack`` / ``classrooms_spare``
      (Σ of classes needed above / below the classes today), ``classes_unknown`` (schools without a class count);
    - ``cvs``: the same CVs long: year, county, stage, indicator, ``county_value``, ``cv``, ``cv_limit``, ``cv_passed``;
    - ``counties``: one row per county and year: the engine's ``units``, ``units_passed`` and ``passed``;
    - ``below``: every school unit meeting a standard in the base year and below it in a projected year, with the
      first such year, its value then and in the base year, the standard and the shortfall then;
    - ``units``: year, county, school, stage, students, ``value_k``, ``met_k``, ``shortfall_k``, ``passed`` of every
      evaluated unit and year (the engine's figures);
    - ``caps``: the class caps used; ``method``: the projection's method and the forecast's assumptions, in Chinese.
    """

    base_year: int
    years: tuple[int, ...]
    stages: pl.DataFrame
    cvs: pl.DataFrame
    counties: pl.DataFrame
    below: pl.DataFrame
    units: pl.DataFrame
    caps: Mapping[str, int]
    method: str


def _places(
    frames: Mapping[int, pl.DataFrame], base: pl.DataFrame, caps: Mapping[str, int], rules: RuleSet
) -> pl.DataFrame:
    """Pupils of every year against today's classes, per county, year and stage (every school but the rule set's
    excluded types). The frames have the base frame's rows in its order (:func:`projected_schools`)."""
    excluded = list(rules.scope.excluded_school_types)
    keep = ~pl.col("school_type").is_in(excluded) if excluded and "school_type" in base.columns else pl.lit(True)
    today = [
        (pl.col(f"classes_{s}") if f"classes_{s}" in base.columns else pl.lit(None, pl.Int64))
        .cast(pl.Int64)
        .alias(f"_t_{s}")
        for s in STAGE_NAMES
    ]
    classes_today = base.select(*today)
    rows = pl.concat(
        frame.select(
            pl.lit(year, pl.Int64).alias("year"),
            "county_code",
            keep.alias("_keep"),
            *(pl.col(f"students_{s}").cast(pl.Int64).alias(f"_p_{s}") for s in STAGE_NAMES),
        ).hstack(classes_today)
        for year, frame in frames.items()
    ).filter("_keep")
    parts = []
    for stage in STAGE_NAMES:
        cap = caps[stage]
        pupils = pl.col(f"_p_{stage}")
        classes = pl.col(f"_t_{stage}")
        needed = (pupils + cap - 1) // cap
        places = classes * cap - pupils
        rooms = classes - needed
        parts.append(
            rows.filter((pupils > 0) | (classes.fill_null(0) > 0))
            .group_by("year", "county_code")
            .agg(
                pupils.sum().alias("pupils"),
                classes.sum().alias("classes_today"),
                (classes * cap).sum().alias("capacity"),
                (-places).clip(lower_bound=0).sum().alias("places_lack"),
                places.clip(lower_bound=0).sum().alias("places_spare"),
                needed.sum().alias("classes_needed"),
                (-rooms).clip(lower_bound=0).sum().alias("classrooms_lack"),
                rooms.clip(lower_bound=0).sum().alias("classrooms_spare"),
                (classes.is_null() & (pupils > 0)).sum().cast(pl.Int64).alias("classes_unknown"),
            )
            .with_columns(pl.lit(stage).alias("stage"))
        )
    return pl.concat(parts)


def forecast(schools_base: pl.DataFrame, projection: Projection, rules: RuleSet) -> Forecast:
    """Evaluate the base year and every projected year (:func:`projected_schools`) with the engine; see
    :class:`Forecast`. Every CV, value, verdict and shortfall is the engine's own on the projected frame."""
    base_frame = schools_base
    if "year" not in base_frame.columns:
        base_frame = base_frame.with_columns(pl.lit(projection.base_year, pl.Int64).alias("year"))
    frames = projected_schools(base_frame, projection, rules=rules)
    caps = class_caps(rules)
    codes = list(rules.indicators)
    unit_cols = [
        "year",
        "county_code",
        "county_name",
        "school_id",
        "school_name",
        "stage",
        "students",
        *(f"{k}_{c}" for c in codes for k in ("value", "met", "shortfall")),
        "passed",
    ]
    stage_cols = [
        "year",
        "county_code",
        "county_name",
        "stage",
        "units",
        "units_passed",
        "students",
        "passed",
        "cv_limit",
        *(f"{k}_{c}" for c in codes for k in ("county_value", "cv", "cv_passed")),
    ]
    every = {projection.base_year: base_frame, **frames}
    units_parts, stage_parts, county_parts = [], [], []
    for frame in every.values():  # one engine run per year; only the figures reported are kept
        evaluation = evaluate_resources(frame, rules)
        units_parts.append(evaluation.units.select(unit_cols))
        stage_parts.append(evaluation.stages.select(stage_cols))
        county_parts.append(
            evaluation.counties.select("year", "county_code", "county_name", "units", "units_passed", "passed")
        )
        del evaluation
    units = pl.concat(units_parts)
    projected = pl.col("year") != projection.base_year
    keys = ["year", "county_code", "stage"]
    shortfalls = units.group_by(keys).agg(
        *(pl.col(f"shortfall_{c}").fill_null(0.0).sum().alias(f"shortfall_{c}") for c in codes),
        *((~pl.col(f"met_{c}")).sum().cast(pl.Int64).alias(f"units_below_{c}") for c in codes),
    )
    order = pl.col("stage").replace_strict(
        {s: i for i, s in enumerate(rules.stages)}, default=len(rules.stages), return_dtype=pl.Int32
    )
    stages = (
        pl.concat(stage_parts)
        .join(shortfalls, on=keys, how="left")
        .join(_places(every, base_frame, caps, rules), on=keys, how="left")
        .with_columns(projected.alias("projected"))
        .sort("county_code", "year", order)
    )
    cvs = pl.concat(
        stages.select(
            "year",
            "county_code",
            "county_name",
            "stage",
            "projected",
            pl.lit(c).alias("indicator"),
            pl.col(f"county_value_{c}").alias("county_value"),
            pl.col(f"cv_{c}").alias("cv"),
            "cv_limit",
            pl.col(f"cv_passed_{c}").alias("cv_passed"),
        )
        for c in codes
    ).sort("county_code", "year", order, "indicator")
    counties = pl.concat(county_parts).with_columns(projected.alias("projected")).sort("county_code", "year")
    caps_text = "、".join(f"{STAGE_NAMES[s]} {caps[s]} 人" for s in STAGE_NAMES)
    method = (
        f"{projection.method}预测年度的办学条件（教师、校舍、场地、设备、多媒体教室）保持 {projection.base_year} "
        f"年水平；所需班级数按标准班额（{caps_text}）计算，学位缺口为各校在校生超出现有班级数 × 标准班额的部分之和。"
    )
    return Forecast(
        base_year=projection.base_year,
        years=projection.years,
        stages=stages,
        cvs=cvs,
        counties=counties,
        below=_first_below(units, projection.base_year, rules),
        units=units,
        caps=caps,
        method=method,
    )


def _first_below(units: pl.DataFrame, base_year: int, rules: RuleSet) -> pl.DataFrame:
    """Units meeting an indicator's standard in the base year and first below it in a projected year."""
    codes = list(rules.indicators)
    key = ["county_code", "school_id", "stage"]
    met_then = units.filter(pl.col("year") == base_year).select(
        *key,
        *(pl.col(f"met_{c}").alias(f"_met_{c}") for c in codes),
        *(pl.col(f"value_{c}").alias(f"_base_{c}") for c in codes),
    )
    fell = []
    for year in units["year"].unique().sort().to_list():
        if year <= base_year:
            continue
        joined = units.filter(pl.col("year") == year).join(met_then, on=key, how="inner")
        for c in codes:
            fell.append(
                joined.filter(pl.col(f"_met_{c}").fill_null(False) & ~pl.col(f"met_{c}").fill_null(True)).select(
                    *key,
                    "county_name",
                    "school_name",
                    pl.lit(c).alias("indicator"),
                    pl.col("year").alias("first_year_below"),
                    pl.col(f"_base_{c}").alias("value_base"),
                    pl.col(f"value_{c}").alias("value"),
                    pl.col(f"shortfall_{c}").alias("shortfall"),
                )
            )
    if not fell:
        empty = units.clear().select(*key, "county_name", "school_name")
        return empty.with_columns(
            pl.lit(None, pl.String).alias("indicator"),
            pl.lit(None, pl.Int64).alias("first_year_below"),
            *(pl.lit(None, pl.Float64).alias(n) for n in ("value_base", "value", "standard", "shortfall")),
        ).select(_BELOW_COLUMNS)
    first = (
        pl.concat(fell)
        .sort("first_year_below", maintain_order=True)
        .unique(subset=[*key, "indicator"], keep="first", maintain_order=True)
        .with_columns(standard_of_indicator(rules))
    )
    return first.select(_BELOW_COLUMNS).sort("county_code", "school_id", "stage", "indicator")


_BELOW_COLUMNS = [
    "county_code",
    "county_name",
    "school_id",
    "school_name",
    "stage",
    "indicator",
    "first_year_below",
    "value_base",
    "value",
    "standard",
    "shortfall",
]


def standard_of_indicator(rules: RuleSet) -> pl.Expr:
    """The standard of each row's ``indicator`` at its ``stage`` (the engine's :func:`standard_of`, per code)."""
    expr = pl.lit(None, pl.Float64)
    for code in rules.indicators:
        expr = pl.when(pl.col("indicator") == code).then(standard_of(code, rules)).otherwise(expr)
    return expr.alias("standard")


# ---------------------------------------------------------------------------------------------------------------
# Backtest
# ---------------------------------------------------------------------------------------------------------------


def backtest(
    grades: pl.DataFrame,
    births: pl.DataFrame | None,
    *,
    fit_until: int,
    years_ahead: Sequence[int] = (1, 3),
    school_adjustment: bool = True,
) -> pl.DataFrame:
    """Fit on the years ≤ ``fit_until`` (births known by then: birth years ≤ ``fit_until``) and compare with the
    actual enrolment of ``fit_until + k`` for each k of ``years_ahead``.

    One row per k, level (``school``: schools of the fit's base year with ≥ 50 pupils in the stage in the
    target year; ``county``: the county's projected schools against all its schools then) and stage:
    ``units`` compared, ``mape`` (mean absolute percentage error, in %), ``bias`` (mean signed error, %),
    ``coverage`` (share of actual values within [low, high]).
    """
    ahead = sorted({int(k) for k in years_ahead})
    if not ahead or ahead[0] < 1:
        raise _fail("BACKTEST_AHEAD", "回测的预测年数应为正整数")
    frame = _checked_grades(grades)
    present = set(frame["year"].unique().to_list())
    missing = [fit_until + k for k in ahead if fit_until + k not in present]
    if missing:
        raise _fail("BACKTEST_YEARS", f"回测缺少实际数据的年度：{'、'.join(map(str, missing))}")
    known = None if births is None else _checked_births(births).filter(pl.col("birth_year") <= fit_until)
    projection = project_enrolment(
        frame.filter(pl.col("year") <= fit_until),
        known,
        horizon=ahead[-1],
        base_year=fit_until,
        school_adjustment=school_adjustment,
    )
    targets = [fit_until + k for k in ahead]
    actual = _long_stage(_stage_sums(frame.filter(pl.col("year").is_in(targets))), "actual")
    central = _long_stage(_stage_sums(projection.grades.filter(pl.col("year").is_in(targets))), "projected")
    low = _long_stage(_stage_sums(projection.low.filter(pl.col("year").is_in(targets))), "low")
    high = _long_stage(_stage_sums(projection.high.filter(pl.col("year").is_in(targets))), "high")
    keys = ["year", "school_id", "county_code", "stage"]
    projected = central.join(low, on=keys).join(high, on=keys)
    schools = projected.join(actual, on=keys, how="inner").filter(pl.col("actual") >= BACKTEST_MIN_PUPILS)
    county_keys = ["year", "county_code", "stage"]
    counties = (
        projection.counties.filter(pl.col("year").is_in(targets))
        .select(*county_keys, pl.col("students").alias("projected"), "low", "high")
        .join(actual.group_by(county_keys).agg(pl.col("actual").sum()), on=county_keys, how="inner")
        .filter(pl.col("actual") > 0)
    )
    error = (pl.col("projected") - pl.col("actual")) / pl.col("actual") * 100.0
    inside = (pl.col("actual") >= pl.col("low")) & (pl.col("actual") <= pl.col("high"))
    rows = []
    for level, data in (("school", schools), ("county", counties)):
        rows.append(
            data.group_by("year", "stage")
            .agg(
                pl.len().cast(pl.Int64).alias("units"),
                error.abs().mean().alias("mape"),
                error.mean().alias("bias"),
                inside.mean().alias("coverage"),
            )
            .with_columns(pl.lit(level).alias("level"))
        )
    order = pl.col("stage").replace_strict({"primary": 0, "junior": 1}, return_dtype=pl.Int32)
    level_order = pl.col("level").replace_strict({"school": 0, "county": 1}, return_dtype=pl.Int32)
    return (
        pl.concat(rows)
        .with_columns(
            pl.lit(fit_until, pl.Int64).alias("fit_until"),
            (pl.col("year") - fit_until).cast(pl.Int64).alias("years_ahead"),
        )
        .select("fit_until", "years_ahead", "year", "level", "stage", "units", "mape", "bias", "coverage")
        .sort("years_ahead", level_order, order)
    )


def _long_stage(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.unpivot(
        ["primary", "junior"], index=["year", "school_id", "county_code"], variable_name="stage", value_name=name
    )
