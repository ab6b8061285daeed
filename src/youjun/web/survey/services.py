"""Survey operations and the interface for the rest of the product (``county_recognition``).

The recognition rate itself is computed by ``youjun.engine.recognition`` from the campaign's counted answers (an
answer over its group's cap is stored with ``excess`` set and left out); this module turns stored responses into
the engine's frame, stores campaigns, links, quotas and state moves, and computes the integrity figures.

Rules enforced where the data is written:

* state moves: ``UPDATE … WHERE status = <the move's source state>``; a lost race is a Chinese conflict, nothing is
  logged twice; every move writes one ``CampaignEvent``; closing and reopening mark the county-year's stored result
  stale in the same transaction and recompute it after the commit (an open survey never decides S1);
* single-use links: at most the group's quota plus the allowance of ``settings.toml`` (campaign row locked);
* quotas: a group's cap never drops below the answers it already counts (counter rows locked).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import polars as pl
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import TruncMinute
from django.utils import timezone

from youjun.engine.recognition import (
    Recognition,
    RecognitionRules,
    default_quotas,
    recognition,
    recognition_rules,
    required_sample,
    valid_return_ok,
    valid_returns,
)
from youjun.errors import YoujunError
from youjun.formatting import Display, number, percent, rule_number
from youjun.web.accounts.models import User
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.rulesets import services as rulesets
from youjun.web.signals import county_data_changed
from youjun.web.survey import questionnaires
from youjun.web.survey.models import (
    Campaign,
    CampaignAction,
    CampaignEvent,
    CampaignStatus,
    FormNonce,
    GroupCount,
    Link,
    LinkKind,
    Refusal,
    RefusalReason,
    Response,
)

MAX_LINKS_PER_REQUEST = 5000
MAX_REASON = 500
NONCE_BYTES = 24
PURGE_BATCH = 2000
ANSWER_SCHEMA = {"response": pl.Int64, "group": pl.String, "question": pl.String, "answer": pl.String}


@cache
def rules_for(standard: str) -> RecognitionRules:
    """The ``[recognition]`` rules of a rule set by its reference (a shipped id or a province's uploaded file)."""
    return recognition_rules(rulesets.load(standard).sections.get("recognition", {}))


@cache
def display_for(standard: str) -> Display:
    """The rule set's display precision: rates with ``display_value_decimals`` decimals."""
    return Display.of(rulesets.load(standard).precision)


def campaign_standard(campaign: Campaign) -> str:
    """The rule set the campaign was created under (the county-year's, decision 39)."""
    return str(campaign.questionnaire.get("standard") or rulesets.ref_for(campaign.county, campaign.year))


def campaign_display(campaign: Campaign) -> Display:
    return display_for(campaign_standard(campaign))


def campaign_rules(campaign: Campaign) -> RecognitionRules:
    """The rule set the campaign was created under, with the answer options of its snapshot."""
    snap = campaign.questionnaire
    base = rules_for(campaign_standard(campaign))
    return dataclasses.replace(
        base,
        scale=tuple(snap.get("scale", base.scale)),
        positive=tuple(snap.get("positive", base.positive)),
        excluded=tuple(snap.get("excluded", base.excluded)),
    )


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of a device id or IP address: comparable, not reversible without the secret key."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def address_block(ip: str) -> str:
    """The address block of an IP address: /24 for IPv4, /64 for IPv6 (an IPv4-mapped IPv6 address counts as
    IPv4); the empty string for an unreadable address.

    >>> address_block("203.0.113.77"), address_block("2001:db8:1:2:3:4:5:6"), address_block("::ffff:10.1.2.3")
    ('203.0.113.0/24', '2001:db8:1:2::/64', '10.1.2.0/24')
    >>> address_block("nonsense")
    ''
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def protection(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's protections: its snapshot, with today's ``settings.toml`` for keys older snapshots lack."""
    return dict(questionnaires.settings()["protection"]) | dict(snapshot.get("protection") or {})


def allowance(quota: int, share: float, minimum: int) -> int:
    """What a group may exceed its quota by: ``max(⌈quota × share⌉, minimum)``.

    >>> allowance(117, 0.10, 5), allowance(20, 0.10, 5), allowance(0, 0.10, 5)
    (12, 5, 5)
    """
    return max(math.ceil(max(0, quota) * share - 1e-9), minimum)


def answer_cap(campaign: Campaign, group: str, quotas: Mapping[str, Any] | None = None) -> int:
    """Counted answers a group may have: its quota plus the answer allowance of the campaign's settings."""
    prot = protection(campaign.questionnaire)
    quota = int((campaign.quotas if quotas is None else quotas).get(group, 0))
    return quota + allowance(quota, float(prot["answers_allowance_share"]), int(prot["answers_allowance_min"]))


def link_cap(campaign: Campaign, group: str) -> int:
    """Single-use links a group may have: its quota plus the link allowance of the campaign's settings."""
    prot = protection(campaign.questionnaire)
    quota = int(campaign.quotas.get(group, 0))
    return quota + allowance(quota, float(prot["links_allowance_share"]), int(prot["links_allowance_min"]))


def initial_quotas(population: int | None, standard: str | None = None) -> dict[str, int]:
    """Quotas per group from the population and the rule set, ordered like the questionnaires."""
    rules = rules_for(standard or rulesets.default_ref())
    quotas = default_quotas(population, rules, questionnaires.quota_shares())
    return {g: quotas.get(g, 0) for g in questionnaires.default_questionnaires()}


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
            f"{names.get(row.group, row.group)}已计入 {row.counted} 份答卷，样本数加余量（{caps[row.group]}）"
            "不能少于已计入的份数"
            for row in rows
            if caps[row.group] < row.counted
        ]
        if problems:
            raise YoujunError.single("survey.quota_below_counted", "；".join(problems) + "。")
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
# Links


