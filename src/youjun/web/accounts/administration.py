"""Which accounts an administrator manages, and resetting their passwords.

An administrator (ministry, province, prefecture or county user) manages the accounts strictly *below* its own unit
inside its jurisdiction: the ministry every account bound to a province, prefecture, county or school; a province its
prefectures', counties' and schools' accounts; a prefecture its counties' and schools'; a county its schools'. Peers
at the same unit, the administrator itself and superusers are never managed (a superuser without a unit, the
installation's own administrator, manages every other account except superusers).

Refusals follow decision 16: a school or read-only account has no such right at all (403); an account outside the
jurisdiction answers 404 as if it did not exist; one inside it that is not below (a peer) answers 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from youjun.web.accounts import throttle
from youjun.web.accounts.logs import client_address, security_event
from youjun.web.accounts.models import PasswordReset, Role, User
from youjun.web.accounts.scoping import can_see_unit, jurisdiction_prefix
from youjun.web.organisation.models import OrgUnit

ADMIN_ROLES = frozenset({Role.MINISTRY, Role.PROVINCE, Role.PREFECTURE, Role.COUNTY})


def _is_root(user: User) -> bool:
    return user.is_superuser and user.org_unit_id is None


def is_administrator(user: User) -> bool:
    return user.is_authenticated and user.is_active and (_is_root(user) or user.role in ADMIN_ROLES)


def managed_users(admin: User) -> QuerySet[User]:
    """Every account ``admin`` may reset; PermissionDenied (403) for accounts that administer nobody."""
    if not is_administrator(admin):
        raise PermissionDenied("只有教育行政部门的账号可以管理下级账号")
    accounts = User.objects.exclude(pk=admin.pk).exclude(is_superuser=True)
    if _is_root(admin):
        return accounts
    prefix = jurisdiction_prefix(admin)
    schools = Q(role=Role.SCHOOL, school__county__code__startswith=prefix)
    below = ~Q(role=Role.SCHOOL) & Q(org_unit__prefix__startswith=prefix) & ~Q(org_unit__prefix=prefix)
    return accounts.filter(schools | below)


def home_unit(user: User) -> OrgUnit | None:
    """The unit an account belongs to: its school's county for school accounts, else its own unit."""
    if user.role == Role.SCHOOL:
        return user.school.county if user.school is not None else None
    return user.org_unit


def managed_user(admin: User, pk: object) -> User:
    """The account ``pk`` if ``admin`` manages it; 404 outside the jurisdiction (or no such id), 403 for a peer."""
    accounts = managed_users(admin)  # 403 first: a school account learns nothing about ids
    text = str(pk)
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 18):  # beyond 64 bits the database would fail
        raise Http404("没有这个账号")
    key = int(text)
    target = accounts.select_related("org_unit", "school__county").filter(pk=key).first()
    if target is not None:
        return target
    other = User.objects.select_related("org_unit", "school__county").filter(pk=key).first()
    unit = home_unit(other) if other is not None else None
    if other is not None and (_is_root(admin) or (unit is not None and can_see_unit(admin, unit))):
        raise PermissionDenied("只能重置下级单位的账号")
    raise Http404("没有这个账号，或它不在您的管辖范围内")


def reset_password(request: HttpRequest, admin: User, target: User, password: str, generated: bool) -> PasswordReset:
    """Set a temporary password the user must change at the next login; audited and logged, one transaction."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=target.pk)
        locked.set_password(password)
        locked.must_change_password = True
        locked.password_changed_at = timezone.now()
        locked.save(update_fields=["password", "must_change_password", "password_changed_at"])
        record = PasswordReset.objects.create(
            actor=admin, target=locked, address=client_address(request), generated=generated
        )
    throttle.unlock(target.username)
    security_event(request, "password_reset", target=target.username, generated=generated)
    return record
