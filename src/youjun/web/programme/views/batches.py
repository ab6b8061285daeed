"""Batches (the ministry), a province's nominations of a batch with its sign-off, the basic-balance years the
province keeps, and the bulk download of recommendation forms.

Pages only read; every write is a POST. The irreversible moves (opening, closing, publishing a batch; the
province's sign-off) ask for confirmation first, after their own refusals, so nobody confirms what cannot be done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import scoped
from youjun.web.assessment import uploads
from youjun.web.downloads.views import offer
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import downloads, selectors, services
from youjun.web.programme.models import (
    Batch,
    BatchStatus,
    Extension,
    Nomination,
    NominationStatus,
)
from youjun.web.programme.views.common import (
    _act,
    _datetime,
    _int,
    _text,
    _unit,
    _user,
    field_errors,
    located,
    member_required,
    programme_upload,
)
from youjun.web.shortcuts import confirmation_page, confirmed, message_of, message_page, status_of

ZIP = "application/zip"

# ----------------------------------------------------------------------------------------------------
# Batches

BATCH_FIELDS = {
    "name": "批次名称",
    "year": "批次年度",
    "deadline": "推荐截止时间",
    "quota_min": "每省推荐下限",
    "quota_max": "每省推荐上限",
    "min_years": "通过国家基本均衡认定至少（年）",
}


@member_required
def batch_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.require_ministry(user)
    defaults = services.batch_defaults()
    errors: list[dict[str, str]] = []
    by_field: dict[str, str] = {}
    if request.method == "POST":
        posted = {k: request.POST.get(k, "").strip()[:200] for k in BATCH_FIELDS}
        deadline = _datetime(posted["deadline"])
        year, qmin, qmax, years = (_int(posted[k]) for k in ("year", "quota_min", "quota_max", "min_years"))
        try:
            services.check_batch_settings(
                name=posted["name"], year=year, deadline=deadline, quota_min=qmin, quota_max=qmax, min_years=years
            )
            if deadline is None or year is None or qmin is None or qmax is None or years is None:
                raise AssertionError("refused by check_batch_settings")
            created = services.create_batch(
                user,
                name=posted["name"],
                year=year,
                deadline=deadline,
                quota_min=qmin,
                quota_max=qmax,
                min_years=years,
                conditions=defaults.get("conditions", {}),
            )
        except YoujunError as refused:
            if status_of(refused) in (403, 404):
                raise
            errors, by_field = field_errors(refused, BATCH_FIELDS)
        else:
            messages.success(request, f"已创建{created.name}（草稿），确认设置后点击「开始推荐」。")
            return redirect("programme:batch", number=created.number)
        defaults |= posted
    deadline_value = defaults.get("deadline")
    if isinstance(deadline_value, dt.datetime):
        defaults["deadline"] = timezone.localtime(deadline_value).strftime("%Y-%m-%dT%H:%M")
    context = {"d": defaults, "errors": errors, "field_errors": by_field}
    return render(request, "youjun/programme/batch_new.html", context, status=400 if errors else 200)


@member_required
def batch(request: HttpRequest, number: int) -> HttpResponse:
    user = _user(request)
    b = get_object_or_404(Batch, number=number)
    nominations = scoped(b.nominations.select_related("county__parent", "province"), user, "county__code")
    provinces = []
    ministry = services.is_ministry(user)
    if ministry:
        counts = selectors.counts_by(b.nominations.all(), "province__code")
        live = set(services.ACTIVE)
        submitted = {s.province.code: s for s in b.submissions.select_related("province", "letter")}
        extensions = {e.province.code: e for e in b.extensions.select_related("province")}
        for p in OrgUnit.objects.filter(level=Level.PROVINCE).order_by("code"):
            mine = counts.get(p.code, {})
            provinces.append(
                {
                    "unit": p,
                    "used": sum(n for state, n in mine.items() if state in live),
                    "breakdown": selectors.breakdown(mine),
                    "submission": submitted.get(p.code),
                    "extension": extensions.get(p.code),
                }
            )
    today = timezone.localdate()
    context = {
        "b": b,
        "nominations": nominations,
        "breakdown": selectors.breakdown(selectors.counts_by(nominations, "batch_id").get(b.pk, {})),
        "provinces": provinces,
        "ministry": ministry,
        "own_province": user.org_unit if user.role == Role.PROVINCE else None,
        "history": services.history("batch", b),
        "today": today.isoformat(),
        "public_from": b.published_on if b.published_on and b.published_on > today else None,
        "downloadable": nominations.exclude(status=NominationStatus.WITHDRAWN).exists(),
    }
    return render(request, "youjun/programme/batch.html", context)


MOVED = {"open": "已开始推荐。", "close": "已截止推荐。", "publish": "已公布先行创建县名单。"}


def _batch_confirmation(request: HttpRequest, b: Batch, action: str, count: int, day: dt.date) -> HttpResponse:
    """What opening, closing or publishing a batch will do, and who will be told."""
    back = reverse("programme:batch", args=[b.number])
    provinces = len(list(services.users_of(Role.PROVINCE)))
    if action == "open":
        deadline = timezone.localtime(b.deadline)
        return confirmation_page(
            request,
            title=f"开始推荐：{b.name}",
            action="开始推荐",
            consequences=[
                f"批次进入「推荐中」，各省可推荐县（区），截止时间 {deadline:%Y-%m-%d %H:%M}",
                f"每省推荐 {b.quota_min}–{b.quota_max} 个县（区）；遴选条件二：通过国家基本均衡认定满 {b.min_years} 年",
                "开始后不能回到草稿",
            ],
            notified=[f"各省级教育行政部门（{provinces} 个账号）"],
            back=back,
        )
    if action == "close":
        return confirmation_page(
            request,
            title=f"截止推荐：{b.name}",
            action="截止推荐",
            consequences=[
                "各省（包括已同意延期的省份）不能再推荐县（区）或签发报送",
                "已报送和退回修改的推荐可继续审核、修改后重新报送",
            ],
            back=back,
        )
    public = "自今天起" if day <= timezone.localdate() else f"自 {day:%Y-%m-%d} 起"
    return confirmation_page(
        request,
        title=f"公布名单：{services.list_title(b)}",
        action="公布名单",
        consequences=[
            f"公布 {count} 个先行创建县（市、区），公布日期 {day:%Y-%m-%d}；{public}在公开的名单页面和导出文件中可见",
            "公布后不能再审核推荐，也不能修改后重新报送",
            f"{count} 个县（区）成为先行创建县，开始编制创建工作实施方案",
        ],
        notified=[f"各省级教育行政部门（{provinces} 个账号）", f"{count} 个先行创建县（市、区）的县级教育行政部门"],
        back=back,
    )


@member_required
@require_POST
def batch_move(request: HttpRequest, number: int, action: str) -> HttpResponse:
    b = get_object_or_404(Batch, number=number)
    user = _user(request)
    back = reverse("programme:batch", args=[number])
    day = request.POST.get("published_on", "").strip()
    try:
        published_on = dt.date.fromisoformat(day) if day else timezone.localdate()
    except ValueError:
        messages.error(request, f"公布日期「{day[:20]}」不是有效的日期（如 2024-12-20）。")
        return redirect(back)
    try:
        count = services.check_move_batch(user, b, action)
    except YoujunError as refused:
        if status_of(refused) in (403, 404):
            raise
        messages.error(request, message_of(refused))
        return redirect(back)
    if not confirmed(request):
        return _batch_confirmation(request, b, action, count, published_on)
    return _act(request, lambda: services.move_batch(user, b, action, published_on), MOVED[action], back)


# ----------------------------------------------------------------------------------------------------
# A province's nominations of a batch


def _province_context(request: HttpRequest, b: Batch, province: OrgUnit, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    nominations = list(b.nominations.filter(province=province).select_related("county__parent", "batch"))
    is_province = user.role == Role.PROVINCE and user.org_unit_id == province.pk
    submission = services.submission_of(b, province)
    deadline = services.effective_deadline(b, province)
    open_now = b.status == BatchStatus.OPEN and timezone.now() <= deadline
    drafts = [n for n in nominations if n.status == NominationStatus.DRAFT]
    return {
        "b": b,
        "province": province,
        "rows": [{"n": n, "eligibility": services.eligibility(n, b)} for n in nominations],
        "breakdown": selectors.breakdown(
            selectors.counts_by(b.nominations.filter(province=province), "batch_id").get(b.pk, {})
        ),
        "used": services.quota_used(b, province),
        "deadline": deadline,
        "past_deadline": b.status == BatchStatus.OPEN and not open_now,
        "extension": Extension.objects.filter(batch=b, province=province).first(),
        "submission": submission,
        "letter": services.letter_of(b, province) if submission is None else None,
        "is_province": is_province,
        "ministry": services.is_ministry(user),
        "drafts": len(drafts),
        "can_nominate": is_province and open_now and submission is None,
        "can_sign": is_province and open_now and submission is None,
        "candidates": selectors.candidates(b, province) if is_province and open_now and submission is None else [],
        "reminders": selectors.upcoming_deadlines(user),
        "downloadable": any(n.status != NominationStatus.WITHDRAWN for n in nominations),
        "errors": [],
        "field_errors": {},
        "signatory": "",
        "upload_limit": uploads.limit_text(),
        "accepted": uploads.ALLOWED_TEXT,
        **extra,
    }


@member_required
def province_set(request: HttpRequest, number: int, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    return render(request, "youjun/programme/province_set.html", _province_context(request, b, province))


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

    response = _act(request, run, f"已将{county.local_name}加入推荐名单，请完成推荐表。", back)
    return redirect("programme:nomination", pk=created[0].pk) if created else response


@member_required
@require_POST
def submit_set(request: HttpRequest, number: int, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    user = _user(request)
    back = reverse("programme:province", args=[number, code])
    signatory = _text(request, "signatory")
    try:
        sign_off = services.check_submit_set(user, b, province, signatory)
    except YoujunError as refused:
        if status_of(refused) in (403, 404):
            raise
        if located(refused):
            errors, by_field = field_errors(refused, {"signatory": "签发人"})
            context = _province_context(request, b, province, errors=errors, field_errors=by_field, signatory=signatory)
            return render(request, "youjun/programme/province_set.html", context, status=400)
        messages.error(request, message_of(refused))
        return redirect(back)
    if not confirmed(request):
        names = "、".join(n.county.local_name for n in sign_off.drafts)
        return confirmation_page(
            request,
            title=f"签发并报送教育部：{province.name}{b.name}推荐",
            action="签发并报送教育部",
            consequences=[
                f"报送 {len(sign_off.drafts)} 个县（市、区）：{names}",
                f"签发人：{sign_off.signatory}；随附盖章扫描件「{sign_off.letter.original_name}」",
                "报送后推荐表不能再修改（教育部退回修改的除外），本批次不能再增加推荐县（区），盖章扫描件不能更换",
            ],
            notified=["教育部"],
            back=back,
        )
    return _act(request, lambda: services.submit_set(user, b, province, signatory), "已签发并报送教育部。", back)


@programme_upload
@member_required
@require_POST
def letter_upload(request: HttpRequest, number: int, code: str) -> HttpResponse:
    """The stamped letter (盖章扫描件) the sign-off is sent under, checked like the assessment's evidence."""
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    user = _user(request)
    back = reverse("programme:province", args=[number, code]) + "#sign-off"

    def run() -> None:
        services.check_letter_upload(user, b, province)
        upload, name, _kind = uploads.checked_upload(request)
        services.add_letter(user, b, province, upload, name)

    return _act(request, run, "已上传盖章扫描件。", back)


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
# The basic-balance years the province keeps

