"""The forecast's optional inputs, read from a CSV file or an Excel workbook: enrolment by grade per school and year
(分年级在校生数: 统计年度, 学校标识码, 县级区划代码, 一年级 … 九年级) and births per county and year (出生人口: 县级区划
代码, 出生年份, 出生人口数). Headers may be Chinese or English keys; a workbook's sheet is chosen by name (else its
first sheet). The file is held to the input limits before it is parsed; every cell is checked (whole numbers ≥ 0,
plausible years, no repeated school-year) and every rejection names the file, sheet, row and column, in Chinese.
A file is accepted whole or not at all."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, Literal

import polars as pl

from youjun.errors import Location, Problem, YoujunError
from youjun.io.grid import SPACE, read_grid, table_rows
from youjun.io.limits import InputLimits, check_input

Kind = Literal["grades", "births"]

GRADE_KEYS: Final = tuple(f"grade_{g}" for g in range(1, 10))
#: Chinese headers (as written to templates and files).
HEADERS: Final[dict[Kind, dict[str, str]]] = {
    "grades": {
        "year": "统计年度",
        "school_id": "学校标识码",
        "county_code": "县级区划代码",
        **{f"grade_{g}": f"{name}年级" for g, name in enumerate("一二三四五六七八九", start=1)},
    },
    "births": {
        "county_code": "县级区划代码",
        "county_name": "县级区划名称",
        "birth_year": "出生年份",
        "births": "出生人口数",
    },
}
#: Other headers people write for the same columns.
ALIASES: Final[dict[str, str]] = {
    "年度": "year",
    "学年": "year",
    "学校代码": "school_id",
    "学校标识": "school_id",
    "县区划代码": "county_code",
    "区划代码": "county_code",
    "出生人口": "births",
    "出生数": "births",
    "年份": "birth_year",
    "县（区）": "county_name",
}
REQUIRED: Final[dict[Kind, tuple[str, ...]]] = {
    "grades": ("year", "school_id", "county_code", *GRADE_KEYS),
    "births": ("county_code", "birth_year", "births"),
}
TEXT_KEYS: Final = frozenset({"school_id", "county_code", "county_name"})
YEAR_KEYS: Final = frozenset({"year", "birth_year"})
#: Years accepted (enrolment years and birth years alike).
YEAR_RANGE: Final = (1980, 2100)
SHEETS: Final[dict[Kind, tuple[str, ...]]] = {"grades": ("分年级在校生数", "分年级在校生"), "births": ("出生人口",)}
WHAT: Final[dict[Kind, str]] = {"grades": "分年级在校生数", "births": "出生人口"}
MAX_PROBLEMS: Final = 50


def _header_key(text: str | None, kind: Kind) -> str | None:
    if text is None:
        return None
    name = SPACE.sub("", str(text)).replace("(", "（").replace(")", "）")
    lookup = {v: k for k, v in HEADERS[kind].items()} | {k: k for k in HEADERS[kind]}
    key = lookup.get(name) or ALIASES.get(name)
    return key if key in HEADERS[kind] else None


def _whole(text: str | None) -> int | None:
    """A cell's whole number (``"12"``, ``"12.0"`` from a numeric Excel cell, ``"1,234"``) or None."""
    if text is None:
        return None
    value = text.strip().replace(",", "").replace("，", "")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not number.is_integer() or abs(number) > 10**9:
        return None
    return int(number)


