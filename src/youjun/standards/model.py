"""Typed view of a rule set (the standard as data). Built and validated by ``loader``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Stage = Literal["primary", "junior", "senior"]
EVALUATED_STAGES: tuple[Stage, ...] = ("primary", "junior")


@dataclass(frozen=True, slots=True)
class Term:
    """One field of an indicator numerator, added (+1) or subtracted (-1)."""

    field: str
    sign: int = 1


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    name: str
    unit: str
    per: float
    numerator: tuple[Term, ...]
    integral: bool = False
    standard: Mapping[str, float] | None = None  # by stage; None for methods without per-school standards
    short: str = ""  # a short Chinese label for narrow tables

    @property
    def label(self) -> str:
        return self.short or self.name


@dataclass(frozen=True, slots=True)
class Condition:
    """All given keys must hold for a unit to match."""

    urban_rural: tuple[str, ...] | None = None
    school_types: tuple[str, ...] | None = None
    min_students: int | None = None
    max_students: int | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Relaxation:
    key: str
    name: str
    enabled: bool
    indicator: str
    add: tuple[str, ...]
    when: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Scope:
    excluded_school_types: tuple[str, ...]
    include_private: bool
    teaching_point_type: str
    teaching_point_min_students: int


@dataclass(frozen=True, slots=True)
class Split:
    method: Literal["weighted_students", "student_share"]
    weights: Mapping[str, float]
    shared: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SchoolRule:
    min_met: int
    min_ratio: float
    allow_exceptions: bool


@dataclass(frozen=True, slots=True)
class Balance:
    cv_limit: Mapping[str, float] | None
    single_unit_cv: float
    composite: Literal["none", "mean"]
    composite_limit: Mapping[str, float] | None


@dataclass(frozen=True, slots=True)
class Precision:
    display_cv_decimals: int
    display_value_decimals: int
    compare: Literal["unrounded", "rounded"]
    compare_cv_decimals: int
    compare_value_decimals: int
    tolerance: float


@dataclass(frozen=True, slots=True)
class RuleSet:
    id: str
    name: str
    method: str
    sources: tuple[str, ...]
    stages: tuple[Stage, ...]
    stage_names: Mapping[str, str]
    scope: Scope
    split: Split
    indicators: Mapping[str, Indicator]
    relaxations: Mapping[str, Relaxation]
    school_rule: SchoolRule | None
    balance: Balance
    precision: Precision
    sections: Mapping[str, Any] = field(default_factory=dict)
    """The merged raw tables of later parts (eligibility, guarantee, quality, recognition)."""
    digest: str = ""
    """SHA-256 of the merged rule set (every key after ``extends``): stored with each result, so a result computed
    under other rules is known to be stale."""

    def stage_name(self, stage: str) -> str:
        return self.stage_names.get(stage, stage)