def generate_links(campaign: Campaign, group: str, count: int) -> int:
    """``count`` new single-use links of a group, at most up to its quota plus the link allowance.

    The campaign row is locked while counting, so two requests at once cannot both pass the cap."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        have = Link.objects.filter(campaign=locked, kind=LinkKind.SINGLE, group=group).count()
        cap = link_cap(locked, group)
        if have + count > cap:
            name = locked.questionnaire["groups"].get(group, {}).get("name", group)
            quota = int(locked.quotas.get(group, 0))
            left = max(0, cap - have)
            raise YoujunError.single(
                "survey.link_cap",
                f"未生成：{name}计划样本 {quota} 份，一次性链接最多 {cap} 个（含余量），已生成 {have} 个，"
                f"还可生成 {left} 个。如需更多，请先调整样本数。",
            )
        links = [Link(campaign=locked, kind=LinkKind.SINGLE, group=group) for _ in range(count)]
        Link.objects.bulk_create(links, batch_size=1000)
    return len(links)


def open_links(campaign: Campaign, school: School | None, groups: list[str]) -> list[Link]:
    """The open (QR) link of each group for a school (created once, then reused)."""
    return [
        Link.objects.get_or_create(campaign=campaign, kind=LinkKind.OPEN, group=g, school=school)[0] for g in groups
    ]


# ----------------------------------------------------------------------------------------------------
# Results


def answers_frame(campaign: Campaign) -> pl.DataFrame:
    """One row per counted answer (``response``, ``group``, ``question``, ``answer``): the engine's input.

    Answers over a group's cap (``excess``) are not in it."""
    rows = Response.objects.filter(campaign=campaign, excess=False).values_list("id", "group", "answers")
    flat = [(rid, group, q, a) for rid, group, answers in rows.iterator(chunk_size=2000) for q, a in answers.items()]
    return pl.DataFrame(flat, schema=ANSWER_SCHEMA, orient="row")


def pct(value: float | None, decimals: int) -> str:
    """A rate as shown on pages, rounded half-up (0.91125 → 91.13% with 2 decimals); a dash when undefined."""
    return percent(value, decimals)


def share_text(value: float) -> str:
    """A share of the rule set or the protection settings as written (0.85 → 85%, 0.875 → 87.5%)."""
    return rule_number(value, 0, percent_=True)


