"""Every state change of the programme: a checked transition that leaves an audit entry and notifies.

A refused transition raises ``Refused`` with the Chinese message shown to the user; nothing is written then.
Views only decide *which* object the user may reach (jurisdiction, see ``accounts.scoping``); whether the user's
role may take the action, and whether the object's state allows it, is decided here, so that tests can exercise
the rules without pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import recommendation
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import (
    AuditEntry,
    Batch,
    BatchStatus,
    Experience,
    Extension,
    Nomination,
    NominationStatus,
    Notification,
    Plan,
    PlanStatus,
    PlanTask,
    ProgressReport,
    ProvinceSubmission,
    ReportStatus,
    Verdict,
)
from youjun.web.workflow import advance, write_if

#: Nominations that hold a place in the province's quota.
ACTIVE = (NominationStatus.DRAFT, NominationStatus.SUBMITTED, NominationStatus.RETURNED, NominationStatus.CONFIRMED)
REMIND_DAYS = 7
MISSING_YEAR = (
    "尚无该县（区）通过国家基本均衡认定的年份，不能报送（请县级在县级指标中填写「通过国家基本均衡认定年份」）。"
)


class Refused(Exception):
    """A transition the rules do not allow; ``message`` is the Chinese text shown to the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _conflict(message: str) -> Refused:
    return Refused(message, 409)


def _advance(obj: Any, target: str, sources: Iterable[str], what: str, **changes: Any) -> str:
    """The workflow move as one conditional UPDATE (``youjun.web.workflow.advance``); a lost race is a 409."""
    return advance(obj, target, sources, what=what, changes=changes, conflict=_conflict)


# ----------------------------------------------------------------------------------------------------
# Who


def is_ministry(user: User) -> bool:
    return user.role == Role.MINISTRY or (user.is_superuser and user.org_unit_id is None)


def require_ministry(user: User) -> None:
    if not is_ministry(user):
        raise Refused("只有教育部账号可以办理此事项。", 403)


def require_province(user: User, province: OrgUnit) -> None:
    if user.role != Role.PROVINCE or user.org_unit_id != province.pk:
        raise Refused(f"只有{province.name}省级教育行政部门账号可以办理此事项。", 403)


def require_county(user: User, county: OrgUnit) -> None:
    if user.role != Role.COUNTY or user.org_unit_id != county.pk:
        raise Refused(f"只有{county.name}县级教育行政部门账号可以办理此事项。", 403)


