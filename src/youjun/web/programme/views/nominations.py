"""A nomination: the recommendation form (推荐表) the province fills in, its evidence files, the ministry's review,
and the form as Word or Excel.

The form is read field by field: percentages in percent (0 < v < 1 read as a fraction, and the page says so), whole
numbers, years in their bounds, phone numbers and e-mail addresses. A form with a mistake is shown again with each
message under its field and a summary at the top linking to them (status 400); nothing is saved then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from youjun import forms
from youjun.errors import Problem, YoujunError
from youjun.formatting import percent_input
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.assessment import uploads
from youjun.web.exports import content_disposition
from youjun.web.programme import recommendation, recommendation_docs, services
from youjun.web.programme.models import Attachment, Nomination, NominationStatus, Verdict
from youjun.web.programme.views.common import (
    DOCX,
    _act,
    _nomination,
    _text,
    _user,
    field_errors,
    member_required,
    programme_upload,
)
from youjun.web.shortcuts import confirmation_page, confirmed, message_of, message_page, status_of

KINDS = {
    "longtext": "textarea",
    "choice": "select",
    "multichoice": "multi",
    "int": "number",
    "year": "number",
    "number": "number",
    "percent": "percent",
    "date": "date",
    "table": "table",
}
PREFIX = "f-"


def _shown(spec: forms.Field | forms.Column, value: Any) -> str:
    """The text of an input for a stored value: percentages in percent (0.87 → "87"), numbers as typed."""
    if value is None:
        return ""
    if spec.type == "percent" and isinstance(value, int | float) and not isinstance(value, bool):
        return percent_input(value)
    if spec.type in ("int", "year") and isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    if spec.type == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(f: forms.Field, value: Any, editable: bool, texts: dict[str, str]) -> dict[str, Any]:
    """A table field: header, then one row per fixed row (or per item); inputs when the province fills it in."""
    rows = value if isinstance(value, list) else []
    labels = [r.label for r in f.rows] or [str(i + 1) for i in range(len(rows))]
    body = []
    for i, label in enumerate(labels):
        cells = rows[i] if i < len(rows) and isinstance(rows[i], dict) else {}
        shown = []
        for c in f.columns:
            key = f"{f.key}.{i + 1}.{c.key}"
            shown.append(
                {
                    "key": key,
                    "name": f"{PREFIX}{key}",
                    "text": texts.get(key, _shown(c, cells.get(c.key))),
                    "display": recommendation.display(c, cells.get(c.key)) or "—",
                }
            )
        body.append({"label": label, "cells": shown})
    return {"head": [f.row_header or "项目", *(c.label for c in f.columns)], "body": body, "editable": editable}


def form_sections(
    defn: forms.FormDefinition,
    values: dict[str, Any],
    locked: set[str],
    *,
    texts: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notices: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The definition's sections and fields, each with its widget, the text in it (as posted when the form comes
    back with errors), its error and notice, and whether the data fix it."""
    texts, errors, notices = texts or {}, errors or {}, notices or {}
    shown = recommendation.printable(defn, values)
    sections = []
    for section in defn.sections:
        fields = []
        for f in section.fields:
            value = values.get(f.key)
            is_locked = f.key in locked
            cell_errors = {k: m for k, m in errors.items() if k.startswith(f"{f.key}.")}
            fields.append(
                {
                    "key": f.key,
                    "id": f"{PREFIX}{f.key}",
                    "label": f.caption + ("（%）" if f.type == "percent" and not is_locked else ""),
                    "kind": KINDS.get(f.type, "text"),
                    "type": f.type,
                    "required": f.required,
                    "note": f.note,
                    "choices": list(f.choices),
                    "groups": recommendation.tackling_groups(defn) if f.key == "tackling_items" else [],
                    "value": texts.get(f.key, _shown(f, value)),
                    "values": [str(v) for v in value] if isinstance(value, list) else [],
                    "display": recommendation.display(f, shown.get(f.key)),
                    "table": _table(f, value, not is_locked, texts) if f.type == "table" else None,
                    "locked": is_locked,
                    "no_data": not f.editable and not is_locked,
                    "error": errors.get(f.key) or "；".join(cell_errors.values()),
                    "cell_errors": cell_errors,
                    "notice": notices.get(f.key, ""),
                    "maxlength": recommendation.MAX_CHARS.get(f.type, recommendation.MAX_CHARS["text"]),
                }
            )
        sections.append({"title": section.title, "note": section.note, "fields": fields})
    return sections


def _posted(request: HttpRequest, f: forms.Field) -> bool:
    """Whether the form carried the field (a table: any of its cells; a multichoice: its always-present blank)."""
    if f.type == "table":
        return any(k.startswith(f"{PREFIX}{f.key}.") for k in request.POST)
    return PREFIX + f.key in request.POST


