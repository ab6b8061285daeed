"""What the programme's services share: who may act, the audit trail, notifications, conditional moves."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import is_ministry as is_ministry
from youjun.web.audit.models import Transition
from youjun.web.audit.services import history as audit_history
from youjun.web.audit.services import record as audit_record
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import (
    Batch,
    NominationStatus,
    Notification,
)
from youjun.web.shortcuts import refusal
from youjun.web.workflow import advance

#: Nominations that hold a place in the province's quota.
ACTIVE = (NominationStatus.DRAFT, NominationStatus.SUBMITTED, NominationStatus.RETURNED, NominationStatus.CONFIRMED)
REMIND_DAYS = 7
MISSING_YEAR = "尚未登记该县（区）通过国家基本均衡认定的年份，不能报送（请省级在「基本均衡认定年份」中登记）。"


def _conflict(message: str) -> YoujunError:
    return refusal(message, 409)


def _advance(obj: Any, target: str, sources: Iterable[str], what: str, **changes: Any) -> str:
    """The workflow move as one conditional UPDATE (``youjun.web.workflow.advance``); a lost race is a 409."""
    return advance(obj, target, sources, what=what, changes=changes, conflict=_conflict)


# ----------------------------------------------------------------------------------------------------
# Who


def require_ministry(user: User) -> None:
    if not is_ministry(user):
        raise refusal("只有教育部账号可以办理此事项。", 403)


def require_province(user: User, province: OrgUnit) -> None:
    if user.role != Role.PROVINCE or user.org_unit_id != province.pk:
        raise refusal(f"只有{province.name}省级教育行政部门账号可以办理此事项。", 403)


def require_county(user: User, county: OrgUnit) -> None:
    if user.role != Role.COUNTY or user.org_unit_id != county.pk:
        raise refusal(f"只有{county.name}县级教育行政部门账号可以办理此事项。", 403)


def province_of(county: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(code=county.code[:2] + "0000")


# ----------------------------------------------------------------------------------------------------
# Audit and notifications


def audit(
    kind: str,
    obj: Any,
    action: str,
    actor: User | None,
    before: str = "",
    after: str = "",
    reason: str = "",
    *,
    county: OrgUnit | None = None,
) -> None:
    audit_record(kind, obj, before, after, actor, reason, action=action, county=county)


def history(kind: str, obj: Any) -> list[Transition]:
    return audit_history(kind, obj)


def users_of(role: str, unit: OrgUnit | None = None) -> Iterable[User]:
    qs = User.objects.filter(role=role, is_active=True)
    return qs.filter(org_unit=unit) if unit is not None else qs


def list_title(batch: Batch) -> str:
    """The name of a batch's list of pilots: 「第一批义务教育优质均衡先行创建县名单」 (a batch named 「…先行创建」
    is not followed by 「先行创建县名单」 again), 「第二批先行创建县名单」."""
    name = batch.name.strip()
    return f"{name}县名单" if name.endswith("先行创建") else f"{name}先行创建县名单"


def notify(users: Iterable[User], key: str, text: str, url: str = "") -> None:
    for user in users:
        Notification.objects.get_or_create(user=user, key=key[:80], defaults={"text": text[:300], "url": url})


#: Functions that mark a user's notices done whose action has been done (``Notification.done_at``). The to-do app,
#: above this one, registers its settling here when it starts; the notifications page calls them before listing.
SETTLERS: list[Callable[[User], object]] = []


def settle(user: User) -> None:
    for settler in SETTLERS:
        settler(user)
