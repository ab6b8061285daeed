"""Request ids and security events in the log.

Every request gets an id (``RequestIdMiddleware``): an incoming ``X-Request-ID`` if it is sane, else a new one. It is
kept in a context variable for the duration of the request, so :class:`RequestIdFilter` can stamp it on every log
record (Django's own ``django.request`` errors included) and the 500 page can show it to the user.

Security events (login, failed login, lockout, logout, password change and reset, refused access) go to the logger
``youjun.security`` as one line of ``key=value`` pairs; values typed by users are quoted and escaped, so a user name
holding a line break cannot forge a second log line.

This module imports no models: the logging configuration loads it before the apps are ready.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.http import HttpRequest

security_log = logging.getLogger("youjun.security")

#: The id of the request being handled in this thread or task ("-" outside any request).
current_request_id: ContextVar[str] = ContextVar("youjun_request_id", default="-")

#: An incoming id is used as it is only when it is short and plain (no spaces, quotes or control characters).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_PLAIN_VALUE = re.compile(r"[\w.:@/+-]{1,200}")


def new_request_id(incoming: str | None) -> str:
    """The incoming ``X-Request-ID`` when sane (a proxy's id ties both logs together), else a fresh random id."""
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record passing a handler (keeps one the caller set explicitly)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


def client_address(request: HttpRequest) -> str:
    """The client's IP address: ``REMOTE_ADDR``, or — only behind a proxy listed in ``YOUJUN_TRUSTED_PROXIES`` —
    the last ``X-Forwarded-For`` entry that is not itself a trusted proxy. Anything that is not an IP address is
    ignored, so a forged header can neither inject text nor pick another client's counter."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = set(getattr(settings, "YOUJUN_TRUSTED_PROXIES", ()))
    if remote in trusted:
        forwarded: list[str] = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        for candidate in reversed(forwarded):
            if candidate and candidate not in trusted:
                if _is_ip(candidate):
                    return candidate
                break
    return remote if _is_ip(remote) else "-"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _value(value: Any) -> str:
    text = "-" if value is None or value == "" else str(value)
    return text if _PLAIN_VALUE.fullmatch(text) else json.dumps(text[:200], ensure_ascii=False)


def security_event(request: HttpRequest | None, event: str, *, user: Any = None, **fields: Any) -> None:
    """Log one security event with the user, the client address, the request id and any further fields.

    ``user`` is a user object or a user name (as typed at the login form); by default the request's user.
    """
    if user is None and request is not None:
        who = getattr(request, "user", None)
        user = who.get_username() if who is not None and who.is_authenticated else None
    elif user is not None and hasattr(user, "get_username"):
        user = user.get_username()
    parts = {"event": event, "user": user, "addr": client_address(request) if request is not None else None}
    if request is not None:
        parts["method"] = request.method
        parts["path"] = request.path
    parts.update(fields)
    request_id = getattr(request, "request_id", None) or current_request_id.get()
    message = " ".join(f"{key}={_value(value)}" for key, value in parts.items())
    level = logging.WARNING if event in WARNING_EVENTS else logging.INFO
    security_log.log(level, "security %s", message, extra={"request_id": request_id, "security_event": event})


#: Events an operator should notice (a burst of them is an attack).
WARNING_EVENTS = frozenset({"login_failed", "lockout", "login_refused", "permission_denied", "token_refused"})
