"""Reads of collection data, always starting from the user's jurisdiction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from django.db import connection
from django.db.models import Count, QuerySet

from youjun.contract import SCHOOL_COLUMNS
from youjun.web.accounts.models import User
from youjun.web.accounts.scoping import jurisdiction_prefix, scoped, visible_units
from youjun.web.audit.models import Transition
from youjun.web.collection.models import (
    CollectionYear,
    CountySubmission,
    RecordStatus,
    SchoolRecord,
    ValueChange,
)
from youjun.web.organisation.models import Level, OrgUnit, School

DTYPES = {"int": pl.Int64, "number": pl.Float64, "year": pl.Int64}
#: Names of prefecture-level units that are no more than a heading of the statistics (municipalities' 市辖区 …).
PLACEHOLDER_PREFECTURES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
SCHEMA = {c.key: DTYPES.get(c.kind, pl.String) for c in SCHOOL_COLUMNS}


def prefecture_name(county: OrgUnit) -> str:
    """The county's prefecture as people name it ("" for a municipality's 市辖区 and the like)."""
    parent = county.parent
    if parent is None or parent.level != Level.PREFECTURE or parent.name in PLACEHOLDER_PREFECTURES:
        return ""
    return parent.name


def county_label(county: OrgUnit) -> str:
    """The county with its province and prefecture (安徽省芜湖市鸠江区), for pages and files listing several
    counties (load ``parent`` with the county)."""
    return f"{county.province_name}{prefecture_name(county)}{county.name}"


def records_for(user: User) -> QuerySet[SchoolRecord]:
    return scoped(SchoolRecord.objects.select_related("school", "county"), user, "county__code", "school")


def records_frame(records: QuerySet[SchoolRecord]) -> pl.DataFrame:
    """School records as the engine's school frame (one row per school, typed like the workbook reader's)."""
    return frame_of(records.select_related("school", "county"))


def frame_of(records: Iterable[SchoolRecord]) -> pl.DataFrame:
    """``records_frame`` of records already loaded (with their school and county), in the order given."""
    rows = []
    for r in records:
        rows.append(
            {
                **r.values,
                "year": r.year,
                "school_id": r.school.school_id,
                "school_name": r.name,
                "county_code": r.county.code,
                "county_name": r.county.name,
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA, strict=False)


def approved_frame(county: OrgUnit, year: int) -> pl.DataFrame:
    return records_frame(SchoolRecord.objects.filter(county=county, year=year, status=RecordStatus.APPROVED))


# ---------------------------------------------------------------------------------------------------------------
# Pages of the collection workflow


def county_records(user: User, county: OrgUnit, year: int) -> QuerySet[SchoolRecord]:
    """The county's records of the year that the user may see, in school order."""
    return (
        records_for(user)
        .filter(county=county, year=year)
        .select_related("school", "county", "updated_by")
        .order_by("school__school_id")
    )


def record_changes(record: SchoolRecord, limit: int = 300) -> QuerySet[ValueChange]:
    """The latest value changes of a record the caller already reached through ``records_for``."""
    return ValueChange.objects.filter(record=record).select_related("actor").order_by("-at", "-pk")[:limit]


def record_transitions(record: SchoolRecord) -> QuerySet[Transition]:
    return Transition.objects.filter(kind="record", object_id=record.pk).select_related("actor").order_by("-at", "-pk")


def submission_for(user: User, county: OrgUnit, year: int) -> CountySubmission | None:
    """The county's submission of the year, if the user may see it (``None`` when there is none yet)."""
    return scoped(CountySubmission.objects.filter(county=county, year=year), user, "county__code").first()


def submission_transitions(submission: CountySubmission) -> QuerySet[Transition]:
    return (
        Transition.objects.filter(kind="submission", object_id=submission.pk)
        .select_related("actor")
        .order_by("-at", "-pk")
    )


