"""A pilot county's implementation plan, its progress reports and their typical experiences.

Nothing here runs on a page view: a plan is created by its first save, not by opening the page. Each move has a
``check_…`` twin that raises the same refusals without writing, so that a page can refuse at once or ask for the
user's confirmation before the irreversible step (``youjun.web.shortcuts.confirmation_page``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from youjun.errors import YoujunError
from youjun.formatting import rule_number
from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import Level, OrgUnit
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
from youjun.web.rulesets.services import rules_for
from youjun.web.shortcuts import refusal
from youjun.web.workflow import write_if

#: A plan's horizon: the county applies for national recognition at the latest this many years after its batch year
#: (the notice: a first group of counties reaches high-quality balance "within 3–5 years").
PLAN_HORIZON = 5
#: The code of a refusal caused by a missing return reason (pages show it beside the reason field).
REASON_REQUIRED = "reason_required"
EDITABLE_PLAN = (PlanStatus.DRAFT, PlanStatus.RETURNED)
EDITABLE_REPORT = (ReportStatus.DRAFT, ReportStatus.RETURNED)
#: Prefecture-level units that are not prefectures (a municipality's districts, counties under the province).
_NOT_PREFECTURES = ("市辖区", "县")


# ----------------------------------------------------------------------------------------------------
# Names


def place_name(unit: OrgUnit) -> str:
    """A county as people name it: with its prefecture (芜湖市鸠江区); with its province where the prefecture level
    is only a grouping (北京市东城区, 湖北省仙桃市); alone where it bears the prefecture's name (东莞市)."""
    if unit.level != Level.COUNTY:
        return unit.full_name
    parent = unit.parent
    if parent is None or parent.level != Level.PREFECTURE or parent.name in _NOT_PREFECTURES or "直辖" in parent.name:
        province = unit.province_name
        return unit.name if not province or unit.name.startswith(province) else province + unit.name
    return unit.name if unit.name.startswith(parent.name) else parent.name + unit.name


# ----------------------------------------------------------------------------------------------------
# The programme window and the checks of a plan's values


def target_window(batch_year: int) -> tuple[int, int]:
    """The years a pilot of a batch may name for national recognition: from the year after the batch (pilots are
    confirmed late in the batch year; the plan's first yearly targets are for the next year) to ``PLAN_HORIZON``."""
    return batch_year + 1, batch_year + PLAN_HORIZON


def target_year_problem(batch_year: int, year: int | None) -> str | None:
    first, last = target_window(batch_year)
    if year is None or first <= year <= last:
        return None
    return (
        f"申请国家认定目标年份应在 {first}–{last} 年之间（批次年度 {batch_year} 年之后，最迟 {PLAN_HORIZON} 年内；"
        f"通知要求 3–5 年内建成），填写的是 {year}。"
    )


def plan_period(batch_year: int, target_year: int | None) -> tuple[dt.date, dt.date]:
    """The plan's period: from the start of the batch year to the end of the target year (or of the horizon)."""
    first, last = target_window(batch_year)
    end = target_year if target_year is not None and first <= target_year <= last else last
    return dt.date(batch_year, 1, 1), dt.date(end, 12, 31)


def milestone_problem(day: dt.date | None, period: tuple[dt.date, dt.date]) -> str | None:
    if day is None or period[0] <= day <= period[1]:
        return None
    return f"节点时间应在实施方案期限内（{period[0]:%Y-%m-%d} 至 {period[1]:%Y-%m-%d}），填写的是 {day:%Y-%m-%d}。"


def cv_problem(value: float, limit: float | None, final_year: int | None, stage_name: str) -> str | None:
    """A target coefficient of variation: above 0 and below 1; in the recognition year within the rule set's
    limit (earlier years may lie above it, on the way down)."""
    if not 0 < value < 1:
        return f"差异系数目标应大于 0、小于 1，填写的是 {value:g}。"
    if final_year is not None and limit is not None and value > limit:
        return (
            f"{final_year} 年为申请国家认定目标年份，{stage_name}差异系数目标应不高于 {rule_number(limit, 2)}"
            f"（评估标准），填写的是 {value:g}。"
        )
    return None


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


