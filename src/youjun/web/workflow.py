"""Workflow moves applied where the data is written (STYLE.md: state machines declared once, applied atomically).

Every app declares its states and allowed moves in one table next to its services; a move is then applied with
one conditional UPDATE — ``WHERE id = … AND status = <the state the caller checked> [AND version = …]`` — inside the
transaction that writes its audit row. Two officials clicking at once cannot both win: the second UPDATE matches no
row, nothing is written or logged for it, and its caller gets a Chinese conflict message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import models
from django.db.models import F
from django.utils import timezone

from youjun.errors import Location, Problem, YoujunError

CONFLICT_CODE = "conflict"


def conflict_message(what: str) -> str:
    return f"操作未执行：{what}的状态已被他人改变（可能有人同时办理）。请刷新页面查看最新状态后再操作。"


def _default_conflict(message: str) -> Exception:
    return YoujunError([Problem(CONFLICT_CODE, message, "error", Location())])


def advance(
    obj: models.Model,
    target: str,
    sources: Iterable[str],
    *,
    what: str,
    changes: Mapping[str, Any] | None = None,
    versioned: bool = False,
    field: str = "status",
    conflict: Callable[[str], Exception] = _default_conflict,
) -> str:
    """Move ``obj`` from the state it was read in (one of ``sources``) to ``target``; return the state it left.

    Call it inside ``transaction.atomic()`` with the audit write. ``changes`` are further fields written by the same
    UPDATE; ``versioned`` also requires and increments ``version``. The object is updated in memory to match.
    Raises ``conflict(message)`` (a ``YoujunError`` by default) when the row moved on since it was read.
    """
    before = str(getattr(obj, field))
    if before not in set(sources):
        raise conflict(conflict_message(what))
    filters: dict[str, Any] = {"pk": obj.pk, field: before}
    updates: dict[str, Any] = {field: target, **(changes or {})}
    names = {f.name for f in obj._meta.get_fields()}
    if versioned:
        filters["version"] = obj.version  # type: ignore[attr-defined]  # versioned models have a version field
        updates["version"] = F("version") + 1
    if "updated_at" in names and "updated_at" not in updates:
        updates["updated_at"] = timezone.now()
    if type(obj)._default_manager.filter(**filters).update(**updates) != 1:
        raise conflict(conflict_message(what))
    for key, value in updates.items():
        if key != "version":
            setattr(obj, key, value)
    if versioned:
        obj.version += 1  # type: ignore[attr-defined]  # versioned models have a version field
    return before


def write_if(
    model: type[models.Model],
    pk: int,
    *,
    what: str,
    where: Mapping[str, Any],
    values: Mapping[str, Any],
    conflict: Callable[[str], Exception] = _default_conflict,
) -> None:
    """``UPDATE model SET values WHERE pk AND where``: an edit that is allowed only in some states (a draft)."""
    updates = dict(values)
    if any(f.name == "updated_at" for f in model._meta.get_fields()) and "updated_at" not in updates:
        updates["updated_at"] = timezone.now()
    if model._default_manager.filter(pk=pk, **where).update(**updates) != 1:
        raise conflict(conflict_message(what))
