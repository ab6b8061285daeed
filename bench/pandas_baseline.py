"""The plain pandas script for the resource part of ``youjun evaluate FILE --format json --out OUT``.

Usage: ``python bench/pandas_baseline.py SOURCE.csv OUT.json``. A benchmark comparison only: what a competent analyst
would write with pandas for the same job (standard-2017.md §1–3.2, national-2017 rule set, default settings), kept
self-contained (no youjun import) and vectorised (groupby/transform, no loops over rows except to build the JSON
objects). pandas is not a dependency of youjun: install it into the virtualenv to run this.

Steps: read the school CSV (Chinese headers or English keys); check the basics (required columns and values present,
numbers numeric, whole and non-negative, enumerations, 6-digit county codes, unique school ids per year, indoor sports
area within the teaching area); scope; split multi-stage schools into (school, stage) units with shared physical
resources apportioned by weighted students (1 : 1.1 : 1.32); R1–R7 per unit; the per-school rule (6 of 7 met, none
below 85 %); the student-weighted CV per county × stage × indicator and its limit; the county verdict; a JSON file
shaped like data-contract.md §2 (``units``, ``stages``, ``excluded`` per county).

What it leaves out compared with youjun (the rest of youjun's JSON): the per-unit ``shortfalls`` list, the most
influential schools per stage and indicator, ``cv_boundary`` (the rule set compares unrounded values, so only the
unrounded verdict is computed), the rounded-comparison and relaxation settings of other rule sets, the soft
(plausibility) checks, and the checks of the columns the resource part does not use (only those are read).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

STAGES = ("primary", "junior")
WEIGHTS = {"primary": 1.0, "junior": 1.1, "senior": 1.32}
TOLERANCE = 1e-9  # relative; absorbs binary floating point only (21 / 500 * 100 is 4.2)
# R1–R7: (per, numerator terms as (field, sign); staged fields are the unit's own stage), standards by stage.
INDICATORS = {
    "R1": (100, [("qualified_teachers", 1)], {"primary": 4.2, "junior": 5.3}),
    "R2": (100, [("backbone_teachers", 1)], {"primary": 1.0, "junior": 1.0}),
    "R3": (100, [("pe_teachers", 1), ("music_teachers", 1), ("art_teachers", 1)], {"primary": 0.9, "junior": 0.9}),
    "R4": (1, [("teaching_aux_area", 1), ("indoor_sports_area", -1)], {"primary": 4.5, "junior": 5.8}),
    "R5": (1, [("indoor_sports_area", 1), ("outdoor_sports_area", 1)], {"primary": 7.5, "junior": 10.2}),
    "R6": (1, [("equipment_value", 1)], {"primary": 2000.0, "junior": 2500.0}),
    "R7": (100, [("multimedia_rooms", 1)], {"primary": 2.3, "junior": 2.4}),
}
CODES = list(INDICATORS)
MIN_MET, MIN_RATIO = 6, 0.85
CV_LIMIT = {"primary": 0.50, "junior": 0.45}
SINGLE_UNIT_CV = 0.0

STAGED = ["qualified_teachers", "backbone_teachers", "pe_teachers", "music_teachers", "art_teachers"]
SHARED = ["teaching_aux_area", "indoor_sports_area", "outdoor_sports_area", "equipment_value", "multimedia_rooms"]
TEXT = {
    "school_id": "学校标识码",
    "school_name": "学校名称",
    "county_code": "县级区划代码",
    "county_name": "县级区划名称",
    "school_type": "办学类型",
    "ownership": "举办者",
    "urban_rural": "城乡分类",
}
COUNTS = {
    "year": "统计年度",
    "students_primary": "小学在校生数",
    "students_junior": "初中在校生数",
    "qualified_teachers_primary": "小学高于规定学历专任教师数",
    "qualified_teachers_junior": "初中高于规定学历专任教师数",
    "backbone_teachers_primary": "小学县级及以上骨干教师数",
    "backbone_teachers_junior": "初中县级及以上骨干教师数",
    "pe_teachers_primary": "小学体育专任教师数",
    "pe_teachers_junior": "初中体育专任教师数",
    "music_teachers_primary": "小学音乐专任教师数",
    "music_teachers_junior": "初中音乐专任教师数",
    "art_teachers_primary": "小学美术专任教师数",
    "art_teachers_junior": "初中美术专任教师数",
    "multimedia_rooms": "网络多媒体教室数(间)",
}
AMOUNTS = {
    "teaching_aux_area": "教学及辅助用房面积(㎡)",
    "indoor_sports_area": "室内体育用房面积(㎡)",
    "outdoor_sports_area": "室外体育运动场地面积(㎡)",
    "equipment_value": "教学仪器设备资产值(元)",
}
OPTIONAL = {"students_senior": "高中在校生数"}  # a count, 0 when the column or the value is absent
REQUIRED = {**TEXT, **COUNTS, **AMOUNTS}
ENUMS = {
    "school_type": {"小学", "初中", "九年一贯制学校", "十二年一贯制学校", "完全中学", "教学点", "特殊教育学校"},
    "ownership": {"公办", "民办"},
    "urban_rural": {"城区", "镇区", "乡村"},
}


def fail(problems: list[str]) -> None:
    print(f"{len(problems)} data problem(s):", *problems, sep="\n  ", file=sys.stderr)
    raise SystemExit(1)


def rows_of(mask: pd.Series) -> str:
    """Spreadsheet row numbers (header = row 1) of the first few rows where ``mask`` holds."""
    rows = (np.flatnonzero(mask.to_numpy()) + 2).tolist()
    return ", ".join(map(str, rows[:5])) + (f" … ({len(rows)} rows)" if len(rows) > 5 else "")


def read_schools(path: str) -> pd.DataFrame:
    """Read the columns the resource part uses (Chinese header or English key) and check the basics."""
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    wanted = {**REQUIRED, **OPTIONAL}
    by_name = {name: key for key, zh in wanted.items() for name in (key, zh)}
    found = {name: by_name[name] for name in header if name in by_name}
    missing = sorted(set(REQUIRED) - set(found.values()))
    if missing:
        fail([f"missing column {key} ({REQUIRED[key]})" for key in missing])
    df = pd.read_csv(
        path,
        usecols=list(found),
        dtype={name: str for name, key in found.items() if key in TEXT},
        encoding="utf-8-sig",
    ).rename(columns=found)
    if "students_senior" not in df.columns:
        df["students_senior"] = 0

    problems: list[str] = []
    for key in [*COUNTS, *AMOUNTS, *OPTIONAL]:
        absent = df[key].isna()
        if not pd.api.types.is_numeric_dtype(df[key]):  # numbers as text, with spaces or thousands separators
            cleaned = df[key].str.replace(r"[\s,，]", "", regex=True).replace("", None)
            absent = cleaned.isna()
            df[key] = pd.to_numeric(cleaned, errors="coerce")
            bad = df[key].isna() & ~absent
            if bad.any():
                problems.append(f"{key}: not a number in rows {rows_of(bad)}")
        if key in OPTIONAL:
            df[key] = df[key].fillna(0)
        elif absent.any():
            problems.append(f"{key}: missing in rows {rows_of(absent)}")
        if (df[key] < 0).any():
            problems.append(f"{key}: negative in rows {rows_of(df[key] < 0)}")
        if key not in AMOUNTS and (df[key] % 1 > 0).any():
            problems.append(f"{key}: not a whole number in rows {rows_of(df[key] % 1 > 0)}")
    for key in TEXT:
        df[key] = df[key].str.strip()
        if df[key].isna().any() or (df[key] == "").any():
            problems.append(f"{key}: missing in rows {rows_of(df[key].isna() | (df[key] == ''))}")
    for key, allowed in ENUMS.items():
        unknown = df[key].notna() & ~df[key].isin(allowed)
        if unknown.any():
            problems.append(f"{key}: unknown value in rows {rows_of(unknown)}")
    bad_code = df["county_code"].notna() & ~df["county_code"].str.fullmatch(r"\d{6}", na=False)
    if bad_code.any():
        problems.append(f"county_code: not 6 digits in rows {rows_of(bad_code)}")
    duplicate = df.duplicated(["year", "school_id"])
    if duplicate.any():
        problems.append(f"school_id: duplicate within a year in rows {rows_of(duplicate)}")
    indoor = df["indoor_sports_area"] > df["teaching_aux_area"]
    if indoor.any():
        problems.append(f"indoor_sports_area: above teaching_aux_area in rows {rows_of(indoor)}")
    if problems:
        fail(problems)
    for key in [*COUNTS, *OPTIONAL]:
        df[key] = df[key].astype("int64")
    for key in AMOUNTS:
        df[key] = df[key].astype("float64")
    # youjun orders schools by year, county and school id before anything else; unit order follows.
    return df.sort_values(["year", "county_code", "school_id"], kind="stable", ignore_index=True)


def scope(schools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """In-scope schools and the exclusions with the first reason that applies (standard-2017.md §1)."""
    compulsory = schools["students_primary"] + schools["students_junior"]
    reason = np.select(
        [
            schools["school_type"] == "特殊教育学校",
            (schools["school_type"] == "教学点") & (compulsory < 50),
            compulsory == 0,
        ],
        ["特殊教育学校不纳入资源配置评估", "教学点在校生不足50人", "无义务教育阶段在校生"],
        default="",
    )
    out = reason != ""
    excluded = schools.loc[out, ["year", "county_code", "school_id", "school_name"]].assign(reason=reason[out])
    return schools.loc[~out], excluded


def split_units(schools: pd.DataFrame) -> pd.DataFrame:
    """One row per (school, stage) with students > 0: staged fields as reported, shared ones by weighted students."""
    weighted = sum(schools[f"students_{s}"] * w for s, w in WEIGHTS.items()).astype("float64")
    keys = ["year", "county_code", "county_name", "school_id", "school_name", "school_type"]
    parts = []
    for stage in STAGES:
        has = schools[f"students_{stage}"] > 0
        part = schools.loc[has]
        share = part[f"students_{stage}"] * WEIGHTS[stage] / weighted[has]
        parts.append(
            part[keys].assign(
                stage=stage,
                students=part[f"students_{stage}"],
                share=share,
                **{f: part[f"{f}_{stage}"] for f in STAGED},
                **{f: part[f] * share for f in SHARED},
            )
        )
    # Stage by stage, then stably by county: each county's primary units come before its junior units.
    units = pd.concat(parts, ignore_index=True)
    return units.sort_values(["year", "county_code"], kind="stable", ignore_index=True)


def indicators_and_rule(units: pd.DataFrame) -> pd.DataFrame:
    """R1–R7 (numerator ``a_k`` and ``value_k``), ``met_k``, ``n_met``, ``min_ratio`` and ``passed`` per unit."""
    columns = {}
    ratios = []
    for code, (per, terms, standard) in INDICATORS.items():
        a = sum(units[field].astype("float64") * sign for field, sign in terms)
        value = per * a / units["students"]
        std = units["stage"].map(standard)
        ratio = value / std
        columns |= {f"a_{code}": a, f"value_{code}": value, f"met_{code}": value >= std * (1 - TOLERANCE)}
        ratios.append(ratio.rename(code))
    units = units.assign(**columns)
    met = units[[f"met_{c}" for c in CODES]]
    units["n_met"] = met.sum(axis=1)
    units["min_ratio"] = pd.concat(ratios, axis=1).min(axis=1)
    units["passed"] = (units["n_met"] >= MIN_MET) & (units["min_ratio"] >= MIN_RATIO * (1 - TOLERANCE))
    return units


def balance(units: pd.DataFrame) -> pd.DataFrame:
    """Per county and stage: units, students, county values, student-weighted CVs and verdicts (§3.2).

    X̄ = m·Σa/P; CV = √(Σp(X − X̄)²/P)/X̄ (two-pass: deviations about the group mean); one unit → 0; X̄ = 0 → undefined.
    """
    keys = ["year", "county_code", "stage"]
    a_cols = [f"a_{c}" for c in CODES]
    grouped = units.groupby(keys, sort=False)
    total = grouped["students"].transform("sum")
    sums = grouped[a_cols].transform("sum")
    deviations = pd.DataFrame(
        {
            f"dev_{c}": units["students"] * (units[f"value_{c}"] - INDICATORS[c][0] * sums[f"a_{c}"] / total) ** 2
            for c in CODES
        }
    )
    stages = (
        units.assign(**deviations)
        .groupby(keys, sort=False)
        .agg(
            units=("students", "size"),
            units_passed=("passed", "sum"),
            students=("students", "sum"),
            **{f"sum_{c}": (f"a_{c}", "sum") for c in CODES},
            **{f"dev_{c}": (f"dev_{c}", "sum") for c in CODES},
        )
        .reset_index()
    )
    limit = stages["stage"].map(CV_LIMIT)
    cv_ok = pd.Series(True, index=stages.index)
    for code in CODES:
        mean = INDICATORS[code][0] * stages[f"sum_{code}"] / stages["students"]
        cv = np.sqrt(stages[f"dev_{code}"] / stages["students"]) / mean
        cv = cv.where(stages["units"] > 1, SINGLE_UNIT_CV).where(mean != 0, np.nan)
        stages[f"county_value_{code}"] = mean
        stages[f"cv_{code}"] = cv
        stages[f"cv_passed_{code}"] = (cv <= limit * (1 + TOLERANCE)).fillna(False)
        cv_ok &= stages[f"cv_passed_{code}"]
    stages["cv_limit"] = limit
    stages["passed"] = cv_ok & (stages["units_passed"] == stages["units"])
    return stages


def per_county(frame: pd.DataFrame, objects: list[dict[str, object]]) -> dict[tuple[int, str], list[object]]:
    """The objects of each (year, county), sliced from ``objects`` (one per row of ``frame``, grouped by county)."""
    sizes = frame.groupby(["year", "county_code"], sort=False).size()
    ends = sizes.cumsum().tolist()
    return {key: objects[end - n : end] for key, n, end in zip(sizes.index, sizes.tolist(), ends, strict=True)}


def _json_value(x: object) -> object:
    return None if isinstance(x, float) and np.isnan(x) else x


def write_json(
    schools: pd.DataFrame, units: pd.DataFrame, stages: pd.DataFrame, excluded: pd.DataFrame, out: str
) -> None:
    """The evaluation JSON: one object per county (every county of the input, by year and code)."""
    keys = ["year", "county_code"]
    counties = schools.drop_duplicates(keys)[[*keys, "county_name"]]
    verdict = stages.groupby(keys, as_index=False)["passed"].all()
    counties = counties.merge(verdict, on=keys, how="left").sort_values(keys)
    counties["passed"] = counties["passed"].eq(True)  # a county with no evaluated unit has nothing that could pass

    # Unit objects in unit order, then sliced per county (units are grouped by county).
    values = zip(*(units[f"value_{c}"].tolist() for c in CODES), strict=True)
    mets = zip(*(units[f"met_{c}"].tolist() for c in CODES), strict=True)
    unit_objects = [
        {
            "school_id": sid,
            "school_name": name,
            "stage": stage,
            "students": p,
            "values": dict(zip(CODES, v, strict=True)),
            "met": dict(zip(CODES, m, strict=True)),
            "passed": ok,
        }
        for sid, name, stage, p, v, m, ok in zip(
            units["school_id"].tolist(),
            units["school_name"].tolist(),
            units["stage"].tolist(),
            units["students"].tolist(),
            values,
            mets,
            units["passed"].tolist(),
            strict=True,
        )
    ]
    units_of = per_county(units, unit_objects)

    stage_objects: dict[tuple[int, str], dict[str, object]] = {}
    for row in stages.to_dict("records"):
        stage_objects.setdefault((row["year"], row["county_code"]), {})[row["stage"]] = {
            "units": row["units"],
            "units_passed": row["units_passed"],
            "students": row["students"],
            "county_value": {c: _json_value(row[f"county_value_{c}"]) for c in CODES},
            "cv": {c: _json_value(row[f"cv_{c}"]) for c in CODES},
            "cv_limit": row["cv_limit"],
            "cv_passed": {c: row[f"cv_passed_{c}"] for c in CODES},
            "passed": row["passed"],
        }
    excluded_of = per_county(excluded, excluded[["school_id", "school_name", "reason"]].to_dict("records"))

    result = []
    for year, code, name, passed in counties.itertuples(index=False, name=None):  # ~3,000 counties, not rows
        stages_of = stage_objects.get((year, code), {})
        result.append(
            {
                "county_code": code,
                "county_name": name,
                "year": year,
                "resource_allocation": {
                    "passed": bool(passed),
                    "stages": {s: stages_of[s] for s in STAGES if s in stages_of},
                    "units": units_of.get((year, code), []),
                    "excluded": excluded_of.get((year, code), []),
                },
            }
        )
    # The json module, not DataFrame.to_json: to_json rounds floats to at most 15 significant digits, while the
    # contract asks for full precision (json writes the shortest repr that round-trips, as youjun does).
    document = {"schema_version": 1, "standard": "national-2017", "counties": result}
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_native))


def _native(x: object) -> object:
    """NumPy scalars left in the records (from to_dict) as plain Python values."""
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: python bench/pandas_baseline.py SOURCE.csv OUT.json")
    source, out = sys.argv[1:]
    schools = read_schools(source)
    kept, excluded = scope(schools)
    units = indicators_and_rule(split_units(kept))
    stages = balance(units)
    write_json(schools, units, stages, excluded, out)


if __name__ == "__main__":
    main()
