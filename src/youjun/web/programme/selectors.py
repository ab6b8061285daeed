"""Read-only views of the programme for pages and dashboards (every query scoped by the caller's jurisdiction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import scoped
from youjun.web.audit.models import Transition
from youjun.web.collection.models import SchoolRecord
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.organisation.selectors import basic_balances
from youjun.web.programme import recommendation
from youjun.web.programme.models import (
    Batch,
    BatchStatus,
    Nomination,
    NominationStatus,
    Plan,
    ProgressReport,
    ProvinceSubmission,
)
from youjun.web.programme.services import REMIND_DAYS, effective_deadline, eligibility


def pilots(user: User) -> QuerySet[Nomination]:
    """Confirmed nominations of published batches inside the user's jurisdiction: the pilot counties."""
    qs = Nomination.objects.filter(status=NominationStatus.CONFIRMED, batch__status=BatchStatus.PUBLISHED)
    return scoped(qs, user, "county__code").select_related("county__parent", "province", "batch")


# ----------------------------------------------------------------------------------------------------
# Counts that say what they count

#: The states in the order counts are written, with the words a count uses (「已确认 4 · 退回 1 · 撤回 2」).
STATUS_WORDS: tuple[tuple[str, str], ...] = (
    (NominationStatus.CONFIRMED, "已确认"),
    (NominationStatus.SUBMITTED, "待审核"),
    (NominationStatus.RETURNED, "退回"),
    (NominationStatus.DRAFT, "填写中"),
    (NominationStatus.REJECTED, "不予确认"),
    (NominationStatus.WITHDRAWN, "撤回"),
)


def breakdown(counts: Mapping[str, int]) -> str:
    """Nominations by state, only the states that occur, in a fixed order: 「已确认 4 · 退回 1 · 撤回 2」; 「—」."""
    parts = [f"{word} {counts[state]}" for state, word in STATUS_WORDS if counts.get(state)]
    return " · ".join(parts) or "—"


def counts_by(nominations: QuerySet[Nomination], key: str) -> dict[Any, dict[str, int]]:
    """``{key value: {state: count}}`` in one grouped query (``key``: "batch_id", "province__code", …)."""
    out: dict[Any, dict[str, int]] = {}
    for group, state, n in nominations.values_list(key, "status").annotate(n=Count("pk")).order_by():
        out.setdefault(group, {})[state] = n
    return out


# ----------------------------------------------------------------------------------------------------
# The province's county chooser and its basic-balance years


@dataclass
class Candidate:
    unit: OrgUnit
    year: int | None
    has_data: bool
    #: Why the county cannot be chosen (empty when it can).
    refused: str
    #: What the province should know when it chooses it.
    notes: list[str]


def candidates(batch: Batch, province: OrgUnit) -> list[dict[str, Any]]:
    """The counties of the province, grouped by prefecture, each with its year, whether it has school data, and
    why it cannot be nominated (too recent, already nominated, already a pilot)."""
    counties = list(
        OrgUnit.objects.filter(level=Level.COUNTY, code__startswith=province.prefix)
        .select_related("parent")
        .order_by("code")
    )
    years = {k: b.year for k, b in basic_balances(province.prefix).items()}
    with_data = set(
        SchoolRecord.objects.filter(county__code__startswith=province.prefix).values_list("county_id", flat=True)
    ) | set(
        CountyEvaluation.objects.filter(county__code__startswith=province.prefix).values_list("county_id", flat=True)
    )
    taken = set(
        batch.nominations.exclude(status=NominationStatus.WITHDRAWN)
        .filter(province=province)
        .values_list("county_id", flat=True)
    )
    pilots = set(
        Nomination.objects.filter(status=NominationStatus.CONFIRMED, county__code__startswith=province.prefix)
        .exclude(batch=batch)
        .values_list("county_id", flat=True)
    )
    groups: dict[str, dict[str, Any]] = {}
    for c in counties:
        year = years.get(c.pk)
        ok, _ = eligibility(year, batch)
        refused, notes = "", []
        if c.pk in taken:
            refused = "已在本批次推荐名单中"
        elif c.pk in pilots:
            refused = "已是先行创建县"
        elif ok is False:
            refused = f"基本均衡认定不满 {batch.min_years} 年（{year} 年）"
        if ok is None:
            notes.append("未登记基本均衡认定年份")
        elif ok:
            notes.append(f"{year} 年通过基本均衡认定")
        if c.pk not in with_data:
            notes.append("无学校数据")
        parent = c.parent
        key = parent.code if parent is not None else ""
        title = _group_title(parent, province)
        groups.setdefault(key, {"name": title, "counties": []})["counties"].append(
            Candidate(c, year, c.pk in with_data, refused, notes)
        )
    return list(groups.values())


def _group_title(parent: OrgUnit | None, province: OrgUnit) -> str:
    if parent is None or parent.level != Level.PREFECTURE:
        return province.name
    name = parent.name
    return province.name if name in ("市辖区", "县") else name


