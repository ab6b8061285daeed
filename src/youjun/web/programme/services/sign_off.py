"""A province's sign-off of its nominations under its stamped letter (and the resubmission of a returned one),
then the ministry's review: verdicts on conditions 1 and 3, and the decision (confirm, return, reject).

Nothing here runs on a page view. Each irreversible move has a ``check_…`` twin that raises the same refusals
without writing, so that a page can refuse at once or ask for the user's confirmation first
(``youjun.web.shortcuts.confirmation_page``); the move itself checks again inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import (
    Attachment,
    AttachmentKind,
    Batch,
    BatchStatus,
    Nomination,
    NominationStatus,
    ProvinceSubmission,
    Verdict,
)
from youjun.web.programme.services.batches import _check_deadline, _invalid
from youjun.web.programme.services.common import (
    ACTIVE,
    _conflict,
    audit,
    notify,
    require_ministry,
    require_province,
    users_of,
)
from youjun.web.programme.services.nominations import _transition, eligibility, ready_problems
from youjun.web.shortcuts import refusal
from youjun.web.workflow import write_if


@dataclass(frozen=True)
class SignOff:
    """What a province's sign-off would send: the drafts, the letter, the signatory."""

    drafts: list[Nomination]
    letter: Attachment
    signatory: str


def letter_of(batch: Batch, province: OrgUnit) -> Attachment | None:
    """The province's stamped letter for the batch (the latest upload not deleted)."""
    return (
        Attachment.objects.filter(batch=batch, unit=province, kind=AttachmentKind.LETTER, deleted_at=None)
        .order_by("-uploaded_at", "-pk")
        .first()
    )


def check_submit_set(
    user: User, batch: Batch, province: OrgUnit, signatory: str, now: dt.datetime | None = None
) -> SignOff:
    """Refuse a sign-off that cannot be made; otherwise what it would send."""
    require_province(user, province)
    _check_deadline(batch, province, now)
    drafts = list(
        batch.nominations.filter(province=province, status=NominationStatus.DRAFT).select_related(
            "county__parent", "batch"
        )
    )
    if not drafts:
        raise refusal("没有待报送的推荐。")
    if not signatory.strip():
        raise _invalid([("signatory", "请填写签发人")])
    if len(signatory.strip()) > 64:
        raise _invalid([("signatory", "签发人最多 64 个字")])
    total = batch.nominations.filter(province=province, status__in=ACTIVE).count()
    if total > batch.quota_max:
        raise refusal(f"超出推荐名额：每省最多推荐 {batch.quota_max} 个县（区），当前 {total} 个。")
    if total < batch.quota_min:
        raise refusal(f"推荐数量不足：每省应推荐 {batch.quota_min}–{batch.quota_max} 个县（区），当前 {total} 个。")
    found = [p for n in drafts for p in ready_problems(n)]
    if found:
        raise refusal("以下推荐尚不能报送：" + "；".join(found))
    letter = letter_of(batch, province)
    if letter is None:
        raise refusal("请先上传加盖省级教育行政部门公章的推荐文件扫描件（盖章扫描件），再签发报送。")
    return SignOff(drafts, letter, signatory.strip())


def submit_set(user: User, batch: Batch, province: OrgUnit, signatory: str, now: dt.datetime | None = None) -> int:
    """The province signs off and submits every nomination still being filled, under its stamped letter; quota
    min/max on the whole set. Afterwards the province adds no county to the batch."""
    sign_off = check_submit_set(user, batch, province, signatory, now)
    with transaction.atomic():
        for n in sign_off.drafts:
            _transition(n, NominationStatus.SUBMITTED, "签发报送", user, f"签发人：{sign_off.signatory}")
        ProvinceSubmission.objects.update_or_create(
            batch=batch,
            province=province,
            defaults={"signatory": sign_off.signatory, "submitted_by": user, "letter": sign_off.letter},
        )
        names = "、".join(n.county.local_name for n in sign_off.drafts)
        notify(
            users_of(Role.MINISTRY),
            f"submitted-{batch.pk}-{province.code}-{timezone.now():%Y%m%d%H%M%S}",
            f"{province.name}报送了{batch.name}推荐（{len(sign_off.drafts)} 个县（区）：{names}）。",
            reverse("programme:province", args=[batch.number, province.code]),
        )
    return len(sign_off.drafts)


def resubmit(user: User, nomination: Nomination) -> None:
    """A returned nomination, corrected, goes back to the ministry (allowed after the deadline: it was returned)."""
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    require_province(user, nomination.province)
    if nomination.status != NominationStatus.RETURNED:
        raise refusal("只有被退回的推荐可以重新报送。")
    if nomination.batch.status not in (BatchStatus.OPEN, BatchStatus.CLOSED):
        raise refusal("名单已公布，不能重新报送。")
    found = ready_problems(nomination)
    if found:
        raise refusal("尚不能报送：" + "；".join(found))
    with transaction.atomic():
        _transition(nomination, NominationStatus.SUBMITTED, "修改后重新报送", user)
        notify(
            users_of(Role.MINISTRY),
            f"resubmitted-{nomination.pk}-{timezone.now():%Y%m%d%H%M%S}",
            f"{nomination.province.name}修改后重新报送了{nomination.county.local_name}的推荐。",
            reverse("programme:nomination", args=[nomination.pk]),
        )


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


REVIEWS = {
    "confirm": (NominationStatus.CONFIRMED, "确认"),
    "return": (NominationStatus.RETURNED, "退回修改"),
    "reject": (NominationStatus.REJECTED, "不予确认"),
}


def check_review(user: User, nomination: Nomination, decision: str, reason: str = "") -> None:
    """Refuse a review that cannot be made now (role, state, verdicts, condition 2, the reason)."""
    require_ministry(user)
    if decision not in REVIEWS:
        raise refusal("未知的审核操作。", 404)
    if nomination.status != NominationStatus.SUBMITTED:
        raise refusal(f"推荐当前为「{nomination.get_status_display()}」，只能审核已报送的推荐。")
    if nomination.batch.status == BatchStatus.PUBLISHED:
        raise refusal("名单已公布，不能再审核。")
    if decision == "confirm":
        if nomination.condition1 != Verdict.MET or nomination.condition3 != Verdict.MET:
            raise refusal("确认前请先核定遴选条件一和条件三均为「符合」。")
        if eligibility(nomination, nomination.batch)[0] is not True:
            raise refusal("该县（区）不符合遴选条件二，不能确认。")
    elif not reason.strip():
        raise refusal("退回或不通过时必须填写理由。")


def review(user: User, nomination: Nomination, decision: str, reason: str = "") -> None:
    """The ministry confirms, returns (with reason) or rejects (with reason) a submitted nomination."""
    nomination.refresh_from_db()  # the state as stored, not as the caller last read it
    check_review(user, nomination, decision, reason)
    reason = reason.strip()
    target, label = REVIEWS[decision]
    url = reverse("programme:nomination", args=[nomination.pk])
    county = nomination.county.local_name
    with transaction.atomic():
        if decision == "confirm":
            _transition(nomination, target, label, user, reason)
            notify(
                users_of(Role.PROVINCE, nomination.province),
                f"confirmed-{nomination.pk}",
                f"教育部已确认{county}为先行创建县（待公布）。",
                url,
            )
            return
        _transition(nomination, target, label, user, reason, reason=reason)
        notify(
            users_of(Role.PROVINCE, nomination.province),
            f"{decision}-{nomination.pk}-{timezone.now():%Y%m%d%H%M%S}",
            f"教育部{label}{county}的推荐：{reason}",
            url,
        )