BASIC_BALANCE_FIELDS = {"county": "县（市、区）", "year": "认定年份", "document": "认定文件", "reason": "修改理由"}


@member_required
def basic_balance(request: HttpRequest, code: str) -> HttpResponse:
    """The province's record of the year each county passed national basic balance (condition 2 reads it)."""
    province = _unit(request, code, Level.PROVINCE)
    user = _user(request)
    is_province = user.role == Role.PROVINCE and user.org_unit_id == province.pk
    errors: list[dict[str, str]] = []
    by_field: dict[str, str] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        services.require_province(user, province)
        posted = {k: _text(request, k)[:200] for k in BASIC_BALANCE_FIELDS}
        county = OrgUnit.objects.filter(code=posted["county"], level=Level.COUNTY).select_related("parent").first()
        try:
            if county is None or not county.code.startswith(province.prefix):
                raise YoujunError.single("form_invalid", f"请从列表中选择{province.name}的县（市、区）", field="county")
            changed = services.set_basic_balance(
                user, county, _int(posted["year"]), posted["document"], posted["reason"]
            )
        except YoujunError as refused:
            if status_of(refused) in (403, 404):
                raise
            if not located(refused):
                messages.error(request, message_of(refused))
                return redirect("programme:basic_balance", code=code)
            errors, by_field = field_errors(refused, BASIC_BALANCE_FIELDS, "bb-")
        else:
            what = f"已登记{county.local_name}通过国家基本均衡认定年份：{posted['year']} 年。"
            messages.success(request, what if changed else "认定年份没有变化。")
            return redirect(reverse("programme:basic_balance", args=[code]) + f"#county-{county.code}")
    context = {
        "province": province,
        "groups": selectors.basic_balance_rows(province),
        "is_province": is_province,
        "errors": errors,
        "field_errors": by_field,
        "posted": posted,
        "history": selectors.basic_balance_history(province),
        "this_year": timezone.localdate().year,
    }
    return render(request, "youjun/programme/basic_balance.html", context, status=400 if errors else 200)


