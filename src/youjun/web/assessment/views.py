"""The assessment's writes: the county's inputs form and import, the chapters it writes for its self-evaluation
report, evidence uploads and downloads, reviewers' verdicts and veto findings (the page that shows them all:
``evaluation.assessment_views``).

Access rules (enforced in every view):

* login required; school accounts get 403 (they enter school data, they do not evaluate);
* the county in the URL must lie inside the user's jurisdiction (``can_see_unit``), else 404 — the same answer as
  for a code that does not exist, so nothing outside the jurisdiction is revealed;
* an evidence file is served only to the owning county's users and the levels above (same rule, by its county);
* writes: the county's own users type inputs, write the report's chapters and upload evidence; reviewers above the
  county give verdicts and findings (``services.is_county_user`` / ``services.is_reviewer``); everyone else gets
  403.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from youjun.contract import Column
from youjun.errors import YoujunError
from youjun.formatting import count
from youjun.io.documents.chapters import CHAPTERS, MAX_CHARS, PLACES, Chapter, clean_text
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.assessment import services, uploads
from youjun.web.assessment.models import EVIDENCE_ITEMS, VETO_ITEMS, Evidence
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.shortcuts import user_of
from youjun.web.uploads import body_limited

View = Callable[..., HttpResponseBase]
SCHOOL_REFUSED = "学校账号用于填报本校数据，不能查看综合评估。综合评估由县级及以上教育行政部门查看。"
UNAVAILABLE = "暂不可用：该文档的生成功能尚未部署，请稍后再试或联系系统管理员。"


def _message(request: HttpRequest, title: str, message: str, status: int, back: str = "") -> HttpResponse:
    context = {"title": title, "message": message, "back": back}
    return render(request, "youjun/assessment/message.html", context, status=status)


def _user(request: HttpRequest) -> User:
    return user_of(request)


def evaluator_required(view: View) -> View:
    """Login required; school accounts are refused with 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if _user(request).role == Role.SCHOOL:
            return _message(request, "无权查看", SCHOOL_REFUSED, 403)
        return view(request, *args, **kwargs)

    return wrapped


def _county_or_404(user: User, code: str, year: int) -> OrgUnit:
    if not 2000 <= year <= 2100:
        raise Http404("年度不正确")
    county = OrgUnit.objects.filter(code=code, level=Level.COUNTY).first()
    if county is None or not can_see_unit(user, county):
        raise Http404("未找到该县（区）")
    return county


def _page_url(county: OrgUnit, year: int, anchor: str = "") -> str:
    return reverse("assessment:county", args=[county.code, year]) + (f"#{anchor}" if anchor else "")


def _refused(request: HttpRequest, exc: YoujunError, back: str) -> HttpResponse:
    """A write the services refused: 403 for permissions, otherwise the messages and back to the page."""
    if any(p.code == "forbidden" for p in exc.problems):
        return _message(request, "无权执行此操作", exc.problems[0].message, 403, back)
    for p in exc.problems[:8]:
        messages.error(request, p.message)
    return redirect(back)


def _text(request: HttpRequest, name: str, limit: int = services.MAX_TEXT) -> str:
    return request.POST.get(name, "").strip()[:limit]


# ---------------------------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@dataclass
class _Field:
    column: Column
    value: str
    errors: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        unit = self.column.unit
        return "" if not unit or f"({unit})" in self.column.header else unit

    @property
    def inputmode(self) -> str:
        return {"int": "numeric", "year": "numeric", "number": "decimal"}.get(self.column.kind, "text")


