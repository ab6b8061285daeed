"""Synthetic, national-shaped annual data (合成数据) for demos, tests and benchmarks.

``generate(counties, seed)`` returns a school sheet and a county sheet with exactly the columns of
:mod:`youjun.contract`, deterministic for a given ``(counties, seed, year, province)``. The shape follows the real
system: 31 provincial units plus the XPCC with their real codes, counties in proportion to the real county counts,
about 70 schools per county (lognormal, 10–300), the national mix of school types, students per stage consistent with
the type, and resources centred near the 2017 standard (standard-2017.md §3) with a county quality level, a county
dispersion and school noise. A few schools per county fall short: rural schools mostly on teachers and equipment
(R2, R3, R6, R7), crowded urban schools on space (R4, R5). About a fifth of the counties have every school passing.

Everything is vectorised (NumPy + Polars); 2,900 counties (~200,000 schools) take about a second.

Every row satisfies the importer's hard checks (data-contract.md §1): whole counts ≥ 0, areas and money ≥ 0, each
teacher subgroup ≤ the stage's teachers, indoor sports area ≤ teaching and auxiliary area, students in at least one
stage, unique ``school_id``, 6-digit county codes, enum values from the template. Per-student teaching area stays
below 50 ㎡ and equipment below 100,000 元, so the soft checks stay quiet too.

Names are invented (two-character stems such as 「云川县」); any match with a real place is a coincidence.

>>> data = generate(counties=3, seed=1, province="34")
>>> data.counties.height, data.counties["county_code"].str.slice(0, 2).unique().to_list()
(3, ['34'])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from youjun.contract import (
    COUNTY_COLUMNS,
    FINDING,
    MORAL_RATING,
    OWNERSHIP,
    SCHOOL_COLUMNS,
    SCHOOL_TYPES,
    URBAN_RURAL,
    VERDICT,
    VETO_NAMES,
    YES_NO,
    Column,
)
from youjun.errors import YoujunError
from youjun.standards import load_rule_set

__all__ = ["PROVINCES", "PROVINCE_TABLE", "SyntheticData", "generate", "write_csv"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Provincial units: code, name, number of county-level units (approximate real counts, 2023).
PROVINCE_TABLE: Final[tuple[tuple[str, str, int], ...]] = (
    ("11", "北京市", 16),
    ("12", "天津市", 16),
    ("13", "河北省", 167),
    ("14", "山西省", 117),
    ("15", "内蒙古自治区", 103),
    ("21", "辽宁省", 100),
    ("22", "吉林省", 60),
    ("23", "黑龙江省", 121),
    ("31", "上海市", 16),
    ("32", "江苏省", 95),
    ("33", "浙江省", 90),
    ("34", "安徽省", 104),
    ("35", "福建省", 84),
    ("36", "江西省", 100),
    ("37", "山东省", 136),
    ("41", "河南省", 157),
    ("42", "湖北省", 103),
    ("43", "湖南省", 122),
    ("44", "广东省", 122),
    ("45", "广西壮族自治区", 111),
    ("46", "海南省", 25),
    ("50", "重庆市", 38),
    ("51", "四川省", 183),
    ("52", "贵州省", 88),
    ("53", "云南省", 129),
    ("54", "西藏自治区", 74),
    ("61", "陕西省", 107),
    ("62", "甘肃省", 86),
    ("63", "青海省", 44),
    ("64", "宁夏回族自治区", 22),
    ("65", "新疆维吾尔自治区", 94),
    ("66", "新疆生产建设兵团", 14),
)
PROVINCES: Final[dict[str, str]] = {code: name for code, name, _ in PROVINCE_TABLE}

# Civil-servant average salary by province (元/year), a rough economic level; other provinces use the default.
_SALARY_LEVEL: Final[dict[str, float]] = {
    "11": 210_000.0,
    "31": 215_000.0,
    "12": 150_000.0,
    "32": 150_000.0,
    "33": 160_000.0,
    "44": 150_000.0,
    "54": 165_000.0,
    "66": 120_000.0,
}
_SALARY_DEFAULT: Final = 110_000.0

_MAX_PER_LEVEL: Final = 99  # two code digits for prefectures and for counties within a prefecture
_MAX_SCHOOLS_PER_COUNTY: Final = 300  # keeps the 4-digit school sequence and the numeral table small

# County kinds (the name suffix) and their urbanisation class.
_SUFFIXES: Final = ("区", "市", "县", "旗", "师")
_SUFFIX_URBAN_CLASS: Final = np.array([0, 1, 2, 2, 1], dtype=np.int64)  # 0 urban district, 1 city, 2 rural county
_MUNICIPALITIES: Final = frozenset({"11", "12", "31"})

# Characters for invented two-character place stems; the two lists are disjoint so stems never repeat a character.
_STEM_FIRST: Final = (
    "东西南北中安宁平永清长新丰和兴华云金青白石龙凤临江海阳林松桃柳梅花武文德福寿康乐庆嘉宝丹翠玉明广泰昌盛鹤鹿"
    "仁义信兰桂荣春秋崇瑞祥"
)
_STEM_SECOND: Final = (
    "山川河湖溪泉源城州岭原台口坪桥湾滩洲关门田坝堡庄集店营寨屯港浦塘池渡岗垣陵冈谷沟峪渚汀坡塔堰埠圩铺垭岙峡滨井寺潭"
)
# Village names for rural schools, nine- and twelve-year schools and teaching points: a surname and a place
# ending (李家湾, 王庄); 1,400 combinations, more than a county ever needs for one school type.
_VILLAGE_FIRST: Final = (
    "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷"
    "钱汤尹黎易常武乔贺赖龚文"
)
_VILLAGE_SECOND: Final = ("家湾", "家庄", "家坪", "家沟", "家岭", "家河", "家寨", "家店", *"庄集营屯铺坝")

# School types, indexed as in SCHOOL_TYPES.
T_PRIMARY, T_JUNIOR, T_NINE, T_TWELVE, T_COMPLETE, T_POINT, T_SPECIAL = range(7)
# Type mix by county class (urban district / city / county); a second special school in a county becomes a
# primary school, so the overall mix is ≈ 55 / 18 / 8 / 1 / 3 / 13 / 1.2 %.
_TYPE_MIX: Final = np.array(
    [
        [0.580, 0.200, 0.080, 0.015, 0.045, 0.055, 0.025],
        [0.535, 0.180, 0.080, 0.010, 0.030, 0.140, 0.025],
        [0.530, 0.175, 0.080, 0.008, 0.025, 0.157, 0.025],
    ]
)
# Urban / town / rural shares by county class, for ordinary schools, teaching points and special schools.
_UR_ORDINARY: Final = np.array([[0.65, 0.20, 0.15], [0.35, 0.35, 0.30], [0.15, 0.35, 0.50]])
_UR_POINT: Final = np.array([[0.02, 0.10, 0.88], [0.00, 0.10, 0.90], [0.00, 0.08, 0.92]])
_UR_SPECIAL: Final = np.array([[0.85, 0.15, 0.00], [0.70, 0.30, 0.00], [0.50, 0.50, 0.00]])

# Median students per stage by type and urban/town/rural; 0 = no such stage.
_MEDIAN_PRIMARY: Final = np.array(
    [[1100, 700, 220], [0, 0, 0], [1100, 600, 200], [900, 600, 300], [0, 0, 0], [60, 60, 60], [60, 50, 40]],
    dtype=np.float64,
)
_MEDIAN_JUNIOR: Final = np.array(
    [[0, 0, 0], [1200, 900, 380], [650, 350, 120], [800, 500, 250], [1000, 700, 400], [0, 0, 0], [30, 25, 20]],
    dtype=np.float64,
)
_MEDIAN_SENIOR: Final = np.array(
    [[0, 0, 0], [0, 0, 0], [0, 0, 0], [1200, 800, 500], [1500, 1100, 700], [0, 0, 0], [0, 0, 0]],
    dtype=np.float64,
)
_STUDENT_SIGMA: Final = np.array([0.55, 0.5, 0.55, 0.5, 0.45, 0.7, 0.5])
_PRIMARY_RANGE: Final = np.array([[20, 3200], [0, 0], [20, 2600], [30, 2000], [0, 0], [5, 150], [8, 200]])
_JUNIOR_RANGE: Final = np.array([[0, 0], [40, 3600], [10, 1800], [30, 1800], [60, 3000], [0, 0], [0, 120]])
_SENIOR_RANGE: Final = np.array([[0, 0], [0, 0], [0, 0], [50, 3000], [100, 4000], [0, 0], [0, 0]])

# Calibration targets, read from the national rule set: the 2017 standard per stage (primary, junior) for R1…R7
# and the split weights of shared resources. The synthetic data are centred near them.
_NATIONAL: Final = load_rule_set("national-2017")
_STANDARD: Final = np.array(
    [[(_NATIONAL.indicators[f"R{k}"].standard or {})[stage] for k in range(1, 8)] for stage in ("primary", "junior")],
    dtype=np.float64,
)
_WEIGHTS: Final = tuple(_NATIONAL.split.weights[s] for s in ("primary", "junior", "senior"))
# Per indicator: median excess over the standard, dispersion multiplier, shortfall-probability multiplier.
_EXCESS: Final = np.array([0.35, 0.45, 0.50, 0.45, 0.50, 0.60, 0.40])
_DISPERSION: Final = np.array([1.05, 1.10, 1.05, 1.00, 1.05, 1.05, 1.05])
_SHORTFALL: Final = np.array([0.5, 1.3, 1.5, 0.8, 1.1, 0.8, 0.9])
# Upper bound of the excess: R1 is bounded by a plausible pupil–teacher ratio; the others stay below 5× the standard.
_MAX_EXCESS: Final = np.array([1.8, 3.0, 3.0, 4.0, 4.0, 4.0, 3.0])

# Name endings by school type.
_NAME_ENDINGS: Final = ("小学", "初级中学", "九年一贯制学校", "十二年一贯制学校", "中学", "村教学点", "特殊教育学校")
_VILLAGE_NAMED: Final = (T_NINE, T_TWELVE, T_POINT)

_DIGITS: Final = "零一二三四五六七八九"


def _chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五 (0 < n < 10,000)."""
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if thousands:
        out += _DIGITS[thousands] + "千"
    if hundreds:
        out += _DIGITS[hundreds] + "百"
    elif thousands and (tens or ones):
        out += "零"
    if tens:
        out += ("" if tens == 1 and not out else _DIGITS[tens]) + "十"
    elif out and ones and not out.endswith("零"):
        out += "零"
    if ones:
        out += _DIGITS[ones]
    return out


