"""A campaign's life: created as a draft with a snapshot of today's questionnaires, its groups' counters and
quotas (a cap never below the answers counted), its state moves (open, close, reopen) as conditional UPDATEs with
one ``CampaignEvent`` each, and the label of its county on pages listing several.

Closing and reopening mark the county-year's stored result stale in the same transaction (the signal) and recompute
it after the commit; a lost race is a Chinese conflict and nothing is logged for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from youjun.errors import Location, Problem, YoujunError
from youjun.web.accounts.models import User
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.rulesets import services as rulesets
from youjun.web.signals import county_data_changed
from youjun.web.survey import questionnaires
from youjun.web.survey.models import Campaign, CampaignAction, CampaignEvent, CampaignStatus, GroupCount, Response
from youjun.web.survey.services.rules import answer_cap, rules_for

MAX_REASON = 500


def create_campaign(
    county: OrgUnit,
    year: int,
    title: str,
    population: int | None,
    quotas: dict[str, int],
    user: User | None,
    *,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Campaign:
    """A draft campaign with a snapshot of today's questionnaires, answer scale and protections."""
    standard = rulesets.ref_for(county, year)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            county=county,
            year=year,
            title=title,
            population=population,
            quotas=quotas,
            questionnaire=questionnaires.snapshot(rules_for(standard), standard),
            created_by=user,
            opens_at=opens_at,
            closes_at=closes_at,
        )
        ensure_counts(campaign)
    return campaign


def ensure_counts(campaign: Campaign) -> None:
    """A counter row for every group of the snapshot; rows that exist are left alone, new ones are settled."""
    have = set(GroupCount.objects.filter(campaign=campaign).values_list("group", flat=True))
    missing = [g for g, _ in questionnaires.ordered_groups(campaign.questionnaire) if g not in have]
    if missing:
        rows = [GroupCount(campaign=campaign, group=g, cap=answer_cap(campaign, g), counted=0) for g in missing]
        GroupCount.objects.bulk_create(rows, ignore_conflicts=True)
        _settle(campaign, missing)


def recount(campaign: Campaign) -> None:
    """Set each group's counter to its stored answers (after a bulk import such as the demo data): the first
    ``cap`` by arrival are counted, later ones become excess."""
    with transaction.atomic():
        ensure_counts(campaign)
        _settle(campaign, [g for g, _ in questionnaires.ordered_groups(campaign.questionnaire)])


def _settle(campaign: Campaign, groups: list[str]) -> None:
    with transaction.atomic():
        for row in GroupCount.objects.select_for_update().filter(campaign=campaign, group__in=groups):
            ids = list(
                Response.objects.filter(campaign=campaign, group=row.group, excess=False)
                .order_by("id")
                .values_list("id", flat=True)
            )
            if len(ids) > row.cap:
                Response.objects.filter(id__in=ids[row.cap :]).update(excess=True)
            GroupCount.objects.filter(pk=row.pk).update(counted=min(len(ids), row.cap))


def save_quotas(campaign: Campaign, population: int | None, quotas: dict[str, int]) -> None:
    """New population and quotas; each group's answer cap follows, but never below the answers it already counts
    (refused with the figures: the answers counted stay counted)."""
    with transaction.atomic():
        ensure_counts(campaign)
        rows = list(GroupCount.objects.select_for_update().filter(campaign=campaign).order_by("group"))
        names = {g: spec["name"] for g, spec in questionnaires.ordered_groups(campaign.questionnaire)}
        caps = {row.group: answer_cap(campaign, row.group, quotas) for row in rows}
        problems = [
            Problem(
                "survey.quota_below_counted",
                f"{names.get(row.group, row.group)}已计入 {row.counted} 份答卷，样本数加余量（{caps[row.group]}）"
                "不能少于已计入的份数。",
                "error",
                Location(field=f"quota_{row.group}"),
            )
            for row in rows
            if caps[row.group] < row.counted
        ]
        if problems:
            raise YoujunError(problems)
        for row in rows:
            if row.cap != caps[row.group]:
                GroupCount.objects.filter(pk=row.pk).update(cap=caps[row.group])
        Campaign.objects.filter(pk=campaign.pk).update(population=population, quotas=quotas)
    campaign.population, campaign.quotas = population, quotas


# ----------------------------------------------------------------------------------------------------
# State moves


