"""Writes of the collection workflow. Views call these; nothing else changes collection data.

- Values are validated by the same reader as the command line (``youjun.io.reader``): the same hard errors, the
  same soft warnings, the same Chinese messages, whether a school types into the form or uploads a workbook.
- A county upload succeeds whole or changes nothing (one transaction, validated before the first write).
- Records are state machines (``RECORD_MOVES``), county submissions too (``SUBMISSION_MOVES``); each transition is
  checked against the actor's role and jurisdiction, then logged with actor, time and reason.
- Concurrent edits: every save names the version it was based on; a stale version is refused, nothing is lost.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from youjun.contract import SCHOOL_BY_KEY, SCHOOL_COLUMNS
from youjun.errors import Location, Problem, YoujunError
from youjun.io.reader import SchoolData, read_school_data
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.audit.services import record as audit
from youjun.web.collection.models import (
    CollectionYear,
    CountySubmission,
    RecordStatus,
    SchoolRecord,
    SubmissionStatus,
    ValueChange,
)
from youjun.web.organisation.models import Level, OrgUnit, School
from youjun.web.signals import county_data_changed
from youjun.web.workflow import advance

IDENTITY = ("year", "school_id", "school_name", "county_code", "county_name")
#: The ``ValueChange.field`` of the audit row that records a record's first values all at once.
ALL_FIELDS = "*"
VALUE_KEYS = tuple(c.key for c in SCHOOL_COLUMNS if c.key not in IDENTITY)
UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
#: The reason of the value changes of a school's own upload (followed by the school's explanation, if any).
UPLOAD_REASON = "上传工作簿"


def fail(code: str, message: str, **where: Any) -> YoujunError:
    return YoujunError([Problem(code, message, "error", Location(**where))])


# ---------------------------------------------------------------------------------------------------------------
# Windows and permissions


def open_collection(county: OrgUnit, year: int) -> CollectionYear | None:
    """The collection year whose scope covers the county and whose window is open now."""
    now = timezone.now()
    for window in CollectionYear.objects.filter(year=year, opens_at__lte=now, closes_at__gte=now).select_related(
        "scope"
    ):
        if window.scope.contains(county.code):
            return window
    return None


def _require_window(county: OrgUnit, year: int) -> None:
    if open_collection(county, year) is None:
        raise fail("window_closed", f"{year} 年度数据采集未开放或已截止，不能修改数据。")


def _require_county_user(user: User, county: OrgUnit) -> None:
    if user.role != Role.COUNTY or user.org_unit_id != county.pk:
        raise fail("forbidden", "只有本县（区）教育行政部门可以执行此操作。")


def _require_school_or_county(user: User, record: SchoolRecord) -> None:
    if user.role == Role.SCHOOL and user.school_id == record.school_id:
        return
    if user.role == Role.COUNTY and user.org_unit_id == record.county_id:
        return
    raise fail("forbidden", "只有本校或本县（区）可以修改该校数据。")


# ---------------------------------------------------------------------------------------------------------------
# Validation through the workbook reader


def _safe_name(name: str) -> str:
    """A file name without directories or odd characters, keeping its suffix (path tricks are neutralised)."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w\u4e00-\u9fff.-]+", "_", stem).strip("._") or "upload"
    return f"{stem[:80]}{suffix}"