def _render_inputs(
    request: HttpRequest,
    unit: OrgUnit,
    year: int,
    *,
    posted: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    version: int | None = None,
    reason: str = "",
    conflict: list[tuple[str, str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    inputs = services.inputs_of(unit, year)
    saved = inputs.values if inputs else {}
    values = posted if posted is not None else {k: _shown(saved.get(k)) for k in services.FORM_KEYS}
    errors = errors or {}
    fields = [_Field(c, values.get(c.key, ""), errors.get(c.key, [])) for c in services.FORM_COLUMNS]
    changes = inputs.changes.select_related("actor")[:200] if inputs else []
    headers = {c.key: c.header for c in services.FORM_COLUMNS}
    context = {
        "county": unit,
        "year": year,
        "fields": fields,
        "editable": services.is_county_user(_user(request), unit),
        "version": version if version is not None else (inputs.version if inputs else 1),
        "inputs": inputs,
        "reason": reason,
        "conflict": conflict,
        "changes": [
            {
                "at": c.at,
                "actor": c.actor,
                "field": headers.get(c.field, c.field),
                "old": _shown(c.old),
                "new": _shown(c.new),
                "reason": c.reason,
            }
            for c in changes
        ],
    }
    return render(request, "youjun/assessment/inputs.html", context, status=status)


@evaluator_required
@require_http_methods(["GET", "POST"])
def inputs(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The county's ``县级指标`` form: the county edits, the levels above read."""
    user = _user(request)
    unit = _county_or_404(user, code, year)
    if request.method == "GET":
        return _render_inputs(request, unit, year)
    if not services.is_county_user(user, unit):
        return _message(request, "无权执行此操作", "只有本县（区）教育行政部门可以填写县级指标。", 403)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "表单已失效，请刷新页面后重新填写。")
        return redirect("assessment:inputs", code=code, year=year)
    raw = {k: request.POST.get(k, "").strip()[:200] for k in services.FORM_KEYS}
    reason = _text(request, "reason", 500)
    try:
        result = services.save_inputs(user, unit, year, raw, version, reason)
    except YoujunError as exc:
        codes = {p.code for p in exc.problems}
        if "forbidden" in codes:
            return _message(request, "无权执行此操作", exc.problems[0].message, 403)
        if "conflict" in codes:
            latest = services.inputs_of(unit, year)
            theirs = {k: _shown((latest.values if latest else {}).get(k)) for k in services.FORM_KEYS}
            diff = [(c.header, raw[c.key], theirs[c.key]) for c in services.FORM_COLUMNS if raw[c.key] != theirs[c.key]]
            messages.error(request, exc.problems[0].message)
            latest_version = latest.version if latest else 1
            return _render_inputs(
                request, unit, year, posted=raw, version=latest_version, reason=reason, conflict=diff, status=409
            )
        errors: dict[str, list[str]] = {}
        for p in exc.problems:
            errors.setdefault(p.location.field or "", []).append(p.message)
        messages.error(request, f"未保存：有 {len(exc.problems)} 处需要修改，请查看标红的字段。")
        return _render_inputs(
            request, unit, year, posted=raw, errors=errors, version=version, reason=reason, status=400
        )
    messages.success(request, f"已保存，修改了 {result.changed} 项。" if result.changed else "已保存，数据没有变化。")
    return redirect("assessment:inputs", code=code, year=year)


def _refuse_large_import(request: HttpRequest, kwargs: Any) -> HttpResponse:
    back = reverse("assessment:inputs", args=[kwargs["code"], kwargs["year"]])
    return uploads.refuse_too_large(request, back)


@body_limited(lambda: int(settings.YOUJUN_MAX_UPLOAD_BYTES), _refuse_large_import)
@evaluator_required
@require_POST
def inputs_import(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Fill the county inputs from the ``县级指标`` sheet of an uploaded workbook (the same checks as the form)."""
    user = _user(request)
    unit = _county_or_404(user, code, year)
    if not services.is_county_user(user, unit):
        return _message(request, "无权执行此操作", "只有本县（区）教育行政部门可以导入县级指标。", 403)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的文件。")
        return redirect("assessment:inputs", code=code, year=year)
    try:
        version = int(request.POST.get("version", ""))
        result = services.import_inputs(user, unit, year, upload.name or "", upload.read(), version)
    except ValueError:
        messages.error(request, "表单已失效，请刷新页面后重新导入。")
    except YoujunError as exc:
        if any(p.code == "forbidden" for p in exc.problems):
            return _message(request, "无权执行此操作", exc.problems[0].message, 403)
        for p in exc.problems[:20]:
            where = "，".join(
                x
                for x in (p.location.sheet, f"第 {p.location.row} 行" if p.location.row else "", p.location.column)
                if x
            )
            messages.error(request, f"{where}：{p.message}" if where else p.message)
        messages.error(request, "导入未完成，县级指标没有任何改动。")
    else:
        messages.success(request, f"已从文件导入，修改了 {result.changed} 项。")
    return redirect("assessment:inputs", code=code, year=year)


# ---------------------------------------------------------------------------------------------------------------
# The county's chapters of its self-evaluation report


@dataclass
class _Chapter:
    chapter: Chapter
    text: str
    shown: str  # the digest of the text the form shows as stored
    place: str
    saved: Any = None  # the stored row, for who changed it last and when
    errors: list[str] = field(default_factory=list)
    theirs: str | None = None  # what someone else saved meanwhile (a conflict)

    @property
    def length_text(self) -> str:
        """Characters as they will be counted against the cap."""
        return count(len(clean_text(self.text)))


def _render_narrative(
    request: HttpRequest,
    unit: OrgUnit,
    year: int,
    *,
    posted: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflicts: frozenset[str] = frozenset(),
    status: int = 200,
) -> HttpResponse:
    stored = services.narratives_of(unit, year)
    chapters = []
    for c in CHAPTERS:
        row = stored.get(c.key)
        saved = row.text if row is not None else ""
        text = posted[c.key] if posted is not None else saved
        theirs = saved if c.key in conflicts else None
        # a refused chapter keeps the user's words and the digest of what was shown to them, except after a
        # conflict: then the form shows the latest save's digest, so saving again deliberately replaces it
        shown = services.digest(saved) if posted is None or c.key in conflicts else request.POST.get(f"shown-{c.key}")
        chapters.append(
            _Chapter(c, text, str(shown or ""), PLACES[c.place], row, (errors or {}).get(c.key, []), theirs)
        )
    context = {
        "county": unit,
        "year": year,
        "chapters": chapters,
        "editable": services.is_county_user(_user(request), unit),
        "max_chars": count(MAX_CHARS),
    }
    return render(request, "youjun/assessment/narrative.html", context, status=status)


@evaluator_required
@require_http_methods(["GET", "POST"])
def narrative(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The chapters the county writes for its self-evaluation report: the county edits, the levels above read."""
    user = _user(request)
    unit = _county_or_404(user, code, year)
    if request.method == "GET":
        return _render_narrative(request, unit, year)
    if not services.is_county_user(user, unit):
        return _message(request, "无权执行此操作", "只有本县（区）教育行政部门可以撰写自评报告章节。", 403)
    texts = {c.key: request.POST.get(c.key, "") for c in CHAPTERS}
    shown = {c.key: request.POST.get(f"shown-{c.key}", "") for c in CHAPTERS}
    try:
        saved = services.save_narrative(user, unit, year, texts, shown)
    except YoujunError as exc:
        codes = {p.code for p in exc.problems}
        if "stale_form" in codes:
            messages.error(request, exc.problems[0].message)
            return redirect("assessment:narrative", code=code, year=year)
        errors: dict[str, list[str]] = {}
        for p in exc.problems:
            errors.setdefault(p.location.field or "", []).append(p.message)
        conflicts = frozenset(p.location.field or "" for p in exc.problems if p.code == "conflict")
        messages.error(request, f"未保存：有 {len(exc.problems)} 个章节需要处理，请查看标红的章节。")
        posted = {c.key: texts[c.key] for c in CHAPTERS}
        return _render_narrative(
            request, unit, year, posted=posted, errors=errors, conflicts=conflicts, status=409 if conflicts else 400
        )
    titles = "、".join(f"「{c.title}」" for c in CHAPTERS if c.key in saved)
    messages.success(request, f"已保存{titles}。" if saved else "已保存，内容没有变化。")
    return redirect("assessment:narrative", code=code, year=year)


# ---------------------------------------------------------------------------------------------------------------
# Evidence


@uploads.evidence_upload
@evaluator_required
@require_POST
def evidence_upload(request: HttpRequest, code: str, year: int, item: str) -> HttpResponse:
    user = _user(request)
    unit = _county_or_404(user, code, year)
    if item not in (*EVIDENCE_ITEMS, *VETO_ITEMS):
        raise Http404("没有该指标")
    back = _page_url(unit, year, f"evidence-{item}")
    if not services.may_upload(user, unit, item):
        return _message(request, "无权执行此操作", "只有本县（区）可以上传该指标的佐证材料。", 403, back)
    try:
        upload, name, _kind = uploads.checked_upload(request)
        evidence = services.add_evidence(user, unit, year, item, upload, name)
    except YoujunError as exc:
        for p in exc.problems:
            messages.error(request, f"{item} 上传失败：{p.message}")
        return redirect(back)
    messages.success(request, f"已上传 {item} 佐证材料「{evidence.original_name}」。")
    return redirect(back)


def _evidence_or_404(user: User, pk: int) -> Evidence:
    evidence = get_object_or_404(Evidence.objects.select_related("county", "uploaded_by"), pk=pk, deleted_at=None)
    if not can_see_unit(user, evidence.county):
        raise Http404("未找到该文件")
    return evidence


@evaluator_required
@require_GET
def evidence_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file as an attachment, with the type found by sniffing (never the browser's guess)."""
    evidence = _evidence_or_404(_user(request), pk)
    response = uploads.file_response(evidence.stored_name, evidence.content_type, evidence.original_name)
    if response is None:
        return _message(request, "文件不存在", "该佐证材料的文件已不在服务器上，请联系上传单位重新上传。", 404)
    return response


@evaluator_required
@require_POST
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    evidence = _evidence_or_404(user, pk)
    back = _page_url(evidence.county, evidence.year, f"evidence-{evidence.item}")
    try:
        services.delete_evidence(user, evidence)
    except YoujunError as exc:
        return _refused(request, exc, back)
    messages.success(request, f"已删除佐证材料「{evidence.original_name}」。")
    return redirect(back)


# ---------------------------------------------------------------------------------------------------------------
# Verdicts and findings


@evaluator_required
@require_POST
def review(request: HttpRequest, code: str, year: int, item: str) -> HttpResponse:
    user = _user(request)
    unit = _county_or_404(user, code, year)
    if item not in EVIDENCE_ITEMS:
        raise Http404("没有该指标")
    back = _page_url(unit, year, f"evidence-{item}")
    try:
        result = services.add_review(user, unit, year, item, _text(request, "verdict", 8), _text(request, "comment"))
    except YoujunError as exc:
        return _refused(request, exc, back)
    messages.success(request, f"已记录 {item} 审核结论：{result.verdict}。")
    return redirect(back)


@evaluator_required
@require_POST
def finding(request: HttpRequest, code: str, year: int, veto: str) -> HttpResponse:
    user = _user(request)
    unit = _county_or_404(user, code, year)
    if veto not in VETO_ITEMS:
        raise Http404("没有该事项")
    back = _page_url(unit, year, f"vetoes/{veto}")
    try:
        result = services.add_finding(
            user,
            unit,
            year,
            veto,
            _text(request, "found", 8),
            _text(request, "source", 8),
            _text(request, "evidence"),
        )
    except YoujunError as exc:
        return _refused(request, exc, back)
    messages.success(request, f"已记录 {veto} 核查结论：{result.found}。")
    return redirect(back)


# ---------------------------------------------------------------------------------------------------------------
# Downloads
