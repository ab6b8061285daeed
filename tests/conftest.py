"""Shared test helpers: a valid school row and frame builders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from youjun.contract import SCHOOL_COLUMNS
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet

DATA = Path(__file__).with_name("data")
DTYPES = {"int": pl.Int64, "number": pl.Float64, "year": pl.Int64}


def school(**overrides: Any) -> dict[str, Any]:
    """A primary school of 500 students meeting every R1–R7 standard comfortably."""
    row: dict[str, Any] = {c.key: c.default for c in SCHOOL_COLUMNS}
    row.update(
        year=2024,
        school_id="3402070001",
        school_name="示例小学",
        county_code="340207",
        county_name="示例区",
        school_type="小学",
        ownership="公办",
        urban_rural="城区",
        students_primary=500,
        students_junior=0,
        students_senior=0,
        teachers_primary=35,
        teachers_junior=0,
        qualified_teachers_primary=30,
        qualified_teachers_junior=0,
        backbone_teachers_primary=8,
        backbone_teachers_junior=0,
        pe_teachers_primary=3,
        music_teachers_primary=2,
        art_teachers_primary=2,
        pe_teachers_junior=0,
        music_teachers_junior=0,
        art_teachers_junior=0,
        itinerant_pe_art_teachers_primary=0,
        itinerant_pe_art_teachers_junior=0,
        teaching_aux_area=3000.0,
        indoor_sports_area=400.0,
        outdoor_sports_area=4000.0,
        extra_sports_area=0.0,
        dense_city_centre="否",
        equipment_value=1_500_000.0,
        multimedia_rooms=14,
        books=15000,
        computers=60,
        titled_teachers_primary=20,
        titled_teachers_junior=0,
    )
    row.update(overrides)
    return row


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {c.key: DTYPES.get(c.kind, pl.String) for c in SCHOOL_COLUMNS}
    return pl.DataFrame(rows, schema=schema)


@pytest.fixture(scope="session")
def national() -> RuleSet:
    return load_rule_set("national-2017")


@pytest.fixture(scope="session")
def basic() -> RuleSet:
    return load_rule_set("basic-2012")
