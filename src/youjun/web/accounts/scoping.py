"""The one place that decides what a user may see: every reachable queryset starts here.

A user's jurisdiction is the code prefix of their organisation unit (ministry: everything, province: two digits,
prefecture: four, county: six); a school user sees only their school. Superusers without a unit see everything.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from youjun.web.accounts.models import Role, User
from youjun.web.organisation.models import OrgUnit

M = TypeVar("M", bound=Model)


def is_ministry(user: User) -> bool:
    """Whether the user acts for the ministry: a ministry account, or a superuser bound to no unit."""
    return user.role == Role.MINISTRY or (user.is_superuser and user.org_unit_id is None)


def jurisdiction_prefix(user: User) -> str:
    """The code prefix of everything the user may see ('' = the whole country)."""
    if user.is_superuser and user.org_unit_id is None:
        return ""
    if user.role == Role.SCHOOL:
        if user.school is None:
            raise PermissionDenied("账号未绑定学校")
        return user.school.county.code
    if user.org_unit is None:
        raise PermissionDenied("账号未绑定单位")
    return user.org_unit.prefix


def scoped(queryset: QuerySet[M], user: User, code_field: str, school_field: str | None = None) -> QuerySet[M]:
    """Restrict ``queryset`` to the user's jurisdiction.

    ``code_field`` is the lookup of the county code on the model (e.g. ``"county__code"``); ``school_field`` the
    lookup of the school (e.g. ``"school"``). School users see rows of their own school only, and nothing of a model
    that has no school.
    """
    if not user.is_authenticated:
        return queryset.none()
    if user.role == Role.SCHOOL:
        if school_field is None or user.school_id is None:
            return queryset.none()
        return queryset.filter(**{school_field: user.school_id})
    prefix = jurisdiction_prefix(user)
    return queryset.filter(**{f"{code_field}__startswith": prefix}) if prefix else queryset


def can_see_unit(user: User, unit: OrgUnit) -> bool:
    """Whether an organisation unit lies inside the user's jurisdiction (never upward, never sideways)."""
    if not user.is_authenticated or user.role == Role.SCHOOL:
        return False
    return unit.prefix.startswith(jurisdiction_prefix(user))


def visible_units(user: User) -> QuerySet[OrgUnit]:
    """The organisation units inside the user's jurisdiction."""
    if not user.is_authenticated or user.role == Role.SCHOOL:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(prefix__startswith=jurisdiction_prefix(user))
