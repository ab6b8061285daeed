"""Row checks: a table of polars expressions evaluated over all rows of all files at once.

One cheap pass computes every check's flag; only the checks that fail anywhere compute their message values
(often window expressions), only for as many failing rows as can still be listed. Hard checks run first so that
warnings never crowd errors out of the listing.
"""

from __future__ import annotations

import dataclasses
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from youjun.contract import Column
from youjun.errors import Location, Problem, Severity
from youjun.io.reader.problems import Sink, Source


@dataclass(frozen=True, slots=True)
class RowCheck:
    """One row-level check: a polars expression that is true on failing rows (null counts as passing).

    ``message`` is a ``str.format`` template filled with the row's values (by column key), the ``extra``
    values computed for the row and the ``Plausibility`` thresholds. ``field`` is the column the problem
    points at.
    """

    code: str
    field: str
    fails: pl.Expr
    message: str
    severity: Severity = "error"
    extra: Mapping[str, pl.Expr] = dataclasses.field(default_factory=dict)


def _display(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def check_flags(frame: pl.DataFrame, checks: Sequence[RowCheck]) -> pl.DataFrame:
    """One boolean column ``__f{i}`` per check: the rows it fails (one cheap pass over all rows)."""
    return frame.select(check.fails.fill_null(False).alias(f"__f{i}") for i, check in enumerate(checks))


def run_checks(
    frame: pl.DataFrame,
    checks: Sequence[RowCheck],
    sources: Sequence[Source],
    columns: Sequence[Column],
    params: Mapping[str, Any],
    sink: Sink,
    flags: pl.DataFrame | None = None,
) -> None:
    """Evaluate ``checks`` over ``frame`` (which has ``__src``, ``source_row`` and ``__raw_{key}``) into ``sink``.

    ``flags`` are the checks' ``check_flags`` on this frame, when they were computed already."""
    if frame.height == 0 or not checks:
        return
    position = {c.key: i for i, c in enumerate(columns)}
    if flags is None:
        flags = check_flags(frame, checks)
    counts = flags.sum().row(0)
    for i, check in sorted(enumerate(checks), key=lambda item: item[1].severity != "error"):
        if not counts[i]:
            continue
        room = sink.room()
        sink.skip(check.severity, max(counts[i] - room, 0))
        failing = _failing_rows(frame, flags.get_column(f"__f{i}"), check, f"__x{i}_", room)
        _report(failing, check, f"__x{i}_", sources, position.get(check.field, 0), params, sink)


def _failing_rows(frame: pl.DataFrame, flag: pl.Series, check: RowCheck, prefix: str, room: int) -> pl.DataFrame:
    """The first ``room`` failing rows with only the columns the message needs, so that formatting stays cheap
    even for many failing rows (extras are named ``prefix + name``)."""
    names = {name for _, name, _, _ in string.Formatter().parse(check.message) if name}
    wanted = {"__src", "source_row", f"__raw_{check.field}"} | {n for n in names if n in frame.columns}
    return (
        frame.lazy()
        .with_columns(flag)
        .with_columns(expr.alias(prefix + name) for name, expr in check.extra.items() if name in names)
        .filter(pl.col(flag.name))
        .head(room)
        .select(sorted(wanted | {prefix + n for n in names if n in check.extra}))
        .collect()
    )


def _report(
    failing: pl.DataFrame,
    check: RowCheck,
    prefix: str,
    sources: Sequence[Source],
    pos: int,
    params: Mapping[str, Any],
    sink: Sink,
) -> None:
    keys = [name.removeprefix(prefix) for name in failing.columns]
    at_src, at_row = keys.index("__src"), keys.index("source_row")
    at_raw = keys.index(f"__raw_{check.field}")
    for row in failing.iter_rows():
        values = _Values(params)
        values.update(zip(keys, map(_display, row), strict=True))
        try:
            message = check.message.format_map(values)
        except (ValueError, TypeError):  # a value of an unexpected type for a format spec
            message = check.message
        source = sources[row[at_src]]
        where = Location(
            source.file, source.sheet, row[at_row], source.headers.get(check.field), check.field, row[at_raw]
        )
        sink.add(
            Problem(check.code, message, check.severity, where),
            (source.file_index, source.sheet_index, row[at_row], pos),
        )
