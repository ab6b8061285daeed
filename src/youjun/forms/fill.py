"""Filling a form: pre-fill from the context, check the values, show them as printed.

Value types (what :func:`prefill` returns and :func:`validate` accepts, also what the web form stores as JSON):
text/longtext → ``str``; int/year → ``int``; number → ``int | float``; percent → a fraction ``0.9125`` (shown as
91.25%); date → ``datetime.date`` or an ISO ``"YYYY-MM-DD"`` string; choice → one of the choices; multichoice →
a list of choices; table → a list of row mappings (column key → value), in row order for fixed rows. ``None`` (or
an empty string or list) means not filled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from youjun.engine.precision import round_half_up_scalar
from youjun.errors import Location, Problem
from youjun.forms.definition import Column, Field, FormDefinition

__all__ = ["display", "flatten", "prefill", "resolve", "validate"]

_MISSING = object()


def resolve(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``evaluation.verdict.conclusion``; digits index lists); ``None`` if absent."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, Sequence) and not isinstance(value, str) and part.isdigit():
            index = int(part)
            value = value[index] if index < len(value) else _MISSING
        else:
            value = _MISSING
        if value is _MISSING:
            return None
    return value


def _mapped(field: Field, value: Any) -> Any:
    """Apply ``source_map`` (engine codes → form choices): keys are strings, ``true``/``false`` for booleans."""
    if field.source_map is None or value is None:
        return value
    key = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return field.source_map.get(key, value)


def _table_prefill(field: Field, context: Mapping[str, Any]) -> list[dict[str, Any]]:
    if field.rows:
        return [
            {c.key: resolve(context, c.source.replace("{row}", row.key)) if c.source else None for c in field.columns}
            for row in field.rows
        ]
    items = resolve(context, field.row_source) if field.row_source else None
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    return [
        {c.key: resolve(item, c.source) if c.source and isinstance(item, Mapping) else None for c in field.columns}
        for item in items
    ]


def prefill(defn: FormDefinition, context: Mapping[str, Any]) -> dict[str, Any]:
    """Every field's value from its ``source`` in ``context`` (``None`` where the source is missing or unset)."""
    values: dict[str, Any] = {}
    for field in defn.fields:
        if field.type == "table":
            values[field.key] = _table_prefill(field, context)
        else:
            values[field.key] = _mapped(field, resolve(context, field.source)) if field.source else None
    return values


# ----------------------------------------------------------------------------------------------------
# Validation


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _cell_problem(spec: Field | Column, value: Any) -> str | None:
    """Why ``value`` does not fit ``spec`` (a Chinese phrase completing 「…」), or ``None`` when it fits."""
    kind = spec.type
    if kind in ("text", "longtext"):
        return None if isinstance(value, str) else "应为文本"
    if kind == "int" and not _is_whole(value):
        return "应为整数"
    if kind in ("number", "percent") and not _is_number(value):
        return "应为数值"
    if kind == "percent" and not 0 <= value <= 1:
        return "应为 0%–100% 之间的比例（以小数表示，如 0.85）"
    if kind == "year" and not (_is_whole(value) and 1900 <= value <= 2100):
        return "应为 1900–2100 之间的四位年份"
    if kind == "date" and _parse_date(value) is None:
        return "应为日期（如 2025-03-31）"
    if kind == "choice" and value not in spec.choices:
        return "应从以下选项中选择：" + "、".join(spec.choices)
    if kind == "multichoice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "应为选项列表"
        unknown = [v for v in value if v not in spec.choices]
        if unknown:
            return "含有不在选项中的值：" + "、".join(unknown)
        if len(set(value)) != len(value):
            return "含有重复的选项"
    if kind in ("int", "number", "percent"):
        if spec.min is not None and value < spec.min:
            return f"应不小于 {spec.min:g}"
        if spec.max is not None and value > spec.max:
            return f"应不大于 {spec.max:g}"
    return None


def _problem(code: str, message: str, key: str, value: Any = None) -> Problem:
    shown = None if value is None else str(value)
    return Problem(code, message, "error", Location(field=key, value=shown))