def _posted_values(
    request: HttpRequest, defn: forms.FormDefinition, locked: set[str]
) -> tuple[dict[str, Any], list[Problem], dict[str, str], dict[str, str]]:
    """The editable fields the form carried, typed: ``(values, problems, notices, texts)``. ``texts`` keeps what was
    typed, so that a form coming back with errors shows the user's own entries; a field not posted is left as it
    was (an empty field posted clears it)."""
    values: dict[str, Any] = {}
    found: list[Problem] = []
    notices: dict[str, str] = {}
    texts: dict[str, str] = {}
    for f in defn.fields:
        if f.key in locked or not _posted(request, f):
            continue  # a field the form did not carry keeps its value
        if f.type == "multichoice":
            values[f.key] = [v for v in request.POST.getlist(PREFIX + f.key) if v in f.choices]
            continue
        if f.type == "table":
            rows = []
            for i in range(len(f.rows)):
                row: dict[str, Any] = {}
                for c in f.columns:
                    key = f"{f.key}.{i + 1}.{c.key}"
                    raw = request.POST.get(PREFIX + key, "")[:100]
                    texts[key] = raw
                    row[c.key], problem, _notice = recommendation.read_value(c, key, raw)
                    if problem is not None:
                        found.append(problem)
                rows.append(row)
            values[f.key] = rows if any(v is not None for r in rows for v in r.values()) else None
            continue
        raw = request.POST.get(PREFIX + f.key, "")[: recommendation.MAX_CHARS["longtext"] + 1]
        texts[f.key] = raw
        values[f.key], problem, notice = recommendation.read_value(f, f.key, raw)
        if problem is not None:
            found.append(problem)
        if notice:
            notices[f.key] = notice
    return values, found, notices, texts


def _evidence(n: Nomination, user: Any) -> list[dict[str, Any]]:
    files = list(n.attachments.filter(deleted_at=None).select_related("uploaded_by"))
    out = []
    for kind, label in services.EVIDENCE_KINDS.items():
        mine = [{"a": a, "deletable": services.may_delete(user, a)} for a in files if a.kind == kind]
        out.append({"kind": kind, "label": label, "files": mine})
    return out