# Index 0 is never used for names; the table covers every sequence number a county can reach.
_NUMERALS: Final = pl.Series("numeral", ["零", *(_chinese_numeral(i) for i in range(1, 10_000))], dtype=pl.String)


@dataclass(frozen=True, slots=True)
class SyntheticData:
    """The two sheets of the annual workbook: ``schools`` (学校) and ``counties`` (县级指标)."""

    schools: pl.DataFrame
    counties: pl.DataFrame


def _dtype(column: Column) -> pl.DataType:
    if column.kind in ("int", "year"):
        return pl.Int64()
    if column.kind == "number":
        return pl.Float64()
    return pl.String()


def _schema(columns: tuple[Column, ...]) -> pl.Schema:
    return pl.Schema({c.key: _dtype(c) for c in columns})


def _fail(code: str, message: str) -> YoujunError:
    return YoujunError.single(code, message, field="synth")


# ---------------------------------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------------------------------


def _categorical(rng: np.random.Generator, probs: FloatArray) -> IntArray:
    """One draw per row of ``probs`` (rows sum to 1): the index of the chosen category."""
    cumulative = np.asarray(np.cumsum(probs, axis=1), dtype=np.float64)
    cumulative[:, -1] = 1.0
    u = rng.random(int(probs.shape[0]))
    return np.asarray((u[:, None] >= cumulative).sum(axis=1), dtype=np.int64)


