"""Batches (the ministry) and nominations with the recommendation form (the provinces, reviewed by the ministry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import scoped
from youjun.web.exports import content_disposition
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import recommendation, services
from youjun.web.programme.models import (
    BasicBalance,
    Batch,
    Extension,
    Nomination,
    NominationStatus,
    ProvinceSubmission,
    Verdict,
)
from youjun.web.programme.views.common import (
    DOCX,
    MAX_TEXT,
    _act,
    _datetime,
    _int,
    _nomination,
    _text,
    _unit,
    _user,
    member_required,
)
from youjun.web.shortcuts import message_of

# ----------------------------------------------------------------------------------------------------
# Batches


@member_required
def batch_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.require_ministry(user)
    defaults = services.batch_defaults()
    if request.method == "POST":
        deadline = _datetime(request.POST.get("deadline", ""))
        numbers = [_int(request.POST.get(k)) for k in ("year", "quota_min", "quota_max", "min_years")]
        if deadline is None or any(n is None for n in numbers):
            messages.error(request, "请完整填写批次年度、推荐截止时间、名额上下限和基本均衡认定年限。")
        else:
            year, qmin, qmax, years = (int(n) for n in numbers)  # type: ignore[arg-type]  # none is None here
            try:
                created = services.create_batch(
                    user,
                    name=_text(request, "name"),
                    year=year,
                    deadline=deadline,
                    quota_min=qmin,
                    quota_max=qmax,
                    min_years=years,
                    conditions=defaults.get("conditions", {}),
                )
            except YoujunError as refused:
                messages.error(request, message_of(refused))
            else:
                messages.success(request, f"已创建{created.name}（草稿），确认设置后点击「开始推荐」。")
                return redirect("programme:batch", number=created.number)
        defaults |= {k: request.POST.get(k, "") for k in ("name", "year", "quota_min", "quota_max", "min_years")}
    deadline = defaults.get("deadline")
    if isinstance(deadline, dt.datetime):
        defaults["deadline"] = timezone.localtime(deadline).strftime("%Y-%m-%dT%H:%M")
    return render(request, "youjun/programme/batch_new.html", {"d": defaults})


@member_required
def batch(request: HttpRequest, number: int) -> HttpResponse:
    user = _user(request)
    b = get_object_or_404(Batch, number=number)
    nominations = scoped(b.nominations.select_related("county", "province"), user, "county__code")
    provinces = []
    if services.is_ministry(user):
        counts = dict(
            b.nominations.filter(status__in=services.ACTIVE).values_list("province__code").annotate(n=Count("pk"))
        )
        submitted = {s.province.code: s for s in b.submissions.select_related("province")}
        extensions = {e.province.code: e for e in b.extensions.select_related("province")}
        for p in OrgUnit.objects.filter(level=Level.PROVINCE).order_by("code"):
            provinces.append(
                {
                    "unit": p,
                    "used": counts.get(p.code, 0),
                    "submission": submitted.get(p.code),
                    "extension": extensions.get(p.code),
                }
            )
    context = {
        "b": b,
        "nominations": nominations,
        "provinces": provinces,
        "ministry": services.is_ministry(user),
        "own_province": user.org_unit if user.role == Role.PROVINCE else None,
        "history": services.history("batch", b),
        "today": timezone.localdate().isoformat(),
    }
    return render(request, "youjun/programme/batch.html", context)


@member_required
@require_POST
def batch_move(request: HttpRequest, number: int, action: str) -> HttpResponse:
    b = get_object_or_404(Batch, number=number)
    day = request.POST.get("published_on", "")
    try:
        published_on = dt.date.fromisoformat(day) if day else None
    except ValueError:
        published_on = None
    labels = {"open": "已开始推荐", "close": "已截止推荐", "publish": "已公布先行创建县名单"}
    back = reverse("programme:batch", args=[number])
    return _act(
        request, lambda: services.move_batch(_user(request), b, action, published_on), labels.get(action, ""), back
    )


@member_required
def province_set(request: HttpRequest, number: int, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    user = _user(request)
    nominations = list(b.nominations.filter(province=province).select_related("county"))
    taken = {n.county_id for n in nominations if n.status != NominationStatus.WITHDRAWN}
    candidates = []
    years = dict(
        BasicBalance.objects.filter(county__code__startswith=province.prefix).values_list("county__code", "year")
    )
    for c in OrgUnit.objects.filter(level=Level.COUNTY, code__startswith=province.prefix).exclude(pk__in=taken):
        ok, _ = services.eligibility(years.get(c.code), b)
        candidates.append({"unit": c, "year": years.get(c.code), "ok": ok})
    rows = [{"n": n, "eligibility": services.eligibility(n, b)} for n in nominations]
    context = {
        "b": b,
        "province": province,
        "rows": rows,
        "candidates": candidates,
        "used": services.quota_used(b, province),
        "deadline": services.effective_deadline(b, province),
        "extension": Extension.objects.filter(batch=b, province=province).first(),
        "submission": ProvinceSubmission.objects.filter(batch=b, province=province).first(),
        "is_province": user.role == Role.PROVINCE and user.org_unit_id == province.pk,
        "ministry": services.is_ministry(user),
        "drafts": sum(1 for n in nominations if n.status == NominationStatus.DRAFT),
    }
    return render(request, "youjun/programme/province_set.html", context)


@member_required
@require_POST
def nominate(request: HttpRequest, number: int, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    back = reverse("programme:province", args=[number, code])
    services.require_province(_user(request), province)
    county = OrgUnit.objects.filter(code=request.POST.get("county", ""), level=Level.COUNTY).first()
    if county is None or not county.code.startswith(province.prefix):
        messages.error(request, f"只能推荐{province.name}的县（区），请从列表中选择。")
        return redirect(back)
    created: list[Nomination] = []

    def run() -> None:
        created.append(services.nominate(_user(request), b, county))

    response = _act(request, run, f"已将{county.name}加入推荐名单，请完成推荐表。", back)
    return redirect("programme:nomination", pk=created[0].pk) if created else response


@member_required
@require_POST
def submit_set(request: HttpRequest, number: int, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    back = reverse("programme:province", args=[number, code])
    return _act(
        request,
        lambda: services.submit_set(_user(request), b, province, _text(request, "signatory")),
        "已签发并报送教育部。",
        back,
    )


@member_required
@require_POST
def extension(request: HttpRequest, number: int, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    services.require_ministry(_user(request))
    deadline = _datetime(request.POST.get("deadline", ""))
    back = reverse("programme:province", args=[number, code])
    if deadline is None:
        messages.error(request, "请填写延期后的截止时间。")
        return redirect(back)
    return _act(
        request,
        lambda: services.grant_extension(_user(request), b, province, deadline, _text(request, "reason")),
        f"已同意{province.name}延期。",
        back,
    )


# ----------------------------------------------------------------------------------------------------
# Nominations and the recommendation form


KINDS = {
    "longtext": "textarea",
    "choice": "select",
    "multichoice": "multi",
    "int": "number",
    "year": "number",
    "number": "number",
    "percent": "number",
    "date": "date",
    "table": "table",
}


def _table(f: Any, value: Any) -> dict[str, Any]:
    """A table field for display: header, then one row per fixed row (or per item)."""
    rows = value if isinstance(value, list) else []
    labels = [r.label for r in f.rows] or [str(i + 1) for i in range(len(rows))]
    body = []
    for i, label in enumerate(labels):
        cells = rows[i] if i < len(rows) and isinstance(rows[i], dict) else {}
        body.append([label, *(recommendation.display(c, cells.get(c.key)) or "—" for c in f.columns)])
    return {"head": [f.row_header or "项目", *(c.label for c in f.columns)], "body": body}


def form_sections(defn: Any, values: dict[str, Any], locked: set[str]) -> list[dict[str, Any]]:
    """The definition's sections and fields, each with its widget, value and whether the data fix it."""
    sections = []
    for section in defn.sections:
        fields = []
        for f in section.fields:
            value = values.get(f.key)
            kind = KINDS.get(f.type, "text")
            shown = value * 100 if f.type == "percent" and isinstance(value, int | float) else value
            fields.append(
                {
                    "key": f.key,
                    "label": f.caption + ("（%）" if f.type == "percent" else ""),
                    "kind": kind,
                    "type": f.type,
                    "required": f.required,
                    "note": f.note,
                    "choices": list(f.choices),
                    "value": "" if shown is None else shown,
                    "values": [str(v) for v in value] if isinstance(value, list) else [],
                    "display": recommendation.display(f, value),
                    "table": _table(f, value) if f.type == "table" else None,
                    "locked": f.key in locked or f.type == "table",
                    "step": "1" if f.type in ("int", "year") else "any",
                }
            )
        sections.append({"title": section.title, "note": section.note, "fields": fields})
    return sections


