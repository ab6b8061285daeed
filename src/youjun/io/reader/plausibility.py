"""The thresholds of the soft checks, read from ``plausibility.toml`` (a province edits that file, not code).

Each threshold has a name (a field of ``Plausibility``) by which the checks of ``checks.toml`` and their messages
use it, e.g. ``max_class_size``. Every key is required; a file with mistakes is refused whole.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from youjun.errors import Location, Problem, YoujunError

PLAUSIBILITY_FILE = Path(__file__).parent.parent / "plausibility.toml"


@dataclass(frozen=True, slots=True)
class Plausibility:
    """Thresholds of the soft checks, loaded from ``plausibility.toml`` (see the comments there)."""

    max_area_per_student: float
    max_equipment_per_student: float
    ratio_min_students: int
    ratio_primary_min: float
    ratio_primary_max: float
    ratio_junior_min: float
    ratio_junior_max: float
    max_class_size: int
    change_min_students: int
    max_relative_change: float

    def values(self) -> dict[str, Any]:
        """Every threshold by name (what a check's expression and message may use)."""
        return {name: getattr(self, name) for name in THRESHOLDS}


#: Threshold name → (table, key, type) in ``plausibility.toml``.
THRESHOLDS: dict[str, tuple[str, str, type]] = {
    "max_area_per_student": ("teaching_area_per_student", "max", float),
    "max_equipment_per_student": ("equipment_per_student", "max", float),
    "ratio_min_students": ("student_teacher_ratio", "min_students", int),
    "ratio_primary_min": ("student_teacher_ratio", "primary_min", float),
    "ratio_primary_max": ("student_teacher_ratio", "primary_max", float),
    "ratio_junior_min": ("student_teacher_ratio", "junior_min", float),
    "ratio_junior_max": ("student_teacher_ratio", "junior_max", float),
    "max_class_size": ("class_size", "max", int),
    "change_min_students": ("year_change", "min_students", int),
    "max_relative_change": ("year_change", "max_relative_change", float),
}


def load_plausibility(path: str | os.PathLike[str] | None = None) -> Plausibility:
    """Load soft-check thresholds from a TOML file (default: the packaged ``plausibility.toml``)."""
    source = Path(path) if path is not None else PLAUSIBILITY_FILE
    shown = os.fspath(source)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise YoujunError.single("bad_plausibility_config", f"无法读取合理性阈值配置：{exc}", file=shown) from None
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, (section, key, kind) in THRESHOLDS.items():
        table = data.get(section)
        raw = table.get(key) if isinstance(table, dict) else None
        number = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else math.nan
        if not (math.isfinite(number) and number >= 0 and (kind is float or number.is_integer())):
            problems.append(
                Problem(
                    "bad_plausibility_config",
                    f"合理性阈值配置缺少或错误：[{section}] {key} 应为非负数值",
                    "error",
                    Location(file=shown, field=f"{section}.{key}", value=None if raw is None else str(raw)),
                )
            )
            continue
        values[name] = kind(raw)
    if problems:
        raise YoujunError(problems)
    return Plausibility(**values)
