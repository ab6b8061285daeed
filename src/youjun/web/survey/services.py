"""Survey operations and the interface for the rest of the product (``county_recognition``).

The recognition rate itself is computed by ``youjun.engine.recognition`` from the campaign's answers; this module
only turns stored responses into the engine's frame and stores campaigns, links and status changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import Count
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
from youjun.standards import load_rule_set
from youjun.web.accounts.models import User
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.survey import questionnaires
from youjun.web.survey.models import Campaign, CampaignStatus, Link, LinkKind, Response

MAX_LINKS_PER_REQUEST = 5000
ANSWER_SCHEMA = {"response": pl.Int64, "group": pl.String, "question": pl.String, "answer": pl.String}


@cache
def rules_for(standard: str) -> RecognitionRules:
    return recognition_rules(load_rule_set(standard).sections.get("recognition", {}))


def campaign_rules(campaign: Campaign) -> RecognitionRules:
    """The rule set the campaign was created under, with the answer options of its snapshot."""
    snap = campaign.questionnaire
    base = rules_for(snap.get("standard") or settings.YOUJUN_STANDARD)
    return dataclasses.replace(
        base,
        scale=tuple(snap.get("scale", base.scale)),
        positive=tuple(snap.get("positive", base.positive)),
        excluded=tuple(snap.get("excluded", base.excluded)),
    )


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of a device id or IP address: comparable, not reversible without the secret key."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def initial_quotas(population: int | None, standard: str | None = None) -> dict[str, int]:
    """Quotas per group from the population and the rule set, ordered like the questionnaires."""
    rules = rules_for(standard or settings.YOUJUN_STANDARD)
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
    standard = settings.YOUJUN_STANDARD
    return Campaign.objects.create(
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


def set_status(campaign: Campaign, status: str, user: User | None) -> None:
    """draft → open → closed (a closed campaign can be reopened while collecting late answers is allowed)."""
    now = timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if status == CampaignStatus.OPEN:
            locked.status, locked.opened_by, locked.opened_at = status, user, now
            locked.closed_by = locked.closed_at = None
        elif status == CampaignStatus.CLOSED:
            locked.status, locked.closed_by, locked.closed_at = status, user, now
        locked.save()
    campaign.refresh_from_db()
    if status == CampaignStatus.CLOSED:
        from youjun.web.evaluation.services import recompute

        recompute(campaign.county, campaign.year)


def generate_links(campaign: Campaign, group: str, count: int) -> int:
    links = [Link(campaign=campaign, kind=LinkKind.SINGLE, group=group) for _ in range(count)]
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
    """One row per answer (``response``, ``group``, ``question``, ``answer``): the engine's input."""
    rows = Response.objects.filter(campaign=campaign).values_list("id", "group", "answers")
    flat = [(rid, group, q, a) for rid, group, answers in rows.iterator(chunk_size=2000) for q, a in answers.items()]
    return pl.DataFrame(flat, schema=ANSWER_SCHEMA, orient="row")


def pct(value: float | None) -> str:
    """A rate as shown on pages: 91.25%; a dash when undefined."""
    return "—" if value is None else f"{value * 100:.2f}%"


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

    @property
    def share(self) -> float | None:
        return self.responses / self.quota if self.quota else None

    @property
    def rate_text(self) -> str:
        return pct(self.rate)

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

    @property
    def valid_return_ok(self) -> bool:
        return valid_return_ok(self.valid_returns, self.campaign.quota_total, self.rules)

    @property
    def valid_return_rate(self) -> float | None:
        total = self.campaign.quota_total
        return self.valid_returns / total if total else None

    @property
    def valid_return_text(self) -> str:
        return pct(self.valid_return_rate)

    @property
    def rate_text(self) -> str:
        return pct(self.result.rate)


def progress(campaign: Campaign) -> Progress:
    rules = campaign_rules(campaign)
    frame = answers_frame(campaign)
    result = recognition(frame, rules)
    counts = dict(
        Response.objects.filter(campaign=campaign)
        .values_list("group")
        .annotate(n=Count("id"))
        .values_list("group", "n")
    )
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