def _posted_values(request: HttpRequest, defn: Any, locked: set[str]) -> dict[str, Any]:
    """The editable fields as posted, typed (numbers as numbers, percent back to a fraction, lists for
    multichoice); a value that does not parse is kept as typed so validation names the field."""
    values: dict[str, Any] = {}
    for f in defn.fields:
        if f.key in locked or f.type == "table":
            continue
        name = f"f-{f.key}"
        if f.type == "multichoice":
            values[f.key] = [v[:200] for v in request.POST.getlist(name) if v in f.choices]
            continue
        raw = request.POST.get(name, "").strip()[:MAX_TEXT]
        if not raw:
            values[f.key] = None
        elif f.type in ("int", "year"):
            values[f.key] = _int(raw) if _int(raw) is not None else raw
        elif f.type in ("number", "percent"):
            try:
                values[f.key] = float(raw) / (100 if f.type == "percent" else 1)
            except ValueError:
                values[f.key] = raw
        else:
            values[f.key] = raw
    return values


@member_required
def nomination(request: HttpRequest, pk: int) -> HttpResponse:
    n = _nomination(request, pk)
    user = _user(request)
    defn = recommendation.definition_of(n.form_id, n.form_version)
    locked = recommendation.locked(defn, set(n.data_keys))
    if request.method == "POST":
        services.require_province(user, n.province)
        back = reverse("programme:nomination", args=[pk])
        return _act(
            request,
            lambda: services.save_form(user, n, _posted_values(request, defn, locked)),
            "推荐表已保存。",
            back,
        )
    is_province = user.role == Role.PROVINCE and user.org_unit_id == n.province_id
    ok, text = services.eligibility(n, n.batch)
    context = {
        "n": n,
        "sections": form_sections(defn, n.values, locked),
        "problems": recommendation.problems(defn, n.values) if services.editable(n) else [],
        "eligible": ok,
        "eligibility_text": text,
        "can_edit": is_province and services.editable(n),
        "is_province": is_province,
        "ministry": services.is_ministry(user),
        "verdicts": Verdict.choices,
        "history": services.history("nomination", n),
        "form_version": f"{n.form_id} 第 {n.form_version} 版",
        "current_version": f"{recommendation.FORM_ID} 第 {recommendation.definition().version} 版",
    }
    return render(request, "youjun/programme/nomination.html", context)


