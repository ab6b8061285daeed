"""The recognition's pages: the overview (rounds, cases, what waits, overdue findings), a round (its cases, experts,
publication), a case (its steps as its procedure file names them, the current step's form and outcomes, files,
findings, history), a finding (rectification and verification), and the public list of recognised counties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from youjun.errors import YoujunError
from youjun.io.documents.rectification import rectification_docx
from youjun.io.workbook import Table
from youjun.standards.procedures import ACTORS, NEEDS
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import is_ministry
from youjun.web.assessment import uploads
from youjun.web.exports import xlsx_response
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.recognition import selectors, services
from youjun.web.recognition.models import Case, CaseFile, CaseState, FileKind, FindingStatus, Round
from youjun.web.shortcuts import (
    act_then,
    evaluator_required,
    message_page,
    problem_messages,
    status_of,
    unit_or_404,
    user_of,
    version_of,
    year_from,
)
from youjun.web.uploads import body_limited

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _too_large(request: HttpRequest, kwargs: Mapping[str, Any]) -> HttpResponse:
    back = reverse("recognition:case", args=[kwargs["pk"]]) if "pk" in kwargs else ""
    return uploads.refuse_too_large(request, back)


#: Cases listed on a round's page (the rest through the filters: a province, a step).
CASES_SHOWN = 300

recognition_upload = body_limited(uploads.limit_bytes, _too_large, uploads.keep_names)


def _round_too_large(request: HttpRequest, kwargs: Mapping[str, Any]) -> HttpResponse:
    return uploads.refuse_too_large(request, reverse("recognition:round", args=[kwargs["pk"]]))


round_upload = body_limited(uploads.limit_bytes, _round_too_large)


# ----------------------------------------------------------------------------------------------------
# Overview and rounds


@evaluator_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    rounds = list(selectors.rounds_for(user)[:50])
    cases = list(selectors.cases_for(user).order_by("-round__year", "county__code")[:500])
    county = user.org_unit if user.role == Role.COUNTY and user.org_unit else None
    mine = {c.round_id: c for c in cases if county is not None and c.county_id == county.pk}
    experts = list(User.objects.filter(role=Role.EXPERT).order_by("username")[:200]) if is_ministry(user) else []
    context = {
        "title": "国家认定与复查",
        "rounds": [(r, mine.get(r.pk)) for r in rounds],
        "cases": [(c, services.current_step(c)) for c in cases],
        "county": county,
        "pending": selectors.pending_for(user),
        "overdue": selectors.overdue_findings(user),
        "is_ministry": is_ministry(user),
        "experts": experts,
        "this_year": timezone.localdate().year,
        "new_expert": request.session.pop("recognition_new_expert", None),
    }
    return render(request, "youjun/recognition/index.html", context)


@evaluator_required
@require_POST
def round_new(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if not is_ministry(user):
        raise YoujunError.single("forbidden", "认定批次由教育部开设。")
    kind = "recheck" if request.POST.get("kind") == "recheck" else "recognition"
    year = year_from(request.POST.get("year"), 0)
    if not year:
        messages.error(request, "请填写年度。")
        return redirect("recognition:index")
    made: list[Round] = []
    back = act_then(request, lambda: made.append(services.open_round(user, kind, year, request.POST.get("name", ""))),
                reverse("recognition:index"), "已开设批次。")  # fmt: skip
    return redirect("recognition:round", made[0].pk) if made else back


@evaluator_required
@require_GET
def round_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    r = selectors.round_for(user, pk)
    procedure = services.procedure_of(r)
    visible = selectors.cases_for(user).filter(round=r)
    province = str(request.GET.get("province", ""))[:2]
    step_key = str(request.GET.get("step", ""))[:40]
    shown = visible
    if province.isdigit() and len(province) == 2:
        shown = shown.filter(county__code__startswith=province)
    if procedure.step(step_key) is not None:
        shown = shown.filter(step=step_key, state=CaseState.OPEN)
    total = shown.count()
    cases = list(shown.order_by("county__code").prefetch_related("assignments__expert")[:CASES_SHOWN])
    recognised = []
    if r.kind == "recheck" and (user.role == Role.PROVINCE or is_ministry(user)):
        from youjun.web.accounts.scoping import visible_units

        scheduled = set(Case.objects.filter(round=r).values_list("county_id", flat=True))
        candidates = visible_units(user).filter(level=Level.COUNTY, recognition_cases__state=CaseState.RECOGNISED)
        found = [u for u in candidates.distinct().order_by("code")[:500] if u.pk not in scheduled]
        counts = selectors.warning_counts(found)
        recognised = [(u, counts.get(u.pk, 0)) for u in found]
    context = {
        "title": r.name,
        "round": r,
        "procedure": procedure,
        "steps": [(s, ACTORS[s.actor]) for s in procedure.steps],
        "cases": [(c, procedure.step(c.step) if c.state == CaseState.OPEN else None) for c in cases],
        "total": total,
        "shown_max": CASES_SHOWN,
        "by_step": selectors.round_summary(visible, procedure),
        "province": province,
        "step_key": step_key,
        "provinces": OrgUnit.objects.filter(level=Level.PROVINCE).order_by("code").values_list("code", "name"),
        "is_ministry": is_ministry(user),
        "recognised": recognised,
        "groups": selectors.by_province(selectors.recognised_rows(r, visible)) if r.kind == "recognition" else [],
        "quality": services.quality_cases(r) if is_ministry(user) else [],
        "history": selectors.history_rows("recognition_round", r, None),
    }  # fmt: skip
    return render(request, "youjun/recognition/round.html", context)


@evaluator_required
@require_POST
def round_publish(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    r = selectors.round_for(user, pk)
    action = lambda: services.publish(user, r, request.POST.get("number", ""), _date(request.POST.get("date")))  # noqa: E731
    return act_then(request, action, reverse("recognition:round", args=[r.pk]), "认定名单已公布。")


@round_upload
@evaluator_required
@require_POST
def round_quality(request: HttpRequest, pk: int) -> HttpResponse:
    """The ministry imports the quality-monitoring results of the round's counties (CSV or Excel), all or nothing."""
    user = user_of(request)
    r = selectors.round_for(user, pk)
    if not is_ministry(user):
        raise YoujunError.single("forbidden", "质量监测结果由教育部录入或导入。")
    back = reverse("recognition:round", args=[r.pk]) + "#quality"
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的质量监测结果文件。")
        return redirect(back)
    try:
        counties, rows = services.import_quality(user, r, upload.name or "", upload.read())
    except YoujunError as refused:
        if status_of(refused) == 403:
            raise
        problem_messages(request, refused)
        messages.error(request, "导入未完成，已录入的质量监测结果没有任何改动。")
    else:
        messages.success(request, f"已导入 {counties} 个县（区）的质量监测结果，共 {rows} 项。")
    return redirect(back)


