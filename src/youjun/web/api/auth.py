"""Token authentication of the API: ``Authorization: Bearer <raw token>``.

The raw token is never stored: the request is authenticated by the SHA-256 digest (``ApiToken.key_digest``) and then
acts as the token's user, with that user's jurisdiction (``accounts.scoping``). Inactive users' tokens are refused.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from youjun.web.accounts.models import User
from youjun.web.api.models import ApiToken, digest

#: ``last_used_at`` is written at most this often per token (a busy script does not write on every request).
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        token = token.strip()
        if not token or len(token) > 200:
            return None
        found = (
            ApiToken.objects.select_related("user", "user__org_unit", "user__school__county")
            .filter(key_digest=digest(token), user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        user: User = found.user
        request.user = user
        return user
