"""Excel downloads of the survey: the single-use link list and the raw responses (Chinese headers, inert text).

The responses workbook marks every answer kept aside over its group's cap (「超出计划，未计入」) and ends with a
sheet of the integrity figures, the refused submissions by reason and the campaign's state history."""

from __future__ import annotations

from typing import Any

import polars as pl
from django.http import HttpResponse
from django.utils import timezone

from youjun.io.workbook import Table
from youjun.web.exports import xlsx_response
from youjun.web.survey import services
from youjun.web.survey.models import Campaign, CampaignStatus, Link, LinkKind, Response
from youjun.web.survey.questionnaires import ordered_groups

COUNTED, EXCESS = "计入", "超出计划，未计入"


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
            "id",
            "group",
            "channel",
            "school__school_id",
            "school__name",
            "submitted_at",
            "duration",
            "excess",
            "answers",
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
            "counted": pl.String(),
            **{k: pl.String() for k in qkeys},
        }
        rows = [
            (
                rid,
                channels.get(ch, ch),
                sid,
                sname,
                _local(at),
                dur,
                EXCESS if excess else COUNTED,
                *(answers.get(q["id"]) for q in questions),
            )
            for rid, g, ch, sid, sname, at, dur, excess, answers in responses
            if g == group
        ]
        kept_aside = sum(1 for r in rows if r[6] == EXCESS)
        headers = {
            "id": "答卷编号",
            "channel": "渠道",
            "school_id": "学校标识码",
            "school_name": "学校",
            "submitted_at": "提交时间",
            "duration": "答题用时（秒）",
            "counted": "是否计入",
            **{f"q_{q['id']}": f"{q['id']} {q['text']}" for q in questions},
        }
        tables.append(
            Table(
                sheet=spec["name"],
                frame=pl.DataFrame(rows, schema=schema, orient="row"),
                headers=headers,
                title=f"{spec['title']}（{spec['id']} 第 {spec['version']} 版）：{len(rows)} 份"
                + (f"，其中 {kept_aside} 份超出计划样本加余量，未计入认可度" if kept_aside else ""),
            )
        )
    tables.append(integrity_table(campaign))
    return tables


def _move(source: str, target: str) -> str:
    names = dict(CampaignStatus.choices)
    return f"{names.get(source, source)} → {names.get(target, target)}"


def integrity_table(campaign: Campaign) -> Table:
    """The integrity figures of the campaign page, the refusals by reason and the state history, one sheet."""
    figures = services.integrity(campaign)
    rows: list[tuple[str, str, str]] = [
        ("答卷", "已保存答卷（含超出计划的）", str(figures.responses)),
        ("答卷", "超出计划样本加余量（另存，未计入）", str(figures.excess)),
        *(("答卷", f"超出计划：{name}", str(n)) for name, n in figures.excess_by_group),
        ("提交速度", "有提交的分钟数", str(figures.minutes)),
        *(("提交速度", f"高峰分钟 {_local(m)[:16]}", str(n)) for m, n in figures.peaks),
        ("提交速度", f"用时少于 {figures.fast_seconds} 秒", str(figures.fast)),
        ("来源网段", "网段数（IPv4 /24、IPv6 /64）", str(figures.blocks)),
        *(("来源网段", label, f"{n}（{share:.1%}）") for label, n, share in figures.top_blocks),
        ("相同答案", "与其他答卷每题答案完全相同的答卷", str(figures.repeated)),
        ("相同答案", "答案组合数", str(figures.repeated_patterns)),
        *(("相同答案", f"{group}：{text}", str(n)) for group, text, n in figures.patterns),
        *(("被拒绝的提交", label, str(n)) for _, label, n in figures.refusals),
        *(
            (
                "状态记录",
                f"{_local(e.at)} {e.get_action_display()}（{_move(e.from_status, e.to_status)}）",
                f"{e.user or '—'}：{e.reason or '—'}",
            )
            for e in services.history(campaign)
        ),
    ]
    frame = pl.DataFrame(rows, schema={"part": pl.String, "item": pl.String, "value": pl.String}, orient="row")
    return Table(
        sheet="质量监测",
        frame=frame,
        headers={"part": "类别", "item": "项目", "value": "数值"},
        title=f"{campaign.county.full_name}{campaign.title}：答卷质量监测",
        notes=("IP 地址与网段只以散列保存，网段以编号显示；被拒绝的提交只计次数，不保存答案。",),
    )


def responses_xlsx(campaign: Campaign) -> HttpResponse:
    name = f"{campaign.county.name}{campaign.year}年社会认可度调查答卷.xlsx"
    return xlsx_response(responses_tables(campaign), name, f"youjun-survey-{campaign.pk}-responses.xlsx")
