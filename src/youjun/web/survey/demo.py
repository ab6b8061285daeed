"""Demo data of the survey: an open campaign in 鸠江区 (340207) for 2024 with links and ~300 synthetic responses.

Run by ``demo_setup`` after the schools and accounts exist (the printed links start with the ``base`` it gives).
Idempotent: the campaign is found by county, year and title; links and responses are added only once. Responses are
drawn from a fixed seed, so the demo looks the same on every machine (about nine in ten answers positive, a few
不了解). The opening is recorded in the campaign's state history and the group counters are set to the synthetic
answers (all within the plan).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from youjun.web.accounts.models import User
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.survey import services
from youjun.web.survey.models import Campaign, CampaignAction, CampaignEvent, CampaignStatus, Link, LinkKind, Response
from youjun.web.survey.questionnaires import ordered_groups

COUNTY, YEAR = "340207", 2024
TITLE = "鸠江区2024年义务教育优质均衡发展社会认可度调查"
POPULATION = 520_000
SEED = 2024
RESPONSES = 300
LINKS_PER_GROUP = 20
#: Synthetic responses per group (parents the largest share, as the quotas require).
MIX = {"parents": 150, "students": 60, "teachers": 45, "principals": 8, "npc": 12, "cppcc": 10, "residents": 15}
WEIGHTS = {"满意": 55, "比较满意": 25, "基本满意": 10, "不满意": 6, "不了解": 4}


def setup(base: str = "") -> list[str]:
    county = OrgUnit.objects.select_related("parent").filter(code=COUNTY).first()
    if county is None:
        return []
    school = School.objects.filter(county=county).order_by("school_id").first()
    user = User.objects.filter(username="demo-county").first()
    with transaction.atomic():
        campaign = Campaign.objects.filter(county=county, year=YEAR, title=TITLE).first()
        if campaign is None:
            quotas = services.initial_quotas(POPULATION)
            campaign = services.create_campaign(county, YEAR, TITLE, POPULATION, quotas, user)
        if not Link.objects.filter(campaign=campaign).exists():
            for group, _ in ordered_groups(campaign.questionnaire):
                services.generate_links(campaign, group, LINKS_PER_GROUP)
        opened = services.open_links(campaign, school, [g for g, _ in ordered_groups(campaign.questionnaire)])
        if campaign.status != CampaignStatus.OPEN:
            now = timezone.now()
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.OPEN, opened_by=user, opened_at=now)
            CampaignEvent.objects.create(
                campaign=campaign,
                action=CampaignAction.OPEN if campaign.status == CampaignStatus.DRAFT else CampaignAction.REOPEN,
                from_status=campaign.status,
                to_status=CampaignStatus.OPEN,
                user=user,
                at=now,
                reason="演示数据",
            )
        if not Response.objects.filter(campaign=campaign).exists():
            _responses(campaign, {link.group: link for link in opened}, school)
            services.recount(campaign)
    parent = next(link for link in opened if link.group == "parents")
    place = f"{county.parent.name if county.parent else ''}{county.name}"
    return [
        f"社会认可度调查（{place} {YEAR} 年，调查中；县级账号 demo-county 查看进度、打印二维码）：",
        f"  {base}{reverse('survey:campaign', args=[campaign.pk])}",
        "家长问卷（免登录，手机打开即可作答）：",
        f"  {base}{reverse('survey:answer', args=[parent.token])}",
    ]


def _responses(campaign: Campaign, links: dict[str, Link], school: School | None) -> None:
    """Synthetic responses through the open links of the first school (one per made-up device)."""
    rng = random.Random(SEED)
    options, weights = list(WEIGHTS), list(WEIGHTS.values())
    start = timezone.now() - timedelta(days=3)
    rows = []
    for group, count in MIX.items():
        spec = campaign.questionnaire["groups"].get(group)
        if spec is None or group not in links:
            continue
        for i in range(count):
            answers = {q["id"]: rng.choices(options, weights)[0] for q in spec["questions"]}
            ip = f"10.0.{rng.randint(0, 20)}.{rng.randint(1, 254)}"
            rows.append(
                Response(
                    campaign=campaign,
                    link=links[group],
                    channel=LinkKind.OPEN,
                    group=group,
                    school=school,
                    answers=answers,
                    submitted_at=start + timedelta(minutes=rng.randint(0, 3 * 24 * 60)),
                    device=services.keyed_hash("device", f"demo-{group}-{i}"),
                    ip=services.keyed_hash("ip", ip),
                    net=services.keyed_hash("net", services.address_block(ip)),
                    duration=rng.randint(60, 400),
                )
            )
    Response.objects.bulk_create(rows[:RESPONSES], batch_size=500)
