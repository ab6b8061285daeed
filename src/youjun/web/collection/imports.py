"""The county workbook upload: the whole county's year in one file, every row valid and in this county, or nothing
changes (decision 33). The one exception is the county's explicit choice to skip the schools whose data are
locked (approved): those rows are left out and listed, every other row is imported as usual.

Who, the collection window and the county's report upward are checked before the file is read; the parsing and
the comparison with the stored records happen outside the transaction; the transaction locks the county's
submission and the records it replaces, checks again that none was locked meanwhile, and writes everything in a
few batched statements (seconds for 8,000 schools).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from youjun.contract import SCHOOL_SHEET
from youjun.errors import Location, Problem, Severity, YoujunError
from youjun.web.accounts.models import User
from youjun.web.audit.models import Transition
from youjun.web.bulk import update_fields
from youjun.web.collection.models import CountySubmission, RecordStatus, SchoolRecord, SubmissionStatus, ValueChange
from youjun.web.collection.services import (
    ALL_FIELDS,
    _require_county_user,
    _require_window,
    _safe_name,
    _values_of,
    fail,
    validate_upload,
)
from youjun.web.organisation.models import OrgUnit, School

REASON = "县级批量导入"
REGISTRY_FIELDS = ("name", "school_type", "ownership", "urban_rural")


@dataclass(frozen=True)
class Skipped:
    """A row left out because its school's data are locked (approved) for the year."""

    row: int | None
    school_id: str
    name: str


@dataclass
class ImportResult:
    created_schools: int
    created_records: int
    updated_records: int
    warnings: list[Problem]
    skipped: list[Skipped] = field(default_factory=list)
    resubmitted: int = 0  # records the county had returned to their school, now resubmitted by this import


def _sheet_of(shown: str) -> str | None:
    """The sheet the school rows come from: the workbook's 学校 sheet; a CSV has none."""
    return None if shown.lower().endswith(".csv") else SCHOOL_SHEET


def _where(shown: str, row: int | None) -> str:
    sheet = _sheet_of(shown)
    at = f"第 {row} 行" if row is not None else "文件中"
    return f"工作表「{sheet}」{at}" if sheet else at


def locked_problem(shown: str, year: int, skipped: Skipped, severity: Severity = "error") -> Problem:
    """The refusal (or, when skipped on request, the note) naming the sheet, the row and the school."""
    school = f"学校「{skipped.name}」（代码 {skipped.school_id}）"
    if severity == "error":
        message = (
            f"{_where(shown, skipped.row)} {school}已锁定，不能覆盖（其 {year} 年度数据已审核通过）。"
            "请先解锁该校，或从文件中删除该行，或勾选「跳过已锁定的学校」导入其余学校。"
        )
        code = "locked"
    else:
        message = f"{_where(shown, skipped.row)} {school}已锁定，已按选择跳过，未导入。"
        code = "skipped_locked"
    where = Location(file=shown, sheet=_sheet_of(shown), row=skipped.row, field="school_id", value=skipped.school_id)
    return Problem(code, message, severity, where)


def import_county_workbook(
    user: User,
    county: OrgUnit,
    year: int,
    name: str,
    chunks: Iterable[bytes],
    size: int,
    *,
    skip_locked: bool = False,
) -> ImportResult:
    """Import the whole county workbook for one year (see the module docstring); with ``skip_locked`` the rows of
    locked schools are left out (listed in ``ImportResult.skipped``) instead of refusing the whole file."""
    _require_county_user(user, county)
    _require_window(county, year)
    _require_not_reported(county, year)
    data = validate_upload(name, chunks, size)
    schools = data.schools
    shown = _safe_name(name)
    row_of = dict(zip(schools["school_id"].to_list(), schools["source_row"].to_list(), strict=True))
    name_of = dict(zip(schools["school_id"].to_list(), schools["school_name"].to_list(), strict=True))
    existing = {s.school_id: s for s in School.objects.filter(school_id__in=schools["school_id"].to_list())}
    problems = _refusals(schools, county, year, shown, existing, row_of, name_of, skip_locked)
    if problems:
        raise YoujunError([*problems, *data.warnings])
    rows = list(schools.iter_rows(named=True))
    with transaction.atomic():
        locked = _lock(county, year, existing, row_of, name_of, shown, skip_locked)
        rows = [r for r in rows if r["school_id"] not in locked]
        if not rows:
            raise fail("all_locked", "文件中的学校均已锁定（已审核通过），没有可导入的数据。", file=shown)
        kept = {k: v for k, v in existing.items() if k not in locked}
        created_schools = _sync_registry(rows, county, year, kept)
        records, fresh = _records_of(rows, county, year, user)
        resubmitted = sum(1 for r in records.values() if r.status == RecordStatus.RETURNED)
        _write_rows(rows, records, fresh, county, year, user)
    skipped = sorted(
        (Skipped(row_of.get(sid), sid, str(name_of.get(sid) or "")) for sid in locked),
        key=lambda s: (s.row or 0, s.school_id),
    )
    notes = [locked_problem(shown, year, s, "warning") for s in skipped]
    return ImportResult(
        created_schools, len(fresh), len(rows) - len(fresh), [*notes, *data.warnings], skipped, resubmitted
    )


