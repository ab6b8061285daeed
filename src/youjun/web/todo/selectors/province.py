"""A province's to-do list: counties to nominate while a batch is open, nominations the ministry returned,
plans and progress reports of its counties to review, then the collection's to-dos (``supervisor``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from youjun.web.monitoring import services as monitoring
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import (
    Batch,
    BatchStatus,
    Extension,
    Nomination,
    NominationStatus,
    Plan,
    PlanStatus,
    ProgressReport,
    ProvinceSubmission,
    ReportStatus,
)
from youjun.web.programme.services.common import ACTIVE
from youjun.web.todo.selectors.common import MAX_IDS, Todo, _local
from youjun.web.todo.selectors.supervisor import supervisor_todos


def province_todos(province: OrgUnit, now: dt.datetime | None = None, *, full: bool = True) -> list[Todo]:
    """A province's to-dos: counties to nominate while a batch is open (its own, possibly extended deadline),
    nominations the ministry returned, plans and progress reports of its counties to review, and (``full``) the
    collection's to-dos of the levels above a county."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    todos = _nominations(province, now, today)
    if not full:
        return todos
    todos += _returned_nominations(province)
    plans = list(
        Plan.objects.filter(county__code__startswith=province.prefix, status=PlanStatus.SUBMITTED)
        .order_by("county__code")
        .values_list("county__name", "county__code")
    )
    dashboard = reverse("programme:province_dashboard", args=[province.code])
    if plans:
        todos.append(
            Todo(
                key="plans",
                text=f"{len(plans)} 个先行创建县报送了创建工作实施方案，待审核",
                count=len(plans),
                unit="个",
                url=dashboard,
                action="去审核",
                links=tuple((name, reverse("programme:plan", args=[code])) for name, code in plans[:MAX_IDS]),
            )
        )
    reports = list(
        ProgressReport.objects.filter(county__code__startswith=province.prefix, status=ReportStatus.SUBMITTED)
        .order_by("county__code", "pk")
        .values_list("pk", "county__name", "period")
    )
    if reports:
        todos.append(
            Todo(
                key="reports",
                text=f"{len(reports)} 份创建进展报告待审核转报",
                count=len(reports),
                unit="份",
                url=dashboard,
                action="去审核",
                links=tuple(
                    (f"{name}{period}", reverse("programme:report", args=[pk]))
                    for pk, name, period in reports[:MAX_IDS]
                ),
            )
        )
    return todos + monitoring_alarms(province) + supervisor_todos(province, now)


def monitoring_alarms(unit: OrgUnit) -> list[Todo]:
    """Counties of the province (or prefecture) whose latest monitored year has warnings of the highest level."""
    found = monitoring.latest_warnings(unit.prefix, len(monitoring.LEVELS) - 1)
    counties = list(dict.fromkeys((w.county.code, w.county.name) for w in found))
    if not counties:
        return []
    return [
        Todo(
            key="monitoring-alarms",
            text=f"{len(counties)} 个县（区）{found[0].year} 年度监测出现「{found[0].level}」级预警，请督促核实整改",
            count=len(counties),
            unit="个",
            url=reverse("monitoring:unit", args=[unit.code]) + f"?level={found[0].level}",
            action="查看预警",
            links=tuple((name, reverse("monitoring:county", args=[code])) for code, name in counties[:MAX_IDS]),
        )
    ]


def _nominations(province: OrgUnit, now: dt.datetime, today: dt.date) -> list[Todo]:
    batches = list(Batch.objects.filter(status=BatchStatus.OPEN).order_by("number"))
    if not batches:
        return []
    extended = dict(Extension.objects.filter(batch__in=batches, province=province).values_list("batch_id", "deadline"))
    signed = set(
        ProvinceSubmission.objects.filter(batch__in=batches, province=province).values_list("batch_id", flat=True)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for batch_id, status, n in (
        Nomination.objects.filter(batch__in=batches, province=province)
        .values_list("batch_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[batch_id][status] = n
    todos = []
    for batch in batches:
        states = counts.get(batch.pk, {})
        used = sum(states.get(s, 0) for s in ACTIVE)
        drafts = states.get(NominationStatus.DRAFT, 0)
        if batch.pk in signed and not drafts:
            continue
        deadline = max(batch.deadline, extended[batch.pk]) if batch.pk in extended else batch.deadline
        need = max(batch.quota_min - used, 0)
        notes = [f"已推荐 {used} 个，每省推荐 {batch.quota_min}–{batch.quota_max} 个，推荐后由省级签发报送教育部"]
        if deadline != batch.deadline:
            notes.append(f"教育部已同意延期至 {_local(deadline)}")
        if deadline < now:
            notes.append("已超过推荐截止时间，如确需延期请联系教育部")
        if need:
            text, count, action = f"{batch.name}：还需推荐 {need} 个县（区）", need, "去推荐"
        else:
            text, count, action = f"{batch.name}：已推荐 {used} 个县（区），待签发报送教育部", drafts, "去签发报送"
        todos.append(
            Todo(
                key=f"nominate-{batch.pk}",
                text=text,
                count=count,
                unit="个",
                url=reverse("programme:province", args=[batch.number, province.code]),
                action=action,
                deadline=deadline,
                today=today,
                detail="；".join(notes),
                remind=True,
            )
        )
    return todos


def _returned_nominations(province: OrgUnit) -> list[Todo]:
    returned = list(
        Nomination.objects.filter(
            province=province,
            status=NominationStatus.RETURNED,
            batch__status__in=(BatchStatus.OPEN, BatchStatus.CLOSED),
        )
        .order_by("county__code")
        .values_list("pk", "county__name", "reason")
    )
    if not returned:
        return []
    links = tuple((name, reverse("programme:nomination", args=[pk])) for pk, name, _ in returned)
    detail = f"退回理由：{returned[0][2]}" if len(returned) == 1 and returned[0][2] else ""
    return [
        Todo(
            key="returned-nominations",
            text=f"教育部退回了 {len(returned)} 个推荐，请修改后重新报送",
            count=len(returned),
            unit="个",
            url=links[0][1] if len(links) == 1 else reverse("programme:province_dashboard", args=[province.code]),
            action="去修改",
            links=links if len(links) > 1 else (),
            detail=detail,
        )
    ]
