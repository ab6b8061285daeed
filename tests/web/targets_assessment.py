"""The assessment app's URLs in the permission matrix (see test_permissions.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Sum

from web import targets_recognition as recognition
from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.web.accounts.models import Role, User
from youjun.web.assessment.models import CountyInputs, Evidence, InputChange, Narrative, Review, VetoFinding
from youjun.web.organisation.models import OrgUnit

Side = dict[str, str]


def _evidence(side: Side) -> int:
    """A county's evidence row (its file is not on disk: serving it inside the jurisdiction answers 404)."""
    county = OrgUnit.objects.get(code=side["county"])
    uploader, _ = User.objects.get_or_create(
        username=f"matrix-uploader-{county.code}", defaults={"role": Role.COUNTY, "org_unit": county}
    )
    evidence, _ = Evidence.objects.get_or_create(
        stored_name=f"{int(county.code):032x}",
        defaults={
            "county": county,
            "year": YEAR,
            "item": "G1",
            "original_name": "规划布局.pdf",
            "content_type": "application/pdf",
            "size": 10,
            "sha256": "0" * 64,
            "uploaded_by": uploader,
        },
    )
    return evidence.pk


def _county(side: Side, **extra: Any) -> dict[str, Any]:
    return {"code": side["county"], "year": YEAR, **extra}


TARGETS: dict[str, Callable[[Side], dict[str, Any]]] = {
    "assessment:county": _county,
    "assessment:print": _county,
    "assessment:inputs": _county,
    "assessment:inputs_import": _county,
    "assessment:narrative": _county,
    "assessment:evidence_upload": lambda s: _county(s, item="G1"),
    "assessment:review": lambda s: _county(s, item="G1"),
    "assessment:finding": lambda s: _county(s, veto="V1"),
    "assessment:report_docx": _county,
    "assessment:annex_xlsx": _county,
    "assessment:application": lambda s: _county(s, fmt="docx"),
    "assessment:evidence_file": lambda s: {"pk": _evidence(s)},
    "assessment:evidence_delete": lambda s: {"pk": _evidence(s)},
}

UNSCOPED = {"assessment:index": {}}


def _files() -> tuple[str, ...]:
    folder = Path(settings.YOUJUN_EVIDENCE_DIR)
    return tuple(sorted(p.name for p in folder.iterdir())) if folder.is_dir() else ()


def SNAPSHOT() -> tuple[Any, ...]:
    """Inputs, their versions and audit, the report's chapters and their versions, evidence (and which are deleted),
    verdicts, findings, files on disk.

    The matrix's evidence rows are created first, so that creating them lazily is not mistaken for a change."""
    for code in (OWN_COUNTY, OTHER_COUNTY):
        _evidence({"county": code})
    recognition.ensure()  # its evidence file is on disk before the first picture of the files
    return (
        CountyInputs.objects.count(),
        CountyInputs.objects.aggregate(v=Sum("version"))["v"],
        InputChange.objects.count(),
        tuple(Narrative.objects.order_by("pk").values_list("pk", "version", "text")),
        tuple(Evidence.objects.order_by("pk").values_list("pk", "deleted_at")),
        Review.objects.count(),
        VetoFinding.objects.count(),
        _files(),
    )


#: Statuses per role (see test_permissions.py): ministry, province, prefecture, county, school, viewer.
INSIDE = {
    "assessment:county": "200/405 200/405 200/405 200/405 403/403 200/405",
    "assessment:print": "200/405 200/405 200/405 200/405 403/403 200/405",
    "assessment:inputs": "200/403 200/403 200/403 200/302 403/403 200/403",
    "assessment:inputs_import": "405/403 405/403 405/403 405/302 403/403 405/403",
    "assessment:narrative": "200/403 200/403 200/403 200/302 403/403 200/403",  # the county writes, above read
    "assessment:evidence_upload": "405/403 405/403 405/403 405/302 403/403 405/403",
    "assessment:review": "405/302 405/302 405/302 405/403 403/403 405/403",  # reviewers are the units above
    "assessment:finding": "405/302 405/302 405/302 405/403 403/403 405/403",
    "assessment:report_docx": "200/405 200/405 200/405 200/405 403/403 200/405",
    "assessment:annex_xlsx": "200/405 200/405 200/405 200/405 403/403 200/405",
    "assessment:application": "200/405 200/405 200/405 200/405 403/403 200/405",
    "assessment:evidence_file": "404/405 404/405 404/405 404/405 403/403 404/405",  # its file is not on disk
    "assessment:evidence_delete": "405/403 405/403 405/403 405/302 403/403 405/403",
}
#: province, prefecture, county, school, viewer against the other jurisdiction.
OUTSIDE = {
    "assessment:county": "404/405 404/405 404/405 403/403 404/405",
    "assessment:print": "404/405 404/405 404/405 403/403 404/405",
    "assessment:inputs": "404/404 404/404 404/404 403/403 404/404",
    "assessment:inputs_import": "405/404 405/404 405/404 403/403 405/404",
    "assessment:narrative": "404/404 404/404 404/404 403/403 404/404",
    "assessment:evidence_upload": "405/404 405/404 405/404 403/403 405/404",
    "assessment:review": "405/404 405/404 405/404 403/403 405/404",
    "assessment:finding": "405/404 405/404 405/404 403/403 405/404",
    "assessment:report_docx": "404/405 404/405 404/405 403/403 404/405",
    "assessment:annex_xlsx": "404/405 404/405 404/405 403/403 404/405",
    "assessment:application": "404/405 404/405 404/405 403/403 404/405",
    "assessment:evidence_file": "404/405 404/405 404/405 403/403 404/405",
    "assessment:evidence_delete": "405/404 405/404 405/404 403/403 405/404",
}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous.
UNSCOPED_STATUS = {
    "assessment:index": "200/405 200/405 200/405 302/405 403/403 200/405 302/405 403/403 302/302",
}
