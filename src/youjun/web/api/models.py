"""API tokens: a hashed secret per user, valid for a chosen time; the token acts with the user's jurisdiction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

#: Lifetimes a user may choose when creating a token (days); the default is 180, never more than a year.
LIFETIME_CHOICES = (30, 90, 180, 365)
DEFAULT_LIFETIME = 180


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=64)
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("有效期至")
    last_used_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def issue(cls, user: object, name: str, days: int = DEFAULT_LIFETIME) -> tuple[ApiToken, str]:
        """Create a token valid for ``days`` (one of ``LIFETIME_CHOICES``); the raw secret is returned once and
        never stored."""
        if days not in LIFETIME_CHOICES:
            raise ValueError(f"token lifetime must be one of {LIFETIME_CHOICES} days, not {days!r}")
        raw = "yj_" + secrets.token_urlsafe(32)
        expires_at = timezone.now() + timedelta(days=days)
        token = cls.objects.create(user=user, name=name, key_digest=digest(raw), expires_at=expires_at)
        return token, raw

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()