@evaluator_required
@require_GET
def quality_template(request: HttpRequest, pk: int) -> HttpResponse:
    """The import template: a row per county waiting at the quality step, with the columns to fill."""
    from youjun.io.quality_results import HEADERS

    user = user_of(request)
    r = selectors.round_for(user, pk)
    if not is_ministry(user):
        raise YoujunError.single("forbidden", "质量监测结果由教育部录入或导入。")
    rows = [{"county_code": c.county.code, "county": c.county.name, "item": "", "result": "", "note": ""}
            for c in sorted(services.quality_cases(r), key=lambda c: c.county.code)]  # fmt: skip
    keys = ("county_code", "county", "item", "result", "note")
    frame = pl.DataFrame(rows, schema={k: pl.String for k in keys})
    headers = {"county_code": HEADERS["county_code"], "county": "县（区）（仅供参考）", "item": HEADERS["item"],
               "result": HEADERS["result"], "note": HEADERS["note"]}  # fmt: skip
    notes = pl.DataFrame({"text": [
        "每行一个县（区）的一个监测项目；同一县可有多行（最多 30 项）。",
        "县级区划代码为 6 位数字，须是本批次中正在「质量监测」环节的县（区）。",
        "导入时逐项检查，有任何问题则整份不导入；导入后替换该县（区）已录入的结果。",
    ]})  # fmt: skip
    tables = [Table("质量监测结果", frame, headers, title=f"{r.name}：质量监测结果导入表"),
              Table("填写说明", notes, {"text": "说明"})]  # fmt: skip
    return xlsx_response(tables, f"{r.year}年度质量监测结果导入表.xlsx", f"quality-{r.year}.xlsx")