def plan_of(county: OrgUnit) -> Plan | None:
    """The pilot's plan once it has been saved; None before (opening the page creates nothing)."""
    nomination = pilot_of(county)
    if nomination is None:
        return None
    return Plan.objects.filter(nomination=nomination).select_related("nomination__batch", "county").first()


def plan_for(user: User, county: OrgUnit) -> Plan:
    """The county's plan, created with the basic tasks B1–B4 when the pilot county first saves it."""
    nomination = pilot_of(county)
    if nomination is None:
        raise refusal(f"{place_name(county)}不是已公布的先行创建县，无需编制实施方案。", 404)
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


def _plan_value_problems(
    plan: Plan, target_year: int | None, targets: dict[str, Any], milestones: Iterable[dt.date | None]
) -> list[str]:
    """The rules of a plan's values, for callers that did not check them field by field (the page does)."""
    batch_year = plan.nomination.batch.year
    found = [p for p in [target_year_problem(batch_year, target_year)] if p]
    final = target_year if not found else None
    rules = rules_for(plan.county, final) if final else None
    for key, by_year in targets.items():
        if not key.startswith("cv_"):
            continue
        stage = key.split("_")[1]
        limit = (rules.balance.cv_limit or {}).get(stage) if rules else None
        name = rules.stage_name(stage) if rules else stage
        for year, value in by_year.items():
            problem = cv_problem(float(value), limit, final if str(final) == year else None, name)
            if problem:
                found.append(problem)
    period = plan_period(batch_year, target_year)
    found += [p for p in (milestone_problem(d, period) for d in milestones) if p]
    return found


def save_plan(
    user: User,
    plan: Plan | OrgUnit,
    *,
    target_year: int | None,
    targets: dict[str, Any],
    items: list[str],
    summary: str,
    tasks: list[dict[str, Any]],
) -> Plan:
    """Save a draft (or returned) plan; given the county instead of a plan, the first save creates it.

    ``tasks``: ``{"pk": …}`` updates a task, ``{"basic": "B1", …}`` the plan's basic task (a plan saved for the
    first time has no task ids yet), anything else with a ``title`` adds a task.
    """
    county = plan if isinstance(plan, OrgUnit) else plan.county
    require_county(user, county)
    known = {i.code for i in catalogue().items}
    unknown = [c for c in items if c not in known]
    if unknown:
        raise refusal("未知的攻坚清单项：" + "、".join(unknown))
    with transaction.atomic():
        current = plan_for(user, county) if isinstance(plan, OrgUnit) else plan
        current.refresh_from_db()  # the state as stored, not as the caller last read it
        if current.status not in EDITABLE_PLAN:
            raise refusal(f"实施方案当前为「{current.get_status_display()}」，不能修改。")
        problems = _plan_value_problems(current, target_year, targets, (t.get("milestone") for t in tasks))
        if problems:
            raise refusal("；".join(problems))
        write_if(
            Plan, current.pk, what="该实施方案", where={"status__in": EDITABLE_PLAN},
            values={"target_year": target_year, "targets": targets, "items": items, "summary": summary},
            conflict=_conflict,
        )  # fmt: skip
        current.target_year, current.targets, current.items, current.summary = target_year, targets, items, summary
        for task in tasks:
            task = dict(task)
            pk, basic = task.pop("pk", None), task.pop("basic", None)
            if pk:
                current.tasks.filter(pk=pk).update(**task)
            elif basic:
                first = current.tasks.filter(code=basic).order_by("pk").first()
                if first is not None:
                    current.tasks.filter(pk=first.pk).update(**task)
            elif task.get("title"):
                PlanTask.objects.create(plan=current, **task)
    return current


def plan_problems(plan: Plan) -> list[str]:
    """What a plan still lacks before it can be submitted."""
    found = []
    if not plan.target_year:
        found.append("请填写申请国家认定目标年份")
    else:
        wrong = target_year_problem(plan.nomination.batch.year, plan.target_year)
        if wrong:
            found.append(wrong.removesuffix("。"))
    if not plan.items:
        found.append("请至少选择一项攻坚清单任务")
    if not plan.targets:
        found.append("请填写指标目标")
    basic = {i.code for i in catalogue().basic}
    if not basic <= set(plan.tasks.values_list("code", flat=True)):
        found.append("基本任务 B1–B4 不能缺少")
    return found