def province_of(county: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(code=county.code[:2] + "0000")


# ----------------------------------------------------------------------------------------------------
# Audit and notifications


def audit(
    kind: str, obj: Any, action: str, actor: User | None, before: str = "", after: str = "", reason: str = ""
) -> None:
    AuditEntry.objects.create(
        kind=kind, object_id=obj.pk, action=action, from_state=before, to_state=after, actor=actor, reason=reason
    )


def history(kind: str, obj: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(kind=kind, object_id=obj.pk).select_related("actor"))


def users_of(role: str, unit: OrgUnit | None = None) -> Iterable[User]:
    qs = User.objects.filter(role=role, is_active=True)
    return qs.filter(org_unit=unit) if unit is not None else qs


def notify(users: Iterable[User], key: str, text: str, url: str = "") -> None:
    for user in users:
        Notification.objects.get_or_create(user=user, key=key[:80], defaults={"text": text[:300], "url": url})


def remind_deadlines(user: User, now: dt.datetime | None = None) -> None:
    """Deadline reminders for a province user: an open batch whose (extended) deadline is within a week and whose
    nominations the province has not all submitted. Idempotent (one reminder per batch and user)."""
    if user.role != Role.PROVINCE or user.org_unit is None:
        return
    now = now or timezone.now()
    for batch in Batch.objects.filter(status=BatchStatus.OPEN):
        deadline = effective_deadline(batch, user.org_unit)
        if now <= deadline <= now + dt.timedelta(days=REMIND_DAYS):
            submitted = ProvinceSubmission.objects.filter(batch=batch, province=user.org_unit).exists()
            if not submitted:
                local = timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")
                url = reverse("programme:province", args=[batch.number, user.org_unit.code])
                notify([user], f"deadline-{batch.pk}", f"{batch.name}推荐将于 {local} 截止，请及时报送。", url)


# ----------------------------------------------------------------------------------------------------
# Batches


def create_batch(
    user: User,
    *,
    name: str,
    year: int,
    deadline: dt.datetime,
    quota_min: int,
    quota_max: int,
    min_years: int,
    conditions: dict[str, Any] | None = None,
) -> Batch:
    require_ministry(user)
    if not 1 <= quota_min <= quota_max:
        raise Refused("推荐名额下限应不小于 1，且不大于上限。")
    if not name.strip():
        raise Refused("请填写批次名称。")
    with transaction.atomic():
        number = (Batch.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        batch = Batch.objects.create(
            number=number,
            name=name.strip(),
            year=year,
            deadline=deadline,
            quota_min=quota_min,
            quota_max=quota_max,
            min_years=min_years,
            conditions=conditions or {},
            created_by=user,
        )
        audit("batch", batch, "创建批次", user, "", batch.status)
    return batch


def batch_defaults() -> dict[str, Any]:
    """A new batch reuses the settings of the latest one (the first batch: 3–5 counties, 3 years)."""
    last = Batch.objects.order_by("-number").first()
    now = timezone.localtime()
    if last is None:
        return {
            "name": "第一批义务教育优质均衡先行创建",
            "year": now.year,
            "quota_min": 3,
            "quota_max": 5,
            "min_years": 3,
            "deadline": now + dt.timedelta(days=30),
        }
    return {
        "name": f"第{last.number + 1}批义务教育优质均衡先行创建",
        "year": now.year,
        "quota_min": last.quota_min,
        "quota_max": last.quota_max,
        "min_years": last.min_years,
        "conditions": dict(last.conditions),
        "deadline": now + dt.timedelta(days=30),
    }


BATCH_MOVES = {
    "open": ((BatchStatus.DRAFT,), BatchStatus.OPEN, "开始推荐"),
    "close": ((BatchStatus.OPEN,), BatchStatus.CLOSED, "截止推荐"),
    "publish": ((BatchStatus.OPEN, BatchStatus.CLOSED), BatchStatus.PUBLISHED, "公布名单"),
}


def move_batch(user: User, batch: Batch, action: str, published_on: dt.date | None = None) -> None:
    batch.refresh_from_db()  # the state as stored, not as the caller last read it
    require_ministry(user)
    if action not in BATCH_MOVES:
        raise Refused("未知的操作。", 404)
    sources, target, label = BATCH_MOVES[action]
    if batch.status not in sources:
        raise Refused(f"批次当前状态为「{batch.get_status_display()}」，不能{label}。")
    if action == "publish":
        pending = batch.nominations.filter(status__in=(NominationStatus.SUBMITTED, NominationStatus.RETURNED)).count()
        if pending:
            raise Refused(f"尚有 {pending} 个推荐未审核完毕（已报送或已退回修改），不能公布名单。")
        if not batch.nominations.filter(status=NominationStatus.CONFIRMED).exists():
            raise Refused("还没有确认的先行创建县，不能公布名单。")
        batch.published_on = published_on or timezone.localdate()
    with transaction.atomic():
        before = _advance(batch, target, sources, "该批次", published_on=batch.published_on)
        audit("batch", batch, label, user, before, target)
        url = reverse("programme:batch", args=[batch.number])
        if action == "open":
            notify(
                users_of(Role.PROVINCE),
                f"batch-open-{batch.pk}",
                f"{batch.name}开始推荐，截止时间 {timezone.localtime(batch.deadline):%Y-%m-%d %H:%M}。",
                url,
            )
        if action == "publish":
            pilots = batch.nominations.filter(status=NominationStatus.CONFIRMED).select_related("county")
            notify(
                users_of(Role.PROVINCE),
                f"batch-published-{batch.pk}",
                f"{batch.name}先行创建县名单已公布（{batch.published_on:%Y-%m-%d}）。",
                reverse("programme:public"),
            )
            for n in pilots:
                notify(
                    users_of(Role.COUNTY, n.county),
                    f"pilot-{n.pk}",
                    f"{n.county.name}已列入{batch.name}先行创建县名单，请编制创建工作实施方案。",
                    reverse("programme:county", args=[n.county.code]),
                )


def effective_deadline(batch: Batch, province: OrgUnit) -> dt.datetime:
    extension = Extension.objects.filter(batch=batch, province=province).first()
    return max(batch.deadline, extension.deadline) if extension else batch.deadline


def grant_extension(user: User, batch: Batch, province: OrgUnit, deadline: dt.datetime, reason: str) -> None:
    require_ministry(user)
    if batch.status != BatchStatus.OPEN:
        raise Refused("只有推荐中的批次可以延期。")
    if deadline <= batch.deadline:
        raise Refused("延期后的截止时间应晚于批次截止时间。")
    with transaction.atomic():
        ext, _ = Extension.objects.update_or_create(
            batch=batch, province=province, defaults={"deadline": deadline, "reason": reason, "granted_by": user}
        )
        audit("extension", ext, "延期", user, "", timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"), reason)
        notify(
            users_of(Role.PROVINCE, province),
            f"extension-{ext.pk}-{deadline:%Y%m%d%H%M}",
            f"教育部同意{province.name}{batch.name}推荐延期至 {timezone.localtime(deadline):%Y-%m-%d %H:%M}。",
            reverse("programme:province", args=[batch.number, province.code]),
        )


def _check_deadline(batch: Batch, province: OrgUnit, now: dt.datetime | None = None) -> None:
    if batch.status != BatchStatus.OPEN:
        raise Refused(f"{batch.name}当前为「{batch.get_status_display()}」，不接受推荐。")
    deadline = effective_deadline(batch, province)
    if (now or timezone.now()) > deadline:
        raise Refused(
            f"已超过推荐截止时间（{timezone.localtime(deadline):%Y-%m-%d %H:%M}），不能再推荐或报送；"
            "如确需延期，请联系教育部。"
        )


# ----------------------------------------------------------------------------------------------------
# Nominations


def eligibility(nomination_or_year: Nomination | int | None, batch: Batch) -> tuple[bool | None, str]:
    """Condition 2: passed national basic-balance recognition at least ``min_years`` before the batch year.
    (True, text) met; (False, text) not met; (None, text) the year is unknown."""
    year = nomination_or_year.basic_balance_year if isinstance(nomination_or_year, Nomination) else nomination_or_year
    if year is None:
        return None, MISSING_YEAR
    gap = batch.year - year
    if gap >= batch.min_years:
        return True, f"{year} 年通过国家基本均衡认定，距批次年度 {gap} 年（不少于 {batch.min_years} 年）"
    return False, f"{year} 年通过国家基本均衡认定，距批次年度仅 {gap} 年，不满 {batch.min_years} 年，不符合遴选条件二。"


def nominate(user: User, batch: Batch, county: OrgUnit, now: dt.datetime | None = None) -> Nomination:
    province = province_of(county)
    require_province(user, province)
    if county.level != Level.COUNTY:
        raise Refused("只能推荐县级单位（县、市、区、旗）。")
    _check_deadline(batch, province, now)
    _check_place(batch, province, county)
    defn = recommendation.definition()
    ctx = recommendation.context(county, batch.year, batch.min_years)
    bb_year = ctx["inputs"]["basic_balance_year"]
    ok, text = eligibility(bb_year, batch)
    if ok is False:
        raise Refused(f"{county.name}不符合遴选条件：{text}")
    values = recommendation.data_values(defn, ctx)
    with transaction.atomic():
        # Nominations of one batch one after another, so that two at once cannot both take the last place.
        Batch.objects.select_for_update().filter(pk=batch.pk).first()
        _check_place(batch, province, county)
        nomination, _ = Nomination.objects.update_or_create(
            batch=batch,
            county=county,
            defaults={
                "province": province,
                "status": NominationStatus.DRAFT,
                "form_id": defn.id,
                "form_version": str(defn.version),
                "values": values,
                "data_keys": sorted(values),
                "basic_balance_year": bb_year,
                "created_by": user,
                "reason": "",
                "condition1": Verdict.PENDING,
                "condition3": Verdict.PENDING,
            },
        )
        audit("nomination", nomination, "推荐", user, "", NominationStatus.DRAFT)
    return nomination


def _check_place(batch: Batch, province: OrgUnit, county: OrgUnit) -> None:
    """Not nominated twice, not already a pilot, and a place left in the province's quota."""
    if Nomination.objects.filter(batch=batch, county=county).exclude(status=NominationStatus.WITHDRAWN).exists():
        raise Refused(f"{county.name}已在本批次推荐名单中。")
    if Nomination.objects.filter(county=county, status=NominationStatus.CONFIRMED).exclude(batch=batch).exists():
        raise Refused(f"{county.name}已是先行创建县，不能重复推荐。")
    used = Nomination.objects.filter(batch=batch, province=province, status__in=ACTIVE).count()
    if used >= batch.quota_max:
        raise Refused(f"超出推荐名额：每省最多推荐 {batch.quota_max} 个县（区），{province.name}已推荐 {used} 个。")


def editable(nomination: Nomination) -> bool:
    return nomination.status in (NominationStatus.DRAFT, NominationStatus.RETURNED)


def save_form(user: User, nomination: Nomination, values: dict[str, Any]) -> None:
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_province(user, nomination.province)
    if not editable(nomination):
        raise Refused(f"推荐当前为「{nomination.get_status_display()}」，不能修改。")
    merged = {**nomination.values, **values}
    editable_states = (NominationStatus.DRAFT, NominationStatus.RETURNED)
    write_if(
        Nomination, nomination.pk, what="该推荐", where={"status__in": editable_states}, values={"values": merged},
        conflict=_conflict,
    )  # fmt: skip
    nomination.values = merged


def withdraw(user: User, nomination: Nomination, reason: str = "") -> None:
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_province(user, nomination.province)
    if not editable(nomination):
        raise Refused(f"推荐当前为「{nomination.get_status_display()}」，不能撤回。")
    with transaction.atomic():
        _transition(nomination, NominationStatus.WITHDRAWN, "撤回推荐", user, reason)


def _transition(nomination: Nomination, target: str, label: str, user: User, note: str = "", **changes: Any) -> None:
    """Move a nomination from the state it was read in (inside the caller's transaction), and audit it."""
    before = _advance(nomination, target, [nomination.status], "该推荐", **changes)
    audit("nomination", nomination, label, user, before, target, note)


def _ready(nomination: Nomination) -> list[str]:
    """Why a nomination cannot be submitted (empty when it can)."""
    defn = recommendation.definition_of(nomination.form_id, nomination.form_version)
    found = [f"{nomination.county.name}：{p}" for p in recommendation.problems(defn, nomination.values)]
    ok, text = eligibility(nomination, nomination.batch)
    if ok is not True:
        found.append(f"{nomination.county.name}：{text}")
    return found


def submit_set(user: User, batch: Batch, province: OrgUnit, signatory: str, now: dt.datetime | None = None) -> int:
    """The province signs off and submits every nomination still being filled; quota min/max on the whole set."""
    require_province(user, province)
    _check_deadline(batch, province, now)
    if not signatory.strip():
        raise Refused("请填写签发人。")
    drafts = list(batch.nominations.filter(province=province, status=NominationStatus.DRAFT).select_related("county"))
    if not drafts:
        raise Refused("没有待报送的推荐。")
    total = batch.nominations.filter(province=province, status__in=ACTIVE).count()
    if total > batch.quota_max:
        raise Refused(f"超出推荐名额：每省最多推荐 {batch.quota_max} 个县（区），当前 {total} 个。")
    if total < batch.quota_min:
        raise Refused(f"推荐数量不足：每省应推荐 {batch.quota_min}–{batch.quota_max} 个县（区），当前 {total} 个。")
    found = [p for n in drafts for p in _ready(n)]
    if found:
        raise Refused("以下推荐尚不能报送：" + "；".join(found))
    with transaction.atomic():
        for n in drafts:
            _transition(n, NominationStatus.SUBMITTED, "签发报送", user, f"签发人：{signatory.strip()}")
        ProvinceSubmission.objects.update_or_create(
            batch=batch, province=province, defaults={"signatory": signatory.strip(), "submitted_by": user}
        )
        notify(
            users_of(Role.MINISTRY),
            f"submitted-{batch.pk}-{province.code}-{timezone.now():%Y%m%d%H%M%S}",
            f"{province.name}报送了{batch.name}推荐（{len(drafts)} 个县（区））。",
            reverse("programme:batch", args=[batch.number]),
        )
    return len(drafts)


def resubmit(user: User, nomination: Nomination) -> None:
    """A returned nomination, corrected, goes back to the ministry (allowed after the deadline: it was returned)."""
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_province(user, nomination.province)
    if nomination.status != NominationStatus.RETURNED:
        raise Refused("只有被退回的推荐可以重新报送。")
    if nomination.batch.status not in (BatchStatus.OPEN, BatchStatus.CLOSED):
        raise Refused("名单已公布，不能重新报送。")
    found = _ready(nomination)
    if found:
        raise Refused("尚不能报送：" + "；".join(found))
    with transaction.atomic():
        _transition(nomination, NominationStatus.SUBMITTED, "修改后重新报送", user)


def set_verdicts(user: User, nomination: Nomination, condition1: str, condition3: str) -> None:
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_ministry(user)
    valid = set(Verdict.values)
    if condition1 not in valid or condition3 not in valid:
        raise Refused("请选择条件一、条件三的核定结论。")
    with transaction.atomic():
        write_if(
            Nomination, nomination.pk, what="该推荐", where={"status": nomination.status},
            values={"condition1": condition1, "condition3": condition3}, conflict=_conflict,
        )  # fmt: skip
        nomination.condition1, nomination.condition3 = condition1, condition3
        _audit_verdicts(user, nomination, condition1, condition3)


def _audit_verdicts(user: User, nomination: Nomination, condition1: str, condition3: str) -> None:
    audit(
        "nomination",
        nomination,
        "核定遴选条件",
        user,
        nomination.status,
        nomination.status,
        f"条件一：{Verdict(condition1).label}；条件三：{Verdict(condition3).label}",
    )


def review(user: User, nomination: Nomination, decision: str, reason: str = "") -> None:
    """The ministry confirms, returns (with reason) or rejects (with reason) a submitted nomination."""
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_ministry(user)
    if nomination.status != NominationStatus.SUBMITTED:
        raise Refused(f"推荐当前为「{nomination.get_status_display()}」，只能审核已报送的推荐。")
    if nomination.batch.status == BatchStatus.PUBLISHED:
        raise Refused("名单已公布，不能再审核。")
    reason = reason.strip()
    url = reverse("programme:nomination", args=[nomination.pk])
    county = nomination.county.name
    if decision == "confirm":
        if nomination.condition1 != Verdict.MET or nomination.condition3 != Verdict.MET:
            raise Refused("确认前请先核定遴选条件一和条件三均为「符合」。")
        if eligibility(nomination, nomination.batch)[0] is not True:
            raise Refused("该县（区）不符合遴选条件二，不能确认。")
        with transaction.atomic():
            _transition(nomination, NominationStatus.CONFIRMED, "确认", user, reason)
            notify(
                users_of(Role.PROVINCE, nomination.province),
                f"confirmed-{nomination.pk}",
                f"教育部已确认{county}为先行创建县（待公布）。",
                url,
            )
        return
    if decision not in ("return", "reject"):
        raise Refused("未知的审核操作。", 404)
    if not reason:
        raise Refused("退回或不通过时必须填写理由。")
    target, label, text = (
        (NominationStatus.RETURNED, "退回修改", "退回修改")
        if decision == "return"
        else (NominationStatus.REJECTED, "不予确认", "不予确认")
    )
    with transaction.atomic():
        _transition(nomination, target, label, user, reason, reason=reason)
        notify(
            users_of(Role.PROVINCE, nomination.province),
            f"{decision}-{nomination.pk}-{timezone.now():%Y%m%d%H%M%S}",
            f"教育部{text}{county}的推荐：{reason}",
            url,
        )


def quota_used(batch: Batch, province: OrgUnit) -> int:
    return batch.nominations.filter(province=province, status__in=ACTIVE).count()


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
        raise Refused(f"{county.name}不是已公布的先行创建县，无需编制实施方案。", 404)
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
        raise Refused(f"实施方案当前为「{plan.get_status_display()}」，不能修改。")
    known = {i.code for i in catalogue().items}
    unknown = [c for c in items if c not in known]
    if unknown:
        raise Refused("未知的攻坚清单项：" + "、".join(unknown))
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
            raise Refused(f"实施方案当前为「{plan.get_status_display()}」，不能报送。")
        found = plan_problems(plan)
        if found:
            raise Refused("实施方案尚不能报送：" + "；".join(found))
        target, label = PlanStatus.SUBMITTED, "报送实施方案"
        note = (users_of(Role.PROVINCE, province), f"{plan.county.name}报送了创建工作实施方案，请审核。")
    elif action in ("accept", "return"):
        require_province(user, province)
        if plan.status != PlanStatus.SUBMITTED:
            raise Refused(f"实施方案当前为「{plan.get_status_display()}」，只能审核已报送的方案。")
        if action == "return" and not reason:
            raise Refused("退回时必须填写理由。")
        target, label = (
            (PlanStatus.ACCEPTED, "审核通过实施方案") if action == "accept" else (PlanStatus.RETURNED, "退回实施方案")
        )
        text = "省级已审核通过实施方案。" if action == "accept" else f"省级退回实施方案：{reason}"
        note = (users_of(Role.COUNTY, plan.county), text)
    else:
        raise Refused("未知的操作。", 404)
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
        raise Refused("实施方案经省级审核通过后才能报送进展。")
    if not period.strip():
        raise Refused("请填写报告期。")
    allowed = set(plan.items)
    for e in experiences:
        if e["item"] not in allowed:
            raise Refused(f"经验所属攻坚清单项 {e['item']} 不在本县实施方案所选项目中。")
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
    if action == "submit":
        require_county(user, report.county)
        sources, target, label = (ReportStatus.DRAFT, ReportStatus.RETURNED), ReportStatus.SUBMITTED, "报送进展报告"
        note = (users_of(Role.PROVINCE, province), f"{report.county.name}报送了{report.period}进展报告。")
    elif action in ("forward", "return"):
        require_province(user, province)
        sources = (ReportStatus.SUBMITTED,)
        if action == "return" and not reason:
            raise Refused("退回时必须填写理由。")
        target, label = (
            (ReportStatus.FORWARDED, "转报教育部") if action == "forward" else (ReportStatus.RETURNED, "退回进展报告")
        )
        note = (
            (users_of(Role.MINISTRY), f"{province.name}转报了{report.county.name}{report.period}进展报告。")
            if action == "forward"
            else (users_of(Role.COUNTY, report.county), f"省级退回{report.period}进展报告：{reason}")
        )
    else:
        raise Refused("未知的操作。", 404)
    if report.status not in sources:
        raise Refused(f"进展报告当前为「{report.get_status_display()}」，不能{label}。")
    with transaction.atomic():
        before = _advance(report, target, sources, "该进展报告", reason=reason if action == "return" else "")
        audit("report", report, label, user, before, target, reason)
        notify(note[0], f"report-{report.pk}-{action}-{timezone.now():%Y%m%d%H%M%S%f}", note[1], url)


def publish_experience(user: User, experience: Experience, publish: bool = True) -> None:
    experience.refresh_from_db()  # the state as stored, not as the caller last read it
    require_ministry(user)
    if experience.report.status != ReportStatus.FORWARDED:
        raise Refused("只有已报教育部的进展报告中的经验可以发布为典型经验。")
    if experience.published == publish:
        raise Refused("该经验已发布为典型经验。" if publish else "该经验尚未发布。")
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
