"""A pilot county's implementation plan, its progress reports and their typical experiences."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import (
    BatchStatus,
    Experience,
    Nomination,
    NominationStatus,
    Plan,
    PlanStatus,
    PlanTask,
    ProgressReport,
    ReportStatus,
)
from youjun.web.programme.services.common import (
    _advance,
    _conflict,
    audit,
    notify,
    province_of,
    require_county,
    require_ministry,
    require_province,
    users_of,
)
from youjun.web.shortcuts import refusal
from youjun.web.workflow import write_if

# ----------------------------------------------------------------------------------------------------
# Plans


def pilot_of(county: OrgUnit) -> Nomination | None:
    """The county's confirmed nomination in a published batch (a pilot county), if any."""
    return (
        Nomination.objects.filter(county=county, status=NominationStatus.CONFIRMED, batch__status=BatchStatus.PUBLISHED)
        .select_related("batch")
        .order_by("-batch__number")
        .first()
    )


def plan_for(user: User, county: OrgUnit) -> Plan:
    """The county's plan, created (with the basic tasks B1–B4) when the pilot county first opens it."""
    nomination = pilot_of(county)
    if nomination is None:
        raise refusal(f"{county.name}不是已公布的先行创建县，无需编制实施方案。", 404)
    plan = Plan.objects.filter(nomination=nomination).first()
    if plan is not None:
        return plan
    require_county(user, county)
    with transaction.atomic():
        plan = Plan.objects.create(nomination=nomination, county=county)
        for item in catalogue().basic:
            PlanTask.objects.create(plan=plan, code=item.code, title=item.name, owner="县教育局")
        audit("plan", plan, "开始编制实施方案", user, "", PlanStatus.DRAFT)
    return plan


def save_plan(
    user: User,
    plan: Plan,
    *,
    target_year: int | None,
    targets: dict[str, Any],
    items: list[str],
    summary: str,
    tasks: list[dict[str, Any]],
) -> None:
    plan.refresh_from_db()  # the state as stored, not as the caller last read it
    require_county(user, plan.county)
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.RETURNED):
        raise refusal(f"实施方案当前为「{plan.get_status_display()}」，不能修改。")
    known = {i.code for i in catalogue().items}
    unknown = [c for c in items if c not in known]
    if unknown:
        raise refusal("未知的攻坚清单项：" + "、".join(unknown))
    with transaction.atomic():
        write_if(
            Plan, plan.pk, what="该实施方案", where={"status__in": (PlanStatus.DRAFT, PlanStatus.RETURNED)},
            values={"target_year": target_year, "targets": targets, "items": items, "summary": summary},
            conflict=_conflict,
        )  # fmt: skip
        plan.target_year, plan.targets, plan.items, plan.summary = target_year, targets, items, summary
        for task in tasks:
            pk = task.pop("pk", None)
            if pk:
                plan.tasks.filter(pk=pk).update(**task)
            elif task.get("title"):
                PlanTask.objects.create(plan=plan, **task)


def plan_problems(plan: Plan) -> list[str]:
    found = []
    if not plan.target_year:
        found.append("请填写申请国家认定目标年份")
    if not plan.items:
        found.append("请至少选择一项攻坚清单任务")
    if not plan.targets:
        found.append("请填写指标目标")
    basic = {i.code for i in catalogue().basic}
    if not basic <= set(plan.tasks.values_list("code", flat=True)):
        found.append("基本任务 B1–B4 不能缺少")
    return found


def move_plan(user: User, plan: Plan, action: str, reason: str = "") -> None:
    plan.refresh_from_db()  # the state as stored, not as the caller last read it
    reason = reason.strip()
    before = plan.status
    province = province_of(plan.county)
    if action == "submit":
        require_county(user, plan.county)
        if plan.status not in (PlanStatus.DRAFT, PlanStatus.RETURNED):
            raise refusal(f"实施方案当前为「{plan.get_status_display()}」，不能报送。")
        found = plan_problems(plan)
        if found:
            raise refusal("实施方案尚不能报送：" + "；".join(found))
        target, label = PlanStatus.SUBMITTED, "报送实施方案"
        note = (users_of(Role.PROVINCE, province), f"{plan.county.name}报送了创建工作实施方案，请审核。")
    elif action in ("accept", "return"):
        require_province(user, province)
        if plan.status != PlanStatus.SUBMITTED:
            raise refusal(f"实施方案当前为「{plan.get_status_display()}」，只能审核已报送的方案。")
        if action == "return" and not reason:
            raise refusal("退回时必须填写理由。")
        target, label = (
            (PlanStatus.ACCEPTED, "审核通过实施方案") if action == "accept" else (PlanStatus.RETURNED, "退回实施方案")
        )
        text = "省级已审核通过实施方案。" if action == "accept" else f"省级退回实施方案：{reason}"
        note = (users_of(Role.COUNTY, plan.county), text)
    else:
        raise refusal("未知的操作。", 404)
    with transaction.atomic():
        _advance(plan, target, [before], "该实施方案", reason=reason if action == "return" else "")
        audit("plan", plan, label, user, before, target, reason)
        notify(
            note[0],
            f"plan-{plan.pk}-{action}-{timezone.now():%Y%m%d%H%M%S%f}",
            note[1],
            reverse("programme:plan", args=[plan.county.code]),
        )


