"""County pages of the survey (the anonymous answering page is in ``answer``).

Access rules, enforced in every view:

* a login is required; school accounts get **403** (the survey asks about their school, they do not run it);
* a county or campaign outside the user's jurisdiction answers **404** (its existence is not revealed);
* only county accounts of the campaign's own county change anything (create, quotas, open/close, links); the levels
  above and viewers read progress, results, the integrity panel and the state history and download exports; any
  other write answers **403**.

A state move another official made first answers **409** with a Chinese conflict message (``services.transition``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit, is_ministry, scoped
from youjun.web.organisation.models import Level, OrgUnit, School
from youjun.web.rulesets import services as rulesets
from youjun.web.shortcuts import absolute_url, confirmation_page, confirmed, user_of
from youjun.web.survey import exports, services
from youjun.web.survey.forms import CampaignForm, LinksForm, QuotaForm, add_problems, error_summary
from youjun.web.survey.models import Campaign, CampaignAction, CampaignStatus, Link, LinkKind, Response
from youjun.web.survey.questionnaires import ordered_groups

View = Callable[..., HttpResponse]
SCHOOL_REFUSED = "学校账号不能查看或管理社会认可度调查：调查由县级教育行政部门组织。"
READ_ONLY = "只有本县（区）教育行政部门的账号可以管理本县的调查；上级部门和只读账号可以查看进度和结果。"
MESSAGE = "youjun/survey/message.html"


def _refuse(request: HttpRequest, message: str, status: int = 403, title: str = "无权操作") -> HttpResponse:
    return render(request, MESSAGE, {"title": title, "message": message}, status=status)


def survey_user_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if user_of(request).role == Role.SCHOOL:
            return _refuse(request, SCHOOL_REFUSED, title="无权查看")
        return view(request, *args, **kwargs)

    return wrapped


def _user(request: HttpRequest) -> User:
    return user_of(request)


def _manages(user: User, county: OrgUnit, campaign: Campaign | None = None) -> bool:
    """The county manages its own campaigns; a national campaign (organised by the ministry for the national
    recognition) is managed by the ministry alone — never by the county it assesses."""
    if campaign is not None and services.is_national(campaign):
        return is_ministry(user)
    return user.role == Role.COUNTY and user.org_unit_id == county.pk


def _county(request: HttpRequest, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code, level=Level.COUNTY).first()
    if unit is None or not can_see_unit(_user(request), unit):
        raise Http404("未找到该县（区）")
    return unit


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign = scoped(Campaign.objects.select_related("county"), _user(request), "county__code").filter(pk=pk).first()
    if campaign is None:
        raise Http404("未找到该调查")
    return campaign


def _groups(campaign: Campaign) -> dict[str, str]:
    return {g: spec["name"] for g, spec in ordered_groups(campaign.questionnaire)}


# ----------------------------------------------------------------------------------------------------
# Lists and creation


@survey_user_required
def index(request: HttpRequest) -> HttpResponse:
    """County accounts go to their county; the levels above see the campaigns of their jurisdiction."""
    user = _user(request)
    if user.role == Role.COUNTY and user.org_unit is not None:
        return redirect("survey:county", code=user.org_unit.code)
    campaigns = scoped(Campaign.objects.select_related("county__parent"), user, "county__code").order_by(
        "-year", "county__code", "-id"
    )[:500]
    rows = [(c, services.county_label(c.county)) for c in campaigns]
    return render(request, "youjun/survey/index.html", {"campaigns": rows})


@survey_user_required
def county(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    unit = _county(request, code)
    manages = _manages(user, unit)
    standard = rulesets.ref_for(unit, timezone.localdate().year)
    if request.method == "POST":
        if not manages:
            return _refuse(request, READ_ONLY)
        form = CampaignForm(request.POST, standard=standard)
        if form.is_valid():
            data = form.cleaned_data
            campaign = services.create_campaign(
                unit,
                data["year"],
                data["title"],
                data["population"],
                form.quotas(),
                user,
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
            )
            messages.success(request, "调查已创建（草稿）：生成链接后即可开始调查。")
            return redirect("survey:campaign", pk=campaign.pk)
        status = 400
    else:
        population = _int(request.GET.get("population"))
        initial = {
            "title": f"{unit.name}{_year(request)}年义务教育优质均衡发展社会认可度调查",
            "population": population,
        }
        initial |= {f"quota_{g}": n for g, n in services.initial_quotas(population, standard).items()}
        form = CampaignForm(initial=initial, standard=standard)
        status = 200
    campaigns = Campaign.objects.filter(county=unit).order_by("-year", "-id")
    qr_links = dict(
        Link.objects.filter(campaign__county=unit, kind=LinkKind.OPEN)
        .values_list("campaign")
        .annotate(n=Count("id"))
        .order_by()
    )
    rules = services.rules_for(standard)
    context = {
        "county": unit,
        "campaigns": [(c, qr_links.get(c.pk, 0)) for c in campaigns],
        "form": form if manages else None,
        "errors": error_summary(form, "campaign-form", "新建调查") if manages and form.is_bound else [],
        "year": _year(request),
        "rules": rules,
        "parents_min_share_text": services.share_text(rules.parents_min_share),
    }
    return render(request, "youjun/survey/county.html", context, status=status)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _year(request: HttpRequest) -> int:
    year = _int(request.POST.get("year") or request.GET.get("year"))
    return year if year and 2000 <= year <= 2100 else timezone.localdate().year


# ----------------------------------------------------------------------------------------------------
# One campaign: progress, results, actions


@survey_user_required
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _refuse(request, "请使用页面上的按钮操作。", status=405, title="不支持的请求")
    c = _campaign(request, pk)
    return _campaign_page(request, c)


def _campaign_page(
    request: HttpRequest,
    c: Campaign,
    quota_form: QuotaForm | None = None,
    status: int = 200,
    links_form: LinksForm | None = None,
) -> HttpResponse:
    user = _user(request)
    manages = _manages(user, c.county, c)
    progress = services.progress(c)
    groups = _groups(c)
    link_counts = {(kind, group): n for kind, group, n in _link_counts(c)}
    used = _used_single(c)
    if manages and quota_form is None and c.status != CampaignStatus.CLOSED:
        initial = {"population": c.population} | {f"quota_{g}": c.quotas.get(g, 0) for g in groups}
        quota_form = QuotaForm(initial=initial, standard=_standard(c), groups=groups)
    questions = _question_rows(c, progress)
    events = services.history(c)
    prot = services.protection(c.questionnaire)
    schools = School.objects.filter(county=c.county).order_by("school_id").only("school_id", "name")
    open_schools = (
        Link.objects.filter(campaign=c, kind=LinkKind.OPEN)
        .values_list("school__school_id", "school__name")
        .distinct()
        .order_by("school__school_id")
    )
    if manages and links_form is None and c.status != CampaignStatus.CLOSED:
        links_form = LinksForm(groups=groups)
    errors = []
    if quota_form is not None and quota_form.is_bound:
        errors += error_summary(quota_form, "quota-form", "样本数")
    if links_form is not None and links_form.is_bound:
        errors += error_summary(links_form, "links-form", "一次性链接")
    context = {
        "c": c,
        "manages": manages,
        "progress": progress,
        "rules": progress.rules,
        "result": progress.result,
        "groups": groups,
        "single_links": [
            (g, name, link_counts.get((LinkKind.SINGLE, g), 0), used.get(g, 0)) for g, name in groups.items()
        ],
        "quota_form": quota_form if manages else None,
        "links_form": links_form if manages and c.status != CampaignStatus.CLOSED else None,
        "errors": errors,
        "without_qr": len({s.pk for s in services.survey_schools(c)} - _schools_with_qr(c)),
        "questions": questions,
        "schools": schools if manages else [],
        "open_schools": list(open_schools),
        "integrity": services.integrity(c),
        "allowance_share_text": services.share_text(float(prot["answers_allowance_share"])),
        "allowance_min": int(prot["answers_allowance_min"]),
        "events": events,
        "seen": events[-1].pk if events else 0,
        "max_reason": services.MAX_REASON,
    }
    return render(request, "youjun/survey/campaign.html", context, status=status)


def _schools_with_qr(c: Campaign) -> set[int]:
    return set(
        Link.objects.filter(campaign=c, kind=LinkKind.OPEN, school__isnull=False).values_list("school_id", flat=True)
    )


def _link_counts(c: Campaign) -> list[tuple[str, str, int]]:
    return list(Link.objects.filter(campaign=c).values_list("kind", "group").annotate(n=Count("id")).order_by())


def _used_single(c: Campaign) -> dict[str, int]:
    rows = Response.objects.filter(campaign=c, channel=LinkKind.SINGLE).values_list("group").annotate(n=Count("id"))
    return dict(rows.order_by())


def _standard(c: Campaign) -> str:
    return services.campaign_standard(c)


def _question_rows(c: Campaign, progress: services.Progress) -> list[dict[str, Any]]:
    """Per-question breakdown with the question texts of the snapshot, in questionnaire order."""
    stats = {(r["group"], r["question"]): r for r in progress.result.by_question.iter_rows(named=True)}
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in progress.result.answer_counts.iter_rows(named=True):
        counts.setdefault((r["group"], r["question"]), {})[r["answer"]] = r["n"]
    scale = c.questionnaire["scale"]
    rows = []
    for g, spec in ordered_groups(c.questionnaire):
        for q in spec["questions"]:
            s = stats.get((g, q["id"]), {})
            per = counts.get((g, q["id"]), {})
            rows.append(
                {
                    "group": spec["name"],
                    "id": q["id"],
                    "text": q["text"],
                    "counts": [per.get(a, 0) for a in scale],
                    "valid": s.get("valid", 0),
                    "positive": s.get("positive", 0),
                    "rate": services.pct(s.get("rate"), progress.decimals),
                }
            )
    return rows


def _write_access(request: HttpRequest, pk: int) -> tuple[Campaign | None, HttpResponse | None]:
    """The campaign for a write, or the refusal (404 outside the jurisdiction, 403 read-only)."""
    c = _campaign(request, pk)
    if not _manages(_user(request), c.county, c):
        return None, _refuse(request, READ_ONLY)
    return c, None


@survey_user_required
@require_POST
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """Open, close or reopen (reason required); the move is applied only from the state the page showed."""
    c, refusal = _write_access(request, pk)
    if c is None:
        return refusal  # type: ignore[return-value]  # no campaign: then a refusal
    action = request.POST.get("action", "")
    if action == CampaignAction.OPEN and c.status == CampaignStatus.CLOSED:
        action = CampaignAction.REOPEN  # the button of a closed campaign
    if action not in services.MOVES:
        return _refuse(request, "不支持的操作。", status=400, title="操作无效")
    if action == CampaignAction.OPEN and not Link.objects.filter(campaign=c).exists():
        messages.error(request, "请先生成一次性链接或学校二维码，再开始调查。")
        return redirect("survey:campaign", pk=c.pk)
    seen = _int(request.POST.get("seen"))
    if action == CampaignAction.CLOSE and not confirmed(request):
        try:
            services.check_move(c, action, seen)  # a stale page is told so before it is asked to confirm
        except YoujunError as exc:
            return _refuse(request, exc.problems[0].message, status=409, title="操作冲突")
        return _close_confirmation(request, c)
    try:
        services.transition(c, action, _user(request), request.POST.get("reason", ""), seen=seen)
    except YoujunError as exc:
        if exc.problems[0].code == "survey.state_conflict":
            return _refuse(request, exc.problems[0].message, status=409, title="操作冲突")
        messages.error(request, exc.problems[0].message)
        return redirect("survey:campaign", pk=c.pk)
    done = {
        CampaignAction.OPEN: "调查已开始，链接和二维码现在可以作答。",
        CampaignAction.CLOSE: "调查已结束，结果已计入评估。",
        CampaignAction.REOPEN: "调查已重新开始：结束前，社会认可度按“数据不足”处理。",
    }
    messages.success(request, done[CampaignAction(action)])
    return redirect("survey:campaign", pk=c.pk)


def _close_confirmation(request: HttpRequest, c: Campaign) -> HttpResponse:
    """Ending a campaign decides S1 of the county-year: what it will count, and a warning below the valid-return
    minimum (S1 then stays 数据不足)."""
    progress = services.progress(c)
    counted = (
        f"计入 {c.year} 年度评估的答卷：有效问卷 {progress.valid_returns:,} 份，计划样本 {c.quota_total:,} 份，"
        f"有效回收率 {progress.valid_return_text}；"
        f"社会认可度 {progress.rate_text}（要求不低于 {progress.threshold_text}）。"
    )
    consequences = ["调查结束：一次性链接和学校二维码不再接受作答（重新开始须填写原因，并记入状态记录）。", counted]
    if progress.return_shortfall:
        consequences.insert(
            0,
            f"注意：{progress.return_shortfall}。结束后社会认可度（S1）为「数据不足」，不作达标判定；"
            f"如需判定，请继续收集答卷，使有效回收率不低于 {progress.valid_return_min_text} 后再结束。",
        )
    else:
        verdict = {"met": "达标", "not_met": "未达标"}.get(progress.decision, "数据不足")
        consequences.append(f"结束后社会认可度（S1）判定为「{verdict}」。")
    consequences.append(f"{c.county.name} {c.year} 年度评估结果随即重新计算，上级部门看到的结果随之更新。")
    return confirmation_page(
        request,
        title="结束调查（有效回收率不足）" if progress.return_shortfall else "结束调查",
        action="结束调查",
        consequences=consequences,
        back=reverse("survey:campaign", args=[c.pk]),
        danger=bool(progress.return_shortfall),
    )


@survey_user_required
@require_POST
def quotas(request: HttpRequest, pk: int) -> HttpResponse:
    c, refusal = _write_access(request, pk)
    if c is None:
        return refusal  # type: ignore[return-value]  # no campaign: then a refusal
    if c.status == CampaignStatus.CLOSED:
        return _refuse(request, "调查已结束，不能再修改样本数。", status=400, title="操作无效")
    form = QuotaForm(request.POST, standard=_standard(c), groups=_groups(c))
    if not form.is_valid():
        return _campaign_page(request, c, quota_form=form, status=400)
    try:
        services.save_quotas(c, form.cleaned_data["population"], form.quotas())
    except YoujunError as exc:
        add_problems(form, exc)
        return _campaign_page(request, c, quota_form=form, status=400)
    messages.success(request, "样本数已保存。")
    return redirect("survey:campaign", pk=c.pk)


@survey_user_required
@require_POST
def links(request: HttpRequest, pk: int) -> HttpResponse:
    c, refusal = _write_access(request, pk)
    if c is None:
        return refusal  # type: ignore[return-value]  # no campaign: then a refusal
    if c.status == CampaignStatus.CLOSED:
        messages.error(request, "调查已结束，不能再生成一次性链接。")
        return redirect("survey:campaign", pk=c.pk)
    groups = _groups(c)
    form = LinksForm(request.POST, groups=groups)
    if not form.is_valid():
        return _campaign_page(request, c, links_form=form, status=400)
    group, count = form.cleaned_data["group"], form.cleaned_data["count"]
    try:
        services.check_link_cap(c, group, count)  # refused before the official is asked to confirm
        if not confirmed(request):
            return _links_confirmation(request, c, groups[group], count)
        n = services.generate_links(c, group, count)
    except YoujunError as exc:
        add_problems(form, exc)
        return _campaign_page(request, c, links_form=form, status=400)
    messages.success(request, f"已生成 {n} 个一次性链接，可下载链接清单（Excel）分发。")
    return redirect("survey:campaign", pk=c.pk)


def _links_confirmation(request: HttpRequest, c: Campaign, name: str, count: int) -> HttpResponse:
    group = request.POST.get("group", "")
    have = services.single_links(c, group)
    return confirmation_page(
        request,
        title=f"生成 {count:,} 个{name}一次性链接",
        action="生成链接",
        consequences=[
            f"新生成 {count:,} 个{name}一次性链接（已有 {have:,} 个，上限 {services.link_cap(c, group):,} 个）。",
            "链接生成后不能删除或作废：每个链接可提交一份问卷，请只发给本次调查的对象，并妥善保管链接清单。",
            "生成的链接计入该类对象的链接上限；如需更多，须先调整样本数。",
        ],
        back=reverse("survey:campaign", args=[c.pk]),
    )


@survey_user_required
@require_POST
def school_links(request: HttpRequest, pk: int) -> HttpResponse:
    c, refusal = _write_access(request, pk)
    if c is None:
        return refusal  # type: ignore[return-value]  # no campaign: then a refusal
    school = School.objects.filter(county=c.county, school_id=request.POST.get("school", "")).first()
    if school is None or c.status == CampaignStatus.CLOSED:
        messages.error(request, "请选择本县（区）的学校（已结束的调查不能再生成二维码）。")
        return redirect("survey:campaign", pk=c.pk)
    services.open_links(c, school, list(_groups(c)))
    return redirect(f"{reverse('survey:qr_sheet', args=[c.pk])}?school={school.school_id}")


@survey_user_required
@require_POST
def all_school_links(request: HttpRequest, pk: int) -> HttpResponse:
    """The QR codes of every school of the county (every group), then the printable document of them all."""
    c, refusal = _write_access(request, pk)
    if c is None:
        return refusal  # type: ignore[return-value]  # no campaign: then a refusal
    if c.status == CampaignStatus.CLOSED:
        messages.error(request, "调查已结束，不能再生成二维码。")
        return redirect("survey:campaign", pk=c.pk)
    created = services.open_links_for_all(c)
    messages.success(request, f"已为全县（区）学校生成二维码（新增 {created} 个，已有的保持不变）。")
    return redirect("survey:qr_sheet", pk=c.pk)


@survey_user_required
def qr_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable A4 sheets: one per open link (school × group), the QR code as inline SVG carrying the public
    address (``absolute_url``). Without ``?school=`` it is the county's whole document: every school and group,
    each on its own printed page, and the schools that have no QR code yet listed on screen."""
    c = _campaign(request, pk)
    found = Link.objects.filter(campaign=c, kind=LinkKind.OPEN).select_related("school").order_by("school__school_id")
    school_id = request.GET.get("school")
    if school_id:
        found = found.filter(school__school_id=school_id)
    group = request.GET.get("group")
    if group:
        found = found.filter(group=group)
    groups = _groups(c)
    order = list(groups)
    sheets = []
    for link in sorted(
        found, key=lambda x: (x.school.school_id if x.school else "", order.index(x.group) if x.group in order else 99)
    ):
        url = absolute_url(request, reverse("survey:answer", args=[link.token]))
        svg = segno.make(url, error="m").svg_inline(
            omitsize=True, title=f"{groups.get(link.group, link.group)}问卷二维码"
        )
        sheets.append(
            {"link": link, "url": url, "group": groups.get(link.group, link.group), "svg": mark_safe(svg)}
        )  # segno SVG, no user text
    whole = not school_id and not group
    with_qr = _schools_with_qr(c)
    missing = [s for s in services.survey_schools(c) if s.pk not in with_qr] if whole else []
    context = {
        "c": c,
        "sheets": sheets,
        "whole": whole,
        "schools": len({link.school_id for link in found}),
        "missing": missing,
        "manages": _manages(_user(request), c.county, c) and c.status != CampaignStatus.CLOSED,
    }
    return render(request, "youjun/survey/qr_sheet.html", context)


@survey_user_required
def links_export(request: HttpRequest, pk: int) -> HttpResponse:
    c = _campaign(request, pk)
    if not _manages(_user(request), c.county, c):
        return _refuse(request, "一次性链接只有调查的组织单位可以下载。")
    base = absolute_url(request, reverse("survey:answer", args=["TOKEN"])).removesuffix("TOKEN/")
    return exports.links_xlsx(c, base)


@survey_user_required
def responses_export(request: HttpRequest, pk: int) -> HttpResponse:
    return exports.responses_xlsx(_campaign(request, pk))
