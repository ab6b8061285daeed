"""Request ids, the Content-Security-Policy, and the account rules every page obeys.

Order in ``MIDDLEWARE``: ``RequestIdMiddleware`` and ``ContentSecurityPolicyMiddleware`` first (every response, the
error pages included, carries the id and the policy); ``AccountMiddleware`` after the authentication and message
middleware.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from youjun.web.accounts import csp
from youjun.web.accounts.logs import current_request_id, new_request_id, security_event

#: Session key: when the user logged in (seconds since the epoch), for the absolute session lifetime.
LOGIN_AT = "youjun_login_at"

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Gives each request an id (``request.request_id``, header ``X-Request-ID``) and makes it the logging context."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id  # type: ignore[attr-defined]  # our own attribute, read by the log context
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    """Adds the policy of ``accounts.csp`` to every HTML response that has none."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.policy = csp.policy()  # computed once per process, from the templates

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = self.policy
        return response


class AccountMiddleware:
    """Rules for logged-in users, enforced on every request:

    - a session lasts at most ``YOUJUN_SESSION_MAX_AGE`` seconds from the login (on top of the idle expiry), then
      the user is logged out and sent to the login page;
    - after an administrator's reset, every page leads to the password change form until a new password is set;
    - their responses are not stored by browsers or proxies (``Cache-Control: no-store``) unless a view chose;
    - every refusal (403) is a security event in the log; a JSON 401 carries the Bearer challenge.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self._guard(request) or self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        if response.status_code == 403:
            security_event(request, "permission_denied", status=403)
        if (
            response.status_code == 401
            and response.get("Content-Type", "").startswith("application/json")
            and not response.has_header("WWW-Authenticate")
        ):
            response["WWW-Authenticate"] = 'Bearer realm="youjun"'
        return response

    def _guard(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            return None
        now = int(time.time())
        login_at = request.session.get(LOGIN_AT)
        if not isinstance(login_at, int):  # a session from before this rule: its lifetime starts now
            request.session[LOGIN_AT] = login_at = now
        if now - login_at > settings.YOUJUN_SESSION_MAX_AGE:
            name = user.get_username()
            auth.logout(request)
            security_event(request, "session_expired", user=name)
            hours = settings.YOUJUN_SESSION_MAX_AGE / 3600
            messages.info(request, f"登录已超过 {hours:g} 小时，为安全起见请重新登录。")
            return redirect(f"{reverse(settings.LOGIN_URL)}?next={quote(request.get_full_path())}")
        if getattr(user, "must_change_password", False):
            allowed = {reverse("accounts:password_change"), reverse("accounts:logout")}
            if request.path not in allowed:
                return redirect("accounts:password_change")
        return None
