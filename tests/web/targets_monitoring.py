"""The monitoring pages in the permission matrix (tests/web/test_permissions.py): the pages of a province, a
prefecture's view of it and a county follow the evaluation pages' jurisdiction; only a province or the ministry with
write access asks for a recompute; only the county itself uploads its forecast inputs; school accounts are refused
everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from youjun.web.monitoring.models import Snapshot, Warning

Side = dict[str, str]

TARGETS: dict[str, Callable[[Side], dict[str, Any]]] = {
    "monitoring:unit": lambda s: {"code": s["province"]},
    "monitoring:refresh": lambda s: {"code": s["province"]},
    "monitoring:county": lambda s: {"code": s["county"]},
    "monitoring:county_report": lambda s: {"code": s["county"], "fmt": "docx"},
    "monitoring:province_report": lambda s: {"code": s["province"], "fmt": "docx"},
    "monitoring:forecast_upload": lambda s: {"code": s["county"]},
    "monitoring:forecast_template": lambda s: {"code": s["county"]},
}
UNSCOPED: dict[str, dict[str, Any]] = {"monitoring:index": {}}


def SNAPSHOT() -> tuple[Any, ...]:
    return (tuple(Snapshot.objects.order_by("pk").values_list("stamp", flat=True)), Warning.objects.count())


#: ministry, province, prefecture, county, school, viewer.
INSIDE = {
    "monitoring:unit": "200/405 200/405 404/405 404/405 403/403 200/405",
    "monitoring:refresh": "405/302 405/302 405/404 405/404 403/403 405/403",
    "monitoring:county": "200/405 200/405 200/405 200/405 403/403 200/405",
    "monitoring:county_report": "200/405 200/405 200/405 200/405 403/403 200/405",
    "monitoring:province_report": "200/302 200/302 404/404 404/404 403/403 200/302",
    "monitoring:forecast_upload": "405/403 405/403 405/403 405/302 403/403 405/403",
    "monitoring:forecast_template": "200/405 200/405 200/405 200/405 403/403 200/405",
}
#: province, prefecture, county, school, viewer against the other jurisdiction.
OUTSIDE = {
    "monitoring:unit": "404/405 404/405 404/405 403/403 404/405",
    "monitoring:refresh": "405/404 405/404 405/404 403/403 405/404",
    "monitoring:county": "404/405 404/405 404/405 403/403 404/405",
    "monitoring:county_report": "404/405 404/405 404/405 403/403 404/405",
    "monitoring:province_report": "404/404 404/404 404/404 403/403 404/404",
    "monitoring:forecast_upload": "405/404 405/404 405/404 403/403 405/404",
    "monitoring:forecast_template": "404/405 404/405 404/405 403/403 404/405",
}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous.
UNSCOPED_STATUS = {
    "monitoring:index": "200/405 302/405 302/405 302/405 403/403 302/405 302/405 403/403 302/302",
}
