"""Users, each bound to one organisation unit (or one school) with one role; password resets; login counters."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from youjun.web.organisation.models import Level, OrgUnit, School


class Role(models.TextChoices):
    MINISTRY = "ministry", "教育部"
    PROVINCE = "province", "省级"
    PREFECTURE = "prefecture", "地市级"
    COUNTY = "county", "县级"
    SCHOOL = "school", "学校"
    VIEWER = "viewer", "只读查看"
    #: An expert of the national review: bound to no unit, sees only the recognition cases assigned to them.
    EXPERT = "expert", "评估专家"


#: The organisation level each administrative role must be bound to.
ROLE_LEVEL = {
    Role.MINISTRY: Level.MINISTRY,
    Role.PROVINCE: Level.PROVINCE,
    Role.PREFECTURE: Level.PREFECTURE,
    Role.COUNTY: Level.COUNTY,
}


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.VIEWER)
    org_unit = models.ForeignKey(
        OrgUnit, models.PROTECT, null=True, blank=True, related_name="users", verbose_name="所属单位"
    )
    school = models.ForeignKey(School, models.PROTECT, null=True, blank=True, related_name="users", verbose_name="学校")
    display_name = models.CharField("姓名", max_length=64, blank=True)
    #: Set when an administrator resets the password: every page leads to the change form until the user has chosen
    #: a new one (``accounts.middleware.AccountMiddleware``).
    must_change_password = models.BooleanField("须修改密码", default=False)
    password_changed_at = models.DateTimeField("最近修改密码", null=True, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_school(self) -> bool:
        return self.role == Role.SCHOOL

    @property
    def can_write(self) -> bool:
        return self.role != Role.VIEWER


class PasswordReset(models.Model):
    """An administrator set a temporary password for a lower-level account (who, whom, when, from where)."""

    actor = models.ForeignKey(User, models.PROTECT, related_name="+", verbose_name="操作人")
    target = models.ForeignKey(User, models.PROTECT, related_name="password_resets", verbose_name="被重置账号")
    at = models.DateTimeField("时间", auto_now_add=True)
    address = models.CharField("来源地址", max_length=45, blank=True)
    generated = models.BooleanField("系统生成的临时密码", default=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "密码重置记录"
        verbose_name_plural = "密码重置记录"


class LoginCounter(models.Model):
    """Login attempts of one user name or one client address within a window, shared by every worker process.

    ``key`` is ``user:<name>`` or ``addr:<address>``; the row is void once ``expires_at`` has passed. Counts are
    changed by single UPDATE statements (``count = count + 1``), never read-modify-write (``accounts.throttle``).
    """

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "登录尝试计数"
        verbose_name_plural = "登录尝试计数"
