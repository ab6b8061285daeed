"""Login throttling, counted in the database so that every worker process shares the counts and a restart keeps them.

Two counters per attempt (``LoginCounter``): one for the user name, one for the client address.

- The user-name counter locks that name after ``LOGIN_MAX_FAILURES`` (5) failed attempts within the window; the lock
  lasts ``LOGIN_LOCKOUT`` seconds from the failure that reached the limit. Other accounts behind the same address are
  not affected.
- The address counter has a much higher limit, ``LOGIN_MAX_FAILURES_PER_ADDRESS`` (100): a whole office behind one
  NAT address keeps working, while one machine cannot try a few passwords on every account.

An attempt is counted *before* its password is checked (``attempt``), with one ``UPDATE … SET count = count + 1``,
so concurrent guesses on several workers cannot overshoot the limit: exactly ``LOGIN_MAX_FAILURES`` passwords are
checked per lock period. A success clears the user-name counter and takes its attempt back from the address counter
(``succeeded``); the address counter is not cleared, or one valid account would reset the address limit.
Names are compared case-insensitively; unknown names are counted like known ones (no hint which names exist).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from youjun.web.accounts.logs import client_address
from youjun.web.accounts.models import LoginCounter

USER, ADDRESS = "user", "addr"


@dataclass(frozen=True)
class Refusal:
    """Why a login is refused without checking the password, and for how long."""

    scope: str  # USER or ADDRESS
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))

    @property
    def message(self) -> str:
        if self.scope == USER:
            return f"登录失败次数过多，该账号已暂时锁定，请 {self.minutes} 分钟后再试。"
        return f"您所在网络的登录失败次数过多，请 {self.minutes} 分钟后再试。"


def _limits() -> dict[str, int]:
    return {USER: settings.LOGIN_MAX_FAILURES, ADDRESS: settings.LOGIN_MAX_FAILURES_PER_ADDRESS}


def _keys(request: HttpRequest, username: str) -> dict[str, str]:
    return {USER: f"user:{username.strip().lower()[:150]}", ADDRESS: f"addr:{client_address(request)}"}


def _lock(key: str, limit: int, now: datetime) -> Refusal | None:
    until = (
        LoginCounter.objects.filter(key=key, expires_at__gt=now, count__gte=limit)
        .values_list("expires_at", flat=True)
        .first()
    )
    if until is None:
        return None
    return Refusal(USER if key.startswith("user:") else ADDRESS, math.ceil((until - now).total_seconds()))


def _bump(key: str, limit: int, now: datetime) -> int:
    """Add one attempt to ``key``'s counter (a fresh window if it has expired); the count after it."""
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    rows = LoginCounter.objects.filter(key=key)
    for _ in range(10):
        with transaction.atomic():
            if rows.filter(expires_at__gt=now).update(count=F("count") + 1):
                count = rows.values_list("count", flat=True).get()  # the row stays locked by this transaction
            elif rows.filter(expires_at__lte=now).update(count=1, expires_at=now + window):
                count = 1
            else:
                try:
                    with transaction.atomic():
                        LoginCounter.objects.create(key=key, count=1, expires_at=now + window)
                except IntegrityError:  # another process created it in between: count on that row
                    continue
                LoginCounter.objects.filter(expires_at__lte=now - window).delete()  # long-expired counters
                count = 1
            if count >= limit:
                rows.update(expires_at=now + timedelta(seconds=settings.LOGIN_LOCKOUT))
            return count
    raise RuntimeError(f"login counter {key!r} could not be updated")


def attempt(request: HttpRequest, username: str) -> Refusal | None:
    """Count a login attempt before its password is checked; the refusal if the name or the address is locked."""
    now = timezone.now()
    keys, limits = _keys(request, username), _limits()
    for scope in (USER, ADDRESS):
        refusal = _lock(keys[scope], limits[scope], now)
        if refusal is not None:
            return refusal
    for scope in (USER, ADDRESS):
        if _bump(keys[scope], limits[scope], now) > limits[scope]:  # concurrent attempts took the last ones
            return _lock(keys[scope], limits[scope], now) or Refusal(scope, settings.LOGIN_LOCKOUT)
    return None


def remaining(request: HttpRequest, username: str) -> tuple[int, Refusal | None]:
    """After a failed attempt: how many attempts the name has left, and the lock that failure started (if any)."""
    now = timezone.now()
    keys, limits = _keys(request, username), _limits()
    count = LoginCounter.objects.filter(key=keys[USER], expires_at__gt=now).values_list("count", flat=True).first() or 0
    for scope in (USER, ADDRESS):
        refusal = _lock(keys[scope], limits[scope], now)
        if refusal is not None:
            return 0, refusal
    return max(0, limits[USER] - count), None


def succeeded(request: HttpRequest, username: str) -> None:
    """A correct password: forget the name's failures and give the address its attempt back."""
    keys = _keys(request, username)
    LoginCounter.objects.filter(key=keys[USER]).delete()
    LoginCounter.objects.filter(key=keys[ADDRESS], count__gt=0).update(count=F("count") - 1)


def unlock(username: str) -> int:
    """Lift the lock of a user name (an administrator's reset does this); the number of counters removed."""
    deleted, _ = LoginCounter.objects.filter(key=f"user:{username.strip().lower()[:150]}").delete()
    return deleted