def _refusals(
    schools: pl.DataFrame,
    county: OrgUnit,
    year: int,
    shown: str,
    existing: Mapping[str, School],
    row_of: Mapping[str, int],
    name_of: Mapping[str, str],
    skip_locked: bool,
) -> list[Problem]:
    """Rows of another county or year, schools registered elsewhere, schools locked this year (unless the county
    chose to skip them): all at once, in row order."""
    problems: list[Problem] = []

    def refuse(code: str, message: str, row: int | None = None, key: str | None = None, value: object = None) -> None:
        shown_value = None if value is None else str(value)
        problems.append(Problem(code, message, "error", Location(file=shown, row=row, field=key, value=shown_value)))

    for row in schools.select("county_code", "year", "source_row").iter_rows(named=True):
        if row["county_code"] != county.code:
            message = f"该行学校属于县级区划代码 {row['county_code']}，不是本县（区）（{county.code}），不能导入。"
            refuse("other_county", message, row["source_row"], "county_code", row["county_code"])
        if row["year"] != year:
            refuse("other_year", f"统计年度应为 {year}。", row["source_row"], "year", row["year"])
    for sid in sorted(sid for sid, s in existing.items() if s.county_id != county.pk):
        message = f"学校标识码 {sid} 已登记在其他县（区），不能导入到本县（区）。"
        refuse("school_elsewhere", message, row_of.get(sid), "school_id", sid)
    if not skip_locked:
        locked = sorted(_locked_ids(year, list(existing)), key=lambda sid: (row_of.get(sid) or 0, sid))
        problems += [
            locked_problem(shown, year, Skipped(row_of.get(sid), sid, str(name_of.get(sid) or ""))) for sid in locked
        ]
    return sorted(problems, key=lambda p: p.location.row or 0)


def _lock(
    county: OrgUnit,
    year: int,
    existing: Mapping[str, School],
    row_of: Mapping[str, int],
    name_of: Mapping[str, str],
    shown: str,
    skip_locked: bool,
) -> set[str]:
    """Inside the transaction: the county's submission and the records replaced, locked; checked once more. The
    school ids to skip (locked ones, when the county chose to skip them; otherwise a lock is a refusal)."""
    submission, _ = CountySubmission.objects.get_or_create(county=county, year=year)
    submission = CountySubmission.objects.select_for_update().get(pk=submission.pk)
    if submission.status in (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED):
        raise fail("county_submitted", "本县（区）该年度数据已报送上级，需上级退回后才能导入。")
    list(SchoolRecord.objects.select_for_update().filter(year=year, school__school_id__in=list(existing)))
    locked = _locked_ids(year, list(existing))
    if locked and not skip_locked:
        sid = min(locked, key=lambda k: (row_of.get(k) or 0, k))
        school = f"学校「{name_of.get(sid) or sid}」（代码 {sid}）"
        raise fail(
            "locked",
            f"导入期间{_where(shown, row_of.get(sid))} {school}的数据已被审核锁定，本次导入未做任何修改，请重新上传。",
            file=shown,
            sheet=_sheet_of(shown),
            row=row_of.get(sid),
            field="school_id",
            value=sid,
        )
    return locked


def _registry(row: Mapping[str, Any]) -> dict[str, Any]:
    return dict(
        zip(
            REGISTRY_FIELDS, (row["school_name"], row["school_type"], row["ownership"], row["urban_rural"]), strict=True
        )
    )