def validate_upload(name: str, chunks: Iterable[bytes], size: int) -> SchoolData:
    """Validate an uploaded workbook; raises ``YoujunError`` with every problem, located with the user's file name.

    The file is held to the web's input limits (``WEB_LIMITS``, its size to ``YOUJUN_MAX_UPLOAD_BYTES``) before any
    parser sees it: a zip bomb or an oversized sheet is refused with a Chinese message, nothing is parsed."""
    from youjun.io.limits import WEB_LIMITS

    shown = _safe_name(name)
    if Path(shown).suffix not in UPLOAD_SUFFIXES:
        raise fail("unsupported_format", "只能上传 Excel 工作簿（.xlsx）或 CSV 文件。", file=shown)
    if size > settings.YOUJUN_MAX_UPLOAD_BYTES:
        limit = settings.YOUJUN_MAX_UPLOAD_BYTES // (1024 * 1024)
        raise fail("too_large", f"文件过大（上限 {limit} MB），请检查是否上传了错误的文件。", file=shown)
    with tempfile.TemporaryDirectory(prefix="youjun-upload-") as folder:
        path = Path(folder) / shown
        with path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        try:
            data = read_school_data([path], limits=WEB_LIMITS.with_file_bytes(int(settings.YOUJUN_MAX_UPLOAD_BYTES)))
        except YoujunError as exc:
            raise YoujunError([_as_uploaded(p, str(path), shown) for p in exc.problems]) from None
    return replace(data, warnings=tuple(_as_uploaded(w, str(path), shown) for w in data.warnings))


def _as_uploaded(problem: Problem, path: str, shown: str) -> Problem:
    """The problem located in the file as the user named it (never the server's temporary path)."""
    location = problem.location
    if location.file is not None:
        location = replace(location, file=shown)
    return replace(problem, message=problem.message.replace(path, shown), location=location)


def for_form(problem: Problem, path: str | None = None) -> Problem:
    """The problem located by field only (Chinese header, key, value): no temporary file name, no CSV row."""
    loc = problem.location
    column = SCHOOL_BY_KEY[loc.field].header if loc.field in SCHOOL_BY_KEY else loc.column
    message = problem.message.replace(path, "网页填报数据") if path else problem.message
    return replace(problem, message=message, location=Location(column=column, field=loc.field, value=loc.value))


def validate_row(values: Mapping[str, Any]) -> SchoolData:
    """Validate one school's values (as typed in the web form) with the workbook rules.

    Problems are located by field (``for_form``), so the form can show them beside the inputs. The row is held to
    the web's input limits like an upload (a value of tens of KB is refused before it is parsed)."""
    from youjun.io.limits import WEB_LIMITS

    with tempfile.TemporaryDirectory(prefix="youjun-form-") as folder:
        path = Path(folder) / "网页填报.csv"
        header = [c.key for c in SCHOOL_COLUMNS]
        frame = pl.DataFrame({k: [None if values.get(k) in (None, "") else str(values.get(k))] for k in header})
        frame.write_csv(path)
        try:
            data = read_school_data([path], limits=WEB_LIMITS)
        except YoujunError as exc:
            too_long = f"填写的内容过长（合计超过 {WEB_LIMITS.max_line_bytes // 1024} KB），未保存，请删减后重试。"
            raise YoujunError(
                [
                    Problem(p.code, too_long) if p.code == "line_too_long" else for_form(p, str(path))
                    for p in exc.problems
                ]
            ) from None
    return replace(data, warnings=tuple(for_form(w, str(path)) for w in data.warnings))


def warning_key(problem: Problem) -> str:
    """The key of a soft warning in ``SchoolRecord.explanations``: check code and field."""
    return f"{problem.code}:{problem.location.field or ''}"


def warnings_of(records: Sequence[SchoolRecord]) -> dict[int, list[Problem]]:
    """The soft warnings of saved records (by record id), validated together with the same schools' records of
    the year before, so the year-on-year checks apply as in the statistics system. Records without values have
    none."""
    from youjun.web.collection.selectors import frame_of

    filled = [r for r in records if r.values]
    if not filled:
        return {}
    wanted = {(r.school_id, r.year - 1) for r in filled}
    candidates = SchoolRecord.objects.filter(year__in={y for _, y in wanted}).exclude(values={})
    if len(filled) <= 200:  # a few schools: by school; a whole county: by county (no long IN list)
        candidates = candidates.filter(school_id__in={s for s, _ in wanted})
    else:
        candidates = candidates.filter(county_id__in={r.county_id for r in filled})
    previous = [r for r in candidates.select_related("school", "county") if (r.school_id, r.year) in wanted]
    frame = pl.concat([frame_of(filled), frame_of(previous)], how="vertical_relaxed")
    with tempfile.TemporaryDirectory(prefix="youjun-check-") as folder:
        path = Path(folder) / "已保存数据.csv"
        frame.write_csv(path)
        try:
            problems = list(read_school_data([path]).warnings)
        except YoujunError as exc:  # rows saved before a rule was added: still count their warnings
            problems = [p for p in exc.problems if p.severity == "warning"]
    out: dict[int, list[Problem]] = {}
    for p in problems:
        index = (p.location.row or 0) - 2  # row 1 is the header
        if 0 <= index < len(filled):
            out.setdefault(filled[index].pk, []).append(for_form(p, str(path)))
    return out


