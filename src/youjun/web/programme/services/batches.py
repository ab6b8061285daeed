"""Batches (the ministry): their settings, creation and moves (open, close, publish, with the notices they
send), per-province extensions and the deadline each province works to, and the deadline reminders.

Nothing here runs on a page view. Each irreversible move has a ``check_…`` twin that raises the same refusals
without writing, so that a page can refuse at once or ask for the user's confirmation first
(``youjun.web.shortcuts.confirmation_page``); the move itself checks again inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from youjun.errors import Location, Problem, YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import Batch, BatchStatus, Extension, NominationStatus, ProvinceSubmission
from youjun.web.programme.services.common import (
    REMIND_DAYS,
    _advance,
    audit,
    list_title,
    notify,
    require_ministry,
    users_of,
)
from youjun.web.shortcuts import refusal

#: The creation programme began with the 2021 notice; its last pilots are due by 2035.
FIRST_BATCH_YEAR, LAST_BATCH_YEAR = 2021, 2035


MAX_MIN_YEARS = 20


def _invalid(problems: list[tuple[str, str]]) -> YoujunError:
    """A refusal of a form: one problem per field (``key``, message), shown beside the field and in the summary."""
    return YoujunError([Problem("form_invalid", message, "error", Location(field=key)) for key, message in problems])


def remind_deadlines(user: User, now: dt.datetime | None = None) -> None:
    """Deadline reminders for a province user: an open batch whose (extended) deadline is within a week and whose
    nominations the province has not all submitted. Idempotent (one reminder per batch and user).

    Not called by any page (a GET writes nothing): the reminders' job calls it; pages show the same deadlines live
    (``selectors.upcoming_deadlines``)."""
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


def check_batch_settings(
    *, name: str, year: int | None, deadline: dt.datetime | None, quota_min: int | None, quota_max: int | None,
    min_years: int | None, now: dt.datetime | None = None,
) -> None:  # fmt: skip
    """Every problem of a new batch's settings at once, located by field."""
    found: list[tuple[str, str]] = []
    if not name.strip():
        found.append(("name", "请填写批次名称"))
    elif len(name.strip()) > 100:
        found.append(("name", "批次名称最多 100 个字"))
    if year is None:
        found.append(("year", "请填写批次年度（四位年份）"))
    elif not FIRST_BATCH_YEAR <= year <= LAST_BATCH_YEAR:
        found.append(("year", f"批次年度应在 {FIRST_BATCH_YEAR}–{LAST_BATCH_YEAR} 之间"))
    if deadline is None:
        found.append(("deadline", "请填写推荐截止时间"))
    elif deadline <= (now or timezone.now()):
        found.append(("deadline", "推荐截止时间应晚于现在"))
    if quota_min is None or quota_min < 1:
        found.append(("quota_min", "每省推荐下限应为不小于 1 的整数"))
    if quota_max is None or quota_max < 1:
        found.append(("quota_max", "每省推荐上限应为不小于 1 的整数"))
    elif quota_min is not None and quota_min >= 1 and quota_min > quota_max:
        found.append(("quota_max", "推荐名额下限应不小于 1，且不大于上限。"))
    if min_years is None or not 0 <= min_years <= MAX_MIN_YEARS:
        found.append(("min_years", f"认定年限应为 0–{MAX_MIN_YEARS} 之间的整数"))
    if found:
        raise _invalid(found)


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
    check_batch_settings(
        name=name, year=year, deadline=deadline, quota_min=quota_min, quota_max=quota_max, min_years=min_years
    )
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


def check_move_batch(user: User, batch: Batch, action: str) -> int:
    """Refuse a batch move that cannot be made now; for ``publish``, the number of counties to be published."""
    require_ministry(user)
    if action not in BATCH_MOVES:
        raise refusal("未知的操作。", 404)
    sources, _target, label = BATCH_MOVES[action]
    if batch.status not in sources:
        raise refusal(f"批次当前状态为「{batch.get_status_display()}」，不能{label}。")
    if action != "publish":
        return 0
    pending = batch.nominations.filter(status__in=(NominationStatus.SUBMITTED, NominationStatus.RETURNED)).count()
    if pending:
        raise refusal(f"尚有 {pending} 个推荐未审核完毕（已报送或已退回修改），不能公布名单。")
    confirmed = batch.nominations.filter(status=NominationStatus.CONFIRMED).count()
    if not confirmed:
        raise refusal("还没有确认的先行创建县，不能公布名单。")
    return confirmed


def move_batch(user: User, batch: Batch, action: str, published_on: dt.date | None = None) -> None:
    """Open, close or publish a batch. The published list is public from ``published_on`` (today by default)."""
    batch.refresh_from_db()  # the state as stored, not as the caller last read it
    check_move_batch(user, batch, action)
    sources, target, label = BATCH_MOVES[action]
    if action == "publish":
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
            _notify_publication(batch)


def _notify_publication(batch: Batch) -> None:
    day = batch.published_on or timezone.localdate()
    when = f"已公布（{day:%Y-%m-%d}）" if day <= timezone.localdate() else f"已确定，将于 {day:%Y-%m-%d} 公布"
    notify(
        users_of(Role.PROVINCE),
        f"batch-published-{batch.pk}",
        f"{list_title(batch)}{when}。",
        reverse("programme:public"),
    )
    pilots = batch.nominations.filter(status=NominationStatus.CONFIRMED).select_related("county__parent")
    for n in pilots:
        notify(
            users_of(Role.COUNTY, n.county),
            f"pilot-{n.pk}",
            f"{n.county.local_name}已列入{list_title(batch)}，请编制创建工作实施方案。",
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


def submission_of(batch: Batch, province: OrgUnit) -> ProvinceSubmission | None:
    return ProvinceSubmission.objects.filter(batch=batch, province=province).select_related("letter").first()


def _check_not_signed_off(batch: Batch, province: OrgUnit) -> None:
    if ProvinceSubmission.objects.filter(batch=batch, province=province).exists():
        raise refusal(f"{province.name}已签发报送{batch.name}的推荐，不能再增加推荐县（区）。")
