"""A county's to-do list and its chase list (一键催报).

The collection's to-dos (schools to chase, records to review, the year to submit upward) are computed for many
counties at once (``county_todos`` over every county, for the reminder run); the assessment's (evidence, verdicts
「待补充」), the survey's (the campaign against its plan) and the programme's (a pilot county's plan and progress
reports) are per county.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone

from youjun.formatting import count as count_text
from youjun.web.accounts.models import Role, User
from youjun.web.assessment import services as assessment
from youjun.web.assessment.models import Evidence, Review
from youjun.web.assessment.models import Verdict as EvidenceVerdict
from youjun.web.collection.models import CollectionYear, CountySubmission, RecordStatus, SchoolRecord, SubmissionStatus
from youjun.web.monitoring import services as monitoring
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.programme.models import (
    BatchStatus,
    Nomination,
    NominationStatus,
    Plan,
    PlanStatus,
    ProgressReport,
    ReportStatus,
)
from youjun.web.survey import services as survey
from youjun.web.survey.models import Campaign, CampaignStatus
from youjun.web.todo.selectors.common import Todo, _ids, _item, _names, active_in, window_for, windows


def county_todos(
    counties: Sequence[OrgUnit], now: dt.datetime | None = None, *, full: bool = True
) -> dict[int, list[Todo]]:
    """To-dos by county id. The collection's (schools to chase, records to review, the year to submit upward) are
    computed for all ``counties`` at once; ``full`` adds the assessment's, the survey's and the programme's, which
    are per county (the 工作台 of one county; the reminder run passes ``full=False``)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    out: dict[int, list[Todo]] = {c.pk: [] for c in counties}
    found = windows(now)
    by_year: dict[int, list[tuple[OrgUnit, CollectionYear]]] = defaultdict(list)
    for county in counties:
        window = window_for(county.code, found, now)
        if window is not None:
            by_year[window.year].append((county, window))
    for year, group in by_year.items():
        for county, todo in _collection(group, year, now, today):
            out[county.pk].append(todo)
    if full:
        for county in counties:
            chosen = window_for(county.code, found, now)
            year = chosen.year if chosen is not None else _latest_year(county, today)
            out[county.pk] += _evidence(county, year)
            out[county.pk] += _survey(county, today)
            out[county.pk] += _pilot(county)
            out[county.pk] += _monitoring(county)
    return out


def _monitoring(county: OrgUnit) -> list[Todo]:
    """The county's early warnings of the latest monitored year from 预警 up (decision 59), to look into."""
    found = monitoring.latest_warnings(county.code, monitoring.TODO_COUNTY_SEVERITY)
    if not found:
        return []
    levels = "、".join(f"{level} {n} 条" for level, n in Counter(w.level for w in found).items())
    names = tuple(dict.fromkeys(w.rule_name for w in found))
    return [
        Todo(
            key="monitoring",
            text=f"{found[0].year} 年度监测发现 {len(found)} 条预警事项（{levels}），请核实原因并采取措施",
            count=len(found),
            unit="条",
            url=reverse("monitoring:county", args=[county.code]),
            action="查看预警",
            names=names[:5],
            more=max(len(names) - 5, 0),
        )
    ]


def _latest_year(county: OrgUnit, today: dt.date) -> int:
    latest = SchoolRecord.objects.filter(county=county).aggregate(y=Max("year"))["y"]
    return int(latest) if latest else today.year


