"""The ministry's to-do list: provinces that have not signed off their nominations in an open batch,
nominations to review, batches ready to publish, progress reports forwarded and not yet read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from youjun.web.accounts.models import User
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme.models import (
    Batch,
    BatchStatus,
    Extension,
    Nomination,
    NominationStatus,
    Notification,
    ProgressReport,
    ProvinceSubmission,
)
from youjun.web.programme.services.common import ACTIVE
from youjun.web.todo.selectors.common import MAX_IDS, Todo, _names, open_url

#: The forward of a progress report to the ministry, as ``programme.services.pilots.move_report`` keys it.
FORWARD_KEY = "-forward-"


def ministry_todos(user: User, now: dt.datetime | None = None) -> list[Todo]:
    """The ministry's to-dos, from six queries whatever the number of provinces and counties: provinces that have
    not signed off their nominations in an open batch (by name), nominations waiting for review with the sign-offs
    they came in, batches ready to publish, and progress reports forwarded and not yet read."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    batches = list(Batch.objects.filter(status__in=(BatchStatus.OPEN, BatchStatus.CLOSED)).order_by("number"))
    todos: list[Todo] = []
    if batches:
        provinces = list(OrgUnit.objects.filter(level=Level.PROVINCE).order_by("code").values_list("pk", "name"))
        names = dict(provinces)
        signed = set(ProvinceSubmission.objects.filter(batch__in=batches).values_list("batch_id", "province_id"))
        extended = set(Extension.objects.filter(batch__in=batches).values_list("batch_id", "province_id"))
        counts: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        for batch_id, province_id, status, n in (
            Nomination.objects.filter(batch__in=batches)
            .values_list("batch_id", "province_id", "status")
            .annotate(n=Count("id"))
            .order_by()
        ):
            counts[batch_id][province_id][status] = n
        for batch in batches:
            todos += _batch_todos(batch, provinces, names, signed, extended, counts[batch.pk], now, today)
    todos += _forwarded_reports(user)
    return todos


def _batch_todos(
    batch: Batch,
    provinces: list[tuple[int, str]],
    names: dict[int, str],
    signed: set[tuple[int, int]],
    extended: set[tuple[int, int]],
    counts: dict[int, dict[str, int]],
    now: dt.datetime,
    today: dt.date,
) -> list[Todo]:
    url = reverse("programme:batch", args=[batch.number])
    todos = []
    if batch.status == BatchStatus.OPEN:
        waiting = [(pk, name) for pk, name in provinces if (batch.pk, pk) not in signed]
        if waiting:
            started = sum(1 for pk, _ in waiting if any(counts.get(pk, {}).get(s, 0) for s in ACTIVE))
            later = sum(1 for pk, _ in waiting if (batch.pk, pk) in extended)
            notes = [f"其中 {started} 个省份已开始填写推荐"] if started else []
            if later:
                notes.append(f"{later} 个省份已获准延期")
            shown, more = _names([name for _, name in waiting])
            todos.append(
                Todo(
                    key=f"unnominated-{batch.pk}",
                    text=f"{batch.name}：{len(waiting)} 个省份尚未报送推荐",
                    count=len(waiting),
                    unit="个",
                    url=url,
                    action="查看推荐进度",
                    deadline=batch.deadline,
                    today=today,
                    names=shown,
                    more=more,
                    detail="，".join(notes),
                )
            )
    pending = sorted(
        (pk, states.get(NominationStatus.SUBMITTED, 0))
        for pk, states in counts.items()
        if states.get(NominationStatus.SUBMITTED, 0)
    )
    total = sum(n for _, n in pending)
    if total:
        from_signed = sum(1 for pk, _ in pending if (batch.pk, pk) in signed)
        shown, more = _names([f"{names.get(pk, '')} {n} 个" for pk, n in pending])
        todos.append(
            Todo(
                key=f"review-{batch.pk}",
                text=f"{batch.name}：{total} 个推荐待审核",
                count=total,
                unit="个",
                url=url,
                action="去审核",
                names=shown,
                more=more,
                detail=f"来自 {from_signed} 个省份的签发报送" if from_signed else "",
            )
        )
    returned = sum(states.get(NominationStatus.RETURNED, 0) for states in counts.values())
    confirmed = sum(states.get(NominationStatus.CONFIRMED, 0) for states in counts.values())
    all_in = batch.status == BatchStatus.CLOSED or batch.deadline < now
    if not total and not returned and confirmed and all_in:
        todos.append(
            Todo(
                key=f"publish-{batch.pk}",
                text=f"{batch.name}：推荐已全部审核，已确认 {confirmed} 个先行创建县，可以公布名单",
                count=confirmed,
                unit="个",
                url=url,
                action="公布名单",
            )
        )
    return todos


def _forwarded_reports(user: User) -> list[Todo]:
    """Progress reports the provinces forwarded whose notice the user has not read (opening it marks it read)."""
    notes = list(
        Notification.objects.filter(
            user=user, read=False, done_at__isnull=True, key__startswith="report-", key__contains=FORWARD_KEY
        )
        .order_by("created_at", "pk")
        .values_list("key", "url")[:MAX_IDS]
    )
    if not notes:
        return []
    ids = [int(k.split("-")[1]) for k, _ in notes if k.split("-")[1].isdigit()]
    labels = {
        r.pk: f"{r.county.national_name}{r.period}"
        for r in ProgressReport.objects.filter(pk__in=ids).select_related("county__parent")
    }
    links = []
    for key, url in notes:
        part = key.split("-")[1]
        label = labels.get(int(part)) if part.isdigit() else None
        if label is not None:
            links.append((label, open_url(url)))
    if not links:
        return []
    return [
        Todo(
            key="forwarded-reports",
            text=f"{len(links)} 份创建进展报告已由省级转报教育部，待阅",
            count=len(links),
            unit="份",
            url=links[0][1] if len(links) == 1 else reverse("programme:index"),
            action="去阅读",
            links=tuple(links) if len(links) > 1 else (),
        )
    ]
