"""Pages of the creation programme (先行创建).

Access: every page but the published list and the typical-experience library requires a login; school accounts
take no part (403). An object is placed by its county or province code: outside the user's jurisdiction it is a
404 (its existence does not leak). Inside, whether the user's role may act is decided by ``services`` (403 page
with a Chinese message); a refusal because of the object's state, a quota or a deadline comes back as a message on
the object's page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

import polars as pl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from youjun.io.workbook import Table
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit, scoped
from youjun.web.exports import content_disposition, xlsx_response
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import recommendation, selectors, services
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import (
    BasicBalance,
    Batch,
    BatchStatus,
    Experience,
    Extension,
    Nomination,
    NominationStatus,
    Notification,
    PlanStatus,
    ProgressReport,
    ProvinceSubmission,
    ReportStatus,
    TaskStatus,
    Verdict,
)
from youjun.web.programme.services import Refused

View = Callable[..., HttpResponse]
SCHOOL_REFUSED = "学校账号用于填报本校数据，不参与先行创建工作。"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_TEXT = 4000


def message_page(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "youjun/programme/message.html", {"title": title, "message": message}, status=status)


def member_required(view: View) -> View:
    """Login required; school accounts refused; a ``Refused`` with 403/404 becomes a Chinese page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.role == Role.SCHOOL:  # type: ignore[union-attr]
            return message_page(request, "无权访问", SCHOOL_REFUSED, 403)
        try:
            return view(request, *args, **kwargs)
        except Refused as refused:
            if refused.status == 404:
                return message_page(request, "未找到", refused.message, 404)
            return message_page(request, "无权执行此操作", refused.message, 403)

    return wrapped


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _unit(request: HttpRequest, code: str, level: str) -> OrgUnit:
    """The unit with this code and level inside the user's jurisdiction, else 404."""
    unit = OrgUnit.objects.filter(code=code, level=level).first()
    if unit is None or not can_see_unit(_user(request), unit):
        raise Http404("不存在或不在管辖范围内")
    return unit


def _nomination(request: HttpRequest, pk: int) -> Nomination:
    n = get_object_or_404(Nomination.objects.select_related("batch", "county", "province"), pk=pk)
    if not can_see_unit(_user(request), n.county):
        raise Http404("不存在或不在管辖范围内")
    return n


def _act(request: HttpRequest, action: Callable[[], Any], success: str, back: str) -> HttpResponse:
    """Run a transition; a state/quota/deadline refusal becomes an error message, a role refusal a 403 page."""
    try:
        action()
    except Refused as refused:
        if refused.status in (403, 404):
            raise
        messages.error(request, refused.message)
    else:
        messages.success(request, success)
    return redirect(back)


def _text(request: HttpRequest, name: str) -> str:
    return request.POST.get(name, "").strip()[:MAX_TEXT]


