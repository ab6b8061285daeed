"""A school's record: the form (values, warnings and their explanations), its moves and the school's own upload."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from youjun.contract import SCHOOL_BY_KEY, SCHOOL_COLUMNS, Column
from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.collection import exports, selectors, services
from youjun.web.collection.models import RecordStatus, SchoolRecord, ValueChange
from youjun.web.collection.views.common import (
    EXPLAIN_PREFIX,
    FIELD_GROUPS,
    RECORD_ACTIONS,
    SOURCE_LABELS,
    _error_messages,
    _forbidden,
    _is_county_of,
    _is_forbidden,
    _may_edit,
    _next_or,
    _record_or_404,
    _shown,
    _text,
    _too_large_problem,
    _user,
    size_guarded,
)

# ---------------------------------------------------------------------------------------------------------------
# The school record


@dataclass
class _Field:
    column: Column
    value: str
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.column.key

    @property
    def unit(self) -> str:
        unit = self.column.unit
        return "" if not unit or f"({unit})" in self.column.header else unit

    @property
    def inputmode(self) -> str:
        return {"int": "numeric", "year": "numeric", "number": "decimal"}.get(self.column.kind, "text")


def field_groups(
    values: Mapping[str, str], errors: Mapping[str, list[str]] | None = None
) -> list[tuple[str, list[_Field]]]:
    """The record's fields in their groups, with the values to show and the errors beside them."""
    errors = errors or {}
    placed = set().union(*(keys for _, keys in FIELD_GROUPS))
    groups: list[tuple[str, list[_Field]]] = []
    for name, keys in FIELD_GROUPS:
        members = [
            c
            for c in SCHOOL_COLUMNS
            if c.key in services.VALUE_KEYS and (c.key in keys or (not keys and c.key not in placed))
        ]
        groups.append((name, [_Field(c, values.get(c.key, ""), errors.get(c.key, [])) for c in members]))
    return groups


@dataclass
class _Warning:
    key: str
    text: str
    explanation: str


