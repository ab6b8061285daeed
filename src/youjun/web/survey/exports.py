"""Excel downloads of the survey: the single-use link list and the raw responses (Chinese headers, inert text)."""

from __future__ import annotations

from typing import Any

import polars as pl
from django.http import HttpResponse
from django.utils import timezone

from youjun.io.workbook import Table
from youjun.web.exports import xlsx_response
from youjun.web.survey.models import Campaign, Link, LinkKind, Response
from youjun.web.survey.questionnaires import ordered_groups


def links_xlsx(campaign: Campaign, base_url: str) -> HttpResponse:
    """Every single-use link with its group and whether it has been used, one sheet."""
    groups = {g: spec["name"] for g, spec in ordered_groups(campaign.questionnaire)}
    used = set(Response.objects.filter(campaign=campaign, channel=LinkKind.SINGLE).values_list("link_id", flat=True))
    rows = Link.objects.filter(campaign=campaign, kind=LinkKind.SINGLE).order_by("group", "id")
    data = [
        (groups.get(g, g), f"{base_url}{t}/", t, "已使用" if pk in used else "未使用")
        for pk, g, t in rows.values_list("pk", "group", "token")
    ]
    frame = pl.DataFrame(
        data, schema={"group": pl.String, "url": pl.String, "token": pl.String, "used": pl.String}, orient="row"
    )
    table = Table(
        sheet="一次性链接",
        frame=frame,
        headers={"group": "调查对象", "url": "问卷链接", "token": "令牌", "used": "使用状态"},
        title=f"{campaign.county.full_name}{campaign.title}：一次性链接（每个链接只能提交一次）",
        notes=("请把每个链接只发给一位调查对象；链接提交后即失效。",),
    )
    name = f"{campaign.county.name}{campaign.year}年社会认可度调查一次性链接.xlsx"
    return xlsx_response([table], name, f"youjun-survey-{campaign.pk}-links.xlsx")


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def responses_tables(campaign: Campaign) -> list[Table]:
    """One sheet per respondent group: one row per response, one column per question (header: id and text)."""
    tables = []
    responses = list(
        Response.objects.filter(campaign=campaign)
        .order_by("id")
        .values_list(
            "id", "group", "channel", "school__school_id", "school__name", "submitted_at", "duration", "answers"
        )
    )
    channels = dict(LinkKind.choices)
    for group, spec in ordered_groups(campaign.questionnaire):
        questions = spec["questions"]
        qkeys = [f"q_{q['id']}" for q in questions]
        schema: dict[str, pl.DataType] = {
            "id": pl.Int64(),
            "channel": pl.String(),
            "school_id": pl.String(),
            "school_name": pl.String(),
            "submitted_at": pl.String(),
            "duration": pl.Int64(),
            **{k: pl.String() for k in qkeys},
        }
        rows = [
            (rid, channels.get(ch, ch), sid, sname, _local(at), dur, *(answers.get(q["id"]) for q in questions))
            for rid, g, ch, sid, sname, at, dur, answers in responses
            if g == group
        ]
        headers = {
            "id": "答卷编号",
            "channel": "渠道",
            "school_id": "学校标识码",
            "school_name": "学校",
            "submitted_at": "提交时间",
            "duration": "答题用时（秒）",
            **{f"q_{q['id']}": f"{q['id']} {q['text']}" for q in questions},
        }
        tables.append(
            Table(
                sheet=spec["name"],
                frame=pl.DataFrame(rows, schema=schema, orient="row"),
                headers=headers,
                title=f"{spec['title']}（{spec['id']} 第 {spec['version']} 版）：{len(rows)} 份",
            )
        )
    return tables


def responses_xlsx(campaign: Campaign) -> HttpResponse:
    name = f"{campaign.county.name}{campaign.year}年社会认可度调查答卷.xlsx"
    return xlsx_response(responses_tables(campaign), name, f"youjun-survey-{campaign.pk}-responses.xlsx")