def record_warnings(record: SchoolRecord) -> list[Problem]:
    """The soft warnings of one saved record (see ``warnings_of``)."""
    return warnings_of([record]).get(record.pk, [])


def unexplained_warnings(record: SchoolRecord) -> list[Problem]:
    """The record's warnings that have no explanation yet."""
    given = record.explanations or {}
    return [w for w in record_warnings(record) if not str(given.get(warning_key(w), "")).strip()]


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _values_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _json_value(row.get(k)) for k in VALUE_KEYS}


def _warnings_by_row(data: SchoolData) -> dict[int, list[Problem]]:
    out: dict[int, list[Problem]] = {}
    for w in data.warnings:
        if w.location.row is not None:
            out.setdefault(w.location.row, []).append(w)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Records


def _log_transition(
    kind: str, obj_id: int, county: OrgUnit, year: int, source: str, target: str, actor: User, reason: str = ""
) -> None:
    audit(kind, obj_id, source, target, actor, reason, county=county, year=year)


def _record_changes(record: SchoolRecord, new: Mapping[str, Any], actor: User, reason: str, source: str) -> int:
    changes = [
        ValueChange(record=record, field=k, old=record.values.get(k), new=v, reason=reason, source=source, actor=actor)
        for k, v in new.items()
        if record.values.get(k) != v
    ]
    ValueChange.objects.bulk_create(changes)
    return len(changes)


@dataclass
class SaveResult:
    record: SchoolRecord
    changed: int
    warnings: list[Problem] = field(default_factory=list)


def save_record(
    user: User,
    record: SchoolRecord,
    raw: Mapping[str, Any],
    based_on_version: int,
    reason: str = "",
    explanations: Mapping[str, str] | None = None,
    source: str = "form",
) -> SaveResult:
    """Save a school's values (web form or the school's own workbook): validated, audited with its source,
    refused if someone saved in between. A submitted record waits for the county: the school cannot change it."""
    _require_school_or_county(user, record)
    _require_editable(user, record)
    identity = {
        "year": record.year,
        "school_id": record.school.school_id,
        "school_name": record.name,
        "county_code": record.county.code,
        "county_name": record.county.name,
    }
    data = validate_row({**raw, **identity})
    row = data.schools.row(0, named=True)
    values = _values_of(row)
    with transaction.atomic():
        updated = SchoolRecord.objects.filter(pk=record.pk, version=based_on_version).update(version=F("version") + 1)
        if not updated:
            raise fail(
                "conflict",
                "保存失败：在您编辑期间，该校数据已被他人修改。请刷新页面查看最新数据后再修改，您输入的内容未保存。",
            )
        record.refresh_from_db()
        changed = _record_changes(record, values, user, reason, source)
        record.values = values
        record.explanations = dict(explanations or {})
        record.updated_by = user
        # A returned record stays 「已退回」 while the school revises it (the county's reason stays on the page); it
        # leaves that state only by its resubmission, which is audited with the school's explanation of changes.
        record.save(update_fields=["values", "explanations", "updated_by", "updated_at"])
    return SaveResult(record, changed, list(data.warnings))


def _require_editable(user: User, record: SchoolRecord) -> None:
    if record.locked:
        raise fail("locked", "该校数据已审核锁定，需由县（区）解锁后才能修改。")
    if record.status == RecordStatus.SUBMITTED and user.role == Role.SCHOOL:
        raise fail("locked", "数据已提交县（区）审核，不能再修改；如需修改，请联系县（区）退回。")
    _require_window(record.county, record.year)


