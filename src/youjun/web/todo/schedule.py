"""The reminder schedule and the to-do list's limits, read from ``data/reminders.toml`` (data, not code).

``YOUJUN_REMINDERS_FILE`` (a setting) may name another file of the same form; every mistake in it is one Chinese
error naming the file and the key, raised when the file is first read.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from youjun.errors import YoujunError

DEFAULT_FILE = Path(__file__).with_name("data") / "reminders.toml"


@dataclass(frozen=True)
class Schedule:
    #: Days before a deadline at which a reminder is due (largest first).
    before: tuple[int, ...] = (7, 3, 1)
    #: Days after a missed deadline at which a reminder is due (smallest first).
    after: tuple[int, ...] = (1,)
    overdue_window_days: int = 30
    names_shown: int = 12

    def threshold(self, days_left: int) -> str | None:
        """The reminder step a deadline ``days_left`` days away has reached (``d3``: three days or less before,
        ``o1``: one day or more after), or None before the first step. The deadline day itself counts as one day
        left, so that a run on that morning still reminds."""
        if days_left >= 0:
            fits = [d for d in self.before if max(days_left, 1) <= d]
            return f"d{min(fits)}" if fits else None
        late = [d for d in self.after if -days_left >= d]
        return f"o{max(late)}" if late else None


def _days(path: Path, key: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise YoujunError.single("bad_schedule", f"{path.name}：{key} 应为天数（整数）的列表，如 [7, 3, 1]。")
    if any(v < 0 for v in value) or len(set(value)) != len(value):
        raise YoujunError.single("bad_schedule", f"{path.name}：{key} 的天数应为不重复的非负整数。")
    return tuple(sorted(value, reverse=True))


def _positive(path: Path, key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise YoujunError.single("bad_schedule", f"{path.name}：{key} 应为正整数。")
    return value


def read(path: Path) -> Schedule:
    """The schedule of one file; unknown keys are errors (a typo never falls back to a default silently)."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    known = {"reminders": {"before", "after"}, "todo": {"overdue_window_days", "names_shown"}}
    for section, table in data.items():
        if section not in known or not isinstance(table, dict):
            raise YoujunError.single("bad_schedule", f"{path.name}：未知的设置节 [{section}]。")
        for key in table:
            if key not in known[section]:
                raise YoujunError.single("bad_schedule", f"{path.name}：未知的设置项 {section}.{key}。")
    reminders, todo = data.get("reminders", {}), data.get("todo", {})
    default = Schedule()
    return Schedule(
        before=_days(path, "reminders.before", reminders.get("before", list(default.before))),
        after=tuple(sorted(_days(path, "reminders.after", reminders.get("after", list(default.after))))),
        overdue_window_days=_positive(
            path, "todo.overdue_window_days", todo.get("overdue_window_days", default.overdue_window_days)
        ),
        names_shown=_positive(path, "todo.names_shown", todo.get("names_shown", default.names_shown)),
    )


@cache
def _cached(path: str) -> Schedule:
    return read(Path(path))


def schedule() -> Schedule:
    """The schedule in force (``settings.YOUJUN_REMINDERS_FILE``, else the shipped file), read once per process."""
    return _cached(str(getattr(settings, "YOUJUN_REMINDERS_FILE", "") or DEFAULT_FILE))
