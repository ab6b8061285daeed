"""The user's to-do list: the builder for the level of their unit."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import Level
from youjun.web.programme.services.common import is_ministry
from youjun.web.recognition.selectors import pending_for
from youjun.web.todo.selectors.common import Todo
from youjun.web.todo.selectors.county import county_todos
from youjun.web.todo.selectors.ministry import ministry_todos
from youjun.web.todo.selectors.province import monitoring_alarms, province_todos
from youjun.web.todo.selectors.school import school_todos
from youjun.web.todo.selectors.supervisor import supervisor_todos


def todos_for(user: User, now: dt.datetime | None = None) -> list[Todo]:
    """The user's to-do list, for the level of their unit (a viewer has none: the account only reads), with what
    the national recognition waits for from the user (steps to take, findings to rectify or verify, overdue ones)."""
    now = now or timezone.now()
    if user.role == Role.VIEWER:
        return []
    return _level_todos(user, now) + recognition_todos(user, now)


def recognition_todos(user: User, now: dt.datetime) -> list[Todo]:
    today = timezone.localdate(now)
    out = []
    for p in pending_for(user):
        deadline = None
        if p.deadline is not None:
            end = dt.datetime.combine(p.deadline, dt.time(23, 59))
            deadline = timezone.make_aware(end, timezone.get_default_timezone())
        out.append(Todo(p.key, p.text, p.count, p.url, names=p.names, deadline=deadline, today=today,
                        remind=p.key == "recognition:rectify" or p.key.startswith("recognition:recheck:")))  # fmt: skip
    return out


def _level_todos(user: User, now: dt.datetime) -> list[Todo]:
    if is_ministry(user):
        return ministry_todos(user, now)
    if user.role == Role.SCHOOL:
        if user.school_id is None:
            return []
        return school_todos(now, school_ids=[user.school_id]).get(user.school_id, [])
    unit = user.org_unit
    if unit is None:
        return []
    if user.role == Role.PROVINCE and unit.level == Level.PROVINCE:
        return province_todos(unit, now)
    if user.role == Role.PREFECTURE and unit.level == Level.PREFECTURE:
        return monitoring_alarms(unit) + supervisor_todos(unit, now)
    if user.role == Role.COUNTY and unit.level == Level.COUNTY:
        return county_todos([unit], now)[unit.pk]
    return []
