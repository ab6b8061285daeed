"""The programme's overviews: the ministry's and provinces' dashboards, a county's page, notifications.

Reading a page writes nothing: deadlines close to expiry are computed and shown (``selectors.upcoming_deadlines``),
not stored as reminders on the way.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import scoped
from youjun.web.organisation.models import BasicBalance, Level, OrgUnit
from youjun.web.programme import selectors, services
from youjun.web.programme.models import (
    Batch,
    BatchStatus,
    Nomination,
    NominationStatus,
    Notification,
    PlanStatus,
    ProgressReport,
    ProvinceSubmission,
    ReportStatus,
)
from youjun.web.programme.views.common import (
    _unit,
    _user,
    member_required,
)

# ----------------------------------------------------------------------------------------------------
# Overviews


@member_required
def index(request: HttpRequest) -> HttpResponse:
    """Each role's start page: province and county users go to their own workspace."""
    user = _user(request)
    if user.role == Role.PROVINCE and user.org_unit:
        return redirect("programme:province_dashboard", code=user.org_unit.code)
    if user.role == Role.COUNTY and user.org_unit:
        return redirect("programme:county", code=user.org_unit.code)
    rows = selectors.pilot_rows(selectors.pilots(user))
    pending = scoped(Nomination.objects.filter(status=NominationStatus.SUBMITTED), user, "county__code")
    reports = scoped(ProgressReport.objects.filter(status=ReportStatus.FORWARDED), user, "county__code")
    counts = selectors.counts_by(scoped(Nomination.objects.all(), user, "county__code"), "batch_id")
    batches = [{"b": b, "breakdown": selectors.breakdown(counts.get(b.pk, {}))} for b in Batch.objects.all()]
    context = {
        "batches": batches,
        "groups": selectors.by_province(rows),
        "rows": rows,
        "ready": [r for r in rows if r.ready],
        "pending": pending.select_related("county__parent", "batch")[:50],
        "reports": reports.select_related("county__parent")[:20],
        "ministry": services.is_ministry(user),
    }
    return render(request, "youjun/programme/index.html", context)


@member_required
def province_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    province = _unit(request, code, Level.PROVINCE)
    user = _user(request)
    batches = []
    counts = selectors.counts_by(Nomination.objects.filter(province=province), "batch_id")
    for b in Batch.objects.exclude(status=BatchStatus.DRAFT):
        batches.append(
            {
                "batch": b,
                "used": services.quota_used(b, province),
                "breakdown": selectors.breakdown(counts.get(b.pk, {})),
                "deadline": services.effective_deadline(b, province),
                "submitted": ProvinceSubmission.objects.filter(batch=b, province=province).first(),
            }
        )
    counties = OrgUnit.objects.filter(level=Level.COUNTY, code__startswith=province.prefix)
    recorded = BasicBalance.objects.filter(county__code__startswith=province.prefix).count()
    pilots = selectors.pilots(user).filter(province=province)
    rows = selectors.pilot_rows(pilots)
    context = {
        "province": province,
        "batches": batches,
        "rows": rows,
        "plans": [r.plan for r in rows if r.plan and r.plan.status == PlanStatus.SUBMITTED],
        "reports": ProgressReport.objects.filter(
            county__code__startswith=province.prefix, status=ReportStatus.SUBMITTED
        ).select_related("county__parent"),
        "is_province": user.role == Role.PROVINCE and user.org_unit_id == province.pk,
        "reminders": selectors.upcoming_deadlines(user),
        "counties": counties.count(),
        "recorded": recorded,
    }
    return render(request, "youjun/programme/province_dashboard.html", context)


@member_required
def county(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(request, code, Level.COUNTY)
    nominations = Nomination.objects.filter(county=unit).select_related("batch").order_by("-batch__number")
    pilot = services.pilot_of(unit)
    plan = getattr(pilot, "plan", None) if pilot else None
    context = {
        "county": unit,
        "nominations": nominations,
        "pilot": pilot,
        "plan": plan,
        "reports": ProgressReport.objects.filter(county=unit),
        "trend": selectors.trend(unit, pilot.batch.year - 1) if pilot else [],
        "is_county": _user(request).role == Role.COUNTY and _user(request).org_unit_id == unit.pk,
    }
    return render(request, "youjun/programme/county.html", context)


def notifications_for(user: User) -> Any:
    return Notification.objects.filter(user=user)


@member_required
def notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        notifications_for(user).filter(read=False).update(read=True)
        messages.success(request, "已全部标记为已读。")
        return redirect("programme:notifications")
    services.settle(user)
    items = list(notifications_for(user).filter(done_at__isnull=True)[:200])
    done = list(notifications_for(user).filter(done_at__isnull=False)[:50])
    context = {"items": items, "done": done, "reminders": selectors.upcoming_deadlines(user)}
    return render(request, "youjun/programme/notifications.html", context)