def _datetime(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------------
# Overviews


@member_required
def index(request: HttpRequest) -> HttpResponse:
    """Each role's start page: province and county users go to their own workspace."""
    user = _user(request)
    if user.role == Role.PROVINCE and user.org_unit:
        return redirect("programme:province_dashboard", code=user.org_unit.code)
    if user.role == Role.COUNTY and user.org_unit:
        return redirect("programme:county", code=user.org_unit.code)
    services.remind_deadlines(user)
    rows = selectors.pilot_rows(selectors.pilots(user))
    pending = scoped(Nomination.objects.filter(status=NominationStatus.SUBMITTED), user, "county__code")
    reports = scoped(ProgressReport.objects.filter(status=ReportStatus.FORWARDED), user, "county__code")
    context = {
        "batches": Batch.objects.annotate(n=Count("nominations")),
        "groups": selectors.by_province(rows),
        "rows": rows,
        "ready": [r for r in rows if r.ready],
        "pending": pending.select_related("county", "batch")[:50],
        "reports": reports.select_related("county")[:20],
        "ministry": services.is_ministry(user),
    }
    return render(request, "youjun/programme/index.html", context)


@member_required
def province_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    user = _user(request)
    services.remind_deadlines(user)
    batches = []
    for b in Batch.objects.exclude(status=BatchStatus.DRAFT):
        batches.append(
            {
                "batch": b,
                "used": services.quota_used(b, province),
                "deadline": services.effective_deadline(b, province),
                "submitted": ProvinceSubmission.objects.filter(batch=b, province=province).first(),
            }
        )
    pilots = selectors.pilots(user).filter(province=province)
    rows = selectors.pilot_rows(pilots)
    context = {
        "province": province,
        "batches": batches,
        "rows": rows,
        "plans": [r.plan for r in rows if r.plan and r.plan.status == PlanStatus.SUBMITTED],
        "reports": ProgressReport.objects.filter(
            county__code__startswith=province.prefix, status=ReportStatus.SUBMITTED
        ).select_related("county"),
        "is_province": user.role == Role.PROVINCE and user.org_unit_id == province.pk,
    }
    return render(request, "youjun/programme/province_dashboard.html", context)


@member_required
def county(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    nominations = Nomination.objects.filter(county=unit).select_related("batch").order_by("-batch__number")
    pilot = services.pilot_of(unit)
    plan = getattr(pilot, "plan", None) if pilot else None
    context = {
        "county": unit,
        "nominations": nominations,
        "pilot": pilot,
        "plan": plan,
        "reports": ProgressReport.objects.filter(county=unit),
        "trend": selectors.trend(unit, pilot.batch.year - 1) if pilot else [],
        "is_county": _user(request).role == Role.COUNTY and _user(request).org_unit_id == unit.pk,
    }
    return render(request, "youjun/programme/county.html", context)


def notifications_for(user: User) -> Any:
    return Notification.objects.filter(user=user)


@member_required
def notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.remind_deadlines(user)
    if request.method == "POST":
        notifications_for(user).filter(read=False).update(read=True)
        messages.success(request, "已全部标记为已读。")
        return redirect("programme:notifications")
    items = list(notifications_for(user)[:200])
    return render(request, "youjun/programme/notifications.html", {"items": items})


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
            year, qmin, qmax, years = (int(n) for n in numbers)  # type: ignore[arg-type]
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
            except Refused as refused:
                messages.error(request, refused.message)
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


# ----------------------------------------------------------------------------------------------------
# The published list (public)


def _published() -> list[dict[str, Any]]:
    out = []
    for b in Batch.objects.filter(status=BatchStatus.PUBLISHED).order_by("number"):
        confirmed = b.nominations.filter(status=NominationStatus.CONFIRMED).select_related("county", "province")
        groups: dict[str, dict[str, Any]] = {}
        for n in confirmed.order_by("province__code", "county__code"):
            groups.setdefault(n.province.code, {"province": n.province, "counties": []})["counties"].append(n.county)
        out.append({"batch": b, "provinces": list(groups.values()), "total": confirmed.count()})
    return out


def public_list(request: HttpRequest) -> HttpResponse:
    return render(request, "youjun/programme/public.html", {"published": _published()})


def public_export(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "batch": p["batch"].name,
            "published": p["batch"].published_on.isoformat() if p["batch"].published_on else "",
            "province": g["province"].name,
            "county": c.name,
            "code": c.code,
        }
        for p in _published()
        for g in p["provinces"]
        for c in g["counties"]
    ]
    frame = pl.DataFrame(rows, schema={k: pl.String for k in ("batch", "published", "province", "county", "code")})
    headers = {
        "batch": "批次",
        "published": "公布日期",
        "province": "省份",
        "county": "县（市、区）",
        "code": "行政区划代码",
    }
    table = Table("先行创建县名单", frame, headers, title="义务教育优质均衡先行创建县（市、区）名单")
    return xlsx_response([table], "先行创建县名单.xlsx", "pilot-counties.xlsx")


def experiences(request: HttpRequest) -> HttpResponse:
    """The library of typical experiences (典型经验) the ministry published, filterable by tackling item."""
    items = catalogue().by_code()
    chosen = request.GET.get("item", "")
    qs = Experience.objects.filter(published=True).select_related("county")
    if chosen in items:
        qs = qs.filter(item=chosen)
    rows = [{"e": e, "item": items.get(e.item)} for e in qs[:200]]
    context = {"rows": rows, "groups": catalogue().groups, "chosen": chosen}
    return render(request, "youjun/programme/experiences.html", context)


# ----------------------------------------------------------------------------------------------------
# Plans


def _years(plan: Any) -> list[int]:
    start = plan.nomination.batch.year + 1
    end = max(plan.target_year or start + 2, start)
    return list(range(start, min(end, start + 5) + 1))


def _target_labels() -> list[tuple[str, str]]:
    labels = [("units_passed_share", "学校（学段）达标比例（%）")]
    for stage, name in recommendation.STAGES.items():
        labels += [(f"cv_{stage}_{c}", f"{name}{c}差异系数") for c in recommendation.INDICATORS]
    return labels


@member_required
def plan(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    user = _user(request)
    p = services.plan_for(user, unit) if user.role == Role.COUNTY else _existing_plan(unit)
    if request.method == "POST":
        services.require_county(user, unit)
        return _act(request, lambda: _save_plan(request, p), "实施方案已保存。", reverse("programme:plan", args=[code]))
    years = _years(p)
    targets = [
        {"key": k, "label": label, "cells": [(y, (p.targets.get(k) or {}).get(str(y), "")) for y in years]}
        for k, label in _target_labels()
    ]
    chosen = set(p.items)
    context = {
        "p": p,
        "county": unit,
        "years": years,
        "targets": targets,
        "groups": [{"g": g, "items": [(i, i.code in chosen) for i in g.items]} for g in catalogue().groups],
        "basic": catalogue().basic,
        "tasks": list(p.tasks.all()),
        "task_codes": [("", "自定任务"), *[(i.code, i.label) for i in catalogue().items if i.code in chosen]],
        "statuses": TaskStatus.choices,
        "blank": range(3),
        "can_edit": user.role == Role.COUNTY and user.org_unit_id == unit.pk and p.status in ("draft", "returned"),
        "is_province": user.role == Role.PROVINCE
        and unit.code.startswith(user.org_unit.prefix if user.org_unit else "-"),
        "problems": services.plan_problems(p),
        "history": services.history("plan", p),
    }
    return render(request, "youjun/programme/plan.html", context)


def _existing_plan(unit: OrgUnit) -> Any:
    pilot = services.pilot_of(unit)
    p = getattr(pilot, "plan", None) if pilot else None
    if p is None:
        raise Refused(f"{unit.name}尚未编制创建工作实施方案。", 404)
    return p


def _save_plan(request: HttpRequest, p: Any) -> None:
    post = request.POST
    targets: dict[str, dict[str, float]] = {}
    for key, _label in _target_labels():
        for y in range(p.nomination.batch.year + 1, p.nomination.batch.year + 20):
            raw = post.get(f"t-{key}-{y}", "").strip()
            if raw:
                try:
                    targets.setdefault(key, {})[str(y)] = float(raw)
                except ValueError:
                    raise Refused(f"指标目标应为数字：{raw}") from None
    tasks = []
    for t in p.tasks.all():
        tasks.append(
            {
                "pk": t.pk,
                "owner": post.get(f"owner-{t.pk}", t.owner)[:100],
                "milestone": _date(post.get(f"milestone-{t.pk}", "")),
                "evidence": post.get(f"evidence-{t.pk}", "")[:MAX_TEXT],
                "status": post.get(f"status-{t.pk}", t.status)
                if post.get(f"status-{t.pk}") in TaskStatus.values
                else t.status,
            }
        )
    for i in range(3):
        title = post.get(f"new-title-{i}", "").strip()[:200]
        if title:
            tasks.append(
                {
                    "code": post.get(f"new-code-{i}", "")[:8],
                    "title": title,
                    "owner": post.get(f"new-owner-{i}", "")[:100],
                    "milestone": _date(post.get(f"new-milestone-{i}", "")),
                    "evidence": post.get(f"new-evidence-{i}", "")[:MAX_TEXT],
                }
            )
    services.save_plan(
        _user(request),
        p,
        target_year=_int(post.get("target_year")),
        targets=targets,
        items=post.getlist("items"),
        summary=post.get("summary", "")[:MAX_TEXT],
        tasks=tasks,
    )


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@member_required
@require_POST
def plan_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    p = _existing_plan(unit)
    labels = {"submit": "实施方案已报省级审核。", "accept": "实施方案已审核通过。", "return": "实施方案已退回修改。"}
    back = reverse("programme:plan", args=[code])
    return _act(
        request,
        lambda: services.move_plan(_user(request), p, action, _text(request, "reason")),
        labels.get(action, ""),
        back,
    )


# ----------------------------------------------------------------------------------------------------
# Progress reports


@member_required
def report_new(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    user = _user(request)
    services.require_county(user, unit)
    p = _existing_plan(unit)
    items = catalogue().by_code()
    tasks = list(p.tasks.all())
    if request.method == "POST":
        post = request.POST
        task_status = {
            str(t.pk): {
                "status": post.get(f"status-{t.pk}", t.status)
                if post.get(f"status-{t.pk}") in TaskStatus.values
                else t.status,
                "note": post.get(f"note-{t.pk}", "")[:1000],
            }
            for t in tasks
        }
        exp = [
            {
                "item": code_,
                "title": post.get(f"exp-title-{code_}", "").strip()[:200],
                "text": post.get(f"exp-text-{code_}", "").strip()[:MAX_TEXT],
            }
            for code_ in p.items
            if post.get(f"exp-text-{code_}", "").strip()
        ]
        for e in exp:
            e["title"] = e["title"] or items[e["item"]].name if e["item"] in items else e["title"]
        try:
            created = services.create_report(
                user, p, _text(request, "period"), _text(request, "summary"), task_status, exp
            )
        except Refused as refused:
            if refused.status in (403, 404):
                raise
            messages.error(request, refused.message)
        else:
            messages.success(request, "进展报告已保存，确认无误后请报送省级。")
            return redirect("programme:report", pk=created.pk)
    context = {
        "p": p,
        "county": unit,
        "tasks": tasks,
        "statuses": TaskStatus.choices,
        "items": [items[c] for c in p.items if c in items],
        "trend": selectors.trend(unit, p.nomination.batch.year - 1),
    }
    return render(request, "youjun/programme/report_new.html", context)


def _report(request: HttpRequest, pk: int) -> ProgressReport:
    r = get_object_or_404(ProgressReport.objects.select_related("county", "plan__nomination__batch"), pk=pk)
    user = _user(request)
    if not can_see_unit(user, r.county):
        raise Http404("不存在或不在管辖范围内")
    if services.is_ministry(user) and r.status not in (ReportStatus.FORWARDED,):
        raise Refused("该进展报告尚未由省级转报教育部。", 404)
    return r


@member_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    r = _report(request, pk)
    user = _user(request)
    tasks = {str(t.pk): t for t in r.plan.tasks.all()}
    items = catalogue().by_code()
    context = {
        "r": r,
        "tasks": [
            (tasks.get(k), v, TaskStatus(v["status"]).label if v.get("status") in TaskStatus.values else "")
            for k, v in r.task_status.items()
        ],
        "experiences": [(e, items.get(e.item)) for e in r.experiences.all()],
        "trend": selectors.trend(r.county, r.plan.nomination.batch.year - 1),
        "is_county": user.role == Role.COUNTY and user.org_unit_id == r.county_id,
        "is_province": user.role == Role.PROVINCE
        and r.county.code.startswith(user.org_unit.prefix if user.org_unit else "-"),
        "ministry": services.is_ministry(user),
        "history": services.history("report", r),
    }
    return render(request, "youjun/programme/report.html", context)


@member_required
@require_POST
def report_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    r = _report(request, pk)
    labels = {"submit": "进展报告已报送省级。", "forward": "进展报告已转报教育部。", "return": "进展报告已退回。"}
    return _act(
        request,
        lambda: services.move_report(_user(request), r, action, _text(request, "reason")),
        labels.get(action, ""),
        reverse("programme:report", args=[pk]),
    )


@member_required
@require_POST
def experience_publish(request: HttpRequest, pk: int) -> HttpResponse:
    e = get_object_or_404(Experience.objects.select_related("report", "county"), pk=pk)
    if not can_see_unit(_user(request), e.county):
        raise Http404("不存在或不在管辖范围内")
    services.require_ministry(_user(request))
    publish = request.POST.get("publish", "1") == "1"
    return _act(
        request,
        lambda: services.publish_experience(_user(request), e, publish),
        "已发布为典型经验。" if publish else "已撤销典型经验。",
        reverse("programme:report", args=[e.report_id]),
    )
