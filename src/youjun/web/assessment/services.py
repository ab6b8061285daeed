"""Writes of the assessment app, and the county row of the full assessment. Views call these.

- County inputs are validated by the workbook reader (``youjun.io.reader``), exactly as a ``县级指标`` sheet is: the
  same hard errors in the same Chinese words, whether typed in the form or imported.
- Who may do what: the county's own users type the county inputs and upload evidence; users of a level above the
  county whose jurisdiction contains it (prefecture, province, ministry) give verdicts and veto findings. Viewers
  and schools write nothing.
- Every write ends with ``recompute`` so the stored evaluation always reflects the latest inputs, verdicts and
  findings. The county's report chapters (``Narrative``) feed the Word report only, so saving them recomputes
  nothing.
"""

from __future__ import annotations

import hashlib
import logging
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import polars as pl
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Field
from django.utils import timezone

from youjun.contract import COUNTY_COLUMNS, FINDING, VERDICT, Column
from youjun.engine.recognition import RETURN_INPUTS
from youjun.errors import Location, Problem, YoujunError
from youjun.io.documents.chapters import CHAPTERS, MAX_CHARS, clean_text
from youjun.io.reader import read_school_data
from youjun.standards import RuleSet
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.assessment import uploads
from youjun.web.assessment.models import (
    CountyInputs,
    Evidence,
    FindingSource,
    Found,
    InputChange,
    Narrative,
    Review,
    Reviewed,
    Verdict,
    VetoFinding,
    reviewed_in,
)
from youjun.web.collection.services import fail
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.organisation.selectors import basic_balance_year
from youjun.web.rulesets import services as rulesets
from youjun.web.signals import county_data_changed

log = logging.getLogger("youjun.assessment")

IDENTITY = ("year", "county_code", "county_name")
RECOGNITION = ("recognition_valid", "recognition_positive", "recognition_rate")
#: Reviewers' columns of the county sheet (verdicts 达标/不达标/待补充, findings 存在/不存在), whichever rule set reads
#: them: the county never types a verdict or a finding on itself.
REVIEWER_COLUMNS = frozenset(c.key for c in COUNTY_COLUMNS if c.choices in (VERDICT, FINDING))
#: The county's basic-balance recognition year: a standing fact the province records once (organisation app), never
#: a figure the county types each year (one truth for the chooser, the form, the eligibility check and this sheet).
RECORDED_FACTS = ("basic_balance_year",)
#: Columns the county does not type: its identity, the reviewers' verdicts and findings, the survey's figures, and
#: the recorded facts.
NOT_TYPED = frozenset((*IDENTITY, *REVIEWER_COLUMNS, *RECOGNITION, *RECORDED_FACTS))
FORM_COLUMNS: tuple[Column, ...] = tuple(c for c in COUNTY_COLUMNS if c.key not in NOT_TYPED)
FORM_KEYS = tuple(c.key for c in FORM_COLUMNS)
COUNTY_BY_KEY = {c.key: c for c in COUNTY_COLUMNS}
REVIEWER_ROLES = frozenset({Role.MINISTRY, Role.PROVINCE, Role.PREFECTURE})
ABOVE_COUNTY = frozenset({Level.MINISTRY, Level.PROVINCE, Level.PREFECTURE})
_DTYPES: dict[str, pl.DataType] = {"int": pl.Int64(), "year": pl.Int64(), "number": pl.Float64()}
MAX_TEXT = 2000


# ---------------------------------------------------------------------------------------------------------------
# Who may do what


def is_county_user(user: User, county: OrgUnit) -> bool:
    """A user of the county itself (types inputs, uploads evidence)."""
    return user.is_authenticated and user.role == Role.COUNTY and user.org_unit_id == county.pk


def is_reviewer(user: User, county: OrgUnit) -> bool:
    """A user of a level above the county whose jurisdiction contains it (gives verdicts and findings)."""
    unit = user.org_unit if user.is_authenticated else None
    return (
        user.role in REVIEWER_ROLES
        and unit is not None
        and unit.level in ABOVE_COUNTY
        and unit.pk != county.pk
        and can_see_unit(user, county)
    )