@dataclass(frozen=True)
class GroupProgress:
    group: str
    name: str
    quota: int
    responses: int
    valid_returns: int
    valid: int
    positive: int
    rate: float | None
    decimals: int
    excess: int = 0
    cap: int = 0

    @property
    def share(self) -> float | None:
        return self.responses / self.quota if self.quota else None

    @property
    def rate_text(self) -> str:
        return pct(self.rate, self.decimals)

    @property
    def bar(self) -> int:
        """Width of the progress bar in percent (capped at 100)."""
        return min(100, round((self.share or 0) * 100))


@dataclass(frozen=True)
class Progress:
    campaign: Campaign
    rules: RecognitionRules
    result: Recognition
    groups: list[GroupProgress]
    responses: int
    valid_returns: int
    required: int
    decimals: int
    excess: int = 0

    @property
    def valid_return_ok(self) -> bool:
        return valid_return_ok(self.valid_returns, self.campaign.quota_total, self.rules)

    @property
    def valid_return_rate(self) -> float | None:
        total = self.campaign.quota_total
        return self.valid_returns / total if total else None

    @property
    def valid_return_text(self) -> str:
        return pct(self.valid_return_rate, self.decimals)

    @property
    def rate_text(self) -> str:
        return pct(self.result.rate, self.decimals)

    @property
    def threshold_text(self) -> str:
        """The rule set's S1 threshold as written (85%)."""
        return share_text(self.rules.threshold)

    @property
    def valid_return_min_text(self) -> str:
        """The rule set's minimum valid-return rate as written (70%)."""
        return share_text(self.rules.valid_return_min)


def progress(campaign: Campaign) -> Progress:
    rules = campaign_rules(campaign)
    decimals = campaign_display(campaign).value_decimals
    frame = answers_frame(campaign)
    result = recognition(frame, rules)
    counts: dict[str, int] = {}
    excess: dict[str, int] = {}
    for group, is_excess, n in (
        Response.objects.filter(campaign=campaign).values_list("group", "excess").annotate(n=Count("id")).order_by()
    ):
        (excess if is_excess else counts)[group] = n
    returns = (
        frame.filter(pl.col("answer").is_in(list(rules.scale)) & ~pl.col("answer").is_in(list(rules.excluded)))
        .group_by("group")
        .agg(pl.col("response").n_unique().alias("n"))
    )
    returns_by_group = dict(returns.iter_rows())
    by_group = {r["group"]: r for r in result.by_group.iter_rows(named=True)}
    groups = []
    for g, spec in questionnaires.ordered_groups(campaign.questionnaire):
        row = by_group.get(g, {})
        groups.append(
            GroupProgress(
                group=g,
                name=spec["name"],
                quota=int(campaign.quotas.get(g, 0)),
                responses=int(counts.get(g, 0)),
                valid_returns=int(returns_by_group.get(g, 0)),
                valid=int(row.get("valid") or 0),
                positive=int(row.get("positive") or 0),
                rate=row.get("rate"),
                decimals=decimals,
                excess=int(excess.get(g, 0)),
                cap=answer_cap(campaign, g),
            )
        )
    return Progress(
        campaign=campaign,
        rules=rules,
        result=result,
        groups=groups,
        responses=sum(counts.values()),
        valid_returns=valid_returns(frame, rules),
        required=required_sample(campaign.population, rules),
        decimals=decimals,
        excess=sum(excess.values()),
    )


def latest_campaign(county: OrgUnit, year: int) -> Campaign | None:
    """The county's latest campaign of the year that has been opened (a draft has no answers to count)."""
    return (
        Campaign.objects.filter(county=county, year=year)
        .exclude(status=CampaignStatus.DRAFT)
        .order_by("-created_at", "-id")
        .first()
    )


