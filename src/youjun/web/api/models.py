"""API tokens: a hashed secret per user; the token acts with the user's jurisdiction."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=64)
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def issue(cls, user: object, name: str) -> tuple[ApiToken, str]:
        """Create a token; the raw secret is returned once and never stored."""
        raw = "yj_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_digest=digest(raw))
        return token, raw