RECORD_MOVES: dict[tuple[str, str], frozenset[str]] = {
    (RecordStatus.DRAFT, RecordStatus.SUBMITTED): frozenset({Role.SCHOOL, Role.COUNTY}),
    (RecordStatus.RETURNED, RecordStatus.SUBMITTED): frozenset({Role.SCHOOL, Role.COUNTY}),
    (RecordStatus.SUBMITTED, RecordStatus.APPROVED): frozenset({Role.COUNTY}),
    (RecordStatus.SUBMITTED, RecordStatus.RETURNED): frozenset({Role.COUNTY}),
    (RecordStatus.APPROVED, RecordStatus.RETURNED): frozenset({Role.COUNTY}),  # unlock, with a reason
}
NEEDS_REASON = {(RecordStatus.SUBMITTED, RecordStatus.RETURNED), (RecordStatus.APPROVED, RecordStatus.RETURNED)}
#: A resubmission after a return carries the school's explanation of what it changed (修改说明), kept as the reason
#: of its transition: every round's return reason and explanation stay in the record's history.
NEEDS_NOTE = {(RecordStatus.RETURNED, RecordStatus.SUBMITTED)}
NOTE_REQUIRED = "退回后重新提交须填写修改说明：请说明按退回意见修改了哪些数据。"


def move_record(
    user: User, record: SchoolRecord, target: str, reason: str = "", *, recompute: bool = True
) -> SchoolRecord:
    """Move a record along the workflow: submit, approve, return, unlock.

    Submitting is refused while a soft warning has no explanation. ``recompute=False`` leaves the county's
    evaluation to the caller (bulk approval recomputes once)."""
    move = (record.status, target)
    roles = RECORD_MOVES.get(move)
    labels = dict(RecordStatus.choices)
    if roles is None:
        raise fail("bad_transition", f"当前状态「{labels[record.status]}」不能变为「{labels.get(target, target)}」。")
    if user.role not in roles:
        raise fail("forbidden", "您的角色不能执行此操作。")
    _require_school_or_county(user, record)
    if move in NEEDS_REASON and not reason.strip():
        raise fail("reason_required", "退回或解锁必须填写原因。")
    if move in NEEDS_NOTE and not reason.strip():
        raise fail("note_required", NOTE_REQUIRED, field="reason")
    if target == RecordStatus.SUBMITTED and not record.values:
        raise fail("empty", "尚未填写数据，不能提交。")
    if target == RecordStatus.SUBMITTED:
        missing = unexplained_warnings(record)
        if missing:
            raise fail("unexplained_warnings", f"还有 {len(missing)} 条数据提醒未填写说明，请逐条说明后再提交。")
    with transaction.atomic():
        # The county's submission row is locked for the move: a county cannot report upward while one of its
        # records changes state, and the other way round (move_submission takes the same lock).
        submission = CountySubmission.objects.select_for_update().filter(county=record.county, year=record.year).first()
        if submission and submission.status in (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED):
            raise fail("county_submitted", "本县（区）该年度数据已报送上级，需上级退回后才能变更。")
        source = advance(
            record,
            target,
            [record.status],
            what="该校数据",
            changes={"return_reason": reason if target == RecordStatus.RETURNED else "", "updated_by": user},
            versioned=True,
        )
        _log_transition("record", record.pk, record.county, record.year, source, target, user, reason)
        if RecordStatus.APPROVED in move:  # approval and unlock change the approved data
            county_data_changed(record.county, record.year, recompute=recompute)
    return record


def approve_records(user: User, county: OrgUnit, year: int, records: Iterable[SchoolRecord]) -> int:
    """Approve several submitted records of one county and year at once (all or none); one recomputation."""
    _require_county_user(user, county)
    approved = 0
    with transaction.atomic():
        for record in records:
            if record.county_id != county.pk or record.year != year:
                raise fail("other_county", "只能批量审核本县（区）本年度的学校数据。")
            move_record(user, record, RecordStatus.APPROVED, recompute=False)
            approved += 1
        if approved:
            county_data_changed(county, year)
    return approved