@dataclass(frozen=True)
class Move:
    """A move as the user is asked to confirm it: what happens and who is told."""

    target: str
    label: str
    notified: str
    text: str
    users: tuple[User, ...]


def _reason_required() -> YoujunError:
    return YoujunError.single(REASON_REQUIRED, "退回时必须填写理由。", field="reason")


def check_plan_move(user: User, plan: Plan, action: str, reason: str = "") -> Move:
    """The refusals of ``move_plan`` (role, state, completeness, reason), without writing anything."""
    plan.refresh_from_db()  # the state as stored, not as the caller last read it
    reason = reason.strip()
    province = province_of(plan.county)
    name = place_name(plan.county)
    if action == "submit":
        require_county(user, plan.county)
        if plan.status not in EDITABLE_PLAN:
            raise refusal(f"实施方案当前为「{plan.get_status_display()}」，不能报送。")
        found = plan_problems(plan)
        if found:
            raise refusal("实施方案尚不能报送：" + "；".join(found))
        return Move(
            PlanStatus.SUBMITTED,
            "报送实施方案",
            f"{province.name}省级教育行政部门",
            f"{name}报送了创建工作实施方案，请审核。",
            tuple(users_of(Role.PROVINCE, province)),
        )
    if action in ("accept", "return"):
        require_province(user, province)
        if plan.status != PlanStatus.SUBMITTED:
            raise refusal(f"实施方案当前为「{plan.get_status_display()}」，只能审核已报送的方案。")
        if action == "return" and not reason:
            raise _reason_required()
        accept = action == "accept"
        return Move(
            PlanStatus.ACCEPTED if accept else PlanStatus.RETURNED,
            "审核通过实施方案" if accept else "退回实施方案",
            f"{name}县级教育行政部门",
            "省级已审核通过实施方案。" if accept else f"省级退回实施方案：{reason}",
            tuple(users_of(Role.COUNTY, plan.county)),
        )
    raise refusal("未知的操作。", 404)


def move_plan(user: User, plan: Plan, action: str, reason: str = "") -> None:
    move = check_plan_move(user, plan, action, reason)
    reason = reason.strip()
    before = plan.status
    with transaction.atomic():
        _advance(plan, move.target, [before], "该实施方案", reason=reason if action == "return" else "")
        audit("plan", plan, move.label, user, before, move.target, reason)
        notify(
            move.users,
            f"plan-{plan.pk}-{action}-{timezone.now():%Y%m%d%H%M%S%f}",
            move.text,
            reverse("programme:plan", args=[plan.county.code]),
        )


# ----------------------------------------------------------------------------------------------------
# Progress reports and experiences


def _report_values(
    plan: Plan, period: str, experiences: list[dict[str, str]], task_status: dict[str, dict[str, str]]
) -> str:
    if not period.strip():
        raise refusal("请填写报告期。")
    if len(period.strip()) > 40:
        raise refusal("报告期最多 40 个字。")
    allowed = set(plan.items)
    for e in experiences:
        if e["item"] not in allowed:
            raise refusal(f"经验所属攻坚清单项 {e['item']} 不在本县实施方案所选项目中。")
    tasks = {str(pk) for pk in plan.tasks.values_list("pk", flat=True)}
    strange = [k for k in task_status if k not in tasks]
    if strange:
        raise refusal("任务进展中有不属于本实施方案的任务。")
    return period.strip()


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
    period = _report_values(plan, period, experiences, task_status)
    with transaction.atomic():
        report = ProgressReport.objects.create(
            plan=plan, county=plan.county, period=period, summary=summary, task_status=task_status
        )
        for e in experiences:
            Experience.objects.create(report=report, county=plan.county, **e)
        for pk, st in task_status.items():
            plan.tasks.filter(pk=int(pk)).update(status=st["status"])
        audit("report", report, "填写进展报告", user, "", ReportStatus.DRAFT)
    return report