def _collection_counts(
    ids: list[int], year: int
) -> tuple[dict[int, dict[str, int]], dict[int, int], dict[int, tuple[str, str]]]:
    """Three group-bys over the counties of one window's year: records by state, active schools without a record,
    and each county's submission upward (state, reason)."""
    wanted = set(ids)
    states: dict[int, dict[str, int]] = defaultdict(dict)
    for county_id, status, n in (
        SchoolRecord.objects.filter(_ids("county_id", ids), year=year)
        .values_list("county_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        states[county_id][status] = n
    missing = dict(
        School.objects.filter(_ids("county_id", ids))
        .filter(active_in(year))
        .exclude(records__year=year)
        .values_list("county_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    submissions = {
        county_id: (status, reason)
        for county_id, status, reason in CountySubmission.objects.filter(_ids("county_id", ids), year=year).values_list(
            "county_id", "status", "reason"
        )
        if county_id in wanted
    }
    return states, missing, submissions


def _collection(
    group: list[tuple[OrgUnit, CollectionYear]], year: int, now: dt.datetime, today: dt.date
) -> Iterable[tuple[OrgUnit, Todo]]:
    """The collection's to-dos of the counties of one window's year: schools to chase, records to review, the year
    to submit upward (or returned). Over 80 lines: one pass over the counties, each to-do spelled out field by field
    (its queries are ``_collection_counts``)."""
    states, missing, submissions = _collection_counts([c.pk for c, _ in group], year)
    for county, window in group:
        counts = states.get(county.pk, {})
        closed = window.closes_at < now
        draft, returned = counts.get(RecordStatus.DRAFT, 0), counts.get(RecordStatus.RETURNED, 0)
        submitted, approved = counts.get(RecordStatus.SUBMITTED, 0), counts.get(RecordStatus.APPROVED, 0)
        absent = int(missing.get(county.pk, 0))
        pending = absent + draft + returned
        page = reverse("collection:county", args=[county.code, year])
        if pending:
            parts = [
                f"{label} {count_text(n)} 所"
                for label, n in (("未创建填报表", absent), ("填报中", draft), ("已退回待修改", returned))
                if n
            ]
            text = (
                f"{year} 年度数据采集已截止，仍有 {count_text(pending)} 所学校未完成填报"
                if closed
                else f"{year} 年度还有 {count_text(pending)} 所学校未完成填报"
            )
            hint = "请联系省级教育行政部门延长采集时间" if closed else ""
            yield (
                county,
                Todo(
                    key=f"filing-{year}",
                    text=text,
                    count=pending,
                    unit="所",
                    url=reverse("todo:chase", args=[county.code, year]),
                    action="查看催报名单",
                    deadline=window.closes_at,
                    today=today,
                    detail="；".join(p for p in ("，".join(parts), hint) if p),
                    remind=True,
                ),
            )
        if submitted:
            yield (
                county,
                Todo(
                    key=f"review-{year}",
                    text=f"{count_text(submitted)} 所学校已提交 {year} 年度数据，待县（区）审核",
                    count=submitted,
                    unit="所",
                    url=page,
                    action="去审核",
                    deadline=window.closes_at,
                    today=today,
                ),
            )
        status, reason = submissions.get(county.pk, (SubmissionStatus.OPEN, ""))
        total = draft + returned + submitted + approved
        if status == SubmissionStatus.RETURNED:
            yield (
                county,
                Todo(
                    key=f"upward-{year}",
                    text=f"上级退回了本县（区）{year} 年度数据，请处理后重新报送",
                    count=1,
                    unit="项",
                    url=page,
                    detail=f"退回原因：{reason}" if reason else "",
                ),
            )
        elif status == SubmissionStatus.OPEN and total and approved == total:
            yield (
                county,
                Todo(
                    key=f"upward-{year}",
                    text=f"{year} 年度全部 {count_text(total)} 所学校的数据已审核，可以报送上级",
                    count=1,
                    unit="项",
                    url=page,
                    action="去报送",
                    deadline=window.closes_at,
                    today=today,
                ),
            )


def _evidence(county: OrgUnit, year: int) -> list[Todo]:
    """Evidence items of the county-year's rule set without a file, and verdicts 「待补充」 no newer file answers."""
    rules = assessment.rules_of(county, year)
    items = assessment.reviewed_of(county, year, rules).evidence
    if not items:
        return []
    uploaded = dict(
        Evidence.objects.filter(county=county, year=year, deleted_at__isnull=True)
        .values_list("item")
        .annotate(last=Max("uploaded_at"))
        .order_by()
    )
    latest: dict[str, tuple[str, dt.datetime]] = {}
    for item, verdict, at in (
        Review.objects.filter(county=county, year=year).order_by("-at", "-pk").values_list("item", "verdict", "at")
    ):
        latest.setdefault(item, (verdict, at))
    names = assessment.item_names(rules)
    url = reverse("assessment:county", args=[county.code, year])
    todos = []
    missing = [i for i in items if i not in uploaded]
    if missing:
        shown, more = _names([_item(code, names) for code in missing])
        todos.append(
            Todo(
                key=f"evidence-{year}",
                text=f"{year} 年度综合评估还有 {len(missing)} 项指标未上传佐证材料",
                count=len(missing),
                unit="项",
                url=url,
                action="上传佐证材料",
                names=shown,
                more=more,
            )
        )
    supplement = [
        i
        for i in items
        if i in latest
        and latest[i][0] == EvidenceVerdict.PENDING
        and (i not in uploaded or uploaded[i] <= latest[i][1])
    ]
    if supplement:
        shown, more = _names([_item(code, names) for code in supplement])
        todos.append(
            Todo(
                key=f"supplement-{year}",
                text=f"{len(supplement)} 项指标的审核意见为「待补充」，请补充佐证材料",
                count=len(supplement),
                unit="项",
                url=url,
                action="补充材料",
                names=shown,
                more=more,
            )
        )
    return todos


def _survey(county: OrgUnit, today: dt.date) -> list[Todo]:
    """The county's survey not yet closed: answers against the plan, valid returns against the rule set's minimum."""
    campaign = (
        Campaign.objects.filter(county=county)
        .exclude(status=CampaignStatus.CLOSED)
        .order_by("-created_at", "-id")
        .first()
    )
    if campaign is None:
        return []
    url = reverse("survey:campaign", args=[campaign.pk])
    if campaign.status == CampaignStatus.DRAFT:
        return [
            Todo(
                key=f"survey-{campaign.pk}",
                text=f"社会认可度调查「{campaign.title}」尚未开始",
                count=1,
                unit="项",
                url=url,
                action="去开始调查",
            )
        ]
    progress = survey.progress(campaign)
    plan = campaign.quota_total
    short = max(plan - progress.responses, 0)
    returns = f"有效回收率 {progress.valid_return_text}（不低于 {progress.valid_return_min_text}）"
    returns += "，已达到要求" if progress.valid_return_ok else "，尚未达到"
    if short == 0 and progress.valid_return_ok:
        text = f"社会认可度调查已收到 {count_text(progress.responses)} 份答卷，达到计划样本，可以结束调查"
        action = "去结束调查"
    else:
        text = (
            f"社会认可度调查进行中：已收到 {count_text(progress.responses)} 份答卷，"
            f"计划 {count_text(plan)} 份，还差 {count_text(short)} 份"
        )
        action = "查看调查进度"
    return [
        Todo(
            key=f"survey-{campaign.pk}",
            text=text,
            count=short,
            unit="份",
            url=url,
            action=action,
            deadline=campaign.closes_at,
            today=today,
            detail=returns,
        )
    ]


def _pilot(county: OrgUnit) -> list[Todo]:
    """A pilot county's plan (to write, to submit, returned) and progress reports (returned, not yet submitted)."""
    nomination = (
        Nomination.objects.filter(county=county, status=NominationStatus.CONFIRMED, batch__status=BatchStatus.PUBLISHED)
        .order_by("-batch__number")
        .first()
    )
    if nomination is None:
        return []
    plan = Plan.objects.filter(nomination=nomination).only("pk", "status", "reason").first()
    url = reverse("programme:plan", args=[county.code])
    if plan is None:
        return [Todo("plan", "本县（区）已列入先行创建县名单，请编制创建工作实施方案", 1, url, "编制实施方案", "项")]
    if plan.status == PlanStatus.DRAFT:
        return [Todo("plan", "创建工作实施方案尚未报送省级审核", 1, url, "完善并报送", "项")]
    if plan.status == PlanStatus.RETURNED:
        detail = f"退回理由：{plan.reason}" if plan.reason else ""
        return [Todo("plan", "省级退回了创建工作实施方案，请修改后重新报送", 1, url, "去修改", "项", detail=detail)]
    if plan.status != PlanStatus.ACCEPTED:
        return []
    reports = list(ProgressReport.objects.filter(plan=plan).values_list("pk", "period", "status", "reason"))
    if not reports:
        new = reverse("programme:report_new", args=[county.code])
        return [Todo("reports", "实施方案已通过省级审核，请填写并报送创建进展报告", 1, new, "填写进展报告", "项")]
    todos = []
    for pk, period, status, reason in reports:
        link = reverse("programme:report", args=[pk])
        if status == ReportStatus.RETURNED:
            detail = f"退回理由：{reason}" if reason else ""
            text = f"省级退回了{period}进展报告，请修改后重新报送"
            todos.append(Todo(f"report-{pk}", text, 1, link, "去修改", "项", detail=detail))
        elif status == ReportStatus.DRAFT:
            todos.append(Todo(f"report-{pk}", f"{period}进展报告尚未报送省级", 1, link, "去报送", "项"))
    return todos


def chase_list(county: OrgUnit, year: int) -> list[dict[str, Any]]:
    """The county's schools of the year not yet filed or returned (一键催报), with their reporters' contacts: no
    record yet (the county creates the forms), a draft, or returned; in school order. Three queries."""
    schools = {s.pk: s for s in School.objects.filter(county=county).filter(active_in(year)).order_by("school_id")}
    records = {
        r["school_id"]: r
        for r in SchoolRecord.objects.filter(county=county, year=year).values(
            "pk", "school_id", "status", "return_reason", "updated_at", "values"
        )
    }
    contacts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for school_id, name, username, email in (
        User.objects.filter(role=Role.SCHOOL, is_active=True, school_id__in=list(schools))
        .order_by("pk")
        .values_list("school_id", "display_name", "username", "email")
    ):
        contacts[school_id].append((name or username, email))
    rows = []
    for pk, school in schools.items():
        record = records.get(pk)
        if record is None:
            state = "未创建填报表"
        elif record["status"] == RecordStatus.RETURNED:
            state = "已退回待修改"
        elif record["status"] == RecordStatus.DRAFT:
            editing = "填报中（退回后修改中）" if record["return_reason"] else "填报中"
            state = editing if record["values"] else "未填写"
        else:
            continue
        people = contacts.get(pk, [])
        rows.append(
            {
                "school_id": school.school_id,
                "name": school.name,
                "school_type": school.school_type,
                "urban_rural": school.urban_rural,
                "state": state,
                "reason": record["return_reason"] if record else "",
                "updated_at": record["updated_at"] if record else None,
                "record": record["pk"] if record else None,
                "reporters": "、".join(n for n, _ in people),
                "emails": "、".join(e for _, e in people if e),
                "accounts": len(people),
            }
        )
    return rows
