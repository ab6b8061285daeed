"""Each level's to-do list: what the user's unit has to do next, read from the real states of the other apps.

A to-do (``Todo``) is a sentence, a count, a link to where it is done and, where a deadline exists, that deadline,
shown as a countdown in the Asia/Shanghai date (「还剩 3 天」「今天截止」「已逾期 2 天」). Every list is built from a
handful of aggregate queries (group-bys over the jurisdiction, never one query per row), so the ministry's list reads
the same at national scale (~2,900 counties, ~200,000 schools) as a county's.

The builders of the lower levels take many units at once (``county_todos`` over every county, ``school_todos`` over
every school): the daily reminder run (``services.send_reminders``) asks exactly the questions the 工作台 asks, with
the same queries, for the whole country at once. Only to-dos marked ``remind`` are reminded: those whose deadline the
user's own unit has to meet.

The states read:
- collection: the window (``CollectionYear``) covering the unit, ``SchoolRecord`` states, schools of the registry
  active in the year without a record, ``CountySubmission`` states;
- assessment: evidence items of the county-year's rule set without a file, verdicts 「待补充」 not yet answered;
- survey: the county's campaign (answers against the plan, valid-return rate against the rule set's minimum);
- programme: open batches (quota, per-province extensions, sign-offs), nominations, plans, progress reports.

The builders live one level to a module: ``school``, ``county`` (with the chase list), ``supervisor`` (the levels
above a county: a prefecture, the end of a province's list), ``province``, ``ministry``; ``user`` picks the one for
the user's unit; ``common`` holds the ``Todo`` and what the builders share. Every public name is importable from
here, as callers always have.
"""

from youjun.web.todo.selectors.common import (
    MAX_IDS,
    Todo,
    active_in,
    countdown,
    days_until,
    open_url,
    short,
    window_for,
    windows,
)
from youjun.web.todo.selectors.county import chase_list, county_todos
from youjun.web.todo.selectors.ministry import FORWARD_KEY, ministry_todos
from youjun.web.todo.selectors.province import province_todos
from youjun.web.todo.selectors.school import school_todos
from youjun.web.todo.selectors.supervisor import supervisor_todos
from youjun.web.todo.selectors.user import todos_for

__all__ = [
    "FORWARD_KEY",
    "MAX_IDS",
    "Todo",
    "active_in",
    "chase_list",
    "countdown",
    "county_todos",
    "days_until",
    "ministry_todos",
    "open_url",
    "province_todos",
    "school_todos",
    "short",
    "supervisor_todos",
    "todos_for",
    "window_for",
    "windows",
]
