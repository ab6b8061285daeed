"""A campaign's links: single-use links per group (at most its quota plus the link allowance, counted with the
campaign row locked) and the open (QR) links of each group for the county's schools.
"""

from __future__ import annotations

from django.db import transaction

from youjun.errors import YoujunError
from youjun.web.organisation.models import School
from youjun.web.survey import questionnaires
from youjun.web.survey.models import Campaign, Link, LinkKind
from youjun.web.survey.services.rules import link_cap

MAX_LINKS_PER_REQUEST = 5000


def single_links(campaign: Campaign, group: str) -> int:
    """Single-use links of a group generated so far."""
    return Link.objects.filter(campaign=campaign, kind=LinkKind.SINGLE, group=group).count()


def check_link_cap(campaign: Campaign, group: str, count: int, have: int | None = None) -> None:
    """Refuse ``count`` more single-use links of a group beyond its quota plus the link allowance (with the
    figures); ``generate_links`` checks again with the campaign row locked."""
    have = single_links(campaign, group) if have is None else have
    cap = link_cap(campaign, group)
    if have + count > cap:
        name = campaign.questionnaire["groups"].get(group, {}).get("name", group)
        quota = int(campaign.quotas.get(group, 0))
        left = max(0, cap - have)
        raise YoujunError.single(
            "survey.link_cap",
            f"未生成：{name}计划样本 {quota} 份，一次性链接最多 {cap} 个（含余量），已生成 {have} 个，"
            f"还可生成 {left} 个。如需更多，请先调整样本数。",
            field="count",
        )


def generate_links(campaign: Campaign, group: str, count: int) -> int:
    """``count`` new single-use links of a group, at most up to its quota plus the link allowance.

    The campaign row is locked while counting, so two requests at once cannot both pass the cap."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        check_link_cap(locked, group, count, single_links(locked, group))
        links = [Link(campaign=locked, kind=LinkKind.SINGLE, group=group) for _ in range(count)]
        Link.objects.bulk_create(links, batch_size=1000)
    return len(links)


def open_links(campaign: Campaign, school: School | None, groups: list[str]) -> list[Link]:
    """The open (QR) link of each group for a school (created once, then reused)."""
    return [
        Link.objects.get_or_create(campaign=campaign, kind=LinkKind.OPEN, group=g, school=school)[0] for g in groups
    ]


def survey_schools(campaign: Campaign) -> list[School]:
    """The county's schools active in the campaign's year, by school id: those whose respondents get QR codes."""
    schools = School.objects.filter(county_id=campaign.county_id).order_by("school_id")
    return [s for s in schools if s.active_in(campaign.year)]


def open_links_for_all(campaign: Campaign) -> int:
    """The open (QR) link of every group for every school of the county (``survey_schools``) that lacks one; the
    number of links created (links that exist are kept: a printed code stays valid)."""
    groups = [g for g, _ in questionnaires.ordered_groups(campaign.questionnaire)]
    with transaction.atomic():
        have = set(
            Link.objects.filter(campaign=campaign, kind=LinkKind.OPEN, school__isnull=False).values_list(
                "school_id", "group"
            )
        )
        new = [
            Link(campaign=campaign, kind=LinkKind.OPEN, group=g, school=s)
            for s in survey_schools(campaign)
            for g in groups
            if (s.pk, g) not in have
        ]
        Link.objects.bulk_create(new, batch_size=1000)
    return len(new)
