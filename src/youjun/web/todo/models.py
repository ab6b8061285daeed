"""The one row the to-do app keeps: which user was sent the daily digest of which day (a second run sends none).

Reminders themselves are ``programme.Notification`` rows whose unique (user, key) makes them idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DigestSent(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    day = models.DateField("日期")
    items = models.PositiveIntegerField("待办事项数", default=0)
    sent_at = models.DateTimeField("发送时间", auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_user_day")]
        verbose_name = "每日待办摘要"
        verbose_name_plural = "每日待办摘要"