def _require_county_user(user: User, county: OrgUnit) -> None:
    if not is_county_user(user, county):
        raise fail("forbidden", "只有本县（区）教育行政部门可以填写县级指标和上传佐证材料。")


def _require_reviewer(user: User, county: OrgUnit) -> None:
    if not is_reviewer(user, county):
        raise fail("forbidden", "只有上级（地市、省、教育部）督导评估人员可以给出审核结论或核查结论。")


# ---------------------------------------------------------------------------------------------------------------
# County inputs


def _csv(path: Path, columns: tuple[Column, ...], values: Mapping[str, Any]) -> None:
    text = {c.key: [None if values.get(c.key) in (None, "") else str(values.get(c.key))] for c in columns}
    pl.DataFrame(text, schema={c.key: pl.String for c in columns}).write_csv(path)


def _for_form(problem: Problem, path: str) -> Problem:
    loc = problem.location
    column = COUNTY_BY_KEY[loc.field].header if loc.field in COUNTY_BY_KEY else loc.column
    message = problem.message.replace(path, "网页填报数据")
    return Problem(problem.code, message, problem.severity, Location(column=column, field=loc.field, value=loc.value))


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def validate_inputs(county: OrgUnit, year: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The typed county inputs (``FORM_KEYS``), checked by the workbook reader; ``YoujunError`` located by field.

    The row is held to the web's input limits (``WEB_LIMITS``) like an upload."""
    from youjun.io.limits import WEB_LIMITS

    identity = {"year": year, "county_code": county.code, "county_name": county.name}
    row = {**{k: raw.get(k) for k in FORM_KEYS}, **identity}
    with tempfile.TemporaryDirectory(prefix="youjun-county-form-") as folder:
        county_path = Path(folder) / "县级指标.csv"
        _csv(county_path, COUNTY_COLUMNS, row)
        try:
            data = read_school_data([county_path], county_only=True, limits=WEB_LIMITS)
        except YoujunError as exc:
            too_long = f"填写的内容过长（合计超过 {WEB_LIMITS.max_line_bytes // 1024} KB），未保存，请删减后重试。"
            errors = [
                Problem(p.code, too_long) if p.code == "line_too_long" else _for_form(p, str(county_path))
                for p in exc.problems
                if p.severity == "error"
            ]
            raise YoujunError(errors) from None
    assert data.counties is not None
    return _typed_inputs(data.counties.row(0, named=True))


def _typed_inputs(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _json_value(row.get(k)) for k in FORM_KEYS}


IMPORT_SUFFIXES = (".xlsx", ".xls", ".csv")


def read_inputs_file(county: OrgUnit, year: int, name: str, content: bytes) -> dict[str, Any]:
    """The county's row of a ``县级指标`` sheet in an uploaded workbook or CSV, checked like any import.

    Columns the county does not type (verdicts, findings, survey figures) are ignored; other counties' rows in the
    sheet are refused, so that a province's workbook is not mistaken for the county's own. The file is held to the
    web's input limits (``WEB_LIMITS``, its size to ``YOUJUN_MAX_UPLOAD_BYTES``) before any parser sees it.
    """
    from youjun.io.limits import WEB_LIMITS

    suffix = Path(name).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise fail("unsupported_format", "请上传 Excel（.xlsx、.xls）或 CSV 文件，工作表名为「县级指标」。")
    with tempfile.TemporaryDirectory(prefix="youjun-county-import-") as folder:
        path = Path(folder) / f"县级指标{suffix}"
        path.write_bytes(content)
        limits = WEB_LIMITS.with_file_bytes(int(settings.YOUJUN_MAX_UPLOAD_BYTES))
        try:
            data = read_school_data([path], county_only=True, limits=limits)
        except YoujunError as exc:
            shown = Path(name).name
            problems = [
                Problem(p.code, p.message.replace(str(path), shown), p.severity, replace(p.location, file=shown))
                for p in exc.problems
                if p.severity == "error"
            ]
            raise YoujunError(problems) from None
    assert data.counties is not None
    sheet = data.counties
    others = sheet.filter(pl.col("county_code") != county.code)
    if others.height:
        row = others.row(0, named=True)
        raise fail(
            "other_county",
            f"第 {row['source_row']} 行属于县级区划代码 {row['county_code']}，不是本县（区）（{county.code}）；"
            "请只保留本县（区）的行。",
        )
    mine = sheet.filter(pl.col("year") == year)
    if mine.height == 0:
        raise fail("no_row", f"「县级指标」表中没有本县（区）{year} 年度的数据行。")
    return _typed_inputs(mine.row(0, named=True))


def inputs_of(county: OrgUnit, year: int) -> CountyInputs | None:
    return CountyInputs.objects.filter(county=county, year=year).select_related("updated_by").first()


@dataclass
class SaveResult:
    inputs: CountyInputs
    changed: int


def save_inputs(
    user: User, county: OrgUnit, year: int, raw: Mapping[str, Any], based_on_version: int, reason: str = ""
) -> SaveResult:
    """Save the county's inputs: validated, audited field by field, refused if someone saved in between."""
    _require_county_user(user, county)
    return _store(user, county, year, validate_inputs(county, year, raw), based_on_version, reason)


def import_inputs(
    user: User, county: OrgUnit, year: int, name: str, content: bytes, based_on_version: int
) -> SaveResult:
    """Replace the county's inputs by its row of an uploaded ``县级指标`` sheet (all or nothing, audited)."""
    _require_county_user(user, county)
    values = read_inputs_file(county, year, name, content)
    return _store(user, county, year, values, based_on_version, f"从文件「{Path(name).name[:100]}」导入")


def _store(
    user: User, county: OrgUnit, year: int, values: Mapping[str, Any], based_on_version: int, reason: str
) -> SaveResult:
    with transaction.atomic():
        inputs, _ = CountyInputs.objects.get_or_create(county=county, year=year)
        updated = CountyInputs.objects.filter(pk=inputs.pk, version=based_on_version).update(version=F("version") + 1)
        if not updated:
            raise fail(
                "conflict",
                "保存失败：在您编辑期间，县级指标已被他人修改。请查看最新数据后再修改，您输入的内容未保存。",
            )
        inputs.refresh_from_db()
        old = inputs.values or {}
        changes = [
            InputChange(inputs=inputs, field=k, old=old.get(k), new=v, reason=reason[:MAX_TEXT], actor=user)
            for k, v in values.items()
            if old.get(k) != v
        ]
        InputChange.objects.bulk_create(changes)
        inputs.values = dict(values)
        inputs.updated_by = user
        inputs.save(update_fields=["values", "updated_by", "updated_at"])
        county_data_changed(county, year)
    return SaveResult(inputs, len(changes))


# ---------------------------------------------------------------------------------------------------------------
# The county's chapters of its self-evaluation report


def digest(text: str) -> str:
    """What a form remembers of a chapter it showed, to tell whether the user changed it and whether someone else
    did meanwhile."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def narratives_of(county: OrgUnit, year: int) -> dict[str, Narrative]:
    """The county-year's stored chapters by key (a chapter never saved has no row)."""
    rows = Narrative.objects.filter(county=county, year=year).select_related("updated_by")
    return {n.chapter: n for n in rows}


def narrative_texts(county: OrgUnit, year: int) -> dict[str, str]:
    """Chapter key → the county's text, as the report takes it."""
    return {key: n.text for key, n in narratives_of(county, year).items()}


def check_narrative(texts: Mapping[str, str]) -> dict[str, str]:
    """The chapters' texts as they will be stored (:func:`clean_text`), or every text over the cap refused, each
    with its chapter's key as the field."""
    cleaned = {c.key: clean_text(texts.get(c.key, "")) for c in CHAPTERS}
    problems = [
        Problem(
            "too_long",
            f"「{c.title}」最多 {MAX_CHARS:,} 字，现有 {len(cleaned[c.key]):,} 字，请删减 "
            f"{len(cleaned[c.key]) - MAX_CHARS:,} 字后再保存。",
            location=Location(field=c.key),
        )
        for c in CHAPTERS
        if len(cleaned[c.key]) > MAX_CHARS
    ]
    if problems:
        raise YoujunError(problems)
    return cleaned


def save_narrative(
    user: User, county: OrgUnit, year: int, texts: Mapping[str, str], shown: Mapping[str, str]
) -> list[str]:
    """Save the chapters the user changed (all or none); returns their keys.

    ``shown`` is the :func:`digest` of each chapter as the form showed it: a chapter whose text still has that
    digest was not touched and is left alone; a changed chapter is written only if nobody saved it since the form
    was shown (a conditional update on its version), otherwise nothing is saved and each such chapter is refused
    with code ``conflict`` and its key as the field."""
    if not is_county_user(user, county):
        raise fail("forbidden", "只有本县（区）教育行政部门可以撰写自评报告章节。")
    if any(len(shown.get(c.key, "")) != 64 for c in CHAPTERS):
        raise fail("stale_form", "表单已失效，请刷新页面后重新填写。")
    cleaned = check_narrative(texts)
    changed = [c for c in CHAPTERS if digest(cleaned[c.key]) != shown[c.key]]
    conflicts: list[Problem] = []
    with transaction.atomic():
        for c in changed:
            row, _ = Narrative.objects.get_or_create(county=county, year=year, chapter=c.key)
            if digest(row.text) == shown[c.key]:
                written = Narrative.objects.filter(pk=row.pk, version=row.version).update(
                    text=cleaned[c.key], version=F("version") + 1, updated_by=user, updated_at=timezone.now()
                )
                if written:
                    continue
            elif row.text == cleaned[c.key]:
                continue  # someone saved the very same text
            conflicts.append(
                Problem(
                    "conflict",
                    f"「{c.title}」在您编辑期间已被他人修改，本次未保存任何章节。请对照下方他人保存的内容，"
                    "确认后再次保存（将以您的内容为准）。",
                    location=Location(field=c.key),
                )
            )
        if conflicts:
            transaction.set_rollback(True)
    if conflicts:
        raise YoujunError(conflicts)
    return [c.key for c in changed]


# ---------------------------------------------------------------------------------------------------------------
# Evidence


#: The longest item code the evidence, review and finding rows can hold.
ITEM_CODE_MAX = min(
    int(cast("Field[Any, Any]", model._meta.get_field(name)).max_length or 0)
    for model, name in ((Evidence, "item"), (Review, "item"), (VetoFinding, "code"))
)


def _check_item(item: str, allowed: Sequence[str], message: str = "该指标不需要上传佐证材料。") -> None:
    """Refuse an item code the county-year's rule set does not list in ``allowed`` (or the database cannot hold)."""
    if item not in allowed or len(item) > ITEM_CODE_MAX:
        raise fail("bad_item", message)


def may_upload(user: User, county: OrgUnit, item: str, year: int | None = None) -> bool:
    """The county uploads for every evidence item and veto; a reviewer may attach files to a veto finding. Items are
    those of the county-year's rule set (the default rule set's when no year is given)."""
    reviewed = reviewed_of(county, year)
    if item in reviewed.evidence:
        return is_county_user(user, county)
    return item in reviewed.findings and (is_county_user(user, county) or is_reviewer(user, county))


def add_evidence(user: User, county: OrgUnit, year: int, item: str, upload: UploadedFile[bytes], name: str) -> Evidence:
    """Store a checked upload (see ``uploads.checked_upload``) and record it; nothing is left behind on failure."""
    reviewed = reviewed_of(county, year)
    _check_item(item, (*reviewed.evidence, *reviewed.findings))
    if not may_upload(user, county, item, year):
        raise fail("forbidden", "只有本县（区）可以上传该指标的佐证材料。")
    return uploads.kept(
        name,
        upload,
        lambda stored, kind: Evidence.objects.create(
            county=county,
            year=year,
            item=item,
            original_name=name,
            stored_name=stored.stored_name,
            content_type=kind.content_type,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=user,
        ),
    )


def latest_review(county: OrgUnit, year: int, item: str) -> Review | None:
    return Review.objects.filter(county=county, year=year, item=item).first()


def may_delete(user: User, evidence: Evidence) -> bool:
    """The county's own upload, while the item is not yet reviewed as 达标 (a veto: while no finding is recorded)."""
    if evidence.deleted_at is not None or not is_county_user(user, evidence.county):
        return False
    if evidence.uploaded_by.role != Role.COUNTY:
        return False
    if evidence.item in reviewed_of(evidence.county, evidence.year).findings:
        return not VetoFinding.objects.filter(county=evidence.county, year=evidence.year, code=evidence.item).exists()
    review = latest_review(evidence.county, evidence.year, evidence.item)
    return review is None or review.verdict != Verdict.MET


def delete_evidence(user: User, evidence: Evidence) -> None:
    if not may_delete(user, evidence):
        if is_county_user(user, evidence.county):
            raise fail("locked", "该指标已审核为达标（或已有核查结论），佐证材料不能再删除。")
        raise fail("forbidden", "只有本县（区）可以删除本县上传的佐证材料。")
    with transaction.atomic():
        Evidence.objects.filter(pk=evidence.pk).update(deleted_by=user, deleted_at=timezone.now())
    uploads.remove(evidence.stored_name)


def evidence_of(county: OrgUnit, year: int) -> dict[str, list[Evidence]]:
    found: dict[str, list[Evidence]] = {}
    rows = Evidence.objects.filter(county=county, year=year, deleted_at__isnull=True).select_related("uploaded_by")
    for e in rows:
        found.setdefault(e.item, []).append(e)
    return found


# ---------------------------------------------------------------------------------------------------------------
# Reviews and findings


def add_review(user: User, county: OrgUnit, year: int, item: str, verdict: str, comment: str = "") -> Review:
    _require_reviewer(user, county)
    evidence = reviewed_of(county, year).evidence
    _check_item(item, evidence, f"只有佐证材料项目（{'、'.join(evidence) or '无'}）需要审核结论。")
    if verdict not in Verdict.values:
        raise fail("bad_verdict", "审核结论只能是：达标、不达标、待补充。")
    if verdict != Verdict.MET and not comment.strip():
        raise fail("comment_required", "结论为“不达标”或“待补充”时，请填写审核意见（说明原因或需补充的材料）。")
    with transaction.atomic():
        review = Review.objects.create(
            county=county, year=year, item=item, verdict=verdict, comment=comment.strip()[:MAX_TEXT], reviewer=user
        )
        county_data_changed(county, year)
    return review


def add_finding(
    user: User, county: OrgUnit, year: int, code: str, found: str, source: str, evidence: str = ""
) -> VetoFinding:
    _require_reviewer(user, county)
    rules = rules_of(county, year)
    _check_item(code, reviewed_of(county, year, rules).findings, _veto_message(rules))
    if found not in Found.values:
        raise fail("bad_finding", "核查结论只能是：存在、不存在。")
    if source not in FindingSource.values:
        raise fail("bad_source", "请选择线索来源：督导检查、信访举报、媒体报道、数据核查或其他。")
    if found == Found.PRESENT and not evidence.strip():
        raise fail("evidence_required", "核查结论为“存在”时，请填写核查情况（事实、时间、涉及学校等）。")
    with transaction.atomic():
        finding = VetoFinding.objects.create(
            county=county,
            year=year,
            code=code,
            found=found,
            source=source,
            evidence=evidence.strip()[:MAX_TEXT],
            reviewer=user,
        )
        county_data_changed(county, year)
    return finding


def _veto_message(rules: RuleSet | None) -> str:
    """Which vetoes take a finding under ``rules``, and which follow other results (V7: the survey)."""
    findings = reviewed_in(rules).findings if rules is not None else ()
    listed = "、".join(findings) or "（无）"
    others = [code for code in veto_names(rules) if code not in findings]
    automatic = f"（{'、'.join(others)} 随评估结果自动判定）" if others else ""
    return f"需要核查结论的一票否决事项只能是 {listed}{automatic}。"


def reviews_of(county: OrgUnit, year: int) -> dict[str, list[Review]]:
    """Every item's verdicts, latest first."""
    found: dict[str, list[Review]] = {}
    for r in Review.objects.filter(county=county, year=year).select_related("reviewer"):
        found.setdefault(r.item, []).append(r)
    return found


def findings_of(county: OrgUnit, year: int) -> dict[str, list[VetoFinding]]:
    """Every veto's findings, latest first."""
    found: dict[str, list[VetoFinding]] = {}
    for f in VetoFinding.objects.filter(county=county, year=year).select_related("reviewer"):
        found.setdefault(f.code, []).append(f)
    return found


# ---------------------------------------------------------------------------------------------------------------
# The county row of the full assessment


def rules_by_ref(ref: str) -> RuleSet:
    """The rule set a stored result names (a shipped id or a province's uploaded file)."""
    return rulesets.load(ref)


def rules_of(county: OrgUnit | None = None, year: int | None = None) -> RuleSet | None:
    """The rule set in force for the county-year (a province's assignment, else the national default); the default
    one without a county-year; None if it cannot be read."""
    try:
        if county is not None and year is not None:
            return rulesets.rules_for(county, year)
        return rulesets.load(rulesets.default_ref())
    except YoujunError:
        return None


def rules_in_force() -> RuleSet | None:
    """The default rule set (``settings.YOUJUN_STANDARD``); None if it cannot be read."""
    return rules_of()


def reviewed_of(county: OrgUnit | None, year: int | None, rules: RuleSet | None = None) -> Reviewed:
    """The evidence items and veto findings of the county-year's rule set (none if it cannot be read)."""
    rules = rules if rules is not None else rules_of(county, year)
    return reviewed_in(rules) if rules is not None else Reviewed()


def _names(part: str, rules: RuleSet | None) -> dict[str, str]:
    tables = (rules.sections.get(part) or {}) if rules is not None else {}
    return {str(code): str(table.get("name", "")) for code, table in tables.items() if isinstance(table, Mapping)}


def item_names(rules: RuleSet | None = None) -> dict[str, str]:
    """Item code → name in ``rules`` (the default rule set when None): G1–G15, Q1–Q9, V1–V7; empty if it cannot be
    read."""
    rules = rules if rules is not None else rules_in_force()
    return {k: v for part in ("guarantee", "quality", "vetoes") for k, v in _names(part, rules).items()}


def veto_names(rules: RuleSet | None = None) -> dict[str, str]:
    """Veto code → name, in the rule set's order (V1–V7)."""
    return _names("vetoes", rules if rules is not None else rules_in_force())


def _recognition(county: OrgUnit, year: int) -> Mapping[str, Any] | None:
    """The figures of the county's closed survey campaign of the year, or None (no campaign, or still open).

    An open campaign's counts move with every answer: judging S1 on them would show a pass (or a veto) that the
    closed survey may not confirm, so until the county closes it S1 stays "insufficient data"."""
    try:
        from youjun.web.survey.services import county_recognition
    except ImportError:
        return None
    result = county_recognition(county, year)
    return result if isinstance(result, Mapping) and result.get("final") else None


def county_values(county: OrgUnit, year: int) -> dict[str, Any]:
    """The county's ``县级指标`` row: typed inputs, latest verdicts and findings, survey figures."""
    inputs = inputs_of(county, year)
    values: dict[str, Any] = {c.key: None for c in COUNTY_COLUMNS}
    values |= {k: v for k, v in (inputs.values if inputs else {}).items() if k in FORM_KEYS}
    values |= {"year": year, "county_code": county.code, "county_name": county.name}
    values["basic_balance_year"] = basic_balance_year(county)
    reviewed = reviewed_of(county, year)
    for item, reviews in reviews_of(county, year).items():
        if item in reviewed.verdict_columns:
            values[reviewed.verdict_columns[item]] = reviews[0].verdict
    for code, findings in findings_of(county, year).items():
        if code in reviewed.finding_columns:
            values[reviewed.finding_columns[code]] = findings[0].found
    recognition = _recognition(county, year) or {}
    values |= {k: recognition.get(k) for k in RECOGNITION if k in values}
    values |= {k: recognition.get(k) for k in RETURN_INPUTS}  # the survey's valid returns and sample (S1's rule)
    return values


def counties_frame(county: OrgUnit, year: int) -> pl.DataFrame:
    """One row per (year, county_code) with the ``COUNTY_COLUMNS`` keys, typed as the reader types them."""
    values = county_values(county, year)
    schema = {c.key: _DTYPES.get(c.kind, pl.String()) for c in COUNTY_COLUMNS} | RETURN_INPUTS
    return pl.DataFrame({k: [values.get(k)] for k in schema}, schema=schema)


def refresh(county: OrgUnit, year: int) -> None:
    """Mark the county-year's stored result stale and recompute it (after the commit of the current transaction).

    Kept for callers outside a transaction; inside one, send ``county_data_changed`` there."""
    county_data_changed(county, year)
