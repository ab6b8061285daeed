"""The national quality-monitoring results (国家义务教育质量监测结果) of many counties in one upload, for the
recognition's 质量监测 step: a CSV or Excel table with the columns 县级区划代码, 监测项目, 结果 and optionally 说明.
The file is held to the input limits before it is parsed; every cell is checked and every problem reported with
its sheet, row and column (in Chinese), so that an import succeeds whole or changes nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from youjun.errors import Location, Problem, YoujunError
from youjun.io.grid import SPACE, read_grid, table_rows
from youjun.io.limits import InputLimits, check_input

HEADERS: Final = {"county_code": "县级区划代码", "item": "监测项目", "result": "结果", "note": "说明"}
ALIASES: Final = {"县（区）代码": "county_code", "区划代码": "county_code", "项目": "item", "监测结果": "result"}
REQUIRED: Final = ("county_code", "item", "result")
SHEETS: Final = ("质量监测结果", "质量监测")
MAX_PROBLEMS: Final = 50
MAX_CHARS: Final = 200


def _key(text: str | None) -> str | None:
    if text is None:
        return None
    name = SPACE.sub("", str(text)).replace("(", "（").replace(")", "）")
    lookup = {v: k for k, v in HEADERS.items()} | ALIASES
    return lookup.get(name)


def read_quality(data: bytes | Path, suffix: str, limits: InputLimits, *, shown: str = "") -> list[dict[str, str]]:
    """The rows (county_code, item, result, note), checked; raises :class:`YoujunError` with every problem."""
    name = shown or f"质量监测结果{suffix}"
    suffix = suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xls", ".xlsm"):
        raise YoujunError.single("quality_file", "只接受 CSV 或 Excel 文件（.csv、.xlsx、.xls）", file=name)
    refused = check_input(data, suffix, limits, file=name)
    if refused:
        raise YoujunError(refused)
    body = data.read_bytes() if isinstance(data, Path) else bytes(data)
    grid = read_grid(body, suffix, SHEETS, name, "quality_file")
    rows = table_rows(grid)
    if rows.height == 0:
        raise YoujunError.single("quality_file", "质量监测结果为空：没有表头和数据行", file=name, sheet=grid.sheet)
    header = rows.row(0, named=True)
    columns: dict[str, str] = {}
    for c in grid.frame.columns:
        key = _key(header[c])
        if key is not None and key not in columns:
            columns[key] = c
    missing = [HEADERS[k] for k in REQUIRED if k not in columns]
    if missing:
        wanted = "、".join(HEADERS[k] for k in REQUIRED)
        raise YoujunError.single(
            "quality_columns", f"缺少列：{'、'.join(missing)}（表头应为 {wanted}，可加「说明」）", file=name,
            sheet=grid.sheet,
        )  # fmt: skip
    if rows.height == 1:
        raise YoujunError.single("quality_file", "质量监测结果只有表头，没有数据行", file=name, sheet=grid.sheet)
    problems: list[Problem] = []
    out: list[dict[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for record in rows.slice(1).iter_rows(named=True):
        at = int(record["_at"]) + grid.first_row
        values: dict[str, str] = {}
        for key in HEADERS:
            text = str(record[columns[key]] or "").strip() if key in columns else ""
            if key == "county_code" and text.endswith(".0") and text[:-2].isdigit():  # a code typed as a number
                text = text[:-2]
            problem = ""
            if key in REQUIRED and not text:
                problem = "不能为空"
            elif len(text) > MAX_CHARS:
                problem = f"过长（不超过 {MAX_CHARS} 个字）"
            elif key == "county_code" and not re.fullmatch(r"\d{6}", text):
                problem = "应为 6 位数字的县级区划代码"
            elif any(ord(c) < 32 for c in text):
                problem = "含有不可见的控制字符"
            if problem:
                where = Location(file=name, sheet=grid.sheet, row=at, column=HEADERS[key], field=key, value=text[:60])
                problems.append(Problem("quality_cell", problem, "error", where))
            values[key] = text
        identity = (values["county_code"], values["item"])
        if identity in seen and values["item"]:
            where = Location(file=name, sheet=grid.sheet, row=at, column=HEADERS["item"], field="item")
            problems.append(
                Problem("quality_cell", f"同一县同一监测项目重复（与第 {seen[identity]} 行）", "error", where)
            )
        seen.setdefault(identity, at)
        out.append(values)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise YoujunError(problems[:MAX_PROBLEMS])
    return out