def county_recognition(county: OrgUnit, year: int) -> dict[str, Any] | None:
    """The survey result for the verdict (S1 / V7): counts of the county's latest campaign of the year.

    ``recognition_rate`` is given only when the rule set weights the groups (the rate is then not positive ÷
    valid); ``final`` is true once the campaign is closed. ``None`` when the county has no opened campaign that
    year.
    """
    campaign = latest_campaign(county, year)
    if campaign is None:
        return None
    result = recognition(answers_frame(campaign), campaign_rules(campaign))
    return {
        "recognition_valid": result.valid,
        "recognition_positive": result.positive,
        "recognition_rate": result.rate if result.weighted else None,
        "campaign_id": campaign.pk,
        "final": campaign.status == CampaignStatus.CLOSED,
    }


# ----------------------------------------------------------------------------------------------------
# Form nonces and refused submissions

PURGE_EVERY = 50  # on average one render in this many deletes a batch of expired nonces


def nonce_digest(value: str) -> str:
    """SHA-256 of a form nonce (the nonce is 192 random bits: no key needed to make the stored value useless)."""
    return hashlib.sha256(value.encode()).hexdigest()


def issue_nonce(
    campaign_id: int, link_id: int, device: str | None, prot: Mapping[str, Any], now: datetime | None = None
) -> str:
    """A new one-time nonce for an answering form rendered now for this link and device (keyed hash or None)."""
    value = secrets.token_urlsafe(NONCE_BYTES)
    now = now or timezone.now()
    max_age = timedelta(hours=float(prot["render_max_age_hours"]))
    FormNonce.objects.create(
        digest=nonce_digest(value),
        campaign_id=campaign_id,
        link_id=link_id,
        device=device,
        rendered_at=now,
        expires_at=now + max_age,
    )
    if secrets.randbelow(PURGE_EVERY) == 0:
        purge_nonces(now, limit=PURGE_BATCH)
    return value


def purge_nonces(now: datetime | None = None, limit: int | None = None) -> int:
    """Delete expired nonces (all, or the oldest ``limit``); the number deleted. Cheap: an index on expiry.

    Called now and then on render; the lead may also schedule it (``manage.py purge_survey_nonces``)."""
    now = now or timezone.now()
    expired = FormNonce.objects.filter(expires_at__lt=now)
    if limit is not None:
        ids = list(expired.order_by("expires_at").values_list("pk", flat=True)[:limit])
        expired = FormNonce.objects.filter(pk__in=ids)
    deleted, _ = expired.delete()
    return int(deleted)


