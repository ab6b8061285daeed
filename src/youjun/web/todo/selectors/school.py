"""A school's to-do list: this year's record to submit, records the county returned.

``school_todos`` takes many schools at once (every school with work in a window, for the reminder run).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.urls import reverse
from django.utils import timezone

from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.todo.selectors.common import Todo, _ids, window_for, windows


def school_todos(now: dt.datetime | None = None, *, school_ids: Sequence[int] | None = None) -> dict[int, list[Todo]]:
    """To-dos by school id: this year's record not yet submitted (with the window's deadline) and records the county
    returned (with the reason). ``school_ids`` None: every school with work in a window (the reminder run)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    found = windows(now)
    records = SchoolRecord.objects.filter(status__in=(RecordStatus.DRAFT, RecordStatus.RETURNED))
    if school_ids is not None:
        records = records.filter(_ids("school_id", school_ids))
    else:
        records = records.filter(year__in={w.year for w in found})
    wanted = set(school_ids) if school_ids is not None else None
    out: dict[int, list[Todo]] = defaultdict(list)
    rows = records.order_by("-year").values_list("pk", "school_id", "year", "status", "return_reason", "county__code")
    for pk, school_id, year, status, reason, code in rows.iterator(chunk_size=5000):
        if wanted is not None and school_id not in wanted:
            continue
        window = window_for(code, found, now)
        current = window is not None and window.year == year
        url = reverse("collection:record", args=[pk])
        closed = current and window is not None and window.closes_at < now
        after = "采集已截止，请尽快联系县（区）教育局。" if closed else ""
        if status == RecordStatus.RETURNED or reason:
            text = f"县（区）退回了本校 {year} 年度数据，请修改后重新提交"
            if status == RecordStatus.DRAFT:
                text = f"本校 {year} 年度数据被退回后尚未重新提交"
            detail = f"退回原因：{reason}" if reason else ""
            action = "去修改"
        elif current:
            text, detail, action = f"请填写并提交本校 {year} 年度数据", "", "去填报"
        else:
            continue  # a draft of a year no window is open for: nothing the school can do now
        out[school_id].append(
            Todo(
                key=f"record-{pk}",
                text=text,
                count=1,
                unit="项",
                url=url,
                action=action,
                deadline=window.closes_at if current and window is not None else None,
                today=today,
                detail="；".join(p for p in (detail, after) if p),
                remind=current,
            )
        )
    return dict(out)
