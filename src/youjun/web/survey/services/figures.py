"""A campaign's figures, from its stored responses: the engine's frame of counted answers, the progress page
(per group and in all, S1 as the evaluation will take it), the result the verdict reads (``county_recognition``),
and the integrity panel (how the answers arrived), all computed with group-bys in the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMinute

from youjun.engine.recognition import (
    Recognition,
    RecognitionRules,
    recognition,
    required_sample,
    valid_return_ok,
    valid_returns,
)
from youjun.formatting import number, percent, rule_number
from youjun.web.accounts.scoping import is_ministry
from youjun.web.organisation.models import OrgUnit
from youjun.web.survey import questionnaires
from youjun.web.survey.models import Campaign, CampaignStatus, Refusal, RefusalReason, Response
from youjun.web.survey.services.rules import answer_cap, campaign_display, campaign_rules, protection

ANSWER_SCHEMA = {"response": pl.Int64, "group": pl.String, "question": pl.String, "answer": pl.String}


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
    def return_shortfall(self) -> str:
        """Why S1 cannot be decided on this sample ("有效回收率 38.60%，低于要求的 70%"), or "" when it can: the
        engine holds S1 undecided below the rule set's minimum (the same rule and figures)."""
        if self.valid_return_ok:
            return ""
        return f"有效回收率 {self.valid_return_text}，低于要求的 {self.valid_return_min_text}"

    @property
    def decision(self) -> str:
        """S1 as the evaluation will take it once the campaign is closed: met, not_met or insufficient_data."""
        if self.return_shortfall or self.result.passed is None:
            return "insufficient_data"
        return "met" if self.result.passed else "not_met"

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


#: Campaigns the ministry organised for the national recognition (社会认可度调查 of the national review): they are
#: the recognition's, not the county's own survey, so the county's assessment does not read them.
NATIONAL = Q(created_by__role="ministry") | Q(created_by__is_superuser=True, created_by__org_unit__isnull=True)


def is_national(campaign: Campaign) -> bool:
    return campaign.created_by is not None and is_ministry(campaign.created_by)


def latest_campaign(county: OrgUnit, year: int, *, national: bool = False) -> Campaign | None:
    """The county's latest campaign of the year that has been opened (a draft has no answers to count): its own
    (the assessment's S1), or with ``national`` the ministry's (the recognition's survey step)."""
    query = Campaign.objects.filter(county=county, year=year)
    query = query.filter(NATIONAL) if national else query.exclude(NATIONAL)
    return query.exclude(status=CampaignStatus.DRAFT).order_by("-created_at", "-id").first()


def county_recognition(county: OrgUnit, year: int, *, national: bool = False) -> dict[str, Any] | None:
    """The survey result for the verdict (S1 / V7): counts of the county's latest campaign of the year.

    ``recognition_rate`` is given only when the rule set weights the groups (the rate is then not positive ÷
    valid); ``recognition_returns`` (questionnaires with a valid answer) and ``recognition_sample`` (the planned
    sample) let the engine hold S1 undecided below the rule set's ``valid_return_min``; ``final`` is true once the
    campaign is closed. ``None`` when the county has no opened campaign that year.
    """
    campaign = latest_campaign(county, year, national=national)
    if campaign is None:
        return None
    frame, rules = answers_frame(campaign), campaign_rules(campaign)
    result = recognition(frame, rules)
    return {
        "recognition_valid": result.valid,
        "recognition_positive": result.positive,
        "recognition_rate": result.rate if result.weighted else None,
        "recognition_returns": valid_returns(frame, rules),
        "recognition_sample": campaign.quota_total,
        "campaign_id": campaign.pk,
        "final": campaign.status == CampaignStatus.CLOSED,
    }


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