def _check_table(field: Field, rows: Any) -> list[Problem]:
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        return [_problem("form_type", f"「{field.label}」应为表格（行的列表）", field.key)]
    problems: list[Problem] = []
    if field.rows and len(rows) != len(field.rows):
        problems.append(
            _problem("form_rows", f"「{field.label}」应有 {len(field.rows)} 行，实际 {len(rows)} 行", field.key)
        )
    if field.required and not rows:
        problems.append(_problem("form_required", f"「{field.label}」为必填项", field.key))
    for i, row in enumerate(rows):
        where = f"「{field.label}」{field.rows[i].label if i < len(field.rows) else f'第 {i + 1} 行'}"
        for column in field.columns:
            value = row.get(column.key)
            key = f"{field.key}.{i + 1}.{column.key}"
            if _empty(value):
                if column.required:
                    problems.append(_problem("form_required", f"{where}「{column.label}」为必填项", key))
                continue
            reason = _cell_problem(column, value)
            if reason:
                problems.append(_problem("form_type", f"{where}「{column.label}」{reason}", key, value))
        extra = sorted(set(row) - {c.key for c in field.columns})
        if extra:
            problems.append(_problem("form_unknown", f"{where}含有表单中没有的列：{'、'.join(extra)}", field.key))
    return problems


def validate(defn: FormDefinition, values: Mapping[str, Any]) -> list[Problem]:
    """Every problem of ``values`` against ``defn`` (required, types, choices, bounds); an empty list means valid.

    Each message names the field by its Chinese label; ``location.field`` holds the field key (table cells:
    ``key.row.column``, rows counted from 1) so a web form can attach the message to its input.
    """
    problems: list[Problem] = []
    known = {f.key for f in defn.fields}
    for key in values:
        if key not in known:
            problems.append(_problem("form_unknown", f"表单「{defn.title}」中没有字段「{key}」", key))
    for field in defn.fields:
        value = values.get(field.key)
        if field.type == "table":
            if value is not None:
                problems += _check_table(field, value)
            elif field.required:
                problems.append(_problem("form_required", f"「{field.label}」为必填项", field.key))
            continue
        if _empty(value):
            if field.required:
                problems.append(_problem("form_required", f"「{field.label}」为必填项", field.key))
            continue
        reason = _cell_problem(field, value)
        if reason:
            problems.append(_problem("form_type", f"「{field.label}」{reason}", field.key, value))
    return problems


# ----------------------------------------------------------------------------------------------------
# Display


def display(spec: Field | Column, value: Any) -> str:
    """A value as printed on the form: numbers rounded half-up with separators, percentages, dates in Chinese.

    Values that do not fit the type are shown as given (a form is printed even before it validates).
    """
    if _empty(value):
        return ""
    kind = spec.type
    if isinstance(value, bool):
        return "是" if value else "否"
    if kind == "percent" and _is_number(value):
        decimals = 2 if spec.decimals is None else spec.decimals
        return f"{round_half_up_scalar(value * 100, decimals):.{decimals}f}%"
    if kind == "year" and _is_whole(value):
        return str(int(value))
    if kind == "int" and _is_whole(value):
        return f"{int(value):,}"
    if kind == "number" and _is_number(value):
        decimals = 2 if spec.decimals is None else spec.decimals
        return f"{round_half_up_scalar(value, decimals):,.{decimals}f}"
    if kind == "date":
        parsed = _parse_date(value)
        if parsed is not None:
            return f"{parsed.year}年{parsed.month}月{parsed.day}日"
    if kind == "multichoice" and isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def flatten(defn: FormDefinition, values: Mapping[str, Any]) -> list[tuple[str, str, Field | Column, Any]]:
    """Every value as ``(key, label, spec, value)``: scalar fields by key, table cells as ``field.row.column``
    (``row`` is the row key for fixed rows, else the 1-based row number) — the machine-readable form."""
    out: list[tuple[str, str, Field | Column, Any]] = []
    for field in defn.fields:
        value = values.get(field.key)
        if field.type != "table":
            out.append((field.key, field.caption, field, value))
            continue
        rows = value if isinstance(value, list) else []
        count = len(field.rows) if field.rows else len(rows)
        for i in range(count):
            row = rows[i] if i < len(rows) and isinstance(rows[i], Mapping) else {}
            row_key = field.rows[i].key if field.rows else str(i + 1)
            row_label = field.rows[i].label if field.rows else f"第 {i + 1} 行"
            for column in field.columns:
                label = f"{field.label}／{row_label}／{column.label}"
                out.append((f"{field.key}.{row_key}.{column.key}", label, column, row.get(column.key)))
    return out
