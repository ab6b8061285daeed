"""The collection's to-dos of the levels above a county (a prefecture's whole list, the end of a province's):
county submissions to receive, counties not yet submitted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.urls import reverse
from django.utils import timezone

from youjun.web.collection.models import CountySubmission, SubmissionStatus
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.todo.selectors.common import MAX_IDS, Todo, _names, active_in, window_for, windows


def supervisor_todos(unit: OrgUnit, now: dt.datetime | None = None) -> list[Todo]:
    """A province's or prefecture's collection to-dos: county submissions to receive, counties not yet submitted."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    todos = []
    received: dict[int, list[str]] = defaultdict(list)
    for year, name in (
        CountySubmission.objects.filter(county__code__startswith=unit.prefix, status=SubmissionStatus.SUBMITTED)
        .order_by("-year", "county__code")
        .values_list("year", "county__name")
    ):
        received[year].append(name)
    for year, names in received.items():
        shown, more = _names(names)
        todos.append(
            Todo(
                key=f"receive-{year}",
                text=f"{len(names)} 个县（区）已报送 {year} 年度数据，待审核接收",
                count=len(names),
                unit="个",
                url=reverse("collection:workspace") + f"?year={year}&status=submitted",
                action="去审核接收",
                names=shown,
                more=more,
            )
        )
    window = window_for(unit.code, windows(now), now)
    if window is not None:
        year = window.year
        with_schools = set(
            School.objects.filter(county__code__startswith=unit.prefix)
            .filter(active_in(year))
            .order_by()
            .values_list("county_id", flat=True)
            .distinct()
        )
        done = set(
            CountySubmission.objects.filter(
                county__code__startswith=unit.prefix,
                year=year,
                status__in=(SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED),
            ).values_list("county_id", flat=True)
        )
        waiting = with_schools - done
        if waiting:
            ordered = list(
                OrgUnit.objects.filter(pk__in=sorted(waiting)[:MAX_IDS]).order_by("code").values_list("name", flat=True)
            )
            shown, _ = _names(ordered)
            todos.append(
                Todo(
                    key=f"unsubmitted-{year}",
                    text=f"{len(waiting)} 个县（区）尚未报送 {year} 年度数据",
                    count=len(waiting),
                    unit="个",
                    url=reverse("collection:workspace") + f"?year={year}",
                    action="查看采集进度",
                    deadline=window.closes_at,
                    today=today,
                    names=shown,
                    more=max(len(waiting) - len(shown), 0),
                )
            )
    return todos
