"""Read-only views of the programme for pages and dashboards (every query scoped by the caller's jurisdiction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from youjun.web.accounts.models import User
from youjun.web.accounts.scoping import scoped
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme import recommendation
from youjun.web.programme.models import BatchStatus, Nomination, NominationStatus, Plan, ProgressReport


def pilots(user: User) -> QuerySet[Nomination]:
    """Confirmed nominations of published batches inside the user's jurisdiction: the pilot counties."""
    qs = Nomination.objects.filter(status=NominationStatus.CONFIRMED, batch__status=BatchStatus.PUBLISHED)
    return scoped(qs, user, "county__code").select_related("county", "province", "batch")


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
    """The county's stored standing by year since ``since`` (the year before the pilot started)."""
    rows = []
    for e in CountyEvaluation.objects.filter(county=county, year__gte=since).order_by("year"):
        st = recommendation.standing(e.result)
        cv_ok = {}
        ra = (e.result.get("resource_allocation") or {}).get("stages") or {}
        for stage in recommendation.STAGES:
            flags = (ra.get(stage) or {}).get("cv_passed") or {}
            cv_ok[stage] = f"{sum(1 for v in flags.values() if v)}/{len(flags)}" if flags else "—"
        rows.append({"year": e.year, **st, "cv_ok": cv_ok})
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