# ----------------------------------------------------------------------------------------------------
# Every recommendation form in one download


@member_required
@require_http_methods(["GET", "POST"])
def province_forms(request: HttpRequest, number: int, code: str) -> HttpResponse:
    """The province's recommendation forms of the batch as one .zip of Word files, prepared in the background."""
    province = _unit(request, code, Level.PROVINCE)
    b = get_object_or_404(Batch, number=number)
    count = downloads.forms_of(_user(request), b, province.code).count()
    if not count:
        raise Http404("没有可下载的推荐表")
    return offer(
        request,
        downloads.FORMS_KIND,
        {"number": b.number, "province": province.code},
        title=f"{province.name}{b.name}推荐表.zip",
        fallback=f"forms-{b.number}-{code}.zip",
        content_type=ZIP,
        heading=f"打包下载{province.name}{b.name}推荐表",
        description=f"共 {count} 份推荐表（Word），每县一份，文件名为「省市县推荐表.docx」。",
        back=reverse("programme:province", args=[b.number, province.code]),
    )


@member_required
@require_http_methods(["GET", "POST"])
def batch_forms(request: HttpRequest, number: int) -> HttpResponse:
    """Every recommendation form of the batch in the user's jurisdiction (the ministry: all) as one .zip."""
    b = get_object_or_404(Batch, number=number)
    count = downloads.forms_of(_user(request), b).count()
    if not count:
        return message_page(request, "没有可下载的推荐表", f"{b.name}中没有您管辖范围内的推荐。", 404)
    return offer(
        request,
        downloads.FORMS_KIND,
        {"number": b.number},
        title=f"{b.name}推荐表.zip",
        fallback=f"forms-{b.number}.zip",
        content_type=ZIP,
        heading=f"打包下载{b.name}推荐表",
        description=f"共 {count} 份推荐表（Word，您管辖范围内未撤回的推荐），每县一份。",
        back=reverse("programme:batch", args=[b.number]),
    )
