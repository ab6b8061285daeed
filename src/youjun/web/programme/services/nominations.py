"""Nominations (the provinces): condition 2 (eligibility), nominating a county within the quota and the
deadline, the recommendation form's entries, withdrawing, and whether a nomination is ready to be submitted (the
form, condition 2, the evidence files the notice asks for).

Nothing here runs on a page view. Each irreversible move has a ``check_…`` twin that raises the same refusals
without writing, so that a page can refuse at once or ask for the user's confirmation first
(``youjun.web.shortcuts.confirmation_page``); the move itself checks again inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse

from youjun.errors import Problem, YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.organisation.selectors import basic_balance_year
from youjun.web.programme import recommendation, recommendation_docs
from youjun.web.programme.models import AttachmentKind, Batch, Nomination, NominationStatus, Verdict
from youjun.web.programme.services.batches import _check_deadline, _check_not_signed_off
from youjun.web.programme.services.common import (
    ACTIVE,
    MISSING_YEAR,
    _advance,
    _conflict,
    audit,
    notify,
    province_of,
    require_province,
    users_of,
)
from youjun.web.shortcuts import refusal
from youjun.web.workflow import write_if

#: The evidence the notice asks for on the recommendation form, by condition.
EVIDENCE_KINDS = {
    AttachmentKind.CONDITION_1: "条件一（党委政府重视）",
    AttachmentKind.CONDITION_3: "条件三（良好教育生态）",
}


def eligibility(nomination_or_year: Nomination | int | None, batch: Batch) -> tuple[bool | None, str]:
    """Condition 2: passed national basic-balance recognition at least ``min_years`` before the batch year.
    (True, text) met; (False, text) not met; (None, text) the year is not recorded."""
    if isinstance(nomination_or_year, Nomination):
        year = basic_balance_year(nomination_or_year.county)
    else:
        year = nomination_or_year
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
    _check_not_signed_off(batch, province)
    _check_place(batch, province, county)
    ok, text = eligibility(basic_balance_year(county), batch)
    if ok is False:
        raise refusal(f"{county.name}不符合遴选条件：{text}")
    defn = recommendation.definition()
    values = recommendation.data_values(defn, recommendation.context(county, batch.year, batch.min_years))
    with transaction.atomic():
        # Nominations of one batch one after another, so that two at once cannot both take the last place.
        Batch.objects.select_for_update().filter(pk=batch.pk).first()
        _check_not_signed_off(batch, province)
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
    """A nomination's form is edited while it is filled in and after the ministry returned it."""
    return nomination.status in (NominationStatus.DRAFT, NominationStatus.RETURNED)


def save_form(
    user: User, nomination: Nomination, values: dict[str, Any], unreadable: list[Problem] | None = None
) -> None:
    """Store the province's entries. Entries that do not fit their field (type, bounds, phone, e-mail) refuse the
    whole save, each problem located by its field key, together with the ``unreadable`` ones the page could not
    even read (all reported at once); an incomplete form is saved (completeness is checked when it is submitted).
    Live and data fields are never taken from the request."""
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_province(user, nomination.province)
    if not editable(nomination):
        raise refusal(f"推荐当前为「{nomination.get_status_display()}」，不能修改。")
    defn = recommendation.definition_of(nomination.form_id, nomination.form_version)
    fixed = recommendation.locked(defn, set(nomination.data_keys))
    entered = {k: v for k, v in values.items() if k not in fixed}
    bad = {(p.location.field or "").split(".")[0] for p in unreadable or []}
    found = [*(unreadable or []), *recommendation.check(defn, {k: v for k, v in entered.items() if k not in bad})]
    order = {f.key: i for i, f in enumerate(defn.fields)}
    found.sort(key=lambda p: order.get((p.location.field or "").split(".")[0], len(order)))  # as the form runs
    if found:
        raise YoujunError(found)
    merged = {**nomination.values, **entered}
    editable_states = (NominationStatus.DRAFT, NominationStatus.RETURNED)
    write_if(
        Nomination, nomination.pk, what="该推荐", where={"status__in": editable_states}, values={"values": merged},
        conflict=_conflict,
    )  # fmt: skip
    nomination.values = merged


def check_withdraw(user: User, nomination: Nomination) -> None:
    require_province(user, nomination.province)
    if not editable(nomination):
        raise refusal(f"推荐当前为「{nomination.get_status_display()}」，不能撤回。")


def withdraw(user: User, nomination: Nomination, reason: str = "") -> None:
    """Take a county out of the batch (frees its place); the ministry is told when it had returned the form."""
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    check_withdraw(user, nomination)
    was_returned = nomination.status == NominationStatus.RETURNED
    with transaction.atomic():
        _transition(nomination, NominationStatus.WITHDRAWN, "撤回推荐", user, reason)
        if was_returned:
            notify(
                users_of(Role.MINISTRY),
                f"withdrawn-{nomination.pk}",
                f"{nomination.province.name}撤回了{nomination.county.local_name}的推荐（曾退回修改）。",
                reverse("programme:nomination", args=[nomination.pk]),
            )


def _transition(nomination: Nomination, target: str, label: str, user: User, note: str = "", **changes: Any) -> None:
    """Move a nomination from the state it was read in (inside the caller's transaction), and audit it."""
    before = _advance(nomination, target, [nomination.status], "该推荐", **changes)
    audit("nomination", nomination, label, user, before, target, note)


def missing_evidence(nomination: Nomination) -> list[str]:
    """The conditions whose evidence file is not uploaded yet (the notice asks for evidence of 1 and 3)."""
    have = set(nomination.attachments.filter(deleted_at=None).values_list("kind", flat=True))
    return [f"请上传{label}佐证材料" for kind, label in EVIDENCE_KINDS.items() if kind not in have]


def ready_problems(nomination: Nomination) -> list[str]:
    """Why a nomination cannot be submitted (empty when it can): the form, condition 2, the evidence files."""
    defn, values = recommendation_docs.values_of(nomination)
    name = nomination.county.local_name
    found = [f"{name}：{recommendation.described(defn, p)}" for p in recommendation.problems(defn, values)]
    ok, text = eligibility(nomination, nomination.batch)
    if ok is not True:
        found.append(f"{name}：{text}")
    found += [f"{name}：{m}" for m in missing_evidence(nomination)]
    return found


def quota_used(batch: Batch, province: OrgUnit) -> int:
    """The places the province's live nominations hold (withdrawn and rejected ones free theirs)."""
    return batch.nominations.filter(province=province, status__in=ACTIVE).count()
