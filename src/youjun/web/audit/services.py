"""Writing and reading the audit trail (``youjun.web.audit.models.Transition``)."""

from __future__ import annotations

from typing import Any

from youjun.web.audit.models import Transition


def _pk(obj: Any) -> int:
    return obj if isinstance(obj, int) else int(obj.pk)


def record(
    kind: str,
    obj: Any,
    source: str,
    target: str,
    actor: Any,
    reason: str = "",
    *,
    action: str = "",
    county: Any = None,
    year: int | None = None,
) -> Transition:
    """Log one move of ``obj`` (call inside the transaction that made it)."""
    return Transition.objects.create(
        kind=kind,
        object_id=_pk(obj),
        county=county,
        year=year,
        action=action[:40],
        source=source,
        target=target,
        reason=reason,
        actor=actor,
    )


def history(kind: str, obj: Any) -> list[Transition]:
    """Every move of ``obj``, oldest first, with their actors."""
    return list(Transition.objects.filter(kind=kind, object_id=_pk(obj)).select_related("actor"))