NOMINATION_ACTIONS = {
    "withdraw": "已撤回推荐。",
    "resubmit": "已重新报送。",
    "confirm": "已确认。",
    "return": "已退回省级修改。",
    "reject": "已不予确认。",
    "verdicts": "已保存遴选条件核定结论。",
}


@member_required
@require_POST
def nomination_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    n = _nomination(request, pk)
    user = _user(request)
    if action not in NOMINATION_ACTIONS:
        raise Http404("未知的操作")
    reason = _text(request, "reason")
    calls: dict[str, Callable[[], Any]] = {
        "withdraw": lambda: services.withdraw(user, n, reason),
        "resubmit": lambda: services.resubmit(user, n),
        "verdicts": lambda: services.set_verdicts(
            user, n, request.POST.get("condition1", ""), request.POST.get("condition3", "")
        ),
    }
    call = calls.get(action) or (lambda: services.review(user, n, action, reason))
    return _act(request, call, NOMINATION_ACTIONS[action], reverse("programme:nomination", args=[pk]))


@member_required
def nomination_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    n = _nomination(request, pk)
    if fmt not in ("docx", "xlsx"):
        raise Http404("不支持的格式")
    defn = recommendation.definition_of(n.form_id, n.form_version)
    content = recommendation.docx(defn, n.values) if fmt == "docx" else recommendation.xlsx(defn, n.values)
    ctype = DOCX if fmt == "docx" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=ctype)
    response["Content-Disposition"] = content_disposition(
        f"{n.county.name}推荐表.{fmt}", f"recommendation-{n.county.code}.{fmt}"
    )
    response["Cache-Control"] = "private, no-store"
    return response
