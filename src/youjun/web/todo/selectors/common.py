"""What every level's to-do list is made of: the ``Todo`` itself, its countdown in Asia/Shanghai dates, the
short names and name lists it shows, the address that marks a notice read (``open_url``), the collection windows a
unit works in, and the query helpers the builders share (ids filter, schools active in a year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from youjun.formatting import count as count_text
from youjun.web.collection.models import CollectionYear
from youjun.web.todo.schedule import schedule

#: Above this many ids a filter on them is dropped and the rows are picked in Python (a national run reads the year
#: whole instead of sending thousands of parameters).
MAX_IDS = 500


@dataclass(frozen=True)
class Todo:
    """One thing to do: ``text`` says what, ``count`` how many (with ``unit``), ``url`` where it is done."""

    key: str
    text: str
    count: int
    url: str
    action: str = "去办理"
    unit: str = ""
    deadline: dt.datetime | None = None
    today: dt.date | None = None
    names: tuple[str, ...] = ()
    more: int = 0
    detail: str = ""
    links: tuple[tuple[str, str], ...] = ()
    #: Whether deadline reminders are sent for it (the user's own unit has to meet the deadline).
    remind: bool = False

    @property
    def count_text(self) -> str:
        return count_text(self.count, self.unit or None)

    @property
    def days_left(self) -> int | None:
        """Whole days from today to the deadline's date, both in Asia/Shanghai (negative when missed)."""
        if self.deadline is None or self.today is None:
            return None
        return (timezone.localdate(self.deadline) - self.today).days

    @property
    def countdown(self) -> str:
        return countdown(self.days_left)

    @property
    def overdue(self) -> bool:
        days = self.days_left
        return days is not None and days < 0

    @property
    def tone(self) -> str:
        """``bad`` when missed, ``warn`` within three days, else nothing."""
        days = self.days_left
        if days is None:
            return ""
        return "bad" if days < 0 else ("warn" if days <= 3 else "")

    @property
    def deadline_text(self) -> str:
        return "" if self.deadline is None else f"{timezone.localtime(self.deadline):%Y-%m-%d %H:%M}"

    @property
    def names_text(self) -> str:
        if not self.names:
            return ""
        text = "、".join(self.names)
        return f"{text}等 {self.count} {self.unit or '个'}" if self.more else text

    @property
    def sentence(self) -> str:
        """The to-do as one line (notifications, e-mails): what, the deadline and the countdown."""
        when = f"，截止 {self.deadline_text}，{self.countdown}" if self.deadline else ""
        return f"{self.text}{when}"


def countdown(days: int | None) -> str:
    """「还剩 3 天」「今天截止」「已逾期 2 天」 for a deadline ``days`` whole days away (Asia/Shanghai dates).

    >>> countdown(3), countdown(0), countdown(-2), countdown(None)
    ('还剩 3 天', '今天截止', '已逾期 2 天', '')
    """
    if days is None:
        return ""
    if days > 0:
        return f"还剩 {days} 天"
    return "今天截止" if days == 0 else f"已逾期 {-days} 天"


def days_until(deadline: dt.datetime, now: dt.datetime | None = None) -> int:
    """Whole days from today's date to the deadline's date, both in Asia/Shanghai."""
    return (timezone.localdate(deadline) - timezone.localdate(now or timezone.now())).days


def short(text: str, limit: int = 14) -> str:
    """A long name cut to ``limit`` characters with an ellipsis (item names are whole sentences).

    >>> short("城乡学校建设标准、教师编制标准、生均公用经费基准定额"), short("无过重课业负担")
    ('城乡学校建设标准、教师编制…', '无过重课业负担')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _item(code: str, names: dict[str, str]) -> str:
    return f"{code} {short(names.get(code, ''))}".strip()


def _names(items: Sequence[str]) -> tuple[tuple[str, ...], int]:
    shown = schedule().names_shown
    return tuple(items[:shown]), max(len(items) - shown, 0)


def _ids(field: str, ids: Sequence[int]) -> Q:
    return Q(**{f"{field}__in": list(ids)}) if len(ids) <= MAX_IDS else Q()


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def active_in(year: int) -> Q:
    """Schools of the registry active in ``year`` (``School.active_in`` as a query)."""
    return (Q(opened_year__isnull=True) | Q(opened_year__lte=year)) & (
        Q(closed_year__isnull=True) | Q(closed_year__gt=year)
    )


def open_url(url: str) -> str:
    """The address that marks the user's notices pointing at ``url`` read, then goes there (``views.open_notice``)."""
    return reverse("todo:open") + "?" + urlencode({"next": url})


# ---------------------------------------------------------------------------------------------------------------
# Collection windows


def windows(now: dt.datetime) -> list[CollectionYear]:
    """Collection windows open now, or closed within ``overdue_window_days`` (their unfinished work is overdue)."""
    since = now - dt.timedelta(days=schedule().overdue_window_days)
    return list(CollectionYear.objects.filter(opens_at__lte=now, closes_at__gte=since).select_related("scope"))


def window_for(code: str, found: Iterable[CollectionYear], now: dt.datetime) -> CollectionYear | None:
    """The window a unit (or a school's county) works in: an open one before a closed one, then the latest year."""
    covering = [w for w in found if code.startswith(w.scope.prefix)]
    if not covering:
        return None
    return max(covering, key=lambda w: (w.closes_at >= now, w.year, w.closes_at))
