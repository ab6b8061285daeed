"""Batches (the ministry) and nominations (the provinces, reviewed and published by the ministry)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import recommendation
from youjun.web.programme.models import (
    Batch,
    BatchStatus,
    Extension,
    Nomination,
    NominationStatus,
    ProvinceSubmission,
    Verdict,
)
from youjun.web.programme.services.common import (
    ACTIVE,
    MISSING_YEAR,
    REMIND_DAYS,
    _advance,
    _conflict,
    audit,
    notify,
    province_of,
    require_ministry,
    require_province,
    users_of,
)
from youjun.web.shortcuts import refusal
from youjun.web.workflow import write_if

# ----------------------------------------------------------------------------------------------------
# Batches


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
        raise refusal("推荐名额下限应不小于 1，且不大于上限。")
    if not name.strip():
        raise refusal("请填写批次名称。")
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
        raise refusal("未知的操作。", 404)
    sources, target, label = BATCH_MOVES[action]
    if batch.status not in sources:
        raise refusal(f"批次当前状态为「{batch.get_status_display()}」，不能{label}。")
    if action == "publish":
        pending = batch.nominations.filter(status__in=(NominationStatus.SUBMITTED, NominationStatus.RETURNED)).count()
        if pending:
            raise refusal(f"尚有 {pending} 个推荐未审核完毕（已报送或已退回修改），不能公布名单。")
        if not batch.nominations.filter(status=NominationStatus.CONFIRMED).exists():
            raise refusal("还没有确认的先行创建县，不能公布名单。")
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
        raise refusal("只有推荐中的批次可以延期。")
    if deadline <= batch.deadline:
        raise refusal("延期后的截止时间应晚于批次截止时间。")
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
        raise refusal(f"{batch.name}当前为「{batch.get_status_display()}」，不接受推荐。")
    deadline = effective_deadline(batch, province)
    if (now or timezone.now()) > deadline:
        raise refusal(
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
        raise refusal("只能推荐县级单位（县、市、区、旗）。")
    _check_deadline(batch, province, now)
    _check_place(batch, province, county)
    defn = recommendation.definition()
    ctx = recommendation.context(county, batch.year, batch.min_years)
    bb_year = ctx["inputs"]["basic_balance_year"]
    ok, text = eligibility(bb_year, batch)
    if ok is False:
        raise refusal(f"{county.name}不符合遴选条件：{text}")
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
        raise refusal(f"{county.name}已在本批次推荐名单中。")
    if Nomination.objects.filter(county=county, status=NominationStatus.CONFIRMED).exclude(batch=batch).exists():
        raise refusal(f"{county.name}已是先行创建县，不能重复推荐。")
    used = Nomination.objects.filter(batch=batch, province=province, status__in=ACTIVE).count()
    if used >= batch.quota_max:
        raise refusal(f"超出推荐名额：每省最多推荐 {batch.quota_max} 个县（区），{province.name}已推荐 {used} 个。")


def editable(nomination: Nomination) -> bool:
    return nomination.status in (NominationStatus.DRAFT, NominationStatus.RETURNED)


def save_form(user: User, nomination: Nomination, values: dict[str, Any]) -> None:
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_province(user, nomination.province)
    if not editable(nomination):
        raise refusal(f"推荐当前为「{nomination.get_status_display()}」，不能修改。")
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
        raise refusal(f"推荐当前为「{nomination.get_status_display()}」，不能撤回。")
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
        raise refusal("请填写签发人。")
    drafts = list(batch.nominations.filter(province=province, status=NominationStatus.DRAFT).select_related("county"))
    if not drafts:
        raise refusal("没有待报送的推荐。")
    total = batch.nominations.filter(province=province, status__in=ACTIVE).count()
    if total > batch.quota_max:
        raise refusal(f"超出推荐名额：每省最多推荐 {batch.quota_max} 个县（区），当前 {total} 个。")
    if total < batch.quota_min:
        raise refusal(f"推荐数量不足：每省应推荐 {batch.quota_min}–{batch.quota_max} 个县（区），当前 {total} 个。")
    found = [p for n in drafts for p in _ready(n)]
    if found:
        raise refusal("以下推荐尚不能报送：" + "；".join(found))
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
        raise refusal("只有被退回的推荐可以重新报送。")
    if nomination.batch.status not in (BatchStatus.OPEN, BatchStatus.CLOSED):
        raise refusal("名单已公布，不能重新报送。")
    found = _ready(nomination)
    if found:
        raise refusal("尚不能报送：" + "；".join(found))
    with transaction.atomic():
        _transition(nomination, NominationStatus.SUBMITTED, "修改后重新报送", user)


def set_verdicts(user: User, nomination: Nomination, condition1: str, condition3: str) -> None:
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_ministry(user)
    valid = set(Verdict.values)
    if condition1 not in valid or condition3 not in valid:
        raise refusal("请选择条件一、条件三的核定结论。")
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
        raise refusal(f"推荐当前为「{nomination.get_status_display()}」，只能审核已报送的推荐。")
    if nomination.batch.status == BatchStatus.PUBLISHED:
        raise refusal("名单已公布，不能再审核。")
    reason = reason.strip()
    url = reverse("programme:nomination", args=[nomination.pk])
    county = nomination.county.name
    if decision == "confirm":
        if nomination.condition1 != Verdict.MET or nomination.condition3 != Verdict.MET:
            raise refusal("确认前请先核定遴选条件一和条件三均为「符合」。")
        if eligibility(nomination, nomination.batch)[0] is not True:
            raise refusal("该县（区）不符合遴选条件二，不能确认。")
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
        raise refusal("未知的审核操作。", 404)
    if not reason:
        raise refusal("退回或不通过时必须填写理由。")
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
