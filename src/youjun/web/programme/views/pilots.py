"""A pilot county's implementation plan and progress reports.

Pages only read: the plan is created by its first save (POST), never by opening the page. Values are checked field
by field; errors come back beside their fields with a summary linking to them (status 400), and nothing is saved.
Every irreversible step (submitting, forwarding, returning, accepting, publishing) first shows the confirmation
page; the move's own refusals (role, state, completeness) come before it, so nobody confirms what cannot be done.

This module holds what the plan pages (``plan_form``, ``plans``) and the report pages (``report_form``,
``reports``) share: the list of field errors, how a refused move is shown, who the user is to the county, and the
plan a county has written (404 before it has).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import Plan
from youjun.web.programme.services.pilots import place_name, plan_of
from youjun.web.shortcuts import message_of, refusal, status_of

Errors = list[dict[str, str]]


def _error(errors: Errors, id_: str, label: str, message: str) -> str:
    errors.append({"id": id_, "label": label, "message": message})
    return message


def _refused(request: HttpRequest, refused: YoujunError, back: str) -> HttpResponse:
    """A role or reach refusal becomes the refusal page (403/404); any other one a message on the object's page."""
    if status_of(refused) in (403, 404):
        raise refused
    messages.error(request, message_of(refused))
    return redirect(back)


def _is_own_county(user: User, unit: OrgUnit) -> bool:
    return user.role == Role.COUNTY and user.org_unit_id == unit.pk


def _is_province_of(user: User, unit: OrgUnit) -> bool:
    return user.role == Role.PROVINCE and user.org_unit is not None and unit.code[:2] == user.org_unit.code[:2]


def _existing_plan(unit: OrgUnit) -> Plan:
    p = plan_of(unit)
    if p is None:
        raise refusal(f"{place_name(unit)}尚未编制创建工作实施方案。", 404)
    return p
