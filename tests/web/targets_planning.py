"""The planner's URLs in the permission matrix (see test_permissions.py): every level reads the scenarios of the
counties in its jurisdiction; only the county itself creates, edits, plans, applies and adopts (others 403); outside
the jurisdiction a scenario does not exist (404); school accounts are refused everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web import targets_programme as programme
from youjun.web.organisation.models import OrgUnit
from youjun.web.planning.models import Scenario
from youjun.web.programme.models import Plan, PlanTask
from youjun.web.rulesets import services as rulesets

Side = dict[str, str]
YEAR = 2024


def ensure() -> None:
    for code in ("340207", "110101"):
        county = OrgUnit.objects.get(code=code)
        rows = [
            {"year": YEAR, "school_id": f"{code}9001", "school_name": "矩阵小学", "county_code": code,
             "school_type": "小学", "students_primary": 100, "teaching_aux_area": 500.0}
        ]  # fmt: skip
        Scenario.objects.get_or_create(
            county=county,
            name="矩阵情景",
            defaults={"year": YEAR, "standard": rulesets.ref_for(county, YEAR), "schools": rows, "plan": _plan(code)},
        )


def _plan(code: str) -> dict[str, Any]:
    """A stored plan with nothing to add (its workbook is the matrix's download)."""
    school = f"{code}9001"
    return {
        "county_code": code, "county_name": "矩阵县", "cost": 0.0, "solver": "SCIP", "status": "optimal", "gap": 0.0,
        "seconds": 0.1, "passed_before": True, "passed_after": True, "mode": "cost", "actions": [], "moves": [],
        "rotated": {"teachers": 0, "backbone": 0}, "rotation": None, "changes": [], "version": 1,
        "cvs": [{"stage": "primary", "indicator": "R1", "cv_before": 0.3, "cv_after": 0.3, "cv_limit": 0.5,
                 "passed_after": True}],
        "units": [{"school_id": school, "stage": "primary", "passed_before": True, "passed_after": True}],
    }  # fmt: skip


def _scenario(side: Side) -> int:
    ensure()
    return Scenario.objects.get(county__code=side["county"], name="矩阵情景").pk


TARGETS: dict[str, Callable[[Side], dict[str, Any]]] = {
    "planning:scenario": lambda s: {"pk": _scenario(s)},
    "planning:edit": lambda s: {"pk": _scenario(s)},
    "planning:plan": lambda s: {"pk": _scenario(s)},
    "planning:apply": lambda s: {"pk": _scenario(s)},
    "planning:manage": lambda s: {"pk": _scenario(s)},
    "planning:plan_xlsx": lambda s: {"pk": _scenario(s)},
    "planning:compare": lambda s: {"code": s["county"]},
    "programme:adopt_scenario": lambda s: {"pk": _scenario(s)},
}
UNSCOPED: dict[str, dict[str, Any]] = {"planning:index": {}, "planning:create": {}}


def SNAPSHOT() -> tuple[Any, ...]:
    ensure()
    programme.ensure()  # its plans exist before the first picture (its own snapshot comes after this one)
    return (
        tuple(Scenario.objects.order_by("pk").values_list("pk", "version", "name")),
        tuple(str(p) for p in Scenario.objects.order_by("pk").values_list("plan", flat=True)),
        tuple(Plan.objects.order_by("pk").values_list("pk", "status")),
        tuple(str(a) for a in Plan.objects.order_by("pk").values_list("adopted", flat=True)),
        tuple(PlanTask.objects.order_by("pk").values_list("pk", "source", "cost")),
    )


#: ministry, province, prefecture, county, school, viewer.
_READ = "200/405 200/405 200/405 200/405 403/403 200/405"
_WRITE = "405/403 405/403 405/403 405/302 403/403 405/403"
INSIDE = {
    "planning:scenario": _READ,
    "planning:edit": _WRITE,
    "planning:plan": _WRITE,
    "planning:apply": _WRITE,
    "planning:manage": _WRITE,
    "planning:plan_xlsx": _READ,
    "planning:compare": _READ,
    "programme:adopt_scenario": _WRITE,
}
#: province, prefecture, county, school, viewer against the other jurisdiction.
_HIDDEN = "404/405 404/405 404/405 403/403 404/405"
_HIDDEN_WRITE = "405/404 405/404 405/404 403/403 405/404"
OUTSIDE = {k: _HIDDEN if v == _READ else _HIDDEN_WRITE for k, v in INSIDE.items()}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous.
UNSCOPED_STATUS = {
    "planning:index": "200/405 200/405 200/405 200/405 403/403 200/405 200/405 403/403 302/302",
    "planning:create": "405/403 405/403 405/403 405/302 403/403 405/403 405/302 403/403 302/302",
}
