"""What a campaign is held to: the rule set's ``[recognition]`` rules and display precision (the county-year's,
with the answer options of the campaign's snapshot), the protections of ``settings.toml``, and the answer and link
caps they give each group (its quota plus an allowance); the initial quotas from the population.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from functools import cache
from typing import Any

from youjun.engine.recognition import RecognitionRules, default_quotas, recognition_rules
from youjun.formatting import Display
from youjun.web.rulesets import services as rulesets
from youjun.web.survey import questionnaires
from youjun.web.survey.models import Campaign


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
