"""The programme app's URLs in the permission matrix (see test_permissions.py).

The objects the URLs point at (a published batch, a confirmed nomination with an evidence file, a plan, a forwarded
report with an experience, for the own and the other county) are created by ``ensure()`` (idempotent). ``SNAPSHOT``
calls it first, so they exist before the matrix takes its "before" picture and the lambdas only look them up.

The matrix's objects are in final states (published, confirmed), so an irreversible action is refused (302 back
with a message, or 403 for a wrong role) before any confirmation page: nobody is asked to confirm what cannot be
done. The confirmation itself (200, nothing changed; a confirmed POST acts) is tested in test_programme_batches.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from youjun.web.accounts.models import User
from youjun.web.audit.models import Transition
from youjun.web.organisation.models import BasicBalance, OrgUnit
from youjun.web.programme.models import (
    Attachment,
    Batch,
    Experience,
    Extension,
    Nomination,
    Notification,
    Plan,
    PlanTask,
    ProgressReport,
    ProvinceSubmission,
)

NUMBER = 900
Side = dict[str, str]

#: The audit kinds the programme writes (the trail is shared with the collection).
PROGRAMME_KINDS = ("batch", "nomination", "plan", "report", "experience", "extension", "basic_balance")


def ensure() -> None:
    batch, _ = Batch.objects.get_or_create(
        number=NUMBER,
        defaults={
            "name": "矩阵测试批次",
            "year": 2024,
            "deadline": timezone.now() + dt.timedelta(days=10),
            "status": "published",
            "published_on": dt.date(2024, 6, 1),
        },
    )
    for county_code in ("340207", "110101"):
        county = OrgUnit.objects.get(code=county_code)
        province = OrgUnit.objects.get(code=county_code[:2] + "0000")
        n, _ = Nomination.objects.get_or_create(
            batch=batch,
            county=county,
            defaults={
                "province": province,
                "status": "confirmed",
                "form_id": "recommendation-2021",
                "form_version": "1",
                "values": {"contact_name": "张三"},
            },
        )
        # An evidence row whose file is not on disk (writing files would change the assessment's snapshot).
        Attachment.objects.get_or_create(
            stored_name=f"{'0' * 26}{county_code}",
            defaults={
                "kind": "condition_1",
                "batch": batch,
                "nomination": n,
                "unit": county,
                "original_name": "佐证.pdf",
                "content_type": "application/pdf",
                "size": 1,
                "sha256": "0" * 64,
                "uploaded_by": User.objects.filter(is_superuser=False).order_by("pk").first()
                or User.objects.create(username="matrix-uploader"),
            },
        )
        plan, created = Plan.objects.get_or_create(nomination=n, defaults={"county": county, "items": ["2.1"]})
        if created:
            PlanTask.objects.create(plan=plan, code="B1", title="更加科学的教育理念")
        report, _ = ProgressReport.objects.get_or_create(
            plan=plan, defaults={"county": county, "period": "2024 年", "status": "forwarded"}
        )
        Experience.objects.get_or_create(
            report=report, defaults={"county": county, "item": "2.1", "title": "年度监测", "text": "做法"}
        )


def _nomination(side: Side) -> int:
    ensure()
    return Nomination.objects.get(batch__number=NUMBER, county__code=side["county"]).pk


def _report(side: Side) -> int:
    ensure()
    return ProgressReport.objects.get(county__code=side["county"], plan__nomination__batch__number=NUMBER).pk


def _attachment(side: Side) -> int:
    ensure()
    return Attachment.objects.get(nomination__batch__number=NUMBER, unit__code=side["county"]).pk


def _experience(side: Side) -> int:
    ensure()
    return Experience.objects.get(county__code=side["county"], report__plan__nomination__batch__number=NUMBER).pk


def _set(side: Side) -> dict[str, Any]:
    ensure()
    return {"number": NUMBER, "code": side["province"]}


def _code(side: Side, level: str) -> dict[str, Any]:
    ensure()
    return {"code": side[level]}


TARGETS: dict[str, Callable[[Side], dict[str, Any]]] = {
    "programme:province": _set,
    "programme:nominate": _set,
    "programme:submit_set": _set,
    "programme:extension": _set,
    "programme:nomination": lambda s: {"pk": _nomination(s)},
    "programme:nomination_action": lambda s: {"pk": _nomination(s), "action": "confirm"},
    "programme:nomination_export": lambda s: {"pk": _nomination(s), "fmt": "docx"},
    "programme:evidence_upload": lambda s: {"pk": _nomination(s), "kind": "condition_1"},
    "programme:attachment": lambda s: {"pk": _attachment(s)},
    "programme:attachment_delete": lambda s: {"pk": _attachment(s)},
    "programme:letter_upload": _set,
    "programme:province_forms": _set,
    "programme:basic_balance": lambda s: _code(s, "province"),
    "programme:province_dashboard": lambda s: _code(s, "province"),
    "programme:county": lambda s: _code(s, "county"),
    "programme:plan": lambda s: _code(s, "county"),
    "programme:plan_action": lambda s: _code(s, "county") | {"action": "submit"},
    "programme:report_new": lambda s: _code(s, "county"),
    "programme:report": lambda s: {"pk": _report(s)},
    "programme:report_action": lambda s: {"pk": _report(s), "action": "submit"},
    "programme:experience_publish": lambda s: {"pk": _experience(s)},
}
UNSCOPED = {
    "programme:index": {},
    "programme:notifications": {},
    "programme:batch_new": {},
    "programme:batch": {"number": NUMBER},
    "programme:batch_move": {"number": NUMBER, "action": "open"},
    "programme:batch_forms": {"number": NUMBER},
    "programme:public": {},
    "programme:public_export": {},
    "programme:experiences": {},
}
PUBLIC = {"programme:public", "programme:public_export", "programme:experiences"}


def SNAPSHOT() -> tuple[Any, ...]:  # the name test_permissions.py looks for
    ensure()
    return (
        tuple(Batch.objects.order_by("pk").values_list("status", "published_on")),
        tuple(Nomination.objects.order_by("pk").values_list("status", "values", "condition1", "condition3")),
        tuple(Plan.objects.order_by("pk").values_list("status", "targets", "items")),
        tuple(PlanTask.objects.order_by("pk").values_list("status", "owner")),
        tuple(ProgressReport.objects.order_by("pk").values_list("status")),
        tuple(Experience.objects.order_by("pk").values_list("published")),
        Extension.objects.count(),
        ProvinceSubmission.objects.count(),
        tuple(Attachment.objects.order_by("pk").values_list("stored_name", "deleted_at")),
        tuple(BasicBalance.objects.order_by("pk").values_list("county_id", "year", "document")),
        Transition.objects.filter(kind__in=PROGRAMME_KINDS).count(),
        Notification.objects.count(),
    )


#: Statuses per role (see test_permissions.py): ministry, province, prefecture, county, school, viewer.
INSIDE = {
    "programme:province": "200/200 200/200 404/404 404/404 403/403 200/200",
    "programme:nominate": "405/403 405/302 405/404 405/404 403/403 405/403",
    "programme:submit_set": "405/403 405/302 405/404 405/404 403/403 405/403",
    "programme:extension": "405/302 405/403 405/404 405/404 403/403 405/403",
    "programme:nomination": "200/403 200/302 200/403 200/403 403/403 200/403",
    "programme:nomination_action": "405/302 405/403 405/403 405/403 403/403 405/403",
    "programme:nomination_export": "200/200 200/200 200/200 200/200 403/403 200/200",
    "programme:evidence_upload": "405/403 405/302 405/403 405/403 403/403 405/403",
    "programme:attachment": "404/405 404/405 404/405 404/405 403/403 404/405",  # its file is not on disk
    "programme:attachment_delete": "405/403 405/302 405/403 405/403 403/403 405/403",
    "programme:letter_upload": "405/403 405/302 405/404 405/404 403/403 405/403",
    "programme:province_forms": "200/302 200/302 404/404 404/404 403/403 200/302",
    "programme:basic_balance": "200/403 200/400 404/404 404/404 403/403 200/403",  # POST without a county: 400
    "programme:province_dashboard": "200/200 200/200 404/404 404/404 403/403 200/200",
    "programme:county": "200/200 200/200 200/200 200/200 403/403 200/200",
    "programme:plan": "200/403 200/403 200/403 200/302 403/403 200/403",
    "programme:plan_action": "405/403 405/403 405/403 405/302 403/403 405/403",
    "programme:report_new": "403/403 403/403 403/403 200/200 403/403 403/403",
    "programme:report": "200/200 200/200 200/200 200/200 403/403 200/200",
    "programme:report_action": "405/403 405/403 405/403 405/302 403/403 405/403",
    "programme:experience_publish": "405/200 405/403 405/403 405/403 403/403 405/403",  # asks to confirm first
}
#: province, prefecture, county, school, viewer against the other jurisdiction.
OUTSIDE = {
    "programme:province": "404/404 404/404 404/404 403/403 404/404",
    "programme:nominate": "405/404 405/404 405/404 403/403 405/404",
    "programme:submit_set": "405/404 405/404 405/404 403/403 405/404",
    "programme:extension": "405/404 405/404 405/404 403/403 405/404",
    "programme:nomination": "404/404 404/404 404/404 403/403 404/404",
    "programme:nomination_action": "405/404 405/404 405/404 403/403 405/404",
    "programme:nomination_export": "404/404 404/404 404/404 403/403 404/404",
    "programme:evidence_upload": "405/404 405/404 405/404 403/403 405/404",
    "programme:attachment": "404/405 404/405 404/405 403/403 404/405",
    "programme:attachment_delete": "405/404 405/404 405/404 403/403 405/404",
    "programme:letter_upload": "405/404 405/404 405/404 403/403 405/404",
    "programme:province_forms": "404/404 404/404 404/404 403/403 404/404",
    "programme:basic_balance": "404/404 404/404 404/404 403/403 404/404",
    "programme:province_dashboard": "404/404 404/404 404/404 403/403 404/404",
    "programme:county": "404/404 404/404 404/404 403/403 404/404",
    "programme:plan": "404/404 404/404 404/404 403/403 404/404",
    "programme:plan_action": "405/404 405/404 405/404 403/403 405/404",
    "programme:report_new": "404/404 404/404 404/404 403/403 404/404",
    "programme:report": "404/404 404/404 404/404 403/403 404/404",
    "programme:report_action": "405/404 405/404 405/404 403/403 405/404",
    "programme:experience_publish": "405/404 405/404 405/404 403/403 405/404",
}
#: ministry, province, prefecture, county, school, viewer, other_county, other_school, anonymous.
UNSCOPED_STATUS = {
    "programme:index": "200/200 302/302 200/200 302/302 403/403 200/200 302/302 403/403 302/302",
    "programme:notifications": "200/302 200/302 200/302 200/302 403/403 200/302 200/302 403/403 302/302",
    "programme:batch_new": "200/400 403/403 403/403 403/403 403/403 403/403 403/403 403/403 302/302",  # empty: 400
    "programme:batch": "200/200 200/200 200/200 200/200 403/403 200/200 200/200 403/403 302/302",
    "programme:batch_move": "405/302 405/403 405/403 405/403 403/403 405/403 405/403 403/403 302/302",
    "programme:batch_forms": "200/302 200/302 200/302 200/302 403/403 200/302 200/302 403/403 302/302",
    "programme:public": "200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200",
    "programme:public_export": "200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200",
    "programme:experiences": "200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200 200/200",
}