def read_table(
    data: bytes | Path,
    suffix: str,
    kind: Kind,
    limits: InputLimits,
    *,
    shown: str | None = None,
    county_code: str | None = None,
) -> pl.DataFrame:
    """The checked frame of ``kind`` (columns of :data:`REQUIRED`, integers as Int64, codes as text).

    ``county_code`` (the web: the uploading county) fills a missing 县级区划代码 column and every row must then be
    of that county. Raises :class:`YoujunError` with every problem found (up to :data:`MAX_PROBLEMS`)."""
    name = shown or (data.name if isinstance(data, Path) else f"{WHAT[kind]}{suffix}")
    suffix = suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xls", ".xlsm"):
        raise YoujunError.single("forecast_file", "只接受 CSV 或 Excel 文件（.csv、.xlsx、.xls）", file=name)
    if isinstance(data, Path) and not data.is_file():
        raise YoujunError.single("forecast_file", f"{WHAT[kind]}文件不存在或不是文件", file=name)
    refused = check_input(data, suffix, limits, file=name)
    if refused:
        raise YoujunError(refused)
    body = data.read_bytes() if isinstance(data, Path) else bytes(data)
    grid = read_grid(body, suffix, SHEETS[kind], name, "forecast_file")
    frame = grid.frame
    rows = table_rows(grid)
    if rows.height == 0:
        raise YoujunError.single(
            "forecast_file", f"{WHAT[kind]}数据为空：没有表头和数据行", file=name, sheet=grid.sheet
        )
    header = rows.row(0, named=True)
    columns: dict[str, str] = {}
    for c in frame.columns:
        key = _header_key(header[c], kind)
        if key is not None and key not in columns:
            columns[key] = c
    required = [k for k in REQUIRED[kind] if not (k == "county_code" and county_code)]
    missing = [HEADERS[kind][k] for k in required if k not in columns]
    if missing:
        raise YoujunError.single(
            "forecast_columns",
            f"缺少列：{'、'.join(missing)}（表头应为 {'、'.join(HEADERS[kind][k] for k in REQUIRED[kind])}）",
            file=name,
            sheet=grid.sheet,
        )
    body_rows = rows.slice(1)
    if body_rows.height == 0:
        raise YoujunError.single("forecast_file", f"{WHAT[kind]}只有表头，没有数据行", file=name, sheet=grid.sheet)
    problems: list[Problem] = []
    out: dict[str, list[object]] = {k: [] for k in REQUIRED[kind]}
    seen: dict[tuple[object, ...], int] = {}
    for record in body_rows.iter_rows(named=True):
        at = int(record["_at"]) + grid.first_row

        def bad(key: str, message: str, value: object = None, at: int = at) -> None:
            where = Location(file=name, sheet=grid.sheet, row=at, column=HEADERS[kind][key], field=key)
            if value is not None:
                where = Location(where.file, where.sheet, where.row, where.column, where.field, str(value)[:60])
            problems.append(Problem("forecast_cell", message, "error", where))

        values: dict[str, object] = {}
        for key in REQUIRED[kind]:
            raw = record[columns[key]] if key in columns else None
            if key in TEXT_KEYS:
                text = (raw or "").strip()
                if key == "county_code" and not text and county_code:
                    text = county_code
                if text.endswith(".0") and text[:-2].isdigit():  # a code typed as a number in Excel
                    text = text[:-2]
                if not text:
                    bad(key, "不能为空")
                elif len(text) > 40:
                    bad(key, "过长（不超过 40 个字符）", text)
                elif key == "county_code" and not re.fullmatch(r"\d{6}", text):
                    bad(key, "应为 6 位数字的县级区划代码", text)
                elif key == "county_code" and county_code and text != county_code:
                    bad(key, f"不是本县（{county_code}）的代码", text)
                values[key] = text
                continue
            number = _whole(raw)
            if number is None or number < 0:
                bad(key, "应为不小于 0 的整数", raw)
            elif key in YEAR_KEYS and not YEAR_RANGE[0] <= number <= YEAR_RANGE[1]:
                bad(key, f"年份应在 {YEAR_RANGE[0]}–{YEAR_RANGE[1]} 之间", raw)
            values[key] = number
        identity = (
            (values["year"], values["school_id"]) if kind == "grades" else (values["county_code"], values["birth_year"])
        )
        if identity in seen:
            what = "同一学校同一年度" if kind == "grades" else "同一县同一出生年份"
            bad("school_id" if kind == "grades" else "birth_year", f"{what}重复（与第 {seen[identity]} 行）")
        else:
            seen[identity] = at
        for key in REQUIRED[kind]:
            out[key].append(values.get(key))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise YoujunError(problems[:MAX_PROBLEMS])
    schema = {k: (pl.String if k in TEXT_KEYS else pl.Int64) for k in REQUIRED[kind]}
    return pl.DataFrame(out, schema=schema)


def write_template_tables(county_code: str, schools: Sequence[tuple[str, str]], years: Sequence[int]) -> list[object]:
    """The sheets of the upload template (for :func:`youjun.io.workbook.write_tables`): 分年级在校生数 with a row per
    school and year (grades blank), 出生人口 with the birth years of the next entries, and a notes sheet."""
    from youjun.io.workbook import Table

    grade_rows = [
        {"year": y, "school_id": sid, "county_code": county_code, **dict.fromkeys(GRADE_KEYS)}
        for y in years
        for sid, _name in schools
    ]
    grades = pl.DataFrame(
        grade_rows or None,
        schema={
            "year": pl.Int64,
            "school_id": pl.String,
            "county_code": pl.String,
            **dict.fromkeys(GRADE_KEYS, pl.Int64),
        },
    )
    last = max(years) if years else 2024
    births = pl.DataFrame(
        {
            "county_code": [county_code] * 12,
            "birth_year": list(range(last - 11, last + 1)),
            "births": [None] * 12,
        },
        schema={"county_code": pl.String, "birth_year": pl.Int64, "births": pl.Int64},
    )
    notes = pl.DataFrame(
        {
            "item": ["分年级在校生数", "出生人口", "上传"],
            "text": [
                "每所学校每年一行：一年级至九年级的在校生数（整数）。至少需要两个相邻年度；最近年度须与已审核的学校数据"
                "同年，学校标识码与采集数据一致。",
                "可选：本县各出生年份的出生人口数。填写后一年级入学按六年前的出生人口推算，否则按一年级人数的趋势推算；"
                "以幼儿园大班人数推算入学队列时，填在其入学年份六年前的出生年份。",
                "两张表分别上传（同一工作簿可上传两次，选择不同的数据类型）。上传的年度替换已有的同年度数据，其他年度保留；"
                "文件有任何错误时整份不导入。",
            ],
        }
    )
    return [
        Table(sheet="分年级在校生数", frame=grades, headers=HEADERS["grades"]),
        Table(sheet="出生人口", frame=births, headers={k: HEADERS["births"][k] for k in REQUIRED["births"]}),
        Table(sheet="填写说明", frame=notes, headers={"item": "表", "text": "说明"}),
    ]


def frames_from(mapping: Mapping[str, Sequence[Sequence[object]]], kind: Kind) -> pl.DataFrame:
    """A stored table (``{"columns": […], "rows": [[…], …]}``-like mapping of column → values) back as a frame."""
    schema = {k: (pl.String if k in TEXT_KEYS else pl.Int64) for k in REQUIRED[kind]}
    return pl.DataFrame({k: list(mapping.get(k, [])) for k in REQUIRED[kind]}, schema=schema)