def _sync_registry(
    rows: Sequence[Mapping[str, Any]], county: OrgUnit, year: int, existing: Mapping[str, School]
) -> int:
    """New schools registered from this year; existing ones take the row's name and attributes — only from the
    latest year a school has data for, so an earlier year's upload never renames it (decision 32)."""
    new_schools = [
        School(school_id=row["school_id"], county=county, opened_year=year, **_registry(row))
        for row in rows
        if row["school_id"] not in existing
    ]
    School.objects.bulk_create(new_schools)
    later = set(
        SchoolRecord.objects.filter(school__in=list(existing.values()), year__gt=year).values_list(
            "school__school_id", flat=True
        )
    )
    changed = []
    for row in rows:
        school = existing.get(row["school_id"])
        if school is None or school.school_id in later:
            continue
        wanted = _registry(row)
        if any(getattr(school, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(school, key, value)
            changed.append(school)
    update_fields(changed, list(REGISTRY_FIELDS))
    return len(new_schools)


def _records_of(
    rows: Sequence[Mapping[str, Any]], county: OrgUnit, year: int, user: User
) -> tuple[dict[str, SchoolRecord], set[int]]:
    """The year's record of every school of the file, by school id, created empty where missing (their pks)."""
    by_id = {s.school_id: s for s in School.objects.filter(county=county, school_id__in=[r["school_id"] for r in rows])}
    have = set(SchoolRecord.objects.filter(year=year, school__in=by_id.values()).values_list("school_id", flat=True))
    missing = [
        SchoolRecord(
            school=by_id[row["school_id"]],
            county=county,
            year=year,
            school_name=row["school_name"],
            values={},
            updated_by=user,
        )
        for row in rows
        if by_id[row["school_id"]].pk not in have
    ]
    SchoolRecord.objects.bulk_create(missing)
    records = SchoolRecord.objects.filter(year=year, school__in=by_id.values()).select_related("school")
    return {r.school.school_id: r for r in records}, {r.pk for r in missing}


def _write_rows(
    rows: Sequence[Mapping[str, Any]],
    records: Mapping[str, SchoolRecord],
    fresh: set[int],
    county: OrgUnit,
    year: int,
    user: User,
) -> None:
    """Every row's values onto its record (submitted for the county's review), with the audit of each change."""
    changes: list[ValueChange] = []
    moves: list[Transition] = []
    now = timezone.now()
    for row in rows:
        record = records[row["school_id"]]
        values = _values_of(row)
        changes += _value_changes(record, values, user)
        if record.status != RecordStatus.SUBMITTED:
            moves.append(
                Transition(
                    kind="record",
                    object_id=record.pk,
                    county=county,
                    year=year,
                    source=record.status,
                    target=RecordStatus.SUBMITTED,
                    actor=user,
                    reason=REASON,
                )
            )
        record.values = values
        record.school_name = row["school_name"]
        record.status = RecordStatus.SUBMITTED
        record.updated_by = user
        record.updated_at = now
        record.version += 0 if record.pk in fresh else 1
    ValueChange.objects.bulk_create(changes, batch_size=2000)
    Transition.objects.bulk_create(moves)
    update_fields(list(records.values()), ["values", "school_name", "status", "updated_by", "version", "updated_at"])


def _value_changes(record: SchoolRecord, values: Mapping[str, Any], user: User) -> list[ValueChange]:
    """The audit rows of one record: its first values in one row, later ones field by field."""
    if not record.values:
        return [
            ValueChange(
                record=record,
                field=ALL_FIELDS,
                old=None,
                new=dict(values),
                reason=REASON,
                source="county-upload",
                actor=user,
            )
        ]
    return [
        ValueChange(
            record=record, field=k, old=record.values.get(k), new=v, reason=REASON, source="county-upload", actor=user
        )
        for k, v in values.items()
        if record.values.get(k) != v
    ]


def _locked_ids(year: int, school_ids: list[str]) -> set[str]:
    return set(
        SchoolRecord.objects.filter(
            year=year, school__school_id__in=school_ids, status=RecordStatus.APPROVED
        ).values_list("school__school_id", flat=True)
    )


def _require_not_reported(county: OrgUnit, year: int) -> None:
    submission = CountySubmission.objects.filter(county=county, year=year).first()
    if submission and submission.status in (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED):
        raise fail("county_submitted", "本县（区）该年度数据已报送上级，需上级退回后才能导入。")