# ----------------------------------------------------------------------------------------------------
# Progress reports and experiences


def create_report(
    user: User,
    plan: Plan,
    period: str,
    summary: str,
    task_status: dict[str, dict[str, str]],
    experiences: list[dict[str, str]],
) -> ProgressReport:
    require_county(user, plan.county)
    if plan.status != PlanStatus.ACCEPTED:
        raise refusal("实施方案经省级审核通过后才能报送进展。")
    if not period.strip():
        raise refusal("请填写报告期。")
    allowed = set(plan.items)
    for e in experiences:
        if e["item"] not in allowed:
            raise refusal(f"经验所属攻坚清单项 {e['item']} 不在本县实施方案所选项目中。")
    with transaction.atomic():
        report = ProgressReport.objects.create(
            plan=plan, county=plan.county, period=period.strip(), summary=summary, task_status=task_status
        )
        for e in experiences:
            Experience.objects.create(report=report, county=plan.county, **e)
        for pk, st in task_status.items():
            plan.tasks.filter(pk=int(pk)).update(status=st["status"])
        audit("report", report, "填写进展报告", user, "", ReportStatus.DRAFT)
    return report


def move_report(user: User, report: ProgressReport, action: str, reason: str = "") -> None:
    report.refresh_from_db()  # the state as stored, not as the caller last read it
    reason = reason.strip()
    province = province_of(report.county)
    url = reverse("programme:report", args=[report.pk])
    sources: tuple[ReportStatus, ...]
    if action == "submit":
        require_county(user, report.county)
        sources, target, label = (ReportStatus.DRAFT, ReportStatus.RETURNED), ReportStatus.SUBMITTED, "报送进展报告"
        note = (users_of(Role.PROVINCE, province), f"{report.county.name}报送了{report.period}进展报告。")
    elif action in ("forward", "return"):
        require_province(user, province)
        sources = (ReportStatus.SUBMITTED,)
        if action == "return" and not reason:
            raise refusal("退回时必须填写理由。")
        target, label = (
            (ReportStatus.FORWARDED, "转报教育部") if action == "forward" else (ReportStatus.RETURNED, "退回进展报告")
        )
        note = (
            (users_of(Role.MINISTRY), f"{province.name}转报了{report.county.name}{report.period}进展报告。")
            if action == "forward"
            else (users_of(Role.COUNTY, report.county), f"省级退回{report.period}进展报告：{reason}")
        )
    else:
        raise refusal("未知的操作。", 404)
    if report.status not in sources:
        raise refusal(f"进展报告当前为「{report.get_status_display()}」，不能{label}。")
    with transaction.atomic():
        before = _advance(report, target, sources, "该进展报告", reason=reason if action == "return" else "")
        audit("report", report, label, user, before, target, reason)
        notify(note[0], f"report-{report.pk}-{action}-{timezone.now():%Y%m%d%H%M%S%f}", note[1], url)


def publish_experience(user: User, experience: Experience, publish: bool = True) -> None:
    experience.refresh_from_db()  # the state as stored, not as the caller last read it
    require_ministry(user)
    if experience.report.status != ReportStatus.FORWARDED:
        raise refusal("只有已报教育部的进展报告中的经验可以发布为典型经验。")
    if experience.published == publish:
        raise refusal("该经验已发布为典型经验。" if publish else "该经验尚未发布。")
    with transaction.atomic():
        published_at = timezone.now() if publish else None
        write_if(
            Experience, experience.pk, what="该经验", where={"published": not publish},
            values={"published": publish, "published_at": published_at}, conflict=_conflict,
        )  # fmt: skip
        experience.published, experience.published_at = publish, published_at
        audit(
            "experience",
            experience,
            "发布典型经验" if publish else "撤销典型经验",
            user,
            "" if publish else "典型经验",
            "典型经验" if publish else "",
        )
        if publish:
            notify(
                users_of(Role.COUNTY, experience.county),
                f"experience-{experience.pk}",
                f"「{experience.title}」已被教育部发布为典型经验。",
                reverse("programme:experiences"),
            )
