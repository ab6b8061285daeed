"""The to-do app's URLs in the permission matrix (see test_permissions.py).

The chase list is the county's and the levels' above it (read-only for them, 404 outside, 403 for a school); only
the county itself sends the one-click chase. Opening a notice touches the user's own notices only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web.conftest import YEAR
from youjun.web.programme.models import Notification
from youjun.web.todo.models import DigestSent

Side = dict[str, str]


def _chase(side: Side) -> dict[str, Any]:
    return {"code": side["county"], "year": YEAR}


TARGETS: dict[str, Callable[[Side], dict[str, Any]]] = {
    "todo:chase": _chase,
    "todo:chase_print": _chase,
    "todo:chase_xlsx": _chase,
    "todo:chase_send": _chase,
}
UNSCOPED: dict[str, dict[str, Any]] = {"todo:open": {}}


def SNAPSHOT() -> tuple[Any, ...]:  # the name test_permissions.py looks for
    return (
        tuple(Notification.objects.order_by("pk").values_list("read", "done_at")),
        DigestSent.objects.count(),
    )


#: Statuses per role (see test_permissions.py): ministry, province, prefecture, county, school, viewer.
INSIDE = {
    "todo:chase": "200/405 200/405 200/405 200/405 403/403 200/405",
    "todo:chase_print": "200/405 200/405 200/405 200/405 403/403 200/405",
    "todo:chase_xlsx": "200/405 200/405 200/405 200/405 403/403 200/405",
    "todo:chase_send": "405/403 405/403 405/403 405/302 403/403 405/403",
}
#: province, prefecture, county, school, viewer against the other jurisdiction.
OUTSIDE = {
    "todo:chase": "404/405 404/405 404/405 403/403 404/405",
    "todo:chase_print": "404/405 404/405 404/405 403/403 404/405",
    "todo:chase_xlsx": "404/405 404/405 404/405 403/403 404/405",
    "todo:chase_send": "405/404 405/404 405/404 403/403 405/404",
}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous.
UNSCOPED_STATUS = {
    "todo:open": "302/405 302/405 302/405 302/405 302/405 302/405 302/405 302/405 302/302",
}
