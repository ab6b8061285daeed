"""Reads of collection data, always starting from the user's jurisdiction."""

from __future__ import annotations

import polars as pl
from django.db.models import QuerySet

from youjun.io.columns import SCHOOL_COLUMNS
from youjun.web.accounts.models import User
from youjun.web.accounts.scoping import scoped
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.organisation.models import OrgUnit

DTYPES = {"int": pl.Int64, "number": pl.Float64, "year": pl.Int64}
SCHEMA = {c.key: DTYPES.get(c.kind, pl.String) for c in SCHOOL_COLUMNS}


def records_for(user: User) -> QuerySet[SchoolRecord]:
    return scoped(SchoolRecord.objects.select_related("school", "county"), user, "county__code", "school")


def records_frame(records: QuerySet[SchoolRecord]) -> pl.DataFrame:
    """School records as the engine's school frame (one row per school, typed like the workbook reader's)."""
    rows = []
    for r in records.select_related("school", "county"):
        rows.append(
            {
                **r.values,
                "year": r.year,
                "school_id": r.school.school_id,
                "school_name": r.school.name,
                "county_code": r.county.code,
                "county_name": r.county.name,
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA, strict=False)


def approved_frame(county: OrgUnit, year: int) -> pl.DataFrame:
    return records_frame(SchoolRecord.objects.filter(county=county, year=year, status=RecordStatus.APPROVED))