# ---------------------------------------------------------------------------------------------------------------
# A school's own workbook (the county's whole workbook: ``collection.imports``)


def import_school_workbook(
    user: User,
    record: SchoolRecord,
    name: str,
    chunks: Iterable[bytes],
    size: int,
    based_on_version: int,
    note: str = "",
) -> SaveResult:
    """A school uploads its own one-row workbook; the row must be this school in this year. The record's lock and
    the collection window are checked before the file is read. ``note`` (the school's explanation of the changes)
    is the reason of the value changes; a returned record keeps its state until it is resubmitted with one."""
    _require_school_or_county(user, record)
    _require_editable(user, record)
    data = validate_upload(name, chunks, size)
    shown = _safe_name(name)
    rows = data.schools.filter(pl.col("school_id") == record.school.school_id)
    if data.schools.height != 1 or rows.height != 1:
        raise fail("not_this_school", f"文件中应只有本校（{record.school.school_id}）一行数据。", file=shown)
    row = rows.row(0, named=True)
    if row["year"] != record.year:
        raise fail("other_year", f"统计年度应为 {record.year}。", file=shown, row=row["source_row"], field="year")
    raw = {k: row[k] for k in VALUE_KEYS}
    reason = f"{UPLOAD_REASON}：{note.strip()}" if note.strip() else UPLOAD_REASON
    return save_record(
        user, record, raw, based_on_version, reason=reason, explanations=record.explanations, source="upload"
    )


# ---------------------------------------------------------------------------------------------------------------
# County submission upward


SUBMISSION_MOVES: dict[tuple[str, str], str] = {
    (SubmissionStatus.OPEN, SubmissionStatus.SUBMITTED): "county",
    (SubmissionStatus.RETURNED, SubmissionStatus.SUBMITTED): "county",
    (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED): "above",
    (SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED): "above",
}


def move_submission(user: User, county: OrgUnit, year: int, target: str, reason: str = "") -> CountySubmission:
    """County submits its approved year upward; the province (or prefecture, ministry) accepts or returns it.

    The submission row is locked while the move is checked and applied (records moving at the same time wait)."""
    CountySubmission.objects.get_or_create(county=county, year=year)
    with transaction.atomic():
        submission = CountySubmission.objects.select_for_update().get(county=county, year=year)
        return _move_submission(user, submission, county, year, target, reason)


def check_submission(user: User, county: OrgUnit, year: int, target: str, reason: str = "") -> None:
    """The checks of ``move_submission`` without moving anything (before the user is asked to confirm); the move
    checks them again with the submission row locked."""
    submission = CountySubmission.objects.filter(county=county, year=year).first() or CountySubmission(
        county=county, year=year
    )
    _check_submission(user, submission, county, year, target, reason)


def _check_submission(
    user: User, submission: CountySubmission, county: OrgUnit, year: int, target: str, reason: str
) -> None:
    who = SUBMISSION_MOVES.get((submission.status, target))
    labels = dict(SubmissionStatus.choices)
    if who is None:
        raise fail(
            "bad_transition", f"当前状态「{labels[submission.status]}」不能变为「{labels.get(target, target)}」。"
        )
    if who == "county":
        _require_county_user(user, county)
        pending = SchoolRecord.objects.filter(county=county, year=year).exclude(status=RecordStatus.APPROVED).count()
        if pending:
            raise fail("not_all_approved", f"还有 {pending} 所学校的数据未审核，全部审核后才能报送。")
        if not SchoolRecord.objects.filter(county=county, year=year).exists():
            raise fail("empty", "本县（区）该年度还没有学校数据。")
    else:
        above = user.role in (Role.PROVINCE, Role.PREFECTURE, Role.MINISTRY) and user.org_unit is not None
        if not above or not can_see_unit(user, county) or user.org_unit_id == county.pk:
            raise fail("forbidden", "只有上级教育行政部门可以接收或退回。")
        if target == SubmissionStatus.RETURNED and not reason.strip():
            raise fail("reason_required", "退回必须填写原因。")