def record_refusal(campaign_id: int, reason: str, now: datetime | None = None) -> None:
    """Count one refused submission (per campaign, reason and minute; the answers are not kept)."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    match = Refusal.objects.filter(campaign_id=campaign_id, reason=reason, minute=minute)
    if match.update(n=F("n") + 1):
        return
    try:
        with transaction.atomic():
            Refusal.objects.create(campaign_id=campaign_id, reason=reason, minute=minute, n=1)
    except IntegrityError:  # created by a request at the same instant
        match.update(n=F("n") + 1)


# ----------------------------------------------------------------------------------------------------
# Integrity panel


@dataclass(frozen=True)
class Integrity:
    """What the campaign page shows about how the answers arrived (all stored answers, counted or excess)."""

    responses: int
    excess: int
    excess_by_group: list[tuple[str, int]]
    minutes: int
    peaks: list[tuple[datetime, int]]
    blocks: int
    top_blocks: list[tuple[str, int, float]]
    unblocked: int
    repeated: int
    repeated_patterns: int
    patterns: list[tuple[str, str, int]]
    fast: int
    fast_seconds: int
    timed: int
    refusals: list[tuple[str, str, int]]

    @property
    def refused(self) -> int:
        return sum(n for _, _, n in self.refusals)

    @property
    def per_minute(self) -> float:
        return self.responses / self.minutes if self.minutes else 0.0

    @property
    def per_minute_text(self) -> str:
        return number(self.per_minute, 1)

    @property
    def top_block_rows(self) -> list[tuple[str, int, str]]:
        """The busiest address blocks with their share of the answers as text (one decimal, half-up)."""
        return [(label, n, percent(share, 1)) for label, n, share in self.top_blocks]


def integrity(campaign: Campaign) -> Integrity:
    """Arrival figures computed in the database (group-bys), never row by row: answers per minute and their peaks,
    per address block, identical answer patterns, answers faster than ``fast_seconds``, refusals by reason."""
    prot = protection(campaign.questionnaire)
    fast_seconds = int(prot["fast_seconds"])
    rows = Response.objects.filter(campaign=campaign)
    totals = rows.aggregate(
        total=Count("id"),
        excess=Count("id", filter=Q(excess=True)),
        fast=Count("id", filter=Q(duration__lt=fast_seconds)),
        timed=Count("id", filter=Q(duration__isnull=False)),
        unblocked=Count("id", filter=Q(net="")),
        minutes=Count(TruncMinute("submitted_at"), distinct=True),
        blocks=Count("net", distinct=True, filter=~Q(net="")),
    )
    names = {g: spec["name"] for g, spec in questionnaires.ordered_groups(campaign.questionnaire)}
    excess = dict(rows.filter(excess=True).values_list("group").annotate(n=Count("id")).order_by())
    by_minute = rows.annotate(m=TruncMinute("submitted_at")).values("m").annotate(n=Count("id"))
    peaks = [(r["m"], r["n"]) for r in by_minute.order_by("-n", "m")[:5]]
    by_block = rows.exclude(net="").values("net").annotate(n=Count("id"))
    total = int(totals["total"])
    top_blocks = [
        (f"网段 {r['net'][:8]}", r["n"], r["n"] / total if total else 0.0) for r in by_block.order_by("-n", "net")[:10]
    ]
    order = {
        g: [q["id"] for q in spec["questions"]] for g, spec in questionnaires.ordered_groups(campaign.questionnaire)
    }
    top, repeated, repeated_patterns = _repeated_patterns(campaign.pk)
    patterns = [(names.get(g, g), _pattern_text(answers, order.get(g, [])), n) for g, answers, n in top]
    refused = dict(Refusal.objects.filter(campaign=campaign).values_list("reason").annotate(n=Sum("n")).order_by())
    return Integrity(
        responses=total,
        excess=int(totals["excess"]),
        excess_by_group=[(names[g], int(excess[g])) for g in names if excess.get(g)],
        minutes=int(totals["minutes"]),
        peaks=peaks,
        blocks=int(totals["blocks"]),
        top_blocks=top_blocks,
        unblocked=int(totals["unblocked"]),
        repeated=repeated,
        repeated_patterns=repeated_patterns,
        patterns=patterns,
        fast=int(totals["fast"]),
        fast_seconds=fast_seconds,
        timed=int(totals["timed"]),
        refusals=[(r.value, r.label, int(refused.get(r.value, 0))) for r in RefusalReason],
    )


def _repeated_patterns(campaign_id: int) -> tuple[list[tuple[str, Any, int]], int, int]:
    """Answer sets given by more than one response of a group, in one scan: the five most frequent (group,
    answers, count), the responses sharing their answers with another, and the number of such answer sets."""
    table = Response._meta.db_table
    sql = (
        'SELECT "group", answers, n, COUNT(*) OVER (), SUM(n) OVER () FROM ('
        f'SELECT "group", answers, COUNT(*) AS n FROM {table} WHERE campaign_id = %s '
        'GROUP BY "group", answers HAVING COUNT(*) > 1) t ORDER BY n DESC, "group" LIMIT 5'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id])
        rows = cursor.fetchall()
    if not rows:
        return [], 0, 0
    top = [(str(g), json.loads(a) if isinstance(a, str) else a, int(n)) for g, a, n, _, _ in rows]
    return top, int(rows[0][4]), int(rows[0][3])


def _pattern_text(answers: Any, order: list[str]) -> str:
    """An answer pattern in words: 「每题均选“满意”」, or the answers in question order (shortened)."""
    values = [str(answers.get(q, "—")) for q in order] if isinstance(answers, dict) else []
    if values and len(set(values)) == 1:
        return f"每题均选“{values[0]}”"
    text = "／".join(values)
    return text if len(text) <= 80 else text[:79] + "…"