@evaluator_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    """A county applies in the round; in a re-check round a province schedules one of its recognised counties."""
    user = user_of(request)
    r = selectors.round_for(user, pk)
    if r.kind == "recognition":
        if user.role != Role.COUNTY or user.org_unit is None:
            raise YoujunError.single("forbidden", "国家认定由县级教育行政部门提出申请。")
        county = user.org_unit
    else:
        county = unit_or_404(user, str(request.POST.get("code", ""))[:12])
    made: list[Case] = []
    back = act_then(request, lambda: made.append(services.start_case(user, r, county)),
                reverse("recognition:round", args=[r.pk]), "已建立。")  # fmt: skip
    return redirect("recognition:case", made[0].pk) if made else back


@evaluator_required
@require_POST
def expert_new(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    made: list[tuple[User, str]] = []
    back = act_then(request, lambda: made.append(services.create_expert(user, request.POST.get("username", ""),
                                                                     request.POST.get("name", ""))),
                reverse("recognition:index") + "#experts", "已开设专家账号。")  # fmt: skip
    if made:
        request.session["recognition_new_expert"] = {"username": made[0][0].username, "password": made[0][1]}
    return back


# ----------------------------------------------------------------------------------------------------
# A case


def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = user_of(request)
    step = services.current_step(case)
    acting = services.may_act(user, case)
    work = (case.work or {}).get(step.key, {}) if step else {}
    snap = case.snapshots.first()
    roles = services.roles_of(user, case)
    findings = list(case.findings.prefetch_related("files"))
    today = timezone.localdate()
    context: dict[str, Any] = {
        "title": f"{case.county.name} · {case.round.name}",
        "case": case,
        "step": step,
        "acting": acting,
        "work": work,
        "needs": [NEEDS[n] for n in step.needs] if step else [],
        "steps": selectors.steps_of(case),
        "snapshot": snap,
        "files": list(case.files.filter(finding=None, snapshot=None)),
        "findings": [
            (f, f.deadline < today and f.status != FindingStatus.VERIFIED, ACTORS.get(f.raised_by, f.raised_by))
            for f in findings
        ],
        "actor_label": ACTORS[step.actor] if step else "",
        "history": selectors.history_rows("recognition_case", case, case),
        "is_ministry": is_ministry(user),
        "is_county": "county" in roles,
        "experts": list(User.objects.filter(role=Role.EXPERT, is_active=True).order_by("username")[:200])
        if is_ministry(user) else [],
        "assigned": [a.expert for a in case.assignments.select_related("expert")],
        "verdicts": services.VERDICTS,
        "monitored": case.round.kind == "recheck" or case.state == CaseState.RECOGNISED,
        "warnings": selectors.monitoring_warnings(case.county)
        if case.round.kind == "recheck" or case.state == CaseState.RECOGNISED else [],
        "is_expert": user.role == Role.EXPERT,
        "rows": range(8),
    }  # fmt: skip
    if step is not None:
        if step.kind == "eligibility":
            context["checks"] = services.eligibility(case)
        if step.kind == "survey":
            survey = services.survey_figures(case)
            context["survey"] = survey
            context["national_survey"] = services.national_campaign(case)
            context["threshold"] = services.survey_threshold(case)
            rate = work.get("rate") if work.get("rate") is not None else (survey or {}).get("rate")
            valid = work.get("valid") if work.get("valid") is not None else (survey or {}).get("valid")
            context["survey_rate"] = "" if rate is None else f"{rate:.2f}".rstrip("0").rstrip(".")
            context["survey_valid"] = "" if valid is None else str(valid)
        if step.kind == "indicator_review":
            items = work.get("items") or {}
            context["items"] = [(i, items.get(i["code"], {})) for i in services.indicator_items(case)]
        if step.kind in ("inspection", "indicator_review"):
            chosen = set(work.get("schools") or [])
            context["schools"] = [(s, s["id"] in chosen) for s in services.school_choices(case)]
        if step.kind == "quality":
            rows = list(work.get("rows") or [])
            context["quality_rows"] = rows + [{}] * max(0, 8 - len(rows))
        context["may_find"] = acting and ("findings" in step.needs or step.kind == "indicator_review")
        context["upload_kinds"] = [
            (k, FileKind(k).label) for k, actors in services.UPLOAD_KINDS.items()
            if step.actor in actors and (k != FileKind.ON_SITE or "on_site_record" in step.needs)
        ]  # fmt: skip
    return context


@evaluator_required
@require_GET
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_for(user_of(request), pk)
    return render(request, "youjun/recognition/case.html", _case_context(request, case))


def _back(case: Case, anchor: str = "") -> str:
    return reverse("recognition:case", args=[case.pk]) + anchor


@evaluator_required
@require_POST
def case_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = selectors.case_for(user, pk)

    def run() -> None:
        step = services.require_actor(user, case)
        lists = {"schools": request.POST.getlist("schools")}
        data = services.parse_record(case, step, request.POST, lists)
        services.save_record(user, case, version_of(request.POST), data)

    return act_then(request, run, _back(case, "#step"), "已保存本环节记录。")


@evaluator_required
@require_POST
def case_act(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = selectors.case_for(user, pk)
    extra = {"deadline": _date(request.POST.get("deadline"))}
    action = lambda: services.act(user, case, request.POST.get("outcome", ""), request.POST.get("reason", ""),  # noqa: E731
                                  version_of(request.POST), extra)  # fmt: skip
    return act_then(request, action, _back(case))


@recognition_upload
@evaluator_required
@require_POST
def case_file(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = selectors.case_for(user, pk)

    def run() -> None:
        services.require_actor(user, case)
        upload, name, _kind = uploads.checked_upload(request)
        services.add_file(user, case, request.POST.get("kind", ""), upload, name)

    return act_then(request, run, _back(case, "#files"), "已上传。")


@evaluator_required
@require_POST
def case_survey(request: HttpRequest, pk: int) -> HttpResponse:
    """The ministry organises the county's social-recognition survey in the survey module, then manages it there."""
    user = user_of(request)
    case = selectors.case_for(user, pk)
    raw = str(request.POST.get("population", "")).strip().replace(",", "")
    population = int(raw) if raw.isdigit() and len(raw) < 10 else None
    made: list[Any] = []
    back = act_then(request, lambda: made.append(services.start_national_survey(user, case, population)),
                _back(case, "#step"), "已建立调查（草稿）：在调查页生成链接和二维码后即可开始。")  # fmt: skip
    return redirect("survey:campaign", made[0].pk) if made else back


@evaluator_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = selectors.case_for(user, pk)
    try:
        expert = int(request.POST.get("expert", ""))
    except ValueError:
        expert = -1
    remove = request.POST.get("remove") == "1"
    return act_then(request, lambda: services.assign(user, case, expert, remove), _back(case, "#experts"))


@evaluator_required
@require_POST
def finding_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = selectors.case_for(user, pk)
    post = {k: request.POST.get(k, "") for k in ("text", "indicator", "school_id", "responsible")}
    post["deadline"] = _date(request.POST.get("deadline"))  # type: ignore[assignment]  # a date or None
    return act_then(request, lambda: services.raise_finding(user, case, post), _back(case, "#findings"), "已登记问题。")


@evaluator_required
@require_GET
def rectification_report(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    case = selectors.case_for(user, pk)
    today = timezone.localdate()
    procedure = services.procedure_of(case)
    rows = []
    for f in case.findings.prefetch_related("files"):
        step = procedure.step(f.step)
        rows.append({
            "step": step.name if step else f.step, "raised_by": ACTORS.get(f.raised_by, f.raised_by),
            "indicator": f.indicator, "school": f.school_id, "text": f.text, "responsible": f.responsible,
            "deadline": f"{f.deadline:%Y-%m-%d}", "measures": f.measures, "status": f.status,
            "status_label": f.get_status_display(), "evidence": [x.original_name for x in f.files.all()],
            "verification": f.verification,
            "verified_at": f"{timezone.localtime(f.verified_at):%Y-%m-%d}" if f.verified_at else "",
            "overdue": f.deadline < today and f.status != FindingStatus.VERIFIED,
        })  # fmt: skip
    head = {"county": case.county.name, "round": case.round.name, "today": f"{today:%Y-%m-%d}"}
    response = HttpResponse(rectification_docx(head, rows), content_type=DOCX)
    response["Content-Disposition"] = uploads.attachment_header(f"{case.county.name}问题整改情况报告.docx")
    return response


@evaluator_required
@require_GET
def case_file_download(request: HttpRequest, pk: int) -> HttpResponse:
    f = get_object_or_404(CaseFile.objects.select_related("case"), pk=pk)
    selectors.case_for(user_of(request), f.case_id)
    response = uploads.file_response(f.stored_name, f.content_type, f.original_name)
    if response is None:
        return message_page(request, "文件不存在", "该文件已不在服务器上，请联系上传单位。", 404)
    return response  # type: ignore[return-value]  # a FileResponse streams the file; the decorators take it as is


# ----------------------------------------------------------------------------------------------------
# A finding


@evaluator_required
@require_GET
def finding_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    f = selectors.finding_for(user, pk)
    step = services.procedure_of(f.case).step(f.step)
    context = {
        "title": f"问题整改 · {f.case.county.name}",
        "finding": f,
        "case": f.case,
        "step_name": step.name if step else f.step,
        "raised_by": ACTORS.get(f.raised_by, f.raised_by),
        "is_county": "county" in services.roles_of(user, f.case) and user.can_write,
        "may_verify": services.raiser_may_verify(user, f),
        "files": list(f.files.all()),
        "overdue": f.deadline < timezone.localdate() and f.status != FindingStatus.VERIFIED,
        "history": selectors.history_rows("recognition_finding", f, f.case),
    }
    return render(request, "youjun/recognition/finding.html", context)


@evaluator_required
@require_POST
def finding_do(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = user_of(request)
    f = selectors.finding_for(user, pk)
    version = version_of(request.POST)
    actions: dict[str, Callable[[], str]] = {
        "save": lambda: services.rectify(user, f, request.POST, version, submit=False),
        "submit": lambda: services.rectify(user, f, request.POST, version, submit=True),
        "verify": lambda: services.verify(user, f, True, request.POST.get("note", ""), version),
        "reopen": lambda: services.verify(user, f, False, request.POST.get("note", ""), version),
    }
    if action not in actions:
        raise Http404("未知的操作")
    return act_then(request, actions[action], reverse("recognition:finding", args=[f.pk]))


@recognition_upload
@evaluator_required
@require_POST
def finding_file(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    f = selectors.finding_for(user, pk)

    def run() -> None:
        services.require_rectifier(user, f)
        upload, name, _kind = uploads.checked_upload(request)
        services.add_rectification_file(user, f, upload, name)

    return act_then(request, run, reverse("recognition:finding", args=[f.pk]), "已上传整改佐证材料。")


# ----------------------------------------------------------------------------------------------------
# The public list


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    published = [(r, selectors.by_province(selectors.recognised_rows(r))) for r in selectors.published_rounds()]
    context = {"title": "县域义务教育优质均衡发展县（市、区）认定名单", "published": published}
    return render(request, "youjun/recognition/public.html", context)


@require_GET
def public_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    r = selectors.published_rounds().filter(pk=pk).first()
    if r is None:
        raise Http404("未找到已公布的名单")
    rows = [{**row, "number": r.document_number, "date": f"{r.document_date:%Y-%m-%d}" if r.document_date else "",
             "year": str(row["year"] or "")} for row in selectors.recognised_rows(r)]  # fmt: skip
    keys = ("province", "prefecture", "county", "code", "number", "date")
    frame = pl.DataFrame([{k: row[k] for k in keys} for row in rows], schema={k: pl.String for k in keys})
    headers = {"province": "省份", "prefecture": "地市", "county": "县（市、区）", "code": "行政区划代码",
               "number": "认定文件文号", "date": "发文日期"}  # fmt: skip
    table = Table("认定名单", frame, headers, title=f"{r.name}名单（{r.document_number}）")
    return xlsx_response([table], f"{r.year}年度优质均衡县认定名单.xlsx", f"recognised-{r.year}.xlsx")