def basic_balance_rows(province: OrgUnit) -> list[dict[str, Any]]:
    """The province's counties by prefecture with their recorded basic-balance year (the province's page)."""
    records = basic_balances(province.prefix)
    groups: dict[str, dict[str, Any]] = {}
    counties = OrgUnit.objects.filter(level=Level.COUNTY, code__startswith=province.prefix).select_related("parent")
    for c in counties.order_by("code"):
        key = c.parent.code if c.parent is not None else ""
        group = groups.setdefault(key, {"name": _group_title(c.parent, province), "rows": [], "missing": 0})
        record = records.get(c.pk)
        group["rows"].append({"unit": c, "record": record})
        group["missing"] += record is None
    return list(groups.values())


# ----------------------------------------------------------------------------------------------------
# Publication and deadlines


def published(today: dt.date | None = None) -> QuerySet[Batch]:
    """Batches whose list is public: published, and the publication date reached."""
    day = today or timezone.localdate()
    return Batch.objects.filter(status=BatchStatus.PUBLISHED, published_on__lte=day).order_by("number")


def upcoming_deadlines(user: User, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Open batches a province user has not signed off whose (extended) deadline is within a week, computed when
    the page is shown (nothing is stored by reading)."""
    if user.role != Role.PROVINCE or user.org_unit is None:
        return []
    now = now or timezone.now()
    signed = set(ProvinceSubmission.objects.filter(province=user.org_unit).values_list("batch_id", flat=True))
    out = []
    for batch in Batch.objects.filter(status=BatchStatus.OPEN).exclude(pk__in=signed):
        deadline = effective_deadline(batch, user.org_unit)
        if now <= deadline <= now + dt.timedelta(days=REMIND_DAYS):
            out.append({"batch": batch, "deadline": deadline, "province": user.org_unit})
    return out


@dataclass
class PilotRow:
    nomination: Nomination
    plan: Plan | None
    latest_report: ProgressReport | None
    standing: dict[str, Any]
    ready: bool


def pilot_rows(nominations: QuerySet[Nomination]) -> list[PilotRow]:
    """One row per pilot: plan, latest progress report, latest standing against the standard, ready to apply."""
    items = list(nominations)
    counties = [n.county_id for n in items]
    plans = {p.nomination_id: p for p in Plan.objects.filter(nomination__in=items)}
    latest: dict[int, ProgressReport] = {}
    for r in ProgressReport.objects.filter(county_id__in=counties).order_by("created_at", "pk"):
        latest[r.county_id] = r
    evaluations: dict[int, CountyEvaluation] = {}
    for e in CountyEvaluation.objects.filter(county_id__in=counties).order_by("year"):
        evaluations[e.county_id] = e
    rows = []
    for n in items:
        ev = evaluations.get(n.county_id)
        st = recommendation.standing(ev.result) if ev else {}
        rows.append(PilotRow(n, plans.get(n.pk), latest.get(n.county_id), st, st.get("verdict") == "met"))
    return rows


def trend(county: OrgUnit, since: int) -> list[dict[str, Any]]:
    """The county's stored standing, one row per stored year, oldest first; rows of years up to ``since`` (the year
    before the pilot's batch) are marked ``baseline`` (创建前).

    Every stored year is shown: statistics lag the programme (a 2026 batch's latest data are often of 2024), so
    keeping only the years from ``since`` on left a pilot with stored results facing an empty table. Where a year
    was stored under more than one rule set, the latest computed result is shown.
    """
    latest: dict[int, CountyEvaluation] = {}
    for e in CountyEvaluation.objects.filter(county=county).order_by("year", "computed_at", "pk"):
        latest[e.year] = e
    rows = []
    for year in sorted(latest):
        e = latest[year]
        st = recommendation.standing(e.result)
        cv_ok = {}
        ra = (e.result.get("resource_allocation") or {}).get("stages") or {}
        for stage in recommendation.STAGES:
            flags = (ra.get(stage) or {}).get("cv_passed") or {}
            cv_ok[stage] = f"{sum(1 for v in flags.values() if v)}/{len(flags)}" if flags else "—"
        rows.append({**st, "year": year, "cv_ok": cv_ok, "baseline": year <= since})
    return rows


def by_province(rows: list[PilotRow]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        p = row.nomination.province
        g = groups.setdefault(p.code, {"province": p, "rows": [], "ready": 0, "plans": 0, "reports": 0})
        g["rows"].append(row)
        g["ready"] += row.ready
        g["plans"] += row.plan is not None and row.plan.status == "accepted"
        g["reports"] += row.latest_report is not None
    return [groups[k] for k in sorted(groups)]


def basic_balance_history(province: OrgUnit, limit: int = 50) -> list[Transition]:
    """The latest records and corrections of the province's basic-balance years (the audit trail)."""
    trail = Transition.objects.filter(kind="basic_balance", county__code__startswith=province.prefix)
    return list(trail.select_related("actor", "county__parent").order_by("-at", "-pk")[:limit])