def _render_record(
    request: HttpRequest,
    record: SchoolRecord,
    *,
    posted: Mapping[str, str] | None = None,
    explanations: Mapping[str, str] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    general_errors: list[str] | None = None,
    conflict: list[tuple[str, str, str]] | None = None,
    upload_problems: list[dict[str, Any]] | None = None,
    reason: str = "",
    version: int | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    may_edit = _may_edit(user, record)
    window = services.open_collection(record.county, record.year)
    waiting = record.status == RecordStatus.SUBMITTED and user.role == Role.SCHOOL  # with the county for review
    editable = may_edit and not record.locked and not waiting and window is not None
    values = dict(posted) if posted is not None else {k: _shown(record.values.get(k)) for k in services.VALUE_KEYS}
    given = explanations if explanations is not None else (record.explanations or {})
    found = services.record_warnings(record)
    warnings = [
        _Warning(services.warning_key(w), w.describe(), str(given.get(services.warning_key(w), ""))) for w in found
    ]
    is_county = _is_county_of(user, record.county)
    changes = [
        {
            "at": c.at,
            "actor": c.actor,
            "field": SCHOOL_BY_KEY[c.field].header if c.field in SCHOOL_BY_KEY else "全部字段（首次填报）",
            "old": _shown(c.old),
            "new": f"{len(c.new)} 项数据"
            if c.field == services.ALL_FIELDS and isinstance(c.new, dict)
            else _shown(c.new),
            "reason": c.reason,
            "source": SOURCE_LABELS.get(c.source, c.source),
        }
        for c in selectors.record_changes(record)
    ]
    transitions = list(selectors.record_transitions(record))
    rounds = _rounds(transitions)
    returned = record.status == RecordStatus.RETURNED
    context = {
        "record": record,
        "groups": field_groups(values, errors),
        "version": record.version if version is None else version,
        "editable": editable,
        "may_edit": may_edit,
        "window": window,
        "warnings": warnings,
        "unexplained": sum(1 for w in warnings if not w.explanation.strip()),
        "general_errors": general_errors or [],
        "conflict": conflict,
        "upload_problems": upload_problems,
        "reason": reason or (_pending_note(record, transitions) if returned else ""),
        "rounds": rounds,
        "returned": returned,
        "last_note": next((r.note for r in reversed(rounds) if r.note), "") if returned else "",
        "review_note": rounds[-1].note if rounds and record.status == RecordStatus.SUBMITTED else "",
        "can_submit": may_edit and record.status in (RecordStatus.DRAFT, RecordStatus.RETURNED),
        "can_review": is_county and record.status == RecordStatus.SUBMITTED,
        "can_unlock": is_county and record.status == RecordStatus.APPROVED,
        "changes": changes,
        "transitions": transitions,
        "max_upload_mb": settings.YOUJUN_MAX_UPLOAD_BYTES / (1024 * 1024),
    }
    return render(request, "youjun/collection/record.html", context, status=status)


@dataclass
class _Round:
    """One round of review: the county's return (or unlock) and the school's explanation when it resubmitted."""

    number: int
    returned: Any = None  # the Transition to 已退回
    submitted: Any = None  # the Transition of the resubmission (its reason: the explanation of changes)

    @property
    def note(self) -> str:
        return str(self.submitted.reason) if self.submitted is not None else ""


def _rounds(transitions: list[Any]) -> list[_Round]:
    """The record's review rounds, oldest first: each return with the resubmission that answered it (the first
    submission is round 0 when it carried an explanation). ``transitions`` are newest first."""
    rounds: list[_Round] = []
    for t in reversed(transitions):
        if t.target == RecordStatus.RETURNED:
            rounds.append(_Round(len(rounds) + 1, returned=t))
        elif t.target == RecordStatus.SUBMITTED and rounds and rounds[-1].submitted is None:
            rounds[-1].submitted = t
    return rounds


def _pending_note(record: SchoolRecord, transitions: list[Any]) -> str:
    """The explanation the school gave with an upload or a save since the last return (to resubmit with)."""
    last_return = next((t for t in transitions if t.target == RecordStatus.RETURNED), None)
    if last_return is None:
        return ""
    change = (
        ValueChange.objects.filter(record=record, at__gte=last_return.at)
        .exclude(reason__in=["", services.UPLOAD_REASON])
        .order_by("-at", "-pk")
        .first()
    )
    return change.reason.removeprefix(f"{services.UPLOAD_REASON}：") if change else ""


def _posted_explanations(request: HttpRequest, record: SchoolRecord) -> dict[str, str]:
    """The record's explanations with those typed in the form applied (an emptied box removes its explanation)."""
    result = dict(record.explanations or {})
    for name in request.POST:
        if name.startswith(EXPLAIN_PREFIX):
            key = name.removeprefix(EXPLAIN_PREFIX)[:200]
            text = _text(request, name)
            if text:
                result[key] = text
            else:
                result.pop(key, None)
    return result


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """The school's annual data form: GET shows it, POST saves it (and, with ``action=submit``, submits it)."""
    user = _user(request)
    rec = _record_or_404(user, pk)
    if request.method == "GET":
        return _render_record(request, rec)
    if not _may_edit(user, rec):
        return _forbidden(request, "只有本校或本县（区）可以修改该校数据。")
    version = _posted_version(request)
    if version is None:
        messages.error(request, "表单已失效，请刷新页面后重新填写。")
        return redirect("collection:record", pk=rec.pk)
    raw = {k: request.POST.get(k, "").strip()[:200] for k in services.VALUE_KEYS}
    explanations = _posted_explanations(request, rec)
    reason = _text(request, "reason", 500)
    try:
        result = services.save_record(user, rec, raw, version, reason=reason, explanations=explanations)
    except YoujunError as exc:
        return _save_failed(request, rec, exc, raw, explanations, reason, version)
    saved = result.record
    messages.success(
        request, f"已保存，修改了 {result.changed} 项数据。" if result.changed else "已保存，数据没有变化。"
    )
    if request.POST.get("action") == "submit":
        try:
            services.move_record(user, saved, RecordStatus.SUBMITTED, reason)
        except YoujunError as exc:
            _error_messages(request, exc, "未能提交：")
        else:
            messages.success(request, RECORD_ACTIONS["submit"][2])
    else:
        _ask_for_explanations(request, saved)
    return redirect("collection:record", pk=saved.pk)


def _ask_for_explanations(request: HttpRequest, record: SchoolRecord) -> None:
    missing = services.unexplained_warnings(record)
    if missing:
        messages.warning(request, f"有 {len(missing)} 条数据提醒需要说明：请在下方逐条填写说明并保存，然后提交。")


def _save_failed(
    request: HttpRequest,
    rec: SchoolRecord,
    exc: YoujunError,
    raw: dict[str, str],
    explanations: dict[str, str],
    reason: str,
    version: int,
) -> HttpResponse:
    if _is_forbidden(exc):
        return _forbidden(request, exc.problems[0].message)
    codes = {p.code for p in exc.problems}
    if "conflict" in codes:
        latest = _record_or_404(_user(request), rec.pk)
        theirs = {k: _shown(latest.values.get(k)) for k in services.VALUE_KEYS}
        diff = [(SCHOOL_BY_KEY[k].header, raw[k], theirs[k]) for k in services.VALUE_KEYS if raw[k] != theirs[k]]
        messages.error(request, exc.problems[0].message)
        return _render_record(
            request,
            latest,
            posted=raw,
            explanations=explanations,
            conflict=diff,
            reason=reason,
            version=latest.version,
            status=409,
        )
    if codes & {"locked", "window_closed"}:
        _error_messages(request, exc)
        return redirect("collection:record", pk=rec.pk)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    for p in exc.problems:
        if p.severity != "error":
            continue
        if p.location.field in services.VALUE_KEYS:
            errors.setdefault(p.location.field, []).append(p.message)
        else:
            general.append(p.describe())
    messages.error(
        request, f"未保存：有 {sum(map(len, errors.values())) + len(general)} 处需要修改，请查看标红的字段。"
    )
    return _render_record(
        request,
        rec,
        posted=raw,
        explanations=explanations,
        errors=errors,
        general_errors=general,
        reason=reason,
        version=version,
        status=400,
    )


@login_required
@require_POST
def record_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit (school or county), approve, return or unlock (county, the last two with a reason)."""
    user = _user(request)
    rec = _record_or_404(user, pk)
    action = request.POST.get("action", "")
    if action not in RECORD_ACTIONS:
        messages.error(request, "未知的操作。")
        return redirect("collection:record", pk=rec.pk)
    if not _may_edit(user, rec):
        return _forbidden(request, "只有本校或本县（区）可以办理该校数据。")
    target, sources, done = RECORD_ACTIONS[action]
    version = _posted_version(request)
    if (version is not None and version != rec.version) or rec.status not in sources:
        messages.error(request, "该校数据在您打开页面后已发生变化，请查看最新状态后再操作。")
        return _next_or(request, reverse("collection:record", args=[rec.pk]))
    try:
        services.move_record(user, rec, target, _text(request, "reason"))
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        _error_messages(request, exc)
    else:
        messages.success(request, f"{rec.name}：{done}")
    return _next_or(request, reverse("collection:record", args=[rec.pk]))


@size_guarded
@login_required
@require_POST
def record_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """The school (or its county) uploads the school's own one-row workbook for this record."""
    user = _user(request)
    rec = _record_or_404(user, pk)
    if not _may_edit(user, rec):
        return _forbidden(request, "只有本校或本县（区）可以上传该校数据。")
    upload = request.FILES.get("file")
    version = _posted_version(request)
    if upload is None or version is None:
        messages.error(request, "请选择要上传的文件。")
        return redirect("collection:record", pk=rec.pk)
    name = upload.name or "upload"
    try:
        if upload.size is None or upload.size > settings.YOUJUN_MAX_UPLOAD_BYTES:
            raise YoujunError([_too_large_problem(services._safe_name(name))])
        note = _text(request, "reason", 500)
        result = services.import_school_workbook(user, rec, name, upload.chunks(), upload.size, version, note)
    except YoujunError as exc:
        if _is_forbidden(exc):
            return _forbidden(request, exc.problems[0].message)
        if any(p.code in ("conflict", "locked", "window_closed") for p in exc.problems):
            _error_messages(request, exc)
            return redirect("collection:record", pk=rec.pk)
        messages.error(request, "上传的文件未能导入，数据没有变化。问题见下表。")
        rows = exports.problem_rows(exc.problems)
        return _render_record(request, rec, upload_problems=rows, status=400)
    messages.success(request, f"已导入工作簿，修改了 {result.changed} 项数据。")
    if result.record.status == RecordStatus.RETURNED:
        messages.warning(request, "该校数据已被退回：请核对退回原因，在下方填写本次的修改说明后「保存并提交审核」。")
    _ask_for_explanations(request, result.record)
    return redirect("collection:record", pk=rec.pk)
