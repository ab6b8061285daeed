"""Bulk loading of school frames (demo data, national load tests): registry and records in a few statements."""

from __future__ import annotations

import io

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

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


def _copy(table: str, frame: pl.DataFrame) -> None:
    """COPY a frame into a PostgreSQL table (columns named as in the table)."""
    body = io.BytesIO()
    frame.write_csv(body, include_header=False, quote_style="non_numeric", null_value="")
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(body.getvalue())


def _copy_load(frame: pl.DataFrame, counties: dict[str, OrgUnit], status: str) -> tuple[int, int]:
    county_ids = {code: unit.pk for code, unit in counties.items()}
    in_counties = School.objects.filter(county_id__in=list(county_ids.values()))  # no giant IN list of school ids
    known = set(in_counties.values_list("school_id", flat=True))
    registry = frame.unique("school_id", keep="first").filter(~pl.col("school_id").is_in(list(known)))
    _copy(
        School._meta.db_table,
        registry.select(
            "school_id",
            pl.col("school_name").alias("name"),
            pl.col("county_code").replace_strict(county_ids, return_dtype=pl.Int64).alias("county_id"),
            "school_type",
            "ownership",
            "urban_rural",
            pl.col("built_year").alias("opened_year"),
        ),
    )
    ids = pl.DataFrame(
        list(in_counties.values_list("school_id", "pk")),
        schema={"school_id": pl.String, "school_pk": pl.Int64},
        orient="row",
    )
    now = timezone.now().isoformat()
    records = frame.join(ids, on="school_id", how="left").select(
        pl.col("school_pk").alias("school_id"),
        pl.col("county_code").replace_strict(county_ids, return_dtype=pl.Int64).alias("county_id"),
        "year",
        "school_name",
        pl.struct(*[pl.col(k).fill_nan(None) if frame.schema[k] == pl.Float64 else pl.col(k) for k in VALUE_KEYS])
        .struct.json_encode()
        .alias("values"),
        pl.lit("{}").alias("explanations"),
        pl.lit(status).alias("status"),
        pl.lit(1).alias("version"),
        pl.lit("").alias("return_reason"),
        pl.lit(now).alias("updated_at"),
    )
    _copy(SchoolRecord._meta.db_table, records)
    return registry.height, records.height


@transaction.atomic
def load_frame(frame: pl.DataFrame, status: str = RecordStatus.APPROVED, batch: int = 5000) -> tuple[int, int]:
    """Create the schools of ``frame`` (one row per school and year, workbook keys) and their records.

    On PostgreSQL the rows go in with COPY (national scale in seconds); elsewhere with bulk inserts.
    """
    counties = {
        u.code: u for u in OrgUnit.objects.filter(level=Level.COUNTY, code__in=frame["county_code"].unique().to_list())
    }
    missing = set(frame["county_code"].unique()) - set(counties)
    if missing:
        raise ValueError(f"unknown county codes: {sorted(missing)[:5]}")
    if connection.vendor == "postgresql":
        return _copy_load(frame, counties, status)
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
            school_name=r["school_name"],
            values=_values_of(r),
            status=status,
        )
        for r in frame.select("school_id", "school_name", "county_code", "year", *VALUE_KEYS).iter_rows(named=True)
    ]
    SchoolRecord.objects.bulk_create(records, batch_size=batch)
    return registry.height, len(records)
