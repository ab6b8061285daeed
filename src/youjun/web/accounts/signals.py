"""Every login and logout, however it happens, starts the session clock and is a security event."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from youjun.web.accounts.logs import security_event
from youjun.web.accounts.middleware import LOGIN_AT


@receiver(user_logged_in, dispatch_uid="youjun-logged-in")
def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = int(time.time())
    security_event(request, "login", user=user)


@receiver(user_logged_out, dispatch_uid="youjun-logged-out")
def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        security_event(request, "logout", user=user)