def _pick(rng: np.random.Generator, n: int, probs: tuple[float, ...]) -> IntArray:
    """``n`` draws of a category index with probabilities ``probs`` (normalised here)."""
    cumulative = np.cumsum(np.asarray(probs, dtype=np.float64))
    index = np.searchsorted(cumulative / cumulative[-1], rng.random(n), side="right")
    return np.asarray(np.minimum(index, len(probs) - 1), dtype=np.int64)


def _whole(x: npt.NDArray[Any]) -> IntArray:
    """Nearest whole number."""
    return np.asarray(np.rint(x), dtype=np.int64)


def _up(x: npt.NDArray[Any], step: float) -> FloatArray:
    """Round up to a multiple of ``step`` (areas to 0.01 ㎡, money to 10 or 100 元)."""
    return np.asarray(np.ceil(x / step - 1e-9) * step, dtype=np.float64)


def _down(x: npt.NDArray[Any], step: float) -> FloatArray:
    return np.asarray(np.floor(x / step + 1e-9) * step, dtype=np.float64)


def _text(choices: tuple[str, ...], index: IntArray, name: str) -> pl.Series:
    return pl.Series(name, list(choices), dtype=pl.String).gather(index)


def _with_nulls(name: str, values: npt.NDArray[Any], blank: BoolArray, dtype: pl.DataType) -> pl.Series:
    """A column with nulls where ``blank`` holds (a value a school or county would leave empty)."""
    series = pl.Series(name, np.where(blank, np.nan, values.astype(np.float64)), nan_to_null=True)
    return series.round(2).cast(dtype) if dtype == pl.Float64() else series.cast(dtype)


# ---------------------------------------------------------------------------------------------------------------
# Counties
# ---------------------------------------------------------------------------------------------------------------


def _allocate(total: int, weights: IntArray) -> IntArray:
    """Largest-remainder apportionment of ``total`` over ``weights`` (deterministic, ties to the earlier unit)."""
    quota = total * weights.astype(np.float64) / weights.sum()
    counts = np.asarray(np.floor(quota), dtype=np.int64)
    left = total - int(counts.sum())
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[:left]] += 1
    return counts


@dataclass(frozen=True, slots=True)
class _Counties:
    code: pl.Series
    name: pl.Series
    short: pl.Series
    province: IntArray  # index into PROVINCE_TABLE
    urban_class: IntArray  # 0 urban district, 1 city, 2 rural county


