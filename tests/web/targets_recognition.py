"""The recognition's URLs in the permission matrix (see test_permissions.py).

``ensure()`` (idempotent) creates a 2024 round and, for the own and the other county, a case waiting at the
province's evaluation with one evidence file and one open finding. Everyone in the jurisdiction reads the case
(404 outside); only the actor of the current step (the province) writes at it, only the county rectifies, only the
ministry assigns experts and publishes; others get 403. Requests carry no form data, so a rightful write is refused
with a message (302 back). Rounds are national: every administration reads them. Expert accounts are tested apart
(test_national_recognition.py: an unassigned expert gets nothing anywhere).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from youjun.web.accounts.models import Role, User
from youjun.web.assessment import uploads
from youjun.web.organisation.models import OrgUnit
from youjun.web.recognition.models import Assignment, Case, CaseFile, Finding, Round, StepRecord

Side = dict[str, str]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def ensure() -> None:
    r, _ = Round.objects.get_or_create(kind="recognition", year=2024,
                                       defaults={"procedure": "recognition-2024", "name": "矩阵认定批次"})  # fmt: skip
    owner = User.objects.filter(role=Role.MINISTRY).first() or User.objects.create(username="matrix-owner")
    for code in ("340207", "110101"):
        county = OrgUnit.objects.get(code=code)
        case, made = Case.objects.get_or_create(round=r, county=county, defaults={"step": "province_evaluation"})
        if made:
            stored = uploads.store(SimpleUploadedFile("佐证.pdf", PDF, "application/pdf"))
            CaseFile.objects.create(case=case, kind="evidence", step="application", original_name="佐证.pdf",
                                    stored_name=stored.stored_name, content_type="application/pdf", size=stored.size,
                                    sha256=stored.sha256, uploaded_by=owner)  # fmt: skip
            Finding.objects.create(case=case, step="province_evaluation", raised_by="province", text="矩阵问题",
                                   deadline=dt.date.today() + dt.timedelta(days=30))  # fmt: skip


def _case(side: Side) -> int:
    ensure()
    return Case.objects.get(county__code=side["county"], round__year=2024, round__kind="recognition").pk


def _finding(side: Side) -> int:
    ensure()
    return Finding.objects.get(case_id=_case(side), text="矩阵问题").pk


def _file(side: Side) -> int:
    ensure()
    return CaseFile.objects.get(case_id=_case(side), kind="evidence").pk


def _round(side: Side) -> int:
    ensure()
    return Round.objects.get(kind="recognition", year=2024).pk


TARGETS: dict[str, Callable[[Side], dict[str, Any]]] = {
    "recognition:round": lambda s: {"pk": _round(s)},
    "recognition:round_publish": lambda s: {"pk": _round(s)},
    "recognition:start": lambda s: {"pk": _round(s)},
    "recognition:round_quality": lambda s: {"pk": _round(s)},
    "recognition:quality_template": lambda s: {"pk": _round(s)},
    "recognition:case": lambda s: {"pk": _case(s)},
    "recognition:case_record": lambda s: {"pk": _case(s)},
    "recognition:case_act": lambda s: {"pk": _case(s)},
    "recognition:case_file": lambda s: {"pk": _case(s)},
    "recognition:case_assign": lambda s: {"pk": _case(s)},
    "recognition:case_survey": lambda s: {"pk": _case(s)},
    "recognition:finding_new": lambda s: {"pk": _case(s)},
    "recognition:rectification_report": lambda s: {"pk": _case(s)},
    "recognition:file": lambda s: {"pk": _file(s)},
    "recognition:finding": lambda s: {"pk": _finding(s)},
    "recognition:finding_do": lambda s: {"pk": _finding(s), "action": "submit"},
    "recognition:finding_file": lambda s: {"pk": _finding(s)},
}
UNSCOPED: dict[str, dict[str, Any]] = {
    "recognition:index": {},
    "recognition:round_new": {},
    "recognition:expert_new": {},
    "recognition:public": {},
}
PUBLIC = {"recognition:public", "recognition:public_xlsx"}
PUBLIC_TARGETS: dict[str, Callable[[], dict[str, Any]]] = {"recognition:public_xlsx": lambda: {"pk": _round({})}}


def SNAPSHOT() -> tuple[Any, ...]:
    ensure()
    return (
        tuple(Round.objects.order_by("pk").values_list("pk", "status", "version", "document_number")),
        tuple(Case.objects.order_by("pk").values_list("pk", "step", "state", "version")),
        tuple(str(w) for w in Case.objects.order_by("pk").values_list("work", flat=True)),
        tuple(Finding.objects.order_by("pk").values_list("pk", "status", "version", "measures")),
        CaseFile.objects.count(),
        StepRecord.objects.count(),
        Assignment.objects.count(),
        User.objects.filter(role=Role.EXPERT).count(),
    )


#: ministry, province, prefecture, county, school, viewer.
_READ = "200/405 200/405 200/405 200/405 403/403 200/405"
_PROVINCE_WRITES = "405/403 405/302 405/403 405/403 403/403 405/403"
_COUNTY_WRITES = "405/403 405/403 405/403 405/302 403/403 405/403"
_MINISTRY_WRITES = "405/302 405/403 405/403 405/403 403/403 405/403"
INSIDE = {
    "recognition:round": _READ,
    "recognition:round_publish": _MINISTRY_WRITES,
    "recognition:start": _COUNTY_WRITES,  # the county already applied: back with a message
    "recognition:round_quality": _MINISTRY_WRITES,
    "recognition:quality_template": "200/405 403/405 403/405 403/405 403/403 403/405",
    "recognition:case": _READ,
    "recognition:case_record": _PROVINCE_WRITES,
    "recognition:case_act": _PROVINCE_WRITES,
    "recognition:case_file": _PROVINCE_WRITES,
    "recognition:case_assign": _MINISTRY_WRITES,
    "recognition:case_survey": _PROVINCE_WRITES,  # the province holds the step: refused with a message
    "recognition:finding_new": _PROVINCE_WRITES,
    "recognition:rectification_report": _READ,
    "recognition:file": _READ,
    "recognition:finding": _READ,
    "recognition:finding_do": _COUNTY_WRITES,
    "recognition:finding_file": _COUNTY_WRITES,
}
#: province, prefecture, county, school, viewer against the other jurisdiction.
_HIDDEN = "404/405 404/405 404/405 403/403 404/405"
_HIDDEN_WRITE = "405/404 405/404 405/404 403/403 405/404"
OUTSIDE = {k: _HIDDEN if v == _READ else _HIDDEN_WRITE for k, v in INSIDE.items()}
OUTSIDE |= {
    "recognition:round": "200/405 200/405 200/405 403/403 200/405",  # rounds are national
    "recognition:quality_template": "403/405 403/405 403/405 403/403 403/405",
    "recognition:round_quality": "405/403 405/403 405/403 403/403 405/403",
    "recognition:round_publish": "405/403 405/403 405/403 403/403 405/403",
    "recognition:start": "405/403 405/403 405/302 403/403 405/403",  # the county's own application
}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous.
UNSCOPED_STATUS = {
    "recognition:index": "200/405 200/405 200/405 200/405 403/403 200/405 200/405 403/403 302/302",
    "recognition:round_new": "405/302 405/403 405/403 405/403 403/403 405/403 405/403 403/403 302/302",
    "recognition:expert_new": "405/302 405/403 405/403 405/403 403/403 405/403 405/403 403/403 302/302",
    "recognition:public": "200/405 200/405 200/405 200/405 200/405 200/405 200/405 200/405 200/405",
}