def missing_record_count(county: OrgUnit, year: int) -> int:
    """Registered schools of the county active in the year that have no record yet."""
    have = set(SchoolRecord.objects.filter(county=county, year=year).values_list("school_id", flat=True))
    return sum(1 for s in School.objects.filter(county=county) if s.pk not in have and s.active_in(year))


def collection_years_for(user: User) -> list[CollectionYear]:
    """Collection windows that concern the user: opened above or at the user's unit, or inside the jurisdiction."""
    prefix = jurisdiction_prefix(user)
    return [
        w
        for w in CollectionYear.objects.select_related("scope", "opened_by").order_by("-year", "scope__code")
        if prefix.startswith(w.scope.prefix) or w.scope.prefix.startswith(prefix)
    ]


#: The distinct years of the records, one index probe per year (PostgreSQL reads a plain DISTINCT from every row).
YEARS_SQL = """
WITH RECURSIVE y(year) AS (
    SELECT min(year) FROM {table}
    UNION ALL
    SELECT (SELECT min(year) FROM {table} WHERE year > y.year) FROM y WHERE y.year IS NOT NULL
) SELECT year FROM y WHERE year IS NOT NULL
"""


def _record_years(user: User) -> set[int]:
    if connection.vendor == "postgresql" and jurisdiction_prefix(user) == "":
        with connection.cursor() as cursor:
            cursor.execute(YEARS_SQL.format(table=SchoolRecord._meta.db_table))
            return {row[0] for row in cursor.fetchall()}
    return set(records_for(user).order_by().values_list("year", flat=True).distinct())


def years_for(user: User) -> list[int]:
    """Years the user can pick: those with records in the jurisdiction and those with a collection window."""
    years = _record_years(user)
    years |= {w.year for w in collection_years_for(user)}
    return sorted(years, reverse=True)


@dataclass
class CountyRow:
    """One county of a supervising unit's overview for a year (``county`` is filled by ``with_units``)."""

    county_id: int
    code: str
    total: int = 0
    draft: int = 0
    submitted: int = 0
    returned: int = 0
    approved: int = 0
    submission: CountySubmission | None = None
    county: OrgUnit | None = None

    @property
    def status(self) -> str:
        return self.submission.status if self.submission else "open"

    @property
    def prefecture(self) -> str:
        return prefecture_name(self.county) if self.county is not None else ""


def county_overview(user: User, year: int) -> tuple[list[CountyRow], int]:
    """The counties of the user's jurisdiction that have records or a submission in the year, and how many
    counties of the jurisdiction have neither. Counts come from the (year, status, county) index alone; the county
    objects are left to ``with_units``, for the rows shown (a page of the ministry's 2,863 rows)."""
    codes = dict(visible_units(user).filter(level=Level.COUNTY).values_list("pk", "code"))
    stats = records_for(user).filter(year=year).order_by().values_list("county_id", "status").annotate(n=Count("*"))
    rows: dict[int, CountyRow] = {}
    for county_id, status, n in stats:
        code = codes.get(county_id)
        if code is None:
            continue
        row = rows.setdefault(county_id, CountyRow(county_id, code))
        row.total += n
        setattr(row, status, getattr(row, status) + n)
    for sub in scoped(CountySubmission.objects.filter(year=year), user, "county__code"):
        code = codes.get(sub.county_id)
        if code is not None:
            rows.setdefault(sub.county_id, CountyRow(sub.county_id, code)).submission = sub
    ordered = sorted(rows.values(), key=lambda r: r.code)
    return ordered, len(codes) - len(ordered)


def with_units(rows: Iterable[CountyRow]) -> list[CountyRow]:
    """The rows with their county (and its prefecture and province) loaded, in one query."""
    chosen = list(rows)
    units = OrgUnit.objects.select_related("parent").in_bulk([r.county_id for r in chosen])
    for row in chosen:
        row.county = units.get(row.county_id)
    return chosen