def _make_counties(rng: np.random.Generator, counties: int, province: str | None) -> _Counties:
    codes = [code for code, _, _ in PROVINCE_TABLE]
    if province is None:
        per_province = _allocate(counties, np.array([n for _, _, n in PROVINCE_TABLE], dtype=np.int64))
    else:
        if province not in PROVINCES:
            raise _fail("SYNTH_PROVINCE", f"未知的省级区划代码「{province}」，应为 11…65 或 66（新疆生产建设兵团）")
        per_province = np.zeros(len(codes), dtype=np.int64)
        per_province[codes.index(province)] = counties
    if int(per_province.max()) > _MAX_PER_LEVEL * _MAX_PER_LEVEL:
        raise _fail("SYNTH_TOO_MANY", f"每个省级单位最多生成 {_MAX_PER_LEVEL * _MAX_PER_LEVEL} 个县级单位")

    prov = np.repeat(np.arange(len(codes), dtype=np.int64), per_province)
    starts = np.cumsum(per_province) - per_province
    k = np.arange(counties, dtype=np.int64) - starts[prov]  # position within the province

    # Prefectures of about nine counties (one for a municipality), at most 99 counties each.
    municipal = np.array([c in _MUNICIPALITIES or c == "50" for c in codes])
    target = np.where(municipal, 1, np.rint(per_province / 9.0)).astype(np.int64)
    n_pref = np.maximum(np.maximum(target, -(-per_province // _MAX_PER_LEVEL)), 1)
    per_pref = -(-np.maximum(per_province, 1) // n_pref)
    prefecture = k // per_pref[prov] + 1
    within = k % per_pref[prov] + 1

    # County kind: 区 / 市 / 县 / 旗, or 师 for the XPCC.
    u = rng.random(counties)
    prov_code = np.array(codes)[prov]
    suffix = np.where(u < 0.30, 0, np.where(u < 0.43, 1, 2))
    suffix = np.where(prov_code == "15", np.where(u < 0.22, 0, np.where(u < 0.33, 1, np.where(u < 0.83, 3, 2))), suffix)
    suffix = np.where(prov_code == "50", np.where(u < 0.70, 0, 2), suffix)
    suffix = np.where(np.isin(prov_code, list(_MUNICIPALITIES)), 0, suffix)
    suffix = np.where(prov_code == "66", 4, suffix).astype(np.int64)

    # Unique invented stems: a random permutation of the stem grid; past the grid, a numeral (二, 三, …) is added.
    n_second = len(_STEM_SECOND)
    grid = len(_STEM_FIRST) * n_second
    idx = np.arange(counties, dtype=np.int64)
    stem_id = rng.permutation(grid).astype(np.int64)[idx % grid]
    wrap = idx // grid
    frame = pl.DataFrame(
        {
            "prov": pl.Series(codes, dtype=pl.String).gather(prov),
            "pref": prefecture,
            "within": within,
            "first": pl.Series(list(_STEM_FIRST), dtype=pl.String).gather(stem_id // n_second),
            "second": pl.Series(list(_STEM_SECOND), dtype=pl.String).gather(stem_id % n_second),
            "wrap": _NUMERALS.gather(wrap + 1).set(pl.Series(wrap == 0), ""),
            "suffix": pl.Series(list(_SUFFIXES), dtype=pl.String).gather(suffix),
            "xpcc": _NUMERALS.gather(k + 1),
        }
    ).with_columns(
        code=pl.concat_str(
            pl.col("prov"),
            pl.col("pref").cast(pl.String).str.zfill(2),
            pl.col("within").cast(pl.String).str.zfill(2),
        ),
        short=pl.when(pl.col("suffix") == "师")
        .then(pl.concat_str(pl.lit("第"), pl.col("xpcc"), pl.lit("师")))
        .otherwise(pl.concat_str("first", "second", "wrap")),
    )
    frame = frame.with_columns(
        name=pl.when(pl.col("suffix") == "师").then(pl.col("short")).otherwise(pl.concat_str("short", "suffix"))
    )
    return _Counties(
        code=frame["code"],
        name=frame["name"],
        short=frame["short"],
        province=prov,
        urban_class=_SUFFIX_URBAN_CLASS[suffix],
    )


# ---------------------------------------------------------------------------------------------------------------
# Schools
# ---------------------------------------------------------------------------------------------------------------


def _stage_students(
    rng: np.random.Generator, median: FloatArray, bounds: npt.NDArray[np.int64], kind: IntArray, ur: IntArray
) -> IntArray:
    med = median[kind, ur]
    raw = med * np.exp(_STUDENT_SIGMA[kind] * rng.standard_normal(kind.size))
    low = bounds[kind, 0].astype(np.float64)
    high = bounds[kind, 1].astype(np.float64)
    return np.where(med > 0, _whole(np.clip(raw, low, high)), 0).astype(np.int64)


def _ratios(
    rng: np.random.Generator, excess: FloatArray, sigma: FloatArray, shortfall: FloatArray, cap: FloatArray
) -> FloatArray:
    """Value ÷ standard per unit and indicator: 1 + lognormal excess (≤ ``cap``), or with probability ``shortfall``
    a value in [0.55, 1)."""
    shape = excess.shape
    above = 1.0 + np.clip(excess * np.exp(sigma * rng.standard_normal(shape)), 0.003, cap)
    below = 1.0 - 0.45 * rng.random(shape) ** 1.5
    return np.where(rng.random(shape) < shortfall, below, above)


def _count_for(target: FloatArray, students: IntArray) -> IntArray:
    """Whole count reaching ``target`` (rounded up) in schools of 100+ students; nearest whole count in small ones."""
    return np.where(students >= 100, np.ceil(target - 1e-9), np.rint(target)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Stage:
    teachers: IntArray
    qualified: IntArray
    backbone: IntArray
    pe: IntArray
    music: IntArray
    art: IntArray
    titled: IntArray
    classes: IntArray
    max_class: FloatArray  # NaN where the stage has no students


def _stage_staff(
    rng: np.random.Generator,
    students: IntArray,
    stage: int,
    kind: IntArray,
    ur: IntArray,
    ratio: FloatArray,
    capped_classes: BoolArray,
) -> _Stage:
    """Teachers and classes of one stage; ``ratio`` (n × 3) is value ÷ standard for R1, R2, R3.

    Where ``capped_classes`` holds (counties that have removed large classes), no class exceeds 45 (primary) or 50
    (junior) students (G5)."""
    n = students.astype(np.float64)
    has = students > 0
    std = _STANDARD[stage]
    qualified = _count_for(n * std[0] * ratio[:, 0] / 100.0, students)
    backbone = _count_for(n * std[1] * ratio[:, 1] / 100.0, students)
    pe_art = _count_for(n * std[2] * ratio[:, 2] / 100.0, students)
    split = rng.multinomial(pe_art, [0.45, 0.28, 0.27]).astype(np.int64)

    # Full-time teachers follow from the qualified ones (R1) and their share (86–100 % primary, 80–100 % junior),
    # which gives about 16 and 12 students per teacher. Where R1 falls short the school has unqualified teachers
    # rather than too few: never more than 19–24 (primary) or 14–18 (junior) students per teacher. Special schools
    # have about one teacher per four students (3.3–6).
    share = rng.uniform(0.86 if stage == 0 else 0.80, 1.0, n.size)
    most = rng.uniform(19.0, 24.0, n.size) if stage == 0 else rng.uniform(14.0, 18.0, n.size)
    special_ratio = np.clip(4.0 * np.exp(0.15 * rng.standard_normal(n.size)), 3.3, 6.0)
    special = kind == T_SPECIAL
    base = np.where(
        special,
        np.ceil(n / special_ratio),
        np.maximum(np.ceil(qualified / share - 1e-9), np.ceil(n / most)),
    ).astype(np.int64)
    teachers = np.where(has, np.maximum.reduce([base, backbone, pe_art, np.ones_like(base)]), 0)
    qualified = np.where(special, np.floor(teachers * share).astype(np.int64), qualified)

    # Classes: about 39 / 36 / 26 (primary) or 44 / 42 / 35 (junior) students; multi-grade classes in small schools.
    size_table = np.array([[39.0, 36.0, 26.0], [44.0, 42.0, 35.0]])[stage]
    size = np.where(kind == T_POINT, 15.0, np.where(kind == T_SPECIAL, 8.0, size_table[ur]))
    classes = np.maximum(_whole(n / (size * np.exp(0.1 * rng.standard_normal(n.size)))), 1)
    classes = np.where(has, np.minimum(classes, np.maximum(students, 1)), 0)
    # No class above 60 anywhere (超大班额 is 66+); none above the G5 limit where the county has capped classes.
    limit = np.where(capped_classes, (45.0, 50.0)[stage], 60.0)
    classes = np.where(has, np.maximum(classes, np.ceil(n / limit)), 0).astype(np.int64)
    largest = np.ceil(n / np.maximum(classes, 1) * rng.uniform(1.0, 1.12, n.size))
    largest = np.minimum(largest, limit)
    max_class = np.where(has, np.minimum(largest, n), np.nan)
    titled = np.minimum(_whole(teachers * rng.uniform(0.3, 0.7, n.size)), teachers)
    return _Stage(
        teachers=teachers,
        qualified=np.where(has, qualified, 0),
        backbone=np.where(has, backbone, 0),
        pe=np.where(has, split[:, 0], 0),
        music=np.where(has, split[:, 1], 0),
        art=np.where(has, split[:, 2], 0),
        titled=titled,
        classes=classes,
        max_class=max_class,
    )


def generate(counties: int, seed: int, year: int = 2024, province: str | None = None) -> SyntheticData:
    """A deterministic synthetic year of ``counties`` counties (all national, or all in ``province``).

    Long on purpose: one sequence of draws from one seeded generator, whose order fixes every value for a seed.

    >>> a = generate(counties=2, seed=7)
    >>> a.schools.equals(generate(counties=2, seed=7).schools)
    True
    """
    if counties < 1:
        raise _fail("SYNTH_COUNTIES", "县级单位数必须为正整数")
    if not 2000 <= year <= 2100:
        raise _fail("SYNTH_YEAR", f"统计年度「{year}」超出范围（2000–2100）")
    rng = np.random.default_rng(seed)
    cty = _make_counties(rng, counties, province)
    uc = cty.urban_class

    # County-level character: size, quality level, dispersion between schools, shortfall propensity.
    size_median = np.array([43.0, 62.0, 69.0])[uc]
    n_schools = np.clip(_whole(size_median * np.exp(0.55 * rng.standard_normal(counties))), 10, _MAX_SCHOOLS_PER_COUNTY)
    level = np.exp(0.25 * rng.standard_normal(counties))
    dispersion = rng.uniform(0.45, 1.1, counties)
    propensity = np.clip(np.exp(np.log(0.008) + 0.9 * rng.standard_normal(counties)), 0.0005, 0.08)

    total = int(n_schools.sum())
    ci = np.repeat(np.arange(counties, dtype=np.int64), n_schools)
    first_row = np.cumsum(n_schools) - n_schools
    seq = np.arange(total, dtype=np.int64) - first_row[ci] + 1
    suc = uc[ci]

    # School type; each county has at least one school with primary and one with junior students.
    kind = _categorical(rng, _TYPE_MIX[suc])
    has_junior_type = np.isin(kind, [T_JUNIOR, T_NINE, T_TWELVE, T_COMPLETE])
    has_primary_type = np.isin(kind, [T_PRIMARY, T_NINE, T_TWELVE])
    lacks_junior = np.bincount(ci, weights=has_junior_type, minlength=counties) == 0
    kind[first_row[lacks_junior]] = T_JUNIOR
    lacks_primary = np.bincount(ci, weights=has_primary_type, minlength=counties) == 0
    kind[first_row[lacks_primary] + 1] = T_PRIMARY
    special = (kind == T_SPECIAL).astype(np.int64)
    specials_so_far = np.cumsum(special) - np.repeat(np.cumsum(special)[first_row] - special[first_row], n_schools)
    kind = np.where((special == 1) & (specials_so_far > 1), T_PRIMARY, kind)
    kind = kind[np.lexsort((kind, ci))]  # schools ordered by type within the county

    ur = np.where(
        kind == T_POINT,
        _categorical(rng, _UR_POINT[suc]),
        np.where(kind == T_SPECIAL, _categorical(rng, _UR_SPECIAL[suc]), _categorical(rng, _UR_ORDINARY[suc])),
    )
    rural = ur == 2
    urban = ur == 0

    # Students per stage.
    sp = _stage_students(rng, _MEDIAN_PRIMARY, _PRIMARY_RANGE, kind, ur)
    sj = _stage_students(rng, _MEDIAN_JUNIOR, _JUNIOR_RANGE, kind, ur)
    ss = _stage_students(rng, _MEDIAN_SENIOR, _SENIOR_RANGE, kind, ur)
    attached = (kind == T_PRIMARY) & (rng.random(total) < np.where(urban, 0.005, 0.04))  # 小学附设初中班
    sj = np.where(attached, _whole(np.clip(150.0 * np.exp(0.5 * rng.standard_normal(total)), 20, 600)), sj)
    sj = np.where((kind == T_NINE) & (rng.random(total) < 0.05), 0, sj)  # nine-year school without junior intake yet
    sp = np.where((sp + sj) == 0, 5, sp)  # safety net: every school has students

    # Value ÷ standard for the seven indicators: county level × school noise, shortfalls in a few schools.
    small = (sp + sj) < 200
    excess = _EXCESS[None, :] * level[ci, None]
    sigma = _DISPERSION[None, :] * dispersion[ci, None]
    shortfall = propensity[ci, None] * _SHORTFALL[None, :] * np.ones((total, 1))
    shortfall[:, 1:3] *= np.where(rural, 1.6, 1.0)[:, None]  # rural schools: backbone, PE and art teachers
    shortfall[:, 2] *= np.where(small, 2.0, 1.0)
    shortfall[:, 5:7] *= np.where(rural, 1.4, 1.0)[:, None]  # equipment and multimedia
    shortfall[:, 3:5] *= np.where(urban, 2.0, 1.0)[:, None]  # crowded urban campuses: floor and sports area
    shortfall = np.clip(shortfall, 0.0, 0.5)
    staff = (excess[:, :3], sigma[:, :3], shortfall[:, :3], _MAX_EXCESS[None, :3])
    capped = (rng.random(counties) < 0.6)[ci]
    staff_p = _stage_staff(rng, sp, 0, kind, ur, _ratios(rng, *staff), capped)
    staff_j = _stage_staff(rng, sj, 1, kind, ur, _ratios(rng, *staff), capped)
    shared = _ratios(rng, excess[:, 3:], sigma[:, 3:], shortfall[:, 3:], _MAX_EXCESS[None, 3:])

    # Shared resources per school, sized on weighted students and the stricter stage (standard-2017.md §2).
    weighted = sp * _WEIGHTS[0] + sj * _WEIGHTS[1] + ss * _WEIGHTS[2]
    per_weighted = np.maximum(
        np.where(sp > 0, 1.0, 0.0)[:, None] * (_STANDARD[0, 3:] / _WEIGHTS[0])[None, :],
        np.where(sj > 0, 1.0, 0.0)[:, None] * (_STANDARD[1, 3:] / _WEIGHTS[1])[None, :],
    )
    need = weighted[:, None] * per_weighted * shared  # net teaching area, sports area, equipment, rooms × 100
    indoor_share = np.where((sp + sj + ss >= 300) & (rng.random(total) < 0.7), rng.uniform(0.04, 0.12, total), 0.0)
    gross_raw = np.maximum(need[:, 0] / (1.0 - indoor_share), 60.0)
    teaching_aux = _up(gross_raw, 0.01)
    indoor = np.minimum(_down(gross_raw * indoor_share, 0.01), teaching_aux)
    outdoor = _up(np.maximum(need[:, 1] - indoor, 0.0), 0.01)
    equipment = _up(need[:, 2], 100.0)
    total_students = sp + sj + ss
    multimedia = _count_for(need[:, 3] / 100.0, total_students)
    dense = urban & (rng.random(total) < 0.12)
    extra_sports = np.where(dense & (rng.random(total) < 0.5), _whole(rng.uniform(200.0, 2500.0, total)), 0.0)

    # Specialist rooms (G3): one music and one art room per 12 classes, most schools on target.
    classes = staff_p.classes + staff_j.classes
    rooms_needed = -(-classes // 12)
    delta = _pick(rng, total, (0.06, 0.70, 0.20, 0.04)) - 1
    music_rooms = np.maximum(rooms_needed + delta, 0)
    art_rooms = np.maximum(rooms_needed + _pick(rng, total, (0.05, 0.72, 0.19, 0.04)) - 1, 0)
    no_rooms = (kind == T_POINT) & (rng.random(total) < 0.8)
    music_rooms = np.where(no_rooms, 0, music_rooms)
    art_rooms = np.where(no_rooms, 0, art_rooms)
    built_year = np.minimum(_whole(rng.triangular(1950.0, 1998.0, float(year), total)), year)
    legacy_extra = np.where(built_year <= 2016, rng.poisson(0.3, total), 0)
    # Rooms reaching only the small-rural floors (template version 2), from a stream of their own so that every
    # other column stays as earlier versions generated it.
    small_rng = np.random.default_rng([seed, 2])
    small_extra = np.where(rural & ((sp + sj) < 200), small_rng.poisson(0.4, total), 0)

    # Ownership, boarding, admission, funds, teachers' certificates and training.
    private = ~np.isin(kind, [T_POINT, T_SPECIAL]) & (
        rng.random(total) < np.where(kind == T_COMPLETE, 0.15, np.where(rural, 0.04, 0.12))
    )
    boarding = rng.random(total) < np.where(
        kind == T_POINT, 0.0, np.where(rural, np.where(kind == T_PRIMARY, 0.15, 0.55), 0.08)
    )
    compulsory = sp + sj
    migrant_share = np.where(urban, rng.uniform(0.05, 0.35, total), np.where(rural, rng.uniform(0.0, 0.03, total), 0.1))
    migrant = _whole(compulsory * migrant_share * rng.uniform(0.5, 1.0, total))
    zoned = np.where(rng.random(total) < 0.97, compulsory, _whole(compulsory * rng.uniform(0.88, 0.99, total)))

    new_quota = year >= 2023
    quota_level = np.array([1.0, 1.0, 1.0, 1.05, 1.1, 1.2, 1.4])[_pick(rng, counties, (1, 1, 1, 1, 1, 1, 1))]
    quota_p = (720.0 if new_quota else 650.0) * quota_level
    quota_j = (940.0 if new_quota else 850.0) * quota_level
    funds = (sp * quota_p[ci] + sj * quota_j[ci] + ss * 1.2 * quota_j[ci]) * rng.uniform(1.0, 1.3, total)
    guaranteed = (compulsory < 100) & (rng.random(total) < 0.97)  # G6: small schools funded as 100 students
    funds = np.where(guaranteed, np.maximum(funds, 100.0 * quota_p[ci] * rng.uniform(1.0, 1.15, total)), funds)
    funds = _up(funds, 100.0)
    training_share = np.where(
        rng.random(total) < 0.985, 0.05 + rng.exponential(0.015, total), rng.uniform(0.03, 0.05, total)
    )
    training = _up(funds * training_share, 10.0)

    teachers = staff_p.teachers + staff_j.teachers
    certified = np.where(rng.random(total) < 0.96, teachers, np.maximum(teachers - rng.integers(1, 3, total), 0))
    trained = np.where(rng.random(total) < 0.92, teachers, np.maximum(teachers - rng.integers(1, 4, total), 0))
    itinerant_p = np.where(rural & (sp > 0) & (sp < 100), rng.poisson(0.5, total), 0)
    itinerant_j = np.where(rural & (sj > 0) & (sj < 100), rng.poisson(0.3, total), 0)
    books = _whole(sp * rng.uniform(22.0, 40.0, total) + (sj + ss) * rng.uniform(32.0, 50.0, total))
    computers = _whole(total_students * rng.uniform(0.10, 0.22, total))

    # Names: "<stem>第三小学" in towns and cities, "<stem>李家湾小学", "<stem>王庄村教学点" in the countryside and for
    # nine-/twelve-year schools; one numbering per type within the county. Village names come
    # from a fixed stride through the village grid (coprime to its size), so they never repeat within a type.
    group = ci * 8 + kind
    group_start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    group_id = np.cumsum(np.r_[True, group[1:] != group[:-1]]) - 1
    type_seq = np.arange(total, dtype=np.int64) - group_start[group_id] + 1
    group_size = np.diff(np.r_[group_start, total])[group_id]
    plain = (kind == T_SPECIAL) & (group_size == 1)
    n_village_second = len(_VILLAGE_SECOND)
    village_grid = len(_VILLAGE_FIRST) * n_village_second
    village_id = ((type_seq - 1) * 7919 + ci * 31 + kind * 211) % village_grid
    names = pl.DataFrame(
        {
            "code": cty.code.gather(ci),
            "short": cty.short.gather(ci),
            "seq": seq,
            "numeral": _NUMERALS.gather(type_seq),
            "ending": pl.Series(list(_NAME_ENDINGS), dtype=pl.String).gather(kind),
            "plain": plain,
            "village": pl.Series(list(_VILLAGE_FIRST), dtype=pl.String).gather(village_id // n_village_second)
            + pl.Series(list(_VILLAGE_SECOND), dtype=pl.String).gather(village_id % n_village_second),
            "by_village": np.isin(kind, _VILLAGE_NAMED) | (np.isin(kind, [T_PRIMARY, T_JUNIOR]) & rural),
        }
    ).select(
        school_id=pl.concat_str(pl.col("code"), pl.col("seq").cast(pl.String).str.zfill(4)),
        school_name=pl.when(pl.col("plain"))
        .then(pl.concat_str("short", "ending"))
        .when(pl.col("by_village"))
        .then(pl.concat_str("short", "village", "ending"))
        .otherwise(pl.concat_str(pl.col("short"), pl.lit("第"), pl.col("numeral"), pl.col("ending"))),
    )

    blank_built = rng.random(total) < 0.03
    never = np.zeros(total, dtype=np.bool_)
    f64 = pl.Float64()
    i64 = pl.Int64()
    columns: dict[str, pl.Series] = {
        "year": pl.Series("year", np.full(total, year, dtype=np.int64)),
        "school_id": names["school_id"],
        "school_name": names["school_name"],
        "county_code": cty.code.gather(ci),
        "county_name": cty.name.gather(ci),
        "school_type": _text(SCHOOL_TYPES, kind, "school_type"),
        "ownership": _text(OWNERSHIP, private.astype(np.int64), "ownership"),
        "urban_rural": _text(URBAN_RURAL, ur, "urban_rural"),
        "boarding": _text(YES_NO, (~boarding).astype(np.int64), "boarding"),
        "built_year": _with_nulls("built_year", built_year, blank_built, i64),
        "students_primary": pl.Series(sp),
        "students_junior": pl.Series(sj),
        "students_senior": pl.Series(ss),
        "teachers_primary": pl.Series(staff_p.teachers),
        "teachers_junior": pl.Series(staff_j.teachers),
        "qualified_teachers_primary": pl.Series(staff_p.qualified),
        "qualified_teachers_junior": pl.Series(staff_j.qualified),
        "backbone_teachers_primary": pl.Series(staff_p.backbone),
        "backbone_teachers_junior": pl.Series(staff_j.backbone),
        "pe_teachers_primary": pl.Series(staff_p.pe),
        "pe_teachers_junior": pl.Series(staff_j.pe),
        "music_teachers_primary": pl.Series(staff_p.music),
        "music_teachers_junior": pl.Series(staff_j.music),
        "art_teachers_primary": pl.Series(staff_p.art),
        "art_teachers_junior": pl.Series(staff_j.art),
        "itinerant_pe_art_teachers_primary": pl.Series(itinerant_p.astype(np.int64)),
        "itinerant_pe_art_teachers_junior": pl.Series(itinerant_j.astype(np.int64)),
        "teaching_aux_area": _with_nulls("teaching_aux_area", teaching_aux, never, f64),
        "indoor_sports_area": _with_nulls("indoor_sports_area", indoor, never, f64),
        "outdoor_sports_area": _with_nulls("outdoor_sports_area", outdoor, never, f64),
        "extra_sports_area": pl.Series(extra_sports.astype(np.float64)),
        "dense_city_centre": _text(YES_NO, (~dense).astype(np.int64), "dense_city_centre"),
        "equipment_value": pl.Series(equipment),
        "multimedia_rooms": pl.Series(multimedia),
        "classes_primary": pl.Series(staff_p.classes),
        "classes_junior": pl.Series(staff_j.classes),
        "max_class_size_primary": _with_nulls("mp", staff_p.max_class, sp == 0, i64),
        "max_class_size_junior": _with_nulls("mj", staff_j.max_class, sj == 0, i64),
        "music_rooms": pl.Series(music_rooms.astype(np.int64)),
        "art_rooms": pl.Series(art_rooms.astype(np.int64)),
        "music_rooms_legacy": pl.Series(legacy_extra.astype(np.int64)),
        "art_rooms_legacy": pl.Series(legacy_extra.astype(np.int64)),
        "music_rooms_small_rural": pl.Series(small_extra.astype(np.int64)),
        "art_rooms_small_rural": pl.Series(small_extra.astype(np.int64)),
        "migrant_students": pl.Series(migrant),
        "zoned_students": _with_nulls("zoned", zoned, private, i64),
        "public_funds": pl.Series(funds),
        "training_funds": pl.Series(training),
        "certified_teachers": pl.Series(certified.astype(np.int64)),
        "trained_360h_teachers": pl.Series(trained.astype(np.int64)),
        "has_charter_ict": _text(YES_NO, _pick(rng, total, (0.98, 0.02)), "has_charter_ict"),
        "moral_education_rating": _text(MORAL_RATING, _pick(rng, total, (0.35, 0.60, 0.045, 0.005)), "moral"),
        "books": pl.Series(books),
        "computers": pl.Series(computers),
        "titled_teachers_primary": pl.Series(staff_p.titled),
        "titled_teachers_junior": pl.Series(staff_j.titled),
    }
    schools = pl.DataFrame([columns[c.key].alias(c.key) for c in SCHOOL_COLUMNS]).cast(_schema(SCHOOL_COLUMNS))

    county_frame = _county_sheet(
        rng,
        cty,
        year,
        ci,
        sj=sj,
        compulsory=compulsory,
        teachers=teachers,
        migrant=migrant,
        quota_p=quota_p,
        quota_j=quota_j,
    )
    return SyntheticData(schools=schools, counties=county_frame)


def _county_sheet(
    rng: np.random.Generator,
    cty: _Counties,
    year: int,
    ci: IntArray,
    *,
    sj: IntArray,
    compulsory: IntArray,
    teachers: IntArray,
    migrant: IntArray,
    quota_p: FloatArray,
    quota_j: FloatArray,
) -> pl.DataFrame:
    """The county sheet (县级指标): inputs of G2, G7, G8, G11, G14, G15, Q1, Q2, Q9 and the reviewers' verdicts.

    Long on purpose: one sequence of draws from the school sheet's generator, whose order fixes every value."""
    n = cty.code.len()

    def per_county(x: IntArray) -> FloatArray:
        return np.asarray(np.bincount(ci, weights=x.astype(np.float64), minlength=n), dtype=np.float64)

    junior = per_county(sj)
    students = per_county(compulsory)
    staff = per_county(teachers)
    migrants = per_county(migrant)

    def verdict() -> pl.Series:
        return _text(VERDICT, _pick(rng, n, (0.90, 0.03, 0.07)), "verdict")

    # Basic balance (2012 method) recognised 2013–2021; none after the data year.
    recognised = 2013 + _pick(rng, n, (0.10, 0.16, 0.18, 0.19, 0.19, 0.10, 0.05, 0.02, 0.01))
    civil = (
        _whole(
            np.array([_SALARY_LEVEL.get(code, _SALARY_DEFAULT) for code, _, _ in PROVINCE_TABLE])[cty.province]
            * np.exp(0.12 * rng.standard_normal(n))
            / 100.0
        )
        * 100.0
    )
    teacher_salary = _up(civil * np.clip(rng.normal(1.03, 0.04, n), 0.85, 1.2), 100.0)

    eligible = _whole(staff * rng.uniform(0.25, 0.45, n))
    rotated = _whole(eligible * np.clip(rng.normal(0.14, 0.035, n), 0.04, 0.3))
    rotated_backbone = _whole(rotated * np.clip(rng.normal(0.27, 0.07, n), 0.05, 0.6))
    plan = _whole(junior / 3.0 * rng.uniform(0.2, 0.45, n))
    allocated = _whole(plan * np.clip(rng.normal(0.58, 0.06, n), 0.3, 0.85))
    eligible_migrants = _whole(migrants * rng.uniform(1.0, 1.15, n))
    public_share = np.clip(rng.normal(0.88, 0.05, n), 0.6, 1.0)
    purchased_share = np.minimum(rng.uniform(0.0, 0.08, n), 1.0 - public_share)
    in_public = _whole(eligible_migrants * public_share)
    in_purchased = np.minimum(_whole(eligible_migrants * purchased_share), eligible_migrants - in_public)

    # Q1 retention (graduates − in + out) ÷ (grade-7 intake − deaths), mostly 95–99 %.
    intake = np.maximum(_whole(junior / 3.0 * rng.uniform(0.97, 1.06, n)), 1)
    deaths = rng.binomial(intake, 0.0004).astype(np.int64)
    moved_out = rng.binomial(intake, rng.uniform(0.01, 0.04, n)).astype(np.int64)
    moved_in = rng.binomial(intake, rng.uniform(0.005, 0.03, n)).astype(np.int64)
    retention = np.clip(rng.normal(0.972, 0.011, n), 0.92, 0.995)
    graduates = np.maximum(_whole(retention * (intake - deaths) + moved_in - moved_out), 0)
    disabled = np.maximum(_whole(students * rng.uniform(0.002, 0.005, n)), 1)
    disabled_enrolled = np.minimum(_whole(disabled * np.clip(rng.normal(0.975, 0.02, n), 0.85, 1.0)), disabled)
    # S1: a survey of 600–3,000 valid answers, recognition mostly 88–97 %; V1–V6 rarely found, sometimes unchecked.
    answers = _whole(rng.uniform(600, 3000, n))
    positive = _whole(answers * np.clip(rng.normal(0.925, 0.03, n), 0.75, 0.995))
    findings = {
        f"v{i}_finding": pl.Series([*FINDING, None], dtype=pl.String).gather(_pick(rng, n, (0.96, 0.005, 0.035)))
        for i in range(1, len(VETO_NAMES) + 1)
    }

    columns: dict[str, pl.Series] = {
        "year": pl.Series(np.full(n, year, dtype=np.int64)),
        "county_code": cty.code,
        "county_name": cty.name,
        "basic_balance_year": _with_nulls("bb", recognised, recognised > year, pl.Int64()),
        "g1_verdict": verdict(),
        "g2_verdict": verdict(),
        "public_funds_quota_primary": pl.Series(np.round(quota_p, 2)),
        "public_funds_quota_junior": pl.Series(np.round(quota_j, 2)),
        "special_ed_funds_per_student": pl.Series(_up(np.maximum(rng.normal(7500.0, 1200.0, n), 4000.0), 10.0)),
        "teacher_avg_salary": pl.Series(teacher_salary),
        "civil_servant_avg_salary": pl.Series(civil),
        "performance_pay_full": _text(YES_NO, _pick(rng, n, (0.95, 0.05)), "pay"),
        "g10_verdict": verdict(),
        "rotation_eligible_teachers": pl.Series(eligible),
        "rotated_teachers": pl.Series(rotated),
        "rotated_backbone_teachers": pl.Series(rotated_backbone),
        "quality_hs_plan": pl.Series(plan),
        "quality_hs_allocated": pl.Series(allocated),
        "g14_verdict": verdict(),
        "eligible_migrant_children": pl.Series(eligible_migrants),
        "migrant_in_public": pl.Series(in_public),
        "migrant_in_purchased": pl.Series(in_purchased),
        "g15_verdict": verdict(),
        "junior_graduates": pl.Series(graduates),
        "junior_transfer_in": pl.Series(moved_in),
        "junior_transfer_out": pl.Series(moved_out),
        "grade7_enrolment": pl.Series(intake),
        "junior_deaths": pl.Series(deaths),
        "disabled_children": pl.Series(disabled),
        "disabled_enrolled": pl.Series(disabled_enrolled),
        "q5_verdict": verdict(),
        "q7_verdict": verdict(),
        "q8_verdict": verdict(),
        "q9_lowest_level": _text(("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"), _pick(rng, n, (0.01, 0.10, 0.64, 0.25)), "q9"),
        "q9_max_difference_rate": pl.Series(np.round(np.clip(rng.normal(0.11, 0.03, n), 0.03, 0.3), 3)),
        "recognition_valid": pl.Series(answers),
        "recognition_positive": pl.Series(positive),
        "recognition_rate": pl.Series(np.full(n, None), dtype=pl.Float64),
        **findings,
    }
    return pl.DataFrame([columns[c.key].alias(c.key) for c in COUNTY_COLUMNS]).cast(_schema(COUNTY_COLUMNS))


# ---------------------------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------------------------

_HEADERS: Final[dict[str, str]] = {c.key: c.header for c in (*SCHOOL_COLUMNS, *COUNTY_COLUMNS)}


def write_csv(df: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``df`` as UTF-8 CSV with a BOM (so Excel reads the Chinese) and the template's Chinese headers."""
    renamed = df.rename({k: _HEADERS[k] for k in df.columns if k in _HEADERS})
    renamed.write_csv(Path(path), include_bom=True)