def _page(
    request: HttpRequest,
    n: Nomination,
    *,
    texts: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    by_field: dict[str, str] | None = None,
    notices: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    defn, values = recommendation_docs.values_of(n)
    locked = recommendation.locked(defn, set(n.data_keys))
    is_province = user.role == Role.PROVINCE and user.org_unit_id == n.province_id
    ok, text = services.eligibility(n, n.batch)
    can_edit = is_province and services.editable(n)
    pending = recommendation.problems(defn, values) if services.editable(n) else []
    context = {
        "n": n,
        "county_name": n.county.local_name,
        "sections": form_sections(defn, values, locked, texts=texts, errors=by_field, notices=notices),
        "problems": [
            {
                "id": f"{PREFIX}{(p.location.field or '').split('.')[0]}",
                "label": recommendation.label_of(defn, p.location.field or ""),
                "message": p.message,
            }
            for p in pending
        ],
        "missing_evidence": services.missing_evidence(n) if services.editable(n) else [],
        "errors": errors or [],
        "eligible": ok,
        "eligibility_text": text,
        "can_edit": can_edit,
        "is_province": is_province,
        "ministry": services.is_ministry(user),
        "verdicts": Verdict.choices,
        "history": services.history("nomination", n),
        "form_name": recommendation.FORM_NAME,
        "outdated": n.form_version != str(recommendation.definition().version),
        "form_version": n.form_version,
        "evidence": _evidence(n, user),
        "upload_limit": uploads.limit_text(),
        "accepted": uploads.ALLOWED_TEXT,
        "basic_balance_url": reverse("programme:basic_balance", args=[n.province.code]) + f"#county-{n.county.code}",
    }
    return render(request, "youjun/programme/nomination.html", context, status=status)


@member_required
def nomination(request: HttpRequest, pk: int) -> HttpResponse:
    n = _nomination(request, pk)
    user = _user(request)
    if request.method != "POST":
        return _page(request, n)
    services.require_province(user, n.province)
    back = reverse("programme:nomination", args=[pk])
    defn = recommendation.definition_of(n.form_id, n.form_version)
    locked = recommendation.locked(defn, set(n.data_keys))
    values, found, notices, texts = _posted_values(request, defn, locked)
    labels = {f.key: f.label for f in defn.fields}
    try:
        services.save_form(user, n, values, found)
    except YoujunError as refused:
        if status_of(refused) in (403, 404):
            raise
        if not all(p.location.field for p in refused.problems):
            messages.error(request, message_of(refused))
            return redirect(back)
        labelled = {
            p.location.field or "": recommendation.label_of(defn, p.location.field or "") for p in refused.problems
        }
        errors, by_field = field_errors(refused, labels | labelled, PREFIX)
        return _page(request, n, texts=texts, errors=errors, by_field=by_field, notices=notices, status=400)
    messages.success(request, "推荐表已保存。")
    for key, notice in notices.items():
        messages.info(request, f"「{labels.get(key, key)}」{notice}如不是此意，请修改后再保存。")
    return redirect(back)


NOMINATION_ACTIONS = {
    "withdraw": "已撤回推荐。",
    "resubmit": "已重新报送。",
    "confirm": "已确认。",
    "return": "已退回省级修改。",
    "reject": "已不予确认。",
    "verdicts": "已保存遴选条件核定结论。",
}


def _nomination_confirmation(request: HttpRequest, n: Nomination, action: str, reason: str) -> HttpResponse | None:
    """The confirmation asked before withdrawing, confirming and rejecting; None for the reversible actions."""
    back = reverse("programme:nomination", args=[n.pk])
    county = n.county.local_name
    province = f"{n.province.name}省级教育行政部门"
    if action == "withdraw":
        told = ["教育部"] if n.status == NominationStatus.RETURNED else []
        return confirmation_page(
            request,
            title=f"撤回推荐：{county}",
            action="撤回推荐",
            consequences=[
                f"{county}退出{n.batch.name}推荐名单，释放 1 个推荐名额",
                "推荐表和佐证材料不再报送；如再次推荐该县（区），推荐表需重新填写",
            ],
            notified=told,
            back=back,
            danger=True,
        )
    if action == "confirm":
        return confirmation_page(
            request,
            title=f"确认先行创建县：{county}",
            action="列入先行创建县名单",
            consequences=[
                f"{county}列入{services.list_title(n.batch)}（名单公布后生效）",
                "确认后不能撤销，也不能再退回修改",
            ],
            notified=[province],
            back=back,
        )
    if action == "reject":
        return confirmation_page(
            request,
            title=f"不予确认：{county}",
            action="不予确认",
            consequences=[
                f"不予确认{county}的推荐，理由：{reason}",
                "该县（区）不能在本批次再次推荐，其名额不再占用",
            ],
            notified=[province],
            back=back,
            danger=True,
        )
    return None


@member_required
@require_POST
def nomination_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    n = _nomination(request, pk)
    user = _user(request)
    if action not in NOMINATION_ACTIONS:
        raise Http404("未知的操作")
    reason = _text(request, "reason")[:1000]
    back = reverse("programme:nomination", args=[pk])
    checks: dict[str, Callable[[], Any]] = {
        "withdraw": lambda: services.check_withdraw(user, n),
        "confirm": lambda: services.check_review(user, n, "confirm", reason),
        "reject": lambda: services.check_review(user, n, "reject", reason),
    }
    if action in checks and not confirmed(request):
        try:
            checks[action]()
        except YoujunError as refused:
            if status_of(refused) in (403, 404):
                raise
            messages.error(request, message_of(refused))
            return redirect(back)
        page = _nomination_confirmation(request, n, action, reason)
        if page is not None:
            return page
    calls: dict[str, Callable[[], Any]] = {
        "withdraw": lambda: services.withdraw(user, n, reason),
        "resubmit": lambda: services.resubmit(user, n),
        "verdicts": lambda: services.set_verdicts(
            user, n, request.POST.get("condition1", ""), request.POST.get("condition3", "")
        ),
    }
    call = calls.get(action) or (lambda: services.review(user, n, action, reason))
    return _act(request, call, NOMINATION_ACTIONS[action], back)


@member_required
def nomination_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    n = _nomination(request, pk)
    if fmt not in ("docx", "xlsx"):
        raise Http404("不支持的格式")
    ctype = DOCX if fmt == "docx" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(recommendation_docs.document(n, fmt), content_type=ctype)
    response["Content-Disposition"] = content_disposition(
        recommendation_docs.file_name(n, fmt), f"recommendation-{n.county.code}.{fmt}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


# ----------------------------------------------------------------------------------------------------
# Files: evidence of conditions 1 and 3, and the stamped letter


@programme_upload
@member_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    n = _nomination(request, pk)
    user = _user(request)
    back = reverse("programme:nomination", args=[pk]) + "#evidence"

    def run() -> None:
        services.check_evidence_upload(user, n, kind)
        upload, name, _kind = uploads.checked_upload(request)
        services.add_evidence(user, n, kind, upload, name)

    label = services.EVIDENCE_KINDS.get(kind, "")  # type: ignore[call-overload]  # an unknown kind is refused in run()
    return _act(request, run, f"已上传{label}佐证材料。", back)


def _attachment(request: HttpRequest, pk: int) -> Attachment:
    """A file inside the user's jurisdiction (its county, or the province of a letter); 404 otherwise."""
    a = get_object_or_404(Attachment.objects.select_related("unit", "nomination", "batch"), pk=pk, deleted_at=None)
    if not can_see_unit(_user(request), a.unit):
        raise Http404("未找到该文件")
    return a


@member_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file as an attachment, with the type found when it was checked (never the browser's guess)."""
    a = _attachment(request, pk)
    response = uploads.file_response(a.stored_name, a.content_type, a.original_name)
    if response is None:
        return message_page(request, "文件不存在", "该文件已不在服务器上，请联系上传单位重新上传。", 404)
    return response


@member_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    a = _attachment(request, pk)
    if a.nomination is not None:
        back = reverse("programme:nomination", args=[a.nomination.pk]) + "#evidence"
    else:
        back = reverse("programme:province", args=[a.batch.number, a.unit.code]) + "#sign-off"
    return _act(
        request, lambda: services.delete_attachment(_user(request), a), f"已删除文件「{a.original_name}」。", back
    )
