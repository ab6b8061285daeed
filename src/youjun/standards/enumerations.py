"""The workbook's enumerations and county-sheet columns a rule set may refer to, imported in this one place.

Rule sets name school types, ownership, urban/rural classes, yes/no answers, reviewer-verdict and veto-finding
columns and rating scales of the workbook (``applies_to`` conditions, ``verdict`` / ``finding`` columns, Q6's
``ratings``, Q9's ``levels``); the loader checks each against the workbook contract defined here.
"""

from __future__ import annotations

from youjun.contract import (
    COUNTY_COLUMNS,
    FINDING,
    MORAL_RATING,
    OWNERSHIP,
    SCHOOL_TYPES,
    URBAN_RURAL,
    VERDICT,
    YES_NO,
)

__all__ = [
    "CONDITION_VALUES",
    "COUNTY_KEYS",
    "FINDING_COLUMNS",
    "MONITORING_LEVELS",
    "MORAL_RATING",
    "OWNERSHIP",
    "SCHOOL_TYPES",
    "URBAN_RURAL",
    "VERDICT_COLUMNS",
    "YES_NO",
]

#: Every column key of the county sheet (``县级指标``).
COUNTY_KEYS: frozenset[str] = frozenset(c.key for c in COUNTY_COLUMNS)
#: County-sheet columns holding a reviewer's verdict (达标 / 不达标 / 待补充).
VERDICT_COLUMNS: frozenset[str] = frozenset(c.key for c in COUNTY_COLUMNS if c.choices == VERDICT)
#: County-sheet columns holding a veto finding (不存在 / 存在).
FINDING_COLUMNS: frozenset[str] = frozenset(c.key for c in COUNTY_COLUMNS if c.choices == FINDING)
#: The academic levels the Q9 monitoring column accepts.
MONITORING_LEVELS: tuple[str, ...] = next(c.choices for c in COUNTY_COLUMNS if c.key == "q9_lowest_level")
#: What each key of an ``applies_to`` condition may hold.
CONDITION_VALUES: dict[str, tuple[str, ...]] = {
    "school_types": SCHOOL_TYPES,
    "urban_rural": URBAN_RURAL,
    "ownership": OWNERSHIP,
    "boarding": YES_NO,
}
