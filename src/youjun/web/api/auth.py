"""Token authentication of the API: ``Authorization: Bearer <raw token>``.

The raw token is never stored: the request is authenticated by the SHA-256 digest (``ApiToken.key_digest``) and then
acts as the token's user, with that user's jurisdiction (``accounts.scoping``). Inactive users' tokens are refused;
an expired token is refused with its own Chinese message (401), so a script's operator knows to create a new one.
Every refusal of a presented token is a security event in the log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from youjun.web.accounts.logs import security_event
from youjun.web.accounts.models import User
from youjun.web.api.models import ApiToken, digest

#: ``last_used_at`` is written at most this often per token (a busy script does not write on every request).
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenExpired(HttpError):
    """401 with a message naming the expiry (answered by django-ninja's handler of ``HttpError``)."""

    def __init__(self, expires_at: datetime) -> None:
        when = timezone.localtime(expires_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(401, f"令牌已过期（有效期至 {when}），请在「数据接口」页面新建令牌。")


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        token = token.strip()
        if not token or len(token) > 200:
            security_event(request, "token_refused", reason="malformed")
            return None
        found = (
            ApiToken.objects.select_related("user", "user__org_unit", "user__school__county")
            .filter(key_digest=digest(token), user__is_active=True)
            .first()
        )
        if found is None:
            security_event(request, "token_refused", reason="unknown")
            return None
        now = timezone.now()
        if found.expires_at <= now:
            security_event(request, "token_refused", user=found.user, reason="expired", token=found.pk)
            raise TokenExpired(found.expires_at)
        if found.last_used_at is None or now - found.last_used_at >= TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        user: User = found.user
        request.user = user
        return user