def save_report(
    user: User,
    report: ProgressReport,
    period: str,
    summary: str,
    task_status: dict[str, dict[str, str]],
    experiences: list[dict[str, str]],
) -> None:
    """Change a report that is not yet submitted (or was returned); experiences are matched by tackling item."""
    report.refresh_from_db()  # the state as stored, not as the caller last read it
    require_county(user, report.county)
    if report.status not in EDITABLE_REPORT:
        raise refusal(f"进展报告当前为「{report.get_status_display()}」，不能修改。")
    period = _report_values(report.plan, period, experiences, task_status)
    with transaction.atomic():
        write_if(
            ProgressReport, report.pk, what="该进展报告", where={"status__in": EDITABLE_REPORT},
            values={"period": period, "summary": summary, "task_status": task_status}, conflict=_conflict,
        )  # fmt: skip
        report.period, report.summary, report.task_status = period, summary, task_status
        kept = {e.item: e for e in report.experiences.all()}
        for e in experiences:
            old = kept.pop(e["item"], None)
            if old is None:
                Experience.objects.create(report=report, county=report.county, **e)
            else:
                Experience.objects.filter(pk=old.pk).update(title=e["title"], text=e["text"])
        Experience.objects.filter(pk__in=[e.pk for e in kept.values()], published=False).delete()
        for pk, st in task_status.items():
            report.plan.tasks.filter(pk=int(pk)).update(status=st["status"])


def check_report_move(user: User, report: ProgressReport, action: str, reason: str = "") -> Move:
    """The refusals of ``move_report`` (role, state, reason), without writing anything."""
    report.refresh_from_db()  # the state as stored, not as the caller last read it
    reason = reason.strip()
    province = province_of(report.county)
    name = place_name(report.county)
    sources: tuple[ReportStatus, ...]
    if action == "submit":
        require_county(user, report.county)
        sources = EDITABLE_REPORT
        move = Move(
            ReportStatus.SUBMITTED,
            "报送进展报告",
            f"{province.name}省级教育行政部门",
            f"{name}报送了{report.period}进展报告。",
            tuple(users_of(Role.PROVINCE, province)),
        )
    elif action in ("forward", "return"):
        require_province(user, province)
        sources = (ReportStatus.SUBMITTED,)
        if action == "forward":
            move = Move(
                ReportStatus.FORWARDED,
                "转报教育部",
                "教育部",
                f"{province.name}转报了{name}{report.period}进展报告。",
                tuple(users_of(Role.MINISTRY)),
            )
        else:
            move = Move(
                ReportStatus.RETURNED,
                "退回进展报告",
                f"{name}县级教育行政部门",
                f"省级退回{report.period}进展报告：{reason}",
                tuple(users_of(Role.COUNTY, report.county)),
            )
    else:
        raise refusal("未知的操作。", 404)
    if report.status not in sources:
        raise refusal(f"进展报告当前为「{report.get_status_display()}」，不能{move.label}。")
    if action == "return" and not reason:
        raise _reason_required()
    return move


def move_report(user: User, report: ProgressReport, action: str, reason: str = "") -> None:
    move = check_report_move(user, report, action, reason)
    reason = reason.strip()
    sources = EDITABLE_REPORT if action == "submit" else (ReportStatus.SUBMITTED,)
    url = reverse("programme:report", args=[report.pk])
    with transaction.atomic():
        before = _advance(report, move.target, sources, "该进展报告", reason=reason if action == "return" else "")
        audit("report", report, move.label, user, before, move.target, reason)
        notify(move.users, f"report-{report.pk}-{action}-{timezone.now():%Y%m%d%H%M%S%f}", move.text, url)


def check_publish(user: User, experience: Experience, publish: bool = True) -> None:
    """The refusals of ``publish_experience``, without writing anything."""
    experience.refresh_from_db()  # the state as stored, not as the caller last read it
    require_ministry(user)
    if experience.report.status != ReportStatus.FORWARDED:
        raise refusal("只有已报教育部的进展报告中的经验可以发布为典型经验。")
    if experience.published == publish:
        raise refusal("该经验已发布为典型经验。" if publish else "该经验尚未发布。")


def publish_experience(user: User, experience: Experience, publish: bool = True) -> None:
    check_publish(user, experience, publish)
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