#: action → (the state it starts from, the state it leads to)
MOVES = {
    CampaignAction.OPEN: (CampaignStatus.DRAFT, CampaignStatus.OPEN),
    CampaignAction.CLOSE: (CampaignStatus.OPEN, CampaignStatus.CLOSED),
    CampaignAction.REOPEN: (CampaignStatus.CLOSED, CampaignStatus.OPEN),
}


def transition(
    campaign: Campaign, action: str, user: User | None, reason: str = "", *, seen: int | None = None
) -> CampaignEvent:
    """Move the campaign (open, close, reopen) and record who, when and why; reopening needs a reason.

    The move is ``UPDATE … WHERE status = <source state>``: of two officials closing at once one wins, the other
    gets a ``YoujunError`` (a Chinese conflict message) and nothing is logged for it. ``seen`` (the latest event
    the official's page showed) refuses a page made stale by a move in between (closed and reopened meanwhile).
    Closing and reopening mark the county-year's stored result stale and recompute it after the commit.
    """
    if action not in MOVES:
        raise YoujunError.single("survey.action", "不支持的操作。")
    source, target = MOVES[CampaignAction(action)]
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise YoujunError.single(
            "survey.reason_too_long", f"原因不能超过 {MAX_REASON} 个字（现为 {len(reason)} 个字）。"
        )
    if action == CampaignAction.REOPEN and not reason:
        raise YoujunError.single("survey.reason_required", "重新开始调查须填写原因（例如：补充收集某类对象的答卷）。")
    now = timezone.now()
    fields: dict[str, Any] = {"status": target}
    if target == CampaignStatus.OPEN:
        fields |= {"opened_by": user, "opened_at": now, "closed_by": None, "closed_at": None}
    else:
        fields |= {"closed_by": user, "closed_at": now}
    with transaction.atomic():
        moved = Campaign.objects.filter(pk=campaign.pk, status=source).update(**fields)
        latest = CampaignEvent.objects.filter(campaign_id=campaign.pk).aggregate(m=Max("id"))["m"] or 0
        if not moved or (seen is not None and latest != seen):
            current = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
            raise _conflict(current)  # leaves the atomic block: the UPDATE is rolled back
        event = CampaignEvent.objects.create(
            campaign_id=campaign.pk,
            action=action,
            from_status=source,
            to_status=target,
            user=user,
            at=now,
            reason=reason,
        )
        if action in (CampaignAction.CLOSE, CampaignAction.REOPEN):
            _refresh(campaign.county, campaign.year)
    campaign.refresh_from_db()
    return event


def check_move(campaign: Campaign, action: str, seen: int | None = None) -> None:
    """Refuse, before the official is asked to confirm, a move the campaign's state no longer allows or a page made
    stale by a move in between (the same conflict ``transition`` would give; it checks again when it moves)."""
    if action not in MOVES:
        raise YoujunError.single("survey.action", "不支持的操作。")
    source, _ = MOVES[CampaignAction(action)]
    current = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
    latest = CampaignEvent.objects.filter(campaign_id=campaign.pk).aggregate(m=Max("id"))["m"] or 0
    if current != source or (seen is not None and latest != seen):
        raise _conflict(current)


def _conflict(current: str | None) -> YoujunError:
    shown = dict(CampaignStatus.choices).get(current or "", "未知")
    return YoujunError.single(
        "survey.state_conflict",
        f"操作未执行：该调查的状态刚刚已被更改（当前为「{shown}」，可能已由其他人操作）。请刷新页面，核对后再操作。",
    )


def _refresh(county: OrgUnit, year: int) -> None:
    """Inside the state move's transaction: the stored result is marked stale there and recomputed after the commit,
    so S1 follows the campaign (closed: its counts; reopened: insufficient data)."""
    county_data_changed(county, year)


def history(campaign: Campaign) -> list[CampaignEvent]:
    return list(CampaignEvent.objects.filter(campaign=campaign).select_related("user").order_by("at", "id"))


# ----------------------------------------------------------------------------------------------------
# Pages listing several counties


#: Names of prefecture-level units that are no more than a heading of the statistics (municipalities' 市辖区 …).
PLACEHOLDER_PREFECTURES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


def county_label(county: OrgUnit) -> str:
    """The county with its province and prefecture (安徽省芜湖市鸠江区), for pages listing several counties."""
    parent = county.parent
    prefecture = (
        parent.name
        if parent is not None and parent.level == Level.PREFECTURE and parent.name not in PLACEHOLDER_PREFECTURES
        else ""
    )
    return f"{county.province_name}{prefecture}{county.name}"
