"""The administrators' page of background jobs in the permission matrix (tests/web/test_permissions.py): the
ministry reads it and may enqueue the worker check; every other account is refused."""

from __future__ import annotations

from typing import Any

from django_tasks_db.models import DBTaskResult

UNSCOPED: dict[str, dict[str, Any]] = {"operations:tasks": {}}


def SNAPSHOT() -> tuple[Any, ...]:
    return (DBTaskResult.objects.count(),)


#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous (test_permissions.py).
UNSCOPED_STATUS = {
    "operations:tasks": "200/302 403/403 403/403 403/403 403/403 403/403 403/403 403/403 302/302",
}