def _move_submission(
    user: User, submission: CountySubmission, county: OrgUnit, year: int, target: str, reason: str
) -> CountySubmission:
    _check_submission(user, submission, county, year, target, reason)
    source = advance(submission, target, [submission.status], what="本县（区）的报送", changes={"reason": reason})
    _log_transition("submission", submission.pk, county, year, source, target, user, reason)
    return submission


def open_collection_year(user: User, year: int, opens_at: datetime, closes_at: datetime) -> tuple[CollectionYear, bool]:
    """The ministry (whole country) or a province (its counties) opens a collection year, or changes its window."""
    unit = user.org_unit
    allowed: dict[str, str] = {Role.PROVINCE: Level.PROVINCE, Role.MINISTRY: Level.MINISTRY}
    if unit is None or allowed.get(user.role) != unit.level:
        raise fail("forbidden", "只有教育部或省级教育行政部门可以开放采集年度。")
    if not 2000 <= year <= 2100:
        raise fail("bad_year", "统计年度应为 2000 至 2100 之间的年份。", field="year")
    if closes_at <= opens_at:
        raise fail("bad_window", "截止时间必须晚于开始时间。", field="closes_at")
    with transaction.atomic():
        window, created = CollectionYear.objects.select_for_update().get_or_create(
            year=year, scope=unit, defaults={"opens_at": opens_at, "closes_at": closes_at, "opened_by": user}
        )
        if not created:
            window.opens_at, window.closes_at = opens_at, closes_at
            window.save(update_fields=["opens_at", "closes_at"])
    return window, created


def closes_open_window(
    user: User, year: int, closes_at: datetime, now: datetime | None = None
) -> CollectionYear | None:
    """The user's open window of ``year`` that a change to ``closes_at`` would close now (None otherwise): closing
    a window stops every school and county in its scope from changing the year's data, so it is confirmed first."""
    now = now or timezone.now()
    window = CollectionYear.objects.filter(year=year, scope=user.org_unit_id).select_related("scope").first()
    if window is None or not window.opens_at <= now <= window.closes_at:
        return None
    return window if closes_at <= now else None


def close_collection_year(user: User, year: int) -> CollectionYear:
    """Close the user's open window of ``year`` now (its end becomes this moment; it can be reopened by setting a
    later end)."""
    window = CollectionYear.objects.filter(year=year, scope=user.org_unit_id).first()
    if window is None:
        raise fail("not_found", f"本单位没有开放 {year} 年度数据采集。", field="year")
    now = timezone.now()
    if not window.opens_at <= now <= window.closes_at:
        raise fail("window_closed", f"{year} 年度数据采集当前未在进行中，无需截止。", field="year")
    return open_collection_year(user, year, min(window.opens_at, now), now)[0]


def counties_in(scope: OrgUnit) -> int:
    """How many county-level units a collection window's scope covers."""
    return OrgUnit.objects.filter(level=Level.COUNTY, prefix__startswith=scope.prefix).count()


def create_year_records(user: User, county: OrgUnit, year: int) -> int:
    """The county creates this year's (empty, draft) records of its registered schools, during the window."""
    _require_county_user(user, county)
    _require_window(county, year)
    with transaction.atomic():
        return ensure_records(county, year)


def ensure_records(county: OrgUnit, year: int) -> int:
    """Create empty draft records for the county's active schools that have none this year."""
    have = set(SchoolRecord.objects.filter(county=county, year=year).values_list("school_id", flat=True))
    new = [
        SchoolRecord(school=s, county=county, year=year, school_name=s.name)
        for s in School.objects.filter(county=county)
        if s.pk not in have and s.active_in(year)
    ]
    SchoolRecord.objects.bulk_create(new)
    return len(new)


def counties_of(unit: OrgUnit) -> Iterable[OrgUnit]:
    return OrgUnit.objects.filter(level=Level.COUNTY, prefix__startswith=unit.prefix)
