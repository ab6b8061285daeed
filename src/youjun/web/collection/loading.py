"""Bulk loading of school frames (demo data, national load tests): registry and records in a few statements."""

from __future__ import annotations

import polars as pl
from django.db import transaction

from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.collection.services import VALUE_KEYS, _values_of
from youjun.web.organisation.models import Level, OrgUnit, School


def onto_real_counties(frame: pl.DataFrame, counties: list[OrgUnit]) -> pl.DataFrame:
    """Give the synthetic counties of ``frame`` the codes and names of real counties (in order)."""
    codes = frame["county_code"].unique(maintain_order=True).to_list()
    if len(codes) > len(counties):
        raise ValueError("not enough real counties for the synthetic ones")
    code_map = {old: c.code for old, c in zip(codes, counties, strict=False)}
    name_map = {old: c.name for old, c in zip(codes, counties, strict=False)}
    return frame.with_columns(
        pl.col("county_code").replace_strict(code_map).alias("county_code"),
        pl.col("county_code").replace_strict(name_map).alias("county_name"),
        (pl.col("county_code").replace_strict(code_map) + pl.col("school_id").str.slice(6)).alias("school_id"),
    )


@transaction.atomic
def load_frame(frame: pl.DataFrame, status: str = RecordStatus.APPROVED, batch: int = 5000) -> tuple[int, int]:
    """Create the schools of ``frame`` (one row per school and year, workbook keys) and their records."""
    counties = {
        u.code: u for u in OrgUnit.objects.filter(level=Level.COUNTY, code__in=frame["county_code"].unique().to_list())
    }
    missing = set(frame["county_code"].unique()) - set(counties)
    if missing:
        raise ValueError(f"unknown county codes: {sorted(missing)[:5]}")
    known = dict(School.objects.filter(school_id__in=frame["school_id"].to_list()).values_list("school_id", "pk"))
    registry = frame.unique("school_id", keep="first").filter(~pl.col("school_id").is_in(list(known)))
    School.objects.bulk_create(
        [
            School(
                school_id=r["school_id"],
                name=r["school_name"],
                county=counties[r["county_code"]],
                school_type=r["school_type"],
                ownership=r["ownership"],
                urban_rural=r["urban_rural"],
                opened_year=r["built_year"],
            )
            for r in registry.iter_rows(named=True)
        ],
        batch_size=batch,
    )
    ids = dict(School.objects.filter(school_id__in=frame["school_id"].to_list()).values_list("school_id", "pk"))
    records = [
        SchoolRecord(
            school_id=ids[r["school_id"]],
            county=counties[r["county_code"]],
            year=r["year"],
            values=_values_of(r),
            status=status,
        )
        for r in frame.select("school_id", "county_code", "year", *VALUE_KEYS).iter_rows(named=True)
    ]
    SchoolRecord.objects.bulk_create(records, batch_size=batch)
    return registry.height, len(records)
