"""The provincial rule-set page in the permission matrix (tests/web/test_permissions.py): every administration's
account reads it (the ministry all provinces, the others their own province's assignment; school accounts are
refused), and only the ministry's POST may change anything."""

from __future__ import annotations

from typing import Any

from youjun.web.rulesets.models import RuleSetAssignment

UNSCOPED: dict[str, dict[str, Any]] = {"rulesets:index": {}}


def SNAPSHOT() -> tuple[Any, ...]:
    return (RuleSetAssignment.objects.count(),)


#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous (test_permissions.py).
UNSCOPED_STATUS = {
    "rulesets:index": "200/302 200/403 200/403 200/403 403/403 200/403 200/403 403/403 302/302",
}
