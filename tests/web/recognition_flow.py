"""Driving a recognition case through whatever steps its procedure file names, the way each actor does it: the
county uploads evidence and submits, the reviewing levels write their opinions, the ministry records the national
results, the assigned expert reviews every item and records the schools visited. Used by the web tests (one per
procedure file), the permission matrix and the browser test's set-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from youjun.standards.procedures import Step
from youjun.web.accounts.models import User
from youjun.web.organisation.models import BasicBalance, OrgUnit
from youjun.web.recognition import services
from youjun.web.recognition.models import Case, FileKind

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "佐证.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, "application/pdf")


def eligible(county: OrgUnit, year: int = 2015) -> None:
    BasicBalance.objects.update_or_create(county=county, defaults={"year": year})


def soon(days: int = 30) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def record_for(case: Case, step: Step) -> dict[str, Any]:
    """A complete, passing record of the step."""
    if step.kind == "quality":
        return {"rows": [{"item": "数学学业表现", "result": "良好", "note": ""}]}
    if step.kind == "survey":
        return {"source": "import", "rate": 91.5, "valid": 1200, "note": "国家调查"}
    if step.kind == "indicator_review":
        items = {i["code"]: {"verdict": "met", "comment": "符合"} for i in services.indicator_items(case)}
        return {"items": items}
    if step.kind == "inspection":
        return {"schools": [s["id"] for s in services.school_choices(case)[:2]], "note": "核查两所学校"}
    return {"opinion": f"{step.name}：同意", "on_site": "实地核查三所学校，情况属实"}


def first_next(step: Step, *, end_state: str = "recognised") -> str:
    for o in step.outcomes:
        if o.effect == "next" or (o.effect == "end" and o.state == end_state):
            return o.key
    raise AssertionError(f"{step.key} has no way on")


def take_step(case: Case, users: dict[str, User], *, end_state: str = "recognised") -> str:
    """Do the current step as its actor would and take its way on; returns the step's key."""
    step = services.current_step(case)
    assert step is not None, case.get_state_display()
    actor = users[step.actor]
    first = step.kind in ("application", "self_check") and "evidence" in step.needs
    if first and not case.files.filter(kind=FileKind.EVIDENCE).exists():
        services.add_file(actor, case, FileKind.EVIDENCE, pdf(), "佐证.pdf")
    if step.kind not in ("application", "province_application"):
        services.save_record(actor, case, case.version, record_for(case, step))
    extra = {"deadline": soon()} if end_state == "rectify" else {}
    services.act(actor, case, first_next(step, end_state=end_state), "依程序办理", case.version, extra)
    case.refresh_from_db()
    return step.key


def drive(case: Case, users: dict[str, User], *, until: str = "", end_state: str = "recognised") -> list[str]:
    """Take every step up to (not including) ``until``, or to the end; the keys of the steps taken."""
    taken = []
    while case.state == "open" and case.step != until:
        taken.append(take_step(case, users, end_state=end_state))
    return taken
